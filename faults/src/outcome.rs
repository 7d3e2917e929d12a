//! Every call a scenario's client makes, as one line of its standard output: what it was,
//! when it started and ended (milliseconds since the Unix epoch, so that the test can place
//! it against the partitions and kills it made), and how it ended. The agent writes these
//! lines ([`Outcome::line`]) and the tests read them back ([`Outcome::parse`]).

use orb::exception::SystemException;
use std::time::{SystemTime, UNIX_EPOCH};

/// How a failed call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The system exception's name (`TRANSIENT`), or a user exception's (`NotFound`).
    pub kind: String,
    pub minor: u32,
    /// `NO`, `YES` or `MAYBE` (`-` for a user exception: the call ran).
    pub completed: String,
}

impl Failure {
    pub fn system(e: &SystemException) -> Failure {
        let completed = match e.completed {
            orb::codegen::CompletionStatus::No => "NO",
            orb::codegen::CompletionStatus::Yes => "YES",
            orb::codegen::CompletionStatus::Maybe => "MAYBE",
        };
        Failure {
            kind: e.kind.name().to_owned(),
            minor: e.minor,
            completed: completed.to_owned(),
        }
    }

    /// A user exception: the operation ran and said no.
    pub fn user(name: &str) -> Failure {
        Failure {
            kind: name.to_owned(),
            minor: 0,
            completed: "-".to_owned(),
        }
    }

    /// `KIND/COMPLETED`, as the report counts failures.
    pub fn label(&self) -> String {
        format!("{}/{}", self.kind, self.completed)
    }
}

/// One call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The operation (`execute`, `fill`, `bind`, `resolve`).
    pub op: String,
    /// What the call was about: its call id, or the name bound or resolved.
    pub id: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub result: Result<(), Failure>,
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Outcome {
    /// `OP ID START END ok` or `OP ID START END KIND MINOR COMPLETED`.
    pub fn line(&self) -> String {
        let head = format!("{} {} {} {}", self.op, self.id, self.start_ms, self.end_ms);
        match &self.result {
            Ok(()) => format!("{head} ok"),
            Err(f) => format!("{head} {} {:#x} {}", f.kind, f.minor, f.completed),
        }
    }

    /// A line [`Outcome::line`] wrote; `None` for any other line.
    pub fn parse(line: &str) -> Option<Outcome> {
        let w: Vec<&str> = line.split_whitespace().collect();
        let (op, id, start, end) = (w.first()?, w.get(1)?, w.get(2)?, w.get(3)?);
        let result = match &w[4..] {
            ["ok"] => Ok(()),
            [kind, minor, completed] => Err(Failure {
                kind: (*kind).to_owned(),
                minor: u32::from_str_radix(minor.strip_prefix("0x")?, 16).ok()?,
                completed: (*completed).to_owned(),
            }),
            _ => return None,
        };
        Some(Outcome {
            op: (*op).to_owned(),
            id: (*id).to_owned(),
            start_ms: start.parse().ok()?,
            end_ms: end.parse().ok()?,
            result,
        })
    }

    pub fn ok(&self) -> bool {
        self.result.is_ok()
    }

    pub fn duration_ms(&self) -> u64 {
        self.end_ms.saturating_sub(self.start_ms)
    }
}

/// The outcomes among a client's output lines.
pub fn outcomes(lines: &[String]) -> Vec<Outcome> {
    lines.iter().filter_map(|l| Outcome::parse(l)).collect()
}
