//! The echo client: sends a message to the `Echo` object named on the command line (an IOR,
//! `corbaloc:`, `corbaname:` or `file://` URL) and prints what comes back.
//!
//! ```sh
//! cargo run -p rtorb-examples --bin echo_client -- IOR:... [MESSAGE]
//! ```

use rtorb_examples::echo::{Echo, EchoRef};
use rtorb_examples::init_orb;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (orb, args) = init_orb();
    let Some(target) = args.first() else {
        eprintln!("usage: echo_client [-ORB options] IOR|URL [MESSAGE]");
        std::process::exit(2);
    };
    let message = args.get(1).map_or("Hello!", String::as_str);
    let obj = orb.string_to_object(target)?;
    let Some(echo) = EchoRef::narrow(&obj)? else {
        return Err(format!("{target} is not an Echo").into());
    };
    let reply = echo.echo_string(message)?;
    println!("I said, {message:?}.");
    println!("The Echo object replied, {reply:?}.");
    Ok(())
}
