//! The learning-rate rules against an f64 CPU oracle: the five-point probe, the Newton and
//! first-order updates, the δ safeguard, the order of operations, and that probing changes
//! no state.

use crate::common;

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

#[test]
fn auto_fits_the_parabola_of_the_last_update_and_flags_far_overshoots() {
    use etaprobe::schedule::{Auto, AUTO_DOWN, AUTO_UP, LINE_MIN_PROBES};
    // φ(s) = 3 − 2s + 5s²: curvature 10, minimum at 0.2; measured at s = 0.5.
    let phi = |s: f64| 3.0 - 2.0 * s + 5.0 * s * s;
    let slope = |s: f64| -2.0 + 10.0 * s;
    let fit = Auto::fit(0.5, phi(0.0), phi(0.5), -slope(0.5));
    assert!((fit.curvature - 10.0).abs() < 1e-12, "{fit:?}");
    assert!((fit.minimum - 0.2).abs() < 1e-12, "{fit:?}");
    // A concave line, or a curvature below the losses' rounding with a visible drop,
    // says: step further.
    let concave = Auto::fit(0.5, 1.0, 0.9, 1.0);
    assert_eq!(concave.minimum, 0.5 * AUTO_UP);
    let flat = Auto::fit(1e-4, 500.0, 500.0 - 1e-4 * 50.0, 50.0 + 1e-9);
    assert_eq!(flat.minimum, 1e-4 * AUTO_UP);
    // At a minimum neither the drop nor the curvature is resolved: no verdict.
    let still = Auto::fit(0.3, 0.0615, 0.0615 + 1e-10, 1e-9);
    assert_eq!(still.minimum, 0.3);
    // The loss rose by 10 with the slope at s = 1 still rising: the minimum is behind 0.
    let far = Auto::fit(1.0, 10.0, 20.0, -15.0);
    assert_eq!(far.minimum, 1.0 / AUTO_DOWN);
    // Only a significant mean rise of the fresh batches' loss over many probes counts as
    // overshooting; most probes showing a small rise (noise around a falling mean) does not.
    let rise = |k: usize| 0.01 + 0.001 * (k % 3) as f64;
    let rises: Vec<f64> = (0..LINE_MIN_PROBES).map(rise).collect();
    assert!(!Auto::line_overshoots(&rises[..LINE_MIN_PROBES - 1]));
    assert!(Auto::line_overshoots(&rises));
    let mut mixed: Vec<f64> = (0..3 * LINE_MIN_PROBES).map(|k| 1e-4 * rise(k)).collect();
    mixed.extend([-0.05, -0.04]);
    assert!(
        !Auto::line_overshoots(&mixed),
        "a small rise in most probes"
    );
}

#[test]
fn secant_changes_eta_only_on_statistical_evidence() {
    use etaprobe::schedule::{Decision, Dots, Secant};
    use rand::Rng;
    let mut r = common::rng(5);
    let noise = |r: &mut rand_chacha::ChaCha8Rng| r.random::<f64>() * 2.0 - 1.0;
    /// One simulated run: ρ is `rho` plus noise (and `spike` every 20th step), Pflug's
    /// statistic w·d − (η/2)|d|² is `pflug` times its scale plus noise, and the step loss
    /// falls by `fall` per step for `fall_steps` steps, plus noise.
    struct Sim {
        rho: f64,
        spike: f64,
        pflug: f64,
        fall: f64,
        fall_steps: usize,
    }
    const NONE: Sim = Sim {
        rho: 0.0,
        spike: 0.0,
        pflug: 5.0,
        fall: 0.0,
        fall_steps: usize::MAX,
    };
    // Returns the first decision that is not Keep, and its step.
    let mut run = |sim: Sim, steps: usize| {
        let mut s = Secant::new(0.1);
        for step in 0..steps {
            let (own, norm) = (1.0, 1.0);
            let half = 0.1 / 2.0 * norm;
            let spike = if step % 20 == 19 { sim.spike } else { 0.0 };
            let dots = Dots {
                own,
                cross: Some((sim.rho + spike + 0.2 * noise(&mut r)) * own),
                weights: half * (1.0 + sim.pflug + 0.05 * noise(&mut r)),
                norm,
            };
            let loss = 2.0 - sim.fall * step.min(sim.fall_steps) as f64 + 0.1 * noise(&mut r);
            let d = s.learn(&dots, 0.1, loss);
            if d != Decision::Keep {
                return (d, step);
            }
        }
        (Decision::Keep, steps)
    };
    let falling = 3e-3;
    assert_eq!(
        run(Sim { rho: 0.5, ..NONE }, 500).0,
        Decision::Up,
        "the slope keeps its sign"
    );
    assert_eq!(run(Sim { rho: -0.8, ..NONE }, 500).0, Decision::Overshoot);
    // Rare huge negative ρ (loss spikes) swamp a plain t-statistic; clipped, the mostly
    // negative steps are evidence of overshooting.
    let spiky = Sim {
        rho: -0.4,
        spike: -30.0,
        ..NONE
    };
    let (d, at) = run(spiky, 500);
    assert_eq!(d, Decision::Overshoot);
    assert!(at < 60, "clipped spikes decide early, not at {at}");
    let stationary = Sim {
        pflug: 0.0,
        fall: falling,
        ..NONE
    };
    let (d, at) = run(stationary, 500);
    assert_eq!(d, Decision::Stationary, "Pflug's condition holds");
    assert!(
        at >= 199,
        "stationarity needs a window of 200 steps, decided at {at}"
    );
    // Noisy slopes around zero while the loss falls: no evidence, η stays. A moderately
    // negative mean is not an overshoot: the one-step optimum is not the target.
    for rho in [0.0, -0.05, -0.2] {
        let sim = Sim {
            rho,
            fall: falling,
            ..NONE
        };
        assert_eq!(run(sim, 1500).0, Decision::Keep, "ρ {rho}");
    }
    // The same with a loss that never fell below the run's first steps: no progress at
    // all (a network stuck at chance by a huge η), η is cut to a quarter.
    let (d, at) = run(Sim { rho: -0.05, ..NONE }, 1500);
    assert_eq!(d, Decision::Stalled);
    assert_eq!(d.factor(), 0.25);
    assert!(
        (59..200).contains(&at),
        "a stall needs a window of 60 steps, decided at {at}"
    );
    // A loss that fell, then flattened, is progress made, not a stall; once the newer half
    // of a long window is no lower than the older half, it is a plateau, and η halves.
    let plateau = Sim {
        rho: -0.05,
        fall: 2.0 * falling,
        fall_steps: 100,
        ..NONE
    };
    let (d, at) = run(plateau, 3000);
    assert_eq!(d, Decision::Plateau);
    assert!(
        at >= 499,
        "a plateau needs a window of 500 steps, decided at {at}"
    );
    // Each plateau halving doubles the window the next one needs, so that annealing slows
    // as the rate falls (a flat loss halves η at most after 500 steps, then 1000, 2000...).
    let mut r = common::rng(6);
    let mut s = Secant::new(0.1);
    let mut halvings = Vec::new();
    for step in 0..10_000 {
        let dots = Dots {
            own: 1.0,
            cross: Some(-0.05 + 0.2 * noise(&mut r)),
            weights: 0.05 * (6.0 + 0.05 * noise(&mut r)),
            norm: 1.0,
        };
        let loss = 1.0 - 0.01 * step.min(100) as f64 + 0.1 * noise(&mut r);
        let d = s.learn(&dots, 0.1, loss);
        assert!(matches!(d, Decision::Keep | Decision::Plateau), "{d:?}");
        if d == Decision::Plateau {
            halvings.push(step);
        }
    }
    assert!(halvings.len() >= 3, "plateau halvings at {halvings:?}");
    for k in 1..halvings.len() {
        let gap = halvings[k] - halvings[k - 1];
        assert!(
            gap >= 500 << k,
            "halving {k} after {gap} steps: {halvings:?}"
        );
    }
    assert_eq!(s.plateau_steps(), 500 << halvings.len());
    // A no-progress cut makes the cut rate a ceiling: steps that then fall short do not
    // double η back towards the rate that stalled.
    let mut capped = Secant::new(0.1);
    let mut decisions = Vec::new();
    for step in 0..600 {
        let rho = if step < 100 { -0.05 } else { 0.5 };
        let dots = Dots {
            own: 1.0,
            cross: Some(rho + 0.2 * noise(&mut r)),
            weights: 0.05 * (6.0 + 0.05 * noise(&mut r)),
            norm: 1.0,
        };
        let d = capped.learn(&dots, 0.1, 2.0 + 0.1 * noise(&mut r));
        if d != Decision::Keep {
            decisions.push(d);
        }
    }
    assert_eq!(
        decisions,
        [Decision::Stalled, Decision::Plateau],
        "the ceiling holds η; the other tests still run"
    );
    // A run resumed from the capped one keeps the ceiling: with the same steps after it,
    // both decide alike (without it, short steps would double η at once).
    let mut again = Secant::new(1.0);
    etaprobe::schedule::Schedule::restore(
        &mut again,
        &etaprobe::schedule::Schedule::state(&capped),
    )
    .unwrap();
    for step in 0..300 {
        let dots = Dots {
            own: 1.0,
            cross: Some(0.5 + 0.2 * noise(&mut r)),
            weights: 0.05 * (6.0 + 0.05 * noise(&mut r)),
            norm: 1.0,
        };
        let loss = 2.0 + 0.1 * noise(&mut r);
        let (a, b) = (
            again.learn(&dots, 0.1, loss),
            capped.learn(&dots, 0.1, loss),
        );
        assert_eq!(a, b, "step {step} after resuming");
    }
    // A resumed run keeps the longer window.
    let mut resumed = Secant::new(1.0);
    etaprobe::schedule::Schedule::restore(&mut resumed, &etaprobe::schedule::Schedule::state(&s))
        .unwrap();
    assert_eq!(resumed.plateau_steps(), s.plateau_steps());
    // A flat loss while the steps fall short (ρ > 0, not yet significant) is no stall.
    assert_ne!(run(Sim { rho: 0.05, ..NONE }, 1500).0, Decision::Stalled);
    assert_eq!(
        Secant::rho(None, &Dots::default()),
        None,
        "no previous step"
    );
}

/// The registry is the one list of rules: each name is unique, builds from its default
/// options at the given η0, is offered by `etaprobe train --help`, and an unknown name
/// builds nothing.
#[test]
fn every_registered_rule_builds_and_is_offered_on_the_command_line() {
    use etaprobe::schedule::{RuleOptions, RULES};
    let defaults = RuleOptions::defaults();
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .args(["train", "--help"])
        .output()
        .expect("run etaprobe");
    let help = String::from_utf8_lossy(&help.stdout);
    let mut seen = std::collections::HashSet::new();
    for (name, about) in RULES {
        assert!(seen.insert(name), "{name} is registered twice");
        assert!(!about.is_empty(), "{name} has no help line");
        let rule = defaults
            .build(name, 0.0125)
            .expect("a registered rule builds");
        assert_eq!(rule.lr(), 0.0125, "{name} starts at η0");
        assert!(
            help.contains(name),
            "`train --help` does not offer {name}:\n{help}"
        );
    }
    assert!(defaults.build("no-such-rule", 0.01).is_none());
    assert!(
        defaults.check().is_ok(),
        "the defaults pass every rule's checks"
    );
}
