//! `etaprobe plot`: figures comparing runs, one line per run.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use super::chart::{Panel, Series, Style, PALETTE};
use super::labels::{disambiguate_labels, mixed_tasks_warning};
use super::run::{smoothing_window, Run, SMOOTHING_FRACTION};
use super::single::{smoothed, smoothed_label};
use super::{
    render_figures, write_all, Figure, FigureFormat, ACCURACY_PNG, FIGURE_SIZE, LOSS_PNG, LR_PNG,
    STEPS_PNG, WALL_CLOCK_PNG, WIDE_FIGURE_SIZE,
};

/// What [`compare_runs`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The figures written.
    pub written: Vec<PathBuf>,
    /// The figures of an earlier plot into the same folder in another format, removed.
    pub removed: Vec<PathBuf>,
    /// Each run's label in the legends, in the order the runs were given; no two equal.
    pub labels: Vec<String>,
    /// Things the reader of the figures should know (e.g. that the runs are of different
    /// tasks), for the caller to print.
    pub warnings: Vec<String>,
}

/// `etaprobe plot RUN_DIR... --out DIR`: the paper's comparison figures, one line per run,
/// written to `out_dir` (created if needed) as PNG or SVG:
/// - `loss`: train loss | test loss against epochs (train | validation | test when a run
///   holds out a validation split);
/// - `accuracy`: train accuracy | test accuracy against epochs (with validation's likewise);
/// - `lr`: η at every step (at the end of each epoch unless every run has a `steps.csv`);
/// - `loss-steps`: the training loss of each step, smoothed by a centred moving average;
/// - `wall-clock`: test loss | test accuracy against seconds.
///
/// Each run is labelled by [`super::run_label`], with its task when the runs are of
/// several tasks (which also gives a warning), and with what tells it apart when two labels
/// are still equal (see `disambiguate_labels`). Every directory must be a run (have an
/// `epochs.csv`), given once.
pub fn compare_runs(
    run_dirs: &[PathBuf],
    out_dir: impl AsRef<Path>,
    format: FigureFormat,
) -> Result<Comparison> {
    let out_dir = out_dir.as_ref();
    check_request(run_dirs, out_dir)?;
    let mut runs = run_dirs
        .iter()
        .enumerate()
        .map(|(index, d)| Run::load(d, index))
        .collect::<Result<Vec<_>>>()?;
    let warnings = warnings(&runs);
    disambiguate_labels(&mut runs);
    let layout = Layout::of(&runs);
    let all: Vec<&Run> = runs.iter().collect();
    let with_acc: Vec<&Run> = runs.iter().filter(|r| r.has_accuracy()).collect();
    let figures = [
        (LOSS_PNG, loss_figure(&layout, &all)),
        (ACCURACY_PNG, accuracy_figure(&layout, &with_acc)),
        (LR_PNG, lr_figure(&layout, &all)),
        (STEPS_PNG, steps_figure(&layout, &all)),
        (WALL_CLOCK_PNG, wall_clock_figure(&layout, &all, &with_acc)),
    ];
    let rendered = render_figures(format, figures)?;
    // A user's file of a figure's name stays: only figures a report wrote are replaced. (No
    // folder without the list counts as a plot's: a run's figures copied there look alike.)
    let names: Vec<String> = rendered.iter().map(|(name, _)| name.clone()).collect();
    super::written::check_ours(out_dir, |n| names.iter().any(|m| m == n), |_| false)?;
    super::written::create_folder(out_dir)?;
    // Listed before they are written: a crash half-way leaves them known as a plot's.
    super::written::record(out_dir, names)?;
    let written = write_all(out_dir, &rendered)?;
    // An earlier plot's figures in another format would sit beside these as if of the
    // same runs: those this command wrote go (a user's own file of such a name stays).
    let removed = super::written::remove_listed(out_dir, |name| {
        FigureFormat::is_figure(name) && !rendered.iter().any(|(n, _)| n == name)
    });
    Ok(Comparison {
        written,
        removed,
        labels: runs.into_iter().map(|r| r.label).collect(),
        warnings,
    })
}

/// Refuses what cannot be drawn as asked: no run, `--out` a run's own folder, a run given
/// twice.
fn check_request(run_dirs: &[PathBuf], out_dir: &Path) -> Result<()> {
    if run_dirs.is_empty() {
        bail!("no run directory given to compare");
    }
    // The figures bear a run's own figures' names: a run's folder would lose its own.
    if out_dir.join(crate::rundir::EPOCHS_CSV).exists()
        || out_dir.join(crate::rundir::RUN_JSON).exists()
    {
        bail!(
            "--out {} is a run's folder, whose own figures these would replace: choose \
             another folder",
            out_dir.display()
        );
    }
    // The same run twice would draw one curve over another under two labels.
    for (i, a) in run_dirs.iter().enumerate() {
        let same = |b: &PathBuf| match (a.canonicalize(), b.canonicalize()) {
            (Ok(x), Ok(y)) => x == y,
            _ => a == b,
        };
        if let Some(b) = run_dirs[..i].iter().find(|b| same(b)) {
            bail!(
                "{} and {} are the same run: give each run once",
                b.display(),
                a.display()
            );
        }
    }
    Ok(())
}

/// What a figure leaves out of a run, said rather than left to be noticed as a missing
/// line; and runs of several tasks, or too many to tell apart.
fn warnings(runs: &[Run]) -> Vec<String> {
    let mut warnings: Vec<String> = mixed_tasks_warning(runs).into_iter().collect();
    for run in runs {
        if let Err(e) = crate::rundir::RunInfo::read(run.dir.join(crate::rundir::RUN_JSON)) {
            warnings.push(format!(
                "{}: its run.json cannot be read ({e:#}): labelled by its folder's name",
                run.dir.display()
            ));
        }
        if run.epochs.is_empty() {
            warnings.push(format!(
                "{}: no epoch ended (the run stopped in its first): only the figures drawn \
                 per step show it",
                run.dir.display()
            ));
        }
    }
    let without_steps: Vec<String> = runs
        .iter()
        .filter(|r| r.step_records().is_none())
        .map(|r| r.dir.display().to_string())
        .collect();
    if !without_steps.is_empty() && without_steps.len() < runs.len() {
        warnings.push(format!(
            "no steps recorded in {}: {} not in loss-steps, and η is drawn at the end of \
             each epoch for every run",
            without_steps.join(", "),
            if without_steps.len() == 1 {
                "it is"
            } else {
                "they are"
            }
        ));
    }
    if runs.len() > LINE_LOOKS {
        warnings.push(format!(
            "{} runs: past {LINE_LOOKS}, colours and dashes repeat (run {} is drawn like run 1)",
            runs.len(),
            LINE_LOOKS + 1
        ));
    }
    warnings
}

/// What the figures share: the task in their titles, and whether they have a validation
/// panel.
struct Layout {
    /// The runs' task when they all share it (else each label names its own).
    task: Option<String>,
    /// Whether a run holds out a validation split (`--val-split`): then a validation
    /// panel goes between train and test, as it is what a choice between them reads.
    with_val: bool,
}

impl Layout {
    /// The layout the runs call for.
    fn of(runs: &[Run]) -> Self {
        let task = match runs.first().and_then(|r| r.task.clone()) {
            Some(t) if runs.iter().all(|r| r.task.as_deref() == Some(t.as_str())) => Some(t),
            _ => None,
        };
        let with_val = runs
            .iter()
            .any(|r| r.epochs.iter().any(|e| e.val_loss.is_some()));
        Layout { task, with_val }
    }

    fn titled(&self, what: &str) -> String {
        match &self.task {
            Some(t) => format!("{what}: {t}"),
            None => what.to_string(),
        }
    }

    fn between(&self, train: Panel, val: Panel, test: Panel) -> Vec<Panel> {
        match self.with_val {
            true => vec![train, val, test],
            false => vec![train, test],
        }
    }
}

/// Two panels are WIDE_FIGURE_SIZE; a third (validation) widens the figure by a panel.
fn wide(title: String, panels: Vec<Panel>) -> Figure {
    let width = WIDE_FIGURE_SIZE.0 / 2 * panels.len().max(2) as u32;
    ((width, WIDE_FIGURE_SIZE.1), Some(title), panels)
}

/// A figure of one panel, the panel's title its own.
fn one(panel: Panel) -> Figure {
    (FIGURE_SIZE, None, vec![panel])
}

/// Train, validation and test loss against epochs.
fn loss_figure(layout: &Layout, all: &[&Run]) -> Figure {
    wide(
        layout.titled("Loss"),
        layout.between(
            panel(
                "train loss",
                "epoch",
                "loss",
                lines(all, |r| r.epoch_points(|e| Some(e.train_loss))),
                true,
                "No epoch recorded in these runs",
            ),
            panel(
                "validation loss",
                "epoch",
                "loss",
                lines(all, |r| r.epoch_points(|e| e.val_loss)),
                true,
                "No validation loss in these runs",
            ),
            panel(
                "test loss",
                "epoch",
                "loss",
                lines(all, |r| r.epoch_points(|e| e.test_loss)),
                true,
                "No test loss in these runs",
            ),
        ),
    )
}

/// Train, validation and test accuracy against epochs, of the runs that have one; one
/// empty panel that says why when none has.
fn accuracy_figure(layout: &Layout, with_acc: &[&Run]) -> Figure {
    if with_acc.is_empty() {
        return one(panel(
            &layout.titled("Accuracy"),
            "epoch",
            "accuracy (%)",
            vec![],
            false,
            "No accuracy in these runs\n(regression runs have none).",
        ));
    }
    wide(
        layout.titled("Accuracy"),
        layout.between(
            panel(
                "train accuracy",
                "epoch",
                "accuracy (%)",
                lines(with_acc, |r| r.accuracy_points(|e| e.train_acc)),
                false,
                "No train accuracy in these runs",
            ),
            panel(
                "validation accuracy",
                "epoch",
                "accuracy (%)",
                lines(with_acc, |r| r.accuracy_points(|e| e.val_acc)),
                false,
                "No validation accuracy in these runs",
            ),
            panel(
                "test accuracy",
                "epoch",
                "accuracy (%)",
                lines(with_acc, |r| r.accuracy_points(|e| e.test_acc)),
                false,
                "No test accuracy in these runs",
            ),
        ),
    )
}

/// η at every step when every run has its steps, else at the end of each epoch.
fn lr_figure(layout: &Layout, all: &[&Run]) -> Figure {
    if all.iter().all(|r| r.step_records().is_some()) {
        one(panel(
            &layout.titled("Learning rate η"),
            "step",
            "η",
            lines(all, |r| {
                let steps = r.step_records().unwrap_or_default();
                steps.iter().map(|s| (s.step as f64, s.lr)).collect()
            }),
            true,
            "No steps recorded in these runs",
        ))
    } else {
        one(panel(
            &layout.titled("Learning rate η"),
            "epoch",
            "η at the end of the epoch",
            lines(all, |r| r.epoch_points(|e| Some(e.lr))),
            true,
            "No epoch recorded in these runs",
        ))
    }
}

/// The training loss of every step, each run smoothed over its own window (about the
/// same share of its steps): the longest run's window would flatten a short run into its
/// mean, drawn at every step.
fn steps_figure(layout: &Layout, all: &[&Run]) -> Figure {
    // The range of windows leaves out runs without steps, which draw no line here.
    let windows: Vec<usize> = all
        .iter()
        .map(|r| r.step_losses().len())
        .filter(|&steps| steps > 0)
        .map(smoothing_window)
        .collect();
    let smoothing = match (windows.iter().min(), windows.iter().max()) {
        (Some(lo), Some(hi)) if lo != hi => format!(
            "centred means over {}% of each run's steps ({lo} to {hi} steps)",
            100.0 * SMOOTHING_FRACTION
        ),
        _ => smoothed_label(windows.first().copied().unwrap_or(1)),
    };
    one(panel(
        &layout.titled(&format!("Training loss per step ({smoothing})")),
        "step",
        "training loss (the step's batch)",
        lines(all, |r| {
            smoothed(&r.step_losses(), smoothing_window(r.step_losses().len()))
        }),
        true,
        "No per-step losses in these runs (no steps recorded)",
    ))
}

/// Test loss (and test accuracy when the runs have one) against the seconds at the end
/// of each epoch.
fn wall_clock_figure(layout: &Layout, all: &[&Run], with_acc: &[&Run]) -> Figure {
    let at_epoch_ends = "seconds (at the end of each epoch)";
    let test_loss = panel(
        "test loss",
        at_epoch_ends,
        "loss",
        lines(all, |r| r.seconds_points(|e| e.test_loss)),
        true,
        "No test loss in these runs",
    );
    if with_acc.is_empty() {
        return one(Panel {
            title: layout.titled("Test loss against wall-clock time"),
            ..test_loss
        });
    }
    let seconds = |r: &crate::rundir::EpochRecord| r.seconds;
    wide(
        layout.titled("Against wall-clock time"),
        vec![
            test_loss,
            panel(
                "test accuracy",
                at_epoch_ends,
                "accuracy (%)",
                lines(with_acc, |r| r.accuracy_against(|e| e.test_acc, seconds)),
                false,
                "No test accuracy in these runs",
            ),
        ],
    )
}

/// Past ten runs colours repeat; dashes, then dots, keep the lines apart.
const LINE_STYLES: [Style; 3] = [Style::Line, Style::Dashed, Style::Dotted];
/// How many runs can be drawn each in its own way.
const LINE_LOOKS: usize = PALETTE.len() * LINE_STYLES.len();

/// One line per run, in the run's colour and line style.
fn lines(runs: &[&Run], points: impl Fn(&Run) -> Vec<(f64, f64)>) -> Vec<Series> {
    runs.iter()
        .map(|run| {
            let i = run.index;
            Series {
                label: run.label.clone(),
                color: PALETTE[i % PALETTE.len()],
                style: LINE_STYLES[(i / PALETTE.len()) % LINE_STYLES.len()],
                points: points(run),
                band: None,
            }
        })
        .collect()
}

fn panel(title: &str, x: &str, y: &str, series: Vec<Series>, log: bool, empty: &str) -> Panel {
    Panel {
        title: title.into(),
        x_label: x.into(),
        y_label: y.into(),
        series,
        log_y_allowed: log,
        empty_message: empty.into(),
    }
}
