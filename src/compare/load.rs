//! Reading a sweep's records: each cell's run directory checked against the manifest (the
//! command it ran, its epochs) and grouped into tasks, rules and η0, with what was left out
//! or counted at chance and why.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Result};

use super::select::select;
use super::{Kind, LrGroup, RuleRuns, Run, SelectedOn, Task};
use crate::data::DatasetKind;
use crate::rundir::{
    read_decisions, read_epochs, read_steps, EpochRecord, RunInfo, RULE_CSV, RUN_JSON,
};
use crate::sweep::{on_disk, CellRecord, Manifest, OnDisk};

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
pub(super) fn diverged(why: &str) -> bool {
    why.starts_with("training diverged at step") || why.starts_with("η became")
}

/// Reads the sweep under `root` into tasks; also returns its manifest.
pub(crate) fn load(root: &Path) -> Result<(Manifest, Vec<Task>)> {
    let manifest = read_manifest(root)?;
    let tasks = (cells_by_task(root, &manifest)?.into_iter())
        .map(|(name, cells)| task(root, name, cells))
        .collect();
    Ok((manifest, tasks))
}

/// The manifest of the sweep under `root`, refused when there is none or it lists no cell.
fn read_manifest(root: &Path) -> Result<Manifest> {
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
    Ok(manifest)
}

/// The manifest's cells task by task, tasks in their order of first appearance; refused
/// when a cell is listed twice, a task's name is not a plain name, or a task's cells do
/// not share one setup.
fn cells_by_task<'a>(
    root: &Path,
    manifest: &'a Manifest,
) -> Result<Vec<(String, Vec<&'a CellRecord>)>> {
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
    Ok(tasks)
}

/// A task from its cells: rules and η0 in the manifest's order, each cell's run read (or
/// left out, or counted at chance, and why), the task's kind, and each rule's selected η0.
fn task(root: &Path, name: String, cells: Vec<&CellRecord>) -> Task {
    let mut rules: Vec<RuleRuns> = Vec::new();
    let mut left_out = Vec::new();
    let mut at_chance = Vec::new();
    for cell in cells {
        let run = match read_cell(root, cell) {
            Read::Run(run) => Some(run),
            Read::AtChance(run, why) => {
                at_chance.push((cell.dir.clone(), why));
                Some(run)
            }
            Read::LeftOutRun(run, why) => {
                left_out.push((cell.dir.clone(), why));
                Some(run)
            }
            Read::LeftOut(why) => {
                left_out.push((cell.dir.clone(), why));
                None
            }
        };
        let group = lr_group(&mut rules, cell);
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
    Task {
        name,
        kind,
        timed_on_val,
        rules,
        left_out,
        at_chance,
    }
}

/// What a cell's folder gave.
enum Read {
    /// A finished run.
    Run(Run),
    /// A diverged run counted at chance (a classification: a regression's chance score
    /// is NaN): why.
    AtChance(Run, String),
    /// A diverged run of a regression: in no mean (it has no chance score), but counted
    /// against its η0 in the selection; why.
    LeftOutRun(Run, String),
    /// No run to count: why.
    LeftOut(String),
}

/// Reads a cell's run from its folder under `root`, or says why it counts as none.
fn read_cell(root: &Path, cell: &CellRecord) -> Read {
    let dir = root.join(&cell.dir);
    match on_disk(&dir) {
        OnDisk::Finished => match Run::load(&dir, cell) {
            Ok(run) => Read::Run(run),
            Err(e) => Read::LeftOut(format!("unreadable: {e:#}")),
        },
        OnDisk::Stopped(why) => match RunInfo::read(dir.join(RUN_JSON))
            .and_then(|info| check_command(&dir, &info, cell).map(|()| info))
        {
            Err(e) => Read::LeftOut(format!("unreadable: {e:#}")),
            Ok(info) => match Run::at_chance(&info, cell) {
                Some(run) if diverged(&why) => match run.diverged.is_some_and(f64::is_nan) {
                    true => Read::LeftOutRun(
                        run,
                        format!(
                            "diverged: {why} (a regression has no chance score: in no mean, \
                             and counted against its η0 in the selection)"
                        ),
                    ),
                    false => Read::AtChance(run, format!("diverged: {why}")),
                },
                _ => Read::LeftOut(format!("failed: {why}")),
            },
        },
        OnDisk::Absent => Read::LeftOut(match &cell.error {
            Some(e) => format!("failed: {e}"),
            None if cell.status == crate::sweep::Status::Finished => {
                "missing: its folder is gone, though sweep.json says it finished".to_string()
            }
            None => "missing: not run".to_string(),
        }),
        OnDisk::Resumable | OnDisk::Unusable => {
            // A run.json there that does not read is not an unfinished run.
            let json = dir.join(RUN_JSON);
            Read::LeftOut(match RunInfo::read(&json) {
                Err(e) if json.symlink_metadata().is_ok() => format!("unreadable: {e:#}"),
                _ => "unfinished".to_string(),
            })
        }
    }
}

/// The group of `cell`'s rule and η0 in `rules`, made when it is the first of them; the
/// rule gains the cell's options when they are new.
fn lr_group<'a>(rules: &'a mut Vec<RuleRuns>, cell: &CellRecord) -> &'a mut LrGroup {
    let rule = match rules.iter().position(|r| r.rule == cell.rule) {
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
    match rule.lrs.iter().position(|g| g.lr == cell.lr) {
        Some(i) => &mut rule.lrs[i],
        None => {
            rule.lrs.push(LrGroup {
                lr: cell.lr,
                runs: Vec::new(),
                missing: Vec::new(),
            });
            rule.lrs.last_mut().expect("just pushed")
        }
    }
}
