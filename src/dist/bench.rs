//! `etaprobe bench dist`: a data-parallel training step as every rank of the job runs it,
//! timed, with the time and bytes its exchanges take.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Result};

use super::{Collective, DataParallel};
use crate::data::Batch;
use crate::gpu::Gpu;
use crate::models::{ModelKind, ModelOptions};
use crate::schedule::Needs;
use crate::train::{Stepper, UpdateSpec};

/// What `bench dist` times.
#[derive(clap::Args, Clone, Debug)]
pub struct DistBenchArgs {
    /// The models, each timed in turn.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "lenet,resnet18"
    )]
    pub models: Vec<ModelKind>,
    /// Samples per global batch (each rank computes its shard).
    #[arg(long, default_value_t = 32, value_name = "N", value_parser = crate::values::batch_size)]
    pub batch_size: usize,
    /// ResNet channel multiplier (resnet18 only).
    #[arg(long, default_value_t = 1.0, value_name = "F")]
    pub width_mult: f64,
    /// Timed steps per model (after one warm-up step).
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = crate::values::bench_count)]
    pub steps: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `etaprobe bench dist` as one rank of the job this process was started in: times every
/// model, and rank 0 prints the table (or JSON). A rank that fails, from opening its
/// adapter on, stops the job.
pub fn bench_command(adapter: Option<&str>, bench: &DistBenchArgs) -> Result<()> {
    let group = super::join(super::DEFAULT_TIMEOUT)?;
    match bench_rank(adapter, bench, &group) {
        Ok(()) => Ok(()),
        // The other ranks would wait for this one's exchanges until the timeout.
        Err(e) => group.abort(
            &format!("rank {} of {}: {e:#}", group.rank(), group.ranks()),
            2,
        ),
    }
}

/// `bench dist` on this rank of `group`.
fn bench_rank(
    adapter: Option<&str>,
    bench: &DistBenchArgs,
    group: &Rc<dyn Collective>,
) -> Result<()> {
    let (batch, steps) = (bench.batch_size, bench.steps);
    check(batch, steps, group.ranks())?;
    let adapter = super::rank_adapter(adapter, group.local_rank())?;
    let gpu = Arc::new(Gpu::open(adapter.as_deref())?);
    log::info!("using adapter {}: {}", gpu.index, gpu.describe());
    let options = ModelOptions {
        dropout: 0.0,
        width_mult: bench.width_mult,
    };
    let results = bench
        .models
        .iter()
        .map(|&m| bench_dist(&gpu, group.clone(), m, options, batch, steps))
        .collect::<Result<Vec<DistBench>>>()?;
    match (group.rank(), bench.json) {
        (0, true) => crate::outln!("{}", serde_json::to_string_pretty(&results)?),
        (0, false) => crate::out!("{}", dist_table(&results)),
        _ => {}
    }
    Ok(())
}

/// Refuses a global batch without a sample for each of `ranks` ranks, and no timed step.
fn check(batch: usize, steps: usize, ranks: usize) -> Result<()> {
    if batch < ranks {
        bail!(
            "bench dist --batch-size {batch} leaves a rank without a sample: give at least \
             {ranks}, one per rank"
        );
    }
    if steps == 0 {
        bail!("bench dist --steps must be at least 1");
    }
    Ok(())
}

/// One model's data-parallel step, as rank 0 measured it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DistBench {
    /// The model's command-line name.
    pub model: String,
    /// Ranks in the job.
    pub ranks: usize,
    /// Samples per global batch (each rank computes its shard).
    pub batch_size: usize,
    /// Rank 0's adapter (`Gpu::describe`).
    pub adapter: String,
    /// Timed steps (after one warm-up step).
    pub steps: usize,
    /// Parameters of the model: the gradient's length.
    pub parameters: usize,
    /// Bytes of the gradient (f32).
    pub gradient_bytes: usize,
    /// Bytes rank 0 sent to the other ranks per step: the gradient's two phases and the
    /// step's scalars.
    pub bytes_sent_per_step: f64,
    /// Milliseconds per step.
    pub ms_per_step: f64,
    /// Of which in exchanges between the ranks (waiting for the slowest included).
    pub exchange_ms: f64,
    /// Of which moving the gradient between the GPU and the host.
    pub transfer_ms: f64,
}

impl DistBench {
    /// The share of a step spent communicating: exchanges and gradient transfers.
    pub fn communication_share(&self) -> f64 {
        (self.exchange_ms + self.transfer_ms) / self.ms_per_step
    }
}

/// Times `steps` data-parallel SGD steps (η fixed at 1e-4: the same arithmetic every
/// step) of `model` at the global batch `batch`, every rank on its shard of one fixed
/// batch, after one warm-up step. Refuses a batch smaller than the ranks and 0 steps.
pub fn bench_dist(
    gpu: &Arc<Gpu>,
    group: Rc<dyn Collective>,
    model: ModelKind,
    options: ModelOptions,
    batch: usize,
    steps: usize,
) -> Result<DistBench> {
    check(batch, steps, group.ranks())?;
    let data_parallel = DataParallel::new(group);
    let shard = data_parallel.shard();
    let local = shard.range(batch).len();
    let model = crate::bench::BenchModel {
        kind: model,
        options,
        dataset: None,
    };
    let mut s = crate::bench::stepper(gpu, model, local, Needs::default())?;
    let data = crate::bench::bench_batch(&s.net, model, batch).shard(shard);
    // Building the model (its kernels compiled) may take one rank longer than a step's
    // timeout allows: the ranks meet once at its end, as `train` does.
    super::ready_to_train(data_parallel.group());
    s.distribute(data_parallel);
    run_steps(&mut s, &data, 0, 1)?;
    let dp = s.data_parallel().expect("distributed");
    // Every rank starts the clock together.
    dp.any("benchmark start", false);
    let before = dp.traffic();
    let started = Instant::now();
    run_steps(&mut s, &data, 1, steps)?;
    let seconds = started.elapsed().as_secs_f64();
    let dp = s.data_parallel().expect("distributed");
    let after = dp.traffic();
    let per_step = |a: f64, b: f64| (a - b) * 1e3 / steps as f64;
    let parameters = s.params.grads.len();
    Ok(DistBench {
        model: model.describe(),
        ranks: dp.group().ranks(),
        batch_size: batch,
        adapter: s.gpu.describe(),
        steps,
        parameters,
        gradient_bytes: 4 * parameters,
        bytes_sent_per_step: (after.bytes_sent - before.bytes_sent) as f64 / steps as f64,
        ms_per_step: seconds * 1e3 / steps as f64,
        exchange_ms: per_step(after.exchange_seconds, before.exchange_seconds),
        transfer_ms: per_step(after.transfer_seconds, before.transfer_seconds),
    })
}

/// Steps `after + 1 ..= after + count` of SGD at a fixed η on `data`, read to the end.
fn run_steps(s: &mut Stepper, data: &Batch, after: usize, count: usize) -> Result<()> {
    let spec = UpdateSpec {
        eta: 1e-4,
        probe_steps: None,
        probe_batch: None,
        coefficients: Vec::new(),
    };
    for step in after + 1..=after + count {
        s.submit_gradient(step, data, 0, false)?;
        s.read()?;
        s.submit_update(step, 0, data.len, &spec);
    }
    s.read()?;
    Ok(())
}

/// `bench dist`'s table: one line per model.
pub fn dist_table(results: &[DistBench]) -> String {
    let mut out = String::new();
    if let Some(first) = results.first() {
        out += &format!(
            "{} rank(s), global batch {}, {} timed steps; rank 0 on {}\n",
            first.ranks, first.batch_size, first.steps, first.adapter
        );
    }
    out += &format!(
        "{:<10} {:>10} {:>12} {:>14} {:>10} {:>11} {:>11} {:>7}\n",
        "model",
        "params",
        "grad bytes",
        "sent/step",
        "ms/step",
        "exchange ms",
        "transfer ms",
        "comm"
    );
    for r in results {
        out += &format!(
            "{:<10} {:>10} {:>12} {:>14.0} {:>10.1} {:>11.1} {:>11.1} {:>6.1}%\n",
            r.model,
            r.parameters,
            r.gradient_bytes,
            r.bytes_sent_per_step,
            r.ms_per_step,
            r.exchange_ms,
            r.transfer_ms,
            100.0 * r.communication_share()
        );
    }
    out
}
