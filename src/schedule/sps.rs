//! SPS_max, the stochastic Polyak step: Loizou, Vaswani, Laradji & Lacoste-Julien,
//! "Stochastic Polyak Step-size for SGD: An Adaptive Learning Rate for Fast Convergence"
//! (AISTATS 2021), with f* = 0 and the bound of the authors' code (`adapt_flag =
//! 'smooth_iter'`, from Vaswani et al. 2019):
//!   η(t) = min( f_i(w_t) / (c·‖g_t‖² + ε),  τ^{1/n}·η(t−1),  γ_b ),
//! c = 0.5, τ = 2, ε = 1e-8 (their defaults), n the steps per epoch, η(0) = --lr (their
//! init_step_size), γ_b = --sps-max (unbounded unless given). The batch loss and ‖g‖² are
//! read before the update.

use super::{
    state_f64, state_num, GradientNeeds, GradientReadings, Needs, Observation, ProbeRecord, Rule,
    RunShape, Schedule,
};

/// SPS_max, the stochastic Polyak step (`sps`): η(t) = min(f_i(w_t)/(c·‖g_t‖² + ε),
/// τ^{1/n}·η(t−1), γ_b), from the batch loss and ‖g‖² measured before the update.
pub struct Sps {
    options: SpsOptions,
    lr: f64,
    /// τ^{1/n}: the growth the bound allows per step.
    growth: f64,
    /// The Polyak step of the last step, for rule.csv.
    last_polyak: Option<f64>,
}

impl Sps {
    /// η(t) from the batch loss `loss`, ‖g‖² `norm` and η(t−1) `previous`.
    pub fn next(o: &SpsOptions, growth: f64, previous: f64, loss: f64, norm: f64) -> (f64, f64) {
        let polyak = loss / (o.sps_c * norm + o.sps_eps);
        let bound = (growth * previous).min(o.sps_max.unwrap_or(f64::INFINITY));
        (polyak.min(bound), polyak)
    }
}

impl Schedule for Sps {
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
                loss: true,
                ..GradientNeeds::default()
            },
            ..Needs::default()
        }
    }

    fn observe_gradient(&mut self, r: &GradientReadings) {
        if let (Some(loss), Some(norm)) = (r.loss, r.norm) {
            let (lr, polyak) = Sps::next(&self.options, self.growth, self.lr, loss, norm);
            self.lr = lr;
            self.last_polyak = Some(polyak);
        }
    }

    fn observe(&mut self, _obs: &Observation) -> Option<ProbeRecord> {
        None
    }

    fn record_header(&self) -> Option<&'static str> {
        Some("step,polyak")
    }

    fn record(&self, step: usize) -> Option<String> {
        let p = self.last_polyak.map_or(String::new(), |p| p.to_string());
        Some(format!("{step},{p}"))
    }

    fn state(&self) -> serde_json::Value {
        serde_json::json!({ "lr": state_num(self.lr) })
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String> {
        self.lr = state_f64(state, "lr")?;
        Ok(())
    }
}

/// SPS_max's options.
#[derive(clap::Args, Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SpsOptions {
    /// sps: c in f / (c·‖g‖²) (authors' default 0.5; their deep-learning runs use 0.2).
    #[arg(value_parser = crate::values::positive, long, default_value_t = 0.5, value_name = "F")]
    pub sps_c: f64,
    /// sps: τ, the factor by which η may grow per epoch.
    #[arg(value_parser = crate::values::at_least_one_f, long, default_value_t = 2.0, value_name = "F")]
    pub sps_tau: f64,
    /// sps: γ_b, a hard upper bound on η [default: none]
    #[arg(value_parser = crate::values::positive, long, value_name = "F")]
    pub sps_max: Option<f64>,
    /// sps: ε added to the denominator.
    #[arg(value_parser = crate::values::non_negative, long, default_value = "1e-8", value_name = "F")]
    pub sps_eps: f64,
}

impl Rule for Sps {
    const NAME: &'static str = "sps";
    const ABOUT: &'static str =
        "SPS_max (Loizou et al. 2021): η = min(f/(c·‖g‖²), τ^(1/n)·η(t−1)), the Polyak step";
    type Options = SpsOptions;

    fn check(o: &SpsOptions) -> Result<(), String> {
        super::check_non_negative("--sps-eps", o.sps_eps)?;
        if !(o.sps_c.is_finite() && o.sps_c > 0.0) {
            return Err(format!(
                "--sps-c must be a finite positive number, got {}",
                o.sps_c
            ));
        }
        if !(o.sps_tau.is_finite() && o.sps_tau >= 1.0) {
            return Err(format!(
                "--sps-tau must be a finite number ≥ 1, got {}",
                o.sps_tau
            ));
        }
        if let Some(m) = o.sps_max {
            if !(m.is_finite() && m > 0.0) {
                return Err(format!(
                    "--sps-max must be a finite positive number, got {m}"
                ));
            }
        }
        Ok(())
    }

    fn build(run: &RunShape, o: &SpsOptions) -> Sps {
        Sps {
            options: o.clone(),
            lr: run.lr0,
            growth: o.sps_tau.powf(1.0 / run.steps_per_epoch.max(1) as f64),
            last_polyak: None,
        }
    }
}

crate::default_from_command_line!(SpsOptions);
