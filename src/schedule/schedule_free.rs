//! Schedule-free SGD: Defazio, Yang, Mehta, Mishchenko, Khaled & Cutkosky, "The Road Less
//! Scheduled" (NeurIPS 2024), as the authors' `SGDScheduleFree` with its defaults
//! (momentum β = 0.9, warmup 0, r = 0, weight_lr_power 2). The gradient is taken at
//! y = (1 − β)·z + β·x; z is the SGD sequence and x its weighted average:
//!   γ_k = γ·min(1, (k+1)/warmup),  w_k = (k+1)^r·max_{i≤k} γ_i²,  c = w_k / Σ_{i≤k} w_i,
//!   y = lerp(y, z, c) + γ_k·(β(1 − c) − 1)·g,  z −= γ_k·g.
//! The weights hold y and z lives on the GPU ([`Update::ScheduleFree`]); the model is
//! evaluated at x = y + (1 − 1/β)(z − y), with batch-norm statistics recomputed there
//! (--bn-recompute-batches, 50 as the authors' README). γ is --lr (a tuned baseline: the
//! method removes the schedule, not the rate). g is the SGD direction g + λw.

use super::{
    state_f64, state_num, Needs, Observation, ProbeRecord, Rule, RunShape, Schedule, Update,
};

/// Schedule-free SGD (`schedule-free`), as the authors' `SGDScheduleFree`: the update on the
/// GPU ([`Update::ScheduleFree`]) keeps the SGD sequence z, and the weights hold the point
/// y between z and its (implicit) weighted average x, where the gradient is taken; η is the
/// rate γ, after an optional warmup.
pub struct ScheduleFree {
    options: ScheduleFreeOptions,
    /// γ, and this step's γ_k and c.
    base: f64,
    lr: f64,
    c: f64,
    /// Steps taken, max γ_k so far, and Σ w_k.
    k: u64,
    lr_max: f64,
    weight_sum: f64,
}

impl ScheduleFree {
    /// Advances to step k+1: its γ_k and c.
    fn advance(&mut self) {
        let o = &self.options;
        let k = self.k as f64;
        let warm = o.sf_warmup_steps as f64;
        let sched = if k < warm { (k + 1.0) / warm } else { 1.0 };
        self.lr = self.base * sched;
        self.lr_max = self.lr_max.max(self.lr);
        let weight = (k + 1.0).powf(o.sf_r) * self.lr_max.powf(o.sf_weight_lr_power);
        self.weight_sum += weight;
        self.c = if self.weight_sum > 0.0 {
            weight / self.weight_sum
        } else {
            0.0
        };
        self.k += 1;
    }
}

impl Schedule for ScheduleFree {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn needs(&self) -> Needs {
        Needs {
            update: Update::ScheduleFree {
                beta: self.options.sf_beta,
            },
            ..Needs::default()
        }
    }

    /// Every step passes here before its update: the step's γ_k and c.
    fn observe_gradient(&mut self, _r: &super::GradientReadings) {
        self.advance();
    }

    fn coefficients(&self, _step: usize) -> Vec<f32> {
        vec![self.c as f32, self.lr as f32]
    }

    fn observe(&mut self, _obs: &Observation) -> Option<ProbeRecord> {
        None
    }

    fn record_header(&self) -> Option<&'static str> {
        Some("step,c,weight_sum")
    }

    fn record(&self, step: usize) -> Option<String> {
        Some(format!("{step},{},{}", self.c, self.weight_sum))
    }

    fn state(&self) -> serde_json::Value {
        serde_json::json!({
            "lr": state_num(self.lr), "c": state_num(self.c), "k": self.k,
            "lr_max": state_num(self.lr_max), "weight_sum": state_num(self.weight_sum),
        })
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String> {
        self.lr = state_f64(state, "lr")?;
        self.c = state_f64(state, "c")?;
        self.lr_max = state_f64(state, "lr_max")?;
        self.weight_sum = state_f64(state, "weight_sum")?;
        self.k = state["k"]
            .as_u64()
            .ok_or("schedule state lacks the count 'k'")?;
        Ok(())
    }
}

/// Schedule-free SGD's options.
#[derive(clap::Args, Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ScheduleFreeOptions {
    /// schedule-free: β, the interpolation between z and x (authors: 0.9; 0.95–0.98 for long runs).
    #[arg(value_parser = crate::values::open_fraction, long, default_value_t = 0.9, value_name = "F")]
    pub sf_beta: f64,
    /// schedule-free: linear warmup of γ over this many steps.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub sf_warmup_steps: usize,
    /// schedule-free: r, the power of k in the averaging weights.
    #[arg(value_parser = crate::values::non_negative, long, default_value_t = 0.0, value_name = "F")]
    pub sf_r: f64,
    /// schedule-free: the power of max γ in the averaging weights.
    #[arg(value_parser = crate::values::non_negative, long, default_value_t = 2.0, value_name = "F")]
    pub sf_weight_lr_power: f64,
}

impl Rule for ScheduleFree {
    const NAME: &'static str = "schedule-free";
    const ABOUT: &'static str =
        "Schedule-free SGD (Defazio et al. 2024): no decay; evaluates an online average of the iterates";
    type Options = ScheduleFreeOptions;

    fn check(o: &ScheduleFreeOptions) -> Result<(), String> {
        // β = 0 would make x = y + (1 − 1/β)(z − y) undefined.
        if !(o.sf_beta > 0.0 && o.sf_beta < 1.0) {
            return Err(format!("--sf-beta must be in (0, 1), got {}", o.sf_beta));
        }
        super::check_non_negative("--sf-r", o.sf_r)?;
        super::check_non_negative("--sf-weight-lr-power", o.sf_weight_lr_power)
    }

    fn build(run: &RunShape, o: &ScheduleFreeOptions) -> ScheduleFree {
        ScheduleFree {
            options: o.clone(),
            base: run.lr0,
            lr: run.lr0,
            c: 0.0,
            k: 0,
            lr_max: -1.0,
            weight_sum: 0.0,
        }
    }
}

crate::default_from_command_line!(ScheduleFreeOptions);
