//! `etaprobe train`'s options, their checks, and η0.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::data::DataArgs;
use crate::models::ModelKind;
use crate::optim::{OptimizerKind, OptimizerOptions};
use crate::schedule::{Needs, Rule, RuleOptions, RunShape, Schedule, ScheduleFree, Update};

/// The validation fraction --probe-on val holds out when --val-split is not given.
pub(crate) const DEFAULT_VAL_SPLIT: f64 = 0.1;

pub use crate::values::{MAX_BATCH_SIZE, MAX_EPOCHS};

/// Everything a training run is: `etaprobe train`'s options, and the library's
/// configuration of [`crate::train::train`]. [`Default`] gives the command line's defaults;
/// the builder methods (`.model(..)`, `.epochs(..)`, ...) or the public fields set the rest.
/// It deserializes from a partial map (missing keys keep their defaults), e.g. the `config`
/// object of a run's `run.json`.
#[derive(clap::Args, Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// The network to train.
    #[arg(long, help_heading = "Model", value_enum, default_value_t = ModelKind::Lenet)]
    pub model: ModelKind,
    /// Dropout probability after ResNet stages 2 and 4 (the paper's §4.2.3 variant).
    #[arg(long, help_heading = "Model", default_value_t = 0.0, value_name = "P")]
    pub dropout: f32,
    /// ResNet channel multiplier: 1 is ResNet-18 as published; e.g. 0.25 for CPU-only runs.
    #[arg(long, help_heading = "Model", default_value_t = 1.0, value_name = "F")]
    pub width_mult: f64,
    /// The data set, where it is, and how it is split and fed.
    #[command(flatten, next_help_heading = "Data")]
    pub data: DataArgs,
    /// The learning-rate rule.
    #[arg(long, help_heading = "Learning rate", default_value = "basic", value_parser = crate::schedule::rule_parser())]
    pub schedule: String,
    /// Initial learning rate η0 [default: 0.01, or 0.001 with --optimizer adam, as PyTorch]
    #[arg(value_parser = crate::values::rate, long, help_heading = "Learning rate", value_name = "F")]
    pub lr: Option<f64>,
    /// Every rule's own options (only the chosen rule's are used).
    #[command(flatten, next_help_heading = "Rule options")]
    #[serde(flatten)]
    pub rule: RuleOptions,
    /// Samples per training step (the last batch of an epoch may be smaller; see
    /// --drop-last).
    #[arg(value_parser = crate::values::batch_size, long, help_heading = "Run", default_value_t = 32, value_name = "N")]
    pub batch_size: usize,
    /// Passes over the training set; also the horizon of the η decays.
    #[arg(value_parser = crate::values::epochs, long, help_heading = "Run", default_value_t = 10, value_name = "N")]
    pub epochs: usize,
    /// Stop after this many steps in all (the current epoch is still evaluated).
    #[arg(value_parser = crate::values::at_least_one, long, help_heading = "Run", value_name = "N")]
    pub max_steps: Option<usize>,
    /// Seeds the initial weights, the split, the shuffles and the augmentation.
    #[arg(long, help_heading = "Run", default_value_t = 0, value_name = "N")]
    pub seed: u64,
    /// Run directory [default: runs/MODEL-DATASET-SCHEDULE-lrLR-seedSEED, then every other
    /// option that shapes the run and differs from its default, e.g. -batch-size64]
    #[arg(value_parser = crate::values::Utf8Path, long, help_heading = "Output", value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also write a checkpoint every N steps (one is always written at every epoch's end,
    /// at the run's end and when Ctrl-C stops it).
    #[arg(value_parser = crate::values::at_least_one, long, help_heading = "Output", value_name = "N")]
    pub checkpoint_every: Option<usize>,
    /// Continue a run: its directory (its config.toml gives the options; any given here
    /// override them), or a checkpoint file of a run with the same options.
    #[arg(value_parser = crate::values::Utf8Path, long, help_heading = "Output", value_name = "RUN_DIR|FILE")]
    pub resume: Option<PathBuf>,
    /// Read the options from a TOML file (keys are the long option names, e.g.
    /// `batch-size = 64`; options given here override it). Every run directory has the
    /// config.toml that reproduces its run.
    #[arg(value_parser = crate::values::Utf8Path, long, help_heading = "Run", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Replace the run in --out if it holds one (its records, checkpoints and figures are
    /// removed; other files there are left alone); without it, an existing run is never
    /// overwritten.
    #[arg(long, help_heading = "Output")]
    pub overwrite: bool,
    /// Say nothing while training but warnings and the final summary.
    #[arg(short, long, help_heading = "Output", conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also print a line for every step.
    #[arg(short, long, help_heading = "Output")]
    pub verbose: bool,
    /// Evaluate only N test samples, evenly spaced over the test set (quick runs; the records
    /// then say less about the test set than a full evaluation).
    #[arg(value_parser = crate::values::at_least_one, long, help_heading = "Output", value_name = "N")]
    pub eval_subset: Option<usize>,
    /// The format of the run's figures.
    #[arg(long, help_heading = "Output", value_enum, default_value_t = crate::report::FigureFormat::Png, value_name = "FORMAT")]
    pub figure_format: crate::report::FigureFormat,
    /// Also evaluate the test set every N steps (written to evals.csv).
    #[arg(value_parser = crate::values::at_least_one, long, help_heading = "Output", value_name = "N")]
    pub eval_every: Option<usize>,
    /// Opt-in safeguard: never let η fall below this (off by default, as in the paper).
    #[arg(value_parser = crate::values::rate, long, help_heading = "Learning rate", value_name = "F")]
    pub lr_min: Option<f64>,
    /// Opt-in safeguard: never let η rise above this.
    #[arg(value_parser = crate::values::positive_rate, long, help_heading = "Learning rate", value_name = "F")]
    pub lr_max: Option<f64>,
    /// The optimizer η scales (SGD, momentum, Adam) and its options.
    #[command(flatten, next_help_heading = "Optimizer")]
    #[serde(flatten)]
    pub optim: OptimizerOptions,
    /// Evaluate the loss probes (newton, gen) on the step's training batch, on a held-out
    /// validation batch, or on another training batch; the weights' gradient always comes
    /// from the step's batch.
    #[arg(long, help_heading = "Learning rate", value_enum, default_value_t = ProbeOn::Train, value_name = "WHERE")]
    pub probe_on: ProbeOn,
    /// Hold out this fraction of the training set (seeded) as a validation split, evaluated
    /// at every epoch's end (epochs.csv's val_loss and val_acc): what a choice of η or of a
    /// constant is made on, never the test set. --probe-on val probes on it (0.1 by default
    /// there, without the per-epoch evaluation unless given).
    #[arg(value_parser = crate::values::open_fraction, long, help_heading = "Run", value_name = "F")]
    pub val_split: Option<f64>,
    /// Warm start (paper §5.1): begin at the η another run ended with, instead of --lr.
    #[arg(value_parser = crate::values::Utf8Path, long, help_heading = "Learning rate", value_name = "RUN_DIR")]
    pub lr_from: Option<PathBuf>,
    /// Which η of --lr-from's run: the last one, or the median over its last epoch.
    #[arg(long, help_heading = "Learning rate", value_enum, default_value_t = LrFromStat::Last, value_name = "STAT", requires = "lr_from")]
    pub lr_from_stat: LrFromStat,
    /// A non-finite loss, probe or η: stop the run (exit status 1), or skip the step and
    /// halve η.
    #[arg(long, help_heading = "Learning rate", value_enum, default_value_t = OnNonFinite::Stop, value_name = "ACTION")]
    pub on_nonfinite: OnNonFinite,
    /// Rules that evaluate at other weights than they train at (schedule-free's average):
    /// training-mode passes over this many batches first recompute the batch-norm
    /// statistics there, as the schedule-free authors do.
    #[arg(long, help_heading = "Run", default_value_t = 50, value_name = "N")]
    pub bn_recompute_batches: usize,
    /// Evaluate at the polynomial-decay average of the iterates (Shamir & Zhang 2013), as
    /// DoG's authors do with γ = 8: after the t-th update, x̄ += (1 + γ)/(t + γ)·(w − x̄),
    /// the batch-norm statistics averaged alike; training itself never reads x̄ (kept in
    /// the checkpoint's state file as `average.weights`, `average.buffers`).
    #[arg(value_parser = crate::values::f32_factor, long, help_heading = "Run", value_name = "GAMMA")]
    pub average_gamma: Option<f64>,
    /// Data-parallel training over MPI: start one process per rank with `mpirun -np N`
    /// (or `srun --mpi=pmix`); each trains on its shard of every batch (needs a build with
    /// `--features mpi`; see docs/distributed.md).
    #[arg(long, help_heading = "Distributed")]
    #[serde(skip)]
    pub distributed: bool,
    /// --distributed: seconds a rank waits for the others in an exchange before it stops
    /// the whole job [default: 120]; at the end of set-up (loading the data, opening the
    /// adapter) the ranks wait 30 minutes, or this when longer.
    #[arg(long, help_heading = "Distributed", value_name = "S")]
    #[serde(skip)]
    pub collective_timeout: Option<f64>,
}

impl TrainConfig {
    /// What --distributed refuses before the job is joined: --download, which every rank
    /// would run at once (each fetching, unpacking and removing the same files in the
    /// shared cache).
    pub fn check_distributed(&self) -> Result<()> {
        if self.data.download {
            bail!(
                "--download cannot be combined with --distributed: every rank would download \
                 and unpack the same files at once; download in a one-process run first \
                 (e.g. etaprobe train --dataset {} --download --max-steps 1), then start the \
                 job without --download",
                self.data.dataset.cli_name()
            );
        }
        Ok(())
    }

    /// --collective-timeout as a duration: positive, and at most what a [`Duration`] holds
    /// (about 1.8e19 s), 120 s when not given.
    ///
    /// [`Duration`]: std::time::Duration
    pub fn collective_timeout(&self) -> Result<std::time::Duration> {
        match self.collective_timeout {
            None => Ok(crate::dist::DEFAULT_TIMEOUT),
            Some(s) => match std::time::Duration::try_from_secs_f64(s) {
                Ok(d) if s > 0.0 => Ok(d),
                _ => bail!(
                    "--collective-timeout must be a positive number of seconds, at most about \
                     1.8e19, not {s}"
                ),
            },
        }
    }
}

/// Which batch the five probes evaluate (paper §5.3).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeOn {
    /// The step's own training batch (the paper's method).
    Train,
    /// A batch of a validation split held out of the training set.
    Val,
    /// Another batch of the training set, drawn for the probes alone (seeded by the run's
    /// seed and the step, so a resumed run draws the same): GeN's own choice, a loss
    /// landscape the step's gradient was not taken on, without holding data out.
    Fresh,
}

impl ProbeOn {
    /// The name `--probe-on` takes.
    pub fn cli_name(self) -> &'static str {
        match self {
            ProbeOn::Train => "train",
            ProbeOn::Val => "val",
            ProbeOn::Fresh => "fresh",
        }
    }
}

/// How `--lr-from` reads the earlier run's η.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum LrFromStat {
    /// η(t+1) after the run's last step.
    Last,
    /// The median of the η the last epoch's steps used.
    Median,
}

/// What to do when a loss, a probe or η is not finite.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum OnNonFinite {
    /// Stop with a message naming the step (the paper's rule, unguarded).
    Stop,
    /// Discard the step (restore the weights it changed) and halve η.
    Skip,
}

impl TrainConfig {
    pub(crate) fn validate(&self) -> Result<()> {
        if self.batch_size == 0 || self.batch_size > MAX_BATCH_SIZE {
            bail!(
                "--batch-size must be at least 1 and at most {MAX_BATCH_SIZE}, got {}",
                self.batch_size
            );
        }
        if self.epochs == 0 {
            bail!("--epochs must be at least 1");
        }
        if self.epochs > MAX_EPOCHS {
            bail!(
                "--epochs {} is more than {MAX_EPOCHS}; to stop after a number of steps \
                 instead, give --max-steps",
                self.epochs
            );
        }
        if self.max_steps == Some(0) {
            bail!("--max-steps must be at least 1");
        }
        if self.checkpoint_every == Some(0) || self.eval_every == Some(0) {
            bail!("--checkpoint-every and --eval-every must be at least 1");
        }
        if self.eval_subset == Some(0) {
            bail!("--eval-subset must be at least 1");
        }
        if !self.lr0().is_finite() || self.lr0() < 0.0 {
            bail!(
                "--lr must be a finite non-negative number, got {}",
                self.lr0()
            );
        }
        self.rule.check().map_err(anyhow::Error::msg)?;
        self.optim.check()?;
        let model = crate::models::ModelOptions {
            dropout: self.dropout,
            width_mult: self.width_mult,
        };
        model.check(self.model)?;
        if let Some(f) = self.val_split.filter(|f| !(*f > 0.0 && *f < 1.0)) {
            bail!("--val-split {f} must lie strictly between 0 and 1");
        }
        let floor = self.rule.basic.lr_floor;
        if self.schedule == "basic" && self.lr_from.is_none() && floor > self.lr0() {
            bail!(
                "--lr-floor {floor} is above η0 {}: the decay would raise η to it",
                self.lr0()
            );
        }
        if let (Some(lo), Some(hi)) = (self.lr_min, self.lr_max) {
            if lo > hi {
                bail!("--lr-min {lo} is above --lr-max {hi}");
            }
        }
        if self.lr_min.is_some_and(|v| !(v >= 0.0 && v.is_finite())) {
            bail!("--lr-min must be a finite non-negative number");
        }
        if self.lr_max.is_some_and(|v| !(v > 0.0 && v.is_finite())) {
            bail!("--lr-max must be a finite positive number");
        }
        for (flag, v) in [
            ("--lr", Some(self.lr0())),
            ("--lr-min", self.lr_min),
            ("--lr-max", self.lr_max),
        ] {
            if let Some(v) = v.filter(|v| !crate::values::fits_f32(*v)) {
                bail!(
                    "{flag} {v:e} is too large for an f32 (at most {:e}): η reaches the GPU \
                     as an f32",
                    f32::MAX
                );
            }
            if let Some(v) = v.filter(|v| *v != 0.0 && v.abs() < f32::MIN_POSITIVE as f64) {
                bail!(
                    "{flag} {v:e} is below {:e}, the smallest normal f32: the GPU would use 0",
                    f32::MIN_POSITIVE
                );
            }
        }
        if let (Some(lo), Some(lr), None) = (self.lr_min, self.lr, &self.lr_from) {
            if lo > lr {
                bail!(
                    "--lr-min {lo} is above η0 (--lr {lr}): the run would start at the floor, \
                     not at η0; lower --lr-min or raise --lr"
                );
            }
        }
        if self.lr == Some(0.0) && !crate::schedule::ignores_lr0(&self.schedule) {
            log::warn!(
                "--lr 0: the weights do not move until the rule raises η, and a rule that \
                 scales η (--schedule {}) cannot raise it from 0",
                self.schedule
            );
        }
        if self.schedule == "basic" && self.rule.basic.warmup_epochs >= self.epochs {
            log::warn!(
                "--warmup-epochs {} lasts the whole run (--epochs {}): η never reaches η0",
                self.rule.basic.warmup_epochs,
                self.epochs
            );
        }
        if self.schedule == "basic" {
            // Not an error: a run may be resumed later with more --epochs.
            let late: Vec<String> = (self.rule.basic.lr_milestones.iter())
                .filter(|&&m| m >= self.epochs)
                .map(|m| m.to_string())
                .collect();
            if !late.is_empty() {
                log::warn!(
                    "--lr-milestones {} at or past the run's end (--epochs {}): η does not \
                     decay there unless the run is resumed with more epochs",
                    late.join(","),
                    self.epochs
                );
            }
        }
        Ok(())
    }

    /// Every check that needs neither data nor a device: the values, then what the rule
    /// asks of the optimizer and of --probe-on. `etaprobe sweep` runs it on every cell
    /// before any of them trains.
    pub(crate) fn check(&self) -> Result<Needs> {
        self.validate()?;
        // What the rule measures does not depend on the run's length or on η0.
        let needs = self.build_schedule(1)?.needs();
        let g = needs.gradient;
        // A rule with its own update, or one that reads ‖g‖, the distance or the loss
        // before its update, is defined over the plain SGD gradient (Needs' docs).
        let needs_plain_sgd = needs.update != Update::Direction || g.norm || g.distance || g.loss;
        if needs_plain_sgd && self.optim.optimizer != OptimizerKind::Sgd {
            bail!(
                "--schedule {} is defined over the plain SGD gradient (its own update or its \
                 ‖g‖); drop --optimizer {} (weight decay still applies)",
                self.schedule,
                self.optim.optimizer.cli_name()
            );
        }
        if self.average_gamma.is_some() && needs.update.evaluates_elsewhere() {
            bail!(
                "--average-gamma cannot be combined with --schedule {}: it evaluates at an \
                 average of its own",
                self.schedule
            );
        }
        if self.probe_on != ProbeOn::Train && !needs.probe {
            bail!(
                "--probe-on {} needs a schedule that probes: --schedule {}",
                self.probe_on.cli_name(),
                probing_rules().join(" or ")
            );
        }
        Ok(needs)
    }

    /// Options that this run's optimizer, rule or --resume makes no use of, one line each
    /// saying why: given by mistake, they would otherwise pass silently.
    pub fn ignored_options(&self) -> Vec<String> {
        let mut ignored = Vec::new();
        // "--a is ignored: it applies to …" or "--a, --b are ignored: they apply to …".
        let line = |flags: &[String], one: &str, many: &str, rest: String| {
            let (verb, subject) = match flags.len() {
                1 => ("is", one),
                _ => ("are", many),
            };
            format!("{} {verb} ignored: {subject} {rest}", flags.join(", "))
        };
        for (optimizer, flags) in self.optim.set_for_other_optimizers() {
            let rest = format!(
                "--optimizer {optimizer}, not {}",
                self.optim.optimizer.cli_name()
            );
            ignored.push(line(&flags, "it applies to", "they apply to", rest));
        }
        for (rule, flags) in self.rule.set_for_other_rules(&self.schedule) {
            let rest = format!(
                "of --schedule {rule}, and this run's rule is {}",
                self.schedule
            );
            ignored.push(line(&flags, "an option", "options", rest));
        }
        if let (Some(dir), Some(_)) = (&self.lr_from, &self.resume) {
            ignored.push(format!(
                "--lr-from {} is ignored: --resume continues at the checkpoint's η",
                dir.display()
            ));
        }
        if let (Some(lr), Some(dir), None) = (self.lr, &self.lr_from, &self.resume) {
            ignored.push(format!(
                "--lr {lr} is ignored: --lr-from {} sets η0",
                dir.display()
            ));
        }
        if self.collective_timeout.is_some() && !self.distributed {
            ignored.push("--collective-timeout is ignored: it applies to --distributed".into());
        }
        if let (Some(lr), None) = (self.lr, &self.lr_from) {
            if crate::schedule::ignores_lr0(&self.schedule) {
                ignored.push(format!(
                    "--lr {lr} is ignored: --schedule {} sets η from its own measurements \
                     before the first update (its options scale it)",
                    self.schedule
                ));
            }
        }
        let boston_only: Vec<String> = [
            ("--test-fraction", self.data.test_fraction != 0.2),
            ("--split-seed", self.data.split_seed.is_some()),
        ]
        .iter()
        .filter(|(_, set)| *set && self.data.dataset != crate::data::DatasetKind::Boston)
        .map(|(flag, _)| flag.to_string())
        .collect();
        if !boston_only.is_empty() {
            let rest = "--dataset boston (the other data sets come split)".to_string();
            ignored.push(line(&boston_only, "it applies to", "they apply to", rest));
        }
        // By the rule's name: these options are not checked yet, and a rule is built from
        // checked ones only (an impossible value of its own may not build).
        let recomputes =
            self.schedule == <ScheduleFree as Rule>::NAME && self.model == ModelKind::Resnet18;
        if self.bn_recompute_batches != 50 && !recomputes {
            ignored.push(
                "--bn-recompute-batches is ignored: it applies to --schedule schedule-free on a \
                 model with batch norm (resnet18)"
                    .into(),
            );
        }
        let basic = &self.rule.basic;
        if self.schedule == "basic" && basic.lr_gamma != 0.1 && basic.lr_milestones.is_empty() {
            ignored.push(
                "--lr-gamma is ignored: it is the factor of the step decay at --lr-milestones"
                    .into(),
            );
        }
        ignored
    }

    /// The fraction held out of the training set, if any: --val-split, or 0.1 for
    /// --probe-on val.
    pub(crate) fn val_fraction(&self) -> Option<f64> {
        match (self.val_split, self.probe_on) {
            (Some(f), _) => Some(f),
            (None, ProbeOn::Val) => Some(DEFAULT_VAL_SPLIT),
            (None, ProbeOn::Train | ProbeOn::Fresh) => None,
        }
    }

    /// η0: --lr, else PyTorch's default for the optimizer.
    pub fn lr0(&self) -> f64 {
        self.lr.unwrap_or(self.optim.default_lr())
    }

    /// The run directory when --out is not given: `runs/MODEL-DATASET-RULE-lrη0-seedS`, then
    /// every other option that shapes the run and differs from its default (`-batch-size64`),
    /// or, when those would make the name too long, a hash of them: runs of different
    /// configurations never share a directory.
    pub(crate) fn default_out(&self) -> PathBuf {
        let base = format!(
            "{}-{}-{}-lr{}-seed{}",
            self.model.cli_name(),
            self.data.dataset.cli_name(),
            self.schedule,
            self.lr0(),
            self.seed
        );
        let differing = self.differing_options();
        let suffix: String = differing
            .iter()
            .map(|(key, value)| format!("-{key}{value}"))
            .collect();
        let name = if base.len() + suffix.len() <= 150 {
            base + &suffix
        } else {
            use md5::Digest;
            let digest = md5::Md5::digest(suffix.as_bytes());
            let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
            format!("{base}-h{hex}")
        };
        PathBuf::from("runs").join(name)
    }

    /// The options (long name, value as a file name takes it) that shape the run, are not
    /// in the run name's base and differ from their defaults.
    fn differing_options(&self) -> Vec<(String, String)> {
        const IN_BASE_OR_NOT_SHAPING: &[&str] = &[
            "model",
            "dataset",
            "schedule",
            "lr",
            "seed",
            "out",
            "resume",
            "overwrite",
            "config",
            "data",
            "download",
            "cache_dir",
            "download_base",
            "checkpoint_every",
            "eval_every",
            "lr_from",
            "lr_from_stat",
            "quiet",
            "verbose",
            "figure_format",
        ];
        let flat = |args: &TrainConfig| {
            let mut map = serde_json::Map::new();
            if let Ok(serde_json::Value::Object(all)) = serde_json::to_value(args) {
                for (key, value) in all {
                    match value {
                        serde_json::Value::Object(group) if key == "data" => map.extend(group),
                        value => {
                            map.insert(key, value);
                        }
                    }
                }
            }
            map
        };
        let defaults = flat(&TrainConfig::default());
        // Another rule's or optimizer's options, which this run ignores (with a warning).
        let ignored: Vec<String> = (self.rule.set_for_other_rules(&self.schedule).into_iter())
            .chain(self.optim.set_for_other_optimizers())
            .flat_map(|(_, flags)| flags)
            .collect();
        flat(self)
            .into_iter()
            .filter(|(key, value)| {
                !IN_BASE_OR_NOT_SHAPING.contains(&key.as_str())
                    && defaults.get(key) != Some(value)
                    && !ignored.contains(&format!("--{}", key.replace('_', "-")))
            })
            .map(|(key, value)| {
                let text = match value {
                    serde_json::Value::Bool(true) => String::new(),
                    value => super::resume::option_text(&value),
                };
                let safe: String = text
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || ".-+".contains(c) {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                (key.replace('_', "-"), safe)
            })
            .collect()
    }

    /// The chosen rule for a run of `steps_per_epoch` steps an epoch, starting at η0.
    pub(crate) fn build_schedule(&self, steps_per_epoch: usize) -> Result<Box<dyn Schedule>> {
        let run = RunShape {
            lr0: self.lr0(),
            steps_per_epoch,
            planned_steps: steps_per_epoch.saturating_mul(self.epochs),
        };
        self.rule
            .build(&self.schedule, &run)
            .with_context(|| format!("no schedule called '{}'", self.schedule))
    }
}

/// The registered rules that evaluate the five line probes, by name.
fn probing_rules() -> Vec<&'static str> {
    let options = crate::schedule::RuleOptions::default();
    let run = RunShape {
        lr0: 0.1,
        steps_per_epoch: 1,
        planned_steps: 1,
    };
    (crate::schedule::RULES.iter())
        .filter(|(name, _)| options.build(name, &run).is_some_and(|r| r.needs().probe))
        .map(|(name, _)| *name)
        .collect()
}

/// η from an earlier run directory: its last step's η(t+1) as recorded at the end of its
/// last epoch, or the median of the η its last epoch's steps used.
pub fn lr_from_run(dir: &Path, stat: LrFromStat) -> Result<f64> {
    let epochs = crate::rundir::read_epochs(dir.join("epochs.csv"))
        .with_context(|| format!("--lr-from {} is not a run directory", dir.display()))?;
    let last = epochs.last().with_context(|| {
        format!(
            "--lr-from {}: its epochs.csv has no epoch yet",
            dir.display()
        )
    })?;
    let lr = match stat {
        LrFromStat::Last => last.lr,
        LrFromStat::Median => {
            let steps = crate::rundir::read_steps(dir.join("steps.csv"))?;
            let lrs: Vec<f64> = steps
                .iter()
                .filter(|s| s.epoch == last.epoch)
                .map(|s| s.lr)
                .collect();
            let Some(median) = crate::compare::stats::median(&lrs) else {
                bail!(
                    "--lr-from {}: no steps recorded for epoch {}",
                    dir.display(),
                    last.epoch
                );
            };
            median
        }
    };
    if !lr.is_finite() || lr < 0.0 {
        bail!("--lr-from {}: its η is {lr}", dir.display());
    }
    if !crate::values::fits_f32(lr) {
        bail!(
            "--lr-from {}: its η {lr:e} is too large for an f32 (at most {:e}), as η is on \
             the GPU",
            dir.display(),
            f32::MAX
        );
    }
    Ok(lr)
}

crate::default_from_command_line!(TrainConfig);
