//! A task's mean curves, one line per rule at its selected η0 with its 95% band, against
//! epochs and against wall-clock seconds, and the claims' differences by η0; drawn with the
//! run figures' charts ([`crate::report::chart`]). Runs with a validation split are drawn
//! on it (and training loss), never on test (docs/evaluation.md §2: the test set is read
//! at the last epoch and the val-stopped one only); older runs without one, on test.

use anyhow::Result;

use super::stats::Estimate;
use super::{curve, Kind, Run, Task};
use crate::report::chart::{render_png, Panel, Series, Style, PALETTE};
use crate::report::{FIGURE_SIZE, WIDE_FIGURE_SIZE};
use crate::rundir::EpochRecord;

type Metric = fn(&EpochRecord) -> Option<f64>;

/// How far below the best final mean accuracy (points) a rule may end and still be drawn in
/// the accuracy figures' second panel.
const LEADERS_WITHIN: f64 = 5.0;

/// Draws the task's figures in memory: (file name, PNG) each.
pub(crate) fn draw(task: &Task) -> Result<Vec<(String, Vec<u8>)>> {
    // No run read: nothing to draw (nor a kind to draw it as).
    if task
        .rules
        .iter()
        .flat_map(|r| &r.lrs)
        .all(|g| g.runs.is_empty())
    {
        return Ok(Vec::new());
    }
    let val_acc: Metric = |e| e.val_acc;
    let test_acc: Metric = |e| e.test_acc;
    let val_loss: Metric = |e| e.val_loss;
    let test_loss: Metric = |e| e.test_loss;
    let train_loss: Metric = |e| Some(e.train_loss);
    let has_val = task
        .rules
        .iter()
        .flat_map(|r| &r.lrs)
        .flat_map(|g| &g.runs)
        .any(|r| r.epochs.iter().any(|e| e.val_loss.is_some()));

    let mut figures: Vec<(String, Vec<Panel>)> = Vec::new();
    let held_out = |acc: bool, time: bool| -> Vec<Panel> {
        let (val, test, y, scale): (Metric, Metric, &str, f64) = if acc {
            (val_acc, test_acc, "accuracy (%)", 100.0)
        } else {
            (val_loss, test_loss, "loss", 1.0)
        };
        let all = match has_val {
            true => panel(task, "validation", y, val, scale, time, !acc),
            false => panel(task, "test", y, test, scale, time, !acc),
        };
        match acc.then(|| leaders(&all)).flatten() {
            Some(close) => vec![all, close],
            None => vec![all],
        }
    };
    let (held_split, held_loss): (&str, Metric) = match has_val {
        true => ("validation", val_loss),
        false => ("test", test_loss),
    };
    match task.kind {
        Kind::Classification => {
            figures.push(("accuracy-epochs".into(), held_out(true, false)));
            figures.push(("accuracy-time".into(), held_out(true, true)));
            figures.push((
                "loss-epochs".into(),
                vec![
                    panel(task, "train", "loss", train_loss, 1.0, false, true),
                    panel(task, held_split, "loss", held_loss, 1.0, false, true),
                ],
            ));
        }
        Kind::Regression => {
            figures.push(("loss-epochs".into(), held_out(false, false)));
            figures.push(("loss-time".into(), held_out(false, true)));
        }
    }
    let mut drawn = Vec::new();
    for (name, panels) in figures {
        // Many rules: a panel's legend goes beside it, and the figure widens for it.
        let size = if panels.len() > 1 {
            WIDE_FIGURE_SIZE
        } else {
            FIGURE_SIZE
        };
        let title = format!("{}: mean over seeds, 95% band", task.name);
        let png = render_png(size, Some(&title), &panels)?;
        drawn.push((format!("{}-{name}.png", task.name), png));
    }
    Ok(drawn)
}

/// The claims' differences by η0 (docs/evaluation.md §7), in memory as (file name, PNG):
/// claim 1's against the reference with the −1-point line, claim 2's against each
/// tuning-free rule with 0.
pub(crate) fn draw_claims(task: &str, c: &super::claims::Claims) -> Result<(String, Vec<u8>)> {
    use super::claims::Comparison;
    // x: log10 η0 (the chart has no log x axis); y: points.
    let to_series = |index: usize, label: String, of: &[&Comparison]| Series {
        label,
        color: PALETTE[index % PALETTE.len()],
        style: if (index / PALETTE.len()).is_multiple_of(2) {
            Style::Line
        } else {
            Style::Dashed
        },
        points: of
            .iter()
            .filter_map(|x| Some((x.lr.log10(), 100.0 * x.d?.mean)))
            .collect(),
        band: Some(
            of.iter()
                .filter_map(|x| {
                    let (lo, hi) = x.d?.interval()?;
                    Some((x.lr.log10(), 100.0 * lo, 100.0 * hi))
                })
                .collect(),
        ),
    };
    let span: Vec<f64> = c
        .first
        .iter()
        .chain(&c.second)
        .map(|x| x.lr.log10())
        .collect();
    let (lo, hi) = span
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let level = |y: f64, label: &str| Series {
        label: label.into(),
        color: plotters::style::colors::BLACK,
        style: Style::Dashed,
        points: if lo.is_finite() {
            vec![(lo, y), (hi, y)]
        } else {
            Vec::new()
        },
        band: None,
    };
    let first: Vec<&Comparison> = c.first.iter().collect();
    let mut second: Vec<Series> = Vec::new();
    let mut baselines: Vec<&str> = Vec::new();
    for x in &c.second {
        if !baselines.contains(&x.against.as_str()) {
            baselines.push(&x.against);
        }
    }
    for (i, b) in baselines.iter().enumerate() {
        let of: Vec<&Comparison> = c.second.iter().filter(|x| x.against == *b).collect();
        second.push(to_series(i, format!("{} − {b}", c.judged), &of));
    }
    if !second.is_empty() {
        second.push(level(0.0, "0"));
    }
    let panels = vec![
        Panel {
            title: format!(
                "claim 1: {} − {}{}",
                c.judged,
                c.reference,
                if c.single_reference {
                    ""
                } else {
                    " (best of the references)"
                }
            ),
            x_label: "log10 η0".into(),
            y_label: "Δ final test accuracy (points)".into(),
            // The level lines only where there is something to compare.
            series: match first.is_empty() {
                true => Vec::new(),
                false => vec![
                    to_series(0, format!("{} − {}", c.judged, c.reference), &first),
                    level(-1.0, "−1 point"),
                ],
            },
            log_y_allowed: false,
            empty_message: "Nothing to compare".into(),
        },
        Panel {
            title: "claim 2: against each tuning-free rule".into(),
            x_label: "log10 η0".into(),
            y_label: "Δ final test accuracy (points)".into(),
            series: second,
            log_y_allowed: false,
            empty_message: "No tuning-free rule to compare with".into(),
        },
    ];
    let title = format!("{task}: paired differences, mean and 95% band over seeds");
    let png = render_png(WIDE_FIGURE_SIZE, Some(&title), &panels)?;
    Ok((format!("{task}-claims.png"), png))
}

/// One panel: `split`'s metric, a line and band per rule.
fn panel(
    task: &Task,
    split: &str,
    y: &str,
    metric: Metric,
    scale: f64,
    against_time: bool,
    log: bool,
) -> Panel {
    let series = task
        .rules
        .iter()
        .enumerate()
        .filter_map(|(i, rule)| {
            let group = &rule.lrs[rule.selected?];
            // Diverged runs count at chance in the tables but have no curve to draw.
            let runs: Vec<Run> = group
                .runs
                .iter()
                .filter(|r| r.diverged.is_none())
                .cloned()
                .collect();
            let points = curve(&runs, &|e| metric(e).map(|v| v * scale), against_time);
            // A band is clipped to the values the metric can take: losses and accuracies
            // are never negative, and an accuracy (the panels not drawn on a log axis, a
            // fraction times `scale`) never passes 100%. With two or three seeds the t
            // interval is wide enough to cross both.
            let top = if log { f64::INFINITY } else { scale };
            Some(line(
                i,
                &format!("{}, η0={}", rule.rule, group.lr),
                &runs,
                points,
                (0.0, top),
            ))
        })
        .collect();
    Panel {
        title: format!("{split} {}", y.trim_end_matches(" (%)")),
        x_label: if against_time { "seconds" } else { "epoch" }.into(),
        y_label: y.into(),
        series,
        log_y_allowed: log,
        empty_message: format!("No {split} {y} in these runs"),
    }
}

/// The accuracy panel again with only the rules that end within [`LEADERS_WITHIN`] points of
/// the best, on their own scale: beside a rule that ends at chance, the full panel squeezes
/// the ones that matter into a sliver. None when no drawn rule would be left out. A curve
/// (and so its end) is the mean of the seeds that did not diverge, as its legend's count
/// says; the tables count diverged seeds at chance.
fn leaders(all: &Panel) -> Option<Panel> {
    let last = |s: &Series| s.points.last().map(|p| p.1).filter(|v| v.is_finite());
    let best = all.series.iter().filter_map(last).reduce(f64::max)?;
    let close = |s: &&Series| last(s).is_some_and(|v| v >= best - LEADERS_WITHIN);
    let series: Vec<Series> = all.series.iter().filter(close).cloned().collect();
    // A rule with no curve (every seed diverged) is not one the first panel shows.
    let drawn = all.series.iter().filter(|s| last(s).is_some()).count();
    (series.len() < drawn).then(|| Panel {
        title: format!(
            "{}: the rules within {LEADERS_WITHIN} points of the best at the end",
            all.title
        ),
        series,
        ..all.clone()
    })
}

fn line(
    index: usize,
    label: &str,
    runs: &[Run],
    points: Vec<(f64, Estimate)>,
    (bottom, top): (f64, f64),
) -> Series {
    let n = runs.len();
    Series {
        label: format!("{label} ({})", crate::words::counted(n, "seed")),
        color: PALETTE[index % PALETTE.len()],
        // Past ten rules colours repeat; dashes keep the lines apart.
        style: if (index / PALETTE.len()).is_multiple_of(2) {
            Style::Line
        } else {
            Style::Dashed
        },
        points: points.iter().map(|(x, e)| (*x, e.mean)).collect(),
        band: Some(
            points
                .iter()
                .filter_map(|(x, e)| {
                    e.interval()
                        .map(|(lo, hi)| (*x, lo.clamp(bottom, top), hi.clamp(bottom, top)))
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_stay_within_the_values_a_metric_can_take() {
        let wide = Estimate {
            n: 2,
            mean: 52.0,
            half_width: Some(75.0),
        };
        let s = line(0, "auto", &[], vec![(1.0, wide)], (0.0, 100.0));
        assert_eq!(s.band.unwrap(), vec![(1.0, 0.0, 100.0)]);
        assert_eq!(s.points, vec![(1.0, 52.0)]);
        let s = line(0, "auto", &[], vec![(1.0, wide)], (0.0, f64::INFINITY));
        assert_eq!(s.band.unwrap(), vec![(1.0, 0.0, 127.0)]);
    }

    #[test]
    fn the_second_panel_keeps_the_rules_that_end_near_the_best() {
        let ending = |label: &str, end: f64| Series {
            label: label.into(),
            color: PALETTE[0],
            style: Style::Line,
            points: vec![(1.0, 50.0), (2.0, end)],
            band: None,
        };
        let mut all = Panel {
            title: "validation accuracy".into(),
            series: vec![
                ending("a", 90.0),
                ending("b", 85.0),
                ending("c", 84.9),
                ending("d", f64::NAN),
            ],
            ..Panel::default()
        };
        let close = leaders(&all).unwrap();
        let labels: Vec<&str> = close.series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["a", "b"]);
        assert!(close.title.starts_with("validation accuracy: "));
        all.series.remove(2);
        assert!(leaders(&all).is_none(), "nobody drawn left out: one panel");
    }
}
