//! Bias added along the columns of a matrix, and its gradient.

use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    accumulate: u32,
    x_off: u32,
}

/// `x[i, j] += bias[j]` over a row-major `[rows, cols]` tensor.
pub fn forward(
    prog: &mut Program,
    gpu: &Gpu,
    x: &Tensor,
    bias: &Tensor,
    rows: usize,
    cols: usize,
) -> Result<(), GpuError> {
    assert_eq!(x.len(), rows * cols);
    assert_eq!(bias.len(), cols);
    let k = gpu.kernel(&shader!("bias"), "forward", &[])?;
    let p = Params {
        rows: u(rows),
        cols: u(cols),
        accumulate: 0,
        x_off: 0,
    };
    let d = gpu.dummy();
    prog.dispatch(gpu, &k, &p, &[x, bias, d, d], grid_1d(gpu, rows * cols, 1))
}

/// `dbias[j] (+)= Σ_i dy[i, j]`.
pub fn backward(
    prog: &mut Program,
    gpu: &Gpu,
    dy: &Tensor,
    dbias: &Tensor,
    rows: usize,
    cols: usize,
    accumulate: bool,
) -> Result<(), GpuError> {
    assert_eq!(dy.len(), rows * cols);
    assert_eq!(dbias.len(), cols);
    let k = gpu.kernel(&shader!("bias"), "backward", &[])?;
    let p = Params {
        rows: u(rows),
        cols: u(cols),
        accumulate: u32::from(accumulate),
        x_off: 0,
    };
    let d = gpu.dummy();
    prog.dispatch(
        gpu,
        &k,
        &p,
        &[d, d, dy, dbias],
        [u(cols.div_ceil(64)), 1, 1],
    )
}
