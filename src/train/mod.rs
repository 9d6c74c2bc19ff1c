//! `etaprobe train`: options (`args`), TOML run configurations (`config`), a
//! [`TrainConfig`] built in code (`builder`), set-up (`setup`), the loop (`run`), one step on
//! the GPU (`step`, shared with `bench`), a rank's step in data-parallel training
//! (`replicas`), the rule's measurements (`measure`), checkpoints and resume (`resume`),
//! writing a checkpoint as one commit (`commit`), a run continued into another folder
//! (`continuation`, `--resume A --out B`), stopping on Ctrl-C or SIGTERM
//! (`interrupt`), and progress on the terminal (`progress`). The run directory's files are
//! written through [`crate::rundir`]; figures are drawn by the caller
//! ([`crate::report::run_figures`]), not by the loop.

#![warn(missing_docs)]

mod args;
mod builder;
mod commit;
mod config;
mod continuation;
mod interrupt;
mod measure;
mod progress;
mod replicas;
mod resume;
mod run;
mod setup;
mod step;

use std::path::{Path, PathBuf};

use anyhow::Result;

/// The option parsers, at the crate's root since every layer's options use them.
pub use crate::values;
pub use args::{lr_from_run, LrFromStat, OnNonFinite, ProbeOn, TrainConfig};
pub use commit::{CHECKPOINT, PREVIOUS};
pub use config::{config_flags, config_text, expand_argv, CONFIG_TOML};
pub use interrupt::{
    install_handler, request_stop, stop_at_steps, stop_requested, Diverged, Interrupted,
    StoppedBeforeStart, EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_REFUSED,
};
pub use measure::Measure;
pub use step::{Readings, StepConfig, Stepper, UpdateSpec};

use run::Trainer;

/// What a finished run reports.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Summary {
    /// The run directory.
    pub out: PathBuf,
    /// Steps taken in all (a resumed run counts its earlier ones).
    pub steps: usize,
    /// Epochs begun, the last possibly cut short by --max-steps.
    pub epochs: usize,
    /// The last epoch's mean training loss over its steps.
    pub final_train_loss: f64,
    /// The last evaluation's mean test loss.
    pub final_test_loss: Option<f64>,
    /// The last evaluation's test accuracy (fraction in [0, 1]; classifiers only).
    pub final_test_acc: Option<f64>,
    /// The best test accuracy of any epoch (reported, never used to choose anything).
    pub best_test_acc: Option<f64>,
    /// The last epoch's validation loss and accuracy, with --val-split.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_val_loss: Option<f64>,
    /// The last epoch's validation accuracy (fraction), with --val-split.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_val_acc: Option<f64>,
    /// η at the end: what a continued run would start with.
    pub lr: f64,
    /// Training seconds in all, earlier sittings of a resumed run included.
    pub seconds: f64,
    /// Training images per second of this process.
    pub images_per_second: f64,
}

/// A run set up and ready to go: its data loaded, its model on the GPU, its directory and
/// `run.json` written. Or a run resumed from the checkpoint at its end, which has nothing
/// left to do and touches nothing.
pub struct Training {
    stage: Stage,
}

enum Stage {
    Ready {
        trainer: Box<Trainer>,
        /// None on the ranks of data-parallel training other than rank 0.
        run_info: Option<crate::rundir::RunInfo>,
    },
    Finished(Summary),
}

impl Training {
    /// Sets up the run `args` describes on the adapter `adapter` (or the preferred one).
    /// Everything that can fail on bad input fails here, before the run directory is touched.
    pub fn prepare(args: &TrainConfig, adapter: Option<&str>) -> Result<Training> {
        Training::prepare_in(args, adapter, None)
    }

    /// [`Training::prepare`] as one rank of data-parallel training in `group` (when given):
    /// each rank trains on its shard of every batch, on the adapter `adapter` or else its
    /// host's adapters in turn; rank 0 alone writes the run directory.
    pub fn prepare_in(
        args: &TrainConfig,
        adapter: Option<&str>,
        group: Option<std::rc::Rc<dyn crate::dist::Collective>>,
    ) -> Result<Training> {
        let stage = match setup::prepare(args, adapter, group)? {
            setup::Prepared::Ready(trainer, run_info) => Stage::Ready { trainer, run_info },
            setup::Prepared::Finished(summary) => Stage::Finished(summary),
        };
        Ok(Training { stage })
    }

    /// The run directory.
    pub fn out(&self) -> &Path {
        match &self.stage {
            Stage::Ready { trainer, .. } => &trainer.out,
            Stage::Finished(summary) => &summary.out,
        }
    }

    /// What the run reported when it finished, if the checkpoint resumed is at its end
    /// (`run` then returns it as it is and writes nothing).
    pub fn already_finished(&self) -> Option<&Summary> {
        match &self.stage {
            Stage::Finished(summary) => Some(summary),
            Stage::Ready { .. } => None,
        }
    }

    /// Trains, then writes the final checkpoint and `run.json`'s totals. A run that fails
    /// keeps what it measured up to the failure (and `run.json` says why it stopped).
    pub fn run(self) -> Result<Summary> {
        let (mut trainer, mut run_info) = match self.stage {
            Stage::Ready { trainer, run_info } => (trainer, run_info),
            Stage::Finished(summary) => return Ok(summary),
        };
        let t = &mut *trainer;
        let out = t.out.clone();
        let json = out.join(crate::rundir::RUN_JSON);
        let stop = match t.run() {
            Ok(stop) => stop,
            Err(e) => {
                t.progress.finish();
                let Some(run_info) = &mut run_info else {
                    return Err(e);
                };
                run_info.totals = serde_json::json!({
                    "stopped": format!("{e:#}"),
                    // Stopped on request, with a checkpoint: to be resumed, not a failure.
                    "interrupted": e.downcast_ref::<Interrupted>().is_some(),
                    "safeguarded_steps": t.schedule.safeguarded(),
                    "skipped_steps": t.tally.discarded.skipped,
                    "undone_steps": t.tally.discarded.undone,
                    "restarts": t.tally.discarded.restarts,
                    "seconds": t.seconds(),
                });
                run_info.finished = Some(crate::rundir::utc_now());
                let _ = run_info.write(&json);
                return Err(e);
            }
        };
        t.progress.finish();
        // Counted before the final checkpoint's download.
        let buffers_at_end = t.stepper.gpu.buffers_created();
        let elapsed = t.seconds();
        // A run stopped by --max-steps inside an epoch resumes inside it.
        let (ckpt_epoch, ckpt_sums) = match stop.inside {
            Some(sums) => (stop.epochs - 1, sums),
            None => (stop.epochs, Default::default()),
        };
        t.save_checkpoint(stop.step, ckpt_epoch, ckpt_sums)?;
        let classify = t.classify();
        let traffic = t.communication();
        let summary = Summary {
            out: out.clone(),
            steps: stop.step,
            epochs: stop.epochs,
            final_train_loss: t.tally.last_train_loss.unwrap_or(f64::NAN),
            final_test_loss: t.tally.last_test.map(|x| x.0),
            final_test_acc: t.tally.last_test.map(|x| x.1).filter(|_| classify),
            best_test_acc: t.tally.best_acc,
            final_val_loss: t.tally.last_val.map(|x| x.0),
            final_val_acc: t.tally.last_val.map(|x| x.1).filter(|_| classify),
            lr: t.schedule.lr(),
            seconds: elapsed,
            images_per_second: t.tally.images as f64 / t.clock.elapsed().as_secs_f64().max(1e-9),
        };
        let Some(run_info) = &mut run_info else {
            return Ok(summary);
        };
        run_info.totals = serde_json::to_value(&summary)?;
        let totals = &mut run_info.totals;
        totals["safeguarded_steps"] = t.schedule.safeguarded().into();
        totals["skipped_steps"] = t.tally.discarded.skipped.into();
        totals["undone_steps"] = t.tally.discarded.undone.into();
        totals["restarts"] = t.tally.discarded.restarts.into();
        // Every batch size, partial batches included, has met its plan in the first epoch;
        // later steps must replay them without creating anything.
        if let Some(n) = t.tally.buffers_after_epoch_1 {
            totals["buffers_created_after_epoch_1"] = (buffers_at_end - n).into();
        }
        totals["readback_bytes_per_step"] = t.stepper.readback_bytes(t.args.batch_size).into();
        totals["gpu_bytes_allocated"] = t.stepper.gpu.bytes_allocated().into();
        if let Some(n) = t.stepper.probes_per_pass() {
            totals["probes_per_pass"] = n.into();
        }
        if let Some(traffic) = traffic {
            totals["communication"] = serde_json::to_value(traffic)?;
        }
        run_info.finished = Some(crate::rundir::utc_now());
        run_info.write(&json)?;
        Ok(summary)
    }
}

/// Trains as `args` says on the adapter `adapter` (or the preferred one); draws no figures
/// (see [`crate::report::run_figures`]).
///
/// ```
/// use etaprobe::data::{synth, DatasetKind};
/// use etaprobe::models::ModelKind;
/// use etaprobe::train::{train, TrainConfig};
///
/// # fn main() -> anyhow::Result<()> {
/// let dir = tempfile::tempdir()?;
/// // A small generated Fashion-MNIST (64 training images); real data: its folder, or
/// // `.download(true)`.
/// let data = synth::write_fake_dataset(DatasetKind::FashionMnist, dir.path(), 64, 16, 1)?;
/// let config = TrainConfig::default()
///     .model(ModelKind::Logreg)
///     .dataset(DatasetKind::FashionMnist, Some(data))
///     .schedule("auto")
///     .lr(0.01)
///     .batch_size(16)
///     .epochs(2)
///     .quiet(true)
///     .out(dir.path().join("run"));
/// let summary = train(&config, None)?;
/// assert_eq!(summary.steps, 8);
/// assert!(summary.final_test_acc.is_some());
/// # Ok(())
/// # }
/// ```
pub fn train(args: &TrainConfig, adapter: Option<&str>) -> Result<Summary> {
    Training::prepare(args, adapter)?.run()
}
