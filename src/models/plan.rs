//! A model recorded for one batch size: the forward pass with its loss, and the backward
//! pass into the flat gradient buffer, as programs recorded once and replayed every step.

use super::{Layer, Loss, Net};
use crate::gpu::{Gpu, GpuError, Params, Program, ReadBack, Tensor};
use crate::ops::conv2d::{Conv2d, ConvGrads, ConvShape};
use crate::ops::matmul::{self, Epilogue, Mat};
use crate::ops::maxpool::{self, PoolShape};
use crate::ops::{bias, mse, probe, reduce, relu, softmax_xent};

/// Everything recorded for one batch size.
pub struct Plan {
    pub batch: usize,
    /// `[batch, c, h, w]` inputs, written before each step.
    pub input: Tensor,
    /// Class indices (u32) for classifiers, target values (f32) for regression.
    pub targets: Tensor,
    /// Forward pass, per-row loss and its partial sums.
    pub forward: Program,
    /// Loss gradient and the backward pass, overwriting the gradient buffer.
    pub backward: Program,
    loss_partials: Tensor,
    correct_partials: Tensor,
    readback: ReadBack,
    loss: Loss,
    /// The batched five-point line probe, for schedules that ask for it.
    pub probe: Option<Probe>,
}

/// Number of line probes: f(η + kε) for k = −2..2.
pub const PROBES: usize = 5;

/// The five-point probe of one batch size: materialises w − (η + kε)·g for the five k into
/// a `[5, params]` buffer, runs one forward pass over 5 × batch samples reading those
/// weights, and reduces each probe's loss into its own slots. It writes nothing the
/// training step reads: parameters, gradients and the step's activations stay untouched.
pub struct Probe {
    /// η + kε for k = −2..2, written before each step.
    pub steps: Tensor,
    /// The probes' own batch (`--probe-on val`), or None when they reuse the step's.
    pub input: Option<(Tensor, Tensor)>,
    pub program: Program,
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
        runtimes: &[LayerRuntime],
        pre0: &Tensor,
        own_batch: bool,
    ) -> Result<Probe, GpuError> {
        let steps = gpu.zeros("probe steps", &[PROBES])?;
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
        probe::perturb(
            &mut program,
            gpu,
            &params.values,
            direction,
            &steps,
            weights,
        )?;
        let w = Weights {
            values: weights,
            stride: params.values.len(),
            probes: PROBES,
        };
        let first = first_layer_probes(
            &mut program,
            gpu,
            net,
            direction,
            &steps,
            input,
            batch,
            &runtimes[0],
            pre0,
            &params.values,
        )?;
        let acts = record_network(
            &mut program,
            gpu,
            net,
            &w,
            input,
            batch,
            runtimes,
            Some(first),
        )?;
        let out = &acts.last().expect("a model has layers").t;
        let rows = match net.loss {
            Loss::SoftmaxCrossEntropy { .. } => batch,
            Loss::MeanSquaredError { outputs } => batch * outputs,
        };
        let per_row = gpu.zeros("probe per-row loss", &[PROBES * rows])?;
        let per_probe = reduce::partial_count(rows);
        let partials = gpu.zeros("probe partials", &[PROBES * per_probe])?;
        match net.loss {
            Loss::SoftmaxCrossEntropy { classes } => {
                let correct = gpu.zeros("probe correct", &[PROBES * batch])?;
                softmax_xent::forward(
                    &mut program,
                    gpu,
                    out,
                    targets,
                    &per_row,
                    &correct,
                    PROBES * batch,
                    classes,
                )?;
            }
            Loss::MeanSquaredError { .. } => {
                mse::forward(&mut program, gpu, out, targets, &per_row)?
            }
        }
        reduce::sum_segments(&mut program, gpu, &per_row, PROBES, &partials)?;
        let readback = ReadBack::new(gpu, "probe losses", partials.len());
        Ok(Probe {
            steps,
            input: own,
            program,
            partials,
            per_probe,
            rows,
            readback,
        })
    }

    pub fn copy_outputs(&self, encoder: &mut wgpu::CommandEncoder) {
        self.readback.copy_from(encoder, &self.partials, 0);
    }

    /// The five probe losses, each summed in f64, once `submission` has finished.
    pub fn fetch(
        &self,
        gpu: &Gpu,
        submission: Option<wgpu::SubmissionIndex>,
    ) -> Result<[f64; PROBES], GpuError> {
        let v: Vec<f32> = self.readback.fetch_after(gpu, submission)?;
        let mut f = [0.0; PROBES];
        for (k, fk) in f.iter_mut().enumerate() {
            *fk = reduce::combine(&v[k * self.per_probe..(k + 1) * self.per_probe])
                / self.rows as f64;
        }
        Ok(f)
    }
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
    /// Records the plan; with `probe_weights` (a `[5, params]` buffer shared by all plans)
    /// also the five-point probe along the gradient.
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
        let sample = net.sample_size();
        let input = gpu.zeros("input", &[batch, sample])?;
        let outputs = net.outputs();
        let targets = match net.loss {
            Loss::SoftmaxCrossEntropy { .. } => gpu.zeros("labels", &[batch])?,
            Loss::MeanSquaredError { .. } => gpu.zeros("targets", &[batch * outputs])?,
        };
        let mut forward = Program::new();
        let weights = Weights {
            values: &params.values,
            stride: 0,
            probes: 1,
        };
        let runtimes = net
            .layers
            .iter()
            .map(|l| LayerRuntime::new(gpu, l, batch, probe_weights.is_some()))
            .collect::<Result<Vec<_>, _>>()?;
        let pre0 = match probe_weights {
            Some(_) => Some(gpu.zeros(
                "layer 0 pre-activation",
                &[batch * net.layers[0].output_size()],
            )?),
            None => None,
        };
        let acts = record_network_keeping(
            &mut forward,
            gpu,
            net,
            &weights,
            &input,
            batch,
            &runtimes,
            None,
            pre0.as_ref(),
        )?;
        let logits = &acts.last().expect("a model has layers").t;
        let rows = match net.loss {
            Loss::SoftmaxCrossEntropy { .. } => batch,
            Loss::MeanSquaredError { .. } => batch * outputs,
        };
        let per_row = gpu.zeros("per-row loss", &[rows])?;
        let correct = gpu.zeros("correct", &[batch])?;
        let loss_partials = gpu.zeros("loss partials", &[reduce::partial_count(rows)])?;
        let correct_partials = gpu.zeros("correct partials", &[reduce::partial_count(batch)])?;
        let dlogits = gpu.zeros("dlogits", &[batch * outputs])?;
        let mut backward = Program::new();
        match net.loss {
            Loss::SoftmaxCrossEntropy { classes } => {
                softmax_xent::forward(
                    &mut forward,
                    gpu,
                    logits,
                    &targets,
                    &per_row,
                    &correct,
                    batch,
                    classes,
                )?;
                reduce::sum(&mut forward, gpu, &correct, &correct_partials)?;
                softmax_xent::backward(
                    &mut backward,
                    gpu,
                    logits,
                    &targets,
                    &dlogits,
                    batch,
                    classes,
                    1.0,
                )?;
            }
            Loss::MeanSquaredError { .. } => {
                mse::forward(&mut forward, gpu, logits, &targets, &per_row)?;
                mse::backward(&mut backward, gpu, logits, &targets, &dlogits, 1.0)?;
            }
        }
        reduce::sum(&mut forward, gpu, &per_row, &loss_partials)?;

        // Backward, last layer first; dy holds the gradient of the layer's output.
        let mut dy = dlogits;
        for (i, layer) in net.layers.iter().enumerate().rev() {
            let x = if i == 0 { &input } else { &acts[i - 1].t };
            let dx = if i == 0 {
                None
            } else {
                Some(gpu.zeros(
                    &format!("layer {i} input gradient"),
                    &[batch, net.layers[i - 1].output_size()],
                )?)
            };
            record_backward(
                &mut backward,
                gpu,
                params,
                layer,
                &runtimes[i],
                x,
                &acts[i].t,
                &dy,
                dx.as_ref(),
                batch,
            )?;
            if let Some(dx) = dx {
                dy = dx;
            }
        }
        let readback = ReadBack::new(
            gpu,
            "step scalars",
            loss_partials.len() + correct_partials.len(),
        );
        let probe = match probe_weights {
            Some(w) => Some(Probe::new(
                gpu,
                net,
                params,
                direction,
                w,
                &input,
                &targets,
                batch,
                &runtimes,
                pre0.as_ref().expect("kept when probing"),
                probe_own_batch,
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
            loss_partials,
            correct_partials,
            readback,
            loss: net.loss,
        })
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
pub(crate) struct Weights<'a> {
    pub values: &'a Tensor,
    pub stride: usize,
    pub probes: usize,
}

/// The first layer's output for all five probes from two passes instead of five: the layer
/// is linear in its parameters, so layer(x; w − s·g) = layer(x; w) − s·layer(x; g).
#[allow(clippy::too_many_arguments)]
fn first_layer_probes(
    prog: &mut Program,
    gpu: &Gpu,
    net: &Net,
    direction: &Tensor,
    steps: &Tensor,
    input: &Tensor,
    batch: usize,
    rt: &LayerRuntime,
    zw: Option<&Tensor>,
    values: &Tensor,
) -> Result<Act, GpuError> {
    let layer = &net.layers[0];
    let n = batch * layer.output_size();
    let seg = match layer {
        Layer::Linear { .. } => n,
        _ => segment(n, PROBES),
    };
    // z_w is the training forward's pre-activation of this step, kept for the probes, or,
    // when the probes have their own batch, computed here.
    let zg = gpu.zeros("first layer at g", &[n])?;
    let zw_owned;
    let zw = match zw {
        Some(z) => z,
        None => {
            zw_owned = gpu.zeros("first layer at w", &[n])?;
            let (plain, _) = without_relu(layer);
            let w = Weights {
                values,
                stride: 0,
                probes: 1,
            };
            let z = Act {
                t: zw_owned.clone(),
                seg: n,
            };
            record_forward(prog, gpu, net, &w, &plain, rt, input, None, &z, batch)?;
            &zw_owned
        }
    };
    let relu = match layer {
        Layer::Linear {
            inputs,
            outputs,
            relu,
            weight,
            bias,
        } => {
            let s = |i: usize| net.layout.slots[i].offset;
            let source = direction;
            let epi = Epilogue {
                bias: Some((source, s(*bias))),
                ..Default::default()
            };
            let wt = Mat::at(source, s(*weight), *outputs, *inputs).transposed();
            let xm = Mat::new(input, batch, *inputs);
            matmul::record(prog, gpu, &xm, &wt, &Mat::new(&zg, batch, *outputs), 1, epi)?;
            *relu
        }
        Layer::Conv2d {
            relu, weight, bias, ..
        } => {
            let conv = rt.conv.as_ref().expect("conv runtime");
            let view = |i: usize| {
                let s = &net.layout.slots[i];
                direction.view(s.offset, &s.shape)
            };
            let (w, b) = (view(*weight), view(*bias));
            // The scratch holds the patches of this input: from the training forward (the
            // first layer's backward asks for no dX), or from the z_w pass just above.
            let w = w.reshape(&[w.len()]);
            conv.forward_from_patches(prog, gpu, &w, Some(&b), &zg, false)?;
            *relu
        }
        Layer::MaxPool2 { .. } => unreachable!("a model starts with a parameterised layer"),
    };
    let out = gpu.zeros("layer 0 probe output", &[PROBES, seg])?;
    probe::combine(prog, gpu, zw, &zg, steps, &out, seg, relu)?;
    Ok(Act { t: out, seg })
}

/// Per-layer GPU objects of one batch size, shared by the training pass and the probes
/// (which run after the backward pass, so reusing the convolution scratch is safe).
pub(crate) struct LayerRuntime {
    conv: Option<Conv2d>,
    pool: Option<PoolShape>,
    /// The training forward's arg-max, read by the backward pass.
    argmax: Option<Tensor>,
    /// The probes' own arg-max, so that probing changes no training state.
    probe_argmax: Option<Tensor>,
}

impl LayerRuntime {
    fn new(gpu: &Gpu, layer: &Layer, batch: usize, probes: bool) -> Result<LayerRuntime, GpuError> {
        let mut rt = LayerRuntime {
            conv: None,
            pool: None,
            argmax: None,
            probe_argmax: None,
        };
        match layer {
            Layer::Linear { .. } => {}
            Layer::Conv2d { geom, .. } => {
                let shape = ConvShape {
                    batch,
                    in_channels: geom.in_c,
                    height: geom.in_h,
                    width: geom.in_w,
                    out_channels: geom.out_c,
                    kernel_h: geom.kernel,
                    kernel_w: geom.kernel,
                    stride: geom.stride,
                    padding: geom.pad,
                };
                rt.conv = Some(Conv2d::new(gpu, shape)?);
            }
            Layer::MaxPool2 { channels, h, w } => {
                let shape = PoolShape::two_by_two(batch, *channels, *h, *w);
                let n = layer.output_size() * batch;
                rt.argmax = Some(gpu.zeros("max-pool arg-max", &[n])?);
                if probes {
                    rt.probe_argmax =
                        Some(gpu.zeros("probe arg-max", &[PROBES, segment(n, PROBES)])?);
                }
                rt.pool = Some(shape);
            }
        }
        Ok(rt)
    }
}

/// A layer's output for every probe: probe p's `[batch, size]` block starts at `p·seg`.
pub(crate) struct Act {
    pub t: Tensor,
    pub seg: usize,
}

/// Per-probe block length of `n` elements: aligned, so that convolutions and pooling can
/// bind each probe's block on its own.
fn segment(n: usize, probes: usize) -> usize {
    if probes == 1 {
        n
    } else {
        crate::gpu::align_elems(n)
    }
}

/// Records the forward pass of every layer for `probes × batch` samples (the input batch is
/// shared by the probes); returns each layer's output.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_network(
    prog: &mut Program,
    gpu: &Gpu,
    net: &Net,
    weights: &Weights,
    input: &Tensor,
    batch: usize,
    runtimes: &[LayerRuntime],
    first: Option<Act>,
) -> Result<Vec<Act>, GpuError> {
    record_network_keeping(prog, gpu, net, weights, input, batch, runtimes, first, None)
}

/// [`record_network`] that can also keep the first layer's pre-activation in `pre0`
/// (the probes reuse it), applying its ReLU separately.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_network_keeping(
    prog: &mut Program,
    gpu: &Gpu,
    net: &Net,
    weights: &Weights,
    input: &Tensor,
    batch: usize,
    runtimes: &[LayerRuntime],
    first: Option<Act>,
    pre0: Option<&Tensor>,
) -> Result<Vec<Act>, GpuError> {
    let mut acts: Vec<Act> = Vec::with_capacity(net.layers.len());
    let start = usize::from(first.is_some());
    acts.extend(first);
    for (i, layer) in net.layers.iter().enumerate().skip(start) {
        if let (0, Some(pre)) = (i, pre0) {
            let n = batch * layer.output_size();
            let (plain, relu) = without_relu(layer);
            let z = Act {
                t: pre.clone(),
                seg: n,
            };
            record_forward(
                prog,
                gpu,
                net,
                weights,
                &plain,
                &runtimes[0],
                input,
                None,
                &z,
                batch,
            )?;
            let y = if relu {
                let y = gpu.zeros("layer 0 output", &[1, n])?;
                relu::forward(prog, gpu, pre, &y)?;
                Act { t: y, seg: n }
            } else {
                z
            };
            acts.push(y);
            continue;
        }
        let n = batch * layer.output_size();
        // Linear outputs stay contiguous across probes: the loss reads them as rows.
        let seg = match layer {
            Layer::Linear { .. } => n,
            _ => segment(n, weights.probes),
        };
        let y = gpu.zeros(&format!("layer {i} output"), &[weights.probes, seg])?;
        let x = if i == 0 { None } else { Some(&acts[i - 1]) };
        let y = Act { t: y, seg };
        record_forward(
            prog,
            gpu,
            net,
            weights,
            layer,
            &runtimes[i],
            input,
            x,
            &y,
            batch,
        )?;
        acts.push(y);
    }
    Ok(acts)
}

/// The layer with its ReLU taken out, and whether it had one.
fn without_relu(layer: &Layer) -> (Layer, bool) {
    let mut plain = layer.clone();
    let had = match &mut plain {
        Layer::Linear { relu, .. } | Layer::Conv2d { relu, .. } => std::mem::replace(relu, false),
        Layer::MaxPool2 { .. } => false,
    };
    (plain, had)
}

/// Records one layer's forward pass; `x` is the previous layer's output, or None for the
/// first layer, which reads `input` (shared by all probes).
#[allow(clippy::too_many_arguments)]
fn record_forward(
    prog: &mut Program,
    gpu: &Gpu,
    net: &Net,
    weights: &Weights,
    layer: &Layer,
    rt: &LayerRuntime,
    input: &Tensor,
    x: Option<&Act>,
    y: &Act,
    batch: usize,
) -> Result<(), GpuError> {
    let slot = |i: usize| net.layout.slots[i].offset;
    let probes = weights.probes;
    // Probe p's view of a parameter slot and of the input and output blocks.
    let param = |p: usize, i: usize| {
        let s = &net.layout.slots[i];
        weights.values.view(p * weights.stride + s.offset, &s.shape)
    };
    let in_len = |size: usize| batch * size;
    let x_view = |p: usize, size: usize| match x {
        None => input.clone(),
        Some(a) => a.t.view(p * a.seg, &[in_len(size)]),
    };
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
                let (w, b) = (param(p, *weight), param(p, *bias));
                let yv = y.t.view(p * y.seg, &[batch * layer.output_size()]);
                conv.forward(
                    prog,
                    gpu,
                    &x_view(p, in_size),
                    &w.reshape(&[w.len()]),
                    Some(&b),
                    &yv,
                    *relu,
                )?;
            }
            Ok(())
        }
        Layer::MaxPool2 { channels, h, w } => {
            let shape = rt.pool.as_ref().expect("pool runtime");
            let n = batch * layer.output_size();
            for p in 0..probes {
                let yv = y.t.view(p * y.seg, &[n]);
                let argmax = if probes == 1 {
                    rt.argmax.clone().expect("arg-max")
                } else {
                    let a = rt.probe_argmax.as_ref().expect("probe arg-max");
                    a.view(p * segment(n, probes), &[n])
                };
                maxpool::forward(prog, gpu, shape, &x_view(p, channels * h * w), &yv, &argmax)?;
            }
            Ok(())
        }
    }
}

/// Records the gradients of `layer` given `dy` (gradient of its output `y`): parameter
/// gradients into the flat gradient buffer (overwritten), and `dx` when asked.
#[allow(clippy::too_many_arguments)]
fn record_backward(
    prog: &mut Program,
    gpu: &Gpu,
    params: &Params,
    layer: &Layer,
    rt: &LayerRuntime,
    x: &Tensor,
    y: &Tensor,
    dy: &Tensor,
    dx: Option<&Tensor>,
    batch: usize,
) -> Result<(), GpuError> {
    match layer {
        Layer::Linear {
            inputs,
            outputs,
            relu: has_relu,
            weight,
            bias: bias_slot,
        } => {
            let (inputs, outputs) = (*inputs, *outputs);
            // Through the ReLU first: its output y is positive exactly where it passed.
            let dz_owned;
            let dz = if *has_relu {
                dz_owned = gpu.zeros("pre-activation gradient", &[batch, outputs])?;
                relu::backward(prog, gpu, y, dy, &dz_owned, false)?;
                &dz_owned
            } else {
                dy
            };
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
            if let Some(dx) = dx {
                // dX [B, in] = dZ · W
                matmul::record(
                    prog,
                    gpu,
                    &dzm,
                    &Mat::new(&w, outputs, inputs),
                    &Mat::new(dx, batch, inputs),
                    1,
                    Epilogue::default(),
                )?;
            }
            Ok(())
        }
        Layer::Conv2d {
            relu: has_relu,
            weight,
            bias: bias_slot,
            ..
        } => {
            let conv = rt.conv.as_ref().expect("conv runtime");
            let dz_owned;
            let dz = if *has_relu {
                dz_owned = gpu.zeros("pre-activation gradient", &[y.len()])?;
                relu::backward(prog, gpu, y, dy, &dz_owned, false)?;
                &dz_owned
            } else {
                dy
            };
            let w = params.value(*weight);
            let (gw, gb) = (params.grad(*weight), params.grad(*bias_slot));
            let (gw, w) = (gw.reshape(&[gw.len()]), w.reshape(&[w.len()]));
            let grads = ConvGrads {
                dx: dx.map(|d| (d, false)),
                dw: Some((&gw, false)),
                dbias: Some((&gb, false)),
            };
            // The patches are still in the scratch from this layer's forward pass.
            let _ = x;
            conv.backward(prog, gpu, None, &w, dz, grads)
        }
        Layer::MaxPool2 { .. } => match dx {
            Some(dx) => {
                let shape = rt.pool.as_ref().expect("pool runtime");
                let argmax = rt.argmax.as_ref().expect("arg-max");
                maxpool::backward(prog, gpu, shape, argmax, dy, dx, false)
            }
            None => Ok(()),
        },
    }
}
