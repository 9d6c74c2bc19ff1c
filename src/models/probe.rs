//! The batched line probe: the loss L(w − a·d) at the rule's five step sizes a
//! (`Schedule::probe_steps`: η + kε, k = −2..2, for newton; η·(1 + j/2) or η·j/2 for gen),
//! evaluated in forward passes over several probes at once. `auto`'s back probe runs the
//! same program with one step, −η(t−1), along d(t−1): back to w(t−1).

use super::layers::Along;
use super::pool::Pool;
use super::recorder::{Act, Mode, Recorder, Weights};
use super::{BatchNorm, Layer, Loss, Net};
use crate::gpu::{align_elems, Gpu, GpuError, Program, ReadBack, Tensor};
use crate::ops::{mse, probe, reduce, softmax_xent};

/// Number of line probes a probing rule evaluates per step (one for a back probe).
pub const PROBES: usize = 5;

/// How many probes one forward pass evaluates at `batch`: all five when five copies of
/// the parameters and of the largest activation fit the adapter's storage-binding limit,
/// otherwise one at a time. Fails, naming the limit, when not even one fits.
/// `ETAPROBE_ONE_PROBE_PER_PASS=1` takes the one-at-a-time path on any adapter, so that
/// the tests can cover it where five copies fit.
pub fn probe_chunk(gpu: &Gpu, net: &Net, batch: usize) -> Result<usize, GpuError> {
    let largest = net
        .nodes
        .iter()
        .map(|n| align_elems(batch * n.layer.output_size()))
        .max()
        .unwrap_or(0)
        .max(net.layout.len);
    let limit = gpu.limits.max_storage_buffer_binding_size;
    let one_at_a_time = crate::gpu::env_flag("ETAPROBE_ONE_PROBE_PER_PASS");
    if (4 * PROBES * largest) as u64 <= limit && !one_at_a_time {
        return Ok(PROBES);
    }
    gpu.check_binding_size(
        &format!("one probe of {} at batch {batch}", net.kind.cli_name()),
        4 * largest as u64,
    )?;
    Ok(1)
}

/// What a plan's probes evaluate: f(s) = L(w − s·direction) for `count` step sizes s,
/// `weights` being a `[chunk, params]` buffer (see [`probe_chunk`]).
pub struct ProbeSpec<'a> {
    /// Scratch for the perturbed weights, `[chunk, params]`, chunk from [`probe_chunk`].
    pub weights: &'a Tensor,
    /// The step direction d, laid out like the parameter buffer.
    pub direction: &'a Tensor,
    /// Number of step sizes: [`PROBES`], or 1 for the probe back to w(t−1).
    pub count: usize,
    /// Evaluate a batch of the probes' own ([`Probe::input`]) instead of the step's.
    pub own_batch: bool,
}

/// The five-point probe of one batch size: materialises w − s_k·d for a chunk of the five
/// probe steps s_k (the rule's `probe_steps`) into a `[chunk, params]` buffer, runs one
/// forward pass over chunk × batch samples reading those weights, chunk after chunk, and
/// reduces each probe's loss into its own slots. Batch norm uses each probe's batch statistics and updates no running
/// statistics; dropout reuses the training pass's mask. It writes nothing the training
/// step reads: parameters, gradients, statistics and the step's activations stay as they are.
pub struct Probe {
    /// The step sizes along the probe direction (the rule's five `probe_steps`, or the
    /// back probe's −η(t−1)), written before each step that probes.
    pub steps: Tensor,
    /// The probes' own batch (`--probe-on val` or `fresh`), or None when they reuse the
    /// step's.
    pub input: Option<(Tensor, Tensor)>,
    /// The probe passes: encoded after the step's forward pass and before its update, once
    /// `steps` is written.
    pub program: Program,
    /// Probes per forward pass.
    pub chunk: usize,
    partials: Tensor,
    per_probe: usize,
    rows: usize,
    readback: ReadBack,
}

impl Probe {
    /// Records the probes of `spec` for the step that `step` (the training pass's
    /// recorder) records: its input and targets, and its first layer's pre-activation
    /// `pre0`, reused unless the probes have their own batch.
    pub(super) fn new(
        step: &Recorder,
        spec: &ProbeSpec,
        input: &Tensor,
        targets: &Tensor,
        pre0: &Tensor,
        pool: &mut Pool,
    ) -> Result<Probe, GpuError> {
        let (gpu, net, params, batch) = (step.gpu, step.net, step.params, step.batch);
        let (weights, count) = (spec.weights, spec.count);
        let stride = params.values.len();
        // All probes in one pass, or one at a time (the loss rows of a pass are contiguous,
        // each pass's on a bindable offset).
        let chunk = if weights.len() / stride >= count {
            count
        } else {
            1
        };
        let steps = gpu.zeros("probe steps", &[count])?;
        // With their own batch the probes read their own input and targets, and recompute
        // the first layer at w instead of reusing the training forward's.
        let own = if spec.own_batch {
            Some((
                gpu.zeros("probe input", &input.shape)?,
                gpu.zeros("probe targets", &targets.shape)?,
            ))
        } else {
            None
        };
        let (input, targets, pre0) = match &own {
            Some((x, y)) => (x, y, None),
            None => (input, targets, Some(pre0)),
        };
        let mut program = Program::new();
        // Each chunk's step sizes on a bindable offset.
        let chunks = count.div_ceil(chunk);
        let chunk_steps = if chunks == 1 {
            steps.clone()
        } else {
            let t = gpu.zeros("probe chunk steps", &[chunks * align_elems(chunk)])?;
            for k in 0..count {
                let at = (k / chunk) * align_elems(chunk) + k % chunk;
                let one = |t: &Tensor, i: usize| Tensor {
                    offset: t.offset + i,
                    shape: vec![1],
                    ..t.clone()
                };
                program.copy(&one(&steps, k), &one(&t, at));
            }
            t
        };
        let rows = match net.loss {
            Loss::SoftmaxCrossEntropy { .. } => batch,
            Loss::MeanSquaredError { outputs } => batch * outputs,
        };
        // One chunk's rows are contiguous; chunks of one probe start on bindable offsets.
        let row_seg = if chunks == 1 { rows } else { align_elems(rows) };
        let per_row = gpu.zeros("probe per-row loss", &[count * row_seg])?;
        let correct = gpu.zeros("probe correct", &[chunk * batch])?;
        let probe_saved = gpu.zeros("probe batch statistics", &[2 * max_channels(net)])?;
        // A probe pass at w itself: it writes no training state.
        let at_w = Recorder {
            mode: Mode::Probe,
            rng: None,
            probe_saved: Some(&probe_saved),
            ..*step
        };
        let first = FirstLayer::new(&mut program, &at_w, spec.direction, input, pre0, pool)?;
        for c in 0..chunks {
            let k0 = c * chunk;
            let n = chunk.min(count - k0);
            let steps_c = chunk_steps.view(c * align_elems(chunk), &[n]);
            probe::perturb(
                &mut program,
                gpu,
                &params.values,
                spec.direction,
                &steps_c,
                weights,
            )?;
            let rec = Recorder {
                weights: Weights {
                    values: weights,
                    stride,
                    probes: n,
                },
                ..at_w
            };
            let first = first.combine(&mut program, gpu, &steps_c, pool)?;
            let out = rec.network(&mut program, input, Some(first), pool)?;
            let logits = out.t.view(0, &[n * batch * net.outputs()]);
            let losses = per_row.view(k0 * row_seg, &[n * rows]);
            match net.loss {
                Loss::SoftmaxCrossEntropy { classes } => {
                    softmax_xent::forward(
                        &mut program,
                        gpu,
                        &logits,
                        targets,
                        &losses,
                        &correct.view(0, &[n * batch]),
                        n * batch,
                        classes,
                    )?;
                }
                Loss::MeanSquaredError { .. } => {
                    mse::forward(&mut program, gpu, &logits, targets, &losses)?
                }
            }
            pool.give(&out.t);
        }
        first.release(pool);
        let per_probe = reduce::partial_count(row_seg);
        let partials = gpu.zeros("probe partials", &[count * per_probe])?;
        reduce::sum_segments(&mut program, gpu, &per_row, count, &partials)?;
        let readback = ReadBack::new(gpu, "probe losses", partials.len());
        Ok(Probe {
            steps,
            input: own,
            program,
            chunk,
            partials,
            per_probe,
            rows,
            readback,
        })
    }

    /// Records the copy of every probe's loss partial sums into the read-back buffer, for
    /// [`Probe::fetch`].
    pub fn copy_outputs(&self, encoder: &mut wgpu::CommandEncoder) {
        self.readback.copy_from(encoder, &self.partials, 0);
    }

    /// The probe losses, each summed in f64, once `submission` has finished.
    pub fn fetch(
        &self,
        gpu: &Gpu,
        submission: Option<wgpu::SubmissionIndex>,
    ) -> Result<Vec<f64>, GpuError> {
        let v: Vec<f32> = self.readback.fetch_after(gpu, submission)?;
        Ok(v.chunks(self.per_probe)
            .map(|part| reduce::loss_mean(part, self.rows))
            .collect())
    }

    /// Bytes each step reads back for the probes.
    pub(super) fn readback_bytes(&self) -> usize {
        self.readback.bytes()
    }
}

fn max_channels(net: &Net) -> usize {
    net.nodes
        .iter()
        .map(|n| match n.layer {
            Layer::BatchNorm(BatchNorm { channels, .. }) => channels,
            _ => 1,
        })
        .max()
        .unwrap_or(1)
}

/// The first layer at w and along d, for computing its probe outputs by linearity instead
/// of one pass per probe: layer(x; w − s·d) = layer(x; w) − s·layer(x; d).
struct FirstLayer {
    zw: Tensor,
    /// Whether `zw` was computed here (own probe batch) rather than kept by the training pass.
    zw_pooled: bool,
    zd: Tensor,
    relu: bool,
    layer: Layer,
    n: usize,
}

impl FirstLayer {
    /// `at_w` records a pass at the weights w.
    fn new(
        prog: &mut Program,
        at_w: &Recorder,
        direction: &Tensor,
        input: &Tensor,
        zw: Option<&Tensor>,
        pool: &mut Pool,
    ) -> Result<FirstLayer, GpuError> {
        let (gpu, net) = (at_w.gpu, at_w.net);
        let layer = &net.nodes[0].layer;
        let kind = layer.kind();
        let n = at_w.batch * kind.output_size();
        // z_w is the training forward's pre-activation of this step, kept for the probes,
        // or, when the probes have their own batch, computed here.
        let (zw, zw_pooled) = match zw {
            Some(z) => (z.clone(), false),
            None => {
                let z = pool.take(gpu, "first layer at w", n)?;
                let mut plain = layer.clone();
                plain.kind_mut().take_relu();
                let y = Act {
                    t: z.clone(),
                    seg: n,
                };
                at_w.layer(prog, plain.kind(), 0, input, &[], &y)?;
                (z, true)
            }
        };
        let zd = pool.take(gpu, "first layer along d", n)?;
        let along = Along {
            gpu,
            net,
            rt: &at_w.rts[0],
            direction,
            input,
            batch: at_w.batch,
            out: &zd,
        };
        kind.forward_along(prog, &along)?;
        Ok(FirstLayer {
            zw,
            zw_pooled,
            zd,
            relu: kind.fused_relu(),
            layer: layer.clone(),
            n,
        })
    }

    /// The first layer's output for the probes at `steps`, from the pool.
    fn combine(
        &self,
        prog: &mut Program,
        gpu: &Gpu,
        steps: &Tensor,
        pool: &mut Pool,
    ) -> Result<Act, GpuError> {
        let probes = steps.len();
        let seg = self.layer.kind().probe_segment(self.n, probes);
        let out = pool.take(gpu, "layer 0 probe output", probes * seg)?;
        probe::combine(prog, gpu, &self.zw, &self.zd, steps, &out, seg, self.relu)?;
        Ok(Act { t: out, seg })
    }

    fn release(self, pool: &mut Pool) {
        pool.give(&self.zd);
        if self.zw_pooled {
            pool.give(&self.zw);
        }
    }
}
