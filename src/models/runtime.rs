//! Per-node GPU objects of one batch size, shared by the training pass, the evaluation
//! pass and the probes (which run after the backward pass, so reusing scratch is safe).

use super::layers::{ConvRt, ConvScratch, MaxPoolRt};
use super::Net;
use crate::gpu::{Gpu, GpuError, Tensor};

/// What a node keeps between the passes of one batch size; each layer's file says what
/// it keeps.
pub(crate) enum NodeRt {
    /// Layers that keep nothing.
    Stateless,
    Conv(ConvRt),
    MaxPool(MaxPoolRt),
    /// Batch norm's batch mean and 1/std from the training forward, for the backward.
    BatchNorm {
        saved: Tensor,
    },
    /// Dropout's mask from the training forward, for the backward and the probes.
    Dropout {
        mask: Tensor,
    },
}

/// What making a node's runtime needs.
pub(crate) struct RuntimeBuilder<'a> {
    pub gpu: &'a Gpu,
    pub batch: usize,
    /// Probes per forward pass, when the plan probes.
    pub probes: Option<usize>,
    /// The convolutions' chunks and scratch, decided for all of them up front.
    pub convs: ConvScratch,
}

impl NodeRt {
    /// Every node's runtime, in node order.
    pub fn all(
        gpu: &Gpu,
        net: &Net,
        batch: usize,
        probes: Option<usize>,
    ) -> Result<Vec<NodeRt>, GpuError> {
        // Convolutions first: the chunking decides how the scratch is shared.
        let mut builder = RuntimeBuilder {
            gpu,
            batch,
            probes,
            convs: ConvScratch::plan(gpu, net, batch)?,
        };
        net.nodes
            .iter()
            .map(|node| {
                let n = batch * node.layer.output_size();
                node.layer.kind().runtime(&mut builder, n)
            })
            .collect()
    }
}
