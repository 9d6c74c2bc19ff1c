//! Learning-rate schedules. A schedule says which measurements a step must make, gives η
//! for the step, and updates η from what the step measured. A new rule is one new file.

mod basic;
mod first_order;
mod newton;

pub use basic::Basic;
pub use first_order::FirstOrder;
pub use newton::Newton;

use crate::train::metrics::ProbeRecord;

/// What a training step measured, for the schedule to learn from.
#[derive(Clone, Debug, Default)]
pub struct Observation {
    /// 1-based step number.
    pub step: usize,
    /// 0-based epoch.
    pub epoch: usize,
    /// Mean loss of the step's batch at w(t).
    pub loss: f64,
    /// f(η + kε) for k = −2..2 on the step's batch, when the schedule asked for them.
    pub probes: Option<[f64; 5]>,
    /// The step sizes those probes actually used (η + kε rounded to f32 on the GPU).
    pub probe_steps: Option<[f64; 5]>,
}

/// The measurements a schedule needs from each step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// The five line probes f(η + kε), k = −2..2.
    pub probe: bool,
    /// g(t)·g(t−1), the dot product of consecutive gradients, before the update.
    pub grad_dot: bool,
}

pub trait Schedule {
    /// The name used on the command line and in run files.
    fn name(&self) -> &'static str;
    /// η(t): the rate the current step updates the weights with.
    fn lr(&self) -> f64;
    /// Overrides η (the opt-in clamps and the non-finite safeguard).
    fn set_lr(&mut self, lr: f64);
    fn needs(&self) -> Needs {
        Needs::default()
    }
    /// The five step sizes the probes evaluate, η(t) + kε for k = −2..2.
    fn probe_steps(&self) -> [f64; 5] {
        [self.lr(); 5]
    }
    /// Step t's g(t)·g(t−1) (None at the first step), before its update; first-order
    /// rules set η(t) here.
    fn observe_gradient(&mut self, _dot: Option<f64>) {}
    /// Learns from step t's measurements; afterwards [`Schedule::lr`] is η(t+1). Returns
    /// what the rule computed, for `steps.csv`, when it probed.
    fn observe(&mut self, obs: &Observation) -> Option<ProbeRecord>;
    /// Called when `epoch` (0-based) has ended.
    fn end_epoch(&mut self, _epoch: usize) {}
    /// Steps whose update needed the δ safeguard.
    fn safeguarded(&self) -> usize {
        0
    }
    /// State to store in checkpoints, and to restore from.
    fn state(&self) -> serde_json::Value;
    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String>;
}

fn state_f64(state: &serde_json::Value, key: &str) -> Result<f64, String> {
    state[key]
        .as_f64()
        .ok_or_else(|| format!("schedule state lacks the number '{key}'"))
}
