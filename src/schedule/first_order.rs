//! The paper's first-order rule (eq. 5–8), the same as hypergradient descent:
//! η(t) = η(t−1) − α·f′(η(t−1)) with f′(η(t−1)) = −g(t−1)·g(t), so that
//! η(t) = η(t−1) + α·g(t−1)·g(t): the dot product of consecutive gradients, computed on the
//! GPU over the flat gradient buffers, costs no extra pass.

use super::{state_f64, Needs, Observation, Schedule};
use crate::train::metrics::ProbeRecord;

pub struct FirstOrder {
    lr: f64,
    alpha: f64,
}

impl FirstOrder {
    pub fn new(lr: f64, alpha: f64) -> FirstOrder {
        FirstOrder { lr, alpha }
    }
}

impl Schedule for FirstOrder {
    fn name(&self) -> &'static str {
        "first-order"
    }

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

    fn observe_gradient(&mut self, dot: Option<f64>) {
        if let Some(d) = dot {
            self.lr += self.alpha * d;
        }
    }

    fn observe(&mut self, _obs: &Observation) -> Option<ProbeRecord> {
        None
    }

    fn state(&self) -> serde_json::Value {
        serde_json::json!({ "lr": self.lr })
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String> {
        self.lr = state_f64(state, "lr")?;
        Ok(())
    }
}
