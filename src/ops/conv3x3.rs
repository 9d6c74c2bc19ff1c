//! 3×3 convolutions with stride 1 and padding 1 (ResNet's), read straight from the NCHW
//! input on 8-lane subgroups, with no im2col patches: the forward pass, the input gradient
//! as the convolution of dY with the flipped weights, and the weight gradient.
//! [`super::conv2d::Conv2d`] picks this path where [`applies`].

use super::conv2d::ConvShape;
use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    channels: u32,
    height: u32,
    width: u32,
    pixels: u32,
    cols: u32,
    out_channels: u32,
    taps_rs: u32,
    flags: u32,
    chunk_steps: u32,
    chunks: u32,
    pad: [u32; 2],
}

const HAS_BIAS: u32 = 1;
const RELU: u32 = 2;
const ACCUMULATE: u32 = 4;
const FLIP: u32 = 8;

/// Columns (pixels over the batch) of one subgroup's tile.
const TILE_COLS: usize = 64;
/// Output channels × channels of one subgroup's share of the weight gradient, and the
/// columns it takes per step.
const GRAD_TILE: (usize, usize) = (8, 4);
const GRAD_STEP: usize = 32;

/// How `w` holds the convolution's weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weights {
    /// `[out, in, 3, 3]`, PyTorch's layout.
    AsIs,
    /// `[in, out, 3, 3]`, to be flipped: those of the convolution whose input gradient this
    /// one computes (dX = conv(dY, flipped Wᵀ)).
    FlippedOf,
}

/// Whether the shape suits the kernel (the caller checks for 8-lane subgroups): 3×3,
/// stride 1, padding 1, and rows of 4, 8, 16 or 32 pixels, so that a row starts on a lane
/// whose column is a multiple of its width and never leaves its subgroup.
pub fn applies(gpu: &Gpu, s: &ConvShape) -> bool {
    let max_groups = gpu.limits.max_compute_workgroups_per_dimension as usize;
    s.kernel_h == 3
        && s.kernel_w == 3
        && s.stride == 1
        && s.padding == 1
        && [4, 8, 16, 32].contains(&s.width)
        && (s.batch * s.pixels()).div_ceil(TILE_COLS) <= max_groups
        && s.out_channels.div_ceil(16) <= max_groups
        && s.in_channels.div_ceil(GRAD_TILE.1) <= max_groups
}

/// Records `y (+)= conv(x, w) (+ bias) (ReLU)` for a shape where [`applies`] holds; with
/// `accumulate`, the result (after bias and ReLU) is added to `y`.
#[allow(clippy::too_many_arguments)]
pub fn record(
    prog: &mut Program,
    gpu: &Gpu,
    s: &ConvShape,
    x: &Tensor,
    w: &Tensor,
    weights: Weights,
    bias: Option<&Tensor>,
    y: &Tensor,
    relu: bool,
    accumulate: bool,
) -> Result<(), GpuError> {
    assert!(applies(gpu, s), "conv3x3 on {s:?}");
    assert_eq!(x.len(), s.input_len(), "conv3x3 input size");
    assert_eq!(w.len(), s.weight_len(), "conv3x3 weight size");
    assert_eq!(y.len(), s.output_len(), "conv3x3 output size");
    if let Some(b) = bias {
        assert_eq!(b.len(), s.out_channels, "conv3x3 bias size");
    }
    let out = s.out_channels;
    let mut flags = 0;
    for (on, flag) in [
        (bias.is_some(), HAS_BIAS),
        (relu, RELU),
        (accumulate, ACCUMULATE),
        (weights == Weights::FlippedOf, FLIP),
    ] {
        if on {
            flags |= flag;
        }
    }
    let params = Params { flags, ..params(s) };
    let shader = shader!("conv3x3");
    let dummy = gpu.dummy();
    // One vec4 per (output channel, channel, kernel row); shared by all layers, each
    // laying out its own just before its product reads it.
    let taps = gpu.scratch("conv3x3 taps", 4 * out * 3 * s.in_channels)?;
    let lay = gpu.kernel(&shader, "lay_taps", &[])?;
    let tensors = [dummy, w, &taps, dummy, dummy, dummy];
    let groups = grid_1d(gpu, out * 3 * s.in_channels, 1);
    prog.dispatch(gpu, &lay, &params, &tensors, groups)?;

    let (entry, rows) = if out <= 16 {
        ("conv3x3_r16", 16)
    } else {
        ("conv3x3_r32", 32)
    };
    let kernel = gpu.kernel(&shader, entry, &[])?;
    let bias = bias.unwrap_or(dummy);
    let tensors = [x, dummy, dummy, &taps, bias, y];
    let groups = [
        (s.batch * s.pixels()).div_ceil(TILE_COLS),
        out.div_ceil(rows),
        1,
    ]
    .map(u);
    prog.dispatch(gpu, &kernel, &params, &tensors, groups)
}

fn params(s: &ConvShape) -> Params {
    Params {
        channels: u(s.in_channels),
        height: u(s.height),
        width: u(s.width),
        pixels: u(s.pixels()),
        cols: u(s.batch * s.pixels()),
        out_channels: u(s.out_channels),
        taps_rs: u(3 * s.in_channels),
        ..Default::default()
    }
}

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

/// Records `dw (+)= ∂/∂W Σ dy ⊙ conv(x, W)` for a shape where [`applies`] holds.
pub fn weight_grad(
    prog: &mut Program,
    gpu: &Gpu,
    s: &ConvShape,
    x: &Tensor,
    dy: &Tensor,
    dw: &Tensor,
    accumulate: bool,
) -> Result<(), GpuError> {
    assert!(applies(gpu, s), "conv3x3 on {s:?}");
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
    let shader = shader!("conv3x3");
    let dummy = gpu.dummy();
    let parts = gpu.scratch("conv3x3 weight gradient parts", chunks * s.weight_len())?;
    let kernel = gpu.kernel(&shader, "weight_grad", &[])?;
    let tensors = [x, dummy, dummy, dummy, dummy, dummy, dy, &parts, dummy];
    let groups = [
        s.out_channels.div_ceil(GRAD_TILE.0),
        s.in_channels.div_ceil(GRAD_TILE.1),
        chunks,
    ]
    .map(u);
    prog.dispatch(gpu, &kernel, &params, &tensors, groups)?;
    let sum = gpu.kernel(&shader, "sum_chunks", &[])?;
    let tensors = [dummy, dummy, dummy, dummy, dummy, dummy, dummy, &parts, dw];
    prog.dispatch(
        gpu,
        &sum,
        &params,
        &tensors,
        grid_1d(gpu, s.weight_len(), 1),
    )
}
