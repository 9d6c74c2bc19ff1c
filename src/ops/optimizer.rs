//! Optimizer step directions over the flat buffers: the update is `w −= η·d` and the
//! learning-rate probes follow the same d. No backward: optimizers only update.

use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    a: f32,
    b: f32,
    eps: f32,
    weight_decay: f32,
    nesterov: u32,
    pad: [u32; 2],
}

fn dispatch(
    prog: &mut Program,
    gpu: &Gpu,
    entry: &str,
    p: Params,
    tensors: &[&Tensor],
    len: usize,
) -> Result<(), GpuError> {
    let k = gpu.kernel(&shader!("optimizer"), entry, &[])?;
    prog.dispatch(gpu, &k, &p, tensors, grid_1d(gpu, len, 1))
}

/// `dir = g + λ·w` (SGD with weight decay).
pub fn decay(
    prog: &mut Program,
    gpu: &Gpu,
    w: &Tensor,
    g: &Tensor,
    dir: &Tensor,
    weight_decay: f32,
) -> Result<(), GpuError> {
    let p = Params {
        len: u(w.len()),
        weight_decay,
        ..Default::default()
    };
    let d = gpu.dummy();
    dispatch(prog, gpu, "decay", p, &[w, g, d, d, dir, d], w.len())
}

/// PyTorch's SGD momentum: `buf = μ·buf + g′`, `dir = buf` (or `g′ + μ·buf`, Nesterov).
#[allow(clippy::too_many_arguments)]
pub fn momentum(
    prog: &mut Program,
    gpu: &Gpu,
    w: &Tensor,
    g: &Tensor,
    buf: &Tensor,
    dir: &Tensor,
    mu: f32,
    nesterov: bool,
    weight_decay: f32,
) -> Result<(), GpuError> {
    let p = Params {
        len: u(w.len()),
        a: mu,
        weight_decay,
        nesterov: u32::from(nesterov),
        ..Default::default()
    };
    let d = gpu.dummy();
    dispatch(prog, gpu, "momentum", p, &[w, g, buf, d, dir, d], w.len())
}

/// PyTorch's Adam: moments `m`, `v`, and `dir = m̂/(√v̂ + eps)` with the bias corrections
/// `1 − β1^t`, `1 − β2^t` read from `corrections` (written by the host each step).
#[allow(clippy::too_many_arguments)]
pub fn adam(
    prog: &mut Program,
    gpu: &Gpu,
    w: &Tensor,
    g: &Tensor,
    m: &Tensor,
    v: &Tensor,
    dir: &Tensor,
    corrections: &Tensor,
    betas: (f32, f32),
    eps: f32,
    weight_decay: f32,
) -> Result<(), GpuError> {
    let p = Params {
        len: u(w.len()),
        a: betas.0,
        b: betas.1,
        eps,
        weight_decay,
        ..Default::default()
    };
    dispatch(
        prog,
        gpu,
        "adam",
        p,
        &[w, g, m, v, dir, corrections],
        w.len(),
    )
}
