//! Optimizers on the GPU: each computes a step direction d(t) into a flat buffer, and the
//! update is w(t+1) = w(t) − η(t)·d(t). The learning-rate rules probe along the same d. One
//! file per optimizer builds its program and names its state (checkpointed by the trainer).

#![warn(missing_docs)]

mod adam;
mod average;
mod momentum;
mod rule_update;
mod sgd;

pub use average::IterateAverage;
pub use rule_update::RuleUpdate;

use anyhow::{bail, Result};

use crate::gpu::{Gpu, Params, Program, Tensor};

/// The optimizer whose step direction d the update w −= η·d and the probes follow.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    /// d = g (+ λw with --weight-decay).
    Sgd,
    /// PyTorch's SGD momentum: v = μv + g, d = v (or g + μv with --nesterov).
    Momentum,
    /// PyTorch's Adam: d = m̂ / (√v̂ + eps). The paper's §5.4 baseline uses --lr 0.001.
    Adam,
}

impl OptimizerKind {
    /// The name `--optimizer` takes.
    pub fn cli_name(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Momentum => "momentum",
            OptimizerKind::Adam => "adam",
        }
    }
}

/// The optimizer and its options on the command line.
#[derive(clap::Args, Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct OptimizerOptions {
    /// The step direction d(t) the update w −= η·d follows.
    #[arg(long, value_enum, default_value_t = OptimizerKind::Sgd)]
    pub optimizer: OptimizerKind,
    /// Momentum μ of --optimizer momentum.
    #[arg(value_parser = crate::values::below_one, long, default_value_t = 0.9, value_name = "F")]
    pub momentum: f64,
    /// Nesterov momentum with --optimizer momentum: d = g + μv.
    #[arg(long)]
    pub nesterov: bool,
    /// Adam's β1,β2.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0.9,0.999",
        value_name = "B1,B2"
    )]
    pub betas: Vec<f64>,
    /// Adam's eps.
    #[arg(value_parser = crate::values::positive, long, default_value = "1e-8", value_name = "F")]
    pub adam_eps: f64,
    /// L2 weight decay λ added to the gradient.
    #[arg(value_parser = crate::values::non_negative, long, default_value_t = 0.0, value_name = "F")]
    pub weight_decay: f64,
}

impl OptimizerOptions {
    /// Rejects impossible values, naming the flag.
    pub fn check(&self) -> Result<()> {
        if self.betas.len() != 2 || self.betas.iter().any(|b| !(0.0..1.0).contains(b)) {
            bail!("--betas takes two numbers in [0, 1), e.g. 0.9,0.999");
        }
        if !(0.0..1.0).contains(&self.momentum) {
            bail!("--momentum must be in [0, 1), got {}", self.momentum);
        }
        if !self.weight_decay.is_finite()
            || self.weight_decay < 0.0
            || self.adam_eps.is_nan()
            || self.adam_eps <= 0.0
        {
            bail!("--weight-decay must be ≥ 0 and --adam-eps > 0");
        }
        Ok(())
    }

    /// The options set away from their defaults that only another optimizer reads, grouped
    /// by that optimizer (`momentum`: `--momentum`, `--nesterov`; `adam`: `--betas`,
    /// `--adam-eps`).
    pub fn set_for_other_optimizers(&self) -> Vec<(&'static str, Vec<String>)> {
        let default = OptimizerOptions::default();
        let owned: [(OptimizerKind, Vec<(&str, bool)>); 2] = [
            (
                OptimizerKind::Momentum,
                vec![
                    ("--momentum", self.momentum != default.momentum),
                    ("--nesterov", self.nesterov != default.nesterov),
                ],
            ),
            (
                OptimizerKind::Adam,
                vec![
                    ("--betas", self.betas != default.betas),
                    ("--adam-eps", self.adam_eps != default.adam_eps),
                ],
            ),
        ];
        owned
            .into_iter()
            .filter(|(kind, _)| *kind != self.optimizer)
            .map(|(kind, flags)| {
                let set = flags.into_iter().filter(|(_, set)| *set);
                (kind.cli_name(), set.map(|(f, _)| f.to_string()).collect())
            })
            .filter(|(_, flags): &(_, Vec<String>)| !flags.is_empty())
            .collect()
    }

    /// PyTorch's default learning rate for the optimizer.
    pub fn default_lr(&self) -> f64 {
        match self.optimizer {
            OptimizerKind::Adam => 1e-3,
            _ => 0.01,
        }
    }
}

/// The optimizer on the GPU: its state buffers and the program writing d(t).
pub struct Optimizer {
    /// d(t): the gradient itself for plain SGD.
    pub direction: Tensor,
    program: Program,
    /// Named state (momentum buffer, Adam moments), kept in checkpoints.
    pub state: Vec<(&'static str, Tensor)>,
    /// Adam's 1 − β^t, written each step.
    corrections: Option<(Tensor, f64, f64)>,
}

impl Optimizer {
    /// Allocates the optimizer's direction and state buffers (zeroed) for `params` and records
    /// the program that writes d(t) from the gradients (plain SGD without weight decay needs
    /// none: d(t) is `params.grads` itself); fails when a buffer exceeds the adapter's limits.
    pub fn new(gpu: &Gpu, options: &OptimizerOptions, params: &Params) -> Result<Optimizer> {
        match options.optimizer {
            OptimizerKind::Sgd => sgd::build(gpu, options, params),
            OptimizerKind::Momentum => momentum::build(gpu, options, params),
            OptimizerKind::Adam => adam::build(gpu, options, params),
        }
    }

    /// Records d(t) for step `step` (1-based) into `encoder`.
    pub fn encode(&self, gpu: &Gpu, step: usize, encoder: &mut wgpu::CommandEncoder) {
        if let Some((c, b1, b2)) = &self.corrections {
            let t = step as i32;
            gpu.write(c, &[(1.0 - b1.powi(t)) as f32, (1.0 - b2.powi(t)) as f32]);
        }
        self.program.encode(encoder);
    }
}

crate::default_from_command_line!(OptimizerOptions);
