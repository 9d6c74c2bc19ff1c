//! The paper's models as graphs of layers over one flat parameter buffer, with PyTorch's
//! tensor names, layouts and default initialisation.
//!
//! `zoo` builds the models from the layers of `layers/`, one file per layer with all its
//! passes. A [`Plan`] records one batch size's programs: `recorder` walks the graph for
//! each pass, `runtime` holds each node's GPU objects, `probe` records the five-point line
//! probe and `pool` recycles the tensors that a pass does not keep.

#![warn(missing_docs)]

pub mod layers;
mod plan;
mod pool;
mod probe;
mod recorder;
mod runtime;
mod zoo;

pub use layers::{Add, AvgPool, BatchNorm, Convolution, Dropout, Linear, MaxPool2};
pub use plan::{Plan, StepOutputs};
pub use probe::{probe_chunk, Probe, ProbeSpec, PROBES};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::gpu::ParamLayout;

/// Model names on the command line.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// Linear regression, mean squared error.
    Linreg,
    /// Multinomial logistic regression on flattened inputs.
    Logreg,
    /// LeNet-5: two 5×5 convolutions with max-pooling, then three fully connected layers.
    Lenet,
    /// ResNet-18 for 32×32 images: 3×3 stem, no max-pool, four stages of two BasicBlocks.
    Resnet18,
}

impl ModelKind {
    /// The name `--model` takes, also used in run directory names.
    pub fn cli_name(self) -> &'static str {
        match self {
            ModelKind::Linreg => "linreg",
            ModelKind::Logreg => "logreg",
            ModelKind::Lenet => "lenet",
            ModelKind::Resnet18 => "resnet18",
        }
    }
}

/// Options that shape a model beyond its kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelOptions {
    /// Dropout probability after ResNet stages 2 and 4 (0: none).
    pub dropout: f32,
    /// ResNet channel multiplier (1: ResNet-18 as published).
    pub width_mult: f64,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            dropout: 0.0,
            width_mult: 1.0,
        }
    }
}

impl ModelOptions {
    /// Rejects values out of range, and options `kind` has no use for, naming the flag:
    /// what needs no data to know.
    pub fn check(&self, kind: ModelKind) -> Result<(), ModelError> {
        let given: Vec<&str> = [
            ("--dropout", self.dropout != 0.0),
            ("--width-mult", self.width_mult != 1.0),
        ]
        .into_iter()
        .filter_map(|(flag, set)| set.then_some(flag))
        .collect();
        if kind != ModelKind::Resnet18 && !given.is_empty() {
            return Err(ModelError(format!(
                "{} {} to --model resnet18 only, not to {}",
                given.join(" and "),
                if given.len() == 1 { "applies" } else { "apply" },
                kind.cli_name()
            )));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(ModelError(format!(
                "--dropout must be in [0, 1), got {}",
                self.dropout
            )));
        }
        if !(self.width_mult > 0.0 && self.width_mult <= 16.0) {
            return Err(ModelError(format!(
                "--width-mult must be in (0, 16], got {}",
                self.width_mult
            )));
        }
        Ok(())
    }
}

/// Spatial geometry of a convolution or pooling layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv {
    /// Input channels.
    pub in_c: usize,
    /// Output channels.
    pub out_c: usize,
    /// Side of the square kernel.
    pub kernel: usize,
    /// Step between windows, along both axes.
    pub stride: usize,
    /// Zero padding on every side.
    pub pad: usize,
    /// Input height in pixels.
    pub in_h: usize,
    /// Input width in pixels.
    pub in_w: usize,
}

impl Conv {
    /// Output height, floored like PyTorch.
    pub fn out_h(&self) -> usize {
        (self.in_h + 2 * self.pad - self.kernel) / self.stride + 1
    }

    /// Output width, floored like PyTorch.
    pub fn out_w(&self) -> usize {
        (self.in_w + 2 * self.pad - self.kernel) / self.stride + 1
    }
}

/// One layer of a model: each variant is a layer type of [`layers`], which holds its
/// geometry and the slot indices of its parameters (into the model's [`ParamLayout`]) and
/// running statistics (into its buffer layout).
#[derive(Clone, Debug)]
pub enum Layer {
    /// A fully connected layer.
    Linear(Linear),
    /// A 2-D convolution.
    Conv2d(Convolution),
    /// 2×2 max-pooling with stride 2.
    MaxPool2(MaxPool2),
    /// Batch normalisation.
    BatchNorm(BatchNorm),
    /// The residual join of two nodes' outputs.
    Add(Add),
    /// Global average pooling.
    AvgPool(AvgPool),
    /// Inverted dropout.
    Dropout(Dropout),
}

impl Layer {
    /// Elements per sample that the layer outputs.
    pub fn output_size(&self) -> usize {
        self.kind().output_size()
    }

    /// Whether the layer computes differently in training and evaluation.
    pub fn has_modes(&self) -> bool {
        self.kind().has_modes()
    }
}

/// A layer and where its input comes from: the network input (None) or an earlier node's
/// output. Nodes are in topological order.
#[derive(Clone, Debug)]
pub struct Node {
    /// The layer, with its geometry and parameter slots.
    pub layer: Layer,
    /// The node whose output this one reads, or `None` for the network input.
    pub input: Option<usize>,
}

impl Node {
    /// The earlier nodes whose outputs this node reads.
    pub fn sources(&self) -> impl Iterator<Item = usize> + '_ {
        let other = self.layer.kind().second_source();
        self.input.into_iter().chain(other)
    }
}

/// What the last layer's output is scored with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Softmax over the logits, then the cross-entropy with the integer label: classifiers.
    SoftmaxCrossEntropy {
        /// Number of classes: logits per sample.
        classes: usize,
    },
    /// Squared error against the target values, averaged over all of the batch's: regression.
    MeanSquaredError {
        /// Target values per sample.
        outputs: usize,
    },
}

/// A model: its layer graph, its parameter layout, the layout of its non-trainable buffers
/// (batch-norm running statistics) and what it expects as input.
#[derive(Clone, Debug)]
pub struct Net {
    /// The architecture.
    pub kind: ModelKind,
    /// The layers, in topological order; the last one's output is scored by `loss`.
    pub nodes: Vec<Node>,
    /// The trainable parameters' places in the flat parameter buffer, under PyTorch's names.
    pub layout: ParamLayout,
    /// The non-trainable buffers' places (batch-norm running means and variances), under
    /// PyTorch's names.
    pub buffers: ParamLayout,
    /// Per-sample input `[c, h, w]`.
    pub input_shape: [usize; 3],
    /// The loss on the last node's output.
    pub loss: Loss,
}

/// A model that cannot be built for the given data.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ModelError(pub String);

impl Net {
    /// The initial weights, seeded, in layout order. LeNet and the linear models use
    /// PyTorch's default: weights and biases from U(−1/√fan_in, 1/√fan_in). ResNet-18 uses
    /// torchvision's: convolutions from N(0, 2/fan_out), batch norm γ = 1 and β = 0, the
    /// classifier the default.
    pub fn init(&self, seed: u64) -> Vec<Vec<f32>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut values = vec![Vec::new(); self.layout.slots.len()];
        for node in &self.nodes {
            node.layer.kind().init(&mut rng, &self.layout, &mut values);
        }
        values
    }

    /// The initial non-trainable buffers: running means 0, running variances 1.
    pub fn init_buffers(&self) -> Vec<Vec<f32>> {
        let mut values: Vec<Vec<f32>> = self
            .buffers
            .slots
            .iter()
            .map(|s| vec![0.0; s.len()])
            .collect();
        for node in &self.nodes {
            node.layer.kind().init_buffers(&mut values);
        }
        values
    }

    /// Whether the model has batch-norm layers (running statistics).
    pub fn has_batch_norm(&self) -> bool {
        self.nodes
            .iter()
            .any(|n| matches!(n.layer, Layer::BatchNorm(_)))
    }

    /// Whether some layer computes differently in training and evaluation.
    pub fn has_modes(&self) -> bool {
        self.nodes.iter().any(|n| n.layer.has_modes())
    }

    /// Values the model outputs per sample: classes, or regression outputs.
    pub fn outputs(&self) -> usize {
        match self.loss {
            Loss::SoftmaxCrossEntropy { classes } => classes,
            Loss::MeanSquaredError { outputs } => outputs,
        }
    }

    /// Elements of one input sample: c · h · w.
    pub fn sample_size(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// The per-sample input size of node `i`.
    pub fn input_size(&self, i: usize) -> usize {
        match self.nodes[i].input {
            None => self.sample_size(),
            Some(j) => self.nodes[j].layer.output_size(),
        }
    }
}
