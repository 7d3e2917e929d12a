//! The cubit server: serves the design's `Cubit` object and prints its IOR, then serves until
//! killed. Its thread strategy and listeners come from `-ORB` options, e.g.
//!
//! ```sh
//! cargo run --release -p rtorb-examples --bin cubit_server -- \
//!     -ORBthreadStrategy reactive -ORBliteEndPoint giop:tcp:127.0.0.1:0
//! ```

use rtorb_examples::cubit::cubit_app::cubit;
use rtorb_examples::{init_orb, publish, CubitImpl};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (orb, _args) = init_orb();
    let obj = orb.activate(&orb.root_poa(), cubit::servant(CubitImpl::default()))?;
    publish(&orb.object_to_string(&obj)?)?;
    orb.run()?;
    Ok(())
}
