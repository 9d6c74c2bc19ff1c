//! `y + αx`, `αx` and their backward against the reference and finite differences.

use super::weighted;
use crate::common::{assert_close, f32s, fd, gpu, random, rng, tol};
use crate::reference as cpu;
use etaprobe::gpu::Program;
use etaprobe::ops::axpy;

#[test]
fn axpy_and_scale() {
    let gpu = gpu();
    let mut r = rng(5);
    for &len in &[1, 100, 70_001] {
        let x = random(&mut r, len, 1.0);
        let y = random(&mut r, len, 1.0);
        let xt = gpu.upload("x", &[len], &f32s(&x)).unwrap();
        let yt = gpu.upload("y", &[len], &f32s(&y)).unwrap();
        let st = gpu.zeros("s", &[len]).unwrap();
        let mut prog = Program::new();
        axpy::axpy(&mut prog, gpu, -0.375, &xt, &yt).unwrap();
        axpy::scale(&mut prog, gpu, 2.5, &xt, &st).unwrap();
        prog.run(gpu).unwrap();
        assert_close(
            &gpu.read::<f32>(&yt).unwrap(),
            &cpu::axpy(-0.375, &x, &y),
            tol::ELEMENTWISE,
            "axpy",
        );
        assert_close(
            &gpu.read::<f32>(&st).unwrap(),
            &cpu::scale(2.5, &x),
            tol::ELEMENTWISE,
            "scale",
        );
    }
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
    let fd_axpy = fd::gradient(&x, |x| weighted(&r, &cpu::axpy(alpha, x, &y)));
    let fd_scale = fd::gradient(&x, |x| weighted(&r, &cpu::scale(alpha, x)));
    let got: Vec<f32> = gpu.read(&dx).unwrap();
    assert_close(&got, &fd_axpy, tol::GRADIENT, "axpy dL/dx");
    assert_close(&got, &fd_scale, tol::GRADIENT, "scale dL/dx");
}
