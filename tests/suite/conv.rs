//! Convolution and max pooling: each kernel against the f64 CPU reference, each backward
//! against f64 central finite differences with the op mid-graph (L = Σ r ⊙ op(x) with a
//! random upstream r), and a whole LeNet-5's gradients against an f64 CPU LeNet.

use std::time::Instant;

use crate::common::{assert_close, f32s, gpu, random, rng};
use etaprobe::gpu::{Gpu, GpuError, ParamLayout, Params, Program, Tensor};
use etaprobe::ops::conv::{direct3x3, Conv2d, ConvGrads, ConvShape, ForwardPath};
use etaprobe::ops::matmul::{self, Epilogue, Mat, Variant};
use etaprobe::ops::maxpool::{self, PoolShape};
use etaprobe::ops::{bias, relu, softmax_xent};
use etaprobe::reference as cpu;
use rand::seq::SliceRandom;

const H: f64 = 1e-6;

/// [batch, in, height, width, out, kh, kw, stride, padding]
type Geometry = [usize; 9];

fn conv_shape(g: Geometry) -> ConvShape {
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

/// Every (matmul kernel, forward path) this adapter can run on `s`: the direct 3×3 kernel
/// where it applies, im2col per image and folded.
fn paths(gpu: &Gpu, s: &ConvShape) -> Vec<(Variant, ForwardPath)> {
    let mut all = Vec::new();
    for v in variants(gpu) {
        if v == Variant::Subgroup8 && direct3x3::applies(gpu, s) {
            all.push((v, ForwardPath::Direct));
        }
        all.extend([(v, ForwardPath::PerImage), (v, ForwardPath::Folded)]);
    }
    all
}

/// A convolution pinned to `path`, checked to take it.
fn conv_on(gpu: &Gpu, s: ConvShape, variant: Variant, path: ForwardPath) -> Conv2d {
    let mut conv = Conv2d::new(gpu, s).unwrap();
    conv.variant = variant;
    conv.forward_path = path;
    let direct = path == ForwardPath::Direct;
    assert_eq!(conv.reads_input_directly(gpu), direct, "{s:?} {path:?}");
    conv
}

fn upload(gpu: &Gpu, label: &str, v: &[f64]) -> Tensor {
    gpu.upload(label, &[v.len()], &f32s(v)).unwrap()
}

fn read(gpu: &Gpu, t: &Tensor) -> Vec<f32> {
    gpu.read(t).unwrap()
}

/// Distinct values in [-1, 1) in random order, so max pooling has no ties.
fn distinct(seed: u64, len: usize) -> Vec<f64> {
    let mut v: Vec<f64> = (0..len)
        .map(|i| (2.0 * i as f64 / len as f64 - 1.0) as f32 as f64)
        .collect();
    v.shuffle(&mut rng(seed));
    v
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
        // Stride 1, rows of whole vec4s: the vec4 im2col, shifts of up to 3 either way.
        [2, 2, 8, 8, 3, 7, 7, 1, 3],
        [3, 3, 4, 12, 2, 3, 5, 1, 2],
        // 3×3, stride 1, padding 1, rows of 4 to 32 pixels: conv3x3 reads x directly, in
        // 16- and 32-channel tiles, with images narrower and wider than a subgroup's row.
        [2, 3, 4, 4, 5, 3, 3, 1, 1],
        [3, 5, 8, 8, 20, 3, 3, 1, 1],
        [1, 2, 6, 16, 17, 3, 3, 1, 1],
        [2, 3, 5, 32, 16, 3, 3, 1, 1],
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
            let tol = 2e-6 * s.patch_len() as f64;
            let what = format!("{variant:?} {path:?} {s:?}");
            assert_close(&read(gpu, &y), &want, tol, 1e-5, &what);
            assert_close(&read(gpu, &y_relu), &want_relu, tol, 1e-5, &what);
            assert_close(&read(gpu, &y_nobias), &want_nobias, tol, 1e-5, &what);
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
        // K = in·kh·kw a multiple of 4: the weight gradient reads transposed patches in
        // place, unless the product is tall (40 outputs over K = 4) and packs them.
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
        let fd_x = cpu::finite_differences(&x, H, |x| loss(x, &w, &b));
        let fd_w = cpu::finite_differences(&w, H, |w| loss(&x, w, &b));
        let fd_b = cpu::finite_differences(&b, H, |b| loss(&x, &w, b));
        // The analytic CPU backward the LeNet check relies on.
        let (cx, cw, cb) = cpu::conv2d_backward(&x, xs, &w, ws, &r, s.stride, s.padding);
        assert_close(&f32s(&cx), &fd_x, 1e-6, 1e-5, "cpu dx");
        assert_close(&f32s(&cw), &fd_w, 1e-6, 1e-5, "cpu dw");
        assert_close(&f32s(&cb), &fd_b, 1e-6, 1e-5, "cpu dbias");

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
                assert_close(&read(gpu, t0), fd, 1e-5, 1e-4, &what(name, false));
                let sum: Vec<f64> = fd.iter().zip(prior).map(|(a, b)| a + b).collect();
                assert_close(&read(gpu, t1), &sum, 1e-5, 1e-4, &what(name, true));
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
    let fd_w = cpu::finite_differences(&w, H, |w| loss(w, &b));
    let fd_b = cpu::finite_differences(&b, H, |b| loss(&w, b));
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
        assert_close(&read(gpu, &dw), &fd_w, 1e-5, 1e-4, &what);
        assert_close(&read(gpu, &db), &fd_b, 1e-5, 1e-4, &what);
    }
}

#[test]
fn conv2d_layers_sharing_scratch_rebuild_their_patches() {
    // Two layers, one scratch: the second layer's forward overwrites the first's patches,
    // so the first layer's backward rebuilds them from its input.
    let gpu = gpu();
    let s1 = conv_shape([3, 2, 9, 7, 3, 3, 3, 1, 1]);
    let s2 = conv_shape([3, 3, 9, 7, 4, 3, 3, 2, 0]);
    let mut g = rng(107);
    let x = random(&mut g, s1.input_len(), 1.0);
    let (w1, b1) = (random(&mut g, s1.weight_len(), 0.5), random(&mut g, 3, 0.5));
    let (w2, b2) = (random(&mut g, s2.weight_len(), 0.5), random(&mut g, 4, 0.5));
    let r = random(&mut g, s2.output_len(), 1.0);
    let (h, hs) = cpu::conv2d(
        &x,
        s1.input_shape(),
        &w1,
        s1.weight_shape(),
        Some(&b1),
        1,
        1,
    );
    let (dh, dw2, db2) = cpu::conv2d_backward(&h, hs, &w2, s2.weight_shape(), &r, 2, 0);
    let (dx, dw1, db1) =
        cpu::conv2d_backward(&x, s1.input_shape(), &w1, s1.weight_shape(), &dh, 1, 1);

    let col = gpu
        .zeros("shared col", &[s1.col_len().max(s2.col_len())])
        .unwrap();
    let rows = gpu
        .zeros("shared rows", &[s1.rows_len().max(s2.rows_len())])
        .unwrap();
    let conv1 = Conv2d::with_scratch(gpu, s1, col.clone(), rows.clone()).unwrap();
    let conv2 = Conv2d::with_scratch(gpu, s2, col, rows).unwrap();
    let (xt, rt) = (upload(gpu, "x", &x), upload(gpu, "r", &r));
    let (w1t, b1t) = (upload(gpu, "w1", &w1), upload(gpu, "b1", &b1));
    let (w2t, b2t) = (upload(gpu, "w2", &w2), upload(gpu, "b2", &b2));
    let z = |n: usize| gpu.zeros("t", &[n]).unwrap();
    let (ht, yt) = (z(s1.output_len()), z(s2.output_len()));
    let (dht, dxt) = (z(s1.output_len()), z(s1.input_len()));
    let (dw1t, db1t, dw2t, db2t) = (z(w1.len()), z(3), z(w2.len()), z(4));
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
        assert_close(&read(gpu, t), want, 1e-5, 1e-4, name);
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

/// [batch, channels, height, width, kernel, stride, padding]
const POOLS: &[[usize; 7]] = &[
    [1, 1, 4, 4, 2, 2, 0],
    [3, 2, 7, 5, 2, 2, 0],
    [2, 3, 28, 28, 2, 2, 0],
    [2, 2, 9, 8, 3, 2, 1],
    [1, 3, 6, 7, 3, 1, 0],
    [2, 1, 8, 7, 2, 3, 1],
];

fn pool_shape(p: [usize; 7]) -> PoolShape {
    let [batch, channels, height, width, kernel, stride, padding] = p;
    PoolShape {
        batch,
        channels,
        height,
        width,
        kernel,
        stride,
        padding,
    }
}

#[test]
fn maxpool_forward_matches_reference() {
    let gpu = gpu();
    for (n, &p) in POOLS.iter().enumerate() {
        let s = pool_shape(p);
        let x = distinct(200 + n as u64, s.input_len());
        let xs = [s.batch, s.channels, s.height, s.width];
        let (want, shape, arg) = cpu::max_pool2d(&x, xs, s.kernel, s.stride, s.padding);
        assert_eq!(shape, s.output_shape());
        let xt = upload(gpu, "x", &x);
        let y = gpu.zeros("y", &[s.output_len()]).unwrap();
        let at = gpu.zeros("argmax", &[s.output_len()]).unwrap();
        let mut prog = Program::new();
        maxpool::forward(&mut prog, gpu, &s, &xt, &y, &at).unwrap();
        prog.run(gpu).unwrap();
        assert_close(&read(gpu, &y), &want, 0.0, 0.0, &format!("{s:?}"));
        let got: Vec<u32> = gpu.read(&at).unwrap();
        let want: Vec<u32> = arg.iter().map(|&k| k as u32).collect();
        assert_eq!(got, want, "{s:?} arg-max");
    }
}

#[test]
fn maxpool_ties_go_to_the_first_maximum() {
    let gpu = gpu();
    let s = PoolShape::two_by_two(1, 1, 2, 4);
    let x = [0.0, 0.0, -1.0, 2.0, 0.0, 0.0, 2.0, 2.0];
    let xt = upload(gpu, "x", &x);
    let y = gpu.zeros("y", &[2]).unwrap();
    let at = gpu.zeros("argmax", &[2]).unwrap();
    let mut prog = Program::new();
    maxpool::forward(&mut prog, gpu, &s, &xt, &y, &at).unwrap();
    prog.run(gpu).unwrap();
    assert_eq!(read(gpu, &y), vec![0.0, 2.0]);
    assert_eq!(gpu.read::<u32>(&at).unwrap(), vec![0, 3]);
}

#[test]
fn maxpool_backward_matches_finite_differences() {
    let gpu = gpu();
    let mut g = rng(104);
    for (n, &p) in POOLS.iter().enumerate() {
        let s = pool_shape(p);
        let xs = [s.batch, s.channels, s.height, s.width];
        let x = distinct(300 + n as u64, s.input_len());
        let r = random(&mut g, s.output_len(), 1.0);
        let fd = cpu::finite_differences(&x, H, |x| {
            cpu::dot(&r, &cpu::max_pool2d(x, xs, s.kernel, s.stride, s.padding).0)
        });
        let prior = random(&mut g, x.len(), 1.0);
        let (xt, rt) = (upload(gpu, "x", &x), upload(gpu, "r", &r));
        let y = gpu.zeros("y", &[s.output_len()]).unwrap();
        let at = gpu.zeros("argmax", &[s.output_len()]).unwrap();
        let dx0 = upload(gpu, "dx", &prior);
        let dx1 = upload(gpu, "dx", &prior);
        let mut prog = Program::new();
        maxpool::forward(&mut prog, gpu, &s, &xt, &y, &at).unwrap();
        maxpool::backward(&mut prog, gpu, &s, &at, &rt, &dx0, false).unwrap();
        maxpool::backward(&mut prog, gpu, &s, &at, &rt, &dx1, true).unwrap();
        prog.run(gpu).unwrap();
        assert_close(&read(gpu, &dx0), &fd, 1e-6, 1e-5, &format!("{s:?}"));
        let sum: Vec<f64> = fd.iter().zip(&prior).map(|(a, b)| a + b).collect();
        assert_close(&read(gpu, &dx1), &sum, 1e-6, 1e-5, &format!("{s:?} +="));
    }
}

// ---------------------------------------------------------------------------------------
// LeNet-5 on 3×32×32 images, PyTorch layout, against an f64 CPU LeNet.

const BATCH: usize = 2;
const CLASSES: usize = 10;
/// Parameter shapes in PyTorch's order.
const LENET: [(&str, &[usize]); 10] = [
    ("conv1.weight", &[6, 3, 5, 5]),
    ("conv1.bias", &[6]),
    ("conv2.weight", &[16, 6, 5, 5]),
    ("conv2.bias", &[16]),
    ("fc1.weight", &[120, 400]),
    ("fc1.bias", &[120]),
    ("fc2.weight", &[84, 120]),
    ("fc2.bias", &[84]),
    ("fc3.weight", &[10, 84]),
    ("fc3.bias", &[10]),
];

fn lenet_convs() -> (ConvShape, PoolShape, ConvShape, PoolShape) {
    (
        conv_shape([BATCH, 3, 32, 32, 6, 5, 5, 1, 0]),
        PoolShape::two_by_two(BATCH, 6, 28, 28),
        conv_shape([BATCH, 6, 14, 14, 16, 5, 5, 1, 0]),
        PoolShape::two_by_two(BATCH, 16, 10, 10),
    )
}

/// `x·Wᵀ + b`: a PyTorch linear layer.
fn linear(x: &[f64], w: &[f64], b: &[f64], rows: usize, inp: usize, out: usize) -> Vec<f64> {
    let wt = cpu::transpose(w, out, inp);
    cpu::bias_add(&cpu::matmul(x, &wt, rows, inp, out), b, rows, out)
}

/// The CPU LeNet's mean loss and, when `grads`, its analytic gradients.
fn cpu_lenet(p: &[Vec<f64>], x: &[f64], labels: &[u32], grads: bool) -> (f64, Vec<Vec<f64>>) {
    let b = BATCH;
    let c1 = cpu::conv2d(x, [b, 3, 32, 32], &p[0], [6, 3, 5, 5], Some(&p[1]), 1, 0).0;
    let a1 = cpu::relu(&c1);
    let (p1, s1, arg1) = cpu::max_pool2d(&a1, [b, 6, 28, 28], 2, 2, 0);
    let c2 = cpu::conv2d(&p1, s1, &p[2], [16, 6, 5, 5], Some(&p[3]), 1, 0).0;
    let a2 = cpu::relu(&c2);
    let (p2, _, arg2) = cpu::max_pool2d(&a2, [b, 16, 10, 10], 2, 2, 0);
    let h1 = cpu::relu(&linear(&p2, &p[4], &p[5], b, 400, 120));
    let h2 = cpu::relu(&linear(&h1, &p[6], &p[7], b, 120, 84));
    let z = linear(&h2, &p[8], &p[9], b, 84, CLASSES);
    let (losses, _) = cpu::softmax_xent(&z, labels, b, CLASSES);
    let loss = losses.iter().sum::<f64>() / b as f64;
    if !grads {
        return (loss, Vec::new());
    }
    // Linear layer backward: dW = dyᵀ·x, db = Σ_rows dy, dx = dy·W.
    let linear_back = |x: &[f64], w: &[f64], dy: &[f64], inp: usize, out: usize| {
        let dw = cpu::matmul(&cpu::transpose(dy, b, out), x, out, b, inp);
        let db = cpu::column_sums(dy, b, out);
        let dx = cpu::matmul(dy, w, b, out, inp);
        (dx, dw, db)
    };
    let dz = cpu::softmax_xent_backward(&z, labels, b, CLASSES);
    let (dh2, dw5, db5) = linear_back(&h2, &p[8], &dz, 84, CLASSES);
    let dh2 = cpu::relu_backward(&h2, &dh2);
    let (dh1, dw4, db4) = linear_back(&h1, &p[6], &dh2, 120, 84);
    let dh1 = cpu::relu_backward(&h1, &dh1);
    let (dp2, dw3, db3) = linear_back(&p2, &p[4], &dh1, 400, 120);
    let da2 = cpu::max_pool2d_backward(a2.len(), &arg2, &dp2);
    let dc2 = cpu::relu_backward(&a2, &da2);
    let (dp1, dw2, db2) = cpu::conv2d_backward(&p1, s1, &p[2], [16, 6, 5, 5], &dc2, 1, 0);
    let da1 = cpu::max_pool2d_backward(a1.len(), &arg1, &dp1);
    let dc1 = cpu::relu_backward(&a1, &da1);
    let (_, dw1, db1) = cpu::conv2d_backward(x, [b, 3, 32, 32], &p[0], [6, 3, 5, 5], &dc1, 1, 0);
    (loss, vec![dw1, db1, dw2, db2, dw3, db3, dw4, db4, dw5, db5])
}

/// The GPU LeNet's training step without the update, recorded once: forward, loss, and
/// backward into the flat gradient buffer.
struct GpuLenet {
    prog: Program,
    params: Params,
    losses: Tensor,
}

fn gpu_lenet(gpu: &Gpu, init: &[Vec<f64>], x: &[f64], labels: &[u32]) -> GpuLenet {
    let (s1, q1, s2, q2) = lenet_convs();
    let mut layout = ParamLayout::new();
    for (name, shape) in LENET {
        layout.add(name, shape);
    }
    let params = Params::new(gpu, layout).unwrap();
    params.upload_all(gpu, &init.iter().map(|v| f32s(v)).collect::<Vec<_>>());
    let v: Vec<Tensor> = (0..10).map(|i| params.value(i)).collect();
    let d: Vec<Tensor> = (0..10).map(|i| params.grad(i)).collect();
    let z = |label: &str, len: usize| gpu.zeros(label, &[len]).unwrap();
    let xt = gpu.upload("x", &[x.len()], &f32s(x)).unwrap();
    let yt = gpu.upload("labels", &[BATCH], labels).unwrap();
    let (c1, a1i, p1) = (
        z("c1", s1.output_len()),
        z("argmax1", q1.output_len()),
        z("p1", q1.output_len()),
    );
    let (c2, a2i, p2) = (
        z("c2", s2.output_len()),
        z("argmax2", q2.output_len()),
        z("p2", q2.output_len()),
    );
    let (h1, h2, logits) = (
        z("h1", BATCH * 120),
        z("h2", BATCH * 84),
        z("z", BATCH * 10),
    );
    let (losses, correct) = (z("losses", BATCH), z("correct", BATCH));
    let conv1 = Conv2d::new(gpu, s1).unwrap();
    let conv2 = Conv2d::new(gpu, s2).unwrap();
    let mut prog = Program::new();
    let pg = &mut prog;

    conv1
        .forward(pg, gpu, &xt, &v[0], Some(&v[1]), &c1, true)
        .unwrap();
    maxpool::forward(pg, gpu, &q1, &c1, &p1, &a1i).unwrap();
    conv2
        .forward(pg, gpu, &p1, &v[2], Some(&v[3]), &c2, true)
        .unwrap();
    maxpool::forward(pg, gpu, &q2, &c2, &p2, &a2i).unwrap();
    // Linear layers: x · Wᵀ with W stored [out, in].
    let fc = [
        (&p2, 400, 120, &h1),
        (&h1, 120, 84, &h2),
        (&h2, 84, 10, &logits),
    ];
    for (i, &(inp, n_in, n_out, out)) in fc.iter().enumerate() {
        let epi = Epilogue {
            bias: Some((&v[5 + 2 * i], 0)),
            relu: i < 2,
            ..Default::default()
        };
        let w = Mat::new(&v[4 + 2 * i], n_out, n_in).transposed();
        let (a, c) = (Mat::new(inp, BATCH, n_in), Mat::new(out, BATCH, n_out));
        matmul::record(pg, gpu, &a, &w, &c, 1, epi).unwrap();
    }
    softmax_xent::forward(pg, gpu, &logits, &yt, &losses, &correct, BATCH, CLASSES).unwrap();

    let dlogits = z("dlogits", BATCH * 10);
    softmax_xent::backward(pg, gpu, &logits, &yt, &dlogits, BATCH, CLASSES, 1.0).unwrap();
    let (dh2, dh1, dp2) = (
        z("dh2", BATCH * 84),
        z("dh1", BATCH * 120),
        z("dp2", BATCH * 400),
    );
    let (dz2, dz1) = (z("dz2", BATCH * 84), z("dz1", BATCH * 120));
    // (input, its gradient, n_in, n_out, output gradient, layer)
    let back = [
        (&h2, &dh2, 84, 10, &dlogits, 2),
        (&h1, &dh1, 120, 84, &dz2, 1),
        (&p2, &dp2, 400, 120, &dz1, 0),
    ];
    for (inp, dinp, n_in, n_out, dout, layer) in back {
        let w = Mat::new(&v[4 + 2 * layer], n_out, n_in).transposed();
        let dw = Mat::new(&d[4 + 2 * layer], n_out, n_in).transposed();
        let (a, da) = (Mat::new(inp, BATCH, n_in), Mat::new(dinp, BATCH, n_in));
        let dc = Mat::new(dout, BATCH, n_out);
        matmul::backward(
            pg,
            gpu,
            &a,
            &w,
            &dc,
            1,
            Some((&da, false)),
            Some((&dw, false)),
        )
        .unwrap();
        bias::backward(pg, gpu, dout, &d[5 + 2 * layer], BATCH, n_out, false).unwrap();
        if layer == 2 {
            relu::backward(pg, gpu, &h2, &dh2, &dz2, false).unwrap();
        } else if layer == 1 {
            relu::backward(pg, gpu, &h1, &dh1, &dz1, false).unwrap();
        }
    }
    let (dc2, dc2_pre) = (z("dc2", s2.output_len()), z("dc2 pre", s2.output_len()));
    maxpool::backward(pg, gpu, &q2, &a2i, &dp2, &dc2, false).unwrap();
    relu::backward(pg, gpu, &c2, &dc2, &dc2_pre, false).unwrap();
    let dp1 = z("dp1", q1.output_len());
    let grads = ConvGrads {
        dx: Some((&dp1, false)),
        dw: Some((&d[2], false)),
        dbias: Some((&d[3], false)),
    };
    conv2
        .backward(pg, gpu, None, &v[2], &dc2_pre, grads)
        .unwrap();
    let (dc1, dc1_pre) = (z("dc1", s1.output_len()), z("dc1 pre", s1.output_len()));
    maxpool::backward(pg, gpu, &q1, &a1i, &dp1, &dc1, false).unwrap();
    relu::backward(pg, gpu, &c1, &dc1, &dc1_pre, false).unwrap();
    let grads = ConvGrads {
        dx: None,
        dw: Some((&d[0], false)),
        dbias: Some((&d[1], false)),
    };
    conv1
        .backward(pg, gpu, None, &v[0], &dc1_pre, grads)
        .unwrap();
    GpuLenet {
        prog,
        params,
        losses,
    }
}

/// Downloads every gradient slot.
fn gradients(gpu: &Gpu, params: &Params) -> Vec<Vec<f32>> {
    let all: Vec<f32> = gpu.read(&params.grads).unwrap();
    params
        .layout
        .slots
        .iter()
        .map(|s| all[s.offset..s.offset + s.len()].to_vec())
        .collect()
}

#[test]
fn lenet_gradients_match_the_cpu_reference() {
    let gpu = gpu();
    let mut g = rng(105);
    // PyTorch's default initialisation: U(±1/√fan_in) for weights and biases.
    let fan_in = [75, 75, 150, 150, 400, 400, 120, 120, 84, 84];
    let init: Vec<Vec<f64>> = LENET
        .iter()
        .zip(fan_in)
        .map(|((_, shape), f)| {
            let len = shape.iter().product();
            random(&mut g, len, 1.0 / (f as f64).sqrt())
        })
        .collect();
    let x = random(&mut g, BATCH * 3 * 32 * 32, 1.0);
    let labels = [3u32, 7];
    let (want_loss, want) = cpu_lenet(&init, &x, &labels, true);

    let net = gpu_lenet(gpu, &init, &x, &labels);
    net.prog.run(gpu).unwrap();
    let losses: Vec<f32> = gpu.read(&net.losses).unwrap();
    let loss = losses.iter().map(|&l| l as f64).sum::<f64>() / BATCH as f64;
    assert!(
        (loss - want_loss).abs() < 1e-5,
        "loss {loss} vs {want_loss}"
    );
    let got = gradients(gpu, &net.params);
    for (i, (name, _)) in LENET.iter().enumerate() {
        // Relative to the largest gradient of the tensor: f32 sums over many terms.
        let scale = want[i].iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(scale > 1e-6, "{name}: gradient vanished");
        assert_close(&got[i], &want[i], 1e-4 * scale, 1e-4, name);
    }

    // Spot checks of the analytic gradient by finite differences of the CPU loss.
    let mut p = init.clone();
    for (i, (name, _)) in LENET.iter().enumerate() {
        let len = init[i].len();
        for k in [0, len / 3, len - 1] {
            let orig = p[i][k];
            p[i][k] = orig + H;
            let up = cpu_lenet(&p, &x, &labels, false).0;
            p[i][k] = orig - H;
            let down = cpu_lenet(&p, &x, &labels, false).0;
            p[i][k] = orig;
            let fd = (up - down) / (2.0 * H);
            let what = format!("{name}[{k}] by finite differences");
            assert_close(&[got[i][k]], &[fd], 1e-5, 1e-3, &what);
            assert_close(&[want[i][k] as f32], &[fd], 1e-7, 1e-5, &what);
        }
    }

    // Replaying the recorded program gives the same gradients bit for bit: the scratch the
    // backward overwrites is rebuilt by the next forward, and no kernel uses atomics.
    net.prog.run(gpu).unwrap();
    assert_eq!(gradients(gpu, &net.params), got, "replay differs");
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
