//! A byte stream between two processes of one host through shared memory: two
//! single-producer single-consumer byte rings (one per direction) in a sealed, anonymous memfd,
//! set up over a Unix socket that then stays open as the liveness signal.
//!
//! - The client connects a Unix socket, creates the segment, seals its size and sends the
//!   descriptor with `SCM_RIGHTS`; the server checks the seals and the layout, maps it and
//!   acknowledges with one octet ([`Channel::connect`], [`Channel::accept`]).
//! - A [`Channel`] then reads and writes like a socket: [`Channel::read`] takes what the peer
//!   has published, [`Channel::write`] publishes what fits (a message bigger than the ring goes
//!   through it in parts). Head and tail counters are `AtomicU64`s in the segment, published
//!   with Release and read with Acquire ordering.
//! - A side that finds its ring empty (or full) yields its processor, then sleeps on a futex
//!   word in the segment after saying so in that word; the peer makes the wake-up system call
//!   only when the word says someone sleeps. A peer that runs while this side yields (on one
//!   processor: the peer it just woke) publishes without any system call, and a side that
//!   wakes takes everything published: a burst of messages costs far fewer wake-ups than it
//!   has messages ([`Channel::counters`]). Yields that come straight back (nothing else wants
//!   the processor) are repeated for a while before sleeping: a poll that costs no one
//!   anything. It does not spin: on a host whose processors are all busy a spin holds the one
//!   its peer waits for (measured: medians three times worse with a 50 µs adaptive spin,
//!   README). A side driven by a poller (epoll) rather than a blocked thread asks for a
//!   *doorbell* instead: one octet on the Unix socket, which makes the socket readable.
//! - [`Channel::read_in_place`] lends published octets to a closure straight from the ring
//!   (the zero-copy read); [`Channel::read`] copies them out.
//! - The Unix socket tells when the peer is gone: a peer that died (even by `SIGKILL`) has
//!   closed it. The process's watcher thread waits in `epoll` for every channel's socket to
//!   hang up and then wakes that channel's sleepers at once, so a read ends (end of stream)
//!   and a write fails, never stuck on the futex; a sleeper also looks at the socket itself
//!   at the end of each sleep slice (1 s, or [`LIVENESS_SLICE`] if the watcher could not be
//!   started). A peer that closes cleanly also marks the segment and wakes every word.
//! - The memfd has no name in any file system: nothing is left to reap after a crash. The
//!   descriptor is closed once mapped; the mapping goes with the [`Channel`].
//!
//! The peer is not trusted: counters read from the segment are checked against the ring's
//! capacity (a violation is `InvalidData`), each side keeps its own counter privately and
//! only publishes it, and a segment whose size is not sealed is refused. A peer can still
//! garble the octets of its own messages; what reads them must validate them (GIOP framing
//! does).

mod mapping;
mod watch;

use mapping::Mapping;
use parking_lot::Mutex;
use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer};
use rustix::net::{SendAncillaryMessage, SendFlags};
use rustix::thread::futex;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The default capacity of each ring.
pub const DEFAULT_CAPACITY: usize = 1 << 20;
/// The smallest and largest ring capacities a segment may have (powers of two).
pub const MIN_CAPACITY: usize = 1 << 12;
pub const MAX_CAPACITY: usize = 1 << 28;
/// The longest a sleeper waits before it looks whether the peer is still there, when the
/// process's watcher of hang-ups could not be set up.
pub const LIVENESS_SLICE: Duration = Duration::from_millis(50);
/// The same when the watcher wakes sleepers as soon as a peer's socket hangs up: a safety net.
/// (An hour in unit tests, so that they show the watcher is what wakes a sleeper.)
const WATCHED_SLICE: Duration = if cfg!(test) {
    Duration::from_secs(3600)
} else {
    Duration::from_secs(1)
};
/// A side yields its processor once before it sleeps (a peer queued on it runs meanwhile and
/// publishes without a wake-up call). A yield that came back later than this with nothing
/// published let something else run for a while — another process, or just a peer with
/// nothing to say — and the side stops yielding for a pause ([`YIELD_PAUSE_MIN`], doubled by
/// each such yield in a row up to [`YIELD_PAUSE_MAX`], back to the least once a yield pays):
/// under load a sleeper woken by the peer (which preempts) answers sooner than a yielder
/// queued behind other processes.
const LONG_YIELD: Duration = Duration::from_micros(200);
/// A side whose yields come straight back (nothing else wants its processor) yields again,
/// for up to this long, before it sleeps: a poll that costs no one anything, which keeps an
/// idle processor from halting — in a virtual machine, waking a halted processor for the
/// peer's wake-up took 25-30 µs. A yield that took longer than [`BUSY_YIELD`] means someone
/// else runs here: then it sleeps at once.
const YIELD_SPIN: Duration = Duration::from_micros(50);
const BUSY_YIELD: Duration = Duration::from_micros(10);
const YIELD_PAUSE_MIN: Duration = Duration::from_millis(1);
const YIELD_PAUSE_MAX: Duration = Duration::from_millis(128);

const MAGIC: u64 = u64::from_le_bytes(*b"RTORBSHM");
const VERSION: u32 = 1;
/// The octet the client sends with the descriptor, and the server's acknowledgement.
const HELLO: u8 = b'S';
const ACK: u8 = b'A';

// Layout of the segment: a header page, then the client-to-server ring's data, then the
// server-to-client ring's. Counters written by different sides sit on different cache lines.
const HEADER: usize = 4096;
const OFF_MAGIC: usize = 0;
const OFF_VERSION: usize = 8;
const OFF_CAPACITY: usize = 12;
/// `closed[side]`: that side has closed its end.
const OFF_CLOSED: usize = 64;
const RING_HEADERS: usize = 128;
const RING_HEADER_SIZE: usize = 512;
const R_HEAD: usize = 0;
const R_TAIL: usize = 128;
const R_READER_WAITING: usize = 256;
const R_WRITER_WAITING: usize = 384;

/// What a waiting word says about the side that may sleep on it.
const AWAKE: u32 = 0;
/// Sleeping on the futex: wake it with `FUTEX_WAKE`.
const SLEEPING: u32 = 1;
/// Waiting for the socket to become readable (a poller): send it a doorbell octet.
const DOORBELL: u32 = 2;

/// Which end of the channel this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Created the segment; writes ring 0, reads ring 1.
    Client = 0,
    /// Accepted it; writes ring 1, reads ring 0.
    Server = 1,
}

/// One direction: where its counters, waiting words and data are.
#[derive(Clone, Copy, Debug)]
struct Ring {
    header: usize,
    data: usize,
}

impl Ring {
    fn new(index: usize, capacity: usize) -> Ring {
        Ring {
            header: RING_HEADERS + index * RING_HEADER_SIZE,
            data: HEADER + index * capacity,
        }
    }
}

/// How reads or writes wait, as set by [`Channel::set_nonblocking`] and the timeouts.
#[derive(Debug, Default)]
struct Mode {
    nonblocking: AtomicBool,
    /// Nanoseconds; 0 = no timeout.
    read_timeout: AtomicU64,
    write_timeout: AtomicU64,
}

/// What the watcher of hang-ups may reach — the mapping (its waiting words) and the flag it
/// sets — and, behind the same pointer to keep a [`Channel`] small, this side's counts.
struct Shared {
    map: Mapping,
    /// The peer's socket hung up (the watcher saw it): the peer is gone.
    gone: AtomicBool,
    /// What [`LONG_YIELD`] sets: this side yields again from `yield_after` (nanoseconds since
    /// `epoch`), and the next pause is `yield_pause` long.
    epoch: Instant,
    yield_after: AtomicU64,
    yield_pause: AtomicU64,
    counters: Counters,
    /// Which channel of this process this is: a taken cursor says whose it is.
    id: u64,
    name: String,
}

impl Shared {
    /// The four waiting words (both rings' reader and writer).
    fn words(&self) -> impl Iterator<Item = &AtomicU32> {
        (0..2).flat_map(move |i| {
            let header = RING_HEADERS + i * RING_HEADER_SIZE;
            [R_READER_WAITING, R_WRITER_WAITING].map(|w| self.map.u32_at(header + w))
        })
    }
}

impl watch::OnHangUp for Shared {
    fn hung_up(&self) {
        self.gone.store(true, Ordering::SeqCst);
        for w in self.words() {
            // Changed before the wake: a sleeper that has not slept yet finds its word
            // changed and does not sleep (it has seen `gone` anyway, or will: SeqCst).
            if w.compare_exchange(SLEEPING, AWAKE, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                let _ = futex::wake(w, futex::Flags::empty(), u32::MAX);
            }
        }
    }
}

/// The shared-memory byte stream between two processes: see the crate documentation.
///
/// Reads and writes may come from different threads at once; concurrent reads (or writes) are
/// serialised.
pub struct Channel {
    shared: Arc<Shared>,
    /// The watcher's registration of the socket, while there is one.
    watched: Option<watch::Watched>,
    socket: UnixStream,
    side: Side,
    capacity: usize,
    tx: Ring,
    rx: Ring,
    /// The producer's own tail (the one in the segment is published, never read back) and
    /// the consumer's head as it last read it; `None` once taken
    /// ([`Channel::take_write_cursor`]).
    tail: Mutex<Option<Cursor>>,
    /// The consumer's own head and the producer's tail as it last read it; `None` once taken
    /// ([`Channel::take_read_cursor`]).
    head: Mutex<Option<Cursor>>,
    mode: Mode,
    /// This side stopped reading ([`Channel::shutdown_read`]): reads end at once.
    read_shut: AtomicBool,
    /// This side closed ([`Channel::shutdown`]).
    closed: AtomicBool,
}

/// One side's position in a ring, and the peer's as last read from the segment. The peer's
/// counter is read again only when what it allowed is used up (a reader that read everything
/// up to it, a writer short of room): a counter is a cache line the peer writes with every
/// message, and reading it each time costs a transfer of that line between processors while
/// both sides run at once.
#[derive(Debug)]
struct Cursor {
    /// This side's counter: octets it read (or wrote) so far.
    pos: u64,
    /// The peer's counter as last read, checked against the ring's capacity then.
    seen: u64,
    /// A reader's counter as last published to the writer (it lags `pos` while the reader
    /// goes on through what it knows is there: [`Channel::hand_back`]). Unused by a writer.
    published: u64,
}

/// This side's reading position, taken out of its channel ([`Channel::take_read_cursor`]) by
/// a reader that serialises its reads itself — the ORB reads a connection under a lock of its
/// own — so that [`Channel::read_in_place_at`] takes no lock of the channel's per read.
#[derive(Debug)]
pub struct ReadCursor {
    channel: u64,
    cursor: Cursor,
}

/// This side's writing position, taken out of its channel ([`Channel::take_write_cursor`]) by a
/// writer that serialises its writes itself, for [`Channel::write_all_at`].
#[derive(Debug)]
pub struct WriteCursor {
    channel: u64,
    cursor: Cursor,
}

fn cursor_taken(which: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "this channel's {which} cursor was taken: {which}s go through it (`{which}_at`), \
             not the channel's own methods"
        ),
    )
}

fn foreign_cursor() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "a cursor taken from another channel: use the one taken from this channel",
    )
}

/// What this side of a channel did to wait and to wake its peer, counted since it was set up:
/// [`Channel::counters`].
#[derive(Debug, Default)]
struct Counters {
    wakes: AtomicU64,
    sleeps: AtomicU64,
    yields: AtomicU64,
}

/// A snapshot of what a channel side counted: how often it made the system calls that the
/// rings exist to avoid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WaitCounts {
    /// Wake-ups sent to the peer: `FUTEX_WAKE` calls and doorbell octets, each made because
    /// the peer had said it waits.
    pub wakes: u64,
    /// Sleeps on the futex (`FUTEX_WAIT`) this side went into.
    pub sleeps: u64,
    /// Processor yields before a sleep (a process that may run on one processor only).
    pub yields: u64,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("side", &self.side)
            .field("capacity", &self.capacity)
            .field("segment", &self.shared.name)
            .finish_non_exhaustive()
    }
}

fn invalid(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

fn segment_len(capacity: usize) -> usize {
    HEADER + 2 * capacity
}

/// A name for a new segment, unique in this process (shown in `/proc/PID/maps`).
fn segment_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "rtorb-shmiop-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

impl Channel {
    /// Connects to the SHMIOP listener at `path` and sets up a segment with rings of
    /// `capacity` octets (a power of two from [`MIN_CAPACITY`] to [`MAX_CAPACITY`]). Waits at
    /// most `timeout` for the server's acknowledgement.
    pub fn connect(path: &Path, capacity: usize, timeout: Duration) -> io::Result<Channel> {
        Channel::connect_stream(UnixStream::connect(path)?, capacity, timeout)
    }

    /// [`connect`](Self::connect) over a socket already connected.
    pub fn connect_stream(
        socket: UnixStream,
        capacity: usize,
        timeout: Duration,
    ) -> io::Result<Channel> {
        if !capacity.is_power_of_two() || !(MIN_CAPACITY..=MAX_CAPACITY).contains(&capacity) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "ring capacity {capacity} is not a power of two from {MIN_CAPACITY} to \
                     {MAX_CAPACITY}"
                ),
            ));
        }
        let name = segment_name();
        let (map, fd) = Mapping::create(&name, segment_len(capacity))?;
        map.u64_at(OFF_MAGIC).store(MAGIC, Ordering::Relaxed);
        map.u32_at(OFF_VERSION).store(VERSION, Ordering::Relaxed);
        map.u32_at(OFF_CAPACITY)
            .store(capacity as u32, Ordering::Relaxed);
        // The sendmsg below orders these stores before the server's first look.
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        let fds = [fd.as_fd()];
        if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
            return Err(io::Error::other(
                "no room for the descriptor in the message",
            ));
        }
        rustix::net::sendmsg(
            &socket,
            &[IoSlice::new(&[HELLO])],
            &mut control,
            SendFlags::NOSIGNAL,
        )?;
        // Mapped here and passed on: the descriptor is not needed any more.
        drop(fd);
        socket.set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        let mut ack = [0u8];
        match (&socket).read(&mut ack) {
            Ok(1) if ack[0] == ACK => {}
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionRefused,
                    "the server closed the socket instead of accepting the segment \
                     (not a SHMIOP listener, or it refused the segment)",
                ))
            }
            Ok(_) => return Err(invalid("the server's acknowledgement is not SHMIOP's")),
            Err(e) => return Err(e),
        }
        socket.set_read_timeout(None)?;
        Ok(Channel::new(map, socket, Side::Client, capacity, name))
    }

    /// The server's side of the set-up on an accepted socket: receives the client's segment
    /// (waiting at most `timeout`), checks it, maps it and acknowledges it.
    pub fn accept(socket: UnixStream, timeout: Duration) -> io::Result<Channel> {
        socket.set_nonblocking(false)?;
        socket.set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let mut hello = [0u8];
        let got = rustix::net::recvmsg(
            &socket,
            &mut [IoSliceMut::new(&mut hello)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC,
        )?;
        let mut fd = None;
        for msg in control.drain() {
            if let RecvAncillaryMessage::ScmRights(fds) = msg {
                for f in fds {
                    // More than one descriptor: keep the first, close the others.
                    fd.get_or_insert(f);
                }
            }
        }
        if got.bytes == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the client closed before sending its segment",
            ));
        }
        if hello[0] != HELLO {
            return Err(invalid(
                "the client did not open with SHMIOP's greeting (is it a UIOP client?)",
            ));
        }
        let fd = fd.ok_or_else(|| invalid("the client's greeting carries no segment"))?;
        let size = Mapping::size_of(&fd)?;
        if size < HEADER as u64 {
            return Err(invalid(format!("segment of {size} octets, too small")));
        }
        let capacity = ((size - HEADER as u64) / 2) as usize;
        let map = Mapping::open(&fd, segment_len(capacity))?;
        drop(fd);
        let magic = map.u64_at(OFF_MAGIC).load(Ordering::Relaxed);
        let version = map.u32_at(OFF_VERSION).load(Ordering::Relaxed);
        let declared = map.u32_at(OFF_CAPACITY).load(Ordering::Relaxed) as usize;
        if magic != MAGIC || version != VERSION {
            return Err(invalid(format!(
                "segment header {magic:#x} version {version}: not a SHMIOP segment of version \
                 {VERSION}"
            )));
        }
        if declared != capacity
            || !capacity.is_power_of_two()
            || !(MIN_CAPACITY..=MAX_CAPACITY).contains(&capacity)
        {
            return Err(invalid(format!(
                "segment declares rings of {declared} octets in {size} octets"
            )));
        }
        // Armed before the client can write anything (it waits for the acknowledgement): a
        // poller that registers the socket later finds it readable if a request came first.
        // A blocked reader re-arms its word for the futex; the doorbell is then just drained.
        map.u32_at(Ring::new(0, capacity).header + R_READER_WAITING)
            .store(DOORBELL, Ordering::SeqCst);
        (&socket).write_all(&[ACK])?;
        socket.set_read_timeout(None)?;
        Ok(Channel::new(
            map,
            socket,
            Side::Server,
            capacity,
            format!("(the client's, {capacity} octets per ring)"),
        ))
    }

    fn new(map: Mapping, socket: UnixStream, side: Side, capacity: usize, name: String) -> Channel {
        let (tx, rx) = match side {
            Side::Client => (Ring::new(0, capacity), Ring::new(1, capacity)),
            Side::Server => (Ring::new(1, capacity), Ring::new(0, capacity)),
        };
        // Our counters start where the segment's are (zero for a fresh segment).
        let tail = map.u64_at(tx.header + R_TAIL).load(Ordering::Acquire);
        let head = map.u64_at(rx.header + R_HEAD).load(Ordering::Acquire);
        let shared = Arc::new(Shared {
            map,
            gone: AtomicBool::new(false),
            epoch: Instant::now(),
            yield_after: AtomicU64::new(0),
            yield_pause: AtomicU64::new(YIELD_PAUSE_MIN.as_nanos() as u64),
            counters: Counters::default(),
            id: {
                static NEXT: AtomicU64 = AtomicU64::new(1);
                NEXT.fetch_add(1, Ordering::Relaxed)
            },
            name,
        });
        let target: Arc<dyn watch::OnHangUp> = shared.clone();
        let watched = watch::Watched::new(socket.as_fd(), &target);
        Channel {
            shared,
            watched,
            socket,
            side,
            capacity,
            tx,
            rx,
            // Nothing seen of the peer yet: the first read and write look at its counter.
            tail: Mutex::new(Some(Cursor {
                pos: tail,
                seen: tail.wrapping_sub(capacity as u64),
                published: tail,
            })),
            head: Mutex::new(Some(Cursor {
                pos: head,
                seen: head,
                published: head,
            })),
            mode: Mode::default(),
            read_shut: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        }
    }

    /// Which end this is.
    pub fn side(&self) -> Side {
        self.side
    }

    /// Each ring's capacity in octets.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The segment's name as `/proc/PID/maps` shows it (`memfd:NAME (deleted)`), on the
    /// client side; the server describes the segment it mapped.
    pub fn segment_name(&self) -> &str {
        &self.shared.name
    }

    /// Whether a read would find something at once: octets the peer published that this
    /// side has not read, or the peer's close or death. Takes no lock and makes no system
    /// call: a look at the segment's counters and flags.
    pub fn has_input(&self) -> bool {
        let tail = self
            .map()
            .u64_at(self.rx.header + R_TAIL)
            .load(Ordering::Acquire);
        // This side's own head, as it last published it.
        let head = self
            .map()
            .u64_at(self.rx.header + R_HEAD)
            .load(Ordering::Relaxed);
        tail != head || self.peer_closed() || self.peer_gone()
    }

    /// How often this side woke its peer, slept and yielded so far.
    pub fn counters(&self) -> WaitCounts {
        let c = &self.shared.counters;
        WaitCounts {
            wakes: c.wakes.load(Ordering::Relaxed),
            sleeps: c.sleeps.load(Ordering::Relaxed),
            yields: c.yields.load(Ordering::Relaxed),
        }
    }

    /// The Unix socket's descriptor: a poller watches it for readability (doorbells, the
    /// peer's end of stream) when the channel is non-blocking.
    pub fn raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }

    /// Non-blocking: reads and writes that would wait return `WouldBlock` instead, and the
    /// peer rings the socket's doorbell when it publishes (or frees) something.
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        self.mode.nonblocking.store(on, Ordering::Relaxed);
        Ok(())
    }

    /// The longest a blocking read waits (`None`: no limit); then it fails with `WouldBlock`.
    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        store_timeout(&self.mode.read_timeout, t)
    }

    /// The longest a blocking write waits for room; then it fails with `WouldBlock`.
    pub fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        store_timeout(&self.mode.write_timeout, t)
    }

    fn map(&self) -> &Mapping {
        &self.shared.map
    }

    /// The peer died (its socket hung up), as the watcher saw it.
    fn peer_gone(&self) -> bool {
        self.shared.gone.load(Ordering::SeqCst)
    }

    fn peer_closed(&self) -> bool {
        let peer = 1 - self.side as usize;
        self.map()
            .u32_at(OFF_CLOSED + 4 * peer)
            .load(Ordering::Acquire)
            != 0
    }

    fn word(&self, ring: Ring, which: usize) -> &AtomicU32 {
        self.map().u32_at(ring.header + which)
    }

    /// Octets published and not yet read in the receiving ring, checked.
    fn readable(&self, head: u64) -> io::Result<usize> {
        let tail = self
            .map()
            .u64_at(self.rx.header + R_TAIL)
            .load(Ordering::Acquire);
        let avail = tail.wrapping_sub(head);
        if avail > self.capacity as u64 {
            return Err(invalid(format!(
                "the peer published a tail {avail} octets ahead in a ring of {}",
                self.capacity
            )));
        }
        Ok(avail as usize)
    }

    /// Room left in the sending ring, checked.
    fn writable(&self, tail: u64) -> io::Result<usize> {
        let head = self
            .map()
            .u64_at(self.tx.header + R_HEAD)
            .load(Ordering::Acquire);
        let used = tail.wrapping_sub(head);
        if used > self.capacity as u64 {
            return Err(invalid(format!(
                "the peer's head is {used} octets behind in a ring of {}",
                self.capacity
            )));
        }
        Ok(self.capacity - used as usize)
    }

    /// Octets published and not yet read, as far as this side knows: the peer's tail is read
    /// again (checked) only once everything up to the last one seen was read.
    fn readable_cached(&self, cur: &mut Cursor) -> io::Result<usize> {
        let known = cur.seen.wrapping_sub(cur.pos);
        if known > 0 {
            return Ok(known as usize);
        }
        let avail = self.readable(cur.pos)?;
        cur.seen = cur.pos.wrapping_add(avail as u64);
        Ok(avail)
    }

    /// Room in the sending ring, as far as this side knows: the peer's head is read again
    /// (checked) only when the room known is less than `wanted`.
    fn writable_cached(&self, cur: &mut Cursor, wanted: usize) -> io::Result<usize> {
        let known = self.capacity - cur.pos.wrapping_sub(cur.seen) as usize;
        if known >= wanted {
            return Ok(known);
        }
        let room = self.writable(cur.pos)?;
        cur.seen = cur.pos.wrapping_sub((self.capacity - room) as u64);
        Ok(room)
    }

    /// Wakes the side that may wait on `word`, only if it said it waits.
    fn notify(&self, word: &AtomicU32) {
        // Pairs with the fence in `sleep`: either the sleeper sees what was just published,
        // or this sees its waiting word.
        fence(Ordering::SeqCst);
        if word.load(Ordering::Relaxed) == AWAKE {
            return;
        }
        match word.swap(AWAKE, Ordering::AcqRel) {
            SLEEPING => {
                self.shared.counters.wakes.fetch_add(1, Ordering::Relaxed);
                let _ = futex::wake(word, futex::Flags::empty(), u32::MAX);
            }
            DOORBELL => {
                self.shared.counters.wakes.fetch_add(1, Ordering::Relaxed);
                // A full socket buffer already holds doorbells; a gone peer needs none.
                let _ = rustix::net::send(
                    &self.socket,
                    &[0],
                    SendFlags::DONTWAIT | SendFlags::NOSIGNAL,
                );
            }
            _ => {}
        }
    }

    /// Reads what the peer published, at most `buf.len()` octets: blocks (within the read
    /// timeout) until something comes, unless non-blocking. `Ok(0)`: end of stream (the peer
    /// closed or died, or this side stopped reading), once everything published was read.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut guard = self.head.lock();
        let head = guard.as_mut().ok_or_else(|| cursor_taken("read"))?;
        if buf.is_empty() {
            return Ok(0);
        }
        if self.mode.nonblocking.load(Ordering::Relaxed) {
            return self.read_polled(head, buf);
        }
        self.read_blocking(head, |ch, head| ch.take(head, buf))
    }

    /// Takes this side's reading position out of the channel (once: `None` after), for
    /// [`read_in_place_at`](Self::read_in_place_at). The channel's own reads then fail with
    /// `InvalidInput`.
    pub fn take_read_cursor(&self) -> Option<ReadCursor> {
        let cursor = self.head.lock().take()?;
        Some(ReadCursor {
            channel: self.shared.id,
            cursor,
        })
    }

    /// [`read_in_place`](Self::read_in_place) from a cursor taken from this channel: no lock
    /// is taken (the `&mut` is the caller's serialisation). A cursor of another channel is
    /// `InvalidInput`.
    pub fn read_in_place_at(
        &self,
        cursor: &mut ReadCursor,
        consume: impl FnOnce(&[u8]) -> usize,
    ) -> io::Result<usize> {
        if cursor.channel != self.shared.id {
            return Err(foreign_cursor());
        }
        self.read_in_place_from(&mut cursor.cursor, consume)
    }

    /// Reads in place, without copying: calls `consume` once with octets the peer published —
    /// as many as lie contiguous in the ring from this side's position, which is all of them
    /// unless they wrap around the ring's end (all of them as of this side's last look at the
    /// peer's counter: it looks again once those are read) — and then hands back to the
    /// writer as many as `consume` says it took (at most those it was given): the rest are
    /// lent again by the next read, which finds them at once. `consume` must copy out what it
    /// keeps: the octets are the ring's, lent for the call. Returns how many it was given;
    /// blocks, ends (`Ok(0)`, `consume` not called) and fails as [`read`](Self::read) does.
    /// Non-blocking, it does not stop short to arm the doorbell: a poller calls it again until
    /// `WouldBlock`.
    pub fn read_in_place(&self, consume: impl FnOnce(&[u8]) -> usize) -> io::Result<usize> {
        let mut guard = self.head.lock();
        let head = guard.as_mut().ok_or_else(|| cursor_taken("read"))?;
        self.read_in_place_from(head, consume)
    }

    fn read_in_place_from(
        &self,
        head: &mut Cursor,
        consume: impl FnOnce(&[u8]) -> usize,
    ) -> io::Result<usize> {
        let mut consume = Some(consume);
        if !self.mode.nonblocking.load(Ordering::Relaxed) {
            return self.read_blocking(head, |ch, head| ch.take_in_place(head, &mut consume));
        }
        if self.read_shut.load(Ordering::Acquire) || self.closed.load(Ordering::Acquire) {
            return Ok(0);
        }
        let n = self.take_in_place(head, &mut consume)?;
        if n > 0 {
            return Ok(n);
        }
        // As in `read_polled`: doorbells rung are taken off first, then it is armed.
        let live = self.drain_socket();
        self.word(self.rx, R_READER_WAITING)
            .store(DOORBELL, Ordering::SeqCst);
        // Pairs with the fence in `notify`.
        fence(Ordering::SeqCst);
        let n = self.take_in_place(head, &mut consume)?;
        if n > 0 {
            return Ok(n);
        }
        if matches!(live, Liveness::Gone) || self.peer_closed() {
            return Ok(0);
        }
        Err(io::ErrorKind::WouldBlock.into())
    }

    /// The blocking read: `take` until it takes something, waiting in between.
    fn read_blocking(
        &self,
        head: &mut Cursor,
        mut take: impl FnMut(&Channel, &mut Cursor) -> io::Result<usize>,
    ) -> io::Result<usize> {
        // Computed at the first wait only: a read that finds data reads no clock.
        let mut deadline = None;
        let waiting = self.word(self.rx, R_READER_WAITING);
        loop {
            if self.read_shut.load(Ordering::Acquire) || self.closed.load(Ordering::Acquire) {
                return Ok(0);
            }
            let n = take(self, head)?;
            if n > 0 {
                return Ok(n);
            }
            // Whatever the peer published before it closed or died is read first (also what
            // it published between the look above and its closing).
            if (self.peer_closed() || self.peer_gone()) && self.readable(head.pos)? == 0 {
                return Ok(0);
            }
            let h = head.pos;
            let ready = || {
                self.readable(h).map_or(true, |a| a > 0)
                    || self.peer_closed()
                    || self.peer_gone()
                    || self.read_shut.load(Ordering::Acquire)
                    || self.closed.load(Ordering::Acquire)
            };
            let until = *deadline.get_or_insert_with(|| deadline_of(&self.mode.read_timeout));
            match self.wait(waiting, ready, until)? {
                Waited::Ready => {}
                Waited::PeerGone => {
                    // Whatever it published before it died is still read first.
                    if self.readable(head.pos)? == 0 {
                        return Ok(0);
                    }
                }
            }
        }
    }

    /// Copies what is published, up to `buf.len()`, and hands the room back to the writer.
    fn take(&self, head: &mut Cursor, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.readable_cached(head)?.min(buf.len());
        if n == 0 {
            return Ok(0);
        }
        self.copy_out(head.pos, &mut buf[..n]);
        self.hand_back(head, n);
        Ok(n)
    }

    /// Lends the published octets that are contiguous from `head` to `consume` (taken out of
    /// its option: called at most once), then hands them back to the writer.
    fn take_in_place(
        &self,
        head: &mut Cursor,
        consume: &mut Option<impl FnOnce(&[u8]) -> usize>,
    ) -> io::Result<usize> {
        let avail = self.readable_cached(head)?;
        if avail == 0 {
            return Ok(0);
        }
        let Some(consume) = consume.take() else {
            return Ok(0);
        };
        let at = (head.pos as usize) & (self.capacity - 1);
        let n = avail.min(self.capacity - at);
        let taken = self.map().with_bytes(self.rx.data + at, n, consume).min(n);
        self.hand_back(head, taken);
        Ok(n)
    }

    /// Moves the head past `n` octets just read, and publishes it (waking a writer waiting for
    /// room) once this side has read everything it knew was there, has held back a quarter of
    /// the ring, or sees the writer waiting: a burst of messages read one at a time is handed
    /// back once rather than once per message, each publication costing a fence (`notify`).
    /// The head is thus published before this side waits (it waits only having read all it
    /// knew of) and before a reader is left with nothing to read (so `has_input` stays
    /// exact). The writer's waiting word is looked at without a fence: a writer that says it
    /// waits just after the look is seen at the next hand-back, which comes, since the reader
    /// it waits for has unread octets (its ring is full) — or when those are all read.
    fn hand_back(&self, head: &mut Cursor, n: usize) {
        head.pos = head.pos.wrapping_add(n as u64);
        let writer = self.word(self.rx, R_WRITER_WAITING);
        let held = head.pos.wrapping_sub(head.published);
        if head.pos != head.seen
            && held < (self.capacity / 4) as u64
            && writer.load(Ordering::Relaxed) == AWAKE
        {
            return;
        }
        head.published = head.pos;
        self.map()
            .u64_at(self.rx.header + R_HEAD)
            .store(head.pos, Ordering::Release);
        self.notify(writer);
    }

    /// A non-blocking read for a poller with edge-triggered readiness, which stops at a short
    /// read: so a read returns short only with the doorbell armed, so that whatever the peer
    /// publishes next rings the socket. `WouldBlock` when nothing was there.
    fn read_polled(&self, head: &mut Cursor, buf: &mut [u8]) -> io::Result<usize> {
        let waiting = self.word(self.rx, R_READER_WAITING);
        let mut n = 0;
        loop {
            if self.read_shut.load(Ordering::Acquire) || self.closed.load(Ordering::Acquire) {
                return Ok(n);
            }
            n += self.take(head, &mut buf[n..])?;
            if n == buf.len() {
                return Ok(n);
            }
            // Doorbells already rung are taken off the socket before arming it again (after,
            // they could be the one announcing what the look below misses).
            let live = self.drain_socket();
            waiting.store(DOORBELL, Ordering::SeqCst);
            // Pairs with the fence in `notify`.
            fence(Ordering::SeqCst);
            if self.readable(head.pos)? > 0 {
                // Left armed: at worst one doorbell too many.
                continue;
            }
            if n > 0 {
                return Ok(n);
            }
            if matches!(live, Liveness::Gone) || self.peer_closed() {
                return Ok(0);
            }
            return Err(io::ErrorKind::WouldBlock.into());
        }
    }

    /// Publishes as much of `bufs` as fits, at least one octet: blocks (within the write
    /// timeout) while the ring is full, unless non-blocking. Fails with `BrokenPipe` once the
    /// peer closed or died.
    pub fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut guard = self.tail.lock();
        let tail = guard.as_mut().ok_or_else(|| cursor_taken("write"))?;
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total == 0 {
            return Ok(0);
        }
        // As for reads: a write that finds room reads no clock.
        let mut deadline = None;
        loop {
            let n = self.publish(tail, bufs, |b| b, 0, total)?;
            if n > 0 {
                return Ok(n);
            }
            let until = *deadline.get_or_insert_with(|| deadline_of(&self.mode.write_timeout));
            self.wait_for_room(tail.pos, until)?;
        }
    }

    /// Publishes every octet of `segments` as one message: nothing else written through this
    /// channel comes between them. Waits for room as often as the message needs, until
    /// `deadline` or the write timeout counted from the first wait, whichever comes first — a
    /// message that finds room reads no clock, and one bigger than the ring is bounded as a
    /// whole, not per part. On failure returns how many octets went out, with the error:
    /// `WouldBlock` if none did by the deadline, `TimedOut` if part did (the peer cannot make
    /// sense of the rest of the stream any more), `BrokenPipe` once the peer closed or died.
    pub fn write_all<S: AsRef<[u8]>>(
        &self,
        segments: &[S],
        deadline: Option<Instant>,
    ) -> Result<(), (usize, io::Error)> {
        let mut guard = self.tail.lock();
        let tail = guard.as_mut().ok_or_else(|| (0, cursor_taken("write")))?;
        self.write_all_from(tail, segments, || deadline)
    }

    /// Takes this side's writing position out of the channel (once: `None` after), for
    /// [`write_all_at`](Self::write_all_at). The channel's own writes then fail with
    /// `InvalidInput`.
    pub fn take_write_cursor(&self) -> Option<WriteCursor> {
        let cursor = self.tail.lock().take()?;
        Some(WriteCursor {
            channel: self.shared.id,
            cursor,
        })
    }

    /// [`write_all`](Self::write_all) from a cursor taken from this channel: no lock is taken
    /// (the `&mut` is the caller's serialisation). A cursor of another channel is
    /// `InvalidInput`.
    pub fn write_all_at<S: AsRef<[u8]>>(
        &self,
        cursor: &mut WriteCursor,
        segments: &[S],
        deadline: Option<Instant>,
    ) -> Result<(), (usize, io::Error)> {
        self.write_all_at_until(cursor, segments, || deadline)
    }

    /// [`write_all_at`](Self::write_all_at) with the deadline asked of `deadline` only if the
    /// message has to wait for room (at most once): a caller whose own bound counts from its
    /// first wait fixes it there, and a message that finds room reads no clock for it.
    pub fn write_all_at_until<S: AsRef<[u8]>>(
        &self,
        cursor: &mut WriteCursor,
        segments: &[S],
        deadline: impl FnOnce() -> Option<Instant>,
    ) -> Result<(), (usize, io::Error)> {
        if cursor.channel != self.shared.id {
            return Err((0, foreign_cursor()));
        }
        self.write_all_from(&mut cursor.cursor, segments, deadline)
    }

    fn write_all_from<S: AsRef<[u8]>>(
        &self,
        tail: &mut Cursor,
        segments: &[S],
        deadline: impl FnOnce() -> Option<Instant>,
    ) -> Result<(), (usize, io::Error)> {
        let total: usize = segments.iter().map(|s| s.as_ref().len()).sum();
        let mut done = 0;
        let mut until = None;
        let mut deadline = Some(deadline);
        while done < total {
            done += self
                .publish(tail, segments, AsRef::as_ref, done, total - done)
                .map_err(|e| (done, e))?;
            if done == total {
                break;
            }
            let until = *until.get_or_insert_with(|| {
                let deadline = deadline.take().and_then(|f| f());
                match (deadline, deadline_of(&self.mode.write_timeout)) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            });
            match self.wait_for_room(tail.pos, until) {
                Ok(()) => {}
                Err(e) if done > 0 && e.kind() == io::ErrorKind::WouldBlock => {
                    return Err((done, io::ErrorKind::TimedOut.into()))
                }
                Err(e) => return Err((done, e)),
            }
        }
        Ok(())
    }

    /// Copies as much of `segments`' octets (each seen through `octets`) from offset `skip`
    /// on as the ring has room for, at most `len`, and publishes them. 0: the ring is full.
    /// `BrokenPipe` once either side closed or the peer died.
    fn publish<S>(
        &self,
        tail: &mut Cursor,
        segments: &[S],
        octets: impl Fn(&S) -> &[u8],
        mut skip: usize,
        len: usize,
    ) -> io::Result<usize> {
        if self.closed.load(Ordering::Acquire) || self.peer_closed() || self.peer_gone() {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let n = self.writable_cached(tail, len)?.min(len);
        if n == 0 {
            return Ok(0);
        }
        let mut at = tail.pos;
        let mut left = n;
        for seg in segments {
            let seg = octets(seg);
            if skip >= seg.len() {
                skip -= seg.len();
                continue;
            }
            let take = (seg.len() - skip).min(left);
            self.copy_in(at, &seg[skip..skip + take]);
            skip = 0;
            at = at.wrapping_add(take as u64);
            left -= take;
            if left == 0 {
                break;
            }
        }
        tail.pos = at;
        self.map()
            .u64_at(self.tx.header + R_TAIL)
            .store(at, Ordering::Release);
        self.notify(self.word(self.tx, R_READER_WAITING));
        Ok(n)
    }

    /// Waits until the sending ring has room past `tail` (`Ok`), the deadline (`WouldBlock`)
    /// or the peer's end (`BrokenPipe`).
    fn wait_for_room(&self, tail: u64, deadline: Option<Instant>) -> io::Result<()> {
        let ready = || {
            self.writable(tail).map_or(true, |r| r > 0)
                || self.peer_closed()
                || self.peer_gone()
                || self.closed.load(Ordering::Acquire)
        };
        match self.wait(self.word(self.tx, R_WRITER_WAITING), ready, deadline)? {
            Waited::Ready => Ok(()),
            Waited::PeerGone => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }

    /// [`write_vectored`](Self::write_vectored) of one buffer.
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }

    fn copy_in(&self, pos: u64, mut src: &[u8]) {
        let mut pos = pos;
        while !src.is_empty() {
            let at = (pos as usize) & (self.capacity - 1);
            let n = src.len().min(self.capacity - at);
            self.map().write_bytes(self.tx.data + at, &src[..n]);
            src = &src[n..];
            pos = pos.wrapping_add(n as u64);
        }
    }

    fn copy_out(&self, pos: u64, dst: &mut [u8]) {
        let mut pos = pos;
        let mut done = 0;
        while done < dst.len() {
            let at = (pos as usize) & (self.capacity - 1);
            let n = (dst.len() - done).min(self.capacity - at);
            self.map()
                .read_bytes(self.rx.data + at, &mut dst[done..done + n]);
            done += n;
            pos = pos.wrapping_add(n as u64);
        }
    }

    /// Waits until `ready` (yielding once, then sleeping on `word`), the deadline (`WouldBlock`),
    /// or the peer's death. Non-blocking, asks the peer for a doorbell and returns
    /// `WouldBlock` at once.
    fn wait(
        &self,
        word: &AtomicU32,
        ready: impl Fn() -> bool,
        deadline: Option<Instant>,
    ) -> io::Result<Waited> {
        if self.mode.nonblocking.load(Ordering::Relaxed) {
            // Only writes come here (reads have `read_polled`). The socket is not drained:
            // a doorbell on it may be the reading direction's, not yet seen by the poller.
            word.store(DOORBELL, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            if ready() {
                return Ok(Waited::Ready);
            }
            return Err(io::ErrorKind::WouldBlock.into());
        }
        if self.yield_once(&ready) {
            return Ok(Waited::Ready);
        }
        loop {
            word.store(SLEEPING, Ordering::SeqCst);
            // Pairs with the fence in `notify`.
            fence(Ordering::SeqCst);
            if ready() {
                word.store(AWAKE, Ordering::Relaxed);
                return Ok(Waited::Ready);
            }
            let now = Instant::now();
            let longest = if self.watched.is_some() {
                WATCHED_SLICE
            } else {
                LIVENESS_SLICE
            };
            let slice = match deadline {
                Some(d) if d <= now => {
                    word.store(AWAKE, Ordering::Relaxed);
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                Some(d) => (d - now).min(longest),
                None => longest,
            };
            let ts = futex::Timespec {
                tv_sec: slice.as_secs() as _,
                tv_nsec: slice.subsec_nanos() as _,
            };
            self.shared.counters.sleeps.fetch_add(1, Ordering::Relaxed);
            // EAGAIN (the word changed: woken before sleeping), EINTR and ETIMEDOUT all mean
            // look again.
            let _ = futex::wait(word, futex::Flags::empty(), SLEEPING, Some(&ts));
            word.store(AWAKE, Ordering::Relaxed);
            if ready() {
                return Ok(Waited::Ready);
            }
            if let Liveness::Gone = self.drain_socket() {
                return Ok(Waited::PeerGone);
            }
        }
    }

    /// Yields the processor before sleeping: a peer that was preempted by this side's
    /// wake-up, or is queued behind it on this processor, runs now and publishes while this
    /// side still says it is awake, so neither side makes a wake-up call or sleeps — a burst
    /// of oneways is read in one go instead of one wake-up each. With nothing else to run
    /// here the yield returns at once, and is repeated for up to [`YIELD_SPIN`] (a peer on
    /// another processor is watched without halting this one). True if `ready` came true
    /// meanwhile.
    fn yield_once(&self, ready: &impl Fn() -> bool) -> bool {
        let shared = &*self.shared;
        let start = Instant::now();
        let since_epoch = start.duration_since(shared.epoch).as_nanos() as u64;
        if since_epoch < shared.yield_after.load(Ordering::Relaxed) {
            return false;
        }
        let least = YIELD_PAUSE_MIN.as_nanos() as u64;
        let mut before = start;
        loop {
            shared.counters.yields.fetch_add(1, Ordering::Relaxed);
            rustix::thread::sched_yield();
            if ready() {
                if shared.yield_pause.load(Ordering::Relaxed) != least {
                    shared.yield_pause.store(least, Ordering::Relaxed);
                }
                return true;
            }
            let after = Instant::now();
            let took = after.duration_since(before);
            if took >= LONG_YIELD {
                let pause = shared.yield_pause.load(Ordering::Relaxed);
                let now = after.duration_since(shared.epoch).as_nanos() as u64;
                shared.yield_after.store(now + pause, Ordering::Relaxed);
                let most = YIELD_PAUSE_MAX.as_nanos() as u64;
                shared
                    .yield_pause
                    .store((pause * 2).min(most), Ordering::Relaxed);
                return false;
            }
            if took >= BUSY_YIELD || after.duration_since(start) >= YIELD_SPIN {
                return false;
            }
            before = after;
        }
    }

    /// Takes doorbells off the socket without blocking and says whether the peer is there.
    fn drain_socket(&self) -> Liveness {
        let mut sink = [0u8; 64];
        loop {
            match rustix::net::recv(&self.socket, &mut sink[..], RecvFlags::DONTWAIT) {
                Ok((0, _)) => return Liveness::Gone,
                Ok(_) => continue,
                Err(rustix::io::Errno::AGAIN) => return Liveness::Alive,
                Err(rustix::io::Errno::INTR) => continue,
                Err(_) => return Liveness::Gone,
            }
        }
    }

    /// Stops this side's reading: a read under way or to come ends (`Ok(0)`); writes go on.
    pub fn shutdown_read(&self) {
        self.read_shut.store(true, Ordering::Release);
        self.wake_all();
    }

    /// Closes this side: the peer reads what was published and then the end of stream, its
    /// writes fail; waits on either side end. The socket is shut down too.
    pub fn shutdown(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.map()
            .u32_at(OFF_CLOSED + 4 * self.side as usize)
            .store(1, Ordering::Release);
        self.wake_all();
        let _ = self.socket.shutdown(std::net::Shutdown::Both);
    }

    /// Wakes every sleeper of both rings, in both processes.
    fn wake_all(&self) {
        for ring in [self.tx, self.rx] {
            for which in [R_READER_WAITING, R_WRITER_WAITING] {
                let w = self.word(ring, which);
                // A poller waiting on the socket is woken by the socket's shutdown instead.
                if w.load(Ordering::Acquire) == SLEEPING {
                    w.store(AWAKE, Ordering::Release);
                }
                let _ = futex::wake(w, futex::Flags::empty(), u32::MAX);
            }
        }
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        if let Some(w) = self.watched.take() {
            w.remove(self.socket.as_fd());
        }
        self.shutdown();
    }
}

enum Waited {
    Ready,
    PeerGone,
}

enum Liveness {
    Alive,
    Gone,
}

fn store_timeout(slot: &AtomicU64, t: Option<Duration>) -> io::Result<()> {
    let ns = match t {
        None => 0,
        Some(d) if d.is_zero() => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a zero timeout (use None for no timeout)",
            ))
        }
        Some(d) => (d.as_nanos() as u64).max(1),
    };
    slot.store(ns, Ordering::Relaxed);
    Ok(())
}

fn deadline_of(slot: &AtomicU64) -> Option<Instant> {
    match slot.load(Ordering::Relaxed) {
        0 => None,
        ns => Some(Instant::now() + Duration::from_nanos(ns)),
    }
}

#[cfg(test)]
mod tests;
