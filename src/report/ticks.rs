//! Where the x axis's ticks go and how tick labels read.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;

/// About this many labelled ticks on an x axis.
const X_LABELS: f64 = 10.0;

/// Labelled (bold) and unlabelled (light) grid positions of a linear x axis, at multiples
/// of 1, 2 or 5 × 10^k. An axis of whole numbers (epochs, steps) gets whole-number ticks
/// only: plotters' own choice puts ticks at 0.5, 1.5, ... on a three-epoch axis.
fn x_ticks(range: &Range<f64>, whole: bool) -> (Vec<f64>, Vec<f64>) {
    let mut bold_step = nice_step((range.end - range.start) / X_LABELS);
    if whole {
        bold_step = bold_step.max(1.0);
    }
    // Light lines subdivide a bold interval into fifths (1, 5) or halves (2).
    let leading = bold_step / 10f64.powf(bold_step.log10().floor());
    let mut light_step = if (leading - 2.0).abs() < 1e-9 {
        bold_step / 2.0
    } else {
        bold_step / 5.0
    };
    if whole {
        light_step = light_step.max(1.0);
    }
    let bold = multiples(range, bold_step);
    let light = if light_step < bold_step {
        multiples(range, light_step)
            .into_iter()
            .filter(|v| !bold.iter().any(|b| (b - v).abs() < light_step * 1e-6))
            .collect()
    } else {
        Vec::new()
    };
    (bold, light)
}

/// A linear x axis with the grid of [`x_ticks`]. (plotters' `WithKeyPoints` does the
/// same but loses the tick formatter that `configure_mesh` needs.)
pub(crate) struct XAxis {
    linear: RangedCoordf64,
    bold: Vec<f64>,
    light: Vec<f64>,
}

impl XAxis {
    /// `whole`: every x drawn is a whole number (see [`x_ticks`]).
    pub fn new(range: Range<f64>, whole: bool) -> Self {
        let (bold, light) = x_ticks(&range, whole);
        Self {
            linear: range.into(),
            bold,
            light,
        }
    }
}

impl Ranged for XAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.linear.range()
    }
}

/// The smallest of 1, 2, 5 × 10^k at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let base = 10f64.powf(raw.log10().floor());
    let m = raw / base;
    let factor = [1.0, 2.0, 5.0]
        .into_iter()
        .find(|&f| m <= f * (1.0 + 1e-9))
        .unwrap_or(10.0);
    factor * base
}

/// `k · step` for every whole k with the product inside `range` (computed as a product, not
/// a running sum, so that no rounding error builds up; an end that is a multiple but for
/// rounding, 1.2 / 0.2 = 5.999…, counts as one).
fn multiples(range: &Range<f64>, step: f64) -> Vec<f64> {
    let first = (range.start / step - 1e-9).ceil() as i64;
    let last = (range.end / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Tick labels: short, no float noise, scientific only where decimals would be long. On a
/// linear axis of extent `span`, a tick a billionth of it from zero is zero (the tick
/// arithmetic leaves e.g. 3.5e-18 on an axis from −0.01 to 0.1).
pub(crate) fn fmt_tick(v: f64, span: Option<f64>) -> String {
    if v == 0.0 || span.is_some_and(|s| v.abs() <= s.abs() * 1e-9) {
        return "0".into();
    }
    let a = v.abs();
    // Step counts stay plain integers; a log axis's decades go to 1e5 as 1e5 (not 100000).
    let plain_below = if span.is_some() { 1e7 } else { 1e5 };
    if v.fract() == 0.0 && a < plain_below {
        return format!("{v:.0}");
    }
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.1e}");
        // "1.0e-4" -> "1e-4"
        return s.replace(".0e", "e");
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::{fmt_tick, x_ticks};

    #[test]
    fn ticks_are_short_and_zero_is_zero() {
        assert_eq!(fmt_tick(3.5e-18, Some(0.12)), "0");
        assert_eq!(fmt_tick(-2e-17, Some(0.12)), "0");
        // On a log axis there is no zero tick: tiny values are real.
        assert_eq!(fmt_tick(1e-18, None), "1e-18");
        assert_eq!(fmt_tick(1e6, None), "1e6");
        assert_eq!(fmt_tick(1e4, None), "10000");
        assert_eq!(fmt_tick(0.02, Some(0.12)), "0.02");
        assert_eq!(fmt_tick(0.1 + 0.2, Some(1.0)), "0.3");
        assert_eq!(fmt_tick(1500.0, Some(3000.0)), "1500");
        assert_eq!(fmt_tick(2.5e-4, Some(1e-3)), "2.5e-4");
    }

    #[test]
    fn whole_number_axes_get_whole_ticks() {
        // Three epochs, padded as draw_panel pads them.
        let (bold, light) = x_ticks(&(0.96..3.04), true);
        assert_eq!(bold, vec![1.0, 2.0, 3.0]);
        assert!(light.is_empty());
        // One epoch: a single tick, not 0.9 .. 1.1 in tenths.
        let (bold, light) = x_ticks(&(0.9..1.1), true);
        assert_eq!(bold, vec![1.0]);
        assert!(light.is_empty());
        // 180 steps: 20, 40, ... with light lines at whole steps only.
        let (bold, light) = x_ticks(&(-2.6..183.6), true);
        assert_eq!(bold.first(), Some(&0.0));
        assert_eq!(bold[1], 20.0);
        assert!(light.iter().all(|v| v.fract() == 0.0));
        assert!(light.contains(&10.0) && !light.contains(&20.0));
    }

    #[test]
    fn continuous_axes_keep_fractional_ticks() {
        let (bold, light) = x_ticks(&(0.0..1.2), false);
        assert_eq!(bold.len(), 7);
        assert_eq!(fmt_tick(bold[3], Some(1.2)), "0.6");
        assert!(!light.is_empty());
    }
}
