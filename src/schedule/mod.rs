//! Learning-rate schedules. A schedule says which measurements a step must make, gives η
//! for the step, and updates η from what the step measured. A new rule is one new file.

mod basic;

pub use basic::Basic;

/// What a training step measured, for the schedule to learn from.
#[derive(Clone, Debug, Default)]
pub struct Observation {
    pub step: usize,
    pub epoch: usize,
    /// Mean loss of the step's batch at w(t).
    pub loss: f64,
}

/// The measurements a schedule needs from each step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// The five line probes f(η + kε), k = −2..2.
    pub probe: bool,
    /// g(t)·g(t−1), the dot product of consecutive gradients.
    pub grad_dot: bool,
}

pub trait Schedule {
    /// The name used on the command line and in run files.
    fn name(&self) -> &'static str;
    /// η(t): the rate the current step updates the weights with.
    fn lr(&self) -> f64;
    fn needs(&self) -> Needs {
        Needs::default()
    }
    /// Learns from step t's measurements; afterwards [`Schedule::lr`] is η(t+1).
    fn observe(&mut self, obs: &Observation);
    /// Called when `epoch` (0-based) has ended.
    fn end_epoch(&mut self, _epoch: usize) {}
    /// State to store in checkpoints, and to restore from.
    fn state(&self) -> serde_json::Value;
    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String>;
}
