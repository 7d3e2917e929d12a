//! A TCP proxy that makes a link slow, lossy or stuck, for what `ip link` cannot do (this
//! machine's kernel has no `netem`): each chunk read is delivered a delay (± jitter) later,
//! in order; a "lost" chunk comes only after a retransmission timeout more, as TCP delivers
//! data whose segment was lost (a byte stream never loses bytes, it waits); and with
//! `stall_replies` the proxy never reads what the server sends, so the server meets a peer
//! that stops reading, its receive window full.
//!
//! Threads and `std::net`: a thread per direction and connection, plus one that writes
//! each direction's chunks at their time.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// What the proxy does to the bytes it carries.
#[derive(Clone, Debug, Default)]
pub struct ProxyOptions {
    /// Every chunk, each way, arrives this much later...
    pub delay: Duration,
    /// ...give or take up to this much (uniformly), never overtaking the chunk before it.
    pub jitter: Duration,
    /// The share of chunks "lost", in percent (0 to 100)...
    pub loss_percent: u32,
    /// ...which arrive this much later still, as after TCP's retransmission.
    pub retransmit_delay: Duration,
    /// Never read from the server: the client's requests go through, the replies pile up
    /// in the server's socket.
    pub stall_replies: bool,
}

/// A running proxy; it stops accepting when dropped (connections under way run to their end).
pub struct Proxy {
    addr: SocketAddr,
    stopped: Arc<AtomicBool>,
}

impl Proxy {
    /// Listens on `listen` and carries every connection accepted there to `upstream`.
    pub fn start(listen: &str, upstream: &str, options: ProxyOptions) -> std::io::Result<Proxy> {
        if options.loss_percent > 100 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "a loss of {}% asked for: give a percentage from 0 to 100",
                    options.loss_percent
                ),
            ));
        }
        let listener = TcpListener::bind(listen)?;
        let addr = listener.local_addr()?;
        let upstream: SocketAddr = upstream.parse().map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("upstream {upstream:?} is not an IP address and port: {e}"),
            )
        })?;
        let stopped = Arc::new(AtomicBool::new(false));
        let stop = stopped.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(client) = client else { continue };
                let options = options.clone();
                std::thread::spawn(move || carry(client, upstream, &options));
            }
        });
        Ok(Proxy { addr, stopped })
    }

    /// Where it listens (the port resolved when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::Relaxed);
        // Wakes the accepting thread so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// One connection: the client's bytes to the server and, unless stalled, back.
fn carry(client: TcpStream, upstream: SocketAddr, options: &ProxyOptions) {
    let Ok(server) = TcpStream::connect(upstream) else {
        // As the server would have: the client sees its connection closed.
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    // Stalled, nothing reads the server's side: its replies fill its send buffer and ours.
    let back = match (
        options.stall_replies,
        client2.try_clone(),
        server2.try_clone(),
    ) {
        (false, Ok(c), Ok(s)) => {
            let options = options.clone();
            Some(std::thread::spawn(move || pump(s, c, &options)))
        }
        _ => None,
    };
    pump(client, server, options);
    // The client has gone, or the server stopped taking its requests: the connection ends
    // both ways (when stalled, nothing else would tell the client).
    let _ = client2.shutdown(Shutdown::Both);
    let _ = server2.shutdown(Shutdown::Both);
    if let Some(back) = back {
        let _ = back.join();
    }
}

/// Copies `from` to `to`, each chunk at its time; at the end of `from`, ends `to` too.
fn pump(mut from: TcpStream, to: TcpStream, options: &ProxyOptions) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let writer = std::thread::spawn(move || deliver(to, rx));
    let mut last = Instant::now();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut at = Instant::now() + options.delay;
        if !options.jitter.is_zero() {
            let j = options.jitter.as_micros() as u64;
            let offset = fastrand::u64(0..=2 * j);
            at = (at + Duration::from_micros(offset))
                .checked_sub(options.jitter)
                .unwrap_or(at);
        }
        if options.loss_percent > 0 && fastrand::u32(0..100) < options.loss_percent {
            at += options.retransmit_delay;
        }
        // A byte stream keeps its order: no chunk overtakes the one before it.
        last = last.max(at);
        if tx.send((last, buf[..n].to_vec())).is_err() {
            break;
        }
    }
    drop(tx);
    let _ = writer.join();
    let _ = from.shutdown(Shutdown::Read);
}

fn deliver(mut to: TcpStream, chunks: mpsc::Receiver<(Instant, Vec<u8>)>) {
    for (at, bytes) in chunks {
        let wait = at.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
        if to.write_all(&bytes).is_err() {
            let _ = to.shutdown(Shutdown::Both);
            return;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
