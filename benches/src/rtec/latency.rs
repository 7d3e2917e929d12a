//! Latency from an event's `creation_time` to its consumers: 1 and 10 suppliers × 1, 5, 10
//! and 20 consumers, to the first and to the last consumer; collocated (one process, one ORB
//! calling `Direct`, reactive dispatching: the supplier's `push` runs every consumer's
//! `push`) and across processes (supplier, channel and consumers each a process of its own on
//! loopback), beside a twoway `cube_long` of the same ORB to a reactive server process, timed
//! in the same run.

use super::{
    channel_options, collocated_orb, connect_consumer, connect_supplier, roles, sys, Arrivals,
    Error, Stamping, TYPE,
};
use crate::cubit::{self, Cubit as _, ServerKind, ServerProcess, Transport};
use event_service::rtec::rtec_event_comm::PushConsumer as _;
use event_service::rtec::{self, Dispatching, RtecChannel};
use std::sync::atomic::Ordering;
use std::time::Duration;

pub const SUPPLIERS: [usize; 2] = [1, 10];
pub const CONSUMERS: [usize; 4] = [1, 5, 10, 20];

/// Runs `n` timed events (after `n / 10` to warm up) collocated, round robin over the
/// suppliers from one thread; returns the latencies to the first and last consumer.
pub fn collocated_case(
    n: usize,
    suppliers: usize,
    consumers: usize,
) -> Result<(Vec<u64>, Vec<u64>), Error> {
    let orb = collocated_orb()?;
    let channel = RtecChannel::start(&orb, channel_options(Dispatching::Reactive, 5))?;
    let warm = n / 10;
    let arrivals = Arrivals::new(warm + n);
    for _ in 0..consumers {
        connect_consumer(&orb, channel.reference(), Stamping(arrivals.clone()), 0)?;
    }
    let proxies = (0..suppliers)
        .map(|s| connect_supplier(channel.reference(), s as i32 + 1))
        .collect::<Result<Vec<_>, _>>()?;
    let mut event = rtec::event(1, TYPE);
    for k in 0..warm + n {
        event.header.source = (k % suppliers) as i32 + 1;
        event.data.pad1 = k as i32;
        event.header.creation_time = sys::now_ns();
        proxies[k % suppliers].push(std::slice::from_ref(&event))?;
    }
    // Reactive and collocated: every consumer had its event before `push` returned.
    let expected = ((warm + n) * consumers) as u64;
    let got = arrivals.delivered.load(Ordering::Acquire);
    if got != expected {
        return Err(format!("collocated: {got} deliveries, expected {expected}").into());
    }
    let first = arrivals.first[warm..]
        .iter()
        .map(|a| a.load(Ordering::Relaxed))
        .collect();
    let last = arrivals.last[warm..]
        .iter()
        .map(|a| a.load(Ordering::Relaxed))
        .collect();
    channel.destroy();
    orb.shutdown(true);
    Ok((first, last))
}

/// Times `n` twoway `cube_long` calls, back to back or (with `pace_ns`) one per period, as
/// the supplier process pushes its events.
pub fn cubit_calls(
    target: &cubit::CubitRef,
    n: usize,
    pace_ns: u64,
    out: &mut Vec<u64>,
) -> Result<(), Error> {
    let start = sys::now_ns();
    for k in 0..n as u64 {
        let now = sys::now_ns();
        if start + k * pace_ns > now {
            std::thread::sleep(Duration::from_nanos(start + k * pace_ns - now));
        }
        let t = sys::now_ns();
        let r = target.cube_long(cubit::X)?;
        out.push(sys::now_ns() - t);
        if r != cubit::X_CUBED {
            return Err(format!("cube_long({}) = {r}", cubit::X).into());
        }
    }
    Ok(())
}

/// What [`across_processes`] measured: the twoways, and each case's latencies.
pub struct AcrossProcesses {
    /// Twoway `cube_long` round trips, back to back.
    pub back_to_back: Vec<u64>,
    /// The same, one every `pace_us` (as the supplier process pushes): the like-for-like base.
    pub paced: Vec<u64>,
    /// Per case: suppliers, consumers, the latencies to the first and to the last consumer.
    pub cases: Vec<(usize, usize, Vec<u64>, Vec<u64>)>,
}

/// Every supplier × consumer case across processes, `events` timed events each, one every
/// `pace_us`; beside each case as many twoway calls to a reactive cubit server process of
/// this executable (which must call [`cubit::serve_if_asked`] first), back to back and at the
/// events' pace. `tick` after each case.
pub fn across_processes(
    events: usize,
    pace_us: u64,
    tick: &mut dyn FnMut(),
) -> Result<AcrossProcesses, Error> {
    let server = ServerProcess::rtorb(ServerKind::Reactive);
    let client = cubit::client_orb(Transport::Giop, None);
    let target = cubit::cubit_ref(&client, server.ior());
    let mut m = AcrossProcesses {
        back_to_back: Vec::new(),
        paced: Vec::new(),
        cases: Vec::new(),
    };
    cubit_calls(&target, events / 10 + 1, 0, &mut Vec::new())?;
    for &s in &SUPPLIERS {
        for &c in &CONSUMERS {
            // The twoways beside each case, so that drift in the load falls on both: back
            // to back, and at the events' pace (each process then sleeps between calls as
            // the channel's do between events: the like-for-like figure).
            cubit_calls(&target, events, 0, &mut m.back_to_back)?;
            cubit_calls(&target, events, pace_us * 1_000, &mut m.paced)?;
            let (first, last) = process_case(events, pace_us, s, c)?;
            m.cases.push((s, c, first, last));
            tick();
        }
    }
    Ok(m)
}

/// One case across processes: a channel process, a consumer process with `consumers`
/// servants, a supplier process with `suppliers` proxies.
pub fn process_case(
    events: usize,
    pace_us: u64,
    suppliers: usize,
    consumers: usize,
) -> Result<(Vec<u64>, Vec<u64>), Error> {
    let warm = events / 10;
    let n = warm + events;
    let mut channel = roles::Process::start("channel", &[("DISPATCHING", "reactive")])?;
    let ior = channel.expect("IOR:")?;
    let mut sink = roles::Process::start(
        "consumers",
        &[
            ("IOR", &ior),
            ("COUNT", &consumers.to_string()),
            ("EVENTS", &n.to_string()),
        ],
    )?;
    sink.expect("READY")?;
    let mut source = roles::Process::start(
        "suppliers",
        &[
            ("IOR", &ior),
            ("COUNT", &suppliers.to_string()),
            ("EVENTS", &n.to_string()),
            ("PACE_US", &pace_us.to_string()),
        ],
    )?;
    source.expect("READY")?;
    source.say("GO")?;
    source.expect("DONE")?;
    sink.say("END")?;
    let (mut first, mut last) = (Vec::new(), Vec::new());
    loop {
        let line = sink.line()?;
        if line == "END" {
            break;
        }
        let mut it = line.split_whitespace().skip(1);
        let (Some(k), Some(f), Some(l)) = (it.next(), it.next(), it.next()) else {
            return Err(format!("consumers said {line:?}").into());
        };
        if k.parse::<usize>()? >= warm {
            let (f, l) = (f.parse::<u64>()?, l.parse::<u64>()?);
            if f == u64::MAX {
                return Err(format!("event {k} never arrived").into());
            }
            first.push(f);
            last.push(l);
        }
    }
    drop((source, sink, channel));
    Ok((first, last))
}
