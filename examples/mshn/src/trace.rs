//! An observer of the MSHN traffic: a channel consumer of every MSHN event type that keeps
//! what it saw, put in publication order by the publishers' stamps (a channel may deliver a
//! cause after its effect when dispatching runs handlers in the supplier's thread).

use crate::bus::{Bus, Link};
use crate::idl::mshn;
use crate::wire;
use crate::Error;
use event_service::rtec::rtec_event_comm::Event;
use event_service::rtec::{ConsumerQosBuilder, SupplierQosBuilder};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One event as seen.
#[derive(Clone, Debug)]
pub struct Seen {
    pub stamp_ns: u64,
    pub arrived: Instant,
    pub ty: i32,
    pub source: i32,
    pub job: Option<mshn::JobId>,
    pub event: Event,
}

pub struct Tracer {
    seen: Arc<Mutex<Vec<Seen>>>,
    _bus: Bus,
}

impl Tracer {
    /// Subscribes to the MSHN types in `types` (heartbeats and status reports are many;
    /// leave them out unless they are wanted).
    pub fn start(link: &Link, types: &[i32]) -> Result<Tracer, Error> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut qos = ConsumerQosBuilder::new().start_disjunction_group(types.len() as i32);
        for &t in types {
            qos = qos.insert_type(t, 0);
        }
        let s = seen.clone();
        let bus = Bus::connect(
            link,
            "tracer",
            Some(qos.build()),
            SupplierQosBuilder::new().build(),
            Arc::new(move |e: &Event| {
                let seen = Seen {
                    stamp_ns: e.header.creation_time,
                    arrived: Instant::now(),
                    ty: e.header.r#type,
                    source: e.header.source,
                    job: wire::job_of(e),
                    event: e.clone(),
                };
                s.lock().unwrap_or_else(|p| p.into_inner()).push(seen);
            }),
        )?;
        Ok(Tracer { seen, _bus: bus })
    }

    /// Everything seen, in publication order.
    pub fn seen(&self) -> Vec<Seen> {
        let mut v = self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
        v.sort_by_key(|s| s.stamp_ns);
        v
    }

    /// The types of the events about `job`, in publication order.
    pub fn path_of(&self, job: mshn::JobId) -> Vec<&'static str> {
        self.seen()
            .iter()
            .filter(|s| s.job == Some(job))
            .map(|s| wire::type_name(s.ty))
            .collect()
    }

    /// Waits (at most `timeout`) until `n` events of type `ty` about `job` were seen.
    pub fn wait_for(
        &self,
        job: mshn::JobId,
        ty: i32,
        n: usize,
        timeout: std::time::Duration,
    ) -> Result<(), Error> {
        let end = Instant::now() + timeout;
        loop {
            let got = self
                .seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .filter(|s| s.job == Some(job) && s.ty == ty)
                .count();
            if got >= n {
                return Ok(());
            }
            if Instant::now() > end {
                return Err(Error(format!(
                    "job {job}: saw {got} {} of {n}",
                    wire::type_name(ty)
                )));
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    pub fn clear(&self) {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// Every MSHN type that is about a job, or an alarm.
pub const JOB_TYPES: [i32; 10] = [
    mshn::JOB_REQUEST_EVENT,
    mshn::STATUS_QUERY_EVENT,
    mshn::REQUIREMENTS_QUERY_EVENT,
    mshn::STATUS_ANSWER_EVENT,
    mshn::REQUIREMENTS_ANSWER_EVENT,
    mshn::SCHEDULE_EVENT,
    mshn::EXEC_REQUEST_EVENT,
    mshn::EXEC_STARTED_EVENT,
    mshn::EXEC_RESULT_EVENT,
    mshn::RESOURCE_ALARM_EVENT,
];

/// Whether `path` (a job's event types in publication order, as [`Tracer::path_of`] gives
/// them) is the seven-event path then the result: the request, the two questions each
/// before its answer (the two exchanges may interleave), the schedule, the exec request,
/// the start and the exit.
pub fn is_seven_event_path(path: &[&str]) -> bool {
    let exchange = path.get(1..5).unwrap_or_default();
    let at = |name: &str| exchange.iter().position(|x| *x == name);
    let ordered = |q: &str, a: &str| matches!((at(q), at(a)), (Some(q), Some(a)) if q < a);
    path.len() == 9
        && path[0] == "JobRequest"
        && ordered("StatusQuery", "StatusAnswer")
        && ordered("RequirementsQuery", "RequirementsAnswer")
        && path[5..] == ["Schedule", "ExecRequest", "ExecStarted", "ExecResult"]
}
