//! A run directory's records, and the curves the figures draw from them.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use super::labels::{run_label, task_of};
use crate::rundir::{
    read_epochs, read_steps, record_exists, EpochRecord, RunInfo, StepRecord, EPOCHS_CSV, RUN_JSON,
    STEPS_CSV,
};

/// Runs shorter than this many steps are drawn unsmoothed.
const MIN_STEPS_TO_SMOOTH: usize = 10;
/// The smoothing window is about this fraction of a run's steps.
pub(super) const SMOOTHING_FRACTION: f64 = 1.0 / 40.0;

/// A run directory's data.
pub(super) struct Run {
    /// Position among the runs compared (its colour).
    pub index: usize,
    pub dir: PathBuf,
    /// The rule and η0 (see [`run_label`]), made unique among compared runs.
    pub label: String,
    /// "model on data set", when `run.json` says.
    pub task: Option<String>,
    /// `run.json`'s `config`, or null without one.
    pub config: serde_json::Value,
    pub epochs: Vec<EpochRecord>,
    /// `None` when the run has no `steps.csv`.
    pub steps: Option<Vec<StepRecord>>,
}

impl Run {
    pub fn load(dir: &Path, index: usize) -> Result<Self> {
        if !dir.exists() {
            bail!("run directory {} does not exist", dir.display());
        }
        if !dir.is_dir() {
            bail!(
                "{} is not a directory (expected a run directory)",
                dir.display()
            );
        }
        // Kept records (docs/runs/) hold FILE.gz in FILE's place: the readers take either.
        let epochs_path = dir.join(EPOCHS_CSV);
        if !record_exists(&epochs_path) {
            bail!(
                "{} is not a run directory: it has no {EPOCHS_CSV}",
                dir.display()
            );
        }
        let epochs = read_epochs(&epochs_path)?;
        let steps_path = dir.join(STEPS_CSV);
        let steps = if record_exists(&steps_path) {
            Some(read_steps(&steps_path)?)
        } else {
            None
        };
        // A run.json that is missing or unreadable only costs the labels their detail.
        let config = RunInfo::read(dir.join(RUN_JSON))
            .map(|info| info.config)
            .unwrap_or_default();
        Ok(Self {
            index,
            dir: dir.to_path_buf(),
            label: run_label(dir),
            task: task_of(&config),
            config,
            epochs,
            steps,
        })
    }

    /// The run's steps, `None` when there are none to draw.
    pub fn step_records(&self) -> Option<&[StepRecord]> {
        self.steps.as_deref().filter(|s| !s.is_empty())
    }

    /// "logreg on fashion-mnist · newton, η0=0.01": what a single run's titles name.
    pub fn description(&self) -> String {
        match &self.task {
            Some(task) => format!("{task} · {}", self.label),
            None => self.label.clone(),
        }
    }

    pub fn has_accuracy(&self) -> bool {
        self.epochs
            .iter()
            .any(|r| r.train_acc.is_some() || r.test_acc.is_some())
    }

    /// Accuracy in percent against epochs.
    pub fn accuracy_points(&self, pick: fn(&EpochRecord) -> Option<f64>) -> Vec<(f64, f64)> {
        self.accuracy_against(pick, |r| r.epoch as f64)
    }

    /// Accuracy in percent against `x`. Fractions are the contract; a run that already
    /// wrote percents (any value above 1) is drawn as it is rather than at 100×.
    pub fn accuracy_against(
        &self,
        pick: fn(&EpochRecord) -> Option<f64>,
        x: fn(&EpochRecord) -> f64,
    ) -> Vec<(f64, f64)> {
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
            .filter_map(|r| pick(r).map(|a| (x(r), a * scale)))
            .collect()
    }

    pub fn epoch_points(&self, pick: fn(&EpochRecord) -> Option<f64>) -> Vec<(f64, f64)> {
        self.epochs
            .iter()
            .filter_map(|r| pick(r).map(|v| (r.epoch as f64, v)))
            .collect()
    }

    /// `pick` against the seconds at the end of each epoch.
    pub fn seconds_points(&self, pick: fn(&EpochRecord) -> Option<f64>) -> Vec<(f64, f64)> {
        self.epochs
            .iter()
            .filter_map(|r| pick(r).map(|v| (r.seconds, v)))
            .collect()
    }

    /// The loss of each step against its step number.
    pub fn step_losses(&self) -> Vec<(f64, f64)> {
        self.step_records()
            .unwrap_or_default()
            .iter()
            .map(|s| (s.step as f64, s.loss))
            .collect()
    }

    /// x halfway between the last step of an epoch and the first of the next, for every
    /// epoch followed by another in `steps.csv`.
    pub fn epoch_boundaries(&self) -> Vec<f64> {
        self.step_records()
            .unwrap_or_default()
            .windows(2)
            .filter(|w| w[0].epoch != w[1].epoch)
            .map(|w| (w[0].step + w[1].step) as f64 / 2.0)
            .collect()
    }

    /// The time of each step, interpolated: the steps of an epoch spread evenly over the
    /// time from the end of the previous epoch (0 for the first) to the end of their own
    /// (its `seconds` in `epochs.csv`). Steps of an epoch not in `epochs.csv` (an
    /// interrupted run's last one) have no end to interpolate to and get NaN.
    pub fn step_seconds(&self) -> Vec<f64> {
        let steps = self.step_records().unwrap_or_default();
        let end_of = |epoch: usize| {
            self.epochs
                .iter()
                .find(|r| r.epoch == epoch)
                .map(|r| r.seconds)
        };
        let mut times = Vec::with_capacity(steps.len());
        for group in steps.chunk_by(|a, b| a.epoch == b.epoch) {
            let epoch = group[0].epoch;
            let start = if epoch <= 1 {
                Some(0.0)
            } else {
                end_of(epoch - 1)
            };
            match (start, end_of(epoch)) {
                (Some(start), Some(end)) => {
                    let n = group.len() as f64;
                    times.extend((1..=group.len()).map(|i| start + (end - start) * i as f64 / n))
                }
                _ => times.extend(std::iter::repeat_n(f64::NAN, group.len())),
            }
        }
        times
    }
}

/// The width of the centred moving average for a run of `steps` steps: about 1/40 of
/// the run, odd so that it centres on a step; 1 (no smoothing) for very short runs.
pub(super) fn smoothing_window(steps: usize) -> usize {
    if steps < MIN_STEPS_TO_SMOOTH {
        return 1;
    }
    let w = ((steps as f64 * SMOOTHING_FRACTION).round() as usize).max(3);
    w | 1
}

/// Centred moving average of `values` over `window` (odd) values, shortened at both
/// ends. Non-finite values are left out of the means, but stay non-finite themselves so
/// that a diverged step still shows as a gap.
pub(super) fn centred_mean(values: &[f64], window: usize) -> Vec<f64> {
    let half = window / 2;
    // Prefix sums of the finite values and of their count.
    let mut sum = vec![0.0; values.len() + 1];
    let mut count = vec![0usize; values.len() + 1];
    for (i, &v) in values.iter().enumerate() {
        let finite = v.is_finite();
        sum[i + 1] = sum[i] + if finite { v } else { 0.0 };
        count[i + 1] = count[i] + usize::from(finite);
    }
    (0..values.len())
        .map(|i| {
            if !values[i].is_finite() {
                return values[i];
            }
            let (lo, hi) = (i.saturating_sub(half), (i + half + 1).min(values.len()));
            (sum[hi] - sum[lo]) / (count[hi] - count[lo]) as f64
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{centred_mean, smoothing_window};

    #[test]
    fn window_is_odd_and_about_a_fortieth() {
        assert_eq!(smoothing_window(5), 1);
        assert_eq!(smoothing_window(180), 5);
        assert_eq!(smoothing_window(300), 9);
        assert_eq!(smoothing_window(1500), 39);
    }

    #[test]
    fn centred_mean_shortens_at_the_ends_and_keeps_gaps() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(centred_mean(&v, 3), vec![1.5, 2.0, 3.0, 4.0, 4.5]);
        let v = [1.0, f64::NAN, 3.0, 5.0];
        let m = centred_mean(&v, 3);
        assert_eq!(m[0], 1.0);
        assert!(m[1].is_nan());
        assert_eq!(m[2], 4.0);
        assert_eq!(m[3], 4.0);
    }
}
