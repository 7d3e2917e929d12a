//! The mio reactor behind [`Strategy::Reactive`](super::Strategy::Reactive) (one thread) and
//! [`Strategy::ThreadPool`](super::Strategy::ThreadPool) (leader/followers).
//!
//! One thread at a time is the poller: it waits in `epoll_wait` (see [`super::epoll`]), and
//! when it wakes with a ready connection it stops being the poller and reads the connection
//! and runs the handler itself — no queue between reading and running, and no other thread
//! woken to take over the polling. Whichever thread comes back first polls next (the one that
//! just served, usually: its cache is warm). When one wait returns several ready connections,
//! the poller keeps the first and hands the others to idle threads (`pending`), woken for
//! them: with work for them, waking them is not a waste.
//!
//! Nobody polls while the former poller serves. That costs nothing when requests are short
//! (the connections that become ready meanwhile are found by the next wait), but a handler
//! that blocks would leave every other connection unserved; so one idle thread, the deputy,
//! looks every [`TAKEOVER`] whether anyone has polled since its last look, and if no one has,
//! takes over the polling itself. The deputy's looks are the only wake-ups this costs, and
//! only while the server works: after [`QUIET_LOOKS`] looks at a poller asleep in
//! `epoll_wait` the deputy sleeps until a poller leaves the wait again.
//!
//! Why not every thread in `epoll_wait` at once (the kernel wakes one waiter per event, so
//! there is no hand-off either): when the client runs between a pool thread's reply and that
//! thread's return to `epoll_wait` — always, if they share a core — the next request finds
//! only the other threads waiting and wakes one of them, which then finds the first thread
//! back and the request taken, or takes it from a cold cache; measured, 1.39× omniORB's
//! median round trip pinned and 1.42× unpinned, against 1.06× for the lone reactor thread.
//! Mutex-guarded leadership with a follower woken to poll at every request measured
//! 1.14–1.15× (all pinned, in one session).
//!
//! A connection is served by one thread at a time: a thread that finds it busy leaves a note
//! (`rerun`) and the busy thread goes round once more before it lets go. This is the
//! leader/followers "suspended handle", without the `epoll_ctl` calls of really suspending it.
//!
//! Work that no readiness announces — a connection handed back after its read budget, one
//! accepted with input already waiting — goes into `pending` too. A connection closed from
//! another thread is announced through the `mio::Waker`.
//!
//! Writes need no reactor: any thread sending on a connection writes to the socket itself,
//! under the connection's lock, when nothing is queued before it (so a reply from the reactor
//! thread or a pool thread goes out in the call that sends it); only what the socket does not
//! take is queued, and only then is the connection registered for writability.

use super::epoll::{self, Readiness};
use super::{
    ConnectionHandle, ConnectionId, HandleInner, Handler, Listener, Segments, ServerOptions,
};
use crate::giop::Framer;
use crate::transport::endpoint::Dialect;
use crate::transport::stream::{MioStream, OutQueue};
use crate::transport::{CloseCause, TransportError};
use mio::unix::SourceFd;
use mio::{Interest, Poll, Registry, Token, Waker};
use parking_lot::{Mutex, MutexGuard};
use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

const WAKER: Token = Token(0);
const FIRST_LISTENER: usize = 1;

/// Size of each thread's read buffer: a cube_long request is ~100 octets, a 64 KiB read
/// drains a loopback socket buffer in a few calls.
const READ_BUF: usize = 64 * 1024;

/// Reads one connection may do before its thread turns to other ready connections (the rest
/// is picked up again later): a peer streaming requests cannot starve the others.
const READ_BUDGET: usize = 16;

/// Events one `epoll_wait` takes: the first is served by the thread that waited, the others
/// go to idle threads or wait their turn.
const EVENTS_PER_WAIT: usize = 256;

/// How often the deputy looks whether a poller is stuck in a handler; a handler that blocks
/// keeps other connections waiting this long, up to twice this long.
pub(super) const TAKEOVER: Duration = Duration::from_millis(1);

/// Looks at a poller asleep in `epoll_wait`, with nobody having polled in between, after
/// which the deputy stops looking until a poller leaves its wait.
const QUIET_LOOKS: u32 = 10;

/// The deputy's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Deputy {
    /// No thread stands by (all serve, or the pool has one thread).
    None,
    /// A thread looks every [`TAKEOVER`].
    Looking,
    /// The server is idle: a thread stands by without a timeout, and the next poller that
    /// leaves its wait must wake it.
    Asleep,
}

/// Who polls and who stands by, and the work waiting for a thread: under one lock, taken
/// twice per request by the thread that polls and serves it (uncontended when the server is
/// not loaded).
#[derive(Debug)]
struct Threads {
    /// A thread is the poller (in `epoll_wait` or on its way there).
    polling: bool,
    /// Times a poller left `epoll_wait` with something to serve: the deputy's clock.
    departures: u64,
    deputy: Deputy,
    /// Threads waiting on `Reactor::idle` for work, not yet woken.
    idle: usize,
    /// Ready connections no thread has taken yet.
    pending: VecDeque<Readiness>,
    /// Connections handed back after their read budget, to be served again once whatever
    /// else is ready has been polled (else a peer that never stops sending would keep every
    /// other connection waiting).
    yielded: VecDeque<Readiness>,
}

/// What wakes the reactor from another thread, shared with every connection.
#[derive(Debug)]
pub(crate) struct Wake {
    registry: Registry,
    waker: Waker,
    /// Connections closed from outside the reactor, to be cleaned up by it.
    closing: Mutex<Vec<Token>>,
}

impl Wake {
    fn close_later(&self, token: Token) {
        self.closing.lock().push(token);
        // If the wake fails the poll is gone, and with it the server: nothing left to clean.
        let _ = self.waker.wake();
    }
}

/// The connection's state that senders touch: guarded by one lock.
#[derive(Debug, Default)]
struct State {
    out: OutQueue,
    /// Whether the socket is registered for writability (only while output is queued).
    want_write: bool,
    /// A thread is reading this connection and running its handler calls.
    busy: bool,
    /// Readiness arrived while `busy`: the busy thread must look again before letting go.
    rerun: bool,
    /// The peer hung up or the socket failed: read to the end instead of stopping at a short
    /// read.
    hup: bool,
    closing: Option<CloseCause>,
    closed: bool,
}

/// An accepted connection of a reactor server.
pub(crate) struct Conn {
    pub(super) id: ConnectionId,
    pub(super) dialect: Dialect,
    pub(super) peer: String,
    token: Token,
    stream: MioStream,
    wake: Arc<Wake>,
    max_pending_output: usize,
    state: Mutex<State>,
    /// Held only by the busy thread: uncontended, there to make the hand-over between pool
    /// threads visible without `unsafe`.
    framer: Mutex<Framer>,
    pub(super) attachment: super::Attachment,
}

impl Conn {
    fn interest(want_write: bool) -> Interest {
        if want_write {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        }
    }

    /// Registers or drops writability interest to match the output queue. Called with the
    /// state lock held, so registrations happen in the order the state changed.
    fn sync_interest(&self, st: &mut State) -> io::Result<()> {
        let want = !st.out.is_empty();
        if want != st.want_write {
            st.want_write = want;
            let fd = self.stream.raw_fd();
            self.wake
                .registry
                .reregister(&mut SourceFd(&fd), self.token, Conn::interest(want))?;
        }
        Ok(())
    }

    pub(super) fn send(&self, segments: Segments) -> Result<(), TransportError> {
        let len = segments.len();
        let mut st = self.state.lock();
        if let Some(cause) = &st.closing {
            return Err(TransportError::Closed {
                sent: false,
                cause: cause.clone(),
            });
        }
        let pending = st.out.pending();
        if pending.saturating_add(len) > self.max_pending_output {
            st.closing = Some(CloseCause::OutputLimit);
            drop(st);
            self.wake.close_later(self.token);
            return Err(TransportError::OutputLimit {
                len,
                pending,
                max: self.max_pending_output,
            });
        }
        let was_empty = st.out.is_empty();
        match segments {
            Segments::One(s) => st.out.push(s),
            Segments::Many(many) => many.into_iter().for_each(|s| st.out.push(s)),
        }
        if !was_empty {
            // Writability interest is already registered: the reactor writes it in turn.
            return Ok(());
        }
        let flushed = st.out.flush(|iov| self.stream.write_vectored(iov));
        let failed = match flushed {
            Ok(true) => return Ok(()),
            Ok(false) => match self.sync_interest(&mut st) {
                Ok(()) => return Ok(()),
                Err(e) => e,
            },
            Err(e) => e,
        };
        let cause = CloseCause::Io(failed.kind());
        st.closing = Some(cause.clone());
        st.out.clear();
        drop(st);
        self.wake.close_later(self.token);
        Err(TransportError::Closed { sent: false, cause })
    }

    /// Writes queued output on writability.
    fn on_writable(&self) {
        let mut st = self.state.lock();
        if st.closed || st.out.is_empty() {
            return;
        }
        let res = st
            .out
            .flush(|iov| self.stream.write_vectored(iov))
            .and_then(|_| self.sync_interest(&mut st));
        if let Err(e) = res {
            if st.closing.is_none() {
                st.closing = Some(CloseCause::Io(e.kind()));
            }
            st.out.clear();
        }
    }

    pub(super) fn request_close(&self, cause: CloseCause) {
        let mut st = self.state.lock();
        if st.closing.is_some() {
            return;
        }
        st.closing = Some(cause);
        drop(st);
        self.wake.close_later(self.token);
    }

    pub(super) fn is_closing(&self) -> bool {
        self.state.lock().closing.is_some()
    }

    fn closing(&self) -> Option<CloseCause> {
        self.state.lock().closing.clone()
    }
}

/// `Vec<Option<_>>` with a free list: the Token → connection map.
#[derive(Default)]
struct Slab {
    entries: Vec<Option<Arc<Conn>>>,
    free: Vec<usize>,
    len: usize,
}

impl Slab {
    fn vacant(&mut self) -> usize {
        match self.free.pop() {
            Some(i) => i,
            None => {
                self.entries.push(None);
                self.entries.len() - 1
            }
        }
    }

    fn get(&self, i: usize) -> Option<&Arc<Conn>> {
        self.entries.get(i).and_then(Option::as_ref)
    }

    fn remove(&mut self, i: usize) -> Option<Arc<Conn>> {
        let c = self.entries.get_mut(i)?.take()?;
        self.len -= 1;
        self.free.push(i);
        Some(c)
    }
}

pub(crate) struct Reactor {
    /// Never polled through mio: the poller waits on its epoll descriptor directly
    /// ([`epoll::Events::wait`]), without holding anything; it is here to own that
    /// descriptor for the threads' lifetime.
    poll: Poll,
    threads: Mutex<Threads>,
    /// Idle threads wait here for pending work (or for the deputy's post).
    idle: parking_lot::Condvar,
    /// The deputy waits here.
    deputy: parking_lot::Condvar,
    /// Threads in the pool (1: the reactive server, which needs no deputy).
    pool_size: usize,
    wake: Arc<Wake>,
    listeners: Vec<(Listener, Dialect)>,
    conns: Mutex<Slab>,
    handler: Arc<dyn Handler>,
    options: ServerOptions,
    stopping: AtomicBool,
    next_id: AtomicU64,
    running: AtomicUsize,
    first_conn: usize,
}

impl Threads {
    /// The connections that yielded go behind what the last look found ready.
    fn requeue_yielded(&mut self) {
        let Threads {
            pending, yielded, ..
        } = self;
        pending.extend(yielded.drain(..));
    }
}

/// Counts the server threads that have made their start-up allocations (the thread's own, the
/// buffer pool's, the read buffer), so that `start` returns only once a pool is ready: a thread
/// the scheduler runs late would otherwise allocate in the middle of steady-state serving.
#[derive(Default)]
struct ThreadsReady {
    count: Mutex<usize>,
    cv: parking_lot::Condvar,
}

impl ThreadsReady {
    fn one_more(&self) {
        *self.count.lock() += 1;
        self.cv.notify_all();
    }

    fn wait_for(&self, threads: usize) {
        let mut count = self.count.lock();
        while *count < threads {
            self.cv.wait(&mut count);
        }
    }
}

impl Reactor {
    pub(super) fn start(
        mut listeners: Vec<(Listener, Dialect)>,
        threads: usize,
        handler: Arc<dyn Handler>,
        options: ServerOptions,
    ) -> Result<(Arc<Reactor>, Vec<JoinHandle<()>>), TransportError> {
        let io_err = |what| move |source| TransportError::Io { what, source };
        let poll = Poll::new().map_err(io_err("creating the poll"))?;
        let registry = poll
            .registry()
            .try_clone()
            .map_err(io_err("cloning the registry"))?;
        let waker = Waker::new(poll.registry(), WAKER).map_err(io_err("creating the waker"))?;
        for (i, (l, _)) in listeners.iter_mut().enumerate() {
            l.register(poll.registry(), Token(FIRST_LISTENER + i))
                .map_err(io_err("registering a listener"))?;
        }
        let first_conn = FIRST_LISTENER + listeners.len();
        let reactor = Arc::new(Reactor {
            poll,
            threads: Mutex::new(Threads {
                polling: false,
                departures: 0,
                deputy: Deputy::None,
                idle: 0,
                pending: VecDeque::with_capacity(EVENTS_PER_WAIT),
                yielded: VecDeque::new(),
            }),
            idle: parking_lot::Condvar::new(),
            deputy: parking_lot::Condvar::new(),
            pool_size: threads,
            wake: Arc::new(Wake {
                registry,
                waker,
                closing: Mutex::new(Vec::new()),
            }),
            listeners,
            conns: Mutex::new(Slab::default()),
            handler,
            options,
            stopping: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
            running: AtomicUsize::new(threads),
            first_conn,
        });
        let mut handles = Vec::with_capacity(threads);
        let ready = Arc::new(ThreadsReady::default());
        for i in 0..threads {
            let r = reactor.clone();
            let ready = ready.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("rtorb-reactor-{i}"))
                .spawn(move || r.run(&ready));
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    // Threads not started will never decrement `running`: count them out.
                    reactor.running.fetch_sub(threads - i, Ordering::AcqRel);
                    reactor.stop();
                    for h in handles {
                        let _ = h.join();
                    }
                    return Err(TransportError::Io {
                        what: "spawning a reactor thread",
                        source: e,
                    });
                }
            }
        }
        ready.wait_for(threads);
        Ok((reactor, handles))
    }

    pub(super) fn stop(&self) {
        {
            // Under the lock, so a thread that found the flag clear cannot then miss the
            // notification on its way to wait.
            let _threads = self.threads.lock();
            self.stopping.store(true, Ordering::Release);
        }
        self.wake_everyone();
    }

    /// Every thread hears of the stop: the poller through the `Waker`, the others through
    /// their condition variables.
    fn wake_everyone(&self) {
        self.idle.notify_all();
        self.deputy.notify_all();
        // If the wake fails the poll is gone: the threads are already out.
        let _ = self.wake.waker.wake();
    }

    fn run(self: Arc<Self>, ready: &ThreadsReady) {
        super::prepare_server_thread(self.options.allocator);
        let mut buf = vec![0u8; READ_BUF];
        let mut events = epoll::Events::with_capacity(EVENTS_PER_WAIT);
        ready.one_more();
        let mut threads = self.threads.lock();
        loop {
            if self.stopping.load(Ordering::Acquire) {
                break;
            }
            if let Some(r) = threads.pending.pop_front() {
                MutexGuard::unlocked(&mut threads, || self.process(r, &mut buf));
                continue;
            }
            if !threads.yielded.is_empty() && threads.polling {
                // The poller will see what else is ready; the yielded go next in line.
                threads.requeue_yielded();
                continue;
            }
            if !threads.polling {
                threads.polling = true;
                // With connections yielded, only a look at what else is ready, no wait.
                let block = threads.yielded.is_empty();
                let waited = MutexGuard::unlocked(&mut threads, || events.wait(&self.poll, block));
                threads.polling = false;
                match waited {
                    Ok(0) => threads.requeue_yielded(),
                    Ok(n) => {
                        let first = events.get(0);
                        self.left_wait(&mut threads, &events, n);
                        threads.requeue_yielded();
                        MutexGuard::unlocked(&mut threads, || self.process(first, &mut buf));
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    // The epoll instance itself failed: nothing can be served any more.
                    Err(_) => self.stopping.store(true, Ordering::Release),
                }
                continue;
            }
            // Another thread polls, asleep in `epoll_wait` or serving what it woke with. Under
            // load more may be ready than it takes; a look, without waiting, finds it.
            let looked = MutexGuard::unlocked(&mut threads, || events.wait(&self.poll, false));
            if let Ok(n @ 1..) = looked {
                let first = events.get(0);
                self.left_wait(&mut threads, &events, n);
                MutexGuard::unlocked(&mut threads, || self.process(first, &mut buf));
                continue;
            }
            if self.pool_size > 1 && threads.deputy == Deputy::None {
                self.stand_by(&mut threads);
                continue;
            }
            // Counted out by whoever wakes it (`wake_idle`), so a thread woken and not yet
            // running is not counted on twice.
            threads.idle += 1;
            self.idle.wait(&mut threads);
        }
        drop(threads);
        // Whoever is still waiting hears of the stop, even if it began after `stop` woke all.
        self.wake_everyone();
        if self.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.close_all();
        }
    }

    /// A poller came out of `epoll_wait` with `n` ready events and will serve the first: the
    /// others go to idle threads (or whoever comes back first), and a sleeping deputy starts
    /// looking.
    fn left_wait(&self, threads: &mut Threads, events: &epoll::Events, n: usize) {
        threads.departures += 1;
        for i in 1..n {
            threads.pending.push_back(events.get(i));
        }
        let deputy_woken = self.hand_out(threads, n - 1);
        if threads.deputy == Deputy::Asleep && !deputy_woken {
            threads.deputy = Deputy::Looking;
            self.deputy.notify_one();
        }
    }

    /// Wakes threads for `work` new pending items: idle ones first, then the deputy, then,
    /// if that is still not enough and a thread sleeps in `epoll_wait`, that one (through the
    /// `Waker`; it takes pending work before it polls again) — else the work would wait for a
    /// thread that may be stuck in a handler. Whether the deputy was woken.
    fn hand_out(&self, threads: &mut Threads, work: usize) -> bool {
        let mut woken = 0;
        while woken < work && self.wake_idle(threads) {
            woken += 1;
        }
        let mut deputy_woken = false;
        if woken < work && threads.deputy != Deputy::None {
            threads.deputy = Deputy::Looking;
            self.deputy.notify_one();
            deputy_woken = true;
            woken += 1;
        }
        if woken < work && threads.polling {
            // If the wake fails the poll is gone, and with it the server.
            let _ = self.wake.waker.wake();
        }
        deputy_woken
    }

    /// Stands by as the deputy until there is work, or until the poller has been gone
    /// (serving) for a whole look without anyone polling since: then it returns with nobody
    /// polling, and the caller becomes the poller.
    fn stand_by(&self, threads: &mut MutexGuard<'_, Threads>) {
        threads.deputy = Deputy::Looking;
        let mut seen = threads.departures;
        let mut quiet = 0;
        loop {
            if threads.deputy == Deputy::Asleep {
                self.deputy.wait(threads);
            } else {
                self.deputy.wait_for(threads, TAKEOVER);
            }
            if self.stopping.load(Ordering::Acquire) || !threads.pending.is_empty() {
                break;
            }
            let nobody_polled = threads.departures == seen;
            if nobody_polled && !threads.polling {
                // The poller left to serve at least a look ago and has not been back: its
                // handler blocks, or takes long. Poll in its place.
                break;
            }
            quiet = if nobody_polled { quiet + 1 } else { 0 };
            seen = threads.departures;
            if quiet >= QUIET_LOOKS {
                threads.deputy = Deputy::Asleep;
            }
        }
        threads.deputy = Deputy::None;
        // Someone must stand by in this one's place, in case what it goes to do blocks too.
        self.wake_idle(threads);
    }

    /// Wakes one idle thread, if there is one.
    fn wake_idle(&self, threads: &mut Threads) -> bool {
        if threads.idle == 0 {
            return false;
        }
        threads.idle -= 1;
        self.idle.notify_one();
        true
    }

    /// Hands `r` to an idle thread, or to whichever thread comes back to look for work first.
    fn push_pending(&self, r: Readiness) {
        let mut threads = self.threads.lock();
        threads.pending.push_back(r);
        self.hand_out(&mut threads, 1);
    }

    /// Hands back a connection with more to read, to be served after a look at what else is
    /// ready; the calling thread, on its way back for work, is the one that looks (or hands
    /// it on to the poller's turn).
    fn push_yielded(&self, r: Readiness) {
        self.threads.lock().yielded.push_back(r);
    }

    fn process(&self, r: Readiness, buf: &mut [u8]) {
        if r.token == WAKER {
            let closing = std::mem::take(&mut *self.wake.closing.lock());
            for token in closing {
                self.process_conn(Readiness::closing(token), buf);
            }
        } else if r.token.0 < self.first_conn {
            self.accept(r.token.0 - FIRST_LISTENER);
        } else {
            self.process_conn(r, buf);
        }
    }

    fn process_conn(&self, r: Readiness, buf: &mut [u8]) {
        let Some(conn) = self.conns.lock().get(r.token.0 - self.first_conn).cloned() else {
            // A connection closed since the event was polled.
            return;
        };
        if r.writable {
            conn.on_writable();
        }
        if r.readable || r.hup || conn.is_closing() {
            self.serve(&conn, r.hup, buf);
        }
    }

    fn accept(&self, i: usize) {
        let (listener, dialect) = &self.listeners[i];
        loop {
            let Some((stream, peer)) = listener.accept_next() else {
                return;
            };
            let mut conns = self.conns.lock();
            if conns.len >= self.options.max_connections {
                drop(stream);
                continue;
            }
            let slot = conns.vacant();
            let token = Token(self.first_conn + slot);
            // Born busy: the handler hears of the connection (`on_accept`) before any thread
            // can serve it; readiness meanwhile leaves a `rerun` note.
            let conn = Arc::new(Conn {
                id: ConnectionId(self.next_id.fetch_add(1, Ordering::Relaxed)),
                dialect: *dialect,
                peer,
                token,
                stream,
                wake: self.wake.clone(),
                max_pending_output: self.options.max_pending_output,
                state: Mutex::new(State {
                    busy: true,
                    out: OutQueue::new(self.options.allocator),
                    ..State::default()
                }),
                attachment: super::Attachment::default(),
                framer: Mutex::new(
                    dialect
                        .framer(self.options.max_message_size)
                        .with_allocator(self.options.allocator),
                ),
            });
            // In the map before it is registered, so no readiness can find it missing.
            conns.entries[slot] = Some(conn.clone());
            conns.len += 1;
            drop(conns);
            let fd = conn.stream.raw_fd();
            if let Err(e) =
                self.wake
                    .registry
                    .register(&mut SourceFd(&fd), token, Interest::READABLE)
            {
                self.close(&conn, CloseCause::Io(e.kind()), false);
                continue;
            }
            let handle = ConnectionHandle {
                inner: HandleInner::Reactor(conn.clone()),
            };
            self.handler.on_accept(&handle);
            let rerun = {
                let mut st = conn.state.lock();
                st.busy = false;
                std::mem::take(&mut st.rerun)
            };
            if rerun {
                // Handed on rather than served here: a request that blocks (an upcall that
                // waits for something) would keep this thread from accepting the connections
                // queued behind this one, whose readiness was in the same edge-triggered
                // event — they would wait for that request, however unrelated.
                self.push_pending(Readiness::readable(conn.token));
            }
        }
    }

    /// Reads and dispatches a connection's messages, if no other thread is at it.
    fn serve(&self, conn: &Arc<Conn>, hup: bool, buf: &mut [u8]) {
        {
            let mut st = conn.state.lock();
            if st.closed {
                return;
            }
            st.hup |= hup;
            if st.busy {
                st.rerun = true;
                return;
            }
            st.busy = true;
        }
        let handle = ConnectionHandle {
            inner: HandleInner::Reactor(conn.clone()),
        };
        loop {
            match self.read_and_dispatch(conn, &handle, buf) {
                Served::Drained => {}
                Served::Yield => {
                    conn.state.lock().busy = false;
                    // Handed back: no readiness will announce what is left to read
                    // (edge-triggered, and already announced).
                    self.push_yielded(Readiness::readable(conn.token));
                    return;
                }
                Served::Close(cause) => {
                    // Still marked busy: no other thread will touch it again.
                    self.close(conn, cause, true);
                    return;
                }
            }
            let mut st = conn.state.lock();
            if std::mem::take(&mut st.rerun) || st.closing.is_some() {
                continue;
            }
            st.busy = false;
            return;
        }
    }

    fn read_and_dispatch(
        &self,
        conn: &Arc<Conn>,
        handle: &ConnectionHandle,
        buf: &mut [u8],
    ) -> Served {
        let mut framer = conn.framer.lock();
        for _ in 0..READ_BUDGET {
            let hup = {
                let st = conn.state.lock();
                if let Some(cause) = &st.closing {
                    return Served::Close(cause.clone());
                }
                st.hup
            };
            let n = match conn.stream.read(buf) {
                Ok(0) => return Served::Close(CloseCause::PeerClosed),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Served::Drained,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Served::Close(CloseCause::Io(e.kind())),
            };
            // Each read's messages are dispatched before the next read, so buffered input
            // stays within one message's limit plus one read. Whole messages go from the
            // read buffer straight into their frames.
            let mut input = &buf[..n];
            loop {
                match framer.next_message(&mut input) {
                    Ok(Some(frame)) => {
                        self.handler.on_frame(handle, frame);
                        if let Some(cause) = conn.closing() {
                            return Served::Close(cause);
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        self.handler.on_protocol_error(handle, &e);
                        return Served::Close(CloseCause::Protocol(e));
                    }
                }
            }
            // A short read took everything the socket held: with edge-triggered readiness,
            // whatever arrives later raises a new event, so the read that would only say
            // WouldBlock can be saved (a system call per request). Not after a hang-up,
            // whose end of stream has no later event to announce it (a hang-up seen while
            // this thread works sets `rerun` as well, and the loop in `serve` comes back).
            if n < buf.len() && !hup {
                return Served::Drained;
            }
        }
        Served::Yield
    }

    /// Closes a connection for good and tells the handler. `graceful`: first write what the
    /// socket takes of the pending output (a MessageError the handler just sent, say).
    fn close(&self, conn: &Arc<Conn>, cause: CloseCause, graceful: bool) {
        {
            let mut st = conn.state.lock();
            if st.closed {
                return;
            }
            st.closed = true;
            if st.closing.is_none() {
                st.closing = Some(cause.clone());
            }
            if graceful && !st.out.is_empty() {
                let _ = st.out.flush(|iov| conn.stream.write_vectored(iov));
            }
            st.out.clear();
        }
        let fd = conn.stream.raw_fd();
        // Deregistered before the slot can be reused, so its events cannot reach a newcomer.
        let _ = self.wake.registry.deregister(&mut SourceFd(&fd));
        conn.stream.shutdown();
        let removed = self.conns.lock().remove(conn.token.0 - self.first_conn);
        if removed.is_some() {
            self.handler.on_close(conn.id, &cause);
        }
    }

    /// The last thread out closes what is left.
    fn close_all(&self) {
        let conns: Vec<Arc<Conn>> = {
            let slab = self.conns.lock();
            slab.entries.iter().flatten().cloned().collect()
        };
        for c in conns {
            self.close(&c, CloseCause::Local, true);
        }
    }
}

enum Served {
    /// Everything the socket held was read and dispatched.
    Drained,
    /// The read budget ran out with more to read.
    Yield,
    Close(CloseCause),
}
