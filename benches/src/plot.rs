//! The experiments' plots, as SVG (plotters' SVG backend: no font or bitmap stack): lines on
//! log–log axes, and bars on a log axis when the contenders differ by orders of magnitude.

use crate::measure::Grouped;
use crate::report::ns;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::error::Error;
use std::path::Path;

/// The colours of successive series.
const PALETTE: [RGBColor; 9] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(127, 127, 127),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
];

/// The range of a log axis around the positive `values`, with some air.
fn log_range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return 1.0..10.0;
    }
    lo / 1.5..hi * 1.5
}

/// Whether positive values in `range` (a [`log_range`]) span more than a decade: then a log
/// axis shows them best; else a linear one from zero, where a log axis would show no tick and
/// blow small differences up.
fn spans_a_decade(range: &std::ops::Range<f64>) -> bool {
    range.end / range.start > 10.0 * 1.5 * 1.5
}

/// A line per series through its medians at each point, log x (its ticks powers of `x_base`:
/// 10, or 2 for counts that double), log y if the medians span more than a decade.
pub fn lines(
    path: &Path,
    title: &str,
    (x_desc, y_desc): (&str, &str),
    x_base: f64,
    g: &Grouped<'_>,
) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let medians = |series: &str| -> Vec<(f64, f64)> {
        g.xs.iter()
            .filter_map(|&x| g.median(series, x).map(|m| (x, m)))
            .collect()
    };
    let all_medians = || g.series.iter().flat_map(|s| medians(s)).map(|p| p.1);
    let x_range = log_range(g.xs.iter().copied());
    let log_y = log_range(all_medians());
    let linear_y = 0.0..all_medians().fold(0.0, f64::max) * 1.15;
    // The same drawing on either kind of y axis (plotters types them apart).
    macro_rules! draw {
        ($y:expr) => {{
            let mut chart = ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 22))
                .margin(15)
                .x_label_area_size(45)
                .y_label_area_size(70)
                .build_cartesian_2d(x_range.clone().log_scale().base(x_base), $y)?;
            chart
                .configure_mesh()
                .x_desc(x_desc)
                .y_desc(y_desc)
                .x_label_formatter(&|v| format!("{v}"))
                .y_label_formatter(&|v| ns(*v))
                .draw()?;
            for (i, series) in g.series.iter().enumerate() {
                line_with_dots(&mut chart, i, series, medians(series))?;
            }
            legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        }};
    }
    if spans_a_decade(&log_y) {
        draw!(log_y.log_scale());
    } else {
        draw!(linear_y);
    }
    root.present()?;
    Ok(())
}

/// Series `i`'s line through `points`, a dot on each, and its legend entry `name`.
fn line_with_dots<CT>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, CT>,
    i: usize,
    name: &str,
    points: Vec<(f64, f64)>,
) -> Result<(), Box<dyn Error>>
where
    CT: CoordTranslate<From = (f64, f64)>,
{
    let color = PALETTE[i % PALETTE.len()];
    chart
        .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
        .label(name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    chart.draw_series(
        points
            .into_iter()
            .map(|p| Circle::new(p, 3, color.filled())),
    )?;
    Ok(())
}

/// The legend box, at `position`.
fn legend<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    position: SeriesLabelPosition,
) -> Result<(), Box<dyn Error>> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// One panel per point of `g` (side by side, titled `panel_title(x)`), a bar per series at its
/// median (written above it), log y if the medians span more than a decade; under each bar its entry of `labels` (short names of the
/// series, in `g.series` order).
pub fn bars(
    path: &Path,
    title: &str,
    y_desc: &str,
    g: &Grouped<'_>,
    labels: &[&str],
    panel_title: impl Fn(f64) -> String,
) -> Result<(), Box<dyn Error>> {
    let width = 120 + 80 * g.series.len() as u32 * g.xs.len().max(1) as u32;
    let value_style =
        TextStyle::from(("sans-serif", 12).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
    let root = SVGBackend::new(path, (width, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 22))?;
    let all_medians = || {
        g.xs.iter()
            .flat_map(|&x| g.series.iter().filter_map(move |s| g.median(s, x)))
    };
    let log_y = log_range(all_medians());
    let linear_y = 0.0..all_medians().fold(0.0, f64::max) * 1.15;
    let n = g.series.len();
    for (panel, &x) in root.split_evenly((1, g.xs.len().max(1))).iter().zip(&g.xs) {
        let medians: Vec<(f64, f64)> = g
            .series
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((i as f64, g.median(s, x)?)))
            .collect();
        // The same drawing on either kind of y axis (plotters types them apart).
        macro_rules! draw {
            ($y:expr, $base:expr) => {{
                let mut chart = ChartBuilder::on(panel)
                    .caption(panel_title(x), ("sans-serif", 17))
                    .margin(10)
                    .x_label_area_size(40)
                    .y_label_area_size(70)
                    .build_cartesian_2d(-0.5f64..n as f64 - 0.5, $y)?;
                chart
                    .configure_mesh()
                    .disable_x_mesh()
                    .x_labels(n)
                    .x_label_formatter(&|v| {
                        let i = v.round();
                        match labels.get(i as usize) {
                            Some(label) if (v - i).abs() < 0.01 && i >= 0.0 => (*label).to_owned(),
                            _ => String::new(),
                        }
                    })
                    .x_label_style(("sans-serif", 12))
                    .y_label_formatter(&|v| ns(*v))
                    .y_desc(y_desc)
                    .draw()?;
                chart.draw_series(medians.iter().map(|&(i, m)| {
                    let color = PALETTE[i as usize % PALETTE.len()];
                    Rectangle::new([(i - 0.35, $base), (i + 0.35, m)], color.filled())
                }))?;
                chart.draw_series(
                    medians
                        .iter()
                        .map(|&(i, m)| Text::new(ns(m), (i, m), value_style.clone())),
                )?;
            }};
        }
        if spans_a_decade(&log_y) {
            draw!(log_y.clone().log_scale(), log_y.start);
        } else {
            draw!(linear_y.clone(), 0.0);
        }
    }
    root.present()?;
    Ok(())
}

/// The cumulative distribution of each series' `values` (ns), log x: the fraction of calls
/// that took at most x.
pub fn cdf(
    path: &Path,
    title: &str,
    x_desc: &str,
    series: &[(&str, Vec<f64>)],
) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let x_range = log_range(series.iter().flat_map(|(_, v)| v.iter().copied()));
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x_range.log_scale(), 0f64..1.0)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("fraction of calls")
        .x_label_formatter(&|v| ns(*v))
        .draw()?;
    for (i, (name, values)) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len() as f64;
        let points = sorted
            .iter()
            .enumerate()
            .map(|(k, &v)| (v, (k + 1) as f64 / n));
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    root.present()?;
    Ok(())
}

/// A line per series through its `(x, y)` points, on linear axes (`y_range` fixed, for a
/// fraction or a percentage): where neither axis spans decades.
pub fn linear_lines(
    path: &Path,
    title: &str,
    (x_desc, y_desc): (&str, &str),
    series: &[(&str, Vec<(f64, f64)>)],
    y_range: std::ops::Range<f64>,
) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let xs = || series.iter().flat_map(|(_, p)| p.iter().map(|p| p.0));
    let (lo, hi) = xs().fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let x_range = if lo < hi {
        lo - (hi - lo) * 0.05..hi + (hi - lo) * 0.05
    } else {
        0.0..1.0
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x_range, y_range)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    for (i, (name, points)) in series.iter().enumerate() {
        line_with_dots(&mut chart, i, name, points.clone())?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    root.present()?;
    Ok(())
}

/// Bins of a histogram over `range` (log-spaced: latencies have long tails): `bins + 1`
/// edges.
fn log_edges(range: &std::ops::Range<f64>, bins: usize) -> Vec<f64> {
    let (lo, hi) = (range.start.ln(), range.end.ln());
    (0..=bins)
        .map(|k| (lo + (hi - lo) * k as f64 / bins as f64).exp())
        .collect()
}

/// The histogram of each series' `values` (positive; in the unit `x_desc` names) on a log x
/// axis of `bins` log-spaced bins, as the fraction of that series' values in each bin (so
/// that series of different sizes compare), the series drawn over each other, translucent.
pub fn histogram(
    path: &Path,
    title: &str,
    x_desc: &str,
    series: &[(&str, Vec<f64>)],
    bins: usize,
) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let x_range = log_range(series.iter().flat_map(|(_, v)| v.iter().copied()));
    let edges = log_edges(&x_range, bins.max(1));
    let fractions: Vec<Vec<f64>> = series
        .iter()
        .map(|(_, values)| {
            let mut counts = vec![0usize; edges.len() - 1];
            for &v in values {
                // The last edge at or below v: its bin (values outside are none: the range
                // holds them all).
                if let Some(k) = edges.windows(2).position(|w| w[0] <= v && v < w[1]) {
                    counts[k] += 1;
                }
            }
            let n = values.len().max(1) as f64;
            counts.into_iter().map(|c| c as f64 / n).collect()
        })
        .collect();
    let top = fractions.iter().flatten().fold(0.0f64, |a, &b| a.max(b));
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x_range.log_scale(), 0f64..(top * 1.15).max(0.01))?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("fraction of the samples")
        .x_label_formatter(&|v| ns(*v))
        .draw()?;
    for (i, ((name, values), fractions)) in series.iter().zip(&fractions).enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(
                edges
                    .windows(2)
                    .zip(fractions)
                    .filter(|(_, &f)| f > 0.0)
                    .map(|(w, &f)| {
                        Rectangle::new([(w[0], 0.0), (w[1], f)], color.mix(0.45).filled())
                    }),
            )?
            .label(format!("{name} ({} samples)", values.len()))
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 20, y + 5)], color.mix(0.45).filled())
            });
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_edges_span_the_range_evenly_in_ratio() {
        let e = log_edges(&(1.0..1000.0), 3);
        assert_eq!(e.len(), 4);
        for (got, want) in e.iter().zip([1.0, 10.0, 100.0, 1000.0]) {
            assert!((got - want).abs() < 1e-9 * want, "{e:?}");
        }
    }

    #[test]
    fn a_histogram_and_linear_lines_are_svg_documents() {
        let dir = tempfile::tempdir().unwrap();
        let h = dir.path().join("h.svg");
        histogram(
            &h,
            "h",
            "µs",
            &[("a", vec![1.0, 2.0, 2.5, 40.0]), ("b", vec![3.0])],
            10,
        )
        .unwrap();
        let svg = std::fs::read_to_string(&h).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("a (4 samples)"),
            "{svg}"
        );
        let l = dir.path().join("l.svg");
        linear_lines(
            &l,
            "l",
            ("x", "y"),
            &[("s", vec![(40.0, 0.0), (70.0, 12.5)])],
            0.0..100.0,
        )
        .unwrap();
        assert!(std::fs::read_to_string(&l).unwrap().contains("</svg>"));
    }
}
