//! The learning-rate rules against an f64 CPU oracle: the five-point probe, the Newton and
//! first-order updates, the δ safeguard, the order of operations, and that probing changes
//! no state.

use crate::common::{f32s, fd, gpu, random, rng};
use etaprobe::gpu::{Gpu, Params, Program, Tensor};
use etaprobe::models::{ModelKind, Net, Plan, PROBES};
use etaprobe::ops::{reduce, sgd};
use etaprobe::schedule::Newton;

const N: usize = 16;
const F: usize = 13;

/// Linear regression on a fixed random batch: loss, gradient and curvature along g in f64.
struct Linreg {
    x: Vec<f64>,
    y: Vec<f64>,
}

impl Linreg {
    fn new(seed: u64) -> Linreg {
        let mut g = rng(seed);
        Linreg {
            x: random(&mut g, N * F, 1.0),
            y: random(&mut g, N, 2.0),
        }
    }

    fn residuals(&self, w: &[f64]) -> Vec<f64> {
        (0..N)
            .map(|i| (0..F).map(|j| self.x[i * F + j] * w[j]).sum::<f64>() + w[F] - self.y[i])
            .collect()
    }

    fn loss(&self, w: &[f64]) -> f64 {
        self.residuals(w).iter().map(|r| r * r).sum::<f64>() / N as f64
    }

    /// Gradient over [weight (13), bias].
    fn grad(&self, w: &[f64]) -> Vec<f64> {
        let r = self.residuals(w);
        let mut g = vec![0.0; F + 1];
        for (i, ri) in r.iter().enumerate() {
            let row = &self.x[i * F..(i + 1) * F];
            for (gj, xj) in g.iter_mut().zip(row) {
                *gj += 2.0 * ri * xj / N as f64;
            }
            g[F] += 2.0 * ri / N as f64;
        }
        g
    }

    /// gᵀHg for this quadratic loss.
    fn curvature(&self, g: &[f64]) -> f64 {
        (0..N)
            .map(|i| {
                let d = (0..F).map(|j| self.x[i * F + j] * g[j]).sum::<f64>() + g[F];
                2.0 * d * d / N as f64
            })
            .sum()
    }
}

struct Setup {
    params: Params,
    plan: Plan,
    probe_weights: Tensor,
}

fn setup(gpu: &Gpu, data: &Linreg, w: &[f64]) -> Setup {
    let net = Net::build(ModelKind::Linreg, [F, 1, 1], 0).unwrap();
    let params = Params::new(gpu, net.layout.clone()).unwrap();
    params.upload_all(gpu, &[f32s(&w[..F]), f32s(&w[F..])]);
    let probe_weights = gpu
        .zeros("probe weights", &[PROBES, params.values.len()])
        .unwrap();
    let plan = Plan::new(gpu, &net, &params, N, Some(&probe_weights)).unwrap();
    plan.write_batch(gpu, &f32s(&data.x), &[], &f32s(&data.y));
    Setup {
        params,
        plan,
        probe_weights,
    }
}

/// Runs the programs in one submission, then copies the step's and the probe's scalars
/// for read-back, as the trainer does.
fn run_with(gpu: &Gpu, plan: &Plan, programs: &[&Program]) {
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    for p in programs {
        p.encode(&mut encoder);
    }
    plan.copy_outputs(&mut encoder);
    if let Some(probe) = &plan.probe {
        probe.copy_outputs(&mut encoder);
    }
    gpu.queue.submit([encoder.finish()]);
    gpu.wait().unwrap();
}

fn read_params(gpu: &Gpu, s: &Setup) -> Vec<f64> {
    s.params
        .download_all(gpu)
        .unwrap()
        .concat()
        .iter()
        .map(|&v| v as f64)
        .collect()
}

#[test]
fn one_newton_step_on_linear_regression_lands_on_the_line_minimum() {
    let gpu = gpu();
    let data = Linreg::new(31);
    let w0 = random(&mut rng(32), F + 1, 0.5);
    let g = data.grad(&w0);
    let gg: f64 = g.iter().map(|v| v * v).sum();
    let eta_star = gg / data.curvature(&g);
    // The line function is an exact parabola, so a Newton step from any η lands on η*;
    // ε is chosen so that the second difference is far above f32 rounding.
    for eta in [0.0, 0.3 * eta_star, 2.5 * eta_star] {
        let s = setup(gpu, &data, &w0);
        let probe = s.plan.probe.as_ref().unwrap();
        let eps = 0.2 * eta_star;
        gpu.write(
            &probe.steps,
            &[-2.0, -1.0, 0.0, 1.0, 2.0].map(|k| (eta + k * eps) as f32),
        );
        run_with(
            gpu,
            &s.plan,
            &[&s.plan.forward, &s.plan.backward, &probe.program],
        );
        let f = probe.fetch(gpu, None).unwrap();
        for (k, fk) in f.iter().enumerate() {
            let step = eta + (k as f64 - 2.0) * eps;
            let w: Vec<f64> = w0.iter().zip(&g).map(|(w, g)| w - step * g).collect();
            let want = data.loss(&w);
            assert!((fk - want).abs() < 1e-4 * want, "probe {k}: {fk} vs {want}");
        }
        let (next, record) = Newton::update(eta, eps, 1e-6, f.try_into().unwrap());
        assert!(!record.safeguarded);
        assert!(
            (next - eta_star).abs() < 2e-3 * eta_star,
            "from η={eta}: {next} vs η*={eta_star}"
        );
    }
}

#[test]
fn first_order_derivative_is_minus_the_dot_of_consecutive_gradients() {
    let gpu = gpu();
    let data = Linreg::new(33);
    let w0 = random(&mut rng(34), F + 1, 0.5);
    let eta = 0.05;
    let s = setup(gpu, &data, &w0);
    let previous = gpu.zeros("previous", &[s.params.grads.len()]).unwrap();
    let lr = gpu.upload("lr", &[1], &[eta as f32]).unwrap();
    let partials = gpu
        .zeros("partials", &[reduce::partial_count(previous.len())])
        .unwrap();
    let mut keep = Program::new();
    keep.copy(&s.params.grads, &previous);
    sgd::step(&mut keep, gpu, &s.params.values, &s.params.grads, &lr).unwrap();
    let mut dot = Program::new();
    reduce::dot(&mut dot, gpu, &s.params.grads, &previous, &partials).unwrap();
    // Same batch twice, so that g(t+1) is ∇L_B(w(t) − η g(t)) exactly.
    run_with(
        gpu,
        &s.plan,
        &[
            &s.plan.forward,
            &s.plan.backward,
            &keep,
            &s.plan.forward,
            &s.plan.backward,
            &dot,
        ],
    );
    let got = -reduce::combine(&gpu.read::<f32>(&partials).unwrap());
    let g0 = data.grad(&w0);
    let w1: Vec<f64> = w0.iter().zip(&g0).map(|(w, g)| w - eta * g).collect();
    let g1 = data.grad(&w1);
    let want: f64 = -g0.iter().zip(&g1).map(|(a, b)| a * b).sum::<f64>();
    assert!(
        (got - want).abs() < 1e-4 * want.abs().max(1e-3),
        "f'(η) {got} vs {want}"
    );
    // And it is the derivative of the line function.
    let f = |e: f64| {
        data.loss(
            &w0.iter()
                .zip(&g0)
                .map(|(w, g)| w - e * g)
                .collect::<Vec<_>>(),
        )
    };
    let fd = fd::central(fd::STEP, |delta| f(eta + delta));
    assert!(
        (fd - want).abs() < 1e-5 * want.abs().max(1.0),
        "finite difference {fd} vs {want}"
    );
}

#[test]
fn delta_is_added_only_when_the_denominator_is_numerically_zero() {
    // A clearly curved line: no safeguard, the plain eq. 16.
    let f = [1.4, 1.1, 1.0, 1.1, 1.4];
    let (eta, r) = Newton::update(0.5, 0.1, 1e-6, f);
    assert!(!r.safeguarded);
    assert_eq!(r.denominator, 1.4 + 1.4 - 2.0);
    assert!((eta - 0.5).abs() < 1e-12);
    // A flat line within f32 rounding of the loss: δ is added.
    let flat = [2.0, 2.0, 2.0 + 1e-8, 2.0, 2.0];
    let (_, r) = Newton::update(0.5, 1e-5, 1e-6, flat);
    assert!(r.safeguarded);
    assert!((r.denominator - (-2e-8 + 1e-6)).abs() < 1e-12);
    // Small but resolved curvature is left alone.
    let small = [1.0 + 4e-5, 1.0 + 1e-5, 1.0, 1.0 + 1e-5, 1.0 + 4e-5];
    let (_, r) = Newton::update(0.5, 1e-3, 1e-6, small);
    assert!(!r.safeguarded, "{r:?}");
}

#[test]
fn two_steps_update_with_the_old_rate_and_probe_the_same_batch() {
    let gpu = gpu();
    let data = Linreg::new(35);
    let w0 = random(&mut rng(36), F + 1, 0.5);
    let s = setup(gpu, &data, &w0);
    let probe = s.plan.probe.as_ref().unwrap();
    let lr = gpu.zeros("lr", &[1]).unwrap();
    let mut update = Program::new();
    sgd::step(&mut update, gpu, &s.params.values, &s.params.grads, &lr).unwrap();
    let eps = 1e-3;
    let mut eta = 0.02;
    let mut w = w0.clone();
    for _ in 0..2 {
        gpu.write(&lr, &[eta as f32]);
        gpu.write(
            &probe.steps,
            &[-2.0, -1.0, 0.0, 1.0, 2.0].map(|k| (eta + k * eps) as f32),
        );
        run_with(
            gpu,
            &s.plan,
            &[&s.plan.forward, &s.plan.backward, &probe.program, &update],
        );
        let f = probe.fetch(gpu, None).unwrap();
        let g = data.grad(&w);
        // f(η(t)) is the loss of this batch after this step's update: the probe used the
        // step's batch and gradient.
        let w_next: Vec<f64> = w.iter().zip(&g).map(|(w, g)| w - eta * g).collect();
        assert!((f[2] - data.loss(&w_next)).abs() < 1e-4 * f[2]);
        // The weights moved with the old η(t), not with the η(t+1) the probes give.
        let got = read_params(gpu, &s);
        for (a, b) in got.iter().zip(&w_next) {
            assert!((a - b).abs() < 1e-5, "weights {a} vs {b}");
        }
        w = w_next;
        eta = Newton::update(eta, eps, 1e-6, f.try_into().unwrap()).0;
    }
}

#[test]
fn probing_leaves_parameters_gradients_and_activations_bit_identical() {
    let gpu = gpu();
    let data = Linreg::new(37);
    let w0 = random(&mut rng(38), F + 1, 0.5);
    let s = setup(gpu, &data, &w0);
    let probe = s.plan.probe.as_ref().unwrap();
    gpu.write(&probe.steps, &[0.01f32, 0.02, 0.03, 0.04, 0.05]);
    run_with(gpu, &s.plan, &[&s.plan.forward, &s.plan.backward]);
    let loss_before = s.plan.fetch_outputs(gpu).unwrap();
    let before: (Vec<u32>, Vec<u32>, Vec<u32>) = (
        gpu.read(&s.params.values).unwrap(),
        gpu.read(&s.params.grads).unwrap(),
        gpu.read(&s.plan.input).unwrap(),
    );
    run_with(gpu, &s.plan, &[&probe.program]);
    let after: (Vec<u32>, Vec<u32>, Vec<u32>) = (
        gpu.read(&s.params.values).unwrap(),
        gpu.read(&s.params.grads).unwrap(),
        gpu.read(&s.plan.input).unwrap(),
    );
    assert_eq!(
        before, after,
        "the probe changed parameters, gradients or inputs"
    );
    // The step's own loss scalars are untouched as well.
    assert_eq!(s.plan.fetch_outputs(gpu).unwrap(), loss_before);
    let _ = &s.probe_weights;
}

#[test]
fn lenet_probes_equal_forward_passes_at_the_perturbed_weights() {
    // The batched probe (first layer by linearity, conv, pooling and linear layers per
    // probe block) against plain forward passes with w − s_k·g materialised on the host.
    let gpu = gpu();
    let (batch, shape, classes) = (3, [1, 28, 28], 10);
    let net = Net::build(ModelKind::Lenet, shape, classes).unwrap();
    let params = Params::new(gpu, net.layout.clone()).unwrap();
    params.upload_all(gpu, &net.init(9));
    let probe_weights = gpu
        .zeros("probe weights", &[PROBES, params.values.len()])
        .unwrap();
    let plan = Plan::new(gpu, &net, &params, batch, Some(&probe_weights)).unwrap();
    let x = f32s(&random(&mut rng(41), batch * 28 * 28, 1.0));
    let labels = [3u32, 7, 1];
    plan.write_batch(gpu, &x, &labels, &[]);
    let probe = plan.probe.as_ref().unwrap();
    let steps = [0.5f32, 0.7, 0.9, 1.1, 1.3];
    gpu.write(&probe.steps, &steps);
    run_with(gpu, &plan, &[&plan.forward, &plan.backward, &probe.program]);
    let f = probe.fetch(gpu, None).unwrap();
    let w: Vec<f32> = gpu.read(&params.values).unwrap();
    let g: Vec<f32> = gpu.read(&params.grads).unwrap();
    let plain = Plan::new(gpu, &net, &params, batch, None).unwrap();
    plain.write_batch(gpu, &x, &labels, &[]);
    for (k, s) in steps.iter().enumerate() {
        let moved: Vec<f32> = w.iter().zip(&g).map(|(w, g)| w - s * g).collect();
        gpu.write(&params.values, &moved);
        run_with(gpu, &plain, &[&plain.forward]);
        let want = plain.fetch_outputs(gpu).unwrap().loss;
        assert!(
            (f[k] - want).abs() < 1e-5 * want.max(1.0),
            "probe {k}: {} vs {want}",
            f[k]
        );
    }
    assert!(f[0] != f[4], "the probes must differ: {f:?}");
}

#[test]
fn probes_on_their_own_batch_score_only_that_batch() {
    // --probe-on val: the gradient comes from the training batch, the five losses from the
    // probe batch alone (the first layer is then recomputed at w, not reused).
    let gpu = gpu();
    let (batch, shape, classes) = (3, [1, 28, 28], 10);
    let net = Net::build(ModelKind::Lenet, shape, classes).unwrap();
    let params = Params::new(gpu, net.layout.clone()).unwrap();
    params.upload_all(gpu, &net.init(11));
    let weights = gpu
        .zeros("probe weights", &[PROBES, params.values.len()])
        .unwrap();
    let plan = Plan::with_direction(
        gpu,
        &net,
        &params,
        batch,
        Some(&weights),
        &params.grads,
        true,
    )
    .unwrap();
    let train_x = f32s(&random(&mut rng(61), batch * 784, 1.0));
    let val_x = f32s(&random(&mut rng(62), batch * 784, 1.0));
    let (train_y, val_y) = ([0u32, 1, 2], [7u32, 8, 9]);
    plan.write_batch(gpu, &train_x, &train_y, &[]);
    plan.write_probe_batch(gpu, &val_x, &val_y, &[]);
    let probe = plan.probe.as_ref().unwrap();
    let steps = [0.2f32, 0.4, 0.6, 0.8, 1.0];
    gpu.write(&probe.steps, &steps);
    run_with(gpu, &plan, &[&plan.forward, &plan.backward, &probe.program]);
    let f = probe.fetch(gpu, None).unwrap();
    let (w, g): (Vec<f32>, Vec<f32>) = (
        gpu.read(&params.values).unwrap(),
        gpu.read(&params.grads).unwrap(),
    );
    let plain = Plan::new(gpu, &net, &params, batch, None).unwrap();
    plain.write_batch(gpu, &val_x, &val_y, &[]);
    for (k, s) in steps.iter().enumerate() {
        let moved: Vec<f32> = w.iter().zip(&g).map(|(w, g)| w - s * g).collect();
        gpu.write(&params.values, &moved);
        run_with(gpu, &plain, &[&plain.forward]);
        let want = plain.fetch_outputs(gpu).unwrap().loss;
        assert!(
            (f[k] - want).abs() < 1e-5 * want.max(1.0),
            "probe {k}: {} vs {want} on the validation batch",
            f[k]
        );
    }
}
