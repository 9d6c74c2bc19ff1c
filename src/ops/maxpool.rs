//! Max pooling over NCHW tensors (PyTorch's `max_pool2d`: square windows, −∞ padding,
//! output sizes floored), recording the arg-max of each window for the backward.

use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

/// Geometry of a max pooling: input `[batch, channels, height, width]`, `kernel × kernel`
/// windows `stride` apart, `padding` on every side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolShape {
    /// Images in the batch.
    pub batch: usize,
    /// Channels, pooled independently.
    pub channels: usize,
    /// Input height in pixels.
    pub height: usize,
    /// Input width in pixels.
    pub width: usize,
    /// Side of the square window.
    pub kernel: usize,
    /// Step between windows, along both axes.
    pub stride: usize,
    /// −∞ padding added on every side.
    pub padding: usize,
}

impl PoolShape {
    /// The usual 2×2 pooling with stride 2.
    pub fn two_by_two(batch: usize, channels: usize, height: usize, width: usize) -> PoolShape {
        PoolShape {
            batch,
            channels,
            height,
            width,
            kernel: 2,
            stride: 2,
            padding: 0,
        }
    }

    /// Output rows, floored like PyTorch.
    pub fn out_height(&self) -> usize {
        (self.height + 2 * self.padding - self.kernel) / self.stride + 1
    }

    /// Output columns, floored like PyTorch.
    pub fn out_width(&self) -> usize {
        (self.width + 2 * self.padding - self.kernel) / self.stride + 1
    }

    /// Elements of the input.
    pub fn input_len(&self) -> usize {
        self.batch * self.channels * self.height * self.width
    }

    /// Elements of the output, and of the arg-max tensor.
    pub fn output_len(&self) -> usize {
        self.batch * self.channels * self.out_height() * self.out_width()
    }

    /// `[batch, channels, out_height, out_width]`.
    pub fn output_shape(&self) -> [usize; 4] {
        [
            self.batch,
            self.channels,
            self.out_height(),
            self.out_width(),
        ]
    }

    /// Checks that the pooling is well formed and indexable in u32.
    pub fn validate(&self, gpu: &Gpu) -> Result<(), GpuError> {
        let s = self;
        let invalid = |why: &str| Err(GpuError::Shader(format!("max_pool2d {s:?}: {why}")));
        if [s.batch, s.channels, s.height, s.width, s.kernel, s.stride].contains(&0) {
            return invalid("sizes, kernel and stride must be at least 1");
        }
        // As PyTorch: every window then overlaps the input.
        if 2 * s.padding > s.kernel {
            return invalid("padding must be at most half the kernel");
        }
        if s.kernel > s.height + 2 * s.padding || s.kernel > s.width + 2 * s.padding {
            return invalid("the window is larger than the padded input");
        }
        if s.input_len() >= u32::MAX as usize {
            return Err(GpuError::TooLarge {
                what: "max_pool2d input".into(),
                bytes: 4 * s.input_len() as u64,
                limit: 4 * u32::MAX as u64,
                adapter: gpu.info.name.clone(),
            });
        }
        gpu.check_binding_size("max_pool2d input", 4 * s.input_len() as u64)
    }

    fn params(&self, accumulate: bool) -> Params {
        Params {
            planes: u(self.batch * self.channels),
            height: u(self.height),
            width: u(self.width),
            out_h: u(self.out_height()),
            out_w: u(self.out_width()),
            kernel: u(self.kernel),
            stride: u(self.stride),
            pad: u(self.padding),
            accumulate: u32::from(accumulate),
            pad_: [0; 3],
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    planes: u32,
    height: u32,
    width: u32,
    out_h: u32,
    out_w: u32,
    kernel: u32,
    stride: u32,
    pad: u32,
    accumulate: u32,
    pad_: [u32; 3],
}

/// Records `y = max_pool(x)` and, in `argmax` (u32 elements, as long as `y`), the flat
/// index into `x` of each window's maximum (the first on ties, like PyTorch).
pub fn forward(
    prog: &mut Program,
    gpu: &Gpu,
    shape: &PoolShape,
    x: &Tensor,
    y: &Tensor,
    argmax: &Tensor,
) -> Result<(), GpuError> {
    shape.validate(gpu)?;
    assert_eq!(x.len(), shape.input_len(), "max_pool2d input size");
    assert_eq!(y.len(), shape.output_len(), "max_pool2d output size");
    assert_eq!(argmax.len(), shape.output_len(), "max_pool2d arg-max size");
    let s = shape;
    let (entry, n) = match in_pairs(s) {
        true => ("forward_pairs", s.output_len() / 2),
        false => ("forward", s.output_len()),
    };
    let k = gpu.kernel(&shader!("maxpool"), entry, &[])?;
    let d = gpu.dummy();
    prog.dispatch(
        gpu,
        &k,
        &shape.params(false),
        &[x, y, argmax, d, d, x, d],
        grid_1d(gpu, n, 1),
    )
}

/// Whether the kernels take two windows per invocation: 2×2 windows, stride 2, no
/// padding, rows of whole vec4s and an even height (the windows tile the input).
fn in_pairs(s: &PoolShape) -> bool {
    s.kernel == 2
        && s.stride == 2
        && s.padding == 0
        && s.width.is_multiple_of(4)
        && s.height.is_multiple_of(2)
}

/// Records `dx (+)= ` the gradient of [`forward`]: each input element gathers `dy` of the
/// windows whose maximum it was, or, when the windows tile the input, each window scatters
/// its `dy` over its inputs.
pub fn backward(
    prog: &mut Program,
    gpu: &Gpu,
    shape: &PoolShape,
    argmax: &Tensor,
    dy: &Tensor,
    dx: &Tensor,
    accumulate: bool,
) -> Result<(), GpuError> {
    shape.validate(gpu)?;
    assert_eq!(
        dx.len(),
        shape.input_len(),
        "max_pool2d input gradient size"
    );
    assert_eq!(
        dy.len(),
        shape.output_len(),
        "max_pool2d output gradient size"
    );
    assert_eq!(argmax.len(), shape.output_len(), "max_pool2d arg-max size");
    let s = shape;
    let tiled = s.stride == s.kernel
        && s.padding == 0
        && s.out_height() * s.kernel == s.height
        && s.out_width() * s.kernel == s.width;
    let (entry, n) = if in_pairs(s) {
        ("backward_pairs", s.output_len() / 2)
    } else if tiled {
        ("backward_tiled", s.output_len())
    } else {
        ("backward", s.input_len())
    };
    let k = gpu.kernel(&shader!("maxpool"), entry, &[])?;
    let d = gpu.dummy();
    prog.dispatch(
        gpu,
        &k,
        &shape.params(accumulate),
        &[d, d, argmax, dy, dx, d, dx],
        grid_1d(gpu, n, 1),
    )
}
