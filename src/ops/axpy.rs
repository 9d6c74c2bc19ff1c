//! Flat-vector `y += α·x` and `y = α·x`. Each is its own backward with respect to x
//! (`dx (+)= α·dy`), so [`axpy`] also serves as the backward of both.

use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    alpha: f32,
}

fn record(
    prog: &mut Program,
    gpu: &Gpu,
    entry: &str,
    alpha: f32,
    x: &Tensor,
    y: &Tensor,
) -> Result<(), GpuError> {
    assert_eq!(x.len(), y.len());
    assert!(
        !x.same_buffer(y) || x.offset != y.offset,
        "x and y must not alias"
    );
    let k = gpu.kernel(&shader!("axpy"), entry, &[])?;
    let p = Params {
        len: u(x.len()),
        alpha,
    };
    prog.dispatch(gpu, &k, &p, &[x, y], grid_1d(gpu, x.len(), 1))
}

/// `y += α·x`.
pub fn axpy(
    prog: &mut Program,
    gpu: &Gpu,
    alpha: f32,
    x: &Tensor,
    y: &Tensor,
) -> Result<(), GpuError> {
    record(prog, gpu, "axpy", alpha, x, y)
}

/// `y = α·x`.
pub fn scale(
    prog: &mut Program,
    gpu: &Gpu,
    alpha: f32,
    x: &Tensor,
    y: &Tensor,
) -> Result<(), GpuError> {
    record(prog, gpu, "scale", alpha, x, y)
}

/// Gradient of either op with respect to x: `dx += α·dy` (or `dx = α·dy`).
pub fn backward(
    prog: &mut Program,
    gpu: &Gpu,
    alpha: f32,
    dy: &Tensor,
    dx: &Tensor,
    accumulate: bool,
) -> Result<(), GpuError> {
    if accumulate {
        axpy(prog, gpu, alpha, dy, dx)
    } else {
        scale(prog, gpu, alpha, dy, dx)
    }
}
