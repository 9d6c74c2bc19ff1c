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

    /// The files of a run resumed after `epoch` epochs and `step` steps: later records go.
    /// Every file is read and checked before any is changed, then each is replaced
    /// atomically: a resume that fails on a malformed file, or is killed, loses no record.
    pub fn resume(
        dir: &Path,
        probes: bool,
        val: bool,
        epoch: usize,
        step: usize,
    ) -> Result<RunFiles> {
        let (epochs_csv, steps_csv) = (dir.join(EPOCHS_CSV), dir.join(STEPS_CSV));
        let epochs = EpochWriter::kept(&epochs_csv, val, epoch)?;
        let steps = StepWriter::kept(&steps_csv, probes, step)?;
        let metrics_jsonl = dir.join(METRICS_JSONL);
        let metrics = MetricsWriter::kept(&metrics_jsonl, epoch, step)?;
        let logs = [RULE_CSV, EVALS_CSV]
            .map(|name| kept_step_log(&dir.join(name), step + 1).map(|kept| (name, kept)));
        let mut checked = Vec::new();
        for log in logs {
            checked.push(log?);
        }
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
