//! [`Strategy::ThreadPerConnection`](super::Strategy::ThreadPerConnection): an acceptor thread
//! (on mio only so that shutdown can wake it) hands each connection to a thread of its own,
//! which blocks reading it and calls the handler; replies from any thread are written under a
//! lock on the socket, blocking at most the write timeout.
//!
//! Nothing is queued here: a peer that does not read makes its senders wait, and after the
//! write timeout its connection is closed.

use super::{
    Accepted, ConnectionHandle, ConnectionId, HandleInner, Handler, Listener, Segments,
    ServerOptions,
};
use crate::buffers::AllocatorStrategy;
use crate::giop::{Frame, Framer};
use crate::transport::endpoint::Dialect;
use crate::transport::stream::{BlockingStream, MioStream};
use crate::transport::{CloseCause, TransportError};
use mio::{Events, Poll, Token, Waker};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

const WAKER: Token = Token(usize::MAX);
const READ_BUF: usize = 64 * 1024;

/// A connection of a thread-per-connection server.
pub(crate) struct Conn {
    pub(super) id: ConnectionId,
    pub(super) dialect: Dialect,
    pub(super) peer: String,
    stream: BlockingStream,
    /// The socket's write timeout, which bounds each message's writing as a whole.
    write_timeout: Duration,
    /// Serialises writers so that messages are never interleaved.
    write: Mutex<()>,
    closed: Mutex<Option<CloseCause>>,
    /// Whether `closed` is set: looked at after every message, without its lock.
    is_closed: AtomicBool,
    /// The server stopped reading it (see [`Conn::stop_reading`]).
    stopped: AtomicBool,
    allocator: AllocatorStrategy,
    pub(super) attachment: super::Attachment,
    /// Held by the thread whose turn it is to read (the leader); its followers wait for it.
    reading: Mutex<Reading>,
    /// Threads started for this connection, at most [`ServerOptions::connection_threads`].
    started: AtomicUsize,
    /// Threads waiting for their turn to read.
    waiting: AtomicUsize,
    /// Threads not yet ended: the last one out closes the connection.
    alive: AtomicUsize,
    /// Whether its reading thread waits under `SCHED_BATCH` after reads of oneways only
    /// ([`ServerOptions::batch_oneway_readers`], with one thread per connection).
    batch_oneway_reads: bool,
    /// Something was written on it since its thread last read (see `oneway_wait`).
    answered: AtomicBool,
}

/// A connection's reading, which its threads take turns at.
struct Reading {
    framer: Framer,
    /// A socket's read buffer (a SHMIOP channel is framed in place, from its ring).
    buf: Vec<u8>,
    /// A SHMIOP channel's reading position, taken out of it: the turn at reading already
    /// serialises the reads, so a read takes no lock of the channel's as well.
    shm: Option<shmring::ReadCursor>,
    /// `buf[start..end]`: octets read and not framed yet.
    start: usize,
    end: usize,
    /// Why reading ended: once it is set, each thread that takes its turn ends instead.
    ended: Option<CloseCause>,
    /// Whole messages framed from the socket since its last read (see `oneway_wait`).
    framed: u32,
}

impl Conn {
    pub(super) fn send(&self, segments: Segments) -> Result<(), TransportError> {
        let sent = self.write(segments.as_slices());
        // Written or not, the buffers are done with: back to this thread's pool.
        segments.give_back(self.allocator);
        sent
    }

    fn write(&self, segments: &[Vec<u8>]) -> Result<(), TransportError> {
        let _w = self.write.lock();
        // The flag first: the cause's lock is taken only for a closed connection.
        if self.is_closed() {
            let cause = self.closed.lock().clone().unwrap_or(CloseCause::Local);
            return Err(TransportError::Closed { sent: false, cause });
        }
        match self
            .stream
            .write_all_vectored(segments, Some(self.write_timeout))
        {
            Ok(()) => {
                // Relaxed: a hint for the reader's next wait, nothing is published by it.
                self.answered.store(true, Ordering::Relaxed);
                Ok(())
            }
            Err((_, e)) => {
                // Part of a message may be out: the stream cannot carry another one.
                let cause = CloseCause::Io(e.kind());
                self.close(cause.clone());
                Err(TransportError::Closed { sent: false, cause })
            }
        }
    }

    /// Marks the connection closed and shuts the socket down; its reading thread sees the end
    /// of the stream, tells the handler and ends.
    pub(super) fn close(&self, cause: CloseCause) {
        let mut closed = self.closed.lock();
        if closed.is_none() {
            *closed = Some(cause);
            self.is_closed.store(true, Ordering::Release);
        }
        drop(closed);
        self.stream.shutdown();
    }

    pub(super) fn is_closed(&self) -> bool {
        self.is_closed.load(Ordering::Acquire)
    }

    /// What a stopping server does to a connection: its thread reads no further and closes
    /// it once its handler call under way, if any, has returned — so what that call still
    /// sends (its reply, the ORB's CloseConnection) goes out rather than meeting a closed
    /// connection.
    fn stop_reading(&self) {
        self.stopped.store(true, Ordering::Release);
        self.stream.shutdown_read();
    }
}

pub(crate) struct Acceptor {
    waker: Waker,
    stopping: AtomicBool,
    handler: Arc<dyn Handler>,
    options: ServerOptions,
    next_id: AtomicU64,
    conns: Mutex<HashMap<ConnectionId, Arc<Conn>>>,
    /// Connection threads, pruned of finished ones as new ones start.
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Acceptor {
    pub(super) fn start(
        mut listeners: Vec<(Listener, Dialect)>,
        handler: Arc<dyn Handler>,
        options: ServerOptions,
    ) -> Result<(Arc<Acceptor>, Vec<JoinHandle<()>>), TransportError> {
        let io_err = |what| move |source| TransportError::Io { what, source };
        let poll = Poll::new().map_err(io_err("creating the poll"))?;
        let waker = Waker::new(poll.registry(), WAKER).map_err(io_err("creating the waker"))?;
        for (i, (l, _)) in listeners.iter_mut().enumerate() {
            l.register(poll.registry(), Token(i))
                .map_err(io_err("registering a listener"))?;
        }
        let acceptor = Arc::new(Acceptor {
            waker,
            stopping: AtomicBool::new(false),
            handler,
            options,
            next_id: AtomicU64::new(1),
            conns: Mutex::new(HashMap::new()),
            threads: Mutex::new(Vec::new()),
        });
        let a = acceptor.clone();
        let (started, running) = std::sync::mpsc::channel();
        let t = std::thread::Builder::new()
            .name("rtorb-acceptor".into())
            .spawn(move || {
                super::prepare_waiting_thread();
                let _ = started.send(());
                a.run(poll, listeners)
            })
            .map_err(io_err("spawning the acceptor thread"))?;
        // Its start-up (its name, its place in the lock table) made before the server is said
        // to be ready, as the reactor's threads do theirs: one the system starts late would
        // make it in the middle of the first requests. (An error: it ended already.)
        let _ = running.recv();
        Ok((acceptor, vec![t]))
    }

    pub(super) fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        let _ = self.waker.wake();
    }

    /// Waits for every connection thread (after the acceptor ended, so no new ones start).
    pub(super) fn join_connections(&self) {
        let me = std::thread::current().id();
        let threads = std::mem::take(&mut *self.threads.lock());
        for t in threads {
            if t.thread().id() != me {
                let _ = t.join();
            }
        }
    }

    /// Connection threads still running.
    pub(super) fn connection_threads(&self) -> usize {
        self.threads
            .lock()
            .iter()
            .filter(|t| !t.is_finished())
            .count()
    }

    fn run(self: Arc<Self>, mut poll: Poll, listeners: Vec<(Listener, Dialect)>) {
        let mut events = Events::with_capacity(64);
        while !self.stopping.load(Ordering::Acquire) {
            match poll.poll(&mut events, None) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
            for ev in events.iter() {
                if let Some((l, dialect)) = listeners.get(ev.token().0) {
                    self.accept(l, *dialect);
                }
            }
        }
        // Listeners close with this thread; then every connection stops being read, which
        // ends its thread (and closes it) after the handler call it may be in.
        drop(listeners);
        let conns: Vec<Arc<Conn>> = {
            // Under the threads' lock, as `adopt` checks the flag: a connection is either
            // started before and stopped here, or never started.
            let _threads = self.threads.lock();
            self.stopping.store(true, Ordering::Release);
            self.conns.lock().values().cloned().collect()
        };
        for c in conns {
            c.stop_reading();
        }
    }

    fn accept(self: &Arc<Self>, listener: &Listener, dialect: Dialect) {
        loop {
            match listener.accept_next() {
                None => return,
                Some(Accepted::Ready(stream, peer)) => self.adopt(stream, peer, dialect),
                Some(Accepted::Shm(handshake)) => {
                    // Its segment may be late, or never come: not the acceptor's wait.
                    let me = self.clone();
                    let mut threads = self.threads.lock();
                    if self.stopping.load(Ordering::Acquire) {
                        continue;
                    }
                    let waiting =
                        handshake.finish_aside(move |stream, peer| me.adopt(stream, peer, dialect));
                    // Joined with the connections' threads, as one.
                    threads.extend(waiting);
                }
            }
        }
    }

    /// Starts a connection's thread.
    fn adopt(self: &Arc<Self>, stream: MioStream, peer: String, dialect: Dialect) {
        if self.conns.lock().len() >= self.options.max_connections {
            return;
        }
        let Ok(stream) = stream.into_blocking() else {
            return;
        };
        if stream
            .set_write_timeout(Some(self.options.write_timeout))
            .is_err()
        {
            return;
        }
        let shm = match &stream {
            BlockingStream::Shm(c) => c.take_read_cursor(),
            _ => None,
        };
        let conn = Arc::new(Conn {
            id: ConnectionId(self.next_id.fetch_add(1, Ordering::Relaxed)),
            dialect,
            peer,
            stream,
            write_timeout: self.options.write_timeout,
            write: Mutex::new(()),
            closed: Mutex::new(None),
            is_closed: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            allocator: self.options.allocator,
            attachment: super::Attachment::default(),
            reading: Mutex::new(Reading {
                framer: dialect
                    .framer(self.options.max_message_size)
                    .with_allocator(self.options.allocator),
                buf: Vec::new(),
                shm,
                start: 0,
                end: 0,
                ended: None,
                framed: 0,
            }),
            started: AtomicUsize::new(1),
            waiting: AtomicUsize::new(0),
            alive: AtomicUsize::new(1),
            batch_oneway_reads: self.options.batch_oneway_readers
                && self.options.connection_threads == 1,
            answered: AtomicBool::new(false),
        });
        // Under the threads' lock: a connection adopted once the server stopped (a SHMIOP
        // handshake that ended late) is not started, so none outlives `join_connections`.
        let mut threads = self.threads.lock();
        if self.stopping.load(Ordering::Acquire) {
            return;
        }
        self.conns.lock().insert(conn.id, conn.clone());
        let me = self.clone();
        let c = conn.clone();
        let spawned = std::thread::Builder::new()
            .name(self.handler.connection_thread_name(conn.id))
            .spawn(move || me.serve(c));
        threads.retain(|t| !t.is_finished());
        match spawned {
            Ok(t) => threads.push(t),
            Err(_) => {
                self.conns.lock().remove(&conn.id);
                conn.close(CloseCause::Local);
            }
        }
    }

    /// A connection's first thread: tells the handler of it, then takes turns reading.
    fn serve(self: Arc<Self>, conn: Arc<Conn>) {
        self.handler.on_connection_thread();
        super::prepare_server_thread(self.options.allocator);
        let handle = ConnectionHandle {
            inner: HandleInner::Blocking(conn.clone()),
        };
        // A connection accepted while the server stops must still be closed.
        if self.stopping.load(Ordering::Acquire) {
            conn.close(CloseCause::Local);
        }
        self.handler.on_accept(&handle);
        self.take_turns(&conn, &handle);
    }

    /// Starts another thread for `conn` if none waits to read and it has fewer than its
    /// limit (none once the server stops: the work at hand still runs, on the caller).
    fn add_follower(self: &Arc<Self>, conn: &Arc<Conn>) {
        if conn.waiting.load(Ordering::Acquire) > 0
            || conn.started.load(Ordering::Acquire) >= self.options.connection_threads
        {
            return;
        }
        let mut threads = self.threads.lock();
        // Checked again under the lock: two of the connection's threads may hand on at once.
        if self.stopping.load(Ordering::Acquire)
            || conn.started.load(Ordering::Acquire) >= self.options.connection_threads
        {
            return;
        }
        conn.started.fetch_add(1, Ordering::AcqRel);
        conn.alive.fetch_add(1, Ordering::AcqRel);
        let me = self.clone();
        let c = conn.clone();
        let spawned = std::thread::Builder::new()
            .name(self.handler.connection_thread_name(conn.id))
            .spawn(move || {
                me.handler.on_connection_thread();
                super::prepare_server_thread(me.options.allocator);
                let handle = ConnectionHandle {
                    inner: HandleInner::Blocking(c.clone()),
                };
                me.take_turns(&c, &handle);
            });
        match spawned {
            Ok(t) => threads.push(t),
            Err(_) => {
                // The connection goes on with the threads it has.
                conn.started.fetch_sub(1, Ordering::AcqRel);
                conn.alive.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }

    /// Reads `conn`'s messages and hands them to the handler, in turn with the connection's
    /// other threads, until reading ends; the last thread out closes the connection.
    fn take_turns(self: &Arc<Self>, conn: &Arc<Conn>, handle: &ConnectionHandle) {
        // With one thread per connection (the plain strategy) no follower is ever started:
        // nobody needs to know who waits, and nobody else takes the turn at reading, so the
        // thread keeps it from one message to the next rather than lock it for each.
        let followers = self.options.connection_threads > 1;
        let mut kept = None;
        loop {
            let mut reading = match kept.take() {
                Some(reading) => reading,
                None => {
                    if followers {
                        conn.waiting.fetch_add(1, Ordering::AcqRel);
                    }
                    let reading = conn.reading.lock();
                    if followers {
                        conn.waiting.fetch_sub(1, Ordering::AcqRel);
                    }
                    reading
                }
            };
            if reading.ended.is_some() {
                break;
            }
            let mut end = None;
            let Some(frame) = next_frame(conn, &mut reading, &mut end) else {
                match end {
                    Some(Ended::Protocol(e)) => {
                        self.handler.on_protocol_error(handle, &e);
                        reading.ended = Some(CloseCause::Protocol(e));
                    }
                    Some(Ended::Closed(cause)) => reading.ended = Some(cause),
                    None => {}
                }
                break;
            };
            let mut held = Some(reading);
            self.handler.on_frame_releasing(handle, frame, &mut || {
                if !followers {
                    return;
                }
                if let Some(reading) = held.take() {
                    drop(reading);
                    if !conn.is_closed() {
                        self.add_follower(conn);
                    }
                }
            });
            if conn.is_closed() {
                let mut reading = held.unwrap_or_else(|| conn.reading.lock());
                reading.ended.get_or_insert(CloseCause::Local);
                break;
            }
            kept = held.filter(|_| !followers);
        }
        if conn.alive.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.end_connection(conn, handle);
        }
    }

    /// What the last of a connection's threads does once reading ended: lets the handler
    /// finish with it, closes it and says so.
    fn end_connection(&self, conn: &Arc<Conn>, handle: &ConnectionHandle) {
        self.handler.on_reading_ended(handle);
        let ended = conn.reading.lock().ended.take();
        // A close asked for locally, or the server's stop, reads as an end of stream here:
        // report it as what it was.
        let cause = conn.closed.lock().clone().unwrap_or_else(|| {
            if conn.stopped.load(Ordering::Acquire) {
                CloseCause::Local
            } else {
                ended.unwrap_or(CloseCause::Local)
            }
        });
        conn.close(cause.clone());
        self.conns.lock().remove(&conn.id);
        self.handler.on_close(conn.id, &cause);
    }
}

/// Why a connection's reading ended.
enum Ended {
    Closed(CloseCause),
    Protocol(crate::giop::GiopError),
}

/// The connection's next whole message: from what was read already, else read for. Framed
/// one at a time, each into a buffer of the thread's pool when it is taken: a read of many
/// small messages (a burst of oneways) does not allocate them all at once. A SHMIOP channel
/// lends its ring instead of a read buffer, and keeps what is not framed yet.
fn next_frame(conn: &Conn, reading: &mut Reading, end: &mut Option<Ended>) -> Option<Frame> {
    // The frame comes back alone and the reason reading ended, if it did, beside it: a
    // result of either was a union copied as a whole on every frame, across fields the
    // framer had just written one by one (a store-forwarding stall per message).
    let Reading {
        framer,
        buf,
        shm,
        start,
        end: read_end,
        framed: framed_since_read,
        ..
    } = reading;
    loop {
        if *start < *read_end {
            let mut input = &buf[*start..*read_end];
            let next = framer.next_message(&mut input);
            *start = *read_end - input.len();
            match next {
                Ok(Some(frame)) => {
                    *framed_since_read = framed_since_read.saturating_add(1);
                    return Some(frame);
                }
                Ok(None) => {}
                Err(e) => {
                    *end = Some(Ended::Protocol(e));
                    return None;
                }
            }
        }
        let read = match (&conn.stream, shm.as_mut()) {
            (BlockingStream::Shm(ring), Some(cursor)) => {
                let mut next = Ok(None);
                let read = ring.read_in_place_at(cursor, |input| {
                    let mut rest = input;
                    next = framer.next_message(&mut rest);
                    input.len() - rest.len()
                });
                if let Ok(1..) = read {
                    match next {
                        Ok(Some(frame)) => return Some(frame),
                        Ok(None) => {}
                        Err(e) => {
                            *end = Some(Ended::Protocol(e));
                            return None;
                        }
                    }
                }
                read
            }
            (stream, _) => {
                if buf.is_empty() {
                    buf.resize(READ_BUF, 0);
                }
                if conn.batch_oneway_reads {
                    let answered = conn.answered.swap(false, Ordering::Relaxed);
                    super::oneway_wait::before_read(answered, std::mem::take(framed_since_read));
                }
                let read = stream.read(buf);
                (*start, *read_end) = (0, *read.as_ref().unwrap_or(&0));
                read
            }
        };
        match read {
            Ok(0) => {
                *end = Some(Ended::Closed(CloseCause::PeerClosed));
                return None;
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                *end = Some(Ended::Closed(CloseCause::Io(e.kind())));
                return None;
            }
        }
    }
}
