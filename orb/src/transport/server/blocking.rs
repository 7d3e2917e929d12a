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
use crate::transport::endpoint::Dialect;
use crate::transport::stream::{BlockingStream, MioStream};
use crate::transport::{CloseCause, TransportError};
use mio::{Events, Poll, Token, Waker};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    /// The server stopped reading it (see [`Conn::stop_reading`]).
    stopped: AtomicBool,
    allocator: AllocatorStrategy,
    pub(super) attachment: super::Attachment,
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
        if let Some(cause) = self.closed.lock().clone() {
            return Err(TransportError::Closed { sent: false, cause });
        }
        match self
            .stream
            .write_all_vectored(segments, Some(self.write_timeout))
        {
            Ok(()) => Ok(()),
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
        }
        drop(closed);
        self.stream.shutdown();
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed.lock().is_some()
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
        let t = std::thread::Builder::new()
            .name("rtorb-acceptor".into())
            .spawn(move || a.run(poll, listeners))
            .map_err(io_err("spawning the acceptor thread"))?;
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
        let conn = Arc::new(Conn {
            id: ConnectionId(self.next_id.fetch_add(1, Ordering::Relaxed)),
            dialect,
            peer,
            stream,
            write_timeout: self.options.write_timeout,
            write: Mutex::new(()),
            closed: Mutex::new(None),
            stopped: AtomicBool::new(false),
            allocator: self.options.allocator,
            attachment: super::Attachment::default(),
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
            .name(format!("rtorb-conn-{}", conn.id.0))
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

    fn serve(&self, conn: Arc<Conn>) {
        super::prepare_server_thread(self.options.allocator);
        let handle = ConnectionHandle {
            inner: HandleInner::Blocking(conn.clone()),
        };
        // A connection accepted while the server stops must still be closed.
        if self.stopping.load(Ordering::Acquire) {
            conn.close(CloseCause::Local);
        }
        self.handler.on_accept(&handle);
        let mut framer = conn
            .dialect
            .framer(self.options.max_message_size)
            .with_allocator(self.options.allocator);
        let mut buf = vec![0u8; READ_BUF];
        let cause = 'conn: loop {
            let n = match conn.stream.read(&mut buf) {
                Ok(0) => break CloseCause::PeerClosed,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break CloseCause::Io(e.kind()),
            };
            let mut input = &buf[..n];
            loop {
                match framer.next_message(&mut input) {
                    Ok(Some(frame)) => {
                        self.handler.on_frame(&handle, frame);
                        if conn.is_closed() {
                            break 'conn CloseCause::Local;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        self.handler.on_protocol_error(&handle, &e);
                        break 'conn CloseCause::Protocol(e);
                    }
                }
            }
        };
        self.handler.on_reading_ended(&handle);
        // A close asked for locally, or the server's stop, reads as an end of stream here:
        // report it as what it was.
        let cause = conn
            .closed
            .lock()
            .clone()
            .unwrap_or(if conn.stopped.load(Ordering::Acquire) {
                CloseCause::Local
            } else {
                cause
            });
        conn.close(cause.clone());
        self.conns.lock().remove(&conn.id);
        self.handler.on_close(conn.id, &cause);
    }
}
