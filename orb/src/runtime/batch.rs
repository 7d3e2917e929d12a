//! Oneway batching (`-ORBonewayBatchMicros N`): oneway requests are appended to a buffer per
//! connection instead of being written one by one, and a flusher thread writes each buffer
//! within N µs of its first request — one `write` for many requests, which is what lets a
//! client send oneways faster than a server reads them one system call at a time.
//!
//! What a caller gets is CORBA's `SYNC_NONE`: the call returns once the request is buffered,
//! and a failure to write it later is not reported (the next twoway on that connection finds
//! the connection broken). What it keeps:
//! - requests on one connection leave in the order they were made: a buffer is only ever
//!   written whole, under the lock that appends to it;
//! - a twoway or LocateRequest on a connection first writes the oneways buffered for it, so a
//!   twoway made after oneways is read after them;
//! - nothing is left behind: [`OnewayBatcher::stop`] (at `Orb::shutdown` and when the ORB
//!   goes) writes every buffer, and oneways made after it are written at once.

use crate::transport::{ClientConnection, Dialect, Endpoint, TransportError};
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A buffer that reaches this many octets is written at once, by the caller that filled it:
/// a larger write gains nothing and holds the lock longer.
const MAX_BATCH: usize = 64 * 1024;

/// How writing a full buffer went: on failure, the error and the connection it failed on.
pub(crate) type BatchWrite = Result<(), (TransportError, Arc<ClientConnection>)>;

/// The oneways buffered for one connection.
struct Pending {
    conn: Arc<ClientConnection>,
    /// The RT-CORBA priority band of the calls that buffered them (a band's connection
    /// carries that band's calls only), `None` outside every band.
    band: Option<u16>,
    bytes: Vec<u8>,
    /// When the first of them was buffered: the flusher writes them by `since + bound`.
    since: Instant,
}

#[derive(Default)]
struct State {
    pending: Vec<Pending>,
    stopped: bool,
}

struct Inner {
    bound: Duration,
    state: Mutex<State>,
    wake: Condvar,
}

/// The batcher of one ORB; its flusher thread starts with the first oneway.
pub(crate) struct OnewayBatcher {
    inner: Arc<Inner>,
    flusher: Mutex<Option<JoinHandle<()>>>,
    /// Set once the flusher is started: what every oneway looks at, without the lock.
    started: AtomicBool,
}

impl OnewayBatcher {
    pub(crate) fn new(bound: Duration) -> OnewayBatcher {
        OnewayBatcher {
            inner: Arc::new(Inner {
                bound,
                state: Mutex::new(State::default()),
                wake: Condvar::new(),
            }),
            flusher: Mutex::new(None),
            started: AtomicBool::new(false),
        }
    }

    /// Buffers `message` (a whole oneway Request of a call in priority band `band`, or
    /// outside every band) for `conn`. Written now, and its error returned, when the buffer
    /// is full or the batcher has stopped.
    pub(crate) fn push(
        &self,
        conn: &Arc<ClientConnection>,
        band: Option<u16>,
        message: &[u8],
    ) -> Result<(), TransportError> {
        let mut st = self.inner.state.lock();
        if st.stopped {
            // Whatever is buffered for it went at stop; nothing can be ahead of this one.
            return conn.send_oneway(message);
        }
        let i = match st.pending.iter().position(|p| Arc::ptr_eq(&p.conn, conn)) {
            Some(i) => i,
            None => {
                st.pending.push(Pending {
                    conn: conn.clone(),
                    band,
                    bytes: Vec::with_capacity(message.len().max(4096)),
                    since: Instant::now(),
                });
                // A new deadline: the flusher may be waiting for none, or a later one.
                self.inner.wake.notify_one();
                st.pending.len() - 1
            }
        };
        st.pending[i].bytes.extend_from_slice(message);
        if st.pending[i].bytes.len() >= MAX_BATCH {
            let p = st.pending.swap_remove(i);
            return p.conn.send_oneway(&p.bytes);
        }
        drop(st);
        self.start_flusher();
        Ok(())
    }

    fn start_flusher(&self) {
        if self.started.load(Ordering::Acquire) {
            return;
        }
        let mut flusher = self.flusher.lock();
        if flusher.is_some() {
            return;
        }
        let inner = self.inner.clone();
        let spawned = std::thread::Builder::new()
            .name("rtorb-oneway-flusher".into())
            .spawn(move || flush_loop(&inner));
        match spawned {
            Ok(handle) => {
                *flusher = Some(handle);
                self.started.store(true, Ordering::Release);
            }
            // No thread: write everything now and batch no more, rather than hold
            // requests that nothing would ever write.
            Err(_) => self.stop_inner(),
        }
    }

    /// Appends a oneway of a call in band `band` (or outside every band) to the buffer of
    /// the connection to `endpoint` that oneways of that band are being buffered for, if
    /// there is one, all under one lock: `add` gets that connection (to
    /// number the request) and the buffer, and appends the whole request or nothing. `None`
    /// when nothing is buffered for `endpoint` (or the batcher has stopped): the caller then
    /// gets a connection from the cache and calls [`OnewayBatcher::push`]. The second value is
    /// the outcome of writing the buffer, when this request filled it: on failure, with the
    /// connection it failed on.
    ///
    /// `add` runs under the batcher's lock: it must only encode, never call into the ORB.
    pub(crate) fn append<R>(
        &self,
        endpoint: &Endpoint,
        dialect: Dialect,
        band: Option<u16>,
        add: impl FnOnce(&ClientConnection, &mut Vec<u8>) -> R,
    ) -> Option<(R, BatchWrite)> {
        let mut st = self.inner.state.lock();
        if st.stopped {
            return None;
        }
        let i = st.pending.iter().position(|p| {
            p.band == band && p.conn.dialect() == dialect && p.conn.endpoint() == endpoint
        })?;
        let p = &mut st.pending[i];
        let added = add(&p.conn, &mut p.bytes);
        if p.bytes.len() < MAX_BATCH {
            return Some((added, Ok(())));
        }
        let p = st.pending.swap_remove(i);
        let sent = p.conn.send_oneway(&p.bytes).map_err(|e| (e, p.conn));
        Some((added, sent))
    }

    /// Writes what is buffered for `conn`, before a request whose reply is awaited on it.
    pub(crate) fn flush(&self, conn: &Arc<ClientConnection>) -> Result<(), TransportError> {
        let mut st = self.inner.state.lock();
        match st.pending.iter().position(|p| Arc::ptr_eq(&p.conn, conn)) {
            Some(i) => {
                let p = st.pending.swap_remove(i);
                p.conn.send_oneway(&p.bytes)
            }
            None => Ok(()),
        }
    }

    /// Writes everything buffered; from now on oneways are written at once. Waits for the
    /// flusher thread to end.
    pub(crate) fn stop(&self) {
        self.stop_inner();
        let handle = self.flusher.lock().take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }

    fn stop_inner(&self) {
        let mut st = self.inner.state.lock();
        st.stopped = true;
        for p in st.pending.drain(..) {
            // SYNC_NONE: a oneway that cannot be written is lost, as it would be in flight.
            let _ = p.conn.send_oneway(&p.bytes);
        }
        self.inner.wake.notify_all();
    }
}

impl Drop for OnewayBatcher {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The flusher: writes each buffer when its deadline comes, until stopped.
fn flush_loop(inner: &Inner) {
    let mut st = inner.state.lock();
    loop {
        if st.stopped {
            return;
        }
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        let mut i = 0;
        while i < st.pending.len() {
            let due = st.pending[i].since + inner.bound;
            if due <= now {
                let p = st.pending.swap_remove(i);
                let _ = p.conn.send_oneway(&p.bytes);
            } else {
                next = Some(next.map_or(due, |n| n.min(due)));
                i += 1;
            }
        }
        match next {
            Some(due) => {
                inner.wake.wait_until(&mut st, due);
            }
            None => inner.wake.wait(&mut st),
        }
    }
}
