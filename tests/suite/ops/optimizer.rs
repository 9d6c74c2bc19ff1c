//! Optimizer steps and directions (SGD, momentum, Nesterov, weight decay, Adam) against
//! the f64 reference, and the learning-rate probes along the direction each optimizer
//! actually steps in.

use crate::common::{assert_close, f32s, gpu, random, rng, tol};
use crate::reference as cpu;
use etaprobe::gpu::{Params, Program};
use etaprobe::models::{ModelKind, Net, Plan, PROBES};
use etaprobe::ops::{optimizer, sgd};

#[test]
fn sgd_step_reads_the_rate_from_the_gpu() {
    let gpu = gpu();
    let mut r = rng(9);
    let len = 1000;
    let w = random(&mut r, len, 1.0);
    let g = random(&mut r, len, 1.0);
    let wt = gpu.upload("w", &[len], &f32s(&w)).unwrap();
    let gt = gpu.upload("g", &[len], &f32s(&g)).unwrap();
    let lr = gpu.upload("lr", &[1], &[0.25f32]).unwrap();
    let mut prog = Program::new();
    sgd::step(&mut prog, gpu, &wt, &gt, &lr).unwrap();
    prog.run(gpu).unwrap();
    // A new rate takes effect without re-recording.
    gpu.write(&lr, &[0.5f32]);
    prog.run(gpu).unwrap();
    let want = cpu::sgd(&cpu::sgd(&w, &g, 0.25), &g, 0.5);
    assert_close(
        &gpu.read::<f32>(&wt).unwrap(),
        &want,
        tol::ELEMENTWISE,
        "sgd",
    );
}

fn as64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

#[test]
fn momentum_and_nesterov_and_decay_match_the_reference() {
    let gpu = gpu();
    let mut r = rng(51);
    let n = 1000;
    for (nesterov, wd) in [(false, 0.0), (true, 0.0), (false, 0.01), (true, 5e-4)] {
        let (w, g, b0) = (
            random(&mut r, n, 1.0),
            random(&mut r, n, 1.0),
            random(&mut r, n, 1.0),
        );
        let (wt, gt) = (
            gpu.upload("w", &[n], &f32s(&w)).unwrap(),
            gpu.upload("g", &[n], &f32s(&g)).unwrap(),
        );
        let (bt, dt) = (
            gpu.upload("buf", &[n], &f32s(&b0)).unwrap(),
            gpu.zeros("d", &[n]).unwrap(),
        );
        let mut prog = Program::new();
        optimizer::momentum(&mut prog, gpu, &wt, &gt, &bt, &dt, 0.9, nesterov, wd as f32).unwrap();
        prog.run(gpu).unwrap();
        let (buf, d) = cpu::momentum_direction(&w, &g, &b0, 0.9, nesterov, wd);
        assert_close(
            &gpu.read::<f32>(&bt).unwrap(),
            &buf,
            tol::ELEMENTWISE,
            "momentum buffer",
        );
        assert_close(
            &gpu.read::<f32>(&dt).unwrap(),
            &d,
            tol::ELEMENTWISE,
            "momentum direction",
        );
        let mut prog = Program::new();
        optimizer::decay(&mut prog, gpu, &wt, &gt, &dt, wd as f32).unwrap();
        prog.run(gpu).unwrap();
        let want: Vec<f64> = w.iter().zip(&g).map(|(w, g)| g + wd * w).collect();
        assert_close(
            &gpu.read::<f32>(&dt).unwrap(),
            &want,
            tol::ELEMENTWISE,
            "decay direction",
        );
    }
}

#[test]
fn adam_matches_the_reference_over_several_steps() {
    let gpu = gpu();
    let mut r = rng(52);
    let n = 777;
    let w = random(&mut r, n, 1.0);
    let wt = gpu.upload("w", &[n], &f32s(&w)).unwrap();
    let (mt, vt, dt) = (
        gpu.zeros("m", &[n]).unwrap(),
        gpu.zeros("v", &[n]).unwrap(),
        gpu.zeros("d", &[n]).unwrap(),
    );
    let ct = gpu.zeros("corrections", &[2]).unwrap();
    let gt = gpu.zeros("g", &[n]).unwrap();
    let mut prog = Program::new();
    let betas = (0.9, 0.999);
    optimizer::adam(
        &mut prog,
        gpu,
        &wt,
        &gt,
        &mt,
        &vt,
        &dt,
        &ct,
        (0.9, 0.999),
        1e-8,
        1e-4,
    )
    .unwrap();
    let (mut m, mut v) = (vec![0.0; n], vec![0.0; n]);
    for t in 1..=3 {
        let g = random(&mut r, n, 1.0);
        gpu.write(&gt, &f32s(&g));
        gpu.write(
            &ct,
            &[
                (1.0 - 0.9f64.powi(t)) as f32,
                (1.0 - 0.999f64.powi(t)) as f32,
            ],
        );
        prog.run(gpu).unwrap();
        let (nm, nv, d) = cpu::adam_direction(&w, &g, &m, &v, t, betas, 1e-8, 1e-4);
        assert_close(
            &gpu.read::<f32>(&dt).unwrap(),
            &d,
            tol::Tol {
                abs: 1e-4,
                rel: 1e-4,
            },
            &format!("adam direction, step {t}"),
        );
        m = nm;
        v = nv;
        assert_close(
            &gpu.read::<f32>(&mt).unwrap(),
            &m,
            tol::SHORT_CHAIN,
            "adam m",
        );
        assert_close(
            &gpu.read::<f32>(&vt).unwrap(),
            &v,
            tol::SHORT_CHAIN,
            "adam v",
        );
    }
}

#[test]
fn probes_follow_the_momentum_and_adam_directions() {
    // f(η) = L(w − η·d) with d the optimizer's direction after this step's state update:
    // the batched probes equal plain forward passes at w − s_k·d, d checked on the CPU.
    let gpu = gpu();
    let (batch, shape, classes) = (4, [1, 28, 28], 10);
    let net = Net::build(ModelKind::Lenet, shape, classes).unwrap();
    for adam in [false, true] {
        let params = Params::new(gpu, net.layout.clone()).unwrap();
        params.upload_all(gpu, &net.init(3));
        let len = params.values.len();
        let direction = gpu.zeros("d", &[len]).unwrap();
        let (m, v) = (
            gpu.zeros("m", &[len]).unwrap(),
            gpu.zeros("v", &[len]).unwrap(),
        );
        let c = gpu.upload("c", &[2], &[0.1f32, 0.001]).unwrap();
        let mut opt = Program::new();
        if adam {
            optimizer::adam(
                &mut opt,
                gpu,
                &params.values,
                &params.grads,
                &m,
                &v,
                &direction,
                &c,
                (0.9, 0.999),
                1e-8,
                0.0,
            )
            .unwrap();
        } else {
            optimizer::momentum(
                &mut opt,
                gpu,
                &params.values,
                &params.grads,
                &m,
                &direction,
                0.9,
                false,
                0.0,
            )
            .unwrap();
        }
        let weights = gpu.zeros("probe weights", &[PROBES, len]).unwrap();
        let plan =
            Plan::with_direction(gpu, &net, &params, batch, Some(&weights), &direction, false)
                .unwrap();
        let x = f32s(&random(&mut rng(53), batch * 28 * 28, 1.0));
        let labels = [1u32, 2, 3, 4];
        plan.write_batch(gpu, &x, &labels, &[]);
        let probe = plan.probe.as_ref().unwrap();
        let steps = [1e-3f32, 2e-3, 3e-3, 4e-3, 5e-3];
        gpu.write(&probe.steps, &steps);
        // Some momentum history, so that d differs from g.
        let m0 = f32s(&random(&mut rng(54), len, 0.01));
        gpu.write(&m, &m0);
        let mut e = gpu.device.create_command_encoder(&Default::default());
        plan.forward.encode(&mut e);
        plan.backward.encode(&mut e);
        opt.encode(&mut e);
        probe.program.encode(&mut e);
        probe.copy_outputs(&mut e);
        gpu.queue.submit([e.finish()]);
        let f = probe.fetch(gpu, None).unwrap();
        let (w, g, d): (Vec<f32>, Vec<f32>, Vec<f32>) = (
            gpu.read(&params.values).unwrap(),
            gpu.read(&params.grads).unwrap(),
            gpu.read(&direction).unwrap(),
        );
        let want_d = if adam {
            cpu::adam_direction(
                &as64(&w),
                &as64(&g),
                &as64(&m0),
                &vec![0.0; len],
                1,
                (0.9, 0.999),
                1e-8,
                0.0,
            )
            .2
        } else {
            cpu::momentum_direction(&as64(&w), &as64(&g), &as64(&m0), 0.9, false, 0.0).1
        };
        assert_close(&d, &want_d, tol::GRADIENT, "direction");
        let plain = Plan::new(gpu, &net, &params, batch, None).unwrap();
        plain.write_batch(gpu, &x, &labels, &[]);
        for (k, s) in steps.iter().enumerate() {
            let moved: Vec<f32> = w.iter().zip(&d).map(|(w, d)| w - s * d).collect();
            gpu.write(&params.values, &moved);
            let mut e = gpu.device.create_command_encoder(&Default::default());
            plain.forward.encode(&mut e);
            plain.copy_outputs(&mut e);
            gpu.queue.submit([e.finish()]);
            let want = plain.fetch_outputs(gpu).unwrap().loss;
            assert!(
                (f[k] - want).abs() < 1e-5 * want.max(1.0),
                "adam={adam} probe {k}: {} vs {want}",
                f[k]
            );
        }
    }
}
