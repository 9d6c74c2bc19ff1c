//! The polynomial-decay average of the iterates over a flat buffer (`average.wgsl`):
//! [`count_step`] adds one to t, kept on the GPU in a one-element buffer, and [`toward`]
//! moves `avg` toward `x` by c = (1 + γ)/(t + γ), so that one recorded program serves
//! every step and t goes back with the average when a step is undone.

use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    gamma: f32,
}

/// Records `count[0] += 1`.
pub fn count_step(prog: &mut Program, gpu: &Gpu, count: &Tensor) -> Result<(), GpuError> {
    assert_eq!(count.len(), 1);
    let k = gpu.kernel(&shader!("average"), "count_step", &[])?;
    let p = Params { len: 1, gamma: 0.0 };
    let dummy = gpu.dummy();
    prog.dispatch(gpu, &k, &p, &[dummy, dummy, count], [1, 1, 1])
}

/// Records `avg = mix(avg, x, c)`, c = (1 + γ)/(t + γ), t = `count[0]`.
pub fn toward(
    prog: &mut Program,
    gpu: &Gpu,
    x: &Tensor,
    avg: &Tensor,
    count: &Tensor,
    gamma: f32,
) -> Result<(), GpuError> {
    assert_eq!(x.len(), avg.len());
    assert_eq!(count.len(), 1);
    let k = gpu.kernel(&shader!("average"), "toward", &[])?;
    let p = Params {
        len: u(x.len()),
        gamma,
    };
    prog.dispatch(gpu, &k, &p, &[x, avg, count], grid_1d(gpu, x.len(), 1))
}
