//! dX of LeNet's second convolution (5×5, stride 1, no padding, 6 → 16 channels on 14×14
//! inputs) on 8-lane subgroups without the `dcol` matrix, adding in the order of the
//! patches' path (`dcol = Wᵀ·dY` by the subgroup matmul, then `col2im`), so that it gives
//! the same bits (`shaders/conv/direct5x5_input_grad.wgsl`): `dcol` is 150 rows by
//! batch·100 columns written and read back once per step, where this reads dY twice per
//! kernel row from a padded copy.

use super::ConvShape;
use crate::gpu::{Gpu, GpuError, Program, Shader, Tensor};
use crate::ops::{bind, grid_1d, u};
use crate::shader;

pub(crate) const SHADER: Shader = shader!("conv/direct5x5_input_grad");

/// `Params` of `shaders/conv/direct5x5_input_grad.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    channels: u32,
    height: u32,
    width: u32,
    out_channels: u32,
    out_h: u32,
    out_w: u32,
    batch: u32,
    accumulate: u32,
    zero: f32,
    prow: u32,
    wrow: u32,
    len: u32,
}

/// Binding slots (binding − 1).
const W: usize = 0;
const DY: usize = 1;
const PADDED_OUT: usize = 2;
const PADDED: usize = 3;
const PACKED_OUT: usize = 4;
const PACKED: usize = 5;
const DX: usize = 6;
const SLOTS: usize = 7;

/// The generated entry for (channels, output channels).
fn entry(s: &ConvShape) -> Option<&'static str> {
    match (s.in_channels, s.out_channels) {
        (6, 16) => Some("input_grad5x5_c6_o16"),
        _ => None,
    }
}

/// Whether the shape suits the kernel (the caller checks for 8-lane subgroups and that dX
/// would otherwise go through `dcol` and `col2im`): 5×5, stride 1, no padding, one of the
/// generated channel pairs, and rows of four quads (13 to 16 pixels), two images' worth
/// per subgroup.
pub fn applies(gpu: &Gpu, s: &ConvShape) -> bool {
    let max_groups = gpu.limits.max_compute_workgroups_per_dimension as usize;
    s.kernel_h == 5
        && s.kernel_w == 5
        && s.stride == 1
        && s.padding == 0
        && entry(s).is_some()
        && s.width.div_ceil(4) == 4
        && s.height >= 5
        && s.batch.div_ceil(2).max(s.height) <= max_groups
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
    assert!(applies(gpu, s), "direct5x5_input_grad on {s:?}");
    assert_eq!(w.len(), s.weight_len(), "direct5x5_input_grad weight size");
    assert_eq!(
        dy.len(),
        s.output_len(),
        "direct5x5_input_grad output gradient size"
    );
    assert_eq!(
        dx.len(),
        s.input_len(),
        "direct5x5_input_grad input gradient size"
    );
    // A padded row: columns −4 .. 4·quads − 1 of an output row, as quads + 1 vec4s.
    let prow = s.width.div_ceil(4) + 1;
    let rows = s.batch * s.out_channels * s.out_height();
    // One kernel row's weights: 5 columns × channels × 4 chunks of output channels,
    // rounded up to whole loads of the 8 lanes.
    let wrow = (20 * s.in_channels).div_ceil(8) * 8;
    let params = |len: usize| Params {
        channels: u(s.in_channels),
        height: u(s.height),
        width: u(s.width),
        out_channels: u(s.out_channels),
        out_h: u(s.out_height()),
        out_w: u(s.out_width()),
        batch: u(s.batch),
        accumulate: u32::from(accumulate),
        zero: 0.0,
        prow: u(prow),
        wrow: u(wrow),
        len: u(len),
    };
    let padded = gpu.scratch("conv2d padded dY", 4 * rows * prow)?;
    let packed = gpu.scratch("conv2d packed weights", 4 * 5 * wrow)?;

    let pad = gpu.kernel(&SHADER, "pad_dy", &[])?;
    let t: [_; SLOTS] = bind(gpu, &[(DY, dy), (PADDED_OUT, &padded)]);
    let n = rows * prow;
    prog.dispatch(gpu, &pad, &params(n), &t, grid_1d(gpu, n, 1))?;

    let pack = gpu.kernel(&SHADER, "pack_weights", &[])?;
    let t: [_; SLOTS] = bind(gpu, &[(W, w), (PACKED_OUT, &packed)]);
    let n = 5 * wrow;
    prog.dispatch(gpu, &pack, &params(n), &t, grid_1d(gpu, n, 1))?;

    let name = entry(s).expect("applies");
    let kernel = gpu.kernel(&SHADER, name, &[])?;
    let t: [_; SLOTS] = bind(gpu, &[(PADDED, &padded), (PACKED, &packed), (DX, dx)]);
    let groups = [s.batch.div_ceil(2), s.height, 1].map(u);
    prog.dispatch(gpu, &kernel, &params(0), &t, groups)
}
