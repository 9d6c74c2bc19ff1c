//! Sums and dot products (f32 partials combined in f64) and their backward.

use crate::common::{assert_close, f32s, fd, gpu, random, rng, tol};
use crate::reference as cpu;
use etaprobe::gpu::Program;
use etaprobe::ops::reduce;

#[test]
fn sum_and_dot_partials_combine_in_f64() {
    let gpu = gpu();
    let mut r = rng(6);
    for &len in &[1, 64, 4097, 1_000_003] {
        let x = random(&mut r, len, 1.0);
        let y = random(&mut r, len, 1.0);
        let xt = gpu.upload("x", &[len], &f32s(&x)).unwrap();
        let yt = gpu.upload("y", &[len], &f32s(&y)).unwrap();
        let n = reduce::partial_count(len);
        let ps = gpu.zeros("ps", &[n]).unwrap();
        let pd = gpu.zeros("pd", &[n]).unwrap();
        let mut prog = Program::new();
        reduce::sum(&mut prog, gpu, &xt, &ps).unwrap();
        reduce::dot(&mut prog, gpu, &xt, &yt, &pd).unwrap();
        prog.run(gpu).unwrap();
        let s = reduce::combine(&gpu.read::<f32>(&ps).unwrap());
        let d = reduce::combine(&gpu.read::<f32>(&pd).unwrap());
        // f32 products and per-chunk f32 sums: error grows like sqrt(chunk)·ulp·|terms|.
        let tol = 1e-6 * (len as f64).sqrt() * 4.0 + 1e-6;
        assert!(
            (s - cpu::sum(&x)).abs() <= tol,
            "sum of {len}: {s} vs {}",
            cpu::sum(&x)
        );
        assert!(
            (d - cpu::dot(&x, &y)).abs() <= tol,
            "dot of {len}: {d} vs {}",
            cpu::dot(&x, &y)
        );
    }
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
    let fd_s = fd::gradient(&x, |x| c * alpha * cpu::sum(x));
    let fd_d = fd::gradient(&x, |x| c * alpha * cpu::dot(x, &y));
    assert_close(
        &gpu.read::<f32>(&ds).unwrap(),
        &fd_s,
        tol::GRADIENT,
        "sum dL/dx",
    );
    assert_close(
        &gpu.read::<f32>(&dd).unwrap(),
        &fd_d,
        tol::GRADIENT,
        "dot dL/dx",
    );
}
