//! Polynomial-decay iterate averaging (Shamir & Zhang 2013), as DoG's authors' `PolynomialDecayAverager`
//! (`--average-gamma`): after step t, x̄ += c·(w − x̄) with c = (1 + γ)/(t + γ), the
//! batch-norm running statistics averaged alike (the authors average the whole
//! `state_dict`), and the run is evaluated at x̄. Training never reads x̄: the trajectory is
//! the one the run takes without averaging. t counts the steps since the start, or since
//! the rule last went back to w(0) ([`IterateAverage::restart`]), when x̄ starts over.

use anyhow::Result;

use crate::gpu::{Gpu, Params, Program, Tensor};
use crate::ops::average;

/// The averaged weights and statistics on the GPU, and the programs that update them and
/// swap them in for an evaluation.
pub struct IterateAverage {
    gamma: f64,
    /// The step after which x̄ started: 0, or the step of the last restart (checkpointed).
    since: usize,
    coefficient: Tensor,
    update: Program,
    /// x̄ := w (and the statistics alike).
    reset: Program,
    to_average: Program,
    back: Program,
    /// `weights` and, for a model with batch norm, `buffers`: kept in checkpoints and
    /// backups.
    pub state: Vec<(&'static str, Tensor)>,
}

impl IterateAverage {
    /// The average of `params` with `gamma`, starting at the weights they hold now (a
    /// resumed run then loads its own from the checkpoint).
    pub fn new(gpu: &Gpu, params: &Params, gamma: f64) -> Result<IterateAverage> {
        let coefficient = gpu.zeros("average coefficient", &[1])?;
        let (mut update, mut reset) = (Program::new(), Program::new());
        let (mut to_average, mut back) = (Program::new(), Program::new());
        let mut state = Vec::new();
        let live = [("weights", &params.values), ("buffers", &params.buffers)];
        for (name, x) in live.into_iter().filter(|(_, x)| !x.is_empty()) {
            let averaged = gpu.zeros("iterate average", &[x.len()])?;
            let kept = gpu.zeros("training state during evaluation", &[x.len()])?;
            reset.copy(x, &averaged);
            average::toward(&mut update, gpu, x, &averaged, &coefficient)?;
            to_average.copy(x, &kept);
            to_average.copy(&averaged, x);
            back.copy(&kept, x);
            state.push((name, averaged));
        }
        reset.run(gpu)?;
        Ok(IterateAverage {
            gamma,
            since: 0,
            coefficient,
            update,
            reset,
            to_average,
            back,
            state,
        })
    }

    /// c = (1 + γ)/(t + γ) after step `step`; 1 at the first step, where x̄ becomes w.
    pub fn coefficient(&self, step: usize) -> f64 {
        let t = step.saturating_sub(self.since).max(1) as f64;
        (1.0 + self.gamma) / (t + self.gamma)
    }

    /// Records x̄'s update after step `step`'s (to follow the weights' update in `encoder`).
    pub fn encode(&self, gpu: &Gpu, step: usize, encoder: &mut wgpu::CommandEncoder) {
        gpu.write(&self.coefficient, &[self.coefficient(step) as f32]);
        self.update.encode(encoder);
    }

    /// The rule went back to w(0) after step `step`: x̄ starts over there.
    pub fn restart(&mut self, gpu: &Gpu, step: usize) -> Result<()> {
        self.since = step;
        Ok(self.reset.run(gpu)?)
    }

    /// The step x̄ started after, for checkpoints.
    pub fn since(&self) -> usize {
        self.since
    }

    /// Sets the step x̄ started after (a resumed run's, from its checkpoint).
    pub fn set_since(&mut self, step: usize) {
        self.since = step;
    }

    /// Puts x̄ (weights and statistics) in place of the training state, keeping it.
    pub fn to_average(&self, gpu: &Gpu) -> Result<()> {
        Ok(self.to_average.run(gpu)?)
    }

    /// Puts the training state back after [`IterateAverage::to_average`].
    pub fn back(&self, gpu: &Gpu) -> Result<()> {
        Ok(self.back.run(gpu)?)
    }
}
