//! Schedule-free SGD over the flat buffers (`schedule_free.wgsl`): the step of y and z,
//! and the move of the weights to the evaluation point x (y kept aside).

use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    beta: f32,
}

fn record(
    prog: &mut Program,
    gpu: &Gpu,
    entry: &str,
    tensors: &[&Tensor],
    beta: f32,
) -> Result<(), GpuError> {
    let k = gpu.kernel(&shader!("schedule_free"), entry, &[])?;
    let len = tensors[0].len();
    let p = Params { len: u(len), beta };
    prog.dispatch(gpu, &k, &p, tensors, grid_1d(gpu, len, 1))
}

/// Records one step of the weights `w` (holding y) and `z` along `d`; `coefficients`
/// holds [c, γ].
pub fn step(
    prog: &mut Program,
    gpu: &Gpu,
    w: &Tensor,
    d: &Tensor,
    z: &Tensor,
    coefficients: &Tensor,
    beta: f32,
) -> Result<(), GpuError> {
    assert!(w.len() == d.len() && d.len() == z.len());
    let dummy = gpu.dummy();
    record(prog, gpu, "step", &[w, d, z, coefficients, dummy], beta)
}

/// Records `kept = w`, then `w = x = y + (1 − 1/β)(z − y)`.
pub fn to_average(
    prog: &mut Program,
    gpu: &Gpu,
    w: &Tensor,
    z: &Tensor,
    kept: &Tensor,
    beta: f32,
) -> Result<(), GpuError> {
    assert!(w.len() == z.len() && z.len() == kept.len());
    let dummy = gpu.dummy();
    record(prog, gpu, "to_average", &[w, dummy, z, dummy, kept], beta)
}
