//! Elementwise sums for residual connections. Their gradients need no kernel of their own:
//! [`super::relu::backward`] (against the output) where a ReLU follows, then the same
//! gradient flows to both summands ([`super::axpy`] to add it where one is accumulated).

use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    relu: u32,
    pad: [u32; 2],
}

fn params(len: usize, relu: bool) -> Params {
    Params {
        len: u(len),
        relu: u32::from(relu),
        pad: [0; 2],
    }
}

/// `y = a + b`, then ReLU if `relu`. `y` must not share a buffer with `a` or `b` (use
/// [`accumulate`] in place).
pub fn forward(
    prog: &mut Program,
    gpu: &Gpu,
    a: &Tensor,
    b: &Tensor,
    y: &Tensor,
    relu: bool,
) -> Result<(), GpuError> {
    assert_eq!(a.len(), b.len(), "add operand sizes");
    assert_eq!(a.len(), y.len(), "add output size");
    let p = params(a.len(), relu);
    if a.len().is_multiple_of(4) {
        let k = gpu.kernel(&shader!("add"), "forward4", &[])?;
        let groups = grid_1d(gpu, (a.len() / 4).div_ceil(super::QUADS), 1);
        let d = gpu.dummy();
        return prog.dispatch(gpu, &k, &p, &[d, d, d, a, b, y], groups);
    }
    let k = gpu.kernel(&shader!("add"), "forward", &[])?;
    prog.dispatch(gpu, &k, &p, &[a, b, y], grid_1d(gpu, a.len(), 1))
}

/// `y += x`, in place.
pub fn accumulate(prog: &mut Program, gpu: &Gpu, x: &Tensor, y: &Tensor) -> Result<(), GpuError> {
    accumulate_relu(prog, gpu, x, y, false)
}

/// `y = y + x`, then ReLU if `relu`, in place.
pub fn accumulate_relu(
    prog: &mut Program,
    gpu: &Gpu,
    x: &Tensor,
    y: &Tensor,
    relu: bool,
) -> Result<(), GpuError> {
    assert_eq!(x.len(), y.len(), "add operand sizes");
    let k = gpu.kernel(&shader!("add"), "accumulate", &[])?;
    let d = gpu.dummy();
    prog.dispatch(
        gpu,
        &k,
        &params(x.len(), relu),
        &[x, d, y],
        grid_1d(gpu, x.len(), 1),
    )
}
