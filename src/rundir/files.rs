//! The files a training run appends to as it goes.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::step_log::kept_step_log;
use super::{open_step_log, write_atomic, EpochRecord, EpochWriter, StepRecord, StepWriter};
use super::{MetricsWriter, METRICS_JSONL};
use super::{EPOCHS_CSV, EVALS_CSV, RULE_CSV, STEPS_CSV};

/// `epochs.csv`, `steps.csv`, and the per-step logs `rule.csv` and `evals.csv` (opened on
/// their first line).
pub struct RunFiles {
    dir: PathBuf,
    /// `epochs.csv`.
    pub epochs: EpochWriter,
    /// `steps.csv`.
    pub steps: StepWriter,
    metrics: MetricsWriter,
    rule: Option<std::fs::File>,
    evals: Option<std::fs::File>,
    /// The first step this process runs: a resumed run keeps the log lines before it.
    first_step: usize,
}

/// Refuses to resume from records that lost rows the others kept. `epochs.csv`,
/// `steps.csv` and `metrics.jsonl` are written together (`metrics.jsonl` holds every step
/// and epoch again) and pushed to the disk before each checkpoint, so up to the checkpoint
/// they hold the same steps and epochs; a file missing, emptied or cut short was damaged
/// by hand or by a disk, and resuming would leave the hole for good. None of the three (a
/// bare checkpoint) is a fresh start of the records, at the checkpoint.
fn check_records_agree(
    dir: &Path,
    epochs: Option<&str>,
    steps: Option<&str>,
    metrics: Option<&str>,
) -> Result<()> {
    let files = [
        (EPOCHS_CSV, epochs),
        (STEPS_CSV, steps),
        (METRICS_JSONL, metrics),
    ];
    let missing: Vec<&str> = files
        .iter()
        .filter(|f| f.1.is_none())
        .map(|f| f.0)
        .collect();
    let (Some(epochs), Some(steps), Some(metrics)) = (epochs, steps, metrics) else {
        if missing.len() == files.len() {
            return Ok(());
        }
        anyhow::bail!(
            "{}: {} missing beside the run's other records: resuming would go on without \
             its history. Restore it, or start the run afresh",
            dir.display(),
            missing.join(" and ")
        );
    };
    let (metric_steps, metric_epochs) = metrics_numbers(metrics);
    for (name, what, rows, again) in [
        (STEPS_CSV, "step", first_column(steps), metric_steps),
        (EPOCHS_CSV, "epoch", first_column(epochs), metric_epochs),
    ] {
        if rows != again {
            anyhow::bail!(
                "{}: {name} has {} up to the checkpoint and {METRICS_JSONL} {}: one of them \
                 lost rows (an edit, or a damaged disk); resuming would keep the hole. \
                 Restore the file, or start the run afresh",
                dir.display(),
                span(what, &rows),
                span(what, &again)
            );
        }
    }
    Ok(())
}

/// The numbers of the first column of a CSV text after its header (the step or epoch).
fn first_column(text: &str) -> Vec<usize> {
    text.lines()
        .skip(1)
        .filter_map(|l| l.split(',').next()?.trim().parse().ok())
        .collect()
}

/// The step numbers and the epoch numbers of `metrics.jsonl`'s lines.
fn metrics_numbers(text: &str) -> (Vec<usize>, Vec<usize>) {
    let (mut steps, mut epochs) = (Vec::new(), Vec::new());
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let number = |key: &str| v.get(key).and_then(|x| x.as_u64()).map(|n| n as usize);
        match v.get("type").and_then(|t| t.as_str()) {
            Some("step") => steps.extend(number("step")),
            Some("epoch") => epochs.extend(number("epoch")),
            _ => {}
        }
    }
    (steps, epochs)
}

/// Rows as a reader would count them: "no steps", "steps 1–5 (5 rows)".
fn span(what: &str, rows: &[usize]) -> String {
    match rows {
        [] => format!("no {what}s"),
        [one] => format!("{what} {one}"),
        [first, .., last] => format!(
            "{what}s {first}–{last} ({})",
            crate::words::counted(rows.len(), "row")
        ),
    }
}

impl RunFiles {
    /// New files in `dir`; `probes`: `steps.csv` has the probe columns; `val`: `epochs.csv`
    /// has the validation columns.
    pub fn create(dir: &Path, probes: bool, val: bool) -> Result<RunFiles> {
        let epochs = EpochWriter::create_with(dir.join(EPOCHS_CSV), val).with_context(|| {
            format!(
                "cannot write to the run directory {} (--out)",
                dir.display()
            )
        })?;
        let steps = StepWriter::create(dir.join(STEPS_CSV), probes)?;
        let metrics = MetricsWriter::create(&dir.join(METRICS_JSONL))?;
        Ok(RunFiles::with(dir, epochs, steps, metrics, 1))
    }

    /// The files of a run resumed after `epoch` epochs and `step` steps, whose records are
    /// in `from`, continued in `dir` (the same folder, or another with `--resume A --out
    /// B`): later records go. Every file of `from` is read and checked before anything is
    /// written, then what is kept is written into `dir`, each file replaced atomically: a
    /// resume that fails on a malformed file, or is killed, loses no record; a `from` other
    /// than `dir` is only read.
    pub fn resume(
        from: &Path,
        dir: &Path,
        probes: bool,
        val: bool,
        epoch: usize,
        step: usize,
    ) -> Result<RunFiles> {
        let epochs = EpochWriter::kept(&from.join(EPOCHS_CSV), val, epoch)?;
        let steps = StepWriter::kept(&from.join(STEPS_CSV), probes, step)?;
        let metrics = MetricsWriter::kept(&from.join(METRICS_JSONL), epoch, step)?;
        check_records_agree(
            from,
            epochs.as_deref(),
            steps.as_deref(),
            metrics.as_deref(),
        )?;
        if step > 0 && epochs.is_none() && steps.is_none() && metrics.is_none() {
            // Allowed (a checkpoint alone, moved or sent), but the records lack the start.
            log::warn!(
                "{} holds none of {EPOCHS_CSV}, {STEPS_CSV}, {METRICS_JSONL}: the run's \
                 records start again at the checkpoint, step {}, without the steps before it",
                from.display(),
                step + 1
            );
        }
        let logs = [RULE_CSV, EVALS_CSV]
            .map(|name| kept_step_log(&from.join(name), step + 1).map(|kept| (name, kept)));
        let mut checked = Vec::new();
        for log in logs {
            checked.push(log?);
        }
        let (epochs_csv, steps_csv) = (dir.join(EPOCHS_CSV), dir.join(STEPS_CSV));
        let metrics_jsonl = dir.join(METRICS_JSONL);
        let epochs = EpochWriter::continue_with(&epochs_csv, val, epochs.as_deref())?;
        let steps = StepWriter::continue_with(&steps_csv, probes, steps.as_deref())?;
        let metrics = MetricsWriter::continue_with(&metrics_jsonl, metrics.as_deref())?;
        for (name, kept) in checked {
            if let Some(text) = kept {
                let path = dir.join(name);
                write_atomic(&path, text.as_bytes())
                    .with_context(|| format!("cannot rewrite {}", path.display()))?;
            }
        }
        Ok(RunFiles::with(dir, epochs, steps, metrics, step + 1))
    }

    fn with(
        dir: &Path,
        epochs: EpochWriter,
        steps: StepWriter,
        metrics: MetricsWriter,
        first_step: usize,
    ) -> RunFiles {
        RunFiles {
            dir: dir.to_path_buf(),
            epochs,
            steps,
            metrics,
            rule: None,
            evals: None,
            first_step,
        }
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Forces every record written so far to the disk: called before a checkpoint is
    /// committed, so that a machine that crashes after it cannot come back with a
    /// checkpoint ahead of its records (the page cache, which survives a killed process,
    /// does not survive the machine).
    pub fn sync(&self) -> Result<()> {
        self.epochs.sync()?;
        self.steps.sync()?;
        self.metrics.sync()?;
        for (name, file) in [(RULE_CSV, &self.rule), (EVALS_CSV, &self.evals)] {
            if let Some(f) = file {
                f.sync_data()
                    .with_context(|| format!("cannot sync {}", self.dir.join(name).display()))?;
            }
        }
        Ok(())
    }

    /// Records a step: `steps.csv` and `metrics.jsonl`.
    pub fn step(&mut self, r: &StepRecord) -> Result<()> {
        self.steps.write(r)?;
        self.metrics.step(r)
    }

    /// Records an epoch: `epochs.csv` and `metrics.jsonl`.
    pub fn epoch(&mut self, r: &EpochRecord) -> Result<()> {
        self.epochs.write(r)?;
        self.metrics.epoch(r)
    }

    /// Appends the rule's line to `rule.csv` (`header`: its columns).
    pub fn rule_line(&mut self, header: &str, line: &str) -> Result<()> {
        if self.rule.is_none() {
            let log = open_step_log(&self.dir.join(RULE_CSV), header, self.first_step > 1)?;
            self.rule = Some(log);
        }
        if let Some(f) = &mut self.rule {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }

    /// Appends an evaluation to `evals.csv` (`epoch` 1-based; accuracy for classifiers).
    pub fn eval_line(
        &mut self,
        step: usize,
        epoch: usize,
        test_loss: f64,
        test_acc: Option<f64>,
    ) -> Result<()> {
        if self.evals.is_none() {
            let log = open_step_log(
                &self.dir.join(EVALS_CSV),
                "step,epoch,test_loss,test_acc",
                self.first_step > 1,
            )?;
            self.evals = Some(log);
        }
        let acc = test_acc.map_or(String::new(), |a| a.to_string());
        if let Some(f) = &mut self.evals {
            writeln!(f, "{step},{epoch},{test_loss},{acc}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPOCHS: &str = "epoch,train_loss\n1,0.5\n";
    const STEPS: &str = "step,epoch,loss,lr\n1,1,0.9,0.1\n2,1,0.8,0.1\n";
    const METRICS: &str = "{\"type\":\"step\",\"step\":1}\n{\"type\":\"step\",\"step\":2}\n\
                           {\"type\":\"epoch\",\"epoch\":1}\n";

    fn check(e: Option<&str>, s: Option<&str>, m: Option<&str>) -> Result<(), String> {
        check_records_agree(Path::new("run"), e, s, m).map_err(|e| e.to_string())
    }

    #[test]
    fn records_that_lost_rows_another_kept_are_refused() {
        assert_eq!(check(Some(EPOCHS), Some(STEPS), Some(METRICS)), Ok(()));
        // A bare checkpoint: the records start afresh.
        assert_eq!(check(None, None, None), Ok(()));
        let e = check(None, Some(STEPS), None).unwrap_err();
        assert!(e.contains("epochs.csv and metrics.jsonl missing"), "{e}");
        // steps.csv cut short at the start, or emptied.
        let cut = "step,epoch,loss,lr\n2,1,0.8,0.1\n";
        let e = check(Some(EPOCHS), Some(cut), Some(METRICS)).unwrap_err();
        assert!(
            e.contains(
                "steps.csv has step 2 up to the checkpoint and metrics.jsonl steps 1–2 (2 rows)"
            ),
            "{e}"
        );
        let e = check(Some("epoch,train_loss\n"), Some(STEPS), Some(METRICS)).unwrap_err();
        assert!(e.contains("epochs.csv has no epochs"), "{e}");
        // Rows cut from both alike (a discarded step has no row in either) agree.
        assert_eq!(
            check(
                Some(EPOCHS),
                Some(cut),
                Some(&METRICS.replacen("{\"type\":\"step\",\"step\":1}\n", "", 1))
            ),
            Ok(())
        );
    }
}
