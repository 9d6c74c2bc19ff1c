//! A model recorded for one batch size: the forward pass with its loss, and the backward
//! pass into the flat gradient buffer, as programs recorded once and replayed every step.

use super::{Layer, Loss, Net};
use crate::gpu::{Gpu, GpuError, Params, Program, ReadBack, Tensor};
use crate::ops::matmul::{self, Epilogue, Mat};
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
    pub program: Program,
    partials: Tensor,
    per_probe: usize,
    rows: usize,
    readback: ReadBack,
}

impl Probe {
    fn new(
        gpu: &Gpu,
        net: &Net,
        params: &Params,
        weights: &Tensor,
        input: &Tensor,
        targets: &Tensor,
        batch: usize,
    ) -> Result<Probe, GpuError> {
        let steps = gpu.zeros("probe steps", &[PROBES])?;
        let mut program = Program::new();
        probe::perturb(
            &mut program,
            gpu,
            &params.values,
            &params.grads,
            &steps,
            weights,
        )?;
        let w = Weights {
            values: weights,
            stride: params.values.len(),
            probes: PROBES,
        };
        let acts = record_network(&mut program, gpu, net, &w, input, batch)?;
        let out = acts.last().expect("a model has layers");
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
    /// also the five-point probe.
    pub fn new(
        gpu: &Gpu,
        net: &Net,
        params: &Params,
        batch: usize,
        probe_weights: Option<&Tensor>,
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
        let acts = record_network(&mut forward, gpu, net, &weights, &input, batch)?;
        let logits = acts.last().expect("a model has layers");
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
            let x = if i == 0 { &input } else { &acts[i - 1] };
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
                x,
                &acts[i],
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
            Some(w) => Some(Probe::new(gpu, net, params, w, &input, &targets, batch)?),
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
}

/// Where a forward pass reads its weights: `probes` copies of the flat parameter layout,
/// `stride` elements apart (the training pass reads the one parameter buffer).
pub(crate) struct Weights<'a> {
    pub values: &'a Tensor,
    pub stride: usize,
    pub probes: usize,
}

/// Records the forward pass of every layer for `probes × batch` samples (the input batch is
/// shared by the probes); returns each layer's output, `[probes, batch, size]`.
pub(crate) fn record_network(
    prog: &mut Program,
    gpu: &Gpu,
    net: &Net,
    weights: &Weights,
    input: &Tensor,
    batch: usize,
) -> Result<Vec<Tensor>, GpuError> {
    let mut acts: Vec<Tensor> = Vec::with_capacity(net.layers.len());
    for (i, layer) in net.layers.iter().enumerate() {
        let shape = [weights.probes, batch, layer.output_size()];
        let y = gpu.zeros(&format!("layer {i} output"), &shape)?;
        let x = if i == 0 { input } else { &acts[i - 1] };
        record_forward(prog, gpu, net, weights, layer, x, i == 0, &y, batch)?;
        acts.push(y);
    }
    Ok(acts)
}

#[allow(clippy::too_many_arguments)]
fn record_forward(
    prog: &mut Program,
    gpu: &Gpu,
    net: &Net,
    weights: &Weights,
    layer: &Layer,
    x: &Tensor,
    shared_input: bool,
    y: &Tensor,
    batch: usize,
) -> Result<(), GpuError> {
    let slot = |i: usize| net.layout.slots[i].offset;
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
            let xm = Mat::new(x, batch, inputs);
            let xm = if shared_input { xm.shared() } else { xm };
            let ym = Mat::new(y, batch, outputs);
            matmul::record(prog, gpu, &xm, &wt, &ym, weights.probes, epi)
        }
        Layer::Conv2d { .. } | Layer::MaxPool2 { .. } => Err(GpuError::Shader(
            "convolution layers are not available yet".to_string(),
        )),
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
        Layer::Conv2d { .. } | Layer::MaxPool2 { .. } => Err(GpuError::Shader(
            "convolution layers are not available yet".to_string(),
        )),
    }
}
