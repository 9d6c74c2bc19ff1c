//! Every backward against f64 central finite differences of the CPU reference, with the op
//! placed mid-graph: the scalar checked is L = Σ r ⊙ op(x) with a random upstream gradient
//! r (or c·loss for the losses), so a backward that ignored its incoming gradient would
//! return the gradient of Σ op(x) instead and fail.

use crate::common::{assert_close, f32s, gpu, random, rng};
use etaprobe::gpu::Program;
use etaprobe::ops::matmul::{self, Epilogue, Mat};
use etaprobe::ops::{axpy, bias, mse, reduce, relu, softmax_xent};
use etaprobe::reference as cpu;

const H: f64 = 1e-6;

fn weighted(r: &[f64], y: &[f64]) -> f64 {
    cpu::dot(r, y)
}

#[test]
fn linear_layer_backward_matches_finite_differences() {
    // y = relu(x·W + b), L = Σ r ⊙ y: exercises matmul (both transposed products), the
    // bias gradient and the ReLU gradient in the order a layer chains them.
    let gpu = gpu();
    let mut g = rng(11);
    let (m, k, n) = (6, 5, 7);
    let x = random(&mut g, m * k, 1.0);
    let w = random(&mut g, k * n, 1.0);
    let b = random(&mut g, n, 0.5);
    let r = random(&mut g, m * n, 1.0);
    let forward = |x: &[f64], w: &[f64], b: &[f64]| {
        cpu::relu(&cpu::bias_add(&cpu::matmul(x, w, m, k, n), b, m, n))
    };

    let xt = gpu.upload("x", &[m * k], &f32s(&x)).unwrap();
    let wt = gpu.upload("w", &[k * n], &f32s(&w)).unwrap();
    let bt = gpu.upload("b", &[n], &f32s(&b)).unwrap();
    let rt = gpu.upload("r", &[m * n], &f32s(&r)).unwrap();
    let yt = gpu.zeros("y", &[m * n]).unwrap();
    let dz = gpu.zeros("dz", &[m * n]).unwrap();
    let dx = gpu.zeros("dx", &[m * k]).unwrap();
    let dw = gpu.zeros("dw", &[k * n]).unwrap();
    let db = gpu.zeros("db", &[n]).unwrap();
    let mut prog = Program::new();
    let epi = Epilogue {
        bias: Some((&bt, 0)),
        relu: true,
        accumulate: false,
        ..Default::default()
    };
    let (xm, wm, ym) = (
        Mat::new(&xt, m, k),
        Mat::new(&wt, k, n),
        Mat::new(&yt, m, n),
    );
    matmul::record(&mut prog, gpu, &xm, &wm, &ym, 1, epi).unwrap();
    relu::backward(&mut prog, gpu, &yt, &rt, &dz, false).unwrap();
    let dzm = Mat::new(&dz, m, n);
    let (dxm, dwm) = (Mat::new(&dx, m, k), Mat::new(&dw, k, n));
    matmul::backward(
        &mut prog,
        gpu,
        &xm,
        &wm,
        &dzm,
        1,
        Some((&dxm, false)),
        Some((&dwm, false)),
    )
    .unwrap();
    bias::backward(&mut prog, gpu, &dz, &db, m, n, false).unwrap();
    prog.run(gpu).unwrap();

    let fd_x = cpu::finite_differences(&x, H, |x| weighted(&r, &forward(x, &w, &b)));
    let fd_w = cpu::finite_differences(&w, H, |w| weighted(&r, &forward(&x, w, &b)));
    let fd_b = cpu::finite_differences(&b, H, |b| weighted(&r, &forward(&x, &w, b)));
    assert_close(&gpu.read::<f32>(&dx).unwrap(), &fd_x, 1e-5, 1e-4, "dL/dx");
    assert_close(&gpu.read::<f32>(&dw).unwrap(), &fd_w, 1e-5, 1e-4, "dL/dW");
    assert_close(&gpu.read::<f32>(&db).unwrap(), &fd_b, 1e-5, 1e-4, "dL/db");
}

#[test]
fn batched_matmul_with_shared_weight_sums_its_gradient_over_the_batch() {
    let gpu = gpu();
    let mut g = rng(12);
    let (batch, m, k, n) = (3, 4, 6, 5);
    let a = random(&mut g, batch * m * k, 1.0);
    let w = random(&mut g, k * n, 1.0);
    let r = random(&mut g, batch * m * n, 1.0);
    let forward = |a: &[f64], w: &[f64]| {
        (0..batch)
            .flat_map(|i| cpu::matmul(&a[i * m * k..(i + 1) * m * k], w, m, k, n))
            .collect::<Vec<f64>>()
    };
    let at = gpu.upload("a", &[batch * m * k], &f32s(&a)).unwrap();
    let wt = gpu.upload("w", &[k * n], &f32s(&w)).unwrap();
    let rt = gpu.upload("r", &[batch * m * n], &f32s(&r)).unwrap();
    let da = gpu.zeros("da", &[batch * m * k]).unwrap();
    let dw = gpu.zeros("dw", &[k * n]).unwrap();
    let mut prog = Program::new();
    let (am, wm) = (Mat::new(&at, m, k), Mat::new(&wt, k, n).shared());
    let (dam, dwm) = (Mat::new(&da, m, k), Mat::new(&dw, k, n));
    matmul::backward(
        &mut prog,
        gpu,
        &am,
        &wm,
        &Mat::new(&rt, m, n),
        batch,
        Some((&dam, false)),
        Some((&dwm, false)),
    )
    .unwrap();
    prog.run(gpu).unwrap();
    let fd_a = cpu::finite_differences(&a, H, |a| weighted(&r, &forward(a, &w)));
    let fd_w = cpu::finite_differences(&w, H, |w| weighted(&r, &forward(&a, w)));
    assert_close(&gpu.read::<f32>(&da).unwrap(), &fd_a, 1e-5, 1e-4, "dL/dA");
    assert_close(&gpu.read::<f32>(&dw).unwrap(), &fd_w, 1e-5, 1e-4, "dL/dW");
}

#[test]
fn relu_backward_matches_finite_differences() {
    let gpu = gpu();
    let mut g = rng(13);
    let x = random(&mut g, 50, 1.0);
    let r = random(&mut g, 50, 1.0);
    let (xt, rt, dx) = (
        gpu.upload("x", &[50], &f32s(&x)).unwrap(),
        gpu.upload("r", &[50], &f32s(&r)).unwrap(),
        gpu.zeros("dx", &[50]).unwrap(),
    );
    let mut prog = Program::new();
    relu::backward(&mut prog, gpu, &xt, &rt, &dx, false).unwrap();
    prog.run(gpu).unwrap();
    let fd = cpu::finite_differences(&x, H, |x| weighted(&r, &cpu::relu(x)));
    assert_close(
        &gpu.read::<f32>(&dx).unwrap(),
        &fd,
        1e-5,
        1e-4,
        "relu dL/dx",
    );
}

#[test]
fn axpy_and_scale_backward_match_finite_differences() {
    let gpu = gpu();
    let mut g = rng(14);
    let (x, y, r) = (
        random(&mut g, 20, 1.0),
        random(&mut g, 20, 1.0),
        random(&mut g, 20, 1.0),
    );
    let alpha = -1.75;
    let rt = gpu.upload("r", &[20], &f32s(&r)).unwrap();
    let dx = gpu.zeros("dx", &[20]).unwrap();
    let mut prog = Program::new();
    axpy::backward(&mut prog, gpu, alpha as f32, &rt, &dx, false).unwrap();
    prog.run(gpu).unwrap();
    let fd_axpy = cpu::finite_differences(&x, H, |x| weighted(&r, &cpu::axpy(alpha, x, &y)));
    let fd_scale = cpu::finite_differences(&x, H, |x| weighted(&r, &cpu::scale(alpha, x)));
    let got: Vec<f32> = gpu.read(&dx).unwrap();
    assert_close(&got, &fd_axpy, 1e-5, 1e-4, "axpy dL/dx");
    assert_close(&got, &fd_scale, 1e-5, 1e-4, "scale dL/dx");
}

#[test]
fn sum_and_dot_backward_match_finite_differences() {
    let gpu = gpu();
    let mut g = rng(15);
    let (x, y) = (random(&mut g, 30, 1.0), random(&mut g, 30, 1.0));
    let (alpha, c) = (0.75, -1.3);
    let ct = gpu.upload("c", &[1], &[c as f32]).unwrap();
    let yt = gpu.upload("y", &[30], &f32s(&y)).unwrap();
    let (ds, dd) = (
        gpu.zeros("ds", &[30]).unwrap(),
        gpu.zeros("dd", &[30]).unwrap(),
    );
    let mut prog = Program::new();
    reduce::sum_backward(&mut prog, gpu, alpha as f32, &ct, &ds).unwrap();
    reduce::dot_backward(&mut prog, gpu, alpha as f32, &ct, &yt, &dd).unwrap();
    prog.run(gpu).unwrap();
    let fd_s = cpu::finite_differences(&x, H, |x| c * alpha * cpu::sum(x));
    let fd_d = cpu::finite_differences(&x, H, |x| c * alpha * cpu::dot(x, &y));
    assert_close(
        &gpu.read::<f32>(&ds).unwrap(),
        &fd_s,
        1e-5,
        1e-4,
        "sum dL/dx",
    );
    assert_close(
        &gpu.read::<f32>(&dd).unwrap(),
        &fd_d,
        1e-5,
        1e-4,
        "dot dL/dx",
    );
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
    let fd = cpu::finite_differences(&logits, H, xent);
    assert_close(
        &gpu.read::<f32>(&dl).unwrap(),
        &fd,
        1e-6,
        1e-4,
        "softmax xent dL/dlogits",
    );
    let fd = cpu::finite_differences(&pred, H, |p| c * cpu::mse(p, &truth));
    assert_close(
        &gpu.read::<f32>(&dp).unwrap(),
        &fd,
        1e-6,
        1e-4,
        "mse dL/dpred",
    );
}
