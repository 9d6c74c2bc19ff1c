//! `auto`: the `secant` rule's tests, plus a check of the last update's line every k steps,
//! measured on an independent batch with one extra forward pass.
//!
//! At step t the weights are w(t) = w(t−1) − η(t−1)·d(t−1), and batch t has not been used
//! to choose d(t−1). Along that line, φ(s) = L_t(w(t−1) − s·d(t−1)), three numbers pin a
//! parabola: φ(η(t−1)) is the step's loss (free), φ′(η(t−1)) = −d(t−1)·g(t) is one dot product
//! (free), and φ(0) = L_t(w(t−1)) is one forward pass at w(t) + η(t−1)·d(t−1). The curvature
//! c = 2(φ(0) − φ(η) − η·d·g)/η² and the minimum s* = η + d(t−1)·g(t)/c follow. The probe is
//! η away from the point, not an absolute ε: its loss difference is far above f32 rounding
//! at any η.
//!
//! The line's minimum is the one-step optimum, which gradient noise drives far below the
//! best rate (docs/design-notes.md §4), so it is not a target, and single-batch fits are
//! mostly noise (on LeNet the minimum of most probes lies behind the start even at
//! η = 1e-4, docs/design-notes.md §6). What the probes measure soundly is the paired change
//! of a fresh batch's loss over one step, φ(η) − φ(0): the batch noise cancels. When its
//! mean over the probes since η last changed is significantly positive (t > 3, at least 8
//! probes), the steps make unseen data worse: η is past twice the expected line's minimum,
//! and halves. Otherwise the secant rule's tests decide.

use super::secant::{opt, Decision, Secant};
use super::stats::t_statistic;
use super::tuning::{Tuning, Variant};
use super::{BackProbe, Needs, Observation, ProbeRecord, Rule, RunShape, Schedule};

/// Bounds on s*/η from one probe: a line with no curvature counts as s* = 4η, and a
/// minimum behind the start as s* = η/16.
pub const AUTO_UP: f64 = 4.0;
/// The lower bound's divisor: a fitted minimum below η/16, one behind the start included,
/// counts as s* = η/16.
pub const AUTO_DOWN: f64 = 16.0;
/// Probes the rise test needs.
pub const LINE_MIN_PROBES: usize = 8;
/// `--probe-every`'s default: one back probe (a forward pass) every 4 steps. Every 2 cost
/// 1.16–1.25× basic per step, and the rise test fired in 1 of 82 recorded design-task runs
/// (3 of 82 when replayed at 4 steps; docs/design-notes.md §12).
pub const PROBE_EVERY: usize = 4;

/// The `auto` rule: [`Secant`]'s tests, plus every k steps a probe of the last update's line
/// on a fresh batch (one extra forward pass); when the secant's tests keep η, it still
/// halves if those probes show that a step raises an unseen batch's loss on average.
pub struct Auto {
    every: usize,
    secant: Secant,
    /// φ(η) − φ(0) of the probes since η last changed.
    rises: Vec<f64>,
    last: Option<LineFit>,
    last_decision: Option<Decision>,
}

/// What one probe measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LineFit {
    /// η(t−1): where the line was measured.
    pub at: f64,
    /// φ(0) = L_t(w(t−1)).
    pub start: f64,
    /// φ″, the parabola's curvature 2(φ(0) − φ(η) − η·d(t−1)·g(t))/η²; unresolved (mere f32
    /// rounding) when it is within a few rounding steps of the losses ([`Auto::fit`]).
    pub curvature: f64,
    /// The line's minimum s* (4η when the line has no curvature).
    pub minimum: f64,
}

impl Auto {
    /// The frozen rule at η0 = `lr`, probing the line every `every` steps (at least 1), with
    /// no horizon (no cooldown).
    pub fn new(lr: f64, every: usize) -> Auto {
        Auto::tuned(lr, every, Tuning::FROZEN, 0)
    }

    /// The rule with the constants of `tuning` (an ablation) for a run of `planned` steps
    /// (0: no horizon, no cooldown).
    pub fn tuned(lr: f64, every: usize, tuning: Tuning, planned: usize) -> Auto {
        Auto {
            every: every.max(1),
            secant: Secant::tuned_for_run(lr, tuning, planned),
            rises: Vec::new(),
            last: None,
            last_decision: None,
        }
    }

    /// Whether the probes since η last changed show that a step raises a fresh batch's
    /// loss on average (`rises`: φ(η) − φ(0) per probe), in the frozen rule.
    pub fn line_overshoots(rises: &[f64]) -> bool {
        Auto::line_overshoots_with(rises, &Tuning::FROZEN)
    }

    /// [`Auto::line_overshoots`] with the constants of `tuning`.
    pub fn line_overshoots_with(rises: &[f64], tuning: &Tuning) -> bool {
        rises.len() >= tuning.line_min_probes && t_statistic(rises) > tuning.evidence_t
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
}

impl Schedule for Auto {
    fn lr(&self) -> f64 {
        self.secant.lr()
    }

    fn set_lr(&mut self, lr: f64) {
        self.secant.set_lr(lr);
    }

    fn needs(&self) -> Needs {
        Needs {
            back_probe_every: self.every,
            ..self.secant.needs()
        }
    }

    fn blown_up(&mut self, loss: f64) -> bool {
        let blew_up = self.secant.blown_up(loss);
        if blew_up {
            self.rises.clear();
            self.last = None;
            self.last_decision = Some(Decision::BlowUp);
        }
        blew_up
    }

    fn observe(&mut self, obs: &Observation) -> Option<ProbeRecord> {
        self.last = match (&obs.back_probe, obs.dots.as_ref().and_then(|d| d.cross)) {
            (Some(BackProbe { start, at }), Some(cross)) if *at > 0.0 && start.is_finite() => {
                Some(Auto::fit(*at, *start, obs.loss, cross))
            }
            _ => None,
        };
        if let (Some(BackProbe { start, .. }), Some(_)) = (&obs.back_probe, &self.last) {
            self.rises.push(obs.loss - start);
        }
        self.secant.observed(obs.step);
        let Some(dots) = &obs.dots else {
            return None;
        };
        let mut decision = self.secant.learn(dots, obs.lr, obs.loss);
        let tuning = *self.secant.tuning();
        if decision == Decision::Keep
            && !self.secant.cooling_down()
            && Auto::line_overshoots_with(&self.rises, &tuning)
        {
            decision = Decision::LineRise;
            self.secant.reset_window();
        }
        if decision != Decision::Keep {
            self.rises.clear();
            self.secant.scale(tuning.factor(decision));
        }
        self.last_decision = Some(decision);
        None
    }

    fn forget_direction(&mut self) {
        self.secant.forget_direction();
    }

    fn take_restart(&mut self) -> bool {
        self.secant.take_restart()
    }

    fn record_header(&self) -> Option<&'static str> {
        Some("step,rho,pflug,decision,probe_at,probe_start,curvature,line_minimum")
    }

    fn record(&self, step: usize) -> Option<String> {
        let f = self.last;
        let decision = self.last_decision.map_or("", Decision::name);
        Some(format!(
            "{step},{},{decision},{},{},{},{}",
            self.secant.rho_pflug_columns(),
            opt(f.map(|f| f.at)),
            opt(f.map(|f| f.start)),
            opt(f.map(|f| f.curvature)),
            opt(f.map(|f| f.minimum)),
        ))
    }

    fn state(&self) -> serde_json::Value {
        serde_json::json!({ "secant": self.secant.state(), "rises": self.rises })
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String> {
        self.secant.restore(&state["secant"])?;
        self.rises = serde_json::from_value(state["rises"].clone()).unwrap_or_default();
        Ok(())
    }
}

/// The auto rule's options.
#[derive(clap::Args, Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct AutoOptions {
    /// auto: probe the last update's line every this many steps.
    #[arg(value_parser = crate::values::at_least_one, long, default_value_t = PROBE_EVERY, value_name = "K")]
    pub probe_every: usize,
    /// auto: an ablation of the frozen rule, a test off or one group of constants scaled
    /// (docs/evaluation.md §6); the line variants scale --probe-every too.
    #[arg(long, value_enum, default_value_t = Variant::Frozen, value_name = "VARIANT")]
    pub auto_variant: Variant,
}

impl Rule for Auto {
    const NAME: &'static str = "auto";
    const ABOUT: &'static str =
        "The secant rule corrected every --probe-every steps by a check of \
         the last update's line on a fresh batch (one extra forward pass)";
    type Options = AutoOptions;

    fn check(o: &AutoOptions) -> Result<(), String> {
        if o.probe_every == 0 {
            return Err("--probe-every must be at least 1".into());
        }
        Ok(())
    }

    fn build(run: &RunShape, o: &AutoOptions) -> Auto {
        let (tuning, every) = Tuning::of(o.auto_variant, o.probe_every);
        Auto::tuned(run.lr0, every, tuning, run.planned_steps)
    }
}

crate::default_from_command_line!(AutoOptions);
