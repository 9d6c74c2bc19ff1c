//! `etaprobe train`: the training loop. One command buffer and one small read-back per
//! step; test-set evaluation per epoch; metrics, figures and checkpoints in `--out`.

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use super::checkpoint::{self, TrainingMeta};
use super::metrics::{EpochRecord, EpochWriter, RunInfo, StepRecord, StepWriter};
use crate::data::{Batch, DataArgs, Dataset};
use crate::gpu::{Gpu, Params, Program};
use crate::models::{ModelKind, Net, Plan};
use crate::ops::sgd;
use crate::schedule::{Basic, Observation, Schedule};

/// Learning-rate rules on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleKind {
    /// Fixed η (with optional step decay): the paper's "basic method".
    Basic,
}

#[derive(clap::Args, Clone, Debug, serde::Serialize)]
pub struct TrainArgs {
    #[arg(long, value_enum, default_value_t = ModelKind::Lenet)]
    pub model: ModelKind,
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long, value_enum, default_value_t = ScheduleKind::Basic)]
    pub schedule: ScheduleKind,
    /// Initial learning rate η0.
    #[arg(long, default_value_t = 0.01)]
    pub lr: f64,
    /// Epochs after which η is multiplied by --lr-gamma (basic schedule), e.g. 30,60.
    #[arg(long, value_delimiter = ',', value_name = "E1,E2")]
    pub lr_milestones: Vec<usize>,
    #[arg(long, default_value_t = 0.1, value_name = "G")]
    pub lr_gamma: f64,
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub batch_size: usize,
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub epochs: usize,
    /// Stop after this many steps in all (the current epoch is still evaluated).
    #[arg(long, value_name = "N")]
    pub max_steps: Option<usize>,
    /// Seeds the initial weights, the split, the shuffles and the augmentation.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Run directory (default: runs/MODEL-DATASET-SCHEDULE-lrLR-seedSEED).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also write a checkpoint every N steps (one is always written at the end).
    #[arg(long, value_name = "N")]
    pub checkpoint_every: Option<usize>,
    /// Continue from a checkpoint written by an earlier run with the same options.
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// Also evaluate the test set every N steps (written to evals.csv).
    #[arg(long, value_name = "N")]
    pub eval_every: Option<usize>,
}

/// What a finished run reports.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Summary {
    pub out: PathBuf,
    pub steps: usize,
    pub epochs: usize,
    pub final_train_loss: f64,
    pub final_test_loss: Option<f64>,
    pub final_test_acc: Option<f64>,
    pub best_test_acc: Option<f64>,
    pub lr: f64,
    pub seconds: f64,
    pub images_per_second: f64,
}

const CHECKPOINT: &str = "checkpoint.safetensors";

impl TrainArgs {
    fn validate(&self) -> Result<()> {
        if self.batch_size == 0 {
            bail!("--batch-size must be at least 1");
        }
        if self.epochs == 0 {
            bail!("--epochs must be at least 1");
        }
        if self.max_steps == Some(0) {
            bail!("--max-steps must be at least 1");
        }
        if self.checkpoint_every == Some(0) || self.eval_every == Some(0) {
            bail!("--checkpoint-every and --eval-every must be at least 1");
        }
        if !self.lr.is_finite() || self.lr < 0.0 {
            bail!("--lr must be a finite non-negative number, got {}", self.lr);
        }
        if !self.lr_gamma.is_finite() || self.lr_gamma <= 0.0 {
            bail!(
                "--lr-gamma must be a positive number, got {}",
                self.lr_gamma
            );
        }
        Ok(())
    }

    fn default_out(&self) -> PathBuf {
        PathBuf::from("runs").join(format!(
            "{}-{}-{}-lr{}-seed{}",
            self.model.cli_name(),
            self.data.dataset.cli_name(),
            schedule_name(self.schedule),
            self.lr,
            self.seed
        ))
    }

    fn schedule(&self) -> Box<dyn Schedule> {
        match self.schedule {
            ScheduleKind::Basic => Box::new(Basic::new(
                self.lr,
                self.lr_milestones.clone(),
                self.lr_gamma,
            )),
        }
    }
}

fn schedule_name(kind: ScheduleKind) -> &'static str {
    match kind {
        ScheduleKind::Basic => "basic",
    }
}

/// Running sums of one epoch's training steps.
#[derive(Clone, Copy, Debug, Default)]
struct EpochSums {
    loss: f64,
    correct: f64,
    samples: usize,
    batches: usize,
}

/// Where a (possibly resumed) run starts.
struct Start {
    step: usize,
    epoch: usize,
    batch: usize,
    sums: EpochSums,
    seconds: f64,
}

/// Trains as `args` says on the adapter `adapter` (or the preferred one).
pub fn train(args: &TrainArgs, adapter: Option<&str>) -> Result<Summary> {
    args.validate()?;
    // Everything that can fail on bad input happens before the run directory is touched.
    let data = args.data.load(args.seed)?;
    let net = Net::build(args.model, data.input_shape, data.num_classes).with_context(|| {
        format!(
            "--model {} does not fit --dataset {}",
            args.model.cli_name(),
            args.data.dataset.cli_name()
        )
    })?;
    let resume = match &args.resume {
        Some(path) => Some(checkpoint::load(path)?),
        None => None,
    };
    let gpu = Gpu::open(adapter)?;
    eprintln!("using adapter {}: {}", gpu.index, gpu.describe());
    let params = Params::new(&gpu, net.layout.clone())?;
    let mut schedule = args.schedule();
    let start = match &resume {
        Some(ckpt) => restore(&net, &params, &gpu, ckpt, schedule.as_mut())?,
        None => {
            params.upload_all(&gpu, &net.init(args.seed));
            Start {
                step: 0,
                epoch: 0,
                batch: 0,
                sums: EpochSums::default(),
                seconds: 0.0,
            }
        }
    };
    let drop_last = args.data.drop_last;
    let mut plans = Plans::default();
    plans.get(&gpu, &net, &params, args.batch_size)?;
    let lr = gpu.zeros("learning rate", &[1])?;
    let mut update = Program::new();
    sgd::step(&mut update, &gpu, &params.values, &params.grads, &lr)?;

    let out = args
        .out
        .clone()
        .unwrap_or_else(|| match (&args.resume, &args.out) {
            (Some(ckpt), None) => ckpt.parent().map(Path::to_path_buf).unwrap_or_default(),
            _ => args.default_out(),
        });
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create the run directory {} (--out)", out.display()))?;
    let probes = schedule.needs().probe;
    let (mut epochs_csv, mut steps_csv) = if resume.is_some() {
        (
            EpochWriter::resume(out.join("epochs.csv"), start.epoch)?,
            StepWriter::resume(out.join("steps.csv"), probes, start.step)?,
        )
    } else {
        (
            EpochWriter::create(out.join("epochs.csv"))?,
            StepWriter::create(out.join("steps.csv"), probes)?,
        )
    };
    let mut run_info = RunInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        seed: args.seed,
        config: serde_json::to_value(args)?,
        adapter: serde_json::to_value(gpu.summary())?,
        totals: serde_json::json!({}),
        started: super::metrics::utc_now(),
        finished: None,
        extra: BTreeMap::new(),
    };
    run_info.config["parameters"] = net.layout.count().into();
    run_info.write(out.join("run.json"))?;

    let classify = data.num_classes > 0;
    let per_epoch = data.batches_per_epoch(args.batch_size, drop_last);
    let total_steps = (per_epoch * args.epochs).min(args.max_steps.unwrap_or(usize::MAX));
    let progress = Progress::new(total_steps, start.step);
    let clock = Instant::now();
    let seconds = |clock: &Instant| start.seconds + clock.elapsed().as_secs_f64();
    let mut step = start.step;
    let mut sums = start.sums;
    let mut last_train_loss = f64::NAN;
    let mut last_test = None;
    let mut best_acc: Option<f64> = None;
    let mut images = 0usize;
    let mut epoch = start.epoch;
    let mut first_batch = start.batch;
    let mut evals_csv = None;
    let mut stopped: Option<(usize, EpochSums)> = None;
    'epochs: while epoch < args.epochs && step < total_steps {
        // A checkpoint taken on an epoch's last step resumes straight into its evaluation.
        let batches = if first_batch < per_epoch {
            Some(data.train_batches(
                args.batch_size,
                args.seed,
                epoch,
                first_batch,
                drop_last,
                args.data.augment,
            )?)
        } else {
            None
        };
        for batch in batches.into_iter().flatten() {
            let eta = schedule.lr();
            let plan = plans.get(&gpu, &net, &params, batch.len)?;
            plan.write_batch(&gpu, &batch.x, &batch.y_class, &batch.y_value);
            gpu.write(&lr, &[eta as f32]);
            let mut encoder = gpu.device.create_command_encoder(&Default::default());
            plan.forward.encode(&mut encoder);
            plan.backward.encode(&mut encoder);
            update.encode(&mut encoder);
            plan.copy_outputs(&mut encoder);
            gpu.queue.submit([encoder.finish()]);
            let outputs = plan.fetch_outputs(&gpu)?;
            step += 1;
            if !outputs.loss.is_finite() {
                bail!(
                    "training diverged at step {step} (epoch {}): the loss is {}; metrics up to the previous step are in {}",
                    epoch + 1,
                    outputs.loss,
                    out.display()
                );
            }
            sums.loss += outputs.loss * batch.len as f64;
            sums.correct += outputs.correct;
            sums.samples += batch.len;
            sums.batches += 1;
            images += batch.len;
            schedule.observe(&Observation {
                step,
                epoch,
                loss: outputs.loss,
            });
            steps_csv.write(&StepRecord {
                step,
                epoch: epoch + 1,
                loss: outputs.loss,
                lr: eta,
                probe: None,
            })?;
            progress.step(
                step,
                epoch,
                outputs.loss,
                eta,
                images as f64 / clock.elapsed().as_secs_f64(),
            );
            if args.checkpoint_every.is_some_and(|n| step.is_multiple_of(n)) {
                save_checkpoint(
                    &out,
                    &net,
                    &params,
                    &gpu,
                    schedule.as_ref(),
                    args.seed,
                    step,
                    epoch,
                    sums,
                    seconds(&clock),
                )?;
            }
            if args.eval_every.is_some_and(|n| step.is_multiple_of(n)) {
                let (test_loss, test_acc) =
                    evaluate(&gpu, &net, &params, &data, &mut plans, args.batch_size)?;
                let w = evals_csv.get_or_insert_with(|| open_evals(&out));
                if let Ok(f) = w {
                    use std::io::Write;
                    writeln!(
                        f,
                        "{step},{},{test_loss},{}",
                        epoch + 1,
                        opt(classify.then_some(test_acc))
                    )?;
                }
            }
            if step >= total_steps {
                // Evaluate and record the partial epoch before stopping.
                end_epoch(&mut EpochEnd {
                    gpu: &gpu,
                    net: &net,
                    params: &params,
                    data: &data,
                    plans: &mut plans,
                    args,
                    schedule: schedule.as_mut(),
                    csv: &mut epochs_csv,
                    epoch,
                    sums,
                    classify,
                    seconds: seconds(&clock),
                    last_train_loss: &mut last_train_loss,
                    last_test: &mut last_test,
                    best_acc: &mut best_acc,
                })?;
                progress.epoch_line(epoch, last_train_loss, last_test, schedule.lr());
                stopped = Some((epoch, sums));
                epoch += 1;
                break 'epochs;
            }
        }
        end_epoch(&mut EpochEnd {
            gpu: &gpu,
            net: &net,
            params: &params,
            data: &data,
            plans: &mut plans,
            args,
            schedule: schedule.as_mut(),
            csv: &mut epochs_csv,
            epoch,
            sums,
            classify,
            seconds: seconds(&clock),
            last_train_loss: &mut last_train_loss,
            last_test: &mut last_test,
            best_acc: &mut best_acc,
        })?;
        progress.epoch_line(epoch, last_train_loss, last_test, schedule.lr());
        sums = EpochSums::default();
        first_batch = 0;
        epoch += 1;
    }
    progress.finish();
    let elapsed = seconds(&clock);
    // A run stopped by --max-steps inside an epoch resumes inside it.
    let (done_epochs, done_sums) = match stopped {
        Some((e, s)) if s.batches < per_epoch => (e, s),
        _ => (epoch, EpochSums::default()),
    };
    save_checkpoint(
        &out,
        &net,
        &params,
        &gpu,
        schedule.as_ref(),
        args.seed,
        step,
        done_epochs,
        done_sums,
        elapsed,
    )?;
    let ips = images as f64 / clock.elapsed().as_secs_f64().max(1e-9);
    let summary = Summary {
        out: out.clone(),
        steps: step,
        epochs: epoch,
        final_train_loss: last_train_loss,
        final_test_loss: last_test.map(|t: (f64, f64)| t.0),
        final_test_acc: if classify {
            last_test.map(|t| t.1)
        } else {
            None
        },
        best_test_acc: best_acc,
        lr: schedule.lr(),
        seconds: elapsed,
        images_per_second: ips,
    };
    run_info.totals = serde_json::to_value(&summary)?;
    run_info.finished = Some(super::metrics::utc_now());
    run_info.write(out.join("run.json"))?;
    crate::report::run_figures(&out).context("drawing the run's figures")?;
    Ok(summary)
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn open_evals(out: &Path) -> std::io::Result<std::fs::File> {
    use std::io::Write;
    let mut f = std::fs::File::create(out.join("evals.csv"))?;
    writeln!(f, "step,epoch,test_loss,test_acc")?;
    Ok(f)
}

struct EpochEnd<'a> {
    gpu: &'a Gpu,
    net: &'a Net,
    params: &'a Params,
    data: &'a Dataset,
    plans: &'a mut Plans,
    args: &'a TrainArgs,
    schedule: &'a mut dyn Schedule,
    csv: &'a mut EpochWriter,
    epoch: usize,
    sums: EpochSums,
    classify: bool,
    seconds: f64,
    last_train_loss: &'a mut f64,
    last_test: &'a mut Option<(f64, f64)>,
    best_acc: &'a mut Option<f64>,
}

fn end_epoch(e: &mut EpochEnd) -> Result<()> {
    e.schedule.end_epoch(e.epoch);
    let (test_loss, test_acc) =
        evaluate(e.gpu, e.net, e.params, e.data, e.plans, e.args.batch_size)?;
    let samples = e.sums.samples.max(1) as f64;
    let train_loss = e.sums.loss / samples;
    *e.last_train_loss = train_loss;
    *e.last_test = Some((test_loss, test_acc));
    if e.classify {
        *e.best_acc = Some(e.best_acc.map_or(test_acc, |b| b.max(test_acc)));
    }
    e.csv.write(&EpochRecord {
        epoch: e.epoch + 1,
        train_loss,
        train_acc: e.classify.then_some(e.sums.correct / samples),
        test_loss: Some(test_loss),
        test_acc: e.classify.then_some(test_acc),
        lr: e.schedule.lr(),
        seconds: e.seconds,
    })?;
    Ok(())
}

/// Mean loss and accuracy over the test split.
fn evaluate(
    gpu: &Gpu,
    net: &Net,
    params: &Params,
    data: &Dataset,
    plans: &mut Plans,
    batch_size: usize,
) -> Result<(f64, f64)> {
    let (mut loss, mut correct, mut n) = (0.0, 0.0, 0usize);
    for batch in data.test_batches(batch_size)? {
        let plan = plans.get(gpu, net, params, batch.len)?;
        let o = run_forward(gpu, plan, &batch)?;
        loss += o.loss * batch.len as f64;
        correct += o.correct;
        n += batch.len;
    }
    let n = n.max(1) as f64;
    Ok((loss / n, correct / n))
}

fn run_forward(gpu: &Gpu, plan: &Plan, batch: &Batch) -> Result<crate::models::StepOutputs> {
    plan.write_batch(gpu, &batch.x, &batch.y_class, &batch.y_value);
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    plan.forward.encode(&mut encoder);
    plan.copy_outputs(&mut encoder);
    gpu.queue.submit([encoder.finish()]);
    Ok(plan.fetch_outputs(gpu)?)
}

/// Plans per batch size: the full batch and, where the data leaves one, the last partial
/// batch; each recorded once.
#[derive(Default)]
struct Plans(HashMap<usize, Plan>);

impl Plans {
    fn get(&mut self, gpu: &Gpu, net: &Net, params: &Params, batch: usize) -> Result<&Plan> {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.0.entry(batch) {
            let plan = Plan::new(gpu, net, params, batch).with_context(|| {
                format!(
                    "cannot lay out {} at batch size {batch} on {}",
                    net.kind.cli_name(),
                    gpu.info.name
                )
            })?;
            slot.insert(plan);
        }
        Ok(&self.0[&batch])
    }
}

const META_MODEL: &str = "etaprobe.model";
const META_BATCH: &str = "etaprobe.batch_in_epoch";
const META_SUMS: &str = "etaprobe.epoch_sums";
const META_SECONDS: &str = "etaprobe.seconds";

#[allow(clippy::too_many_arguments)]
fn save_checkpoint(
    out: &Path,
    net: &Net,
    params: &Params,
    gpu: &Gpu,
    schedule: &dyn Schedule,
    seed: u64,
    step: usize,
    epoch: usize,
    sums: EpochSums,
    seconds: f64,
) -> Result<()> {
    let values = params.download_all(gpu)?;
    let tensors: Vec<(String, Vec<usize>, &[f32])> = net
        .layout
        .slots
        .iter()
        .zip(&values)
        .map(|(s, v)| (s.name.clone(), s.shape.clone(), v.as_slice()))
        .collect();
    let mut meta = TrainingMeta {
        lr: schedule.lr(),
        step: step as u64,
        epoch: epoch as u64,
        seed,
        schedule_state: schedule.state(),
    }
    .to_metadata();
    meta.insert(META_MODEL.into(), net.kind.cli_name().into());
    meta.insert(META_BATCH.into(), sums.batches.to_string());
    meta.insert(
        META_SUMS.into(),
        serde_json::json!([sums.loss, sums.correct, sums.samples]).to_string(),
    );
    meta.insert(META_SECONDS.into(), seconds.to_string());
    checkpoint::save(out.join(CHECKPOINT), &tensors, meta)?;
    Ok(())
}

fn restore(
    net: &Net,
    params: &Params,
    gpu: &Gpu,
    ckpt: &checkpoint::Checkpoint,
    schedule: &mut dyn Schedule,
) -> Result<Start> {
    let path = &ckpt.path;
    let model = ckpt.meta(META_MODEL)?;
    if model != net.kind.cli_name() {
        bail!(
            "{} is a checkpoint of {model}, not of {}",
            path.display(),
            net.kind.cli_name()
        );
    }
    let mut values = Vec::new();
    for slot in &net.layout.slots {
        let (shape, data) = ckpt
            .tensor(&slot.name)
            .with_context(|| format!("{} has no tensor {}", path.display(), slot.name))?;
        if shape != slot.shape.as_slice() {
            bail!(
                "{}: {} has shape {shape:?}, the model needs {:?}",
                path.display(),
                slot.name,
                slot.shape
            );
        }
        values.push(data.to_vec());
    }
    params.upload_all(gpu, &values);
    let meta = ckpt.training_meta()?;
    schedule
        .restore(&meta.schedule_state)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let batch: usize = ckpt.meta_parse(META_BATCH)?;
    let sums: (f64, f64, usize) = ckpt.meta_json(META_SUMS)?;
    Ok(Start {
        step: meta.step as usize,
        epoch: meta.epoch as usize,
        batch,
        sums: EpochSums {
            loss: sums.0,
            correct: sums.1,
            samples: sums.2,
            batches: batch,
        },
        seconds: ckpt.meta_parse(META_SECONDS)?,
    })
}

/// A progress bar on a terminal, plain lines otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
}

impl Progress {
    fn new(total: usize, done: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} steps {elapsed_precise} {msg}")
                    .expect("valid template"),
            );
            bar.set_position(done as u64);
            bar
        });
        Progress { bar, total }
    }

    fn step(&self, step: usize, epoch: usize, loss: f64, lr: f64, images_per_s: f64) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(step as u64);
                bar.set_message(format!(
                    "epoch {} loss {loss:.4} η {lr:.4e} {images_per_s:.0} img/s",
                    epoch + 1
                ));
            }
            None => {
                let every = (self.total / 20).max(1);
                if step.is_multiple_of(every) {
                    eprintln!(
                        "step {step}/{} epoch {} loss {loss:.5} lr {lr:.5e} {images_per_s:.0} images/s",
                        self.total,
                        epoch + 1
                    );
                }
            }
        }
    }

    fn epoch_line(&self, epoch: usize, train_loss: f64, test: Option<(f64, f64)>, lr: f64) {
        let test = test.map_or(String::new(), |(l, a)| {
            format!(" test loss {l:.5} test acc {:.2}%", 100.0 * a)
        });
        let line = format!(
            "epoch {} train loss {train_loss:.5}{test} lr {lr:.5e}",
            epoch + 1
        );
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
