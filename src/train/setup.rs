//! Setting a run up: everything that can fail on bad input happens before the run
//! directory is touched; then the directory, its files and `run.json`.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use super::args::{lr_from_run, OnNonFinite, ProbeOn, TrainConfig};
use super::commit;
use super::config::CONFIG_TOML;
use super::continuation;
use super::progress::{Progress, Verbosity};
use super::resume::{self, Start};
use super::run::{Tally, Trainer};
use super::step::{StepConfig, Stepper};
use super::Summary;
use crate::data::Dataset;
use crate::dist::{Collective, DataParallel};
use crate::gpu::{Gpu, Params};
use crate::models::{ModelOptions, Net};
use crate::rundir::STEPS_CSV;
use crate::rundir::{RunFiles, RunInfo};
use crate::rundir::{RunLock, EPOCHS_CSV, EVALS_CSV, METRICS_JSONL, RULE_CSV, RUN_JSON};
use crate::schedule::Schedule;

/// A run set up: ready to train (with its `run.json`, which only rank 0 of data-parallel
/// training writes), or resumed from a checkpoint at its end.
pub(super) enum Prepared {
    Ready(Box<Trainer>, Option<RunInfo>),
    /// The checkpoint resumed is where the run ends: nothing to do, nothing touched.
    Finished(Summary),
}

/// Loads the data, builds the model on the adapter `adapter` (or the preferred one),
/// restores a checkpoint when resuming, and creates the run directory and `run.json`.
/// With `group`, this process is one rank of data-parallel training: rank 0 alone writes
/// the run directory.
pub(super) fn prepare(
    args: &TrainConfig,
    adapter: Option<&str>,
    group: Option<Rc<dyn Collective>>,
) -> Result<Prepared> {
    let needs = args.check()?;
    let (args, resume_given) = resolved(args)?;
    let out = match (&args.out, &args.resume) {
        (Some(out), _) => out.clone(),
        (None, Some(ckpt)) => crate::rundir::folder_of(ckpt),
        (None, None) => args.default_out(),
    };
    // Rank 0 alone writes the run directory, so it alone checks it: another rank could see
    // the files rank 0 has just created as another run's.
    let root = group.as_ref().is_none_or(|g| g.rank() == 0);
    if root {
        check_out(&out, &args)?;
    }
    if let (Some(given), Some(ckpt)) = (&resume_given, &args.resume) {
        check_options_early(given, ckpt, &args)?;
    }
    let (data, val, per_epoch) = load_data(&args, resume_given.is_some())?;
    if let Some(group) = &group {
        check_shards(data.train.len(), &args, group.ranks())?;
    }
    let mut schedule = args.build_schedule(per_epoch)?;
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
    let total_steps = per_epoch
        .checked_mul(args.epochs)
        .with_context(|| format!("--epochs {} is too many to count", args.epochs))?
        .min(args.max_steps.unwrap_or(usize::MAX));
    warn_of_the_run_shape(&args, &data, per_epoch);
    // Hashed once: kept in checkpoints, and compared between data-parallel ranks.
    let fingerprint = data.fingerprint();
    let dataset_md5 = crate::rundir::checkpoint::hex(&fingerprint);
    let checkpoint = match &args.resume {
        Some(path) => {
            match read_checkpoint(path, &out, &args, &dataset_md5, per_epoch, total_steps)? {
                ControlFlow::Continue(ckpt) => Some(ckpt),
                ControlFlow::Break(summary) => return Ok(Prepared::Finished(summary)),
            }
        }
        None => None,
    };
    let adapter = match &group {
        Some(group) => crate::dist::rank_adapter(adapter, group.local_rank())?,
        None => adapter.map(str::to_string),
    };
    let config = StepConfig {
        optimizer: &args.optim,
        needs,
        batch_size: args.batch_size,
        // The probes' own batch, of the validation split or another of the training set.
        own_probe_batch: args.probe_on != ProbeOn::Train,
        backups: args.on_nonfinite == OnNonFinite::Skip,
        average_gamma: args.average_gamma,
    };
    let (mut stepper, start) = open_stepper(
        adapter.as_deref(),
        net,
        config,
        args.seed,
        checkpoint.as_ref(),
        schedule.as_mut(),
    )?;
    let ranks = group.as_ref().map(|g| g.ranks());
    let job = group.clone();
    if let Some(group) = group {
        // The validation split is evaluated as the job's, and a resume's checkpoint is
        // where every rank starts from: they must agree as well (zeros without one, so
        // that every rank sends as many words).
        let fingerprints = [
            fingerprint,
            val.as_ref().map_or([0; 16], |v| v.train.fingerprint()),
            checkpoint
                .as_ref()
                .map_or([0; 16], commit::Committed::fingerprint),
        ];
        join_job(group, &mut stepper, &fingerprints, &args, &start)?;
    }
    #[cfg(debug_assertions)]
    if std::env::var("ETAPROBE_STOP_AT").is_ok_and(|v| v == "setup") {
        // The tests' stand-in for a Ctrl-C while the data loads.
        super::interrupt::request_stop();
    }
    // Stopped while the data loaded or the adapter was set up: nothing has been written,
    // and nothing is (a data-parallel job agrees on a stop at its steps instead).
    super::interrupt::stop_at_steps();
    if ranks.is_none() && super::interrupt::stop_requested() {
        return Err(super::interrupt::StoppedBeforeStart.into());
    }
    let (lock, files, run_info) = match root {
        true => {
            slow_setup(0, "ETAPROBE_SLOW_RUN_DIR");
            let source = &data.source;
            let opened = open_run_dir(
                &out,
                &args,
                (checkpoint.as_ref(), &start),
                &stepper,
                ranks,
                source,
            )?;
            let (lock, files, run_info) = opened;
            (Some(lock), Some(files), Some(run_info))
        }
        false => (None, None, None),
    };
    if let Some(group) = &job {
        crate::dist::ready_to_train(&**group);
    }
    let tally = match (&checkpoint, &files) {
        (Some(_), Some(files)) => Tally::resumed(
            &crate::rundir::read_epochs(files.epochs.path())?,
            start.discarded,
        ),
        _ => Tally::default(),
    };
    let verbosity = match root {
        true => verbosity(&args),
        false => Verbosity::Quiet,
    };
    let trainer = Trainer {
        data,
        val,
        probe_on: args.probe_on,
        evaluate_val: args.val_split.is_some(),
        stepper,
        schedule,
        files,
        out,
        progress: Progress::new(total_steps, args.epochs, start.step, verbosity),
        clock: Instant::now(),
        sums: start.sums,
        discard_next: start.discard_next,
        start,
        tally,
        dataset_md5,
        per_epoch,
        total_steps,
        args,
        _lock: lock,
    };
    Ok(Prepared::Ready(Box::new(trainer), run_info))
}

/// The configuration as run, and the `--resume` given: `--resume RUN_DIR` made its newest
/// checkpoint, η0 resolved (run.json and `plot` read it).
fn resolved(args: &TrainConfig) -> Result<(TrainConfig, Option<std::path::PathBuf>)> {
    let mut args = args.clone();
    let resume_given = args.resume.clone();
    // --resume RUN_DIR continues from the run's newest checkpoint.
    if let Some(dir) = args.resume.as_ref().filter(|p| p.is_dir()) {
        args.resume = Some(dir.join(commit::CHECKPOINT));
    }
    // A resume continues at its checkpoint's η (--lr-from is ignored there, and said so).
    args.lr = Some(
        match args.lr_from.as_ref().filter(|_| args.resume.is_none()) {
            Some(dir) => {
                let lr = lr_from_run(dir, args.lr_from_stat)?;
                log::info!("starting at η = {lr} from {}", dir.display());
                lr
            }
            None => args.lr0(),
        },
    );
    Ok((args, resume_given))
}

/// The checkpoint at `path`, checked against the run's options, data and shape; or, when
/// it is where the run ends, the finished run's summary (nothing to do, nothing touched).
fn read_checkpoint(
    path: &Path,
    out: &Path,
    args: &TrainConfig,
    dataset_md5: &str,
    per_epoch: usize,
    total_steps: usize,
) -> Result<ControlFlow<Summary, commit::Committed>> {
    let ckpt = commit::load(path)?;
    resume::check_same_options(&ckpt.weights.path, &ckpt.weights.metadata, args)?;
    resume::check_same_data(&ckpt.weights, dataset_md5)?;
    let position = resume::position(&ckpt.weights)?;
    check_position(&ckpt.weights.path, &position, per_epoch, args.batch_size)?;
    if finished(&ckpt.weights.path, &position, args, per_epoch, total_steps)? {
        let lr = ckpt.weights.lr()?;
        return Ok(ControlFlow::Break(finished_summary(out, &position, lr)?));
    }
    Ok(ControlFlow::Continue(ckpt))
}

/// Opens the adapter, lays the model's parameters out on it, and records the step's
/// programs. From a `checkpoint`: the weights, `schedule` and the step's state restored
/// (and an η no run could have stored refused); else the weights initialised from `seed`.
fn open_stepper(
    adapter: Option<&str>,
    net: Net,
    config: StepConfig,
    seed: u64,
    checkpoint: Option<&commit::Committed>,
    schedule: &mut dyn Schedule,
) -> Result<(Stepper, Start)> {
    let gpu = Gpu::open(adapter)?;
    log::info!("using adapter {}: {}", gpu.index, gpu.describe());
    let params = Params::with_buffers(&gpu, net.layout.clone(), net.buffers.clone())?;
    let start = match checkpoint {
        Some(ckpt) => {
            let start = resume::restore(&net, &params, &gpu, &ckpt.weights, schedule)?;
            check_lr(&ckpt.weights.path, schedule.lr())?;
            start
        }
        None => {
            params.upload_all(&gpu, &net.init(seed));
            params.upload_buffers(&gpu, &net.init_buffers());
            Start::fresh()
        }
    };
    let mut stepper = Stepper::new(Arc::new(gpu), net, params, config)?;
    // The whole checkpoint is read and checked before the run directory changes.
    if let Some(ckpt) = checkpoint {
        resume::restore_state(&mut stepper, ckpt)?;
    }
    Ok((stepper, start))
}

/// Joins the data-parallel job: the ranks agree on their data, validation split and
/// checkpoint (`fingerprints`) and on their options, and the stepper averages gradients
/// over them from `start`'s traffic on.
fn join_job(
    group: Rc<dyn Collective>,
    stepper: &mut Stepper,
    fingerprints: &[[u8; 16]; 3],
    args: &TrainConfig,
    start: &Start,
) -> Result<()> {
    slow_setup(group.rank(), "ETAPROBE_SLOW_SETUP");
    crate::dist::agree_on_data(&*group, fingerprints)?;
    crate::dist::agree_on_options(&*group, &resume::rank_options(args)?)?;
    let parallel = DataParallel::new(group);
    parallel.continue_from(start.traffic);
    stepper.distribute(parallel);
    Ok(())
}

/// The data set, with its validation split apart when one is held out (`--val-split`, or
/// `--probe-on val`'s), and the steps of an epoch: loaded and checked against the batch
/// size and `--probe-on` before anything is written. `resuming`: the data was looked for
/// where a resumed run's configuration says it is.
fn load_data(args: &TrainConfig, resuming: bool) -> Result<(Dataset, Option<Dataset>, usize)> {
    let data = match args.data.load(args.seed) {
        // Ctrl-C during a download: the run has not started.
        Err(e @ crate::data::DataError::Stopped { .. }) => {
            log::warn!("{e}");
            return Err(super::interrupt::StoppedBeforeStart.into());
        }
        // A resumed run looks where its config.toml recorded the data: moved since, it is
        // found again with --data, which a resume may change.
        Err(crate::data::DataError::NotFound { message }) if resuming => {
            bail!(
                "{message}\nThis resume looked where the run's {CONFIG_TOML} (or this command \
                 line) says the data is: if it moved, resume with --data PATH naming where it \
                 is now."
            )
        }
        loaded => loaded?,
    };
    let probe_val = args.probe_on == ProbeOn::Val;
    // The validation split: carved for --probe-on val, and evaluated at every epoch's end
    // when --val-split was given.
    let (data, val) = match args.val_fraction() {
        Some(fraction) => {
            let (train, val) = data.carve_validation(fraction, args.seed)?;
            if probe_val && val.train.len() < args.batch_size {
                bail!(
                    "--val-split {fraction} holds {}, fewer than one batch of {}",
                    crate::words::counted(val.train.len(), "sample"),
                    args.batch_size
                );
            }
            (train, Some(val))
        }
        None => (data, None),
    };
    if args.probe_on == ProbeOn::Fresh && data.train.len() < args.batch_size {
        bail!(
            "--probe-on fresh draws whole batches of {} from the training set, which holds {}",
            args.batch_size,
            crate::words::counted(data.train.len(), "sample")
        );
    }
    let per_epoch = data.batches_per_epoch(args.batch_size, args.data.drop_last);
    if per_epoch == 0 {
        bail!(
            "the training set holds {} samples, fewer than one batch of {} with --drop-last: \
             nothing to train on (lower --batch-size, drop --drop-last{})",
            data.train.len(),
            args.batch_size,
            if args.val_split.is_some() {
                ", or hold out less with --val-split"
            } else {
                ""
            }
        );
    }
    Ok((data, val, per_epoch))
}

/// Says, without refusing them, options that make the run other than their names suggest:
/// a batch larger than the training set, an evaluation subset as large as the test set, a
/// warmup as long as the run.
fn warn_of_the_run_shape(args: &TrainConfig, data: &Dataset, per_epoch: usize) {
    if args.batch_size > data.train.len() && !args.data.drop_last {
        log::warn!(
            "--batch-size {} is more than the {} training samples: each epoch is one batch \
             of {}",
            args.batch_size,
            data.train.len(),
            data.train.len()
        );
    }
    if let Some(n) = args.eval_subset.filter(|&n| n >= data.test.len()) {
        log::warn!(
            "--eval-subset {n} is not less than the {} test samples: the whole test set is \
             evaluated",
            data.test.len()
        );
    }
    let warmup = args.rule.basic.warmup_steps;
    if args.schedule == "basic" && warmup > 0 && warmup >= per_epoch.saturating_mul(args.epochs) {
        log::warn!(
            "--warmup-steps {warmup} lasts the whole run ({} steps): η never reaches η0",
            per_epoch.saturating_mul(args.epochs)
        );
    }
}

/// Creates (or reopens) the run directory and its records, and writes `run.json` and
/// `config.toml`.
/// `data_source` is the file or folder the data was read from (`--data` names a root, and
/// a root without the data set falls back to the cache: run.json says which was read).
fn open_run_dir(
    out: &Path,
    args: &TrainConfig,
    (checkpoint, start): (Option<&commit::Committed>, &Start),
    stepper: &Stepper,
    ranks: Option<usize>,
    data_source: &Path,
) -> Result<(RunLock, RunFiles, RunInfo)> {
    let needs = stepper.measure.needs();
    let out = out.to_path_buf();

    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create the run directory {} (--out)", out.display()))?;
    let lock = RunLock::acquire(&out)?;
    // Checked again now that the folder is this run's: another run may have started in it
    // (or finished) while this one loaded its data.
    check_out(&out, args)?;
    // Read before anything here is written: resumed in place, the new run.json replaces it.
    // A folder whose making from another run's records was cut short (`--resume A --out
    // B` killed once the checkpoint was carried) has no run.json yet: A's is the record.
    let earlier = checkpoint.map(|c| {
        let from = crate::rundir::folder_of(&c.weights.path);
        let from = continuation::unfinished(&from).map_or(from, |u| u.from);
        let weights =
            std::path::absolute(&c.weights.path).unwrap_or_else(|_| c.weights.path.clone());
        (RunInfo::read_whole(from.join(RUN_JSON)), weights)
    });
    if args.overwrite {
        clear_run_dir(&out)?;
    }
    let val_columns = args.val_split.is_some();
    // Continued into another folder (`--resume A --out B`), B starts with what A's records
    // keep up to the checkpoint; A is only read. Every record is checked before anything
    // is written, here or below.
    let files = match checkpoint.as_ref() {
        Some(c) => {
            let from = crate::rundir::folder_of(&c.weights.path);
            let (epoch, step) = (start.epoch, start.step);
            if !crate::rundir::same_folder(&from, &out) {
                continuation::begin(&out, &from)?;
            }
            // A's records are checked before any is copied: refused, B is as it was.
            let files = RunFiles::resume(&from, &out, needs.probe, val_columns, epoch, step)
                .inspect_err(|_| {
                    let _ = continuation::end(&out);
                })?;
            commit::crash_point("continuation-records-copied");
            files
        }
        None => RunFiles::create(&out, needs.probe, val_columns)?,
    };
    // A checkpoint interrupted by a crash leaves temporaries and an uncommitted state
    // file; the lock says no other run is writing them.
    commit::remove_stale(&out);
    // A resume that fell back to the checkpoint before a damaged newest one continues in
    // the directory they are in: the next commit must keep the good one. Done once the
    // records were found whole, so that a resume refused for them leaves the files alone.
    let fell_back_here = checkpoint
        .as_ref()
        .filter(|c| c.fell_back)
        .is_some_and(|c| {
            crate::rundir::same_folder(&crate::rundir::folder_of(&c.weights.path), &out)
        });
    if fell_back_here {
        commit::set_aside_damaged(&out)?;
    }
    let mut run_info = RunInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: Some(env!("ETAPROBE_GIT_COMMIT").to_string()),
        // Lossy: a non-UTF-8 path in the command still runs; the record shows it with U+FFFD.
        command: std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        seed: args.seed,
        config: serde_json::to_value(args)?,
        adapter: serde_json::to_value(stepper.gpu.summary())?,
        totals: serde_json::json!({}),
        started: crate::rundir::utc_now(),
        finished: None,
        extra: BTreeMap::new(),
    };
    run_info.config["parameters"] = stepper.net.layout.count().into();
    if let Some((earlier, weights)) = earlier {
        let sittings = RunInfo::earlier_sittings(earlier, &run_info.config);
        run_info
            .extra
            .insert(crate::rundir::EARLIER_SITTINGS.into(), sittings.into());
        let resumed_from = serde_json::json!({
            "checkpoint": weights.to_string_lossy(),
            "step": start.step,
            "epoch": start.epoch,
        });
        run_info.extra.insert("resumed_from".into(), resumed_from);
    }
    if let Some(ranks) = ranks {
        run_info.extra.insert("ranks".into(), ranks.into());
    }
    let source = std::path::absolute(data_source).unwrap_or_else(|_| data_source.into());
    run_info.extra.insert(
        "data_source".into(),
        source.to_string_lossy().into_owned().into(),
    );
    crate::rundir::write_atomic(
        &out.join(super::CONFIG_TOML),
        super::config_text(args)?.as_bytes(),
    )
    .with_context(|| format!("cannot write {}", out.join(super::CONFIG_TOML).display()))?;
    // Continued into another folder, the folder gets the checkpoint its records end at,
    // with its config.toml and before its run.json, so that `--resume B` continues the
    // run however it stops from here on, before its own first checkpoint included.
    if let Some(c) = checkpoint {
        if !crate::rundir::same_folder(&crate::rundir::folder_of(&c.weights.path), &out) {
            commit::carry_into(c, &out)?;
        }
    }
    run_info.write(out.join(crate::rundir::RUN_JSON))?;
    continuation::end(&out)?;
    Ok((lock, files, run_info))
}

/// Sleeps for SECONDS on rank RANK when the variable `hook` is `RANK@SECONDS`, for the
/// tests that a slow set-up (`ETAPROBE_SLOW_SETUP`, before the data check) or rank 0's
/// slow opening of the run directory (`ETAPROBE_SLOW_RUN_DIR`) does not count against the
/// job's collective timeout. Debug builds only.
fn slow_setup(rank: usize, hook: &str) {
    #[cfg(debug_assertions)]
    if let Ok(spec) = std::env::var(hook) {
        if let Some(seconds) = spec.strip_prefix(&format!("{rank}@")) {
            let seconds: f64 = seconds.parse().expect("RANK@SECONDS");
            std::thread::sleep(std::time::Duration::from_secs_f64(seconds));
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = (rank, hook);
}

/// Refuses data-parallel training over `ranks` ranks when a batch of an epoch would
/// leave a rank without a sample.
fn check_shards(samples: usize, args: &TrainConfig, ranks: usize) -> Result<()> {
    let batch = args.batch_size.min(samples);
    let smallest = match samples % args.batch_size {
        0 => batch,
        _ if args.data.drop_last => batch,
        rest => rest,
    };
    if samples < ranks {
        bail!(
            "--distributed over {ranks} ranks needs a sample per rank, but the training set \
             holds {samples}: start fewer ranks"
        );
    }
    // A resumed run keeps its batches (the options that shape it cannot change): only the
    // number of ranks can.
    let resumed = args.resume.is_some();
    if smallest < ranks && smallest == batch {
        bail!(
            "--distributed over {ranks} ranks needs a sample per rank in every batch, but a \
             batch holds {smallest}: {}",
            match resumed {
                true => format!("resume it with at most {smallest} ranks"),
                false => format!("give a --batch-size of at least {ranks}"),
            }
        );
    }
    if smallest < ranks {
        bail!(
            "--distributed over {ranks} ranks needs a sample per rank in every batch, but an \
             epoch's last batch holds {smallest} ({samples} samples in batches of {}): {}",
            args.batch_size,
            match resumed {
                true => format!("resume it with at most {smallest} ranks"),
                false => format!(
                    "give --drop-last, or a --batch-size that leaves at least {ranks} samples \
                     in the last batch"
                ),
            }
        );
    }
    Ok(())
}

fn verbosity(args: &TrainConfig) -> Verbosity {
    match (args.quiet, args.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, true) => Verbosity::Verbose,
        (false, false) => Verbosity::Normal,
    }
}

/// Refuses a checkpoint whose position does not fit this run's data (an epoch of
/// `per_epoch` steps of at most `batch_size` samples), or whose sums no run can have
/// reached: a tampered file, or data that changed size.
fn check_position(path: &Path, start: &Start, per_epoch: usize, batch_size: usize) -> Result<()> {
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
    let sums = &start.sums;
    // Only finite losses are summed, over the samples of the batches counted, of which
    // `correct` were right. A cross-entropy or a squared error is never below 0, but a
    // conforming GPU's `log` may put a memorised sample's loss a few ulps under it.
    let impossible_sums = sums.batches > sums.consumed
        || sums
            .batches
            .checked_mul(batch_size)
            .is_none_or(|n| sums.samples > n)
        || !(sums.loss.is_finite() && sums.loss >= -1e-3 * sums.samples as f64)
        || !(sums.correct >= 0.0 && sums.correct <= sums.samples as f64);
    if impossible_sums || !start.seconds.is_finite() || start.seconds < 0.0 {
        bail!(
            "{}: its epoch sums ({} steps counted of {} taken, {} samples, {} right, loss sum \
             {}) or seconds ({}) are impossible; was the file edited?",
            path.display(),
            sums.batches,
            sums.consumed,
            sums.samples,
            sums.correct,
            sums.loss,
            start.seconds
        );
    }
    // Each discard happens at a step: no more of them than steps taken.
    let d = &start.discarded;
    if [d.skipped, d.undone, d.restarts]
        .iter()
        .any(|&n| n > start.step)
    {
        bail!(
            "{}: it counts more discarded steps ({} skipped, {} undone, {} restarts) than the \
             {} steps taken; was the file edited?",
            path.display(),
            d.skipped,
            d.undone,
            d.restarts,
            start.step
        );
    }
    Ok(())
}

/// Refuses a rule's stored η that no run can have: a tampered file.
fn check_lr(path: &Path, lr: f64) -> Result<()> {
    // Not its sign: the paper's first-order rule is unguarded and may step η below 0.
    if !lr.is_finite() {
        bail!(
            "{}: the rule's stored η is {lr}, not a finite rate",
            path.display()
        );
    }
    Ok(())
}

/// Whether a checkpoint at `start` is where the run `args` describes ends (every step of
/// `total_steps` taken and its epoch's records written); an error when it is past that end.
fn finished(
    path: &Path,
    start: &Start,
    args: &TrainConfig,
    per_epoch: usize,
    total_steps: usize,
) -> Result<bool> {
    let inside = start.sums.consumed > 0;
    if start.epoch > args.epochs || (start.epoch == args.epochs && inside) {
        bail!(
            "{} is at epoch {} of its run, past --epochs {}: resume with --epochs {} or more \
             to continue it",
            path.display(),
            start.epoch + usize::from(inside),
            args.epochs,
            start.epoch + 1
        );
    }
    if let Some(max) = args.max_steps.filter(|&m| start.step > m) {
        bail!(
            "{} is at step {}, past --max-steps {max}: resume with a larger --max-steps (or \
             none) to continue it",
            path.display(),
            start.step
        );
    }
    // A checkpoint taken on an epoch's last step still owes that epoch's evaluation; one
    // at the last step inside an epoch (--max-steps) is the finished run's only when the
    // run said it finished (a stop on request or a kill there still owes the epoch's
    // record and the run's totals).
    Ok(start.step >= total_steps
        && start.sums.consumed < per_epoch
        && run_said_finished(&crate::rundir::folder_of(path)))
}

/// Whether the run in `dir` wrote its end: `run.json` finished, and not stopped on request.
fn run_said_finished(dir: &Path) -> bool {
    RunInfo::read(dir.join(RUN_JSON))
        .is_ok_and(|info| info.finished.is_some() && !info.interrupted())
}

/// What a finished run reported, read back from its records without changing them.
fn finished_summary(out: &Path, start: &Start, lr: f64) -> Result<Summary> {
    let epochs_csv = out.join(EPOCHS_CSV);
    let records = if epochs_csv.exists() {
        crate::rundir::read_epochs(&epochs_csv)?
    } else {
        Vec::new()
    };
    let last = records.last();
    let run_json = crate::rundir::RunInfo::read(out.join(RUN_JSON)).ok();
    let images_per_second = run_json
        .and_then(|r| r.totals.get("images_per_second").and_then(|v| v.as_f64()))
        .unwrap_or(f64::NAN);
    Ok(Summary {
        out: out.to_path_buf(),
        steps: start.step,
        epochs: start.epoch + usize::from(start.sums.consumed > 0),
        final_train_loss: last.map_or(f64::NAN, |r| r.train_loss),
        final_test_loss: last.and_then(|r| r.test_loss),
        final_test_acc: last.and_then(|r| r.test_acc),
        best_test_acc: records.iter().filter_map(|r| r.test_acc).reduce(f64::max),
        final_val_loss: last.and_then(|r| r.val_loss),
        final_val_acc: last.and_then(|r| r.val_acc),
        lr,
        seconds: start.seconds,
        images_per_second,
    })
}

/// Refuses a resume whose options are not its checkpoint's before the data is looked for:
/// `--resume FILE` given alone runs with the default options, and would otherwise be told
/// that the default data set is missing. A checkpoint whose header cannot be read is left
/// to the resume proper, which may fall back to the one before it.
fn check_options_early(given: &Path, ckpt: &Path, args: &TrainConfig) -> Result<()> {
    let Ok(metadata) = crate::rundir::checkpoint::load_metadata(ckpt) else {
        return Ok(());
    };
    let refused = match resume::check_same_options(ckpt, &metadata, args) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    let folder = crate::rundir::folder_of(given);
    if given.is_file() && folder.join(CONFIG_TOML).is_file() {
        bail!(
            "{refused:#} (`--resume {}` reads the run's options from its {CONFIG_TOML}; \
             `--resume FILE` takes them from the command line alone)",
            folder.display()
        );
    }
    Err(refused)
}

/// Refuses to start a new run in a directory that holds another one (its records, run.json
/// or a checkpoint), unless `--overwrite` says to replace it.
fn check_out(out: &Path, args: &TrainConfig) -> Result<()> {
    if out.is_dir() {
        check_file_kinds(out)?;
    }
    if let Some(resume) = &args.resume {
        if args.overwrite {
            bail!("--overwrite starts a new run and cannot be combined with --resume");
        }
        // Continued into another folder, the run's records are copied there: that folder
        // must not hold a run of its own.
        let from = match resume.is_dir() {
            true => resume.clone(),
            false => crate::rundir::folder_of(resume),
        };
        if crate::rundir::same_folder(&from, out) {
            return Ok(());
        }
        // A copy of the same run's records that a kill interrupted is made again.
        let interrupted_copy = continuation::unfinished(out)
            .is_some_and(|copy| crate::rundir::same_folder(&copy.from, &from));
        if interrupted_copy {
            return Ok(());
        }
        if holds_files(out)? {
            bail!(
                "{} already holds a run: --resume {} with another --out continues the run \
                 there, with a copy of its records, and needs a folder without a run",
                out.display(),
                resume.display()
            );
        }
        return check_nothing_in_the_way(out);
    }
    if args.overwrite {
        return Ok(());
    }
    if !holds_files(out)? {
        return check_nothing_in_the_way(out);
    }
    // Only a folder `--resume` accepts is offered to it: a checkpoint and the options.
    let checkpoint = [commit::CHECKPOINT, commit::PREVIOUS]
        .iter()
        .any(|c| out.join(c).is_file());
    if checkpoint && out.join(CONFIG_TOML).is_file() {
        bail!(
            "{} already holds a run; continue it with --resume {0}, replace it with \
             --overwrite, or choose another --out",
            out.display()
        )
    }
    bail!(
        "{} holds a run's files but no checkpoint and {CONFIG_TOML} to continue it from: \
         replace them with --overwrite (other files stay), or choose another --out",
        out.display()
    )
}

/// Refuses a run directory where a file the run reads or replaces (its records,
/// configuration, checkpoints, figures) is something else: a directory, a device, a FIFO,
/// a link to one. Said before anything is changed, not found halfway through a resume or
/// after the last epoch. A dangling link counts as no file.
fn check_file_kinds(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !is_run_file(&name) {
            continue;
        }
        let path = entry.path();
        if let Ok(meta) = std::fs::metadata(&path) {
            if !meta.is_file() {
                bail!(
                    "{} is {}, where the run keeps a file of its own: move it out of the run \
                     directory",
                    path.display(),
                    crate::rundir::file_kind(&meta.file_type())
                );
            }
        }
    }
    Ok(())
}

/// Refuses a folder without a run that holds a file the run would write over (a
/// hand-written `config.toml`, a `loss.png` of the user's): never replaced silently.
fn check_nothing_in_the_way(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let mut in_the_way: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| is_run_file(name) && !name.starts_with('.'))
        .collect();
    if in_the_way.is_empty() {
        return Ok(());
    }
    in_the_way.sort();
    bail!(
        "{} holds {}, which the run would write over: move {}, choose another --out, or \
         give --overwrite to replace {}",
        dir.display(),
        in_the_way.join(", "),
        if in_the_way.len() == 1 { "it" } else { "them" },
        if in_the_way.len() == 1 { "it" } else { "them" },
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
        if is_record(&name) || commit::is_checkpoint_file(&name) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The files whose presence makes a directory a run.
const RECORDS: [&str; 6] = [
    EPOCHS_CSV,
    STEPS_CSV,
    RUN_JSON,
    RULE_CSV,
    EVALS_CSV,
    METRICS_JSONL,
];

/// Whether `name` is one of a run's records, also gzipped (`scripts/keep-records.sh` keeps
/// `steps.csv.gz`; every reader, a resume's included, reads `FILE.gz` where `FILE` is not).
fn is_record(name: &str) -> bool {
    RECORDS.contains(&name)
        || name
            .strip_suffix(".gz")
            .is_some_and(|n| RECORDS.contains(&n))
}

/// Whether `name` is a file a run writes in its directory: its records (also gzipped),
/// configuration, checkpoints, figures, or the temporary of one of them (`.NAME.XXXX.tmp`,
/// a write a crash interrupted).
fn is_run_file(name: &str) -> bool {
    let own = |n: &str| {
        is_record(n)
            || n == CONFIG_TOML
            || commit::is_checkpoint_file(n)
            || crate::report::FigureFormat::is_figure(n)
    };
    if own(name) {
        return true;
    }
    name.strip_prefix('.')
        .and_then(|n| n.strip_suffix(".tmp"))
        .and_then(|n| n.rsplit_once('.'))
        .is_some_and(|(n, _)| own(n))
}

/// `--overwrite`: removes the old run's files from the run directory (whose lock this run
/// holds), and nothing else: `--out` may name a folder that holds more than a run (the
/// caller's notes, logs, other runs in subfolders).
fn clear_run_dir(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // A link under a run file's name goes too (not what it points to): the run's
        // records must not be written through it into a file elsewhere.
        let kind = entry.file_type()?;
        let own = is_run_file(&name) || name == continuation::MARKER;
        if !own || !(kind.is_file() || kind.is_symlink()) {
            continue;
        }
        let path = entry.path();
        std::fs::remove_file(&path)
            .with_context(|| format!("--overwrite: cannot remove {}", path.display()))?;
    }
    Ok(())
}
