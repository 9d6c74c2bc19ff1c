//! The weight gradient of [`super::direct5x5`]'s convolutions (LeNet's two), read from
//! the input as the forward reads it, with no im2col patches, adding in the order of the
//! patches' `weight_grad_nt`, chunk by chunk, so that it gives the same bits
//! (`shaders/conv/direct5x5_grad.wgsl`).

use super::direct5x5::{self, params};
use super::ConvShape;
use crate::gpu::{Gpu, GpuError, Program, Shader, Tensor};
use crate::ops::{bind, u};
use crate::shader;

pub(crate) const SHADER: Shader = shader!("conv/direct5x5_grad" with "conv/direct5x5_rows");

/// Binding slots (binding − 1).
const X4: usize = 0;
const DY4: usize = 1;
const PARTS: usize = 2;
const X1: usize = 3;
const SLOTS: usize = 4;

/// Kernel rows (channel, ky) per subgroup: one per lane.
const ROWS_PER_GROUP: usize = 8;

/// The generated entry for `s` and whether it reads the input as vec4s: LeNet's first
/// convolution's (up to 8 output channels, rows of whole vec4s), or, without padding, the
/// one for up to 16 output channels on rows of any width whose quads cross at most one
/// row end (LeNet's second).
fn entry(s: &ConvShape) -> Option<(&'static str, bool)> {
    if s.out_channels <= 8 && direct5x5::vec4_rows(s) {
        return match s.padding {
            0 => Some(("weight_grad5x5_p0", true)),
            2 => Some(("weight_grad5x5_p2", true)),
            _ => None,
        };
    }
    let fits = s.padding == 0
        && s.out_channels <= 16
        && s.out_width() >= 4
        && s.pixels().is_multiple_of(4);
    fits.then_some(("weight_grad5x5_p0_o16", false))
}

/// Whether the weight gradient suits the kernels: where [`direct5x5::applies`] and one of
/// the generated entries fits.
pub fn applies(gpu: &Gpu, s: &ConvShape) -> bool {
    direct5x5::applies(gpu, s) && entry(s).is_some()
}

/// Records the partial weight gradients of `s` into `parts` (`[chunks, out, K]`): chunk c
/// holds Σ over column quads c·chunk .. (c+1)·chunk of dYt[o, quad] · col[k, quad], summed
/// as `weight_grad_nt` sums them; `dyt` is dY [folded](super::Conv2d) as `[out, batch ·
/// pixels]`. Where [`applies`].
#[allow(clippy::too_many_arguments)]
pub fn record_parts(
    prog: &mut Program,
    gpu: &Gpu,
    s: &ConvShape,
    x: &Tensor,
    dyt: &Tensor,
    parts: &Tensor,
    chunk: usize,
    chunks: usize,
) -> Result<(), GpuError> {
    assert!(applies(gpu, s), "weight_grad5x5 on {s:?}");
    assert_eq!(x.len(), s.input_len(), "weight_grad5x5 input size");
    let quads = s.batch * s.pixels() / 4;
    assert!(
        dyt.len() >= s.out_channels * quads * 4,
        "weight_grad5x5 dY size"
    );
    assert_eq!(chunks, quads.div_ceil(chunk), "weight_grad5x5 chunks");
    assert_eq!(
        parts.len(),
        chunks * s.out_channels * s.patch_len(),
        "weight_grad5x5 partials size"
    );
    let (entry, vec4_rows) = entry(s).expect("applies");
    let p = params(s, 0, quads, chunk);
    let kernel = gpu.kernel(&SHADER, entry, &[])?;
    let xs = if vec4_rows { X4 } else { X1 };
    let tensors: [_; SLOTS] = bind(gpu, &[(xs, x), (DY4, dyt), (PARTS, parts)]);
    let rows = 5 * s.in_channels;
    let groups = [chunks, rows.div_ceil(ROWS_PER_GROUP), 1].map(u);
    prog.dispatch(gpu, &kernel, &p, &tensors, groups)
}
