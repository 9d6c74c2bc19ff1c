//! SGD: d = g, or d = g + λw with weight decay.

use anyhow::Result;

use super::{Optimizer, OptimizerOptions};
use crate::gpu::{Gpu, Params, Program};

pub(super) fn build(gpu: &Gpu, o: &OptimizerOptions, params: &Params) -> Result<Optimizer> {
    let (w, g) = (&params.values, &params.grads);
    let mut program = Program::new();
    // Without decay the direction is the gradient buffer itself: no copy, no kernel.
    let direction = if o.weight_decay == 0.0 {
        g.clone()
    } else {
        let d = gpu.zeros("step direction", &[w.len()])?;
        crate::ops::optimizer::decay(&mut program, gpu, w, g, &d, o.weight_decay as f32)?;
        d
    };
    Ok(Optimizer {
        direction,
        program,
        state: Vec::new(),
        corrections: None,
    })
}
