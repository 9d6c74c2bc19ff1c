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
use crate::models::{probe_chunk, ModelKind, ModelOptions, Net, Plan, ProbeSpec, PROBES};
use crate::ops::sgd;
use crate::schedule::{
    Auto, BackProbe, Basic, Dots, FirstOrder, Newton, Observation, Schedule, Secant,
};

/// Learning-rate rules on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleKind {
    /// Fixed η (with optional step decay): the paper's "basic method".
    Basic,
    /// Gradient descent on η (paper eq. 5–8): η += α·g(t−1)·g(t).
    FirstOrder,
    /// Newton step on η from five loss probes (paper eq. 16–18).
    Newton,
    /// Quasi-Newton on η from consecutive step directions and gradients: no extra pass.
    Secant,
    /// The secant rule corrected every --probe-every steps by a Newton step on the last
    /// update's line, measured on a fresh batch (one extra forward pass).
    Auto,
}

#[derive(clap::Args, Clone, Debug, serde::Serialize)]
pub struct TrainArgs {
    #[arg(long, value_enum, default_value_t = ModelKind::Lenet)]
    pub model: ModelKind,
    /// Dropout probability after ResNet stages 2 and 4 (the paper's §4.2.3 variant).
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub dropout: f32,
    /// ResNet channel multiplier: 1 is ResNet-18 as published; e.g. 0.25 for CPU-only runs.
    #[arg(long, default_value_t = 1.0, value_name = "F")]
    pub width_mult: f64,
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long, value_enum, default_value_t = ScheduleKind::Basic)]
    pub schedule: ScheduleKind,
    /// Initial learning rate η0 (default 0.01; 0.001 with --optimizer adam, as PyTorch).
    #[arg(long, value_name = "F")]
    pub lr: Option<f64>,
    /// Epochs after which η is multiplied by --lr-gamma (basic schedule), e.g. 30,60.
    #[arg(long, value_delimiter = ',', value_name = "E1,E2")]
    pub lr_milestones: Vec<usize>,
    #[arg(long, default_value_t = 0.1, value_name = "G")]
    pub lr_gamma: f64,
    /// Meta learning rate of the first-order rule.
    #[arg(long, default_value_t = 1e-3, value_name = "F")]
    pub alpha: f64,
    /// Probe spacing ε of the newton rule (the paper's 1e-5).
    #[arg(long, default_value_t = 1e-5, value_name = "F")]
    pub eps: f64,
    /// auto: probe the last update's line every this many steps.
    #[arg(long, default_value_t = 2, value_name = "K")]
    pub probe_every: usize,
    /// Added to the newton denominator when, and only when, it is numerically zero.
    #[arg(long, default_value_t = 1e-6, value_name = "F")]
    pub delta: f64,
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
    /// Opt-in safeguard: never let η fall below this (off by default, as in the paper).
    #[arg(long, value_name = "F")]
    pub lr_min: Option<f64>,
    /// Opt-in safeguard: never let η rise above this.
    #[arg(long, value_name = "F")]
    pub lr_max: Option<f64>,
    #[arg(long, value_enum, default_value_t = OptimizerKind::Sgd)]
    pub optimizer: OptimizerKind,
    /// Evaluate the newton probes on the training batch or on a held-out validation batch;
    /// the weights' gradient always comes from the training batch.
    #[arg(long, value_enum, default_value_t = ProbeOn::Train)]
    pub probe_on: ProbeOn,
    /// Fraction of the training set held out (seeded) for --probe-on val.
    #[arg(long, default_value_t = 0.1, value_name = "F")]
    pub val_split: f64,
    /// Warm start (paper §5.1): begin at the η another run ended with, instead of --lr.
    #[arg(long, value_name = "RUN_DIR")]
    pub lr_from: Option<PathBuf>,
    /// Which η of --lr-from's run: the last one, or the median over its last epoch.
    #[arg(long, value_enum, default_value_t = LrFromStat::Last)]
    pub lr_from_stat: LrFromStat,
    /// Momentum μ of --optimizer momentum.
    #[arg(long, default_value_t = 0.9, value_name = "F")]
    pub momentum: f64,
    #[arg(long)]
    pub nesterov: bool,
    /// Adam's β1,β2.
    #[arg(long, value_delimiter = ',', default_values_t = vec![0.9, 0.999], value_name = "B1,B2")]
    pub betas: Vec<f64>,
    /// Adam's eps.
    #[arg(long, default_value_t = 1e-8, value_name = "F")]
    pub adam_eps: f64,
    /// L2 weight decay λ added to the gradient.
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub weight_decay: f64,
    /// A non-finite loss, probe or η: stop (default) or skip the step and halve η.
    #[arg(long, value_enum, default_value_t = OnNonFinite::Stop)]
    pub on_nonfinite: OnNonFinite,
}

/// The optimizer whose step direction d the update w −= η·d and the probes follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    /// d = g (+ λw with --weight-decay).
    Sgd,
    /// PyTorch's SGD momentum: v = μv + g, d = v (or g + μv with --nesterov).
    Momentum,
    /// PyTorch's Adam: d = m̂ / (√v̂ + eps). The paper's §5.4 baseline uses --lr 0.001.
    Adam,
}

/// Which batch the five probes evaluate (paper §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeOn {
    /// The step's own training batch (the paper's method).
    Train,
    /// A batch of a validation split held out of the training set.
    Val,
}

/// How `--lr-from` reads the earlier run's η.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LrFromStat {
    Last,
    Median,
}

/// η from an earlier run directory: its last step's η(t+1) as recorded at the end of its
/// last epoch, or the median of the η its last epoch's steps used.
pub fn lr_from_run(dir: &Path, stat: LrFromStat) -> Result<f64> {
    let epochs = super::metrics::read_epochs(dir.join("epochs.csv"))
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
            let steps = super::metrics::read_steps(dir.join("steps.csv"))?;
            let mut lrs: Vec<f64> = steps
                .iter()
                .filter(|s| s.epoch == last.epoch)
                .map(|s| s.lr)
                .collect();
            if lrs.is_empty() {
                bail!(
                    "--lr-from {}: no steps recorded for epoch {}",
                    dir.display(),
                    last.epoch
                );
            }
            lrs.sort_by(f64::total_cmp);
            let mid = lrs.len() / 2;
            if lrs.len() % 2 == 1 {
                lrs[mid]
            } else {
                0.5 * (lrs[mid - 1] + lrs[mid])
            }
        }
    };
    if !lr.is_finite() {
        bail!("--lr-from {}: its η is {lr}", dir.display());
    }
    Ok(lr)
}

/// What to do when a loss, a probe or η is not finite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnNonFinite {
    /// Stop with a message naming the step (the paper's rule, unguarded).
    Stop,
    /// Discard the step (restore the weights it changed) and halve η.
    Skip,
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
        if !self.lr0().is_finite() || self.lr0() < 0.0 {
            bail!(
                "--lr must be a finite non-negative number, got {}",
                self.lr0()
            );
        }
        for (name, v) in [
            ("--alpha", self.alpha),
            ("--eps", self.eps),
            ("--delta", self.delta),
        ] {
            if !v.is_finite() || v < 0.0 {
                bail!("{name} must be a finite non-negative number, got {v}");
            }
        }
        if self.eps == 0.0 {
            bail!("--eps must be positive");
        }
        if self.probe_every == 0 {
            bail!("--probe-every must be at least 1");
        }
        if self.betas.len() != 2 || self.betas.iter().any(|b| !(0.0..1.0).contains(b)) {
            bail!("--betas takes two numbers in [0, 1), e.g. 0.9,0.999");
        }
        if !(0.0..1.0).contains(&self.momentum) {
            bail!("--momentum must be in [0, 1), got {}", self.momentum);
        }
        if !self.weight_decay.is_finite()
            || self.weight_decay < 0.0
            || self.adam_eps.is_nan()
            || self.adam_eps <= 0.0
        {
            bail!("--weight-decay must be ≥ 0 and --adam-eps > 0");
        }
        if let (Some(lo), Some(hi)) = (self.lr_min, self.lr_max) {
            if lo > hi {
                bail!("--lr-min {lo} is above --lr-max {hi}");
            }
        }
        if self.lr_min.is_some_and(|v| !v.is_finite())
            || self.lr_max.is_some_and(|v| !v.is_finite())
        {
            bail!("--lr-min and --lr-max must be finite");
        }
        if !self.lr_gamma.is_finite() || self.lr_gamma <= 0.0 {
            bail!(
                "--lr-gamma must be a positive number, got {}",
                self.lr_gamma
            );
        }
        Ok(())
    }

    /// η0: --lr, else PyTorch's default for the optimizer.
    pub fn lr0(&self) -> f64 {
        self.lr.unwrap_or(match self.optimizer {
            OptimizerKind::Adam => 1e-3,
            _ => 0.01,
        })
    }

    fn default_out(&self) -> PathBuf {
        PathBuf::from("runs").join(format!(
            "{}-{}-{}-lr{}-seed{}",
            self.model.cli_name(),
            self.data.dataset.cli_name(),
            schedule_name(self.schedule),
            self.lr0(),
            self.seed
        ))
    }

    fn schedule(&self) -> Box<dyn Schedule> {
        match self.schedule {
            ScheduleKind::Basic => Box::new(Basic::new(
                self.lr0(),
                self.lr_milestones.clone(),
                self.lr_gamma,
            )),
            ScheduleKind::FirstOrder => Box::new(FirstOrder::new(self.lr0(), self.alpha)),
            ScheduleKind::Newton => Box::new(Newton::new(self.lr0(), self.eps, self.delta)),
            ScheduleKind::Secant => Box::new(Secant::new(self.lr0())),
            ScheduleKind::Auto => Box::new(Auto::new(self.lr0(), self.probe_every)),
        }
    }
}

fn schedule_name(kind: ScheduleKind) -> &'static str {
    match kind {
        ScheduleKind::Basic => "basic",
        ScheduleKind::FirstOrder => "first-order",
        ScheduleKind::Newton => "newton",
        ScheduleKind::Secant => "secant",
        ScheduleKind::Auto => "auto",
    }
}

/// Running sums of one epoch's training steps.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize)]
struct EpochSums {
    loss: f64,
    correct: f64,
    samples: usize,
    /// Steps whose loss counts in the means.
    batches: usize,
    /// Batches of the epoch used up, skipped steps included: where the epoch resumes.
    #[serde(default)]
    consumed: usize,
}

/// Where a (possibly resumed) run starts.
struct Start {
    step: usize,
    epoch: usize,
    sums: EpochSums,
    seconds: f64,
}

/// A step whose update is submitted but whose scalars are not read yet: the next step's
/// forward and backward run on the GPU while the host waits for them.
struct Pending {
    /// The probe step sizes as the GPU got them, for newton.
    probe_steps: Option<[f64; 5]>,
    /// η(t−1) as the back probe used it, when it ran.
    back_probe_at: Option<f64>,
    /// Whether d(t−1) existed for this step's d(t−1)·g(t).
    had_previous: bool,
    step: usize,
    epoch: usize,
    batch: usize,
    lr: f64,
    submission: wgpu::SubmissionIndex,
}

/// The measurements first-order needs: g(t)·g(t−1) from the flat gradient buffers.
struct GradDot {
    program: Program,
    keep: Program,
    previous: crate::gpu::Tensor,
    partials: crate::gpu::Tensor,
    readback: crate::gpu::ReadBack,
    have_previous: bool,
    /// d(t)·g(t), w(t)·d(t) and d(t)·d(t) into `own_partials` (three equal parts), and the
    /// pipelined read-back of all four dots.
    own: Program,
    own_partials: crate::gpu::Tensor,
    dots_readback: crate::gpu::ReadBack,
}

/// The optimizer on the GPU: its state buffers and the program writing d(t).
struct Optimizer {
    /// d(t): the gradient itself for plain SGD.
    direction: crate::gpu::Tensor,
    program: Program,
    /// Named state (momentum buffer, Adam moments), kept in checkpoints.
    state: Vec<(&'static str, crate::gpu::Tensor)>,
    /// Adam's 1 − β^t, written each step.
    corrections: Option<(crate::gpu::Tensor, f64, f64)>,
}

impl Optimizer {
    fn new(gpu: &Gpu, args: &TrainArgs, params: &Params) -> Result<Optimizer> {
        let (w, g) = (&params.values, &params.grads);
        let len = w.len();
        let decay = args.weight_decay as f32;
        let mut program = Program::new();
        let mut state = Vec::new();
        let mut corrections = None;
        let direction = match args.optimizer {
            OptimizerKind::Sgd if args.weight_decay == 0.0 => g.clone(),
            OptimizerKind::Sgd => {
                let d = gpu.zeros("step direction", &[len])?;
                crate::ops::optimizer::decay(&mut program, gpu, w, g, &d, decay)?;
                d
            }
            OptimizerKind::Momentum => {
                let d = gpu.zeros("step direction", &[len])?;
                let buf = gpu.zeros("momentum buffer", &[len])?;
                let mu = args.momentum as f32;
                crate::ops::optimizer::momentum(
                    &mut program,
                    gpu,
                    w,
                    g,
                    &buf,
                    &d,
                    mu,
                    args.nesterov,
                    decay,
                )?;
                state.push(("momentum_buffer", buf));
                d
            }
            OptimizerKind::Adam => {
                let d = gpu.zeros("step direction", &[len])?;
                let (m, v) = (gpu.zeros("adam m", &[len])?, gpu.zeros("adam v", &[len])?);
                let c = gpu.zeros("adam bias corrections", &[2])?;
                let betas = (args.betas[0] as f32, args.betas[1] as f32);
                let eps = args.adam_eps as f32;
                crate::ops::optimizer::adam(
                    &mut program,
                    gpu,
                    w,
                    g,
                    &m,
                    &v,
                    &d,
                    &c,
                    betas,
                    eps,
                    decay,
                )?;
                state.push(("exp_avg", m));
                state.push(("exp_avg_sq", v));
                corrections = Some((c, args.betas[0], args.betas[1]));
                d
            }
        };
        Ok(Optimizer {
            direction,
            program,
            state,
            corrections,
        })
    }

    /// Records d(t) for step `step` (1-based) into `encoder`.
    fn encode(&self, gpu: &Gpu, step: usize, encoder: &mut wgpu::CommandEncoder) {
        if let Some((c, b1, b2)) = &self.corrections {
            let t = step as i32;
            gpu.write(c, &[(1.0 - b1.powi(t)) as f32, (1.0 - b2.powi(t)) as f32]);
        }
        self.program.encode(encoder);
    }
}

/// Copies of the weights and optimizer state from before one step's update.
struct Backup {
    save: Program,
    restore: Program,
}

struct Trainer<'a> {
    args: &'a TrainArgs,
    /// The validation split the probes evaluate with --probe-on val.
    val: Option<Dataset>,
    gpu: Gpu,
    net: Net,
    data: Dataset,
    params: Params,
    schedule: Box<dyn Schedule>,
    plans: HashMap<usize, Plan>,
    probe_weights: Option<crate::gpu::Tensor>,
    /// What the plans' probes move along, and how many step sizes they evaluate.
    probe_direction: crate::gpu::Tensor,
    probe_count: usize,
    /// η(t−1) as the GPU used it, for auto's probe back to w(t−1).
    previous_lr: Option<f32>,
    /// The rule's own log, for schedules that keep one.
    rule_csv: Option<std::fs::File>,
    lr: crate::gpu::Tensor,
    update: Program,
    optimizer: Optimizer,
    grad_dot: Option<GradDot>,
    pending: Option<Pending>,
    /// With --on-nonfinite skip: the weights before the last update, to restore.
    /// Two buffers alternate: step t saves w(t) in `[t % 2]`.
    /// Each holds the weights and the optimizer state, and the program that saves them.
    backup: Option<[Backup; 2]>,
    skipped: usize,
    /// The first step this process runs (a resumed run has no backup from before it).
    first_step: usize,
    /// Buffers created on the device when the first epoch ended.
    buffers_after_epoch_1: Option<usize>,
    out: PathBuf,
    epochs_csv: EpochWriter,
    steps_csv: StepWriter,
    evals_csv: Option<std::fs::File>,
    progress: Progress,
    clock: Instant,
    start_seconds: f64,
    sums: EpochSums,
    images: usize,
    classify: bool,
    last_train_loss: f64,
    last_test: Option<(f64, f64)>,
    best_acc: Option<f64>,
}

/// Trains as `args` says on the adapter `adapter` (or the preferred one).
pub fn train(args: &TrainArgs, adapter: Option<&str>) -> Result<Summary> {
    args.validate()?;
    // The configuration as run: η0 resolved (run.json and `plot` read it).
    let mut resolved = args.clone();
    resolved.lr = Some(match &args.lr_from {
        Some(dir) => {
            let lr = lr_from_run(dir, args.lr_from_stat)?;
            eprintln!("starting at η = {lr} from {}", dir.display());
            lr
        }
        None => args.lr0(),
    });
    let args = &resolved;
    // Everything that can fail on bad input happens before the run directory is touched.
    let data = args.data.load(args.seed)?;
    let probe_val = args.probe_on == ProbeOn::Val;
    if probe_val && !args.schedule().needs().probe {
        bail!("--probe-on val needs a schedule that probes (--schedule newton)");
    }
    let (data, val) = if probe_val {
        let (train, val) = data.carve_validation(args.val_split, args.seed)?;
        if val.train.len() < args.batch_size {
            bail!(
                "--val-split {} holds {} samples, fewer than one batch of {}",
                args.val_split,
                val.train.len(),
                args.batch_size
            );
        }
        (train, Some(val))
    } else {
        (data, None)
    };
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
    let resume = match &args.resume {
        Some(path) => {
            let ckpt = checkpoint::load(path)?;
            check_same_options(&ckpt, args)?;
            Some(ckpt)
        }
        None => None,
    };
    let gpu = Gpu::open(adapter)?;
    eprintln!("using adapter {}: {}", gpu.index, gpu.describe());
    let params = Params::with_buffers(&gpu, net.layout.clone(), net.buffers.clone())?;
    let mut schedule = args.schedule();
    let start = match &resume {
        Some(ckpt) => restore(&net, &params, &gpu, ckpt, schedule.as_mut())?,
        None => {
            params.upload_all(&gpu, &net.init(args.seed));
            params.upload_buffers(&gpu, &net.init_buffers());
            Start {
                step: 0,
                epoch: 0,
                sums: EpochSums::default(),
                seconds: 0.0,
            }
        }
    };
    let needs = schedule.needs();
    // newton probes five step sizes along d(t); auto one along d(t−1), back to w(t−1).
    let probe_count = if needs.probe {
        PROBES
    } else if needs.back_probe_every > 0 {
        1
    } else {
        0
    };
    let probe_weights = if probe_count > 0 {
        // Five copies of the weights when they fit the binding limit, else one at a time.
        let chunk = probe_chunk(&gpu, &net, args.batch_size)
            .with_context(|| layout_error(&net, &gpu, args.batch_size))?
            .min(probe_count);
        Some(gpu.zeros("probe weights", &[chunk, params.values.len()])?)
    } else {
        None
    };
    let lr = gpu.zeros("learning rate", &[1])?;
    let optimizer = Optimizer::new(&gpu, args, &params)?;
    let mut update = Program::new();
    sgd::step(&mut update, &gpu, &params.values, &optimizer.direction, &lr)?;
    let grad_dot = if needs.grad_dot || needs.dots {
        Some(GradDot::new(&gpu, &params, &optimizer.direction)?)
    } else {
        None
    };
    let probe_direction = match (&grad_dot, needs.back_probe_every) {
        (Some(gd), 1..) => gd.previous.clone(),
        _ => optimizer.direction.clone(),
    };
    let mut plans = HashMap::new();
    // Lay out the full batch now, so that a batch too big for the adapter fails here.
    let plan = make_plan(
        &gpu,
        &net,
        &params,
        args.batch_size,
        probe_weights.as_ref(),
        &probe_direction,
        probe_count,
        probe_val,
    )
    .with_context(|| layout_error(&net, &gpu, args.batch_size))?;
    plans.insert(args.batch_size, plan);

    let out = match (&args.out, &args.resume) {
        (Some(out), _) => out.clone(),
        (None, Some(ckpt)) => ckpt.parent().map(Path::to_path_buf).unwrap_or_default(),
        (None, None) => args.default_out(),
    };
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create the run directory {} (--out)", out.display()))?;
    let (epochs_csv, steps_csv) = if resume.is_some() {
        (
            EpochWriter::resume(out.join("epochs.csv"), start.epoch)?,
            StepWriter::resume(out.join("steps.csv"), needs.probe, start.step)?,
        )
    } else {
        (
            EpochWriter::create(out.join("epochs.csv")).with_context(|| {
                format!(
                    "cannot write to the run directory {} (--out)",
                    out.display()
                )
            })?,
            StepWriter::create(out.join("steps.csv"), needs.probe)?,
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

    let per_epoch = data.batches_per_epoch(args.batch_size, args.data.drop_last);
    let total_steps = (per_epoch * args.epochs).min(args.max_steps.unwrap_or(usize::MAX));
    let classify = data.num_classes > 0;
    let mut t = Trainer {
        args,
        val,
        gpu,
        net,
        data,
        params,
        schedule,
        plans,
        probe_weights,
        probe_direction,
        probe_count,
        previous_lr: None,
        rule_csv: None,
        lr,
        update,
        optimizer,
        grad_dot,
        pending: None,
        backup: None,
        skipped: 0,
        first_step: 1,
        buffers_after_epoch_1: None,
        out: out.clone(),
        epochs_csv,
        steps_csv,
        evals_csv: None,
        progress: Progress::new(total_steps, start.step),
        clock: Instant::now(),
        start_seconds: start.seconds,
        sums: start.sums,
        images: 0,
        classify,
        last_train_loss: f64::NAN,
        last_test: None,
        best_acc: None,
    };
    if args.on_nonfinite == OnNonFinite::Skip {
        let mut saved = Vec::new();
        for _ in 0..2 {
            let (mut save, mut restore) = (Program::new(), Program::new());
            let live =
                std::iter::once(&t.params.values).chain(t.optimizer.state.iter().map(|(_, x)| x));
            for x in live {
                let copy = t.gpu.zeros("state before the update", &[x.len()])?;
                save.copy(x, &copy);
                restore.copy(&copy, x);
            }
            saved.push(Backup { save, restore });
        }
        t.backup = saved.try_into().ok();
    }
    if let Some(ckpt) = &args.resume {
        restore_state(&mut t, ckpt)?;
    }
    t.first_step = start.step + 1;
    let (step, epochs_done, stopped_inside) =
        match t.run(start.step, start.epoch, total_steps, per_epoch) {
            Ok(r) => r,
            Err(e) => {
                // Keep what the run measured up to the failure, readable by `plot`.
                t.progress.finish();
                run_info.totals = serde_json::json!({
                    "stopped": format!("{e:#}"),
                    "safeguarded_steps": t.schedule.safeguarded(),
                    "skipped_steps": t.skipped,
                    "seconds": t.seconds(),
                });
                run_info.finished = Some(super::metrics::utc_now());
                let _ = run_info.write(out.join("run.json"));
                let _ = crate::report::run_figures(&out);
                return Err(e);
            }
        };
    t.progress.finish();
    // Counted before the final checkpoint's download.
    let buffers_at_end = t.gpu.buffers_created();
    let elapsed = t.seconds();
    // A run stopped by --max-steps inside an epoch resumes inside it.
    let (ckpt_epoch, ckpt_sums) = match stopped_inside {
        Some(sums) => (epochs_done - 1, sums),
        None => (epochs_done, EpochSums::default()),
    };
    t.save_checkpoint(step, ckpt_epoch, ckpt_sums)?;
    let summary = Summary {
        out: out.clone(),
        steps: step,
        epochs: epochs_done,
        final_train_loss: t.last_train_loss,
        final_test_loss: t.last_test.map(|x| x.0),
        final_test_acc: if classify {
            t.last_test.map(|x| x.1)
        } else {
            None
        },
        best_test_acc: t.best_acc,
        lr: t.schedule.lr(),
        seconds: elapsed,
        images_per_second: t.images as f64 / t.clock.elapsed().as_secs_f64().max(1e-9),
    };
    run_info.totals = serde_json::to_value(&summary)?;
    run_info.totals["safeguarded_steps"] = t.schedule.safeguarded().into();
    run_info.totals["skipped_steps"] = t.skipped.into();
    // Every batch size, partial batches included, has met its plan in the first epoch;
    // later steps must replay them without creating anything.
    if let Some(n) = t.buffers_after_epoch_1 {
        run_info.totals["buffers_created_after_epoch_1"] = (buffers_at_end - n).into();
    }
    let per_step = t.plans[&args.batch_size].readback_bytes()
        + t.grad_dot.as_ref().map_or(0, |g| g.readback.bytes());
    run_info.totals["readback_bytes_per_step"] = per_step.into();
    run_info.totals["gpu_bytes_allocated"] = t.gpu.bytes_allocated().into();
    if let Some(w) = &t.probe_weights {
        run_info.totals["probes_per_pass"] = (w.len() / t.params.values.len()).into();
    }
    run_info.finished = Some(super::metrics::utc_now());
    run_info.write(out.join("run.json"))?;
    crate::report::run_figures(&out).context("drawing the run's figures")?;
    Ok(summary)
}

/// A plan with `count` probes along `direction` (none when `count` is 0).
#[allow(clippy::too_many_arguments)]
fn make_plan(
    gpu: &Gpu,
    net: &Net,
    params: &Params,
    batch: usize,
    weights: Option<&crate::gpu::Tensor>,
    direction: &crate::gpu::Tensor,
    count: usize,
    own_batch: bool,
) -> Result<Plan, crate::gpu::GpuError> {
    let spec = weights.filter(|_| count > 0).map(|weights| ProbeSpec {
        weights,
        direction,
        count,
        own_batch,
    });
    Plan::with_probe(gpu, net, params, batch, spec)
}

fn layout_error(net: &Net, gpu: &Gpu, batch: usize) -> String {
    format!(
        "cannot lay out {} at batch size {batch} on {}",
        net.kind.cli_name(),
        gpu.info.name
    )
}

impl GradDot {
    /// f′(η(t−1)) = −d(t−1)·g(t): the dot (before step t's update) and the copy of d(t)
    /// for the next step (after it is computed).
    fn new(gpu: &Gpu, params: &Params, direction: &crate::gpu::Tensor) -> Result<GradDot> {
        let len = params.grads.len();
        let previous = gpu.zeros("previous gradient", &[len])?;
        let partials = gpu.zeros(
            "gradient dot partials",
            &[crate::ops::reduce::partial_count(len)],
        )?;
        let mut program = Program::new();
        crate::ops::reduce::dot(&mut program, gpu, &params.grads, &previous, &partials)?;
        let mut keep = Program::new();
        keep.copy(direction, &previous);
        let readback = crate::gpu::ReadBack::new(gpu, "gradient dot", partials.len());
        let n = partials.len();
        let own_partials = gpu.zeros("direction dot partials", &[3, crate::gpu::align_elems(n)])?;
        let part = |i: usize| own_partials.view(i * crate::gpu::align_elems(n), &[n]);
        let mut own = Program::new();
        let dot = crate::ops::reduce::dot;
        dot(&mut own, gpu, &params.grads, direction, &part(0))?;
        dot(&mut own, gpu, &params.values, direction, &part(1))?;
        dot(&mut own, gpu, direction, direction, &part(2))?;
        let dots_readback =
            crate::gpu::ReadBack::new(gpu, "direction dots", n + own_partials.len());
        Ok(GradDot {
            program,
            keep,
            previous,
            partials,
            readback,
            have_previous: false,
            own,
            own_partials,
            dots_readback,
        })
    }
}

impl Trainer<'_> {
    fn seconds(&self) -> f64 {
        self.start_seconds + self.clock.elapsed().as_secs_f64()
    }

    fn plan(&mut self, batch: usize) -> Result<&Plan> {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.plans.entry(batch) {
            let plan = make_plan(
                &self.gpu,
                &self.net,
                &self.params,
                batch,
                self.probe_weights.as_ref(),
                &self.probe_direction,
                self.probe_count,
                self.val.is_some(),
            )
            .with_context(|| layout_error(&self.net, &self.gpu, batch))?;
            slot.insert(plan);
        }
        Ok(&self.plans[&batch])
    }

    /// Runs the epochs; returns (steps done, epochs started, the sums of the epoch
    /// --max-steps stopped inside, if any).
    fn run(
        &mut self,
        mut step: usize,
        start_epoch: usize,
        total_steps: usize,
        per_epoch: usize,
    ) -> Result<(usize, usize, Option<EpochSums>)> {
        let args = self.args;
        let mut epoch = start_epoch;
        if step >= total_steps && self.sums.consumed > 0 {
            // Resumed with no step left: keep the position inside the epoch.
            return Ok((step, epoch + 1, Some(self.sums)));
        }
        while epoch < args.epochs && step < total_steps {
            // A checkpoint taken on an epoch's last step resumes straight into its evaluation.
            let first = self.sums.consumed;
            let batches = if first < per_epoch {
                Some(self.data.train_batches(
                    args.batch_size,
                    args.seed,
                    epoch,
                    first,
                    args.data.drop_last,
                    args.data.augment,
                )?)
            } else {
                None
            };
            for batch in batches.into_iter().flatten() {
                step += 1;
                self.step(step, epoch, &batch)?;
                if args
                    .checkpoint_every
                    .is_some_and(|n| step.is_multiple_of(n))
                {
                    self.flush()?;
                    self.save_checkpoint(step, epoch, self.sums)?;
                }
                if args.eval_every.is_some_and(|n| step.is_multiple_of(n)) {
                    self.flush()?;
                    self.log_eval(step, epoch)?;
                }
                if step >= total_steps {
                    break;
                }
            }
            self.flush()?;
            let inside = (self.sums.consumed < per_epoch).then_some(self.sums);
            self.end_epoch(epoch, inside.is_none())?;
            epoch += 1;
            if inside.is_some() {
                return Ok((step, epoch, inside));
            }
        }
        Ok((step, epoch, None))
    }

    /// One training step. The forward and backward pass go in one submission; the update
    /// (after the probes, for newton) in a second one, once η(t) is known; the scalars of
    /// step t are read while step t+1's forward and backward run.
    fn step(&mut self, step: usize, epoch: usize, batch: &Batch) -> Result<()> {
        self.plan(batch.len)?;
        let dot = self.submit_gradient(step, batch)?;
        // Step t−1's scalars arrive while this step's forward and backward run.
        self.flush()?;
        let before = self.schedule.lr();
        self.schedule.observe_gradient(dot);
        self.guard_lr(before);
        let eta = self.schedule.lr();
        if !eta.is_finite() {
            bail!(
                "η became {eta} at step {step} (epoch {}); metrics up to step {}{} are in {} \
                 (the paper's rules are unguarded: see --on-nonfinite skip, --lr-min, --lr-max)",
                epoch + 1,
                step - 1,
                self.checkpoint_note(),
                self.out.display()
            );
        }
        let gpu = &self.gpu;
        let plan = &self.plans[&batch.len];
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        gpu.write(&self.lr, &[eta as f32]);
        if let Some(saved) = &self.backup {
            saved[step % 2].save.encode(&mut encoder);
        }
        self.optimizer.encode(gpu, step, &mut encoder);
        let needs = self.schedule.needs();
        let (mut back_probe_at, mut had_previous) = (None, false);
        if let (true, Some(gd)) = (needs.dots, &self.grad_dot) {
            had_previous = gd.have_previous;
            let every = needs.back_probe_every;
            // auto's probe back to w(t−1) = w(t) + η(t−1)·d(t−1), before d(t) replaces d(t−1).
            if let (true, Some(probe), Some(prev)) = (
                every > 0 && had_previous && step.is_multiple_of(every),
                &plan.probe,
                self.previous_lr,
            ) {
                gpu.write(&probe.steps, &[-prev]);
                probe.program.encode(&mut encoder);
                probe.copy_outputs(&mut encoder);
                back_probe_at = Some(f64::from(prev));
            }
            gd.program.encode(&mut encoder);
            gd.own.encode(&mut encoder);
            gd.dots_readback.copy_from(&mut encoder, &gd.partials, 0);
            gd.dots_readback
                .copy_from(&mut encoder, &gd.own_partials, gd.partials.len());
        }
        if let Some(gd) = &self.grad_dot {
            gd.keep.encode(&mut encoder);
        }
        if let Some(val) = &self.val {
            // Step t's probe batch is a pure function of (seed, t): resumable.
            let per_epoch = val.batches_per_epoch(self.args.batch_size, true);
            let vb = val.train_batch(
                self.args.batch_size,
                self.args.seed ^ 0x7072_6f62_6573,
                (step - 1) / per_epoch,
                (step - 1) % per_epoch,
                true,
                false,
            )?;
            plan.write_probe_batch(gpu, &vb.x, &vb.y_class, &vb.y_value);
        }
        let mut probe_steps = None;
        if let (true, Some(probe)) = (needs.probe, &plan.probe) {
            let steps = self.schedule.probe_steps().map(|v| v as f32);
            probe_steps = Some(steps.map(f64::from));
            gpu.write(&probe.steps, &steps);
            probe.program.encode(&mut encoder);
            probe.copy_outputs(&mut encoder);
        }
        self.update.encode(&mut encoder);
        plan.copy_outputs(&mut encoder);
        let submission = gpu.queue.submit([encoder.finish()]);
        if let (true, Some(gd)) = (needs.dots, &mut self.grad_dot) {
            gd.have_previous = true;
        }
        self.previous_lr = Some(eta as f32);
        self.pending = Some(Pending {
            probe_steps,
            back_probe_at,
            had_previous,
            step,
            epoch,
            batch: batch.len,
            lr: eta,
            submission,
        });
        if self.backup.is_some() {
            // Skipping needs the verdict before the next step builds on these weights.
            self.flush()?;
        }
        Ok(())
    }

    fn checkpoint_note(&self) -> &'static str {
        if self.out.join(CHECKPOINT).exists() {
            " and the last checkpoint"
        } else {
            ""
        }
    }

    /// Applies the opt-in safeguards to a new η: the clamps, and with --on-nonfinite skip
    /// half the previous rate in place of a non-finite one.
    fn guard_lr(&mut self, previous: f64) {
        let mut eta = self.schedule.lr();
        if !eta.is_finite() && self.backup.is_some() {
            eta = previous / 2.0;
        }
        // A non-finite η is for the stop check to see, not for a clamp to hide.
        if eta.is_finite() {
            if let Some(lo) = self.args.lr_min {
                eta = eta.max(lo);
            }
            if let Some(hi) = self.args.lr_max {
                eta = eta.min(hi);
            }
        }
        if eta.to_bits() != self.schedule.lr().to_bits() {
            self.schedule.set_lr(eta);
        }
    }

    /// Submits the forward and backward pass of `batch`; for first-order also g(t)·g(t−1),
    /// which it waits for (the update needs it).
    fn submit_gradient(&mut self, step: usize, batch: &Batch) -> Result<Option<f64>> {
        let gpu = &self.gpu;
        let plan = &self.plans[&batch.len];
        plan.write_batch(gpu, &batch.x, &batch.y_class, &batch.y_value);
        plan.set_dropout_seed(gpu, self.args.seed, step as u64);
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        plan.forward.encode(&mut encoder);
        plan.backward.encode(&mut encoder);
        let sync = self.schedule.needs().grad_dot;
        let Some(gd) = self.grad_dot.as_mut().filter(|_| sync) else {
            gpu.queue.submit([encoder.finish()]);
            return Ok(None);
        };
        gd.program.encode(&mut encoder);
        gd.readback.copy_from(&mut encoder, &gd.partials, 0);
        let submission = gpu.queue.submit([encoder.finish()]);
        let partials: Vec<f32> = gd.readback.fetch_after(gpu, Some(submission))?;
        let dot = gd
            .have_previous
            .then(|| crate::ops::reduce::combine(&partials));
        gd.have_previous = true;
        Ok(dot)
    }

    /// Reads the scalars of the pending step, lets the schedule learn from them, logs.
    fn flush(&mut self) -> Result<()> {
        let Some(p) = self.pending.take() else {
            return Ok(());
        };
        let plan = &self.plans[&p.batch];
        let outputs = plan.fetch_outputs_after(&self.gpu, Some(p.submission.clone()))?;
        let probes: Option<[f64; 5]> = match (&plan.probe, p.probe_steps) {
            (Some(probe), Some(_)) => {
                let f = probe.fetch(&self.gpu, Some(p.submission.clone()))?;
                Some(f.try_into().expect("five probes"))
            }
            _ => None,
        };
        let back_probe = match (&plan.probe, p.back_probe_at) {
            (Some(probe), Some(at)) => Some(BackProbe {
                start: probe.fetch(&self.gpu, Some(p.submission.clone()))?[0],
                at,
            }),
            _ => None,
        };
        let dots = match &self.grad_dot {
            Some(gd) if self.schedule.needs().dots => {
                let v: Vec<f32> = gd
                    .dots_readback
                    .fetch_after(&self.gpu, Some(p.submission.clone()))?;
                let n = gd.partials.len();
                let (cross, rest) = v.split_at(n);
                let part = |i: usize| {
                    let at = i * crate::gpu::align_elems(n);
                    crate::ops::reduce::combine(&rest[at..at + n])
                };
                Some(Dots {
                    own: part(0),
                    cross: p.had_previous.then(|| crate::ops::reduce::combine(cross)),
                    weights: part(1),
                    norm: part(2),
                })
            }
            _ => None,
        };
        let finite =
            outputs.loss.is_finite() && !probes.is_some_and(|f| f.iter().any(|v| !v.is_finite()));
        if let (false, Some(saved)) = (finite, &self.backup) {
            // A bad loss at w(t) was caused by step t−1's update: go back to w(t−1).
            // Bad probes (finite loss) condemn this step's update: go back to w(t).
            let back = if outputs.loss.is_finite() || p.step <= self.first_step {
                p.step
            } else {
                p.step - 1
            };
            saved[back % 2].restore.run(&self.gpu)?;
            self.schedule.set_lr(p.lr / 2.0);
            self.skipped += 1;
            self.sums.consumed += 1;
            if let Some(gd) = &mut self.grad_dot {
                // The kept gradient may be the discarded, non-finite one.
                gd.have_previous = false;
            }
            self.schedule.forget_direction();
            self.steps_csv.write(&StepRecord {
                step: p.step,
                epoch: p.epoch + 1,
                loss: outputs.loss,
                lr: p.lr,
                probe: None,
            })?;
            eprintln!(
                "step {}: non-finite loss or probe; step discarded, η halved to {}",
                p.step,
                p.lr / 2.0
            );
            return Ok(());
        }
        if !finite {
            let probes = probes.map_or(String::new(), |f| format!(", probes f(η+kε) = {f:?}"));
            bail!(
                "training diverged at step {} (epoch {}): loss {}{probes}; metrics up to step {}{} are in {} \
                 (the paper's rules are unguarded: see --on-nonfinite skip, --lr-min, --lr-max)",
                p.step,
                p.epoch + 1,
                outputs.loss,
                p.step - 1,
                self.checkpoint_note(),
                self.out.display()
            );
        }
        self.sums.loss += outputs.loss * p.batch as f64;
        self.sums.correct += outputs.correct;
        self.sums.samples += p.batch;
        self.sums.batches += 1;
        self.sums.consumed += 1;
        self.images += p.batch;
        let probe = self.schedule.observe(&Observation {
            step: p.step,
            epoch: p.epoch,
            loss: outputs.loss,
            lr: p.lr,
            probes,
            probe_steps: p.probe_steps,
            dots,
            back_probe,
        });
        self.guard_lr(p.lr);
        if let Some(line) = self.schedule.record(p.step) {
            self.write_rule_line(&line)?;
        }
        self.steps_csv.write(&StepRecord {
            step: p.step,
            epoch: p.epoch + 1,
            loss: outputs.loss,
            lr: p.lr,
            probe,
        })?;
        let ips = self.images as f64 / self.clock.elapsed().as_secs_f64().max(1e-9);
        self.progress.step(p.step, p.epoch, outputs.loss, p.lr, ips);
        Ok(())
    }

    /// Evaluates and records the epoch; `complete` is false when --max-steps stopped the
    /// run inside it (its step decay then waits for the epoch's real end).
    fn end_epoch(&mut self, epoch: usize, complete: bool) -> Result<()> {
        if complete {
            self.schedule.end_epoch(epoch);
        }
        let (test_loss, test_acc) = self.evaluate()?;
        let samples = self.sums.samples.max(1) as f64;
        let train_loss = self.sums.loss / samples;
        self.last_train_loss = train_loss;
        self.last_test = Some((test_loss, test_acc));
        if self.classify {
            self.best_acc = Some(self.best_acc.map_or(test_acc, |b| b.max(test_acc)));
        }
        self.epochs_csv.write(&EpochRecord {
            epoch: epoch + 1,
            train_loss,
            train_acc: self.classify.then_some(self.sums.correct / samples),
            test_loss: Some(test_loss),
            test_acc: self.classify.then_some(test_acc),
            lr: self.schedule.lr(),
            seconds: self.seconds(),
        })?;
        let acc = self.classify.then_some(test_acc);
        self.progress.epoch_line(
            epoch,
            train_loss,
            Some((test_loss, acc)),
            self.schedule.lr(),
        );
        self.sums = EpochSums::default();
        self.buffers_after_epoch_1
            .get_or_insert(self.gpu.buffers_created());
        Ok(())
    }

    /// Mean loss and accuracy over the test split.
    fn evaluate(&mut self) -> Result<(f64, f64)> {
        let (mut loss, mut correct, mut n) = (0.0, 0.0, 0usize);
        for batch in self.data.test_batches(self.args.batch_size)? {
            self.plan(batch.len)?;
            let plan = &self.plans[&batch.len];
            plan.write_batch(&self.gpu, &batch.x, &batch.y_class, &batch.y_value);
            let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
            plan.eval_forward().encode(&mut encoder);
            plan.copy_outputs(&mut encoder);
            let submission = self.gpu.queue.submit([encoder.finish()]);
            let o = plan.fetch_outputs_after(&self.gpu, Some(submission))?;
            loss += o.loss * batch.len as f64;
            correct += o.correct;
            n += batch.len;
        }
        let n = n.max(1) as f64;
        Ok((loss / n, correct / n))
    }

    /// Appends to `rule.csv` (created on the first line; a resumed run keeps the lines up
    /// to its checkpoint).
    fn write_rule_line(&mut self, line: &str) -> Result<()> {
        use std::io::Write;
        if self.rule_csv.is_none() {
            let header = self.schedule.record_header().unwrap_or("step");
            self.rule_csv = Some(open_step_log(
                &self.out.join("rule.csv"),
                header,
                self.first_step,
            )?);
        }
        if let Some(f) = &mut self.rule_csv {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }

    fn log_eval(&mut self, step: usize, epoch: usize) -> Result<()> {
        use std::io::Write;
        let (test_loss, test_acc) = self.evaluate()?;
        if self.evals_csv.is_none() {
            self.evals_csv = Some(open_step_log(
                &self.out.join("evals.csv"),
                "step,epoch,test_loss,test_acc",
                self.first_step,
            )?);
        }
        let acc = if self.classify {
            test_acc.to_string()
        } else {
            String::new()
        };
        if let Some(f) = &mut self.evals_csv {
            writeln!(f, "{step},{},{test_loss},{acc}", epoch + 1)?;
        }
        Ok(())
    }

    fn save_checkpoint(&self, step: usize, epoch: usize, sums: EpochSums) -> Result<()> {
        let values = self.params.download_all(&self.gpu)?;
        let buffers = self.params.download_buffers(&self.gpu)?;
        // Parameters, then running statistics, in PyTorch's state_dict names.
        let tensors: Vec<(String, Vec<usize>, &[f32])> = self
            .net
            .layout
            .slots
            .iter()
            .zip(&values)
            .chain(self.net.buffers.slots.iter().zip(&buffers))
            .map(|(s, v)| (s.name.clone(), s.shape.clone(), v.as_slice()))
            .collect();
        let mut meta = TrainingMeta {
            lr: self.schedule.lr(),
            step: step as u64,
            epoch: epoch as u64,
            seed: self.args.seed,
            schedule_state: self.schedule.state(),
        }
        .to_metadata();
        meta.insert(META_MODEL.into(), self.net.kind.cli_name().into());
        meta.insert(META_SUMS.into(), serde_json::to_string(&sums)?);
        meta.insert(META_SECONDS.into(), self.seconds().to_string());
        meta.insert(
            META_OPTIONS.into(),
            serde_json::to_string(&trajectory_options(self.args)?)?,
        );
        checkpoint::save(self.out.join(CHECKPOINT), &tensors, meta)?;
        // Optimizer state and first-order's d(t−1) continue a resumed run exactly; they
        // live beside the checkpoint so that the checkpoint itself loads into PyTorch as is.
        let mut named: Vec<(String, &crate::gpu::Tensor)> = self
            .optimizer
            .state
            .iter()
            .map(|(n, t)| (format!("optimizer.{n}"), t))
            .collect();
        let mut meta = BTreeMap::new();
        if let Some(gd) = &self.grad_dot {
            named.push(("previous_direction".to_string(), &gd.previous));
            meta.insert("have_previous".to_string(), gd.have_previous.to_string());
        }
        if !named.is_empty() {
            let data: Vec<Vec<f32>> = named
                .iter()
                .map(|(_, t)| self.gpu.read(t))
                .collect::<Result<_, _>>()?;
            let tensors: Vec<(String, Vec<usize>, &[f32])> = named
                .iter()
                .zip(&data)
                .map(|((n, _), d)| (n.clone(), vec![d.len()], d.as_slice()))
                .collect();
            checkpoint::save(
                schedule_state_path(&self.out.join(CHECKPOINT)),
                &tensors,
                meta,
            )?;
        }
        Ok(())
    }
}

/// Opens a per-step CSV log (first column: the step) for appending. A run resumed at
/// `first_step` keeps the lines of the steps before it; a fresh run starts it anew.
fn open_step_log(path: &Path, header: &str, first_step: usize) -> Result<std::fs::File> {
    use std::io::Write;
    let kept: Vec<String> = if first_step > 1 {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .filter(|l| {
                l.split(',')
                    .next()
                    .and_then(|v| v.parse::<usize>().ok())
                    .is_some_and(|s| s < first_step)
            })
            .map(str::to_string)
            .collect()
    } else {
        Vec::new()
    };
    let mut f =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(f, "{header}")?;
    for line in kept {
        writeln!(f, "{line}")?;
    }
    Ok(f)
}

/// Loads the optimizer state and first-order's d(t−1) saved beside a checkpoint.
fn restore_state(t: &mut Trainer, ckpt: &Path) -> Result<()> {
    let mut wanted: Vec<(String, crate::gpu::Tensor)> = t
        .optimizer
        .state
        .iter()
        .map(|(n, x)| (format!("optimizer.{n}"), x.clone()))
        .collect();
    if let Some(gd) = &t.grad_dot {
        wanted.push(("previous_direction".to_string(), gd.previous.clone()));
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let path = schedule_state_path(ckpt);
    let state = checkpoint::load(&path).with_context(|| {
        format!(
            "resuming this optimizer and schedule needs {}",
            path.display()
        )
    })?;
    for (name, tensor) in &wanted {
        let (shape, data) = state
            .tensor(name)
            .with_context(|| format!("{} has no {name}", path.display()))?;
        if shape != [tensor.len()] {
            bail!(
                "{}: {name} has shape {shape:?}, the model needs [{}]",
                path.display(),
                tensor.len()
            );
        }
        t.gpu.write(tensor, data);
    }
    if let Some(gd) = &mut t.grad_dot {
        gd.have_previous = state.meta("have_previous")? == "true";
    }
    Ok(())
}

/// Where the schedule's tensors of a checkpoint are kept.
fn schedule_state_path(checkpoint: &Path) -> PathBuf {
    checkpoint.with_extension("schedule.safetensors")
}

const META_MODEL: &str = "etaprobe.model";
const META_SUMS: &str = "etaprobe.epoch_sums";
const META_SECONDS: &str = "etaprobe.seconds";
const META_OPTIONS: &str = "etaprobe.options";

/// Options a resumed run may change: how long it goes on, what and where it writes, and
/// where the data comes from. Every other option shapes the trajectory.
const RESUME_MAY_CHANGE: &[&str] = &[
    "epochs",
    "max_steps",
    "out",
    "resume",
    "checkpoint_every",
    "eval_every",
    "lr_from",
    "lr_from_stat",
    "on_nonfinite",
    "data",
    "download",
    "cache_dir",
    "download_base",
];

/// The options that shape a run's trajectory, by field name (the data options flattened,
/// η0 resolved), as stored in its checkpoints.
fn trajectory_options(args: &TrainArgs) -> Result<BTreeMap<String, serde_json::Value>> {
    let serde_json::Value::Object(all) = serde_json::to_value(args)? else {
        bail!("the training options do not serialize to a map");
    };
    let mut options = BTreeMap::new();
    for (key, value) in all {
        match value {
            serde_json::Value::Object(group) if key == "data" => options.extend(group),
            value => {
                options.insert(key, value);
            }
        }
    }
    options.retain(|key, _| !RESUME_MAY_CHANGE.contains(&key.as_str()));
    options.insert("lr".into(), args.lr0().into());
    Ok(options)
}

/// Refuses to resume a checkpoint with options that would change the run it continues
/// (e.g. a forgotten `--dropout`), naming each difference. Checkpoints written before the
/// options were stored are not checked.
fn check_same_options(ckpt: &checkpoint::Checkpoint, args: &TrainArgs) -> Result<()> {
    let Some(stored) = ckpt.metadata.get(META_OPTIONS) else {
        return Ok(());
    };
    let stored: BTreeMap<String, serde_json::Value> = serde_json::from_str(stored)
        .with_context(|| format!("{}: unreadable {META_OPTIONS}", ckpt.path.display()))?;
    let now = trajectory_options(args)?;
    let null = serde_json::Value::Null;
    let differences: Vec<String> = stored
        .keys()
        .chain(now.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter_map(|key| {
            let (was, is) = (
                stored.get(key).unwrap_or(&null),
                now.get(key).unwrap_or(&null),
            );
            (was != is).then(|| {
                format!(
                    "--{} {} (now {})",
                    key.replace('_', "-"),
                    option_text(was),
                    option_text(is)
                )
            })
        })
        .collect();
    if !differences.is_empty() {
        bail!(
            "{} was written by a run with other options: {}; resume with the run's options, or \
             start a new run",
            ckpt.path.display(),
            differences.join(", ")
        );
    }
    Ok(())
}

/// An option's value as typed on the command line: f32 options without their widening
/// noise, lists comma-separated, unset ones as "unset".
fn option_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "unset".into(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => match (n.as_f64(), n.is_f64()) {
            (Some(x), true) if (x as f32) as f64 == x => (x as f32).to_string(),
            _ => n.to_string(),
        },
        serde_json::Value::Array(items) => {
            items.iter().map(option_text).collect::<Vec<_>>().join(",")
        }
        other => other.to_string(),
    }
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
    for slot in net.layout.slots.iter().chain(&net.buffers.slots) {
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
    let buffers = values.split_off(net.layout.slots.len());
    params.upload_all(gpu, &values);
    params.upload_buffers(gpu, &buffers);
    let meta = ckpt.training_meta()?;
    schedule
        .restore(&meta.schedule_state)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(Start {
        step: meta.step as usize,
        epoch: meta.epoch as usize,
        sums: ckpt.meta_json(META_SUMS)?,
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

    fn epoch_line(&self, epoch: usize, train_loss: f64, test: Option<(f64, Option<f64>)>, lr: f64) {
        let test = test.map_or(String::new(), |(l, a)| {
            let acc = a.map_or(String::new(), |a| format!(" test acc {:.2}%", 100.0 * a));
            format!(" test loss {l:.5}{acc}")
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
