//! Polynomial-decay iterate averaging (Shamir & Zhang 2013), as DoG's authors'
//! `PolynomialDecayAverager` (`--average-gamma`): after each update, t += 1 and
//! x̄ += c·(w − x̄) with c = (1 + γ)/(t + γ), the batch-norm running statistics averaged
//! alike (the authors average the whole `state_dict`), and the run is evaluated at x̄.
//! Training never reads x̄: the trajectory is the one the run takes without averaging.
//! t counts the updates in x̄; it lives on the GPU beside x̄, so that an undone or
//! discarded step takes its update out of both (the backups and checkpoints keep all
//! three), and it starts again from 0 when the rule goes back to w(0)
//! ([`IterateAverage::restart`]), as the authors' `reset()`: the next update sets x̄ = w.

use anyhow::Result;

use crate::gpu::{Gpu, Params, Program, Tensor};
use crate::ops::average;

/// The averaged weights and statistics on the GPU, the count of updates in them, and the
/// programs that update them and swap them in for an evaluation.
pub struct IterateAverage {
    count: Tensor,
    update: Program,
    /// x̄ := w (and the statistics alike).
    reset: Program,
    to_average: Program,
    back: Program,
    /// `weights`, `buffers` (the running statistics; a few unused zeros for a model
    /// without batch norm) and `count` (t): kept in checkpoints and backups.
    pub state: Vec<(&'static str, Tensor)>,
}

impl IterateAverage {
    /// The average of `params` with `gamma`, starting at the weights they hold now with no
    /// update counted (a resumed run then loads its own from the checkpoint).
    pub fn new(gpu: &Gpu, params: &Params, gamma: f64) -> Result<IterateAverage> {
        let count = gpu.zeros("updates in the iterate average", &[1])?;
        let (mut update, mut reset) = (Program::new(), Program::new());
        let (mut to_average, mut back) = (Program::new(), Program::new());
        average::count_step(&mut update, gpu, &count)?;
        let mut state = Vec::new();
        let live = [("weights", &params.values), ("buffers", &params.buffers)];
        for (name, x) in live.into_iter().filter(|(_, x)| !x.is_empty()) {
            let averaged = gpu.zeros("iterate average", &[x.len()])?;
            let kept = gpu.zeros("training state during evaluation", &[x.len()])?;
            reset.copy(x, &averaged);
            average::toward(&mut update, gpu, x, &averaged, &count, gamma as f32)?;
            to_average.copy(x, &kept);
            to_average.copy(&averaged, x);
            back.copy(&kept, x);
            state.push((name, averaged));
        }
        reset.run(gpu)?;
        state.push(("count", count.clone()));
        Ok(IterateAverage {
            count,
            update,
            reset,
            to_average,
            back,
            state,
        })
    }

    /// Records the update of t and x̄ (to follow the weights' update in `encoder`).
    pub fn encode(&self, encoder: &mut wgpu::CommandEncoder) {
        self.update.encode(encoder);
    }

    /// The rule went back to w(0): x̄ starts over there, with no update counted.
    pub fn restart(&self, gpu: &Gpu) -> Result<()> {
        gpu.write(&self.count, &[0f32]);
        Ok(self.reset.run(gpu)?)
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
