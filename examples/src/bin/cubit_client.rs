//! The cubit client: calls every operation of the `Cubit` object named on the command line,
//! checks each result, and prints the mean time of `--calls N` calls of each (default 1,000).
//!
//! ```sh
//! cargo run --release -p rtorb-examples --bin cubit_client -- IOR:... [--calls N]
//! ```
//!
//! With `-ORBgiopLite 1` it uses the server's GIOP-lite listener when its IOR offers one.

use rtorb_examples::cubit::cubit_app::{cubit, Cubit, CubitRef};
use rtorb_examples::init_orb;
use std::time::{Duration, Instant};

fn cube(v: i32) -> i32 {
    v.wrapping_mul(v).wrapping_mul(v)
}

/// Makes `calls` calls with `f`, each checked, and prints the mean time per call.
fn timed(
    what: &str,
    calls: u32,
    mut f: impl FnMut() -> Result<bool, Box<dyn std::error::Error>>,
) -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    for _ in 0..calls {
        if !f()? {
            return Err(format!("{what}: wrong result").into());
        }
    }
    let mean = start.elapsed() / calls.max(1);
    println!("{what:<28} ok  {:>8.1} µs per call", micros(mean));
    Ok(())
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (orb, args) = init_orb();
    let mut target = None;
    let mut calls = 1_000u32;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--calls" => {
                calls = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or("--calls needs a positive number")?;
            }
            _ if target.is_none() => target = Some(a.clone()),
            _ => return Err(format!("unexpected argument {a:?}").into()),
        }
    }
    let Some(target) = target else {
        eprintln!("usage: cubit_client [-ORB options] IOR|URL [--calls N]");
        std::process::exit(2);
    };
    let obj = orb.string_to_object(&target)?;
    let Some(c) = CubitRef::narrow(&obj)? else {
        return Err(format!("{target} is not a CubitApp::Cubit").into());
    };
    let x = 7;
    println!("cube_long({x}) = {}", c.cube_long(x)?);
    // After the first call: the reference shows where its requests went.
    println!("cubit at {obj:?}");
    timed("cube_long", calls, || Ok(c.cube_long(x)? == cube(x)))?;

    let m = cubit::Many {
        o: 3,
        l: -1_290,
        s: 21,
    };
    let want = cubit::Many {
        o: 27,
        l: cube(m.l),
        s: cube(21) as i16,
    };
    println!("cube_struct({m:?}) = {:?}", c.cube_struct(&m)?);
    timed("cube_struct", calls, || Ok(c.cube_struct(&m)? == want))?;

    for len in [4, 1_024] {
        let s: Vec<i32> = (0..len).map(|i| i * 37 - 500).collect();
        let want: Vec<i32> = s.iter().copied().map(cube).collect();
        timed(&format!("cube_seq of {len} longs"), calls, || {
            Ok(c.cube_seq(&s)? == want)
        })?;
    }

    // Oneways are not answered: the twoway after them returns once the server has read
    // them all (one connection, read in order).
    let start = Instant::now();
    for _ in 0..calls {
        c.ping()?;
    }
    if c.cube_long(x)? != cube(x) {
        return Err("cube_long after the pings: wrong result".into());
    }
    let per = start.elapsed() / calls;
    println!(
        "{:<28} ok  {:>8.1} µs per call",
        "ping (oneway)",
        micros(per)
    );
    Ok(())
}
