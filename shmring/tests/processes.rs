//! Two processes over one segment: the peer killed with SIGKILL mid-wait, and nothing of a
//! segment left behind (no mapping, no descriptor) once both ends are gone.
//!
//! `harness = false`: run with no argument, this is the test; run as `peer PATH`, it is the
//! peer process, which connects to PATH, says "ready" and waits to be killed.

use shmring::{Channel, MIN_CAPACITY};
use std::io;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("peer") {
        return peer(Path::new(&args[2]));
    }
    let tests: [(&str, fn()); 3] = [
        (
            "a_reader_ends_when_its_peer_is_killed",
            a_reader_ends_when_its_peer_is_killed,
        ),
        (
            "a_full_writer_fails_when_its_peer_is_killed",
            a_full_writer_fails_when_its_peer_is_killed,
        ),
        (
            "no_mapping_or_descriptor_outlives_the_channel",
            no_mapping_or_descriptor_outlives_the_channel,
        ),
    ];
    run(&tests);
}

/// Runs the tests libtest's way as far as `scripts/test.sh` and `cargo test` look: names
/// given as arguments select the tests containing them, `--list` lists, and the last line is
/// `test result: ...`; a failure makes the exit status 1.
fn run(tests: &[(&str, fn())]) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let chosen = tests
        .iter()
        .filter(|(n, _)| filters.is_empty() || filters.iter().any(|f| n.contains(f.as_str())));
    if args.iter().any(|a| a == "--list") {
        chosen.for_each(|(n, _)| println!("{n}: test"));
        return;
    }
    let (mut passed, mut failed) = (0, 0);
    for (name, test) in chosen {
        if std::panic::catch_unwind(test).is_ok() {
            println!("test {name} ... ok");
            passed += 1;
        } else {
            println!("test {name} ... FAILED");
            failed += 1;
        }
    }
    let verdict = if failed == 0 { "ok" } else { "FAILED" };
    println!("\ntest result: {verdict}. {passed} passed; {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

fn peer(path: &Path) {
    let ch = Channel::connect(path, MIN_CAPACITY, T).expect("peer: connect");
    let mut msg: &[u8] = b"ready";
    while !msg.is_empty() {
        msg = &msg[ch.write(msg).expect("peer: write")..];
    }
    // Waits to be killed; never reads, so the other side's writes fill the ring.
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

/// A listener at a fresh path, a peer process connected to it, and our end.
fn start_peer(tag: &str) -> (Child, Channel, PathBuf) {
    let path = std::env::temp_dir().join(format!("shmring-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    let child = Command::new(std::env::current_exe().unwrap())
        .arg("peer")
        .arg(&path)
        .spawn()
        .unwrap();
    let (sock, _) = listener.accept().unwrap();
    let ch = Channel::accept(sock, T).unwrap();
    let mut buf = [0u8; 5];
    let mut got = 0;
    while got < 5 {
        got += ch.read(&mut buf[got..]).unwrap();
    }
    assert_eq!(&buf, b"ready");
    (child, ch, path)
}

/// Runs `f` on a thread; fails the test instead of hanging if it does not finish.
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{what} is stuck"))
}

fn a_reader_ends_when_its_peer_is_killed() {
    let (mut child, ch, path) = start_peer("read");
    let (started_tx, started_rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        started_tx.send(()).unwrap();
        let mut buf = [0u8; 16];
        ch.read(&mut buf).map(|n| (n, ch))
    });
    started_rx.recv().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    child.kill().unwrap(); // SIGKILL: the peer cannot clean anything up
    child.wait().unwrap();
    let (n, _ch) = within("the reader", move || reader.join().unwrap()).unwrap();
    assert_eq!(n, 0, "a dead peer reads as the end of stream");
    let _ = std::fs::remove_file(path);
}

fn a_full_writer_fails_when_its_peer_is_killed() {
    let (mut child, ch, path) = start_peer("write");
    let writer = std::thread::spawn(move || {
        let big = vec![9u8; 4 * MIN_CAPACITY];
        let mut data = &big[..];
        loop {
            match ch.write(data) {
                Ok(k) => data = &data[k..],
                Err(e) => return e.kind(),
            }
        }
    });
    std::thread::sleep(Duration::from_millis(20));
    child.kill().unwrap();
    child.wait().unwrap();
    let kind = within("the writer", move || writer.join().unwrap());
    assert_eq!(kind, io::ErrorKind::BrokenPipe);
    let _ = std::fs::remove_file(path);
}

/// Lines of this process's mappings and descriptor links that name `segment`.
fn traces_of(segment: &str) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter(|l| l.contains(segment))
        .map(str::to_owned)
        .collect();
    for e in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        if let Ok(target) = std::fs::read_link(e.path()) {
            let t = target.to_string_lossy().into_owned();
            if t.contains(segment) {
                found.push(t);
            }
        }
    }
    found
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// How many of this process's threads are the channels' watcher. Counted by name, not by
/// total: a thread that was just joined can still be listed in /proc for a moment (the
/// kernel wakes the joiner before it removes the task), so a total can be one too high.
fn watchers() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .is_ok_and(|name| name.trim_end() == "shmring-watcher")
        })
        .count()
}

/// Whether `cond` comes true within 10 s (looked at every 10 ms).
fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    (0..1000).any(|_| {
        cond() || {
            std::thread::sleep(Duration::from_millis(10));
            false
        }
    })
}

fn no_mapping_or_descriptor_outlives_the_channel() {
    // The tests before ended their channels: the watcher's thread ended with them, and so
    // did every thread they started. Only the main thread is left.
    let baseline = 1;
    assert!(
        eventually(|| threads() == baseline),
        "{} threads",
        threads()
    );
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    let server = std::thread::spawn(move || Channel::accept(b, T).unwrap());
    let client = Channel::connect_stream(a, MIN_CAPACITY, T).unwrap();
    let server = server.join().unwrap();
    // Eventually: a new thread names itself once it runs, a moment after it was started.
    assert!(
        eventually(|| watchers() == 1),
        "{} watchers while channels exist, not one",
        watchers()
    );
    // The name is unique to this segment: `rtorb-shmiop-PID-N`, then a space or the end.
    let name = format!("memfd:{} ", client.segment_name());
    let traces = traces_of(&name);
    // Mapped by both ends (one process here); the descriptor was closed once mapped.
    assert_eq!(traces.len(), 2, "{traces:?}");
    assert!(traces.iter().all(|t| t.contains("rw-s")), "{traces:?}");
    drop(client);
    drop(server);
    let traces = traces_of(&name);
    assert!(traces.is_empty(), "left behind: {traces:?}");
    // Nor a thread: the watcher ends after the last channel.
    assert!(
        eventually(|| threads() == baseline),
        "{} threads, {baseline} before",
        threads()
    );
}
