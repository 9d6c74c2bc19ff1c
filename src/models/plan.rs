//! A model recorded for one batch size: the forward pass with its loss, and the backward
//! pass into the flat gradient buffer, as programs recorded once and replayed every step.

use super::{Layer, Loss, Net};
use crate::gpu::{Gpu, GpuError, Params, Program, ReadBack, Tensor};
use crate::ops::matmul::{self, Epilogue, Mat};
use crate::ops::{bias, mse, reduce, relu, softmax_xent};

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
    pub fn new(gpu: &Gpu, net: &Net, params: &Params, batch: usize) -> Result<Plan, GpuError> {
        let sample = net.sample_size();
        let input = gpu.zeros("input", &[batch, sample])?;
        let outputs = net.outputs();
        let targets = match net.loss {
            Loss::SoftmaxCrossEntropy { .. } => gpu.zeros("labels", &[batch])?,
            Loss::MeanSquaredError { .. } => gpu.zeros("targets", &[batch * outputs])?,
        };
        let mut acts = Vec::with_capacity(net.layers.len());
        for (i, layer) in net.layers.iter().enumerate() {
            acts.push(gpu.zeros(&format!("layer {i} output"), &[batch, layer.output_size()])?);
        }
        let mut forward = Program::new();
        let mut x = &input;
        for (layer, y) in net.layers.iter().zip(&acts) {
            record_forward(&mut forward, gpu, params, layer, x, y, batch)?;
            x = y;
        }
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
        Ok(Plan {
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
        let v: Vec<f32> = self.readback.fetch(gpu)?;
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

fn record_forward(
    prog: &mut Program,
    gpu: &Gpu,
    params: &Params,
    layer: &Layer,
    x: &Tensor,
    y: &Tensor,
    batch: usize,
) -> Result<(), GpuError> {
    match layer {
        Layer::Linear {
            inputs,
            outputs,
            relu,
            weight,
            bias,
        } => {
            let (w, b) = (params.value(*weight), params.value(*bias));
            let epi = Epilogue {
                bias: Some((&b, 0)),
                relu: *relu,
                accumulate: false,
            };
            let wt = Mat::new(&w, *outputs, *inputs).transposed();
            matmul::record(
                prog,
                gpu,
                &Mat::new(x, batch, *inputs),
                &wt,
                &Mat::new(y, batch, *outputs),
                1,
                epi,
            )
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
