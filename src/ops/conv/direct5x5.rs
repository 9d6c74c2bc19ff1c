//! LeNet's first convolution (5×5, stride 1, up to 8 output channels; 3 channels without
//! padding, or 1 channel with padding 2) read straight from the NCHW input on 8-lane
//! subgroups, with no im2col patches, adding in exactly the order of the patches' product
//! (`shaders/conv/direct5x5.wgsl`), so that it gives the same bits. [`super::Conv2d`]
//! takes this path for the forward pass where [`applies`], and [`super::direct5x5_grad`]
//! for the weight gradient.

use super::ConvShape;
use crate::gpu::{Gpu, GpuError, Program, Shader, Tensor};
use crate::ops::{bind, u};
use crate::shader;

pub(crate) const SHADER: Shader = shader!("conv/direct5x5" with "conv/direct5x5_rows");

/// `Params` of `shaders/conv/direct5x5_rows.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(super) struct Params {
    channels: u32,
    height: u32,
    width: u32,
    out_width: u32,
    out_pixels: u32,
    out_channels: u32,
    kp4: u32,
    flags: u32,
    zero: f32,
    /// The weight gradient's column quads and quads per chunk.
    quads: u32,
    chunk: u32,
    pad: u32,
}

/// The parameters of `s`: the forward's `flags`; the weight gradient's column `quads` and
/// quads per `chunk` (zero in the forward).
pub(super) fn params(s: &ConvShape, flags: u32, quads: usize, chunk: usize) -> Params {
    Params {
        channels: u(s.in_channels),
        height: u(s.height),
        width: u(s.width),
        out_width: u(s.out_width()),
        out_pixels: u(s.pixels()),
        out_channels: u(s.out_channels),
        kp4: u(s.patch_rows() / 4),
        flags,
        zero: 0.0,
        quads: u(quads),
        chunk: u(chunk),
        pad: 0,
    }
}

const HAS_BIAS: u32 = 1;
const RELU: u32 = 2;

/// Binding slots (binding − 1).
const X4: usize = 0;
const A4: usize = 1;
const BIAS: usize = 2;
const Y4: usize = 3;
const SLOTS: usize = 4;

/// Outputs of one subgroup's tile: 16 quads of one image.
const TILE_COLS: usize = 64;

/// The generated entry for (channels, padding).
fn entry(s: &ConvShape) -> Option<&'static str> {
    match (s.in_channels, s.padding) {
        (3, 0) => Some("conv5x5_c3_p0"),
        (1, 2) => Some("conv5x5_c1_p2"),
        _ => None,
    }
}

/// Whether the shape suits the kernels (the caller checks for 8-lane subgroups): 5×5,
/// stride 1, one of the generated (channels, padding) pairs, at most 8 output channels,
/// input and output rows of whole vec4s.
pub fn applies(gpu: &Gpu, s: &ConvShape) -> bool {
    let max_groups = gpu.limits.max_compute_workgroups_per_dimension as usize;
    s.kernel_h == 5
        && s.kernel_w == 5
        && s.stride == 1
        && entry(s).is_some()
        && s.out_channels <= 8
        && s.width.is_multiple_of(4)
        && s.out_width().is_multiple_of(4)
        && s.pixels().div_ceil(TILE_COLS) <= max_groups
        && s.batch <= max_groups
}

/// Records `y = conv(x, w) (+ bias) (ReLU)` where [`applies`] holds, `padded` the weights
/// as `[out, Kp]` with zero columns past K (`Conv2d`'s `padded_weights`).
#[allow(clippy::too_many_arguments)]
pub fn record(
    prog: &mut Program,
    gpu: &Gpu,
    s: &ConvShape,
    x: &Tensor,
    padded: &Tensor,
    bias: Option<&Tensor>,
    y: &Tensor,
    relu: bool,
) -> Result<(), GpuError> {
    assert!(applies(gpu, s), "conv5x5 on {s:?}");
    assert_eq!(x.len(), s.input_len(), "conv5x5 input size");
    assert_eq!(
        padded.len(),
        s.out_channels * s.patch_rows(),
        "conv5x5 padded weight size"
    );
    assert_eq!(y.len(), s.output_len(), "conv5x5 output size");
    if let Some(b) = bias {
        assert_eq!(b.len(), s.out_channels, "conv5x5 bias size");
    }
    let mut flags = 0;
    if bias.is_some() {
        flags |= HAS_BIAS;
    }
    if relu {
        flags |= RELU;
    }
    let params = params(s, flags, 0, 0);
    let name = entry(s).expect("applies");
    let kernel = gpu.kernel(&SHADER, name, &[])?;
    let bias = bias.unwrap_or(gpu.dummy());
    let tensors: [_; SLOTS] = bind(gpu, &[(X4, x), (A4, padded), (BIAS, bias), (Y4, y)]);
    let groups = [s.pixels().div_ceil(TILE_COLS), 1, s.batch].map(u);
    prog.dispatch(gpu, &kernel, &params, &tensors, groups)
}
