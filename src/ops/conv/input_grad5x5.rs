//! dX of LeNet's second convolution (5×5, stride 1, no padding, 6 → 16 channels) without
//! the `dcol` matrix, adding in the order of the patches' path (`dcol = Wᵀ·dY` by the
//! subgroup matmul, then `col2im`), so that it gives the same bits
//! (`shaders/conv/input_grad5x5.wgsl`).

use super::ConvShape;
use crate::gpu::{Gpu, GpuError, Program, Shader, Tensor};
use crate::ops::{bind, u};
use crate::shader;

pub(crate) const SHADER: Shader = shader!("conv/input_grad5x5");

/// `Params` of `shaders/conv/input_grad5x5.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    channels: u32,
    height: u32,
    width: u32,
    out_channels: u32,
    out_h: u32,
    out_w: u32,
    pixels: u32,
    accumulate: u32,
    zero: f32,
    pad: [u32; 3],
}

/// Binding slots (binding − 1).
const W: usize = 0;
const DY: usize = 1;
const DX: usize = 2;
const SLOTS: usize = 3;

/// dX pixels per subgroup: one per lane.
const PIXELS_PER_GROUP: usize = 8;

/// The generated entry for (channels, output channels).
fn entry(s: &ConvShape) -> Option<&'static str> {
    match (s.in_channels, s.out_channels) {
        (6, 16) => Some("input_grad5x5_c6_o16"),
        _ => None,
    }
}

/// Whether the shape suits the kernel (the caller checks for 8-lane subgroups and that
/// dX would otherwise go through `dcol` and `col2im`): 5×5, stride 1, no padding, one of
/// the generated channel pairs.
pub fn applies(gpu: &Gpu, s: &ConvShape) -> bool {
    let max_groups = gpu.limits.max_compute_workgroups_per_dimension as usize;
    s.kernel_h == 5
        && s.kernel_w == 5
        && s.stride == 1
        && s.padding == 0
        && entry(s).is_some()
        && (s.batch * s.height * s.width).div_ceil(PIXELS_PER_GROUP) <= max_groups
}

/// Records `dx (+)= ∂(conv(x, w))/∂x · dy` where [`applies`] holds.
pub fn record(
    prog: &mut Program,
    gpu: &Gpu,
    s: &ConvShape,
    w: &Tensor,
    dy: &Tensor,
    dx: &Tensor,
    accumulate: bool,
) -> Result<(), GpuError> {
    assert!(applies(gpu, s), "input_grad5x5 on {s:?}");
    assert_eq!(w.len(), s.weight_len(), "input_grad5x5 weight size");
    assert_eq!(
        dy.len(),
        s.output_len(),
        "input_grad5x5 output gradient size"
    );
    assert_eq!(dx.len(), s.input_len(), "input_grad5x5 input gradient size");
    let pixels = s.batch * s.height * s.width;
    let params = Params {
        channels: u(s.in_channels),
        height: u(s.height),
        width: u(s.width),
        out_channels: u(s.out_channels),
        out_h: u(s.out_height()),
        out_w: u(s.out_width()),
        pixels: u(pixels),
        accumulate: u32::from(accumulate),
        zero: 0.0,
        pad: [0; 3],
    };
    let name = entry(s).expect("applies");
    let kernel = gpu.kernel(&SHADER, name, &[])?;
    let tensors: [_; SLOTS] = bind(gpu, &[(W, w), (DY, dy), (DX, dx)]);
    let groups = [pixels.div_ceil(PIXELS_PER_GROUP), 1, 1].map(u);
    prog.dispatch(gpu, &kernel, &params, &tensors, groups)
}
