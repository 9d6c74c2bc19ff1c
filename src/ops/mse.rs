//! Mean squared error: per-element squares (summed by [`super::reduce`]) and the gradient.

use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    scale: f32,
    period: u32,
    pad: u32,
}

/// `sq = (pred − target)²` element-wise; the MSE is `Σ sq / len`. `pred` may hold several
/// stacked copies (probes) scored against the same `target`.
pub fn forward(
    prog: &mut Program,
    gpu: &Gpu,
    pred: &Tensor,
    target: &Tensor,
    sq: &Tensor,
) -> Result<(), GpuError> {
    assert!(
        pred.len().is_multiple_of(target.len()),
        "predictions must repeat the targets"
    );
    assert_eq!(pred.len(), sq.len());
    let k = gpu.kernel(&shader!("mse"), "forward", &[])?;
    let p = Params {
        len: u(pred.len()),
        scale: 0.0,
        period: u(target.len()),
        pad: 0,
    };
    prog.dispatch(
        gpu,
        &k,
        &p,
        &[pred, target, sq, gpu.dummy()],
        grid_1d(gpu, pred.len(), 1),
    )
}

/// Gradient of `g · MSE`: `dpred = g · 2(pred − target) / len`.
pub fn backward(
    prog: &mut Program,
    gpu: &Gpu,
    pred: &Tensor,
    target: &Tensor,
    dpred: &Tensor,
    g: f32,
) -> Result<(), GpuError> {
    assert_eq!(pred.len(), target.len());
    assert_eq!(pred.len(), dpred.len());
    let k = gpu.kernel(&shader!("mse"), "backward", &[])?;
    let p = Params {
        len: u(pred.len()),
        scale: g / pred.len() as f32,
        period: u(target.len()),
        pad: 0,
    };
    prog.dispatch(
        gpu,
        &k,
        &p,
        &[pred, target, gpu.dummy(), dpred],
        grid_1d(gpu, pred.len(), 1),
    )
}
