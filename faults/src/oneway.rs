//! What became of a client's oneways (`note`), read from the probe server's execution log:
//! per phase of a scenario (before, during and after a fault), how many were sent (the
//! stub returned without an exception), how many the server executed, how many were lost;
//! and whether any was executed twice or out of the order its sender sent it in.
//!
//! A oneway has no reply, so "sent" only means the request was handed to the connection:
//! one written into a connection whose peer has gone is lost without anyone being told.
//! That is what CORBA promises of a oneway (best effort, `SYNC_NONE`): it may be lost; it
//! must never be executed twice, and one connection carries requests in order.

use crate::outcome::Outcome;
use crate::Error;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

/// The call ids in a probe server's execution log, in the order executed.
pub fn execution_order(log: &Path) -> Result<Vec<String>, Error> {
    let text = std::fs::read_to_string(log).map_err(|e| {
        Error(format!(
            "cannot read the execution log {}: {e}",
            log.display()
        ))
    })?;
    Ok(text.lines().map(str::to_owned).collect())
}

/// A stretch of a scenario: oneways sent from `from_ms` (included) to `to_ms` (excluded)
/// belong to it. Several stretches may share a label (every "down" of repeated restarts).
#[derive(Clone, Debug)]
pub struct Phase {
    pub label: String,
    pub from_ms: u64,
    pub to_ms: u64,
}

/// One phase's oneways.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PhaseCount {
    /// Handed to the connection without an exception.
    pub sent: usize,
    /// The send raised an exception (TRANSIENT: no connection could be made; COMM_FAILURE:
    /// the connection broke while it was written, so perhaps executed).
    pub refused: usize,
    /// In the server's log (once: a second time is [`OnewayAudit::duplicated`]).
    pub executed: usize,
    /// Sent, and not in the log.
    pub lost: usize,
}

/// The fate of a scenario's oneways.
#[derive(Clone, Debug, Default)]
pub struct OnewayAudit {
    /// By phase label, in the order the labels first appear in the phases given.
    pub phases: Vec<(String, PhaseCount)>,
    /// Oneway ids executed more than once.
    pub duplicated: Vec<String>,
    /// `(sender, n)`: a oneway executed after one its sender sent later.
    pub reordered: Vec<(String, u64)>,
    /// Ids whose send raised an exception saying COMPLETED_NO that the server executed all
    /// the same.
    pub executed_though_refused: Vec<String>,
}

/// `PREFIX-THREAD-N` → (`PREFIX-THREAD`, N).
fn sender_and_number(id: &str) -> Option<(&str, u64)> {
    let (sender, n) = id.rsplit_once('-')?;
    Some((sender, n.parse().ok()?))
}

impl OnewayAudit {
    /// Audits the `oneway` outcomes among `outcomes` against the execution log `log`
    /// (`executed`: its lines in order), counting each oneway in the phase its send started
    /// in (one outside every phase is counted in none).
    pub fn of(outcomes: &[Outcome], executed: &[String], phases: &[Phase]) -> OnewayAudit {
        let oneways: Vec<&Outcome> = outcomes.iter().filter(|o| o.op == "oneway").collect();
        let ids: HashSet<&str> = oneways.iter().map(|o| o.id.as_str()).collect();
        let mut times: HashMap<&str, usize> = HashMap::new();
        // The last number executed of each sender, to see one go backwards.
        let mut last: HashMap<&str, u64> = HashMap::new();
        let mut audit = OnewayAudit::default();
        for id in executed.iter().filter(|id| ids.contains(id.as_str())) {
            *times.entry(id).or_default() += 1;
            if let Some((sender, n)) = sender_and_number(id) {
                match last.get(sender) {
                    Some(&prev) if n <= prev => audit.reordered.push((sender.to_owned(), n)),
                    _ => {
                        last.insert(sender, n);
                    }
                }
            }
        }
        audit.duplicated = times
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(id, _)| (*id).to_owned())
            .collect();
        audit.duplicated.sort();
        let mut by_label: BTreeMap<usize, (String, PhaseCount)> = BTreeMap::new();
        for o in &oneways {
            let ran = times.get(o.id.as_str()).copied().unwrap_or(0) > 0;
            let completed_no = o.result.as_ref().is_err_and(|f| f.completed == "NO");
            if completed_no && ran {
                audit.executed_though_refused.push(o.id.clone());
            }
            let Some(phase) = phases
                .iter()
                .find(|p| (p.from_ms..p.to_ms).contains(&o.start_ms))
            else {
                continue;
            };
            // Labels in the order they first appear among the phases.
            let order = phases
                .iter()
                .position(|p| p.label == phase.label)
                .unwrap_or(0);
            let count = &mut by_label
                .entry(order)
                .or_insert_with(|| (phase.label.clone(), PhaseCount::default()))
                .1;
            match (o.ok(), ran) {
                (true, true) => {
                    count.sent += 1;
                    count.executed += 1;
                }
                (true, false) => {
                    count.sent += 1;
                    count.lost += 1;
                }
                (false, ran) => {
                    count.refused += 1;
                    count.executed += usize::from(ran);
                }
            }
        }
        audit.phases = by_label.into_values().collect();
        audit
    }

    /// The phase labelled `label`, if any oneway was sent in it.
    pub fn phase(&self, label: &str) -> Option<&PhaseCount> {
        self.phases.iter().find(|(l, _)| l == label).map(|(_, c)| c)
    }

    /// Never executed twice, never out of order, never run when refused.
    pub fn is_clean(&self) -> bool {
        self.duplicated.is_empty()
            && self.reordered.is_empty()
            && self.executed_though_refused.is_empty()
    }

    /// The phases as Markdown table rows under `scenario`.
    pub fn rows(&self, scenario: &str) -> String {
        let mut out = String::new();
        for (label, c) in &self.phases {
            out.push_str(&format!(
                "| {scenario} | {label} | {} | {} | {} | {} | {} | {} |\n",
                c.sent,
                c.refused,
                c.executed,
                c.lost,
                self.duplicated.len(),
                self.reordered.len()
            ));
        }
        out
    }
}

/// The header of the table [`OnewayAudit::rows`] fills.
pub const TABLE_HEADER: &str =
    "| scenario | phase | sent | refused | executed | lost | duplicated | reordered |\n\
                                |---|---|---:|---:|---:|---:|---:|---:|\n";

/// Waits up to `patience` for every id of `wanted` to be in the execution log `log` (a
/// oneway sent last may still be on its way when its client stops), and returns the log.
pub fn settle(log: &Path, wanted: &[&str], patience: Duration) -> Result<Vec<String>, Error> {
    let until = Instant::now() + patience;
    loop {
        let executed = execution_order(log)?;
        let have: HashSet<&str> = executed.iter().map(String::as_str).collect();
        if wanted.iter().all(|id| have.contains(id)) || Instant::now() >= until {
            return Ok(executed);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
