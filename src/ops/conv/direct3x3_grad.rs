//! The weight gradient of [`super::direct3x3`]'s convolutions, on the same windows of the
//! input (`shaders/conv/direct3x3_grad.wgsl`).

use super::direct3x3::{self, params, stride_constant, Params, ACCUMULATE, GRAD_STEP, GRAD_TILE};
use super::ConvShape;
use crate::gpu::{Gpu, GpuError, Program, Shader, Tensor};
use crate::ops::{bind, grid_1d, u};
use crate::shader;

pub(crate) const SHADER: Shader = shader!("conv/direct3x3_grad" with "conv/direct3x3_window");

/// Binding slots (binding − 1) of `shaders/conv/direct3x3_grad.wgsl`.
const X4: usize = 0;
const DY4: usize = 6;
const PARTS: usize = 7;
const DW: usize = 8;
const SLOTS: usize = 9;

/// How the weight gradient splits the columns: (steps of [`GRAD_STEP`] columns per chunk,
/// chunks). Enough chunks for ~256 subgroups in all, at least 8 steps each, and partial
/// sums of at most 16 Mi elements.
fn grad_chunks(s: &ConvShape) -> (usize, usize) {
    let steps = (s.batch * s.pixels()).div_ceil(GRAD_STEP);
    let tiles = s.out_channels.div_ceil(GRAD_TILE.0) * s.in_channels.div_ceil(GRAD_TILE.1);
    let want = (256 / tiles)
        .min(steps.div_ceil(8))
        .min((16 << 20) / s.weight_len())
        .max(1);
    let per_chunk = steps.div_ceil(want);
    (per_chunk, steps.div_ceil(per_chunk))
}

/// Records `dw (+)= ∂/∂W Σ dy ⊙ conv(x, W)` for a shape where [`direct3x3::applies`] holds.
pub fn record(
    prog: &mut Program,
    gpu: &Gpu,
    s: &ConvShape,
    x: &Tensor,
    dy: &Tensor,
    dw: &Tensor,
    accumulate: bool,
) -> Result<(), GpuError> {
    assert!(direct3x3::applies(gpu, s), "conv3x3 on {s:?}");
    assert_eq!(x.len(), s.input_len(), "conv3x3 input size");
    assert_eq!(dy.len(), s.output_len(), "conv3x3 output gradient size");
    assert_eq!(dw.len(), s.weight_len(), "conv3x3 weight gradient size");
    let (chunk_steps, chunks) = grad_chunks(s);
    let params = Params {
        flags: if accumulate { ACCUMULATE } else { 0 },
        chunk_steps: u(chunk_steps),
        chunks: u(chunks),
        ..params(s)
    };
    let parts = gpu.scratch("conv3x3 weight gradient parts", chunks * s.weight_len())?;
    let kernel = gpu.kernel(&SHADER, "weight_grad", &stride_constant(s))?;
    let tensors: [_; SLOTS] = bind(gpu, &[(X4, x), (DY4, dy), (PARTS, &parts)]);
    let groups = [
        s.out_channels.div_ceil(GRAD_TILE.0),
        s.in_channels.div_ceil(GRAD_TILE.1),
        chunks,
    ]
    .map(u);
    prog.dispatch(gpu, &kernel, &params, &tensors, groups)?;
    let sum = gpu.kernel(&SHADER, "sum_chunks", &[])?;
    let tensors: [_; SLOTS] = bind(gpu, &[(PARTS, &parts), (DW, dw)]);
    prog.dispatch(
        gpu,
        &sum,
        &params,
        &tensors,
        grid_1d(gpu, s.weight_len(), 1),
    )
}
