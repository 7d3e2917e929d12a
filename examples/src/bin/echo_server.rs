//! The echo server: serves an `Echo` object and prints its IOR, then serves until killed.
//!
//! ```sh
//! cargo run -p rtorb-examples --bin echo_server [-- -ORBendPoint giop:tcp:127.0.0.1:2809]
//! ```

use orb::exception::SystemException;
use rtorb_examples::echo::{echo, Echo};
use rtorb_examples::{init_orb, publish};

/// Returns what it is given, and says so on stderr.
struct EchoImpl;

impl Echo for EchoImpl {
    fn echo_string(&self, mesg: &str) -> Result<String, SystemException> {
        eprintln!("echo_server: upcall with message {mesg:?}");
        Ok(mesg.to_owned())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (orb, _args) = init_orb();
    let obj = orb.activate(&orb.root_poa(), echo::servant(EchoImpl))?;
    publish(&orb.object_to_string(&obj)?)?;
    orb.run()?;
    Ok(())
}
