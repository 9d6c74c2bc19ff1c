//! The iterate average's `avg += c·(x − avg)` against the reference, on views inside a
//! larger buffer, with c read from its one-element buffer.

use super::{place, upload};
use crate::common::{assert_close, gpu, random, rng, tol};
use crate::reference as cpu;
use etaprobe::gpu::Program;
use etaprobe::ops::average;

#[test]
fn average_moves_toward_the_iterate_by_the_coefficient_in_its_buffer() {
    let gpu = gpu();
    let mut r = rng(21);
    for &len in &[1, 100, 70_001] {
        let x = random(&mut r, len, 1.0);
        let avg = random(&mut r, len, 1.0);
        let xt = upload(gpu, "x", &x);
        let at = place(gpu, "avg", &avg);
        let c = gpu.zeros("c", &[1]).unwrap();
        let mut prog = Program::new();
        average::toward(&mut prog, gpu, &xt, &at.view, &c).unwrap();
        // One recorded program, the coefficient rewritten between runs.
        let mut want = avg.clone();
        for coefficient in [0.375, 0.6] {
            gpu.write(&c, &[coefficient as f32]);
            prog.run(gpu).unwrap();
            let diff: Vec<f64> = x.iter().zip(&want).map(|(a, b)| a - b).collect();
            want = cpu::axpy(coefficient, &diff, &want);
            assert_close(&at.read(gpu), &want, tol::ELEMENTWISE, "average");
        }
    }
}
