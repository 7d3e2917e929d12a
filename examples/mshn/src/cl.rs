//! The client library: submits jobs, takes the SA's schedule, sends the exec request to the
//! chosen platform's daemon and follows the job to its start and exit. Many jobs may be in
//! flight; events are matched to jobs by id (the CL's id in the top 16 bits, so several CLs
//! share a channel). A schedule moves a job only when its attempt number is higher than the
//! one the job is at, so a job is restarted exactly once per move however often the
//! schedule is repeated.

use crate::bus::{Bus, Link};
use crate::idl::mshn::{self, JobId, JobRequest};
use crate::wire::decode;
use crate::{Error, CL_SOURCE};
use event_service::rtec::rtec_event_comm::Event;
use event_service::rtec::{ConsumerQosBuilder, SupplierQosBuilder};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// What a job needs.
#[derive(Clone, Debug)]
pub struct Job {
    pub program: String,
    pub args: Vec<String>,
    pub cpu_share: f64,
    pub memory_mb: u32,
    pub deadline: Duration,
}

impl Job {
    pub fn new(program: &str, args: &[&str]) -> Job {
        Job {
            program: program.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            cpu_share: 0.1,
            memory_mb: 64,
            deadline: Duration::from_secs(10),
        }
    }
}

/// One start of a job.
#[derive(Clone, Debug)]
pub struct Start {
    pub attempt: u32,
    pub platform: i32,
    pub at: Instant,
    /// fork/exec time in the daemon (component work).
    pub spawn: Duration,
    /// When the CL received the schedule that led to this start.
    pub scheduled_at: Instant,
}

/// Everything the CL knows about one job.
#[derive(Clone, Debug)]
pub struct JobState {
    pub job: JobId,
    pub submitted: Instant,
    pub attempt: u32,
    pub platform: i32,
    pub scheduled_at: Option<Instant>,
    pub refused: Option<String>,
    pub starts: Vec<Start>,
    pub start_errors: Vec<String>,
    /// (attempt, platform, exit code, run time µs) of each exit reported.
    pub exits: Vec<(u32, i32, i32, u64)>,
    pub moves: Vec<String>,
}

impl JobState {
    /// Finished (its start and its exit both heard of: over TCP an ORB may dispatch the
    /// exit before the start), refused, or failed to start.
    pub fn is_done(&self) -> bool {
        self.refused.is_some()
            || !self.start_errors.is_empty()
            || (self.exits.iter().any(|e| e.0 == self.attempt)
                && self.starts.iter().any(|s| s.attempt == self.attempt))
    }
}

pub struct ClientLibrary {
    id: u16,
    next: Mutex<u64>,
    jobs: Mutex<HashMap<JobId, JobState>>,
    requests: Mutex<HashMap<JobId, JobRequest>>,
    changed: Condvar,
    bus: OnceLock<Bus>,
}

impl ClientLibrary {
    /// A CL with `id` (1..; the top bits of its job ids).
    pub fn start(link: &Link, id: u16) -> Result<Arc<ClientLibrary>, Error> {
        let cl = Arc::new(ClientLibrary {
            id,
            next: Mutex::new(0),
            jobs: Mutex::new(HashMap::new()),
            requests: Mutex::new(HashMap::new()),
            changed: Condvar::new(),
            bus: OnceLock::new(),
        });
        // Only its own jobs' events: the SA and the daemons address them to it (source).
        let me = i32::from(id);
        let qos = ConsumerQosBuilder::new()
            .start_disjunction_group(3)
            .insert(me, mshn::SCHEDULE_EVENT, 0)
            .insert(me, mshn::EXEC_STARTED_EVENT, 0)
            .insert(me, mshn::EXEC_RESULT_EVENT, 0)
            .build();
        // Exec requests go out with the addressed platform as source: any source.
        let publish = SupplierQosBuilder::new()
            .insert(CL_SOURCE, mshn::JOB_REQUEST_EVENT, 0, 1)
            .insert(0, mshn::EXEC_REQUEST_EVENT, 0, 1)
            .build();
        let bus = Bus::attach(link, "cl", qos, publish, &cl, |c, e| c.handle(e))?;
        let _ = cl.bus.set(bus);
        Ok(cl)
    }

    fn bus(&self) -> Result<&Bus, Error> {
        self.bus
            .get()
            .ok_or_else(|| Error::new("cl: not connected"))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<JobId, JobState>> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Submits a job; returns its id at once.
    pub fn submit(&self, job: &Job) -> Result<JobId, Error> {
        let id = {
            let mut n = self.next.lock().unwrap_or_else(|p| p.into_inner());
            *n += 1;
            (u64::from(self.id) << 48) | *n
        };
        let deadline_us = u64::try_from(job.deadline.as_micros()).unwrap_or(u64::MAX);
        let req = JobRequest {
            job: id,
            program: job.program.clone(),
            args: job.args.clone(),
            cpu_share: job.cpu_share,
            memory_mb: job.memory_mb,
            deadline_us,
        };
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, req.clone());
        self.lock().insert(
            id,
            JobState {
                job: id,
                submitted: Instant::now(),
                attempt: 0,
                platform: 0,
                scheduled_at: None,
                refused: None,
                starts: Vec::new(),
                start_errors: Vec::new(),
                exits: Vec::new(),
                moves: Vec::new(),
            },
        );
        self.bus()?
            .publish(CL_SOURCE, mshn::JOB_REQUEST_EVENT, &req)?;
        Ok(id)
    }

    fn handle(&self, e: &Event) -> Result<(), Error> {
        match e.header.r#type {
            mshn::SCHEDULE_EVENT => {
                let s: mshn::Schedule = decode(e)?;
                let exec = {
                    let mut jobs = self.lock();
                    let Some(j) = jobs.get_mut(&s.job) else {
                        return Ok(());
                    };
                    if s.attempt <= j.attempt {
                        return Ok(()); // a schedule already acted on
                    }
                    j.attempt = s.attempt;
                    j.scheduled_at = Some(Instant::now());
                    if !s.reason.is_empty() && s.attempt > 1 {
                        j.moves.push(s.reason.clone());
                    }
                    if !s.admitted {
                        j.refused = Some(s.reason.clone());
                        None
                    } else {
                        j.platform = s.platform;
                        Some(s)
                    }
                };
                self.changed.notify_all();
                if let Some(s) = exec {
                    let req = self.exec_request(&s)?;
                    self.bus()?
                        .publish(s.platform, mshn::EXEC_REQUEST_EVENT, &req)?;
                }
            }
            mshn::EXEC_STARTED_EVENT => {
                let s: mshn::ExecStarted = decode(e)?;
                let at = Instant::now();
                let mut jobs = self.lock();
                let Some(j) = jobs.get_mut(&s.job) else {
                    return Ok(());
                };
                if s.attempt != j.attempt {
                    return Ok(());
                }
                if s.ok {
                    j.starts.push(Start {
                        attempt: s.attempt,
                        platform: s.platform,
                        at,
                        spawn: Duration::from_nanos(s.spawn_ns),
                        scheduled_at: j.scheduled_at.unwrap_or(at),
                    });
                } else {
                    j.start_errors.push(s.error);
                }
                drop(jobs);
                self.changed.notify_all();
            }
            mshn::EXEC_RESULT_EVENT => {
                let r: mshn::ExecResult = decode(e)?;
                let mut jobs = self.lock();
                let Some(j) = jobs.get_mut(&r.job) else {
                    return Ok(());
                };
                j.exits.push((r.attempt, r.platform, r.exit_code, r.run_us));
                drop(jobs);
                self.changed.notify_all();
            }
            _ => {}
        }
        Ok(())
    }

    fn exec_request(&self, s: &mshn::Schedule) -> Result<mshn::ExecRequest, Error> {
        // The program and arguments are the CL's own record of the submission.
        let req = self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&s.job)
            .cloned()
            .ok_or_else(|| Error(format!("job {} unknown", s.job)))?;
        Ok(mshn::ExecRequest {
            job: s.job,
            attempt: s.attempt,
            program: req.program,
            args: req.args,
        })
    }

    /// The job's state now.
    pub fn state(&self, job: JobId) -> Option<JobState> {
        self.lock().get(&job).cloned()
    }

    pub fn states(&self) -> Vec<JobState> {
        let mut v: Vec<_> = self.lock().values().cloned().collect();
        v.sort_by_key(|j| j.job);
        v
    }

    /// Waits until `done` holds for the job (at most `timeout`); its state then.
    pub fn wait_for(
        &self,
        job: JobId,
        timeout: Duration,
        done: impl Fn(&JobState) -> bool,
    ) -> Result<JobState, Error> {
        let end = Instant::now() + timeout;
        let mut jobs = self.lock();
        loop {
            let j = jobs
                .get(&job)
                .ok_or_else(|| Error(format!("job {job} unknown")))?;
            if done(j) {
                return Ok(j.clone());
            }
            let now = Instant::now();
            if now >= end {
                return Err(Error(format!("job {job}: gave up waiting: {j:?}")));
            }
            jobs = self
                .changed
                .wait_timeout(jobs, end - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Waits until the job finished, was refused or failed to start.
    pub fn wait(&self, job: JobId, timeout: Duration) -> Result<JobState, Error> {
        self.wait_for(job, timeout, JobState::is_done)
    }

    pub fn shutdown(&self) {
        if let Some(b) = self.bus.get() {
            b.disconnect();
        }
    }
}
