//! DoG, "distance over gradients": Ivgi, Hinder & Carmon, "DoG is SGD's Best Friend: A
//! Parameter-Free Dynamic Step Size Schedule" (ICML 2023), as the authors' `DoG` class:
//!   η(t) = c · r̄(t) / √(Σ_{i≤t} ‖g_i‖² + ε),  r̄(t) = max(r_ε, max_{i≤t} ‖w_i − w_0‖),
//! with r_ε = reps_rel·(1 + ‖w_0‖), reps_rel = 1e-6 (their default; they suggest 1e-4 for
//! models with batch norm), ε = 1e-8, c = 1. The norms and the distance to the kept copy of
//! w_0 are reduced on the GPU before the update. g is the SGD direction g + λw. The
//! authors pair DoG with iterate averaging, which this engine does not do; DoG's η here
//! never decays.

use super::{
    check_non_negative, state_f64, state_num, state_opt, state_opt_f64, GradientNeeds,
    GradientReadings, Needs, Observation, ProbeRecord, Rule, RunShape, Schedule,
};

/// DoG, "distance over gradients" (`dog`): η(t) = c·r̄(t)/√(Σ_{i≤t} ‖g_i‖² + ε), r̄(t) the
/// largest distance from w(0) so far (at least a small r_ε); the norms are measured before
/// each update.
pub struct Dog {
    options: DogOptions,
    /// r̄ and Σ‖g‖² + ε; None before the first step.
    rbar: Option<f64>,
    grad_sum: f64,
    lr: f64,
    /// ‖w(t) − w(0)‖ of the last step, for rule.csv.
    last_distance: f64,
}

impl Dog {
    /// η(t) from step t's ‖g‖², ‖w − w(0)‖² and ‖w(0)‖².
    fn step(&mut self, norm: f64, distance: f64, origin_norm: f64) {
        let o = &self.options;
        let rbar = match self.rbar {
            None => {
                self.grad_sum = norm + o.dog_eps;
                o.dog_reps_rel * (1.0 + origin_norm.sqrt())
            }
            Some(rbar) => {
                self.grad_sum += norm;
                rbar.max(distance.sqrt())
            }
        };
        self.rbar = Some(rbar);
        self.last_distance = distance.sqrt();
        self.lr = o.dog_scale * rbar / self.grad_sum.sqrt();
    }
}

impl Schedule for Dog {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn needs(&self) -> Needs {
        Needs {
            gradient: GradientNeeds {
                norm: true,
                distance: true,
                ..GradientNeeds::default()
            },
            ..Needs::default()
        }
    }

    fn observe_gradient(&mut self, r: &GradientReadings) {
        if let (Some(norm), Some(distance), Some(origin)) = (r.norm, r.distance, r.origin_norm) {
            self.step(norm, distance, origin);
        }
    }

    fn observe(&mut self, _obs: &Observation) -> Option<ProbeRecord> {
        None
    }

    fn record_header(&self) -> Option<&'static str> {
        Some("step,rbar,distance,grad_sum")
    }

    fn record(&self, step: usize) -> Option<String> {
        Some(format!(
            "{step},{},{},{}",
            self.rbar.unwrap_or(0.0),
            self.last_distance,
            self.grad_sum
        ))
    }

    fn state(&self) -> serde_json::Value {
        serde_json::json!({
            "lr": state_num(self.lr),
            "rbar": state_opt(self.rbar),
            "grad_sum": state_num(self.grad_sum),
        })
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String> {
        self.lr = state_f64(state, "lr")?;
        self.grad_sum = state_f64(state, "grad_sum")?;
        self.rbar = state_opt_f64(state, "rbar")?;
        Ok(())
    }
}

/// DoG's options.
#[derive(clap::Args, Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct DogOptions {
    /// dog: r_ε = F·(1 + ‖w0‖), the first step's distance (authors: 1e-6; 1e-4 with batch norm).
    #[arg(value_parser = crate::values::positive, long, default_value = "1e-6", value_name = "F")]
    pub dog_reps_rel: f64,
    /// dog: ε added to the sum of squared gradient norms.
    #[arg(value_parser = crate::values::non_negative, long, default_value = "1e-8", value_name = "F")]
    pub dog_eps: f64,
    /// dog: the factor c on η (the authors' lr; 1 is parameter-free DoG).
    #[arg(value_parser = crate::values::positive, long, default_value_t = 1.0, value_name = "F")]
    pub dog_scale: f64,
}

impl Rule for Dog {
    const IGNORES_LR0: bool = true;
    const NAME: &'static str = "dog";
    const ABOUT: &'static str =
        "DoG (Ivgi et al. 2023): η = max‖w−w0‖ / √Σ‖g‖², no learning rate to set";
    type Options = DogOptions;

    fn check(o: &DogOptions) -> Result<(), String> {
        check_non_negative("--dog-eps", o.dog_eps)?;
        for (flag, v) in [
            ("--dog-reps-rel", o.dog_reps_rel),
            ("--dog-scale", o.dog_scale),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{flag} must be a finite positive number, got {v}"));
            }
        }
        Ok(())
    }

    fn build(run: &RunShape, o: &DogOptions) -> Dog {
        Dog {
            options: o.clone(),
            rbar: None,
            grad_sum: 0.0,
            lr: run.lr0,
            last_distance: 0.0,
        }
    }
}

crate::default_from_command_line!(DogOptions);
