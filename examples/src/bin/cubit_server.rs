//! The cubit server: serves the design's `Cubit` object and prints its IOR, then serves until
//! killed. Its thread strategy and listeners come from `-ORB` options, e.g.
//!
//! ```sh
//! cargo run --release -p rtorb-examples --bin cubit_server -- \
//!     -ORBthreadStrategy reactive -ORBliteEndPoint giop:tcp:127.0.0.1:0
//! ```

use orb::exception::SystemException;
use rtorb_examples::cubit::cubit_app::{cubit, Cubit};
use rtorb_examples::{init_orb, publish};
use std::sync::atomic::{AtomicU64, Ordering};

/// Cubes with two's-complement wraparound (as IDL `long` arithmetic and omniORB's servant do).
#[derive(Default)]
struct CubitImpl {
    pings: AtomicU64,
}

fn cube(v: i32) -> i32 {
    v.wrapping_mul(v).wrapping_mul(v)
}

impl Cubit for CubitImpl {
    fn cube_octet(&self, o: u8) -> Result<u8, SystemException> {
        Ok(o.wrapping_mul(o).wrapping_mul(o))
    }
    fn cube_long(&self, l: i32) -> Result<i32, SystemException> {
        Ok(cube(l))
    }
    fn cube_struct(&self, m: &cubit::Many) -> Result<cubit::Many, SystemException> {
        Ok(cubit::Many {
            o: m.o.wrapping_mul(m.o).wrapping_mul(m.o),
            l: cube(m.l),
            s: cube(i32::from(m.s)) as i16,
        })
    }
    fn cube_seq(&self, s: &[i32]) -> Result<cubit::LongSeq, SystemException> {
        Ok(s.iter().copied().map(cube).collect())
    }
    fn ping(&self) -> Result<(), SystemException> {
        let n = self.pings.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_power_of_two() {
            eprintln!("cubit_server: {n} pings");
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (orb, _args) = init_orb();
    let obj = orb.activate(&orb.root_poa(), cubit::servant(CubitImpl::default()))?;
    publish(&orb.object_to_string(&obj)?)?;
    orb.run()?;
    Ok(())
}
