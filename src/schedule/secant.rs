//! `secant`: η from statistical tests on numbers the step already has (no extra pass).
//!
//! Along the previous step's direction d(t−1), the loss slope at the start of the step is
//! −d(t−1)·g(t−1) and at its end −d(t−1)·g(t), g(t) being measured on a fresh batch. Their
//! ratio ρ(t) = d(t−1)·g(t) / d(t−1)·g(t−1) is the secant's verdict on the step: ρ > 0, the
//! slope kept its sign (the step fell short); ρ < 0, it overshot the line's minimum.
//!
//! Following ρ's sign step by step targets the one-step optimum, which gradient noise
//! drives towards zero (measured: docs/design-notes.md §4). So η changes only on evidence,
//! gathered over a window of steps since its last change (ρ clipped to ±1, so that a
//! single loss spike does not swamp the mean). Every test that lowers η needs evidence
//! that a too *small* η cannot produce: at a tiny η consecutive fresh-batch gradients are
//! nearly independent draws around the same mean gradient, so E[ρ] ≥ 0 and the loss is flat
//! (docs/design-notes.md §11):
//! - ρ's mean significantly positive (t > 3): the steps are too short, η doubles;
//! - ρ's mean significantly negative (t < −3) and below −0.3: overshooting, η halves (at
//!   SGD's noise floor ρ's mean is negative at any η, about −η times an average curvature:
//!   a moderately negative mean is not a reason to shrink η);
//! - no progress at all: after 60 steps the loss is still not significantly below the
//!   loss of the run's first steps while ρ's mean is significantly negative (t < −3; a
//!   network held at chance by a far too large η), η is cut to a sixteenth, the trainer
//!   puts the run's initial weights back (nothing measured is lost, and the weights a far
//!   too large η held at chance may be dead: LeNet from η0 = 10 stayed at chance after the
//!   cut, docs/design-notes.md §11), and the cut rate becomes a ceiling that doublings do
//!   not pass (ρ cannot tell a rate just below the stalled one from a good one,
//!   docs/auto.md). The ceiling is evidence, not a verdict: a doubling it blocks raises it
//!   one step instead, so η passes it after two windows in a row of significantly
//!   positive ρ;
//! - a plateau: over 500 or more steps, the newer half of the window's losses is not
//!   significantly below the older half, while ρ's mean is not positive (a flat loss with
//!   ρ > 0 is a too small η, not a noise floor), η halves. This anneals η once progress at
//!   a rate slows below what the window can see (docs/design-notes.md §6). Each plateau
//!   halving doubles the steps the next plateau test needs: at half the rate the loss
//!   falls about half as fast, and a window of the old length would call every later rate
//!   a plateau (LeNet from η0 = 1 halved η every 500 steps, down to 1.5e-5; docs/auto.md).
//! - a blow-up: step t's loss more than twice the largest loss of the run before it (or
//!   not finite): step t−1's update threw the weights off. The trainer puts w(t−1) back
//!   (which also undoes step t's update, made from the damaged weights), and η is cut to a
//!   sixteenth, which becomes a ceiling as after a stall. A too small η cannot raise the loss.
//!
//! - the cooldown: over the last fifth of the run's planned steps η falls linearly towards
//!   zero and no test decides (a blow-up is still undone). Until then the rule holds η at
//!   a rate that still learns, where SGD's noise keeps the accuracy scattered; annealing
//!   needs the run's end, which no statistic of the steps can see (docs/design-notes.md
//!   §12).
//!
//! A plateau at the loss of the run's first steps is a stall, not a plateau: ρ's mean is
//! not positive there, so η is not too small; nothing learns at this rate (LeNet from
//! η0 = 10 held at chance with ρ noise around zero, t ≈ −1.8 over 500 steps, which the
//! stall's ρ bound does not see; docs/design-notes.md §12).
//!
//! Both cuts are deep on purpose: ρ tells a too small η reliably (its mean is positive, and
//! η doubles back), but not a too large one that still learns (on LeNet ρ's mean is most
//! negative at the best rates and rises above them), so a cut should land below the good
//! range rather than in the band above it (a quarter kept LeNet at 8× the best rate for
//! 4 epochs; docs/design-notes.md §11).
//!
//! Otherwise η stays. Changes are multiplicative, so η never crosses zero. The dots and the
//! loss are computed on the GPU and read back one step late, so no step waits for them. Pflug's
//! stationarity test, tried before, never fired in any recorded run and was removed
//! (docs/design-notes.md §11); its statistic is still logged in `rule.csv`.

use super::stats::{mean, t_statistic, welch_t};
use super::tuning::Tuning;
use super::{
    state_f64, state_num, state_opt, state_opt_f64, Dots, Needs, NoOptions, Observation,
    ProbeRecord, Rule, RunShape, Schedule,
};

/// ρ's mean below which a significantly negative ρ means overshooting (measured:
/// docs/design-notes.md §5–6).
pub const OVERSHOOT_MEAN: f64 = -0.3;
/// Steps a window needs before ρ is tested.
pub const RHO_MIN_STEPS: usize = 30;
/// |t| of ρ's mean (and, in `auto`, of the line probes' rise) beyond which it counts as
/// evidence: ρ significantly positive, η too small; significantly negative, the steps
/// overshoot. A window is tested at every step, so the bound is strict.
pub const EVIDENCE_T: f64 = 3.0;
/// A window keeps only its most recent steps, so that it tracks the current phase of
/// training.
pub const MAX_WINDOW: usize = 2000;
/// ρ is clipped to ±this before it is averaged: single steps with |ρ| ≫ 1 (a spike of the
/// loss) otherwise swamp the t-statistic (docs/design-notes.md §6).
pub const RHO_CLIP: f64 = 1.0;
/// A window of `STALL_MIN_STEPS` or more steps whose loss is not even this many
/// standard errors below the loss of the run's first `RHO_MIN_STEPS` steps: training has
/// made no progress at all (docs/design-notes.md §6). The same bound between the older
/// and the newer half of a window of `PLATEAU_MIN_STEPS` or more: a plateau.
pub const STALL_T: f64 = -2.0;
/// Steps the first plateau test needs; each plateau halving doubles it.
pub const PLATEAU_MIN_STEPS: usize = 500;
/// Steps a window needs before the no-progress test: at η = 1 LeNet is damaged beyond
/// quick recovery within ~200 steps (docs/design-notes.md §6).
pub const STALL_MIN_STEPS: usize = 60;
/// A step's loss above this many times the largest loss of the run before it: the last
/// update blew the loss up (LeNet at η = 10: 2.3 → 15.9 → 22,653 in two steps, then NaN;
/// at η = 1, 2.3 for 100 steps, then 13.5 → 1,060 → 4e11; docs/design-notes.md §11). A too
/// small η cannot raise the loss at all, and noise does not double the largest loss.
pub const BLOW_UP: f64 = 2.0;
/// The fraction of the run's planned steps at its end over which η falls linearly towards
/// zero while the tests rest (a cooldown, as in warmup-stable-decay schedules: Hägele et al.
/// 2024 found a 20% cooldown of a constant rate to match a cosine schedule). At a constant
/// rate the noise of SGD keeps the last epochs' accuracy scattered over several points
/// (docs/design-notes.md §12); no test of the rule can see that, since it needs the run's end.
pub const COOLDOWN: f64 = 0.2;

/// The last steps of a run, over which η falls linearly to 1/len of the rule's rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cooldown {
    /// The cooldown's first step (1-based).
    pub first: usize,
    /// The run's last planned step.
    pub last: usize,
}

impl Cooldown {
    /// The last `fraction` of `planned` steps (at least one step); None when `fraction` is 0
    /// or the run has no steps.
    pub fn of(planned: usize, fraction: f64) -> Option<Cooldown> {
        if planned == 0 || fraction <= 0.0 {
            return None;
        }
        let len = ((planned as f64 * fraction).round() as usize).clamp(1, planned);
        Some(Cooldown {
            first: planned - len + 1,
            last: planned,
        })
    }

    /// η's factor at `step`: 1 before the cooldown, then (last + 1 − step)/len, down to
    /// 1/len at the last step (never 0, so that `set_lr` can divide by it). After a step
    /// the rule did not observe (an undone or discarded one) the factor lags by that step.
    pub fn factor(&self, step: usize) -> f64 {
        if step < self.first {
            return 1.0;
        }
        let len = self.last - self.first + 1;
        (self.last.saturating_sub(step) + 1) as f64 / len as f64
    }
}

/// The `secant` rule: η doubles, halves or stays on statistical tests over the steps since
/// it last changed (of ρ(t), Pflug's stationarity condition and the loss), from dot
/// products the step already has: no extra pass, no wait.
pub struct Secant {
    /// The rule's rate; the step's η is this times the cooldown's factor.
    lr: f64,
    /// The constants (the frozen ones unless an ablation moves them).
    tuning: Tuning,
    /// d(t−1)·g(t−1) of the last observed step.
    own: Option<f64>,
    window: Window,
    /// The losses of the run's first `RHO_MIN_STEPS` steps.
    initial: Vec<f64>,
    /// Plateau halvings so far.
    plateaus: u32,
    /// Set by a no-progress or blow-up cut to the cut rate: η does not double past it. A
    /// doubling it blocks doubles it instead.
    ceiling: Option<f64>,
    /// The largest loss read before an update at the start of the run (blow-up test).
    largest: Option<f64>,
    last: Option<Decision>,
    last_rho: Option<f64>,
    /// The last step's Pflug statistic over its scale.
    last_pflug: Option<f64>,
    /// A stall asks the trainer to start again from the initial weights.
    restart: bool,
    /// The run's last steps, over which η falls to zero and the tests rest; None when the
    /// horizon is unknown (a rule built outside a run) or the ablation removes it.
    cooldown: Option<Cooldown>,
    /// The step η is for: the last observed step + 1.
    next_step: usize,
}

/// The statistics gathered since η last changed.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
struct Window {
    rho: Vec<f64>,
    /// The step losses.
    #[serde(default)]
    loss: Vec<f64>,
}

/// What a step's observation decided.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decision {
    /// No test decided: η stays.
    Keep,
    /// ρ's mean is significantly positive (t > 3) and twice η stays within its ceiling: the
    /// steps fall short, η doubles.
    Up,
    /// ρ's mean is significantly positive, but twice η would pass the ceiling a
    /// no-progress cut set: the ceiling doubles, η stays.
    Lift,
    /// ρ's mean is significantly negative (t < −3) and below −0.3: η halves.
    Overshoot,
    /// No progress since the run's first steps while ρ's mean is significantly negative,
    /// or a plateau at the first steps' loss (ρ's mean ≤ 0): η is cut to a sixteenth, which
    /// becomes a ceiling for later doublings, and the run starts again from its initial
    /// weights ([`Schedule::take_restart`]).
    Stalled,
    /// At the start of the run, the loss before an update is more than twice the largest
    /// before it: η is cut to a sixteenth before the update, which becomes a ceiling.
    BlowUp,
    /// The newer half of the window's losses is not significantly below the older half
    /// while ρ's mean is not positive: η halves, and the next plateau test needs twice the
    /// steps.
    Plateau,
    /// `auto` only: its line probes show steps raising a fresh batch's loss.
    LineRise,
}

impl Decision {
    /// The factor η is multiplied by in the frozen rule.
    pub fn factor(self) -> f64 {
        Tuning::FROZEN.factor(self)
    }
}

impl Decision {
    /// The decision's word in `rule.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Decision::Keep => "keep",
            Decision::Up => "up",
            Decision::Lift => "lift-ceiling",
            Decision::Overshoot => "overshoot",
            Decision::Stalled => "stalled",
            Decision::BlowUp => "blow-up",
            Decision::Plateau => "plateau",
            Decision::LineRise => "line-rise",
        }
    }
}

impl Window {
    /// `initial`: the losses of the run's first steps; `plateau_steps`: the steps the
    /// plateau test needs; `may_rise`: whether twice η stays within its ceiling.
    fn decide(
        &self,
        initial: &[f64],
        plateau_steps: usize,
        may_rise: bool,
        c: &Tuning,
    ) -> Decision {
        let rho_mean = mean(&self.rho);
        if self.rho.len() >= c.rho_min_steps {
            let t = t_statistic(&self.rho);
            if t > c.evidence_t {
                return if may_rise {
                    Decision::Up
                } else {
                    Decision::Lift
                };
            }
            if t < -c.evidence_t {
                if rho_mean < c.overshoot_mean {
                    return Decision::Overshoot;
                }
                if c.stall && self.no_progress(initial, c) {
                    return Decision::Stalled;
                }
            }
        }
        let n = self.loss.len();
        if c.plateau && n >= plateau_steps && rho_mean <= 0.0 {
            let (older, newer) = self.loss.split_at(n / 2);
            if welch_t(newer, older) > c.stall_t {
                // A plateau at the loss of the first steps is no progress at all: nothing
                // learns at this rate (a network it killed, whose ρ is noise around zero).
                // A too small η cannot get here: its ρ is positive.
                if c.stall && self.no_progress(initial, c) {
                    return Decision::Stalled;
                }
                return Decision::Plateau;
            }
        }
        Decision::Keep
    }

    /// Whether the window's losses are not significantly below those of the run's first
    /// steps, `initial`.
    fn no_progress(&self, initial: &[f64], c: &Tuning) -> bool {
        initial.len() >= c.rho_min_steps
            && self.loss.len() >= c.stall_min_steps
            && welch_t(&self.loss, initial) > c.stall_t
    }

    /// Keeps the last `n` steps of each statistic, and the last `losses` losses (the
    /// plateau test may need more of them).
    fn keep_recent(&mut self, n: usize, losses: usize) {
        for (v, n) in [(&mut self.rho, n), (&mut self.loss, losses)] {
            if v.len() > n {
                v.drain(..v.len() - n);
            }
        }
    }
}

impl Secant {
    /// `rule.csv`'s `rho,pflug` columns of the step just observed (empty when not
    /// measured): secant's line and `auto`'s share them.
    pub(super) fn rho_pflug_columns(&self) -> String {
        format!("{},{}", opt(self.last_rho), opt(self.last_pflug))
    }

    /// The frozen rule at η0 = `lr`, with no statistics gathered yet.
    pub fn new(lr: f64) -> Secant {
        Secant::tuned(lr, Tuning::FROZEN)
    }

    /// The frozen rule at η0 = `lr` for a run of `planned` steps (its cooldown ends there).
    pub fn for_run(lr: f64, planned: usize) -> Secant {
        Secant::tuned_for_run(lr, Tuning::FROZEN, planned)
    }

    /// The rule with the constants of `tuning` for a run of `planned` steps.
    pub fn tuned_for_run(lr: f64, tuning: Tuning, planned: usize) -> Secant {
        Secant {
            cooldown: Cooldown::of(planned, tuning.cooldown),
            ..Secant::tuned(lr, tuning)
        }
    }

    /// The rule with the constants of `tuning` (an ablation) at η0 = `lr`, with no horizon
    /// (no cooldown).
    pub fn tuned(lr: f64, tuning: Tuning) -> Secant {
        Secant {
            lr,
            tuning,
            own: None,
            window: Window::default(),
            initial: Vec::new(),
            plateaus: 0,
            ceiling: None,
            largest: None,
            last: None,
            last_rho: None,
            last_pflug: None,
            restart: false,
            cooldown: None,
            next_step: 1,
        }
    }

    /// Multiplies the rule's rate by `factor` (a decision's).
    pub fn scale(&mut self, factor: f64) {
        self.lr *= factor;
    }

    /// The cooldown's factor for the next step.
    fn cooling(&self) -> f64 {
        self.cooldown.map_or(1.0, |c| c.factor(self.next_step))
    }

    /// Whether the next step is in the cooldown, where η falls to zero and no test decides.
    pub fn cooling_down(&self) -> bool {
        self.cooldown.is_some_and(|c| self.next_step >= c.first)
    }

    /// Step `step` was observed: η is now for the step after it.
    pub fn observed(&mut self, step: usize) {
        self.next_step = step + 1;
    }

    /// ρ(t) from this step's dots and the previous step's d·g, when both exist and the
    /// previous step moved downhill (d·g > 0).
    pub fn rho(own_prev: Option<f64>, dots: &Dots) -> Option<f64> {
        let a = own_prev?;
        let b = dots.cross?;
        (a > 0.0 && b.is_finite()).then(|| b / a)
    }

    /// Feeds one step (its dots, and the η its update used); returns the decision.
    pub fn learn(&mut self, dots: &Dots, lr_used: f64, loss: f64) -> Decision {
        self.last_rho = Secant::rho(self.own, dots);
        if let Some(rho) = self.last_rho {
            let clip = self.tuning.rho_clip;
            self.window.rho.push(rho.clamp(-clip, clip));
        }
        if loss.is_finite() {
            self.window.loss.push(loss);
            if self.initial.len() < self.tuning.rho_min_steps {
                self.initial.push(loss);
            }
        }
        self.own = Some(dots.own);
        // Pflug's statistic over its scale, logged (it decides nothing, see above).
        let half = lr_used / 2.0 * dots.norm;
        self.last_pflug = Some((dots.weights - half) / half);
        let may_rise = self.ceiling.is_none_or(|c| self.lr * self.tuning.up <= c);
        let decision = if self.cooling_down() {
            Decision::Keep
        } else {
            self.window
                .decide(&self.initial, self.plateau_steps(), may_rise, &self.tuning)
        };
        match decision {
            Decision::Plateau => self.plateaus += 1,
            Decision::Stalled => {
                self.ceiling = Some(self.lr * self.tuning.factor(decision));
                self.restart = true;
            }
            Decision::Lift => self.ceiling = self.ceiling.map(|c| c * self.tuning.up),
            _ => {}
        }
        if decision != Decision::Keep {
            self.window = Window::default();
        }
        let plateau_steps = self.plateau_steps();
        self.window.keep_recent(
            self.tuning.max_window,
            self.tuning.max_window.max(plateau_steps),
        );
        decision
    }

    /// Step t's loss at w(t), read one step late: if it is more than `BLOW_UP` times the
    /// largest before it (or not finite), step t−1's update blew the loss up. Then η is cut
    /// to a sixteenth, the cut rate becomes a ceiling, and the trainer puts w(t−1) back
    /// ([`Schedule::blown_up`]): a smaller η cannot repair weights that the update has
    /// thrown far off (LeNet from η0 = 10 reached a loss of 1e26 within 9 steps although η
    /// had been cut to 2e-3 by then, docs/design-notes.md §11). Returns whether it fired.
    pub fn check_blow_up(&mut self, loss: f64) -> bool {
        let blew_up = self.tuning.blow_up_test
            && self
                .largest
                .is_some_and(|m| !loss.is_finite() || loss > self.tuning.blow_up * m);
        if blew_up {
            self.lr *= self.tuning.factor(Decision::BlowUp);
            self.ceiling = Some(self.lr);
            self.window = Window::default();
            self.own = None;
            self.last = Some(Decision::BlowUp);
            self.last_rho = None;
            self.last_pflug = None;
        } else if loss.is_finite() {
            self.largest = Some(self.largest.map_or(loss, |m| m.max(loss)));
        }
        blew_up
    }

    /// The constants the rule runs with.
    pub fn tuning(&self) -> &Tuning {
        &self.tuning
    }

    /// The steps the next plateau test needs.
    pub fn plateau_steps(&self) -> usize {
        let growth = self.tuning.growth.powi(self.plateaus.min(16) as i32);
        (self.tuning.plateau_min_steps as f64 * growth).round() as usize
    }

    /// Starts a new window (η changed for another reason).
    pub fn reset_window(&mut self) {
        self.window = Window::default();
    }

    /// The last step's decision, for logs.
    pub fn last_decision(&self) -> Option<Decision> {
        self.last
    }
}

impl Schedule for Secant {
    fn lr(&self) -> f64 {
        self.lr * self.cooling()
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr / self.cooling();
    }

    fn needs(&self) -> Needs {
        Needs {
            dots: true,
            undo: self.tuning.blow_up_test,
            ..Needs::default()
        }
    }

    fn blown_up(&mut self, loss: f64) -> bool {
        self.check_blow_up(loss)
    }

    fn observe(&mut self, obs: &Observation) -> Option<ProbeRecord> {
        self.observed(obs.step);
        if let Some(d) = &obs.dots {
            let decision = self.learn(d, obs.lr, obs.loss);
            self.lr *= self.tuning.factor(decision);
            self.last = Some(decision);
        }
        None
    }

    fn forget_direction(&mut self) {
        self.own = None;
    }

    fn take_restart(&mut self) -> bool {
        std::mem::take(&mut self.restart)
    }

    fn record_header(&self) -> Option<&'static str> {
        Some("step,rho,pflug,decision")
    }

    fn record(&self, step: usize) -> Option<String> {
        let decision = self.last.map_or("", Decision::name);
        Some(format!("{step},{},{decision}", self.rho_pflug_columns()))
    }

    fn state(&self) -> serde_json::Value {
        serde_json::json!({
            "lr": state_num(self.lr),
            "own": state_opt(self.own),
            "window": self.window,
            "initial": self.initial,
            "plateaus": self.plateaus,
            "ceiling": state_opt(self.ceiling),
            "largest": state_opt(self.largest),
            "next_step": self.next_step,
            "cooldown_last": self.cooldown.map(|c| c.last),
        })
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String> {
        self.lr = state_f64(state, "lr")?;
        self.own = state_opt_f64(state, "own")?;
        self.window = serde_json::from_value(state["window"].clone()).unwrap_or_default();
        self.initial = serde_json::from_value(state["initial"].clone()).unwrap_or_default();
        self.plateaus = state["plateaus"].as_u64().unwrap_or(0) as u32;
        self.ceiling = state_opt_f64(state, "ceiling")?;
        self.largest = state_opt_f64(state, "largest")?;
        self.next_step = state["next_step"].as_u64().ok_or(
            "schedule state lacks the number 'next_step': a checkpoint of the rule before its \
             cooldown (docs/design-notes.md §12); start a new run (--lr-from takes its η)",
        )? as usize;
        // Checkpoints of e10f169 lack the field: they resume as they did then.
        let planned = state["cooldown_last"].as_u64().map(|n| n as usize);
        if state.get("cooldown_last").is_some() && planned != self.cooldown.map(|c| c.last) {
            // More epochs would lift η back from the cooldown's end, fewer would cut it short.
            return Err(format!(
                "its cooldown was planned to end at step {}, the run now ends at {} (another \
                 --epochs); resume with the run's --epochs, or start a new run",
                planned.map_or("none".into(), |n| n.to_string()),
                self.cooldown.map_or("none".into(), |c| c.last.to_string()),
            ));
        }
        Ok(())
    }
}

/// A value for a CSV cell: empty when absent.
pub(crate) fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}

impl Rule for Secant {
    const NAME: &'static str = "secant";
    const ABOUT: &'static str =
        "Quasi-Newton on η from consecutive step directions and gradients: no extra pass";
    type Options = NoOptions;

    fn build(run: &RunShape, _: &NoOptions) -> Secant {
        Secant::for_run(run.lr0, run.planned_steps)
    }
}
