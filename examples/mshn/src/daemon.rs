//! A platform's daemon: runs the jobs addressed to its platform as child processes
//! (`std::process::Command`), reports each start (with the time fork/exec took) and exit
//! (with the measured run time), and publishes its status and a heartbeat every period.
//!
//! [`Daemon::kill`] is what a crash looks like to the others: heartbeats stop, nothing more
//! is reported, and the platform's children die with it.

use crate::bus::{Bus, Link};
use crate::idl::mshn::{self, PlatformStatus};
use crate::wire::decode;
use crate::Error;
use event_service::rtec::rtec_event_comm::Event;
use event_service::rtec::{ConsumerQosBuilder, SupplierQosBuilder};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub struct DaemonOptions {
    pub platform: i32,
    pub cpu_capacity: f64,
    pub memory_mb: u32,
    pub heartbeat: Duration,
    /// Run nothing: report each job started and finished (exit 0, no run time) at once, so
    /// that a measurement sees the events alone — the thesis's "component work zero".
    pub zero_work: bool,
}

impl DaemonOptions {
    pub fn new(platform: i32) -> DaemonOptions {
        DaemonOptions {
            platform,
            cpu_capacity: 1.0,
            memory_mb: 4096,
            heartbeat: Duration::from_millis(20),
            zero_work: false,
        }
    }
}

/// A job's run: (job, attempt).
type Attempt = (mshn::JobId, u32);

pub struct Daemon {
    options: Mutex<DaemonOptions>,
    /// Children running, by (job, attempt): the waiter thread polls them, `kill` kills them.
    children: Mutex<HashMap<Attempt, Arc<Mutex<Child>>>>,
    dead: AtomicBool,
    beats: AtomicU64,
    bus: OnceLock<Bus>,
}

impl Daemon {
    pub fn start(link: &Link, options: DaemonOptions) -> Result<Arc<Daemon>, Error> {
        let p = options.platform;
        if p < crate::FIRST_PLATFORM {
            return Err(Error(format!(
                "platform id {p} is below {} (ids below are the components')",
                crate::FIRST_PLATFORM
            )));
        }
        let d = Arc::new(Daemon {
            options: Mutex::new(options),
            children: Mutex::new(HashMap::new()),
            dead: AtomicBool::new(false),
            beats: AtomicU64::new(0),
            bus: OnceLock::new(),
        });
        // Only the exec requests addressed to this platform (their source).
        let qos = ConsumerQosBuilder::new()
            .insert(p, mshn::EXEC_REQUEST_EVENT, 0)
            .build();
        let publish = SupplierQosBuilder::new()
            // Addressed to the job's CL (its source).
            .insert(0, mshn::EXEC_STARTED_EVENT, 0, 1)
            .insert(0, mshn::EXEC_RESULT_EVENT, 0, 1)
            .insert(p, mshn::STATUS_REPORT_EVENT, 0, 1)
            .insert(p, mshn::HEARTBEAT_EVENT, 0, 1)
            .build();
        let bus = Bus::attach(link, "daemon", qos, publish, &d, |c, e| c.handle(e))?;
        let _ = d.bus.set(bus);
        d.report_status();
        let weak = Arc::downgrade(&d);
        std::thread::Builder::new()
            .name(format!("mshn-daemon-{p}"))
            .spawn(move || loop {
                let Some(d) = weak.upgrade() else { return };
                if d.dead.load(Ordering::Acquire) {
                    return;
                }
                let seq = d.beats.fetch_add(1, Ordering::AcqRel) + 1;
                let period = d.opts().heartbeat;
                d.send(mshn::HEARTBEAT_EVENT, &mshn::Heartbeat { platform: p, seq });
                // Now and then the whole status too: an RSS started (or restarted) after
                // this daemon learns of the platform within ten periods.
                if seq % 10 == 0 {
                    d.report_status();
                }
                drop(d);
                std::thread::sleep(period);
            })?;
        Ok(d)
    }

    fn opts(&self) -> DaemonOptions {
        *self.options.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn platform(&self) -> i32 {
        self.opts().platform
    }

    fn send<T: orb::cdr::CdrEncode>(&self, ty: i32, v: &T) {
        self.send_from(self.platform(), ty, v);
    }

    /// A start or an exit goes out with the job's CL as its source: only that CL (and
    /// whoever takes every exit: the SA, the RRD) subscribes to it.
    fn report<T: orb::cdr::CdrEncode>(&self, job: mshn::JobId, ty: i32, v: &T) {
        self.send_from(crate::client_of(job), ty, v);
    }

    fn send_from<T: orb::cdr::CdrEncode>(&self, source: i32, ty: i32, v: &T) {
        if self.dead.load(Ordering::Acquire) {
            return;
        }
        if let Some(bus) = self.bus.get() {
            bus.send(source, ty, v);
        }
    }

    pub fn running(&self) -> usize {
        self.children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    fn status(&self) -> PlatformStatus {
        let o = self.opts();
        PlatformStatus {
            platform: o.platform,
            alive: true,
            cpu_capacity: o.cpu_capacity,
            memory_mb: o.memory_mb,
            running: self.running() as u32,
        }
    }

    /// Publishes the platform's status now.
    pub fn report_status(&self) {
        let status = self.status();
        self.send(mshn::STATUS_REPORT_EVENT, &mshn::StatusReport { status });
    }

    /// The platform lost resources (or gained them): say so.
    pub fn set_resources(&self, cpu_capacity: f64, memory_mb: u32) {
        {
            let mut o = self.options.lock().unwrap_or_else(|e| e.into_inner());
            o.cpu_capacity = cpu_capacity;
            o.memory_mb = memory_mb;
        }
        self.report_status();
    }

    fn handle(self: &Arc<Self>, e: &Event) -> Result<(), Error> {
        if e.header.r#type != mshn::EXEC_REQUEST_EVENT || self.dead.load(Ordering::Acquire) {
            return Ok(());
        }
        let req: mshn::ExecRequest = decode(e)?;
        let platform = self.platform();
        if self.opts().zero_work {
            return self.pretend_to_run(req);
        }
        let t0 = Instant::now();
        let spawned = Command::new(&req.program)
            .args(&req.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut started = mshn::ExecStarted {
            job: req.job,
            attempt: req.attempt,
            platform,
            ok: false,
            pid: 0,
            spawn_ns: t0.elapsed().as_nanos() as u64,
            error: String::new(),
        };
        let child = match spawned {
            Ok(c) => c,
            Err(err) => {
                started.error = format!("{}: {err}", req.program);
                self.report(req.job, mshn::EXEC_STARTED_EVENT, &started);
                return Ok(());
            }
        };
        started.ok = true;
        started.pid = child.id();
        let child = Arc::new(Mutex::new(child));
        self.children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((req.job, req.attempt), child.clone());
        self.report(req.job, mshn::EXEC_STARTED_EVENT, &started);
        let me = self.clone();
        std::thread::Builder::new()
            .name(format!("mshn-job-{}", req.job))
            .spawn(move || me.wait_for(req, child, t0))?;
        Ok(())
    }

    /// A job run with zero work: started and finished, nothing spawned.
    fn pretend_to_run(&self, req: mshn::ExecRequest) -> Result<(), Error> {
        let platform = self.platform();
        let started = mshn::ExecStarted {
            job: req.job,
            attempt: req.attempt,
            platform,
            ok: true,
            pid: 0,
            spawn_ns: 0,
            error: String::new(),
        };
        self.report(req.job, mshn::EXEC_STARTED_EVENT, &started);
        let result = mshn::ExecResult {
            job: req.job,
            attempt: req.attempt,
            platform,
            program: req.program,
            exit_code: 0,
            run_us: 0,
        };
        self.report(req.job, mshn::EXEC_RESULT_EVENT, &result);
        Ok(())
    }

    /// Waits for a child (polling, so that `kill` can take the same child meanwhile) and
    /// reports its exit.
    fn wait_for(&self, req: mshn::ExecRequest, child: Arc<Mutex<Child>>, t0: Instant) {
        let status = loop {
            match child.lock().unwrap_or_else(|e| e.into_inner()).try_wait() {
                Ok(Some(s)) => break Some(s),
                Ok(None) => {}
                Err(_) => break None,
            }
            std::thread::sleep(Duration::from_micros(500));
        };
        let run_us = t0.elapsed().as_micros() as u64;
        self.children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(req.job, req.attempt));
        let exit_code = status.and_then(|s| s.code()).unwrap_or(-1);
        self.report(
            req.job,
            mshn::EXEC_RESULT_EVENT,
            &mshn::ExecResult {
                job: req.job,
                attempt: req.attempt,
                platform: self.platform(),
                program: req.program,
                exit_code,
                run_us,
            },
        );
    }

    /// Dies as a crashed host does: silent from now on, its children killed.
    pub fn kill(&self) {
        self.dead.store(true, Ordering::Release);
        if let Some(b) = self.bus.get() {
            b.disconnect();
        }
        let children: Vec<_> = self
            .children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        for c in children {
            let mut c = c.lock().unwrap_or_else(|e| e.into_inner());
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops cleanly: no more heartbeats; running children are left to finish unreported.
    pub fn shutdown(&self) {
        self.kill();
    }
}
