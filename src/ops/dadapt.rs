//! D-Adaptation SGD's step over the flat buffers (`dadapt.wgsl`): `s += c₀·d`,
//! `w = μ·w + (1 − μ)·(w(0) − s)`, the coefficient read from a tensor the host writes.

use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    momentum: f32,
}

/// Records one step; `coefficients` holds [dλ/‖g₀‖].
#[allow(clippy::too_many_arguments)]
pub fn step(
    prog: &mut Program,
    gpu: &Gpu,
    w: &Tensor,
    d: &Tensor,
    s: &Tensor,
    origin: &Tensor,
    coefficients: &Tensor,
    momentum: f32,
) -> Result<(), GpuError> {
    assert!(w.len() == d.len() && d.len() == s.len() && s.len() == origin.len());
    let k = gpu.kernel(&shader!("dadapt"), "step", &[])?;
    let p = Params {
        len: u(w.len()),
        momentum,
    };
    prog.dispatch(
        gpu,
        &k,
        &p,
        &[w, d, s, origin, coefficients],
        grid_1d(gpu, w.len(), 1),
    )
}
