//! PyTorch's SGD with momentum: v = μv + g + λw, d = v, or d = g + λw + μv with Nesterov
//! (v after this step's update).

use anyhow::Result;

use super::{Optimizer, OptimizerOptions};
use crate::gpu::{Gpu, Params, Program};

pub(super) fn build(gpu: &Gpu, o: &OptimizerOptions, params: &Params) -> Result<Optimizer> {
    let (w, g) = (&params.values, &params.grads);
    let len = w.len();
    let mut program = Program::new();
    let d = gpu.zeros("step direction", &[len])?;
    let buf = gpu.zeros("momentum buffer", &[len])?;
    crate::ops::optimizer::momentum(
        &mut program,
        gpu,
        w,
        g,
        &buf,
        &d,
        o.momentum as f32,
        o.nesterov,
        o.weight_decay as f32,
    )?;
    Ok(Optimizer {
        direction: d,
        program,
        state: vec![("momentum_buffer", buf)],
        corrections: None,
    })
}
