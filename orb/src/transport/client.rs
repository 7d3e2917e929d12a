//! The client side of a connection: blocking sockets, requests written by the calling thread,
//! replies matched to their callers by request id.
//!
//! The wait strategy has no reactor and no dedicated reader thread. A caller that finds no one
//! reading becomes the reader: it reads the socket itself, keeps its own reply, and drops the
//! others' into their waiting slots, waking each owner. When it has its reply it leaves, and
//! wakes one remaining waiter to read next. So a lone caller's round trip is one write and one
//! blocking read on its own thread, the same system calls as a hand-written ping-pong, and
//! concurrent callers share the connection without a thread hand-off on the reader's path.
//!
//! An asynchronous caller ([`ClientConnection::call_async`]) cannot read: its reply is a
//! future. While such futures wait and no thread reads, the connection's own reader thread
//! (started on demand, gone after a second with nothing to wait for) reads for them and wakes
//! their tasks. A thread that is reading for its own reply delivers theirs as well.

use super::endpoint::{Dialect, Endpoint};
use super::stream::BlockingStream;
use super::{CloseCause, TransportError};
use crate::buffers::AllocatorStrategy;
use crate::giop::{Frame, Framer, Header, MsgType};
use parking_lot::{Condvar, Mutex};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Size of the reader's buffer; replies larger than this are read in several calls.
const READ_BUF: usize = 64 * 1024;

/// Settings for a client connection.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// How long a TCP connect may take.
    pub connect_timeout: Duration,
    /// The largest reply accepted; a server announcing more breaks the connection.
    pub max_message_size: usize,
    /// How long one write may block on a server that does not read. A write that times out
    /// may have sent part of a message, so it breaks the connection.
    pub write_timeout: Option<Duration>,
    /// Where the buffers of replies come from (see [`crate::buffers`]).
    pub allocator: AllocatorStrategy,
    /// The size of each ring of the SHMIOP connections made (a power of two from 4 KiB to
    /// 256 MiB): a connection that has carried traffic holds twice this in shared memory.
    pub shm_ring_size: usize,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            max_message_size: Framer::DEFAULT_MAX_MESSAGE_SIZE,
            write_timeout: Some(Duration::from_secs(30)),
            allocator: AllocatorStrategy::ThreadLocal,
            shm_ring_size: shmring::DEFAULT_CAPACITY,
        }
    }
}

/// How a waiting caller is woken.
#[derive(Debug)]
enum Wake {
    /// A thread blocked in [`ClientConnection::call`].
    Thread(Arc<Condvar>),
    /// A task awaiting a [`PendingReply`]: its waker (none before its first poll), and when
    /// it gives up, which the async reader wakes it for.
    Task {
        waker: Option<Waker>,
        deadline: Option<Instant>,
    },
}

impl Wake {
    fn notify_one(&self) {
        match self {
            Wake::Thread(cv) => {
                cv.notify_one();
            }
            Wake::Task { waker, .. } => {
                if let Some(w) = waker {
                    w.wake_by_ref();
                }
            }
        }
    }

    fn is_task(&self) -> bool {
        matches!(self, Wake::Task { .. })
    }
}

/// How long the async reader thread stays when no future waits, for the next one.
const ASYNC_READER_LINGER: Duration = Duration::from_secs(1);

/// The longest single read of the async reader: it looks again whether anyone still waits
/// (a future dropped meanwhile, whose reply never comes, must not keep it reading for ever).
const ASYNC_READ_SLICE: Duration = Duration::from_secs(1);

/// A caller waiting for its reply.
#[derive(Debug)]
struct Waiter {
    id: u32,
    reply: Option<Frame>,
    wake: Wake,
    /// How many oneways had been written before this request: its reply shows the server
    /// has taken them all (it serves a connection's requests in order).
    oneways_before: u64,
}

#[derive(Debug, Default)]
struct State {
    waiters: Vec<Waiter>,
    /// Some caller is reading the socket.
    reader: bool,
    closed: Option<CloseCause>,
    /// The read timeout the socket has now, to set it only when it no longer fits (see
    /// [`read_timeout_fits`]).
    read_timeout: Option<Duration>,
    /// Condition variables of finished waiters, reused to spare an allocation per call.
    spare: Vec<Arc<Condvar>>,
    /// The reader's list of the messages one read completed, lent to it and given back
    /// empty: kept here so that its capacity is reused, not allocated per read.
    inbox: Vec<Frame>,
    /// How many of the oneways written (the connection's `oneways_sent`) a later request's
    /// reply shows served.
    oneways_served: u64,
    /// Requests whose callers stopped waiting (timed out): the server may still run them.
    abandoned: Vec<u32>,
    /// The async reader thread's wake-up, while it runs.
    async_reader: Option<Arc<Condvar>>,
    /// A caller holds the connection for itself ([`ClientConnection::try_claim`]).
    claimed: bool,
}

impl State {
    fn find(&self, id: u32) -> Option<usize> {
        self.waiters.iter().position(|w| w.id == id)
    }

    fn remove(&mut self, id: u32) -> Option<Waiter> {
        let i = self.find(id)?;
        let w = self.waiters.swap_remove(i);
        if let Wake::Thread(cv) = &w.wake {
            self.spare.push(cv.clone());
        }
        Some(w)
    }

    /// Hands the reading to a caller still waiting, if no one reads: a blocked thread, or
    /// for futures the async reader.
    fn promote(&self) {
        if self.reader {
            return;
        }
        let mut unanswered = self.waiters.iter().filter(|w| w.reply.is_none());
        if let Some(w) = unanswered.clone().find(|w| !w.wake.is_task()) {
            w.wake.notify_one();
        } else if unanswered.next().is_some() {
            if let Some(cv) = &self.async_reader {
                cv.notify_one();
            }
        }
    }

    /// Futures still waiting for their replies, and the earliest of their deadlines.
    fn tasks_waiting(&self) -> (bool, Option<Instant>) {
        let mut any = false;
        let mut earliest: Option<Instant> = None;
        for w in &self.waiters {
            if let (Wake::Task { deadline, .. }, None) = (&w.wake, &w.reply) {
                any = true;
                if let Some(d) = deadline {
                    earliest = Some(earliest.map_or(*d, |e| e.min(*d)));
                }
            }
        }
        (any, earliest)
    }

    /// Nothing sent on the connection is still with the server (of which `oneways_sent`
    /// oneways), and no one holds it.
    fn is_idle(&self, oneways_sent: u64) -> bool {
        self.closed.is_none()
            && !self.claimed
            && self.waiters.is_empty()
            && self.abandoned.is_empty()
            && self.oneways_served == oneways_sent
    }

    fn fail(&mut self, cause: CloseCause) {
        if self.closed.is_none() {
            self.closed = Some(cause);
        }
        for w in &self.waiters {
            w.wake.notify_one();
        }
        if let Some(cv) = &self.async_reader {
            cv.notify_one();
        }
    }
}

/// What the writers of a connection share, under its write lock.
struct Writing {
    /// The write timeout the socket has now (a call's deadline may have shortened it; zero:
    /// not known, to be set before the next write — the socket's is never zero, which would
    /// mean none).
    timeout: Option<Duration>,
    /// A SHMIOP channel's writing position, taken out of it: the write lock already
    /// serialises the writes, so a write takes no lock of the channel's as well.
    shm: Option<shmring::WriteCursor>,
}

/// What the reader carries off the socket: the messages, or why the connection broke.
struct Input {
    framer: Framer,
    buf: Vec<u8>,
}

/// How many request ids a thread takes from a connection at a time
/// ([`ClientConnection::next_request_id`]).
const ID_BLOCK: u32 = 16;

/// The serial of the next connection made (zero is none's: an empty block's).
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

/// Request ids a thread took from a connection and has not used yet: `next` up to `end`
/// (exclusive, wrapping).
#[derive(Clone, Copy)]
struct IdBlock {
    serial: u64,
    next: u32,
    end: u32,
}

thread_local! {
    static IDS: std::cell::Cell<IdBlock> = const {
        std::cell::Cell::new(IdBlock {
            serial: 0,
            next: 0,
            end: 0,
        })
    };
}

/// One connection to a server, shared by any number of threads (behind an `Arc`): each call
/// writes its request and waits for the reply with its request id.
pub struct ClientConnection {
    endpoint: Endpoint,
    dialect: Dialect,
    stream: BlockingStream,
    /// Serialises writers so that messages are never interleaved; holds what writing needs.
    write: Mutex<Writing>,
    /// The write timeout the connection was made with ([`ClientOptions::write_timeout`]).
    write_timeout: Option<Duration>,
    state: Mutex<State>,
    /// Whether `state.closed` is set: looked at without the lock (before every oneway, by
    /// every look for a usable connection).
    closed: AtomicBool,
    /// Oneways written: changed only under the write lock, in the order of the messages on
    /// the wire, and read without it (a lock less per oneway).
    oneways_sent: AtomicU64,
    /// Held only by the reader.
    input: Mutex<Input>,
    next_id: AtomicU32,
    /// The connection's identity in the process (never reused, unlike an address): what a
    /// thread's block of request ids belongs to.
    serial: u64,
    /// Whether a request has claimed the connection's first use (see
    /// [`ClientConnection::claim_first_request`]).
    first_claimed: AtomicBool,
    /// A message was written since [`is_usable`](ClientConnection::is_usable) last looked
    /// (writes mark it rather than read the clock: it serves only the idle check).
    used: AtomicBool,
    /// When `is_usable` last looked, in microseconds since `epoch`.
    looked_us: AtomicU64,
    /// A time the connection is known to have been used at or after (a write, or a check
    /// that found it open), in microseconds since `epoch`.
    used_since_us: AtomicU64,
    epoch: Instant,
}

/// How far past a call's deadline a read may block before it times out: the price of not
/// setting the socket's read timeout before every read (see [`read_timeout_fits`]).
const READ_TIMEOUT_SLACK: Duration = Duration::from_millis(1);

/// Whether a read may block with the socket's read timeout as it is (`set`) when the caller
/// wants to wait at most `wanted`. Back-to-back calls each want a little less than the call
/// timeout the previous one set; setting it again exactly would cost a system call per call
/// for a difference of microseconds. So `set` stands when it ends the read at most
/// [`READ_TIMEOUT_SLACK`] late, and not before half of `wanted` (a shorter one would wake the
/// reader early, again and again; an early wake-up alone is harmless, as the caller checks its
/// deadline and reads again).
fn read_timeout_fits(set: Option<Duration>, wanted: Option<Duration>) -> bool {
    match (set, wanted) {
        (None, None) => true,
        (Some(set), Some(wanted)) => set <= wanted + READ_TIMEOUT_SLACK && set >= wanted / 2,
        _ => false,
    }
}

/// A connection unused for this long is checked before reuse: the server may have closed it
/// (or died) meanwhile, and a request written into it would fail with COMM_FAILURE
/// (completion MAYBE) rather than be safely retried. The check costs three system calls, so
/// back-to-back calls (closer than this) skip it.
const IDLE_CHECK_AFTER: Duration = Duration::from_millis(1);

/// When a call gives up waiting: never, at a given instant, or a timeout counted from the
/// call's first wait — for its connection, for another writer, for room in the socket or
/// ring, for its reply — the instant fixed then and kept for the call's later waits. A call
/// that never has to wait (a oneway the ring takes at once) so reads no clock for its
/// bound: that read was a tenth of a SHMIOP oneway's client-side work.
#[derive(Debug, Default)]
pub struct Deadline {
    /// The timeout still to be turned into an instant, at the first wait.
    timeout: Option<Duration>,
    at: std::cell::Cell<Option<Instant>>,
}

impl Deadline {
    /// No deadline: waits for ever.
    pub fn none() -> Deadline {
        Deadline::default()
    }

    /// At `at` (none for `None`).
    pub fn at(at: Option<Instant>) -> Deadline {
        Deadline {
            timeout: None,
            at: std::cell::Cell::new(at),
        }
    }

    /// `timeout` after the first wait of the call.
    pub fn from_first_wait(timeout: Duration) -> Deadline {
        Deadline {
            timeout: Some(timeout),
            at: std::cell::Cell::new(None),
        }
    }

    /// The instant, fixed now if it counts from the first wait and was not yet: to be asked
    /// when the call is about to wait.
    pub fn instant(&self) -> Option<Instant> {
        self.instant_from(Instant::now)
    }

    /// [`instant`](Self::instant), with `now` the clock read if it has to be fixed (one the
    /// caller reads anyway).
    fn instant_from(&self, now: impl FnOnce() -> Instant) -> Option<Instant> {
        if let Some(at) = self.at.get() {
            return Some(at);
        }
        // A timeout too long for an instant is none.
        let at = now().checked_add(self.timeout?)?;
        self.at.set(Some(at));
        Some(at)
    }

    /// Whether it has passed: never for one not fixed yet (the call has not waited).
    pub fn has_passed(&self) -> bool {
        self.at.get().is_some_and(|d| Instant::now() >= d)
    }
}

impl ClientConnection {
    /// Connects to `endpoint`, which speaks `dialect` (GIOP-lite only if the server's
    /// listener was configured for it: the bytes are never probed to find out).
    pub fn connect(
        endpoint: &Endpoint,
        dialect: Dialect,
        options: &ClientOptions,
    ) -> Result<ClientConnection, TransportError> {
        let stream = BlockingStream::connect(
            endpoint,
            options.connect_timeout,
            options.shm_ring_size,
        )
        .inspect_err(|e| {
            tracing::debug!(target: "orb::connection", %endpoint, error = %e, "connect failed");
        })?;
        tracing::info!(target: "orb::connection", %endpoint, %dialect, side = "client", "connection opened");
        stream
            .set_write_timeout(options.write_timeout)
            .map_err(|e| TransportError::Connect {
                endpoint: endpoint.to_string(),
                source: e,
            })?;
        let shm = match &stream {
            BlockingStream::Shm(c) => c.take_write_cursor(),
            _ => None,
        };
        Ok(ClientConnection {
            endpoint: endpoint.clone(),
            dialect,
            stream,
            write: Mutex::new(Writing {
                timeout: options.write_timeout,
                shm,
            }),
            write_timeout: options.write_timeout,
            state: Mutex::new(State::default()),
            closed: AtomicBool::new(false),
            oneways_sent: AtomicU64::new(0),
            input: Mutex::new(Input {
                framer: dialect
                    .framer(options.max_message_size)
                    .with_allocator(options.allocator),
                buf: vec![0; READ_BUF],
            }),
            next_id: AtomicU32::new(1),
            serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
            first_claimed: AtomicBool::new(false),
            used: AtomicBool::new(false),
            looked_us: AtomicU64::new(0),
            used_since_us: AtomicU64::new(0),
            epoch: Instant::now(),
        })
    }

    /// Microseconds since `epoch`.
    fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Whether the connection was certainly used within [`IDLE_CHECK_AFTER`]: see
    /// [`is_usable`](Self::is_usable).
    fn recently_used(&self) -> bool {
        let now = self.now_us();
        let looked = self.looked_us.load(Ordering::Relaxed);
        self.looked_us.store(now, Ordering::Relaxed);
        if self.used.load(Ordering::Relaxed) {
            self.used.store(false, Ordering::Relaxed);
            self.used_since_us.store(looked, Ordering::Relaxed);
        }
        now.saturating_sub(self.used_since_us.load(Ordering::Relaxed))
            < IDLE_CHECK_AFTER.as_micros() as u64
    }

    /// Whether the connection can take a request: not closed, and — when it has been idle
    /// for a while — not closed by the server meanwhile. That is looked for without blocking
    /// (a non-blocking read: end of stream, or a CloseConnection the server sent, closes it
    /// here), so a cache hands out a fresh connection instead of one whose request would be
    /// lost after sending.
    ///
    /// A SHMIOP connection is checked only when its channel has something to read or its
    /// server closed it or died, which the channel tells without a system call: with nothing
    /// there the check would find nothing either, so it is skipped however long the
    /// connection was idle, and no clock is read.
    ///
    /// Over a socket, how long it has been idle is bounded from what writes leave, a mark
    /// rather than a time: a write marked since the last look came after that look. So a
    /// connection in back-to-back use (looks closer than [`IDLE_CHECK_AFTER`], a write between
    /// them) skips the check, and one whose last known use is older is checked. (Relaxed: a
    /// hint, not a synchronisation point.)
    pub fn is_usable(&self) -> bool {
        if let BlockingStream::Shm(c) = &self.stream {
            if !c.has_input() {
                return !self.is_closed();
            }
        } else if self.recently_used() {
            return !self.is_closed();
        }
        let mut st = self.state.lock();
        if st.closed.is_some() {
            return false;
        }
        if st.reader || !st.waiters.is_empty() {
            // In use right now: whoever reads will find out.
            return true;
        }
        st.reader = true;
        let mut frames = std::mem::take(&mut st.inbox);
        drop(st);
        let got = match self.stream.set_nonblocking(true) {
            Ok(()) => {
                let r = self.read_frames(None, &mut frames);
                match self.stream.set_nonblocking(false) {
                    Ok(()) => r,
                    Err(e) => Err(CloseCause::Io(e.kind())),
                }
            }
            Err(e) => Err(CloseCause::Io(e.kind())),
        };
        let mut st = self.state.lock();
        self.after_read(&mut st, frames, got);
        st.promote();
        // Found open just now: as good as used.
        self.used_since_us.store(self.now_us(), Ordering::Relaxed);
        st.closed.is_none()
    }

    /// True exactly once per connection: for the request that carries what GIOP sends once
    /// per connection (the CodeSets service context, §13.10.2.5).
    pub fn claim_first_request(&self) -> bool {
        // Looked at before it is claimed: every request but the first finds it claimed, and a
        // plain load spares them the locked swap (a read-modify-write is a fair part of a
        // SHMIOP oneway's client-side work). Once claimed it stays so; racing first requests
        // still settle it with the swap.
        !self.first_claimed.load(Ordering::Relaxed)
            && !self.first_claimed.swap(true, Ordering::AcqRel)
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// A request id not used recently on this connection (ids wrap after 2³² requests).
    ///
    /// Taken from a block of [`ID_BLOCK`] ids the calling thread took from the connection
    /// at once: a locked increment per block rather than per request (one of the few locked
    /// instructions left on a SHMIOP oneway's client side). Blocks are disjoint, so ids stay
    /// unique on the connection whichever threads send; a thread's block is of one
    /// connection (by its serial, never another's, a replacement's included), and is let go
    /// when the thread sends on another.
    pub fn next_request_id(&self) -> u32 {
        let from_block = |ids: &std::cell::Cell<IdBlock>| {
            let block = ids.get();
            if block.serial == self.serial && block.next != block.end {
                ids.set(IdBlock {
                    next: block.next.wrapping_add(1),
                    ..block
                });
                return block.next;
            }
            let start = self.next_id.fetch_add(ID_BLOCK, Ordering::Relaxed);
            ids.set(IdBlock {
                serial: self.serial,
                next: start.wrapping_add(1),
                end: start.wrapping_add(ID_BLOCK),
            });
            start
        };
        // A thread being torn down takes its id alone.
        IDS.try_with(from_block)
            .unwrap_or_else(|_| self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// Whether the connection broke or was closed; a cache replaces it then.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Fails the connection (the first cause stays) and wakes its waiters; the caller shuts
    /// the stream down.
    fn fail(&self, st: &mut State, cause: CloseCause) {
        st.fail(cause);
        self.closed.store(true, Ordering::Release);
    }

    /// Closes the connection: every caller still waiting gets
    /// [`TransportError::Closed`] with [`CloseCause::Local`].
    pub fn close(&self) {
        self.fail(&mut self.state.lock(), CloseCause::Local);
        self.stream.shutdown();
    }

    /// Writes one message that expects no reply: a oneway request, CancelRequest,
    /// CloseConnection, MessageError.
    pub fn send(&self, message: &[u8]) -> Result<(), TransportError> {
        self.send_vectored(&[message])
    }

    /// Writes one message given in segments, gathered into vectored writes.
    pub fn send_vectored(&self, segments: &[&[u8]]) -> Result<(), TransportError> {
        if let Some(cause) = self.state.lock().closed.clone() {
            return Err(TransportError::Closed { sent: false, cause });
        }
        self.write(segments)
            .map_err(|cause| TransportError::Closed { sent: false, cause })
    }

    /// Sends a request with no response expected; the same as [`send`](Self::send), named
    /// for what the invocation layer does with it.
    ///
    /// Until a reply to a later request comes back, the connection is not
    /// [idle](Self::is_idle): the server may still be running the oneway.
    pub fn send_oneway(&self, request: &[u8]) -> Result<(), TransportError> {
        self.send_oneway_within(request, None)
    }

    /// [`send_oneway`](Self::send_oneway), given up at `deadline`: waiting for another
    /// writer, or for the socket to take the request (a peer that does not read, a link that
    /// went away), ends there with [`TransportError::NotSentInTime`]; a request cut off
    /// part-way breaks the connection.
    pub fn send_oneway_within(
        &self,
        request: &[u8],
        deadline: Option<Instant>,
    ) -> Result<(), TransportError> {
        self.send_oneway_bounded(request, &Deadline::at(deadline))
    }

    /// [`send_oneway_within`](Self::send_oneway_within), the deadline maybe counting from
    /// the first wait.
    pub fn send_oneway_bounded(
        &self,
        request: &[u8],
        deadline: &Deadline,
    ) -> Result<(), TransportError> {
        // Whether the connection is closed is looked at where the oneway is counted.
        self.write_counted(&[request], Written::Oneway, deadline)
            .map_err(WriteFailure::into_error)
    }

    /// Whether a oneway sent on the connection may still be with the server (no reply to a
    /// later request has said it was served).
    pub fn has_oneways_in_flight(&self) -> bool {
        let sent = self.oneways_sent.load(Ordering::Acquire);
        self.state.lock().oneways_served != sent
    }

    /// Whether nothing sent on the connection is still with the server — no reply awaited,
    /// none given up on, no oneway not yet known to be served — and no caller holds it. A
    /// request sent now on an idle connection is served at once: it waits behind no other
    /// request of this connection (a server serves each connection's requests in order).
    pub fn is_idle(&self) -> bool {
        let sent = self.oneways_sent.load(Ordering::Acquire);
        self.state.lock().is_idle(sent)
    }

    /// Takes the connection for the caller alone if it is [idle](Self::is_idle); other
    /// callers' [`try_claim`](Self::try_claim) fail until [`release`](Self::release).
    pub(super) fn try_claim(&self) -> bool {
        let sent = self.oneways_sent.load(Ordering::Acquire);
        let mut st = self.state.lock();
        if !st.is_idle(sent) {
            return false;
        }
        st.claimed = true;
        true
    }

    /// Takes the connection to close it, if no one waits on it or holds it: a oneway not
    /// yet confirmed is all it may have with the server (written whole, so it is served).
    pub(super) fn try_claim_to_close(&self) -> bool {
        let mut st = self.state.lock();
        if st.closed.is_some() || st.claimed || !st.waiters.is_empty() || !st.abandoned.is_empty() {
            return false;
        }
        st.claimed = true;
        true
    }

    pub(super) fn release(&self) {
        self.state.lock().claimed = false;
    }

    /// Sends a request (already encoded with request id `request_id`) and waits for the
    /// Reply or LocateReply with that id, until `deadline` if there is one.
    ///
    /// On [`TransportError::Timeout`] the request is forgotten here and its reply, if it
    /// comes, is dropped. On [`TransportError::Closed`], `sent` says whether the request
    /// was fully written: see [`TransportError::completion`].
    pub fn call(
        &self,
        request_id: u32,
        request: &[u8],
        deadline: Option<Instant>,
    ) -> Result<Frame, TransportError> {
        self.call_vectored(request_id, &[request], deadline)
    }

    /// [`call`](Self::call) until `deadline`, which may count from the call's first wait.
    pub fn call_bounded(
        &self,
        request_id: u32,
        request: &[u8],
        deadline: &Deadline,
    ) -> Result<Frame, TransportError> {
        self.call_segments(request_id, &[request], deadline)
    }

    /// [`call`](Self::call) with the request in segments, gathered into vectored writes.
    pub fn call_vectored(
        &self,
        request_id: u32,
        segments: &[&[u8]],
        deadline: Option<Instant>,
    ) -> Result<Frame, TransportError> {
        self.call_segments(request_id, segments, &Deadline::at(deadline))
    }

    fn call_segments(
        &self,
        request_id: u32,
        segments: &[&[u8]],
        deadline: &Deadline,
    ) -> Result<Frame, TransportError> {
        let wake = self.register(request_id, |st| {
            let cv: Arc<Condvar> = st.spare.pop().unwrap_or_default();
            (Wake::Thread(cv.clone()), cv)
        })?;
        self.write_request(request_id, segments, deadline)?;
        self.wait(request_id, &wake, deadline)
    }

    /// [`call`](Self::call) without blocking for the reply: writes the request (which blocks
    /// only while the socket does not take it) and returns the reply as a future, which any
    /// executor can await. Until `deadline`, if there is one; dropping the future forgets the
    /// request as a timeout does.
    pub fn call_async(
        self: &Arc<Self>,
        request_id: u32,
        request: &[u8],
        deadline: Option<Instant>,
    ) -> Result<PendingReply, TransportError> {
        self.register(request_id, |_| {
            (
                Wake::Task {
                    waker: None,
                    deadline,
                },
                (),
            )
        })?;
        self.write_request(request_id, &[request], &Deadline::at(deadline))?;
        Ok(PendingReply {
            conn: self.clone(),
            id: request_id,
            deadline,
            done: false,
        })
    }

    /// Registers the caller of request `request_id` as waiting, woken as `wake` says (which
    /// also gives what the caller keeps of it). Before the request is written: its reply may
    /// be read by another caller before this one is back from the write.
    fn register<T>(
        &self,
        request_id: u32,
        wake: impl FnOnce(&mut State) -> (Wake, T),
    ) -> Result<T, TransportError> {
        // Marked used when written (`write_counted`), which follows at once.
        let mut st = self.state.lock();
        if let Some(cause) = &st.closed {
            return Err(TransportError::Closed {
                sent: false,
                cause: cause.clone(),
            });
        }
        if st.find(request_id).is_some() {
            return Err(TransportError::DuplicateRequestId(request_id));
        }
        let (wake, kept) = wake(&mut st);
        st.waiters.push(Waiter {
            id: request_id,
            reply: None,
            wake,
            oneways_before: 0,
        });
        Ok(kept)
    }

    /// Writes a request whose waiter is registered, by `deadline`; on failure takes the
    /// waiter out again.
    fn write_request(
        &self,
        request_id: u32,
        segments: &[&[u8]],
        deadline: &Deadline,
    ) -> Result<(), TransportError> {
        if let Err(failure) = self.write_counted(segments, Written::Request(request_id), deadline) {
            let mut st = self.state.lock();
            st.remove(request_id);
            let failure = match (failure, st.closed.clone()) {
                (WriteFailure::Closed(_), Some(cause)) => WriteFailure::Closed(cause),
                (failure, _) => failure,
            };
            st.promote();
            return Err(failure.into_error());
        }
        Ok(())
    }

    /// Writes a whole message or breaks the connection: a partial message cannot be taken
    /// back, so nothing else could follow it.
    fn write(&self, segments: &[&[u8]]) -> Result<(), CloseCause> {
        self.write_counted(segments, Written::Other, &Deadline::none())
            .map_err(|f| match f {
                WriteFailure::Closed(cause) => cause,
                // Only a deadline ends a write this way, and there is none.
                WriteFailure::NotInTime => CloseCause::Io(std::io::ErrorKind::TimedOut),
            })
    }

    /// [`write`](Self::write), keeping count of what is with the server: under the write
    /// lock, so that the count follows the order of the messages on the wire.
    fn write_counted(
        &self,
        segments: &[&[u8]],
        what: Written,
        deadline: &Deadline,
    ) -> Result<(), WriteFailure> {
        let mut writing = match self.write.try_lock() {
            Some(w) => w,
            // Behind a writer the socket does not take (a peer that stopped reading, a link
            // that went away), a call waits no longer than its deadline.
            None => match deadline.instant() {
                None => self.write.lock(),
                Some(d) => self
                    .write
                    .try_lock_until(d)
                    .ok_or(WriteFailure::NotInTime)?,
            },
        };
        match what {
            Written::Request(id) => {
                let sent = self.oneways_sent.load(Ordering::Relaxed);
                let mut st = self.state.lock();
                if let Some(i) = st.find(id) {
                    st.waiters[i].oneways_before = sent;
                }
            }
            // Counted before the first octet goes out: the server may run the oneway, and
            // its upcall look for an idle connection, before this thread is back. (Only
            // writers change the count, under the write lock: no read-modify-write needed.)
            Written::Oneway => {
                if self.is_closed() {
                    let cause = self.state.lock().closed.clone();
                    return Err(WriteFailure::Closed(cause.unwrap_or(CloseCause::Local)));
                }
                let sent = self.oneways_sent.load(Ordering::Relaxed);
                self.oneways_sent.store(sent + 1, Ordering::Release);
            }
            Written::Other => {}
        }
        self.used.store(true, Ordering::Relaxed);
        let Writing { timeout, shm } = &mut *writing;
        let (written, started) = if let (BlockingStream::Shm(c), Some(cursor)) = (&self.stream, shm)
        {
            // The channel bounds the message itself, by the deadline or its write timeout from
            // its first wait, whichever comes first: a message the ring has room for reads no
            // clock (a clock read is a fair part of a oneway's time here).
            (
                c.write_all_at_until(cursor, segments, || deadline.instant()),
                None,
            )
        } else {
            let started = Instant::now();
            let deadline = deadline.instant_from(|| started);
            (
                self.write_socket(timeout, segments, deadline, started),
                Some(started),
            )
        };
        match written {
            Ok(()) => Ok(()),
            Err((_, e)) => {
                let cause = CloseCause::Io(e.kind());
                self.fail(&mut self.state.lock(), cause.clone());
                self.stream.shutdown();
                let timed_out = matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                );
                // The caller's deadline rather than the connection's own limit ended it: the
                // call timed out (the connection is gone all the same, a message cut short).
                let deadline_first = timed_out
                    && deadline.instant().is_some_and(|d| match started {
                        Some(started) => self.write_timeout.is_none_or(|w| d < started + w),
                        // Not known when the write started: the deadline ended it if it passed.
                        None => d <= Instant::now(),
                    });
                if deadline_first {
                    return Err(WriteFailure::NotInTime);
                }
                Err(WriteFailure::Closed(cause))
            }
        }
    }

    /// A socket's write of a message that began at `started`, bounded by the earlier of
    /// `deadline` and the connection's write timeout. `timeout` is the socket's timeout as
    /// last set (under the write lock).
    fn write_socket(
        &self,
        timeout: &mut Option<Duration>,
        segments: &[&[u8]],
        deadline: Option<Instant>,
        started: Instant,
    ) -> Result<(), (usize, std::io::Error)> {
        let within = match deadline {
            None => self.write_timeout,
            Some(d) => {
                // A deadline already past still lets a socket that takes the message at once
                // take it (the caller then times out waiting for the reply, as ever); only
                // blocking is cut short. (A socket's timeout of zero would mean none.)
                let left = d
                    .saturating_duration_since(started)
                    .max(Duration::from_millis(1));
                Some(self.write_timeout.map_or(left, |w| w.min(left)))
            }
        };
        // The socket's timeout changed only when it is off by more than a tenth, so that
        // back-to-back calls with the same timeout make no system call for it: a write may
        // then end a tenth early or late, well inside any caller's patience.
        let off = match (*timeout, within) {
            (Some(now), Some(want)) => now.abs_diff(want) > want / 10,
            (now, want) => now != want,
        };
        if off {
            self.stream.set_write_timeout(within).map_err(|e| (0, e))?;
            *timeout = within;
        }
        // After a partial write the rest must go within the same time (each write blocks for
        // the socket's timeout anew): the socket's timeout follows what is left of it, be the
        // bound the call's deadline or the connection's write timeout.
        let bounded = within.map(|w| started + w);
        let mut retimed = false;
        let written = self
            .stream
            .write_all_vectored_until(segments, bounded, &mut retimed);
        if retimed {
            // Not what was recorded any more: set it again next time.
            *timeout = Some(Duration::ZERO);
        }
        written
    }

    fn wait(&self, id: u32, wake: &Condvar, deadline: &Deadline) -> Result<Frame, TransportError> {
        // From here on the request is all out: a failure leaves its completion MAYBE.
        let mut st = self.state.lock();
        loop {
            let Some(i) = st.find(id) else {
                // Only this caller removes its own slot.
                return Err(TransportError::Closed {
                    sent: true,
                    cause: st.closed.clone().unwrap_or(CloseCause::Local),
                });
            };
            if let Some(reply) = st.waiters[i].reply.take() {
                st.remove(id);
                st.promote();
                return Ok(reply);
            }
            if let Some(cause) = st.closed.clone() {
                st.remove(id);
                return Err(TransportError::Closed { sent: true, cause });
            }
            let now = Instant::now();
            // The reply's wait is (nearly always) the call's first: its bound starts here.
            let deadline = deadline.instant_from(|| now);
            let remaining = match deadline {
                Some(d) if d <= now => {
                    st.remove(id);
                    st.abandoned.push(id);
                    st.promote();
                    return Err(TransportError::Timeout);
                }
                Some(d) => Some(d - now),
                None => None,
            };
            if st.reader {
                match deadline {
                    Some(d) => {
                        wake.wait_until(&mut st, d);
                    }
                    None => wake.wait(&mut st),
                }
                continue;
            }
            // Nobody reads: this caller does, until something arrives or its deadline.
            st = self.read_once(st, remaining);
        }
    }

    /// Reads once as the connection's reader (blocking for at most `timeout`), without the
    /// state's lock, and delivers what came.
    fn read_once<'a>(
        &'a self,
        mut st: parking_lot::MutexGuard<'a, State>,
        timeout: Option<Duration>,
    ) -> parking_lot::MutexGuard<'a, State> {
        st.reader = true;
        let set_timeout = if !read_timeout_fits(st.read_timeout, timeout) {
            st.read_timeout = timeout;
            true
        } else {
            false
        };
        let mut frames = std::mem::take(&mut st.inbox);
        drop(st);
        let got = self.read_frames(set_timeout.then_some(timeout), &mut frames);
        let mut st = self.state.lock();
        self.after_read(&mut st, frames, got);
        st
    }

    /// What the reader does once back from the socket: gives up reading, hands each frame
    /// to its caller, keeps the frame list for the next read, and fails the connection if
    /// the read or a frame broke it.
    fn after_read(&self, st: &mut State, mut frames: Vec<Frame>, got: Result<(), CloseCause>) {
        st.reader = false;
        for frame in frames.drain(..) {
            if let Err(cause) = deliver(st, frame) {
                self.fail(st, cause);
                self.stream.shutdown();
            }
        }
        st.inbox = frames;
        if let Err(cause) = got {
            self.fail(st, cause);
            self.stream.shutdown();
        }
    }

    /// Reads once (blocking, at most until the read timeout) and adds the whole messages that
    /// completed to `frames`; none on a timeout.
    fn read_frames(
        &self,
        set_timeout: Option<Option<Duration>>,
        frames: &mut Vec<Frame>,
    ) -> Result<(), CloseCause> {
        let mut input = self.input.lock();
        let Input { framer, buf } = &mut *input;
        if let Some(t) = set_timeout {
            // A zero timeout would mean "none" to the socket; the deadline is checked by the
            // caller anyway.
            let t = t.map(|t| t.max(Duration::from_micros(1)));
            self.stream
                .set_read_timeout(t)
                .map_err(|e| CloseCause::Io(e.kind()))?;
        }
        // Whole messages are copied once, from what was read (for SHMIOP, the ring itself)
        // into their frames; only a message cut by the end of the read waits in the framer.
        let mut framed = Ok(());
        let read = self.stream.read_with(buf, |mut input| loop {
            match framer.next_message(&mut input) {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(e) => {
                    framed = Err(CloseCause::Protocol(e));
                    break;
                }
            }
        });
        match read {
            Ok(0) => Err(CloseCause::PeerClosed),
            Ok(_) => framed,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(CloseCause::Io(e.kind())),
        }
    }
}

/// The reply to a request sent by [`ClientConnection::call_async`]: a future of the Reply
/// or LocateReply frame, or of why it cannot come (the connection closed, the deadline
/// passed). Dropped before it is ready, the request is forgotten: its reply, if it comes,
/// is dropped.
#[derive(Debug)]
#[must_use = "the reply comes only when the future is awaited"]
pub struct PendingReply {
    conn: Arc<ClientConnection>,
    id: u32,
    deadline: Option<Instant>,
    done: bool,
}

impl Future for PendingReply {
    type Output = Result<Frame, TransportError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Unpin: its fields are borrowed apart (the state's lock, `done`).
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(Err(TransportError::Closed {
                sent: true,
                cause: CloseCause::Local,
            }));
        }
        let id = this.id;
        let mut st = this.conn.state.lock();
        let Some(i) = st.find(id) else {
            this.done = true;
            return Poll::Ready(Err(TransportError::Closed {
                sent: true,
                cause: st.closed.clone().unwrap_or(CloseCause::Local),
            }));
        };
        if let Some(reply) = st.waiters[i].reply.take() {
            st.remove(id);
            st.promote();
            this.done = true;
            return Poll::Ready(Ok(reply));
        }
        if let Some(cause) = st.closed.clone() {
            st.remove(id);
            this.done = true;
            return Poll::Ready(Err(TransportError::Closed { sent: true, cause }));
        }
        if this.deadline.is_some_and(|d| d <= Instant::now()) {
            st.remove(id);
            st.abandoned.push(id);
            st.promote();
            this.done = true;
            return Poll::Ready(Err(TransportError::Timeout));
        }
        if let Wake::Task { waker, .. } = &mut st.waiters[i].wake {
            match waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *waker = Some(cx.waker().clone()),
            }
        }
        // Someone must read for this future: a thread reading for its own reply delivers it
        // too; else the connection's async reader does.
        match &st.async_reader {
            Some(cv) => {
                if !st.reader {
                    cv.notify_one();
                }
            }
            None => {
                let cv = Arc::new(Condvar::new());
                st.async_reader = Some(cv.clone());
                let reader = this.conn.clone();
                let spawned = std::thread::Builder::new()
                    .name("rtorb-async-reader".into())
                    .spawn(move || reader.read_for_tasks(&cv));
                if let Err(e) = spawned {
                    st.async_reader = None;
                    st.remove(id);
                    this.done = true;
                    return Poll::Ready(Err(TransportError::Io {
                        what: "starting the reader of asynchronous replies",
                        source: e,
                    }));
                }
            }
        }
        Poll::Pending
    }
}

impl Drop for PendingReply {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // Given up: as a timed-out call, the server may still run the request.
        let mut st = self.conn.state.lock();
        if st.remove(self.id).is_some_and(|w| w.reply.is_none()) {
            st.abandoned.push(self.id);
        }
        st.promote();
    }
}

impl ClientConnection {
    /// The async reader: while futures wait for replies and no thread reads, reads the socket
    /// for them, wakes their tasks as their replies come and as their deadlines pass; stays
    /// [`ASYNC_READER_LINGER`] after the last one for the next, then leaves.
    fn read_for_tasks(&self, cv: &Condvar) {
        let mut st = self.state.lock();
        let mut idle_since = None;
        while st.closed.is_none() {
            let (waiting, earliest) = st.tasks_waiting();
            let now = Instant::now();
            if !waiting {
                let since = *idle_since.get_or_insert(now);
                if now.duration_since(since) >= ASYNC_READER_LINGER {
                    break;
                }
                st.promote();
                cv.wait_until(&mut st, since + ASYNC_READER_LINGER);
                continue;
            }
            idle_since = None;
            if earliest.is_some_and(|d| d <= now) {
                // Their futures see the deadline passed when polled, and give up.
                for w in &st.waiters {
                    if let Wake::Task {
                        deadline: Some(d), ..
                    } = &w.wake
                    {
                        if *d <= now && w.reply.is_none() {
                            w.wake.notify_one();
                        }
                    }
                }
            }
            if st.reader {
                // A thread reads for its own reply and delivers theirs; it hands the reading
                // back (`promote`) when it leaves.
                match earliest.filter(|d| *d > now) {
                    Some(d) => {
                        cv.wait_until(&mut st, d);
                    }
                    None => cv.wait(&mut st),
                }
                continue;
            }
            let slice = earliest
                .filter(|d| *d > now)
                .map_or(ASYNC_READ_SLICE, |d| (d - now).min(ASYNC_READ_SLICE));
            st = self.read_once(st, Some(slice));
        }
        st.async_reader = None;
        // Futures that came while it was leaving start another reader when polled; threads
        // waiting are handed the reading.
        st.promote();
        for w in &st.waiters {
            if w.wake.is_task() {
                w.wake.notify_one();
            }
        }
    }
}

/// Puts a reply in its caller's slot and wakes the caller; drops replies nobody waits for
/// (their caller timed out). An error means the connection must close.
fn deliver(st: &mut State, frame: Frame) -> Result<(), CloseCause> {
    let msg_type = frame.msg_type();
    match msg_type {
        MsgType::REPLY | MsgType::LOCATE_REPLY => {}
        // §15.5.1: the server processed none of the requests it did not answer.
        MsgType::CLOSE_CONNECTION => return Err(CloseCause::CloseConnection),
        MsgType::MESSAGE_ERROR => return Err(CloseCause::MessageError),
        // Requests from the server (bidirectional GIOP) are not supported: ignored.
        _ => return Ok(()),
    }
    let id = match frame.decode() {
        Ok(msg) => match msg.header() {
            Header::Reply(r) => r.request_id,
            Header::LocateReply(r) => r.request_id,
            _ => return Ok(()),
        },
        Err(e) => return Err(CloseCause::Protocol(e)),
    };
    if let Some(i) = st.find(id) {
        let w = &mut st.waiters[i];
        w.reply = Some(frame);
        w.wake.notify_one();
        let served = w.oneways_before;
        st.oneways_served = st.oneways_served.max(served);
    } else {
        st.abandoned.retain(|&a| a != id);
    }
    Ok(())
}

/// Why a message was not written.
enum WriteFailure {
    /// The connection broke (or was broken, the message cut short).
    Closed(CloseCause),
    /// The caller's deadline came first; nothing of the message is with the server.
    NotInTime,
}

impl WriteFailure {
    fn into_error(self) -> TransportError {
        match self {
            WriteFailure::Closed(cause) => TransportError::Closed { sent: false, cause },
            WriteFailure::NotInTime => TransportError::NotSentInTime,
        }
    }
}

/// What a write puts with the server, for [`ClientConnection::is_idle`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Written {
    /// A request whose reply the caller with this id awaits.
    Request(u32),
    Oneway,
    /// Nothing the server answers or runs (CancelRequest, CloseConnection, MessageError).
    Other,
}

impl std::fmt::Debug for ClientConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConnection")
            .field("endpoint", &self.endpoint)
            .field("dialect", &self.dialect)
            .finish_non_exhaustive()
    }
}

impl Drop for ClientConnection {
    fn drop(&mut self) {
        tracing::info!(
            target: "orb::connection",
            endpoint = %self.endpoint,
            side = "client",
            "connection closed"
        );
        self.stream.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_from_the_first_wait_is_fixed_there_once() {
        let t = Duration::from_secs(30);
        let d = Deadline::from_first_wait(t);
        // Not waited yet: not passed, whatever the time.
        assert!(!d.has_passed());
        let first = Instant::now();
        let at = d.instant_from(|| first).unwrap();
        assert_eq!(at, first + t);
        // Later waits keep the instant fixed at the first.
        assert_eq!(d.instant_from(|| first + t), Some(at));
        assert_eq!(d.instant(), Some(at));
        assert!(!d.has_passed());

        let past = Deadline::at(Some(first));
        assert_eq!(past.instant(), Some(first));
        assert!(past.has_passed());
        assert_eq!(Deadline::none().instant(), None);
        assert!(!Deadline::none().has_passed());
        // A timeout too long for an instant is none, not a panic.
        assert_eq!(Deadline::from_first_wait(Duration::MAX).instant(), None);
    }

    #[test]
    fn the_read_timeout_is_set_again_only_when_it_no_longer_fits() {
        let ms = Duration::from_millis;
        // The previous call's 30 s stands for this call's 30 s less a few microseconds.
        assert!(read_timeout_fits(
            Some(ms(30_000)),
            Some(ms(30_000) - Duration::from_micros(7))
        ));
        // Too long: the read would outlive the deadline by more than the slack.
        assert!(!read_timeout_fits(Some(ms(30_000)), Some(ms(100))));
        assert!(!read_timeout_fits(None, Some(ms(100))));
        // Too short: the reader would wake again and again before its deadline.
        assert!(!read_timeout_fits(
            Some(Duration::from_micros(1)),
            Some(ms(30_000))
        ));
        assert!(!read_timeout_fits(Some(ms(100)), None));
        assert!(read_timeout_fits(None, None));
    }

    #[test]
    fn request_ids_stay_unique_per_connection_whichever_threads_take_them() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = Endpoint::Iiop {
            host: "127.0.0.1".into(),
            port: listener.local_addr().unwrap().port(),
        };
        let connect = || {
            Arc::new(
                ClientConnection::connect(&endpoint, Dialect::Giop, &ClientOptions::default())
                    .unwrap(),
            )
        };
        let (a, b) = (connect(), connect());
        // Threads taking ids of one connection in turn, one of them switching between two
        // connections (its block of each let go at every switch).
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let (a, b) = (a.clone(), b.clone());
                std::thread::spawn(move || {
                    let mut ids = (Vec::new(), Vec::new());
                    for i in 0..100 {
                        ids.0.push(a.next_request_id());
                        if t == 0 && i % 3 == 0 {
                            ids.1.push(b.next_request_id());
                        }
                    }
                    ids
                })
            })
            .collect();
        let mut on_b: Vec<u32> = (0..50).map(|_| b.next_request_id()).collect();
        let mut on_a = Vec::new();
        for t in threads {
            let (x, y) = t.join().unwrap();
            on_a.extend(x);
            on_b.extend(y);
        }
        for (ids, n) in [(&mut on_a, 400), (&mut on_b, 84)] {
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), n, "an id was given twice on one connection");
        }
        // A new connection (a replacement, say) starts its own ids, whatever the thread
        // still holds of the old one's.
        let c = connect();
        assert_eq!(c.next_request_id(), 1);
    }
}
