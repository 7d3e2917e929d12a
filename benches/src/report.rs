//! The experiments' outputs: raw samples as CSV, Markdown tables of medians and ratios, and the
//! description of the machine they were measured on.

use crate::measure::{Grouped, Sample};
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::Path;

/// A row of an experiment's CSV of raw samples.
pub trait CsvRow {
    /// The CSV's header line.
    const HEADER: &'static str;
    /// Writes the row, its line end included.
    fn write_row(&self, out: &mut dyn io::Write) -> io::Result<()>;
}

/// The samples of most experiments: a time per operation.
impl CsvRow for Sample {
    const HEADER: &'static str = "series,x,round,ns";

    fn write_row(&self, out: &mut dyn io::Write) -> io::Result<()> {
        // Series names are identifiers chosen by the experiments: nothing to quote.
        debug_assert!(!self.series.contains([',', '"', '\n']), "{}", self.series);
        writeln!(
            out,
            "{},{},{},{:.3}",
            self.series, self.x, self.round, self.value
        )
    }
}

/// Writes `rows` to `path` as CSV (the header, a line per row).
pub fn write_csv<R: CsvRow>(path: &Path, rows: &[R]) -> io::Result<()> {
    let mut out = io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "{}", R::HEADER)?;
    for row in rows {
        row.write_row(&mut out)?;
    }
    out.flush()
}

/// A nanosecond figure with the precision that matters at its size.
pub fn ns(v: f64) -> String {
    match v {
        v if v >= 100.0 => format!("{v:.0}"),
        v if v >= 10.0 => format!("{v:.1}"),
        v => format!("{v:.2}"),
    }
}

/// A ratio with the precision that matters at its size.
pub fn ratio(r: f64) -> String {
    match r {
        r if r >= 100.0 => format!("{r:.0}"),
        r if r >= 10.0 => format!("{r:.1}"),
        r => format!("{r:.2}"),
    }
}

/// A Markdown table: a row per point (`x_name`, shown by `x_label`), the median ns of each
/// series, then the ratio of each other series to `baseline` (the median of the per-round
/// ratios); "–" where a series was not measured.
pub fn table(
    samples: &[Sample],
    x_name: &str,
    x_label: impl Fn(f64) -> String,
    baseline: &str,
) -> String {
    let g = Grouped::new(samples);
    let others: Vec<&str> = g
        .series
        .iter()
        .copied()
        .filter(|s| *s != baseline)
        .collect();
    let mut t = format!("| {x_name} |");
    for s in &g.series {
        let _ = write!(t, " {s} (ns) |");
    }
    for s in &others {
        let _ = write!(t, " {s} ÷ {baseline} |");
    }
    t.push_str("\n|---|");
    t.push_str(&"---:|".repeat(g.series.len() + others.len()));
    t.push('\n');
    for &x in &g.xs {
        let _ = write!(t, "| {} |", x_label(x));
        for s in &g.series {
            let cell = g.median(s, x).map_or("–".to_owned(), ns);
            let _ = write!(t, " {cell} |");
        }
        for s in &others {
            let cell = g
                .ratio(s, baseline, x, samples)
                .map_or("–".to_owned(), ratio);
            let _ = write!(t, " {cell} |");
        }
        t.push('\n');
    }
    t
}

/// The machine, as the report states it: the CPU model from `/proc/cpuinfo`, the processors it
/// lists, the processors this process may run on (what `nproc` prints: fewer when pinned with
/// `taskset`) and the kernel.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU (no /proc/cpuinfo)", |(_, m)| m.trim());
    let listed = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let usable = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{model}, {listed} processors listed in /proc/cpuinfo, {usable} usable by this run \
         (nproc), Linux {}",
        kernel.trim()
    )
}

/// The load average over 1, 5 and 15 minutes, as `/proc/loadavg` has it ("unknown" without
/// it): how busy the machine was besides the run.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_medians_ratios_and_gaps() {
        let samples = vec![
            Sample::new("base", 1.0, 0, 10.0),
            Sample::new("other", 1.0, 0, 25.0),
            Sample::new("base", 10.0, 0, 10.0),
        ];
        let t = table(&samples, "n", |x| format!("{x}"), "base");
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "| n | base (ns) | other (ns) | other ÷ base |");
        assert_eq!(lines[1], "|---|---:|---:|---:|");
        assert_eq!(lines[2], "| 1 | 10.0 | 25.0 | 2.50 |");
        assert_eq!(lines[3], "| 10 | 10.0 | – | – |");
    }

    #[test]
    fn csv_has_header_and_a_row_per_sample() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        write_csv(&path, &[Sample::new("a", 100.0, 2, 1.5)]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "series,x,round,ns\na,100,2,1.500\n"
        );
    }
}
