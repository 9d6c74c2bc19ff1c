//! Softmax cross-entropy over a batch of logits with integer labels.

use super::u;
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    classes: u32,
    scale: f32,
    label_period: u32,
}

/// Per-row losses and correctness (1.0 where the arg-max is the label) of `[rows, classes]`
/// logits; the batch loss is the mean of `losses`. `rows` may be a multiple of the label
/// count: row r is scored against label r mod labels.len() (stacked probes).
#[allow(clippy::too_many_arguments)]
pub fn forward(
    prog: &mut Program,
    gpu: &Gpu,
    logits: &Tensor,
    labels: &Tensor,
    losses: &Tensor,
    correct: &Tensor,
    rows: usize,
    classes: usize,
) -> Result<(), GpuError> {
    assert_eq!(logits.len(), rows * classes);
    assert!(
        rows.is_multiple_of(labels.len()) || labels.len() >= rows,
        "rows must repeat the labels"
    );
    assert!(losses.len() >= rows && correct.len() >= rows);
    let k = gpu.kernel(&shader!("softmax_xent"), "forward", &[])?;
    let p = Params {
        rows: u(rows),
        classes: u(classes),
        scale: 0.0,
        label_period: u(labels.len().min(rows)),
    };
    let d = gpu.dummy();
    prog.dispatch(
        gpu,
        &k,
        &p,
        &[logits, labels, losses, correct, d],
        [u(rows.div_ceil(64)), 1, 1],
    )
}

/// Gradient of `g · mean(losses)`: `dlogits = g/rows · (softmax − onehot)`.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    prog: &mut Program,
    gpu: &Gpu,
    logits: &Tensor,
    labels: &Tensor,
    dlogits: &Tensor,
    rows: usize,
    classes: usize,
    g: f32,
) -> Result<(), GpuError> {
    assert_eq!(logits.len(), rows * classes);
    assert_eq!(dlogits.len(), rows * classes);
    let k = gpu.kernel(&shader!("softmax_xent"), "backward", &[])?;
    let p = Params {
        rows: u(rows),
        classes: u(classes),
        scale: g / rows as f32,
        label_period: u(labels.len().min(rows)),
    };
    let d = gpu.dummy();
    prog.dispatch(
        gpu,
        &k,
        &p,
        &[logits, labels, d, d, dlogits],
        [u(rows.div_ceil(64)), 1, 1],
    )
}
