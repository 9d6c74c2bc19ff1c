//! Reusable tensors for what a step does not keep: the probes' and the evaluation's
//! activations and the backward pass's gradients.

use crate::gpu::{Gpu, GpuError, Tensor};

/// Tensors handed back once their last reader is recorded, handed out again to later
/// dispatches. The queue runs dispatches and programs in recording order, so a reused
/// tensor is only overwritten after every earlier reader has run.
#[derive(Default)]
pub(crate) struct Pool {
    free: Vec<Tensor>,
}

impl Pool {
    /// A tensor of `len` elements with unspecified contents: the smallest free one that
    /// is large enough, or a new one.
    pub fn take(&mut self, gpu: &Gpu, label: &str, len: usize) -> Result<Tensor, GpuError> {
        let best = self
            .free
            .iter()
            .enumerate()
            .filter(|(_, t)| t.len() >= len)
            .min_by_key(|(_, t)| t.len())
            .map(|(i, _)| i);
        match best {
            Some(i) => Ok(self.free.swap_remove(i).view(0, &[len])),
            None => gpu.zeros(label, &[len]),
        }
    }

    /// Returns a tensor from [`Pool::take`] (any view of its buffer).
    pub fn give(&mut self, t: &Tensor) {
        assert!(
            !self.free.iter().any(|f| f.same_buffer(t)),
            "a pooled tensor was returned twice"
        );
        let whole = (t.buffer.size() / 4) as usize;
        self.free.push(Tensor {
            buffer: t.buffer.clone(),
            offset: 0,
            shape: vec![whole],
        });
    }
}
