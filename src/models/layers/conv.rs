//! The 2-D convolution layer (NCHW, weight `[out, in, k, k]`), optionally with bias and
//! ReLU: the batch split into chunks whose im2col scratch fits the adapter's binding
//! limit, and the scratch shared by all convolutions when giving each its own is too large.

use rand_chacha::ChaCha8Rng;

use super::{standard_normal, uniform, Along, Backward, Forward, LayerKind};
use crate::gpu::{Gpu, GpuError, ParamLayout, Program, Tensor};
use crate::models::runtime::{NodeRt, RuntimeBuilder};
use crate::models::{Conv, Layer, Net};
use crate::ops::conv::{Conv2d, ConvGrads, ConvShape};

/// 2-D convolution (NCHW, weight `[out, in, k, k]`), optionally with bias and ReLU.
#[derive(Clone, Debug)]
pub struct Convolution {
    /// Channels, kernel, stride, padding and input size.
    pub geom: Conv,
    /// Whether a ReLU follows the convolution (and bias).
    pub relu: bool,
    /// Parameter slot of the weight, `[out, in, k, k]`.
    pub weight: usize,
    /// Parameter slot of the bias, `[out]`, if the layer has one (ResNet's convolutions have
    /// none).
    pub bias: Option<usize>,
}

fn conv_rt(rt: &NodeRt) -> &ConvRt {
    match rt {
        NodeRt::Conv(conv) => conv,
        _ => unreachable!("conv runtime"),
    }
}

impl LayerKind for Convolution {
    fn output_size(&self) -> usize {
        let g = &self.geom;
        g.out_c * g.out_h() * g.out_w()
    }

    fn fused_relu(&self) -> bool {
        self.relu
    }

    fn take_relu(&mut self) -> bool {
        std::mem::replace(&mut self.relu, false)
    }

    /// With a bias (LeNet) PyTorch's default, weight and bias from
    /// U(−1/√fan_in, 1/√fan_in); without (ResNet) torchvision's N(0, 2/fan_out).
    fn init(&self, rng: &mut ChaCha8Rng, layout: &ParamLayout, values: &mut [Vec<f32>]) {
        let geom = &self.geom;
        let len = |slot: usize| layout.slots[slot].len();
        match self.bias {
            Some(bias) => {
                let bound = 1.0 / ((geom.in_c * geom.kernel * geom.kernel) as f64).sqrt();
                for slot in [self.weight, bias] {
                    values[slot] = uniform(rng, len(slot), bound);
                }
            }
            None => {
                let std = (2.0 / (geom.out_c * geom.kernel * geom.kernel) as f64).sqrt();
                values[self.weight] = (0..len(self.weight))
                    .map(|_| (std * standard_normal(rng)) as f32)
                    .collect();
            }
        }
    }

    fn runtime(&self, rt: &mut RuntimeBuilder, _n: usize) -> Result<NodeRt, GpuError> {
        let geom = &self.geom;
        let in_size = geom.in_c * geom.in_h * geom.in_w;
        let conv = rt.convs.next_runtime(rt.gpu, in_size, self.output_size())?;
        Ok(NodeRt::Conv(conv))
    }

    /// One convolution per probe, each with its own weights.
    fn forward(&self, prog: &mut Program, f: &Forward) -> Result<(), GpuError> {
        let conv = conv_rt(f.rt);
        for p in 0..f.probes() {
            let b = self.bias.map(|b| f.param(p, b));
            let yv = f.y(p);
            let w = f.param(p, self.weight);
            conv.forward(
                prog,
                f.rec.gpu,
                &f.x(p),
                &w,
                b.as_ref(),
                &yv,
                self.relu,
                false,
            )?;
        }
        Ok(())
    }

    fn forward_along(&self, prog: &mut Program, a: &Along) -> Result<(), GpuError> {
        let conv = conv_rt(a.rt);
        let b = self.bias.map(|b| a.param(b));
        // The scratch may still hold this input's patches: from the training forward
        // (the first layer's backward asks for no dX), or from the z_w pass before.
        conv.forward(
            prog,
            a.gpu,
            a.input,
            &a.param(self.weight),
            b.as_ref(),
            a.out,
            false,
            true,
        )
    }

    fn backward(&self, prog: &mut Program, b: &Backward) -> Result<(), GpuError> {
        let conv = conv_rt(b.rt);
        let params = b.params;
        let flat = |t: Tensor| t.reshape(&[t.len()]);
        let (w, gw) = (
            flat(params.value(self.weight)),
            flat(params.grad(self.weight)),
        );
        let gb = self.bias.map(|slot| params.grad(slot));
        conv.backward(prog, b.gpu, b.x, &w, b.dz, &gw, gb.as_ref(), b.dx())
    }
}

/// A convolution layer's GPU objects: the batch in chunks whose scratch fits the
/// adapter's binding limit, each chunk a [`Conv2d`] on its slice of the batch.
pub(crate) struct ConvRt {
    /// (first image, convolution over the chunk's images).
    chunks: Vec<(usize, Conv2d)>,
    /// Whether the scratch is this layer's alone, so that its patches survive until the
    /// backward pass.
    own_scratch: bool,
    in_size: usize,
    out_size: usize,
}

impl ConvRt {
    fn keeps_patches(&self, gpu: &Gpu) -> bool {
        self.own_scratch && self.chunks.len() == 1 && self.chunks[0].1.keeps_patches(gpu)
    }

    /// `y = conv(x)` over the whole batch, chunk by chunk; `patches_ready`: the scratch
    /// already holds x's patches when the layer keeps them.
    #[allow(clippy::too_many_arguments)]
    fn forward(
        &self,
        prog: &mut Program,
        gpu: &Gpu,
        x: &Tensor,
        w: &Tensor,
        b: Option<&Tensor>,
        y: &Tensor,
        relu: bool,
        patches_ready: bool,
    ) -> Result<(), GpuError> {
        if patches_ready && self.keeps_patches(gpu) {
            let conv = &self.chunks[0].1;
            return conv.forward_from_patches(prog, gpu, w, b, y, relu);
        }
        for (first, conv) in &self.chunks {
            let images = conv.shape.batch;
            let xv = x.view(first * self.in_size, &[images * self.in_size]);
            let yv = y.view(first * self.out_size, &[images * self.out_size]);
            conv.forward(prog, gpu, &xv, w, b, &yv, relu)?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn backward(
        &self,
        prog: &mut Program,
        gpu: &Gpu,
        x: &Tensor,
        w: &Tensor,
        dz: &Tensor,
        dw: &Tensor,
        db: Option<&Tensor>,
        dx: Option<(&Tensor, bool)>,
    ) -> Result<(), GpuError> {
        for (i, (first, conv)) in self.chunks.iter().enumerate() {
            let images = conv.shape.batch;
            let xv = x.view(first * self.in_size, &[images * self.in_size]);
            let dzv = dz.view(first * self.out_size, &[images * self.out_size]);
            let dxv =
                dx.map(|(d, acc)| (d.view(first * self.in_size, &[images * self.in_size]), acc));
            let later = i > 0;
            let grads = ConvGrads {
                dx: dxv.as_ref().map(|(d, acc)| (d, *acc)),
                dw: Some((dw, later)),
                dbias: db.map(|b| (b, later)),
            };
            let x = (!self.keeps_patches(gpu)).then_some(&xv);
            conv.backward(prog, gpu, x, w, &dzv, grads)?;
        }
        Ok(())
    }
}

/// Scratch below this many bytes in all is given to each convolution on its own, so that
/// patches need not be rebuilt for the backward pass; above, all layers share one.
const OWN_SCRATCH_BYTES: usize = 256 << 20;

/// The convolutions' batch chunks and scratch, decided for all of a net's convolutions
/// at once (the chunking decides how the scratch is shared), handed out in node order.
pub(crate) struct ConvScratch {
    chunkings: std::vec::IntoIter<Vec<(usize, ConvShape)>>,
    /// Whether each convolution gets scratch of its own.
    own: bool,
    /// (patches, rows) shared by all convolutions, when they share.
    shared: Option<(Tensor, Tensor)>,
}

/// One chunk's scratch lengths: (patches, rows); all chunks but the last are as large.
fn scratch_len(chunks: &[(usize, ConvShape)]) -> (usize, usize) {
    let s = &chunks[0].1;
    (s.col_len(), s.rows_len())
}

impl ConvScratch {
    pub fn plan(gpu: &Gpu, net: &Net, batch: usize) -> Result<ConvScratch, GpuError> {
        let mut chunkings = Vec::new();
        for node in &net.nodes {
            if let Layer::Conv2d(Convolution { geom, .. }) = &node.layer {
                chunkings.push(conv_chunking(gpu, geom, batch)?);
            }
        }
        let total: usize = chunkings
            .iter()
            .map(|c| {
                let (a, b) = scratch_len(c);
                4 * (a + b)
            })
            .sum();
        let own = total <= OWN_SCRATCH_BYTES.min(scratch_cap());
        let shared = if own || chunkings.is_empty() {
            None
        } else {
            let col = chunkings
                .iter()
                .map(|c| scratch_len(c).0)
                .max()
                .unwrap_or(0);
            let rows = chunkings
                .iter()
                .map(|c| scratch_len(c).1)
                .max()
                .unwrap_or(0);
            Some((
                gpu.zeros("conv2d shared patches", &[col])?,
                gpu.zeros("conv2d shared rows", &[rows])?,
            ))
        };
        Ok(ConvScratch {
            chunkings: chunkings.into_iter(),
            own,
            shared,
        })
    }

    /// The next convolution's runtime, with its own scratch or the shared one.
    fn next_runtime(
        &mut self,
        gpu: &Gpu,
        in_size: usize,
        out_size: usize,
    ) -> Result<ConvRt, GpuError> {
        let chunks = self.chunkings.next().expect("one per convolution");
        let (col, rows) = match &self.shared {
            Some((c, r)) => (c.clone(), r.clone()),
            None => {
                let (c, r) = scratch_len(&chunks);
                (
                    gpu.zeros("conv2d patches", &[c])?,
                    gpu.zeros("conv2d rows", &[r])?,
                )
            }
        };
        let chunks = chunks
            .into_iter()
            .map(|(first, shape)| {
                Ok((
                    first,
                    Conv2d::with_scratch(gpu, shape, col.clone(), rows.clone())?,
                ))
            })
            .collect::<Result<Vec<_>, GpuError>>()?;
        Ok(ConvRt {
            chunks,
            own_scratch: self.own,
            in_size,
            out_size,
        })
    }
}

/// `ETAPROBE_CONV_SCRATCH_BYTES`: a cap on one convolution chunk's scratch below the
/// binding limit, which also makes all layers share one scratch; it saves memory, and lets
/// the tests exercise the chunking on any adapter.
fn scratch_cap() -> usize {
    std::env::var("ETAPROBE_CONV_SCRATCH_BYTES")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(usize::MAX)
}

/// Splits a convolution's batch into chunks whose scratch fits one storage binding: the
/// largest chunk size that fits and keeps the chunks' slices on bindable offsets, then
/// the remainder. Fails when not even one image fits.
fn conv_chunking(
    gpu: &Gpu,
    geom: &Conv,
    batch: usize,
) -> Result<Vec<(usize, ConvShape)>, GpuError> {
    let shape = |images: usize| ConvShape {
        batch: images,
        in_channels: geom.in_c,
        height: geom.in_h,
        width: geom.in_w,
        out_channels: geom.out_c,
        kernel_h: geom.kernel,
        kernel_w: geom.kernel,
        stride: geom.stride,
        padding: geom.pad,
    };
    let limit = (gpu.limits.max_storage_buffer_binding_size as usize).min(scratch_cap());
    // The matmuls may pack a scratch matrix transposed, its short side padded to 64.
    let fits = |images: usize| {
        let s = shape(images);
        let rows = s.patch_rows().max(s.out_channels).div_ceil(64) * 64;
        4 * rows * s.col_stride() <= limit
    };
    let in_size = geom.in_c * geom.in_h * geom.in_w;
    let out_size = geom.out_c * geom.out_h() * geom.out_w();
    let aligned = |images: usize| {
        (images * in_size).is_multiple_of(64) && (images * out_size).is_multiple_of(64)
    };
    let per_chunk = if fits(batch) {
        batch
    } else {
        match (1..batch).rev().find(|&b| fits(b) && aligned(b)) {
            Some(b) => b,
            None => {
                let s = shape(1);
                gpu.check_binding_size(
                    "conv2d im2col scratch of one image",
                    4 * s.col_len() as u64,
                )?;
                return Err(GpuError::Shader(format!(
                    "conv2d {s:?}: no batch chunk both fits the adapter's binding limit and \
                     starts on a bindable offset; use a smaller --batch-size"
                )));
            }
        }
    };
    let mut chunks = Vec::new();
    let mut first = 0;
    while first < batch {
        let images = per_chunk.min(batch - first);
        let s = shape(images);
        s.validate(gpu)?;
        chunks.push((first, s));
        first += images;
    }
    Ok(chunks)
}
