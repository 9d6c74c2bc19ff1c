//! Learning-rate schedules. A schedule says which measurements a step must make, gives η
//! for the step, and updates η from what the step measured. Schedules are pure CPU code:
//! the trainer (`train::measure`) turns their [`Needs`] into GPU work and its read-backs
//! into an [`Observation`].
//!
//! A new rule is one new file, a type implementing [`Schedule`] and [`Rule`] (its name,
//! its command-line options, its checkpointed state, its `rule.csv` columns), plus one
//! line in the registry at the end of this file.

mod auto;
mod basic;
mod first_order;
mod newton;
mod secant;
mod stats;

pub use auto::{Auto, AutoOptions, LineFit, AUTO_DOWN, AUTO_UP, LINE_MIN_PROBES};
pub use basic::{Basic, BasicOptions, Decay};
pub use first_order::{FirstOrder, FirstOrderOptions};
pub use newton::{Newton, NewtonOptions};
pub use secant::{Decision, Secant};

/// The five probe losses of a Newton step and the pieces of its update
/// `η(t+1) = η(t) − 2ε·numerator / denominator`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeRecord {
    /// f(η−2ε), f(η−ε), f(η), f(η+ε), f(η+2ε).
    pub f: [f64; 5],
    pub numerator: f64,
    /// The denominator actually used (δ included when `safeguarded`).
    pub denominator: f64,
    /// δ was added because the raw denominator was numerically zero.
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

/// A finite, non-negative option value, or an error naming its flag.
fn check_non_negative(flag: &str, v: f64) -> Result<(), String> {
    if !v.is_finite() || v < 0.0 {
        return Err(format!(
            "{flag} must be a finite non-negative number, got {v}"
        ));
    }
    Ok(())
}

fn state_f64(state: &serde_json::Value, key: &str) -> Result<f64, String> {
    state[key]
        .as_f64()
        .ok_or_else(|| format!("schedule state lacks the number '{key}'"))
}

/// A schedule as the command line knows it.
pub trait Rule: Schedule + Sized + 'static {
    /// The name on the command line and in run files.
    const NAME: &'static str;
    /// One line on what the rule does, for `--help`.
    const ABOUT: &'static str;
    /// The rule's own options (`#[derive(clap::Args)]`), flattened into `etaprobe train`.
    type Options: clap::Args + clap::FromArgMatches + serde::Serialize + Clone + std::fmt::Debug;
    /// Rejects impossible option values with a message naming the flag.
    fn check(_options: &Self::Options) -> Result<(), String> {
        Ok(())
    }
    /// The rule for the run `run` describes.
    fn build(run: &RunShape, options: &Self::Options) -> Self;
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
#[derive(clap::Args, Clone, Debug, Default, serde::Serialize)]
pub struct NoOptions {}

/// Declares the registry: [`RuleOptions`] (every rule's options as one flag group),
/// [`RULES`], and the factory [`RuleOptions::build`].
macro_rules! registry {
    ($($field:ident: $rule:ty),* $(,)?) => {
        /// Every rule's options; `etaprobe train` flattens them into its flags (and run
        /// files store them flat, by flag name).
        #[derive(clap::Args, Clone, Debug, serde::Serialize)]
        pub struct RuleOptions {
            $(
                #[command(flatten)]
                #[serde(flatten)]
                pub $field: <$rule as Rule>::Options,
            )*
        }

        /// (name, what it does) of every rule, in `--help` order.
        pub const RULES: &[(&str, &str)] = &[$((<$rule as Rule>::NAME, <$rule as Rule>::ABOUT)),*];

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
        }
    };
}

registry! {
    basic: Basic,
    first_order: FirstOrder,
    newton: Newton,
    secant: Secant,
    auto: Auto,
}

impl RuleOptions {
    /// Every rule's default options, as the command line has them.
    pub fn defaults() -> RuleOptions {
        use clap::{Args, FromArgMatches};
        let command = RuleOptions::augment_args(clap::Command::new("defaults"));
        let matches = command.get_matches_from(["defaults"]);
        RuleOptions::from_arg_matches(&matches).expect("every rule option has a default")
    }
}

/// `--schedule`'s parser: the registry's names, each with its line of help.
pub fn rule_parser() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        RULES
            .iter()
            .map(|(name, about)| clap::builder::PossibleValue::new(*name).help(*about)),
    )
}
