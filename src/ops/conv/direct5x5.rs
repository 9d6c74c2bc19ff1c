//! LeNet's convolutions (5×5, stride 1: the first, up to 8 output channels of 3 channels
//! without padding or 1 channel with padding 2; the second, up to 16 output channels of 6
//! channels without padding, on rows of any width) read straight from the NCHW input on
//! 8-lane subgroups, with no im2col patches, adding in exactly the order of the patches'
//! product (`shaders/conv/direct5x5.wgsl`), so that they give the same bits.
//! [`super::Conv2d`] takes this path for the forward pass where [`applies`], and
//! [`super::direct5x5_grad`] for the weight gradient where that applies.

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
const X1: usize = 4;
const Y1: usize = 5;
const SLOTS: usize = 6;

/// Quads (four neighbouring outputs of one row) of one subgroup's tile, of one image.
const TILE_QUADS: usize = 16;

/// A generated entry: its name, whether it reads and writes rows as vec4s (else as
/// scalars, rows of any width), and the most output channels it computes.
struct Entry {
    name: &'static str,
    vec4_rows: bool,
    max_out: usize,
}

/// The generated entry for (channels, padding).
fn entry(s: &ConvShape) -> Option<Entry> {
    let (name, vec4_rows, max_out) = match (s.in_channels, s.padding) {
        (3, 0) => ("conv5x5_c3_p0", true, 8),
        (1, 2) => ("conv5x5_c1_p2", true, 8),
        (6, 0) => ("conv5x5_c6_p0_o16", false, 16),
        _ => return None,
    };
    Some(Entry {
        name,
        vec4_rows,
        max_out,
    })
}

/// Whether the input and output rows are whole vec4s.
pub(super) fn vec4_rows(s: &ConvShape) -> bool {
    s.width.is_multiple_of(4) && s.out_width().is_multiple_of(4)
}

/// Quads per output image, the last of a row reaching past it when the row is not whole
/// quads.
fn quads_per_image(s: &ConvShape) -> usize {
    s.out_width().div_ceil(4) * s.out_height()
}

/// Whether the shape suits the kernels (the caller checks for 8-lane subgroups): 5×5,
/// stride 1, one of the generated (channels, padding) pairs and no more output channels
/// than it computes, rows of whole vec4s where it reads vec4s.
pub fn applies(gpu: &Gpu, s: &ConvShape) -> bool {
    let max_groups = gpu.limits.max_compute_workgroups_per_dimension as usize;
    let Some(e) = entry(s) else {
        return false;
    };
    s.kernel_h == 5
        && s.kernel_w == 5
        && s.stride == 1
        && s.out_channels <= e.max_out
        && (!e.vec4_rows || vec4_rows(s))
        && quads_per_image(s).div_ceil(TILE_QUADS) <= max_groups
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
    let e = entry(s).expect("applies");
    let kernel = gpu.kernel(&SHADER, e.name, &[])?;
    let bias = bias.unwrap_or(gpu.dummy());
    let (xs, ys) = if e.vec4_rows { (X4, Y4) } else { (X1, Y1) };
    let tensors: [_; SLOTS] = bind(gpu, &[(xs, x), (A4, padded), (BIAS, bias), (ys, y)]);
    let groups = [quads_per_image(s).div_ceil(TILE_QUADS), 1, s.batch].map(u);
    prog.dispatch(gpu, &kernel, &params, &tensors, groups)
}
