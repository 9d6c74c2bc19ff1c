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
use crate::rundir::{RunLock, EPOCHS_CSV, LOCK, RUN_JSON, STEPS_CSV};

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
    let out = match (&args.out, &args.resume) {
        (Some(out), _) => out.clone(),
        (None, Some(ckpt)) => ckpt.parent().map(Path::to_path_buf).unwrap_or_default(),
        (None, None) => args.default_out(),
    };
    check_out(&out, &args)?;
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
        Some(ckpt) => {
            let start = resume::restore(&net, &params, &gpu, ckpt, schedule.as_mut())?;
            check_position(&ckpt.path, &start, per_epoch, schedule.lr())?;
            start
        }
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
    // The whole checkpoint is read and checked before the run directory changes.
    if let Some(ckpt) = &checkpoint {
        resume::restore_state(&mut stepper, ckpt)?;
    }

    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create the run directory {} (--out)", out.display()))?;
    let lock = RunLock::acquire(&out)?;
    if args.overwrite {
        clear_run_dir(&out)?;
    }
    // A checkpoint interrupted by a crash leaves temporaries and an uncommitted state
    // file; the lock says no other run is writing them.
    let committed = resume::committed_state(&out.join(resume::CHECKPOINT))?;
    resume::remove_stale_state(&out, committed.as_deref());
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
        _lock: lock,
    };
    Ok((trainer, run_info))
}

/// Refuses a checkpoint whose position does not fit this run's data (an epoch of
/// `per_epoch` steps) or whose η is impossible: a tampered file, or data that changed size.
fn check_position(path: &Path, start: &Start, per_epoch: usize, lr: f64) -> Result<()> {
    let position = start
        .epoch
        .checked_mul(per_epoch)
        .and_then(|s| s.checked_add(start.sums.consumed));
    if position != Some(start.step) || start.sums.consumed > per_epoch {
        bail!(
            "{}: its step {} is not epoch {} × {per_epoch} steps + {} into the epoch; was the \
             data set, --batch-size or --drop-last changed, or the file edited?",
            path.display(),
            start.step,
            start.epoch,
            start.sums.consumed
        );
    }
    if !lr.is_finite() || lr < 0.0 {
        bail!(
            "{}: the rule's stored η is {lr}, not a finite non-negative rate",
            path.display()
        );
    }
    Ok(())
}

/// Refuses to start a new run in a directory that holds another one (its records, run.json
/// or a checkpoint), unless `--overwrite` says to replace it.
fn check_out(out: &Path, args: &TrainArgs) -> Result<()> {
    if args.resume.is_some() {
        if args.overwrite {
            bail!("--overwrite starts a new run and cannot be combined with --resume");
        }
        return Ok(());
    }
    if args.overwrite || !holds_files(out)? {
        return Ok(());
    }
    bail!(
        "{} already holds a run; continue it with --resume {}, replace it with --overwrite, \
         or choose another --out",
        out.display(),
        out.join(resume::CHECKPOINT).display()
    )
}

/// Whether `dir` holds a run's files: its records, run.json or a checkpoint. Other files
/// (a log the caller keeps there, notes) do not make it a run.
fn holds_files(dir: &Path) -> Result<bool> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        // Nothing there, or a file in the way (creating the directory says so).
        Err(_) if !dir.is_dir() => return Ok(false),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot read the run directory {}", dir.display()))
        }
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let record =
            [EPOCHS_CSV, STEPS_CSV, RUN_JSON, "rule.csv", "evals.csv"].contains(&name.as_str());
        if record || name.starts_with("checkpoint.") {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `--overwrite`: empties the run directory (whose lock this run holds) for the new run.
fn clear_run_dir(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        if entry.file_name() == LOCK {
            continue;
        }
        let path = entry.path();
        let removed = if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.with_context(|| format!("--overwrite: cannot remove {}", path.display()))?;
    }
    Ok(())
}
