//! The losses: softmax cross-entropy (stable for large logits) and mean squared error,
//! forward and backward, against the reference and finite differences of c·loss.

use crate::common::{assert_close, f32s, fd, gpu, random, rng, tol};
use crate::reference as cpu;
use etaprobe::gpu::Program;
use etaprobe::ops::{mse, reduce, softmax_xent};

#[test]
fn softmax_cross_entropy_is_stable_and_matches() {
    let gpu = gpu();
    let mut r = rng(7);
    for &(rows, classes, scale) in &[
        (1, 10, 1.0),
        (5, 3, 5.0),
        (130, 10, 3.0),
        (7, 100, 1.0),
        (4, 10, 1e4),
    ] {
        let mut logits = random(&mut r, rows * classes, scale);
        if scale > 100.0 {
            // Large equal offsets must not overflow exp().
            for v in &mut logits {
                *v += 3e4;
            }
        }
        let labels: Vec<u32> = (0..rows).map(|i| ((i * 7 + 3) % classes) as u32).collect();
        let lt = gpu
            .upload("logits", &[rows * classes], &f32s(&logits))
            .unwrap();
        let yt = gpu.upload("labels", &[rows], &labels).unwrap();
        let losses = gpu.zeros("losses", &[rows]).unwrap();
        let correct = gpu.zeros("correct", &[rows]).unwrap();
        let dl = gpu.zeros("dlogits", &[rows * classes]).unwrap();
        let mut prog = Program::new();
        softmax_xent::forward(&mut prog, gpu, &lt, &yt, &losses, &correct, rows, classes).unwrap();
        softmax_xent::backward(&mut prog, gpu, &lt, &yt, &dl, rows, classes, 1.0).unwrap();
        prog.run(gpu).unwrap();
        let logits32: Vec<f64> = f32s(&logits).iter().map(|&v| v as f64).collect();
        let (want, want_correct) = cpu::softmax_xent(&logits32, &labels, rows, classes);
        let what = format!("softmax xent {rows}x{classes} scale {scale}");
        // Logits near 3e4 carry an f32 rounding of ~2e-3 each.
        let abs = if scale > 100.0 { 1e-2 } else { 1e-5 };
        let got: Vec<f32> = gpu.read(&losses).unwrap();
        assert!(got.iter().all(|v| v.is_finite()), "{what}: non-finite loss");
        assert_close(&got, &want, tol::Tol { abs, rel: 1e-5 }, &what);
        let c: Vec<f32> = gpu.read(&correct).unwrap();
        let wc: Vec<f64> = want_correct
            .iter()
            .map(|&b| if b { 1.0 } else { 0.0 })
            .collect();
        assert_close(&c, &wc, tol::EXACT, &format!("{what} correct"));
        let grad = cpu::softmax_xent_backward(&logits32, &labels, rows, classes);
        assert_close(
            &gpu.read::<f32>(&dl).unwrap(),
            &grad,
            tol::Tol {
                abs: abs / rows as f64 + 1e-7,
                rel: 1e-4,
            },
            &format!("{what} grad"),
        );
    }
}

#[test]
fn mse_forward_and_backward() {
    let gpu = gpu();
    let mut r = rng(8);
    for &len in &[1, 13, 5000] {
        let p = random(&mut r, len, 3.0);
        let t = random(&mut r, len, 3.0);
        let pt = gpu.upload("p", &[len], &f32s(&p)).unwrap();
        let tt = gpu.upload("t", &[len], &f32s(&t)).unwrap();
        let sq = gpu.zeros("sq", &[len]).unwrap();
        let dp = gpu.zeros("dp", &[len]).unwrap();
        let partials = gpu
            .zeros("partials", &[reduce::partial_count(len)])
            .unwrap();
        let mut prog = Program::new();
        mse::forward(&mut prog, gpu, &pt, &tt, &sq).unwrap();
        reduce::sum(&mut prog, gpu, &sq, &partials).unwrap();
        mse::backward(&mut prog, gpu, &pt, &tt, &dp, 1.0).unwrap();
        prog.run(gpu).unwrap();
        let loss = reduce::combine(&gpu.read::<f32>(&partials).unwrap()) / len as f64;
        let want = cpu::mse(&p, &t);
        assert!(
            (loss - want).abs() <= 1e-5 * want.max(1.0),
            "mse {loss} vs {want}"
        );
        assert_close(
            &gpu.read::<f32>(&dp).unwrap(),
            &cpu::mse_backward(&p, &t),
            tol::SHORT_CHAIN,
            "mse grad",
        );
    }
}

#[test]
fn loss_backwards_match_finite_differences() {
    let gpu = gpu();
    let mut g = rng(16);
    let c = 0.6; // the loss's incoming gradient
    let (rows, classes) = (5, 4);
    let logits = random(&mut g, rows * classes, 2.0);
    let labels: Vec<u32> = (0..rows).map(|i| (i % classes) as u32).collect();
    let lt = gpu
        .upload("logits", &[rows * classes], &f32s(&logits))
        .unwrap();
    let yt = gpu.upload("labels", &[rows], &labels).unwrap();
    let dl = gpu.zeros("dlogits", &[rows * classes]).unwrap();
    let pred = random(&mut g, 12, 2.0);
    let truth = random(&mut g, 12, 2.0);
    let pt = gpu.upload("pred", &[12], &f32s(&pred)).unwrap();
    let tt = gpu.upload("truth", &[12], &f32s(&truth)).unwrap();
    let dp = gpu.zeros("dpred", &[12]).unwrap();
    let mut prog = Program::new();
    softmax_xent::backward(&mut prog, gpu, &lt, &yt, &dl, rows, classes, c as f32).unwrap();
    mse::backward(&mut prog, gpu, &pt, &tt, &dp, c as f32).unwrap();
    prog.run(gpu).unwrap();
    let xent = |z: &[f64]| {
        let (losses, _) = cpu::softmax_xent(z, &labels, rows, classes);
        c * losses.iter().sum::<f64>() / rows as f64
    };
    let fd = fd::gradient(&logits, xent);
    assert_close(
        &gpu.read::<f32>(&dl).unwrap(),
        &fd,
        tol::LOSS_GRADIENT,
        "softmax xent dL/dlogits",
    );
    let fd = fd::gradient(&pred, |p| c * cpu::mse(p, &truth));
    assert_close(
        &gpu.read::<f32>(&dp).unwrap(),
        &fd,
        tol::LOSS_GRADIENT,
        "mse dL/dpred",
    );
}
