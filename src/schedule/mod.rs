//! Learning-rate schedules. A schedule says which measurements a step must make, gives η
//! for the step, and updates η from what the step measured. Schedules are pure CPU code:
//! the trainer (`train::measure`) turns their [`Needs`] into GPU work and its read-backs
//! into an [`Observation`].
//!
//! A new rule is one new file, a type implementing [`Schedule`] and [`Rule`] (its name,
//! its command-line options, its checkpointed state, its `rule.csv` columns), plus its
//! `mod` and `pub use` lines and one line in `registry!` below; the unit tests at the end
//! of this file then check its state, its `rule.csv` lines and its [`Needs`] (see
//! README's map of the source for what they cannot check). A rule that moves the weights
//! its own way on the GPU (D-Adaptation, Prodigy, schedule-free) also needs an [`Update`]
//! variant (the compiler then points at every `match` to extend), an arm in
//! `src/optim/rule_update.rs`, and an op pair `src/ops/X.rs` + `shaders/X.wgsl` listed in
//! `ops::SHADERS`.

#![warn(missing_docs)]

mod auto;
mod basic;
mod dadapt;
mod dog;
mod first_order;
mod gen;
mod hypergradient;
mod newton;
mod prodigy;
mod schedule_free;
mod secant;
mod sps;
mod stats;
mod tuning;

pub use auto::{Auto, AutoOptions, LineFit, AUTO_DOWN, AUTO_UP, LINE_MIN_PROBES, PROBE_EVERY};
pub use basic::{Basic, BasicOptions, Decay};
pub use dadapt::{DAdapt, DAdaptDecay, DAdaptOptions};
pub use dog::{Dog, DogOptions};
pub use first_order::{FirstOrder, FirstOrderOptions};
pub use gen::{Fit, Gen, GenFit, GenOptions, GenScale};
pub use hypergradient::{Hypergradient, HypergradientOptions};
pub use newton::{Newton, NewtonOptions};
pub use prodigy::{Prodigy, ProdigyOptions};
pub use schedule_free::{ScheduleFree, ScheduleFreeOptions};
pub use secant::{
    Cooldown, Decision, Secant, BLOW_UP, COOLDOWN, EVIDENCE_T, MAX_WINDOW, OVERSHOOT_MEAN,
    PLATEAU_MIN_STEPS, RHO_CLIP, RHO_MIN_STEPS, STALL_MIN_STEPS, STALL_T,
};
pub use sps::{Sps, SpsOptions};
pub use tuning::{Tuning, Variant};

/// The five probe losses of a probing rule's step and the pieces of its update. For newton,
/// `η(t+1) = η(t) − 2ε·numerator / denominator`; for gen, the parabola f ≈ A·a² + B·a + C
/// fitted over the step sizes a, whose minimum, `−numerator / denominator`, η moves towards.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeRecord {
    /// The losses at the rule's five probe steps: f(η−2ε), f(η−ε), f(η), f(η+ε), f(η+2ε)
    /// for newton, f(0), f(η/2), f(η), f(3η/2), f(2η) for gen (f(−η), f(−η/2), f(0),
    /// f(η/2), f(η) with `--gen-fit three-point`).
    pub f: [f64; 5],
    /// Newton: f(η+ε) − f(η−ε), the probes' first difference. Gen: B.
    pub numerator: f64,
    /// Newton: the denominator actually used (δ included when `safeguarded`). Gen: 2A.
    pub denominator: f64,
    /// Newton: δ was added because the raw denominator was numerically zero. Gen: the fit
    /// was rejected and η kept.
    pub safeguarded: bool,
}

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
    /// The losses at the rule's five probe steps ([`Schedule::probe_steps`]) on the step's
    /// batch (on a batch of their own with `--probe-on val` or `fresh`), when the schedule
    /// asked for them.
    pub probes: Option<[f64; 5]>,
    /// The step sizes those probes actually used (the probe steps rounded to f32 on the
    /// GPU).
    pub probe_steps: Option<[f64; 5]>,
    /// d(t)·g(t) and d(t−1)·g(t), when the schedule asked for them.
    pub dots: Option<Dots>,
    /// The loss of the step's batch at w(t−1), when the schedule probed back this step.
    pub back_probe: Option<BackProbe>,
    /// The sums the rule's own update measured ([`Update::sums`]), in its order.
    pub sums: Vec<f64>,
}

/// What a step's gradient measured before its update, for the rules that set η(t) from
/// it ([`Schedule::observe_gradient`]). Each field is there when [`Needs`] asked for it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GradientReadings {
    /// g(t)·d(t−1) ([`Needs::grad_dot`]); None at the first step or after a discarded one.
    pub dot: Option<f64>,
    /// d(t)·d(t), the step direction's squared norm ([`GradientNeeds::norm`]).
    pub norm: Option<f64>,
    /// d(t−1)·d(t−1) ([`GradientNeeds::previous_norm`]); None when `dot` is.
    pub previous_norm: Option<f64>,
    /// ‖w(t) − w(0)‖² ([`GradientNeeds::distance`]).
    pub distance: Option<f64>,
    /// ‖w(0)‖² ([`GradientNeeds::distance`]).
    pub origin_norm: Option<f64>,
    /// The step's batch loss at w(t) ([`GradientNeeds::loss`]).
    pub loss: Option<f64>,
}

/// Measurements of step t made after its backward pass and before its update, which the
/// step waits for: the rules that set η(t) from g(t) ask for them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GradientNeeds {
    /// d(t)·d(t). (The optimizer's d(t) is computed before the update for these rules.)
    pub norm: bool,
    /// d(t−1)·d(t−1); needs `grad_dot`.
    pub previous_norm: bool,
    /// ‖w(t) − w(0)‖² and ‖w(0)‖²: the run keeps a copy of w(0) (checkpointed).
    pub distance: bool,
    /// The batch loss at w(t).
    pub loss: bool,
}

impl GradientNeeds {
    /// Whether any measurement is asked for: the step then waits for them before its update.
    pub fn any(&self) -> bool {
        self.norm || self.previous_norm || self.distance || self.loss
    }
}

/// How a step moves the weights.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Update {
    /// w −= η(t)·d(t), d(t) the optimizer's direction: every rule that only sets η.
    #[default]
    Direction,
    /// D-Adaptation's dual averaging (Defazio & Mishchenko 2023) over d(t) = g(t) + λw:
    /// s += c₀·d, w = μ·w + (1 − μ)·(w(0) − s). Coefficients [dλ/‖g₀‖]; sums [d·s before
    /// the update, s·s after].
    DAdapt {
        /// μ in w = μ·w + (1 − μ)·(w(0) − s); 0 (the default) is plain dual averaging.
        momentum: f64,
    },
    /// Prodigy's Adam (Mishchenko & Defazio 2024): m = β₁m + (1−β₁)·D·g, v = β₂v +
    /// (1−β₂)·D²·g², s = β₃s + c·g, w −= ηD·m/(√v + D·ε). Coefficients [D, ηD, c];
    /// sums [g·(w(0) − w) before the update, Σ|s| after].
    Prodigy {
        /// β₁, the decay of the first moment m.
        beta1: f64,
        /// β₂, the decay of the second moment v.
        beta2: f64,
        /// β₃, the decay of the weighted gradient sum s.
        beta3: f64,
        /// ε, scaled by D in the update's denominator √v + D·ε.
        eps: f64,
    },
    /// Schedule-free SGD (Defazio et al. 2024): the weights hold y; z and the average x
    /// (implicit: x = y + (1 − 1/β)(z − y)) are kept; y = lerp(y, z, c) + γ(β(1−c) − 1)·d,
    /// z −= γ·d. Coefficients [c, γ]; evaluation runs at x.
    ScheduleFree {
        /// β: the gradient is taken at y = (1 − β)·z + β·x.
        beta: f64,
    },
}

impl Update {
    /// How many sums the update reads back with the step.
    pub fn sums(&self) -> usize {
        match self {
            Update::Direction | Update::ScheduleFree { .. } => 0,
            Update::DAdapt { .. } | Update::Prodigy { .. } => 2,
        }
    }

    /// Whether the run is evaluated at other weights than the update trains
    /// (schedule-free's average x).
    pub fn evaluates_elsewhere(&self) -> bool {
        // Every variant named, here and below: a new one is a compiler error until decided.
        match self {
            Update::ScheduleFree { .. } => true,
            Update::Direction | Update::DAdapt { .. } | Update::Prodigy { .. } => false,
        }
    }

    /// Whether the update steps along the optimizer's direction d, which is then computed
    /// before it (Prodigy's Adam reads the gradient itself).
    pub fn uses_direction(&self) -> bool {
        match self {
            Update::Prodigy { .. } => false,
            Update::Direction | Update::DAdapt { .. } | Update::ScheduleFree { .. } => true,
        }
    }

    /// Whether the update needs the run's copy of w(0).
    pub fn needs_origin(&self) -> bool {
        match self {
            Update::DAdapt { .. } | Update::Prodigy { .. } => true,
            Update::Direction | Update::ScheduleFree { .. } => false,
        }
    }
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

/// The measurements a schedule needs from each step, and how the step updates.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Needs {
    /// The five line probes along d(t), at [`Schedule::probe_steps`].
    pub probe: bool,
    /// g(t)·d(t−1), the gradient against the previous step's direction (g(t)·g(t−1) for
    /// plain SGD, where d = g), before the update.
    pub grad_dot: bool,
    /// d(t)·g(t) and d(t−1)·g(t), read back with the step's loss (no wait).
    pub dots: bool,
    /// Every this many steps (0: never), the step's batch loss at w(t−1).
    pub back_probe_every: usize,
    /// Measurements of g(t) and w(t) before the update (waited for).
    pub gradient: GradientNeeds,
    /// The rule's own update, in place of w −= η·d.
    pub update: Update,
    /// Every step keeps a copy of the weights and optimizer state from before its update,
    /// so that the rule can have the weights put back ([`Schedule::blown_up`]). Such a rule
    /// measures nothing before the update ([`Needs::gradient`]): that would save the next
    /// backup over the one to restore.
    pub undo: bool,
}

impl Needs {
    /// Whether the run keeps a copy of w(0).
    pub fn origin(&self) -> bool {
        self.gradient.distance || self.update.needs_origin()
    }

    /// Refuses the combinations the trainer cannot serve, which would otherwise measure
    /// something else than asked, or nothing, without a word. A rule's own mistake, not
    /// the user's: every registered rule passes (a unit test builds each).
    pub fn check(&self) -> Result<(), String> {
        if self.probe && self.back_probe_every > 0 {
            // One probe program serves both, pointed along d(t−1) for the back probe.
            return Err(
                "a rule cannot ask for both the five line probes and the back probe: \
                        they share one probe program, which the back probe points along \
                        d(t−1)"
                    .into(),
            );
        }
        if self.back_probe_every > 0 && !self.dots {
            return Err("the back probe needs `dots`: only they tell whether d(t−1) exists".into());
        }
        if self.back_probe_every > 0 && self.update != Update::Direction {
            // w(t−1) = w(t) + η(t−1)·d(t−1) holds for w −= η·d only.
            return Err(
                "the back probe needs the update w −= η·d, which it steps back along".into(),
            );
        }
        let reads_d = self.probe
            || self.dots
            || self.grad_dot
            || self.back_probe_every > 0
            || self.gradient.norm
            || self.gradient.previous_norm;
        if reads_d && !self.update.uses_direction() {
            return Err(
                "a rule whose own update does not use the optimizer's direction d \
                        (Prodigy's Adam) cannot measure d: it is never computed"
                    .into(),
            );
        }
        if self.gradient.previous_norm && !self.grad_dot {
            return Err(
                "`GradientNeeds::previous_norm` needs `grad_dot`, which keeps d(t−1) \
                        for it"
                    .into(),
            );
        }
        if self.undo && self.gradient.any() {
            // Measuring before the update saves the next backup over the one to restore.
            return Err(
                "a rule that has updates undone cannot measure the gradient before \
                        them"
                    .into(),
            );
        }
        Ok(())
    }
}

/// A learning-rate rule as the trainer drives it: the measurements each step makes for it,
/// η for the step, and what it learns from the measurements. Pure CPU code; [`Rule`] adds
/// its name, options and construction.
pub trait Schedule {
    /// η(t): the rate the current step updates the weights with.
    fn lr(&self) -> f64;
    /// Overrides η (the opt-in clamps and the non-finite safeguard).
    fn set_lr(&mut self, lr: f64);
    /// The measurements each step makes for the rule and how the step moves the weights. Read
    /// once, when the run is set up (its GPU programs are recorded from it), so it must not
    /// change during a run. Default: none, and w −= η·d.
    fn needs(&self) -> Needs {
        Needs::default()
    }
    /// The five step sizes the probes evaluate along d(t): η(t) + kε, k = −2..2, for
    /// newton; η(t)·(1 + j/2), j = −2..2, for gen (η(t)·j/2 with --gen-fit three-point).
    fn probe_steps(&self) -> [f64; 5] {
        [self.lr(); 5]
    }
    /// Step t's measurements of g(t) before its update ([`Needs::grad_dot`],
    /// [`Needs::gradient`]); the rules that set η(t) from g(t) do it here.
    fn observe_gradient(&mut self, _readings: &GradientReadings) {}
    /// With [`Needs::undo`], step t's loss at w(t) as it is read (one step late), before the
    /// rule observes the step: whether step t−1's update blew the loss up. The trainer then
    /// puts w(t−1) back and the step is not observed; the rule has set the η to retry with.
    fn blown_up(&mut self, _loss: f64) -> bool {
        false
    }
    /// Whether the last observed step decided that training made no progress at all from
    /// its initial weights, so that the trainer puts the run's initial state back (w(0) from
    /// the seed, zero optimizer state) and goes on from there at the rule's new η. Asked once
    /// after each observation; answering true clears the request.
    fn take_restart(&mut self) -> bool {
        false
    }
    /// Whether step t (1-based) makes its [`Needs::gradient`] measurements (and waits for
    /// them); a rule that needs them once asks only then.
    fn measure_gradient(&self, _step: usize) -> bool {
        true
    }
    /// Whether step t evaluates the five probes, for a rule that probes ([`Needs::probe`])
    /// only every so often.
    fn probe_at(&self, _step: usize) -> bool {
        true
    }
    /// The coefficients of step t's own update ([`Needs::update`]), in its order.
    fn coefficients(&self, _step: usize) -> Vec<f32> {
        Vec::new()
    }
    /// Learns from step t's measurements; afterwards [`Schedule::lr`] is η(t+1). Returns
    /// what the rule computed, for `steps.csv`, when it probed.
    fn observe(&mut self, obs: &Observation) -> Option<ProbeRecord>;
    /// Called when `epoch` (0-based) has ended.
    fn end_epoch(&mut self, _epoch: usize) {}
    /// A step was discarded: the next step has no previous direction to compare with.
    fn forget_direction(&mut self) {}
    /// The header of `rule.csv`, for rules that log what they computed there. Its first
    /// column is `step` (a resume cuts the file at the checkpoint's step by it), and a
    /// column called `decision` is what `compare` counts, word by word, for each rule.
    fn record_header(&self) -> Option<&'static str> {
        None
    }
    /// `rule.csv`'s line for the step just observed: the step first, one field per column
    /// of [`Schedule::record_header`] (the unit tests check both for every rule).
    fn record(&self, _step: usize) -> Option<String> {
        None
    }
    /// Steps whose update the rule's safeguard changed: newton's δ added to a zero
    /// denominator, gen's rejected fits.
    fn safeguarded(&self) -> usize {
        0
    }
    /// State to store in checkpoints, and to restore from.
    fn state(&self) -> serde_json::Value;
    /// Restores what [`Schedule::state`] returned; an error names what is missing or invalid
    /// (state from another rule, say).
    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String>;
}

/// A finite, non-negative option value, or an error naming its flag.
fn check_non_negative(flag: &str, v: f64) -> Result<(), String> {
    if !v.is_finite() || v < 0.0 {
        return Err(format!(
            "{flag} must be a finite non-negative number, got {v}"
        ));
    }
    Ok(())
}

/// A distance estimate d0 at least f32's smallest normal value, or an error naming its
/// flag: d reaches the GPU as an f32 (or in one), where a subnormal may flush to zero.
fn check_normal_f32(flag: &str, what: &str, v: f64) -> Result<(), String> {
    if v < f32::MIN_POSITIVE as f64 {
        return Err(format!(
            "{flag} {v:e} is below {:.3e}, the smallest normal f32: {what} reaches the GPU as \
             an f32",
            f32::MIN_POSITIVE
        ));
    }
    Ok(())
}

/// A number of a rule's state as JSON. JSON has no infinity or NaN (serde_json writes
/// them as null, which would not read back): a rule that met an infinite gradient keeps
/// its non-finite numbers as the strings Rust writes for them ("inf", "-inf", "NaN").
fn state_num(x: f64) -> serde_json::Value {
    match x.is_finite() {
        true => x.into(),
        false => x.to_string().into(),
    }
}

/// An optional number of a rule's state: null when None, else as [`state_num`].
fn state_opt(x: Option<f64>) -> serde_json::Value {
    x.map_or(serde_json::Value::Null, state_num)
}

/// A number written by [`state_num`].
fn read_num(v: &serde_json::Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str()?.parse().ok())
}

fn state_f64(state: &serde_json::Value, key: &str) -> Result<f64, String> {
    read_num(&state[key]).ok_or_else(|| format!("schedule state lacks the number '{key}'"))
}

/// An optional number written by [`state_opt`] (absent or null: None).
fn state_opt_f64(state: &serde_json::Value, key: &str) -> Result<Option<f64>, String> {
    match &state[key] {
        serde_json::Value::Null => Ok(None),
        v => read_num(v)
            .map(Some)
            .ok_or_else(|| format!("schedule state's '{key}' is not a number")),
    }
}

/// A schedule as the command line knows it.
pub trait Rule: Schedule + Sized + 'static {
    /// The name on the command line and in run files.
    const NAME: &'static str;
    /// One line on what the rule does, for `--help`.
    const ABOUT: &'static str;
    /// The rule's own options (`#[derive(clap::Args)]`), flattened into `etaprobe train`.
    type Options: clap::Args
        + clap::FromArgMatches
        + serde::Serialize
        + serde::de::DeserializeOwned
        + Default
        + Clone
        + std::fmt::Debug;
    /// Rejects impossible option values with a message naming the flag.
    fn check(_options: &Self::Options) -> Result<(), String> {
        Ok(())
    }
    /// The rule for the run `run` describes. Its [`Schedule::needs`] must not depend on
    /// `run`: the option checks read them from a rule built with one step per epoch.
    fn build(run: &RunShape, options: &Self::Options) -> Self;
    /// The rule sets η from its own measurements before the first update, so that η0
    /// (`--lr`) is never used (DoG, D-Adaptation, Prodigy).
    const IGNORES_LR0: bool = false;
}

/// What a rule may know of the run it steers when it is built.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunShape {
    /// η0.
    pub lr0: f64,
    /// Steps in one epoch.
    pub steps_per_epoch: usize,
    /// Steps in the run as configured: epochs × steps per epoch. `--max-steps` stops a run
    /// early without shortening it, so that a run stopped and resumed follows one schedule.
    pub planned_steps: usize,
}

/// The options of a rule that has none.
#[derive(clap::Args, Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct NoOptions {}

/// Declares the registry: [`RuleOptions`] (every rule's options as one flag group),
/// [`RULES`], and the factory [`RuleOptions::build`].
macro_rules! registry {
    ($($field:ident: $rule:ty),* $(,)?) => {
        /// Every rule's options; `etaprobe train` flattens them into its flags (and run
        /// files store them flat, by flag name).
        #[derive(clap::Args, Clone, Debug, serde::Serialize, serde::Deserialize)]
        #[serde(default)]
        pub struct RuleOptions {
            $(
                #[doc = concat!("The options of [`", stringify!($rule), "`].")]
                #[command(flatten)]
                #[serde(flatten)]
                pub $field: <$rule as Rule>::Options,
            )*
        }

        /// (name, what it does) of every rule, in `--help` order.
        pub const RULES: &[(&str, &str)] = &[$((<$rule as Rule>::NAME, <$rule as Rule>::ABOUT)),*];

        /// Whether the rule called `name` never uses η0 ([`Rule::IGNORES_LR0`]).
        pub fn ignores_lr0(name: &str) -> bool {
            $(
                if name == <$rule as Rule>::NAME {
                    return <$rule as Rule>::IGNORES_LR0;
                }
            )*
            false
        }

        impl RuleOptions {
            /// The rule called `name` for the run `run`; None for an unknown name.
            pub fn build(&self, name: &str, run: &RunShape) -> Option<Box<dyn Schedule>> {
                $(
                    if name == <$rule as Rule>::NAME {
                        return Some(Box::new(<$rule as Rule>::build(run, &self.$field)));
                    }
                )*
                None
            }

            /// Checks every rule's options (a bad value is an error even for a rule not
            /// chosen, so that a typo never passes silently).
            pub fn check(&self) -> Result<(), String> {
                $(<$rule as Rule>::check(&self.$field)?;)*
                Ok(())
            }

            /// The options set away from their defaults that belong to rules other than
            /// `chosen`, by flag (`--alpha`), grouped by their rule's name: a run of
            /// `chosen` never reads them. By value, not by source, so that a run's
            /// `config.toml` (which holds every option) sets off nothing.
            pub fn set_for_other_rules(&self, chosen: &str) -> Vec<(&'static str, Vec<String>)> {
                let mut set = Vec::new();
                $(
                    if <$rule as Rule>::NAME != chosen {
                        let default = <<$rule as Rule>::Options as Default>::default();
                        let flags = changed_flags(&self.$field, &default);
                        if !flags.is_empty() {
                            set.push((<$rule as Rule>::NAME, flags));
                        }
                    }
                )*
                set
            }
        }
    };
}

registry! {
    basic: Basic,
    first_order: FirstOrder,
    newton: Newton,
    secant: Secant,
    auto: Auto,
    hypergradient: Hypergradient,
    dog: Dog,
    dadapt: DAdapt,
    prodigy: Prodigy,
    schedule_free: ScheduleFree,
    sps: Sps,
    gen: Gen,
}

/// The flags (`--dog-eps`) whose values differ between two option sets of one kind.
pub(crate) fn changed_flags<T: serde::Serialize>(now: &T, default: &T) -> Vec<String> {
    let (Ok(serde_json::Value::Object(now)), Ok(serde_json::Value::Object(default))) =
        (serde_json::to_value(now), serde_json::to_value(default))
    else {
        return Vec::new();
    };
    now.iter()
        .filter(|(key, value)| default.get(*key) != Some(*value))
        .map(|(key, _)| format!("--{}", key.replace('_', "-")))
        .collect()
}

/// Reads a limit that JSON wrote as null because it was infinite (unbounded).
fn unbounded<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    use serde::Deserialize;
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::INFINITY))
}

/// `--schedule`'s parser: the registry's names, each with its line of help.
pub fn rule_parser() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        RULES
            .iter()
            .map(|(name, about)| clap::builder::PossibleValue::new(*name).help(*about)),
    )
}

crate::default_from_command_line!(RuleOptions);

#[cfg(test)]
mod tests {
    use super::*;

    /// The run every rule of the registry is built for in these tests: 480 steps, the
    /// last 20% of them `secant`'s and `auto`'s cooldown.
    const RUN: RunShape = RunShape {
        lr0: 0.05,
        steps_per_epoch: 4,
        planned_steps: 480,
    };

    /// Every registered rule with its default options, then the variants whose state
    /// differs: `basic`'s decays, D-Adaptation's cosine, and `auto`'s ablations. Each as
    /// (a label, its rule's name, its options).
    fn every_rule() -> Vec<(String, &'static str, RuleOptions)> {
        let mut all: Vec<(String, &'static str, RuleOptions)> = (RULES.iter())
            .map(|(name, _)| (name.to_string(), *name, RuleOptions::default()))
            .collect();
        for decay in [Decay::Step, Decay::Cosine, Decay::Linear] {
            let mut options = RuleOptions::default();
            options.basic.lr_decay = decay;
            options.basic.lr_milestones = vec![3, 7];
            all.push((format!("basic {decay:?}"), Basic::NAME, options));
        }
        let mut options = RuleOptions::default();
        options.dadapt.dadapt_decay = DAdaptDecay::Cosine;
        all.push(("dadapt cosine".into(), DAdapt::NAME, options));
        for variant in <Variant as clap::ValueEnum>::value_variants() {
            let mut options = RuleOptions::default();
            options.auto.auto_variant = *variant;
            all.push((format!("auto {variant:?}"), Auto::NAME, options));
        }
        all
    }

    fn build(name: &str, options: &RuleOptions) -> Box<dyn Schedule> {
        options.build(name, &RUN).expect("registered")
    }

    /// A made-up but plausible step t, drawn from t alone (two rules fed the same steps
    /// see the same numbers), in phases that set off each of `secant`'s and `auto`'s
    /// decisions: ρ clearly positive (up), clearly negative (overshoot), a loss ten times
    /// the largest (blow-up), ρ slightly negative with the loss back at the first steps'
    /// (no progress: stalled, and a restart), back probes below the loss (line rise), then
    /// ρ clearly positive again (up).
    struct Made {
        t: usize,
        /// A fraction in [−1, 1) hashed from t.
        noise: f64,
    }

    impl Made {
        fn new(t: usize) -> Made {
            let mut x = (t as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x2545_f491_4f6c_dd1d;
            x ^= x >> 31;
            x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x ^= x >> 29;
            Made {
                t,
                noise: (x >> 11) as f64 / (1u64 << 52) as f64 - 1.0,
            }
        }

        fn loss(&self) -> f64 {
            let falling = 1.0 + 2.0 / (1.0 + 0.1 * self.t as f64) + 0.05 * self.noise;
            match self.t {
                140 => 40.0,
                141..=260 => 2.2 + 0.05 * self.noise,
                _ => falling,
            }
        }

        /// ρ(t) = d(t−1)·g(t) / d(t−1)·g(t−1) as the phase wants it.
        fn rho(&self) -> f64 {
            let centre = match self.t {
                ..=60 => 0.5,
                61..=130 => -0.8,
                131..=260 => -0.2,
                261..=300 => 0.0,
                _ => 0.5,
            };
            centre + 0.1 * self.noise
        }

        /// d(t)·g(t): positive, as for SGD (d = g).
        fn own(&self) -> f64 {
            4.0 + self.noise
        }

        fn readings(&self, needs: &Needs, measure: bool, previous: bool) -> GradientReadings {
            let n = needs.gradient;
            let m = |on: bool| measure && on;
            GradientReadings {
                dot: (needs.grad_dot && previous).then(|| self.rho() * self.own()),
                norm: m(n.norm).then(|| self.own()),
                previous_norm: (m(n.previous_norm) && previous).then(|| self.own() + 0.1),
                distance: m(n.distance).then_some(0.01 * self.t as f64),
                origin_norm: m(n.distance).then_some(9.0),
                loss: m(n.loss).then(|| self.loss()),
            }
        }
    }

    /// What the trainer keeps between steps besides the rule: whether d(t−1) exists, the
    /// η it was taken with, and whether the next step is discarded (after an undo or a
    /// restart). A checkpoint keeps it too.
    #[derive(Clone, Default)]
    struct Driver {
        previous: Option<f64>,
        discard_next: bool,
    }

    impl Driver {
        /// Steps `steps` as `train::run::Trainer` takes them (`step`, `flush`, `undo`,
        /// the restart), with `end_epoch` at each epoch's end; what the rule said at each,
        /// to compare two runs by. Checks each `rule.csv` line against its header.
        fn drive(&mut self, rule: &mut dyn Schedule, steps: std::ops::Range<usize>) -> Vec<String> {
            let needs = rule.needs();
            let mut said = Vec::new();
            for t in steps {
                let epoch = (t - 1) / RUN.steps_per_epoch;
                let end_epoch = |rule: &mut dyn Schedule| {
                    if t.is_multiple_of(RUN.steps_per_epoch) {
                        rule.end_epoch(epoch);
                    }
                };
                if std::mem::take(&mut self.discard_next) {
                    // Its gradient was taken at weights no longer there.
                    said.push(format!("{t}: discarded"));
                    end_epoch(rule);
                    continue;
                }
                let made = Made::new(t);
                let previous = self.previous.is_some();
                let measure = rule.measure_gradient(t);
                rule.observe_gradient(&made.readings(&needs, measure, previous));
                let lr = rule.lr();
                let probing = needs.probe && rule.probe_at(t);
                let steps = rule.probe_steps();
                let coefficients = rule.coefficients(t);
                let loss = made.loss();
                // The batch's loss along d(t) against the step size a, least at a = 0.04.
                let along = |a: f64| loss - 0.4 * a + 5.0 * a * a;
                let every = needs.back_probe_every;
                let back = (every > 0 && t.is_multiple_of(every))
                    .then_some(self.previous)
                    .flatten()
                    .map(|at| BackProbe {
                        start: match t {
                            261..=300 => loss - 0.05,
                            _ => loss + 0.01 * (1.0 + made.noise),
                        },
                        at,
                    });
                let obs = Observation {
                    step: t,
                    epoch,
                    loss,
                    lr,
                    probes: probing.then(|| steps.map(along)),
                    probe_steps: probing.then_some(steps),
                    dots: needs.dots.then(|| Dots {
                        own: made.own(),
                        cross: previous.then(|| made.rho() * made.own()),
                        weights: 0.3 * made.noise,
                        norm: made.own(),
                    }),
                    back_probe: back,
                    sums: (0..needs.update.sums())
                        .map(|i| (1.0 + i as f64) * (1.0 + 0.1 * t as f64) + made.noise)
                        .collect(),
                };
                if needs.undo && rule.blown_up(loss) {
                    // w(t−1) is put back, and the step after it discarded.
                    rule.forget_direction();
                    self.previous = None;
                    self.discard_next = true;
                    said.push(format!("{t}: blown up; η {:e}", rule.lr()));
                    end_epoch(rule);
                    continue;
                }
                let probe = rule.observe(&obs);
                let record = rule.record(t);
                if let (Some(header), Some(line)) = (rule.record_header(), &record) {
                    assert!(header.starts_with("step,"), "{header}");
                    assert!(line.starts_with(&format!("{t},")), "{header}: {line}");
                    let fields = |s: &str| s.split(',').count();
                    assert_eq!(fields(header), fields(line), "{header}: {line}");
                }
                self.previous = Some(lr);
                let restart = rule.take_restart();
                if restart {
                    rule.forget_direction();
                    self.previous = None;
                    self.discard_next = true;
                }
                said.push(format!(
                    "{t}: lr {lr:e} coefficients {coefficients:?} probe {probe:?} restart \
                     {restart} record {record:?} next lr {:e}",
                    rule.lr()
                ));
                end_epoch(rule);
            }
            said
        }
    }

    #[test]
    fn every_registered_rule_asks_for_what_the_trainer_can_measure() {
        for (label, name, options) in every_rule() {
            assert_eq!(build(name, &options).needs().check(), Ok(()), "{label}");
        }
    }

    #[test]
    fn needs_the_trainer_cannot_serve_are_refused() {
        let bad = [
            (
                Needs {
                    probe: true,
                    dots: true,
                    back_probe_every: 4,
                    ..Needs::default()
                },
                "both the five line probes and the back probe",
            ),
            (
                Needs {
                    back_probe_every: 4,
                    grad_dot: true,
                    ..Needs::default()
                },
                "the back probe needs `dots`",
            ),
            (
                Needs {
                    back_probe_every: 4,
                    dots: true,
                    update: Update::DAdapt { momentum: 0.0 },
                    ..Needs::default()
                },
                "the back probe needs the update w −= η·d",
            ),
            (
                Needs {
                    dots: true,
                    update: Update::Prodigy {
                        beta1: 0.9,
                        beta2: 0.999,
                        beta3: 0.99,
                        eps: 1e-8,
                    },
                    ..Needs::default()
                },
                "cannot measure d",
            ),
            (
                Needs {
                    grad_dot: false,
                    gradient: GradientNeeds {
                        previous_norm: true,
                        ..GradientNeeds::default()
                    },
                    ..Needs::default()
                },
                "needs `grad_dot`",
            ),
            (
                Needs {
                    undo: true,
                    gradient: GradientNeeds {
                        loss: true,
                        ..GradientNeeds::default()
                    },
                    ..Needs::default()
                },
                "updates undone",
            ),
        ];
        for (needs, why) in bad {
            let said = needs.check().unwrap_err();
            assert!(said.contains(why), "{needs:?}: {said}");
        }
    }

    /// A checkpoint holds a rule's `state()` as JSON text: a rule restored from it must go
    /// on exactly as the rule that wrote it, whatever it keeps. A new rule that leaves
    /// something out of its state fails here.
    #[test]
    fn every_registered_rule_goes_on_from_its_saved_state_exactly() {
        const SPLIT: usize = 97;
        for (label, name, options) in every_rule() {
            let mut first = build(name, &options);
            let mut driver = Driver::default();
            let before = driver.drive(first.as_mut(), 1..SPLIT + 1);
            let text = serde_json::to_string(&first.state()).unwrap();
            let mut resumed = build(name, &options);
            resumed
                .restore(&serde_json::from_str(&text).unwrap())
                .unwrap_or_else(|e| panic!("{label}: {e}"));
            let mut resumed_driver = driver.clone();
            let end = RUN.planned_steps + 1;
            let after = driver.drive(first.as_mut(), SPLIT + 1..end);
            let resumed_after = resumed_driver.drive(resumed.as_mut(), SPLIT + 1..end);
            for (a, b) in after.iter().zip(&resumed_after) {
                assert_eq!(
                    a, b,
                    "{label}: the first step the resumed rule took otherwise"
                );
            }
            assert_eq!(first.state(), resumed.state(), "{label}");
            // The phases set off every decision of secant's and auto's, before and after
            // the split: otherwise the comparison above would not test their state.
            let decided = |word: &str| {
                let word = format!(",{word}");
                let at = |lines: &[String]| lines.iter().any(|l| l.contains(&word));
                at(&before) && at(&after) || label != "auto" && label != "secant"
            };
            for decision in ["up", "overshoot"] {
                assert!(decided(decision), "{label} never decided {decision}");
            }
            let later = |word: &str| after.iter().any(|l| l.contains(word));
            if label == "auto" || label == "secant" {
                assert!(later("blown up"), "{label}: no blow-up");
                assert!(later(",stalled"), "{label}: no stall");
            }
            if label == "auto" {
                assert!(later(",line-rise"), "auto: no line rise");
            }
            // A rule that ignored the steps would pass without testing its state.
            // (`basic` without a decay is a constant η by design.)
            let fresh = build(name, &options);
            let moved = first.lr() != fresh.lr() || first.state() != fresh.state();
            assert!(
                moved || label == "basic",
                "{label} learnt nothing from {} made-up steps",
                RUN.planned_steps
            );
        }
    }

    #[test]
    fn a_rules_numbers_read_back_as_written_non_finite_ones_included() {
        for x in [0.0, -1.5, 1e-300, f64::INFINITY, f64::NEG_INFINITY] {
            let state = serde_json::json!({ "x": state_num(x), "o": state_opt(Some(x)) });
            let text = serde_json::to_string(&state).unwrap();
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(state_f64(&back, "x"), Ok(x));
            assert_eq!(state_opt_f64(&back, "o"), Ok(Some(x)));
        }
        let nan = serde_json::json!({ "x": state_num(f64::NAN) });
        assert!(state_f64(&nan, "x").unwrap().is_nan());
        let none = serde_json::json!({ "o": state_opt(None) });
        assert_eq!(state_opt_f64(&none, "o"), Ok(None));
        assert_eq!(state_opt_f64(&none, "absent"), Ok(None));
        let bad = serde_json::json!({ "x": "fast", "o": "fast" });
        assert!(state_f64(&bad, "x")
            .unwrap_err()
            .contains("lacks the number 'x'"));
        assert!(state_opt_f64(&bad, "o").is_err());
    }
}
