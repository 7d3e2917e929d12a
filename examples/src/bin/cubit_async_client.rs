//! The cubit client on tokio: `cube_long` through the async reference (`cubit::AsyncRef`),
//! first one call at a time, then with `--in-flight N` calls outstanding at once on the one
//! connection (each checked), beside the blocking reference's serial calls; prints calls/s
//! of each.
//!
//! ```sh
//! cargo run --release -p rtorb-examples --bin cubit_server &      # prints its IOR
//! cargo run --release -p rtorb-examples --bin cubit_async_client -- IOR:... [--calls N] [--in-flight N]
//! ```

use rtorb_examples::cubit::cubit_app::{Cubit, CubitRef};
use rtorb_examples::init_orb;
use std::time::Instant;

fn cube(v: i32) -> i32 {
    v.wrapping_mul(v).wrapping_mul(v)
}

fn number(it: &mut std::slice::Iter<'_, String>, what: &str) -> Result<u32, String> {
    it.next()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{what} needs a positive number"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (orb, args) = init_orb();
    let (mut target, mut calls, mut in_flight) = (None, 20_000u32, 32u32);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--calls" => calls = number(&mut it, "--calls")?,
            "--in-flight" => in_flight = number(&mut it, "--in-flight")?,
            _ if target.is_none() => target = Some(a.clone()),
            _ => return Err(format!("unexpected argument {a:?}").into()),
        }
    }
    let Some(target) = target else {
        eprintln!("usage: cubit_async_client [-ORB options] IOR|URL [--calls N] [--in-flight N]");
        std::process::exit(2);
    };
    let obj = orb.string_to_object(&target)?;
    let sync = CubitRef::narrow(&obj)?.ok_or("not a CubitApp::Cubit")?;
    let cubit = sync.to_async();
    let rate = |n: u32, start: Instant| n as f64 / start.elapsed().as_secs_f64();

    let start = Instant::now();
    for i in 0..calls as i32 {
        if sync.cube_long(i)? != cube(i) {
            return Err("blocking cube_long: wrong result".into());
        }
    }
    println!(
        "blocking, serial        {:>10.0} calls/s",
        rate(calls, start)
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let start = Instant::now();
        for i in 0..calls as i32 {
            if cubit.cube_long(i).await? != cube(i) {
                return Err("async cube_long: wrong result".into());
            }
        }
        println!(
            "async, serial           {:>10.0} calls/s",
            rate(calls, start)
        );

        // `in_flight` tasks on one thread, each awaiting its own calls: the connection
        // carries that many requests at once, matched to their callers by request id.
        let start = Instant::now();
        let per_task = calls / in_flight;
        let tasks = (0..in_flight as i32).map(|t| {
            let cubit = cubit.clone();
            async move {
                for i in 0..per_task as i32 {
                    let v = t * 100_000 + i;
                    if cubit.cube_long(v).await? != cube(v) {
                        return Err::<(), Box<dyn std::error::Error>>(
                            "async cube_long: wrong result".into(),
                        );
                    }
                }
                Ok(())
            }
        });
        for r in futures::future::join_all(tasks).await {
            r?;
        }
        println!(
            "async, {in_flight:>3} in flight      {:>10.0} calls/s",
            rate(per_task * in_flight, start)
        );
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    Ok(())
}
