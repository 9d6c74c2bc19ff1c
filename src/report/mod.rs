//! Figures: a run's own (`loss.png`, `accuracy.png`, `lr.png` in its directory, DESIGN.md
//! §5) and `etaprobe plot RUN_DIR... --out DIR`, which compares runs.
//!
//! - Inputs are the run's `epochs.csv`, `steps.csv` (η per step, optional) and `run.json`
//!   (labels, optional), read with [`crate::rundir`].
//! - Every figure is rendered in memory and only then written, atomically: a bad input
//!   produces an error and no PNG at all, and a reader never sees half a file.
//! - Accuracy is stored as a fraction and drawn in percent.
//! - A run without accuracy (regression) still gets an `accuracy.png`, which says so, so
//!   that a run directory always has the same three figures and no stale one survives
//!   from an earlier run. In a comparison, runs without accuracy are left out of the
//!   accuracy figure (its legend shows which runs are there).
//! - Losses and η go on a log axis when they are all positive and span more than two
//!   decades; non-finite values (a diverged run) are gaps in the line.
//! - Text uses DejaVu Sans compiled into the binary: no system font or fontconfig needed.

pub(crate) mod chart;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::rundir::{
    read_epochs, read_steps, write_atomic, EpochRecord, RunInfo, StepRecord, EPOCHS_CSV, RUN_JSON,
    STEPS_CSV,
};
use chart::{render_png, Panel, Series, Style, PALETTE};

pub const LOSS_PNG: &str = "loss.png";
pub const ACCURACY_PNG: &str = "accuracy.png";
pub const LR_PNG: &str = "lr.png";

/// Pixel size of a one-panel figure (a run's own figures, and η in a comparison).
pub const FIGURE_SIZE: (u32, u32) = (1024, 720);
/// Pixel size of a two-panel figure (train | test in a comparison).
pub const WIDE_FIGURE_SIZE: (u32, u32) = (1800, 720);

const TRAIN_COLOR: usize = 0;
const TEST_COLOR: usize = 1;
const SAFEGUARD_COLOR: usize = 3;

/// A run directory's data.
struct Run {
    /// Position among the runs compared (its colour).
    index: usize,
    dir: PathBuf,
    label: String,
    epochs: Vec<EpochRecord>,
    /// `None` when the run has no `steps.csv`.
    steps: Option<Vec<StepRecord>>,
}

impl Run {
    fn load(dir: &Path, with_steps: bool) -> Result<Self> {
        if !dir.exists() {
            bail!("run directory {} does not exist", dir.display());
        }
        if !dir.is_dir() {
            bail!(
                "{} is not a directory (expected a run directory)",
                dir.display()
            );
        }
        let epochs_path = dir.join(EPOCHS_CSV);
        if !epochs_path.is_file() {
            bail!(
                "{} is not a run directory: it has no {EPOCHS_CSV}",
                dir.display()
            );
        }
        let epochs = read_epochs(&epochs_path)?;
        let steps_path = dir.join(STEPS_CSV);
        let steps = if with_steps && steps_path.is_file() {
            Some(read_steps(&steps_path)?)
        } else {
            None
        };
        Ok(Self {
            index: 0,
            dir: dir.to_path_buf(),
            label: run_label(dir),
            epochs,
            steps,
        })
    }

    fn has_accuracy(&self) -> bool {
        self.epochs
            .iter()
            .any(|r| r.train_acc.is_some() || r.test_acc.is_some())
    }

    /// Accuracy in percent. Fractions are the contract; a run that already wrote percents
    /// (any value above 1) is drawn as it is rather than at 100×.
    fn accuracy_points(&self, pick: fn(&EpochRecord) -> Option<f64>) -> Vec<(f64, f64)> {
        let scale = if self
            .epochs
            .iter()
            .filter_map(pick)
            .any(|a| a.is_finite() && a > 1.0)
        {
            1.0
        } else {
            100.0
        };
        self.epochs
            .iter()
            .filter_map(|r| pick(r).map(|a| (r.epoch as f64, a * scale)))
            .collect()
    }

    fn epoch_points(&self, pick: fn(&EpochRecord) -> Option<f64>) -> Vec<(f64, f64)> {
        self.epochs
            .iter()
            .filter_map(|r| pick(r).map(|v| (r.epoch as f64, v)))
            .collect()
    }
}

/// The label of a run in legends and titles: `"<schedule>, η0=<lr>"` from `run.json`'s
/// `config`, else whichever of the two is there, else the directory name.
pub fn run_label(run_dir: impl AsRef<Path>) -> String {
    let dir = run_dir.as_ref();
    let from_config = RunInfo::read(dir.join(RUN_JSON)).ok().and_then(|info| {
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        // The optimizer is named when it is not plain SGD: "adam + basic, η0=0.001".
        let optimizer = info
            .config
            .get("optimizer")
            .and_then(text)
            .filter(|o| o != "sgd");
        let schedule = info.config.get("schedule").and_then(text);
        let schedule = match (optimizer, schedule) {
            (Some(o), Some(s)) => Some(format!("{o} + {s}")),
            (o, s) => s.or(o),
        };
        let lr = info.config.get("lr").and_then(text);
        match (schedule, lr) {
            (Some(s), Some(lr)) => Some(format!("{s}, η0={lr}")),
            (Some(s), None) => Some(s),
            (None, Some(lr)) => Some(format!("η0={lr}")),
            (None, None) => None,
        }
    });
    from_config.unwrap_or_else(|| dir_name(dir))
}

fn dir_name(dir: &Path) -> String {
    // `canonicalize` turns "." or "runs/a/" into a real name.
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string())
}

/// Writes `loss.png`, `accuracy.png` and `lr.png` into `run_dir` from its `epochs.csv`,
/// `steps.csv` and `run.json`; returns the paths written.
///
/// `lr.png` shows η at every step when the run has a `steps.csv` with records (with the
/// steps whose Newton denominator was safeguarded marked, and their count in the legend),
/// else η at the end of each epoch.
pub fn run_figures(run_dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
    let run = Run::load(run_dir.as_ref(), true)?;
    let no_epochs = format!(
        "No epoch recorded yet in {}",
        run.dir.join(EPOCHS_CSV).display()
    );

    let loss = Panel {
        title: format!("Loss: {}", run.label),
        x_label: "epoch".into(),
        y_label: "loss".into(),
        series: vec![
            Series {
                label: "train".into(),
                color: PALETTE[TRAIN_COLOR],
                style: Style::Line,
                points: run.epoch_points(|r| Some(r.train_loss)),
                band: None,
            },
            Series {
                label: "test".into(),
                color: PALETTE[TEST_COLOR],
                style: Style::Line,
                points: run.epoch_points(|r| r.test_loss),
                band: None,
            },
        ],
        log_y_allowed: true,
        empty_message: no_epochs.clone(),
    };

    let accuracy = Panel {
        title: format!("Accuracy: {}", run.label),
        x_label: "epoch".into(),
        y_label: "accuracy (%)".into(),
        series: vec![
            Series {
                label: "train".into(),
                color: PALETTE[TRAIN_COLOR],
                style: Style::Line,
                points: run.accuracy_points(|r| r.train_acc),
                band: None,
            },
            Series {
                label: "test".into(),
                color: PALETTE[TEST_COLOR],
                style: Style::Line,
                points: run.accuracy_points(|r| r.test_acc),
                band: None,
            },
        ],
        log_y_allowed: false,
        empty_message: if run.epochs.is_empty() {
            no_epochs.clone()
        } else {
            "No accuracy for this run:\nepochs.csv has no train_acc or test_acc values\n(a regression run)."
                .into()
        },
    };

    let lr = match run.steps.as_deref() {
        Some(steps) if !steps.is_empty() => {
            let mut series = vec![Series {
                label: "η".into(),
                color: PALETTE[TRAIN_COLOR],
                style: Style::Line,
                points: steps.iter().map(|s| (s.step as f64, s.lr)).collect(),
                band: None,
            }];
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
                title: format!("Learning rate: {}", run.label),
                x_label: "step".into(),
                y_label: "η".into(),
                series,
                log_y_allowed: true,
                empty_message: String::new(),
            }
        }
        _ => Panel {
            title: format!("Learning rate: {}", run.label),
            x_label: "epoch".into(),
            y_label: "η at the end of the epoch".into(),
            series: vec![Series {
                label: "η".into(),
                color: PALETTE[TRAIN_COLOR],
                style: Style::Line,
                points: run.epoch_points(|r| Some(r.lr)),
                band: None,
            }],
            log_y_allowed: true,
            empty_message: no_epochs,
        },
    };

    let figures = [
        (LOSS_PNG, render_png(FIGURE_SIZE, None, &[loss])?),
        (ACCURACY_PNG, render_png(FIGURE_SIZE, None, &[accuracy])?),
        (LR_PNG, render_png(FIGURE_SIZE, None, &[lr])?),
    ];
    write_all(&run.dir, &figures)
}

/// `etaprobe plot RUN_DIR... --out DIR`: the paper's comparison figures, one line per run
/// (labelled by [`run_label`], disambiguated by directory name when two labels are equal),
/// written to `out_dir` (created if needed):
/// - `loss.png`: train loss | test loss against epochs;
/// - `accuracy.png`: train accuracy | test accuracy against epochs;
/// - `lr.png`: η at the end of each epoch.
///
/// Returns the paths written. Every directory must be a run (have an `epochs.csv`).
pub fn compare_runs(run_dirs: &[PathBuf], out_dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
    let out_dir = out_dir.as_ref();
    if run_dirs.is_empty() {
        bail!("no run directory given to compare");
    }
    let mut runs = run_dirs
        .iter()
        .enumerate()
        .map(|(index, d)| {
            Ok(Run {
                index,
                ..Run::load(d, false)?
            })
        })
        .collect::<Result<Vec<_>>>()?;
    disambiguate_labels(&mut runs);

    let lines = |runs: &[&Run], points: &dyn Fn(&Run) -> Vec<(f64, f64)>| -> Vec<Series> {
        runs.iter()
            .map(|run| {
                let i = run.index;
                Series {
                    label: run.label.clone(),
                    color: PALETTE[i % PALETTE.len()],
                    // Past ten runs colours repeat; dashes keep the lines apart.
                    style: if (i / PALETTE.len()).is_multiple_of(2) {
                        Style::Line
                    } else {
                        Style::Dashed
                    },
                    points: points(run),
                    band: None,
                }
            })
            .collect()
    };
    let all: Vec<&Run> = runs.iter().collect();
    let panel =
        |title: &str, x: &str, y: &str, series: Vec<Series>, log: bool, empty: &str| Panel {
            title: title.into(),
            x_label: x.into(),
            y_label: y.into(),
            series,
            log_y_allowed: log,
            empty_message: empty.into(),
        };

    let loss = render_png(
        WIDE_FIGURE_SIZE,
        Some("Loss"),
        &[
            panel(
                "train loss",
                "epoch",
                "loss",
                lines(&all, &|r| r.epoch_points(|e| Some(e.train_loss))),
                true,
                "No epoch recorded in these runs",
            ),
            panel(
                "test loss",
                "epoch",
                "loss",
                lines(&all, &|r| r.epoch_points(|e| e.test_loss)),
                true,
                "No test loss in these runs",
            ),
        ],
    )?;

    let with_acc: Vec<&Run> = runs.iter().filter(|r| r.has_accuracy()).collect();
    let accuracy = if with_acc.is_empty() {
        render_png(
            FIGURE_SIZE,
            None,
            &[panel(
                "Accuracy",
                "epoch",
                "accuracy (%)",
                vec![],
                false,
                "No accuracy in these runs\n(regression runs have none).",
            )],
        )?
    } else {
        render_png(
            WIDE_FIGURE_SIZE,
            Some("Accuracy"),
            &[
                panel(
                    "train accuracy",
                    "epoch",
                    "accuracy (%)",
                    lines(&with_acc, &|r| r.accuracy_points(|e| e.train_acc)),
                    false,
                    "No train accuracy in these runs",
                ),
                panel(
                    "test accuracy",
                    "epoch",
                    "accuracy (%)",
                    lines(&with_acc, &|r| r.accuracy_points(|e| e.test_acc)),
                    false,
                    "No test accuracy in these runs",
                ),
            ],
        )?
    };

    let lr = render_png(
        FIGURE_SIZE,
        None,
        &[panel(
            "Learning rate η",
            "epoch",
            "η at the end of the epoch",
            lines(&all, &|r| r.epoch_points(|e| Some(e.lr))),
            true,
            "No epoch recorded in these runs",
        )],
    )?;

    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create output directory {}", out_dir.display()))?;
    write_all(
        out_dir,
        &[(LOSS_PNG, loss), (ACCURACY_PNG, accuracy), (LR_PNG, lr)],
    )
}

/// Two runs with the same label get their directory name appended.
fn disambiguate_labels(runs: &mut [Run]) {
    let labels: Vec<String> = runs.iter().map(|r| r.label.clone()).collect();
    for run in runs.iter_mut() {
        if labels.iter().filter(|l| **l == run.label).count() > 1 {
            let name = dir_name(&run.dir);
            if name != run.label {
                run.label = format!("{} ({name})", run.label);
            }
        }
    }
}

fn write_all(dir: &Path, figures: &[(&str, Vec<u8>)]) -> Result<Vec<PathBuf>> {
    let mut written = Vec::with_capacity(figures.len());
    for (name, png) in figures {
        let path = dir.join(name);
        write_atomic(&path, png).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
