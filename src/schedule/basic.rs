//! The paper's "basic method": a fixed η, with optional step decay at given epochs.

use super::ProbeRecord;
use super::{state_f64, Observation, Rule, Schedule};

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

/// The basic rule's options.
#[derive(clap::Args, Clone, Debug, serde::Serialize)]
pub struct BasicOptions {
    /// basic: epochs after which η is multiplied by --lr-gamma, e.g. 30,60.
    #[arg(long, value_delimiter = ',', value_name = "E1,E2")]
    pub lr_milestones: Vec<usize>,
    /// basic: the factor of each step decay.
    #[arg(long, default_value_t = 0.1, value_name = "G")]
    pub lr_gamma: f64,
}

impl Rule for Basic {
    const NAME: &'static str = "basic";
    const ABOUT: &'static str = "Fixed η (with optional step decay): the paper's \"basic method\"";
    type Options = BasicOptions;

    fn check(o: &BasicOptions) -> Result<(), String> {
        if !o.lr_gamma.is_finite() || o.lr_gamma <= 0.0 {
            return Err(format!(
                "--lr-gamma must be a positive number, got {}",
                o.lr_gamma
            ));
        }
        Ok(())
    }

    fn build(lr0: f64, o: &BasicOptions) -> Basic {
        Basic::new(lr0, o.lr_milestones.clone(), o.lr_gamma)
    }
}
