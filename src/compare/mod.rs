//! `etaprobe compare ROOT`: what a sweep's cells say, task by task, as a reviewer would want
//! it: each rule at its validation-selected η0, final and best test accuracy (test loss for
//! regression) as mean ± 95% CI over seeds, paired differences against a reference rule on
//! shared seeds, steps and seconds to a target, seconds per step; and mean curves with CI
//! bands against epochs and wall-clock.
//!
//! - `load`: the cells' records, checked and grouped into tasks, rules and η0;
//! - `select`: each rule's selected η0, the reference, and the main table's rows;
//! - `stats`: means and t-distribution confidence intervals;
//! - `table`: the Markdown report and the CSV tables;
//! - `claims`: the verdicts of docs/evaluation.md §7 on the judged rule;
//! - `ablation`: §6's table of an ablation's variants against the judged rule;
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
mod load;
mod select;
pub mod stats;
mod table;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::rundir::EpochRecord;
use load::load;
pub(crate) use select::paired;
#[cfg(test)]
use select::select;
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

impl Run {
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
    let (tasks, heads) = load_roots(&opts.roots)?;
    let base = load_ablation_base(opts)?;
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
        let made = task_report(task, ablation, opts)?;
        for (name, _) in &made.files {
            if let Some(other) = owners.insert(name.clone(), &task.name) {
                bail!(
                    "tasks {other:?} and {:?} would both write {name}: rename one of them in \
                     the spec, or compare their roots apart",
                    task.name
                );
            }
        }
        files.extend(made.files);
        sections.push(made.section);
        judged_claims.push((task.name.clone(), made.claims));
    }
    if judged_claims.len() > 1 && judged_claims.iter().any(|(_, c)| c.is_some()) {
        sections.push(claims::across(&judged_claims));
    }
    let report = table::report(&heads, &sections);
    files.insert(0, (REPORT_MD.to_string(), report.clone().into_bytes()));
    let (written, removed) = write_report(&out, &files)?;
    Ok(Report {
        markdown: report,
        written,
        removed,
    })
}

/// A root, and how many cells its sweep last ran at once: a line of the report's head.
type Head = (PathBuf, usize);

/// The tasks of every root (a task in two roots is refused), and each root with its
/// sweep's jobs for the report's head.
fn load_roots(roots: &[PathBuf]) -> Result<(Vec<Task>, Vec<Head>)> {
    let mut tasks: Vec<Task> = Vec::new();
    let mut heads: Vec<Head> = Vec::new();
    let mut from: Vec<&Path> = Vec::new();
    for root in roots {
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
    Ok((tasks, heads))
}

/// The tasks of `--ablation-base`, which must not be one of the roots compared.
fn load_ablation_base(opts: &CompareOptions) -> Result<Option<Vec<Task>>> {
    let Some(b) = opts.ablation_base.as_deref() else {
        return Ok(None);
    };
    if let Some(root) = (opts.roots.iter()).find(|r| crate::rundir::same_folder(r, b)) {
        bail!(
            "--ablation-base {} is the root {} itself: give the root of the sweep whose \
             rule the variants are ablations of",
            b.display(),
            root.display()
        );
    }
    let (_, tasks) = load(b).with_context(|| format!("--ablation-base {}", b.display()))?;
    Ok(Some(tasks))
}

/// One task's part of the report.
struct TaskReport {
    /// Its Markdown section.
    section: String,
    /// Its tables, then its figures: name and bytes.
    files: Vec<(String, Vec<u8>)>,
    /// The judged rule's claims, when the task has both it and a reference.
    claims: Option<claims::Claims>,
}

/// A task's tables, figures, claims and section of the report (`ablation`: its variants
/// and the rule they are paired with, under `--ablation-base`).
fn task_report(
    task: &Task,
    ablation: Option<(Vec<ablation::Variant>, &str)>,
    opts: &CompareOptions,
) -> Result<TaskReport> {
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
    let target = target(task, reference, opts);
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
    let figure_names: Vec<String> = figures.iter().map(|(name, _)| name.clone()).collect();
    let extra: String = claims
        .as_ref()
        .map(claims::markdown)
        .into_iter()
        .chain(ablation_section)
        .collect();
    let section = table::markdown(
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
    );
    let files = (tables.into_iter())
        .map(|(name, text)| (name, text.into_bytes()))
        .chain(figures)
        .collect();
    Ok(TaskReport {
        section,
        files,
        claims,
    })
}

/// The accuracy (or loss) whose first crossing is timed: the option's, else for a
/// classification the reference's mean final validation − 1 point (docs/evaluation.md §7)
/// when the reference selected its η0 on validation, and none otherwise.
/// A target of the other kind of task is no target for this one: said, not skipped.
fn target(task: &Task, reference: Option<usize>, opts: &CompareOptions) -> Option<f64> {
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
    match task.kind {
        Kind::Classification => opts.target_acc.or_else(|| {
            let r = &task.rules[reference?];
            (r.selected_on == SelectedOn::Validation)
                .then(|| r.selected_val(task.kind, None))
                .flatten()
                .map(|v| v - 0.01)
        }),
        Kind::Regression => opts.target_loss,
    }
}

/// Writes the report's `files` into `out`, and removes an earlier report's files that
/// this one does not write: the files written and those removed.
fn write_report(out: &Path, files: &[(String, Vec<u8>)]) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    // A file of the user's under one of these names stays (a report of before the list of
    // what was written is known by its title).
    let made_before = |dir: &Path| {
        crate::rundir::read_regular(&dir.join(REPORT_MD))
            .is_ok_and(|md| md.starts_with(table::REPORT_TITLE.as_bytes()))
    };
    let would_write = |name: &str| files.iter().any(|(n, _)| n == name);
    crate::report::written::check_ours(out, would_write, made_before)?;
    crate::report::written::create_folder(out)?;
    // Listed before they are written: a crash half-way leaves them known as the report's.
    crate::report::written::record(out, files.iter().map(|(name, _)| name.clone()))?;
    let written = crate::report::write_all(out, files)?;
    // An earlier report's tables and figures that this one does not write (a plot's
    // figures in the same folder are a plot's to replace, and a user's file is never
    // listed).
    let removed = crate::report::written::remove_listed(out, |name| {
        let ours = [".md", ".csv", ".png"].iter().any(|x| name.ends_with(x));
        ours && !would_write(name) && !crate::report::FigureFormat::is_figure(name)
    });
    Ok((written, removed))
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
