//! Setting a run up: everything that can fail on bad input happens before the run
//! directory is touched; then the directory, its files and `run.json`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use super::args::{lr_from_run, OnNonFinite, ProbeOn, TrainArgs};
use super::progress::Progress;
use super::resume::{self, Start};
use super::run::{Tally, Trainer};
use super::step::{StepConfig, Stepper};
use crate::gpu::{Gpu, Params};
use crate::models::{ModelOptions, Net};
use crate::rundir::{checkpoint, RunFiles, RunInfo};

/// Loads the data, builds the model on the adapter `adapter` (or the preferred one),
/// restores a checkpoint when resuming, and creates the run directory and `run.json`.
pub(super) fn prepare(args: &TrainArgs, adapter: Option<&str>) -> Result<(Trainer, RunInfo)> {
    let needs = args.check()?;
    // The configuration as run: η0 resolved (run.json and `plot` read it).
    let mut args = args.clone();
    args.lr = Some(match &args.lr_from {
        Some(dir) => {
            let lr = lr_from_run(dir, args.lr_from_stat)?;
            eprintln!("starting at η = {lr} from {}", dir.display());
            lr
        }
        None => args.lr0(),
    });
    let data = args.data.load(args.seed)?;
    let probe_val = args.probe_on == ProbeOn::Val;
    // The validation split: carved for --probe-on val, and evaluated at every epoch's end
    // when --val-split was given.
    let (data, val) = match args.val_fraction() {
        Some(fraction) => {
            let (train, val) = data.carve_validation(fraction, args.seed)?;
            if probe_val && val.train.len() < args.batch_size {
                bail!(
                    "--val-split {fraction} holds {} samples, fewer than one batch of {}",
                    val.train.len(),
                    args.batch_size
                );
            }
            (train, Some(val))
        }
        None => (data, None),
    };
    let per_epoch = data.batches_per_epoch(args.batch_size, args.data.drop_last);
    let mut schedule = args.schedule(per_epoch)?;
    let options = ModelOptions {
        dropout: args.dropout,
        width_mult: args.width_mult,
    };
    let net = Net::build_with(args.model, data.input_shape, data.num_classes, options)
        .with_context(|| {
            format!(
                "--model {} does not fit --dataset {}",
                args.model.cli_name(),
                args.data.dataset.cli_name()
            )
        })?;
    let checkpoint = match &args.resume {
        Some(path) => {
            let ckpt = checkpoint::load(path)?;
            resume::check_same_options(&ckpt, &args)?;
            Some(ckpt)
        }
        None => None,
    };
    let gpu = Gpu::open(adapter)?;
    eprintln!("using adapter {}: {}", gpu.index, gpu.describe());
    let params = Params::with_buffers(&gpu, net.layout.clone(), net.buffers.clone())?;
    let start = match &checkpoint {
        Some(ckpt) => resume::restore(&net, &params, &gpu, ckpt, schedule.as_mut())?,
        None => {
            params.upload_all(&gpu, &net.init(args.seed));
            params.upload_buffers(&gpu, &net.init_buffers());
            Start::fresh()
        }
    };
    let config = StepConfig {
        optimizer: &args.optim,
        needs,
        batch_size: args.batch_size,
        own_probe_batch: probe_val,
        backups: args.on_nonfinite == OnNonFinite::Skip,
    };
    let mut stepper = Stepper::new(Arc::new(gpu), net, params, config)?;

    let out = match (&args.out, &args.resume) {
        (Some(out), _) => out.clone(),
        (None, Some(ckpt)) => ckpt.parent().map(Path::to_path_buf).unwrap_or_default(),
        (None, None) => args.default_out(),
    };
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create the run directory {} (--out)", out.display()))?;
    let val_columns = args.val_split.is_some();
    let files = if checkpoint.is_some() {
        RunFiles::resume(&out, needs.probe, val_columns, start.epoch, start.step)?
    } else {
        RunFiles::create(&out, needs.probe, val_columns)?
    };
    let mut run_info = RunInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        seed: args.seed,
        config: serde_json::to_value(&args)?,
        adapter: serde_json::to_value(stepper.gpu.summary())?,
        totals: serde_json::json!({}),
        started: crate::rundir::utc_now(),
        finished: None,
        extra: BTreeMap::new(),
    };
    run_info.config["parameters"] = stepper.net.layout.count().into();
    run_info.write(out.join(crate::rundir::RUN_JSON))?;
    if let Some(ckpt) = &args.resume {
        resume::restore_state(&mut stepper, ckpt)?;
    }

    let total_steps = (per_epoch * args.epochs).min(args.max_steps.unwrap_or(usize::MAX));
    let trainer = Trainer {
        data,
        val,
        probe_val,
        evaluate_val: args.val_split.is_some(),
        stepper,
        schedule,
        files,
        progress: Progress::new(total_steps, start.step),
        clock: Instant::now(),
        sums: start.sums,
        start,
        tally: Tally::default(),
        per_epoch,
        total_steps,
        args,
    };
    Ok((trainer, run_info))
}
