use super::*;
use proptest::prelude::*;
use std::sync::Arc;
use std::thread;

const T: Duration = Duration::from_secs(5);

/// A client and a server channel over a socket pair, rings of `capacity` octets.
fn pair(capacity: usize) -> (Channel, Channel) {
    let (a, b) = UnixStream::pair().unwrap();
    let server = thread::spawn(move || Channel::accept(b, T).unwrap());
    let client = Channel::connect_stream(a, capacity, T).unwrap();
    (client, server.join().unwrap())
}

fn read_exact(ch: &Channel, n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    let mut got = 0;
    while got < n {
        let k = ch.read(&mut out[got..]).unwrap();
        assert!(k > 0, "end of stream after {got} of {n} octets");
        got += k;
    }
    out
}

fn write_all(ch: &Channel, mut data: &[u8]) {
    while !data.is_empty() {
        let k = ch.write(data).unwrap();
        data = &data[k..];
    }
}

#[test]
fn bytes_go_both_ways_in_order() {
    let (c, s) = pair(MIN_CAPACITY);
    write_all(&c, b"hello");
    assert_eq!(read_exact(&s, 5), b"hello");
    write_all(&s, b"world!");
    assert_eq!(read_exact(&c, 6), b"world!");
    assert_eq!(c.side(), Side::Client);
    assert_eq!(s.capacity(), MIN_CAPACITY);
}

#[test]
fn vectored_writes_gather_their_slices() {
    let (c, s) = pair(MIN_CAPACITY);
    let n = c
        .write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b""), IoSlice::new(b"cde")])
        .unwrap();
    assert_eq!(n, 5);
    assert_eq!(read_exact(&s, 5), b"abcde");
}

/// Messages of arbitrary sizes, many larger than the ring, go through in parts while the
/// reader reads with buffers of arbitrary sizes; the counters wrap around the ring many times.
fn stream_through(capacity: usize, sizes: Vec<usize>, read_chunk: usize) {
    let (c, s) = pair(capacity);
    let total: usize = sizes.iter().sum();
    let writer = thread::spawn(move || {
        let mut seq = 0u8;
        for n in sizes {
            let msg: Vec<u8> = (0..n)
                .map(|_| {
                    seq = seq.wrapping_add(1);
                    seq
                })
                .collect();
            write_all(&c, &msg);
        }
        c
    });
    let mut buf = vec![0u8; read_chunk];
    let mut seen = 0usize;
    let mut expect = 0u8;
    while seen < total {
        let k = s.read(&mut buf).unwrap();
        assert!(k > 0);
        for b in &buf[..k] {
            expect = expect.wrapping_add(1);
            assert_eq!(*b, expect, "octet {seen}");
            seen += 1;
        }
    }
    let c = writer.join().unwrap();
    drop(c);
    // Everything was read: the writer's close is the end of stream.
    assert_eq!(s.read(&mut buf).unwrap(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn arbitrary_messages_cross_the_ring_intact(
        sizes in proptest::collection::vec(0usize..20_000, 1..24),
        read_chunk in 1usize..9_000,
    ) {
        stream_through(MIN_CAPACITY, sizes, read_chunk);
    }
}

#[test]
fn a_long_ping_pong_stress_keeps_every_octet() {
    // Both sides block and wake each other many thousand times (yielding and sleeping),
    // with messages that straddle the ring's end.
    let (c, s) = pair(MIN_CAPACITY);
    let s = Arc::new(s);
    let echo = {
        let s = s.clone();
        thread::spawn(move || {
            let mut buf = vec![0u8; 3000];
            loop {
                let k = s.read(&mut buf).unwrap();
                if k == 0 {
                    return;
                }
                write_all(&s, &buf[..k]);
            }
        })
    };
    for i in 0..20_000u32 {
        let len = 1 + (i as usize * 7919) % 2999;
        let msg: Vec<u8> = (0..len).map(|j| (i as usize + j) as u8).collect();
        write_all(&c, &msg);
        assert_eq!(read_exact(&c, len), msg, "message {i}");
    }
    drop(c);
    echo.join().unwrap();
}

#[test]
fn closing_ends_the_peers_reads_and_fails_its_writes() {
    let (c, s) = pair(MIN_CAPACITY);
    write_all(&c, b"last words");
    c.shutdown();
    // Published before the close: still read.
    assert_eq!(read_exact(&s, 10), b"last words");
    let mut buf = [0u8; 8];
    assert_eq!(s.read(&mut buf).unwrap(), 0);
    assert_eq!(s.write(b"x").unwrap_err().kind(), io::ErrorKind::BrokenPipe);
}

#[test]
fn a_blocked_reader_wakes_when_the_peer_closes() {
    let (c, s) = pair(MIN_CAPACITY);
    let reader = thread::spawn(move || {
        let mut buf = [0u8; 8];
        s.read(&mut buf).unwrap()
    });
    thread::sleep(Duration::from_millis(20));
    drop(c);
    assert_eq!(reader.join().unwrap(), 0);
}

#[test]
fn a_blocked_writer_wakes_when_the_peer_closes() {
    let (c, s) = pair(MIN_CAPACITY);
    let writer = thread::spawn(move || {
        let big = vec![1u8; 3 * MIN_CAPACITY];
        let mut data = &big[..];
        loop {
            match c.write(data) {
                Ok(k) => data = &data[k..],
                Err(e) => return e.kind(),
            }
        }
    });
    thread::sleep(Duration::from_millis(20));
    drop(s);
    assert_eq!(writer.join().unwrap(), io::ErrorKind::BrokenPipe);
}

/// Waits until a side of the channel says it sleeps on its futex: from then on only a wake-up
/// ends its wait (a fixed pause before hanging up the peer let a late thread find the socket
/// closed before sleeping, by itself, with the watcher not yet involved).
fn until_asleep(shared: &Arc<Shared>) {
    let start = std::time::Instant::now();
    while !shared.words().any(|w| w.load(Ordering::SeqCst) == SLEEPING) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "nobody went to sleep"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// Runs `f` on a thread; fails instead of hanging if it does not finish.
fn within<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{what} is stuck"))
}

#[test]
fn the_watcher_wakes_a_sleeping_reader_when_the_peers_socket_hangs_up() {
    // A peer that dies marks nothing in the segment and wakes no futex: only its socket
    // closes. Sleep slices are an hour in unit tests, so only the watcher can end this read.
    let (c, s) = pair(MIN_CAPACITY);
    assert!(c.watched.is_some());
    let shared = c.shared.clone();
    let reader = thread::spawn(move || {
        let mut buf = [0u8; 8];
        (c.read(&mut buf).map_err(|e| e.kind()), c)
    });
    until_asleep(&shared);
    // Dies as a killed process would: its socket closes, nothing else.
    rustix::net::shutdown(&s.socket, rustix::net::Shutdown::Both).unwrap();
    let (n, c) = within("the reader", move || reader.join().unwrap());
    assert_eq!(n, Ok(0));
    // The reader may have looked at the socket itself first (a wake-up of its own between
    // two looks); the watcher, on a thread the scheduler may run late, sees the hang-up all
    // the same (`within` fails the test if it does not, within 20 s).
    within("the watcher's sight of the hang-up", move || {
        while !c.peer_gone() {
            thread::sleep(Duration::from_millis(1));
        }
    });
}

#[test]
fn the_watcher_wakes_a_writer_waiting_for_room_when_the_peers_socket_hangs_up() {
    let (c, s) = pair(MIN_CAPACITY);
    write_all(&c, &vec![1u8; MIN_CAPACITY]);
    let shared = c.shared.clone();
    let writer = thread::spawn(move || (c.write(b"x").map_err(|e| e.kind()), c));
    until_asleep(&shared);
    rustix::net::shutdown(&s.socket, rustix::net::Shutdown::Both).unwrap();
    let (w, c) = within("the writer", move || writer.join().unwrap());
    assert_eq!(w, Err(io::ErrorKind::BrokenPipe));
    // As for the reader above: the writer may have found the closed socket itself first;
    // the watcher sees the hang-up all the same (within 20 s, or `within` fails the test).
    within("the watcher's sight of the hang-up", move || {
        while !c.peer_gone() {
            thread::sleep(Duration::from_millis(1));
        }
    });
}

#[test]
fn shutdown_read_ends_a_blocked_read_and_keeps_writes() {
    let (c, s) = pair(MIN_CAPACITY);
    let s = Arc::new(s);
    let reader = {
        let s = s.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 8];
            s.read(&mut buf).unwrap()
        })
    };
    thread::sleep(Duration::from_millis(20));
    s.shutdown_read();
    assert_eq!(reader.join().unwrap(), 0);
    write_all(&s, b"reply");
    assert_eq!(read_exact(&c, 5), b"reply");
}

#[test]
fn a_read_timeout_gives_would_block() {
    let (c, _s) = pair(MIN_CAPACITY);
    c.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(
        c.read(&mut buf).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    assert!(c.set_read_timeout(Some(Duration::ZERO)).is_err());
}

#[test]
fn a_write_timeout_gives_would_block_on_a_full_ring() {
    let (c, _s) = pair(MIN_CAPACITY);
    c.set_write_timeout(Some(Duration::from_millis(5))).unwrap();
    write_all(&c, &vec![0u8; MIN_CAPACITY]);
    assert_eq!(c.write(b"x").unwrap_err().kind(), io::ErrorKind::WouldBlock);
}

/// A message of several segments, larger than the ring, goes through whole and in order
/// in one `write_all` while another thread reads.
#[test]
fn write_all_carries_a_message_larger_than_the_ring() {
    let (c, s) = pair(MIN_CAPACITY);
    let head: Vec<u8> = (0..100u8).collect();
    let body: Vec<u8> = (0..3 * MIN_CAPACITY).map(|i| (i % 251) as u8).collect();
    let expected = [&head[..], &body[..]].concat();
    let n = expected.len();
    let reader = thread::spawn(move || read_exact(&s, n));
    c.write_all(&[&head[..], &[][..], &body[..]], None).unwrap();
    assert_eq!(reader.join().unwrap(), expected);
}

#[test]
fn write_all_on_a_full_ring_gives_would_block_at_its_deadline() {
    let (c, _s) = pair(MIN_CAPACITY);
    write_all(&c, &vec![0u8; MIN_CAPACITY]);
    let deadline = Instant::now() + Duration::from_millis(5);
    let (sent, e) = c.write_all(&[b"x"], Some(deadline)).unwrap_err();
    assert_eq!((sent, e.kind()), (0, io::ErrorKind::WouldBlock));
}

/// Part of the message went out: what follows it in the stream cannot make sense any more,
/// which `TimedOut` says, with how much went.
#[test]
fn write_all_cut_short_by_the_write_timeout_says_how_much_went() {
    let (c, _s) = pair(MIN_CAPACITY);
    c.set_write_timeout(Some(Duration::from_millis(5))).unwrap();
    let (sent, e) = c
        .write_all(&[vec![7u8; MIN_CAPACITY + 100]], None)
        .unwrap_err();
    assert_eq!((sent, e.kind()), (MIN_CAPACITY, io::ErrorKind::TimedOut));
}

/// The writer reads the reader's head again only when the room it knows of is used up; the
/// head it then reads is checked all the same.
#[test]
fn a_corrupt_head_is_invalid_data_for_the_writer() {
    let (c, s) = pair(MIN_CAPACITY);
    write_all(&c, b"first");
    assert_eq!(read_exact(&s, 5), b"first");
    s.map()
        .u64_at(s.rx.header + R_HEAD)
        .store(10 * MIN_CAPACITY as u64, Ordering::Release);
    let (_, e) = c.write_all(&[vec![0u8; MIN_CAPACITY]], None).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
}

/// Reads and writes through cursors taken out of the channels carry a stream across the
/// ring's end in order; once taken, the channels' own reads and writes say where they went.
#[test]
fn taken_cursors_carry_the_stream_and_the_channels_own_methods_refuse_clearly() {
    let (c, s) = pair(MIN_CAPACITY);
    let mut w = c.take_write_cursor().unwrap();
    assert!(c.take_write_cursor().is_none());
    let mut r = s.take_read_cursor().unwrap();
    assert!(s.take_read_cursor().is_none());
    let e = c.write(b"x").unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("write cursor was taken"), "{e}");
    let e = s.read_in_place(|b| b.len()).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("read cursor was taken"), "{e}");
    // The other directions keep their own cursors.
    write_all(&s, b"back");
    assert_eq!(read_exact(&c, 4), b"back");

    let messages: Vec<Vec<u8>> = (0..50u8).map(|i| vec![i; 700 + i as usize]).collect();
    let expected = messages.concat();
    let writer = {
        let c = Arc::new(c);
        let c2 = c.clone();
        (
            thread::spawn(move || {
                for m in &messages {
                    c2.write_all_at(&mut w, &[&m[..2], &m[2..]], None).unwrap();
                }
            }),
            c,
        )
    };
    let mut got = Vec::new();
    while got.len() < expected.len() {
        let n = s
            .read_in_place_at(&mut r, |b| {
                got.extend_from_slice(b);
                b.len()
            })
            .unwrap();
        assert!(n > 0);
    }
    writer.0.join().unwrap();
    assert_eq!(got, expected);

    // The peer closes: the end of the stream.
    drop(writer.1);
    assert_eq!(s.read_in_place_at(&mut r, |b| b.len()).unwrap(), 0);
}

#[test]
fn a_cursor_of_another_channel_is_refused() {
    let (c1, _s1) = pair(MIN_CAPACITY);
    let (c2, s2) = pair(MIN_CAPACITY);
    let mut w1 = c1.take_write_cursor().unwrap();
    let (sent, e) = c2.write_all_at(&mut w1, &[b"x"], None).unwrap_err();
    assert_eq!((sent, e.kind()), (0, io::ErrorKind::InvalidInput));
    let mut r2 = s2.take_read_cursor().unwrap();
    let e = c1
        .take_read_cursor()
        .map(|mut r1| s2.read_in_place_at(&mut r1, |b| b.len()).unwrap_err())
        .unwrap();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    // Its own cursor still works.
    c2.write_all(&[b"ok"], None).unwrap();
    let mut got = Vec::new();
    s2.read_in_place_at(&mut r2, |b| {
        got.extend_from_slice(b);
        b.len()
    })
    .unwrap();
    assert_eq!(got, b"ok");
}

#[test]
fn has_input_tells_unread_octets_and_the_peers_close_without_reading() {
    let (c, s) = pair(MIN_CAPACITY);
    assert!(!s.has_input());
    write_all(&c, b"abc");
    assert!(s.has_input());
    // Lent and not taken: still unread.
    assert_eq!(s.read_in_place(|_| 0).unwrap(), 3);
    assert!(s.has_input());
    assert_eq!(read_exact(&s, 3), b"abc");
    assert!(!s.has_input());
    c.shutdown();
    assert!(s.has_input());
    assert_eq!(s.read(&mut [0u8; 4]).unwrap(), 0);
}

/// Whether the socket has something to read within `ms` milliseconds.
fn socket_readable(ch: &Channel, ms: i32) -> bool {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let fd = ch.socket.as_fd();
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let t = Timespec {
        tv_sec: (ms / 1000) as i64,
        tv_nsec: (ms % 1000) as i64 * 1_000_000,
    };
    poll(&mut fds, Some(&t)).unwrap() > 0
}

#[test]
fn a_server_is_rung_for_the_first_request_before_it_ever_read() {
    // A poller registers the accepted socket some time after the client's first request:
    // the socket must be readable by then, or the request would wait for ever.
    let (c, s) = pair(MIN_CAPACITY);
    write_all(&c, b"first");
    assert!(
        socket_readable(&s, 1000),
        "the first request rang no doorbell"
    );
    s.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(s.read(&mut buf).unwrap(), 5);
}

#[test]
fn a_non_blocking_reader_is_rung_on_its_socket_after_a_short_read() {
    let (c, s) = pair(MIN_CAPACITY);
    s.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(
        s.read(&mut buf).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    assert!(!socket_readable(&s, 0));
    write_all(&c, b"ding");
    assert!(socket_readable(&s, 1000), "the doorbell was not rung");
    // A short read takes the doorbell off and arms it again: a poller that stops at a short
    // read is rung for the next message.
    assert_eq!(s.read(&mut buf).unwrap(), 4);
    assert!(!socket_readable(&s, 0));
    write_all(&c, b"dong");
    assert!(socket_readable(&s, 1000), "the doorbell was not rung again");
    // A full read does not arm it: the poller reads again anyway.
    write_all(&c, &[5u8; 20]);
    assert_eq!(s.read(&mut buf).unwrap(), 16);
    assert!(matches!(s.drain_socket(), Liveness::Alive));
    write_all(&c, b"x");
    assert!(!socket_readable(&s, 0));
    assert_eq!(s.read(&mut buf).unwrap(), 9);
    drop(c);
    assert_eq!(s.read(&mut buf).unwrap(), 0);
}

#[test]
fn a_non_blocking_writer_is_rung_when_room_is_made() {
    let (c, s) = pair(MIN_CAPACITY);
    c.set_nonblocking(true).unwrap();
    let mut sent = 0;
    loop {
        match c.write(&[7u8; 1000]) {
            Ok(k) => sent += k,
            Err(e) => {
                assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
                break;
            }
        }
    }
    assert_eq!(sent, MIN_CAPACITY);
    assert_eq!(read_exact(&s, 100).len(), 100);
    assert!(socket_readable(&c, 1000), "the doorbell was not rung");
    assert_eq!(c.write(&[7u8; 1000]).unwrap(), 100);
}

#[test]
fn capacities_that_are_not_powers_of_two_are_refused() {
    let (a, _b) = UnixStream::pair().unwrap();
    let e = Channel::connect_stream(a, 5000, T).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("power of two"), "{e}");
}

#[test]
fn a_greeting_without_a_segment_is_refused() {
    let (a, b) = UnixStream::pair().unwrap();
    (&a).write_all(b"S").unwrap();
    let e = Channel::accept(b, T).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert!(e.to_string().contains("no segment"), "{e}");
    let (a, b) = UnixStream::pair().unwrap();
    (&a).write_all(b"GIOP").unwrap();
    let e = Channel::accept(b, T).unwrap_err();
    assert!(e.to_string().contains("greeting"), "{e}");
}

#[test]
fn an_unsealed_segment_is_refused() {
    let (a, b) = UnixStream::pair().unwrap();
    let fd = rustix::fs::memfd_create("unsealed", rustix::fs::MemfdFlags::CLOEXEC).unwrap();
    rustix::fs::ftruncate(&fd, (HEADER + 2 * MIN_CAPACITY) as u64).unwrap();
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    let fds = [fd.as_fd()];
    assert!(control.push(SendAncillaryMessage::ScmRights(&fds)));
    rustix::net::sendmsg(&a, &[IoSlice::new(b"S")], &mut control, SendFlags::empty()).unwrap();
    let e = Channel::accept(b, T).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert!(e.to_string().contains("seal"), "{e}");
}

#[test]
fn a_corrupt_counter_is_invalid_data_not_a_wild_read() {
    let (c, s) = pair(MIN_CAPACITY);
    // The client's published tail jumps past the ring's capacity.
    c.map()
        .u64_at(c.tx.header + R_TAIL)
        .store(10 * MIN_CAPACITY as u64, Ordering::Release);
    let mut buf = [0u8; 8];
    assert_eq!(
        s.read(&mut buf).unwrap_err().kind(),
        io::ErrorKind::InvalidData
    );
}

/// The room the writer sees in its ring.
fn room(writer: &Channel) -> usize {
    let tail = writer
        .map()
        .u64_at(writer.tx.header + R_TAIL)
        .load(Ordering::Acquire);
    writer.writable(tail).unwrap()
}

/// The head the reader has published to the writer.
fn published_head(reader: &Channel) -> u64 {
    reader
        .map()
        .u64_at(reader.rx.header + R_HEAD)
        .load(Ordering::Acquire)
}

#[test]
fn a_burst_read_message_by_message_is_handed_back_once_it_is_all_read() {
    let (c, s) = pair(MIN_CAPACITY);
    write_all(&c, &[1u8; 1000]);
    // Read 100 octets at a time: the room goes back to the writer once all 1000 are read.
    for i in 1..=10u64 {
        let lent = s.read_in_place(|octets| octets.len().min(100)).unwrap();
        assert_eq!(lent as u64, 1000 - 100 * (i - 1));
        let expected = if i < 10 { 0 } else { 1000 };
        assert_eq!(published_head(&s), expected, "after {i} reads of 100");
        assert!(!c.has_input());
    }
    // Nothing is left unread, and the writer's side sees it.
    assert!(!s.has_input());
    write_all(&s, b"x");
    assert!(c.has_input());
}

#[test]
fn a_reader_holding_back_a_quarter_of_the_ring_hands_it_back_before_it_is_all_read() {
    let (c, s) = pair(MIN_CAPACITY);
    // A full ring: the writer has no room until the reader hands some back.
    write_all(&c, &vec![2u8; MIN_CAPACITY]);
    assert_eq!(room(&c), 0);
    let quarter = (MIN_CAPACITY / 4) as u64;
    let mut read = 0u64;
    while read < quarter {
        read += s
            .read_in_place(|octets| octets.len().min(100))
            .map(|_| 100)
            .unwrap();
        if read < quarter {
            assert_eq!(published_head(&s), 0, "after {read} octets");
        }
    }
    assert_eq!(published_head(&s), read);
    assert_eq!(room(&c) as u64, read);
}

#[test]
fn a_client_refused_by_a_non_shmiop_server_fails_clearly() {
    let (a, b) = UnixStream::pair().unwrap();
    let server = thread::spawn(move || {
        let mut x = [0u8; 1];
        let _ = (&b).read(&mut x);
        drop(b);
    });
    let e = Channel::connect_stream(a, MIN_CAPACITY, T).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
    server.join().unwrap();
}

/// This thread's minor page faults so far (`/proc/thread-self/stat`, the 10th field; the
/// 2nd, the command, is in parentheses and may hold spaces).
fn minor_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let after_command = &stat[stat.rfind(')').unwrap() + 2..];
    after_command.split(' ').nth(7).unwrap().parse().unwrap()
}

#[test]
fn a_young_connection_takes_no_page_faults_on_its_first_lap() {
    // Small requests and replies, written and read on both sides, until both rings have gone
    // round once: every 4 KiB page of each ring is reached for the first time. Faulted in on
    // demand that was ~600 faults (each page written by one side and read by the other), one
    // small call in ~40 paying ~4 µs for it; mapped whole up front it is none.
    let capacity = 1 << 20;
    let (c, s) = pair(capacity);
    let (request, reply) = ([7u8; 100], [9u8; 28]);
    let mut buf = [0u8; 100];
    let round_trip = |buf: &mut [u8; 100]| {
        write_all(&c, &request);
        let mut got = 0;
        while got < request.len() {
            got += s.read(&mut buf[got..]).unwrap();
        }
        assert_eq!(*buf, request);
        write_all(&s, &reply);
        let mut got = 0;
        while got < reply.len() {
            got += c.read(&mut buf[got..reply.len()]).unwrap();
        }
        assert_eq!(buf[..reply.len()], reply);
    };
    // The code and this thread's stack are touched first.
    round_trip(&mut buf);
    let before = minor_faults();
    for _ in 0..capacity / request.len() + 1 {
        round_trip(&mut buf);
    }
    let faults = minor_faults() - before;
    assert!(
        faults < 16,
        "{faults} page faults on the rings' first lap (their pages are not in place)"
    );
}

/// Writes `n` small numbered messages back to back while a reader thread drains them, and
/// checks they arrive whole and in order; returns the writer's and the reader's counts.
fn burst(n: u32) -> (WaitCounts, WaitCounts) {
    let (c, s) = pair(1 << 16);
    let reader = thread::spawn(move || {
        let mut buf = vec![0u8; 4096];
        let mut pending = Vec::new();
        let mut next = 0u32;
        while next < n {
            let k = s.read(&mut buf).unwrap();
            assert!(k > 0, "end of stream after {next} of {n} messages");
            pending.extend_from_slice(&buf[..k]);
            let whole = pending.len() / 16 * 16;
            for msg in pending[..whole].chunks(16) {
                let seq = u32::from_le_bytes(msg[..4].try_into().unwrap());
                assert_eq!(seq, next, "message out of order");
                assert!(
                    msg[4..].iter().all(|&b| b == seq as u8),
                    "message {seq} garbled"
                );
                next += 1;
            }
            pending.drain(..whole);
        }
        s.counters()
    });
    for i in 0..n {
        let mut msg = [i as u8; 16];
        msg[..4].copy_from_slice(&i.to_le_bytes());
        write_all(&c, &msg);
    }
    let read = reader.join().unwrap();
    (c.counters(), read)
}

#[test]
fn a_burst_is_delivered_in_order_with_fewer_wake_ups_than_messages() {
    // A wake-up is sent only to a reader that said it sleeps; a reader that wakes takes
    // everything published, so a burst costs far fewer wake-ups than it has messages.
    let n = 20_000;
    let (written, read) = burst(n);
    assert!(
        written.wakes < u64::from(n),
        "{} wake-ups for {n} messages",
        written.wakes
    );
    // Every sleep of the reader needed one wake-up (or the watcher, which is not involved).
    assert!(read.sleeps <= written.wakes + 1, "{read:?} {written:?}");
}

#[test]
fn on_one_processor_a_burst_needs_fewer_wake_ups_than_messages() {
    // Restricted to one processor (the threads started here inherit it), a wake-up switches
    // to the reader at once; the reader yields before it sleeps, so, woken for one message,
    // it lets the writer go on publishing, without wake-ups, before it reads again.
    let mut one = rustix::thread::CpuSet::new();
    one.set(rustix::thread::sched_getcpu());
    rustix::thread::sched_setaffinity(None, &one).unwrap();
    let n = 20_000;
    let (written, read) = burst(n);
    assert!(read.yields > 0, "the reader never yielded: {read:?}");
    assert!(
        written.wakes < u64::from(n),
        "{} wake-ups for {n} messages",
        written.wakes
    );
}

#[test]
fn round_trips_of_every_size_cross_the_rings_end_intact() {
    // Every size from one octet to past the ring's capacity, echoed back: the counters pass
    // the end of each ring at every offset, with messages split there and larger than it.
    let (c, s) = pair(MIN_CAPACITY);
    let largest = MIN_CAPACITY + 64;
    let echo = thread::spawn(move || {
        for len in 1..=largest {
            let msg = read_exact(&s, len);
            write_all(&s, &msg);
        }
    });
    for len in 1..=largest {
        let msg: Vec<u8> = (0..len).map(|j| (len * 31 + j) as u8).collect();
        let writer = {
            // A message larger than the ring cannot be written before the echo reads some.
            let msg = msg.clone();
            let c = &c;
            move || write_all(c, &msg)
        };
        if len <= MIN_CAPACITY {
            writer();
            assert_eq!(read_exact(&c, len), msg, "size {len}");
        } else {
            thread::scope(|scope| {
                scope.spawn(writer);
                assert_eq!(read_exact(&c, len), msg, "size {len}");
            });
        }
    }
    echo.join().unwrap();
}

/// Reads `n` octets with [`Channel::read_in_place`], returning them and how many calls it took.
fn read_in_place_exact(ch: &Channel, n: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(n);
    let mut calls = 0;
    while out.len() < n {
        let k = ch
            .read_in_place(|b| {
                out.extend_from_slice(b);
                b.len()
            })
            .unwrap();
        assert!(k > 0, "end of stream after {} of {n} octets", out.len());
        calls += 1;
    }
    (out, calls)
}

#[test]
fn reads_in_place_see_every_octet_in_order_across_the_rings_end() {
    let (c, s) = pair(MIN_CAPACITY);
    // Moves both counters to 100 octets before the end of the ring.
    write_all(&c, &[0u8; MIN_CAPACITY - 100]);
    assert_eq!(read_exact(&s, MIN_CAPACITY - 100).len(), MIN_CAPACITY - 100);
    let msg: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    write_all(&c, &msg);
    // Lent in two parts: the 100 octets up to the end, then the 200 from the start.
    let (got, calls) = read_in_place_exact(&s, 300);
    assert_eq!(got, msg);
    assert_eq!(calls, 2);
    // The octets were handed back: the whole ring is free again.
    c.set_nonblocking(true).unwrap();
    assert_eq!(c.write(&vec![1u8; MIN_CAPACITY]).unwrap(), MIN_CAPACITY);
}

#[test]
fn reads_in_place_carry_a_stream_larger_than_the_ring_from_another_thread() {
    let (c, s) = pair(MIN_CAPACITY);
    let data: Vec<u8> = (0..5 * MIN_CAPACITY + 17).map(|i| (i * 7) as u8).collect();
    let expected = data.clone();
    let writer = thread::spawn(move || {
        for chunk in data.chunks(1000) {
            write_all(&c, chunk);
        }
        c
    });
    let (got, _) = read_in_place_exact(&s, expected.len());
    assert_eq!(got, expected);
    drop(writer.join().unwrap());
    // The peer closed: the end of the stream, without a call of the closure.
    assert_eq!(s.read_in_place(|_| panic!("lent nothing")).unwrap(), 0);
}

#[test]
fn a_non_blocking_read_in_place_would_block_and_rings_for_the_next_message() {
    let (c, s) = pair(MIN_CAPACITY);
    s.set_nonblocking(true).unwrap();
    let e = s.read_in_place(|_| panic!("nothing to lend")).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    write_all(&c, b"ding");
    assert!(socket_readable(&s, 1000), "the doorbell was not rung");
    let mut got = Vec::new();
    assert_eq!(
        s.read_in_place(|b| {
            got.extend_from_slice(b);
            b.len()
        })
        .unwrap(),
        4
    );
    assert_eq!(got, b"ding");
}

#[test]
fn what_a_read_in_place_does_not_take_is_lent_again_by_the_next() {
    let (c, s) = pair(MIN_CAPACITY);
    write_all(&c, b"onetwothree");
    // Given all eleven, takes three: the rest stays published.
    let mut first = Vec::new();
    let given = s
        .read_in_place(|b| {
            first.extend_from_slice(&b[..3]);
            3
        })
        .unwrap();
    assert_eq!((given, first.as_slice()), (11, &b"one"[..]));
    // Claiming more than it was given takes what it was given, no more.
    let mut rest = Vec::new();
    let given = s
        .read_in_place(|b| {
            rest.extend_from_slice(b);
            usize::MAX
        })
        .unwrap();
    assert_eq!((given, rest.as_slice()), (8, &b"twothree"[..]));
    write_all(&c, b"!");
    let mut last = Vec::new();
    s.read_in_place(|b| {
        last.extend_from_slice(b);
        b.len()
    })
    .unwrap();
    assert_eq!(last, b"!");
}

#[test]
fn a_write_asks_for_its_deadline_only_when_it_must_wait() {
    let (c, s) = pair(MIN_CAPACITY);
    let mut w = c.take_write_cursor().unwrap();
    let asked = std::cell::Cell::new(0);
    let deadline = || {
        asked.set(asked.get() + 1);
        Some(Instant::now() + Duration::from_millis(50))
    };
    // Room for it: no deadline asked for (no clock read for it).
    c.write_all_at_until(&mut w, &[b"abc"], deadline).unwrap();
    assert_eq!(asked.get(), 0);
    assert_eq!(read_exact(&s, 3), b"abc");
    // No reader and a full ring: asked once, at the first wait, and the write ends there
    // with nothing of the message sent.
    let big = vec![7u8; MIN_CAPACITY];
    c.write_all_at_until(&mut w, &[&big[..]], || None).unwrap();
    let (sent, e) = c.write_all_at_until(&mut w, &[b"x"], deadline).unwrap_err();
    assert_eq!((sent, e.kind()), (0, io::ErrorKind::WouldBlock));
    assert_eq!(asked.get(), 1);
}
