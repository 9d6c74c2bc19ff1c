//! `secant`: a quasi-Newton rule on η that costs no extra pass (the paper's empty §3.3).
//!
//! Along the previous step's direction d(t−1), the loss slope at the start of the step is
//! −d(t−1)·g(t−1) and at its end −d(t−1)·g(t). Their ratio ρ(t) = d(t−1)·g(t) / d(t−1)·g(t−1)
//! is the secant's verdict on η(t−1): ρ > 0, the slope kept its sign (the step fell short);
//! ρ < 0, the step overshot the line's minimum. Because g(t) comes from a fresh batch, the
//! expected ρ is zero exactly where η minimises the expected loss after one SGD step
//! (E[d·∇L(w − ηd)] = 0, noise included), which is the η this rule settles around:
//! log η(t+1) = log η(t) + κ·clamp(ρ(t), −1, 1).
//! The change is multiplicative (η never crosses zero) and bounded by e^κ per step; both dot
//! products are computed on the GPU and read back one step late, so no step waits for them.

use super::{state_f64, Dots, Needs, Observation, Schedule};
use crate::train::metrics::ProbeRecord;

/// κ: the log-gain per step. Measured on LeNet-5/CIFAR-10 (docs/design-notes.md).
pub const SECANT_GAIN: f64 = 0.25;

pub struct Secant {
    lr: f64,
    gain: f64,
    /// d(t−1)·g(t−1) of the last observed step.
    own: Option<f64>,
    last_rho: Option<f64>,
}

impl Secant {
    pub fn new(lr: f64) -> Secant {
        Secant::with_gain(lr, SECANT_GAIN)
    }

    pub fn with_gain(lr: f64, gain: f64) -> Secant {
        Secant {
            lr,
            gain,
            own: None,
            last_rho: None,
        }
    }

    /// ρ(t) from this step's dots and the previous step's d·g, when both exist and the
    /// previous step moved downhill (d·g > 0).
    pub fn rho(own_prev: Option<f64>, dots: &Dots) -> Option<f64> {
        let a = own_prev?;
        let b = dots.cross?;
        (a > 0.0 && b.is_finite()).then(|| b / a)
    }

    /// The secant update of η by one step's ρ.
    pub fn step(lr: f64, gain: f64, rho: f64) -> f64 {
        lr * (gain * rho.clamp(-1.0, 1.0)).exp()
    }

    /// Feeds one step's dots; returns ρ when it could be formed.
    fn learn(&mut self, dots: Option<&Dots>) -> Option<f64> {
        let d = dots?;
        let rho = Secant::rho(self.own, d);
        self.own = Some(d.own);
        rho
    }
}

impl Schedule for Secant {
    fn name(&self) -> &'static str {
        "secant"
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn needs(&self) -> Needs {
        Needs {
            dots: true,
            ..Needs::default()
        }
    }

    fn observe(&mut self, obs: &Observation) -> Option<ProbeRecord> {
        self.last_rho = self.learn(obs.dots.as_ref());
        if let Some(rho) = self.last_rho {
            self.lr = Secant::step(self.lr, self.gain, rho);
        }
        None
    }

    fn forget_direction(&mut self) {
        self.own = None;
    }

    fn record_header(&self) -> Option<&'static str> {
        Some("step,rho")
    }

    fn record(&self, step: usize) -> Option<String> {
        Some(format!("{step},{}", opt(self.last_rho)))
    }

    fn state(&self) -> serde_json::Value {
        serde_json::json!({ "lr": self.lr, "own": self.own })
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String> {
        self.lr = state_f64(state, "lr")?;
        self.own = state["own"].as_f64();
        Ok(())
    }
}

/// A value for a CSV cell: empty when absent.
pub(crate) fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}
