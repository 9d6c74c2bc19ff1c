//! `etaprobe compare ROOT`: what a sweep's cells say, task by task, as a reviewer would want
//! it: each rule at its validation-selected η0, final and best test accuracy (test loss for
//! regression) as mean ± 95% CI over seeds, paired differences against a reference rule on
//! shared seeds, steps and seconds to a target, seconds per step; and mean curves with CI
//! bands against epochs and wall-clock.
//!
//! - `stats`: means and t-distribution confidence intervals;
//! - `table`: the Markdown report and the CSV tables;
//! - `figures`: the curves.
//!
//! The grid is the sweep's manifest (`sweep.json`). A run that diverged (stopped on a
//! non-finite loss, probe or η) scores chance, 1/classes, on validation and on test, and is
//! counted in every mean (docs/evaluation.md §2), but drawn in no curve; cells not
//! finished, failed otherwise, missing, or diverged on a regression task are left out of
//! every mean. Both are listed by name.

#![warn(missing_docs)]

mod ablation;
mod claims;
mod figures;
pub mod stats;
mod table;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::data::DatasetKind;
use crate::rundir::{
    read_decisions, read_epochs, read_steps, EpochRecord, RunInfo, RULE_CSV, RUN_JSON,
};
use crate::sweep::{on_disk, CellRecord, Manifest, OnDisk};
use stats::{estimate, Estimate};

/// What `compare` is asked for.
#[derive(Clone, Debug)]
pub struct CompareOptions {
    /// The sweeps' roots, each with its `sweep.json` and its cells' run directories; with
    /// several, their tasks are reported together and the claims judged across them.
    pub roots: Vec<PathBuf>,
    /// The rule the others are paired against (a rule's directory name, or its schedule
    /// when only one rule runs it), or several separated by commas: the one of them with
    /// the best mean final validation score at its selected η0 (ties: the earlier named;
    /// docs/evaluation.md §2's "best val-tuned schedule"). Default: `auto` when the sweep
    /// has it, else the first rule.
    pub reference: Option<String>,
    /// The rule whose claims are judged against the reference and the tuning-free rules
    /// (docs/evaluation.md §7) [default: auto]; nothing is judged when the task lacks it.
    pub judge: Option<String>,
    /// Accuracy (a fraction) whose first crossing on validation (test without one) is timed;
    /// default: the reference's mean final validation accuracy − 1 point.
    pub target_acc: Option<f64>,
    /// The same for regression tasks: a loss to get below.
    pub target_loss: Option<f64>,
    /// Where the report goes [default: ROOT/compare].
    pub out: Option<PathBuf>,
    /// A sweep whose judged rule the rules of ROOT are variants of (an ablation): each is
    /// paired with it on the same task, η0 and seed (docs/evaluation.md §6).
    pub ablation_base: Option<PathBuf>,
}

/// One finished cell's records.
#[derive(Clone, Debug)]
pub(crate) struct Run {
    /// The cell's run directory, relative to the sweep's root.
    pub dir: PathBuf,
    pub seed: u64,
    pub epochs: Vec<EpochRecord>,
    /// Steps done at the end of each epoch of `epochs`.
    pub steps_at_epoch: Vec<usize>,
    /// run.json's totals: wall seconds and steps.
    pub seconds: f64,
    pub steps: usize,
    /// The chance score of a run that diverged, which stands for its final and
    /// val-stopped accuracy on validation and test; its epochs are not read. NaN on a
    /// regression task, which has no chance score: such a run is in no mean, and loses
    /// the selection of its η0.
    pub diverged: Option<f64>,
    /// How often the rule took each decision (`rule.csv`); empty for rules without one.
    pub decisions: BTreeMap<String, usize>,
    /// Why `rule.csv` is there but could not be read (its counts are then unknown, not
    /// zero).
    pub decisions_unreadable: Option<String>,
}

/// The runs of one rule at one η0.
#[derive(Clone, Debug)]
pub(crate) struct LrGroup {
    pub lr: f64,
    pub runs: Vec<Run>,
    /// Seeds without a finished run.
    pub missing: Vec<u64>,
}

/// A rule (a directory of the sweep) on one task.
#[derive(Clone, Debug)]
pub(crate) struct RuleRuns {
    pub rule: String,
    pub schedule: String,
    /// `train`'s options of the rule variant (the sweep spec's fixed and swept options; ""
    /// for a flag): each distinct set its cells ran with, in the order the cells gave
    /// them; one set unless two spec rules share a directory name.
    pub options: Vec<BTreeMap<String, String>>,
    pub lrs: Vec<LrGroup>,
    /// Index into `lrs` of the selected η0 (None: no finished run at any).
    pub selected: Option<usize>,
    /// What it was selected on: validation when every finished run of the rule has a
    /// validation split, else the final training loss (never the test set).
    pub selected_on: SelectedOn,
}

/// How the task's runs are judged.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Kind {
    Classification,
    Regression,
}

/// What η0 was selected on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum SelectedOn {
    Validation,
    /// The runs have no validation split: the final training loss, never the test set.
    TrainLoss,
}

/// One task of the sweep.
#[derive(Clone, Debug)]
pub(crate) struct Task {
    pub name: String,
    pub kind: Kind,
    /// Whether any finished run has a validation split: time to target is then read on
    /// validation, over the runs that have one (a diverged run counts as never); else on
    /// the test set, for a task without splits.
    pub timed_on_val: bool,
    pub rules: Vec<RuleRuns>,
    /// Cells left out, each with why.
    pub left_out: Vec<(PathBuf, String)>,
    /// Diverged cells counted at chance, each with why.
    pub at_chance: Vec<(PathBuf, String)>,
}

/// A row of a task's main table: a rule at its selected η0.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub rule: String,
    pub schedule: String,
    pub lr: Option<f64>,
    /// "smallest" or "largest" when the selected η0 is so among those of its grid with a
    /// run.
    pub at_grid_edge: Option<&'static str>,
    pub lr_grid: Vec<f64>,
    /// The η0 of the grid with no run to score (none finished yet): the selection did
    /// not see them.
    pub lr_unscored: Vec<f64>,
    pub seeds: usize,
    pub missing: usize,
    /// Runs of `seeds` that diverged (counted at chance).
    pub diverged: usize,
    pub final_test: Option<Estimate>,
    /// Test at the epoch of best validation (docs/evaluation.md §2; reported, never judged).
    pub val_stopped_test: Option<Estimate>,
    pub final_val: Option<Estimate>,
    /// Final test against the reference, on shared seeds (None for the reference itself).
    pub paired: Option<Estimate>,
    /// The same without the seeds that selected this rule's or the reference's η0 on a
    /// one-seed grid (a two-pass grid's seed 1: over seeds 2…S); None when neither was
    /// so selected.
    pub paired_unseen: Option<Estimate>,
    /// Final test against the judged rule at its selected η0 (None for itself).
    pub paired_judged: Option<Estimate>,
    /// Medians over the row's runs, one that never reached the target counted as never;
    /// None when half of them or more did not.
    pub steps_to_target: Option<f64>,
    pub seconds_to_target: Option<f64>,
    /// Runs that reached the target, of those timed (on validation: those with a split).
    pub reached: (usize, usize),
    pub seconds_per_step: Option<Estimate>,
    /// The decisions of `rule.csv`, summed over the row's runs.
    pub decisions: BTreeMap<String, usize>,
}

/// Refuses epoch records that no finished run writes, so that a damaged file is left out
/// of the report, and said so, instead of read as a result: no epoch row at all, fewer
/// rows than the epochs `run.json` counts (a file cut short), an accuracy outside [0, 1]
/// (but a training accuracy NaN), or an evaluation's loss that is NaN or negative.
fn check_epochs(path: &Path, epochs: &[EpochRecord], info: &RunInfo) -> Result<()> {
    if epochs.is_empty() {
        bail!(
            "{}: no epoch rows, though run.json says the run finished",
            path.display()
        );
    }
    let counted = info.totals.get("epochs").and_then(|v| v.as_u64());
    let last = epochs.last().map(|e| e.epoch as u64);
    if let Some(counted) = counted.filter(|&n| Some(n) != last) {
        bail!(
            "{}: its last row is epoch {}, but run.json says the run ended after epoch \
             {counted}: the file was cut short or edited",
            path.display(),
            last.unwrap_or(0)
        );
    }
    for e in epochs {
        let accuracies = [
            ("train_acc", e.train_acc),
            ("test_acc", e.test_acc),
            ("val_acc", e.val_acc),
        ];
        for (column, value) in accuracies {
            // An epoch whose every step was discarded (undone, or skipped) trained on no
            // batch: its training accuracy is NaN, in a run that went on.
            let untrained = column == "train_acc" && value.is_some_and(f64::is_nan);
            if let Some(v) = value.filter(|v| !(0.0..=1.0).contains(v) && !untrained) {
                bail!(
                    "{}: epoch {}: {column} {v} is not an accuracy (a fraction from 0 to 1)",
                    path.display(),
                    e.epoch
                );
            }
        }
        for (column, value) in [("test_loss", e.test_loss), ("val_loss", e.val_loss)] {
            if let Some(v) = value.filter(|v| v.is_nan() || *v < 0.0) {
                bail!(
                    "{}: epoch {}: {column} {v} is not a loss",
                    path.display(),
                    e.epoch
                );
            }
        }
    }
    Ok(())
}

/// Refuses a cell directory whose `run.json` records another run than the cell's (a run
/// copied or moved there): the command it records, without what shapes no result (the
/// paths of `--out`, `--data` and `--resume`, `--adapter`, `--checkpoint-every`,
/// `--download`), must be the cell's `train` arguments. A run.json that records no command
/// (written by hand) is taken as it is.
fn check_command(dir: &Path, info: &RunInfo, cell: &CellRecord) -> Result<()> {
    fn shaping(words: &[String]) -> Vec<&str> {
        let valued = [
            "--out",
            "--data",
            "--resume",
            "--adapter",
            "--checkpoint-every",
        ];
        crate::sweep::without_options(words, &valued, &["--download"])
    }
    // A run.json without a command was not written by `train` (a record made by hand).
    let Some(words) = info.command.get(1..) else {
        return Ok(());
    };
    let recorded = shaping(words);
    if recorded != shaping(&cell.args) {
        bail!(
            "{}: its run.json records another run (`{}`), not this cell's (`{}`)",
            dir.display(),
            recorded.join(" "),
            shaping(&cell.args).join(" ")
        );
    }
    Ok(())
}

impl Run {
    fn load(dir: &Path, cell: &CellRecord) -> Result<Run> {
        let seed = cell.seed;
        let info = RunInfo::read(dir.join(RUN_JSON))?;
        check_command(dir, &info, cell)?;
        let epochs_csv = dir.join(crate::rundir::EPOCHS_CSV);
        let epochs = read_epochs(&epochs_csv)?;
        check_epochs(&epochs_csv, &epochs, &info)?;
        let steps = read_steps(dir.join(crate::rundir::STEPS_CSV))?;
        let steps_at_epoch = epochs
            .iter()
            .map(|e| {
                steps
                    .iter()
                    .filter(|s| s.epoch <= e.epoch)
                    .map(|s| s.step)
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let number = |key: &str| info.totals.get(key).and_then(|v| v.as_f64());
        // A log, not a result: an unreadable one leaves the run in, its counts unknown.
        let (decisions, decisions_unreadable) = match read_decisions(dir.join(RULE_CSV)) {
            Ok(d) => (d.unwrap_or_default(), None),
            Err(e) => (BTreeMap::new(), Some(format!("{e:#}"))),
        };
        Ok(Run {
            dir: cell.dir.clone(),
            seed,
            steps_at_epoch,
            seconds: number("seconds").unwrap_or(f64::NAN),
            steps: number("steps").map_or(0, |s| s as usize),
            epochs,
            diverged: None,
            decisions,
            decisions_unreadable,
        })
    }

    /// A diverged run, scored at chance on a classification task: 1/classes of the data
    /// set in its run.json (CIFAR-100's 20 coarse or 100 fine); NaN on a regression task.
    /// None when the data set is not known.
    fn at_chance(info: &RunInfo, cell: &CellRecord) -> Option<Run> {
        // The trainer nests the data options under `data`; older files may not.
        let config = &info.config;
        let data = config.get("data").filter(|d| d.is_object());
        let field = |k: &str| data.and_then(|d| d.get(k)).or_else(|| config.get(k));
        let dataset: DatasetKind = serde_json::from_value(field("dataset")?.clone()).ok()?;
        let coarse = field("coarse_labels").and_then(|c| c.as_bool()) == Some(true);
        let chance = match dataset {
            d if d.is_regression() => f64::NAN,
            DatasetKind::Cifar100 if coarse => 1.0 / 20.0,
            d => 1.0 / d.sample_shape().1 as f64,
        };
        Some(Run {
            dir: cell.dir.clone(),
            seed: cell.seed,
            epochs: Vec::new(),
            steps_at_epoch: Vec::new(),
            seconds: f64::NAN,
            steps: 0,
            diverged: Some(chance),
            decisions: BTreeMap::new(),
            decisions_unreadable: None,
        })
    }

    fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }

    /// The final test metric: accuracy, or loss for regression.
    pub fn final_test(&self, kind: Kind) -> Option<f64> {
        if self.diverged.is_some() {
            return self.chance(kind);
        }
        let last = self.last()?;
        match kind {
            Kind::Classification => last.test_acc,
            Kind::Regression => last.test_loss,
        }
    }

    /// The test metric at the epoch of best validation (highest accuracy, lowest loss; the
    /// first of equals): "val-stopped", the only other test value `compare` reads
    /// (docs/evaluation.md §2). None without a validation split.
    pub fn val_stopped_test(&self, kind: Kind) -> Option<f64> {
        if self.diverged.is_some() {
            return self.chance(kind);
        }
        let mut best: Option<(f64, &EpochRecord)> = None;
        for e in &self.epochs {
            let Some(v) = (match kind {
                Kind::Classification => e.val_acc,
                Kind::Regression => e.val_loss.map(|l| -l),
            })
            .filter(|v| !v.is_nan()) else {
                continue;
            };
            if best.is_none_or(|(b, _)| v > b) {
                best = Some((v, e));
            }
        }
        let (_, e) = best?;
        match kind {
            Kind::Classification => e.test_acc,
            Kind::Regression => e.test_loss,
        }
    }

    /// The final validation metric, when the run has a validation split.
    pub fn final_val(&self, kind: Kind) -> Option<f64> {
        if self.diverged.is_some() {
            return self.chance(kind);
        }
        let last = self.last()?;
        match kind {
            Kind::Classification => last.val_acc,
            Kind::Regression => last.val_loss,
        }
    }

    /// A diverged run's score, on a classification task.
    fn chance(&self, kind: Kind) -> Option<f64> {
        self.diverged.filter(|_| kind == Kind::Classification)
    }

    /// What η0 is selected on, higher is better.
    fn score(&self, kind: Kind, on: SelectedOn) -> Option<f64> {
        if self.diverged.is_some() && (on == SelectedOn::TrainLoss || kind == Kind::Regression) {
            return Some(f64::NEG_INFINITY);
        }
        match on {
            SelectedOn::Validation => self.final_val(kind).map(|v| match kind {
                Kind::Classification => v,
                Kind::Regression => -v,
            }),
            SelectedOn::TrainLoss => self.last().map(|e| -e.train_loss),
        }
    }

    /// The first epoch's end at which the target is met, on validation (`on_val`) or on
    /// the test set: steps and seconds then.
    pub fn to_target(&self, kind: Kind, target: f64, on_val: bool) -> Option<(usize, f64)> {
        self.epochs.iter().enumerate().find_map(|(i, e)| {
            let met = match (kind, on_val) {
                (Kind::Classification, true) => e.val_acc.is_some_and(|a| a >= target),
                (Kind::Classification, false) => e.test_acc.is_some_and(|a| a >= target),
                (Kind::Regression, true) => e.val_loss.is_some_and(|l| l <= target),
                (Kind::Regression, false) => e.test_loss.is_some_and(|l| l <= target),
            };
            met.then(|| (self.steps_at_epoch[i], e.seconds))
        })
    }

    pub fn seconds_per_step(&self) -> Option<f64> {
        (self.steps > 0 && self.seconds.is_finite()).then(|| self.seconds / self.steps as f64)
    }
}

/// The options that make a task what it is (model, data set, split, budget): cells of one
/// task must agree on each, but where their rule sets it itself (a rule's options are the
/// last word on its cells'). `--data` is not among them: one folder has many spellings.
const TASK_VALUED: [&str; 11] = [
    "--model",
    "--width-mult",
    "--dropout",
    "--dataset",
    "--split-seed",
    "--test-fraction",
    "--batch-size",
    "--epochs",
    "--max-steps",
    "--val-split",
    "--eval-subset",
];
const TASK_FLAGS: [&str; 3] = ["--drop-last", "--augment", "--coarse-labels"];

/// The value a cell's `train` arguments give a task option (`""` for a flag; None when
/// absent).
fn task_option<'a>(cell: &'a CellRecord, option: &str) -> Option<&'a str> {
    let mut words = cell.args.iter().map(String::as_str);
    let mut value = None;
    while let Some(w) = words.next() {
        let (key, inline) = match w.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (w, None),
        };
        if key == option {
            value = Some(match TASK_FLAGS.contains(&option) {
                true => "",
                false => inline.or_else(|| words.next()).unwrap_or(""),
            });
        }
    }
    value
}

/// Refuses a task whose cells ran different set-ups (another data set, model, batch size,
/// epochs or split: a hand-merged manifest): their means would mix two experiments. Each
/// option is compared over the cells whose rule does not set it.
fn check_one_setup(task: &str, cells: &[&CellRecord]) -> Result<()> {
    for option in TASK_VALUED.iter().chain(&TASK_FLAGS) {
        let mut first: Option<(&CellRecord, Option<&str>)> = None;
        for cell in cells
            .iter()
            .filter(|c| !c.options.contains_key(&option[2..]))
        {
            let value = task_option(cell, option);
            match first {
                None => first = Some((cell, value)),
                Some((other, want)) if want != value => {
                    let said = |v: Option<&str>| match v {
                        None => format!("no {option}"),
                        Some("") => option.to_string(),
                        Some(v) => format!("{option} {v}"),
                    };
                    bail!(
                        "task {task} mixes set-ups: {} ran with {}, {} with {}: compare \
                         their sweeps apart",
                        other.dir.display(),
                        said(want),
                        cell.dir.display(),
                        said(value)
                    );
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// Whether a stopped run's reason is a divergence (the trainer's messages for a non-finite
/// loss or probe, and for a non-finite η), not an interruption or an error.
fn diverged(why: &str) -> bool {
    why.starts_with("training diverged at step") || why.starts_with("η became")
}

/// Reads the sweep under `root` into tasks; also returns its manifest.
pub(crate) fn load(root: &Path) -> Result<(Manifest, Vec<Task>)> {
    if root.is_file() {
        bail!(
            "{} is a file: give the sweep's root, the folder that holds its {}",
            root.display(),
            crate::sweep::MANIFEST
        );
    }
    if !root.exists() {
        bail!("{}: no such folder", root.display());
    }
    let Some(manifest) = Manifest::read(root)? else {
        bail!(
            "{} is not a sweep's root: it has no {}",
            root.display(),
            crate::sweep::MANIFEST
        );
    };
    if manifest.cells.is_empty() {
        bail!(
            "{}: its {} lists no cell: nothing to compare",
            root.display(),
            crate::sweep::MANIFEST
        );
    }
    // Tasks, rules and η0 in the manifest's order of first appearance.
    let mut tasks: Vec<(String, Vec<&CellRecord>)> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for cell in &manifest.cells {
        // One run counted twice would weigh one seed double in every mean.
        if !seen.insert(&cell.dir) {
            bail!(
                "{}: {} lists the cell {} twice: a damaged or hand-merged file; keep one",
                root.display(),
                crate::sweep::MANIFEST,
                cell.dir.display()
            );
        }
        match tasks.iter_mut().find(|(t, _)| *t == cell.task) {
            Some((_, cells)) => cells.push(cell),
            None => tasks.push((cell.task.clone(), vec![cell])),
        }
    }
    for (name, cells) in &tasks {
        // A task's name names the report's files: a path there would write elsewhere.
        if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) {
            bail!(
                "{}: {} names a task {name:?}, which is not a plain name (the spec allows \
                 none such): a damaged or hand-edited file",
                root.display(),
                crate::sweep::MANIFEST
            );
        }
        check_one_setup(name, cells)?;
    }
    let mut out = Vec::new();
    for (name, cells) in tasks {
        let mut rules: Vec<RuleRuns> = Vec::new();
        let mut left_out = Vec::new();
        let mut at_chance = Vec::new();
        for cell in cells {
            let dir = root.join(&cell.dir);
            let run = match on_disk(&dir) {
                OnDisk::Finished => match Run::load(&dir, cell) {
                    Ok(run) => Some(run),
                    Err(e) => {
                        left_out.push((cell.dir.clone(), format!("unreadable: {e:#}")));
                        None
                    }
                },
                OnDisk::Stopped(why) => match RunInfo::read(dir.join(RUN_JSON))
                    .and_then(|info| check_command(&dir, &info, cell).map(|()| info))
                {
                    Err(e) => {
                        left_out.push((cell.dir.clone(), format!("unreadable: {e:#}")));
                        None
                    }
                    Ok(info) => match Run::at_chance(&info, cell) {
                        Some(run) if diverged(&why) => {
                            if run.diverged.is_some_and(f64::is_nan) {
                                left_out.push((
                                    cell.dir.clone(),
                                    format!(
                                        "diverged: {why} (a regression has no chance score: \
                                         in no mean, and counted against its η0 in the selection)"
                                    ),
                                ));
                            } else {
                                at_chance.push((cell.dir.clone(), format!("diverged: {why}")));
                            }
                            Some(run)
                        }
                        _ => {
                            left_out.push((cell.dir.clone(), format!("failed: {why}")));
                            None
                        }
                    },
                },
                OnDisk::Absent => {
                    let why = match &cell.error {
                        Some(e) => format!("failed: {e}"),
                        None if cell.status == crate::sweep::Status::Finished => {
                            "missing: its folder is gone, though sweep.json says it finished"
                                .to_string()
                        }
                        None => "missing: not run".to_string(),
                    };
                    left_out.push((cell.dir.clone(), why));
                    None
                }
                OnDisk::Resumable | OnDisk::Unusable => {
                    // A run.json there that does not read is not an unfinished run.
                    let json = dir.join(RUN_JSON);
                    let why = match RunInfo::read(&json) {
                        Err(e) if json.symlink_metadata().is_ok() => format!("unreadable: {e:#}"),
                        _ => "unfinished".to_string(),
                    };
                    left_out.push((cell.dir.clone(), why));
                    None
                }
            };
            let rule = match rules.iter_mut().position(|r| r.rule == cell.rule) {
                Some(i) => &mut rules[i],
                None => {
                    rules.push(RuleRuns {
                        rule: cell.rule.clone(),
                        schedule: cell.schedule.clone(),
                        options: Vec::new(),
                        lrs: Vec::new(),
                        selected: None,
                        selected_on: SelectedOn::Validation,
                    });
                    rules.last_mut().expect("just pushed")
                }
            };
            if !rule.options.contains(&cell.options) {
                rule.options.push(cell.options.clone());
            }
            let group = match rule.lrs.iter().position(|g| g.lr == cell.lr) {
                Some(i) => &mut rule.lrs[i],
                None => {
                    rule.lrs.push(LrGroup {
                        lr: cell.lr,
                        runs: Vec::new(),
                        missing: Vec::new(),
                    });
                    rule.lrs.last_mut().expect("just pushed")
                }
            };
            match run {
                Some(r) => group.runs.push(r),
                None => group.missing.push(cell.seed),
            }
        }
        let all_runs = || rules.iter().flat_map(|r| &r.lrs).flat_map(|g| &g.runs);
        let classification = |r: &Run| {
            r.diverged.is_some_and(|c| !c.is_nan()) || r.epochs.iter().any(|e| e.test_acc.is_some())
        };
        let kind = if all_runs().any(classification) {
            Kind::Classification
        } else {
            Kind::Regression
        };
        // Each rule on validation when every finished run of it has a split (a diverged run
        // stands in at chance either way); a run without one is named where it matters.
        let has_val = |r: &Run| r.diverged.is_some() || r.final_val(kind).is_some();
        let timed_on_val = all_runs().any(|r| r.diverged.is_none() && r.final_val(kind).is_some());
        for rule in &mut rules {
            let mut runs = rule.lrs.iter().flat_map(|g| &g.runs);
            rule.selected_on = match runs.all(has_val) {
                true => SelectedOn::Validation,
                false => SelectedOn::TrainLoss,
            };
            rule.selected = select(&rule.lrs, kind, rule.selected_on);
        }
        out.push(Task {
            name,
            kind,
            timed_on_val,
            rules,
            left_out,
            at_chance,
        });
    }
    Ok((manifest, out))
}

/// The η0 with the best mean score (of equals, the smallest η0: the more conservative rate on
/// the seeds not seen, docs/evaluation.md §2), over the seeds on which every η0 with a score
/// has one (all of them when the grid is complete; a diverged run scores chance on a
/// classification task and has no score on a regression task). A two-pass grid (η chosen on seed 1, then run on
/// the other seeds) so keeps its seed-1 choice: a mean over five seeds at the chosen η is
/// not compared with one seed's at the others. Without a common seed, each η0's own mean.
fn select(lrs: &[LrGroup], kind: Kind, on: SelectedOn) -> Option<usize> {
    let scored = |g: &LrGroup| -> Vec<(u64, f64)> {
        g.runs
            .iter()
            .filter_map(|r| r.score(kind, on).map(|v| (r.seed, v)))
            .collect()
    };
    let per_lr: Vec<Vec<(u64, f64)>> = lrs.iter().map(scored).collect();
    let common = shared_seeds(
        per_lr
            .iter()
            .filter(|r| !r.is_empty())
            .map(|runs| runs.iter().map(|(s, _)| *s).collect()),
    );
    // Ranked by the runs without a score first (a diverged run where there is no chance
    // score: −∞), fewer is better, then by the mean of the others: one bad seed diverging
    // at every η0 must not hand the choice to the smallest.
    let mut best: Option<(usize, usize, f64)> = None;
    for (i, runs) in per_lr.iter().enumerate() {
        let scores: Vec<f64> = runs
            .iter()
            .filter(|(s, _)| common.as_ref().is_none_or(|c| c.contains(s)))
            .map(|(_, v)| *v)
            .collect();
        if scores.is_empty() {
            continue;
        }
        let lost = scores.iter().filter(|v| **v == f64::NEG_INFINITY).count();
        let kept: Vec<f64> = scores
            .into_iter()
            .filter(|v| *v != f64::NEG_INFINITY)
            .collect();
        let mean = estimate(&kept).map_or(f64::NEG_INFINITY, |e| e.mean);
        // A NaN score never wins (a diverged run scores chance instead).
        if mean.is_nan() {
            continue;
        }
        // Equal means (up to the rounding of sums in another order) go to the smaller η0.
        let better = |(j, l, b): (usize, usize, f64)| match (lost.cmp(&l), same_score(mean, b)) {
            (std::cmp::Ordering::Less, _) => true,
            (std::cmp::Ordering::Greater, _) => false,
            (_, true) => lrs[i].lr < lrs[j].lr,
            (_, false) => mean > b,
        };
        if best.is_none_or(better) {
            best = Some((i, lost, mean));
        }
    }
    best.map(|(i, _, _)| i)
}

/// The seeds every one of `sets` holds, in the first set's order; None when there is no set
/// or no seed in common.
fn shared_seeds(sets: impl IntoIterator<Item = Vec<u64>>) -> Option<Vec<u64>> {
    sets.into_iter()
        .reduce(|common, seeds| common.into_iter().filter(|s| seeds.contains(s)).collect())
        .filter(|c| !c.is_empty())
}

/// Whether two mean scores are equal up to rounding: the same accuracies summed in another
/// order (the seeds of two η0) differ in their last bits.
fn same_score(a: f64, b: f64) -> bool {
    a == b || (a.is_finite() && b.is_finite() && (a - b).abs() <= 1e-12 * a.abs().max(b.abs()))
}

impl Task {
    /// A rule's index by directory name, or by schedule when one rule runs it.
    fn rule_index(&self, name: &str) -> Option<usize> {
        self.rules.iter().position(|r| r.rule == name).or_else(|| {
            let same: Vec<usize> = (0..self.rules.len())
                .filter(|&i| self.rules[i].schedule == name)
                .collect();
            (same.len() == 1).then(|| same[0])
        })
    }

    fn no_such_rule(&self, option: &str, name: &str) -> anyhow::Error {
        anyhow::anyhow!(
            "{option} {name}: task {} has no such rule (rules: {})",
            self.name,
            self.rules
                .iter()
                .map(|r| r.rule.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    /// The reference rule's index: `wanted` by directory name, or by schedule when one rule
    /// runs it; of several (comma-separated), the best by mean final validation score at
    /// its selected η0 (ties: the earlier named); by default `auto`, else the first rule.
    pub fn reference(&self, wanted: Option<&str>) -> Result<Option<usize>> {
        let Some(wanted) = wanted else {
            return Ok(self
                .rule_index("auto")
                .or((!self.rules.is_empty()).then_some(0)));
        };
        let mut best: Option<(usize, f64)> = None;
        let names: Vec<&str> = wanted.split(',').map(str::trim).collect();
        let mut candidates = Vec::new();
        for name in &names {
            let i = self
                .rule_index(name)
                .ok_or_else(|| self.no_such_rule("--reference", name))?;
            if names.len() == 1 {
                return Ok(Some(i));
            }
            candidates.push(i);
        }
        // Ranked on the seeds that every candidate's selected η0 has a run for, so that a
        // one-seed score is never set against a five-seed mean (claim 1 waits for equal
        // seeds anyway); without any in common, each on its own.
        let shared = shared_seeds(candidates.iter().filter_map(|&i| {
            let g = self.rules[i].chosen()?;
            Some(g.runs.iter().map(|r| r.seed).collect())
        }));
        for i in candidates {
            let Some(score) = self.rules[i].selected_val(self.kind, shared.as_deref()) else {
                continue;
            };
            // Equal scores go to the first listed.
            if best.is_none_or(|(_, b)| score > b && !same_score(score, b)) {
                best = Some((i, score));
            }
        }
        match best {
            Some((i, _)) => Ok(Some(i)),
            None => bail!(
                "--reference {wanted}: on task {}, none of these rules has a validation score \
                 to choose the best by (runs with --val-split)",
                self.name
            ),
        }
    }

    /// The judged rule's index (`wanted`, default `auto`); None when the task lacks it.
    pub fn judged(&self, wanted: Option<&str>) -> Result<Option<usize>> {
        match wanted {
            Some(name) => self
                .rule_index(name)
                .map(Some)
                .ok_or_else(|| self.no_such_rule("--judge", name)),
            None => Ok(self.rule_index("auto")),
        }
    }

    /// The main table: each rule at its selected η0.
    pub fn rows(
        &self,
        reference: Option<usize>,
        judged: Option<usize>,
        target: Option<f64>,
    ) -> Vec<Row> {
        let kind = self.kind;
        let chosen_runs = |i: Option<usize>| -> &[Run] {
            i.and_then(|i| self.rules[i].chosen())
                .map_or(&[], |g| g.runs.as_slice())
        };
        let (reference_runs, judged_runs) = (chosen_runs(reference), chosen_runs(judged));
        self.rules
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                let group = rule.chosen();
                let runs: &[Run] = group.map_or(&[], |g| &g.runs);
                let values = |f: &dyn Fn(&Run) -> Option<f64>| {
                    let v: Vec<f64> = runs.iter().filter_map(f).collect();
                    estimate(&v)
                };
                let against = |other: &[Run], also: bool, seeds: &dyn Fn(u64) -> bool| {
                    also.then(|| paired(runs, other, kind, seeds)).flatten()
                };
                // Seeds that chose this rule's η0 or the reference's on a one-seed grid.
                let mut chose = rule.selection_seeds();
                chose.extend(reference.map_or(Vec::new(), |r| self.rules[r].selection_seeds()));
                // Every run timed on the task's metric, one that never reached the target at
                // +∞: the median over the seeds (docs/evaluation.md §7), none when half of
                // them or more never did. On validation, a run without a split has no time.
                let timed = |r: &&Run| {
                    !self.timed_on_val || r.diverged.is_some() || r.final_val(kind).is_some()
                };
                let hits: Vec<Option<(usize, f64)>> = match target {
                    Some(t) => (runs.iter().filter(timed))
                        .map(|r| r.to_target(kind, t, self.timed_on_val))
                        .collect(),
                    None => Vec::new(),
                };
                let median = |of: &dyn Fn(&(usize, f64)) -> f64| {
                    let v: Vec<f64> = (hits.iter())
                        .map(|h| h.as_ref().map_or(f64::INFINITY, of))
                        .collect();
                    stats::median(&v).filter(|m| m.is_finite())
                };
                let mut decisions = BTreeMap::new();
                for (d, n) in runs.iter().flat_map(|r| &r.decisions) {
                    *decisions.entry(d.clone()).or_insert(0) += n;
                }
                Row {
                    rule: rule.rule.clone(),
                    schedule: rule.schedule.clone(),
                    lr: group.map(|g| g.lr),
                    at_grid_edge: rule.at_grid_edge(),
                    lr_grid: {
                        // In order, with a grid's extensions (§2) among the rest.
                        let mut grid: Vec<f64> = rule.lrs.iter().map(|g| g.lr).collect();
                        grid.sort_by(f64::total_cmp);
                        grid
                    },
                    lr_unscored: {
                        let mut none: Vec<f64> = (rule.lrs.iter())
                            .filter(|g| g.runs.is_empty())
                            .map(|g| g.lr)
                            .collect();
                        none.sort_by(f64::total_cmp);
                        none
                    },
                    seeds: runs.len(),
                    // With no η0 chosen (no run finished), every seed of the rule lacks one.
                    missing: group.map_or_else(
                        || {
                            let mut seeds: Vec<u64> = (rule.lrs.iter())
                                .flat_map(|g| {
                                    g.runs.iter().map(|r| r.seed).chain(g.missing.clone())
                                })
                                .collect();
                            seeds.sort_unstable();
                            seeds.dedup();
                            seeds.len()
                        },
                        |g| g.missing.len(),
                    ),
                    diverged: runs.iter().filter(|r| r.diverged.is_some()).count(),
                    final_test: values(&|r| r.final_test(kind)),
                    val_stopped_test: values(&|r| r.val_stopped_test(kind)),
                    final_val: values(&|r| r.final_val(kind)),
                    paired: against(reference_runs, Some(i) != reference, &|_| true),
                    paired_unseen: against(
                        reference_runs,
                        Some(i) != reference && !chose.is_empty(),
                        &|s| !chose.contains(&s),
                    ),
                    paired_judged: against(judged_runs, Some(i) != judged, &|_| true),
                    steps_to_target: median(&|h| h.0 as f64),
                    seconds_to_target: median(&|h| h.1),
                    reached: (hits.iter().flatten().count(), hits.len()),
                    seconds_per_step: values(&|r| r.seconds_per_step()),
                    decisions,
                }
            })
            .collect()
    }
}

impl RuleRuns {
    /// The runs at the selected η0.
    pub fn chosen(&self) -> Option<&LrGroup> {
        self.selected.map(|i| &self.lrs[i])
    }

    /// The seeds that selected this rule's η0 when it was chosen on some seeds and then run
    /// on more (a two-pass grid: seed 1), so that differences can be given without them
    /// (docs/evaluation.md §2); empty for a rule run at one η0 or at every η0 on every seed.
    pub fn selection_seeds(&self) -> Vec<u64> {
        let Some(chosen) = self.chosen() else {
            return Vec::new();
        };
        let planned = |g: &LrGroup| -> Vec<u64> {
            g.runs
                .iter()
                .map(|r| r.seed)
                .chain(g.missing.iter().copied())
                .collect()
        };
        let all = planned(chosen);
        let mut others: Vec<u64> = self
            .lrs
            .iter()
            .filter(|g| !std::ptr::eq(*g, chosen))
            .flat_map(planned)
            .collect();
        others.sort();
        others.dedup();
        let fewer = others.len() < all.len() && others.iter().all(|s| all.contains(s));
        if fewer {
            others
        } else {
            Vec::new()
        }
    }

    /// The mean final validation score at the selected η0 (higher is better), over
    /// `seeds` when given.
    fn selected_val(&self, kind: Kind, seeds: Option<&[u64]>) -> Option<f64> {
        let scores: Vec<f64> = self
            .chosen()?
            .runs
            .iter()
            .filter(|r| seeds.is_none_or(|s| s.contains(&r.seed)))
            .filter_map(|r| r.score(kind, SelectedOn::Validation))
            .collect();
        estimate(&scores).map(|e| e.mean)
    }

    /// The directories of the finished runs without a validation split (a diverged one
    /// stands in at chance).
    pub fn runs_without_val(&self, kind: Kind) -> Vec<&Path> {
        (self.lrs.iter().flat_map(|g| &g.runs))
            .filter(|r| r.diverged.is_none() && r.final_val(kind).is_none())
            .map(|r| r.dir.as_path())
            .collect()
    }

    /// The seeds planned at the selected η0: finished or not.
    pub fn chosen_seeds(&self) -> Vec<u64> {
        let Some(g) = self.chosen() else {
            return Vec::new();
        };
        let mut seeds: Vec<u64> = g
            .runs
            .iter()
            .map(|r| r.seed)
            .chain(g.missing.clone())
            .collect();
        seeds.sort_unstable();
        seeds.dedup();
        seeds
    }

    /// Whether the selected η0 is the smallest or the largest of those with a run: the
    /// best may lie beyond the grid (docs/evaluation.md §2 extends it then).
    pub fn at_grid_edge(&self) -> Option<&'static str> {
        let chosen = self.chosen()?;
        let scored: Vec<f64> = (self.lrs.iter())
            .filter(|g| !g.runs.is_empty())
            .map(|g| g.lr)
            .collect();
        if scored.len() < 2 {
            None
        } else if scored.iter().all(|&lr| lr >= chosen.lr) {
            Some("smallest")
        } else if scored.iter().all(|&lr| lr <= chosen.lr) {
            Some("largest")
        } else {
            None
        }
    }
}

/// Final test of `runs` minus `other`'s, seed by seed, over the seeds both have that `keep`
/// accepts; None when there is none.
pub(crate) fn paired(
    runs: &[Run],
    other: &[Run],
    kind: Kind,
    keep: &dyn Fn(u64) -> bool,
) -> Option<Estimate> {
    let diffs: Vec<f64> = runs
        .iter()
        .filter(|r| keep(r.seed))
        .filter_map(|r| {
            let o = other.iter().find(|o| o.seed == r.seed)?;
            Some(r.final_test(kind)? - o.final_test(kind)?)
        })
        .collect();
    estimate(&diffs)
}

/// The report's folder under a sweep's root when no `--out` is given.
pub const REPORT_DIR: &str = "compare";

/// The report, in that folder.
const REPORT_MD: &str = "compare.md";

/// A task's tables besides its main one (`TASK.csv`) are `TASK-SUFFIX.csv`: a task named
/// `TASK-grid` would share a file with `TASK`'s.
pub const TABLE_SUFFIXES: [&str; 3] = ["grid", "claims", "ablation"];

/// What `compare` wrote.
#[derive(Debug)]
pub struct Report {
    /// The report's Markdown (`compare.md`).
    pub markdown: String,
    /// The files written.
    pub written: Vec<PathBuf>,
    /// The files of an earlier report in that folder that this one does not write (a task,
    /// a claim or an ablation no longer there), removed so that none is read as current.
    pub removed: Vec<PathBuf>,
}

/// Writes the report of the sweeps under `opts.roots`: `compare.md`, per task `TASK.csv`
/// (the main table), `TASK-grid.csv` (every η0) and the figures.
pub fn compare(opts: &CompareOptions) -> Result<Report> {
    if let Some(t) = opts.target_acc.filter(|t| !(0.0..=1.0).contains(t)) {
        bail!("--target-acc {t} is not an accuracy: give a fraction between 0 and 1");
    }
    if let Some(t) = opts.target_loss.filter(|t| !t.is_finite()) {
        bail!("--target-loss {t} is not a loss: give a finite number");
    }
    let (first_root, more_roots) = match opts.roots.as_slice() {
        [] => bail!("compare needs a sweep's root"),
        [first, more @ ..] => (first, more),
    };
    if !more_roots.is_empty() && opts.out.is_none() {
        bail!("with several roots, give --out DIR: the report belongs to none of them");
    }
    let mut tasks: Vec<Task> = Vec::new();
    let mut heads: Vec<(PathBuf, usize)> = Vec::new();
    let mut from: Vec<&Path> = Vec::new();
    for root in &opts.roots {
        let (manifest, root_tasks) = load(root)?;
        for task in root_tasks {
            if let Some(i) = tasks.iter().position(|t| t.name == task.name) {
                bail!(
                    "task {} is in {} and in {}: compare each root on its own",
                    task.name,
                    from[i].display(),
                    root.display()
                );
            }
            from.push(root);
            tasks.push(task);
        }
        heads.push((root.clone(), manifest.jobs));
    }
    if let Some(b) = opts.ablation_base.as_deref() {
        if let Some(root) = (opts.roots.iter()).find(|r| crate::rundir::same_folder(r, b)) {
            bail!(
                "--ablation-base {} is the root {} itself: give the root of the sweep whose \
                 rule the variants are ablations of",
                b.display(),
                root.display()
            );
        }
    }
    let base = match &opts.ablation_base {
        Some(b) => Some(
            load(b)
                .with_context(|| format!("--ablation-base {}", b.display()))?
                .1,
        ),
        None => None,
    };
    // Every option is checked against every task before anything is written, so that a
    // refused command leaves the previous report whole.
    let mut ablations = Vec::new();
    for task in &tasks {
        task.reference(opts.reference.as_deref())?;
        task.judged(opts.judge.as_deref())?;
        ablations.push(ablation_of(task, base.as_deref(), opts)?);
    }
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| first_root.join(REPORT_DIR));
    // Everything is made in memory first: a failure writes nothing.
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    // Which task wrote each file: two tasks must not share a name (`fm`'s `fm-grid.csv`
    // and the table of a task called `fm-grid`).
    let mut owners: BTreeMap<String, &str> = BTreeMap::new();
    let mut sections = Vec::new();
    let mut judged_claims: Vec<(String, Option<claims::Claims>)> = Vec::new();
    for (task, ablation) in tasks.iter().zip(ablations) {
        let reference = task.reference(opts.reference.as_deref())?;
        let judged = task.judged(opts.judge.as_deref())?;
        // The reference's candidates (several with a comma-separated --reference).
        let candidates: Vec<usize> = match &opts.reference {
            Some(names) => names
                .split(',')
                .filter_map(|n| task.rule_index(n.trim()))
                .collect(),
            None => reference.into_iter().collect(),
        };
        let target = match task.kind {
            Kind::Classification => opts.target_acc.or_else(|| {
                // docs/evaluation.md §7: the reference's mean final validation − 1 point.
                let r = &task.rules[reference?];
                (r.selected_on == SelectedOn::Validation)
                    .then(|| r.selected_val(task.kind, None))
                    .flatten()
                    .map(|v| v - 0.01)
            }),
            Kind::Regression => opts.target_loss,
        };
        // A target of the other kind of task is no target for this one: said, not skipped.
        match task.kind {
            Kind::Regression if opts.target_acc.is_some() => log::warn!(
                "task {}: a regression, which --target-acc does not apply to (give \
                 --target-loss)",
                task.name
            ),
            Kind::Classification if opts.target_loss.is_some() => log::warn!(
                "task {}: a classification, which --target-loss does not apply to (give \
                 --target-acc)",
                task.name
            ),
            _ => {}
        }
        let rows = task.rows(reference, judged, target);
        let mut figures = figures::draw(task)?;
        let reference_name = reference.map(|i| task.rules[i].rule.as_str());
        let judged_name = judged
            .filter(|&j| Some(j) != reference)
            .map(|j| task.rules[j].rule.as_str());
        let claims = match (judged, reference) {
            (Some(j), Some(r)) => claims::judge(task, j, r, &candidates),
            _ => None,
        };
        let csv = table::main_csv(task, &rows, reference_name, judged_name, target);
        let grid = table::grid_csv(task);
        let mut tables = vec![
            (format!("{}.csv", task.name), csv),
            (format!("{}-{}.csv", task.name, TABLE_SUFFIXES[0]), grid),
        ];
        if let Some(c) = &claims {
            tables.push((
                format!("{}-{}.csv", task.name, TABLE_SUFFIXES[1]),
                claims::csv(c),
            ));
            figures.push(figures::draw_claims(&task.name, c)?);
        }
        let mut ablation_section = None;
        if let (Some((variants, judged)), Some(base_root)) = (ablation, &opts.ablation_base) {
            tables.push((
                format!("{}-{}.csv", task.name, TABLE_SUFFIXES[2]),
                ablation::csv(&variants),
            ));
            ablation_section = Some(ablation::markdown(&variants, judged, base_root));
        }
        let names = tables
            .iter()
            .map(|t| &t.0)
            .chain(figures.iter().map(|f| &f.0));
        for name in names {
            if let Some(other) = owners.insert(name.clone(), &task.name) {
                bail!(
                    "tasks {other:?} and {:?} would both write {name}: rename one of them in \
                     the spec, or compare their roots apart",
                    task.name
                );
            }
        }
        files.extend(
            tables
                .into_iter()
                .map(|(name, text)| (name, text.into_bytes())),
        );
        let figure_names: Vec<String> = figures.iter().map(|(name, _)| name.clone()).collect();
        let extra: String = claims
            .as_ref()
            .map(claims::markdown)
            .into_iter()
            .chain(ablation_section)
            .collect();
        sections.push(table::markdown(
            task,
            &table::Against {
                reference: reference_name,
                judged: judged_name,
                target,
                default_target: task.kind == Kind::Classification && opts.target_acc.is_none(),
            },
            &rows,
            Some(extra.as_str()).filter(|e| !e.is_empty()),
            &figure_names,
        ));
        files.extend(figures);
        judged_claims.push((task.name.clone(), claims));
    }
    if judged_claims.len() > 1 && judged_claims.iter().any(|(_, c)| c.is_some()) {
        sections.push(claims::across(&judged_claims));
    }
    let report = table::report(&heads, &sections);
    files.insert(0, (REPORT_MD.to_string(), report.clone().into_bytes()));
    // A file of the user's under one of these names stays (a report of before the list of
    // what was written is known by its title).
    let made_before = |dir: &Path| {
        crate::rundir::read_regular(&dir.join(REPORT_MD))
            .is_ok_and(|md| md.starts_with(table::REPORT_TITLE.as_bytes()))
    };
    let would_write = |name: &str| files.iter().any(|(n, _)| n == name);
    crate::report::written::check_ours(&out, would_write, made_before)?;
    crate::report::written::create_folder(&out)?;
    // Listed before they are written: a crash half-way leaves them known as the report's.
    crate::report::written::record(&out, files.iter().map(|(name, _)| name.clone()))?;
    let written = crate::report::write_all(&out, &files)?;
    // An earlier report's tables and figures that this one does not write (a plot's
    // figures in the same folder are a plot's to replace, and a user's file is never
    // listed).
    let removed = crate::report::written::remove_listed(&out, |name| {
        let ours = [".md", ".csv", ".png"].iter().any(|x| name.ends_with(x));
        ours && !would_write(name) && !crate::report::FigureFormat::is_figure(name)
    });
    Ok(Report {
        markdown: report,
        written,
        removed,
    })
}

/// `task`'s ablation variants paired with the judged rule of `base`'s task of the same name
/// (`--ablation-base`), and that rule's name; None without `--ablation-base`.
fn ablation_of<'a>(
    task: &Task,
    base: Option<&[Task]>,
    opts: &'a CompareOptions,
) -> Result<Option<(Vec<ablation::Variant>, &'a str)>> {
    let (Some(base), Some(base_root)) = (base, &opts.ablation_base) else {
        return Ok(None);
    };
    let judged = opts.judge.as_deref().unwrap_or("auto");
    let Some(base_task) = base.iter().find(|t| t.name == task.name) else {
        bail!(
            "--ablation-base {}: it has no task {} (its tasks: {})",
            base_root.display(),
            task.name,
            base.iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let Some(variants) = ablation::compare(task, base_task, judged) else {
        bail!(
            "--ablation-base {}: task {} has no rule {judged} to pair the variants with",
            base_root.display(),
            task.name
        );
    };
    Ok(Some((variants, judged)))
}

/// Per-epoch mean and CI of a metric over runs (only the runs that reached that epoch): x
/// (the epoch, or the mean seconds at its end), the estimate.
pub(crate) fn curve(
    runs: &[Run],
    metric: &dyn Fn(&EpochRecord) -> Option<f64>,
    against_time: bool,
) -> Vec<(f64, Estimate)> {
    let mut by_epoch: BTreeMap<usize, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for run in runs {
        for e in &run.epochs {
            if let Some(v) = metric(e).filter(|v| v.is_finite()) {
                let entry = by_epoch.entry(e.epoch).or_default();
                entry.0.push(v);
                entry.1.push(e.seconds);
            }
        }
    }
    by_epoch
        .into_iter()
        .filter_map(|(epoch, (values, seconds))| {
            let x = if against_time {
                seconds.iter().sum::<f64>() / seconds.len() as f64
            } else {
                epoch as f64
            };
            estimate(&values).map(|e| (x, e))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(seed: u64, val_acc: f64) -> Run {
        Run {
            seed,
            epochs: vec![EpochRecord {
                epoch: 1,
                train_loss: 1.0,
                train_acc: None,
                test_loss: None,
                test_acc: None,
                lr: 0.1,
                seconds: 1.0,
                val_loss: Some(1.0),
                val_acc: Some(val_acc),
            }],
            steps_at_epoch: vec![10],
            seconds: 1.0,
            steps: 10,
            diverged: None,
            decisions: BTreeMap::new(),
            decisions_unreadable: None,
            dir: PathBuf::new(),
        }
    }

    fn diverged(seed: u64) -> Run {
        Run {
            seed,
            epochs: vec![],
            steps_at_epoch: vec![],
            seconds: f64::NAN,
            steps: 0,
            diverged: Some(0.1),
            decisions: BTreeMap::new(),
            decisions_unreadable: None,
            dir: PathBuf::new(),
        }
    }

    fn group(lr: f64, runs: Vec<Run>) -> LrGroup {
        LrGroup {
            lr,
            runs,
            missing: vec![],
        }
    }

    #[test]
    fn a_two_pass_grid_keeps_its_seed_1_choice() {
        // Pass 1: 0.01 beat 0.03 on seed 1; pass 2 ran 0.01 on seeds 2–3, which did worse.
        let lrs = vec![
            group(0.01, vec![run(1, 0.85), run(2, 0.80), run(3, 0.80)]),
            group(0.03, vec![run(1, 0.84)]),
        ];
        let on = SelectedOn::Validation;
        assert_eq!(select(&lrs, Kind::Classification, on), Some(0));
        // A complete grid: the mean over every seed decides.
        let lrs = vec![
            group(0.01, vec![run(1, 0.85), run(2, 0.80)]),
            group(0.03, vec![run(1, 0.84), run(2, 0.83)]),
        ];
        assert_eq!(select(&lrs, Kind::Classification, on), Some(1));
        // No seed in common: each η0's own mean.
        let lrs = vec![
            group(0.01, vec![run(1, 0.80)]),
            group(0.03, vec![run(2, 0.84)]),
        ];
        assert_eq!(select(&lrs, Kind::Classification, on), Some(1));
    }

    #[test]
    fn a_diverged_regression_run_loses_its_eta0s_selection() {
        // η0 10 is better on seed 1 and diverged on seed 2: a regression has no chance
        // score, so the divergence must not just drop seed 2 from the comparison.
        let loss = |seed: u64, val_loss: f64| {
            let mut r = run(seed, 0.0);
            r.epochs[0].val_acc = None;
            r.epochs[0].val_loss = Some(val_loss);
            r
        };
        let gone = Run {
            diverged: Some(f64::NAN),
            ..diverged(2)
        };
        let kind = Kind::Regression;
        assert_eq!(gone.final_test(kind), None, "in no mean");
        let lrs = vec![
            group(0.01, vec![loss(1, 1.0), loss(2, 1.0)]),
            group(10.0, vec![loss(1, 0.5), gone.clone()]),
        ];
        assert_eq!(select(&lrs, kind, SelectedOn::Validation), Some(0));
        // A seed diverging at every η0: the others' mean decides, not the smallest η0.
        let lrs = vec![
            group(0.001, vec![loss(1, 30.0), gone.clone()]),
            group(0.01, vec![loss(1, 10.0), gone.clone()]),
            group(0.1, vec![loss(1, 20.0), gone]),
        ];
        assert_eq!(select(&lrs, kind, SelectedOn::Validation), Some(1));
    }

    #[test]
    fn a_diverged_run_counts_at_chance() {
        let d = diverged(2);
        let kind = Kind::Classification;
        assert_eq!(d.final_val(kind), Some(0.1));
        assert_eq!(d.final_test(kind), Some(0.1));
        assert_eq!(d.val_stopped_test(kind), Some(0.1));
        assert_eq!(
            d.to_target(kind, 0.05, true),
            None,
            "never reaches a target"
        );
        assert_eq!(d.seconds_per_step(), None);
        assert_eq!(d.final_test(Kind::Regression), None);
        // 0.03's seeds 0.85 and chance average 0.475, below 0.01's 0.8.
        let on = SelectedOn::Validation;
        let lrs = vec![
            group(0.01, vec![run(1, 0.80), run(2, 0.80)]),
            group(0.03, vec![run(1, 0.85), diverged(2)]),
        ];
        assert_eq!(select(&lrs, kind, on), Some(0));
        // On the training loss (no validation split), it never wins either.
        let lrs = vec![
            group(0.01, vec![diverged(1)]),
            group(0.03, vec![run(1, 0.8)]),
        ];
        assert_eq!(select(&lrs, kind, SelectedOn::TrainLoss), Some(1));
    }
}
