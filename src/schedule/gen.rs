//! A second-order rule built on the five-point probe, after GeN: Bu & Xu, "Gradient
//! descent with generalized Newton's method" (ICLR 2025). Every k steps the five probes
//! evaluate the batch loss at step sizes spaced in proportion to η along d,
//!   a_j = η·(1 + j·h),  j = −2..2  (h = 0.5: 0, η/2, η, 3η/2, 2η),
//! a least-squares parabola f ≈ A·a² + B·a + C goes through the five losses, and when it is
//! convex (A > 0), fits well (R² ≥ --gen-min-r2) and has a positive minimum a* = −B/(2A),
//! η moves part of the way there, η ← η + γ·(clamp(a*) − η), a* clamped to [η/4, 4η]. Other
//! fits are rejected and η stays (rule.csv records each fit; the summary counts rejects).
//! Unlike the paper's Newton rule (`newton`), the spacing scales with η, so the loss
//! differences stay far above f32 rounding, and no finite difference is divided by
//! another. The fit, the damping γ = 0.1 (the smoothing η ← 0.9·η + 0.1·target, in the
//! spirit of GeN's), k = 4, the R² floor 0.9 and the clamp are this engine's choices (GeN
//! itself fits f(−η), f(0), f(η)). With γ = 0.5 LeNet-5 diverged within 40 steps: one
//! batch's line minimum lies far beyond the step SGD can take on the next batches.

use super::{state_f64, state_num, Needs, Observation, ProbeRecord, Rule, RunShape, Schedule};

/// Relative spacing h of the probes: a_j = η·(1 + j·h).
const SPACING: f64 = 0.5;
/// How far one fit may move its target: a* within [η/CLAMP, η·CLAMP].
const CLAMP: f64 = 4.0;

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
    fits: u64,
    rejected: u64,
    last: Option<(Fit, bool)>,
}

impl Gen {
    /// η after a fit: part of the way to its clamped minimum, or unchanged when rejected.
    pub fn next(lr: f64, fit: &Fit, o: &GenOptions) -> (f64, bool) {
        match fit.minimum {
            Some(m) if fit.r2 >= o.gen_min_r2 => {
                let target = m.clamp(lr / CLAMP, lr * CLAMP);
                (lr + o.gen_damping * (target - lr), true)
            }
            _ => (lr, false),
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
        [-2.0, -1.0, 0.0, 1.0, 2.0].map(|j| self.lr * (1.0 + j * SPACING))
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
        let fit = Fit::through(steps, f, obs.lr);
        let (lr, accepted) = Gen::next(self.lr, &fit, &self.options);
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
        serde_json::json!({ "lr": state_num(self.lr), "fits": self.fits, "rejected": self.rejected })
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String> {
        self.lr = state_f64(state, "lr")?;
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
            fits: 0,
            rejected: 0,
            last: None,
        }
    }
}

crate::default_from_command_line!(GenOptions);
