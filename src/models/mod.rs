//! The paper's models as graphs of layers over one flat parameter buffer, with PyTorch's
//! tensor names, layouts and default initialisation.

mod plan;
mod pool;

pub use plan::{probe_chunk, Plan, Probe, ProbeSpec, StepOutputs, PROBES};

use rand::{Rng, SeedableRng};
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

/// Spatial geometry of a convolution or pooling layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv {
    pub in_c: usize,
    pub out_c: usize,
    pub kernel: usize,
    pub stride: usize,
    pub pad: usize,
    pub in_h: usize,
    pub in_w: usize,
}

impl Conv {
    pub fn out_h(&self) -> usize {
        (self.in_h + 2 * self.pad - self.kernel) / self.stride + 1
    }

    pub fn out_w(&self) -> usize {
        (self.in_w + 2 * self.pad - self.kernel) / self.stride + 1
    }
}

/// One layer; parameters are slot indices into the model's [`ParamLayout`], running
/// statistics slot indices into its buffer layout.
#[derive(Clone, Debug)]
pub enum Layer {
    /// `y = x·Wᵀ + b` with PyTorch's `[out, in]` weight, optionally followed by ReLU.
    Linear {
        inputs: usize,
        outputs: usize,
        relu: bool,
        weight: usize,
        bias: usize,
    },
    /// 2-D convolution (NCHW, weight `[out, in, k, k]`), optionally with bias and ReLU.
    Conv2d {
        geom: Conv,
        relu: bool,
        weight: usize,
        bias: Option<usize>,
    },
    /// 2×2 max-pooling with stride 2 over `channels × h × w`.
    MaxPool2 { channels: usize, h: usize, w: usize },
    /// Batch normalisation over `channels × hw` (batch statistics in training, running
    /// statistics in evaluation), optionally followed by ReLU.
    BatchNorm {
        channels: usize,
        hw: usize,
        relu: bool,
        weight: usize,
        bias: usize,
        running_mean: usize,
        running_var: usize,
    },
    /// `y = x + (node `other`'s output)`, optionally followed by ReLU: the residual join.
    Add {
        other: usize,
        size: usize,
        relu: bool,
    },
    /// Global average pooling `[c, hw] → [c]`.
    AvgPool { channels: usize, hw: usize },
    /// Inverted dropout over `size` elements, identity in evaluation.
    Dropout { p: f32, size: usize },
}

impl Layer {
    /// Elements per sample that the layer outputs.
    pub fn output_size(&self) -> usize {
        match self {
            Layer::Linear { outputs, .. } => *outputs,
            Layer::Conv2d { geom, .. } => geom.out_c * geom.out_h() * geom.out_w(),
            Layer::MaxPool2 { channels, h, w } => channels * (h / 2) * (w / 2),
            Layer::BatchNorm { channels, hw, .. } => channels * hw,
            Layer::Add { size, .. } | Layer::Dropout { size, .. } => *size,
            Layer::AvgPool { channels, .. } => *channels,
        }
    }

    /// Whether the layer computes differently in training and evaluation.
    pub fn has_modes(&self) -> bool {
        matches!(self, Layer::BatchNorm { .. } | Layer::Dropout { .. })
    }
}

/// A layer and where its input comes from: the network input (None) or an earlier node's
/// output. Nodes are in topological order.
#[derive(Clone, Debug)]
pub struct Node {
    pub layer: Layer,
    pub input: Option<usize>,
}

impl Node {
    /// The earlier nodes whose outputs this node reads.
    pub fn sources(&self) -> impl Iterator<Item = usize> + '_ {
        let other = match self.layer {
            Layer::Add { other, .. } => Some(other),
            _ => None,
        };
        self.input.into_iter().chain(other)
    }
}

/// What the last layer's output is scored with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    SoftmaxCrossEntropy { classes: usize },
    MeanSquaredError { outputs: usize },
}

/// A model: its layer graph, its parameter layout, the layout of its non-trainable buffers
/// (batch-norm running statistics) and what it expects as input.
#[derive(Clone, Debug)]
pub struct Net {
    pub kind: ModelKind,
    pub nodes: Vec<Node>,
    pub layout: ParamLayout,
    pub buffers: ParamLayout,
    /// Per-sample input `[c, h, w]`.
    pub input_shape: [usize; 3],
    pub loss: Loss,
}

/// A model that cannot be built for the given data.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ModelError(pub String);

impl Net {
    /// Builds `kind` for inputs of `input_shape` and `classes` classes (0 for regression).
    pub fn build(
        kind: ModelKind,
        input_shape: [usize; 3],
        classes: usize,
    ) -> Result<Net, ModelError> {
        Net::build_with(kind, input_shape, classes, ModelOptions::default())
    }

    /// [`Net::build`] with dropout and width options (ResNet only).
    pub fn build_with(
        kind: ModelKind,
        input_shape: [usize; 3],
        classes: usize,
        opts: ModelOptions,
    ) -> Result<Net, ModelError> {
        let features: usize = input_shape.iter().product();
        if kind != ModelKind::Resnet18 && (opts.dropout != 0.0 || opts.width_mult != 1.0) {
            return Err(ModelError(format!(
                "--dropout and --width-mult apply to resnet18 only, not to {}",
                kind.cli_name()
            )));
        }
        if !(0.0..1.0).contains(&opts.dropout) {
            return Err(ModelError(format!(
                "--dropout must be in [0, 1), got {}",
                opts.dropout
            )));
        }
        if !(opts.width_mult > 0.0 && opts.width_mult <= 16.0) {
            return Err(ModelError(format!(
                "--width-mult must be in (0, 16], got {}",
                opts.width_mult
            )));
        }
        let mut b = Builder::default();
        let loss = match kind {
            ModelKind::Linreg => {
                if classes != 0 {
                    return Err(ModelError(format!(
                        "linreg is a regression model but the data set has {classes} classes; \
                         use --model logreg, lenet or resnet18 for classification"
                    )));
                }
                b.linear("fc", features, 1, false);
                Loss::MeanSquaredError { outputs: 1 }
            }
            _ if classes == 0 => {
                return Err(ModelError(format!(
                    "{} is a classifier but the data set is a regression task; use --model linreg",
                    kind.cli_name()
                )));
            }
            ModelKind::Logreg => {
                b.linear("fc", features, classes, false);
                Loss::SoftmaxCrossEntropy { classes }
            }
            ModelKind::Lenet => {
                let [c, h, w] = input_shape;
                // The paper's LeNet-5 is for 3×32×32; 28×28 inputs get padding 2, as in
                // the original LeNet, so both reach 16×5×5 before the classifier.
                let pad = match (h, w) {
                    (32, 32) => 0,
                    (28, 28) => 2,
                    _ => {
                        return Err(ModelError(format!(
                            "lenet expects 32×32 or 28×28 images, the data set has {h}×{w}"
                        )))
                    }
                };
                let g1 = Conv {
                    in_c: c,
                    out_c: 6,
                    kernel: 5,
                    stride: 1,
                    pad,
                    in_h: h,
                    in_w: w,
                };
                b.conv("conv1", g1, true, true);
                b.push(Layer::MaxPool2 {
                    channels: 6,
                    h: g1.out_h(),
                    w: g1.out_w(),
                });
                let g2 = Conv {
                    in_c: 6,
                    out_c: 16,
                    kernel: 5,
                    stride: 1,
                    pad: 0,
                    in_h: g1.out_h() / 2,
                    in_w: g1.out_w() / 2,
                };
                b.conv("conv2", g2, true, true);
                b.push(Layer::MaxPool2 {
                    channels: 16,
                    h: g2.out_h(),
                    w: g2.out_w(),
                });
                let flat = 16 * (g2.out_h() / 2) * (g2.out_w() / 2);
                b.linear("fc1", flat, 120, true);
                b.linear("fc2", 120, 84, true);
                b.linear("fc3", 84, classes, false);
                Loss::SoftmaxCrossEntropy { classes }
            }
            ModelKind::Resnet18 => {
                resnet18(&mut b, input_shape, classes, opts)?;
                Loss::SoftmaxCrossEntropy { classes }
            }
        };
        Ok(Net {
            kind,
            nodes: b.nodes,
            layout: b.layout,
            buffers: b.buffers,
            input_shape,
            loss,
        })
    }

    /// The initial weights, seeded, in layout order. LeNet and the linear models use
    /// PyTorch's default: weights and biases from U(−1/√fan_in, 1/√fan_in). ResNet-18 uses
    /// torchvision's: convolutions from N(0, 2/fan_out), batch norm γ = 1 and β = 0, the
    /// classifier the default.
    pub fn init(&self, seed: u64) -> Vec<Vec<f32>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut values = vec![Vec::new(); self.layout.slots.len()];
        let len = |slot: usize| self.layout.slots[slot].len();
        for node in &self.nodes {
            match &node.layer {
                Layer::Linear {
                    inputs,
                    weight,
                    bias,
                    ..
                } => {
                    let bound = 1.0 / (*inputs as f64).sqrt();
                    for slot in [*weight, *bias] {
                        values[slot] = uniform(&mut rng, len(slot), bound);
                    }
                }
                Layer::Conv2d {
                    geom,
                    weight,
                    bias: Some(bias),
                    ..
                } => {
                    let bound = 1.0 / ((geom.in_c * geom.kernel * geom.kernel) as f64).sqrt();
                    for slot in [*weight, *bias] {
                        values[slot] = uniform(&mut rng, len(slot), bound);
                    }
                }
                Layer::Conv2d {
                    geom,
                    weight,
                    bias: None,
                    ..
                } => {
                    let std = (2.0 / (geom.out_c * geom.kernel * geom.kernel) as f64).sqrt();
                    values[*weight] = (0..len(*weight))
                        .map(|_| (std * standard_normal(&mut rng)) as f32)
                        .collect();
                }
                Layer::BatchNorm { weight, bias, .. } => {
                    values[*weight] = vec![1.0; len(*weight)];
                    values[*bias] = vec![0.0; len(*bias)];
                }
                _ => {}
            }
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
            if let Layer::BatchNorm { running_var, .. } = node.layer {
                values[running_var].fill(1.0);
            }
        }
        values
    }

    /// PyTorch's `num_batches_tracked` names, one per batch-norm layer.
    pub fn batches_tracked_names(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter_map(|n| match n.layer {
                Layer::BatchNorm { running_mean, .. } => {
                    let name = &self.buffers.slots[running_mean].name;
                    let prefix = name.strip_suffix("running_mean").unwrap_or(name);
                    Some(format!("{prefix}num_batches_tracked"))
                }
                _ => None,
            })
            .collect()
    }

    /// Whether some layer computes differently in training and evaluation.
    pub fn has_modes(&self) -> bool {
        self.nodes.iter().any(|n| n.layer.has_modes())
    }

    pub fn outputs(&self) -> usize {
        match self.loss {
            Loss::SoftmaxCrossEntropy { classes } => classes,
            Loss::MeanSquaredError { outputs } => outputs,
        }
    }

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

/// ResNet-18 for small images as in the CIFAR literature: a 3×3 stride-1 stem without
/// max-pooling, stages of 64/128/256/512 channels (times `width_mult`) with two BasicBlocks
/// each, 1×1 projection shortcuts where the shape changes, global average pooling and the
/// classifier. Names follow torchvision's `resnet18`, so checkpoints map one to one.
fn resnet18(
    b: &mut Builder,
    [c, h, w]: [usize; 3],
    classes: usize,
    opts: ModelOptions,
) -> Result<(), ModelError> {
    if h < 8 || w < 8 {
        return Err(ModelError(format!(
            "resnet18 needs images of at least 8×8, the data set has {h}×{w}"
        )));
    }
    let width = |n: usize| ((n as f64 * opts.width_mult).round() as usize).max(1);
    let conv = |in_c, out_c, kernel, stride, (in_h, in_w)| Conv {
        in_c,
        out_c,
        kernel,
        stride,
        pad: kernel / 2,
        in_h,
        in_w,
    };
    let stem = conv(c, width(64), 3, 1, (h, w));
    b.conv("conv1", stem, false, false);
    b.batch_norm("bn1", stem.out_c, stem.out_h() * stem.out_w(), true);
    let (mut ch, mut hw) = (stem.out_c, (stem.out_h(), stem.out_w()));
    for (stage, planes, stride) in [(1, 64, 1), (2, 128, 2), (3, 256, 2), (4, 512, 2)] {
        let out_c = width(planes);
        for block in 0..2 {
            let name = format!("layer{stage}.{block}");
            let s = if block == 0 { stride } else { 1 };
            let x = b.cur.expect("the stem comes first");
            let g1 = conv(ch, out_c, 3, s, hw);
            let out_hw = (g1.out_h(), g1.out_w());
            let pixels = out_hw.0 * out_hw.1;
            b.conv(&format!("{name}.conv1"), g1, false, false);
            b.batch_norm(&format!("{name}.bn1"), out_c, pixels, true);
            b.conv(
                &format!("{name}.conv2"),
                conv(out_c, out_c, 3, 1, out_hw),
                false,
                false,
            );
            b.batch_norm(&format!("{name}.bn2"), out_c, pixels, false);
            let main = b.cur.expect("just pushed");
            let shortcut = if s != 1 || ch != out_c {
                b.cur = Some(x);
                b.conv(
                    &format!("{name}.downsample.0"),
                    conv(ch, out_c, 1, s, hw),
                    false,
                    false,
                );
                b.batch_norm(&format!("{name}.downsample.1"), out_c, pixels, false);
                b.cur.expect("just pushed")
            } else {
                x
            };
            b.cur = Some(main);
            b.push(Layer::Add {
                other: shortcut,
                size: out_c * pixels,
                relu: true,
            });
            (ch, hw) = (out_c, out_hw);
        }
        if opts.dropout > 0.0 && (stage == 2 || stage == 4) {
            b.push(Layer::Dropout {
                p: opts.dropout,
                size: ch * hw.0 * hw.1,
            });
        }
    }
    b.push(Layer::AvgPool {
        channels: ch,
        hw: hw.0 * hw.1,
    });
    b.linear("fc", ch, classes, false);
    Ok(())
}

#[derive(Default)]
struct Builder {
    nodes: Vec<Node>,
    layout: ParamLayout,
    buffers: ParamLayout,
    /// The node the next layer reads (None: the network input).
    cur: Option<usize>,
}

impl Builder {
    fn push(&mut self, layer: Layer) {
        self.nodes.push(Node {
            layer,
            input: self.cur,
        });
        self.cur = Some(self.nodes.len() - 1);
    }

    fn linear(&mut self, name: &str, inputs: usize, outputs: usize, relu: bool) {
        let weight = self
            .layout
            .add(&format!("{name}.weight"), &[outputs, inputs]);
        let bias = self.layout.add(&format!("{name}.bias"), &[outputs]);
        self.push(Layer::Linear {
            inputs,
            outputs,
            relu,
            weight,
            bias,
        });
    }

    fn conv(&mut self, name: &str, geom: Conv, bias: bool, relu: bool) {
        let k = geom.kernel;
        let weight = self
            .layout
            .add(&format!("{name}.weight"), &[geom.out_c, geom.in_c, k, k]);
        let bias = bias.then(|| self.layout.add(&format!("{name}.bias"), &[geom.out_c]));
        self.push(Layer::Conv2d {
            geom,
            relu,
            weight,
            bias,
        });
    }

    fn batch_norm(&mut self, name: &str, channels: usize, hw: usize, relu: bool) {
        let weight = self.layout.add(&format!("{name}.weight"), &[channels]);
        let bias = self.layout.add(&format!("{name}.bias"), &[channels]);
        let running_mean = self
            .buffers
            .add(&format!("{name}.running_mean"), &[channels]);
        let running_var = self
            .buffers
            .add(&format!("{name}.running_var"), &[channels]);
        self.push(Layer::BatchNorm {
            channels,
            hw,
            relu,
            weight,
            bias,
            running_mean,
            running_var,
        });
    }
}
