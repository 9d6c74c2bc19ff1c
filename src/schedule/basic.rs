//! The paper's "basic method": a fixed η, with the decay schedules a practitioner would
//! otherwise pick, in PyTorch's semantics, stepped once per training step:
//! - `step` (`MultiStepLR`): η is multiplied by `--lr-gamma` after each epoch of
//!   `--lr-milestones` (`--lr-milestones` alone means `--lr-decay step`);
//! - `cosine` (`CosineAnnealingLR` with `T_max` = the steps after warmup, `eta_min` =
//!   `--lr-floor`): η(i) = floor + (η0 − floor)·(1 + cos(π·i/T))/2 at the i-th step after
//!   warmup;
//! - `linear` (`LinearLR` from factor 1 to floor/η0 over the same T steps):
//!   η(i) = η0 + (floor − η0)·i/T;
//! - warmup (`LinearLR(start_factor = 1/W, total_iters = W − 1)`): the i-th of the first W
//!   steps uses η0·(i + 1)/W, then the decay starts from η0.
//!
//! T counts the steps of the run as configured (`--epochs`, not `--max-steps`), and is kept
//! in checkpoints: a run stopped early and resumed follows one schedule, and a resume with
//! another `--epochs` is refused (its extra steps would run at the floor). A decay
//! other than `step` gives η in closed form from the step: the opt-in clamps and the halving
//! of `--on-nonfinite skip` change one step's η, not the schedule.

use super::ProbeRecord;
use super::{state_f64, state_num, Observation, Rule, RunShape, Schedule};

/// The shape of the decay after warmup.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Decay {
    /// A constant η (or `step` when --lr-milestones are given).
    None,
    /// ×--lr-gamma after each epoch of --lr-milestones.
    Step,
    /// Half a cosine from η0 down to --lr-floor at the end of the run.
    Cosine,
    /// A straight line from η0 down to --lr-floor at the end of the run.
    Linear,
}

/// The paper's basic method (`basic`): a fixed η, optionally with linear warmup and a step,
/// cosine or linear decay, in PyTorch's semantics, stepped once per training step.
pub struct Basic {
    lr: f64,
    /// η0, times the step decays so far.
    base: f64,
    /// Epoch boundaries (1-based: after epoch E) where η is multiplied by `gamma`.
    milestones: Vec<usize>,
    gamma: f64,
    decay: Decay,
    warmup: usize,
    floor: f64,
    /// Steps of the run as configured: the decay's horizon.
    planned: usize,
    /// Steps done: the next step's index.
    done: usize,
}

/// The half cosine from 1 down to 0 at the share `x` ∈ [0, 1] of its span (PyTorch's
/// `CosineAnnealingLR` factor).
pub(super) fn half_cosine(x: f64) -> f64 {
    (1.0 + (std::f64::consts::PI * x).cos()) / 2.0
}

impl Basic {
    /// A fixed η with step decay at `milestones` (the paper's basic method).
    pub fn new(lr: f64, milestones: Vec<usize>, gamma: f64) -> Basic {
        let decay = if milestones.is_empty() {
            Decay::None
        } else {
            Decay::Step
        };
        Basic {
            lr,
            base: lr,
            milestones,
            gamma,
            decay,
            warmup: 0,
            floor: 0.0,
            planned: 0,
            done: 0,
        }
    }

    /// η of the step with 0-based index `i`, for a schedule in closed form.
    pub fn rate(&self, i: usize) -> f64 {
        if i < self.warmup {
            return self.base * (i + 1) as f64 / self.warmup as f64;
        }
        let span = self.planned.saturating_sub(self.warmup).max(1) as f64;
        let x = ((i - self.warmup) as f64 / span).min(1.0);
        match self.decay {
            Decay::None | Decay::Step => self.base,
            Decay::Cosine => self.floor + (self.base - self.floor) * half_cosine(x),
            // Written from the floor, so that the end of the line is the floor exactly.
            Decay::Linear => self.floor + (self.base - self.floor) * (1.0 - x),
        }
    }

    /// Whether η is a function of the step (warmup, cosine, linear) rather than a value
    /// that only the epoch ends change.
    fn closed_form(&self) -> bool {
        self.warmup > 0 || matches!(self.decay, Decay::Cosine | Decay::Linear)
    }
}

impl Schedule for Basic {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn observe(&mut self, obs: &Observation) -> Option<ProbeRecord> {
        self.done = obs.step;
        if self.closed_form() {
            self.lr = self.rate(self.done);
        }
        None
    }

    fn end_epoch(&mut self, epoch: usize) {
        if self.decay == Decay::Step && self.milestones.contains(&(epoch + 1)) {
            self.lr *= self.gamma;
            self.base *= self.gamma;
            if self.closed_form() {
                self.lr = self.rate(self.done);
            }
        }
    }

    fn state(&self) -> serde_json::Value {
        if !self.closed_form() {
            // As before the decays existed: old checkpoints and new ones read alike.
            return serde_json::json!({ "lr": state_num(self.lr) });
        }
        serde_json::json!({
            "lr": state_num(self.lr),
            "base": state_num(self.base),
            "planned": self.planned,
            "done": self.done,
        })
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String> {
        self.lr = state_f64(state, "lr")?;
        if self.closed_form() {
            self.base = state_f64(state, "base")?;
            let planned = state_f64(state, "planned")? as usize;
            if planned != self.planned {
                // More epochs would run at the floor, fewer would cut the decay short.
                return Err(format!(
                    "its η decay was planned for {planned} steps, the run now has {} \
                     (another --epochs); resume with the run's --epochs, or start a new run",
                    self.planned
                ));
            }
            self.done = state_f64(state, "done")? as usize;
        } else {
            self.base = self.lr;
        }
        Ok(())
    }
}

/// The basic rule's options.
#[derive(clap::Args, Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct BasicOptions {
    /// basic: the decay of η over the run.
    #[arg(long, value_enum, default_value_t = Decay::None, value_name = "DECAY")]
    pub lr_decay: Decay,
    /// basic: epochs after which η is multiplied by --lr-gamma, e.g. 30,60 (step decay).
    #[arg(value_parser = crate::values::at_least_one, long, value_delimiter = ',', value_name = "E1,E2")]
    pub lr_milestones: Vec<usize>,
    /// basic: the factor of each step decay.
    #[arg(value_parser = crate::values::positive, long, default_value_t = 0.1, value_name = "G")]
    pub lr_gamma: f64,
    /// basic: the η that cosine and linear decay end at.
    #[arg(value_parser = crate::values::non_negative, long, default_value_t = 0.0, value_name = "F")]
    pub lr_floor: f64,
    /// basic: raise η linearly from η0/N to η0 over the first N steps.
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = crate::values::whole)]
    pub warmup_steps: usize,
    /// basic: the same in whole epochs (N = E × steps per epoch).
    #[arg(long, default_value_t = 0, value_name = "E", value_parser = crate::values::whole)]
    pub warmup_epochs: usize,
}

impl BasicOptions {
    /// The decay these options ask for: --lr-milestones alone mean step decay.
    fn decay(&self) -> Decay {
        match self.lr_decay {
            Decay::None if !self.lr_milestones.is_empty() => Decay::Step,
            d => d,
        }
    }
}

impl Rule for Basic {
    const NAME: &'static str = "basic";
    const ABOUT: &'static str = "Fixed η (with optional step, cosine or linear decay and warmup): \
         the paper's \"basic method\"";
    type Options = BasicOptions;

    fn check(o: &BasicOptions) -> Result<(), String> {
        if !o.lr_gamma.is_finite() || o.lr_gamma <= 0.0 {
            return Err(format!(
                "--lr-gamma must be a positive number, got {}",
                o.lr_gamma
            ));
        }
        super::check_non_negative("--lr-floor", o.lr_floor)?;
        let decays_to_floor = matches!(o.lr_decay, Decay::Cosine | Decay::Linear);
        if o.lr_milestones.windows(2).any(|w| w[0] >= w[1]) {
            return Err(format!(
                "--lr-milestones must increase, each epoch once: got {}",
                o.lr_milestones
                    .iter()
                    .map(|m| m.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        if o.lr_decay == Decay::Step && o.lr_milestones.is_empty() {
            return Err("--lr-decay step needs --lr-milestones, e.g. 30,60".into());
        }
        if decays_to_floor && !o.lr_milestones.is_empty() {
            let decay = if o.lr_decay == Decay::Cosine {
                "cosine"
            } else {
                "linear"
            };
            return Err(format!(
                "--lr-milestones are the step decay's; they do not combine with --lr-decay {decay}"
            ));
        }
        if o.lr_floor != 0.0 && !decays_to_floor {
            return Err(
                "--lr-floor is where cosine or linear decay ends: give --lr-decay cosine or linear"
                    .into(),
            );
        }
        if o.warmup_steps > 0 && o.warmup_epochs > 0 {
            return Err("give --warmup-steps or --warmup-epochs, not both".into());
        }
        Ok(())
    }

    fn build(run: &RunShape, o: &BasicOptions) -> Basic {
        let mut basic = Basic::new(run.lr0, o.lr_milestones.clone(), o.lr_gamma);
        basic.decay = o.decay();
        basic.floor = o.lr_floor;
        basic.warmup = o
            .warmup_steps
            .saturating_add(o.warmup_epochs.saturating_mul(run.steps_per_epoch));
        basic.planned = run.planned_steps;
        if basic.closed_form() {
            basic.lr = basic.rate(0);
        }
        basic
    }
}

crate::default_from_command_line!(BasicOptions);
