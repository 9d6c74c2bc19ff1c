//! 3×3 convolutions with padding 1 and stride 1 or 2 (ResNet's), read straight from the
//! NCHW input on 8-lane subgroups, with no im2col patches: the forward pass, and the input
//! gradient: with stride 1 the convolution of dY with the flipped weights, with stride 2
//! the transposed convolution, both in `shaders/conv/direct3x3.wgsl`.
//! [`super::Conv2d`] picks this path where [`applies`]; [`super::direct3x3_grad`] computes
//! the weight gradient on the same windows.

use super::ConvShape;
use crate::gpu::{Gpu, GpuError, Program, Shader, Tensor};
use crate::ops::{bind, grid_1d, u};
use crate::shader;

pub(crate) const SHADER: Shader = shader!("conv/direct3x3" with "conv/direct3x3_window");

/// `Params` of `shaders/conv/direct3x3_window.wgsl`, shared with the weight gradient.
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(super) struct Params {
    pub(super) channels: u32,
    pub(super) height: u32,
    pub(super) width: u32,
    pub(super) pixels: u32,
    pub(super) cols: u32,
    pub(super) out_channels: u32,
    pub(super) taps_rs: u32,
    pub(super) flags: u32,
    pub(super) chunk_steps: u32,
    pub(super) chunks: u32,
    pub(super) out_width: u32,
    pub(super) out_pixels: u32,
}

const HAS_BIAS: u32 = 1;
const RELU: u32 = 2;
pub(super) const ACCUMULATE: u32 = 4;

/// Binding slots (binding − 1) of `shaders/conv/direct3x3.wgsl`.
const X4: usize = 0;
const W: usize = 1;
const TAPS_OUT: usize = 2;
const TAPS: usize = 3;
const BIAS: usize = 4;
const Y4: usize = 5;
const SLOTS: usize = 6;

/// Columns (pixels over the batch) of one subgroup's tile.
const TILE_COLS: usize = 64;
/// Output channels × channels of one subgroup's share of the weight gradient, and the
/// columns it takes per step.
pub(super) const GRAD_TILE: (usize, usize) = (8, 4);
pub(super) const GRAD_STEP: usize = 32;

/// How `w` holds the convolution's weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weights {
    /// `[out, in, 3, 3]`, PyTorch's layout.
    AsIs,
    /// `[in, out, 3, 3]`, to be flipped: those of the convolution whose input gradient this
    /// one computes (dX = conv(dY, flipped Wᵀ)).
    FlippedOf,
}

/// Whether the shape suits the kernels (the caller checks for 8-lane subgroups): 3×3,
/// padding 1, output rows of 4, 8, 16 or 32 pixels, so that a row starts on a lane whose
/// column is a multiple of its width and never leaves its subgroup, and stride 1, or
/// stride 2 on an input exactly twice as wide and high as the output (even sides).
pub fn applies(gpu: &Gpu, s: &ConvShape) -> bool {
    let max_groups = gpu.limits.max_compute_workgroups_per_dimension as usize;
    let stride_fits = match s.stride {
        1 => true,
        2 => s.width == 2 * s.out_width() && s.height == 2 * s.out_height(),
        _ => false,
    };
    s.kernel_h == 3
        && s.kernel_w == 3
        && s.padding == 1
        && stride_fits
        && [4, 8, 16, 32].contains(&s.out_width())
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
    ] {
        if on {
            flags |= flag;
        }
    }
    let params = Params { flags, ..params(s) };
    // One vec4 per (output channel, channel, kernel row); shared by all layers, each
    // laying out its own just before its product reads it.
    let taps = gpu.scratch("conv3x3 taps", 4 * out * 3 * s.in_channels)?;
    let layout = match weights {
        Weights::AsIs => Layout::AsIs,
        Weights::FlippedOf => Layout::Flipped,
    };
    lay_taps(prog, gpu, &params, w, &taps, layout)?;

    let (entry, rows) = if out <= 16 {
        ("conv3x3_r16", 16)
    } else {
        ("conv3x3_r32", 32)
    };
    let kernel = gpu.kernel(&SHADER, entry, &stride_constant(s))?;
    let bias = bias.unwrap_or(gpu.dummy());
    let tensors: [_; SLOTS] = bind(gpu, &[(X4, x), (TAPS, &taps), (BIAS, bias), (Y4, y)]);
    let groups = [
        (s.batch * s.pixels()).div_ceil(TILE_COLS),
        out.div_ceil(rows),
        1,
    ]
    .map(u);
    prog.dispatch(gpu, &kernel, &params, &tensors, groups)
}

/// How `lay_taps` reads the weights (its `LAYOUT` constant).
#[derive(Clone, Copy)]
enum Layout {
    AsIs = 0,
    Flipped = 1,
    Transposed = 2,
}

/// Records `lay_taps`: `w` as one vec4 per (params' output channel, channel, kernel row).
fn lay_taps(
    prog: &mut Program,
    gpu: &Gpu,
    params: &Params,
    w: &Tensor,
    taps: &Tensor,
    layout: Layout,
) -> Result<(), GpuError> {
    let lay = gpu.kernel(&SHADER, "lay_taps", &[("LAYOUT", layout as u8 as f64)])?;
    let tensors: [_; SLOTS] = bind(gpu, &[(W, w), (TAPS_OUT, taps)]);
    let groups = grid_1d(gpu, (params.out_channels * params.taps_rs) as usize, 1);
    prog.dispatch(gpu, &lay, params, &tensors, groups)
}

/// dY columns per subgroup of the stride-2 input gradient, and its dX channels per tile.
const S2_DX_TILE: (usize, usize) = (32, 16);

/// Whether [`record_input_grad_s2`] takes `s`: a stride-2 forward shape where [`applies`]
/// holds (the caller checks for 8-lane subgroups, as for [`applies`]).
pub fn input_grad_s2_applies(gpu: &Gpu, s: &ConvShape) -> bool {
    let max_groups = gpu.limits.max_compute_workgroups_per_dimension as usize;
    s.stride == 2
        && applies(gpu, s)
        && (s.batch * s.pixels()).div_ceil(S2_DX_TILE.0) <= max_groups
        && s.in_channels.div_ceil(S2_DX_TILE.1) <= max_groups
}

/// Records `dx (+)= ∂/∂x Σ dy ⊙ conv(x, w)` for the stride-2 forward shape `s`, as the
/// transposed convolution of `dy` (`conv3x3_s2_dx_r16`), where [`input_grad_s2_applies`].
pub fn record_input_grad_s2(
    prog: &mut Program,
    gpu: &Gpu,
    s: &ConvShape,
    dy: &Tensor,
    w: &Tensor,
    dx: &Tensor,
    accumulate: bool,
) -> Result<(), GpuError> {
    assert!(
        input_grad_s2_applies(gpu, s),
        "conv3x3 stride-2 dX on {s:?}"
    );
    assert_eq!(dy.len(), s.output_len(), "conv3x3 output gradient size");
    assert_eq!(w.len(), s.weight_len(), "conv3x3 weight size");
    assert_eq!(dx.len(), s.input_len(), "conv3x3 input gradient size");
    // dY is the input, dX the output.
    let (oh, ow) = (s.out_height(), s.out_width());
    let params = Params {
        channels: u(s.out_channels),
        height: u(oh),
        width: u(ow),
        pixels: u(oh * ow),
        cols: u(s.batch * oh * ow),
        out_channels: u(s.in_channels),
        taps_rs: u(3 * s.out_channels),
        flags: if accumulate { ACCUMULATE } else { 0 },
        out_width: u(ow),
        out_pixels: u(oh * ow),
        ..Default::default()
    };
    let taps = gpu.scratch("conv3x3 taps", 4 * s.in_channels * 3 * s.out_channels)?;
    lay_taps(prog, gpu, &params, w, &taps, Layout::Transposed)?;
    let kernel = gpu.kernel(&SHADER, "conv3x3_s2_dx_r16", &[])?;
    let tensors: [_; SLOTS] = bind(gpu, &[(X4, dy), (TAPS, &taps), (Y4, dx)]);
    let groups = [
        (s.batch * oh * ow).div_ceil(S2_DX_TILE.0),
        s.in_channels.div_ceil(S2_DX_TILE.1),
        1,
    ]
    .map(u);
    prog.dispatch(gpu, &kernel, &params, &tensors, groups)
}

pub(super) fn params(s: &ConvShape) -> Params {
    Params {
        channels: u(s.in_channels),
        height: u(s.height),
        width: u(s.width),
        pixels: u(s.height * s.width),
        cols: u(s.batch * s.pixels()),
        out_channels: u(s.out_channels),
        taps_rs: u(3 * s.in_channels),
        out_width: u(s.out_width()),
        out_pixels: u(s.pixels()),
        ..Default::default()
    }
}

/// The pipeline constant that selects the stride of the window functions.
pub(super) fn stride_constant(s: &ConvShape) -> [(&'static str, f64); 1] {
    [("STRIDE", s.stride as f64)]
}
