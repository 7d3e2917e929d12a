//! Deadlines kept as the utilization grows (the paper's figures 15–16): a high- and a
//! low-priority supplier/consumer pair, each consumer spinning a calibrated W µs per event at
//! a fixed rate, the high work grown until deadlines (the period) are missed, priority lanes
//! against one dispatching thread; and priority inversion: a high-priority pair's latency
//! under a mid-priority flood, with and without lanes. Collocated; the caller pins the
//! process to one CPU ([`prepare`]), and `SCHED_FIFO` is used where it is granted.

use super::{
    channel_options, collocated_orb, connect_consumer, connect_consumer_of, connect_supplier,
    connect_supplier_of, sys, wait_for, Error, TYPE,
};
use event_service::rtec::rtec_event_channel_admin::ProxyPushConsumerRef;
use event_service::rtec::rtec_event_comm::{Event, PushConsumer};
use event_service::rtec::{self, Dispatching, RtecChannel, RtecOptions};
use orb::exception::SystemException;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The high-priority pair's period; the low pair's is twice as long (rate monotonic: the
/// faster pair has the higher priority, as in the paper).
pub const HIGH_PERIOD: Duration = Duration::from_millis(5);
pub const LOW_PERIOD: Duration = Duration::from_millis(10);
/// The low-priority consumer's work, in per cent of its period.
pub const LOW_WORK: u32 = 30;

/// Spin iterations per µs of CPU, measured at the highest priority the bench may take.
pub fn calibrate() -> f64 {
    let fifo = sys::fifo(10);
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        spin(1_000_000);
        best = best.min(t.elapsed().as_secs_f64());
    }
    if fifo {
        sys::normal();
    }
    // 1,000,000 iterations took `best` seconds.
    1.0 / best
}

fn spin(iterations: u64) {
    let mut x = 0u64;
    for i in 0..iterations {
        x = black_box(x.wrapping_mul(31).wrapping_add(i));
    }
    black_box(x);
}

/// A consumer that works `iterations` per event and counts its deadline misses (done
/// later than `deadline` after the event's creation).
struct Worker {
    iterations: u64,
    deadline: u64,
    done: AtomicU64,
    missed: AtomicU64,
    latencies: Mutex<Vec<u64>>,
    /// Raises the dispatching thread that runs it to `SCHED_FIFO` (for the single
    /// dispatcher, whose thread the channel starts at normal priority).
    raise: bool,
}

#[derive(Clone)]
struct Work(Arc<Worker>);

impl PushConsumer for Work {
    fn push(&self, data: &[Event]) -> Result<(), SystemException> {
        let w = &self.0;
        if w.raise && !sys::is_fifo() {
            sys::fifo(1);
        }
        for e in data {
            let start = sys::now_ns();
            if let Ok(mut l) = w.latencies.lock() {
                l.push(start.saturating_sub(e.header.creation_time));
            }
            spin(w.iterations);
            if sys::now_ns().saturating_sub(e.header.creation_time) > w.deadline {
                w.missed.fetch_add(1, Ordering::Relaxed);
            }
            w.done.fetch_add(1, Ordering::Release);
        }
        Ok(())
    }

    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        Ok(())
    }
}

fn worker(iterations: u64, deadline: Duration, raise: bool) -> Arc<Worker> {
    Arc::new(Worker {
        iterations,
        deadline: deadline.as_nanos() as u64,
        done: AtomicU64::new(0),
        missed: AtomicU64::new(0),
        latencies: Mutex::new(Vec::with_capacity(100_000)),
        raise,
    })
}

/// A periodic supplier on a thread of its own, above every dispatching thread (a timer,
/// as the paper's suppliers were): pushes every `period` until `stop`; returns how many.
fn periodic(
    proxy: ProxyPushConsumerRef,
    (source, ty): (i32, i32),
    (period, phase): (Duration, Duration),
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        sys::fifo(20);
        let mut event = rtec::event(source, ty);
        let start = sys::now_ns() + phase.as_nanos() as u64;
        let mut k = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let at = start + k * period.as_nanos() as u64;
            let now = sys::now_ns();
            if at > now {
                std::thread::sleep(Duration::from_nanos(at - now));
            }
            event.header.creation_time = sys::now_ns();
            if proxy.push(std::slice::from_ref(&event)).is_err() {
                break;
            }
            k += 1;
        }
        k
    })
}

/// The two dispatchings compared.
#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Lanes,
    Single,
}

impl Kind {
    fn options(self, lanes: usize) -> RtecOptions {
        match self {
            Kind::Lanes => channel_options(Dispatching::Priority, lanes),
            Kind::Single => {
                let mut o = channel_options(Dispatching::Mt, 1);
                o.dispatching_threads = 1;
                o
            }
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Lanes => "priority lanes",
            Kind::Single => "one thread (mt, 1)",
        }
    }
}

/// One step of the figure: events pushed and deadlines missed, per pair.
pub struct Step {
    pub high_events: u64,
    pub high_missed: u64,
    pub low_events: u64,
    pub low_missed: u64,
}

pub fn step(kind: Kind, per_us: f64, high_pct: u32, run: Duration) -> Result<Step, Error> {
    let orb = collocated_orb()?;
    let channel = RtecChannel::start(&orb, kind.options(2))?;
    let iters = |period: Duration, pct: u32| {
        (period.as_secs_f64() * 1e6 * pct as f64 / 100.0 * per_us) as u64
    };
    let raise = kind == Kind::Single;
    let high = worker(iters(HIGH_PERIOD, high_pct), HIGH_PERIOD, raise);
    let low = worker(iters(LOW_PERIOD, LOW_WORK), LOW_PERIOD, raise);
    connect_consumer(&orb, channel.reference(), Work(high.clone()), 0)?;
    // The low pair's own type, so that each consumer gets only its supplier's events.
    connect_consumer_of(&orb, channel.reference(), Work(low.clone()), TYPE + 1, 1)?;
    let high_proxy = connect_supplier(channel.reference(), 1)?;
    let low_proxy = connect_supplier_of(channel.reference(), 2, TYPE + 1)?;
    let stop = Arc::new(AtomicBool::new(false));
    let h = periodic(
        high_proxy,
        (1, TYPE),
        (HIGH_PERIOD, HIGH_PERIOD),
        stop.clone(),
    );
    // Each low event comes just before a high one (the paper's worst case for a dispatcher
    // that cannot preempt): the high event then waits for the low work.
    let l = periodic(
        low_proxy,
        (2, TYPE + 1),
        (LOW_PERIOD, HIGH_PERIOD - Duration::from_micros(100)),
        stop.clone(),
    );
    std::thread::sleep(run);
    stop.store(true, Ordering::Relaxed);
    let (hn, ln) = (
        h.join().map_err(|_| "supplier panicked")?,
        l.join().map_err(|_| "supplier panicked")?,
    );
    // What is still queued after a second counts as missed.
    let _ = wait_for("the queues to drain", Duration::from_secs(1), || {
        high.done.load(Ordering::Acquire) >= hn && low.done.load(Ordering::Acquire) >= ln
    });
    let s = Step {
        high_events: hn,
        high_missed: high.missed.load(Ordering::Relaxed)
            + hn.saturating_sub(high.done.load(Ordering::Acquire)),
        low_events: ln,
        low_missed: low.missed.load(Ordering::Relaxed)
            + ln.saturating_sub(low.done.load(Ordering::Acquire)),
    };
    channel.destroy();
    orb.shutdown(true);
    Ok(s)
}

/// How the utilization steps run: every thread of the process on one CPU, and whether
/// `SCHED_FIFO` was granted (else every thread runs at normal priority, and the figure says
/// little about lanes).
pub struct Setup {
    /// The CPU, if the process could be pinned.
    pub cpu: Option<usize>,
    pub fifo: bool,
    /// Spin iterations per µs of CPU.
    pub per_us: f64,
    /// The CPUs allowed before, for [`finish`].
    before: Option<sys::Allowed>,
}

/// Pins the calling thread (and those it starts) to one CPU, asks for `SCHED_FIFO` (and
/// drops it again), calibrates the work; [`finish`] undoes the pinning.
pub fn prepare() -> Setup {
    let pinned = sys::pin_to_one_cpu();
    let fifo = sys::fifo(1);
    if fifo {
        sys::normal();
    }
    Setup {
        cpu: pinned.map(|p| p.0),
        fifo,
        per_us: calibrate(),
        before: pinned.map(|p| p.1),
    }
}

/// Undoes [`prepare`]'s pinning of the calling thread: the CPUs it was allowed before.
pub fn finish(setup: &Setup) {
    if let Some(before) = &setup.before {
        sys::unpin(before);
    }
}

/// What a priority inversion run measured.
pub struct Inversion {
    /// The high-priority pair's latencies, ns.
    pub latencies: Vec<u64>,
    /// Flood events pushed, and delivered to the mid-priority consumer.
    pub flooded: u64,
    pub flood_delivered: u64,
}

/// A high-priority pair (every 2 ms, no work) under a mid-priority flood (a supplier
/// pushing back to back to a consumer working 20 µs per event, `per_us` spin iterations per
/// µs), for `run`: the high pair's latency.
pub fn inversion(kind: Kind, per_us: f64, run: Duration) -> Result<Inversion, Error> {
    let orb = collocated_orb()?;
    let channel = RtecChannel::start(&orb, kind.options(3))?;
    let raise = kind == Kind::Single;
    let high = worker(0, Duration::from_millis(2), raise);
    let mid = worker((20.0 * per_us) as u64, Duration::from_secs(3600), raise);
    connect_consumer(&orb, channel.reference(), Work(high.clone()), 0)?;
    connect_consumer_of(&orb, channel.reference(), Work(mid.clone()), TYPE + 1, 1)?;
    let high_proxy = connect_supplier(channel.reference(), 1)?;
    let flood_proxy = connect_supplier_of(channel.reference(), 2, TYPE + 1)?;
    let stop = Arc::new(AtomicBool::new(false));
    let flood = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            // A mid-priority thread: above the single dispatcher (+1), level with
            // the mid lane (lane 1 of 3 is +2), below the high lane (+3).
            sys::fifo(2);
            let event = [rtec::event(2, TYPE + 1)];
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) && flood_proxy.push(&event).is_ok() {
                n += 1;
            }
            n
        })
    };
    // Let the flood fill the queue first.
    std::thread::sleep(Duration::from_millis(50));
    let two = Duration::from_millis(2);
    let h = periodic(high_proxy, (1, TYPE), (two, two), stop.clone());
    std::thread::sleep(run);
    stop.store(true, Ordering::Relaxed);
    let hn = h.join().map_err(|_| "supplier panicked")?;
    let flooded = flood.join().map_err(|_| "flood panicked")?;
    let _ = wait_for("the high events", Duration::from_secs(5), || {
        high.done.load(Ordering::Acquire) >= hn
    });
    let latencies = std::mem::take(&mut *high.latencies.lock().map_err(|_| "poisoned")?);
    let result = Inversion {
        latencies,
        flooded,
        flood_delivered: mid.done.load(Ordering::Relaxed),
    };
    channel.destroy();
    orb.shutdown(true);
    Ok(result)
}
