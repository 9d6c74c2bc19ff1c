//! Max pooling (forward, ties, backward) and global average pooling (on views surrounded
//! by sentinels) against the reference and finite differences.

use super::{place, place_zeros, read, upload, weighted};
use crate::common::{assert_close, fd, gpu, random, rng, tol};
use crate::reference as cpu;
use etaprobe::gpu::Program;
use etaprobe::ops::avgpool;
use etaprobe::ops::maxpool::{self, PoolShape};
use rand::seq::SliceRandom;

/// Distinct values in [-1, 1) in random order, so max pooling has no ties.
fn distinct(seed: u64, len: usize) -> Vec<f64> {
    let mut v: Vec<f64> = (0..len)
        .map(|i| (2.0 * i as f64 / len as f64 - 1.0) as f32 as f64)
        .collect();
    v.shuffle(&mut rng(seed));
    v
}

/// [batch, channels, height, width, kernel, stride, padding]
/// The first, third and fourth are tiled by their windows (the backward scatters per
/// window); the others gather per input.
const POOLS: &[[usize; 7]] = &[
    [1, 1, 4, 4, 2, 2, 0],
    [3, 2, 7, 5, 2, 2, 0],
    [2, 3, 28, 28, 2, 2, 0],
    [2, 2, 9, 6, 3, 3, 0],
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
        assert_close(&read(gpu, &y), &want, tol::EXACT, &format!("{s:?}"));
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
    // A NaN first in its window stays (nothing is greater); later, it is never taken.
    // Both kernels scan alike: 2×4 takes the two-window path, 2×6 (rows not whole vec4s)
    // the one-window one.
    for width in [4, 6] {
        let s = PoolShape::two_by_two(1, 1, 2, width);
        let mut x = vec![0.0f32; 2 * width];
        x[0] = f32::NAN;
        x[1] = 1.0;
        x[width] = 2.0;
        x[width + 1] = 3.0;
        x[width + 2] = f32::NAN;
        x[width + 3] = 5.0;
        let xt = gpu.upload("x", &[x.len()], &x).unwrap();
        let y = gpu.zeros("y", &[width / 2]).unwrap();
        let at = gpu.zeros("argmax", &[width / 2]).unwrap();
        let mut prog = Program::new();
        maxpool::forward(&mut prog, gpu, &s, &xt, &y, &at).unwrap();
        prog.run(gpu).unwrap();
        let (got, arg) = (gpu.read::<f32>(&y).unwrap(), gpu.read::<u32>(&at).unwrap());
        assert!(got[0].is_nan(), "width {width}: {got:?}");
        assert_eq!(
            (got[1], arg[0], arg[1]),
            (5.0, 0, width as u32 + 3),
            "width {width}"
        );
    }
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
        let fd = fd::gradient(&x, |x| {
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
        assert_close(&read(gpu, &dx0), &fd, tol::SHORT_CHAIN, &format!("{s:?}"));
        let sum: Vec<f64> = fd.iter().zip(&prior).map(|(a, b)| a + b).collect();
        assert_close(
            &read(gpu, &dx1),
            &sum,
            tol::SHORT_CHAIN,
            &format!("{s:?} +="),
        );
    }
}

/// Average pooling shapes (batch, channels, hw).
const POOL_SHAPES: &[(usize, usize, usize)] = &[(2, 3, 16), (3, 300, 1), (4, 16, 64), (2, 5, 1000)];

#[test]
fn global_avg_pool_forward_matches_reference() {
    let gpu = gpu();
    for (case, &(batch, channels, hw)) in POOL_SHAPES.iter().enumerate() {
        let mut g = rng(1000 + case as u64);
        let x = random(&mut g, batch * channels * hw, 2.0);
        let xt = place(gpu, "x", &x);
        let yt = place_zeros(gpu, "y", batch * channels);
        let mut prog = Program::new();
        avgpool::forward(&mut prog, gpu, batch, channels, hw, &xt.view, &yt.view).unwrap();
        prog.run(gpu).unwrap();
        let want = cpu::global_avg_pool(&x, batch * channels, hw);
        let what = format!("avgpool {batch}×{channels}×{hw}");
        assert_close(&yt.read(gpu), &want, tol::SHORT_CHAIN, &what);
    }
}

#[test]
fn global_avg_pool_backward_matches_finite_differences() {
    let gpu = gpu();
    for (case, &(batch, channels, hw)) in POOL_SHAPES.iter().enumerate() {
        let mut g = rng(1100 + case as u64);
        let len = batch * channels * hw;
        let planes = batch * channels;
        let x = random(&mut g, len, 2.0);
        let r = random(&mut g, planes, 1.0);
        let prior = random(&mut g, len, 1.0);
        let rt = place(gpu, "r", &r);
        let dx = place_zeros(gpu, "dx", len);
        let dx_acc = place(gpu, "dx acc", &prior);
        let mut prog = Program::new();
        avgpool::backward(
            &mut prog, gpu, batch, channels, hw, &rt.view, &dx.view, false,
        )
        .unwrap();
        avgpool::backward(
            &mut prog,
            gpu,
            batch,
            channels,
            hw,
            &rt.view,
            &dx_acc.view,
            true,
        )
        .unwrap();
        prog.run(gpu).unwrap();
        let fd = fd::gradient(&x, |x| weighted(&r, &cpu::global_avg_pool(x, planes, hw)));
        let what = format!("avgpool {batch}×{channels}×{hw}");
        assert_close(
            &dx.read(gpu),
            &fd,
            tol::SHORT_CHAIN,
            &format!("{what}: dL/dx"),
        );
        assert_close(
            &dx_acc.read(gpu),
            &cpu::axpy(1.0, &prior, &fd),
            tol::SHORT_CHAIN,
            &format!("{what}: dL/dx accumulated"),
        );
    }
}
