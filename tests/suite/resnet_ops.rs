//! The ResNet ops (batch normalisation, dropout, residual add, global average pooling)
//! against the plain f64 CPU reference, and their backward passes against f64 central
//! finite differences of L = Σ r ⊙ op(x) with a random upstream gradient r. Every tensor is
//! a view at an offset into a larger buffer whose other elements hold a sentinel, so the
//! kernels are checked to index from the view's start and to write only inside it.

use crate::common::{assert_close, f32s, gpu, random, rng};
use etaprobe::gpu::{Gpu, Program, Tensor};
use etaprobe::ops::batchnorm::{self, BnShape, BN_EPS, BN_MOMENTUM};
use etaprobe::ops::{add, avgpool, dropout, relu};
use etaprobe::reference as cpu;

const H: f64 = 1e-6;
const SENTINEL: f32 = 12345.0;
/// Elements before and after each view.
const MARGIN: usize = 64;

/// A view of `data` at offset [`MARGIN`] into a buffer padded with sentinels.
struct Placed {
    whole: Tensor,
    view: Tensor,
}

fn place(gpu: &Gpu, label: &str, data: &[f64]) -> Placed {
    let mut all = vec![SENTINEL; MARGIN];
    all.extend(f32s(data));
    all.extend(vec![SENTINEL; MARGIN]);
    let whole = gpu.upload(label, &[all.len()], &all).unwrap();
    let view = whole.view(MARGIN, &[data.len()]);
    Placed { whole, view }
}

fn place_zeros(gpu: &Gpu, label: &str, len: usize) -> Placed {
    place(gpu, label, &vec![0.0; len])
}

impl Placed {
    /// The view's contents, after checking that nothing outside it changed.
    fn read(&self, gpu: &Gpu) -> Vec<f32> {
        let all = gpu.read::<f32>(&self.whole).unwrap();
        let len = self.view.len();
        for (i, &v) in all[..MARGIN].iter().chain(&all[MARGIN + len..]).enumerate() {
            assert_eq!(
                v, SENTINEL,
                "{:?}: margin element {i} overwritten",
                self.whole
            );
        }
        all[MARGIN..MARGIN + len].to_vec()
    }
}

fn weighted(r: &[f64], y: &[f64]) -> f64 {
    cpu::dot(r, y)
}

fn eps() -> f64 {
    BN_EPS as f64
}

/// Batch norm shapes (batch, channels, hw): tiny; batch·hw = 600 and 400 (several strided
/// iterations per invocation of the 256-wide reductions); exactly 256; hw = 1 with more
/// channels than a workgroup has invocations. Planes of whole vec4s take the vec4 kernels:
/// one vec4 per plane, and a channel's vec4s not a multiple of the 4 per invocation.
const BN_SHAPES: &[(usize, usize, usize)] = &[
    (2, 3, 5),
    (3, 2, 4),
    (5, 3, 12),
    (3, 5, 200),
    (4, 16, 100),
    (4, 16, 64),
    (8, 300, 1),
];

/// Random BN inputs: x with a per-element offset so the mean is far from 0, γ around 1.
fn bn_inputs(seed: u64, s: &BnShape) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut g = rng(seed);
    let x: Vec<f64> = random(&mut g, s.tensor_len(), 2.0)
        .iter()
        .map(|v| (v + 3.0) as f32 as f64)
        .collect();
    let gamma: Vec<f64> = random(&mut g, s.channels, 0.5)
        .iter()
        .map(|v| v + 1.0)
        .collect();
    let beta = random(&mut g, s.channels, 0.5);
    (x, gamma, beta)
}

#[test]
fn batchnorm_train_forward_and_running_update_match_reference() {
    let gpu = gpu();
    for (case, &(batch, channels, hw)) in BN_SHAPES.iter().enumerate() {
        let s = BnShape {
            batch,
            channels,
            hw,
        };
        let (x, gamma, beta) = bn_inputs(100 + case as u64, &s);
        let mut g = rng(200 + case as u64);
        let rm0 = random(&mut g, channels, 0.5);
        let rv0: Vec<f64> = random(&mut g, channels, 0.5)
            .iter()
            .map(|v| v.abs() + 0.5)
            .collect();
        let (mean, var) = cpu::channel_stats(&x, batch, channels, hw);
        let bn = cpu::batch_norm_train(&x, batch, channels, hw, &gamma, &beta, eps());
        let (want_rm, want_rv) =
            cpu::batch_norm_running(&rm0, &rv0, &mean, &var, s.count(), BN_MOMENTUM as f64);
        for relu in [false, true] {
            let want = if relu { cpu::relu(&bn) } else { bn.clone() };
            let xt = place(gpu, "x", &x);
            let gt = place(gpu, "gamma", &gamma);
            let bt = place(gpu, "beta", &beta);
            let yt = place_zeros(gpu, "y", x.len());
            let saved = place_zeros(gpu, "saved", 2 * channels);
            let rm = place(gpu, "running mean", &rm0);
            let rv = place(gpu, "running var", &rv0);
            let mut prog = Program::new();
            // The running statistics are updated on the ReLU pass only; the other leaves
            // them out and must not touch them.
            let running = relu.then_some((&rm.view, &rv.view));
            batchnorm::forward_train(
                &mut prog,
                gpu,
                &s,
                &xt.view,
                &gt.view,
                &bt.view,
                &yt.view,
                &saved.view,
                running,
                relu,
            )
            .unwrap();
            prog.run(gpu).unwrap();
            let what = format!("{s:?} relu {relu}");
            assert_close(&yt.read(gpu), &want, 1e-5, 1e-5, &format!("{what}: y"));
            let sv = saved.read(gpu);
            let inv_std: Vec<f64> = var.iter().map(|v| 1.0 / (v + eps()).sqrt()).collect();
            assert_close(&sv[..channels], &mean, 1e-6, 1e-6, &format!("{what}: mean"));
            assert_close(
                &sv[channels..],
                &inv_std,
                0.0,
                1e-5,
                &format!("{what}: inv_std"),
            );
            let (got_rm, got_rv) = (rm.read(gpu), rv.read(gpu));
            if relu {
                assert_close(
                    &got_rm,
                    &want_rm,
                    1e-6,
                    1e-5,
                    &format!("{what}: running mean"),
                );
                assert_close(
                    &got_rv,
                    &want_rv,
                    1e-6,
                    1e-5,
                    &format!("{what}: running var"),
                );
            } else {
                assert_eq!(got_rm, f32s(&rm0), "{what}: running mean touched");
                assert_eq!(got_rv, f32s(&rv0), "{what}: running var touched");
            }
        }
    }
}

#[test]
fn batchnorm_train_forward_is_deterministic_and_needs_two_values_per_channel() {
    let gpu = gpu();
    let s = BnShape {
        batch: 4,
        channels: 16,
        hw: 100,
    };
    let (x, gamma, beta) = bn_inputs(7, &s);
    let (xt, gt, bt) = (
        place(gpu, "x", &x),
        place(gpu, "gamma", &gamma),
        place(gpu, "beta", &beta),
    );
    let yt = place_zeros(gpu, "y", x.len());
    let saved = place_zeros(gpu, "saved", 2 * s.channels);
    let mut prog = Program::new();
    batchnorm::forward_train(
        &mut prog,
        gpu,
        &s,
        &xt.view,
        &gt.view,
        &bt.view,
        &yt.view,
        &saved.view,
        None,
        false,
    )
    .unwrap();
    prog.run(gpu).unwrap();
    let (y1, s1) = (yt.read(gpu), saved.read(gpu));
    prog.run(gpu).unwrap();
    let (y2, s2) = (yt.read(gpu), saved.read(gpu));
    assert_eq!(
        y1.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        y2.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    assert_eq!(
        s1.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        s2.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );

    let one = BnShape {
        batch: 1,
        channels: 3,
        hw: 1,
    };
    let t = gpu.zeros("t", &[3]).unwrap();
    let sv = gpu.zeros("saved", &[6]).unwrap();
    let err = batchnorm::forward_train(
        &mut Program::new(),
        gpu,
        &one,
        &t,
        &t,
        &t,
        &sv,
        &sv,
        None,
        false,
    );
    assert!(err.is_err(), "one value per channel must be refused");
}

#[test]
fn batchnorm_eval_forward_matches_reference() {
    let gpu = gpu();
    for (case, &(batch, channels, hw)) in BN_SHAPES.iter().enumerate() {
        let s = BnShape {
            batch,
            channels,
            hw,
        };
        let (x, gamma, beta) = bn_inputs(300 + case as u64, &s);
        let mut g = rng(400 + case as u64);
        let rm: Vec<f64> = random(&mut g, channels, 1.0)
            .iter()
            .map(|v| v + 3.0)
            .collect();
        let rv: Vec<f64> = random(&mut g, channels, 1.0)
            .iter()
            .map(|v| v.abs() + 0.1)
            .collect();
        let bn = cpu::batch_norm_with(&x, batch, channels, hw, &gamma, &beta, &rm, &rv, eps());
        for relu in [false, true] {
            let want = if relu { cpu::relu(&bn) } else { bn.clone() };
            let (xt, gt, bt) = (
                place(gpu, "x", &x),
                place(gpu, "gamma", &gamma),
                place(gpu, "beta", &beta),
            );
            let (rmt, rvt) = (place(gpu, "rm", &rm), place(gpu, "rv", &rv));
            let yt = place_zeros(gpu, "y", x.len());
            let mut prog = Program::new();
            batchnorm::forward_eval(
                &mut prog, gpu, &s, &xt.view, &gt.view, &bt.view, &rmt.view, &rvt.view, &yt.view,
                relu,
            )
            .unwrap();
            prog.run(gpu).unwrap();
            assert_close(
                &yt.read(gpu),
                &want,
                1e-5,
                1e-5,
                &format!("eval {s:?} relu {relu}"),
            );
        }
    }
}

#[test]
fn batchnorm_backward_matches_finite_differences() {
    // L = Σ r ⊙ BN(x; γ, β) in training mode; the accumulate flags cycle through the
    // cases, with the prior contents of accumulated gradients added to the expectation.
    let gpu = gpu();
    for (case, &(batch, channels, hw)) in BN_SHAPES.iter().enumerate() {
        let s = BnShape {
            batch,
            channels,
            hw,
        };
        let (x, gamma, beta) = bn_inputs(500 + case as u64, &s);
        let mut g = rng(600 + case as u64);
        let r = random(&mut g, x.len(), 1.0);
        let prior_dx = random(&mut g, x.len(), 1.0);
        let prior_dg = random(&mut g, channels, 1.0);
        let prior_db = random(&mut g, channels, 1.0);
        let (acc_dx, acc_dg, acc_db) = (case % 2 == 1, case % 3 != 0, case % 3 == 1);
        let loss = |x: &[f64], gm: &[f64], bt: &[f64]| {
            weighted(
                &r,
                &cpu::batch_norm_train(x, batch, channels, hw, gm, bt, eps()),
            )
        };

        let (xt, gt, bt) = (
            place(gpu, "x", &x),
            place(gpu, "gamma", &gamma),
            place(gpu, "beta", &beta),
        );
        let yt = place_zeros(gpu, "y", x.len());
        let saved = place_zeros(gpu, "saved", 2 * channels);
        let rt = place(gpu, "r", &r);
        let dx = place(gpu, "dx", &prior_dx);
        let dg = place(gpu, "dgamma", &prior_dg);
        let db = place(gpu, "dbeta", &prior_db);
        let mut prog = Program::new();
        batchnorm::forward_train(
            &mut prog,
            gpu,
            &s,
            &xt.view,
            &gt.view,
            &bt.view,
            &yt.view,
            &saved.view,
            None,
            false,
        )
        .unwrap();
        batchnorm::backward(
            &mut prog,
            gpu,
            &s,
            &xt.view,
            &gt.view,
            &saved.view,
            &rt.view,
            Some((&dx.view, acc_dx)),
            (&dg.view, acc_dg),
            (&db.view, acc_db),
        )
        .unwrap();
        prog.run(gpu).unwrap();

        let with_prior = |fd: Vec<f64>, prior: &[f64], acc: bool| -> Vec<f64> {
            if acc {
                cpu::axpy(1.0, prior, &fd)
            } else {
                fd
            }
        };
        let fd_x = cpu::finite_differences(&x, H, |x| loss(x, &gamma, &beta));
        let fd_g = cpu::finite_differences(&gamma, H, |gm| loss(&x, gm, &beta));
        let fd_b = cpu::finite_differences(&beta, H, |bt| loss(&x, &gamma, bt));
        let what = format!("{s:?} accumulate dx {acc_dx} dγ {acc_dg} dβ {acc_db}");
        assert_close(
            &dx.read(gpu),
            &with_prior(fd_x, &prior_dx, acc_dx),
            1e-5,
            1e-4,
            &format!("{what}: dL/dx"),
        );
        assert_close(
            &dg.read(gpu),
            &with_prior(fd_g, &prior_dg, acc_dg),
            1e-5,
            1e-4,
            &format!("{what}: dL/dγ"),
        );
        assert_close(
            &db.read(gpu),
            &with_prior(fd_b, &prior_db, acc_db),
            1e-5,
            1e-4,
            &format!("{what}: dL/dβ"),
        );
    }
}

#[test]
fn batchnorm_relu_backward_chain_and_parameter_only_gradients_match_finite_differences() {
    // y = relu(BN(x)): the caller takes the ReLU off with relu::backward against the
    // output, then the BN backward; a second backward without dx accumulates dγ and dβ.
    let gpu = gpu();
    for (case, &(batch, channels, hw)) in [(3, 5, 200), (8, 300, 1)].iter().enumerate() {
        let s = BnShape {
            batch,
            channels,
            hw,
        };
        let (x, gamma, beta) = bn_inputs(700 + case as u64, &s);
        let mut g = rng(800 + case as u64);
        let r = random(&mut g, x.len(), 1.0);
        let loss = |x: &[f64], gm: &[f64], bt: &[f64]| {
            let y = cpu::batch_norm_train(x, batch, channels, hw, gm, bt, eps());
            weighted(&r, &cpu::relu(&y))
        };
        let (xt, gt, bt) = (
            place(gpu, "x", &x),
            place(gpu, "gamma", &gamma),
            place(gpu, "beta", &beta),
        );
        let yt = place_zeros(gpu, "y", x.len());
        let saved = place_zeros(gpu, "saved", 2 * channels);
        let rt = place(gpu, "r", &r);
        let dz = place_zeros(gpu, "dz", x.len());
        let dx = place_zeros(gpu, "dx", x.len());
        let dg = place_zeros(gpu, "dgamma", channels);
        let db = place_zeros(gpu, "dbeta", channels);
        let (dg2, db2) = (
            place_zeros(gpu, "dgamma 2", channels),
            place_zeros(gpu, "dbeta 2", channels),
        );
        let mut prog = Program::new();
        batchnorm::forward_train(
            &mut prog,
            gpu,
            &s,
            &xt.view,
            &gt.view,
            &bt.view,
            &yt.view,
            &saved.view,
            None,
            true,
        )
        .unwrap();
        relu::backward(&mut prog, gpu, &yt.view, &rt.view, &dz.view, false).unwrap();
        batchnorm::backward(
            &mut prog,
            gpu,
            &s,
            &xt.view,
            &gt.view,
            &saved.view,
            &dz.view,
            Some((&dx.view, false)),
            (&dg.view, false),
            (&db.view, false),
        )
        .unwrap();
        // Without dx, twice with accumulation: twice the parameter gradients.
        for acc in [false, true] {
            batchnorm::backward(
                &mut prog,
                gpu,
                &s,
                &xt.view,
                &gt.view,
                &saved.view,
                &dz.view,
                None,
                (&dg2.view, acc),
                (&db2.view, acc),
            )
            .unwrap();
        }
        prog.run(gpu).unwrap();
        let fd_x = cpu::finite_differences(&x, H, |x| loss(x, &gamma, &beta));
        let fd_g = cpu::finite_differences(&gamma, H, |gm| loss(&x, gm, &beta));
        let fd_b = cpu::finite_differences(&beta, H, |bt| loss(&x, &gamma, bt));
        let what = format!("relu {s:?}");
        assert_close(&dx.read(gpu), &fd_x, 1e-5, 1e-4, &format!("{what}: dL/dx"));
        assert_close(&dg.read(gpu), &fd_g, 1e-5, 1e-4, &format!("{what}: dL/dγ"));
        assert_close(&db.read(gpu), &fd_b, 1e-5, 1e-4, &format!("{what}: dL/dβ"));
        let twice = |v: &[f64]| cpu::scale(2.0, v);
        assert_close(
            &dg2.read(gpu),
            &twice(&fd_g),
            2e-5,
            1e-4,
            &format!("{what}: 2 dγ"),
        );
        assert_close(
            &db2.read(gpu),
            &twice(&fd_b),
            2e-5,
            1e-4,
            &format!("{what}: 2 dβ"),
        );
    }
}

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
        let rngt = gpu.upload("rng", &[2], &[seed, step]).unwrap();
        let mut prog = Program::new();
        dropout::forward_train(&mut prog, gpu, &xt.view, &rngt, p, &mask.view, &yt.view).unwrap();
        prog.run(gpu).unwrap();
        let want = cpu::dropout_mask(seed, step, len, p);
        let got = mask.read(gpu);
        assert_eq!(
            bits(&got),
            bits(&want),
            "p {p} seed {seed} step {step}: mask"
        );
        let want_y: Vec<f64> = x.iter().zip(&want).map(|(&a, &m)| a * m as f64).collect();
        assert_close(&yt.read(gpu), &want_y, 0.0, 1e-7, &format!("p {p}: y"));
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
    let rngt = gpu.zeros("rng", &[2]).unwrap();
    let mut prog = Program::new();
    dropout::forward_train(&mut prog, gpu, &x, &rngt, p, &mask, &y).unwrap();
    let draw = |seed: u32, step: u32| -> Vec<bool> {
        gpu.write(&rngt, &[seed, step]);
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
    assert_close(&yt.read(gpu), &times_mask(&x), 0.0, 1e-7, "apply");
    let fd = cpu::finite_differences(&x, H, |x| weighted(&r, &times_mask(x)));
    assert_close(&dx.read(gpu), &fd, 1e-6, 1e-5, "dropout dL/dx");
    assert_close(
        &dx_acc.read(gpu),
        &cpu::axpy(1.0, &prior, &fd),
        1e-6,
        1e-5,
        "dropout dL/dx accumulated",
    );
}

#[test]
fn residual_add_forward_and_backward_match_reference() {
    // y = relu(a + b): the backward is relu::backward against y, to both summands.
    let gpu = gpu();
    // 1000 takes the vec4 kernel (ending inside an invocation's four vec4s), 999 the
    // scalar one.
    for len in [1000, 999] {
        residual_add_case(gpu, len);
    }
}

fn residual_add_case(gpu: &Gpu, len: usize) {
    let mut g = rng(902);
    let a = random(&mut g, len, 1.0);
    let b = random(&mut g, len, 1.0);
    let r = random(&mut g, len, 1.0);
    let sum = cpu::axpy(1.0, &a, &b);
    for relu_on in [false, true] {
        let want = if relu_on {
            cpu::relu(&sum)
        } else {
            sum.clone()
        };
        let (at, bt) = (place(gpu, "a", &a), place(gpu, "b", &b));
        let yt = place_zeros(gpu, "y", len);
        let acc = place(gpu, "acc", &b);
        let mut prog = Program::new();
        add::forward(&mut prog, gpu, &at.view, &bt.view, &yt.view, relu_on).unwrap();
        add::accumulate_relu(&mut prog, gpu, &at.view, &acc.view, relu_on).unwrap();
        prog.run(gpu).unwrap();
        assert_close(
            &yt.read(gpu),
            &want,
            1e-7,
            1e-7,
            &format!("add relu {relu_on}"),
        );
        assert_close(
            &acc.read(gpu),
            &want,
            1e-7,
            1e-7,
            &format!("add in place relu {relu_on}"),
        );
    }
    let plain = place(gpu, "plain", &b);
    let at = place(gpu, "a", &a);
    let mut prog = Program::new();
    add::accumulate(&mut prog, gpu, &at.view, &plain.view).unwrap();
    prog.run(gpu).unwrap();
    assert_close(&plain.read(gpu), &sum, 1e-7, 1e-7, "y += x");

    let (at, bt, rt) = (
        place(gpu, "a", &a),
        place(gpu, "b", &b),
        place(gpu, "r", &r),
    );
    let yt = place_zeros(gpu, "y", len);
    let dy = place_zeros(gpu, "dy", len);
    let mut prog = Program::new();
    add::forward(&mut prog, gpu, &at.view, &bt.view, &yt.view, true).unwrap();
    relu::backward(&mut prog, gpu, &yt.view, &rt.view, &dy.view, false).unwrap();
    prog.run(gpu).unwrap();
    let got = dy.read(gpu);
    let fd_a = cpu::finite_differences(&a, H, |a| weighted(&r, &cpu::relu(&cpu::axpy(1.0, a, &b))));
    let fd_b = cpu::finite_differences(&b, H, |b| weighted(&r, &cpu::relu(&cpu::axpy(1.0, &a, b))));
    assert_close(&got, &fd_a, 1e-6, 1e-5, "add dL/da");
    assert_close(&got, &fd_b, 1e-6, 1e-5, "add dL/db");
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
        assert_close(&yt.read(gpu), &want, 1e-6, 1e-5, &what);
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
        let fd = cpu::finite_differences(&x, H, |x| {
            weighted(&r, &cpu::global_avg_pool(x, planes, hw))
        });
        let what = format!("avgpool {batch}×{channels}×{hw}");
        assert_close(&dx.read(gpu), &fd, 1e-6, 1e-5, &format!("{what}: dL/dx"));
        assert_close(
            &dx_acc.read(gpu),
            &cpu::axpy(1.0, &prior, &fd),
            1e-6,
            1e-5,
            &format!("{what}: dL/dx accumulated"),
        );
    }
}
