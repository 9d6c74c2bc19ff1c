//! The paper's second-order rule (eq. 9–18): a Newton step on η from five loss probes
//! f_k = f(η + kε), k = −2..2, on the step's batch:
//! η(t+1) = η(t) − 2ε·(f₊₁ − f₋₁) / (f₊₂ + f₋₂ − 2f₀),
//! with δ added to the denominator when, and only when, it is numerically zero.
//!
//! "Numerically zero" is |denominator| ≤ 4·ε_f32·max|f_k|: the probes are f32 losses, whose
//! spacing near f is ε_f32·|f|; a second difference smaller than a few of those spacings is
//! rounding, not curvature.

use super::ProbeRecord;
use super::{state_f64, state_num, Needs, Observation, Rule, RunShape, Schedule};

/// The paper's second-order rule (`newton`): each step a Newton step on η from five loss
/// probes f(η + kε), k = −2..2, on the step's batch, with the δ safeguard.
pub struct Newton {
    lr: f64,
    eps: f64,
    delta: f64,
    safeguarded: usize,
    /// Whether the run was told that its probes cannot see ε (said once).
    warned_flat: bool,
}

impl Newton {
    /// The rule at η0 = `lr`, probe spacing ε = `eps`, and δ = `delta` added to a numerically
    /// zero denominator.
    pub fn new(lr: f64, eps: f64, delta: f64) -> Newton {
        Newton {
            lr,
            eps,
            delta,
            safeguarded: 0,
            warned_flat: false,
        }
    }

    /// A warning when the five probes are all equal: ε is below what the f32 loss (or the
    /// f32 weights) resolve, so both differences are 0 and η can never move.
    pub fn flat_probes_warning(f: &[f64; 5], lr: f64, eps: f64) -> Option<String> {
        f.iter().all(|&v| v == f[2]).then(|| {
            format!(
                "newton's five probes are all equal (loss {}): ε = {eps:e} is below \
                 what the f32 weights and loss resolve at η = {lr:e}, so η will not move; \
                 give a larger --eps",
                f[2]
            )
        })
    }

    /// The update of eq. 16/18 from the five probes; returns (new η, record).
    pub fn update(lr: f64, eps: f64, delta: f64, f: [f64; 5]) -> (f64, ProbeRecord) {
        let numerator = f[3] - f[1];
        let raw = f[4] + f[0] - 2.0 * f[2];
        let scale = f.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let safeguarded = raw.abs() <= 4.0 * f32::EPSILON as f64 * scale;
        let denominator = if safeguarded { raw + delta } else { raw };
        let record = ProbeRecord {
            f,
            numerator,
            denominator,
            safeguarded,
        };
        (lr - 2.0 * eps * numerator / denominator, record)
    }
}

impl Schedule for Newton {
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
        [-2.0, -1.0, 0.0, 1.0, 2.0].map(|k| self.lr + k * self.eps)
    }

    fn observe(&mut self, obs: &Observation) -> Option<ProbeRecord> {
        let f = obs.probes?;
        // The GPU evaluated f at f32-rounded points: use their real centre and spacing,
        // which differ from η and ε by up to ulp(η)/ε, a lot for large η.
        let (centre, eps) = match obs.probe_steps {
            Some(s) => (s[2], (s[4] - s[0]) / 4.0),
            None => (self.lr, self.eps),
        };
        if !self.warned_flat {
            if let Some(warning) = Newton::flat_probes_warning(&f, self.lr, self.eps) {
                log::warn!("{warning}");
                self.warned_flat = true;
            }
        }
        let (lr, record) = Newton::update(centre, eps, self.delta, f);
        self.lr = lr;
        self.safeguarded += usize::from(record.safeguarded);
        Some(record)
    }

    fn safeguarded(&self) -> usize {
        self.safeguarded
    }

    fn state(&self) -> serde_json::Value {
        serde_json::json!({ "lr": state_num(self.lr), "safeguarded": self.safeguarded })
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String> {
        self.lr = state_f64(state, "lr")?;
        self.safeguarded = state_f64(state, "safeguarded")? as usize;
        Ok(())
    }
}

/// The newton rule's options.
#[derive(clap::Args, Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct NewtonOptions {
    /// newton: the probe spacing ε (the paper's 1e-5).
    #[arg(value_parser = crate::values::non_negative, long, default_value = "1e-5", value_name = "F")]
    pub eps: f64,
    /// newton: added to the denominator when, and only when, it is numerically zero.
    #[arg(value_parser = crate::values::non_negative, long, default_value = "1e-6", value_name = "F")]
    pub delta: f64,
}

impl Rule for Newton {
    const NAME: &'static str = "newton";
    const ABOUT: &'static str = "Newton step on η from five loss probes (paper eq. 16–18)";
    type Options = NewtonOptions;

    fn check(o: &NewtonOptions) -> Result<(), String> {
        super::check_non_negative("--eps", o.eps)?;
        super::check_non_negative("--delta", o.delta)?;
        if o.eps == 0.0 {
            return Err("--eps must be positive".into());
        }
        // δ replaces a zero denominator: at 0 it would divide by zero.
        if o.delta == 0.0 {
            return Err("--delta must be positive".into());
        }
        Ok(())
    }

    fn build(run: &RunShape, o: &NewtonOptions) -> Newton {
        Newton::new(run.lr0, o.eps, o.delta)
    }
}

crate::default_from_command_line!(NewtonOptions);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_probes_are_warned_about_and_leave_eta_unchanged() {
        let flat = [0.5; 5];
        let warning = Newton::flat_probes_warning(&flat, 0.01, 1e-12).unwrap();
        assert!(warning.contains("ε = 1e-12"), "{warning}");
        assert_eq!(Newton::update(0.01, 1e-12, 1e-6, flat).0, 0.01);
        let curved = [0.52, 0.51, 0.5, 0.51, 0.52];
        assert_eq!(Newton::flat_probes_warning(&curved, 0.01, 1e-5), None);
    }
}
