//! The paper's first-order rule (eq. 5–8), the same as hypergradient descent:
//! η(t) = η(t−1) − α·f′(η(t−1)) with f′(η(t−1)) = −g(t−1)·g(t), so that
//! η(t) = η(t−1) + α·g(t−1)·g(t): the dot product of consecutive gradients, computed on the
//! GPU over the flat gradient buffers, costs no extra pass.

use super::ProbeRecord;
use super::{state_f64, state_num, GradientReadings, Needs, Observation, Rule, RunShape, Schedule};

/// The paper's first-order rule (`first-order`), hypergradient descent:
/// η(t) = η(t−1) + α·g(t)·d(t−1), d the optimizer's direction (g itself for plain SGD).
pub struct FirstOrder {
    lr: f64,
    alpha: f64,
}

impl FirstOrder {
    /// The rule at η0 = `lr` with meta learning rate α = `alpha`.
    pub fn new(lr: f64, alpha: f64) -> FirstOrder {
        FirstOrder { lr, alpha }
    }
}

impl Schedule for FirstOrder {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn needs(&self) -> Needs {
        Needs {
            grad_dot: true,
            ..Needs::default()
        }
    }

    fn observe_gradient(&mut self, readings: &GradientReadings) {
        if let Some(d) = readings.dot {
            self.lr += self.alpha * d;
        }
    }

    fn observe(&mut self, _obs: &Observation) -> Option<ProbeRecord> {
        None
    }

    fn state(&self) -> serde_json::Value {
        serde_json::json!({ "lr": state_num(self.lr) })
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String> {
        self.lr = state_f64(state, "lr")?;
        Ok(())
    }
}

/// The first-order rule's options.
#[derive(clap::Args, Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FirstOrderOptions {
    /// first-order: the meta learning rate α.
    #[arg(value_parser = crate::values::non_negative, long, default_value_t = 1e-3, value_name = "F")]
    pub alpha: f64,
}

impl Rule for FirstOrder {
    const NAME: &'static str = "first-order";
    const ABOUT: &'static str = "Gradient descent on η (paper eq. 5–8): η += α·g(t−1)·g(t)";
    type Options = FirstOrderOptions;

    fn check(o: &FirstOrderOptions) -> Result<(), String> {
        super::check_non_negative("--alpha", o.alpha)
    }

    fn build(run: &RunShape, o: &FirstOrderOptions) -> FirstOrder {
        FirstOrder::new(run.lr0, o.alpha)
    }
}

crate::default_from_command_line!(FirstOrderOptions);
