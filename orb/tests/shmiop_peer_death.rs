//! A SHMIOP server killed with SIGKILL in the middle of a call: the client's call fails
//! with COMM_FAILURE (completion MAYBE) instead of waiting on the futex for ever, later
//! calls fail cleanly, and the client keeps no mapping or descriptor of the segment.
//!
//! `harness = false`: with no argument this is the test; run as `server`, it is the server
//! process, which prints its object's IOR and serves until killed.

use orb::cdr::{Decoder, Encoder};
use orb::codegen::DispatchStatus;
use orb::exception::{SystemException, SystemExceptionKind};
use orb::giop::CompletionStatus;
use orb::{CollocationStrategy, ObjectRef, Orb, OrbOptions, Servant};
use std::any::Any;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// `void ping(); void sleep(in unsigned long ms);`
struct Sleeper;

impl Servant for Sleeper {
    fn repository_id(&self) -> &'static str {
        "IDL:Test/Sleeper:1.0"
    }
    fn is_a(&self, id: &str) -> bool {
        id == self.repository_id()
    }
    fn dispatch(
        &self,
        operation: &str,
        args: &mut Decoder<'_>,
        _reply: &mut Encoder,
    ) -> Result<DispatchStatus, SystemException> {
        match operation {
            "ping" => {}
            "sleep" => std::thread::sleep(Duration::from_millis(args.read_ulong()? as u64)),
            _ => return Err(SystemException::bad_operation()),
        }
        Ok(DispatchStatus::NoException)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("server") {
        return serve();
    }
    const NAME: &str = "a_killed_server_fails_the_call_and_leaves_nothing_mapped";
    let args: Vec<String> = std::env::args().skip(1).collect();
    let selected = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .all(|f| NAME.contains(f.as_str()));
    if args.iter().any(|a| a == "--list") {
        if selected {
            println!("{NAME}: test");
        }
        return;
    }
    if !selected {
        println!("\ntest result: ok. 0 passed; 0 failed");
        return;
    }
    // A failure panics: the exit status says so, and the result line is not printed.
    a_killed_server_fails_the_call_and_leaves_nothing_mapped();
    println!("test {NAME} ... ok\n\ntest result: ok. 1 passed; 0 failed");
}

fn serve() {
    let mut o = OrbOptions::default();
    o.parse_args(
        [
            "-ORBendPoint",
            "giop:tcp:127.0.0.1:0",
            "-ORBendPoint",
            "giop:shm:",
        ]
        .map(str::to_owned),
    )
    .unwrap();
    let orb = Orb::init(o).unwrap();
    let obj = orb.activate(&orb.root_poa(), Arc::new(Sleeper)).unwrap();
    println!("{}", obj.to_ior_string().unwrap());
    orb.run().unwrap();
}

fn call(obj: &ObjectRef, op: &str, ms: u32) -> Result<(), SystemException> {
    obj.invoke(op, &|e: &mut Encoder| {
        if op == "sleep" {
            e.write_ulong(ms);
        }
        Ok(())
    })?
    .normal_result(|_| Ok(()))
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The lines of this process's mappings and descriptors that name one of its segments.
fn segments_of_this_process() -> Vec<String> {
    let ours = format!("memfd:rtorb-shmiop-{}-", std::process::id());
    let mut found: Vec<String> = std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter(|l| l.contains(&ours))
        .map(str::to_owned)
        .collect();
    for e in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        if let Ok(t) = std::fs::read_link(e.path()) {
            if t.to_string_lossy().contains(&ours) {
                found.push(t.to_string_lossy().into_owned());
            }
        }
    }
    found
}

fn a_killed_server_fails_the_call_and_leaves_nothing_mapped() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("server")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ior = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ior)
        .unwrap();
    let mut server = Server(child);
    let orb = Orb::init(OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    })
    .unwrap();
    let obj = orb.string_to_object(ior.trim()).unwrap();
    call(&obj, "ping", 0).unwrap();
    assert_eq!(obj.transport(), Some("shmiop"));
    assert_eq!(
        segments_of_this_process().len(),
        1,
        "the client maps its segment"
    );

    let (tx, rx) = mpsc::channel();
    let caller = {
        let obj = obj.clone();
        std::thread::spawn(move || {
            tx.send(()).unwrap();
            // Far longer than the test: only the server's death ends it.
            call(&obj, "sleep", 600_000)
        })
    };
    rx.recv().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    server.0.kill().unwrap(); // SIGKILL: the server cleans nothing up
    server.0.wait().unwrap();

    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(caller.join().unwrap());
    });
    let e = done_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the call is stuck after the server died")
        .unwrap_err();
    assert_eq!(e.kind, SystemExceptionKind::COMM_FAILURE, "{e:?}");
    assert_eq!(e.completed, CompletionStatus::Maybe);
    // Nothing to connect to any more, by any transport: TRANSIENT, not a hang.
    let e = call(&obj, "ping", 0).unwrap_err();
    assert_eq!(e.kind, SystemExceptionKind::TRANSIENT, "{e:?}");
    assert_eq!(e.completed, CompletionStatus::No);
    drop(obj);
    orb.shutdown(true);
    drop(orb);
    // The process's watcher of hang-ups holds the channel for as long as it takes to wake
    // its sleepers; preempted right after, it may hold the last handle a moment longer than
    // the ORB does. Gone soon after, then: looked at until it is, or for 10 s.
    let mut left = segments_of_this_process();
    for _ in 0..1000 {
        if left.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
        left = segments_of_this_process();
    }
    assert!(left.is_empty(), "left behind: {left:?}");
}
