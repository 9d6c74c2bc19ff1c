//! Batch normalisation in training mode (with and without the running-statistics update
//! and the fused ReLU) and evaluation mode against the reference, and its backward against
//! finite differences, on views surrounded by sentinels.

use super::{place, place_zeros, weighted};
use crate::common::{assert_close, f32s, fd, gpu, random, rng, tol};
use crate::reference as cpu;
use etaprobe::gpu::Program;
use etaprobe::ops::batchnorm::{self, BnShape, BN_EPS, BN_MOMENTUM};
use etaprobe::ops::relu;

fn eps() -> f64 {
    BN_EPS as f64
}

/// Batch norm shapes (batch, channels, hw): tiny; batch·hw = 600 and 400 (several strided
/// iterations per invocation of the 256-wide reductions); exactly 256; hw = 1 with more
/// channels than a workgroup has invocations. Planes of whole vec4s take the vec4 kernels:
/// one vec4 per plane, and a channel's vec4s not a multiple of the 4 per invocation; more
/// vec4s per channel than the reductions' 256 invocations, in planes of 75 vec4s (a step
/// of 256 crosses 3 planes and 31 vec4s) and of 300 (a step stays within a plane or
/// crosses into the next).
const BN_SHAPES: &[(usize, usize, usize)] = &[
    (2, 3, 5),
    (3, 2, 4),
    (5, 3, 12),
    (3, 5, 200),
    (4, 16, 100),
    (4, 16, 64),
    (8, 300, 1),
    (5, 2, 300),
    (3, 2, 1200),
];

/// Each shape with the reductions at the GPU's width (256 invocations per channel) and at
/// the software adapter's (8), whichever adapter runs the tests.
fn at_both_widths(
    shapes: &[(usize, usize, usize)],
) -> impl Iterator<Item = (usize, (usize, usize, usize), u32)> + '_ {
    shapes
        .iter()
        .enumerate()
        .flat_map(|(case, &shape)| [256, 8].map(|width| (case, shape, width)))
}

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
    for (case, (batch, channels, hw), width) in at_both_widths(BN_SHAPES) {
        let _width = batchnorm::pin_reduction_width(width);
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
            let what = format!("{s:?} width {width} relu {relu}");
            assert_close(&yt.read(gpu), &want, tol::BATCH_NORM, &format!("{what}: y"));
            let sv = saved.read(gpu);
            let inv_std: Vec<f64> = var.iter().map(|v| 1.0 / (v + eps()).sqrt()).collect();
            assert_close(
                &sv[..channels],
                &mean,
                tol::ELEMENTWISE,
                &format!("{what}: mean"),
            );
            assert_close(
                &sv[channels..],
                &inv_std,
                tol::Tol {
                    abs: 0.0,
                    rel: 1e-5,
                },
                &format!("{what}: inv_std"),
            );
            let (got_rm, got_rv) = (rm.read(gpu), rv.read(gpu));
            if relu {
                assert_close(
                    &got_rm,
                    &want_rm,
                    tol::SHORT_CHAIN,
                    &format!("{what}: running mean"),
                );
                assert_close(
                    &got_rv,
                    &want_rv,
                    tol::SHORT_CHAIN,
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
fn batchnorm_statistics_keep_their_precision_far_from_zero() {
    // Values around 100 with unit spread: Σx² − n·mean² in f32 would lose the variance to
    // cancellation (relative error ~n·2⁻²⁴·10⁴); the one-pass Welford join must not.
    let gpu = gpu();
    for (case, (batch, channels, hw), width) in at_both_widths(&[(4, 3, 256), (3, 2, 301)]) {
        let _width = batchnorm::pin_reduction_width(width);
        let s = BnShape {
            batch,
            channels,
            hw,
        };
        let mut g = rng(300 + case as u64);
        let x: Vec<f64> = random(&mut g, s.tensor_len(), 1.7)
            .iter()
            .map(|v| (v + 100.0) as f32 as f64)
            .collect();
        let (mean, var) = cpu::channel_stats(&x, batch, channels, hw);
        let ones = vec![1.0; channels];
        let zeros = vec![0.0; channels];
        let xt = place(gpu, "x", &x);
        let gt = place(gpu, "gamma", &ones);
        let bt = place(gpu, "beta", &zeros);
        let yt = place_zeros(gpu, "y", x.len());
        let saved = place_zeros(gpu, "saved", 2 * channels);
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
        let sv = saved.read(gpu);
        let what = format!("{s:?} width {width}");
        let close = tol::Tol {
            abs: 0.0,
            rel: 1e-5,
        };
        assert_close(&sv[..channels], &mean, close, &format!("{what}: mean"));
        let inv_std: Vec<f64> = var.iter().map(|v| 1.0 / (v + eps()).sqrt()).collect();
        assert_close(
            &sv[channels..],
            &inv_std,
            close,
            &format!("{what}: inv_std"),
        );
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
                tol::BATCH_NORM,
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
    for (case, (batch, channels, hw), width) in at_both_widths(BN_SHAPES) {
        let _width = batchnorm::pin_reduction_width(width);
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
            None,
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
        let fd_x = fd::gradient(&x, |x| loss(x, &gamma, &beta));
        let fd_g = fd::gradient(&gamma, |gm| loss(&x, gm, &beta));
        let fd_b = fd::gradient(&beta, |bt| loss(&x, &gamma, bt));
        let what = format!("{s:?} width {width} accumulate dx {acc_dx} dγ {acc_dg} dβ {acc_db}");
        assert_close(
            &dx.read(gpu),
            &with_prior(fd_x, &prior_dx, acc_dx),
            tol::GRADIENT,
            &format!("{what}: dL/dx"),
        );
        assert_close(
            &dg.read(gpu),
            &with_prior(fd_g, &prior_dg, acc_dg),
            tol::GRADIENT,
            &format!("{what}: dL/dγ"),
        );
        assert_close(
            &db.read(gpu),
            &with_prior(fd_b, &prior_db, acc_db),
            tol::GRADIENT,
            &format!("{what}: dL/dβ"),
        );
    }
}

#[test]
fn batchnorm_relu_backward_chain_and_parameter_only_gradients_match_finite_differences() {
    // y = relu(BN(x)): the caller takes the ReLU off with relu::backward against the
    // output, then the BN backward; a second backward without dx accumulates dγ and dβ.
    // Then the BN backward takes the ReLU off itself.
    let gpu = gpu();
    for (case, (batch, channels, hw), width) in at_both_widths(&[(3, 5, 200), (8, 300, 1)]) {
        let _width = batchnorm::pin_reduction_width(width);
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
            None,
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
                None,
            )
            .unwrap();
        }
        // The ReLU taken off inside the BN backward: the gradient after the ReLU goes in,
        // the mask comes from x, γ and β; with dx and without.
        let fused = [
            place_zeros(gpu, "fused dx", x.len()),
            place_zeros(gpu, "fused dgamma", channels),
            place_zeros(gpu, "fused dbeta", channels),
            place_zeros(gpu, "fused dgamma 2", channels),
            place_zeros(gpu, "fused dbeta 2", channels),
        ];
        for with_dx in [true, false] {
            let (dgf, dbf) = if with_dx {
                (&fused[1], &fused[2])
            } else {
                (&fused[3], &fused[4])
            };
            batchnorm::backward(
                &mut prog,
                gpu,
                &s,
                &xt.view,
                &gt.view,
                &saved.view,
                &rt.view,
                with_dx.then_some((&fused[0].view, false)),
                (&dgf.view, false),
                (&dbf.view, false),
                Some(&bt.view),
            )
            .unwrap();
        }
        prog.run(gpu).unwrap();
        let fd_x = fd::gradient(&x, |x| loss(x, &gamma, &beta));
        let fd_g = fd::gradient(&gamma, |gm| loss(&x, gm, &beta));
        let fd_b = fd::gradient(&beta, |bt| loss(&x, &gamma, bt));
        let what = format!("relu {s:?} width {width}");
        assert_close(
            &dx.read(gpu),
            &fd_x,
            tol::GRADIENT,
            &format!("{what}: dL/dx"),
        );
        assert_close(
            &dg.read(gpu),
            &fd_g,
            tol::GRADIENT,
            &format!("{what}: dL/dγ"),
        );
        assert_close(
            &db.read(gpu),
            &fd_b,
            tol::GRADIENT,
            &format!("{what}: dL/dβ"),
        );
        let twice = |v: &[f64]| cpu::scale(2.0, v);
        let twice_tol = tol::Tol {
            abs: 2.0 * tol::GRADIENT.abs,
            ..tol::GRADIENT
        };
        assert_close(
            &dg2.read(gpu),
            &twice(&fd_g),
            twice_tol,
            &format!("{what}: 2 dγ"),
        );
        assert_close(
            &db2.read(gpu),
            &twice(&fd_b),
            twice_tol,
            &format!("{what}: 2 dβ"),
        );
        // Against finite differences, and against relu::backward then the BN backward:
        // the same mask as the forward's (a pre-activation near 0 masked differently would
        // move its element of dx by O(1), far beyond rounding).
        let unfused = [dx.read(gpu), dg.read(gpu), db.read(gpu)];
        let fused_want = [&fd_x, &fd_g, &fd_b, &fd_g, &fd_b];
        let rounding = tol::Tol {
            abs: 1e-6,
            rel: 1e-6,
        };
        for (i, (got, want)) in fused.iter().zip(fused_want).enumerate() {
            let got = got.read(gpu);
            let what = format!("{what}: ReLU taken off by the BN backward, output {i}");
            assert_close(&got, want, tol::GRADIENT, &what);
            let unfused: Vec<f64> = unfused[[0, 1, 2, 1, 2][i]]
                .iter()
                .map(|&v| v.into())
                .collect();
            assert_close(
                &got,
                &unfused,
                rounding,
                &format!("{what} against relu::backward"),
            );
        }
    }
}
