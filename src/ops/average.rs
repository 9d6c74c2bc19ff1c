//! Iterate averaging over a flat buffer (`average.wgsl`): `avg += c·(x − avg)`, with c in
//! a one-element buffer the host writes each step, so that one recorded program serves
//! every step.

use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    _pad: u32,
}

/// Records `avg += c·(x − avg)`, c = `coefficient[0]`.
pub fn toward(
    prog: &mut Program,
    gpu: &Gpu,
    x: &Tensor,
    avg: &Tensor,
    coefficient: &Tensor,
) -> Result<(), GpuError> {
    assert_eq!(x.len(), avg.len());
    assert_eq!(coefficient.len(), 1);
    let k = gpu.kernel(&shader!("average"), "toward", &[])?;
    let p = Params {
        len: u(x.len()),
        _pad: 0,
    };
    prog.dispatch(
        gpu,
        &k,
        &p,
        &[x, avg, coefficient],
        grid_1d(gpu, x.len(), 1),
    )
}
