//! Prodigy's step over the flat buffers (`prodigy.wgsl`): Adam's moments scaled by the D
//! estimate, the weighted gradient sum s, decoupled weight decay and the update, with
//! [D, ηD, (D/D₀)·ηD] read from a tensor the host writes each step.

use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    beta1: f32,
    beta2: f32,
    beta3: f32,
    eps: f32,
    decay: f32,
    pad: [u32; 2],
}

/// Prodigy's constants.
#[derive(Clone, Copy, Debug)]
pub struct Constants {
    /// β₁, the decay of the first moment m.
    pub beta1: f32,
    /// β₂, the decay of the second moment v.
    pub beta2: f32,
    /// β₃, the decay of the weighted gradient sum s.
    pub beta3: f32,
    /// ε, added to √v after scaling by D.
    pub eps: f32,
    /// Decoupled weight decay λ.
    pub decay: f32,
}

/// The moments `m`, `v` and the sum `s` Prodigy keeps.
pub struct State<'a> {
    /// First moment, one element per weight; read and written.
    pub m: &'a Tensor,
    /// Second moment, one element per weight; read and written.
    pub v: &'a Tensor,
    /// Weighted gradient sum, one element per weight; read and written.
    pub s: &'a Tensor,
}

/// Records one step over weights `w` and gradient `g`.
pub fn step(
    prog: &mut Program,
    gpu: &Gpu,
    w: &Tensor,
    g: &Tensor,
    state: State,
    coefficients: &Tensor,
    k: Constants,
) -> Result<(), GpuError> {
    assert!([g, state.m, state.v, state.s]
        .iter()
        .all(|t| t.len() == w.len()));
    let kernel = gpu.kernel(&shader!("prodigy"), "step", &[])?;
    let p = Params {
        len: u(w.len()),
        beta1: k.beta1,
        beta2: k.beta2,
        beta3: k.beta3,
        eps: k.eps,
        decay: k.decay,
        pad: [0; 2],
    };
    prog.dispatch(
        gpu,
        &kernel,
        &p,
        &[w, g, state.m, state.v, state.s, coefficients],
        grid_1d(gpu, w.len(), 1),
    )
}
