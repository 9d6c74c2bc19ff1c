//! 2-D convolution over NCHW tensors (PyTorch's `conv2d`: weights `[out, in, kh, kw]`, bias
//! `[out]`, zero padding) by im2col and the batched matmul, and its backward.
//!
//! The patches of the whole batch go into one scratch matrix `col` of `K = in·kh·kw` rows
//! and `N = batch·OH·OW` columns (column `b·OH·OW + p` is image b's window at output pixel
//! p), each row padded with zeros to a multiple of 4 so kernels move it as vec4s. With the
//! batch folded into the columns, each backward product contracts over batch and pixels
//! at once, and `dcol = Wᵀ·dY` pads no image to the matmul's tile.
//!
//! On 8-lane subgroups, 3×3 convolutions with stride 1 and padding 1 on narrow images
//! (ResNet's) skip the patches in the forward pass and the input gradient:
//! [`super::conv3x3`] reads the input directly.

use super::conv3x3::{self, Weights};
use super::matmul::{self, Epilogue, Mat, Variant};
use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

/// Geometry of a convolution: input `[batch, in_channels, height, width]`, weights
/// `[out_channels, in_channels, kernel_h, kernel_w]`, the same stride and zero padding
/// along both axes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    pub batch: usize,
    pub in_channels: usize,
    pub height: usize,
    pub width: usize,
    pub out_channels: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride: usize,
    pub padding: usize,
}

impl ConvShape {
    /// Output rows, floored like PyTorch.
    pub fn out_height(&self) -> usize {
        (self.height + 2 * self.padding - self.kernel_h) / self.stride + 1
    }

    pub fn out_width(&self) -> usize {
        (self.width + 2 * self.padding - self.kernel_w) / self.stride + 1
    }

    /// Output pixels per image and channel.
    pub fn pixels(&self) -> usize {
        self.out_height() * self.out_width()
    }

    /// Length of one patch: the inner dimension `K` of the products.
    pub fn patch_len(&self) -> usize {
        self.in_channels * self.kernel_h * self.kernel_w
    }

    pub fn input_shape(&self) -> [usize; 4] {
        [self.batch, self.in_channels, self.height, self.width]
    }

    pub fn output_shape(&self) -> [usize; 4] {
        [
            self.batch,
            self.out_channels,
            self.out_height(),
            self.out_width(),
        ]
    }

    pub fn weight_shape(&self) -> [usize; 4] {
        [
            self.out_channels,
            self.in_channels,
            self.kernel_h,
            self.kernel_w,
        ]
    }

    pub fn input_len(&self) -> usize {
        self.input_shape().iter().product()
    }

    pub fn output_len(&self) -> usize {
        self.output_shape().iter().product()
    }

    pub fn weight_len(&self) -> usize {
        self.weight_shape().iter().product()
    }

    /// Row length of the scratch matrices: batch·pixels rounded up to whole vec4s.
    pub fn col_stride(&self) -> usize {
        (self.batch * self.pixels()).div_ceil(4) * 4
    }

    /// Elements of the `col` scratch ([`Conv2d::with_scratch`]).
    pub fn col_len(&self) -> usize {
        self.patch_len() * self.col_stride()
    }

    /// Elements of the output-sized scratch ([`Conv2d::with_scratch`]).
    pub fn rows_len(&self) -> usize {
        self.out_channels * self.col_stride()
    }

    /// Checks that the convolution is well formed and that its tensors fit the adapter.
    pub fn validate(&self, gpu: &Gpu) -> Result<(), GpuError> {
        let s = self;
        let invalid = |why: String| Err(GpuError::Shader(format!("conv2d {s:?}: {why}")));
        if [s.batch, s.in_channels, s.height, s.width, s.out_channels].contains(&0)
            || [s.kernel_h, s.kernel_w, s.stride].contains(&0)
        {
            return invalid("sizes, kernel and stride must be at least 1".into());
        }
        if s.kernel_h > s.height + 2 * s.padding || s.kernel_w > s.width + 2 * s.padding {
            return invalid(format!(
                "a {}×{} kernel does not fit a {}×{} input padded by {}",
                s.kernel_h, s.kernel_w, s.height, s.width, s.padding
            ));
        }
        // Kernels index in u32; the storage-binding limit usually binds first.
        for (what, len) in [
            ("conv2d input", s.input_len()),
            ("conv2d output", s.output_len()),
            ("conv2d weight", s.weight_len()),
            ("conv2d im2col scratch", s.col_len()),
        ] {
            let bytes = 4 * len as u64;
            if len >= u32::MAX as usize {
                return Err(GpuError::TooLarge {
                    what: what.to_string(),
                    bytes,
                    limit: 4 * u32::MAX as u64,
                    adapter: gpu.info.name.clone(),
                });
            }
            gpu.check_binding_size(what, bytes)?;
        }
        // Rows of the scratch matrices and channels are grid z (or x) indices.
        let max_groups = gpu.limits.max_compute_workgroups_per_dimension as usize;
        let most = s.patch_len().max(s.out_channels).max(s.in_channels);
        if most > max_groups {
            return invalid(format!(
                "{most} channels or taps exceed the adapter's {max_groups} workgroups per dimension"
            ));
        }
        Ok(())
    }
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    channels: u32,
    height: u32,
    width: u32,
    kh: u32,
    kw: u32,
    stride: u32,
    pad: u32,
    out_w: u32,
    out_h: u32,
    pixels: u32,
    /// batch · pixels: the used columns of the scratch matrices.
    cols: u32,
    col_stride: u32,
    batch: u32,
    /// Rows of dY and y: the output channels.
    out_channels: u32,
    /// Elements per partial for `sum_parts`; batch·height·width for `col2im`.
    len: u32,
    parts: u32,
    accumulate: u32,
    has_bias: u32,
    relu: u32,
    pad_: u32,
}

/// Binding slots (binding − 1) of `shaders/conv2d.wgsl`.
const X: usize = 0;
const COL4: usize = 1;
const DY: usize = 2;
const ROWS4: usize = 3;
const ROWS4_IN: usize = 4;
const DBIAS: usize = 5;
const PARTS: usize = 6;
const DW: usize = 7;
const DCOL: usize = 8;
const DX: usize = 9;
const BIAS: usize = 10;
const Y: usize = 11;
const X4: usize = 12;
const DY4: usize = 13;
const Y4: usize = 14;
const SLOTS: usize = 15;

/// Column quads each invocation of `fold4` and `unfold4` moves (`QUADS` in the shader).
const QUADS: usize = 4;

/// Tensors for `Program::dispatch`: `used` in their slots, the dummy elsewhere (entry
/// points bind only what they use).
fn bindings<'a>(gpu: &'a Gpu, used: &[(usize, &'a Tensor)]) -> [&'a Tensor; SLOTS] {
    let mut t = [gpu.dummy(); SLOTS];
    for &(slot, tensor) in used {
        t[slot] = tensor;
    }
    t
}

/// Which gradients [`Conv2d::backward`] writes, each with its accumulate flag
/// (`true`: add into the tensor, `false`: overwrite it).
#[derive(Clone, Copy, Debug, Default)]
pub struct ConvGrads<'a> {
    pub dx: Option<(&'a Tensor, bool)>,
    pub dw: Option<(&'a Tensor, bool)>,
    pub dbias: Option<(&'a Tensor, bool)>,
}

/// How the forward product is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForwardPath {
    /// [`ForwardPath::Direct`] where it applies; else [`ForwardPath::Folded`] where the
    /// subgroup matmul would pad each image's product by more than 10 %, else
    /// [`ForwardPath::PerImage`].
    Auto,
    /// [`super::conv3x3`], reading the input with no patches, where the adapter and the
    /// shape allow ([`Conv2d::reads_input_directly`]); else as [`ForwardPath::Auto`].
    Direct,
    /// One batched product per image writing NCHW directly, bias and ReLU in the matmul's
    /// epilogue.
    PerImage,
    /// One product over the whole batch, `[out, batch·pixels]`, then a pass that adds the
    /// bias, applies the ReLU and writes NCHW.
    Folded,
}

/// A convolution layer's scratch, allocated once, and the choices of how to record it.
pub struct Conv2d {
    pub shape: ConvShape,
    /// The matmul kernel to use; tests pin each one.
    pub variant: Variant,
    pub forward_path: ForwardPath,
    /// im2col patches `[K, col_stride]`; `dcol` in the backward.
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

    /// The grid of `fold`/`unfold` (one column quad per invocation) or of their vec4
    /// forms (`QUADS` per invocation), over `rows` rows.
    fn column_grid(&self, gpu: &Gpu, rows: usize, vec4: bool) -> [u32; 3] {
        let quads = self.shape.col_stride() / 4;
        grid_1d(gpu, if vec4 { quads.div_ceil(QUADS) } else { quads }, rows)
    }

    fn params(&self) -> Params {
        let s = &self.shape;
        Params {
            channels: u(s.in_channels),
            height: u(s.height),
            width: u(s.width),
            kh: u(s.kernel_h),
            kw: u(s.kernel_w),
            stride: u(s.stride),
            pad: u(s.padding),
            out_w: u(s.out_width()),
            out_h: u(s.out_height()),
            pixels: u(s.pixels()),
            cols: u(s.batch * s.pixels()),
            col_stride: u(s.col_stride()),
            batch: u(s.batch),
            out_channels: u(s.out_channels),
            ..Default::default()
        }
    }

    /// A `rows × batch·pixels` matrix in a scratch tensor.
    fn scratch_mat<'a>(&self, t: &'a Tensor, rows: usize) -> Mat<'a> {
        Mat {
            t,
            off: 0,
            rows,
            cols: self.shape.batch * self.shape.pixels(),
            rs: self.shape.col_stride(),
            cs: 1,
            bs: 0,
        }
    }

    fn subgroup_matmul(&self, gpu: &Gpu) -> bool {
        match self.variant {
            Variant::Auto => matmul::uses_subgroup_kernel(gpu),
            Variant::Subgroup8 => true,
            Variant::Tiled => false,
        }
    }

    /// Whether the forward pass (and the input gradient, when it runs as a convolution)
    /// reads the input directly ([`super::conv3x3`]), writing no patches.
    pub fn reads_input_directly(&self, gpu: &Gpu) -> bool {
        matches!(self.forward_path, ForwardPath::Auto | ForwardPath::Direct)
            && self.subgroup_matmul(gpu)
            && conv3x3::applies(gpu, &self.shape)
    }

    /// Whether the forward runs as one product over the batch.
    pub fn folded_forward(&self, gpu: &Gpu) -> bool {
        match self.forward_path {
            ForwardPath::PerImage => false,
            ForwardPath::Folded => true,
            ForwardPath::Auto | ForwardPath::Direct => {
                if !self.subgroup_matmul(gpu) {
                    return false;
                }
                let s = &self.shape;
                let (out, pixels, cols) = (s.out_channels, s.pixels(), s.batch * s.pixels());
                // Packing an operand copies it; the patches are read in place when K is
                // whole vec4s and the product keeps them as its row-major B (per image it
                // must be computed transposed, with the weights as A).
                let in_place = s.patch_len().is_multiple_of(4);
                let per_image_packs = !in_place || !matmul::subgroup_transposes(pixels, out);
                let folded_packs = !in_place || matmul::subgroup_transposes(out, cols);
                if per_image_packs != folded_packs {
                    return per_image_packs;
                }
                // Otherwise the fewer padded tiles: the subgroup kernel pads every product
                // to 32×64 tiles, in the cheaper orientation.
                let padded = |m: usize, n: usize| {
                    let area = |m: usize, n: usize| m.div_ceil(32) * 32 * n.div_ceil(64) * 64;
                    area(m, n).min(area(n, m))
                };
                let per_image = s.batch * padded(out, pixels);
                let folded = padded(out, cols);
                10 * per_image > 11 * folded
            }
        }
    }

    /// Records writing the patches of `x` into the scratch.
    pub fn im2col(&self, prog: &mut Program, gpu: &Gpu, x: &Tensor) -> Result<(), GpuError> {
        let s = &self.shape;
        assert_eq!(x.len(), s.input_len(), "conv2d input size");
        // Stride 1 with rows of whole vec4s and taps at most 3 pixels to either side:
        // the vec4 path (im2col_s1).
        let vec4_rows = s.stride == 1
            && s.width.is_multiple_of(4)
            && s.out_width().is_multiple_of(4)
            && s.out_width() <= s.width
            && s.padding <= 3
            && s.kernel_w <= s.padding + 4;
        let entry = if vec4_rows { "im2col_s1" } else { "im2col" };
        let k = gpu.kernel(&shader!("conv2d"), entry, &[])?;
        let t = bindings(gpu, &[(X, x), (X4, x), (COL4, &self.col)]);
        let rows = if vec4_rows {
            s.in_channels
        } else {
            s.patch_len()
        };
        let groups = grid_1d(gpu, s.col_stride() / 4, rows);
        prog.dispatch(gpu, &k, &self.params(), &t, groups)
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
        if self.reads_input_directly(gpu) {
            let s = &self.shape;
            return conv3x3::record(prog, gpu, s, x, w, Weights::AsIs, bias, y, relu, false);
        }
        self.im2col(prog, gpu, x)?;
        self.forward_from_patches(prog, gpu, w, bias, y, relu)
    }

    /// Whether [`Conv2d::forward`] leaves the input's patches in the scratch, for
    /// [`Conv2d::forward_from_patches`] and a backward pass without `x`.
    pub fn keeps_patches(&self, gpu: &Gpu) -> bool {
        !self.reads_input_directly(gpu)
    }

    /// [`Conv2d::forward`] on the patches already in the scratch: those of this layer's
    /// last forward, when it [keeps them](Conv2d::keeps_patches) and nothing has
    /// overwritten them since (a backward that asked for dX did). The probes use it to
    /// apply the first layer to the gradient as well.
    pub fn forward_from_patches(
        &self,
        prog: &mut Program,
        gpu: &Gpu,
        w: &Tensor,
        bias: Option<&Tensor>,
        y: &Tensor,
        relu: bool,
    ) -> Result<(), GpuError> {
        self.product(prog, gpu, w, bias, y, relu, false)
    }

    /// The forward's product on the patches in the scratch; `accumulate` adds it to `y`.
    #[allow(clippy::too_many_arguments)]
    fn product(
        &self,
        prog: &mut Program,
        gpu: &Gpu,
        w: &Tensor,
        bias: Option<&Tensor>,
        y: &Tensor,
        relu: bool,
        accumulate: bool,
    ) -> Result<(), GpuError> {
        let s = &self.shape;
        assert_eq!(w.len(), s.weight_len(), "conv2d weight size");
        assert_eq!(y.len(), s.output_len(), "conv2d output size");
        if let Some(b) = bias {
            assert_eq!(b.len(), s.out_channels, "conv2d bias size");
        }
        let (kdim, pixels, out) = (s.patch_len(), s.pixels(), s.out_channels);
        if self.folded_forward(gpu) {
            let col = self.scratch_mat(&self.col, kdim);
            let prod = self.scratch_mat(&self.rows, out);
            let wm = Mat::new(w, out, kdim);
            let epi = Epilogue::default();
            matmul::record_variant(prog, gpu, &wm, &col, &prod, 1, epi, self.variant)?;
            let vec4 = s.pixels().is_multiple_of(4);
            let entry = if vec4 { "unfold4" } else { "unfold" };
            let k = gpu.kernel(&shader!("conv2d"), entry, &[])?;
            let p = Params {
                has_bias: u32::from(bias.is_some()),
                relu: u32::from(relu),
                accumulate: u32::from(accumulate),
                ..self.params()
            };
            let bias = bias.unwrap_or(gpu.dummy());
            let t = bindings(
                gpu,
                &[(ROWS4_IN, &self.rows), (BIAS, bias), (Y, y), (Y4, y)],
            );
            return prog.dispatch(gpu, &k, &p, &t, self.column_grid(gpu, out, vec4));
        }
        // Y[b]ᵀ = col[b]ᵀ · Wᵀ: transposed, the per-channel bias runs along C's columns,
        // where the matmul epilogue adds it (its subgroup kernel flips back if cheaper).
        let col_b = Mat {
            cols: pixels,
            bs: pixels,
            ..self.scratch_mat(&self.col, kdim)
        };
        let wt = Mat::new(w, out, kdim).transposed().shared();
        let yt = Mat::new(y, out, pixels).transposed();
        let epi = Epilogue {
            bias: bias.map(|b| (b, 0)),
            relu,
            accumulate,
            ..Default::default()
        };
        let a = col_b.transposed();
        matmul::record_variant(prog, gpu, &a, &wt, &yt, s.batch, epi, self.variant)
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
        let (kdim, out) = (s.patch_len(), s.out_channels);
        let conv = shader!("conv2d");

        // dY as [out, batch·pixels], laid out like col, for the bias gradient and the
        // weight gradient by im2col.
        let direct = self.reads_input_directly(gpu);
        if grads.dbias.is_some() || (grads.dw.is_some() && !direct) {
            let vec4 = s.pixels().is_multiple_of(4);
            let k = gpu.kernel(&conv, if vec4 { "fold4" } else { "fold" }, &[])?;
            let t = bindings(gpu, &[(DY, dy), (DY4, dy), (ROWS4, &self.rows)]);
            let groups = self.column_grid(gpu, out, vec4);
            prog.dispatch(gpu, &k, &self.params(), &t, groups)?;
        }

        if let Some((dbias, accumulate)) = grads.dbias {
            assert_eq!(dbias.len(), out, "conv2d bias gradient size");
            let k = gpu.kernel(&conv, "bias_grad", &[])?;
            let p = Params {
                accumulate: u32::from(accumulate),
                ..self.params()
            };
            let t = bindings(gpu, &[(ROWS4_IN, &self.rows), (DBIAS, dbias)]);
            prog.dispatch(gpu, &k, &p, &t, [u(out), 1, 1])?;
        }

        if let Some((dw, accumulate)) = grads.dw {
            assert_eq!(dw.len(), s.weight_len(), "conv2d weight gradient size");
            if direct {
                let x = x.expect("conv2d: the direct weight gradient needs x");
                conv3x3::weight_grad(prog, gpu, s, x, dy, dw, accumulate)?;
            } else {
                self.weight_grad_by_patches(prog, gpu, x, dw, accumulate)?;
            }
        }

        if let Some((dx, accumulate)) = grads.dx {
            assert_eq!(dx.len(), s.input_len(), "conv2d input gradient size");
            if let (Some(shape), Some(flipped)) = (self.input_grad_shape(), &self.flipped) {
                let transposed = Conv2d {
                    shape,
                    variant: self.variant,
                    forward_path: self.forward_path,
                    col: self.col.view(0, &[shape.col_len()]),
                    rows: self.rows.view(0, &[shape.rows_len()]),
                    flipped: None,
                };
                if transposed.reads_input_directly(gpu) {
                    let flip = Weights::FlippedOf;
                    return conv3x3::record(
                        prog, gpu, &shape, dy, w, flip, None, dx, false, accumulate,
                    );
                }
                let k = gpu.kernel(&conv, "flip_weights", &[])?;
                let p = Params {
                    len: u(s.weight_len()),
                    ..self.params()
                };
                let t = bindings(gpu, &[(X, w), (Y, flipped)]);
                prog.dispatch(gpu, &k, &p, &t, grid_1d(gpu, s.weight_len(), 1))?;
                transposed.im2col(prog, gpu, dy)?;
                return transposed.product(prog, gpu, flipped, None, dx, false, accumulate);
            }
            // dcol = Wᵀ · dY over the whole batch at once, into the patches' scratch.
            let wt = Mat::new(w, out, kdim).transposed();
            let dyt = self.scratch_mat(&self.rows, out);
            let dcol = self.scratch_mat(&self.col, kdim);
            let epi = Epilogue::default();
            matmul::record_variant(prog, gpu, &wt, &dyt, &dcol, 1, epi, self.variant)?;
            let k = gpu.kernel(&conv, "col2im", &[])?;
            let per_channel = s.batch * s.height * s.width;
            let p = Params {
                len: u(per_channel),
                accumulate: u32::from(accumulate),
                ..self.params()
            };
            let t = bindings(gpu, &[(DCOL, &self.col), (DX, dx)]);
            let groups = grid_1d(gpu, per_channel, s.in_channels);
            prog.dispatch(gpu, &k, &p, &t, groups)?;
        }
        Ok(())
    }

    /// The weight gradient from the patches of `x` (or those in the scratch when `x` is
    /// `None`) and dY folded into `rows`.
    fn weight_grad_by_patches(
        &self,
        prog: &mut Program,
        gpu: &Gpu,
        x: Option<&Tensor>,
        dw: &Tensor,
        accumulate: bool,
    ) -> Result<(), GpuError> {
        let s = &self.shape;
        let kdim = s.patch_len();
        let conv = shader!("conv2d");
        match x {
            Some(x) => self.im2col(prog, gpu, x)?,
            None => assert!(
                self.keeps_patches(gpu),
                "conv2d {s:?}: the forward wrote no patches, the weight gradient needs x"
            ),
        }
        let transposed = if self.transposed_patches(gpu) {
            let t = gpu.scratch("conv2d transposed patches", s.col_len())?;
            let k = gpu.kernel(&conv, "transpose", &[])?;
            let p = Params {
                len: u(kdim / 4),
                ..self.params()
            };
            let blocks = kdim.div_ceil(16);
            let b = bindings(gpu, &[(ROWS4_IN, &self.col), (ROWS4, &t)]);
            prog.dispatch(gpu, &k, &p, &b, grid_1d(gpu, s.col_stride() / 4, blocks))?;
            Some(t)
        } else {
            None
        };
        self.weight_grad(prog, gpu, dw, accumulate, transposed.as_ref())
    }

    /// Whether the weight gradient transposes the patches to `[col_stride, K]` rows, so
    /// that its product reads them in place: when K is whole vec4s and the subgroup kernel
    /// keeps the product's orientation (else it would pack them again).
    fn transposed_patches(&self, gpu: &Gpu) -> bool {
        let (kdim, out) = (self.shape.patch_len(), self.shape.out_channels);
        kdim.is_multiple_of(4)
            && !(self.subgroup_matmul(gpu) && matmul::subgroup_transposes(out, kdim))
    }

    /// `dW (+)= dY · colᵀ`, contracting over batch and pixels; `transposed`: the patches
    /// as `[col_stride, K]` rows, to read instead of `col`. When that product has few
    /// output tiles, the batch is split into groups, computed as one batched product into
    /// partials and then summed in a fixed order, so that more workgroups share the long
    /// inner dimension.
    fn weight_grad(
        &self,
        prog: &mut Program,
        gpu: &Gpu,
        dw: &Tensor,
        accumulate: bool,
        transposed: Option<&Tensor>,
    ) -> Result<(), GpuError> {
        let s = &self.shape;
        let (kdim, out) = (s.patch_len(), s.out_channels);
        let groups = weight_grad_groups(s);
        let per_group = s.batch / groups * s.pixels();
        let a = Mat {
            cols: per_group,
            bs: per_group,
            ..self.scratch_mat(&self.rows, out)
        };
        let b = if let Some(t) = transposed {
            Mat {
                bs: per_group * kdim,
                ..Mat::new(t, per_group, kdim)
            }
        } else {
            Mat {
                cols: per_group,
                bs: per_group,
                ..self.scratch_mat(&self.col, kdim)
            }
            .transposed()
        };
        if groups == 1 {
            let c = Mat::new(dw, out, kdim);
            let epi = Epilogue {
                accumulate,
                ..Default::default()
            };
            return matmul::record_variant(prog, gpu, &a, &b, &c, 1, epi, self.variant);
        }
        let parts = gpu.zeros("conv2d dW partials", &[groups * out * kdim])?;
        let c = Mat::new(&parts, out, kdim);
        let epi = Epilogue::default();
        matmul::record_variant(prog, gpu, &a, &b, &c, groups, epi, self.variant)?;
        let k = gpu.kernel(&shader!("conv2d"), "sum_parts", &[])?;
        let p = Params {
            len: u(out * kdim),
            parts: u(groups),
            accumulate: u32::from(accumulate),
            ..Default::default()
        };
        let t = bindings(gpu, &[(PARTS, &parts), (DW, dw)]);
        prog.dispatch(gpu, &k, &p, &t, grid_1d(gpu, out * kdim, 1))
    }
}

/// How many batch groups the weight gradient is split into: enough for ~64 output tiles
/// of 32×32, a divisor of the batch, with partials of at most 16 Mi elements.
fn weight_grad_groups(s: &ConvShape) -> usize {
    let len = s.out_channels * s.patch_len();
    let tiles = s.out_channels.div_ceil(32) * s.patch_len().div_ceil(32);
    let want = 64usize.div_ceil(tiles).min((16 << 20) / len).max(1);
    (1..=want.min(s.batch))
        .rev()
        .find(|&g| s.batch.is_multiple_of(g))
        .unwrap_or(1)
}
