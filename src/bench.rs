//! `etaprobe bench`: throughput of the kernels, measured on the chosen adapter.

use std::sync::Arc;
use std::time::Instant;

use crate::data::{Batch, DatasetKind};
use crate::gpu::{Gpu, GpuError, Params, Program};
use crate::models::{ModelKind, ModelOptions, Net, Plan};
use crate::ops::matmul::{self, Epilogue, Mat};
use crate::optim::{OptimizerKind, OptimizerOptions};
use crate::schedule::{Basic, Needs, Rule, RuleOptions, RunShape, RULES};
use crate::train::{StepConfig, Stepper, UpdateSpec};

/// One matmul shape to time: `m × k` times `k × n`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MatmulResult {
    /// The shape's name, as given to [`bench_matmul`] (e.g. `square 1024`).
    pub label: String,
    /// Rows of A and C.
    pub m: usize,
    /// Columns of B and C.
    pub n: usize,
    /// Columns of A, rows of B (the reduction length).
    pub k: usize,
    /// Milliseconds per matmul: the mean of the fastest of three timed blocks.
    pub ms: f64,
    /// Throughput at that time, counting `2·m·n·k` floating-point operations, in 10^9 per
    /// second.
    pub gflops: f64,
}

/// What `bench matmul` measured, and where (`--json` prints this).
#[derive(Clone, Debug, serde::Serialize)]
pub struct MatmulBench {
    /// The adapter the products ran on: its name, backend, device type and driver
    /// (`Gpu::describe`).
    pub adapter: String,
    /// One per shape, in the order given.
    pub results: Vec<MatmulResult>,
}

/// The square sizes of the issue and the shapes LeNet-5 and ResNet-18 use at batch 256
/// (convolutions as implicit GEMMs: rows = batch·out_h·out_w, k = in_c·kh·kw).
pub fn matmul_shapes() -> Vec<(String, usize, usize, usize)> {
    let mut v: Vec<(String, usize, usize, usize)> = [256, 512, 1024, 2048]
        .iter()
        .map(|&s| (format!("square {s}"), s, s, s))
        .collect();
    v.extend([
        ("lenet conv1 (b256)".to_string(), 256 * 28 * 28, 6, 75),
        ("lenet conv2 (b256)".to_string(), 256 * 10 * 10, 16, 150),
        ("lenet fc1 (b256)".to_string(), 256, 120, 400),
        ("lenet fc2 (b256)".to_string(), 256, 84, 120),
        (
            "resnet18 layer1 conv (b32)".to_string(),
            32 * 32 * 32,
            64,
            576,
        ),
        (
            "resnet18 layer3 conv (b32)".to_string(),
            32 * 8 * 8,
            256,
            2304,
        ),
        (
            "resnet18 layer4 conv (b32)".to_string(),
            32 * 4 * 4,
            512,
            4608,
        ),
    ]);
    v
}

/// The most host memory the inputs of one timed matmul may take (A and B are generated on
/// the host before their upload).
pub const MATMUL_HOST_BYTES: u64 = 4 << 30;

/// Checks that every matrix of `m × k` times `k × n` fits one storage binding of the
/// adapter and that A and B fit [`MATMUL_HOST_BYTES`], before anything is allocated.
pub fn check_matmul_shape(
    gpu: &Gpu,
    label: &str,
    m: usize,
    n: usize,
    k: usize,
) -> anyhow::Result<()> {
    if m == 0 || n == 0 || k == 0 {
        anyhow::bail!("matmul {label}: every size must be at least 1 (m {m}, n {n}, k {k})");
    }
    let limit = gpu
        .limits
        .max_storage_buffer_binding_size
        .min(gpu.limits.max_buffer_size);
    // In u128: the product of two sizes a user may type overflows u64 (and, near 2^64
    // each, u128 too: saturated, said as "more than").
    let bytes = |rows: usize, cols: usize| (rows as u128 * cols as u128).saturating_mul(4);
    let limit = u128::from(limit);
    let mut host = 0u128;
    for (name, rows, cols) in [("A", m, k), ("B", k, n), ("C", m, n)] {
        let need = bytes(rows, cols);
        if need > limit {
            let need = match need {
                u128::MAX => "more than 2^128".to_string(),
                n => n.to_string(),
            };
            anyhow::bail!(
                "matmul {label}: {name} ({rows}×{cols} f32) needs {need} bytes in one buffer, but \
                 {} allows at most {limit}; choose a smaller size",
                gpu.info.name
            );
        }
        if name != "C" {
            host = host.saturating_add(need);
        }
    }
    if host > u128::from(MATMUL_HOST_BYTES) {
        anyhow::bail!(
            "matmul {label}: A and B need {host} bytes of host memory, more than the {} GiB \
             allowed; choose a smaller size",
            MATMUL_HOST_BYTES >> 30
        );
    }
    Ok(())
}

/// Times `C = A·B` for each shape: one warm-up, then the best of three blocks of ~0.5 s.
/// Every shape is checked first, so a size too large fails before anything runs.
pub fn bench_matmul(
    gpu: &Gpu,
    shapes: &[(String, usize, usize, usize)],
) -> anyhow::Result<MatmulBench> {
    for (label, m, n, k) in shapes {
        check_matmul_shape(gpu, label, *m, *n, *k)?;
    }
    let mut out = Vec::new();
    for (label, m, n, k) in shapes {
        let (m, n, k) = (*m, *n, *k);
        let a = gpu.upload("a", &[m, k], &pseudo_random(m * k, 1))?;
        let b = gpu.upload("b", &[k, n], &pseudo_random(k * n, 2))?;
        let c = gpu.zeros("c", &[m, n])?;
        let mut prog = Program::new();
        matmul::record(
            &mut prog,
            gpu,
            &Mat::new(&a, m, k),
            &Mat::new(&b, k, n),
            &Mat::new(&c, m, n),
            1,
            Epilogue::default(),
        )?;
        prog.run(gpu)?;
        let t = Instant::now();
        prog.run(gpu)?;
        let once = t.elapsed().as_secs_f64();
        // The best of three timed blocks of ~0.5 s each: these machines are shared, and the
        // best block is the one least disturbed.
        let reps = ((0.5 / once.max(1e-6)) as usize).clamp(1, 200);
        let mut s = f64::INFINITY;
        for _ in 0..3 {
            let t = Instant::now();
            for _ in 0..reps {
                prog.submit(gpu);
            }
            gpu.wait()?;
            s = s.min(t.elapsed().as_secs_f64() / reps as f64);
        }
        out.push(MatmulResult {
            label: label.clone(),
            m,
            n,
            k,
            ms: s * 1e3,
            gflops: 2.0 * (m * n * k) as f64 / s / 1e9,
        });
    }
    Ok(MatmulBench {
        adapter: gpu.describe(),
        results: out,
    })
}

/// Deterministic values in [-1, 1) without a generator dependency in the hot loop.
fn pseudo_random(len: usize, seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

/// The network a step benchmark builds, and the samples it reads.
#[derive(Clone, Copy, Debug)]
pub struct BenchModel {
    /// The architecture.
    pub kind: ModelKind,
    /// Its dropout and width.
    pub options: ModelOptions,
    /// The data set whose sample shape and class count the input has; `None`: the
    /// model's paper data set ([`bench_input`]).
    pub dataset: Option<DatasetKind>,
}

impl BenchModel {
    /// `[channels, height, width]` of one sample and the class count.
    pub fn input(&self) -> ([usize; 3], usize) {
        match self.dataset {
            Some(d) => d.sample_shape(),
            None => bench_input(self.kind),
        }
    }

    /// The model's command-line name, and the data set's when one was given: `lenet` or
    /// `lenet on fashion-mnist`.
    pub fn describe(&self) -> String {
        let mut text = self.kind.cli_name().to_string();
        let defaults = ModelOptions::default();
        let mut options = Vec::new();
        if self.options.width_mult != defaults.width_mult {
            options.push(format!("width ×{}", self.options.width_mult));
        }
        if self.options.dropout != defaults.dropout {
            options.push(format!("dropout {}", self.options.dropout));
        }
        if !options.is_empty() {
            text += &format!(" ({})", options.join(", "));
        }
        if let Some(d) = self.dataset {
            text += &format!(" on {}", d.cli_name());
        }
        text
    }
}

/// `model` on its benchmark input, with seed-0 weights on the GPU.
fn initialised(gpu: &Gpu, model: BenchModel) -> anyhow::Result<(Net, Params)> {
    let (shape, classes) = model.input();
    let net = Net::build_with(model.kind, shape, classes, model.options)?;
    let params = Params::with_buffers(gpu, net.layout.clone(), net.buffers.clone())?;
    params.upload_all(gpu, &net.init(0));
    params.upload_buffers(gpu, &net.init_buffers());
    Ok((net, params))
}

/// A deterministic batch of `batch` samples (inputs, labels, regression targets) for `net`.
pub(crate) fn bench_batch(net: &Net, model: BenchModel, batch: usize) -> Batch {
    let classes = model.input().1;
    Batch {
        x: pseudo_random(batch * net.sample_size(), 3),
        y_class: (0..batch).map(|i| (i % classes.max(1)) as u32).collect(),
        y_value: pseudo_random(batch * net.outputs(), 4),
        len: batch,
        whole: batch,
        index: 0,
        samples: (0..batch as u32).collect(),
    }
}

/// Writes the benchmark batch and dropout seed into `plan`.
fn fill_batch(gpu: &Gpu, plan: &Plan, net: &Net, model: BenchModel) {
    let b = bench_batch(net, model, plan.batch);
    plan.set_dropout_seed(gpu, 0, 1);
    plan.write_batch(gpu, &b.x, &b.y_class, &b.y_value);
}

/// Time per training step of each schedule, measured in one run on the same model, batch
/// and adapter, with the trainer's submission pattern.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ProbeBench {
    /// The model's command-line name, and the data set's when one was given
    /// ([`BenchModel::describe`]).
    pub model: String,
    /// Samples per training step.
    pub batch_size: usize,
    /// The adapter the steps ran on: its name, backend, device type and driver
    /// (`Gpu::describe`).
    pub adapter: String,
    /// Timed steps per schedule in each round (after two warm-up steps).
    pub steps: usize,
    /// Rounds: each times every schedule once, back to back.
    pub rounds: usize,
    /// (schedule, median milliseconds per step, median of the rounds' ratios to basic: not
    /// the ratio of the medians, which host drift between rounds would skew).
    pub results: Vec<(String, f64, f64)>,
    /// Probes per forward pass (five, or one when five copies do not fit).
    pub probes_per_pass: usize,
    /// Bytes of GPU buffers the largest rule's step holds.
    pub gpu_bytes: u64,
}

/// The input shape and class count `model` is benchmarked with (its paper data set).
pub fn bench_input(model: ModelKind) -> ([usize; 3], usize) {
    match model {
        ModelKind::Linreg => DatasetKind::Boston,
        ModelKind::Logreg => DatasetKind::FashionMnist,
        ModelKind::Lenet | ModelKind::Resnet18 => DatasetKind::Cifar10,
    }
    .sample_shape()
}

/// Bytes of the GPU buffers one training step of `model` at `batch` holds (parameters,
/// gradients, statistics, activations, scratch, and with `probes` the five-point probe's
/// weights and activations), and the probes per forward pass. Records the step as the
/// trainer does, without running it.
pub fn step_memory(
    gpu: &Arc<Gpu>,
    model: BenchModel,
    batch: usize,
    probes: bool,
) -> anyhow::Result<(u64, usize)> {
    let before = gpu.bytes_allocated();
    let needs = Needs {
        probe: probes,
        ..Needs::default()
    };
    let stepper = stepper(gpu, model, batch, needs)?;
    let chunk = stepper.probes_per_pass().unwrap_or(0);
    Ok((gpu.bytes_allocated() - before, chunk))
}

/// The trainer's step pipeline for `model` at `batch` with seed-0 weights, plain SGD, and
/// the measurements `needs` asks for.
pub(crate) fn stepper(
    gpu: &Arc<Gpu>,
    model: BenchModel,
    batch: usize,
    needs: Needs,
) -> anyhow::Result<Stepper> {
    let (net, params) = initialised(gpu, model)?;
    let optimizer = OptimizerOptions {
        optimizer: OptimizerKind::Sgd,
        momentum: 0.9,
        nesterov: false,
        betas: vec![0.9, 0.999],
        adam_eps: 1e-8,
        weight_decay: 0.0,
    };
    let config = StepConfig {
        optimizer: &optimizer,
        needs,
        batch_size: batch,
        own_probe_batch: false,
        backups: false,
        average_gamma: None,
    };
    Stepper::new(Arc::clone(gpu), net, params, config)
}

/// Times every rule of the registry (default options) with the trainer's own step code
/// ([`Stepper`]) on one fixed batch, η held at 1e-4 so that every rule does the same
/// arithmetic. Each round builds every rule's step afresh, warms it up with two steps and
/// times `steps` steps, rules back to back: the host's speed drifts by tens of percent over
/// a minute on a shared machine, so each ratio is the median of the rounds' ratios to that
/// round's basic step.
pub fn bench_probe(
    gpu: &Arc<Gpu>,
    model: BenchModel,
    batch: usize,
    steps: usize,
    rounds: usize,
) -> anyhow::Result<ProbeBench> {
    const LR: f64 = 1e-4;
    let defaults = RuleOptions::default();
    let mut ms = vec![Vec::new(); RULES.len()];
    let (mut probes_per_pass, mut gpu_bytes) = (0, 0);
    for _ in 0..rounds {
        for (i, (name, _)) in RULES.iter().enumerate() {
            let run = RunShape {
                lr0: LR,
                steps_per_epoch: steps,
                planned_steps: usize::MAX,
            };
            let mut schedule = defaults.build(name, &run).expect("a registered rule");
            let before = gpu.bytes_allocated();
            let mut s = stepper(gpu, model, batch, schedule.needs())?;
            gpu_bytes = gpu_bytes.max(gpu.bytes_allocated() - before);
            probes_per_pass = probes_per_pass.max(s.probes_per_pass().unwrap_or(0));
            let data = bench_batch(&s.net, model, batch);
            let mut step = 0;
            let mut run = |count: usize| -> anyhow::Result<()> {
                for _ in 0..count {
                    step += 1;
                    let measure = schedule.measure_gradient(step);
                    let readings = s.submit_gradient(step, &data, 0, measure)?;
                    if let Some(r) = s.read()? {
                        schedule.observe(&r.observation());
                    }
                    schedule.observe_gradient(&readings);
                    schedule.set_lr(LR);
                    let probes = schedule.needs().probe && schedule.probe_at(step);
                    let spec = UpdateSpec {
                        eta: LR,
                        probe_steps: probes.then(|| schedule.probe_steps()),
                        probe_batch: None,
                        coefficients: schedule.coefficients(step),
                    };
                    s.submit_update(step, 0, batch, &spec);
                }
                s.read()?;
                Ok(())
            };
            run(2)?;
            let t = Instant::now();
            run(steps)?;
            ms[i].push(t.elapsed().as_secs_f64() * 1e3 / steps as f64);
        }
    }
    // Every rule's time is a ratio to basic's, measured in the same rounds: found by name,
    // not by its place in the registry.
    let basic = RULES
        .iter()
        .position(|(name, _)| *name == Basic::NAME)
        .expect("basic is registered");
    let results = RULES
        .iter()
        .zip(&ms)
        .map(|((name, _), times)| {
            let ratios: Vec<f64> = (times.iter().zip(&ms[basic])).map(|(t, b)| t / b).collect();
            (name.to_string(), median(times), median(&ratios))
        })
        .collect();
    Ok(ProbeBench {
        model: model.describe(),
        batch_size: batch,
        adapter: gpu.describe(),
        steps,
        rounds,
        probes_per_pass,
        gpu_bytes,
        results,
    })
}

/// Where one training step's time goes: every dispatch of the forward pass, the backward
/// pass and the SGD update, run and timed one at a time.
#[derive(Clone, Debug, serde::Serialize)]
pub struct KernelProfile {
    /// The model's command-line name, and the data set's when one was given
    /// ([`BenchModel::describe`]).
    pub model: String,
    /// Samples per training step.
    pub batch_size: usize,
    /// The adapter the kernels ran on: its name, backend, device type and driver
    /// (`Gpu::describe`).
    pub adapter: String,
    /// Times each dispatch (and the whole step) was timed; the figures are medians over
    /// these.
    pub rounds: usize,
    /// Per kernel, largest first: (`shader::entry`, dispatches per step, median ms per step).
    pub kernels: Vec<(String, usize, f64)>,
    /// The slowest single dispatches, or all of them in order: (phase, position in it,
    /// label, workgroups, median ms).
    pub slowest: Vec<(String, usize, String, [u32; 3], f64)>,
    /// Median milliseconds of the whole step run as the trainer submits it.
    pub step_ms: f64,
}

/// Profiles one training step of `model` at `batch` (seed-0 weights, a fixed batch, plain
/// SGD at η = 1e-4): `rounds` times, runs the whole step, then each dispatch of its forward,
/// backward and update phases on its own. A kernel's time is the sum of the medians of its
/// dispatches. `all` keeps every dispatch in [`KernelProfile::slowest`], in step order;
/// otherwise only the 20 slowest are kept, slowest first.
pub fn bench_kernels(
    gpu: &Gpu,
    model: BenchModel,
    batch: usize,
    rounds: usize,
    all: bool,
) -> anyhow::Result<KernelProfile> {
    let (net, params) = initialised(gpu, model)?;
    let plan = Plan::new(gpu, &net, &params, batch, None)?;
    fill_batch(gpu, &plan, &net, model);
    let lr = gpu.upload("lr", &[1], &[1e-4f32])?;
    let mut update = Program::new();
    crate::ops::sgd::step(&mut update, gpu, &params.values, &params.grads, &lr)?;
    let phases = [
        ("forward", &plan.forward),
        ("backward", &plan.backward),
        ("update", &update),
    ];
    let whole = || -> Result<(), GpuError> {
        for (_, p) in &phases {
            p.run(gpu)?;
        }
        Ok(())
    };
    whole()?;
    let mut step_ms = Vec::new();
    // times[phase][command] over the rounds.
    let mut times: Vec<Vec<Vec<f64>>> = phases.iter().map(|_| Vec::new()).collect();
    let mut labels_of: Vec<Vec<(String, [u32; 3])>> = phases.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        let t = Instant::now();
        whole()?;
        step_ms.push(t.elapsed().as_secs_f64() * 1e3);
        for (i, (_, p)) in phases.iter().enumerate() {
            let each = p.time_each(gpu)?;
            if times[i].is_empty() {
                times[i] = vec![Vec::new(); each.len()];
                labels_of[i] = each.iter().map(|c| (c.label.clone(), c.groups)).collect();
            }
            for (j, c) in each.iter().enumerate() {
                times[i][j].push(c.seconds * 1e3);
            }
        }
    }
    let mut per_kernel: Vec<(String, usize, f64)> = Vec::new();
    let mut slowest = Vec::new();
    for (i, (phase, _)) in phases.iter().enumerate() {
        for (j, (label, groups)) in labels_of[i].iter().enumerate() {
            let ms = median(&times[i][j]);
            match per_kernel.iter_mut().find(|k| &k.0 == label) {
                Some(k) => {
                    k.1 += 1;
                    k.2 += ms;
                }
                None => per_kernel.push((label.clone(), 1, ms)),
            }
            slowest.push((phase.to_string(), j, label.clone(), *groups, ms));
        }
    }
    per_kernel.sort_by(|a, b| b.2.total_cmp(&a.2));
    if !all {
        slowest.sort_by(|a, b| b.4.total_cmp(&a.4));
        slowest.truncate(20);
    }
    Ok(KernelProfile {
        model: model.describe(),
        batch_size: batch,
        adapter: gpu.describe(),
        rounds,
        kernels: per_kernel,
        slowest,
        step_ms: median(&step_ms),
    })
}

fn median(x: &[f64]) -> f64 {
    crate::compare::stats::median(x).unwrap_or(f64::NAN)
}
