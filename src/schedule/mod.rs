//! Learning-rate schedules. A schedule says which measurements a step must make, gives η
//! for the step, and updates η from what the step measured. A new rule is one new file.

mod auto;
mod basic;
mod first_order;
mod newton;
mod secant;

pub use auto::{Auto, LineFit, AUTO_DOWN, AUTO_UP, LINE_MIN_PROBES};
pub use basic::Basic;
pub use first_order::FirstOrder;
pub use newton::Newton;
pub use secant::{Decision, Secant};

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
    /// η(t), the rate the step's update used.
    pub lr: f64,
    /// f(η + kε) for k = −2..2 on the step's batch, when the schedule asked for them.
    pub probes: Option<[f64; 5]>,
    /// The step sizes those probes actually used (η + kε rounded to f32 on the GPU).
    pub probe_steps: Option<[f64; 5]>,
    /// d(t)·g(t) and d(t−1)·g(t), when the schedule asked for them.
    pub dots: Option<Dots>,
    /// The loss of the step's batch at w(t−1), when the schedule probed back this step.
    pub back_probe: Option<BackProbe>,
}

/// Dot products of the step direction and the gradient, summed on the GPU.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Dots {
    /// d(t)·g(t).
    pub own: f64,
    /// d(t−1)·g(t); None at the first step (or after a discarded one).
    pub cross: Option<f64>,
    /// w(t)·d(t), before the update.
    pub weights: f64,
    /// d(t)·d(t).
    pub norm: f64,
}

/// The step's batch loss at the previous weights, w(t) + η(t−1)·d(t−1) = w(t−1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackProbe {
    /// L_t(w(t−1)).
    pub start: f64,
    /// η(t−1) as the GPU used it (f32).
    pub at: f64,
}

/// The measurements a schedule needs from each step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// The five line probes f(η + kε), k = −2..2.
    pub probe: bool,
    /// g(t)·g(t−1), the dot product of consecutive gradients, before the update.
    pub grad_dot: bool,
    /// d(t)·g(t) and d(t−1)·g(t), read back with the step's loss (no wait).
    pub dots: bool,
    /// Every this many steps (0: never), the step's batch loss at w(t−1).
    pub back_probe_every: usize,
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
    /// A step was discarded: the next step has no previous direction to compare with.
    fn forget_direction(&mut self) {}
    /// The header of `rule.csv`, for rules that log what they computed there.
    fn record_header(&self) -> Option<&'static str> {
        None
    }
    /// `rule.csv`'s line for the step just observed.
    fn record(&self, _step: usize) -> Option<String> {
        None
    }
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
