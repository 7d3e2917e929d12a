//! The scheduling advisor: for each job request it asks the RSS (platform status) and the
//! RRD (learned run time) at once, and when both have answered picks a platform and admits
//! the job there, or refuses it with the reason.
//!
//! **Admission test** (per platform, EDF density): a job of CPU share `s`, learned run time
//! `C` (0 when unknown) and relative deadline `D` demands `u = max(s, C / D)` of a CPU. A
//! platform admits it when it is alive, `Σu + u ≤ cpu_capacity` over the jobs already
//! admitted there (for independent jobs under EDF, total density at most the capacity keeps
//! every deadline), and `Σmemory + memory ≤ memory_mb`. A job whose learned run time
//! exceeds its deadline is refused outright.
//!
//! **Reservations end at the deadline**: an admission holds its demand until the job's exit
//! is heard of or its absolute deadline (admission + `D`) passes, whichever comes first. The
//! density test promises a job nothing beyond its deadline; and an exit report lost on the
//! way (a gateway reconnecting, a channel restarted, a CL that never acted on its schedule)
//! no longer holds the share for good. A job still running past its deadline is no longer
//! counted.
//!
//! **Policy**: among the platforms that admit the job, the least loaded after admission
//! (lowest `(Σu + u) / cpu_capacity`; ties: fewest jobs, then lowest id) — worst fit, which
//! leaves the most slack everywhere, so that an alarm has room to move jobs into.
//!
//! **Agility**: on an alarm, the jobs admitted on that platform are admitted again
//! elsewhere (the dead platform, or the dropped one's excess, latest jobs first) and a new
//! schedule, with the attempt number one higher, goes to the CL.

use crate::bus::{Bus, Link};
use crate::idl::mshn::{self, AlarmKind, JobId, JobRequest, PlatformStatus};
use crate::wire::decode;
use crate::{Error, SA_SOURCE};
use event_service::rtec::rtec_event_comm::Event;
use event_service::rtec::{ConsumerQosBuilder, SupplierQosBuilder};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Pending {
    request: Option<JobRequest>,
    status: Option<Vec<PlatformStatus>>,
    learned_us: Option<u64>,
}

#[derive(Clone)]
struct Admitted {
    request: JobRequest,
    platform: i32,
    attempt: u32,
    demand: f64,
    learned_us: u64,
    order: u64,
    /// The absolute deadline: the reservation ends then.
    until: Instant,
}

#[derive(Default)]
struct State {
    pending: HashMap<JobId, Pending>,
    admitted: HashMap<JobId, Admitted>,
    /// The platforms as the RSS last described them, corrected by alarms since.
    platforms: BTreeMap<i32, PlatformStatus>,
    next_order: u64,
}

pub struct SchedulingAdvisor {
    state: Mutex<State>,
    bus: OnceLock<Bus>,
}

/// What the SA decided for a job.
enum Decision {
    Admit { platform: i32, demand: f64 },
    Refuse(String),
}

impl State {
    /// Decides where attempt `attempt` of `req` runs (never on `exclude`), admits it there,
    /// and says so in a schedule; `why` is the schedule's reason (prefixed to a refusal's).
    fn place(
        &mut self,
        req: JobRequest,
        learned_us: u64,
        attempt: u32,
        exclude: Option<i32>,
        why: String,
    ) -> mshn::Schedule {
        let job = req.job;
        self.expire();
        match self.decide(&req, learned_us, exclude) {
            Decision::Admit { platform, demand } => {
                self.next_order += 1;
                let order = self.next_order;
                let now = Instant::now();
                let until = now
                    .checked_add(Duration::from_micros(req.deadline_us))
                    .unwrap_or(now + Duration::from_secs(100 * 365 * 24 * 3600));
                self.admitted.insert(
                    job,
                    Admitted {
                        request: req,
                        platform,
                        attempt,
                        demand,
                        learned_us,
                        order,
                        until,
                    },
                );
                mshn::Schedule {
                    job,
                    admitted: true,
                    platform,
                    attempt,
                    reason: why,
                }
            }
            Decision::Refuse(r) => mshn::Schedule {
                job,
                admitted: false,
                platform: 0,
                attempt,
                reason: if why.is_empty() {
                    r
                } else {
                    format!("{why}; {r}")
                },
            },
        }
    }

    /// Ends the reservations whose deadline has passed.
    fn expire(&mut self) {
        let now = Instant::now();
        self.admitted.retain(|_, a| a.until > now);
    }

    fn load(&self, platform: i32) -> (f64, u64, usize) {
        let mut u = 0.0;
        let mut mem = 0u64;
        let mut n = 0;
        for a in self.admitted.values().filter(|a| a.platform == platform) {
            u += a.demand;
            mem += u64::from(a.request.memory_mb);
            n += 1;
        }
        (u, mem, n)
    }

    fn decide(&self, req: &JobRequest, learned_us: u64, exclude: Option<i32>) -> Decision {
        if req.deadline_us == 0 {
            return Decision::Refuse("the deadline is zero".into());
        }
        if !(req.cpu_share > 0.0 && req.cpu_share.is_finite()) {
            return Decision::Refuse(format!("CPU share {} is not positive", req.cpu_share));
        }
        if learned_us > req.deadline_us {
            return Decision::Refuse(format!(
                "its measured run time {learned_us} us exceeds its deadline {} us",
                req.deadline_us
            ));
        }
        let demand = req
            .cpu_share
            .max(learned_us as f64 / req.deadline_us as f64);
        let mut best: Option<(f64, usize, i32)> = None;
        let mut why = Vec::new();
        for p in self.platforms.values() {
            if Some(p.platform) == exclude {
                continue;
            }
            if !p.alive {
                why.push(format!("{}: down", p.platform));
                continue;
            }
            let (u, mem, n) = self.load(p.platform);
            if u + demand > p.cpu_capacity + 1e-9 {
                why.push(format!(
                    "{}: utilization {:.2} > {:.2}",
                    p.platform,
                    u + demand,
                    p.cpu_capacity
                ));
                continue;
            }
            if mem + u64::from(req.memory_mb) > u64::from(p.memory_mb) {
                why.push(format!(
                    "{}: memory {} > {} MB",
                    p.platform,
                    mem + u64::from(req.memory_mb),
                    p.memory_mb
                ));
                continue;
            }
            let score = (u + demand) / p.cpu_capacity;
            let better = match best {
                None => true,
                Some((s, bn, _)) => score < s - 1e-12 || ((score - s).abs() <= 1e-12 && n < bn),
            };
            if better {
                best = Some((score, n, p.platform));
            }
        }
        match best {
            Some((_, _, platform)) => Decision::Admit { platform, demand },
            None if self.platforms.is_empty() => Decision::Refuse("no platform is known".into()),
            None => Decision::Refuse(format!("no platform admits it ({})", why.join("; "))),
        }
    }
}

impl SchedulingAdvisor {
    pub fn start(link: &Link) -> Result<Arc<SchedulingAdvisor>, Error> {
        let sa = Arc::new(SchedulingAdvisor {
            state: Mutex::new(State::default()),
            bus: OnceLock::new(),
        });
        let qos = ConsumerQosBuilder::new()
            .start_disjunction_group(5)
            .insert_type(mshn::JOB_REQUEST_EVENT, 0)
            .insert(crate::RSS_SOURCE, mshn::STATUS_ANSWER_EVENT, 0)
            .insert(crate::RRD_SOURCE, mshn::REQUIREMENTS_ANSWER_EVENT, 0)
            .insert_type(mshn::EXEC_RESULT_EVENT, 0)
            .insert(crate::RSS_SOURCE, mshn::RESOURCE_ALARM_EVENT, 0)
            .build();
        let publish = SupplierQosBuilder::new()
            .insert(SA_SOURCE, mshn::STATUS_QUERY_EVENT, 0, 1)
            .insert(SA_SOURCE, mshn::REQUIREMENTS_QUERY_EVENT, 0, 1)
            // Addressed to the job's CL (its source).
            .insert(0, mshn::SCHEDULE_EVENT, 0, 1)
            .build();
        let bus = Bus::attach(link, "sa", qos, publish, &sa, |c, e| c.handle(e))?;
        let _ = sa.bus.set(bus);
        Ok(sa)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn send<T: orb::cdr::CdrEncode>(&self, ty: i32, v: &T) {
        if let Some(bus) = self.bus.get() {
            bus.send(SA_SOURCE, ty, v);
        }
    }

    /// A schedule goes out with the job's CL as its source: only that CL subscribes to it.
    fn send_schedule(&self, s: &mshn::Schedule) {
        if let Some(bus) = self.bus.get() {
            bus.send(crate::client_of(s.job), mshn::SCHEDULE_EVENT, s);
        }
    }

    fn handle(&self, e: &Event) -> Result<(), Error> {
        match e.header.r#type {
            mshn::JOB_REQUEST_EVENT => {
                let req: JobRequest = decode(e)?;
                let (job, program) = (req.job, req.program.clone());
                {
                    let mut st = self.lock();
                    if st.admitted.contains_key(&job) || st.pending.contains_key(&job) {
                        return Err(Error(format!("job {job} was already requested")));
                    }
                    st.pending.entry(job).or_default().request = Some(req);
                }
                // Both questions go out before either answer is waited for.
                self.send(mshn::STATUS_QUERY_EVENT, &mshn::StatusQuery { job });
                self.send(
                    mshn::REQUIREMENTS_QUERY_EVENT,
                    &mshn::RequirementsQuery { job, program },
                );
            }
            mshn::STATUS_ANSWER_EVENT => {
                let a: mshn::StatusAnswer = decode(e)?;
                self.answered(a.job, |p| p.status = Some(a.platforms));
            }
            mshn::REQUIREMENTS_ANSWER_EVENT => {
                let a: mshn::RequirementsAnswer = decode(e)?;
                let learned = if a.runs > 0 { a.mean_run_us } else { 0 };
                self.answered(a.job, |p| p.learned_us = Some(learned));
            }
            mshn::EXEC_RESULT_EVENT => {
                let r: mshn::ExecResult = decode(e)?;
                let mut st = self.lock();
                if st
                    .admitted
                    .get(&r.job)
                    .is_some_and(|a| a.attempt == r.attempt)
                {
                    st.admitted.remove(&r.job);
                }
            }
            mshn::RESOURCE_ALARM_EVENT => {
                let a: mshn::ResourceAlarm = decode(e)?;
                let schedules = self.reschedule(&a);
                for s in schedules {
                    self.send_schedule(&s);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Records an answer about `job` (unless it is not pending: a late or repeated answer)
    /// and schedules the job if that was the last one it waited for.
    fn answered(&self, job: JobId, record: impl FnOnce(&mut Pending)) {
        let ready = {
            let mut st = self.lock();
            let Some(p) = st.pending.get_mut(&job) else {
                return;
            };
            record(p);
            self.take_ready(&mut st, job)
        };
        if let Some(s) = ready {
            self.send_schedule(&s);
        }
    }

    /// The schedule for `job` once both answers are in (admitting it if it fits).
    fn take_ready(&self, st: &mut State, job: JobId) -> Option<mshn::Schedule> {
        let p = st.pending.get(&job)?;
        if p.status.is_none() || p.learned_us.is_none() || p.request.is_none() {
            return None;
        }
        let p = st.pending.remove(&job)?;
        let (req, status, learned) = (p.request?, p.status?, p.learned_us?);
        for s in status {
            // The RSS's view replaces the SA's: it marks a platform dead itself when it
            // raises the alarm, and alive again only once it hears from it.
            st.platforms.insert(s.platform, s);
        }
        Some(st.place(req, learned, 1, None, String::new()))
    }

    fn reschedule(&self, alarm: &mshn::ResourceAlarm) -> Vec<mshn::Schedule> {
        let mut st = self.lock();
        st.expire();
        let p = alarm.platform;
        if let Some(s) = st.platforms.get_mut(&p) {
            match alarm.kind {
                AlarmKind::PlatformDead => s.alive = false,
                AlarmKind::ResourceDrop => {
                    s.cpu_capacity = alarm.cpu_capacity;
                    s.memory_mb = alarm.memory_mb;
                }
            }
        }
        // Latest admitted move first: the oldest keep their place on a dropped platform.
        let mut victims: Vec<Admitted> = st
            .admitted
            .values()
            .filter(|a| a.platform == p)
            .cloned()
            .collect();
        victims.sort_by_key(|a| std::cmp::Reverse(a.order));
        let mut out = Vec::new();
        for v in victims {
            if alarm.kind == AlarmKind::ResourceDrop {
                let (u, mem, _) = st.load(p);
                let fits = st
                    .platforms
                    .get(&p)
                    .is_some_and(|s| u <= s.cpu_capacity + 1e-9 && mem <= u64::from(s.memory_mb));
                if fits {
                    break;
                }
            }
            let job = v.request.job;
            st.admitted.remove(&job);
            let attempt = v.attempt + 1;
            let why = format!("moved from {p}: {}", alarm.detail);
            out.push(st.place(v.request, v.learned_us, attempt, Some(p), why));
        }
        out
    }

    /// Jobs admitted and not yet finished, per platform.
    pub fn admitted_on(&self, platform: i32) -> usize {
        let mut st = self.lock();
        st.expire();
        st.load(platform).2
    }

    pub fn shutdown(&self) {
        if let Some(b) = self.bus.get() {
            b.disconnect();
        }
    }
}
