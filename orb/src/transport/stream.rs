//! The two socket families and the shared-memory channel behind one face, in their two modes:
//! non-blocking (mio, for the reactor) and blocking (std, for thread-per-connection servers and
//! for clients); and the outgoing queue that gathers a connection's pending segments into
//! vectored writes.
//!
//! A SHMIOP connection ([`shmring::Channel`]) reads and writes like a socket. Blocking, it
//! yields and then waits on futexes in the shared segment (no wake-up call while the peer
//! keeps it busy), and is read in place ([`BlockingStream::read_with`]);
//! non-blocking, under the reactor, its Unix socket is what the poller watches: the peer
//! rings it with one octet when it publishes to a side that said it waits there.

use super::endpoint::Endpoint;
use super::TransportError;
use crate::buffers::{self, AllocatorStrategy};
use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

/// How many segments one `writev` is given: far below every system's `IOV_MAX` (1,024 on
/// Linux), and more than a GIOP message is ever cut into.
const MAX_IOV: usize = 64;

/// How long a server waits for a SHMIOP client's segment after accepting its socket: the
/// client sends it right after connecting.
pub(crate) const SHM_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(2);

/// A connected non-blocking socket.
#[derive(Debug)]
pub(crate) enum MioStream {
    Tcp(mio::net::TcpStream),
    Unix(mio::net::UnixStream),
    /// Non-blocking: reads stop short only with the doorbell armed (see [`shmring`]).
    Shm(shmring::Channel),
}

impl MioStream {
    pub(crate) fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            MioStream::Tcp(s) => (&*s).read(buf),
            MioStream::Unix(s) => (&*s).read(buf),
            MioStream::Shm(c) => c.read(buf),
        }
    }

    pub(crate) fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            MioStream::Tcp(s) => write_iov(&mut &*s, bufs),
            MioStream::Unix(s) => write_iov(&mut &*s, bufs),
            MioStream::Shm(c) => c.write_vectored(bufs),
        }
    }

    pub(crate) fn shutdown(&self) {
        // The peer may already be gone: nothing useful to do with the error.
        let _ = match self {
            MioStream::Tcp(s) => s.shutdown(Shutdown::Both),
            MioStream::Unix(s) => s.shutdown(Shutdown::Both),
            MioStream::Shm(c) => {
                c.shutdown();
                Ok(())
            }
        };
    }

    /// The descriptor the reactor polls: for SHMIOP, its Unix socket (doorbells, end of
    /// stream).
    pub(crate) fn raw_fd(&self) -> RawFd {
        match self {
            MioStream::Tcp(s) => s.as_raw_fd(),
            MioStream::Unix(s) => s.as_raw_fd(),
            MioStream::Shm(c) => c.raw_fd(),
        }
    }

    /// Whether room made by the peer shows as readability rather than writability: a SHMIOP
    /// peer that frees room in a ring this side waits on rings the socket's doorbell.
    pub(crate) fn writable_when_readable(&self) -> bool {
        matches!(self, MioStream::Shm(_))
    }

    /// The blocking std socket for the same connection (thread-per-connection servers accept
    /// through mio so that shutdown can wake the acceptor, then block on each connection).
    pub(crate) fn into_blocking(self) -> io::Result<BlockingStream> {
        Ok(match self {
            MioStream::Tcp(s) => {
                let s = std::net::TcpStream::from(s);
                s.set_nonblocking(false)?;
                BlockingStream::Tcp(s)
            }
            MioStream::Unix(s) => {
                let s = std::os::unix::net::UnixStream::from(s);
                s.set_nonblocking(false)?;
                BlockingStream::Unix(s)
            }
            MioStream::Shm(c) => {
                c.set_nonblocking(false)?;
                BlockingStream::Shm(c)
            }
        })
    }
}

/// A connected blocking socket.
#[derive(Debug)]
pub(crate) enum BlockingStream {
    Tcp(std::net::TcpStream),
    Unix(std::os::unix::net::UnixStream),
    Shm(shmring::Channel),
}

impl BlockingStream {
    /// Connects, with `TCP_NODELAY` set (a GIOP request is one write that must leave now,
    /// not wait for Nagle's algorithm to merge it with a next one that never comes).
    /// Connects; a SHMIOP connection gets rings of `shm_ring_size` octets.
    pub(crate) fn connect(
        endpoint: &Endpoint,
        timeout: Duration,
        shm_ring_size: usize,
    ) -> Result<BlockingStream, TransportError> {
        match endpoint {
            Endpoint::Iiop { host, port } => {
                if host.is_empty() {
                    return Err(TransportError::Connect {
                        endpoint: endpoint.to_string(),
                        source: io::Error::new(
                            io::ErrorKind::InvalidInput,
                            "no host to connect to",
                        ),
                    });
                }
                let addrs =
                    Endpoint::socket_addrs(host, *port).map_err(|e| TransportError::Connect {
                        endpoint: endpoint.to_string(),
                        source: e,
                    })?;
                let mut last = io::Error::new(io::ErrorKind::NotFound, "host has no address");
                for addr in addrs {
                    match std::net::TcpStream::connect_timeout(&addr, timeout) {
                        Ok(s) => {
                            s.set_nodelay(true).map_err(|e| TransportError::Connect {
                                endpoint: endpoint.to_string(),
                                source: e,
                            })?;
                            return Ok(BlockingStream::Tcp(s));
                        }
                        Err(e) => last = e,
                    }
                }
                Err(TransportError::Connect {
                    endpoint: endpoint.to_string(),
                    source: last,
                })
            }
            // A local connect does not wait on a network: it succeeds or is refused at once.
            Endpoint::Uiop { path } => std::os::unix::net::UnixStream::connect(path)
                .map(BlockingStream::Unix)
                .map_err(|e| TransportError::Connect {
                    endpoint: endpoint.to_string(),
                    source: e,
                }),
            Endpoint::Shmiop { path } => shmring::Channel::connect(path, shm_ring_size, timeout)
                .map(BlockingStream::Shm)
                .map_err(|e| TransportError::Connect {
                    endpoint: endpoint.to_string(),
                    source: e,
                }),
        }
    }

    pub(crate) fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            BlockingStream::Tcp(s) => (&*s).read(buf),
            BlockingStream::Unix(s) => (&*s).read(buf),
            BlockingStream::Shm(c) => c.read(buf),
        }
    }

    /// Reads once and gives what came to `consume`, returning how much that was (0: end of
    /// stream, `consume` not called). A socket's octets are read into `buf` first; a SHMIOP
    /// channel's are lent in place from its ring, without that copy (see
    /// [`shmring::Channel::read_in_place`]), so `consume` must copy out what it keeps.
    pub(crate) fn read_with(
        &self,
        buf: &mut [u8],
        consume: impl FnOnce(&[u8]),
    ) -> io::Result<usize> {
        if let BlockingStream::Shm(c) = self {
            return c.read_in_place(|octets| {
                consume(octets);
                octets.len()
            });
        }
        let n = self.read(buf)?;
        if n > 0 {
            consume(&buf[..n]);
        }
        Ok(n)
    }

    pub(crate) fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            BlockingStream::Tcp(s) => write_iov(&mut &*s, bufs),
            BlockingStream::Unix(s) => write_iov(&mut &*s, bufs),
            BlockingStream::Shm(c) => c.write_vectored(bufs),
        }
    }

    pub(crate) fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            BlockingStream::Tcp(s) => s.set_read_timeout(t),
            BlockingStream::Unix(s) => s.set_read_timeout(t),
            BlockingStream::Shm(c) => c.set_read_timeout(t),
        }
    }

    pub(crate) fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            BlockingStream::Tcp(s) => s.set_write_timeout(t),
            BlockingStream::Unix(s) => s.set_write_timeout(t),
            BlockingStream::Shm(c) => c.set_write_timeout(t),
        }
    }

    pub(crate) fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        match self {
            BlockingStream::Tcp(s) => s.set_nonblocking(on),
            BlockingStream::Unix(s) => s.set_nonblocking(on),
            BlockingStream::Shm(c) => c.set_nonblocking(on),
        }
    }

    pub(crate) fn shutdown(&self) {
        self.shutdown_how(Shutdown::Both);
    }

    /// Ends the reading side only: a thread blocked reading sees the end of the stream, and
    /// writes still go out.
    pub(crate) fn shutdown_read(&self) {
        self.shutdown_how(Shutdown::Read);
    }

    fn shutdown_how(&self, how: Shutdown) {
        // The peer may already be gone: nothing useful to do with the error.
        let _ = match self {
            BlockingStream::Tcp(s) => s.shutdown(how),
            BlockingStream::Unix(s) => s.shutdown(how),
            BlockingStream::Shm(c) => {
                match how {
                    Shutdown::Read => c.shutdown_read(),
                    _ => c.shutdown(),
                }
                Ok(())
            }
        };
    }

    /// Writes every octet of `segs`, gathering them into vectored writes (no copy into one
    /// buffer). Returns how many octets went out before an error, with the error.
    ///
    /// `timeout` is the socket's write timeout (as set by [`Self::set_write_timeout`]), and
    /// bounds the whole message, not each system call: the kernel's timeout restarts with
    /// every `send`, so a peer that takes a little now and then (or a send cut short once
    /// by the timeout, then retried) would otherwise hold the writer for a multiple of it.
    /// The common case, a message taken in one `send`, pays one clock read for this.
    pub(crate) fn write_all_vectored<S: AsRef<[u8]>>(
        &self,
        segs: &[S],
        timeout: Option<Duration>,
    ) -> Result<(), (usize, io::Error)> {
        if let BlockingStream::Shm(c) = self {
            // The channel bounds the message by its write timeout itself, reading the clock
            // only if it has to wait.
            return c.write_all(segs, None);
        }
        let mut retimed = false;
        let deadline = timeout.map(|t| Instant::now() + t);
        let written = self.write_all_vectored_until(segs, deadline, &mut retimed);
        if retimed {
            // The next message gets the whole timeout again. If this fails the socket is
            // broken and the next write says so.
            let _ = self.set_write_timeout(timeout);
        }
        written
    }

    /// [`write_all_vectored`](Self::write_all_vectored) ending by `deadline`: each write
    /// after a partial one blocks only for what is left of it (the socket's write timeout
    /// is shortened to that, and `retimed` set: the caller set it for the first write and
    /// must set it again). Past the deadline, `TimedOut`.
    pub(crate) fn write_all_vectored_until<S: AsRef<[u8]>>(
        &self,
        segs: &[S],
        deadline: Option<Instant>,
        retimed: &mut bool,
    ) -> Result<(), (usize, io::Error)> {
        if let BlockingStream::Shm(c) = self {
            // One message under one hold of the ring's write side, by the earlier of
            // `deadline` and the channel's write timeout: its timeout is never shortened.
            return c.write_all(segs, deadline);
        }
        let total: usize = segs.iter().map(|s| s.as_ref().len()).sum();
        let mut done = 0usize;
        while done < total {
            if let (Some(d), true) = (deadline, done > 0) {
                // A zero timeout would mean none: at the deadline, stop instead.
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err((done, io::ErrorKind::TimedOut.into()));
                }
                *retimed = true;
                self.set_write_timeout(Some(left)).map_err(|e| (done, e))?;
            }
            let mut iov = [IoSlice::new(&[]); MAX_IOV];
            let n = fill_iov(&mut iov, segs.iter().map(AsRef::as_ref), done);
            match self.write_vectored(&iov[..n]) {
                Ok(0) => return Err((done, io::ErrorKind::WriteZero.into())),
                Ok(w) => done += w,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err((done, e)),
            }
        }
        Ok(())
    }
}

/// A plain `send` for one segment, `writev` for several: the usual one-segment message
/// should not pay for the kernel importing an I/O vector.
fn write_iov(w: &mut impl Write, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    match bufs {
        [one] => w.write(one),
        _ => w.write_vectored(bufs),
    }
}

/// Fills `iov` with the segments' octets from absolute offset `skip` on; returns how many
/// slices it filled.
fn fill_iov<'a>(
    iov: &mut [IoSlice<'a>; MAX_IOV],
    segs: impl Iterator<Item = &'a [u8]>,
    mut skip: usize,
) -> usize {
    let mut n = 0;
    for seg in segs {
        if skip >= seg.len() {
            skip -= seg.len();
            continue;
        }
        iov[n] = IoSlice::new(&seg[skip..]);
        skip = 0;
        n += 1;
        if n == MAX_IOV {
            break;
        }
    }
    n
}

/// A connection's pending output: whole segments the caller handed over, written with
/// vectored writes without first concatenating them. Its size is counted so that the owner
/// can cap it. A segment written out goes back to the writing thread's buffer pool (see
/// [`crate::buffers`]): usually the thread that encoded it, since a sender writes at once
/// what the socket takes.
#[derive(Debug, Default)]
pub(crate) struct OutQueue {
    segs: VecDeque<Vec<u8>>,
    /// Octets of the front segment already written.
    front_written: usize,
    pending: usize,
    allocator: AllocatorStrategy,
}

impl OutQueue {
    pub(crate) fn new(allocator: AllocatorStrategy) -> OutQueue {
        OutQueue {
            allocator,
            ..OutQueue::default()
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pending == 0
    }

    /// Octets waiting to be written.
    pub(crate) fn pending(&self) -> usize {
        self.pending
    }

    pub(crate) fn push(&mut self, seg: Vec<u8>) {
        if !seg.is_empty() {
            self.pending += seg.len();
            self.segs.push_back(seg);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.segs.clear();
        self.front_written = 0;
        self.pending = 0;
    }

    /// Writes until the queue is empty (`Ok(true)`) or the socket would block (`Ok(false)`).
    pub(crate) fn flush(
        &mut self,
        mut write: impl FnMut(&[IoSlice<'_>]) -> io::Result<usize>,
    ) -> io::Result<bool> {
        while self.pending > 0 {
            let mut iov = [IoSlice::new(&[]); MAX_IOV];
            let n = fill_iov(
                &mut iov,
                self.segs.iter().map(|s| s.as_slice()),
                self.front_written,
            );
            match write(&iov[..n]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(w) => self.advance(w),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    fn advance(&mut self, mut n: usize) {
        self.pending -= n;
        while n > 0 {
            let Some(front) = self.segs.front() else {
                break;
            };
            let left = front.len() - self.front_written;
            if n < left {
                self.front_written += n;
                return;
            }
            n -= left;
            self.front_written = 0;
            if let Some(seg) = self.segs.pop_front() {
                buffers::give(self.allocator, seg);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes at most `limit` octets per call and then blocks once.
    fn limited(out: &mut Vec<u8>, limit: usize, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut left = limit;
        for b in bufs {
            let take = b.len().min(left);
            out.extend_from_slice(&b[..take]);
            left -= take;
            if left == 0 {
                break;
            }
        }
        Ok(limit - left)
    }

    #[test]
    fn out_queue_writes_segments_in_order_across_partial_writes() {
        let mut q = OutQueue::default();
        q.push(b"hello ".to_vec());
        q.push(Vec::new());
        q.push(b"gathered ".to_vec());
        q.push(b"world".to_vec());
        assert_eq!(q.pending(), 20);
        let mut out = Vec::new();
        let mut calls = 0;
        let done = q
            .flush(|bufs| {
                calls += 1;
                limited(&mut out, 3, bufs)
            })
            .unwrap();
        assert!(done);
        assert!(q.is_empty());
        assert_eq!(out, b"hello gathered world");
        assert_eq!(calls, 7);
    }

    #[test]
    fn out_queue_keeps_the_rest_when_the_socket_would_block() {
        let mut q = OutQueue::default();
        q.push(b"abcdef".to_vec());
        q.push(b"ghij".to_vec());
        let mut out = Vec::new();
        let mut budget = 2;
        let drained = q
            .flush(|bufs| {
                if budget == 0 {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                budget -= 1;
                limited(&mut out, 4, bufs)
            })
            .unwrap();
        assert!(!drained);
        assert_eq!(out, b"abcdefgh");
        assert_eq!(q.pending(), 2);
        q.flush(|bufs| limited(&mut out, 100, bufs)).unwrap();
        assert_eq!(out, b"abcdefghij");
    }

    #[test]
    fn out_queue_retries_interrupted_and_reports_write_zero() {
        let mut q = OutQueue::default();
        q.push(b"xy".to_vec());
        let mut first = true;
        let mut out = Vec::new();
        q.flush(|bufs| {
            if std::mem::take(&mut first) {
                return Err(io::ErrorKind::Interrupted.into());
            }
            limited(&mut out, 10, bufs)
        })
        .unwrap();
        assert_eq!(out, b"xy");
        q.push(b"z".to_vec());
        let e = q.flush(|_| Ok(0)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WriteZero);
    }

    #[test]
    fn fill_iov_skips_written_octets_and_caps_the_slice_count() {
        let segs: Vec<Vec<u8>> = (0..100u8).map(|i| vec![i; 2]).collect();
        let mut iov = [IoSlice::new(&[]); MAX_IOV];
        let n = fill_iov(&mut iov, segs.iter().map(|s| s.as_slice()), 3);
        assert_eq!(n, MAX_IOV);
        assert_eq!(&*iov[0], &[1u8][..]);
        assert_eq!(&*iov[1], &[2u8, 2][..]);
    }

    /// A peer that never reads: the first `send` fills the socket's buffers and is cut short
    /// by the kernel's timeout with part of the message out. What is left must not get a
    /// whole timeout of its own (the kernel's would end it with `WouldBlock` a second
    /// timeout later); the message's time is already up, which is `TimedOut`.
    #[test]
    fn a_write_timeout_bounds_the_whole_message() {
        let (ours, _theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        let stream = BlockingStream::Unix(ours);
        let timeout = Duration::from_millis(100);
        stream.set_write_timeout(Some(timeout)).unwrap();
        let message = vec![0u8; 16 << 20];
        let (sent, err) = stream
            .write_all_vectored(&[&message[..]], Some(timeout))
            .unwrap_err();
        assert!(sent > 0 && sent < message.len(), "sent {sent}");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    }
}
