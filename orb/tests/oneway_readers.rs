//! A thread-per-connection server's reading thread waits under `SCHED_BATCH` once its last
//! reads brought only oneways (so its client's sends stop preempting the client on a shared
//! core), and goes back to `SCHED_OTHER` as soon as it answers a twoway;
//! `-ORBbatchOnewayReaders 0` keeps it under `SCHED_OTHER`.
//!
//! The servant reports the scheduling policy of the thread it runs on, which is the reading
//! thread itself (thread per connection runs each request on the thread that read it): a
//! twoway read right after the oneways runs under the policy its thread waited in.

use orb::cdr::{Decoder, Encoder};
use orb::codegen::DispatchStatus;
use orb::exception::SystemException;
use orb::{CollocationStrategy, ObjectRef, Orb, OrbOptions, Servant};
use std::any::Any;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ID: &str = "IDL:Test/Readers:1.0";

/// `SCHED_OTHER` and `SCHED_BATCH` in `/proc/.../stat`'s `policy` field.
const SCHED_OTHER: u32 = 0;
const SCHED_BATCH: u32 = 3;

/// `interface Readers { oneway void ping(); unsigned long pings(); unsigned long policy(); }`
#[derive(Default)]
struct Readers {
    pings: AtomicU32,
}

/// The calling thread's scheduling policy (`/proc/thread-self/stat`, field 41).
fn own_policy() -> u32 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    rest.split(' ').nth(38).unwrap().parse().unwrap()
}

impl Servant for Readers {
    fn repository_id(&self) -> &'static str {
        ID
    }
    fn is_a(&self, id: &str) -> bool {
        id == ID
    }
    fn dispatch(
        &self,
        operation: &str,
        _args: &mut Decoder<'_>,
        reply: &mut Encoder,
    ) -> Result<DispatchStatus, SystemException> {
        match operation {
            "ping" => {
                self.pings.fetch_add(1, Ordering::SeqCst);
            }
            "pings" => reply.write_ulong(self.pings.load(Ordering::SeqCst)),
            "policy" => reply.write_ulong(own_policy()),
            _ => return Err(SystemException::bad_operation()),
        }
        Ok(DispatchStatus::NoException)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn orb(args: &str) -> Orb {
    let mut o = OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    };
    o.parse_args(args.split_whitespace().map(str::to_owned))
        .unwrap();
    Orb::init(o).unwrap()
}

fn ulong(obj: &ObjectRef, operation: &str) -> u32 {
    obj.invoke(operation, &|_: &mut Encoder| Ok(()))
        .unwrap()
        .normal_result(|d| d.read_ulong())
        .unwrap()
}

/// The policy a twoway runs under, read after `reads` oneways, each sent once the server has
/// run the one before (so each is a read of its own, whatever the timing), and the policy of
/// the twoway after that one.
fn policies_after_oneways(server_args: &str, reads: u32) -> (u32, u32) {
    let server = orb(&format!("-ORBthreadStrategy connection {server_args}"));
    let servant = Arc::new(Readers::default());
    let target = server
        .activate(&server.root_poa(), servant.clone())
        .unwrap();
    let client = orb("");
    let obj = client
        .string_to_object(&target.to_ior_string().unwrap())
        .unwrap();
    // Connected, and answered: the reader starts under SCHED_OTHER.
    assert_eq!(ulong(&obj, "policy"), SCHED_OTHER);
    let watchdog = Instant::now() + Duration::from_secs(30);
    for read in 1..=reads {
        obj.invoke_oneway("ping", &|_: &mut Encoder| Ok(()))
            .unwrap();
        while servant.pings.load(Ordering::SeqCst) < read {
            assert!(Instant::now() < watchdog, "the oneways were not all served");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let after_oneways = ulong(&obj, "policy");
    let after_twoway = ulong(&obj, "policy");
    assert_eq!(ulong(&obj, "pings"), reads);
    client.shutdown(true);
    server.shutdown(true);
    (after_oneways, after_twoway)
}

#[test]
fn a_reader_of_oneways_waits_under_sched_batch_and_answers_twoways_under_sched_other() {
    let (after_oneways, after_twoway) = policies_after_oneways("", 6);
    assert_eq!(
        after_oneways, SCHED_BATCH,
        "after six reads of oneways only"
    );
    assert_eq!(after_twoway, SCHED_OTHER, "once it has answered a twoway");
}

#[test]
fn a_few_reads_of_oneways_do_not_move_it() {
    // Fewer reads of oneways in a row than it takes (four): a client that mixes oneways and
    // twoways keeps its reader under SCHED_OTHER.
    assert_eq!(policies_after_oneways("", 3), (SCHED_OTHER, SCHED_OTHER));
}

#[test]
fn the_option_turns_it_off() {
    assert_eq!(
        policies_after_oneways("-ORBbatchOnewayReaders 0", 6),
        (SCHED_OTHER, SCHED_OTHER)
    );
}
