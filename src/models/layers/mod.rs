//! Each layer's knowledge in a file of its own: its forward pass in every mode and for
//! every probe, its backward pass, its GPU objects per batch size, its initialisation and
//! whether it ends in a fused ReLU. `Layer::kind` is the one place that dispatches on
//! the layer: a new layer is a new file here, a variant of [`Layer`] and an arm in each of
//! `kind` and `kind_mut`.

mod add;
mod batchnorm;
mod conv;
mod dropout;
mod linear;
mod pool;

pub use add::Add;
pub use batchnorm::BatchNorm;
pub use conv::Convolution;
pub use dropout::Dropout;
pub use linear::Linear;
pub use pool::{AvgPool, MaxPool2};

pub(crate) use conv::{ConvRt, ConvScratch};
pub(crate) use pool::MaxPoolRt;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::recorder::{Act, Recorder};
use super::runtime::{NodeRt, RuntimeBuilder};
use super::{Layer, Net};
use crate::gpu::{align_elems, Gpu, GpuError, ParamLayout, Params, Program, Tensor};

/// What a layer does, implemented once per layer over a copy of its [`Layer`] fields.
pub(crate) trait LayerKind {
    /// Elements per sample that the layer outputs.
    fn output_size(&self) -> usize;

    /// The node the layer reads besides its input, if any.
    fn second_source(&self) -> Option<usize> {
        None
    }

    /// Whether the layer computes differently in training and evaluation.
    fn has_modes(&self) -> bool {
        false
    }

    /// Whether the training pass draws random numbers from the step's seed.
    fn draws_random(&self) -> bool {
        false
    }

    /// Whether a ReLU is fused into the layer's output.
    fn fused_relu(&self) -> bool {
        false
    }

    /// Takes the fused ReLU out of the layer, returning whether it had one.
    fn take_relu(&mut self) -> bool {
        false
    }

    /// Whether [`LayerKind::backward`] is handed the gradient after the fused ReLU and takes
    /// the ReLU off itself (batch norm recomputes its mask from the input); otherwise the
    /// recorder runs `relu::backward` first.
    fn backward_takes_relu_off(&self) -> bool {
        false
    }

    /// Per-probe block length of the layer's `n` output elements: aligned, so that layers
    /// can bind each probe's block on its own.
    fn probe_segment(&self, n: usize, probes: usize) -> usize {
        if probes == 1 {
            n
        } else {
            align_elems(n)
        }
    }

    /// Draws the layer's initial parameters into `values`, indexed by layout slot.
    fn init(&self, _rng: &mut ChaCha8Rng, _layout: &ParamLayout, _values: &mut [Vec<f32>]) {}

    /// Sets the layer's non-trainable buffers in `values` (indexed by buffer slot, zeroed)
    /// to their initial values.
    fn init_buffers(&self, _values: &mut [Vec<f32>]) {}

    /// The layer's GPU objects for one batch size; `n`: its output elements per pass.
    fn runtime(&self, _rt: &mut RuntimeBuilder, _n: usize) -> Result<NodeRt, GpuError> {
        Ok(NodeRt::Stateless)
    }

    /// Records the forward pass for every probe of `f`'s pass.
    fn forward(&self, prog: &mut Program, f: &Forward) -> Result<(), GpuError>;

    /// Records the layer along the step direction instead of the weights, on the network
    /// input: the probes' first layer by linearity (see [`super::probe`]).
    fn forward_along(&self, _prog: &mut Program, _a: &Along) -> Result<(), GpuError> {
        unreachable!("a model starts with a parameterised layer")
    }

    /// Records the backward pass from the gradient before the fused ReLU.
    fn backward(&self, prog: &mut Program, b: &Backward) -> Result<(), GpuError>;
}

impl Layer {
    /// The layer's behaviour: the one dispatch on the layer's variant.
    pub(crate) fn kind(&self) -> &dyn LayerKind {
        match self {
            Layer::Linear(l) => l,
            Layer::Conv2d(l) => l,
            Layer::MaxPool2(l) => l,
            Layer::BatchNorm(l) => l,
            Layer::Add(l) => l,
            Layer::AvgPool(l) => l,
            Layer::Dropout(l) => l,
        }
    }

    /// [`Layer::kind`], to change (a copy of) the layer.
    pub(crate) fn kind_mut(&mut self) -> &mut dyn LayerKind {
        match self {
            Layer::Linear(l) => l,
            Layer::Conv2d(l) => l,
            Layer::MaxPool2(l) => l,
            Layer::BatchNorm(l) => l,
            Layer::Add(l) => l,
            Layer::AvgPool(l) => l,
            Layer::Dropout(l) => l,
        }
    }
}

/// One node's forward pass being recorded, for every probe of the pass.
pub(crate) struct Forward<'a> {
    pub rec: &'a Recorder<'a>,
    pub rt: &'a NodeRt,
    /// The network input, shared by all probes.
    pub input: &'a Tensor,
    /// The sources' outputs; none for the first node, which reads the network input.
    pub srcs: &'a [&'a Act],
    pub y: &'a Act,
    /// Per-sample input elements.
    pub in_size: usize,
    /// One probe's output elements.
    pub n: usize,
}

impl Forward<'_> {
    pub fn probes(&self) -> usize {
        self.rec.weights.probes
    }

    /// Probe p's view of parameter `slot`.
    pub fn param(&self, p: usize, slot: usize) -> Tensor {
        let s = &self.rec.net.layout.slots[slot];
        let w = &self.rec.weights;
        w.values.view(p * w.stride + s.offset, &[s.len()])
    }

    /// Probe p's input: its block of the source's output, or the network input.
    pub fn x(&self, p: usize) -> Tensor {
        match self.srcs.first() {
            None => self.input.clone(),
            Some(a) => a.t.view(p * a.seg, &[self.rec.batch * self.in_size]),
        }
    }

    /// Probe p's block of the output.
    pub fn y(&self, p: usize) -> Tensor {
        self.y.t.view(p * self.y.seg, &[self.n])
    }
}

/// The first layer at the step direction d instead of the weights, on the network input:
/// writes layer(x; d) to `out`.
pub(crate) struct Along<'a> {
    pub gpu: &'a Gpu,
    pub net: &'a Net,
    pub rt: &'a NodeRt,
    pub direction: &'a Tensor,
    pub input: &'a Tensor,
    pub batch: usize,
    pub out: &'a Tensor,
}

impl Along<'_> {
    /// The direction's part for parameter `slot`.
    pub fn param(&self, slot: usize) -> Tensor {
        let s = &self.net.layout.slots[slot];
        self.direction.view(s.offset, &[s.len()])
    }
}

/// One node's backward pass being recorded (training pass only).
pub(crate) struct Backward<'a> {
    pub gpu: &'a Gpu,
    pub params: &'a Params,
    pub batch: usize,
    pub rt: &'a NodeRt,
    /// The node's input (the network input for the first node).
    pub x: &'a Tensor,
    /// The gradient at the layer's output before its fused ReLU.
    pub dz: &'a Tensor,
    /// Where the gradients of the node's sources go, and whether they add to what a later
    /// reader already wrote; none for the first node.
    pub dsrcs: &'a [(Tensor, bool)],
}

impl Backward<'_> {
    /// Where the input's gradient goes, if anywhere.
    pub fn dx(&self) -> Option<(&Tensor, bool)> {
        self.dsrcs.first().map(|(t, acc)| (t, *acc))
    }
}

fn uniform(rng: &mut ChaCha8Rng, n: usize, bound: f64) -> Vec<f32> {
    (0..n)
        .map(|_| rng.random_range(-bound..bound) as f32)
        .collect()
}

/// A standard normal draw (Box–Muller).
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
