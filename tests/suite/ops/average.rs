//! The iterate average's kernels against the reference, on views inside a larger buffer:
//! the count t goes up by one per recorded step, and `avg` moves toward `x` by
//! c = (1 + γ)/(t + γ), becoming `x` exactly at t = 1.

use super::{place, upload};
use crate::common::{assert_close, f32s, gpu, random, rng, tol};
use crate::reference as cpu;
use etaprobe::gpu::Program;
use etaprobe::ops::average;

#[test]
fn average_counts_its_updates_and_moves_toward_the_iterate() {
    let gpu = gpu();
    let mut r = rng(21);
    let gamma = 2.5;
    for &len in &[1, 100, 70_001] {
        let x = random(&mut r, len, 1.0);
        let avg = random(&mut r, len, 1.0);
        let xt = upload(gpu, "x", &x);
        let at = place(gpu, "avg", &avg);
        let count = gpu.zeros("t", &[1]).unwrap();
        let mut prog = Program::new();
        average::count_step(&mut prog, gpu, &count).unwrap();
        average::toward(&mut prog, gpu, &xt, &at.view, &count, gamma as f32).unwrap();
        // From t = 2 (c < 1), then t = 3; one recorded program for both.
        gpu.write(&count, &[1f32]);
        let mut want = avg.clone();
        for t in [2.0, 3.0] {
            prog.run(gpu).unwrap();
            assert_eq!(gpu.read::<f32>(&count).unwrap(), [t as f32]);
            let c = (1.0 + gamma) / (t + gamma);
            let diff: Vec<f64> = x.iter().zip(&want).map(|(a, b)| a - b).collect();
            want = cpu::axpy(c, &diff, &want);
            assert_close(&at.read(gpu), &want, tol::ELEMENTWISE, "average");
        }
        // t = 1 (the first update, or the first after a restart): x̄ is x, to the bit.
        gpu.write(&count, &[0f32]);
        prog.run(gpu).unwrap();
        assert_eq!(at.read(gpu), f32s(&x), "t = 1");
    }
}
