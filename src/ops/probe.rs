//! Materialises the probe weights `w − steps[k]·d` for the batched line search: d the step
//! direction probed along, steps the step sizes the host writes (the rule's probe steps).

use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    stride: u32,
    probes: u32,
    relu: u32,
}

/// `out[k·stride + i] = w[i] − steps[k]·g[i]` for every probe k < `steps.len()`, `g` being
/// the direction probed along (d(t), or d(t−1) for the back probe).
/// There is no backward: the probes only evaluate losses.
pub fn perturb(
    prog: &mut Program,
    gpu: &Gpu,
    w: &Tensor,
    g: &Tensor,
    steps: &Tensor,
    out: &Tensor,
) -> Result<(), GpuError> {
    assert_eq!(w.len(), g.len());
    let probes = steps.len();
    let stride = w.len();
    assert!(out.len() >= probes * stride, "probe buffer too small");
    let k = gpu.kernel(&shader!("probe"), "perturb", &[])?;
    let p = Params {
        len: u(w.len()),
        stride: u(stride),
        probes: u(probes),
        relu: 0,
    };
    let d = gpu.dummy();
    prog.dispatch(
        gpu,
        &k,
        &p,
        &[w, g, steps, out, d, d],
        grid_1d(gpu, w.len(), 1),
    )
}

/// The first layer's probe outputs from its outputs at w and at the direction (layer(x; ·)
/// is linear in the weights): `out[k·stride + i] = act(zw[i] − steps[k]·zg[i])`.
#[allow(clippy::too_many_arguments)]
pub fn combine(
    prog: &mut Program,
    gpu: &Gpu,
    zw: &Tensor,
    zg: &Tensor,
    steps: &Tensor,
    out: &Tensor,
    stride: usize,
    relu: bool,
) -> Result<(), GpuError> {
    assert_eq!(zw.len(), zg.len());
    let probes = steps.len();
    assert!(stride >= zw.len() && out.len() >= (probes - 1) * stride + zw.len());
    let k = gpu.kernel(&shader!("probe"), "combine", &[])?;
    let p = Params {
        len: u(zw.len()),
        stride: u(stride),
        probes: u(probes),
        relu: u32::from(relu),
    };
    let d = gpu.dummy();
    prog.dispatch(
        gpu,
        &k,
        &p,
        &[d, d, steps, out, zw, zg],
        grid_1d(gpu, zw.len(), 1),
    )
}
