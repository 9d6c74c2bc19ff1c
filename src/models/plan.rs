//! A model recorded for one batch size: the forward pass with its loss, the backward pass
//! into the flat gradient buffer, the evaluation pass and the five-point probe, as programs
//! recorded once and replayed every step.

use super::pool::Pool;
use super::{Layer, Loss, Net};
use crate::gpu::{align_elems, Gpu, GpuError, Params, Program, ReadBack, Tensor};
use crate::ops::batchnorm::{self, BnShape};
use crate::ops::conv::{Conv2d, ConvGrads, ConvShape};
use crate::ops::matmul::{self, Epilogue, Mat};
use crate::ops::maxpool::{self, PoolShape};
use crate::ops::{add, avgpool, axpy, bias, dropout, mse, probe, reduce, relu, softmax_xent};

/// Everything recorded for one batch size.
pub struct Plan {
    pub batch: usize,
    /// `[batch, c, h, w]` inputs, written before each step.
    pub input: Tensor,
    /// Class indices (u32) for classifiers, target values (f32) for regression.
    pub targets: Tensor,
    /// Training forward pass (batch statistics, dropout), per-row loss and its partial sums.
    pub forward: Program,
    /// Loss gradient and the backward pass, overwriting the gradient buffer.
    pub backward: Program,
    /// Evaluation forward pass (running statistics, no dropout) writing the same loss
    /// outputs, for models whose layers differ between the modes.
    eval: Option<Program>,
    loss_partials: Tensor,
    correct_partials: Tensor,
    readback: ReadBack,
    loss: Loss,
    /// The dropout masks' (seed, step), written before each step.
    rng: Option<Tensor>,
    /// The batched five-point line probe, for schedules that ask for it.
    pub probe: Option<Probe>,
}

/// Number of line probes: f(η + kε) for k = −2..2.
pub const PROBES: usize = 5;

/// How many probes one forward pass evaluates at `batch`: all five when five copies of
/// the parameters and of the largest activation fit the adapter's storage-binding limit,
/// otherwise one at a time. Fails, naming the limit, when not even one fits.
pub fn probe_chunk(gpu: &Gpu, net: &Net, batch: usize) -> Result<usize, GpuError> {
    let largest = net
        .nodes
        .iter()
        .map(|n| align_elems(batch * n.layer.output_size()))
        .max()
        .unwrap_or(0)
        .max(net.layout.len);
    let limit = gpu.limits.max_storage_buffer_binding_size;
    if (4 * PROBES * largest) as u64 <= limit {
        return Ok(PROBES);
    }
    gpu.check_binding_size(
        &format!("one probe of {} at batch {batch}", net.kind.cli_name()),
        4 * largest as u64,
    )?;
    Ok(1)
}

/// The five-point probe of one batch size: materialises w − (η + kε)·d for a chunk of the
/// five k into a `[chunk, params]` buffer, runs one forward pass over chunk × batch
/// samples reading those weights, chunk after chunk, and reduces each probe's loss into
/// its own slots. Batch norm uses each probe's batch statistics and updates no running
/// statistics; dropout reuses the training pass's mask. It writes nothing the training
/// step reads: parameters, gradients, statistics and the step's activations stay as they are.
pub struct Probe {
    /// η + kε for k = −2..2, written before each step.
    pub steps: Tensor,
    /// The probes' own batch (`--probe-on val`), or None when they reuse the step's.
    pub input: Option<(Tensor, Tensor)>,
    pub program: Program,
    /// Probes per forward pass.
    pub chunk: usize,
    partials: Tensor,
    per_probe: usize,
    rows: usize,
    readback: ReadBack,
}

impl Probe {
    #[allow(clippy::too_many_arguments)]
    fn new(
        gpu: &Gpu,
        net: &Net,
        params: &Params,
        direction: &Tensor,
        weights: &Tensor,
        input: &Tensor,
        targets: &Tensor,
        batch: usize,
        rts: &[NodeRt],
        pre0: &Tensor,
        own_batch: bool,
        count: usize,
        pool: &mut Pool,
    ) -> Result<Probe, GpuError> {
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
        let own = if own_batch {
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
        let first = FirstLayer::new(
            &mut program,
            gpu,
            net,
            direction,
            input,
            batch,
            &rts[0],
            pre0,
            &params.values,
            pool,
        )?;
        for c in 0..chunks {
            let k0 = c * chunk;
            let n = chunk.min(count - k0);
            let steps_c = chunk_steps.view(c * align_elems(chunk), &[n]);
            probe::perturb(
                &mut program,
                gpu,
                &params.values,
                direction,
                &steps_c,
                weights,
            )?;
            let w = Weights {
                values: weights,
                stride,
                probes: n,
            };
            let first = first.combine(&mut program, gpu, &steps_c, pool)?;
            let rec = Recorder {
                gpu,
                net,
                params,
                rts,
                batch,
                weights: w,
                mode: Mode::Probe,
                rng: None,
                probe_saved: Some(&probe_saved),
            };
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
            .map(|part| reduce::combine(part) / self.rows as f64)
            .collect())
    }
}

fn max_channels(net: &Net) -> usize {
    net.nodes
        .iter()
        .map(|n| match n.layer {
            Layer::BatchNorm { channels, .. } => channels,
            _ => 1,
        })
        .max()
        .unwrap_or(1)
}

/// What a plan's probes evaluate: f(s) = L(w − s·direction) for `count` step sizes s,
/// `weights` being a `[chunk, params]` buffer (see [`probe_chunk`]).
pub struct ProbeSpec<'a> {
    pub weights: &'a Tensor,
    pub direction: &'a Tensor,
    pub count: usize,
    /// Evaluate a batch of the probes' own ([`Probe::input`]) instead of the step's.
    pub own_batch: bool,
}

/// The scalars one forward pass produces, summed in f64.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepOutputs {
    /// Mean loss over the batch.
    pub loss: f64,
    /// Correctly classified samples (0 for regression).
    pub correct: f64,
}

impl Plan {
    /// Records the plan; with `probe_weights` (a `[chunk, params]` buffer shared by all
    /// plans, see [`probe_chunk`]) also the five-point probe along the gradient.
    pub fn new(
        gpu: &Gpu,
        net: &Net,
        params: &Params,
        batch: usize,
        probe_weights: Option<&Tensor>,
    ) -> Result<Plan, GpuError> {
        Plan::with_direction(gpu, net, params, batch, probe_weights, &params.grads, false)
    }

    /// [`Plan::new`] with probes along `direction`, the optimizer's step direction d
    /// (the gradient for plain SGD): f(η) = L(w − η·d).
    /// With `probe_own_batch` the probes evaluate a batch of their own, written to
    /// [`Probe::input`] (`--probe-on val`).
    #[allow(clippy::too_many_arguments)]
    pub fn with_direction(
        gpu: &Gpu,
        net: &Net,
        params: &Params,
        batch: usize,
        probe_weights: Option<&Tensor>,
        direction: &Tensor,
        probe_own_batch: bool,
    ) -> Result<Plan, GpuError> {
        let spec = probe_weights.map(|weights| ProbeSpec {
            weights,
            direction,
            count: PROBES,
            own_batch: probe_own_batch,
        });
        Plan::with_probe(gpu, net, params, batch, spec)
    }

    /// [`Plan::new`] with the probes `spec` describes.
    pub fn with_probe(
        gpu: &Gpu,
        net: &Net,
        params: &Params,
        batch: usize,
        spec: Option<ProbeSpec>,
    ) -> Result<Plan, GpuError> {
        let probe_weights = spec.as_ref().map(|s| s.weights);
        let sample = net.sample_size();
        let input = gpu.zeros("input", &[batch, sample])?;
        let outputs = net.outputs();
        let targets = match net.loss {
            Loss::SoftmaxCrossEntropy { .. } => gpu.zeros("labels", &[batch])?,
            Loss::MeanSquaredError { .. } => gpu.zeros("targets", &[batch * outputs])?,
        };
        let chunk = spec.as_ref().map(|s| {
            if s.weights.len() / params.values.len() >= s.count {
                s.count
            } else {
                1
            }
        });
        let rts = NodeRt::all(gpu, net, batch, chunk)?;
        let has_dropout = net
            .nodes
            .iter()
            .any(|n| matches!(n.layer, Layer::Dropout { .. }));
        let rng = if has_dropout {
            Some(gpu.zeros("dropout seed", &[2])?)
        } else {
            None
        };
        let mut pool = Pool::default();
        let mut forward = Program::new();
        let pre0 = match probe_weights {
            Some(_) => Some(gpu.zeros(
                "layer 0 pre-activation",
                &[batch * net.nodes[0].layer.output_size()],
            )?),
            None => None,
        };
        let train = Recorder {
            gpu,
            net,
            params,
            rts: &rts,
            batch,
            weights: Weights {
                values: &params.values,
                stride: 0,
                probes: 1,
            },
            mode: Mode::Train,
            rng: rng.as_ref(),
            probe_saved: None,
        };
        let acts = train.network_keeping_all(&mut forward, &input, pre0.as_ref())?;
        let logits = &acts.last().expect("a model has layers").t;
        let rows = match net.loss {
            Loss::SoftmaxCrossEntropy { .. } => batch,
            Loss::MeanSquaredError { .. } => batch * outputs,
        };
        let per_row = gpu.zeros("per-row loss", &[rows])?;
        let correct = gpu.zeros("correct", &[batch])?;
        let loss_partials = gpu.zeros("loss partials", &[reduce::partial_count(rows)])?;
        let correct_partials = gpu.zeros("correct partials", &[reduce::partial_count(batch)])?;
        let record_loss = |prog: &mut Program, logits: &Tensor| -> Result<(), GpuError> {
            match net.loss {
                Loss::SoftmaxCrossEntropy { classes } => {
                    softmax_xent::forward(
                        prog, gpu, logits, &targets, &per_row, &correct, batch, classes,
                    )?;
                    reduce::sum(prog, gpu, &correct, &correct_partials)?;
                }
                Loss::MeanSquaredError { .. } => {
                    mse::forward(prog, gpu, logits, &targets, &per_row)?;
                }
            }
            reduce::sum(prog, gpu, &per_row, &loss_partials)
        };
        record_loss(&mut forward, logits)?;

        let dlogits = gpu.zeros("dlogits", &[batch * outputs])?;
        let mut backward = Program::new();
        match net.loss {
            Loss::SoftmaxCrossEntropy { classes } => softmax_xent::backward(
                &mut backward,
                gpu,
                logits,
                &targets,
                &dlogits,
                batch,
                classes,
                1.0,
            )?,
            Loss::MeanSquaredError { .. } => {
                mse::backward(&mut backward, gpu, logits, &targets, &dlogits, 1.0)?
            }
        }
        train.backward(&mut backward, &input, &acts, dlogits, &mut pool)?;

        let eval = if net.has_modes() {
            let mut prog = Program::new();
            let rec = Recorder {
                mode: Mode::Eval,
                ..train
            };
            let out = rec.network(&mut prog, &input, None, &mut pool)?;
            record_loss(&mut prog, &out.t)?;
            pool.give(&out.t);
            Some(prog)
        } else {
            None
        };

        let readback = ReadBack::new(
            gpu,
            "step scalars",
            loss_partials.len() + correct_partials.len(),
        );
        let probe = match spec {
            Some(spec) => Some(Probe::new(
                gpu,
                net,
                params,
                spec.direction,
                spec.weights,
                &input,
                &targets,
                batch,
                &rts,
                pre0.as_ref().expect("kept when probing"),
                spec.own_batch,
                spec.count,
                &mut pool,
            )?),
            None => None,
        };
        Ok(Plan {
            probe,
            batch,
            input,
            targets,
            forward,
            backward,
            eval,
            loss_partials,
            correct_partials,
            readback,
            loss: net.loss,
            rng,
        })
    }

    /// The forward pass that scores a test batch: the evaluation-mode pass for models
    /// with batch norm or dropout, the training forward otherwise.
    pub fn eval_forward(&self) -> &Program {
        self.eval.as_ref().unwrap_or(&self.forward)
    }

    /// Seeds the step's dropout masks (the probes of the step reuse them); a no-op for
    /// models without dropout.
    pub fn set_dropout_seed(&self, gpu: &Gpu, seed: u64, step: u64) {
        if let Some(rng) = &self.rng {
            let mixed = (seed ^ (seed >> 32)) as u32;
            gpu.write(rng, &[mixed, step as u32]);
        }
    }

    /// Bytes one training step reads back: the loss and accuracy partial sums, and the
    /// five probes' partial sums when probing.
    pub fn readback_bytes(&self) -> usize {
        self.readback.bytes() + self.probe.as_ref().map_or(0, |p| p.readback.bytes())
    }

    /// Records the copies of this step's loss and accuracy partials for read-back.
    pub fn copy_outputs(&self, encoder: &mut wgpu::CommandEncoder) {
        self.readback.copy_from(encoder, &self.loss_partials, 0);
        self.readback
            .copy_from(encoder, &self.correct_partials, self.loss_partials.len());
    }

    /// Waits for the copies of [`Plan::copy_outputs`] and sums them in f64.
    pub fn fetch_outputs(&self, gpu: &Gpu) -> Result<StepOutputs, GpuError> {
        self.fetch_outputs_after(gpu, None)
    }

    /// [`Plan::fetch_outputs`] waiting only for `submission`.
    pub fn fetch_outputs_after(
        &self,
        gpu: &Gpu,
        submission: Option<wgpu::SubmissionIndex>,
    ) -> Result<StepOutputs, GpuError> {
        let v: Vec<f32> = self.readback.fetch_after(gpu, submission)?;
        let (loss, correct) = v.split_at(self.loss_partials.len());
        let rows = match self.loss {
            Loss::SoftmaxCrossEntropy { .. } => self.batch,
            Loss::MeanSquaredError { outputs } => self.batch * outputs,
        };
        Ok(StepOutputs {
            loss: reduce::combine(loss) / rows as f64,
            correct: reduce::combine(correct),
        })
    }

    /// Uploads a batch's inputs and targets; `labels` for classifiers, `values` otherwise.
    pub fn write_batch(&self, gpu: &Gpu, x: &[f32], labels: &[u32], values: &[f32]) {
        gpu.write(&self.input, x);
        match self.loss {
            Loss::SoftmaxCrossEntropy { .. } => gpu.write(&self.targets, labels),
            Loss::MeanSquaredError { .. } => gpu.write(&self.targets, values),
        }
    }

    /// Uploads the probes' own batch (`--probe-on val`); the first `batch` samples of the
    /// given ones are used.
    pub fn write_probe_batch(&self, gpu: &Gpu, x: &[f32], labels: &[u32], values: &[f32]) {
        let Some((input, targets)) = self.probe.as_ref().and_then(|p| p.input.as_ref()) else {
            return;
        };
        gpu.write(input, &x[..input.len()]);
        match self.loss {
            Loss::SoftmaxCrossEntropy { .. } => gpu.write(targets, &labels[..targets.len()]),
            Loss::MeanSquaredError { .. } => gpu.write(targets, &values[..targets.len()]),
        }
    }
}

/// Where a forward pass reads its weights: `probes` copies of the flat parameter layout,
/// `stride` elements apart (the training pass reads the one parameter buffer).
#[derive(Clone, Copy)]
pub(crate) struct Weights<'a> {
    pub values: &'a Tensor,
    pub stride: usize,
    pub probes: usize,
}

/// The first layer at w and along d, for computing its probe outputs by linearity instead
/// of one pass per probe: layer(x; w − s·d) = layer(x; w) − s·layer(x; d).
struct FirstLayer {
    zw: Tensor,
    /// Whether `zw` was computed here (own probe batch) rather than kept by the training pass.
    zw_pooled: bool,
    zd: Tensor,
    relu: bool,
    seg_of: Layer,
    n: usize,
}

impl FirstLayer {
    #[allow(clippy::too_many_arguments)]
    fn new(
        prog: &mut Program,
        gpu: &Gpu,
        net: &Net,
        direction: &Tensor,
        input: &Tensor,
        batch: usize,
        rt: &NodeRt,
        zw: Option<&Tensor>,
        values: &Tensor,
        pool: &mut Pool,
    ) -> Result<FirstLayer, GpuError> {
        let layer = &net.nodes[0].layer;
        let n = batch * layer.output_size();
        // z_w is the training forward's pre-activation of this step, kept for the probes,
        // or, when the probes have their own batch, computed here.
        let (zw, zw_pooled) = match zw {
            Some(z) => (z.clone(), false),
            None => {
                let z = pool.take(gpu, "first layer at w", n)?;
                let (plain, _) = without_relu(layer);
                let w = Weights {
                    values,
                    stride: 0,
                    probes: 1,
                };
                let y = Act {
                    t: z.clone(),
                    seg: n,
                };
                forward_layer(prog, gpu, net, &w, &plain, rt, input, None, &y, batch)?;
                (z, true)
            }
        };
        let zd = pool.take(gpu, "first layer along d", n)?;
        let relu = match layer {
            Layer::Linear {
                inputs,
                outputs,
                relu,
                weight,
                bias,
            } => {
                let s = |i: usize| net.layout.slots[i].offset;
                let epi = Epilogue {
                    bias: Some((direction, s(*bias))),
                    ..Default::default()
                };
                let wt = Mat::at(direction, s(*weight), *outputs, *inputs).transposed();
                let xm = Mat::new(input, batch, *inputs);
                matmul::record(prog, gpu, &xm, &wt, &Mat::new(&zd, batch, *outputs), 1, epi)?;
                *relu
            }
            Layer::Conv2d {
                relu, weight, bias, ..
            } => {
                let conv = rt.conv.as_ref().expect("conv runtime");
                let view = |i: usize| {
                    let s = &net.layout.slots[i];
                    direction.view(s.offset, &[s.len()])
                };
                let b = bias.map(view);
                // The scratch may still hold this input's patches: from the training forward
                // (the first layer's backward asks for no dX), or from the z_w pass above.
                conv.forward(
                    prog,
                    gpu,
                    input,
                    &view(*weight),
                    b.as_ref(),
                    &zd,
                    false,
                    true,
                )?;
                *relu
            }
            _ => unreachable!("a model starts with a parameterised layer"),
        };
        Ok(FirstLayer {
            zw,
            zw_pooled,
            zd,
            relu,
            seg_of: layer.clone(),
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
        let seg = segment(&self.seg_of, self.n, probes);
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

/// A convolution layer's GPU objects: the batch in chunks whose scratch fits the
/// adapter's binding limit, each chunk a [`Conv2d`] on its slice of the batch.
pub(crate) struct ConvRt {
    /// (first image, convolution over the chunk's images).
    chunks: Vec<(usize, Conv2d)>,
    /// Whether the scratch is this layer's alone, so that its patches survive until the
    /// backward pass.
    own_scratch: bool,
    in_size: usize,
    out_size: usize,
}

impl ConvRt {
    fn keeps_patches(&self, gpu: &Gpu) -> bool {
        self.own_scratch && self.chunks.len() == 1 && self.chunks[0].1.keeps_patches(gpu)
    }

    /// `y = conv(x)` over the whole batch, chunk by chunk; `patches_ready`: the scratch
    /// already holds x's patches when the layer keeps them.
    #[allow(clippy::too_many_arguments)]
    fn forward(
        &self,
        prog: &mut Program,
        gpu: &Gpu,
        x: &Tensor,
        w: &Tensor,
        b: Option<&Tensor>,
        y: &Tensor,
        relu: bool,
        patches_ready: bool,
    ) -> Result<(), GpuError> {
        if patches_ready && self.keeps_patches(gpu) {
            let conv = &self.chunks[0].1;
            return conv.forward_from_patches(prog, gpu, w, b, y, relu);
        }
        for (first, conv) in &self.chunks {
            let images = conv.shape.batch;
            let xv = x.view(first * self.in_size, &[images * self.in_size]);
            let yv = y.view(first * self.out_size, &[images * self.out_size]);
            conv.forward(prog, gpu, &xv, w, b, &yv, relu)?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn backward(
        &self,
        prog: &mut Program,
        gpu: &Gpu,
        x: &Tensor,
        w: &Tensor,
        dz: &Tensor,
        dw: &Tensor,
        db: Option<&Tensor>,
        dx: Option<(&Tensor, bool)>,
    ) -> Result<(), GpuError> {
        for (i, (first, conv)) in self.chunks.iter().enumerate() {
            let images = conv.shape.batch;
            let xv = x.view(first * self.in_size, &[images * self.in_size]);
            let dzv = dz.view(first * self.out_size, &[images * self.out_size]);
            let dxv =
                dx.map(|(d, acc)| (d.view(first * self.in_size, &[images * self.in_size]), acc));
            let later = i > 0;
            let grads = ConvGrads {
                dx: dxv.as_ref().map(|(d, acc)| (d, *acc)),
                dw: Some((dw, later)),
                dbias: db.map(|b| (b, later)),
            };
            let x = (!self.keeps_patches(gpu)).then_some(&xv);
            conv.backward(prog, gpu, x, w, &dzv, grads)?;
        }
        Ok(())
    }
}

/// Per-node GPU objects of one batch size, shared by the training pass, the evaluation
/// pass and the probes (which run after the backward pass, so reusing scratch is safe).
pub(crate) struct NodeRt {
    conv: Option<ConvRt>,
    pool: Option<PoolShape>,
    /// The training forward's arg-max, read by the backward pass.
    argmax: Option<Tensor>,
    /// The probes' and the evaluation's own arg-max, so that they change no training state.
    probe_argmax: Option<Tensor>,
    /// Batch norm's batch mean and 1/std from the training forward, for the backward.
    saved: Option<Tensor>,
    /// Dropout's mask from the training forward, for the backward and the probes.
    mask: Option<Tensor>,
}

/// Scratch below this many bytes in all is given to each convolution on its own, so that
/// patches need not be rebuilt for the backward pass; above, all layers share one.
const OWN_SCRATCH_BYTES: usize = 256 << 20;

impl NodeRt {
    fn all(
        gpu: &Gpu,
        net: &Net,
        batch: usize,
        probes: Option<usize>,
    ) -> Result<Vec<NodeRt>, GpuError> {
        // Convolutions first: the chunking decides how the scratch is shared.
        let mut conv_chunks = Vec::new();
        for node in &net.nodes {
            if let Layer::Conv2d { geom, .. } = &node.layer {
                conv_chunks.push(conv_chunking(gpu, geom, batch)?);
            }
        }
        let scratch = |chunks: &[(usize, ConvShape)]| {
            let s = &chunks[0].1;
            (s.col_len(), s.rows_len())
        };
        let total: usize = conv_chunks
            .iter()
            .map(|c| {
                let (a, b) = scratch(c);
                4 * (a + b)
            })
            .sum();
        let own = total <= OWN_SCRATCH_BYTES.min(scratch_cap());
        let shared = if own || conv_chunks.is_empty() {
            None
        } else {
            let col = conv_chunks.iter().map(|c| scratch(c).0).max().unwrap_or(0);
            let rows = conv_chunks.iter().map(|c| scratch(c).1).max().unwrap_or(0);
            Some((
                gpu.zeros("conv2d shared patches", &[col])?,
                gpu.zeros("conv2d shared rows", &[rows])?,
            ))
        };
        let mut conv_chunks = conv_chunks.into_iter();
        let mut rts = Vec::with_capacity(net.nodes.len());
        for node in &net.nodes {
            let mut rt = NodeRt {
                conv: None,
                pool: None,
                argmax: None,
                probe_argmax: None,
                saved: None,
                mask: None,
            };
            let n = batch * node.layer.output_size();
            match &node.layer {
                Layer::Conv2d { geom, .. } => {
                    let chunks = conv_chunks.next().expect("one per convolution");
                    let (col, rows) = match &shared {
                        Some((c, r)) => (c.clone(), r.clone()),
                        None => {
                            let (c, r) = scratch(&chunks);
                            (
                                gpu.zeros("conv2d patches", &[c])?,
                                gpu.zeros("conv2d rows", &[r])?,
                            )
                        }
                    };
                    let chunks = chunks
                        .into_iter()
                        .map(|(first, shape)| {
                            Ok((
                                first,
                                Conv2d::with_scratch(gpu, shape, col.clone(), rows.clone())?,
                            ))
                        })
                        .collect::<Result<Vec<_>, GpuError>>()?;
                    rt.conv = Some(ConvRt {
                        chunks,
                        own_scratch: own,
                        in_size: geom.in_c * geom.in_h * geom.in_w,
                        out_size: node.layer.output_size(),
                    });
                }
                Layer::MaxPool2 { channels, h, w } => {
                    rt.pool = Some(PoolShape::two_by_two(batch, *channels, *h, *w));
                    rt.argmax = Some(gpu.zeros("max-pool arg-max", &[n])?);
                    let copies = probes.unwrap_or(1);
                    rt.probe_argmax = Some(
                        gpu.zeros("probe arg-max", &[copies, segment(&node.layer, n, copies)])?,
                    );
                }
                Layer::BatchNorm { channels, .. } => {
                    rt.saved = Some(gpu.zeros("batch-norm statistics", &[2 * channels])?);
                }
                Layer::Dropout { .. } => {
                    rt.mask = Some(gpu.zeros("dropout mask", &[n])?);
                }
                _ => {}
            }
            rts.push(rt);
        }
        Ok(rts)
    }
}

/// `ETAPROBE_CONV_SCRATCH_BYTES`: a cap on one convolution chunk's scratch below the
/// binding limit, which also makes all layers share one scratch; it saves memory, and lets
/// the tests exercise the chunking on any adapter.
fn scratch_cap() -> usize {
    std::env::var("ETAPROBE_CONV_SCRATCH_BYTES")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(usize::MAX)
}

/// Splits a convolution's batch into chunks whose scratch fits one storage binding: the
/// largest chunk size that fits and keeps the chunks' slices on bindable offsets, then
/// the remainder. Fails when not even one image fits.
fn conv_chunking(
    gpu: &Gpu,
    geom: &super::Conv,
    batch: usize,
) -> Result<Vec<(usize, ConvShape)>, GpuError> {
    let shape = |images: usize| ConvShape {
        batch: images,
        in_channels: geom.in_c,
        height: geom.in_h,
        width: geom.in_w,
        out_channels: geom.out_c,
        kernel_h: geom.kernel,
        kernel_w: geom.kernel,
        stride: geom.stride,
        padding: geom.pad,
    };
    let limit = (gpu.limits.max_storage_buffer_binding_size as usize).min(scratch_cap());
    // The matmuls may pack a scratch matrix transposed, its short side padded to 64.
    let fits = |images: usize| {
        let s = shape(images);
        let rows = s.patch_len().max(s.out_channels).div_ceil(64) * 64;
        4 * rows * s.col_stride() <= limit
    };
    let in_size = geom.in_c * geom.in_h * geom.in_w;
    let out_size = geom.out_c * geom.out_h() * geom.out_w();
    let aligned = |images: usize| {
        (images * in_size).is_multiple_of(64) && (images * out_size).is_multiple_of(64)
    };
    let per_chunk = if fits(batch) {
        batch
    } else {
        match (1..batch).rev().find(|&b| fits(b) && aligned(b)) {
            Some(b) => b,
            None => {
                let s = shape(1);
                gpu.check_binding_size(
                    "conv2d im2col scratch of one image",
                    4 * s.col_len() as u64,
                )?;
                return Err(GpuError::Shader(format!(
                    "conv2d {s:?}: no batch chunk both fits the adapter's binding limit and \
                     starts on a bindable offset; use a smaller --batch-size"
                )));
            }
        }
    };
    let mut chunks = Vec::new();
    let mut first = 0;
    while first < batch {
        let images = per_chunk.min(batch - first);
        let s = shape(images);
        s.validate(gpu)?;
        chunks.push((first, s));
        first += images;
    }
    Ok(chunks)
}

/// A layer's output for every probe: probe p's `[batch, size]` block starts at `p·seg`.
pub(crate) struct Act {
    pub t: Tensor,
    pub seg: usize,
}

/// Per-probe block length of a layer's `n` output elements: aligned, so that layers can
/// bind each probe's block on its own, except for linear layers, whose outputs stay
/// contiguous across probes: the loss reads them as rows.
fn segment(layer: &Layer, n: usize, probes: usize) -> usize {
    if probes == 1 || matches!(layer, Layer::Linear { .. }) {
        n
    } else {
        align_elems(n)
    }
}

/// Which pass is being recorded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Batch statistics (updating the running ones), fresh dropout masks, state kept for
    /// the backward pass.
    Train,
    /// Batch statistics per probe, the step's dropout masks, no state written.
    Probe,
    /// Running statistics, no dropout.
    Eval,
}

/// What recording a pass needs.
#[derive(Clone, Copy)]
struct Recorder<'a> {
    gpu: &'a Gpu,
    net: &'a Net,
    params: &'a Params,
    rts: &'a [NodeRt],
    batch: usize,
    weights: Weights<'a>,
    mode: Mode,
    rng: Option<&'a Tensor>,
    /// Scratch for the probes' batch statistics.
    probe_saved: Option<&'a Tensor>,
}

impl Recorder<'_> {
    /// The training forward: every node's output is kept for the backward pass; the first
    /// node's pre-activation also goes to `pre0` (the probes reuse it).
    fn network_keeping_all(
        &self,
        prog: &mut Program,
        input: &Tensor,
        pre0: Option<&Tensor>,
    ) -> Result<Vec<Act>, GpuError> {
        let net = self.net;
        let mut acts: Vec<Act> = Vec::with_capacity(net.nodes.len());
        for (i, node) in net.nodes.iter().enumerate() {
            let n = self.batch * node.layer.output_size();
            if let (0, Some(pre)) = (i, pre0) {
                let (plain, relu) = without_relu(&node.layer);
                let z = Act {
                    t: pre.clone(),
                    seg: n,
                };
                self.layer(prog, &plain, i, input, &[], &z)?;
                let y = if relu {
                    let y = self.gpu.zeros("layer 0 output", &[n])?;
                    relu::forward(prog, self.gpu, pre, &y)?;
                    Act { t: y, seg: n }
                } else {
                    z
                };
                acts.push(y);
                continue;
            }
            let y = Act {
                t: self.gpu.zeros(&format!("layer {i} output"), &[n])?,
                seg: n,
            };
            let srcs: Vec<&Act> = node.sources().map(|s| &acts[s]).collect();
            self.layer(prog, &node.layer, i, input, &srcs, &y)?;
            acts.push(y);
        }
        Ok(acts)
    }

    /// A forward pass that keeps nothing: outputs come from `pool` and go back to it after
    /// their last reader. `first` replaces the first node's output (the probes compute it
    /// by linearity). Returns the last node's output, still taken from the pool.
    fn network(
        &self,
        prog: &mut Program,
        input: &Tensor,
        first: Option<Act>,
        pool: &mut Pool,
    ) -> Result<Act, GpuError> {
        let net = self.net;
        let count = net.nodes.len();
        let mut last_use = vec![0usize; count];
        for (i, node) in net.nodes.iter().enumerate() {
            for s in node.sources() {
                last_use[s] = i;
            }
        }
        let probes = self.weights.probes;
        let mut acts: Vec<Option<Act>> = Vec::with_capacity(count);
        let start = usize::from(first.is_some());
        acts.push(first);
        acts.truncate(start);
        for (i, node) in net.nodes.iter().enumerate().skip(start) {
            let n = self.batch * node.layer.output_size();
            let seg = segment(&node.layer, n, probes);
            let y = Act {
                t: pool.take(self.gpu, &format!("layer {i} output"), probes * seg)?,
                seg,
            };
            {
                let srcs: Vec<&Act> = node
                    .sources()
                    .map(|s| acts[s].as_ref().expect("sources are alive"))
                    .collect();
                self.layer(prog, &node.layer, i, input, &srcs, &y)?;
            }
            for s in node.sources() {
                if last_use[s] == i {
                    let a = acts[s].take().expect("freed once");
                    pool.give(&a.t);
                }
            }
            acts.push(Some(y));
        }
        Ok(acts.pop().flatten().expect("a model has layers"))
    }

    /// Records node `i`'s forward pass (as `layer`, which may be the node's layer without
    /// its ReLU) from its sources' outputs (none: the network input).
    fn layer(
        &self,
        prog: &mut Program,
        layer: &Layer,
        i: usize,
        input: &Tensor,
        srcs: &[&Act],
        y: &Act,
    ) -> Result<(), GpuError> {
        let (gpu, net, rt) = (self.gpu, self.net, &self.rts[i]);
        let x = srcs.first().copied();
        let probes = self.weights.probes;
        let batch = self.batch;
        let param = |p: usize, slot: usize| {
            let s = &net.layout.slots[slot];
            self.weights
                .values
                .view(p * self.weights.stride + s.offset, &[s.len()])
        };
        let size = net.input_size(i);
        let x_view = |p: usize| match x {
            None => input.clone(),
            Some(a) => a.t.view(p * a.seg, &[batch * size]),
        };
        let n = batch * layer.output_size();
        let y_view = |p: usize| y.t.view(p * y.seg, &[n]);
        match layer {
            Layer::Linear { .. } | Layer::Conv2d { .. } | Layer::MaxPool2 { .. } => {
                let scratch_argmax = self.mode != Mode::Train;
                forward_layer_with(
                    prog,
                    gpu,
                    net,
                    &self.weights,
                    layer,
                    rt,
                    input,
                    x,
                    y,
                    batch,
                    scratch_argmax,
                )
            }
            Layer::BatchNorm {
                channels,
                hw,
                relu,
                weight,
                bias,
                running_mean,
                running_var,
            } => {
                let s = BnShape {
                    batch,
                    channels: *channels,
                    hw: *hw,
                };
                let (rm, rv) = (
                    self.params.buffer(*running_mean),
                    self.params.buffer(*running_var),
                );
                for p in 0..probes {
                    let (g, b) = (param(p, *weight), param(p, *bias));
                    let (xv, yv) = (x_view(p), y_view(p));
                    match self.mode {
                        Mode::Train => {
                            let saved = rt.saved.as_ref().expect("batch-norm runtime");
                            batchnorm::forward_train(
                                prog,
                                gpu,
                                &s,
                                &xv,
                                &g,
                                &b,
                                &yv,
                                saved,
                                Some((&rm, &rv)),
                                *relu,
                            )?;
                        }
                        Mode::Probe => {
                            let saved = self.probe_saved.expect("probe statistics scratch");
                            let saved = saved.view(0, &[2 * channels]);
                            batchnorm::forward_train(
                                prog, gpu, &s, &xv, &g, &b, &yv, &saved, None, *relu,
                            )?;
                        }
                        Mode::Eval => batchnorm::forward_eval(
                            prog, gpu, &s, &xv, &g, &b, &rm, &rv, &yv, *relu,
                        )?,
                    }
                }
                Ok(())
            }
            Layer::Add { relu, .. } => {
                let (a, b) = (srcs[0], srcs[1]);
                debug_assert_eq!(a.seg, b.seg);
                let len = probes * y.seg;
                add::forward(
                    prog,
                    gpu,
                    &a.t.view(0, &[len]),
                    &b.t.view(0, &[len]),
                    &y.t.view(0, &[len]),
                    *relu,
                )
            }
            Layer::AvgPool { channels, hw } => {
                for p in 0..probes {
                    avgpool::forward(prog, gpu, batch, *channels, *hw, &x_view(p), &y_view(p))?;
                }
                Ok(())
            }
            Layer::Dropout { p: rate, .. } => {
                let mask = rt.mask.as_ref().expect("dropout runtime");
                for p in 0..probes {
                    let (xv, yv) = (x_view(p), y_view(p));
                    match self.mode {
                        Mode::Train => {
                            let rng = self.rng.expect("dropout seed");
                            dropout::forward_train(prog, gpu, &xv, rng, *rate, mask, &yv)?
                        }
                        Mode::Probe => dropout::apply(prog, gpu, &xv, mask, &yv)?,
                        Mode::Eval => prog.copy(&xv, &yv),
                    }
                }
                Ok(())
            }
        }
    }

    /// The backward pass, last node first, from the loss gradient `dlogits`: parameter
    /// gradients into the flat gradient buffer (overwritten), each node's output gradient
    /// summed over its readers in a pooled tensor freed once the node is done.
    fn backward(
        &self,
        prog: &mut Program,
        input: &Tensor,
        acts: &[Act],
        dlogits: Tensor,
        pool: &mut Pool,
    ) -> Result<(), GpuError> {
        let (gpu, net, params, batch) = (self.gpu, self.net, self.params, self.batch);
        let count = net.nodes.len();
        let mut grads: Vec<Option<Tensor>> = (0..count).map(|_| None).collect();
        grads[count - 1] = Some(dlogits);
        for i in (0..count).rev() {
            let node = &net.nodes[i];
            let Some(dy) = grads[i].take() else {
                continue; // nothing reads this node's output
            };
            // Where the gradients of this node's sources go, and whether they add to what
            // a later reader already wrote.
            let mut targets: Vec<(Tensor, bool)> = Vec::new();
            for s in node.sources() {
                let len = batch * net.nodes[s].layer.output_size();
                let acc = grads[s].is_some();
                if !acc {
                    grads[s] = Some(pool.take(gpu, &format!("layer {s} output gradient"), len)?);
                }
                targets.push((grads[s].clone().expect("just set"), acc));
            }
            let x = node.input.map_or(input, |s| &acts[s].t);
            let y = &acts[i].t;
            let dx = targets.first().map(|(t, acc)| (t, *acc));
            let rt = &self.rts[i];
            // Through a fused ReLU first: its output y is positive exactly where it passed.
            let through_relu =
                |pool: &mut Pool, prog: &mut Program| -> Result<Option<Tensor>, GpuError> {
                    let relu = match node.layer {
                        Layer::Linear { relu, .. }
                        | Layer::Conv2d { relu, .. }
                        | Layer::BatchNorm { relu, .. }
                        | Layer::Add { relu, .. } => relu,
                        _ => false,
                    };
                    if !relu {
                        return Ok(None);
                    }
                    let dz = pool.take(gpu, "pre-activation gradient", y.len())?;
                    relu::backward(prog, gpu, y, &dy, &dz, false)?;
                    Ok(Some(dz))
                };
            let dz_owned = through_relu(pool, prog)?;
            let dz = dz_owned.as_ref().unwrap_or(&dy);
            match &node.layer {
                Layer::Linear {
                    inputs,
                    outputs,
                    weight,
                    bias: bias_slot,
                    ..
                } => {
                    let (inputs, outputs) = (*inputs, *outputs);
                    let (w, gw, gb) = (
                        params.value(*weight),
                        params.grad(*weight),
                        params.grad(*bias_slot),
                    );
                    let dzm = Mat::new(dz, batch, outputs);
                    // dW [out, in] = dZᵀ · X
                    matmul::record(
                        prog,
                        gpu,
                        &dzm.clone().transposed(),
                        &Mat::new(x, batch, inputs),
                        &Mat::new(&gw, outputs, inputs),
                        1,
                        Epilogue::default(),
                    )?;
                    bias::backward(prog, gpu, dz, &gb, batch, outputs, false)?;
                    if let Some((dx, acc)) = dx {
                        // dX [B, in] = dZ · W
                        let epi = Epilogue {
                            accumulate: acc,
                            ..Default::default()
                        };
                        matmul::record(
                            prog,
                            gpu,
                            &dzm,
                            &Mat::new(&w, outputs, inputs),
                            &Mat::new(dx, batch, inputs),
                            1,
                            epi,
                        )?;
                    }
                }
                Layer::Conv2d {
                    weight,
                    bias: bias_slot,
                    ..
                } => {
                    let conv = rt.conv.as_ref().expect("conv runtime");
                    let flat = |t: Tensor| t.reshape(&[t.len()]);
                    let (w, gw) = (flat(params.value(*weight)), flat(params.grad(*weight)));
                    let gb = bias_slot.map(|b| params.grad(b));
                    conv.backward(prog, gpu, x, &w, dz, &gw, gb.as_ref(), dx)?;
                }
                Layer::MaxPool2 { .. } => {
                    if let Some((dx, acc)) = dx {
                        let shape = rt.pool.as_ref().expect("pool runtime");
                        let argmax = rt.argmax.as_ref().expect("arg-max");
                        maxpool::backward(prog, gpu, shape, argmax, dz, dx, acc)?;
                    }
                }
                Layer::BatchNorm {
                    channels,
                    hw,
                    weight,
                    bias: bias_slot,
                    ..
                } => {
                    let s = BnShape {
                        batch,
                        channels: *channels,
                        hw: *hw,
                    };
                    let saved = rt.saved.as_ref().expect("batch-norm runtime");
                    let (g, dg, db) = (
                        params.value(*weight),
                        params.grad(*weight),
                        params.grad(*bias_slot),
                    );
                    batchnorm::backward(
                        prog,
                        gpu,
                        &s,
                        x,
                        &g,
                        saved,
                        dz,
                        dx,
                        (&dg, false),
                        (&db, false),
                    )?;
                }
                Layer::Add { .. } => {
                    // The sum passes its gradient to both operands.
                    for (t, acc) in &targets {
                        if *acc {
                            axpy::axpy(prog, gpu, 1.0, dz, t)?;
                        } else {
                            prog.copy(dz, t);
                        }
                    }
                }
                Layer::AvgPool { channels, hw } => {
                    if let Some((dx, acc)) = dx {
                        avgpool::backward(prog, gpu, batch, *channels, *hw, dz, dx, acc)?;
                    }
                }
                Layer::Dropout { .. } => {
                    if let Some((dx, acc)) = dx {
                        let mask = rt.mask.as_ref().expect("dropout runtime");
                        dropout::backward(prog, gpu, dz, mask, dx, acc)?;
                    }
                }
            }
            if let Some(dz) = &dz_owned {
                pool.give(dz);
            }
            if i + 1 < count {
                pool.give(&dy);
            }
        }
        Ok(())
    }
}

/// The layer with its ReLU taken out, and whether it had one.
fn without_relu(layer: &Layer) -> (Layer, bool) {
    let mut plain = layer.clone();
    let had = match &mut plain {
        Layer::Linear { relu, .. }
        | Layer::Conv2d { relu, .. }
        | Layer::BatchNorm { relu, .. }
        | Layer::Add { relu, .. } => std::mem::replace(relu, false),
        _ => false,
    };
    (plain, had)
}

/// Records a linear, convolution or pooling layer's forward pass in training mode.
#[allow(clippy::too_many_arguments)]
fn forward_layer(
    prog: &mut Program,
    gpu: &Gpu,
    net: &Net,
    weights: &Weights,
    layer: &Layer,
    rt: &NodeRt,
    input: &Tensor,
    x: Option<&Act>,
    y: &Act,
    batch: usize,
) -> Result<(), GpuError> {
    forward_layer_with(
        prog, gpu, net, weights, layer, rt, input, x, y, batch, false,
    )
}

/// Records a linear, convolution or pooling layer's forward pass for every probe; `x` is
/// the source's output, or None for the network input (shared by all probes). Pooling
/// writes its arg-max to the probes' copy when `scratch_argmax`, so that only the training
/// pass leaves it for the backward pass.
#[allow(clippy::too_many_arguments)]
fn forward_layer_with(
    prog: &mut Program,
    gpu: &Gpu,
    net: &Net,
    weights: &Weights,
    layer: &Layer,
    rt: &NodeRt,
    input: &Tensor,
    x: Option<&Act>,
    y: &Act,
    batch: usize,
    scratch_argmax: bool,
) -> Result<(), GpuError> {
    let slot = |i: usize| net.layout.slots[i].offset;
    let probes = weights.probes;
    // Probe p's view of a parameter slot and of the input and output blocks.
    let param = |p: usize, i: usize| {
        let s = &net.layout.slots[i];
        weights
            .values
            .view(p * weights.stride + s.offset, &[s.len()])
    };
    let x_view = |p: usize, size: usize| match x {
        None => input.clone(),
        Some(a) => a.t.view(p * a.seg, &[batch * size]),
    };
    let n = batch * layer.output_size();
    match layer {
        Layer::Linear {
            inputs,
            outputs,
            relu,
            weight,
            bias,
        } => {
            let (inputs, outputs) = (*inputs, *outputs);
            let epi = Epilogue {
                bias: Some((weights.values, slot(*bias))),
                bias_batch_stride: weights.stride,
                relu: *relu,
                accumulate: false,
            };
            let wt = Mat::at(weights.values, slot(*weight), outputs, inputs)
                .transposed()
                .with_batch_stride(weights.stride);
            let xm = match x {
                None => Mat::new(input, batch, inputs).shared(),
                Some(a) => Mat::new(&a.t, batch, inputs).with_batch_stride(a.seg),
            };
            let ym = Mat::new(&y.t, batch, outputs);
            matmul::record(prog, gpu, &xm, &wt, &ym, probes, epi)
        }
        Layer::Conv2d {
            geom,
            relu,
            weight,
            bias,
        } => {
            let conv = rt.conv.as_ref().expect("conv runtime");
            let in_size = geom.in_c * geom.in_h * geom.in_w;
            for p in 0..probes {
                let b = bias.map(|b| param(p, b));
                let yv = y.t.view(p * y.seg, &[n]);
                let w = param(p, *weight);
                conv.forward(
                    prog,
                    gpu,
                    &x_view(p, in_size),
                    &w,
                    b.as_ref(),
                    &yv,
                    *relu,
                    false,
                )?;
            }
            Ok(())
        }
        Layer::MaxPool2 { channels, h, w } => {
            let shape = rt.pool.as_ref().expect("pool runtime");
            for p in 0..probes {
                let yv = y.t.view(p * y.seg, &[n]);
                let argmax = if scratch_argmax {
                    let a = rt.probe_argmax.as_ref().expect("probe arg-max");
                    a.view(p * segment(layer, n, probes), &[n])
                } else {
                    rt.argmax.clone().expect("arg-max")
                };
                maxpool::forward(prog, gpu, shape, &x_view(p, channels * h * w), &yv, &argmax)?;
            }
            Ok(())
        }
        _ => unreachable!("only parameterised and pooling layers are recorded here"),
    }
}
