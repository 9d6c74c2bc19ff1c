//! Normalised hypergradient descent: the multiplicative form of Baydin, Cornish, Martínez
//! Rubio, Schmidt & Wood, "Online Learning Rate Adaptation with Hypergradient Descent"
//! (ICLR 2018), §5: η(t) = η(t−1)·(1 + β·cos(g(t), d(t−1))). The additive form is the
//! paper's first-order rule (`first-order`); dividing by the norms makes the change of η
//! a fraction of η, whatever the scale of the loss. The cosine's pieces (g(t)·d(t−1),
//! ‖d(t)‖², ‖d(t−1)‖²) are reduced on the GPU before the update, no extra pass. β = 0.02
//! is this engine's default (the paper leaves β to the user); choose it on validation data.

use super::{
    check_non_negative, state_f64, state_num, GradientNeeds, GradientReadings, Needs, Observation,
    ProbeRecord, Rule, RunShape, Schedule,
};

/// Normalised hypergradient descent (`hypergradient`): η(t) = η(t−1)·(1 + β·cos(g(t),
/// d(t−1))), the cosine's pieces measured before the update.
pub struct Hypergradient {
    lr: f64,
    beta: f64,
    /// The cosine of the last step, for rule.csv.
    last_cosine: Option<f64>,
}

impl Hypergradient {
    /// η after one step whose cosine of g(t) and d(t−1) is `cosine`.
    pub fn next(lr: f64, beta: f64, cosine: f64) -> f64 {
        lr * (1.0 + beta * cosine)
    }
}

impl Schedule for Hypergradient {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn needs(&self) -> Needs {
        Needs {
            grad_dot: true,
            gradient: GradientNeeds {
                norm: true,
                previous_norm: true,
                ..GradientNeeds::default()
            },
            ..Needs::default()
        }
    }

    fn observe_gradient(&mut self, r: &GradientReadings) {
        self.last_cosine = None;
        if let (Some(dot), Some(norm), Some(previous)) = (r.dot, r.norm, r.previous_norm) {
            let scale = (norm * previous).sqrt();
            // A zero gradient has no direction: η stays.
            if scale > 0.0 {
                let cosine = (dot / scale).clamp(-1.0, 1.0);
                self.lr = Hypergradient::next(self.lr, self.beta, cosine);
                self.last_cosine = Some(cosine);
            }
        }
    }

    fn observe(&mut self, _obs: &Observation) -> Option<ProbeRecord> {
        None
    }

    fn record_header(&self) -> Option<&'static str> {
        Some("step,cosine")
    }

    fn record(&self, step: usize) -> Option<String> {
        let c = self.last_cosine.map_or(String::new(), |c| c.to_string());
        Some(format!("{step},{c}"))
    }

    fn state(&self) -> serde_json::Value {
        serde_json::json!({ "lr": state_num(self.lr) })
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String> {
        self.lr = state_f64(state, "lr")?;
        Ok(())
    }
}

/// The normalised hypergradient's options.
#[derive(clap::Args, Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct HypergradientOptions {
    /// hypergradient: β, the fraction by which η changes per step at cosine ±1.
    #[arg(value_parser = crate::values::non_negative, long, default_value_t = 0.02, value_name = "F")]
    pub hd_beta: f64,
}

impl Rule for Hypergradient {
    const NAME: &'static str = "hypergradient";
    const ABOUT: &'static str =
        "Normalised hypergradient (Baydin et al. 2018): η ← η·(1 + β·cos(g(t), d(t−1)))";
    type Options = HypergradientOptions;

    fn check(o: &HypergradientOptions) -> Result<(), String> {
        check_non_negative("--hd-beta", o.hd_beta)?;
        if o.hd_beta >= 1.0 {
            return Err(format!(
                "--hd-beta must be below 1 (η would reach 0 at cosine −1), got {}",
                o.hd_beta
            ));
        }
        Ok(())
    }

    fn build(run: &RunShape, o: &HypergradientOptions) -> Hypergradient {
        Hypergradient {
            lr: run.lr0,
            beta: o.hd_beta,
            last_cosine: None,
        }
    }
}

crate::default_from_command_line!(HypergradientOptions);
