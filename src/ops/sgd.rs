//! The weight update over the flat parameter buffer: `w −= η·d`, d the optimizer's step
//! direction (the gradient for plain SGD), η read from a one-element tensor.

use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
}

/// Records `w −= η·d` over `params` (written) and `direction` (the optimizer's d: the
/// gradient for plain SGD, the momentum or Adam step otherwise), with η read from `lr[0]`
/// when the step runs, so that a schedule changes η by a write without re-recording the
/// program.
pub fn step(
    prog: &mut Program,
    gpu: &Gpu,
    params: &Tensor,
    direction: &Tensor,
    lr: &Tensor,
) -> Result<(), GpuError> {
    assert_eq!(params.len(), direction.len());
    let k = gpu.kernel(&shader!("sgd"), "step", &[])?;
    let p = Params {
        len: u(params.len()),
    };
    prog.dispatch(
        gpu,
        &k,
        &p,
        &[params, direction, lr],
        grid_1d(gpu, params.len(), 1),
    )
}
