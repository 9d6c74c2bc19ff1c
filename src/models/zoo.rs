//! The model zoo: the paper's models built layer by layer, with torchvision's tensor
//! names so that checkpoints map one to one.

use super::{
    Add, AvgPool, BatchNorm, Conv, Convolution, Dropout, Layer, Linear, Loss, MaxPool2, ModelError,
    ModelKind, ModelOptions, Net, Node,
};
use crate::gpu::ParamLayout;

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
        opts.check(kind)?;
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
                b.push(Layer::MaxPool2(MaxPool2 {
                    channels: 6,
                    h: g1.out_h(),
                    w: g1.out_w(),
                }));
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
                b.push(Layer::MaxPool2(MaxPool2 {
                    channels: 16,
                    h: g2.out_h(),
                    w: g2.out_w(),
                }));
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
            b.push(Layer::Add(Add {
                other: shortcut,
                size: out_c * pixels,
                relu: true,
            }));
            (ch, hw) = (out_c, out_hw);
        }
        if opts.dropout > 0.0 && (stage == 2 || stage == 4) {
            b.push(Layer::Dropout(Dropout {
                p: opts.dropout,
                size: ch * hw.0 * hw.1,
            }));
        }
    }
    b.push(Layer::AvgPool(AvgPool {
        channels: ch,
        hw: hw.0 * hw.1,
    }));
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
        self.push(Layer::Linear(Linear {
            inputs,
            outputs,
            relu,
            weight,
            bias,
        }));
    }

    fn conv(&mut self, name: &str, geom: Conv, bias: bool, relu: bool) {
        let k = geom.kernel;
        let weight = self
            .layout
            .add(&format!("{name}.weight"), &[geom.out_c, geom.in_c, k, k]);
        let bias = bias.then(|| self.layout.add(&format!("{name}.bias"), &[geom.out_c]));
        self.push(Layer::Conv2d(Convolution {
            geom,
            relu,
            weight,
            bias,
        }));
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
        self.push(Layer::BatchNorm(BatchNorm {
            channels,
            hw,
            relu,
            weight,
            bias,
            running_mean,
            running_var,
        }));
    }
}
