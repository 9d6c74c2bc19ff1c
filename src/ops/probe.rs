//! Materialises the probe weights `w − (η + kε)·g` for the batched line search.

use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    stride: u32,
    probes: u32,
    pad: u32,
}

/// `out[k·stride + i] = w[i] − steps[k]·g[i]` for every probe k < `steps.len()`.
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
        pad: 0,
    };
    prog.dispatch(gpu, &k, &p, &[w, g, steps, out], grid_1d(gpu, w.len(), 1))
}
