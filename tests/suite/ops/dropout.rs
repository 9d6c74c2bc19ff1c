//! Dropout: the mask bit for bit as the reference draws it, its randomness per step and
//! seed, and the backward against finite differences, on views surrounded by sentinels.

use super::{place, place_zeros, weighted};
use crate::common::{assert_close, fd, gpu, random, rng, tol};
use crate::reference as cpu;
use etaprobe::gpu::Program;
use etaprobe::ops::dropout;

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn dropout_mask_matches_reference_bit_for_bit() {
    let gpu = gpu();
    let len = 1000;
    let mut g = rng(900);
    let x = random(&mut g, len, 1.0);
    for (p, seed, step) in [
        (0.0f32, 1u32, 0u32),
        (0.1, 42, 7),
        (0.5, 42, 8),
        (0.9, 0xdead_beef, 123_456),
        (1.0, 3, 3),
    ] {
        let xt = place(gpu, "x", &x);
        let mask = place_zeros(gpu, "mask", len);
        let yt = place_zeros(gpu, "y", len);
        let rngt = gpu.upload("rng", &[3], &[seed, step, 0]).unwrap();
        let mut prog = Program::new();
        let size = 10;
        dropout::forward_train(
            &mut prog, gpu, &xt.view, &rngt, p, size, &mask.view, &yt.view,
        )
        .unwrap();
        prog.run(gpu).unwrap();
        let want = cpu::dropout_mask(seed, step, len, p);
        let got = mask.read(gpu);
        assert_eq!(
            bits(&got),
            bits(&want),
            "p {p} seed {seed} step {step}: mask"
        );
        let want_y: Vec<f64> = x.iter().zip(&want).map(|(&a, &m)| a * m as f64).collect();
        assert_close(&yt.read(gpu), &want_y, tol::MASKED, &format!("p {p}: y"));
        if p == 0.0 {
            assert!(got.iter().all(|&m| m == 1.0));
        }
        if p == 1.0 {
            assert!(got.iter().all(|&m| m == 0.0));
        }
    }
}

#[test]
fn dropout_masks_are_random_per_step_and_reproducible() {
    // One recorded program, the host rewriting (seed, step) between runs.
    let gpu = gpu();
    let n = 200_000;
    let p = 0.3f32;
    let x = gpu.upload("x", &[n], &vec![1.0f32; n]).unwrap();
    let mask = gpu.zeros("mask", &[n]).unwrap();
    let y = gpu.zeros("y", &[n]).unwrap();
    let rngt = gpu.zeros("rng", &[3]).unwrap();
    let mut prog = Program::new();
    dropout::forward_train(&mut prog, gpu, &x, &rngt, p, 1000, &mask, &y).unwrap();
    let draw = |seed: u32, step: u32| -> Vec<bool> {
        gpu.write(&rngt, &[seed, step, 0]);
        prog.run(gpu).unwrap();
        let m = gpu.read::<f32>(&mask).unwrap();
        let scale = dropout::keep_scale(p);
        assert!(m.iter().all(|&v| v == 0.0 || v == scale));
        m.iter().map(|&v| v != 0.0).collect()
    };
    let (q, nf) = (1.0 - p as f64, n as f64);
    let within = |count: usize, prob: f64, what: &str| {
        let sigma = (nf * prob * (1.0 - prob)).sqrt();
        let dev = (count as f64 - nf * prob).abs() / sigma;
        assert!(
            dev < 5.0,
            "{what}: {count} of {n}, expected {:.0} ({dev:.1}σ off)",
            nf * prob
        );
    };
    let a = draw(5, 10);
    let b = draw(5, 11);
    let c = draw(6, 10);
    let a2 = draw(5, 10);
    assert_eq!(a, a2, "the same (seed, step) must give the same mask");
    within(a.iter().filter(|&&k| k).count(), q, "kept fraction");
    within(
        b.iter().filter(|&&k| k).count(),
        q,
        "kept fraction, next step",
    );
    // Independent masks differ where exactly one keeps: probability 2q(1 − q).
    let differ = |u: &[bool], v: &[bool]| u.iter().zip(v).filter(|(a, b)| a != b).count();
    within(differ(&a, &b), 2.0 * q * (1.0 - q), "steps 10 and 11");
    within(differ(&a, &c), 2.0 * q * (1.0 - q), "seeds 5 and 6");
    // Neighbours are independent too.
    let pairs = a.windows(2).filter(|w| w[0] && w[1]).count();
    within(pairs, q * q, "adjacent kept pairs");
}

#[test]
fn a_shard_of_a_batch_draws_the_whole_batch_masks_of_its_samples() {
    // Data-parallel training: a rank holding samples 3..5 of a batch of 5 (40 elements
    // each) draws, from (seed, step, first sample 3), the masks one process draws for them.
    let gpu = gpu();
    let (size, samples, p) = (40, 5, 0.5f32);
    let whole = cpu::dropout_mask(11, 6, samples * size, p);
    let mut masks = Vec::new();
    for (first, count) in [(0, 3), (3, 2)] {
        let len = count * size;
        let x = place(gpu, "x", &vec![1.0; len]);
        let mask = place_zeros(gpu, "mask", len);
        let y = place_zeros(gpu, "y", len);
        let rngt = gpu.upload("rng", &[3], &[11, 6, first]).unwrap();
        let mut prog = Program::new();
        dropout::forward_train(&mut prog, gpu, &x.view, &rngt, p, size, &mask.view, &y.view)
            .unwrap();
        prog.run(gpu).unwrap();
        let got = mask.read(gpu);
        let from = first as usize * size;
        assert_eq!(
            bits(&got),
            bits(&whole[from..from + len]),
            "samples from {first}"
        );
        masks.extend(got);
    }
    assert_eq!(bits(&masks), bits(&whole), "the shards' masks joined");
    // Not a mask that ignores the position: the two shards' first samples differ.
    assert_ne!(bits(&whole[..size]), bits(&whole[3 * size..4 * size]));
}

#[test]
fn dropout_apply_and_backward_match_reference_and_finite_differences() {
    let gpu = gpu();
    let len = 700;
    let mut g = rng(901);
    let x = random(&mut g, len, 1.0);
    let r = random(&mut g, len, 1.0);
    let prior = random(&mut g, len, 1.0);
    let mask: Vec<f64> = cpu::dropout_mask(9, 4, len, 0.25)
        .iter()
        .map(|&m| m as f64)
        .collect();
    let times_mask = |x: &[f64]| -> Vec<f64> { x.iter().zip(&mask).map(|(a, m)| a * m).collect() };
    let (xt, mt, rt) = (
        place(gpu, "x", &x),
        place(gpu, "mask", &mask),
        place(gpu, "r", &r),
    );
    let yt = place_zeros(gpu, "y", len);
    let dx = place_zeros(gpu, "dx", len);
    let dx_acc = place(gpu, "dx acc", &prior);
    let mut prog = Program::new();
    dropout::apply(&mut prog, gpu, &xt.view, &mt.view, &yt.view).unwrap();
    dropout::backward(&mut prog, gpu, &rt.view, &mt.view, &dx.view, false).unwrap();
    dropout::backward(&mut prog, gpu, &rt.view, &mt.view, &dx_acc.view, true).unwrap();
    prog.run(gpu).unwrap();
    assert_close(&yt.read(gpu), &times_mask(&x), tol::MASKED, "apply");
    let fd = fd::gradient(&x, |x| weighted(&r, &times_mask(x)));
    assert_close(&dx.read(gpu), &fd, tol::SHORT_CHAIN, "dropout dL/dx");
    assert_close(
        &dx_acc.read(gpu),
        &cpu::axpy(1.0, &prior, &fd),
        tol::SHORT_CHAIN,
        "dropout dL/dx accumulated",
    );
}
