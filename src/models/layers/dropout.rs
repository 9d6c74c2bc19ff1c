//! Inverted dropout over `size` elements: a fresh mask in training, the step's mask
//! again in its probes, identity in evaluation.

use super::{Backward, Forward, LayerKind};
use crate::gpu::{GpuError, Program, Tensor};
use crate::models::recorder::Mode;
use crate::models::runtime::{NodeRt, RuntimeBuilder};
use crate::ops::dropout;

/// Inverted dropout over `size` elements, identity in evaluation.
#[derive(Clone, Debug)]
pub struct Dropout {
    /// Probability of zeroing an element, in [0, 1); kept elements are scaled by 1/(1 − p).
    pub p: f32,
    /// Elements per sample.
    pub size: usize,
}

/// The training forward's mask, for the backward and the probes.
fn mask(rt: &NodeRt) -> &Tensor {
    match rt {
        NodeRt::Dropout { mask } => mask,
        _ => unreachable!("dropout runtime"),
    }
}

impl LayerKind for Dropout {
    fn output_size(&self) -> usize {
        self.size
    }

    fn has_modes(&self) -> bool {
        true
    }

    fn draws_random(&self) -> bool {
        true
    }

    fn runtime(&self, rt: &mut RuntimeBuilder, n: usize) -> Result<NodeRt, GpuError> {
        let mask = rt.gpu.zeros("dropout mask", &[n])?;
        Ok(NodeRt::Dropout { mask })
    }

    fn forward(&self, prog: &mut Program, f: &Forward) -> Result<(), GpuError> {
        let (rec, gpu) = (f.rec, f.rec.gpu);
        let mask = mask(f.rt);
        for p in 0..f.probes() {
            let (xv, yv) = (f.x(p), f.y(p));
            match rec.mode {
                Mode::Train => {
                    let rng = rec.rng.expect("dropout seed");
                    dropout::forward_train(prog, gpu, &xv, rng, self.p, self.size, mask, &yv)?
                }
                Mode::Probe => dropout::apply(prog, gpu, &xv, mask, &yv)?,
                Mode::Eval => prog.copy(&xv, &yv),
            }
        }
        Ok(())
    }

    fn backward(&self, prog: &mut Program, b: &Backward) -> Result<(), GpuError> {
        if let Some((dx, acc)) = b.dx() {
            dropout::backward(prog, b.gpu, b.dz, mask(b.rt), dx, acc)?;
        }
        Ok(())
    }
}
