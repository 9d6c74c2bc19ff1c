//! The paper's models as layer lists over one flat parameter buffer, with PyTorch's tensor
//! names, layouts and default initialisation.

mod plan;

pub use plan::{Plan, Probe, StepOutputs, PROBES};

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
}

impl ModelKind {
    pub fn cli_name(self) -> &'static str {
        match self {
            ModelKind::Linreg => "linreg",
            ModelKind::Logreg => "logreg",
            ModelKind::Lenet => "lenet",
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

/// One layer; parameters are slot indices into the model's [`ParamLayout`].
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
    /// 2-D convolution (NCHW, weight `[out, in, k, k]`), optionally followed by ReLU.
    Conv2d {
        geom: Conv,
        relu: bool,
        weight: usize,
        bias: usize,
    },
    /// 2×2 max-pooling with stride 2 over `channels × h × w`.
    MaxPool2 { channels: usize, h: usize, w: usize },
}

impl Layer {
    /// Elements per sample that the layer outputs.
    pub fn output_size(&self) -> usize {
        match self {
            Layer::Linear { outputs, .. } => *outputs,
            Layer::Conv2d { geom, .. } => geom.out_c * geom.out_h() * geom.out_w(),
            Layer::MaxPool2 { channels, h, w } => channels * (h / 2) * (w / 2),
        }
    }
}

/// What the last layer's output is scored with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    SoftmaxCrossEntropy { classes: usize },
    MeanSquaredError { outputs: usize },
}

/// A model: its layers, its parameter layout and what it expects as input.
#[derive(Clone, Debug)]
pub struct Net {
    pub kind: ModelKind,
    pub layers: Vec<Layer>,
    pub layout: ParamLayout,
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
        let features: usize = input_shape.iter().product();
        let mut b = Builder::default();
        let loss = match kind {
            ModelKind::Linreg => {
                if classes != 0 {
                    return Err(ModelError(format!(
                        "linreg is a regression model but the data set has {classes} classes; \
                         use --model logreg or lenet for classification"
                    )));
                }
                b.linear("fc", features, 1, false);
                Loss::MeanSquaredError { outputs: 1 }
            }
            ModelKind::Logreg | ModelKind::Lenet if classes == 0 => {
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
                b.conv("conv1", g1, true);
                b.layers.push(Layer::MaxPool2 {
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
                b.conv("conv2", g2, true);
                b.layers.push(Layer::MaxPool2 {
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
        };
        Ok(Net {
            kind,
            layers: b.layers,
            layout: b.layout,
            input_shape,
            loss,
        })
    }

    /// PyTorch's default initialisation, seeded: weights and biases of every layer drawn
    /// from U(−1/√fan_in, 1/√fan_in) (kaiming_uniform with a = √5 for the weights).
    pub fn init(&self, seed: u64) -> Vec<Vec<f32>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut values = vec![Vec::new(); self.layout.slots.len()];
        for layer in &self.layers {
            let (fan_in, weight, bias) = match layer {
                Layer::Linear {
                    inputs,
                    weight,
                    bias,
                    ..
                } => (*inputs, *weight, *bias),
                Layer::Conv2d {
                    geom, weight, bias, ..
                } => (geom.in_c * geom.kernel * geom.kernel, *weight, *bias),
                Layer::MaxPool2 { .. } => continue,
            };
            let bound = 1.0 / (fan_in as f64).sqrt();
            for slot in [weight, bias] {
                let n = self.layout.slots[slot].len();
                values[slot] = (0..n)
                    .map(|_| rng.random_range(-bound..bound) as f32)
                    .collect();
            }
        }
        values
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
}

#[derive(Default)]
struct Builder {
    layers: Vec<Layer>,
    layout: ParamLayout,
}

impl Builder {
    fn linear(&mut self, name: &str, inputs: usize, outputs: usize, relu: bool) {
        let weight = self
            .layout
            .add(&format!("{name}.weight"), &[outputs, inputs]);
        let bias = self.layout.add(&format!("{name}.bias"), &[outputs]);
        self.layers.push(Layer::Linear {
            inputs,
            outputs,
            relu,
            weight,
            bias,
        });
    }

    fn conv(&mut self, name: &str, geom: Conv, relu: bool) {
        let k = geom.kernel;
        let weight = self
            .layout
            .add(&format!("{name}.weight"), &[geom.out_c, geom.in_c, k, k]);
        let bias = self.layout.add(&format!("{name}.bias"), &[geom.out_c]);
        self.layers.push(Layer::Conv2d {
            geom,
            relu,
            weight,
            bias,
        });
    }
}
