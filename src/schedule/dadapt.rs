//! D-Adaptation SGD: Defazio & Mishchenko, "Learning-Rate-Free Learning by D-Adaptation"
//! (ICML 2023), as the authors' `DAdaptSGD` with its defaults (lr 1, momentum 0, d0 1e-6,
//! growth rate ∞). Dual averaging with a lower bound d on the distance to the solution:
//!   λ_k = d_k·lr/‖g_0‖,  s += λ_k·g,  Σ += λ_k·(g·s_before),  d̂ = 2Σ/‖s‖,
//!   d_{k+1} = max(d_k, min(d̂, d_k·growth)),  w = μ·w + (1 − μ)·(w_0 − s).
//! The vectors (s, the copy of w_0) and the update live on the GPU
//! ([`Update::DAdapt`]); the host reads back g·s and s·s with the step and moves d. ‖g_0‖
//! is read once, before the first update. g is the SGD direction g + λw, as the authors
//! fold weight decay into the gradient. steps.csv's η is the step's λ_k.
//! `--dadapt-decay cosine` anneals lr as a PyTorch `CosineAnnealingLR` over the run's steps
//! would (the authors: "use the learning rate schedule you would use anyway"):
//! lr_k = lr·(1 + cos(πk/T))/2, which enters λ_k and so the estimate of d too.

use super::{
    check_non_negative, state_f64, state_num, state_opt, state_opt_f64, GradientNeeds,
    GradientReadings, Needs, Observation, ProbeRecord, Rule, RunShape, Schedule, Update,
};

/// D-Adaptation SGD (`dadapt`), as the authors' `DAdaptSGD`: dual averaging on the GPU
/// ([`Update::DAdapt`]) with step size λ_k = d·lr/‖g₀‖, d a lower bound on the distance to
/// the solution that the host moves from the sums read back with each step.
pub struct DAdapt {
    options: DAdaptOptions,
    /// Steps of the run as configured: the cosine's horizon.
    planned: usize,
    /// The last step observed: the next update's 0-based index (after a discarded step,
    /// one behind for one update).
    done: usize,
    d: f64,
    /// Σ λ_k·(g_k·s_{k−1}).
    numerator: f64,
    g0_norm: Option<f64>,
    last_d_hat: Option<f64>,
}

impl DAdapt {
    /// The authors' lr of the coming update: --dadapt-lr, annealed with --dadapt-decay.
    fn lr_factor(&self) -> f64 {
        let lr = self.options.dadapt_lr;
        match self.options.dadapt_decay {
            DAdaptDecay::Constant => lr,
            DAdaptDecay::Cosine => {
                let x = (self.done as f64 / self.planned.max(1) as f64).min(1.0);
                lr * super::basic::half_cosine(x)
            }
        }
    }

    /// λ_k, the step size of the coming update.
    fn step_size(&self) -> f64 {
        match self.g0_norm {
            Some(g0) => self.d * self.lr_factor() / g0,
            None => 0.0,
        }
    }

    /// Moves d after a step whose sums were `g·s` (s before the step) and `s·s` (after).
    pub fn learn(&mut self, gs: f64, ss: f64) {
        let o = &self.options;
        self.numerator += self.step_size() * gs;
        if ss > 0.0 && self.lr_factor() > 0.0 {
            let d_hat = 2.0 * self.numerator / ss.sqrt();
            self.last_d_hat = Some(d_hat);
            self.d = self.d.max(d_hat.min(self.d * o.dadapt_growth));
        }
    }
}

impl Schedule for DAdapt {
    fn lr(&self) -> f64 {
        self.step_size()
    }

    /// An override of the step size (the clamps, the non-finite safeguard) moves d.
    fn set_lr(&mut self, lr: f64) {
        let factor = self.lr_factor();
        if let (Some(g0), true) = (self.g0_norm, factor > 0.0) {
            self.d = lr * g0 / factor;
        }
    }

    fn needs(&self) -> Needs {
        Needs {
            gradient: GradientNeeds {
                norm: true,
                ..GradientNeeds::default()
            },
            update: Update::DAdapt {
                momentum: self.options.dadapt_momentum,
            },
            ..Needs::default()
        }
    }

    /// ‖g_0‖ only: the first step's gradient.
    fn measure_gradient(&self, _step: usize) -> bool {
        self.g0_norm.is_none()
    }

    fn observe_gradient(&mut self, r: &GradientReadings) {
        if let (None, Some(norm)) = (self.g0_norm, r.norm) {
            self.g0_norm = Some(norm.sqrt());
        }
    }

    fn coefficients(&self, _step: usize) -> Vec<f32> {
        vec![self.step_size() as f32]
    }

    fn observe(&mut self, obs: &Observation) -> Option<ProbeRecord> {
        if let [gs, ss] = obs.sums[..] {
            self.learn(gs, ss);
        }
        self.done = obs.step;
        None
    }

    fn record_header(&self) -> Option<&'static str> {
        Some("step,d,d_hat,numerator")
    }

    fn record(&self, step: usize) -> Option<String> {
        let d_hat = self.last_d_hat.map_or(String::new(), |d| d.to_string());
        Some(format!("{step},{},{d_hat},{}", self.d, self.numerator))
    }

    fn state(&self) -> serde_json::Value {
        let mut state = serde_json::json!({
            "d": state_num(self.d),
            "numerator": state_num(self.numerator),
            "g0_norm": state_opt(self.g0_norm),
        });
        if self.options.dadapt_decay == DAdaptDecay::Cosine {
            state["planned"] = self.planned.into();
            state["done"] = self.done.into();
        }
        state
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String> {
        self.d = state_f64(state, "d")?;
        self.numerator = state_f64(state, "numerator")?;
        self.g0_norm = state_opt_f64(state, "g0_norm")?;
        if self.options.dadapt_decay == DAdaptDecay::Cosine {
            let planned = state["planned"]
                .as_u64()
                .ok_or("schedule state lacks 'planned'")?;
            if planned != self.planned as u64 {
                // The cosine's horizon: another --epochs would bend it mid-run.
                return Err(format!(
                    "its --dadapt-decay cosine was planned for {planned} steps, the run now \
                     has {} (another --epochs); resume with the run's --epochs, or start a \
                     new run",
                    self.planned
                ));
            }
            self.done = state["done"]
                .as_u64()
                .ok_or("schedule state lacks 'done'")? as usize;
        }
        Ok(())
    }
}

/// D-Adaptation's options.
#[derive(clap::Args, Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct DAdaptOptions {
    /// dadapt: the factor on the adapted step size (the authors' lr; leave at 1).
    #[arg(value_parser = crate::values::non_negative, long, default_value_t = 1.0, value_name = "F")]
    pub dadapt_lr: f64,
    /// dadapt: μ in w = μ·w + (1 − μ)·z (the authors' default 0; 0.9 in their CIFAR runs).
    #[arg(value_parser = crate::values::below_one, long, default_value_t = 0.0, value_name = "F")]
    pub dadapt_momentum: f64,
    /// dadapt: d0, the initial distance estimate.
    #[arg(value_parser = crate::values::positive, long, default_value = "1e-6", value_name = "F")]
    pub dadapt_d0: f64,
    /// dadapt: the largest factor d may grow by per step (inf: unbounded).
    #[arg(value_parser = crate::values::growth, long, default_value_t = f64::INFINITY, value_name = "F")]
    #[serde(deserialize_with = "super::unbounded")]
    pub dadapt_growth: f64,
    /// dadapt: the schedule of the authors' lr (constant, or a cosine to 0 over the
    /// --epochs planned, as PyTorch's `CosineAnnealingLR`; --max-steps stops it early
    /// without shortening it).
    #[arg(long, value_enum, default_value_t = DAdaptDecay::Constant, value_name = "DECAY")]
    pub dadapt_decay: DAdaptDecay,
}

/// The schedule D-Adaptation's lr follows (`--dadapt-decay`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum DAdaptDecay {
    /// lr throughout (the authors' class default).
    Constant,
    /// lr·(1 + cos(πk/T))/2 over the run's T steps.
    Cosine,
}

impl Rule for DAdapt {
    const IGNORES_LR0: bool = true;
    const NAME: &'static str = "dadapt";
    const ABOUT: &'static str =
        "D-Adaptation SGD (Defazio & Mishchenko 2023): dual averaging with a learned distance d";
    type Options = DAdaptOptions;

    fn check(o: &DAdaptOptions) -> Result<(), String> {
        check_non_negative("--dadapt-lr", o.dadapt_lr)?;
        if !(o.dadapt_d0.is_finite() && o.dadapt_d0 > 0.0) {
            return Err(format!(
                "--dadapt-d0 must be a finite positive number, got {}",
                o.dadapt_d0
            ));
        }
        // d reaches the GPU in the f32 coefficient d·lr/‖g₀‖, where a subnormal may flush
        // to zero and leave d where it started, silently.
        super::check_normal_f32("--dadapt-d0", "d", o.dadapt_d0)?;
        if !(0.0..1.0).contains(&o.dadapt_momentum) {
            return Err(format!(
                "--dadapt-momentum must be in [0, 1), got {}",
                o.dadapt_momentum
            ));
        }
        if o.dadapt_growth.is_nan() || o.dadapt_growth < 1.0 {
            return Err(format!(
                "--dadapt-growth must be ≥ 1 (inf: unbounded), got {}",
                o.dadapt_growth
            ));
        }
        Ok(())
    }

    fn build(run: &RunShape, o: &DAdaptOptions) -> DAdapt {
        DAdapt {
            options: o.clone(),
            planned: run.planned_steps,
            done: 0,
            d: o.dadapt_d0,
            numerator: 0.0,
            g0_norm: None,
            last_d_hat: None,
        }
    }
}

crate::default_from_command_line!(DAdaptOptions);
