//! A run's own figures, drawn into its directory.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::chart::{self, Panel, Series, Style, PALETTE};
use super::run::{centred_mean, smoothing_window, Run};
use super::{
    render_figures, write_all, Figure, FigureFormat, ACCURACY_PNG, FIGURE_SIZE, LOSS_PNG, LR_PNG,
    STEPS_PNG, WALL_CLOCK_PNG, WIDE_FIGURE_SIZE,
};
use crate::rundir::{EPOCHS_CSV, STEPS_CSV};

const TRAIN_COLOR: usize = 0;
const TEST_COLOR: usize = 1;
const VAL_COLOR: usize = 2;
const SAFEGUARD_COLOR: usize = 3;
const BOUNDARY_COLOR: plotters::style::RGBColor = plotters::style::RGBColor(150, 150, 150);
/// Most epoch boundaries marked in a per-step figure.
const MAX_BOUNDARIES: usize = 50;

/// [`run_figures_with`] in PNG.
pub fn run_figures(run_dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
    run_figures_with(run_dir, FigureFormat::Png)
}

/// Writes a run's figures into `run_dir` from its `epochs.csv`, `steps.csv` and
/// `run.json`, as PNG or SVG; returns the paths written:
/// - `loss`: train and test loss per epoch (and validation, when the run holds out a
///   validation split);
/// - `accuracy`: train and test accuracy per epoch, and validation's (a message for a
///   regression run);
/// - `lr`: η at every step when the run has a `steps.csv` with records (with the steps
///   whose Newton denominator was safeguarded marked, and their count in the legend), else
///   η at the end of each epoch;
/// - `loss-steps`: the training loss of every step, faint, under its centred moving
///   average, with the epoch boundaries marked (a message without a `steps.csv`);
/// - `wall-clock`: loss and accuracy against seconds.
///
/// Titles name the model, the data set and the rule.
pub fn run_figures_with(run_dir: impl AsRef<Path>, format: FigureFormat) -> Result<Vec<PathBuf>> {
    let run = Run::load(run_dir.as_ref(), 0)?;
    let about = run.description();
    let no_epochs = format!(
        "No epoch recorded yet in {}",
        run.dir.join(EPOCHS_CSV).display()
    );
    let no_accuracy =
        "No accuracy for this run:\nepochs.csv has no train_acc or test_acc values\n(a regression run).";

    let loss = Panel {
        title: format!("Loss: {about}"),
        x_label: "epoch".into(),
        y_label: "loss".into(),
        series: with_validation(
            line(
                "train",
                TRAIN_COLOR,
                run.epoch_points(|r| Some(r.train_loss)),
            ),
            run.epoch_points(|r| r.val_loss),
            line("test", TEST_COLOR, run.epoch_points(|r| r.test_loss)),
        ),
        log_y_allowed: true,
        empty_message: no_epochs.clone(),
    };

    let accuracy = Panel {
        title: format!("Accuracy: {about}"),
        x_label: "epoch".into(),
        y_label: "accuracy (%)".into(),
        series: with_validation(
            line("train", TRAIN_COLOR, run.accuracy_points(|r| r.train_acc)),
            run.accuracy_points(|r| r.val_acc),
            line("test", TEST_COLOR, run.accuracy_points(|r| r.test_acc)),
        ),
        log_y_allowed: false,
        empty_message: if run.epochs.is_empty() {
            no_epochs.clone()
        } else {
            no_accuracy.into()
        },
    };

    let one = |panel: Panel| (FIGURE_SIZE, None, vec![panel]);
    let figures = [
        (LOSS_PNG, one(loss)),
        (ACCURACY_PNG, one(accuracy)),
        (LR_PNG, one(lr_panel(&run, &about, &no_epochs))),
        (STEPS_PNG, one(steps_panel(&run, &about))),
        (WALL_CLOCK_PNG, wall_clock(&run, &about, &no_epochs)),
    ];
    let rendered = render_figures(format, figures)?;
    write_all(&run.dir, &rendered)
}

/// Train, validation and test: the validation series only when the run has one, so that a
/// run without a validation split draws and lists what it did before.
fn with_validation(train: Series, validation: Vec<(f64, f64)>, test: Series) -> Vec<Series> {
    let mut series = vec![train];
    if !validation.is_empty() {
        series.push(line("validation", VAL_COLOR, validation));
    }
    series.push(test);
    series
}

fn line(label: &str, color: usize, points: Vec<(f64, f64)>) -> Series {
    Series {
        label: label.into(),
        color: PALETTE[color],
        style: Style::Line,
        points,
        band: None,
    }
}

fn lr_panel(run: &Run, about: &str, no_epochs: &str) -> Panel {
    let title = format!("Learning rate: {about}");
    let Some(steps) = run.step_records() else {
        return Panel {
            title,
            x_label: "epoch".into(),
            y_label: "η at the end of the epoch".into(),
            series: vec![line("η", TRAIN_COLOR, run.epoch_points(|r| Some(r.lr)))],
            log_y_allowed: true,
            empty_message: no_epochs.into(),
        };
    };
    let mut series = vec![line(
        "η",
        TRAIN_COLOR,
        steps.iter().map(|s| (s.step as f64, s.lr)).collect(),
    )];
    let guarded: Vec<(f64, f64)> = steps
        .iter()
        .filter(|s| s.probe.as_ref().is_some_and(|p| p.safeguarded))
        .map(|s| (s.step as f64, s.lr))
        .collect();
    if !guarded.is_empty() {
        series.push(Series {
            label: format!(
                "denominator safeguarded ({} of {} steps)",
                guarded.len(),
                steps.len()
            ),
            color: PALETTE[SAFEGUARD_COLOR],
            style: Style::Dots,
            points: chart::decimate(&guarded),
            band: None,
        });
    }
    Panel {
        title,
        x_label: "step".into(),
        y_label: "η".into(),
        series,
        log_y_allowed: true,
        empty_message: String::new(),
    }
}

/// The training loss of every step (faint) under its centred moving average, with dashed
/// lines at the epoch boundaries.
fn steps_panel(run: &Run, about: &str) -> Panel {
    let raw = run.step_losses();
    let window = smoothing_window(raw.len());
    let mut series = Vec::new();
    if window > 1 {
        let boundaries = run.epoch_boundaries();
        // Past MAX_BOUNDARIES, every k-th, so that the lines do not grey the whole panel.
        let every = boundaries.len().div_ceil(MAX_BOUNDARIES).max(1);
        if !boundaries.is_empty() {
            series.push(Series {
                label: if every == 1 {
                    "epoch boundary".into()
                } else {
                    format!("epoch boundary (every {every} epochs)")
                },
                color: BOUNDARY_COLOR,
                style: Style::Rules,
                points: boundaries
                    .into_iter()
                    .skip(every - 1)
                    .step_by(every)
                    .map(|x| (x, 0.0))
                    .collect(),
                band: None,
            });
        }
        series.push(Series {
            label: "each step".into(),
            color: PALETTE[TRAIN_COLOR],
            style: Style::Faint,
            points: raw.clone(),
            band: None,
        });
    }
    series.push(line(
        &smoothed_label(window),
        TRAIN_COLOR,
        smoothed(&raw, window),
    ));
    Panel {
        title: format!("Training loss per step: {about}"),
        x_label: "step".into(),
        y_label: "training loss (the step's batch)".into(),
        series,
        log_y_allowed: true,
        empty_message: format!(
            "No per-step losses: {} is missing or empty",
            run.dir.join(STEPS_CSV).display()
        ),
    }
}

/// "centred mean of 9 steps", or "each step" unsmoothed.
pub(super) fn smoothed_label(window: usize) -> String {
    if window > 1 {
        format!("centred mean of {window} steps")
    } else {
        "each step".into()
    }
}

/// `points`' y values smoothed by [`centred_mean`], at the same x.
pub(super) fn smoothed(points: &[(f64, f64)], window: usize) -> Vec<(f64, f64)> {
    let ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    points
        .iter()
        .zip(centred_mean(&ys, window))
        .map(|(p, y)| (p.0, y))
        .collect()
}

/// Loss (and accuracy, for a classification run) against seconds. With a `steps.csv`, the
/// training loss is the smoothed per-step one at interpolated times; test values and
/// accuracies are at the end of each epoch, where `epochs.csv` records the time.
fn wall_clock(run: &Run, about: &str, no_epochs: &str) -> Figure {
    let at_epoch_ends = "seconds (at the end of each epoch)";
    let raw = run.step_losses();
    let window = smoothing_window(raw.len());
    let seconds = run.step_seconds();
    let per_step: Vec<(f64, f64)> = smoothed(&raw, window)
        .into_iter()
        .zip(seconds)
        .map(|((_, loss), t)| (t, loss))
        .filter(|(t, _)| t.is_finite())
        .collect();
    let (train, x_label) = if per_step.is_empty() {
        (
            line(
                "train",
                TRAIN_COLOR,
                run.seconds_points(|r| Some(r.train_loss)),
            ),
            at_epoch_ends,
        )
    } else {
        (
            line(
                &format!("train, {}", smoothed_label(window)),
                TRAIN_COLOR,
                per_step,
            ),
            "seconds (steps' times interpolated between epoch ends)",
        )
    };
    let loss = Panel {
        title: "loss".into(),
        x_label: x_label.into(),
        y_label: "loss".into(),
        series: with_validation(
            train,
            run.seconds_points(|r| r.val_loss),
            line("test", TEST_COLOR, run.seconds_points(|r| r.test_loss)),
        ),
        log_y_allowed: true,
        empty_message: format!("{no_epochs}:\ntimes are recorded at the end of each epoch."),
    };
    let title = format!("Against wall-clock time: {about}");
    if !run.has_accuracy() {
        return (FIGURE_SIZE, None, vec![Panel { title, ..loss }]);
    }
    let seconds = |r: &crate::rundir::EpochRecord| r.seconds;
    let accuracy = Panel {
        title: "accuracy".into(),
        x_label: at_epoch_ends.into(),
        y_label: "accuracy (%)".into(),
        series: with_validation(
            line(
                "train",
                TRAIN_COLOR,
                run.accuracy_against(|r| r.train_acc, seconds),
            ),
            run.accuracy_against(|r| r.val_acc, seconds),
            line(
                "test",
                TEST_COLOR,
                run.accuracy_against(|r| r.test_acc, seconds),
            ),
        ),
        log_y_allowed: false,
        empty_message: no_epochs.into(),
    };
    (WIDE_FIGURE_SIZE, Some(title), vec![loss, accuracy])
}
