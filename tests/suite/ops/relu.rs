//! ReLU forward and backward (overwriting and accumulating) against the reference and
//! finite differences.

use super::weighted;
use crate::common::{assert_close, f32s, fd, gpu, random, rng, tol};
use crate::reference as cpu;
use etaprobe::gpu::Program;
use etaprobe::ops::relu;

#[test]
fn relu_forward_and_backward() {
    let gpu = gpu();
    let mut r = rng(4);
    // Lengths of whole vec4s take the vec4 backward: 12 and 1000 end inside an
    // invocation's four vec4s.
    for &len in &[1, 12, 63, 64, 65, 1000, 10_007] {
        let x = random(&mut r, len, 1.0);
        let dy = random(&mut r, len, 1.0);
        let prior = random(&mut r, len, 1.0);
        let xt = gpu.upload("x", &[len], &f32s(&x)).unwrap();
        let dyt = gpu.upload("dy", &[len], &f32s(&dy)).unwrap();
        let yt = gpu.zeros("y", &[len]).unwrap();
        let dxt = gpu.zeros("dx", &[len]).unwrap();
        let acc = gpu.upload("acc", &[len], &f32s(&prior)).unwrap();
        let mut prog = Program::new();
        relu::forward(&mut prog, gpu, &xt, &yt).unwrap();
        relu::backward(&mut prog, gpu, &xt, &dyt, &dxt, false).unwrap();
        relu::backward(&mut prog, gpu, &xt, &dyt, &acc, true).unwrap();
        prog.run(gpu).unwrap();
        let accumulated: Vec<f64> = cpu::relu_backward(&x, &dy)
            .iter()
            .zip(&prior)
            .map(|(g, p)| g + p)
            .collect();
        assert_close(
            &gpu.read::<f32>(&acc).unwrap(),
            &accumulated,
            tol::ONE_ROUNDING,
            "relu backward accumulated",
        );
        assert_close(
            &gpu.read::<f32>(&yt).unwrap(),
            &cpu::relu(&x),
            tol::EXACT,
            "relu",
        );
        assert_close(
            &gpu.read::<f32>(&dxt).unwrap(),
            &cpu::relu_backward(&x, &dy),
            tol::EXACT,
            "relu backward",
        );
    }
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
    let fd = fd::gradient(&x, |x| weighted(&r, &cpu::relu(x)));
    assert_close(
        &gpu.read::<f32>(&dx).unwrap(),
        &fd,
        tol::GRADIENT,
        "relu dL/dx",
    );
}
