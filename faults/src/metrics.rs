//! A process's resources as the soak watches them (resident memory, threads, open file
//! descriptors, read from `/proc`), and the trend of a series of samples: the slope of the
//! least-squares line through them, per minute.

use crate::Error;
use std::path::Path;

/// One look at a process.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Seconds since the soak started.
    pub at_s: f64,
    /// `VmRSS` of `/proc/PID/status`, KiB.
    pub rss_kib: u64,
    /// `Threads` of `/proc/PID/status`.
    pub threads: u64,
    /// Entries of `/proc/PID/fd`.
    pub fds: u64,
}

/// Process `pid`'s resources now, stamped `at_s`.
pub fn sample(pid: u32, at_s: f64) -> Result<Sample, Error> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path)
        .map_err(|e| Error(format!("reading {path} (has the process ended?): {e}")))?;
    let field = |name: &str| -> Result<u64, Error> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| Error(format!("no {name} in {path}")))
    };
    let fd_dir = format!("/proc/{pid}/fd");
    let fds = std::fs::read_dir(Path::new(&fd_dir))
        .map_err(|e| Error(format!("listing {fd_dir}: {e}")))?
        .count() as u64;
    Ok(Sample {
        at_s,
        rss_kib: field("VmRSS:")?,
        threads: field("Threads:")?,
        fds,
    })
}

/// The slope of the least-squares line through `points` (x, y), in y per x; 0 with fewer
/// than two distinct x.
pub fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if sxx == 0.0 {
        return 0.0;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    sxy / sxx
}

/// The trends of a process's samples taken after `warm_up_s`: (RSS KiB, threads, fds) per
/// minute.
pub fn trends(samples: &[Sample], warm_up_s: f64) -> (f64, f64, f64) {
    let kept: Vec<&Sample> = samples.iter().filter(|s| s.at_s >= warm_up_s).collect();
    let per_minute = |f: fn(&Sample) -> u64| {
        let points: Vec<(f64, f64)> = kept.iter().map(|s| (s.at_s / 60.0, f(s) as f64)).collect();
        slope(&points)
    };
    (
        per_minute(|s| s.rss_kib),
        per_minute(|s| s.threads),
        per_minute(|s| s.fds),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slope_of_a_line_and_of_noise_around_it() {
        assert_eq!(slope(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]), 2.0);
        let noisy: Vec<(f64, f64)> = (0..100)
            .map(|i| (i as f64, 10.0 + if i % 2 == 0 { 1.0 } else { -1.0 }))
            .collect();
        assert!(slope(&noisy).abs() < 0.01);
        assert_eq!(slope(&[(1.0, 5.0)]), 0.0);
        assert_eq!(slope(&[(1.0, 5.0), (1.0, 7.0)]), 0.0);
    }

    #[test]
    fn this_process_can_be_sampled() {
        let s = sample(std::process::id(), 0.0).unwrap();
        assert!(s.rss_kib > 0 && s.threads >= 1 && s.fds >= 3, "{s:?}");
        assert!(sample(u32::MAX, 0.0).is_err());
    }
}
