//! The im2col path of [`Conv2d`] (`shaders/conv/im2col.wgsl`): the patches written to the
//! scratch, the products by the batched matmul, and the passes around them.

use super::{direct5x5_grad, Conv2d, ConvShape, ForwardPath};
use crate::gpu::{Gpu, GpuError, Program, Shader, Tensor};
use crate::ops::matmul::{self, Epilogue, Mat};
use crate::ops::{bind, grid_1d, u, QUADS};
use crate::shader;

pub(crate) const SHADER: Shader = shader!("conv/im2col");

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
    /// Elements per partial for `sum_parts`; batch·height·width for `col2im`, column quads
    /// (batch·out_h·out_w/4) for `col2im_1x1_s2`; Kp/4 for
    /// `transpose`; out·Kp for `pad_weights`; column quads per chunk for
    /// `weight_grad_nt`.
    len: u32,
    parts: u32,
    accumulate: u32,
    has_bias: u32,
    relu: u32,
    pad_: u32,
}

/// Binding slots (binding − 1) of `shaders/conv/im2col.wgsl`.
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

/// [`bind`] for this shader's slots.
fn bindings<'a>(gpu: &'a Gpu, used: &[(usize, &'a Tensor)]) -> [&'a Tensor; SLOTS] {
    bind(gpu, used)
}

impl Conv2d {
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

    /// Whether the forward runs as one product over the batch.
    pub fn folded_forward(&self, gpu: &Gpu) -> bool {
        match self.forward_path {
            ForwardPath::PerImage => false,
            ForwardPath::Folded => true,
            ForwardPath::Auto => {
                if !self.subgroup_matmul(gpu) {
                    return false;
                }
                let s = &self.shape;
                let (out, pixels, cols) = (s.out_channels, s.pixels(), s.batch * s.pixels());
                // Packing an operand copies it; the patches (whole vec4s of rows) are read
                // in place when the product keeps them as its row-major B (per image it
                // must be computed transposed, with the weights as A, and each image's
                // columns must start on a vec4).
                let per_image_packs =
                    !matmul::subgroup_transposes(pixels, out) || !pixels.is_multiple_of(4);
                let folded_packs = matmul::subgroup_transposes(out, cols);
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
        // Stride 1 with rows of whole vec4s and taps at most 4 pixels to either side:
        // the vec4 path (im2col_s1).
        let vec4_rows = s.stride == 1
            && s.width.is_multiple_of(4)
            && s.out_width().is_multiple_of(4)
            && s.out_width() <= s.width
            && s.padding <= 4
            && s.kernel_w <= s.padding + 5;
        let entry = if vec4_rows {
            "im2col_s1"
        } else {
            "im2col_channel"
        };
        let k = gpu.kernel(&SHADER, entry, &[])?;
        let t = bindings(gpu, &[(X, x), (X4, x), (COL4, &self.col)]);
        let groups = grid_1d(gpu, s.col_stride() / 4, s.in_channels);
        prog.dispatch(gpu, &k, &self.params(), &t, groups)
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
        let (kdim, pixels, out) = (s.patch_rows(), s.pixels(), s.out_channels);
        let w = &self.padded_weights(prog, gpu, w)?;
        if self.folded_forward(gpu) {
            let col = self.scratch_mat(&self.col, kdim);
            let prod = self.scratch_mat(&self.rows, out);
            let wm = Mat::new(w, out, kdim);
            let epi = Epilogue::default();
            matmul::record_variant(prog, gpu, &wm, &col, &prod, 1, epi, self.variant)?;
            let vec4 = s.pixels().is_multiple_of(4);
            let entry = if vec4 { "unfold4" } else { "unfold" };
            let k = gpu.kernel(&SHADER, entry, &[])?;
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

    /// The weights as the products read them: `w` when K is whole vec4s, else `w` copied
    /// as `[out, Kp]` with zero columns past K, paired with the patches' zero rows, so that
    /// neither operand is packed (a copy of the patches, as large as the patches).
    pub(super) fn padded_weights(
        &self,
        prog: &mut Program,
        gpu: &Gpu,
        w: &Tensor,
    ) -> Result<Tensor, GpuError> {
        let s = &self.shape;
        if s.patch_rows() == s.patch_len() {
            return Ok(w.clone());
        }
        let len = s.out_channels * s.patch_rows();
        let padded = gpu.scratch("conv2d padded weights", len)?;
        let k = gpu.kernel(&SHADER, "pad_weights", &[])?;
        let p = Params {
            len: u(len),
            ..self.params()
        };
        let t = bindings(gpu, &[(X, w), (Y, &padded)]);
        prog.dispatch(gpu, &k, &p, &t, grid_1d(gpu, len, 1))?;
        Ok(padded)
    }

    /// Records dY re-laid as `[out, batch·pixels]` in `rows`, like the patches.
    pub(super) fn fold(&self, prog: &mut Program, gpu: &Gpu, dy: &Tensor) -> Result<(), GpuError> {
        let out = self.shape.out_channels;
        let vec4 = self.shape.pixels().is_multiple_of(4);
        let k = gpu.kernel(&SHADER, if vec4 { "fold4" } else { "fold" }, &[])?;
        let t = bindings(gpu, &[(DY, dy), (DY4, dy), (ROWS4, &self.rows)]);
        let groups = self.column_grid(gpu, out, vec4);
        prog.dispatch(gpu, &k, &self.params(), &t, groups)
    }

    /// The bias gradient from dY [folded](Conv2d::fold) into `rows`.
    pub(super) fn bias_grad(
        &self,
        prog: &mut Program,
        gpu: &Gpu,
        dbias: &Tensor,
        accumulate: bool,
    ) -> Result<(), GpuError> {
        let out = self.shape.out_channels;
        assert_eq!(dbias.len(), out, "conv2d bias gradient size");
        let k = gpu.kernel(&SHADER, "bias_grad", &[])?;
        let p = Params {
            accumulate: u32::from(accumulate),
            ..self.params()
        };
        let t = bindings(gpu, &[(ROWS4_IN, &self.rows), (DBIAS, dbias)]);
        prog.dispatch(gpu, &k, &p, &t, [u(out), 1, 1])
    }

    /// dX as the convolution `transposed` ([`Conv2d::input_grad_shape`]) of dY with the
    /// weights flipped into `flipped`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn input_grad_by_convolution(
        &self,
        prog: &mut Program,
        gpu: &Gpu,
        transposed: &Conv2d,
        w: &Tensor,
        flipped: &Tensor,
        dy: &Tensor,
        dx: &Tensor,
        accumulate: bool,
    ) -> Result<(), GpuError> {
        let s = &self.shape;
        let k = gpu.kernel(&SHADER, "flip_weights", &[])?;
        let p = Params {
            len: u(s.weight_len()),
            ..self.params()
        };
        let t = bindings(gpu, &[(X, w), (Y, flipped)]);
        prog.dispatch(gpu, &k, &p, &t, grid_1d(gpu, s.weight_len(), 1))?;
        transposed.im2col(prog, gpu, dy)?;
        transposed.product(prog, gpu, flipped, None, dx, false, accumulate)
    }

    /// dX by `dcol = Wᵀ · dY` over the whole batch at once, into the patches' scratch,
    /// then col2im; dY is [folded](Conv2d::fold) into `rows`.
    pub(super) fn input_grad_by_patches(
        &self,
        prog: &mut Program,
        gpu: &Gpu,
        w: &Tensor,
        dx: &Tensor,
        accumulate: bool,
    ) -> Result<(), GpuError> {
        let s = &self.shape;
        let (kdim, out) = (s.patch_len(), s.out_channels);
        let wt = Mat::new(w, out, kdim).transposed();
        let dyt = self.scratch_mat(&self.rows, out);
        let dcol = self.scratch_mat(&self.col, kdim);
        let epi = Epilogue::default();
        matmul::record_variant(prog, gpu, &wt, &dyt, &dcol, 1, epi, self.variant)?;
        if s.strided_1x1_by_quads() {
            let k = gpu.kernel(&SHADER, "col2im_1x1_s2", &[])?;
            let quads = s.batch * s.pixels() / 4;
            let p = Params {
                len: u(quads),
                accumulate: u32::from(accumulate),
                ..self.params()
            };
            let t = bindings(gpu, &[(COL4, &self.col), (Y4, dx)]);
            return prog.dispatch(gpu, &k, &p, &t, grid_1d(gpu, quads, s.in_channels));
        }
        let k = gpu.kernel(&SHADER, "col2im", &[])?;
        let per_channel = s.batch * s.height * s.width;
        let p = Params {
            len: u(per_channel),
            accumulate: u32::from(accumulate),
            ..self.params()
        };
        let t = bindings(gpu, &[(DCOL, &self.col), (DX, dx)]);
        let groups = grid_1d(gpu, per_channel, s.in_channels);
        prog.dispatch(gpu, &k, &p, &t, groups)
    }

    /// The weight gradient from the patches of `x` (or those in the scratch when `x` is
    /// `None`) and dY folded into `rows`.
    pub(super) fn weight_grad_by_patches(
        &self,
        prog: &mut Program,
        gpu: &Gpu,
        x: Option<&Tensor>,
        dw: &Tensor,
        accumulate: bool,
    ) -> Result<(), GpuError> {
        let s = &self.shape;
        let kp = s.patch_rows();
        match x {
            Some(x) => self.im2col(prog, gpu, x)?,
            None => assert!(
                self.keeps_patches(gpu),
                "conv2d {s:?}: the forward wrote no patches, the weight gradient needs x"
            ),
        }
        if self.subgroup_matmul(gpu) && s.out_channels <= 16 {
            return self.weight_grad_nt(prog, gpu, dw, accumulate);
        }
        let transposed = if self.transposed_patches(gpu) {
            let t = gpu.scratch("conv2d transposed patches", s.col_len())?;
            let k = gpu.kernel(&SHADER, "transpose", &[])?;
            let p = Params {
                len: u(kp / 4),
                ..self.params()
            };
            let blocks = kp.div_ceil(16);
            let b = bindings(gpu, &[(ROWS4_IN, &self.col), (ROWS4, &t)]);
            prog.dispatch(gpu, &k, &p, &b, grid_1d(gpu, s.col_stride() / 4, blocks))?;
            Some(t)
        } else {
            None
        };
        self.weight_grad(prog, gpu, dw, accumulate, transposed.as_ref())
    }

    /// `dW (+)= dY · colᵀ` by `weight_grad_nt`, which reads the patches and dY folded into
    /// `rows` both along the columns, in chunks whose partial sums `sum_parts` adds in
    /// order: for at most 16 output channels (LeNet's) on 8-lane subgroups, where the
    /// matmul would transpose the patches first and pad the 6 or 16 channels to its tiles.
    fn weight_grad_nt(
        &self,
        prog: &mut Program,
        gpu: &Gpu,
        dw: &Tensor,
        accumulate: bool,
    ) -> Result<(), GpuError> {
        let s = &self.shape;
        let (chunk, chunks, parts) = self.nt_partials(gpu)?;
        let k = gpu.kernel(&SHADER, "weight_grad_nt", &[])?;
        let p = Params {
            len: u(chunk),
            ..self.params()
        };
        let t = bindings(
            gpu,
            &[(ROWS4_IN, &self.col), (DY4, &self.rows), (DW, &parts)],
        );
        let groups = [
            chunks,
            s.patch_rows().div_ceil(32),
            s.out_channels.div_ceil(16),
        ]
        .map(u);
        prog.dispatch(gpu, &k, &p, &t, groups)?;
        sum_parts(prog, gpu, &parts, chunks, dw, accumulate)
    }

    /// How `weight_grad_nt` splits the column quads, and a scratch for the chunks'
    /// partial dW: (quads per chunk, chunks, partials).
    fn nt_partials(&self, gpu: &Gpu) -> Result<(usize, usize, Tensor), GpuError> {
        let s = &self.shape;
        let quads = s.col_stride() / 4;
        let max_groups = gpu.limits.max_compute_workgroups_per_dimension as usize;
        let chunk = NT_CHUNK_QUADS.max(quads.div_ceil(max_groups));
        let chunks = quads.div_ceil(chunk);
        let len = chunks * s.out_channels * s.patch_len();
        Ok((chunk, chunks, gpu.scratch("conv2d dW partials", len)?))
    }

    /// `dW (+)= dY · colᵀ` for [`direct5x5`]'s shapes without the patches:
    /// [`direct5x5_grad`] reads `x` as the forward does and sums in `weight_grad_nt`'s
    /// chunks and order, and `sum_parts` adds the chunks, so that dW has the bits of
    /// [`Conv2d::weight_grad_by_patches`]. dY is [folded](Conv2d::fold) into `rows`.
    pub(super) fn weight_grad_direct5x5(
        &self,
        prog: &mut Program,
        gpu: &Gpu,
        x: &Tensor,
        dw: &Tensor,
        accumulate: bool,
    ) -> Result<(), GpuError> {
        let s = &self.shape;
        let (chunk, chunks, parts) = self.nt_partials(gpu)?;
        direct5x5_grad::record_parts(prog, gpu, s, x, &self.rows, &parts, chunk, chunks)?;
        sum_parts(prog, gpu, &parts, chunks, dw, accumulate)
    }

    /// Whether the weight gradient transposes the patches to `[col_stride, Kp]` rows, so
    /// that its product reads them in place: unless the subgroup kernel flips the
    /// product's orientation (it would pack them again).
    fn transposed_patches(&self, gpu: &Gpu) -> bool {
        let (kdim, out) = (self.shape.patch_len(), self.shape.out_channels);
        !(self.subgroup_matmul(gpu) && matmul::subgroup_transposes(out, kdim))
    }

    /// `dW (+)= dY · colᵀ`, contracting over batch and pixels; `transposed`: the patches
    /// as `[col_stride, Kp]` rows, to read instead of `col`. When that product has few
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
            let kp = s.patch_rows();
            Mat {
                rs: kp,
                bs: per_group * kp,
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
        sum_parts(prog, gpu, &parts, groups, dw, accumulate)
    }
}

/// Records `dw (+)= Σ_g parts[g]` over the `count` partial weight gradients in `parts`
/// (each as long as `dw`), added in order of g so the result is deterministic.
fn sum_parts(
    prog: &mut Program,
    gpu: &Gpu,
    parts: &Tensor,
    count: usize,
    dw: &Tensor,
    accumulate: bool,
) -> Result<(), GpuError> {
    let k = gpu.kernel(&SHADER, "sum_parts", &[])?;
    let p = Params {
        len: u(dw.len()),
        parts: u(count),
        accumulate: u32::from(accumulate),
        ..Default::default()
    };
    let t = bindings(gpu, &[(PARTS, parts), (DW, dw)]);
    prog.dispatch(gpu, &k, &p, &t, grid_1d(gpu, dw.len(), 1))
}

/// Column quads per chunk of `weight_grad_nt`: about 50 chunks for LeNet's first
/// convolution at batch 64, enough workgroups for every thread.
const NT_CHUNK_QUADS: usize = 256;

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
