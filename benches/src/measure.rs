//! What the experiments measure with and what they hand back: raw samples, batch timing and
//! the statistics the report quotes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// One measurement: `value` (ns per operation) of the contender `series` at the point `x` (a
/// number of operations, of servants, a payload size...) in round `round`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub series: String,
    pub x: f64,
    pub round: usize,
    pub value: f64,
}

impl Sample {
    pub fn new(series: &str, x: f64, round: usize, value: f64) -> Sample {
        Sample {
            series: series.to_owned(),
            x,
            round,
            value,
        }
    }
}

/// The wall time of `iters` calls of `f`.
pub fn time_batch(iters: u64, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed()
}

/// How many calls of `f` take about `target`: estimated from a first batch of ten (which also
/// warms up), at least one.
pub fn calls_in(target: Duration, mut f: impl FnMut()) -> u64 {
    let probe = 10;
    let each = time_batch(probe, &mut f).as_nanos().max(1) / u128::from(probe);
    (target.as_nanos() / each).clamp(1, u128::from(u32::MAX)) as u64
}

/// The `q` quantile (0..=1) of `v`, nearest rank; NaN when empty.
pub fn quantile(v: &[f64], q: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = (q * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// The median of `v` (the upper one of an even count); NaN when empty.
pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The samples of each series at each point.
pub struct Grouped<'a> {
    /// Series in the order they first appear.
    pub series: Vec<&'a str>,
    /// The points, ascending.
    pub xs: Vec<f64>,
    /// (index in `series`, x's bits) → values.
    values: BTreeMap<(usize, u64), Vec<f64>>,
}

impl<'a> Grouped<'a> {
    pub fn new(samples: &'a [Sample]) -> Grouped<'a> {
        let mut series: Vec<&str> = Vec::new();
        let mut xs: Vec<f64> = Vec::new();
        let mut values: BTreeMap<(usize, u64), Vec<f64>> = BTreeMap::new();
        for s in samples {
            let k = match series.iter().position(|&name| name == s.series) {
                Some(k) => k,
                None => {
                    series.push(&s.series);
                    series.len() - 1
                }
            };
            if !xs.contains(&s.x) {
                xs.push(s.x);
            }
            values.entry((k, s.x.to_bits())).or_default().push(s.value);
        }
        xs.sort_by(f64::total_cmp);
        Grouped { series, xs, values }
    }

    /// The values of `series` at `x` (empty if it was not measured there).
    pub fn values(&self, series: &str, x: f64) -> &[f64] {
        self.series
            .iter()
            .position(|&name| name == series)
            .and_then(|k| self.values.get(&(k, x.to_bits())))
            .map_or(&[], Vec::as_slice)
    }

    /// The median of `series` at `x`, or `None` if it was not measured there.
    pub fn median(&self, series: &str, x: f64) -> Option<f64> {
        let v = self.values(series, x);
        (!v.is_empty()).then(|| median(v))
    }

    /// The median of the per-round ratios of `series` to `baseline` at `x` (rounds where both
    /// were measured), the measure that a neighbour's burst spoils least.
    pub fn ratio(&self, series: &str, baseline: &str, x: f64, samples: &[Sample]) -> Option<f64> {
        let of = |name: &str| -> BTreeMap<usize, f64> {
            samples
                .iter()
                .filter(|s| s.series == name && s.x == x)
                .map(|s| (s.round, s.value))
                .collect()
        };
        let (a, b) = (of(series), of(baseline));
        let ratios: Vec<f64> = a
            .iter()
            .filter_map(|(round, v)| b.get(round).map(|base| v / base))
            .collect();
        (!ratios.is_empty()).then(|| median(&ratios))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_take_medians_and_per_round_ratios() {
        let samples = vec![
            Sample::new("a", 1.0, 0, 10.0),
            Sample::new("b", 1.0, 0, 20.0),
            Sample::new("a", 1.0, 1, 30.0),
            Sample::new("b", 1.0, 1, 90.0),
            Sample::new("a", 1.0, 2, 20.0),
            Sample::new("b", 1.0, 2, 80.0),
            Sample::new("b", 5.0, 0, 1.0),
        ];
        let g = Grouped::new(&samples);
        assert_eq!(g.series, ["a", "b"]);
        assert_eq!(g.xs, [1.0, 5.0]);
        assert_eq!(g.median("a", 1.0), Some(20.0));
        assert_eq!(g.median("a", 5.0), None);
        // Per round: 2, 3, 4 → 3 (the ratio of the medians would be 80 / 20 = 4).
        assert_eq!(g.ratio("b", "a", 1.0, &samples), Some(3.0));
        assert_eq!(g.ratio("b", "a", 5.0, &samples), None);
    }

    #[test]
    fn quantiles_take_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert_eq!(quantile(&v, 1.0), 100.0);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn calls_in_is_at_least_one() {
        assert_eq!(
            calls_in(Duration::ZERO, || std::thread::sleep(
                Duration::from_micros(10)
            )),
            1
        );
    }
}
