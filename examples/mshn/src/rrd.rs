//! The resource requirements database: what past runs of each program measured (count and
//! mean run time, from the daemons' exec results), answered to the SA's queries, and kept
//! in a small file that survives restarts. The file is one CDR encapsulation of
//! `Mshn::RequirementsRecords`, replaced whole by write-to-temporary, fsync, rename: a
//! crash leaves the old file or the new one, never a torn one.

use crate::bus::{Bus, Link};
use crate::idl::mshn::{self, RequirementsRecord};
use crate::wire::decode;
use crate::{Error, RRD_SOURCE};
use event_service::rtec::rtec_event_comm::Event;
use event_service::rtec::{ConsumerQosBuilder, SupplierQosBuilder};
use orb::cdr::{ByteOrder, CdrDecode, CdrEncode, Decoder, Encoder};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Learned {
    pub runs: u32,
    pub mean_run_us: u64,
}

pub struct RequirementsDb {
    table: Mutex<BTreeMap<String, Learned>>,
    file: Option<PathBuf>,
    bus: OnceLock<Bus>,
}

/// Reads a store file; a missing file is an empty store, a damaged one an error.
pub fn load(path: &Path) -> Result<BTreeMap<String, Learned>, Error> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(Error(format!("{}: {e}", path.display()))),
    };
    let bad = |why: String| Error(format!("{}: not an RRD store: {why}", path.display()));
    let (&flag, _) = bytes.split_first().ok_or_else(|| bad("empty".into()))?;
    if flag > 1 {
        return Err(bad(format!("byte-order octet {flag}")));
    }
    let mut dec = Decoder::new_at(&bytes, 1, ByteOrder::from_flag(flag));
    let records = mshn::RequirementsRecords::decode(&mut dec).map_err(|e| bad(e.to_string()))?;
    dec.expect_end().map_err(|e| bad(e.to_string()))?;
    Ok(records
        .into_iter()
        .map(|r| {
            (
                r.program,
                Learned {
                    runs: r.runs,
                    mean_run_us: r.mean_run_us,
                },
            )
        })
        .collect())
}

fn save(path: &Path, table: &BTreeMap<String, Learned>) -> Result<(), Error> {
    let records: mshn::RequirementsRecords = table
        .iter()
        .map(|(p, l)| RequirementsRecord {
            program: p.clone(),
            runs: l.runs,
            mean_run_us: l.mean_run_us,
        })
        .collect();
    let mut enc = Encoder::new(ByteOrder::NATIVE);
    enc.write_octet(ByteOrder::NATIVE.flag());
    records.encode(&mut enc)?;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&enc.into_vec())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

impl RequirementsDb {
    /// Starts with what `file` holds (None: in memory only).
    pub fn start(link: &Link, file: Option<PathBuf>) -> Result<Arc<RequirementsDb>, Error> {
        let table = match &file {
            Some(p) => load(p)?,
            None => BTreeMap::new(),
        };
        let rrd = Arc::new(RequirementsDb {
            table: Mutex::new(table),
            file,
            bus: OnceLock::new(),
        });
        let qos = ConsumerQosBuilder::new()
            .start_disjunction_group(2)
            .insert(crate::SA_SOURCE, mshn::REQUIREMENTS_QUERY_EVENT, 0)
            .insert_type(mshn::EXEC_RESULT_EVENT, 0)
            .build();
        let publish = SupplierQosBuilder::new()
            .insert(RRD_SOURCE, mshn::REQUIREMENTS_ANSWER_EVENT, 0, 1)
            .build();
        let bus = Bus::attach(link, "rrd", qos, publish, &rrd, |c, e| c.handle(e))?;
        let _ = rrd.bus.set(bus);
        Ok(rrd)
    }

    fn handle(&self, e: &Event) -> Result<(), Error> {
        match e.header.r#type {
            mshn::REQUIREMENTS_QUERY_EVENT => {
                let q: mshn::RequirementsQuery = decode(e)?;
                let l = self.learned(&q.program);
                let answer = mshn::RequirementsAnswer {
                    job: q.job,
                    runs: l.runs,
                    mean_run_us: l.mean_run_us,
                };
                if let Some(bus) = self.bus.get() {
                    bus.send(RRD_SOURCE, mshn::REQUIREMENTS_ANSWER_EVENT, &answer);
                }
            }
            mshn::EXEC_RESULT_EVENT => {
                let r: mshn::ExecResult = decode(e)?;
                // A run a signal cut short measures nothing about the program.
                if r.exit_code >= 0 {
                    self.record(&r.program, r.run_us)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Adds one measured run and persists the table.
    pub fn record(&self, program: &str, run_us: u64) -> Result<(), Error> {
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let l = t.entry(program.to_string()).or_default();
        let n = u64::from(l.runs);
        l.mean_run_us = (l.mean_run_us * n + run_us) / (n + 1);
        l.runs = l.runs.saturating_add(1);
        // Saved under the lock so that two results cannot write older tables over newer.
        if let Some(p) = &self.file {
            save(p, &t)?;
        }
        Ok(())
    }

    pub fn learned(&self, program: &str) -> Learned {
        self.table
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(program)
            .copied()
            .unwrap_or_default()
    }

    pub fn shutdown(&self) {
        if let Some(b) = self.bus.get() {
            b.disconnect();
        }
    }
}
