//! The paper's "basic method": a fixed η, with optional step decay at given epochs.

use super::{state_f64, Observation, Schedule};
use crate::train::metrics::ProbeRecord;

pub struct Basic {
    lr: f64,
    /// Epoch boundaries (1-based: after epoch E) where η is multiplied by `gamma`.
    milestones: Vec<usize>,
    gamma: f64,
}

impl Basic {
    pub fn new(lr: f64, milestones: Vec<usize>, gamma: f64) -> Basic {
        Basic {
            lr,
            milestones,
            gamma,
        }
    }
}

impl Schedule for Basic {
    fn name(&self) -> &'static str {
        "basic"
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn observe(&mut self, _obs: &Observation) -> Option<ProbeRecord> {
        None
    }

    fn end_epoch(&mut self, epoch: usize) {
        if self.milestones.contains(&(epoch + 1)) {
            self.lr *= self.gamma;
        }
    }

    fn state(&self) -> serde_json::Value {
        serde_json::json!({ "lr": self.lr })
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String> {
        self.lr = state_f64(state, "lr")?;
        Ok(())
    }
}
