//! Building a [`TrainConfig`] in code: every option starts at the command line's default,
//! and each method sets one. The fields are public too, so struct-update syntax works as
//! well: `TrainConfig { epochs: 3, ..Default::default() }`.

use std::path::PathBuf;

use super::TrainConfig;
use crate::data::DatasetKind;
use crate::models::ModelKind;

impl TrainConfig {
    /// The network to train.
    pub fn model(mut self, model: ModelKind) -> Self {
        self.model = model;
        self
    }

    /// The data set, and where its files are (`None`: found under `ETAPROBE_DATA` or the
    /// usual places, or downloaded with [`TrainConfig::download`]).
    pub fn dataset(mut self, dataset: DatasetKind, path: Option<PathBuf>) -> Self {
        self.data.dataset = dataset;
        self.data.data = path;
        self
    }

    /// Download the data set when it is not found.
    pub fn download(mut self, download: bool) -> Self {
        self.data.download = download;
        self
    }

    /// The learning-rate rule, by its command-line name (`"auto"`, `"newton"`, ...; see
    /// [`crate::schedule::RULES`]).
    pub fn schedule(mut self, rule: &str) -> Self {
        self.schedule = rule.to_string();
        self
    }

    /// η0.
    pub fn lr(mut self, lr: f64) -> Self {
        self.lr = Some(lr);
        self
    }

    /// Passes over the training set (also the horizon of the η decays).
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Samples per training step.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Stop after this many steps in all.
    pub fn max_steps(mut self, steps: usize) -> Self {
        self.max_steps = Some(steps);
        self
    }

    /// Seeds the initial weights, the split, the shuffles and the augmentation.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The run directory (default: a name made of the options under `runs/`).
    pub fn out(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out = Some(dir.into());
        self
    }

    /// Replace the run directory if it already holds a run.
    pub fn overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// Continue the run in this directory (or from this checkpoint file).
    pub fn resume(mut self, from: impl Into<PathBuf>) -> Self {
        self.resume = Some(from.into());
        self
    }

    /// Hold this fraction of the training set out as a validation split, evaluated at
    /// every epoch's end.
    pub fn val_split(mut self, fraction: f64) -> Self {
        self.val_split = Some(fraction);
        self
    }

    /// Say nothing while training.
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }
}
