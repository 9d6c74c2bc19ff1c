//! Inverted dropout with a mask that is kept, so that the learning-rate probes of a step
//! can reuse the step's mask ([`apply`]).

use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    p: f32,
    scale: f32,
    accumulate: u32,
    size: u32,
    pad: [u32; 3],
}

/// The value of kept elements in the mask: 1/(1 − p) (0 for p = 1, where nothing is kept).
pub fn keep_scale(p: f32) -> f32 {
    if p < 1.0 {
        1.0 / (1.0 - p)
    } else {
        0.0
    }
}

fn params(len: usize, p: f32, accumulate: bool, size: usize) -> Params {
    Params {
        len: u(len),
        p,
        scale: keep_scale(p),
        accumulate: u32::from(accumulate),
        size: u(size),
        pad: [0; 3],
    }
}

/// Draws the mask from a counter-based hash of `(rng[0], rng[1], element index)` — `rng`
/// is a `[3]` u32 tensor (seed, step, first sample) the host rewrites every step, so
/// recorded programs stay valid — keeping an element when the top 24 bits of its hash, as
/// a uniform in [0, 1), are at least `p` (probability 1 − p); `mask = 1/(1 − p)` where
/// kept, 0 elsewhere, and `y = x·mask`. `x` holds samples of `size` elements each, the
/// first of them sample `rng[2]` of the global batch: element i is hashed as
/// `rng[2]·size + i`, so that a shard of a batch draws the masks of its samples in the
/// whole batch. The tests' f64 reference draws the same mask on the CPU.
#[allow(clippy::too_many_arguments)]
pub fn forward_train(
    prog: &mut Program,
    gpu: &Gpu,
    x: &Tensor,
    rng: &Tensor,
    p: f32,
    size: usize,
    mask: &Tensor,
    y: &Tensor,
) -> Result<(), GpuError> {
    assert!(
        (0.0..=1.0).contains(&p),
        "dropout probability {p} not in [0, 1]"
    );
    assert_eq!(rng.len(), 3, "dropout rng holds [seed, step, first sample]");
    assert!(
        size > 0 && x.len().is_multiple_of(size),
        "dropout sample size"
    );
    assert_eq!(x.len(), mask.len(), "dropout mask size");
    assert_eq!(x.len(), y.len(), "dropout output size");
    let k = gpu.kernel(&shader!("dropout"), "forward_train", &[])?;
    let d = gpu.dummy();
    prog.dispatch(
        gpu,
        &k,
        &params(x.len(), p, false, size),
        &[x, rng, mask, y, d, d, d],
        grid_1d(gpu, x.len(), 1),
    )
}

/// `y = x·mask` with a mask drawn earlier (the five probes reuse the step's mask).
pub fn apply(
    prog: &mut Program,
    gpu: &Gpu,
    x: &Tensor,
    mask: &Tensor,
    y: &Tensor,
) -> Result<(), GpuError> {
    assert_eq!(x.len(), mask.len(), "dropout mask size");
    assert_eq!(x.len(), y.len(), "dropout output size");
    let k = gpu.kernel(&shader!("dropout"), "apply", &[])?;
    let d = gpu.dummy();
    prog.dispatch(
        gpu,
        &k,
        &params(x.len(), 0.0, false, 1),
        &[x, d, d, y, mask, d, d],
        grid_1d(gpu, x.len(), 1),
    )
}

/// `dx (+)= dy·mask`.
pub fn backward(
    prog: &mut Program,
    gpu: &Gpu,
    dy: &Tensor,
    mask: &Tensor,
    dx: &Tensor,
    accumulate: bool,
) -> Result<(), GpuError> {
    assert_eq!(dy.len(), mask.len(), "dropout mask size");
    assert_eq!(dy.len(), dx.len(), "dropout input gradient size");
    let k = gpu.kernel(&shader!("dropout"), "backward", &[])?;
    let d = gpu.dummy();
    prog.dispatch(
        gpu,
        &k,
        &params(dy.len(), 0.0, accumulate, 1),
        &[d, d, d, d, mask, dy, dx],
        grid_1d(gpu, dy.len(), 1),
    )
}
