//! PyTorch's Adam: m, v the bias-corrected moments after this step's update,
//! d = m̂/(√v̂ + eps).

use anyhow::Result;

use super::{Optimizer, OptimizerOptions};
use crate::gpu::{Gpu, Params, Program};

pub(super) fn build(gpu: &Gpu, o: &OptimizerOptions, params: &Params) -> Result<Optimizer> {
    let (w, g) = (&params.values, &params.grads);
    let len = w.len();
    let mut program = Program::new();
    let d = gpu.zeros("step direction", &[len])?;
    let (m, v) = (gpu.zeros("adam m", &[len])?, gpu.zeros("adam v", &[len])?);
    let c = gpu.zeros("adam bias corrections", &[2])?;
    let betas = (o.betas[0] as f32, o.betas[1] as f32);
    crate::ops::optimizer::adam(
        &mut program,
        gpu,
        w,
        g,
        &m,
        &v,
        &d,
        &c,
        betas,
        o.adam_eps as f32,
        o.weight_decay as f32,
    )?;
    Ok(Optimizer {
        direction: d,
        program,
        state: vec![("exp_avg", m), ("exp_avg_sq", v)],
        corrections: Some((c, o.betas[0], o.betas[1])),
    })
}
