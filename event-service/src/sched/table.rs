//! The task tables `rtsched` reads: one task per line, whitespace between columns, `#` to
//! the end of a line a comment.
//!
//! ```text
//! # name    period  wcet   criticality  importance  depends-on
//! sensor    10ms    1ms    high         medium      -
//! filter    0       500us  high         -           @sensor
//! logger    100ms   2ms    low          low         format*2
//! format    0       100us  -            -           -
//! ```
//!
//! - `period` and `wcet`: a number with `s`, `ms`, `us` or `ns` (a bare number is in
//!   milliseconds), a whole number of 100 ns (the IDL's unit); a period of 0 is an operation
//!   that runs only when something calls it;
//! - `criticality`: `very_low`, `low`, `medium`, `high`, `very_high`; `importance` the same;
//!   `-` (or a missing column) is TAO's default, `very_low`;
//! - `depends-on`: `-`, or a comma-separated list: `name` (a two-way call this task makes),
//!   `name*3` (three of them per dispatch), `@name` (a one-way dependency: events `name`
//!   pushes make this task run, at `name`'s rate).
//!
//! A name may be used before the line that defines it.

use super::idl::{CriticalityT, DependencyTypeT, ImportanceT, InfoTypeT, Time};
use super::registry::{Attributes, Registry};
use std::fmt;

/// What is wrong with a table, and on which line (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for TableError {}

fn error(line: usize, message: impl Into<String>) -> TableError {
    TableError {
        line,
        message: message.into(),
    }
}

struct Row<'a> {
    line: usize,
    name: &'a str,
    deps: Vec<(&'a str, i32, DependencyTypeT)>,
}

/// The registry a table describes: RT_Infos in the order of their lines (handles 1, 2, ...)
/// and their dependencies.
pub fn parse(text: &str) -> Result<Registry, TableError> {
    let mut reg = Registry::new();
    let mut rows = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let content = raw.split('#').next().unwrap_or("");
        let cols: Vec<&str> = content.split_whitespace().collect();
        if cols.is_empty() {
            continue;
        }
        if cols.len() < 3 {
            return Err(error(
                line,
                format!(
                    "{} column{} where at least 3 are needed: name period wcet [criticality importance depends-on]",
                    cols.len(),
                    if cols.len() == 1 { "" } else { "s" }
                ),
            ));
        }
        if cols.len() > 6 {
            return Err(error(
                line,
                format!(
                    "{} columns where at most 6 are allowed: name period wcet criticality importance depends-on (list dependencies without spaces: a,b*2,@c)",
                    cols.len()
                ),
            ));
        }
        let name = cols[0];
        let period =
            time(cols[1]).map_err(|m| error(line, format!("period {:?}: {m}", cols[1])))?;
        let period = i32::try_from(period).map_err(|_| {
            error(
                line,
                format!(
                    "period {:?} is longer than the IDL's Period_t holds (214.7 s)",
                    cols[1]
                ),
            )
        })?;
        let wcet = time(cols[2]).map_err(|m| error(line, format!("wcet {:?}: {m}", cols[2])))?;
        let criticality = match cols.get(3) {
            None => CriticalityT::VeryLowCriticality,
            Some(w) => criticality(w).ok_or_else(|| {
                error(
                    line,
                    format!(
                        "criticality {w:?}: expected very_low, low, medium, high, very_high or -"
                    ),
                )
            })?,
        };
        let importance = match cols.get(4) {
            None => ImportanceT::VeryLowImportance,
            Some(w) => importance(w).ok_or_else(|| {
                error(
                    line,
                    format!(
                        "importance {w:?}: expected very_low, low, medium, high, very_high or -"
                    ),
                )
            })?,
        };
        let deps = match cols.get(5) {
            None | Some(&"-") => Vec::new(),
            Some(list) => list
                .split(',')
                .map(|d| dependency(d).map_err(|m| error(line, format!("dependency {d:?}: {m}"))))
                .collect::<Result<_, _>>()?,
        };
        let handle = reg
            .create(name)
            .map_err(|_| error(line, format!("task {name:?} is defined twice")))?;
        reg.set(
            handle,
            &Attributes {
                criticality,
                wcet,
                period,
                importance,
                info_type: InfoTypeT::Operation,
                ..Attributes::default()
            },
        )
        .map_err(|e| error(line, e.to_string()))?;
        rows.push(Row { line, name, deps });
    }
    for row in &rows {
        let handle = reg
            .lookup(row.name)
            .map_err(|e| error(row.line, e.to_string()))?;
        for (target, calls, kind) in &row.deps {
            let dep = reg.lookup(target).map_err(|_| {
                error(
                    row.line,
                    format!(
                        "{:?} depends on {target:?}, which no line defines",
                        row.name
                    ),
                )
            })?;
            reg.add_dependency(handle, dep, *calls, *kind)
                .map_err(|e| error(row.line, e.to_string()))?;
        }
    }
    Ok(reg)
}

/// A time in 100 ns units.
fn time(text: &str) -> Result<Time, String> {
    let (number, unit_ns) = [
        ("ns", 1u64),
        ("us", 1_000),
        ("ms", 1_000_000),
        ("s", 1_000_000_000),
    ]
    .iter()
    .find_map(|(suffix, ns)| text.strip_suffix(suffix).map(|n| (n, *ns)))
    .unwrap_or((text, 1_000_000));
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && frac.is_empty() {
        return Err("expected a number with s, ms, us or ns".into());
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(frac) {
        return Err("expected a number with s, ms, us or ns".into());
    }
    if frac.len() > 9 {
        return Err("more decimals than a nanosecond".into());
    }
    let too_long = || "too long".to_string();
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| too_long())?
    };
    let frac_value: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| too_long())?
    };
    let scale = 10u64.pow(u32::try_from(frac.len()).unwrap_or(9));
    // ns = whole·unit + frac·unit/scale, exactly.
    let frac_ns = frac_value.checked_mul(unit_ns).ok_or_else(too_long)?;
    if frac_ns % scale != 0 {
        return Err("not a whole number of nanoseconds".into());
    }
    let ns = whole
        .checked_mul(unit_ns)
        .and_then(|w| w.checked_add(frac_ns / scale))
        .ok_or_else(too_long)?;
    if ns % 100 != 0 {
        return Err("not a whole number of 100 ns, the IDL's unit".into());
    }
    Ok(ns / 100)
}

fn level(word: &str) -> Option<u8> {
    match word.to_ascii_lowercase().as_str() {
        "-" | "very_low" => Some(0),
        "low" => Some(1),
        "medium" => Some(2),
        "high" => Some(3),
        "very_high" => Some(4),
        _ => None,
    }
}

fn criticality(word: &str) -> Option<CriticalityT> {
    Some(match level(word)? {
        0 => CriticalityT::VeryLowCriticality,
        1 => CriticalityT::LowCriticality,
        2 => CriticalityT::MediumCriticality,
        3 => CriticalityT::HighCriticality,
        _ => CriticalityT::VeryHighCriticality,
    })
}

fn importance(word: &str) -> Option<ImportanceT> {
    Some(match level(word)? {
        0 => ImportanceT::VeryLowImportance,
        1 => ImportanceT::LowImportance,
        2 => ImportanceT::MediumImportance,
        3 => ImportanceT::HighImportance,
        _ => ImportanceT::VeryHighImportance,
    })
}

fn dependency(text: &str) -> Result<(&str, i32, DependencyTypeT), String> {
    let (kind, rest) = match text.strip_prefix('@') {
        Some(r) => (DependencyTypeT::OneWayCall, r),
        None => (DependencyTypeT::TwoWayCall, text),
    };
    let (name, calls) = match rest.split_once('*') {
        Some((n, c)) => (
            n,
            c.parse::<i32>()
                .ok()
                .filter(|c| *c >= 1)
                .ok_or("the number of calls after * must be a whole number from 1")?,
        ),
        None => (rest, 1),
    };
    if name.is_empty() {
        return Err("no task name".into());
    }
    Ok((name, calls, kind))
}

/// Formats a time in 100 ns units as milliseconds, without trailing zeros.
pub fn millis(t: Time) -> String {
    let whole = t / 10_000;
    let frac = t % 10_000;
    if frac == 0 {
        whole.to_string()
    } else {
        let f = format!("{frac:04}");
        format!("{whole}.{}", f.trim_end_matches('0'))
    }
}

fn level_word(level: u32) -> &'static str {
    ["very_low", "low", "medium", "high", "very_high"]
        .get(level as usize)
        .copied()
        .unwrap_or("?")
}

/// The schedule table and the verdict, as `rtsched` prints them (times in milliseconds).
pub fn render(schedule: &super::Schedule) -> String {
    use super::Verdict;
    use std::fmt::Write;
    let mut out = String::new();
    let width = schedule
        .tasks
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        out,
        "{:<width$}  {:>8}  {:>8}  {:>8}  {:<9}  {:<9}  {:>4}  {:>4}  {:>3}  {:>8}  deadline",
        "task", "period", "wcet", "demand", "crit", "imp", "lane", "os", "sub", "response"
    );
    for t in &schedule.tasks {
        let (period, response, deadline) = if t.dispatched {
            (
                millis(t.period),
                t.response_time
                    .map_or_else(|| format!(">{}", millis(t.period)), millis),
                if t.meets_deadline { "met" } else { "MISSED" },
            )
        } else {
            ("-".into(), "-".into(), "in callers")
        };
        let _ = writeln!(
            out,
            "{:<width$}  {:>8}  {:>8}  {:>8}  {:<9}  {:<9}  {:>4}  {:>4}  {:>3}  {:>8}  {}",
            t.name,
            period,
            millis(t.wcet),
            millis(t.demand),
            level_word(t.criticality as u32),
            level_word(t.importance as u32),
            t.preemption_priority,
            t.os_priority,
            t.subpriority,
            response,
            deadline
        );
    }
    for l in &schedule.lanes {
        let timers: Vec<String> = l
            .timer_periods
            .iter()
            .map(|p| millis(u64::try_from(*p).unwrap_or(0)))
            .collect();
        let _ = writeln!(
            out,
            "lane {}: os priority {}, utilization {:.4}, timers [{}]",
            l.preemption_priority,
            l.os_priority,
            l.utilization,
            timers.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "utilization {:.4} (critical set {:.4})",
        schedule.utilization, schedule.critical_utilization
    );
    let within = |b: f64| schedule.utilization <= b + 1e-12;
    match schedule.bound {
        Some(b) => {
            let _ = writeln!(
                out,
                "Liu & Layland bound for {} tasks: {:.4} ({})",
                schedule.bound_tasks,
                b,
                if within(b) { "holds" } else { "exceeded" }
            );
        }
        None => {
            let _ = writeln!(
                out,
                "Liu & Layland bound: does not apply ({})",
                if schedule.bound_tasks == 0 {
                    "no periodic work"
                } else {
                    "rates share lanes"
                }
            );
        }
    }
    for a in &schedule.anomalies {
        let _ = writeln!(out, "warning: {}", a.description);
    }
    let _ = match &schedule.verdict {
        Verdict::Schedulable => {
            writeln!(out, "verdict: schedulable (within the Liu & Layland bound)")
        }
        Verdict::SchedulableByResponseTime => writeln!(
            out,
            "verdict: schedulable (bound inconclusive; every response time is within its deadline)"
        ),
        Verdict::NotSchedulable { missed } => writeln!(
            out,
            "verdict: NOT schedulable: {} can miss {} deadline{}",
            missed.join(", "),
            if missed.len() == 1 { "its" } else { "their" },
            if missed.len() == 1 { "" } else { "s" }
        ),
    };
    out
}
