//! The resource status server: every platform's last status, from the daemons' status
//! reports and heartbeats; answers the SA's status queries; raises an alarm when a platform
//! misses heartbeats (dead) or reports less CPU or memory than before (a resource drop).
//!
//! Detection bound: a platform is declared dead once `misses × period` has passed since its
//! last heartbeat, found by a check that runs every `period / 4`; so at most
//! `(misses + 1/4) × period` after its last heartbeat (plus scheduling delay).

use crate::bus::{Bus, Link};
use crate::idl::mshn::{self, AlarmKind, PlatformStatus};
use crate::wire::decode;
use crate::{Error, RSS_SOURCE};
use event_service::rtec::rtec_event_comm::Event;
use event_service::rtec::{ConsumerQosBuilder, SupplierQosBuilder};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub struct RssOptions {
    /// The daemons' heartbeat period.
    pub heartbeat: Duration,
    /// Heartbeats a platform may miss before it is declared dead.
    pub misses: u32,
}

impl Default for RssOptions {
    fn default() -> Self {
        RssOptions {
            heartbeat: Duration::from_millis(20),
            misses: 3,
        }
    }
}

struct Entry {
    status: PlatformStatus,
    last_heard: Instant,
}

pub struct StatusServer {
    platforms: Mutex<BTreeMap<i32, Entry>>,
    bus: OnceLock<Bus>,
    options: RssOptions,
    stop: AtomicBool,
}

impl StatusServer {
    pub fn start(link: &Link, options: RssOptions) -> Result<Arc<StatusServer>, Error> {
        let rss = Arc::new(StatusServer {
            platforms: Mutex::new(BTreeMap::new()),
            bus: OnceLock::new(),
            options,
            stop: AtomicBool::new(false),
        });
        let qos = ConsumerQosBuilder::new()
            .start_disjunction_group(3)
            .insert_type(mshn::STATUS_REPORT_EVENT, 0)
            .insert_type(mshn::HEARTBEAT_EVENT, 0)
            .insert(crate::SA_SOURCE, mshn::STATUS_QUERY_EVENT, 0)
            .build();
        let publish = SupplierQosBuilder::new()
            .insert(RSS_SOURCE, mshn::STATUS_ANSWER_EVENT, 0, 1)
            .insert(RSS_SOURCE, mshn::RESOURCE_ALARM_EVENT, 0, 1)
            .build();
        let bus = Bus::attach(link, "rss", qos, publish, &rss, |c, e| c.handle(e))?;
        let _ = rss.bus.set(bus);
        let weak = Arc::downgrade(&rss);
        std::thread::Builder::new()
            .name("mshn-rss-check".into())
            .spawn(move || loop {
                let Some(rss) = weak.upgrade() else { return };
                if rss.stop.load(Ordering::Acquire) {
                    return;
                }
                rss.check();
                let period = rss.options.heartbeat / 4;
                drop(rss);
                std::thread::sleep(period);
            })?;
        Ok(rss)
    }

    fn bus(&self) -> Option<&Bus> {
        self.bus.get()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<i32, Entry>> {
        self.platforms.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn handle(&self, e: &Event) -> Result<(), Error> {
        match e.header.r#type {
            mshn::STATUS_REPORT_EVENT => {
                let r: mshn::StatusReport = decode(e)?;
                let mut s = r.status;
                s.alive = true;
                let alarm = {
                    let mut map = self.lock();
                    let before = map.get(&s.platform).map(|x| x.status.clone());
                    map.insert(
                        s.platform,
                        Entry {
                            status: s.clone(),
                            last_heard: Instant::now(),
                        },
                    );
                    match before {
                        Some(b)
                            if b.alive
                                && (s.cpu_capacity < b.cpu_capacity
                                    || s.memory_mb < b.memory_mb) =>
                        {
                            Some(mshn::ResourceAlarm {
                                platform: s.platform,
                                kind: AlarmKind::ResourceDrop,
                                cpu_capacity: s.cpu_capacity,
                                memory_mb: s.memory_mb,
                                detail: format!(
                                    "CPU {:.2} -> {:.2}, memory {} -> {} MB",
                                    b.cpu_capacity, s.cpu_capacity, b.memory_mb, s.memory_mb
                                ),
                            })
                        }
                        _ => None,
                    }
                };
                if let (Some(a), Some(bus)) = (alarm, self.bus()) {
                    bus.send(RSS_SOURCE, mshn::RESOURCE_ALARM_EVENT, &a);
                }
            }
            mshn::HEARTBEAT_EVENT => {
                let h: mshn::Heartbeat = decode(e)?;
                let mut map = self.lock();
                if let Some(x) = map.get_mut(&h.platform) {
                    x.last_heard = Instant::now();
                    // A platform heard again after an alarm is back (its daemon restarted).
                    x.status.alive = true;
                }
            }
            mshn::STATUS_QUERY_EVENT => {
                let q: mshn::StatusQuery = decode(e)?;
                let answer = mshn::StatusAnswer {
                    job: q.job,
                    platforms: self.statuses(),
                };
                if let Some(bus) = self.bus() {
                    bus.send(RSS_SOURCE, mshn::STATUS_ANSWER_EVENT, &answer);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Every platform known, dead ones with `alive` false.
    pub fn statuses(&self) -> Vec<PlatformStatus> {
        self.lock().values().map(|e| e.status.clone()).collect()
    }

    fn check(&self) {
        let limit = self.options.heartbeat * self.options.misses;
        let mut alarms = Vec::new();
        {
            let mut map = self.lock();
            for (id, e) in map.iter_mut() {
                if e.status.alive && e.last_heard.elapsed() > limit {
                    e.status.alive = false;
                    alarms.push(mshn::ResourceAlarm {
                        platform: *id,
                        kind: AlarmKind::PlatformDead,
                        cpu_capacity: 0.0,
                        memory_mb: 0,
                        detail: format!(
                            "no heartbeat for {} ms ({} missed)",
                            e.last_heard.elapsed().as_millis(),
                            self.options.misses
                        ),
                    });
                }
            }
        }
        if let Some(bus) = self.bus() {
            for a in alarms {
                bus.send(RSS_SOURCE, mshn::RESOURCE_ALARM_EVENT, &a);
            }
        }
    }

    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::Release);
        if let Some(b) = self.bus() {
            b.disconnect();
        }
    }
}
