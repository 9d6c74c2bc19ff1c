//! The baselines' learning-rate rules against f64 references on the CPU, end to end through
//! `etaprobe train`: four steps of full-batch gradient descent on linear regression
//! (Boston-like data), comparing each step's η and loss in steps.csv, each epoch's test loss
//! in epochs.csv and the checkpoint's final weights with the rule simulated in f64, from its
//! authors' code (D-Adaptation, Prodigy, schedule-free SGD, DoG) or from the formula in its
//! file (SPS, hypergradient, GeN). A run stopped after two steps and resumed writes the same
//! records; impossible options are refused.

use std::path::{Path, PathBuf};

use etaprobe::data::{DataArgs, DatasetKind, Which};
use etaprobe::models::{ModelKind, ModelOptions, Net};
use etaprobe::rundir::{checkpoint, read_epochs, read_steps};

use crate::common::{etaprobe, fake, ok, s};

/// Full-batch steps: the batch is larger than the training split, one step per epoch.
const STEPS: usize = 4;

// ---------------------------------------------------------------------------------------
// The shared harness: the problem in f64, the runs, the comparisons.

/// Rows of a split in f64: 13 standardised features per row, and the target.
struct Rows {
    x: Vec<f64>,
    y: Vec<f64>,
}

impl Rows {
    fn len(&self) -> usize {
        self.y.len()
    }

    /// The predictions minus the targets, with w = [fc.weight (13), fc.bias].
    fn residuals(&self, w: &[f64]) -> Vec<f64> {
        let f = w.len() - 1;
        (0..self.len())
            .map(|i| {
                let row = &self.x[i * f..(i + 1) * f];
                dot(row, &w[..f]) + w[f] - self.y[i]
            })
            .collect()
    }

    /// The loss of linreg, as mse.wgsl: mean((p − y)²), no ½.
    fn loss(&self, w: &[f64]) -> f64 {
        let r = self.residuals(w);
        dot(&r, &r) / self.len() as f64
    }

    /// Its gradient: (2/n)·Σ (p − y)·[x, 1].
    fn grad(&self, w: &[f64]) -> Vec<f64> {
        let f = w.len() - 1;
        let n = self.len() as f64;
        let mut g = vec![0.0; w.len()];
        for (row, r) in self.x.chunks_exact(f).zip(self.residuals(w)) {
            for (gj, xj) in g.iter_mut().zip(row) {
                *gj += 2.0 * r * xj / n;
            }
            g[f] += 2.0 * r / n;
        }
        g
    }
}

/// The run's data and initial weights, as `etaprobe train --seed 0` loads and builds them.
struct Problem {
    _dir: tempfile::TempDir,
    data: PathBuf,
    train: Rows,
    test: Rows,
    /// w(0): fc.weight then fc.bias.
    w0: Vec<f64>,
}

fn problem() -> Problem {
    let (dir, data) = fake(DatasetKind::Boston, 100, 25);
    let args = DataArgs {
        dataset: DatasetKind::Boston,
        data: Some(data.clone()),
        test_fraction: 0.2,
        ..Default::default()
    };
    let dataset = args.load(0).unwrap();
    let rows = |which| {
        let batch = dataset
            .ordered_batches(which, 10_000)
            .unwrap()
            .next()
            .unwrap();
        Rows {
            x: batch.x.iter().map(|&v| f64::from(v)).collect(),
            y: batch.y_value.iter().map(|&v| f64::from(v)).collect(),
        }
    };
    let (train, test) = (rows(Which::Train), rows(Which::Test));
    let net = Net::build_with(
        ModelKind::Linreg,
        dataset.input_shape,
        dataset.num_classes,
        ModelOptions::default(),
    )
    .unwrap();
    let init = net.init(0);
    let slot = |name: &str| {
        let i = net.layout.slots.iter().position(|s| s.name == name);
        init[i.unwrap_or_else(|| panic!("linreg has no {name}"))].clone()
    };
    let w0: Vec<f64> = [slot("fc.weight"), slot("fc.bias")]
        .concat()
        .into_iter()
        .map(f64::from)
        .collect();
    assert_eq!(w0.len(), 14);
    assert!(
        train.len() > 50 && train.len() < 1000,
        "{} rows",
        train.len()
    );
    Problem {
        _dir: dir,
        data,
        train,
        test,
        w0,
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// a − b.
fn sub(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

/// w += alpha·d.
fn axpy(w: &mut [f64], alpha: f64, d: &[f64]) {
    for (wi, di) in w.iter_mut().zip(d) {
        *wi += alpha * di;
    }
}

/// What a reference computed, step by step.
#[derive(Default)]
struct Trace {
    /// η(t), steps.csv's `lr`.
    lr: Vec<f64>,
    /// The full-batch loss at the weights step t took its gradient at.
    loss: Vec<f64>,
    /// The test loss at the end of each epoch (one step each), where the rule evaluates.
    test_loss: Vec<f64>,
    /// The five probe losses of each step (GeN; None where the step does not probe).
    probes: Vec<Option<[f64; 5]>>,
    /// The weights the checkpoint holds at the end.
    w: Vec<f64>,
    /// The weights after each step (the plain gradient steps).
    iterates: Vec<Vec<f64>>,
    /// η at the end of the run (epochs.csv's last `lr`), where the rule's is checked.
    final_lr: Option<f64>,
}

impl Trace {
    /// Records step t's η and loss at `w`, before its update.
    fn step(&mut self, p: &Problem, lr: f64, w: &[f64]) {
        self.lr.push(lr);
        self.loss.push(p.train.loss(w));
    }
}

/// A rule as the command line gives it: its name, η0 and options.
struct Case<'a> {
    schedule: &'a str,
    lr: String,
    options: &'a [&'a str],
}

impl<'a> Case<'a> {
    fn new(schedule: &'a str, lr: f64, options: &'a [&'a str]) -> Case<'a> {
        Case {
            schedule,
            lr: lr.to_string(),
            options,
        }
    }
}

/// `etaprobe train` on the problem's data with `case`, plus `extra`.
fn train(p: &Problem, case: &Case, extra: &[&str]) -> std::process::Output {
    #[rustfmt::skip]
    let common = [
        "train", "--model", "linreg", "--dataset", "boston", "--data", s(&p.data),
        "--batch-size", "1000", "--epochs", "4", "--seed", "0",
        "--schedule", case.schedule, "--lr", &case.lr,
    ];
    etaprobe(&[&common[..], case.options, extra].concat())
}

/// |got − want| ≤ rel·scale.
fn close(got: f64, want: f64, rel: f64, scale: f64, what: &str) {
    let err = (got - want).abs();
    assert!(
        err <= rel * scale,
        "{what}: got {got}, want {want} (error {err:.3e}, tolerance {:.1e})",
        rel * scale
    );
}

/// f32 GPU against f64 CPU.
const REL: f64 = 1e-4;

/// epochs.csv without the wall-time column.
fn epochs_without_time(run: &Path) -> Vec<String> {
    std::fs::read_to_string(run.join("epochs.csv"))
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string())
        .collect()
}

/// Trains with `case`, compares the run with `reference`'s trace, then checks that a run
/// stopped after two steps and resumed writes the same steps.csv, rule.csv and epochs.csv.
fn check(case: Case, reference: impl FnOnce(&Problem) -> Trace) {
    let p = problem();
    let want = reference(&p);
    let name = case.schedule;
    let runs = tempfile::tempdir().unwrap();
    let full = runs.path().join("full");
    ok(&train(&p, &case, &["--out", s(&full)]));

    let steps = read_steps(full.join("steps.csv")).unwrap();
    assert_eq!(steps.len(), STEPS, "{name}: steps");
    for (i, r) in steps.iter().enumerate() {
        let what = |q: &str| format!("{name}: step {} {q}", i + 1);
        close(r.lr, want.lr[i], REL, want.lr[i].abs(), &what("η"));
        close(r.loss, want.loss[i], REL, want.loss[i], &what("loss"));
        match (want.probes.get(i).copied().flatten(), &r.probe) {
            (Some(f), Some(got)) => {
                for (j, (&g, &w)) in got.f.iter().zip(&f).enumerate() {
                    close(g, w, REL, w, &what(&format!("probe {j}")));
                }
            }
            (None, None) => {}
            (f, got) => panic!("{}: want probes {f:?}, got {got:?}", what("")),
        }
    }

    let epochs = read_epochs(full.join("epochs.csv")).unwrap();
    assert_eq!(epochs.len(), STEPS, "{name}: epochs");
    for (e, (r, &want)) in epochs.iter().zip(&want.test_loss).enumerate() {
        let got = r.test_loss.unwrap();
        close(
            got,
            want,
            REL,
            want,
            &format!("{name}: epoch {} test loss", e + 1),
        );
    }
    if let Some(lr) = want.final_lr {
        let got = epochs[STEPS - 1].lr;
        close(got, lr, REL, lr, &format!("{name}: η after the last step"));
    }

    let ckpt = checkpoint::load(full.join("checkpoint.safetensors")).unwrap();
    let got: Vec<f64> = [ckpt.tensor("fc.weight"), ckpt.tensor("fc.bias")]
        .iter()
        .flat_map(|t| t.unwrap().1.iter().map(|&v| f64::from(v)))
        .collect();
    assert_eq!(got.len(), want.w.len());
    let scale = want.w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (j, (&g, &w)) in got.iter().zip(&want.w).enumerate() {
        close(g, w, REL, scale, &format!("{name}: final weight {j}"));
    }

    // Stopped after step 2 (a checkpoint is written at the end), then resumed to the end.
    let part = runs.path().join("part");
    ok(&train(&p, &case, &["--out", s(&part), "--max-steps", "2"]));
    let ckpt = part.join("checkpoint.safetensors");
    ok(&train(&p, &case, &["--resume", s(&ckpt)]));
    let read = |run: &Path, f: &str| std::fs::read_to_string(run.join(f)).unwrap();
    for f in ["steps.csv", "rule.csv"] {
        assert_eq!(read(&full, f), read(&part, f), "{name}: resumed {f}");
    }
    assert_eq!(
        epochs_without_time(&full),
        epochs_without_time(&part),
        "{name}: resumed epochs.csv"
    );
}

// ---------------------------------------------------------------------------------------
// One test and one reference per rule.

/// Plain gradient steps w −= η(t)·g(t), η(t) = `rate(w(t), g(t))`: the rules that only
/// set η.
fn gradient_descent(p: &Problem, mut rate: impl FnMut(&[f64], &[f64]) -> f64) -> Trace {
    let mut t = Trace::default();
    let mut w = p.w0.clone();
    for _ in 0..STEPS {
        let g = p.train.grad(&w);
        let lr = rate(&w, &g);
        t.step(p, lr, &w);
        axpy(&mut w, -lr, &g);
        t.test_loss.push(p.test.loss(&w));
        t.iterates.push(w.clone());
    }
    t.w = w;
    t
}

/// `trace` evaluated at the polynomial-decay average of its iterates, as DoG's authors'
/// `PolynomialDecayAverager` (`--average-gamma`): x̄ += (1 + γ)/(t + γ)·(w(t) − x̄) after
/// step t (x̄ = w(1) after the first); the training steps are the trace's own.
fn averaged(p: &Problem, mut trace: Trace, gamma: f64) -> Trace {
    let mut average = p.w0.clone();
    trace.test_loss = (trace.iterates.iter().enumerate())
        .map(|(i, w)| {
            let c = (1.0 + gamma) / ((i + 1) as f64 + gamma);
            for (a, x) in average.iter_mut().zip(w) {
                *a += c * (x - *a);
            }
            p.test.loss(&average)
        })
        .collect();
    trace
}

#[test]
fn hypergradient_matches_its_formula() {
    // The defaults (β = 0.02), from an η0 at which consecutive gradients part.
    check(Case::new("hypergradient", 0.4, &[]), |p| {
        hypergradient(p, 0.4, 0.02)
    });
}

/// Normalised hypergradient (hypergradient.rs): from the second step on,
/// η(t) = η(t−1)·(1 + β·cos(g(t), g(t−1))).
fn hypergradient(p: &Problem, lr0: f64, beta: f64) -> Trace {
    let (mut eta, mut previous) = (lr0, None::<Vec<f64>>);
    gradient_descent(p, |_, g| {
        if let Some(prev) = &previous {
            eta *= 1.0 + beta * dot(g, prev) / (norm(g) * norm(prev));
        }
        previous = Some(g.to_vec());
        eta
    })
}

#[test]
fn dog_matches_the_authors_algorithm() {
    // At 1e-6 (the default) the distance would take many steps to matter.
    check(Case::new("dog", 0.1, &["--dog-reps-rel", "0.05"]), |p| {
        dog(p, 0.05)
    });
}

#[test]
fn dog_with_iterate_averaging_matches_the_authors_averager() {
    // γ = 2, so that within four steps the average lags the iterates visibly; the
    // resumed run must carry the average over.
    let options = ["--dog-reps-rel", "0.05", "--average-gamma", "2"];
    check(Case::new("dog", 0.1, &options), |p| {
        averaged(p, dog(p, 0.05), 2.0)
    });
}

/// DoG, as the authors' `DoG.step` (lr 1, eps 1e-8): at the first step r̄ = reps_rel·(1 +
/// ‖w0‖) and G = ‖g‖² + eps, then r̄ = max(r̄, ‖w − w0‖) and G += ‖g‖²; η = lr·r̄/√G.
fn dog(p: &Problem, reps_rel: f64) -> Trace {
    let (lr, eps) = (1.0, 1e-8);
    let (mut rbar, mut sum) = (reps_rel * (1.0 + norm(&p.w0)), None);
    gradient_descent(p, |w, g| {
        sum = Some(match sum {
            None => dot(g, g) + eps,
            Some(sum) => {
                rbar = rbar.max(norm(&sub(w, &p.w0)));
                sum + dot(g, g)
            }
        });
        lr * rbar / sum.unwrap().sqrt()
    })
}

#[test]
fn sps_matches_its_formula() {
    // The defaults; η0 such that the growth bound decides the first two steps.
    check(Case::new("sps", 0.1, &[]), |p| sps(p, 0.1));
}

/// SPS_max (sps.rs, c 0.5, τ 2, ε 1e-8): η(t) = min(f/(c·‖g‖² + ε), τ^{1/n}·η(t−1)),
/// n = 1 step per epoch.
fn sps(p: &Problem, lr0: f64) -> Trace {
    let (c, tau, eps) = (0.5, 2.0, 1e-8);
    let mut eta = lr0;
    gradient_descent(p, |w, g| {
        let polyak = p.train.loss(w) / (c * dot(g, g) + eps);
        eta = polyak.min(tau * eta);
        eta
    })
}

#[test]
fn gen_matches_its_formula() {
    // Fits after steps 2 and 4: the first clamped to 4η, the second not.
    check(
        Case::new("gen", 0.06, &["--gen-every", "2", "--gen-damping", "0.5"]),
        |p| gen(p, 0.06, 2),
    );
}

/// GeN-style (gen.rs, γ 0.5 as given, R² ≥ 0.9): every k steps the loss at a_j = η(1 + j/2),
/// j = −2..2, along −g, and the least-squares parabola through them; when it is convex,
/// fits and has a positive minimum a*, η += γ·(clamp(a*, η/4, 4η) − η).
fn gen(p: &Problem, lr0: f64, every: usize) -> Trace {
    let (damping, min_r2) = (0.5, 0.9);
    let mut t = Trace::default();
    let (mut w, mut eta) = (p.w0.clone(), lr0);
    for step in 1..=STEPS {
        let g = p.train.grad(&w);
        t.step(p, eta, &w);
        let probes = (step % every == 0).then(|| {
            [-2.0, -1.0, 0.0, 1.0, 2.0].map(|j: f64| {
                let mut at = w.clone();
                axpy(&mut at, -eta * (1.0 + 0.5 * j), &g);
                p.train.loss(&at)
            })
        });
        t.probes.push(probes);
        axpy(&mut w, -eta, &g);
        t.test_loss.push(p.test.loss(&w));
        if let Some(f) = probes {
            let (curvature, r2, x_min) = parabola(f);
            // x = j: a step of η(1 + x/2).
            let a_min = eta * (1.0 + 0.5 * x_min);
            assert!(
                curvature > 0.0 && r2 >= min_r2 && a_min > 0.0,
                "a rejected fit"
            );
            eta += damping * (a_min.clamp(eta / 4.0, eta * 4.0) - eta);
        }
    }
    t.w = w;
    t.final_lr = Some(eta);
    t
}

/// The least-squares parabola through (j, f_j), j = −2..2, in orthogonal polynomials
/// f ≈ c0 + c1·j + c2·(j² − 2): its curvature c2, R² and minimum −c1/(2·c2).
fn parabola(f: [f64; 5]) -> (f64, f64, f64) {
    let x = [-2.0, -1.0, 0.0, 1.0, 2.0];
    let quadratic = x.map(|x| x * x - 2.0);
    let c0 = f.iter().sum::<f64>() / 5.0;
    let c1 = dot(&x, &f) / dot(&x, &x);
    let c2 = dot(&quadratic, &f) / dot(&quadratic, &quadratic);
    let residual: f64 = (0..5)
        .map(|j| (f[j] - c0 - c1 * x[j] - c2 * quadratic[j]).powi(2))
        .sum();
    let total: f64 = f.iter().map(|v| (v - c0).powi(2)).sum();
    (c2, 1.0 - residual / total, -c1 / (2.0 * c2))
}

#[test]
fn dadapt_matches_the_authors_algorithm() {
    // With d0 at the default (1e-6) the weights would hardly move in four steps.
    let options = ["--dadapt-d0", "1", "--dadapt-momentum", "0.5"];
    check(Case::new("dadapt", 0.1, &options), |p| {
        dadapt(p, 1.0, 0.5, |_| 1.0)
    });
}

#[test]
fn dadapt_with_cosine_decay_matches_the_authors_algorithm_under_a_scheduler() {
    // The four steps are the run's whole horizon: lr goes 1, 0.85, 0.5, 0.15, then 0.
    let options = ["--dadapt-d0", "1", "--dadapt-decay", "cosine"];
    check(Case::new("dadapt", 0.1, &options), |p| {
        dadapt(p, 1.0, 0.0, |k| {
            (1.0 + (std::f64::consts::PI * k as f64 / STEPS as f64).cos()) / 2.0
        })
    });
}

/// D-Adaptation SGD, as the authors' `DAdaptSGD.step` (growth ∞), its lr at step k (from
/// 0) `lr(k)` as a scheduler sets it: with ‖g0‖ from the first step, λ = d·lr/‖g0‖, Σ += λ·(g·s), s += λ·g, d̂ = 2Σ/‖s‖,
/// d = max(d, min(d̂, d·growth)), w = μ·w + (1 − μ)·(w0 − s). steps.csv's η is λ.
fn dadapt(p: &Problem, d0: f64, momentum: f64, lr: impl Fn(usize) -> f64) -> Trace {
    let growth = f64::INFINITY;
    let mut t = Trace::default();
    let mut w = p.w0.clone();
    let (mut d, mut numerator, mut s) = (d0, 0.0, vec![0.0; w.len()]);
    let g0_norm = norm(&p.train.grad(&w));
    for k in 0..STEPS {
        let g = p.train.grad(&w);
        let dlr = d * lr(k) / g0_norm;
        t.step(p, dlr, &w);
        numerator += dlr * dot(&g, &s);
        axpy(&mut s, dlr, &g);
        let d_hat = 2.0 * numerator / norm(&s);
        d = d.max(d_hat.min(d * growth));
        let z = sub(&p.w0, &s);
        for (wi, zi) in w.iter_mut().zip(&z) {
            *wi = momentum * *wi + (1.0 - momentum) * zi;
        }
        t.test_loss.push(p.test.loss(&w));
    }
    t.w = w;
    // The step size of a next step, with the d just learned.
    t.final_lr = Some(d * lr(STEPS) / g0_norm);
    t
}

#[test]
fn prodigy_matches_the_authors_algorithm() {
    // With D0 at the default (1e-6) the weights would hardly move in four steps.
    check(Case::new("prodigy", 0.1, &["--prodigy-d0", "1e-2"]), |p| {
        prodigy(p, 1e-2)
    });
}

/// Prodigy, as the authors' `Prodigy.step` (lr 1, betas (0.9, 0.999), β3 = √β2, eps 1e-8,
/// d_coef 1, growth ∞, no bias correction, no weight decay). steps.csv's η is d·lr.
fn prodigy(p: &Problem, d0: f64) -> Trace {
    let (lr, beta1, beta2, eps, d_coef, growth) = (1.0, 0.9, 0.999, 1e-8, 1.0, f64::INFINITY);
    let beta3 = f64::sqrt(beta2);
    let mut t = Trace::default();
    let mut w = p.w0.clone();
    let n = w.len();
    let (mut m, mut v, mut s) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let (mut d, mut d_max, mut numerator) = (d0, d0, 0.0);
    for _ in 0..STEPS {
        let g = p.train.grad(&w);
        let dlr = d * lr;
        t.step(p, dlr, &w);
        numerator = beta3 * numerator + (d / d0) * dlr * dot(&g, &sub(&p.w0, &w));
        for i in 0..n {
            m[i] = beta1 * m[i] + d * (1.0 - beta1) * g[i];
            v[i] = beta2 * v[i] + d * d * (1.0 - beta2) * g[i] * g[i];
            s[i] = beta3 * s[i] + (d / d0) * dlr * g[i];
        }
        let d_hat = d_coef * numerator / s.iter().map(|x| x.abs()).sum::<f64>();
        if d == d0 {
            d = d.max(d_hat);
        }
        d_max = d_max.max(d_hat);
        d = d_max.min(d * growth);
        // The new d in the denominator, as the authors (the engine takes this step's: see
        // prodigy.rs; with eps 1e-8 the tolerance absorbs it).
        for i in 0..n {
            w[i] -= dlr * m[i] / (v[i].sqrt() + d * eps);
        }
        t.test_loss.push(p.test.loss(&w));
    }
    t.w = w;
    t.final_lr = Some(d * lr);
    t
}

#[test]
fn schedule_free_matches_the_authors_algorithm() {
    // β 0.9 (the default) with a warmup, so that γ_k and the weights c move.
    check(
        Case::new("schedule-free", 0.1, &["--sf-warmup-steps", "3"]),
        |p| schedule_free(p, 0.1, 3),
    );
}

/// Schedule-free SGD, as the authors' `SGDScheduleFree.step` (momentum β 0.9, r 0,
/// weight_lr_power 2): the gradient at y; γ_k = γ·min(1, (k+1)/warmup), γ_max = max γ_k,
/// c = γ_max²/Σγ_max²; y = lerp(y, z, c) + γ_k·(β(1 − c) − 1)·g, z −= γ_k·g. Evaluated at
/// x = y + (1 − 1/β)(z − y) (their `eval()`); the checkpoint holds y.
fn schedule_free(p: &Problem, gamma: f64, warmup: usize) -> Trace {
    let beta = 0.9;
    let mut t = Trace::default();
    let (mut y, mut z) = (p.w0.clone(), p.w0.clone());
    let (mut lr_max, mut weight_sum) = (-1.0f64, 0.0);
    for k in 0..STEPS {
        let g = p.train.grad(&y);
        let warm = if k < warmup {
            (k + 1) as f64 / warmup as f64
        } else {
            1.0
        };
        let lr = gamma * warm;
        t.step(p, lr, &y);
        lr_max = lr_max.max(lr);
        let weight = lr_max.powi(2);
        weight_sum += weight;
        let c = weight / weight_sum;
        for i in 0..y.len() {
            y[i] += c * (z[i] - y[i]);
            y[i] += lr * (beta * (1.0 - c) - 1.0) * g[i];
            z[i] -= lr * g[i];
        }
        let x: Vec<f64> = (0..y.len())
            .map(|i| y[i] + (1.0 - 1.0 / beta) * (z[i] - y[i]))
            .collect();
        t.test_loss.push(p.test.loss(&x));
    }
    t.w = y;
    t
}

// ---------------------------------------------------------------------------------------
// Option checks.

#[test]
fn impossible_baseline_options_are_refused() {
    let (_d, data) = fake(DatasetKind::Boston, 20, 10);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("run");
    // The rule's own check (clap's parse errors also exit with 2: the messages tell).
    #[rustfmt::skip]
    let cases: &[(&str, &[&str], &str)] = &[
        ("hypergradient", &["--hd-beta", "1"], "--hd-beta must be below 1"),
        ("hypergradient", &["--hd-beta=-0.1"], "--hd-beta <F>': must be"),
        ("dog", &["--dog-reps-rel", "0"], "--dog-reps-rel <F>': must be"),
        ("dog", &["--dog-scale", "inf"], "--dog-scale <F>': must be"),
        ("dog", &["--dog-eps=-1"], "--dog-eps <F>': must be"),
        ("dadapt", &["--dadapt-momentum", "1"], "--dadapt-momentum <F>': must be in [0, 1)"),
        ("dadapt", &["--dadapt-d0", "0"], "--dadapt-d0 <F>': must be"),
        ("dadapt", &["--dadapt-d0", "1e-320"], "--dadapt-d0 1e-320 is below 1.175e-38"),
        ("dadapt", &["--dadapt-growth", "0.5"], "--dadapt-growth <F>': must be"),
        ("prodigy", &["--prodigy-betas", "0.9"], "--prodigy-betas takes two numbers"),
        ("prodigy", &["--prodigy-betas", "0.9,1"], "--prodigy-betas takes two numbers"),
        ("prodigy", &["--prodigy-beta3", "1"], "--prodigy-beta3 <F>': must be"),
        ("prodigy", &["--prodigy-d0", "0"], "--prodigy-d0 <F>': must be"),
        ("prodigy", &["--prodigy-d0", "1e-320"], "--prodigy-d0 1e-320 is below 1.175e-38"),
        ("prodigy", &["--prodigy-growth", "0.5"], "--prodigy-growth <F>': must be"),
        ("schedule-free", &["--sf-beta", "0"], "--sf-beta <F>': must lie strictly between 0 and 1"),
        ("schedule-free", &["--sf-beta", "1"], "--sf-beta <F>': must lie strictly between 0 and 1"),
        ("schedule-free", &["--sf-r=-1"], "--sf-r <F>': must be"),
        ("sps", &["--sps-c=-1"], "--sps-c <F>': must be"),
        ("sps", &["--sps-tau", "0.5"], "--sps-tau <F>': must be"),
        ("sps", &["--sps-max", "0"], "--sps-max <F>': must be"),
        ("gen", &["--gen-every", "0"], "--gen-every <K>': must be at least 1"),
        ("gen", &["--gen-damping", "0"], "--gen-damping <F>': must be"),
        ("gen", &["--gen-min-r2", "2"], "--gen-min-r2 <F>': must be"),
        // The rules defined over the plain SGD gradient refuse another optimizer.
        ("dadapt", &["--optimizer", "adam"], "drop --optimizer adam"),
        ("prodigy", &["--optimizer", "adam"], "drop --optimizer adam"),
        ("schedule-free", &["--optimizer", "momentum"], "drop --optimizer momentum"),
        ("dog", &["--optimizer", "adam"], "drop --optimizer adam"),
        ("sps", &["--optimizer", "adam"], "drop --optimizer adam"),
        // An average of the iterates: γ ≥ 0, and not over schedule-free's own.
        ("dog", &["--average-gamma=-1"], "--average-gamma <GAMMA>': must be"),
        ("dog", &["--average-gamma", "nan"], "--average-gamma <GAMMA>': must be"),
        ("dog", &["--average-gamma", "1e39"], "--average-gamma <GAMMA>': too large for an f32"),
        ("schedule-free", &["--average-gamma", "8"], "an average of its own"),
    ];
    for &(schedule, extra, message) in cases {
        #[rustfmt::skip]
        let common = [
            "train", "--model", "linreg", "--dataset", "boston", "--data", s(&data),
            "--schedule", schedule, "--out", s(&out),
        ];
        let o = etaprobe(&[&common[..], extra].concat());
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{schedule} {extra:?}: {stderr}");
        assert!(stderr.contains(message), "{schedule} {extra:?}: {stderr}");
        assert!(!out.exists(), "{schedule} {extra:?} left a run folder");
    }
}
