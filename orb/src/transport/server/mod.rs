//! The server side: listeners, accepted connections, and the four ways of giving their
//! messages threads to run on ([`Strategy`]).
//!
//! Whatever the strategy, a connection's messages reach the [`Handler`] one at a time and in
//! the order they arrived, each as a whole [`Frame`]; replies go back through the
//! [`ConnectionHandle`], which any thread may hold and use. A peer that breaks the framing is
//! told to the handler and then disconnected; every other connection goes on being served.

mod adaptive;
mod blocking;
mod oneway_wait;
mod reactor;

pub use adaptive::AdaptivePolicy;

use super::endpoint::{Dialect, Endpoint};
use super::{CloseCause, TransportError};
use crate::buffers::{self, AllocatorStrategy};
use crate::cdr::ByteOrder;
use crate::giop::{Frame, Framer, GiopError};
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::{self, JoinHandle, ThreadId};
use std::time::Duration;

/// What the server does with the messages it receives.
///
/// Called from the server's threads; under [`Strategy::Reactive`] every call for every
/// connection comes from the one reactor thread, so a handler that blocks stalls the whole
/// server — use a pool, adaptive or thread-per-connection for servants that block.
pub trait Handler: Send + Sync + 'static {
    /// A whole message (fragments already joined) arrived on `conn`. Messages of one
    /// connection are delivered one at a time, in order.
    fn on_frame(&self, conn: &ConnectionHandle, frame: Frame);

    /// [`Handler::on_frame`], for a thread-per-connection server whose connections have
    /// several threads ([`ServerOptions::connection_threads`]): they take turns reading, and
    /// `release` hands the reading on to another of them. A handler calls it once it has done
    /// what must happen in the connection's order, before work that may run alongside the
    /// connection's next messages (a request's upcall), which then stays on this thread — the
    /// thread that read the message runs it, with no queue between. Without a call to
    /// `release`, the next message waits for this one, as with [`Handler::on_frame`] (the
    /// default, which never releases).
    fn on_frame_releasing(&self, conn: &ConnectionHandle, frame: Frame, release: &mut dyn FnMut()) {
        let _ = release;
        self.on_frame(conn, frame);
    }

    /// Called first on every thread a thread-per-connection server starts for a connection,
    /// before it reads: for a handler that gives its threads a priority, say.
    fn on_connection_thread(&self) {}

    /// The name of the threads of a thread-per-connection server's connection `id`.
    fn connection_thread_name(&self, id: ConnectionId) -> String {
        format!("rtorb-conn-{}", id.0)
    }

    /// A connection was accepted; called before any of its frames.
    fn on_accept(&self, conn: &ConnectionHandle) {
        let _ = conn;
    }

    /// The peer broke the protocol; the connection is closed when this returns. Whatever
    /// the handler sends from here (a GIOP MessageError, typically) is written before the
    /// close if the socket takes it without blocking.
    fn on_protocol_error(&self, conn: &ConnectionHandle, error: &GiopError) {
        let _ = (conn, error);
    }

    /// A thread-per-connection connection reads no more (its peer closed it, or the server
    /// stops); it is closed when this returns. A handler that hands requests to threads of
    /// its own waits here for those it has in hand, so that their replies go out before the
    /// close.
    fn on_reading_ended(&self, conn: &ConnectionHandle) {
        let _ = conn;
    }

    /// The connection is closed; no more calls for it follow.
    fn on_close(&self, conn: ConnectionId, cause: &CloseCause) {
        let _ = (conn, cause);
    }
}

/// Identifies a connection for the life of its server (never reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "connection {}", self.0)
    }
}

/// How a server gives its connections threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// One thread runs the reactor and calls the handler: no locking hand-offs, the lowest
    /// latency, and one request at a time for the whole server.
    Reactive,
    /// Leader/followers over the reactor: `threads` threads take turns polling; the one that
    /// wakes with work promotes a follower to poll and serves the connection itself, so there
    /// is no queue between the thread that reads and the one that runs the handler. A
    /// connection is served by one thread at a time, in order.
    ThreadPool { threads: usize },
    /// The reactor on one thread while handlers return quickly, growing into leader/followers
    /// when they do not: whenever every thread has been inside one piece of work (a handler
    /// call, typically) for a whole [`AdaptivePolicy::promote_after`], one more thread is
    /// started to poll, up to [`AdaptivePolicy::max_threads`]; threads not needed for a whole
    /// [`AdaptivePolicy::retire_after`] end, down to one. See [`AdaptivePolicy`].
    Adaptive(AdaptivePolicy),
    /// One blocking thread per accepted connection, reading its messages and calling the
    /// handler; replies from other threads go through a lock on the socket.
    ThreadPerConnection,
}

/// Limits and tuning of a [`Server`].
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// The largest message accepted, header and fragments included; a peer announcing more
    /// is disconnected as soon as its header is read.
    pub max_message_size: usize,
    /// Octets a reactor connection may have waiting to be written. A peer that does not read
    /// its replies makes them pile up; past this limit the send fails with
    /// [`TransportError::OutputLimit`] and the connection is closed. Defaults to twice the
    /// default message size limit, so one whole largest reply always fits behind another.
    pub max_pending_output: usize,
    /// Thread-per-connection: how long one write may block on a peer that does not read
    /// before the connection is closed (the sender's thread is what buffers there).
    pub write_timeout: Duration,
    /// Connections accepted beyond this many are closed at once.
    pub max_connections: usize,
    /// Where the buffers of received messages come from, and where those of sent ones go
    /// once written (see [`crate::buffers`]).
    pub allocator: AllocatorStrategy,
    /// Thread-per-connection: at most this many threads per connection (1 to 256, default
    /// 1), which take turns reading it (leader/followers): a thread that reads a message
    /// the handler lets run alongside the next ([`Handler::on_frame_releasing`]) hands the
    /// reading to a waiting follower — starting one, up to this many, if none waits — and
    /// runs it. So up to this many of one connection's requests run at once.
    pub connection_threads: usize,
    /// Thread-per-connection, one thread per connection: a connection thread whose last few
    /// reads brought only messages it answered nothing to (oneways) waits for the next under
    /// `SCHED_BATCH`, so that its client's sends do not each preempt the client, and goes
    /// back to `SCHED_OTHER` when it answers again (see `oneway_wait`). Default on; an
    /// RT-CORBA server with lanes turns it off.
    pub batch_oneway_readers: bool,
}

impl ServerOptions {
    pub const DEFAULT_MAX_PENDING_OUTPUT: usize = 2 * Framer::DEFAULT_MAX_MESSAGE_SIZE;
    pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
    pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            max_message_size: Framer::DEFAULT_MAX_MESSAGE_SIZE,
            max_pending_output: ServerOptions::DEFAULT_MAX_PENDING_OUTPUT,
            write_timeout: ServerOptions::DEFAULT_WRITE_TIMEOUT,
            max_connections: ServerOptions::DEFAULT_MAX_CONNECTIONS,
            allocator: AllocatorStrategy::ThreadLocal,
            connection_threads: 1,
            batch_oneway_readers: true,
        }
    }
}

/// One endpoint to listen on and the framing its connections speak.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ListenerSpec {
    pub endpoint: Endpoint,
    pub dialect: Dialect,
}

impl ListenerSpec {
    /// Plain GIOP, what every ORB speaks.
    pub fn giop(endpoint: Endpoint) -> ListenerSpec {
        ListenerSpec {
            endpoint,
            dialect: Dialect::Giop,
        }
    }

    /// GIOP-lite in byte order `order`, for rtorb clients configured for it.
    pub fn lite(endpoint: Endpoint, order: ByteOrder) -> ListenerSpec {
        ListenerSpec {
            endpoint,
            dialect: Dialect::Lite(order),
        }
    }
}

impl From<Endpoint> for ListenerSpec {
    fn from(endpoint: Endpoint) -> ListenerSpec {
        ListenerSpec::giop(endpoint)
    }
}

/// A running server. Dropping it shuts it down and waits for its threads.
pub struct Server {
    endpoints: Vec<ListenerSpec>,
    inner: Inner,
    threads: parking_lot::Mutex<Vec<JoinHandle<()>>>,
    thread_ids: Vec<ThreadId>,
    unix_paths: Vec<PathBuf>,
}

enum Inner {
    Reactor(Arc<reactor::Reactor>),
    Blocking(Arc<blocking::Acceptor>),
}

impl Server {
    /// Listens on every endpoint and starts serving with `strategy`.
    ///
    /// Port 0 takes an ephemeral port; [`Server::endpoints`] tells the ones bound. A Unix
    /// socket path must not exist yet; the server removes the socket file when it shuts down.
    pub fn bind<H: Handler>(
        listeners: &[ListenerSpec],
        strategy: Strategy,
        handler: Arc<H>,
        options: ServerOptions,
    ) -> Result<Server, TransportError> {
        let handler: Arc<dyn Handler> = handler;
        let mut bound = Vec::with_capacity(listeners.len());
        let mut endpoints = Vec::with_capacity(listeners.len());
        let mut unix_paths = Vec::new();
        for spec in listeners {
            let (listener, endpoint) = match Listener::bind(&spec.endpoint) {
                Ok(l) => l,
                Err(e) => {
                    remove_socket_files(&unix_paths);
                    return Err(e);
                }
            };
            if let Endpoint::Uiop { path } | Endpoint::Shmiop { path } = &endpoint {
                unix_paths.push(path.clone());
            }
            bound.push((listener, spec.dialect));
            endpoints.push(ListenerSpec {
                endpoint,
                dialect: spec.dialect,
            });
        }
        let started = match strategy {
            Strategy::Reactive => reactor::Reactor::start(bound, 1, handler, options)
                .map(|(r, t)| (Inner::Reactor(r), t)),
            Strategy::ThreadPool { threads } => {
                reactor::Reactor::start(bound, threads.max(1), handler, options)
                    .map(|(r, t)| (Inner::Reactor(r), t))
            }
            Strategy::Adaptive(policy) => {
                reactor::Reactor::start_adaptive(bound, policy, handler, options)
                    .map(|(r, t)| (Inner::Reactor(r), t))
            }
            Strategy::ThreadPerConnection => blocking::Acceptor::start(bound, handler, options)
                .map(|(a, t)| (Inner::Blocking(a), t)),
        };
        let (inner, threads) = match started {
            Ok(s) => s,
            Err(e) => {
                remove_socket_files(&unix_paths);
                return Err(e);
            }
        };
        Ok(Server {
            endpoints,
            inner,
            thread_ids: threads.iter().map(|t| t.thread().id()).collect(),
            threads: parking_lot::Mutex::new(threads),
            unix_paths,
        })
    }

    /// The endpoints listened on, with the ports actually bound.
    pub fn endpoints(&self) -> &[ListenerSpec] {
        &self.endpoints
    }

    /// Stops accepting, closes every connection (each handler gets `on_close`) and, if
    /// `wait`, waits until every server thread has finished — including the threads of
    /// thread-per-connection servers and any handler call in progress. Called from one of the
    /// server's own threads, it does not wait for that one. Calling it again does nothing.
    pub fn shutdown(&self, wait: bool) {
        match &self.inner {
            Inner::Reactor(r) => r.stop(),
            Inner::Blocking(a) => a.stop(),
        }
        // New connects fail from here on, whether or not we wait for the threads.
        remove_socket_files(&self.unix_paths);
        if !wait {
            return;
        }
        let me = thread::current().id();
        let threads = std::mem::take(&mut *self.threads.lock());
        for t in threads {
            if t.thread().id() != me {
                // A handler that panicked already lost its thread; the server has stopped.
                let _ = t.join();
            }
        }
        match &self.inner {
            Inner::Blocking(a) => a.join_connections(),
            Inner::Reactor(r) => r.join_crew(),
        }
    }

    /// Whether the calling thread is one of this server's reactor or acceptor threads.
    pub fn is_server_thread(&self) -> bool {
        let me = thread::current().id();
        self.thread_ids.contains(&me)
            || matches!(&self.inner, Inner::Reactor(r) if r.is_crew_thread(me))
    }

    /// How many threads serve connections now (reactor or pool threads, an adaptive server's
    /// current crew, the acceptor and connection threads of thread per connection), for
    /// monitoring; an adaptive server's monitor thread is not counted.
    pub fn serving_threads(&self) -> usize {
        match &self.inner {
            Inner::Reactor(r) => r.serving_threads(),
            Inner::Blocking(a) => 1 + a.connection_threads(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown(true);
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

fn remove_socket_files(paths: &[PathBuf]) {
    for p in paths {
        // Already gone is fine: someone cleaned up before us.
        let _ = std::fs::remove_file(p);
    }
}

/// A bound listening socket.
#[derive(Debug)]
enum Listener {
    Tcp(mio::net::TcpListener),
    Unix(mio::net::UnixListener),
    /// SHMIOP: a Unix socket whose connections set up shared-memory rings.
    Shm(mio::net::UnixListener),
}

/// A connection just accepted.
enum Accepted {
    /// Ready to serve, with its peer's description.
    Ready(super::stream::MioStream, String),
    /// A SHMIOP client whose shared segment is still to come.
    Shm(ShmHandshake),
}

/// SHMIOP connections accepted whose clients have not sent their segments yet, at most: each
/// waits on a thread of its own (up to [`super::stream::SHM_HANDSHAKE_TIMEOUT`]), so that a
/// client that connects and never sends holds up no other connection.
const MAX_SHM_HANDSHAKES: usize = 64;

/// A SHMIOP connection waiting for its client's segment (sent with `SCM_RIGHTS` right after
/// connecting), holding one of the [`MAX_SHM_HANDSHAKES`] places while it waits.
struct ShmHandshake {
    socket: std::os::unix::net::UnixStream,
    _slot: HandshakeSlot,
}

/// One place among the [`MAX_SHM_HANDSHAKES`], given back when dropped.
struct HandshakeSlot;

static SHM_HANDSHAKES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Drop for HandshakeSlot {
    fn drop(&mut self) {
        SHM_HANDSHAKES.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

impl ShmHandshake {
    fn slot() -> Option<HandshakeSlot> {
        use std::sync::atomic::Ordering;
        SHM_HANDSHAKES
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_SHM_HANDSHAKES).then_some(n + 1)
            })
            .ok()
            .map(|_| HandshakeSlot)
    }

    /// Waits for the client's segment and maps it; `None` (said in the log) if it does not
    /// come in time or is not a proper segment. Blocks: call it on a thread of its own.
    fn finish(self) -> Option<(super::stream::MioStream, String)> {
        let channel = shmring::Channel::accept(self.socket, super::stream::SHM_HANDSHAKE_TIMEOUT)
            .and_then(|c| c.set_nonblocking(true).map(|()| c));
        match channel {
            Ok(c) => Some((
                super::stream::MioStream::Shm(c),
                "shared-memory peer".to_owned(),
            )),
            Err(e) => {
                tracing::warn!(target: "orb::connection", error = %e,
                    "SHMIOP client refused: its shared segment could not be set up");
                None
            }
        }
    }

    /// Finishes the handshake on a thread of its own, handing the connection to `adopt`.
    /// Without a thread to be had the connection is dropped, as when descriptors run out.
    fn finish_aside(
        self,
        adopt: impl FnOnce(super::stream::MioStream, String) + Send + 'static,
    ) -> Option<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name("rtorb-shm-handshake".into())
            .spawn(move || {
                if let Some((stream, peer)) = self.finish() {
                    adopt(stream, peer);
                }
            })
            .ok()
    }
}

/// A fresh socket path for a `giop:shm:` endpoint given without one.
fn fresh_shm_path() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("rtorb-shm-{}-{n}.sock", std::process::id()))
}

/// How many fresh paths a `giop:shm:` endpoint tries before it gives up.
const FRESH_PATH_TRIES: usize = 64;

/// Binds the first of the paths `next` makes that is free. A fresh path can be taken: a
/// process killed before it removed its socket leaves it behind, and a later process with the
/// same id makes the same names. Such a file is not removed (another process, of another pid
/// namespace sharing the directory, may still listen there): the next name is tried instead.
fn bind_fresh(mut next: impl FnMut() -> PathBuf) -> io::Result<(mio::net::UnixListener, PathBuf)> {
    let mut tries = 0;
    loop {
        let path = next();
        match mio::net::UnixListener::bind(&path) {
            Ok(l) => return Ok((l, path)),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse && tries + 1 < FRESH_PATH_TRIES => {
                tries += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

impl Listener {
    fn bind(endpoint: &Endpoint) -> Result<(Listener, Endpoint), TransportError> {
        let err = |source: io::Error| TransportError::Bind {
            endpoint: endpoint.to_string(),
            source,
        };
        match endpoint {
            Endpoint::Iiop { host, port } => {
                let addrs = Endpoint::socket_addrs(host, *port).map_err(err)?;
                let mut last = io::Error::new(io::ErrorKind::NotFound, "host has no address");
                for addr in addrs {
                    match mio::net::TcpListener::bind(addr) {
                        Ok(l) => {
                            let local = l.local_addr().map_err(err)?;
                            return Ok((Listener::Tcp(l), Endpoint::tcp(local)));
                        }
                        Err(e) => last = e,
                    }
                }
                Err(err(last))
            }
            Endpoint::Uiop { path } => {
                let l = mio::net::UnixListener::bind(path).map_err(err)?;
                Ok((Listener::Unix(l), endpoint.clone()))
            }
            Endpoint::Shmiop { path } => {
                let (l, path) = if path.as_os_str().is_empty() {
                    bind_fresh(fresh_shm_path).map_err(err)?
                } else {
                    (
                        mio::net::UnixListener::bind(path).map_err(err)?,
                        path.clone(),
                    )
                };
                Ok((Listener::Shm(l), Endpoint::Shmiop { path }))
            }
        }
    }

    /// Accepts one connection, non-blocking, with `TCP_NODELAY` set on TCP (replies must
    /// leave at once, not wait for Nagle's algorithm to find company). A SHMIOP connection
    /// comes out still waiting for its client's segment ([`ShmHandshake`]).
    fn accept(&self) -> io::Result<Accepted> {
        match self {
            Listener::Tcp(l) => {
                let (s, addr) = l.accept()?;
                s.set_nodelay(true)?;
                Ok(Accepted::Ready(
                    super::stream::MioStream::Tcp(s),
                    addr.to_string(),
                ))
            }
            Listener::Unix(l) => {
                let (s, _) = l.accept()?;
                Ok(Accepted::Ready(
                    super::stream::MioStream::Unix(s),
                    "unix socket peer".to_owned(),
                ))
            }
            Listener::Shm(l) => {
                let (s, _) = l.accept()?;
                let Some(slot) = ShmHandshake::slot() else {
                    tracing::warn!(target: "orb::connection",
                        "SHMIOP client refused: {MAX_SHM_HANDSHAKES} others are still to send their segments");
                    // Skipped like a connection aborted before it was accepted.
                    return Err(io::ErrorKind::ConnectionAborted.into());
                };
                Ok(Accepted::Shm(ShmHandshake {
                    socket: std::os::unix::net::UnixStream::from(s),
                    _slot: slot,
                }))
            }
        }
    }

    /// The next waiting connection, if one can be taken now. `None` when the backlog is empty,
    /// or when accepting fails for want of descriptors or memory: the connections then wait in
    /// the backlog until the next one arrives and wakes the listener again. Connections
    /// interrupted or aborted before they were accepted are skipped.
    fn accept_next(&self) -> Option<Accepted> {
        loop {
            match self.accept() {
                Ok(accepted) => return Some(accepted),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                    ) => {}
                Err(_) => return None,
            }
        }
    }

    fn register(&mut self, registry: &mio::Registry, token: mio::Token) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => registry.register(l, token, mio::Interest::READABLE),
            Listener::Unix(l) | Listener::Shm(l) => {
                registry.register(l, token, mio::Interest::READABLE)
            }
        }
    }
}

/// What a server thread does before serving, so that its first request later costs no more
/// than any other (the allocations a thread makes on its first use of these, made now).
fn prepare_server_thread(allocator: AllocatorStrategy) {
    buffers::warm_up(allocator);
    prepare_waiting_thread();
}

/// What a thread that waits on locks does first, so that its first wait later allocates
/// nothing.
fn prepare_waiting_thread() {
    // parking_lot registers a thread in its global table (growing the table as the count of
    // threads grows: an allocation) the first time the thread waits on a lock. Under load a
    // pool thread may first meet a contended lock long after it started; a zero-length
    // condition wait registers it now.
    let lock = parking_lot::Mutex::new(());
    let _ = parking_lot::Condvar::new().wait_for(&mut lock.lock(), Duration::ZERO);
}

/// A message to send, in one buffer (the usual case, spared a `Vec` of one) or several.
pub(crate) enum Segments {
    One(Vec<u8>),
    Many(Vec<Vec<u8>>),
}

impl Segments {
    fn len(&self) -> usize {
        self.as_slices().iter().map(Vec::len).sum()
    }

    fn as_slices(&self) -> &[Vec<u8>] {
        match self {
            Segments::One(s) => std::slice::from_ref(s),
            Segments::Many(m) => m,
        }
    }

    /// Gives the buffers back to the calling thread's pool once they are written.
    fn give_back(self, allocator: AllocatorStrategy) {
        match self {
            Segments::One(s) => buffers::give(allocator, s),
            Segments::Many(m) => m.into_iter().for_each(|s| buffers::give(allocator, s)),
        }
    }
}

/// State a handler keeps per connection, set once (see [`ConnectionHandle::attachment`]).
pub type Attachment = std::sync::OnceLock<Box<dyn std::any::Any + Send + Sync>>;

/// A connection as its handler sees it: cheap to clone, usable from any thread, to send
/// messages and to close it.
#[derive(Clone)]
pub struct ConnectionHandle {
    inner: HandleInner,
}

#[derive(Clone)]
enum HandleInner {
    Reactor(Arc<reactor::Conn>),
    Blocking(Arc<blocking::Conn>),
}

impl ConnectionHandle {
    pub fn id(&self) -> ConnectionId {
        match &self.inner {
            HandleInner::Reactor(c) => c.id,
            HandleInner::Blocking(c) => c.id,
        }
    }

    /// The framing this connection speaks (its listener's).
    pub fn dialect(&self) -> Dialect {
        match &self.inner {
            HandleInner::Reactor(c) => c.dialect,
            HandleInner::Blocking(c) => c.dialect,
        }
    }

    /// A slot for the handler's own state of this connection, set once (in
    /// [`Handler::on_accept`], say) and found again from every frame's handle without a
    /// lookup in a map of connections; it goes with the connection.
    pub fn attachment(&self) -> &Attachment {
        match &self.inner {
            HandleInner::Reactor(c) => &c.attachment,
            HandleInner::Blocking(c) => &c.attachment,
        }
    }

    /// The peer's address, for diagnostics.
    pub fn peer(&self) -> &str {
        match &self.inner {
            HandleInner::Reactor(c) => &c.peer,
            HandleInner::Blocking(c) => &c.peer,
        }
    }

    /// Sends one whole message (or the rest of one). Messages sent from one thread go out in
    /// order; a message is never interleaved with another. Once written, the buffer goes to
    /// the writing thread's pool under [`ServerOptions::allocator`] (see [`crate::buffers`]).
    ///
    /// On a reactor connection, what the socket does not take at once is queued and written
    /// as the peer reads, within [`ServerOptions::max_pending_output`]; on a
    /// thread-per-connection one, this blocks until written (at most
    /// [`ServerOptions::write_timeout`]).
    pub fn send(&self, message: Vec<u8>) -> Result<(), TransportError> {
        match &self.inner {
            HandleInner::Reactor(c) => c.send(Segments::One(message)),
            HandleInner::Blocking(c) => c.send(Segments::One(message)),
        }
    }

    /// Sends a message made of several segments (a header and a body encoded apart, say),
    /// with one gathering write and without joining them into one buffer first.
    pub fn send_vectored(&self, segments: Vec<Vec<u8>>) -> Result<(), TransportError> {
        match &self.inner {
            HandleInner::Reactor(c) => c.send(Segments::Many(segments)),
            HandleInner::Blocking(c) => c.send(Segments::Many(segments)),
        }
    }

    /// Closes the connection after writing what the socket takes of the pending output
    /// without blocking; the handler's `on_close` follows, on a server thread.
    pub fn close(&self) {
        match &self.inner {
            HandleInner::Reactor(c) => c.request_close(CloseCause::Local),
            HandleInner::Blocking(c) => c.close(CloseCause::Local),
        }
    }

    /// Whether the connection is closed or closing.
    pub fn is_closed(&self) -> bool {
        match &self.inner {
            HandleInner::Reactor(c) => c.is_closing(),
            HandleInner::Blocking(c) => c.is_closed(),
        }
    }
}

impl fmt::Debug for ConnectionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionHandle")
            .field("id", &self.id())
            .field("dialect", &self.dialect())
            .field("peer", &self.peer())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory of its own for a test, removed with the value.
    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Dir {
            let path = std::env::temp_dir().join(format!("rtorb-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir(&path).unwrap();
            Dir(path)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A socket file left behind at a fresh name (a killed process whose id came round
    /// again) is passed over, and left where it is.
    #[test]
    fn a_fresh_shm_path_left_behind_is_passed_over() {
        let dir = Dir::new("fresh-passed-over");
        let stale = dir.0.join("stale.sock");
        std::fs::write(&stale, b"").unwrap();
        let free = dir.0.join("free.sock");
        let mut paths = vec![free.clone(), stale.clone()];
        let (_listener, path) = bind_fresh(|| paths.pop().unwrap()).unwrap();
        assert_eq!(path, free);
        assert!(stale.exists(), "the file left behind is not removed");
    }

    #[test]
    fn fresh_shm_paths_that_are_all_taken_give_up_with_address_in_use() {
        let dir = Dir::new("fresh-all-taken");
        let stale = dir.0.join("stale.sock");
        std::fs::write(&stale, b"").unwrap();
        let mut tries = 0;
        let e = bind_fresh(|| {
            tries += 1;
            stale.clone()
        })
        .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse);
        assert_eq!(tries, FRESH_PATH_TRIES);
    }
}
