//! Convolutions: every forward path and matmul kernel against the f64 reference, every
//! backward against finite differences (overwriting and accumulating, with the ReLU
//! mid-graph, layers sharing one scratch), impossible shapes, and a timing of LeNet's
//! convolutions.

use std::time::Instant;

use super::{read, upload};
use crate::common::{assert_close, f32s, fd, gpu, random, rng, tol};
use crate::reference as cpu;
use etaprobe::gpu::{Gpu, GpuError, Program};
use etaprobe::ops::conv::{
    direct3x3, direct5x5, direct5x5_grad, direct5x5_input_grad, Conv2d, ConvGrads, ConvShape,
    ForwardPath,
};
use etaprobe::ops::matmul::{self, Variant};
use etaprobe::ops::maxpool::{self, PoolShape};
use etaprobe::ops::relu;

/// [batch, in, height, width, out, kh, kw, stride, padding]
type Geometry = [usize; 9];

pub(crate) fn conv_shape(g: Geometry) -> ConvShape {
    let [batch, in_channels, height, width, out_channels, kernel_h, kernel_w, stride, padding] = g;
    ConvShape {
        batch,
        in_channels,
        height,
        width,
        out_channels,
        kernel_h,
        kernel_w,
        stride,
        padding,
    }
}

/// The matmul kernels this adapter can run.
fn variants(gpu: &Gpu) -> Vec<Variant> {
    if matmul::uses_subgroup_kernel(gpu) {
        vec![Variant::Subgroup8, Variant::Tiled]
    } else {
        vec![Variant::Tiled]
    }
}

/// Every (matmul kernel, forward path) this adapter can run on `s`: the direct 3×3 or 5×5
/// kernel where it applies, im2col per image and folded.
fn paths(gpu: &Gpu, s: &ConvShape) -> Vec<(Variant, ForwardPath)> {
    let mut all = Vec::new();
    for v in variants(gpu) {
        if v == Variant::Subgroup8 && (direct3x3::applies(gpu, s) || direct5x5::applies(gpu, s)) {
            all.push((v, ForwardPath::Auto));
        }
        all.extend([(v, ForwardPath::PerImage), (v, ForwardPath::Folded)]);
    }
    all
}

/// A convolution pinned to `path`, checked to take it: these tests give `Auto` only where a
/// direct kernel applies, so that it means the direct path.
fn conv_on(gpu: &Gpu, s: ConvShape, variant: Variant, path: ForwardPath) -> Conv2d {
    let mut conv = Conv2d::new(gpu, s).unwrap();
    conv.variant = variant;
    conv.forward_path = path;
    let direct = path == ForwardPath::Auto;
    assert_eq!(conv.reads_input_directly(gpu), direct, "{s:?} {path:?}");
    conv
}

#[test]
fn conv2d_forward_matches_reference() {
    let gpu = gpu();
    let geometries: &[Geometry] = &[
        [1, 1, 5, 5, 1, 3, 3, 1, 0],
        [3, 3, 7, 9, 4, 3, 3, 2, 1],
        [2, 3, 32, 32, 6, 5, 5, 1, 0],
        [3, 6, 14, 14, 16, 5, 5, 1, 0],
        [1, 1, 28, 28, 6, 5, 5, 1, 2],
        [3, 5, 9, 7, 7, 1, 1, 2, 0],
        [2, 4, 8, 8, 5, 3, 3, 1, 1],
        [1, 2, 6, 11, 3, 2, 4, 3, 2],
        [3, 16, 8, 8, 33, 3, 3, 2, 1],
        [2, 40, 5, 5, 70, 3, 3, 1, 1],
        // Stride 1, rows of whole vec4s: the vec4 im2col, shifts of up to 4 either way.
        [2, 2, 8, 8, 3, 7, 7, 1, 3],
        [3, 3, 4, 12, 2, 3, 5, 1, 2],
        [2, 2, 8, 8, 3, 9, 9, 1, 4],
        // 3×3, stride 1, padding 1, rows of 4 to 32 pixels: conv3x3 reads x directly, in
        // 16- and 32-channel tiles, with images narrower and wider than a subgroup's row.
        [2, 3, 4, 4, 5, 3, 3, 1, 1],
        [3, 5, 8, 8, 20, 3, 3, 1, 1],
        [1, 2, 6, 16, 17, 3, 3, 1, 1],
        [2, 3, 5, 32, 16, 3, 3, 1, 1],
        // 3×3, stride 2, padding 1 on even sides: conv3x3 with stride-2 windows, output
        // rows of 4 to 32 pixels (above, [3, 16, 8, 8, 33, ..] takes it too; [3, 3, 7, 9,
        // ..] does not: odd sides).
        [2, 3, 8, 8, 5, 3, 3, 2, 1],
        [2, 4, 16, 16, 20, 3, 3, 2, 1],
        [1, 3, 6, 64, 17, 3, 3, 2, 1],
        [3, 2, 4, 32, 3, 3, 3, 2, 1],
    ];
    let mut g = rng(101);
    for &geo in geometries {
        let s = conv_shape(geo);
        let x = random(&mut g, s.input_len(), 1.0);
        let w = random(&mut g, s.weight_len(), 0.5);
        let b = random(&mut g, s.out_channels, 0.5);
        let (want, shape) = cpu::conv2d(
            &x,
            s.input_shape(),
            &w,
            s.weight_shape(),
            Some(&b),
            s.stride,
            s.padding,
        );
        assert_eq!(shape, s.output_shape());
        let (want_nobias, _) = cpu::conv2d(
            &x,
            s.input_shape(),
            &w,
            s.weight_shape(),
            None,
            s.stride,
            s.padding,
        );
        let want_relu = cpu::relu(&want);
        let (xt, wt, bt) = (
            upload(gpu, "x", &x),
            upload(gpu, "w", &w),
            upload(gpu, "b", &b),
        );
        for (variant, path) in paths(gpu, &s) {
            let conv = conv_on(gpu, s, variant, path);
            let y = gpu.zeros("y", &[s.output_len()]).unwrap();
            let y_relu = gpu.zeros("y relu", &[s.output_len()]).unwrap();
            let y_nobias = gpu.zeros("y no bias", &[s.output_len()]).unwrap();
            let mut prog = Program::new();
            conv.forward(&mut prog, gpu, &xt, &wt, Some(&bt), &y, false)
                .unwrap();
            conv.forward(&mut prog, gpu, &xt, &wt, Some(&bt), &y_relu, true)
                .unwrap();
            conv.forward(&mut prog, gpu, &xt, &wt, None, &y_nobias, false)
                .unwrap();
            prog.run(gpu).unwrap();
            // Each output sums a patch of in·kh·kw f32 products.
            let within = tol::Tol {
                abs: 2e-6 * s.patch_len() as f64,
                rel: 1e-5,
            };
            let what = format!("{variant:?} {path:?} {s:?}");
            assert_close(&read(gpu, &y), &want, within, &what);
            assert_close(&read(gpu, &y_relu), &want_relu, within, &what);
            assert_close(&read(gpu, &y_nobias), &want_nobias, within, &what);
        }
    }
}

/// The shapes the direct 5×5 kernels must take, checked to: LeNet's CIFAR-10 and
/// Fashion-MNIST first convolutions (3 channels unpadded, 1 with padding 2) with batches
/// that leave the last tile part empty and chunks of the weight gradient ending inside an
/// image (588 and 392 column quads), one image with 8 outputs, and a small padded one.
fn lenet_first_shapes(gpu: &Gpu) -> Vec<ConvShape> {
    direct5x5_shapes(
        gpu,
        &[
            [3, 3, 32, 32, 6, 5, 5, 1, 0],
            [2, 1, 28, 28, 6, 5, 5, 1, 2],
            [1, 3, 32, 32, 8, 5, 5, 1, 0],
            [2, 1, 12, 8, 3, 5, 5, 1, 2],
        ],
    )
}

/// `geometries` as shapes, each checked to take the direct 5×5 forward.
fn direct5x5_shapes(gpu: &Gpu, geometries: &[Geometry]) -> Vec<ConvShape> {
    let shapes: Vec<ConvShape> = geometries.iter().copied().map(conv_shape).collect();
    for s in &shapes {
        assert!(direct5x5::applies(gpu, s), "{s:?}");
    }
    shapes
}

/// The shapes of LeNet's second convolution the direct forward must take, rows of 14
/// inputs and 10 outputs read as scalars: LeNet's (6 channels of 14×14, 16 outputs) with
/// an even and an odd batch, and 12 outputs of a 9×13 image, whose rows of 9 outputs end
/// with a quad three quarters past the row.
fn lenet_second_shapes(gpu: &Gpu) -> Vec<ConvShape> {
    direct5x5_shapes(
        gpu,
        &[
            [2, 6, 14, 14, 16, 5, 5, 1, 0],
            [3, 6, 14, 14, 16, 5, 5, 1, 0],
            [2, 6, 9, 13, 12, 5, 5, 1, 0],
        ],
    )
}

#[test]
fn lenet_convolutions_read_their_input_and_give_the_patches_bits() {
    // direct5x5 adds in the order of the patches' product (im2col, then mm_sg8 over K in
    // chunks of four): the held-out runs went on under it, so equal to the last bit, not
    // within a tolerance, on `lenet_first_shapes` and `lenet_second_shapes`; and other
    // shapes it must not take.
    let gpu = gpu();
    if !matmul::uses_subgroup_kernel(gpu) {
        return;
    }
    let mut g = rng(505);
    for s in lenet_first_shapes(gpu)
        .into_iter()
        .chain(lenet_second_shapes(gpu))
    {
        let x = random(&mut g, s.input_len(), 1.0);
        let w = random(&mut g, s.weight_len(), 0.5);
        let b = random(&mut g, s.out_channels, 0.5);
        let (xt, wt, bt) = (
            upload(gpu, "x", &x),
            upload(gpu, "w", &w),
            upload(gpu, "b", &b),
        );
        for (bias, relu) in [(true, false), (true, true), (false, false)] {
            let bias = bias.then_some(&bt);
            let mut out = Vec::new();
            for path in [
                ForwardPath::Auto,
                ForwardPath::PerImage,
                ForwardPath::Folded,
            ] {
                let conv = conv_on(gpu, s, Variant::Subgroup8, path);
                let y = gpu.zeros("y", &[s.output_len()]).unwrap();
                let mut prog = Program::new();
                conv.forward(&mut prog, gpu, &xt, &wt, bias, &y, relu)
                    .unwrap();
                prog.run(gpu).unwrap();
                out.push(read(gpu, &y));
            }
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&out[0]),
                bits(&out[1]),
                "{s:?} bias {} relu {relu}: per image",
                bias.is_some()
            );
            assert_eq!(
                bits(&out[0]),
                bits(&out[2]),
                "{s:?} bias {} relu {relu}: folded",
                bias.is_some()
            );
        }
    }
    // Other 5×5 shapes keep the patches.
    for geo in [
        [2, 6, 14, 14, 17, 5, 5, 1, 0],
        [2, 6, 14, 14, 16, 5, 5, 1, 2],
        [2, 3, 32, 32, 9, 5, 5, 1, 0],
        [2, 1, 28, 28, 6, 5, 5, 1, 0],
        [2, 3, 30, 30, 6, 5, 5, 1, 0],
    ] {
        assert!(!direct5x5::applies(gpu, &conv_shape(geo)), "{geo:?}");
    }
}

/// The shapes of LeNet's second convolution whose weight gradient reads the input as
/// scalars: LeNet's with 24 images (600 column quads: chunks of 256 end inside an image),
/// 6 × 6 outputs (quads cross a row end at every other quad), and 12 outputs of 8 × 8.
fn lenet_second_grad_shapes() -> Vec<ConvShape> {
    let geometries: [Geometry; 3] = [
        [24, 6, 14, 14, 16, 5, 5, 1, 0],
        [3, 6, 10, 10, 16, 5, 5, 1, 0],
        [2, 6, 12, 12, 12, 5, 5, 1, 0],
    ];
    geometries.map(conv_shape).to_vec()
}

#[test]
fn lenet_weight_gradients_read_their_input_and_give_the_patches_bits() {
    // direct5x5_grad sums over the column quads in weight_grad_nt's chunks and order, so
    // dW is the patches' path's to the last bit, on `lenet_first_shapes` (chunks of 256
    // quads that end inside an image, one chunk; a kernel row per lane in one and two
    // subgroups) and `lenet_second_grad_shapes`, overwriting and accumulating into a prior
    // gradient.
    let gpu = gpu();
    if !matmul::uses_subgroup_kernel(gpu) {
        return;
    }
    let mut g = rng(506);
    for s in lenet_first_shapes(gpu)
        .into_iter()
        .chain(lenet_second_grad_shapes())
    {
        assert!(direct5x5_grad::applies(gpu, &s), "{s:?}");
        let x = random(&mut g, s.input_len(), 1.0);
        let w = random(&mut g, s.weight_len(), 0.5);
        let dy = random(&mut g, s.output_len(), 1.0);
        let prior = random(&mut g, s.weight_len(), 1.0);
        let (xt, wt, dyt) = (
            upload(gpu, "x", &x),
            upload(gpu, "w", &w),
            upload(gpu, "dy", &dy),
        );
        let mut out = Vec::new();
        for path in [ForwardPath::Auto, ForwardPath::Folded] {
            let conv = conv_on(gpu, s, Variant::Subgroup8, path);
            let dw0 = gpu.zeros("dw", &[s.weight_len()]).unwrap();
            let dw1 = upload(gpu, "dw prior", &prior);
            let mut prog = Program::new();
            for (dw, accumulate) in [(&dw0, false), (&dw1, true)] {
                let grads = ConvGrads {
                    dw: Some((dw, accumulate)),
                    ..Default::default()
                };
                conv.backward(&mut prog, gpu, Some(&xt), &wt, &dyt, grads)
                    .unwrap();
            }
            prog.run(gpu).unwrap();
            out.push([read(gpu, &dw0), read(gpu, &dw1)]);
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for (i, what) in ["overwriting", "accumulating"].iter().enumerate() {
            assert_eq!(bits(&out[0][i]), bits(&out[1][i]), "{s:?} dW {what}");
        }
    }
}

#[test]
fn lenet_second_input_gradient_skips_dcol_and_gives_its_bits() {
    // direct5x5_input_grad forms each tap's dcol value as the subgroup matmul sums it and
    // adds the taps in col2im's order, so dX is the patches' path's to the last bit:
    // LeNet's shape, a batch whose last subgroup is half empty, a non-square one whose
    // last quad is three quarters outside the image, with zeros and negative zeros in dY
    // as the ReLU leaves them; dX alone and with the other gradients, overwriting and
    // accumulating.
    let gpu = gpu();
    if !matmul::uses_subgroup_kernel(gpu) {
        return;
    }
    let geometries: &[Geometry] = &[
        [2, 6, 14, 14, 16, 5, 5, 1, 0],
        [5, 6, 14, 14, 16, 5, 5, 1, 0],
        [3, 6, 9, 13, 16, 5, 5, 1, 0],
        [1, 6, 16, 16, 16, 5, 5, 1, 0],
    ];
    let mut g = rng(508);
    for &geo in geometries {
        let s = conv_shape(geo);
        assert!(direct5x5_input_grad::applies(gpu, &s), "{s:?}");
        let x = random(&mut g, s.input_len(), 1.0);
        let w = random(&mut g, s.weight_len(), 0.5);
        let mut dy = random(&mut g, s.output_len(), 1.0);
        // Zeros that fall on different pixels in neighbouring output channels (planes of
        // 45 to 144 values), so that most chunks of four channels sum four non-zero terms.
        for (i, v) in dy.iter_mut().enumerate() {
            if i % 11 == 0 {
                *v = 0.0;
            } else if i % 13 == 5 {
                *v = -0.0;
            }
        }
        let prior = random(&mut g, s.input_len(), 1.0);
        let (xt, wt, dyt) = (
            upload(gpu, "x", &x),
            upload(gpu, "w", &w),
            upload(gpu, "dy", &dy),
        );
        let mut out = Vec::new();
        for path in [ForwardPath::Auto, ForwardPath::Folded] {
            let conv = conv_on(gpu, s, Variant::Subgroup8, path);
            let dx0 = gpu.zeros("dx", &[s.input_len()]).unwrap();
            let dx1 = upload(gpu, "dx prior", &prior);
            let dx2 = gpu.zeros("dx with the others", &[s.input_len()]).unwrap();
            let dw = gpu.zeros("dw", &[s.weight_len()]).unwrap();
            let db = gpu.zeros("db", &[s.out_channels]).unwrap();
            let mut prog = Program::new();
            for (dx, accumulate) in [(&dx0, false), (&dx1, true)] {
                let grads = ConvGrads {
                    dx: Some((dx, accumulate)),
                    ..Default::default()
                };
                conv.backward(&mut prog, gpu, Some(&xt), &wt, &dyt, grads)
                    .unwrap();
            }
            let grads = ConvGrads {
                dx: Some((&dx2, false)),
                dw: Some((&dw, false)),
                dbias: Some((&db, false)),
            };
            conv.backward(&mut prog, gpu, Some(&xt), &wt, &dyt, grads)
                .unwrap();
            prog.run(gpu).unwrap();
            out.push([read(gpu, &dx0), read(gpu, &dx1), read(gpu, &dx2)]);
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for (i, what) in ["alone", "accumulating", "with dW and dbias"]
            .iter()
            .enumerate()
        {
            assert_eq!(bits(&out[0][i]), bits(&out[1][i]), "{s:?} dX {what}");
        }
        // And it is dX: against the f64 reference.
        let (xs, ws) = (s.input_shape(), s.weight_shape());
        let (want, _, _) = cpu::conv2d_backward(&x, xs, &w, ws, &dy, s.stride, s.padding);
        assert_close(&out[0][0], &want, tol::LONG_SUMS, &format!("{s:?} dX"));
    }
}

#[test]
fn conv2d_input_gradient_alone_by_dcol_folds_dy() {
    // dX by `dcol = Wᵀ·dY` reads dY folded into the layer's scratch, which the backward
    // wrote only for dW or dbias: dX asked for alone (a frozen layer) was computed from
    // whatever the scratch held. Alone, overwriting and accumulating, it must equal to the
    // bit the dX of a backward that asks for every gradient.
    let gpu = gpu();
    let geometries: &[Geometry] = &[[2, 6, 14, 14, 16, 5, 5, 1, 0], [3, 3, 7, 6, 4, 3, 3, 2, 1]];
    let mut g = rng(507);
    for &geo in geometries {
        let s = conv_shape(geo);
        let x = random(&mut g, s.input_len(), 1.0);
        let w = random(&mut g, s.weight_len(), 0.5);
        let dy = random(&mut g, s.output_len(), 1.0);
        let prior = random(&mut g, s.input_len(), 1.0);
        let (xt, wt, dyt) = (
            upload(gpu, "x", &x),
            upload(gpu, "w", &w),
            upload(gpu, "dy", &dy),
        );
        for variant in variants(gpu) {
            let conv = conv_on(gpu, s, variant, ForwardPath::Folded);
            let alone = gpu.zeros("dx alone", &[s.input_len()]).unwrap();
            let alone_acc = upload(gpu, "dx alone, accumulating", &prior);
            let (full, full_acc) = (
                gpu.zeros("dx", &[s.input_len()]).unwrap(),
                upload(gpu, "dx, accumulating", &prior),
            );
            let dw = gpu.zeros("dw", &[s.weight_len()]).unwrap();
            let db = gpu.zeros("db", &[s.out_channels]).unwrap();
            let mut prog = Program::new();
            for (dx, accumulate) in [(&alone, false), (&alone_acc, true)] {
                let grads = ConvGrads {
                    dx: Some((dx, accumulate)),
                    ..Default::default()
                };
                conv.backward(&mut prog, gpu, Some(&xt), &wt, &dyt, grads)
                    .unwrap();
            }
            for (dx, accumulate) in [(&full, false), (&full_acc, true)] {
                let grads = ConvGrads {
                    dx: Some((dx, accumulate)),
                    dw: Some((&dw, false)),
                    dbias: Some((&db, false)),
                };
                conv.backward(&mut prog, gpu, Some(&xt), &wt, &dyt, grads)
                    .unwrap();
            }
            prog.run(gpu).unwrap();
            let bits = |t| read(gpu, t).iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&alone), bits(&full), "{variant:?} {s:?} dX alone");
            assert_eq!(
                bits(&alone_acc),
                bits(&full_acc),
                "{variant:?} {s:?} accumulating"
            );
        }
    }
}

#[test]
fn conv2d_backward_matches_finite_differences() {
    let gpu = gpu();
    let geometries: &[Geometry] = &[
        [1, 1, 5, 5, 2, 3, 3, 1, 0],
        [3, 3, 7, 6, 4, 3, 3, 2, 1],
        [2, 2, 6, 5, 3, 5, 5, 1, 2],
        [3, 3, 5, 7, 5, 1, 1, 2, 0],
        [2, 3, 9, 8, 4, 2, 3, 3, 2],
        // The weight gradient: with at most 16 outputs on 8-lane subgroups, weight_grad_nt
        // (LeNet's 5×5 taps with the vec4 im2col, K = 75 and 25; 294 column quads in two
        // chunks), or on the direct path direct5x5_grad in the same chunks; else the patches transposed and read in place (zero rows past K up to
        // whole vec4s: 20 outputs over K = 75), unless the product is tall (40 outputs
        // over K = 4) and packs them. The tiled kernel transposes in every case.
        [2, 3, 8, 8, 4, 5, 5, 1, 0],
        [2, 1, 8, 8, 3, 5, 5, 1, 2],
        [6, 1, 16, 16, 3, 3, 3, 1, 0],
        [2, 3, 8, 8, 20, 5, 5, 1, 0],
        [2, 4, 6, 5, 3, 3, 3, 1, 1],
        [3, 4, 7, 6, 8, 1, 1, 2, 0],
        [2, 4, 5, 5, 40, 1, 1, 1, 0],
        // Stride 1, equal channels: dX is the convolution of dY with the flipped weights.
        [2, 3, 6, 5, 3, 3, 3, 1, 1],
        [3, 4, 5, 7, 4, 3, 3, 1, 0],
        [1, 2, 4, 4, 2, 1, 1, 1, 0],
        // 3×3, padding 1: conv3x3 computes the forward, dX and dW; 512 columns split
        // the weight gradient into two chunks.
        [2, 3, 6, 8, 3, 3, 3, 1, 1],
        [3, 4, 4, 4, 4, 3, 3, 1, 1],
        [2, 3, 8, 32, 9, 3, 3, 1, 1],
        // 3×3, stride 2, padding 1 on even sides: conv3x3's stride-2 windows for the
        // forward and dW, the transposed convolution for dX (dX channels in tiles of 16;
        // dY rows of 4 to 32 pixels, with a row below and without).
        [2, 3, 8, 8, 4, 3, 3, 2, 1],
        [2, 18, 4, 8, 3, 3, 3, 2, 1],
        [1, 2, 4, 64, 3, 3, 3, 2, 1],
        [2, 3, 8, 32, 4, 3, 3, 2, 1],
        [3, 2, 6, 16, 2, 3, 3, 2, 1],
        // 1×1, stride 2 on even sides with output rows of whole vec4s: col2im a vec4 of
        // dcol at a time.
        [2, 3, 8, 8, 5, 1, 1, 2, 0],
        [1, 4, 4, 16, 3, 1, 1, 2, 0],
    ];
    let mut g = rng(102);
    for &geo in geometries {
        let s = conv_shape(geo);
        let (xs, ws) = (s.input_shape(), s.weight_shape());
        let x = random(&mut g, s.input_len(), 1.0);
        let w = random(&mut g, s.weight_len(), 0.5);
        let b = random(&mut g, s.out_channels, 0.5);
        let r = random(&mut g, s.output_len(), 1.0);
        let loss = |x: &[f64], w: &[f64], b: &[f64]| {
            let (y, _) = cpu::conv2d(x, xs, w, ws, Some(b), s.stride, s.padding);
            cpu::dot(&r, &y)
        };
        let fd_x = fd::gradient(&x, |x| loss(x, &w, &b));
        let fd_w = fd::gradient(&w, |w| loss(&x, w, &b));
        let fd_b = fd::gradient(&b, |b| loss(&x, &w, b));
        // The analytic CPU backward the LeNet check relies on.
        let (cx, cw, cb) = cpu::conv2d_backward(&x, xs, &w, ws, &r, s.stride, s.padding);
        assert_close(&f32s(&cx), &fd_x, tol::SHORT_CHAIN, "cpu dx");
        assert_close(&f32s(&cw), &fd_w, tol::SHORT_CHAIN, "cpu dw");
        assert_close(&f32s(&cb), &fd_b, tol::SHORT_CHAIN, "cpu dbias");

        // Gradient buffers start with junk: overwritten, or added to.
        let prior_x = random(&mut g, x.len(), 1.0);
        let prior_w = random(&mut g, w.len(), 1.0);
        let prior_b = random(&mut g, b.len(), 1.0);
        let (xt, wt, bt, rt) = (
            upload(gpu, "x", &x),
            upload(gpu, "w", &w),
            upload(gpu, "b", &b),
            upload(gpu, "r", &r),
        );
        // The forward path also decides how a convolutional dX runs.
        for (variant, path) in paths(gpu, &s) {
            let conv = conv_on(gpu, s, variant, path);
            let y = gpu.zeros("y", &[s.output_len()]).unwrap();
            let set = || {
                (
                    upload(gpu, "dx", &prior_x),
                    upload(gpu, "dw", &prior_w),
                    upload(gpu, "db", &prior_b),
                )
            };
            let (dx0, dw0, db0) = set();
            let (dx1, dw1, db1) = set();
            let mut prog = Program::new();
            conv.forward(&mut prog, gpu, &xt, &wt, Some(&bt), &y, false)
                .unwrap();
            let grads = |dx, dw, db, accumulate| ConvGrads {
                dx: Some((dx, accumulate)),
                dw: Some((dw, accumulate)),
                dbias: Some((db, accumulate)),
            };
            // The patches come from the forward the first time (where it writes them); the
            // first backward's dX overwrites them, so the second rebuilds them from x.
            conv.backward(
                &mut prog,
                gpu,
                (!conv.keeps_patches(gpu)).then_some(&xt),
                &wt,
                &rt,
                grads(&dx0, &dw0, &db0, false),
            )
            .unwrap();
            conv.backward(
                &mut prog,
                gpu,
                Some(&xt),
                &wt,
                &rt,
                grads(&dx1, &dw1, &db1, true),
            )
            .unwrap();
            prog.run(gpu).unwrap();
            let what =
                |t: &str, acc: bool| format!("{variant:?} {path:?} {s:?} {t} accumulate={acc}");
            let cases = [
                ([&dx0, &dx1], [&fd_x, &prior_x], "dL/dx"),
                ([&dw0, &dw1], [&fd_w, &prior_w], "dL/dW"),
                ([&db0, &db1], [&fd_b, &prior_b], "dL/dbias"),
            ];
            for ([t0, t1], [fd, prior], name) in cases {
                assert_close(&read(gpu, t0), fd, tol::GRADIENT, &what(name, false));
                let sum: Vec<f64> = fd.iter().zip(prior).map(|(a, b)| a + b).collect();
                assert_close(&read(gpu, t1), &sum, tol::GRADIENT, &what(name, true));
            }
        }
    }
}

#[test]
fn conv2d_with_relu_mid_graph_and_partial_gradients() {
    // L = Σ r ⊙ relu(conv(x)), the ReLU fused in the forward and undone by relu::backward;
    // only dW and dbias asked for, over a batch large enough to split the weight gradient.
    let gpu = gpu();
    let s = conv_shape([12, 2, 6, 6, 3, 3, 3, 1, 1]);
    let (xs, ws) = (s.input_shape(), s.weight_shape());
    let mut g = rng(103);
    let x = random(&mut g, s.input_len(), 1.0);
    let w = random(&mut g, s.weight_len(), 0.5);
    let b = random(&mut g, s.out_channels, 0.5);
    let r = random(&mut g, s.output_len(), 1.0);
    let loss = |w: &[f64], b: &[f64]| {
        let (y, _) = cpu::conv2d(&x, xs, w, ws, Some(b), s.stride, s.padding);
        cpu::dot(&r, &cpu::relu(&y))
    };
    let fd_w = fd::gradient(&w, |w| loss(w, &b));
    let fd_b = fd::gradient(&b, |b| loss(&w, b));
    let (xt, wt, bt, rt) = (
        upload(gpu, "x", &x),
        upload(gpu, "w", &w),
        upload(gpu, "b", &b),
        upload(gpu, "r", &r),
    );
    for variant in variants(gpu) {
        let mut conv = Conv2d::new(gpu, s).unwrap();
        conv.variant = variant;
        let y = gpu.zeros("y", &[s.output_len()]).unwrap();
        let dz = gpu.zeros("dz", &[s.output_len()]).unwrap();
        let dw = gpu.zeros("dw", &[s.weight_len()]).unwrap();
        let db = gpu.zeros("db", &[s.out_channels]).unwrap();
        let mut prog = Program::new();
        conv.forward(&mut prog, gpu, &xt, &wt, Some(&bt), &y, true)
            .unwrap();
        relu::backward(&mut prog, gpu, &y, &rt, &dz, false).unwrap();
        let grads = ConvGrads {
            dx: None,
            dw: Some((&dw, false)),
            dbias: Some((&db, false)),
        };
        let x = (!conv.keeps_patches(gpu)).then_some(&xt);
        conv.backward(&mut prog, gpu, x, &wt, &dz, grads).unwrap();
        prog.run(gpu).unwrap();
        let what = format!("{variant:?} relu");
        assert_close(&read(gpu, &dw), &fd_w, tol::GRADIENT, &what);
        assert_close(&read(gpu, &db), &fd_b, tol::GRADIENT, &what);
    }
}

#[test]
fn conv2d_layers_sharing_scratch_rebuild_their_patches() {
    // Two layers, one scratch: the second layer's forward overwrites the first's patches,
    // so the first layer's backward rebuilds them from its input. Both im2col kernels
    // write the first layer's patches: one (column quad, channel) per invocation (K = 18
    // then 27), and the vec4 path (K = 75, LeNet's 5×5 taps, then K = 16; on 8-lane
    // subgroups that first layer's forward reads x directly, and only its backward writes
    // the patches).
    let gpu = gpu();
    let pairs = [
        ([3, 2, 9, 7, 3, 3, 3, 1, 1], [3, 3, 9, 7, 4, 3, 3, 2, 0], 1),
        ([3, 3, 8, 8, 4, 5, 5, 1, 0], [3, 4, 4, 4, 2, 2, 2, 1, 0], 0),
    ];
    for (g1, g2, pad1) in pairs {
        for variant in variants(gpu) {
            sharing_scratch_case(gpu, conv_shape(g1), conv_shape(g2), pad1, variant);
        }
    }
}

/// `s1` then `s2` (its output's shape) on one scratch that starts as NaN, forward and
/// backward against the reference; `pad1`: `s1`'s padding.
fn sharing_scratch_case(gpu: &Gpu, s1: ConvShape, s2: ConvShape, pad1: usize, variant: Variant) {
    let mut g = rng(107);
    let (c1, c2) = (s1.out_channels, s2.out_channels);
    let x = random(&mut g, s1.input_len(), 1.0);
    let (w1, b1) = (
        random(&mut g, s1.weight_len(), 0.5),
        random(&mut g, c1, 0.5),
    );
    let (w2, b2) = (
        random(&mut g, s2.weight_len(), 0.5),
        random(&mut g, c2, 0.5),
    );
    let r = random(&mut g, s2.output_len(), 1.0);
    let (h, hs) = cpu::conv2d(
        &x,
        s1.input_shape(),
        &w1,
        s1.weight_shape(),
        Some(&b1),
        s1.stride,
        pad1,
    );
    assert_eq!(hs, s2.input_shape());
    let (dh, dw2, db2) =
        cpu::conv2d_backward(&h, hs, &w2, s2.weight_shape(), &r, s2.stride, s2.padding);
    let (dx, dw1, db1) = cpu::conv2d_backward(
        &x,
        s1.input_shape(),
        &w1,
        s1.weight_shape(),
        &dh,
        s1.stride,
        pad1,
    );
    // The scratch starts as NaN, as stale values of a diverged step would leave it: every
    // value a product reads must be written first, the zero rows that pad K = 18, 27 and
    // 75 to whole vec4s included (NaN · 0 is NaN).
    let nan = |n: usize| vec![f64::NAN; n];
    let col = upload(gpu, "shared col", &nan(s1.col_len().max(s2.col_len())));
    let rows = upload(gpu, "shared rows", &nan(s1.rows_len().max(s2.rows_len())));
    let mut conv1 = Conv2d::with_scratch(gpu, s1, col.clone(), rows.clone()).unwrap();
    let mut conv2 = Conv2d::with_scratch(gpu, s2, col, rows).unwrap();
    conv1.variant = variant;
    conv2.variant = variant;
    let (xt, rt) = (upload(gpu, "x", &x), upload(gpu, "r", &r));
    let (w1t, b1t) = (upload(gpu, "w1", &w1), upload(gpu, "b1", &b1));
    let (w2t, b2t) = (upload(gpu, "w2", &w2), upload(gpu, "b2", &b2));
    let z = |n: usize| gpu.zeros("t", &[n]).unwrap();
    let (ht, yt) = (z(s1.output_len()), z(s2.output_len()));
    let (dht, dxt) = (z(s1.output_len()), z(s1.input_len()));
    let (dw1t, db1t, dw2t, db2t) = (z(w1.len()), z(c1), z(w2.len()), z(c2));
    let mut prog = Program::new();
    conv1
        .forward(&mut prog, gpu, &xt, &w1t, Some(&b1t), &ht, false)
        .unwrap();
    conv2
        .forward(&mut prog, gpu, &ht, &w2t, Some(&b2t), &yt, false)
        .unwrap();
    let grads = ConvGrads {
        dx: Some((&dht, false)),
        dw: Some((&dw2t, false)),
        dbias: Some((&db2t, false)),
    };
    conv2
        .backward(&mut prog, gpu, None, &w2t, &rt, grads)
        .unwrap();
    let grads = ConvGrads {
        dx: Some((&dxt, false)),
        dw: Some((&dw1t, false)),
        dbias: Some((&db1t, false)),
    };
    conv1
        .backward(&mut prog, gpu, Some(&xt), &w1t, &dht, grads)
        .unwrap();
    prog.run(gpu).unwrap();
    for (t, want, name) in [
        (&dxt, &dx, "dx"),
        (&dw1t, &dw1, "dw1"),
        (&db1t, &db1, "db1"),
        (&dw2t, &dw2, "dw2"),
        (&db2t, &db2, "db2"),
    ] {
        assert_close(
            &read(gpu, t),
            want,
            tol::GRADIENT,
            &format!("{name} {variant:?} {s1:?}"),
        );
    }
}

#[test]
fn conv2d_rejects_impossible_shapes_without_panicking() {
    let gpu = gpu();
    let ok = conv_shape([2, 3, 8, 8, 4, 3, 3, 1, 1]);
    assert!(Conv2d::new(gpu, ok).is_ok());
    let bad = [
        ConvShape { kernel_h: 11, ..ok },
        ConvShape { stride: 0, ..ok },
        ConvShape {
            in_channels: 0,
            ..ok
        },
        ConvShape { batch: 0, ..ok },
        ConvShape {
            batch: 1 << 30,
            ..ok
        },
    ];
    for s in bad {
        let err = Conv2d::new(gpu, s).err();
        assert!(err.is_some(), "{s:?} accepted");
    }
    assert!(matches!(
        Conv2d::new(
            gpu,
            ConvShape {
                batch: 1 << 30,
                ..ok
            }
        ),
        Err(GpuError::TooLarge { .. })
    ));
    let scratch = gpu.zeros("small", &[10]).unwrap();
    assert!(Conv2d::with_scratch(gpu, ok, scratch.clone(), scratch).is_err());
    let pool = PoolShape::two_by_two(1, 1, 1, 1);
    let t = gpu.zeros("t", &[1]).unwrap();
    assert!(maxpool::forward(&mut Program::new(), gpu, &pool, &t, &t, &t).is_err());
}

#[test]
#[ignore = "timing; run with --ignored --nocapture"]
fn bench_lenet_convolutions() {
    let gpu = gpu();
    println!("adapter: {}", gpu.describe());
    let batch = 256;
    let layers = [
        (
            "conv1",
            conv_shape([batch, 3, 32, 32, 6, 5, 5, 1, 0]),
            false,
        ),
        (
            "conv2",
            conv_shape([batch, 6, 14, 14, 16, 5, 5, 1, 0]),
            true,
        ),
    ];
    let mut g = rng(106);
    for (name, s, needs_dx) in layers {
        let x = upload(gpu, "x", &random(&mut g, s.input_len(), 1.0));
        let w = upload(gpu, "w", &random(&mut g, s.weight_len(), 0.2));
        let b = upload(gpu, "b", &random(&mut g, s.out_channels, 0.2));
        let dy = upload(gpu, "dy", &random(&mut g, s.output_len(), 1.0));
        let y = gpu.zeros("y", &[s.output_len()]).unwrap();
        let dx = gpu.zeros("dx", &[s.input_len()]).unwrap();
        let dw = gpu.zeros("dw", &[s.weight_len()]).unwrap();
        let db = gpu.zeros("db", &[s.out_channels]).unwrap();
        let conv = Conv2d::new(gpu, s).unwrap();
        let mut fwd = Program::new();
        conv.forward(&mut fwd, gpu, &x, &w, Some(&b), &y, true)
            .unwrap();
        let mut bwd = Program::new();
        let grads = ConvGrads {
            dx: needs_dx.then_some((&dx, false)),
            dw: Some((&dw, false)),
            dbias: Some((&db, false)),
        };
        // The patches are whatever the scratch holds: only the timing matters here.
        let xs = (!conv.keeps_patches(gpu)).then_some(&x);
        conv.backward(&mut bwd, gpu, xs, &w, &dy, grads).unwrap();
        let flops = 2.0 * (s.output_len() * s.patch_len()) as f64;
        let back_products = if needs_dx { 2.0 } else { 1.0 };
        for (what, prog, products) in [("forward", &fwd, 1.0), ("backward", &bwd, back_products)] {
            prog.run(gpu).unwrap();
            let reps = 5;
            let t = Instant::now();
            for _ in 0..reps {
                prog.run(gpu).unwrap();
            }
            let ms = t.elapsed().as_secs_f64() * 1e3 / reps as f64;
            let gflops = products * flops / ms / 1e6;
            println!("{name} batch {batch} {what}: {ms:.2} ms ({gflops:.1} GFLOP/s of products)");
        }
    }
}
