//! The scenarios' table: per scenario, the calls made, the failures by kind and completion
//! status, the calls that outlived their timeout ("hangs") and the acknowledged results
//! that were lost.

use crate::outcome::Outcome;
use std::collections::BTreeMap;

/// One scenario's figures.
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub scenario: String,
    pub calls: usize,
    /// `KIND/COMPLETED` → how many.
    pub failures: BTreeMap<String, usize>,
    pub hangs: usize,
    pub lost_acknowledged: usize,
}

impl Row {
    /// The figures of `outcomes`; a call longer than `hang_ms` counts as a hang. What was
    /// lost is the scenario's to say ([`Row::lost_acknowledged`]).
    pub fn of(scenario: &str, outcomes: &[Outcome], hang_ms: u64) -> Row {
        let mut row = Row {
            scenario: scenario.to_owned(),
            calls: outcomes.len(),
            ..Row::default()
        };
        for o in outcomes {
            if let Err(f) = &o.result {
                *row.failures.entry(f.label()).or_default() += 1;
            }
            if o.duration_ms() > hang_ms {
                row.hangs += 1;
            }
        }
        row
    }

    /// The failures as `KIND/COMPLETED n, ...` (`none` when there were none).
    pub fn failures_text(&self) -> String {
        if self.failures.is_empty() {
            return "none".to_owned();
        }
        let parts: Vec<String> = self
            .failures
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        parts.join(", ")
    }
}

/// `rows` as a Markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | calls | failures by kind | hangs | lost acknowledged |\n\
         |---|---:|---|---:|---:|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.scenario,
            r.calls,
            r.failures_text(),
            r.hangs,
            r.lost_acknowledged
        ));
    }
    out
}
