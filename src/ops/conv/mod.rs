//! 2-D convolution over NCHW tensors (PyTorch's `conv2d`: weights `[out, in, kh, kw]`, bias
//! `[out]`, zero padding), and its backward, by one of two paths:
//!
//! - [`im2col`]: any shape. The patches of the whole batch go into one scratch matrix `col`
//!   of `K = in·kh·kw` rows and `N = batch·OH·OW` columns (column `b·OH·OW + p` is image
//!   b's window at output pixel p), each row padded with zeros to a multiple of 4 so
//!   kernels move it as vec4s, and zero rows added up to Kp, K rounded up to a multiple
//!   of 4, so that the products read it in place; the batched matmul does the products. With the batch folded
//!   into the columns, each backward product contracts over batch and pixels at once, and
//!   `dcol = Wᵀ·dY` pads no image to the matmul's tile.
//! - [`direct3x3`] and [`direct3x3_grad`]: on 8-lane subgroups, 3×3 convolutions with
//!   padding 1 and stride 1 or 2 on narrow images (ResNet's) skip the patches in the
//!   forward pass, the input gradient and the weight gradient, reading the input directly.
//! - [`direct5x5`] and [`direct5x5_grad`]: on 8-lane subgroups, LeNet's first
//!   convolution skips the patches in the forward pass and the weight gradient, adding in
//!   the order of the patches' products (the same bits); its input gradient (never asked
//!   for in LeNet) takes the patches' path. Its second skips them in the forward pass
//!   and the weight gradient too.
//! - [`direct5x5_input_grad`]: on 8-lane subgroups, LeNet's second convolution's input
//!   gradient without `dcol`, adding in the order of `dcol = Wᵀ·dY` and `col2im` (the
//!   same bits).
//!
//! [`Conv2d`] holds a layer's scratch and chooses the path.

pub mod direct3x3;
pub mod direct3x3_grad;
pub mod direct5x5;
pub mod direct5x5_grad;
pub mod direct5x5_input_grad;
pub mod im2col;
mod shape;

pub use shape::ConvShape;

use super::matmul::{self, Variant};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use direct3x3::Weights;

/// Which gradients [`Conv2d::backward`] writes, each with its accumulate flag
/// (`true`: add into the tensor, `false`: overwrite it).
#[derive(Clone, Copy, Debug, Default)]
pub struct ConvGrads<'a> {
    /// The input gradient, `[batch, in, h, w]`.
    pub dx: Option<(&'a Tensor, bool)>,
    /// The weight gradient, `[out, in, kh, kw]`.
    pub dw: Option<(&'a Tensor, bool)>,
    /// The bias gradient, `[out]`.
    pub dbias: Option<(&'a Tensor, bool)>,
}

/// How the forward product is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForwardPath {
    /// [`direct3x3`] or [`direct5x5`], reading the input with no patches, where the
    /// adapter and the shape allow ([`Conv2d::reads_input_directly`]); else
    /// [`ForwardPath::Folded`] where the subgroup matmul would pad each image's product by
    /// more than 10 %, else [`ForwardPath::PerImage`].
    Auto,
    /// One batched product per image writing NCHW directly, bias and ReLU in the matmul's
    /// epilogue.
    PerImage,
    /// One product over the whole batch, `[out, batch·pixels]`, then a pass that adds the
    /// bias, applies the ReLU and writes NCHW.
    Folded,
}

/// How [`Conv2d::backward`] computes dX.
#[derive(Clone, Copy, Debug)]
enum InputGradPath {
    /// [`direct3x3::record_input_grad_s2`]: the stride-2 transposed 3×3 convolution.
    Direct3x3Stride2,
    /// The convolution of dY with the flipped weights ([`Conv2d::input_grad_shape`]).
    Convolution(ConvShape),
    /// [`direct5x5_input_grad`].
    Direct5x5,
    /// `dcol = Wᵀ·dY` from dY folded into `rows`, then col2im.
    Patches,
}

/// A convolution layer's scratch, allocated once, and the choices of how to record it.
pub struct Conv2d {
    /// The geometry the scratch was allocated for.
    pub shape: ConvShape,
    /// The matmul kernel to use; tests pin each one.
    pub variant: Variant,
    /// How the forward product is laid out; [`ForwardPath::Auto`] unless a test pins it.
    pub forward_path: ForwardPath,
    /// im2col patches `[Kp, col_stride]` ([`ConvShape::patch_rows`]); `dcol` in the
    /// backward.
    col: Tensor,
    /// `[out, col_stride]`: the folded forward's product, `dY` re-laid in the backward.
    rows: Tensor,
    /// The weights flipped for the input gradient, when it runs as a convolution
    /// ([`Conv2d::input_grad_shape`]).
    flipped: Option<Tensor>,
}

impl Conv2d {
    /// Allocates the scratch for `shape`.
    pub fn new(gpu: &Gpu, shape: ConvShape) -> Result<Conv2d, GpuError> {
        shape.validate(gpu)?;
        let col = gpu.zeros("conv2d im2col", &[shape.col_len()])?;
        let rows = gpu.zeros("conv2d rows", &[shape.rows_len()])?;
        Self::with_scratch(gpu, shape, col, rows)
    }

    /// Uses `col` (at least [`ConvShape::col_len`] elements) and `rows` (at least
    /// [`ConvShape::rows_len`]) as scratch, so that layers can share buffers; their
    /// backward passes then need `x` to rebuild the patches.
    pub fn with_scratch(
        gpu: &Gpu,
        shape: ConvShape,
        col: Tensor,
        rows: Tensor,
    ) -> Result<Conv2d, GpuError> {
        shape.validate(gpu)?;
        if col.len() < shape.col_len() || rows.len() < shape.rows_len() {
            return Err(GpuError::Shader(format!(
                "conv2d {shape:?}: scratch of {} and {} elements, needs {} and {}",
                col.len(),
                rows.len(),
                shape.col_len(),
                shape.rows_len()
            )));
        }
        let mut conv = Conv2d {
            shape,
            variant: Variant::Auto,
            forward_path: ForwardPath::Auto,
            col: col.view(0, &[shape.col_len()]),
            rows: rows.view(0, &[shape.rows_len()]),
            flipped: None,
        };
        if conv.input_grad_shape().is_some() {
            conv.flipped = Some(gpu.zeros("conv2d flipped weights", &[shape.weight_len()])?);
        }
        Ok(conv)
    }

    /// The convolution of dY that gives dX, when it fits this layer's scratch: for stride
    /// 1 and square kernels, dX = conv(dY, flipped weights, padding kh − 1 − padding). It
    /// costs one im2col and one product like the forward, where `dcol = Wᵀ·dY` and col2im
    /// write and read the K-row patches again. It fits when the channels are equal and
    /// the output as large as the input (ResNet's 3×3 convolutions).
    fn input_grad_shape(&self) -> Option<ConvShape> {
        let s = &self.shape;
        if s.stride != 1 || s.kernel_h != s.kernel_w || s.padding >= s.kernel_h {
            return None;
        }
        let t = ConvShape {
            batch: s.batch,
            in_channels: s.out_channels,
            height: s.out_height(),
            width: s.out_width(),
            out_channels: s.in_channels,
            kernel_h: s.kernel_h,
            kernel_w: s.kernel_w,
            stride: 1,
            padding: s.kernel_h - 1 - s.padding,
        };
        debug_assert_eq!(t.output_shape(), s.input_shape());
        (t.col_len() <= s.col_len() && t.rows_len() <= s.rows_len()).then_some(t)
    }

    fn subgroup_matmul(&self, gpu: &Gpu) -> bool {
        match self.variant {
            Variant::Auto => matmul::uses_subgroup_kernel(gpu),
            Variant::Subgroup8 => true,
            Variant::Tiled => false,
        }
    }

    /// Whether the forward pass reads the input directly, writing no patches:
    /// [`direct3x3`] (and then the gradients too) or [`direct5x5`] (and then the weight
    /// gradient too).
    pub fn reads_input_directly(&self, gpu: &Gpu) -> bool {
        self.direct3x3_path(gpu) || self.direct5x5_path(gpu)
    }

    /// Whether the forward pass, the weight gradient and the input gradient (when it runs
    /// as a convolution or, with stride 2, as the transposed one) take [`direct3x3`].
    fn direct3x3_path(&self, gpu: &Gpu) -> bool {
        self.forward_path == ForwardPath::Auto
            && self.subgroup_matmul(gpu)
            && direct3x3::applies(gpu, &self.shape)
    }

    /// Whether the forward pass takes [`direct5x5`].
    fn direct5x5_path(&self, gpu: &Gpu) -> bool {
        self.forward_path == ForwardPath::Auto
            && self.subgroup_matmul(gpu)
            && direct5x5::applies(gpu, &self.shape)
    }

    /// How dX is computed; the patches' path reads dY [folded](Conv2d::fold).
    fn input_grad_path(&self, gpu: &Gpu) -> InputGradPath {
        let direct = self.direct3x3_path(gpu);
        if direct && direct3x3::input_grad_s2_applies(gpu, &self.shape) {
            InputGradPath::Direct3x3Stride2
        } else if let Some(shape) = self.input_grad_shape() {
            InputGradPath::Convolution(shape)
        } else if self.forward_path == ForwardPath::Auto
            && self.subgroup_matmul(gpu)
            && direct5x5_input_grad::applies(gpu, &self.shape)
        {
            InputGradPath::Direct5x5
        } else {
            InputGradPath::Patches
        }
    }

    /// Records `y = conv(x, w) (+ bias) (ReLU)`; `y` is NCHW `[batch, out, OH, OW]`.
    /// With `relu`, the caller applies `relu::backward` on `y` before [`Conv2d::backward`].
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &self,
        prog: &mut Program,
        gpu: &Gpu,
        x: &Tensor,
        w: &Tensor,
        bias: Option<&Tensor>,
        y: &Tensor,
        relu: bool,
    ) -> Result<(), GpuError> {
        let s = &self.shape;
        if self.direct3x3_path(gpu) {
            return direct3x3::record(prog, gpu, s, x, w, Weights::AsIs, bias, y, relu, false);
        }
        if self.direct5x5_path(gpu) {
            let padded = self.padded_weights(prog, gpu, w)?;
            return direct5x5::record(prog, gpu, s, x, &padded, bias, y, relu);
        }
        self.im2col(prog, gpu, x)?;
        self.forward_from_patches(prog, gpu, w, bias, y, relu)
    }

    /// Whether [`Conv2d::forward`] leaves the input's patches in the scratch, for
    /// [`Conv2d::forward_from_patches`] and a backward pass without `x`.
    pub fn keeps_patches(&self, gpu: &Gpu) -> bool {
        !self.reads_input_directly(gpu)
    }

    /// Records the gradients of [`Conv2d::forward`] (before its ReLU) given `dy`.
    ///
    /// `x`: the forward's input, to rebuild the patches; `None` when the scratch still
    /// holds them from this layer's forward (it [keeps them](Conv2d::keeps_patches) and
    /// nothing else wrote it since). Only the weight gradient needs the patches; the input
    /// gradient then overwrites them.
    /// The weight gradient may allocate partial sums here, at recording time.
    pub fn backward(
        &self,
        prog: &mut Program,
        gpu: &Gpu,
        x: Option<&Tensor>,
        w: &Tensor,
        dy: &Tensor,
        grads: ConvGrads,
    ) -> Result<(), GpuError> {
        let s = &self.shape;
        assert_eq!(w.len(), s.weight_len(), "conv2d weight size");
        assert_eq!(dy.len(), s.output_len(), "conv2d output gradient size");
        // dY as [out, batch·pixels], laid out like col, for the bias gradient, the weight
        // gradient by im2col or direct 5×5, and dX by `dcol`, also when dX is all that is
        // asked for; the direct 3×3 gradients read dY as it is.
        let direct = self.direct3x3_path(gpu);
        let dx_path = grads.dx.map(|_| self.input_grad_path(gpu));
        let dx_by_patches = matches!(dx_path, Some(InputGradPath::Patches));
        if grads.dbias.is_some() || (grads.dw.is_some() && !direct) || dx_by_patches {
            self.fold(prog, gpu, dy)?;
        }

        if let Some((dbias, accumulate)) = grads.dbias {
            self.bias_grad(prog, gpu, dbias, accumulate)?;
        }

        if let Some((dw, accumulate)) = grads.dw {
            assert_eq!(dw.len(), s.weight_len(), "conv2d weight gradient size");
            if direct {
                let x = x.expect("conv2d: the direct weight gradient needs x");
                direct3x3_grad::record(prog, gpu, s, x, dy, dw, accumulate)?;
            } else if self.direct5x5_path(gpu) && direct5x5_grad::applies(gpu, s) {
                let x = x.expect("conv2d: the direct weight gradient needs x");
                self.weight_grad_direct5x5(prog, gpu, x, dw, accumulate)?;
            } else {
                self.weight_grad_by_patches(prog, gpu, x, dw, accumulate)?;
            }
        }

        let (Some((dx, accumulate)), Some(path)) = (grads.dx, dx_path) else {
            return Ok(());
        };
        assert_eq!(dx.len(), s.input_len(), "conv2d input gradient size");
        match path {
            InputGradPath::Direct3x3Stride2 => {
                direct3x3::record_input_grad_s2(prog, gpu, s, dy, w, dx, accumulate)
            }
            InputGradPath::Convolution(shape) => {
                let flipped = self.flipped.as_ref().expect("allocated with the shape");
                let transposed = Conv2d {
                    shape,
                    variant: self.variant,
                    forward_path: self.forward_path,
                    col: self.col.view(0, &[shape.col_len()]),
                    rows: self.rows.view(0, &[shape.rows_len()]),
                    flipped: None,
                };
                if transposed.direct3x3_path(gpu) {
                    let flip = Weights::FlippedOf;
                    return direct3x3::record(
                        prog, gpu, &shape, dy, w, flip, None, dx, false, accumulate,
                    );
                }
                self.input_grad_by_convolution(
                    prog,
                    gpu,
                    &transposed,
                    w,
                    flipped,
                    dy,
                    dx,
                    accumulate,
                )
            }
            InputGradPath::Direct5x5 => {
                direct5x5_input_grad::record(prog, gpu, s, w, dy, dx, accumulate)
            }
            InputGradPath::Patches => self.input_grad_by_patches(prog, gpu, w, dx, accumulate),
        }
    }
}
