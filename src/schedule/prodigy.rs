//! Prodigy: Mishchenko & Defazio, "Prodigy: An Expeditiously Adaptive Parameter-Free
//! Learner" (ICML 2024), as the authors' `Prodigy` with its defaults: lr 1, betas (0.9,
//! 0.999), β₃ = √β₂, eps 1e-8, d0 1e-6, d_coef 1, growth rate ∞, no bias correction,
//! decoupled weight decay (--weight-decay). Adam whose step is scaled by an estimate D of
//! the distance to the solution:
//!   r = β₃·r + (D/D₀)·ηD·g·(w_0 − w),  s = β₃·s + (D/D₀)·ηD·g,  D̂ = d_coef·r/‖s‖₁,
//!   D_max = max(D_max, D̂),  D = min(D_max, D·growth)  (the first growth: D = max(D, D̂)),
//! with ηD = D·lr. The moments, s and the copy of w_0 live on the GPU ([`Update::Prodigy`]);
//! the host reads back g·(w_0 − w) and ‖s‖₁ with the step and moves D.
//!
//! One deviation, to spare a read-back wait inside the step: the update's denominator is
//! √v + D_k·ε with this step's D_k, where the authors use the D just estimated. The two
//! differ only where √v is within a factor of ε of zero.

use super::{
    check_non_negative, state_f64, state_num, Needs, Observation, ProbeRecord, Rule, RunShape,
    Schedule, Update,
};

/// Prodigy (`prodigy`), as the authors' `Prodigy`: Adam on the GPU ([`Update::Prodigy`])
/// with step size ηD = D·lr, D an estimate of the distance to the solution that the host
/// moves from the sums read back with each step.
pub struct Prodigy {
    options: ProdigyOptions,
    d: f64,
    d_max: f64,
    numerator: f64,
    last_d_hat: Option<f64>,
}

impl Prodigy {
    fn beta3(&self) -> f64 {
        let o = &self.options;
        o.prodigy_beta3.unwrap_or(o.prodigy_betas[1].sqrt())
    }

    /// ηD, the step size of the coming update.
    fn step_size(&self) -> f64 {
        self.d * self.options.prodigy_lr
    }

    /// Moves D after a step whose sums were g·(w_0 − w) (before it) and ‖s‖₁ (after).
    pub fn learn(&mut self, g_dist: f64, s_l1: f64) {
        let o = &self.options;
        let d0 = o.prodigy_d0;
        self.numerator = self.beta3() * self.numerator + (self.d / d0) * self.step_size() * g_dist;
        if s_l1 > 0.0 && o.prodigy_lr > 0.0 {
            let d_hat = o.prodigy_d_coef * self.numerator / s_l1;
            self.last_d_hat = Some(d_hat);
            if self.d == d0 {
                self.d = self.d.max(d_hat);
            }
            self.d_max = self.d_max.max(d_hat);
            self.d = self.d_max.min(self.d * o.prodigy_growth);
        }
    }
}

impl Schedule for Prodigy {
    fn lr(&self) -> f64 {
        self.step_size()
    }

    /// An override of the step size (the clamps, the non-finite safeguard) moves D.
    fn set_lr(&mut self, lr: f64) {
        self.d = lr / self.options.prodigy_lr;
    }

    fn needs(&self) -> Needs {
        let o = &self.options;
        Needs {
            update: Update::Prodigy {
                beta1: o.prodigy_betas[0],
                beta2: o.prodigy_betas[1],
                beta3: self.beta3(),
                eps: o.prodigy_eps,
            },
            ..Needs::default()
        }
    }

    fn coefficients(&self, _step: usize) -> Vec<f32> {
        let lr = self.step_size();
        let c = (self.d / self.options.prodigy_d0) * lr;
        vec![self.d as f32, lr as f32, c as f32]
    }

    fn observe(&mut self, obs: &Observation) -> Option<ProbeRecord> {
        if let [g_dist, s_l1] = obs.sums[..] {
            self.learn(g_dist, s_l1);
        }
        None
    }

    fn record_header(&self) -> Option<&'static str> {
        Some("step,d,d_hat,d_max,numerator")
    }

    fn record(&self, step: usize) -> Option<String> {
        let d_hat = self.last_d_hat.map_or(String::new(), |d| d.to_string());
        Some(format!(
            "{step},{},{d_hat},{},{}",
            self.d, self.d_max, self.numerator
        ))
    }

    fn state(&self) -> serde_json::Value {
        serde_json::json!({
            "d": state_num(self.d),
            "d_max": state_num(self.d_max),
            "numerator": state_num(self.numerator),
        })
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String> {
        self.d = state_f64(state, "d")?;
        self.d_max = state_f64(state, "d_max")?;
        self.numerator = state_f64(state, "numerator")?;
        Ok(())
    }
}

/// Prodigy's options.
#[derive(clap::Args, Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ProdigyOptions {
    /// prodigy: the factor on the adapted step size (the authors' lr; leave at 1).
    #[arg(value_parser = crate::values::rate, long, default_value_t = 1.0, value_name = "F")]
    pub prodigy_lr: f64,
    /// prodigy: Adam's β1,β2.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0.9,0.999",
        value_name = "B1,B2"
    )]
    pub prodigy_betas: Vec<f64>,
    /// prodigy: β3 of the D estimate's running sums [default: √β2]
    #[arg(value_parser = crate::values::below_one, long, value_name = "F")]
    pub prodigy_beta3: Option<f64>,
    /// prodigy: ε in the denominator √v + D·ε.
    #[arg(long, default_value = "1e-8", value_name = "F")]
    pub prodigy_eps: f64,
    /// prodigy: D0, the initial distance estimate.
    #[arg(value_parser = crate::values::positive, long, default_value = "1e-6", value_name = "F")]
    pub prodigy_d0: f64,
    /// prodigy: the factor on D̂ (the authors' preferred knob; 0.5 and 2 also work).
    #[arg(value_parser = crate::values::non_negative, long, default_value_t = 1.0, value_name = "F")]
    pub prodigy_d_coef: f64,
    /// prodigy: the largest factor D may grow by per step (inf: unbounded).
    #[arg(value_parser = crate::values::growth, long, default_value_t = f64::INFINITY, value_name = "F")]
    #[serde(deserialize_with = "super::unbounded")]
    pub prodigy_growth: f64,
}

impl Rule for Prodigy {
    const IGNORES_LR0: bool = true;
    const NAME: &'static str = "prodigy";
    const ABOUT: &'static str =
        "Prodigy (Mishchenko & Defazio 2024): Adam scaled by a learned distance D";
    type Options = ProdigyOptions;

    fn check(o: &ProdigyOptions) -> Result<(), String> {
        check_non_negative("--prodigy-lr", o.prodigy_lr)?;
        if !crate::values::fits_f32(o.prodigy_lr) {
            return Err(format!(
                "--prodigy-lr {:e} is too large for an f32: ηD reaches the GPU as an f32",
                o.prodigy_lr
            ));
        }
        check_non_negative("--prodigy-d-coef", o.prodigy_d_coef)?;
        if o.prodigy_betas.len() != 2 || o.prodigy_betas.iter().any(|b| !(0.0..1.0).contains(b)) {
            return Err("--prodigy-betas takes two numbers in [0, 1), e.g. 0.9,0.999".into());
        }
        if o.prodigy_beta3.is_some_and(|b| !(0.0..1.0).contains(&b)) {
            return Err("--prodigy-beta3 must be in [0, 1)".into());
        }
        for (flag, v) in [
            ("--prodigy-eps", o.prodigy_eps),
            ("--prodigy-d0", o.prodigy_d0),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{flag} must be a finite positive number, got {v}"));
            }
        }
        super::check_normal_f32("--prodigy-d0", "D", o.prodigy_d0)?;
        if o.prodigy_growth.is_nan() || o.prodigy_growth < 1.0 {
            return Err(format!(
                "--prodigy-growth must be ≥ 1 (inf: unbounded), got {}",
                o.prodigy_growth
            ));
        }
        Ok(())
    }

    fn build(_run: &RunShape, o: &ProdigyOptions) -> Prodigy {
        Prodigy {
            options: o.clone(),
            d: o.prodigy_d0,
            d_max: o.prodigy_d0,
            numerator: 0.0,
            last_d_hat: None,
        }
    }
}

crate::default_from_command_line!(ProdigyOptions);
