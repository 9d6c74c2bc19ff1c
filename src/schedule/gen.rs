//! A second-order rule built on the five-point probe, after GeN: Bu & Xu, "Gradient
//! descent with generalized Newton's method" (ICLR 2025). Every k steps the five probes
//! evaluate the batch loss along d, a parabola goes through them, and when it is convex,
//! fits well (R² ≥ --gen-min-r2) and has a positive minimum a*, η moves part of the way
//! there, η ← η + γ·(s·clamp(a*) − η), a* clamped to [η/c, c·η], s = 1 or the share of
//! the epochs left (`--gen-scale`). Other fits are rejected and η stays (rule.csv records
//! each fit; the summary counts rejects).
//!
//! Two fits (`--gen-fit`):
//! - `five-point` (the default, this engine's): probes at a_j = η·(1 + j·h), j = −2..2
//!   (h = 0.5: 0, η/2, η, 3η/2, 2η), a least-squares f ≈ A·a² + B·a + C, a* = −B/(2A).
//!   The spacing scales with η, so the loss differences stay far above f32 rounding.
//! - `three-point` (GeN's own, the authors' `lr_parabola` in their `gen-optim` package):
//!   probes at −η, −η/2, 0, η/2, η, of which −η, 0 and η are fitted exactly by
//!   f(a) − f(0) = ½·gHg·a² − Gg·a, a* = Gg/gHg when both are positive (R² is then 1, so
//!   the authors' floor 0.99 never rejects); the probes at ±η/2 are recorded only.
//!
//! The authors' settings, for comparison (gen-optim 0.1.1): the three-point fit, the clamp
//! c = 2, the smoothing η ← 0.9·η + 0.1·scale·target (γ = 0.1, the default here),
//! R² > 0.99, the probes on a fresh training batch (`--probe-on fresh`; this engine's
//! default probes the step's own batch, whose line minimum lies beyond what SGD can take
//! on the next batches), `scale` 1 by default or, as their README offers, the
//! horizon-aware `linspace(1, 0, epochs + 1)[epoch]` (`--gen-scale linear`), and η halved
//! when the fit fails
//! (here a non-finite probe stops the run, or with `--on-nonfinite skip` discards the step
//! and halves η). Two differences stay: their new η already drives the probed step, here
//! the next one (the probes are read one step late), and their probe calls the
//! optimizer's step, which advances a momentum or Adam state twice on probed steps (SGD:
//! no state). The defaults (five-point fit, c = 4, R² ≥ 0.9, own batch, constant scale)
//! are this engine's; the held-out records ran them with γ = 0.05 (docs/evaluation.md
//! §5.2–5.3). With γ = 0.5 LeNet-5 diverged within 40 steps.

use super::{state_f64, state_num, Needs, Observation, ProbeRecord, Rule, RunShape, Schedule};

/// Relative spacing h of the five-point fit's probes: a_j = η·(1 + j·h).
const SPACING: f64 = 0.5;

/// What multiplies `gen`'s target.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum GenScale {
    /// Nothing (this engine's, and `lr_parabola`'s default `scale = 1`).
    #[default]
    Constant,
    /// The share of the run's epochs left, 1 − epoch/epochs: the horizon-aware `scale` the
    /// GeN authors' README offers.
    Linear,
}

/// How `gen` fits its probes.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum GenFit {
    /// A least-squares parabola through five probes at η·(0, ½, 1, 3/2, 2) (this engine's).
    #[default]
    FivePoint,
    /// GeN's own: the parabola through f(−η), f(0) and f(η), probes at −η..η.
    ThreePoint,
}

/// One least-squares fit of the five probes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    /// A in f ≈ A·a² + B·a + C, a the step size: the parabola is convex when A > 0.
    pub a: f64,
    /// B in f ≈ A·a² + B·a + C.
    pub b: f64,
    /// R², the share of the five losses' variance the parabola explains (0 when they are all
    /// equal).
    pub r2: f64,
    /// The parabola's minimum, when it has one at a positive step.
    pub minimum: Option<f64>,
}

impl Fit {
    /// GeN's fit (the authors' `lr_parabola`): f(a) − f(0) = ½·gHg·a² − Gg·a through the
    /// probes at −η, 0 and η (`steps[0]`, `steps[2]` = 0, `steps[4]`, as the probes used
    /// them), exact, so R² = 1 (0 when the three losses are equal). The minimum
    /// a* = Gg/gHg when gHg > 0 and Gg > 0.
    pub fn three_point(steps: [f64; 5], f: [f64; 5]) -> Fit {
        let (x1, x2) = (steps[0], steps[4]);
        let (y1, y2) = (f[0] - f[2], f[4] - f[2]);
        // A·x² + B·x = y at x1 and x2 (A = ½·gHg, B = −Gg).
        let det = x1 * x2 * (x1 - x2);
        let a = (y1 * x2 - y2 * x1) / det;
        let b = (x1 * x1 * y2 - x2 * x2 * y1) / det;
        let r2 = if y1 == 0.0 && y2 == 0.0 { 0.0 } else { 1.0 };
        let minimum = (a > 0.0 && b < 0.0)
            .then(|| -b / (2.0 * a))
            .filter(|m| m.is_finite());
        Fit { a, b, r2, minimum }
    }

    /// The least-squares parabola through (`steps[j]`, `f[j]`); abscissae centred and scaled by
    /// η for conditioning.
    pub fn through(steps: [f64; 5], f: [f64; 5], eta: f64) -> Fit {
        let x: Vec<f64> = steps.iter().map(|s| (s - eta) / eta).collect();
        let n = 5.0;
        let (mut sx, mut sx2, mut sx3, mut sx4, mut sy, mut sxy, mut sx2y) =
            (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for (xi, yi) in x.iter().zip(&f) {
            let x2 = xi * xi;
            sx += xi;
            sx2 += x2;
            sx3 += x2 * xi;
            sx4 += x2 * x2;
            sy += yi;
            sxy += xi * yi;
            sx2y += x2 * yi;
        }
        // Normal equations for y = p·x² + q·x + r, by Cramer's rule.
        let m = [[sx4, sx3, sx2], [sx3, sx2, sx], [sx2, sx, n]];
        let rhs = [sx2y, sxy, sy];
        let det3 = |m: [[f64; 3]; 3]| {
            m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
                - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        };
        let det = det3(m);
        let solve = |col: usize| {
            let mut mc = m;
            for (row, v) in mc.iter_mut().zip(rhs) {
                row[col] = v;
            }
            det3(mc) / det
        };
        let (p, q, r) = (solve(0), solve(1), solve(2));
        let mean = sy / n;
        let (mut ss_res, mut ss_tot) = (0.0, 0.0);
        for (xi, yi) in x.iter().zip(&f) {
            let e = yi - (p * xi * xi + q * xi + r);
            ss_res += e * e;
            ss_tot += (yi - mean).powi(2);
        }
        let r2 = if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else {
            0.0
        };
        // Back to step sizes: a = η(1 + x), so A = p/η², B = q/η − 2p/η.
        let a = p / (eta * eta);
        let b = q / eta - 2.0 * p / eta;
        let minimum = (a > 0.0)
            .then(|| -b / (2.0 * a))
            .filter(|m| m.is_finite() && *m > 0.0);
        Fit { a, b, r2, minimum }
    }
}

/// The `gen` rule, after GeN: every k steps a least-squares parabola through five probes
/// spaced in proportion to η, and η moved part of the way to its minimum when the fit is
/// convex, good and has a positive minimum.
pub struct Gen {
    options: GenOptions,
    lr: f64,
    steps_per_epoch: usize,
    epochs: usize,
    fits: u64,
    rejected: u64,
    last: Option<(Fit, bool)>,
}

impl Gen {
    /// η after a fit: part of the way to its clamped minimum times `scale` (1, or the
    /// horizon's share left with --gen-scale linear), or unchanged when rejected.
    pub fn next(lr: f64, fit: &Fit, o: &GenOptions, scale: f64) -> (f64, bool) {
        match fit.minimum {
            Some(m) if fit.r2 >= o.gen_min_r2 => {
                let target = m.clamp(lr / o.gen_clamp, lr * o.gen_clamp);
                (lr + o.gen_damping * (scale * target - lr), true)
            }
            _ => (lr, false),
        }
    }

    /// The target's factor at `step` (1-based): 1, or with --gen-scale linear the authors'
    /// `linspace(1, 0, epochs + 1)[epoch]`, 1 − epoch/epochs with the epoch counted from 0.
    pub fn scale_at(&self, step: usize) -> f64 {
        match self.options.gen_scale {
            GenScale::Constant => 1.0,
            GenScale::Linear => {
                let epoch = (step.max(1) - 1) / self.steps_per_epoch.max(1);
                1.0 - epoch.min(self.epochs) as f64 / self.epochs.max(1) as f64
            }
        }
    }
}

impl Schedule for Gen {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn needs(&self) -> Needs {
        Needs {
            probe: true,
            ..Needs::default()
        }
    }

    fn probe_steps(&self) -> [f64; 5] {
        match self.options.gen_fit {
            GenFit::FivePoint => [-2.0, -1.0, 0.0, 1.0, 2.0].map(|j| self.lr * (1.0 + j * SPACING)),
            GenFit::ThreePoint => [-1.0, -0.5, 0.0, 0.5, 1.0].map(|j| self.lr * j),
        }
    }

    fn probe_at(&self, step: usize) -> bool {
        step.is_multiple_of(self.options.gen_every)
    }

    fn observe(&mut self, obs: &Observation) -> Option<ProbeRecord> {
        self.last = None;
        let (Some(f), Some(steps)) = (obs.probes, obs.probe_steps) else {
            return None;
        };
        // Fit around the η the probes were centred on (this step's).
        let fit = match self.options.gen_fit {
            GenFit::FivePoint => Fit::through(steps, f, obs.lr),
            GenFit::ThreePoint => Fit::three_point(steps, f),
        };
        let scale = self.scale_at(obs.step);
        let (lr, accepted) = Gen::next(self.lr, &fit, &self.options, scale);
        self.fits += 1;
        if !accepted {
            self.rejected += 1;
        }
        self.lr = lr;
        self.last = Some((fit, accepted));
        Some(ProbeRecord {
            f,
            numerator: fit.b,
            denominator: 2.0 * fit.a,
            safeguarded: !accepted,
        })
    }

    fn record_header(&self) -> Option<&'static str> {
        Some("step,a,b,r2,minimum,accepted,fits,rejected")
    }

    fn record(&self, step: usize) -> Option<String> {
        let (fit, accepted) = self.last?;
        let minimum = fit.minimum.map_or(String::new(), |m| m.to_string());
        Some(format!(
            "{step},{},{},{},{minimum},{accepted},{},{}",
            fit.a, fit.b, fit.r2, self.fits, self.rejected
        ))
    }

    /// Rejected fits, reported where the other rules report δ safeguards.
    fn safeguarded(&self) -> usize {
        self.rejected as usize
    }

    fn state(&self) -> serde_json::Value {
        let mut state = serde_json::json!({
            "lr": state_num(self.lr),
            "fits": self.fits,
            "rejected": self.rejected,
        });
        if self.options.gen_scale == GenScale::Linear {
            state["epochs"] = self.epochs.into();
        }
        state
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String> {
        self.lr = state_f64(state, "lr")?;
        if let Some(planned) = state["epochs"].as_u64() {
            if planned != self.epochs as u64 {
                // The scale's horizon: another --epochs would bend the decay mid-run.
                return Err(format!(
                    "its --gen-scale linear was planned over {planned} epochs, the run now has \
                     {} (another --epochs); resume with the run's --epochs, or start a new run",
                    self.epochs
                ));
            }
        }
        self.fits = state["fits"]
            .as_u64()
            .ok_or("schedule state lacks 'fits'")?;
        self.rejected = state["rejected"]
            .as_u64()
            .ok_or("schedule state lacks 'rejected'")?;
        Ok(())
    }
}

/// The GeN-style rule's options.
#[derive(clap::Args, Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct GenOptions {
    /// gen: probe and fit every this many steps.
    #[arg(value_parser = crate::values::at_least_one, long, default_value_t = 4, value_name = "K")]
    pub gen_every: usize,
    /// gen: γ, the fraction of the way η moves toward the fitted minimum.
    #[arg(value_parser = crate::values::up_to_one, long, default_value_t = 0.1, value_name = "F")]
    pub gen_damping: f64,
    /// gen: the least R² of an accepted fit.
    #[arg(value_parser = crate::values::unit, long, default_value_t = 0.9, value_name = "F")]
    pub gen_min_r2: f64,
    /// gen: the fit, this engine's five-point least squares or GeN's own three-point
    /// parabola (probes at −η..η; with GeN's other settings: --gen-clamp 2 --gen-min-r2 0.99
    /// --probe-on fresh --gen-scale linear).
    #[arg(long, value_enum, default_value_t = GenFit::FivePoint, value_name = "FIT")]
    pub gen_fit: GenFit,
    /// gen: one fit's target stays within [η/F, F·η] (GeN's own: 2).
    #[arg(value_parser = crate::values::at_least_one_f, long, default_value_t = 4.0, value_name = "F")]
    pub gen_clamp: f64,
    /// gen: the target times 1 (constant) or times the share of the epochs left (linear,
    /// the GeN authors' horizon-aware decay).
    #[arg(long, value_enum, default_value_t = GenScale::Constant, value_name = "SCALE")]
    pub gen_scale: GenScale,
}

impl Rule for Gen {
    const NAME: &'static str = "gen";
    const ABOUT: &'static str =
        "GeN-style (after Bu & Xu 2025): every k steps, a parabola through five probes at η-scaled spacing";
    type Options = GenOptions;

    fn check(o: &GenOptions) -> Result<(), String> {
        if o.gen_every == 0 {
            return Err("--gen-every must be at least 1".into());
        }
        if !(o.gen_damping > 0.0 && o.gen_damping <= 1.0) {
            return Err(format!(
                "--gen-damping must be in (0, 1], got {}",
                o.gen_damping
            ));
        }
        if !(o.gen_clamp.is_finite() && o.gen_clamp >= 1.0) {
            return Err(format!(
                "--gen-clamp must be a finite number ≥ 1, got {}",
                o.gen_clamp
            ));
        }
        if !(0.0..=1.0).contains(&o.gen_min_r2) {
            return Err(format!(
                "--gen-min-r2 must be in [0, 1], got {}",
                o.gen_min_r2
            ));
        }
        Ok(())
    }

    fn build(run: &RunShape, o: &GenOptions) -> Gen {
        Gen {
            options: o.clone(),
            lr: run.lr0,
            steps_per_epoch: run.steps_per_epoch,
            epochs: run.planned_steps.div_ceil(run.steps_per_epoch.max(1)),
            fits: 0,
            rejected: 0,
            last: None,
        }
    }
}

crate::default_from_command_line!(GenOptions);
