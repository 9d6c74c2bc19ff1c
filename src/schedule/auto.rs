//! `auto`: the secant rule, corrected every k steps by a Newton step on the line of the
//! previous update, measured on an independent batch with one extra forward pass.
//!
//! At step t the weights are w(t) = w(t−1) − η(t−1)·d(t−1), and batch t has not been used
//! to choose d(t−1). Along that line, φ(s) = L_t(w(t−1) − s·d(t−1)), three numbers pin a
//! parabola: φ(η(t−1)) is the step's loss (free), φ′(η(t−1)) = −d(t−1)·g(t) is one dot product
//! (free), and φ(0) = L_t(w(t−1)) is one forward pass at w(t) + η(t−1)·d(t−1). The curvature
//! c = 2(φ(0) − φ(η) − η·d·g)/η² and the minimum s* = η + d(t−1)·g(t)/c follow. The probe is
//! η away from the point, not an absolute ε: its loss difference is far above f32 rounding
//! at any η. Because batch t is independent of d(t−1), E[φ] is the expected loss, and s*
//! estimates the η that minimises the expected loss after one step (the same point the
//! secant rule settles at), not the minimum of one batch's line, which is several times
//! larger at the start of training and makes the paper's rule diverge.
//!
//! η moves towards s* in log space by a gain λ, bounded per probe, and never crosses zero;
//! a line with no curvature (c ≤ 0) counts as s* = 4η. Between probes the secant rule runs.

use super::secant::{opt, Secant, SECANT_GAIN};
use super::{state_f64, BackProbe, Needs, Observation, Schedule};
use crate::train::metrics::ProbeRecord;

/// λ: the share of the log-distance to s* that one probe moves η.
pub const AUTO_GAIN: f64 = 0.15;
/// Bounds on log(s*/η(t−1)) per probe: at most ×4 up, ÷16 down.
pub const AUTO_UP: f64 = 4.0;
pub const AUTO_DOWN: f64 = 16.0;

pub struct Auto {
    lr: f64,
    every: usize,
    gain: f64,
    secant: Secant,
    last: Option<LineFit>,
    last_rho: Option<f64>,
}

/// What one probe measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LineFit {
    /// η(t−1): where the line was measured.
    pub at: f64,
    /// φ(0) = L_t(w(t−1)).
    pub start: f64,
    pub curvature: f64,
    /// The line's minimum s* (4η when the line has no curvature).
    pub minimum: f64,
}

impl Auto {
    pub fn new(lr: f64, every: usize) -> Auto {
        Auto::with_gain(lr, every, AUTO_GAIN)
    }

    pub fn with_gain(lr: f64, every: usize, gain: f64) -> Auto {
        Auto {
            lr,
            every: every.max(1),
            gain,
            secant: Secant::with_gain(lr, SECANT_GAIN),
            last: None,
            last_rho: None,
        }
    }

    /// The parabola through φ(0) = `start`, φ(s) = `loss` and φ′(s) = −`cross`. When its
    /// quadratic part is within a few f32 rounding steps of the losses, the curvature is
    /// unresolved: if the line's drop itself is resolved, the line is straight at this
    /// scale (step further); if not, there is nothing to learn from (keep η: at a minimum,
    /// or a step too small to measure anything).
    pub fn fit(s: f64, start: f64, loss: f64, cross: f64) -> LineFit {
        let quadratic = start - loss - s * cross;
        let noise = 4.0 * f32::EPSILON as f64 * start.abs().max(loss.abs());
        let curvature = 2.0 * quadratic / (s * s);
        let minimum = if quadratic > noise && curvature.is_finite() {
            (s + cross / curvature).max(s / AUTO_DOWN)
        } else if (start - loss).abs() > 8.0 * noise {
            s * AUTO_UP
        } else {
            s
        };
        LineFit {
            at: s,
            start,
            curvature,
            minimum,
        }
    }

    /// η moved a share `gain` of the log-distance towards the line's minimum.
    pub fn correct(lr: f64, gain: f64, fit: &LineFit) -> f64 {
        let r = (fit.minimum / fit.at)
            .ln()
            .clamp(-AUTO_DOWN.ln(), AUTO_UP.ln());
        lr * (gain * r).exp()
    }
}

impl Schedule for Auto {
    fn name(&self) -> &'static str {
        "auto"
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
            back_probe_every: self.every,
            ..Needs::default()
        }
    }

    fn observe(&mut self, obs: &Observation) -> Option<ProbeRecord> {
        let own_prev = self.secant_own();
        self.last_rho = obs.dots.as_ref().and_then(|d| Secant::rho(own_prev, d));
        self.feed_secant(obs);
        self.last = match (&obs.back_probe, obs.dots.as_ref().and_then(|d| d.cross)) {
            (Some(BackProbe { start, at }), Some(cross)) if *at > 0.0 => {
                Some(Auto::fit(*at, *start, obs.loss, cross))
            }
            _ => None,
        };
        if let Some(fit) = self.last.filter(|f| f.start.is_finite()) {
            self.lr = Auto::correct(self.lr, self.gain, &fit);
        }
        None
    }

    fn forget_direction(&mut self) {
        self.secant.forget_direction();
    }

    fn record_header(&self) -> Option<&'static str> {
        Some("step,rho,probe_at,probe_start,curvature,line_minimum")
    }

    fn record(&self, step: usize) -> Option<String> {
        let f = self.last;
        Some(format!(
            "{step},{},{},{},{},{}",
            opt(self.last_rho),
            opt(f.map(|f| f.at)),
            opt(f.map(|f| f.start)),
            opt(f.map(|f| f.curvature)),
            opt(f.map(|f| f.minimum)),
        ))
    }

    fn state(&self) -> serde_json::Value {
        serde_json::json!({ "lr": self.lr, "secant": self.secant.state() })
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String> {
        self.lr = state_f64(state, "lr")?;
        self.secant.restore(&state["secant"])
    }
}

impl Auto {
    fn secant_own(&self) -> Option<f64> {
        self.secant.state()["own"].as_f64()
    }

    /// Keeps the secant's memory of d·g current (its η is not used).
    fn feed_secant(&mut self, obs: &Observation) {
        self.secant.observe(obs);
    }
}
