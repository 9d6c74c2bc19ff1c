//! Rectified linear unit and its gradient.

use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    accumulate: u32,
}

/// `y = max(x, 0)`.
pub fn forward(prog: &mut Program, gpu: &Gpu, x: &Tensor, y: &Tensor) -> Result<(), GpuError> {
    assert_eq!(x.len(), y.len());
    let k = gpu.kernel(&shader!("relu"), "forward", &[])?;
    let p = Params {
        len: u(x.len()),
        accumulate: 0,
    };
    let d = gpu.dummy();
    prog.dispatch(gpu, &k, &p, &[x, y, d, d], grid_1d(gpu, x.len(), 1))
}

/// `dx (+)= dy · [x > 0]`; `x` may be the ReLU's input or its output.
pub fn backward(
    prog: &mut Program,
    gpu: &Gpu,
    x: &Tensor,
    dy: &Tensor,
    dx: &Tensor,
    accumulate: bool,
) -> Result<(), GpuError> {
    assert_eq!(x.len(), dy.len());
    assert_eq!(x.len(), dx.len());
    let p = Params {
        len: u(x.len()),
        accumulate: u32::from(accumulate),
    };
    let d = gpu.dummy();
    if x.len().is_multiple_of(4) {
        let k = gpu.kernel(&shader!("relu"), "backward4", &[])?;
        let groups = grid_1d(gpu, (x.len() / 4).div_ceil(super::QUADS), 1);
        return prog.dispatch(gpu, &k, &p, &[d, d, d, d, x, dy, dx], groups);
    }
    let k = gpu.kernel(&shader!("relu"), "backward", &[])?;
    prog.dispatch(gpu, &k, &p, &[x, d, dy, dx], grid_1d(gpu, x.len(), 1))
}
