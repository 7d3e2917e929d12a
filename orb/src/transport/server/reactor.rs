//! The mio reactor behind [`Strategy::Reactive`](super::Strategy::Reactive) (one thread),
//! [`Strategy::ThreadPool`](super::Strategy::ThreadPool) (leader/followers) and
//! [`Strategy::Adaptive`](super::Strategy::Adaptive) (leader/followers with as many threads
//! as its [`Crew`] decides, from one up).
//!
//! Threads take turns being the leader: the leader owns the `Poll`, turns readiness into
//! work items, takes the first for itself and lets go of the leadership, so a follower polls
//! (or takes the next item) while the former leader reads the connection and runs the handler
//! on the same thread — no queue between reading and running. With one thread this is the
//! plain reactor.
//!
//! A connection is served by one thread at a time: a thread that finds it busy leaves a note
//! (`rerun`) and the busy thread goes round once more before it lets go. This is the
//! leader/followers "suspended handle", without the `epoll_ctl` calls of really suspending it.
//!
//! Writes need no reactor: any thread sending on a connection writes to the socket itself,
//! under the connection's lock, when nothing is queued before it (so a reply from the reactor
//! thread or a pool thread goes out in the call that sends it); only what the socket does not
//! take is queued, and only then is the connection registered for writability. Closing from
//! another thread is the one thing that wakes the reactor, through the `mio::Waker`.

use super::adaptive::{AdaptivePolicy, Crew, Slot};
use super::{
    Accepted, ConnectionHandle, ConnectionId, HandleInner, Handler, Listener, Segments,
    ServerOptions,
};
use crate::giop::Framer;
use crate::transport::endpoint::Dialect;
use crate::transport::stream::{MioStream, OutQueue};
use crate::transport::{CloseCause, TransportError};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token, Waker};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{JoinHandle, ThreadId};

const WAKER: Token = Token(0);
const FIRST_LISTENER: usize = 1;

/// Size of each thread's read buffer: a cube_long request is ~100 octets, a 64 KiB read
/// drains a loopback socket buffer in a few calls.
const READ_BUF: usize = 64 * 1024;

/// Reads one connection may do before its thread turns to other ready connections (the rest
/// is picked up again later): a peer streaming requests cannot starve the others.
const READ_BUDGET: usize = 16;

/// What a thread found to do.
#[derive(Debug)]
enum Work {
    Accept(usize),
    /// A connection accepted elsewhere (a SHMIOP client's, once its segment came), to serve.
    Adopt(MioStream, String, Dialect),
    Conn {
        token: Token,
        readable: bool,
        writable: bool,
        /// The peer closed or the socket has an error: read until end of stream.
        hup: bool,
    },
}

/// What wakes the reactor from another thread, shared with every connection.
#[derive(Debug)]
pub(crate) struct Wake {
    registry: Registry,
    waker: Waker,
    /// Connections closed from outside the reactor, to be cleaned up by it.
    closing: Mutex<Vec<Token>>,
    /// Connections accepted outside the reactor (SHMIOP handshakes), to be served by it.
    adopted: Mutex<Vec<(MioStream, String, Dialect)>>,
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

struct Leader {
    poll: Poll,
    events: Events,
}

pub(crate) struct Reactor {
    /// Followers wait here; the holder is the leader.
    leader: Mutex<Leader>,
    /// Work polled and not yet taken, or handed back. Apart from the leader's lock, which the
    /// leader holds while it blocks in `poll`.
    pending: Mutex<VecDeque<Work>>,
    wake: Arc<Wake>,
    /// Emptied (the sockets closed) when the server stops: a stopped server must refuse
    /// connections, not leave them in the backlog unanswered.
    listeners: Mutex<Vec<(Listener, Dialect)>>,
    conns: Mutex<Slab>,
    handler: Arc<dyn Handler>,
    options: ServerOptions,
    stopping: AtomicBool,
    next_id: AtomicU64,
    running: AtomicUsize,
    first_conn: usize,
    /// Adaptive: the threads, grown and shrunk as the load needs; `None` for a fixed count.
    crew: Option<Crew>,
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
    /// A reactive server (`threads` 1) or a leader/followers pool.
    pub(super) fn start(
        listeners: Vec<(Listener, Dialect)>,
        threads: usize,
        handler: Arc<dyn Handler>,
        options: ServerOptions,
    ) -> Result<(Arc<Reactor>, Vec<JoinHandle<()>>), TransportError> {
        let reactor = Reactor::new(listeners, threads, None, handler, options)?;
        let mut handles = Vec::with_capacity(threads);
        let ready = Arc::new(ThreadsReady::default());
        for i in 0..threads {
            let spawned = reactor.spawn_worker(format!("rtorb-reactor-{i}"), Some(&ready), None);
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

    /// An adaptive server: one thread, and the monitor that adds and retires others (see
    /// [`super::adaptive`]). Its threads are the crew's, joined by [`Reactor::join_crew`].
    pub(super) fn start_adaptive(
        listeners: Vec<(Listener, Dialect)>,
        policy: AdaptivePolicy,
        handler: Arc<dyn Handler>,
        options: ServerOptions,
    ) -> Result<(Arc<Reactor>, Vec<JoinHandle<()>>), TransportError> {
        let reactor = Reactor::new(listeners, 0, Some(Crew::new(policy)), handler, options)?;
        let crew = reactor
            .crew
            .as_ref()
            .expect("an adaptive reactor has a crew");
        let ready = Arc::new(ThreadsReady::default());
        let first = crew.enlist(&|slot| {
            reactor.running.fetch_add(1, Ordering::AcqRel);
            reactor
                .spawn_worker("rtorb-adaptive".into(), Some(&ready), Some(slot))
                .inspect_err(|_| {
                    reactor.running.fetch_sub(1, Ordering::AcqRel);
                })
        });
        let monitor = first.and_then(|()| {
            let r = reactor.clone();
            let ready = ready.clone();
            std::thread::Builder::new()
                .name("rtorb-adapt-mon".into())
                .spawn(move || {
                    // Its start-up allocations made before the server is said to be ready.
                    super::prepare_waiting_thread();
                    ready.one_more();
                    r.monitor();
                })
        });
        match monitor {
            Ok(h) => crew.keep_handle(h),
            Err(e) => {
                reactor.stop();
                reactor.join_crew();
                return Err(TransportError::Io {
                    what: "spawning an adaptive server's thread",
                    source: e,
                });
            }
        }
        // The first serving thread and the monitor.
        ready.wait_for(2);
        Ok((reactor, Vec::new()))
    }

    /// The adaptive server's monitor thread (see [`Crew::monitor`]).
    fn monitor(self: Arc<Self>) {
        let Some(crew) = &self.crew else { return };
        let spawn = |slot: Arc<Slot>| {
            self.running.fetch_add(1, Ordering::AcqRel);
            self.spawn_worker("rtorb-adaptive".into(), None, Some(slot))
                .inspect_err(|_| {
                    self.running.fetch_sub(1, Ordering::AcqRel);
                })
        };
        crew.monitor(&spawn, &|| {
            // If the wake fails the poll is gone: the threads are already out.
            let _ = self.wake.waker.wake();
        });
    }

    fn spawn_worker(
        self: &Arc<Self>,
        name: String,
        ready: Option<&Arc<ThreadsReady>>,
        slot: Option<Arc<Slot>>,
    ) -> io::Result<JoinHandle<()>> {
        let r = self.clone();
        let ready = ready.cloned();
        std::thread::Builder::new()
            .name(name)
            .spawn(move || r.run(ready.as_deref(), slot))
    }

    fn new(
        mut listeners: Vec<(Listener, Dialect)>,
        threads: usize,
        crew: Option<Crew>,
        handler: Arc<dyn Handler>,
        options: ServerOptions,
    ) -> Result<Arc<Reactor>, TransportError> {
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
            leader: Mutex::new(Leader {
                poll,
                events: Events::with_capacity(256),
            }),
            pending: Mutex::new(VecDeque::new()),
            wake: Arc::new(Wake {
                registry,
                waker,
                closing: Mutex::new(Vec::new()),
                adopted: Mutex::new(Vec::new()),
            }),
            listeners: Mutex::new(listeners),
            conns: Mutex::new(Slab::default()),
            handler,
            options,
            stopping: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
            running: AtomicUsize::new(threads),
            first_conn,
            crew,
        });
        Ok(reactor)
    }

    pub(super) fn stop(&self) {
        // The crew first: no thread is started once the others may have seen the flag.
        if let Some(crew) = &self.crew {
            crew.stop();
        }
        self.stopping.store(true, Ordering::Release);
        // If the wake fails the poll is gone: the threads are already out.
        let _ = self.wake.waker.wake();
    }

    /// Waits for an adaptive server's threads, but the caller's own (after [`Reactor::stop`]).
    pub(super) fn join_crew(&self) {
        let Some(crew) = &self.crew else { return };
        let me = std::thread::current().id();
        for t in crew.take_handles() {
            if t.thread().id() != me {
                // A handler that panicked already lost its thread; the server has stopped.
                let _ = t.join();
            }
        }
    }

    pub(super) fn is_crew_thread(&self, id: ThreadId) -> bool {
        self.crew.as_ref().is_some_and(|c| c.is_member(id))
    }

    pub(super) fn serving_threads(&self) -> usize {
        match &self.crew {
            Some(crew) => crew.threads(),
            None => self.running.load(Ordering::Acquire),
        }
    }

    /// A serving thread: `slot` is its place in an adaptive server's crew.
    fn run(self: Arc<Self>, ready: Option<&ThreadsReady>, slot: Option<Arc<Slot>>) {
        super::prepare_server_thread(self.options.allocator);
        if let Some(slot) = &slot {
            slot.set_thread();
        }
        let mut buf = vec![0u8; READ_BUF];
        if let Some(ready) = ready {
            ready.one_more();
        }
        let crewed = self.crew.as_ref().zip(slot.as_ref());
        while let Some(work) = self.next_work(crewed) {
            if let Some((crew, slot)) = crewed {
                crew.begin(slot);
            }
            self.process(work, &mut buf);
            if let Some((crew, slot)) = crewed {
                crew.end(slot);
            }
        }
        if self.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.close_all();
        }
    }

    /// Becomes the leader (waiting behind the others), takes queued work or polls for some,
    /// and gives up the leadership by returning. `None`: the server stops, or (`crewed`) this
    /// thread is not needed any more.
    fn next_work(&self, crewed: Option<(&Crew, &Arc<Slot>)>) -> Option<Work> {
        let mut lead = self.leader.lock();
        loop {
            if self.stopping.load(Ordering::Acquire) {
                // Wake the next follower so it sees the flag too.
                let _ = self.wake.waker.wake();
                return None;
            }
            if let Some((crew, slot)) = crewed {
                if crew.retire(slot) {
                    // The leadership passes to a follower, if any is waiting; the work queued
                    // stays queued for it (or, if every other thread is in a handler, for the
                    // one the monitor starts when they have been there a tick).
                    return None;
                }
            }
            if let Some(w) = self.pending.lock().pop_front() {
                return Some(w);
            }
            let Leader { poll, events } = &mut *lead;
            match poll.poll(events, None) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    // The poll itself failed: nothing can be served any more.
                    self.stopping.store(true, Ordering::Release);
                    continue;
                }
            }
            let mut pending = self.pending.lock();
            for ev in events.iter() {
                let t = ev.token();
                if t == WAKER {
                    for (stream, peer, dialect) in self.wake.adopted.lock().drain(..) {
                        pending.push_back(Work::Adopt(stream, peer, dialect));
                    }
                    for token in self.wake.closing.lock().drain(..) {
                        pending.push_back(Work::Conn {
                            token,
                            readable: false,
                            writable: false,
                            hup: false,
                        });
                    }
                } else if t.0 < self.first_conn {
                    pending.push_back(Work::Accept(t.0 - FIRST_LISTENER));
                } else {
                    pending.push_back(Work::Conn {
                        token: t,
                        readable: ev.is_readable(),
                        writable: ev.is_writable(),
                        hup: ev.is_read_closed() || ev.is_error(),
                    });
                }
            }
        }
    }

    fn process(&self, work: Work, buf: &mut [u8]) {
        match work {
            Work::Accept(i) => self.accept(i),
            Work::Adopt(stream, peer, dialect) => self.adopt(stream, peer, dialect),
            Work::Conn {
                token,
                readable,
                writable,
                hup,
            } => {
                let Some(conn) = self.conns.lock().get(token.0 - self.first_conn).cloned() else {
                    // A connection closed since the event was polled.
                    return;
                };
                // A SHMIOP peer that frees room in a full ring rings the socket: readable.
                if writable || (readable && conn.stream.writable_when_readable()) {
                    conn.on_writable();
                }
                if readable || hup || conn.is_closing() {
                    self.serve(&conn, hup, buf);
                }
            }
        }
    }

    fn accept(&self, i: usize) {
        loop {
            let accepted = {
                let listeners = self.listeners.lock();
                let Some((listener, dialect)) = listeners.get(i) else {
                    // Closed: the server stopped.
                    return;
                };
                listener.accept_next().map(|a| (a, *dialect))
            };
            match accepted {
                None => return,
                Some((Accepted::Ready(stream, peer), dialect)) => {
                    self.adopt(stream, peer, dialect);
                }
                Some((Accepted::Shm(handshake), dialect)) => {
                    // Its segment may be late, or never come: not this thread's wait.
                    let wake = self.wake.clone();
                    handshake.finish_aside(move |stream, peer| {
                        wake.adopted.lock().push((stream, peer, dialect));
                        // If the wake fails the poll is gone: the server stopped.
                        let _ = wake.waker.wake();
                    });
                }
            }
        }
    }

    /// Starts serving an accepted connection.
    fn adopt(&self, stream: MioStream, peer: String, dialect: Dialect) {
        let mut conns = self.conns.lock();
        if conns.len >= self.options.max_connections {
            drop(stream);
            return;
        }
        let slot = conns.vacant();
        let token = Token(self.first_conn + slot);
        // Born busy: the handler hears of the connection (`on_accept`) before any thread
        // can serve it; readiness meanwhile leaves a `rerun` note.
        let conn = Arc::new(Conn {
            id: ConnectionId(self.next_id.fetch_add(1, Ordering::Relaxed)),
            dialect,
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
        if let Err(e) = self
            .wake
            .registry
            .register(&mut SourceFd(&fd), token, Interest::READABLE)
        {
            self.close(&conn, CloseCause::Io(e.kind()), false);
            return;
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
            self.requeue(conn.token);
        }
    }

    /// Queues a connection to be read again and wakes the leader to see it: it may be
    /// blocked in `poll`, with nothing else to wake it.
    fn requeue(&self, token: Token) {
        self.pending.lock().push_back(Work::Conn {
            token,
            readable: true,
            writable: false,
            hup: false,
        });
        // If the wake fails the poll is gone: the server stopped.
        let _ = self.wake.waker.wake();
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
                    self.requeue(conn.token);
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
        self.listeners.lock().clear();
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
