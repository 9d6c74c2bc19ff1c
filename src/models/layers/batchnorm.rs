//! Batch normalisation over `channels × hw`, optionally followed by ReLU: batch
//! statistics in training (updating the running ones) and in the probes (each probe its
//! own, updating nothing), running statistics in evaluation.

use rand_chacha::ChaCha8Rng;

use super::{Backward, Forward, LayerKind};
use crate::gpu::{GpuError, ParamLayout, Program, Tensor};
use crate::models::recorder::Mode;
use crate::models::runtime::{NodeRt, RuntimeBuilder};
use crate::ops::batchnorm::{self, BnShape};

/// Batch normalisation over `channels × hw` (batch statistics in training, running
/// statistics in evaluation), optionally followed by ReLU; the running statistics are slot
/// indices into the model's buffer layout.
#[derive(Clone, Debug)]
pub struct BatchNorm {
    /// Channels, each normalised over the batch and its pixels.
    pub channels: usize,
    /// Pixels per image and channel: height · width.
    pub hw: usize,
    /// Whether a ReLU follows the normalisation.
    pub relu: bool,
    /// Parameter slot of γ, `[channels]`.
    pub weight: usize,
    /// Parameter slot of β, `[channels]`.
    pub bias: usize,
    /// Buffer slot of the running mean, `[channels]`.
    pub running_mean: usize,
    /// Buffer slot of the running variance, `[channels]`.
    pub running_var: usize,
}

/// The batch mean and 1/std the training forward saved for the backward.
fn saved(rt: &NodeRt) -> &Tensor {
    match rt {
        NodeRt::BatchNorm { saved } => saved,
        _ => unreachable!("batch-norm runtime"),
    }
}

impl BatchNorm {
    fn shape(&self, batch: usize) -> BnShape {
        BnShape {
            batch,
            channels: self.channels,
            hw: self.hw,
        }
    }
}

impl LayerKind for BatchNorm {
    fn output_size(&self) -> usize {
        self.channels * self.hw
    }

    fn has_modes(&self) -> bool {
        true
    }

    fn fused_relu(&self) -> bool {
        self.relu
    }

    fn take_relu(&mut self) -> bool {
        std::mem::replace(&mut self.relu, false)
    }

    fn backward_takes_relu_off(&self) -> bool {
        self.relu
    }

    /// torchvision's: γ = 1 and β = 0.
    fn init(&self, _rng: &mut ChaCha8Rng, layout: &ParamLayout, values: &mut [Vec<f32>]) {
        values[self.weight] = vec![1.0; layout.slots[self.weight].len()];
        values[self.bias] = vec![0.0; layout.slots[self.bias].len()];
    }

    /// Running means 0 (as zeroed), running variances 1.
    fn init_buffers(&self, values: &mut [Vec<f32>]) {
        values[self.running_var].fill(1.0);
    }

    fn runtime(&self, rt: &mut RuntimeBuilder, _n: usize) -> Result<NodeRt, GpuError> {
        let saved = rt
            .gpu
            .zeros("batch-norm statistics", &[2 * self.channels])?;
        Ok(NodeRt::BatchNorm { saved })
    }

    fn forward(&self, prog: &mut Program, f: &Forward) -> Result<(), GpuError> {
        let (rec, gpu) = (f.rec, f.rec.gpu);
        let s = self.shape(rec.batch);
        let (rm, rv) = (
            rec.params.buffer(self.running_mean),
            rec.params.buffer(self.running_var),
        );
        let relu = self.relu;
        for p in 0..f.probes() {
            let (g, b) = (f.param(p, self.weight), f.param(p, self.bias));
            let (xv, yv) = (f.x(p), f.y(p));
            match rec.mode {
                Mode::Train => {
                    batchnorm::forward_train(
                        prog,
                        gpu,
                        &s,
                        &xv,
                        &g,
                        &b,
                        &yv,
                        saved(f.rt),
                        Some((&rm, &rv)),
                        relu,
                    )?;
                }
                Mode::Probe => {
                    let saved = rec.probe_saved.expect("probe statistics scratch");
                    let saved = saved.view(0, &[2 * self.channels]);
                    batchnorm::forward_train(prog, gpu, &s, &xv, &g, &b, &yv, &saved, None, relu)?;
                }
                Mode::Eval => {
                    batchnorm::forward_eval(prog, gpu, &s, &xv, &g, &b, &rm, &rv, &yv, relu)?
                }
            }
        }
        Ok(())
    }

    fn backward(&self, prog: &mut Program, b: &Backward) -> Result<(), GpuError> {
        let params = b.params;
        let (g, dg, db) = (
            params.value(self.weight),
            params.grad(self.weight),
            params.grad(self.bias),
        );
        let beta = params.value(self.bias);
        batchnorm::backward(
            prog,
            b.gpu,
            &self.shape(b.batch),
            b.x,
            &g,
            saved(b.rt),
            b.dz,
            b.dx(),
            (&dg, false),
            (&db, false),
            self.relu.then_some(&beta),
        )
    }
}
