//! Suppliers and consumers for the tests: each records what happened to it, and the tests
//! wait for what they expect (never for a time).
#![allow(dead_code)]

use event_service::cos_event_comm::{
    pull_consumer, pull_supplier, push_consumer, push_supplier, Disconnected, PullConsumer,
    PullConsumerRef, PullSupplier, PullSupplierRef, PushConsumer, PushConsumerRef, PushSupplier,
    PushSupplierRef,
};
use orb::exception::SystemException;
use orb::typecode::Any;
use orb::{CollocationStrategy, Orb, OrbOptions};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Polls `done` until it holds; panics (naming `what`) if it never does. For waiting on
/// other threads' progress, never for timing anything.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// An ORB serving with a pool big enough for the pulls that block in it.
pub fn server_orb() -> Orb {
    let mut options = OrbOptions::default();
    options
        .parse_args([
            "-ORBthreadPoolSize".into(),
            "16".into(),
            "-ORBendPoint".into(),
            "giop:tcp:127.0.0.1:0".into(),
        ])
        .unwrap();
    Orb::init(options).unwrap()
}

/// An ORB whose calls all go over TCP, even to its own objects.
pub fn remote_orb() -> Orb {
    let mut options = OrbOptions::default();
    options
        .parse_args(["-ORBthreadPoolSize".into(), "16".into()])
        .unwrap();
    options.collocation = CollocationStrategy::None;
    Orb::init(options).unwrap()
}

/// The events of a test: longs.
pub fn ev(n: i32) -> Any {
    Any::from(n)
}

pub fn longs(events: &[Any]) -> Vec<i32> {
    events
        .iter()
        .map(|e| e.as_i32().expect("an event that is not a long"))
        .collect()
}

/// A push consumer that keeps what it is pushed; optionally it blocks in `push` until
/// released.
#[derive(Clone, Default)]
pub struct Collector {
    pub inner: Arc<CollectorInner>,
}

#[derive(Default)]
pub struct CollectorInner {
    pub events: Mutex<Vec<Any>>,
    pub disconnected: AtomicBool,
    /// While true, `push` waits (after counting itself in `entered`).
    pub hold: Mutex<bool>,
    pub released: Condvar,
    pub entered: AtomicUsize,
}

impl Collector {
    pub fn holding() -> Collector {
        let c = Collector::default();
        *c.inner.hold.lock().unwrap() = true;
        c
    }

    pub fn release(&self) {
        *self.inner.hold.lock().unwrap() = false;
        self.inner.released.notify_all();
    }

    pub fn events(&self) -> Vec<i32> {
        longs(&self.inner.events.lock().unwrap())
    }

    pub fn count(&self) -> usize {
        self.inner.events.lock().unwrap().len()
    }

    pub fn disconnected(&self) -> bool {
        self.inner.disconnected.load(Ordering::SeqCst)
    }

    /// Activates it in `orb`.
    pub fn activate(&self, orb: &Orb) -> PushConsumerRef {
        let obj = orb
            .activate(
                &orb.root_poa(),
                Arc::new(push_consumer::Tie::new(self.clone())),
            )
            .unwrap();
        PushConsumerRef::unchecked_narrow(obj)
    }

    pub fn wait_count(&self, n: usize) {
        wait_until(&format!("{n} events"), || self.count() >= n);
    }

    pub fn wait_for(&self, n: usize) -> Vec<i32> {
        wait_until(&format!("{n} events"), || self.count() >= n);
        self.events()
    }
}

impl PushConsumer for Collector {
    fn push(&self, data: &Any) -> Result<(), push_consumer::PushError> {
        self.inner.entered.fetch_add(1, Ordering::SeqCst);
        let mut hold = self.inner.hold.lock().unwrap();
        while *hold {
            hold = self.inner.released.wait(hold).unwrap();
        }
        drop(hold);
        if self.disconnected() {
            return Err(Disconnected {}.into());
        }
        self.inner.events.lock().unwrap().push(data.clone());
        Ok(())
    }

    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        self.inner.disconnected.store(true, Ordering::SeqCst);
        Ok(())
    }
}

/// A push supplier or pull consumer: only told to disconnect.
#[derive(Clone, Default)]
pub struct Peer {
    pub disconnected: Arc<AtomicBool>,
}

impl Peer {
    pub fn disconnected(&self) -> bool {
        self.disconnected.load(Ordering::SeqCst)
    }

    pub fn as_push_supplier(&self, orb: &Orb) -> PushSupplierRef {
        let obj = orb
            .activate(
                &orb.root_poa(),
                Arc::new(push_supplier::Tie::new(self.clone())),
            )
            .unwrap();
        PushSupplierRef::unchecked_narrow(obj)
    }

    pub fn as_pull_consumer(&self, orb: &Orb) -> PullConsumerRef {
        let obj = orb
            .activate(
                &orb.root_poa(),
                Arc::new(pull_consumer::Tie::new(self.clone())),
            )
            .unwrap();
        PullConsumerRef::unchecked_narrow(obj)
    }
}

impl PushSupplier for Peer {
    fn disconnect_push_supplier(&self) -> Result<(), SystemException> {
        self.disconnected.store(true, Ordering::SeqCst);
        Ok(())
    }
}

impl PullConsumer for Peer {
    fn disconnect_pull_consumer(&self) -> Result<(), SystemException> {
        self.disconnected.store(true, Ordering::SeqCst);
        Ok(())
    }
}

/// A pull supplier handing out the events it is given: `pull` waits for one, `try_pull`
/// says whether there is one.
#[derive(Clone, Default)]
pub struct Source {
    pub inner: Arc<SourceInner>,
}

#[derive(Default)]
pub struct SourceInner {
    pub events: Mutex<VecDeque<Any>>,
    pub ready: Condvar,
    pub disconnected: AtomicBool,
    pub pulls: AtomicUsize,
}

impl Source {
    pub fn add(&self, e: Any) {
        self.inner.events.lock().unwrap().push_back(e);
        self.inner.ready.notify_all();
    }

    pub fn disconnected(&self) -> bool {
        self.inner.disconnected.load(Ordering::SeqCst)
    }

    pub fn activate(&self, orb: &Orb) -> PullSupplierRef {
        let obj = orb
            .activate(
                &orb.root_poa(),
                Arc::new(pull_supplier::Tie::new(self.clone())),
            )
            .unwrap();
        PullSupplierRef::unchecked_narrow(obj)
    }
}

impl PullSupplier for Source {
    fn pull(&self) -> Result<Any, pull_supplier::PullError> {
        self.inner.pulls.fetch_add(1, Ordering::SeqCst);
        let mut events = self.inner.events.lock().unwrap();
        loop {
            if self.disconnected() {
                return Err(Disconnected {}.into());
            }
            if let Some(e) = events.pop_front() {
                return Ok(e);
            }
            events = self
                .inner
                .ready
                .wait_timeout(events, Duration::from_millis(50))
                .unwrap()
                .0;
        }
    }

    fn try_pull(&self) -> Result<(Any, bool), pull_supplier::TryPullError> {
        self.inner.pulls.fetch_add(1, Ordering::SeqCst);
        if self.disconnected() {
            return Err(Disconnected {}.into());
        }
        Ok(match self.inner.events.lock().unwrap().pop_front() {
            Some(e) => (e, true),
            None => (Any::default(), false),
        })
    }

    fn disconnect_pull_supplier(&self) -> Result<(), SystemException> {
        self.inner.disconnected.store(true, Ordering::SeqCst);
        self.inner.ready.notify_all();
        Ok(())
    }
}
