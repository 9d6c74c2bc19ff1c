//! The pooling layers: 2×2 max-pooling with stride 2 (LeNet) and global average pooling
//! (ResNet's head).

use super::{Backward, Forward, LayerKind};
use crate::gpu::{GpuError, Program, Tensor};
use crate::models::recorder::Mode;
use crate::models::runtime::{NodeRt, RuntimeBuilder};
use crate::ops::avgpool;
use crate::ops::maxpool::{self, PoolShape};

/// 2×2 max-pooling with stride 2 over `channels × h × w`.
#[derive(Clone, Debug)]
pub struct MaxPool2 {
    /// Channels, pooled independently.
    pub channels: usize,
    /// Input height in pixels.
    pub h: usize,
    /// Input width in pixels.
    pub w: usize,
}

/// A max-pooling layer's GPU objects.
pub(crate) struct MaxPoolRt {
    shape: PoolShape,
    /// The training forward's arg-max, read by the backward pass.
    argmax: Tensor,
    /// The probes' and the evaluation's own arg-max, so that they change no training state.
    probe_argmax: Tensor,
}

fn max_pool_rt(rt: &NodeRt) -> &MaxPoolRt {
    match rt {
        NodeRt::MaxPool(pool) => pool,
        _ => unreachable!("pool runtime"),
    }
}

impl LayerKind for MaxPool2 {
    fn output_size(&self) -> usize {
        self.channels * (self.h / 2) * (self.w / 2)
    }

    fn runtime(&self, rt: &mut RuntimeBuilder, n: usize) -> Result<NodeRt, GpuError> {
        let shape = PoolShape::two_by_two(rt.batch, self.channels, self.h, self.w);
        let argmax = rt.gpu.zeros("max-pool arg-max", &[n])?;
        let copies = rt.probes.unwrap_or(1);
        let probe_argmax = rt
            .gpu
            .zeros("probe arg-max", &[copies, self.probe_segment(n, copies)])?;
        Ok(NodeRt::MaxPool(MaxPoolRt {
            shape,
            argmax,
            probe_argmax,
        }))
    }

    /// Writes its arg-max to the probes' copy outside the training pass, so that only the
    /// training pass leaves it for the backward pass.
    fn forward(&self, prog: &mut Program, f: &Forward) -> Result<(), GpuError> {
        let rt = max_pool_rt(f.rt);
        let (n, probes) = (f.n, f.probes());
        let scratch_argmax = f.rec.mode != Mode::Train;
        for p in 0..probes {
            let yv = f.y(p);
            let argmax = if scratch_argmax {
                rt.probe_argmax
                    .view(p * self.probe_segment(n, probes), &[n])
            } else {
                rt.argmax.clone()
            };
            maxpool::forward(prog, f.rec.gpu, &rt.shape, &f.x(p), &yv, &argmax)?;
        }
        Ok(())
    }

    fn backward(&self, prog: &mut Program, b: &Backward) -> Result<(), GpuError> {
        if let Some((dx, acc)) = b.dx() {
            let rt = max_pool_rt(b.rt);
            maxpool::backward(prog, b.gpu, &rt.shape, &rt.argmax, b.dz, dx, acc)?;
        }
        Ok(())
    }
}

/// Global average pooling `[c, hw] → [c]`.
#[derive(Clone, Debug)]
pub struct AvgPool {
    /// Channels, each averaged to one value.
    pub channels: usize,
    /// Pixels per image and channel: height · width.
    pub hw: usize,
}

impl LayerKind for AvgPool {
    fn output_size(&self) -> usize {
        self.channels
    }

    fn forward(&self, prog: &mut Program, f: &Forward) -> Result<(), GpuError> {
        let batch = f.rec.batch;
        for p in 0..f.probes() {
            avgpool::forward(
                prog,
                f.rec.gpu,
                batch,
                self.channels,
                self.hw,
                &f.x(p),
                &f.y(p),
            )?;
        }
        Ok(())
    }

    fn backward(&self, prog: &mut Program, b: &Backward) -> Result<(), GpuError> {
        if let Some((dx, acc)) = b.dx() {
            avgpool::backward(prog, b.gpu, b.batch, self.channels, self.hw, b.dz, dx, acc)?;
        }
        Ok(())
    }
}
