//! The fully connected layer, `y = x·Wᵀ + b` with PyTorch's `[out, in]` weight, on the
//! matmul kernels with bias and ReLU in the epilogue.

use rand_chacha::ChaCha8Rng;

use super::{uniform, Along, Backward, Forward, LayerKind};
use crate::gpu::{GpuError, ParamLayout, Program};
use crate::ops::bias;
use crate::ops::matmul::{self, Epilogue, Mat};

/// `y = x·Wᵀ + b` with PyTorch's `[out, in]` weight, optionally followed by ReLU. Parameters
/// are slot indices into the model's parameter layout.
#[derive(Clone, Debug)]
pub struct Linear {
    /// Input features per sample.
    pub inputs: usize,
    /// Output features per sample.
    pub outputs: usize,
    /// Whether a ReLU follows the bias.
    pub relu: bool,
    /// Parameter slot of the weight, `[outputs, inputs]`.
    pub weight: usize,
    /// Parameter slot of the bias, `[outputs]`.
    pub bias: usize,
}

impl LayerKind for Linear {
    fn output_size(&self) -> usize {
        self.outputs
    }

    fn fused_relu(&self) -> bool {
        self.relu
    }

    fn take_relu(&mut self) -> bool {
        std::mem::replace(&mut self.relu, false)
    }

    /// Linear outputs stay contiguous across probes: the loss reads them as rows.
    fn probe_segment(&self, n: usize, _probes: usize) -> usize {
        n
    }

    /// PyTorch's default: weight and bias from U(−1/√fan_in, 1/√fan_in).
    fn init(&self, rng: &mut ChaCha8Rng, layout: &ParamLayout, values: &mut [Vec<f32>]) {
        let bound = 1.0 / (self.inputs as f64).sqrt();
        for slot in [self.weight, self.bias] {
            values[slot] = uniform(rng, layout.slots[slot].len(), bound);
        }
    }

    /// One batched matmul over all probes: each probe's weights are `stride` apart, the
    /// network input is shared by all of them.
    fn forward(&self, prog: &mut Program, f: &Forward) -> Result<(), GpuError> {
        let (rec, weights) = (f.rec, &f.rec.weights);
        let slot = |i: usize| rec.net.layout.slots[i].offset;
        let (inputs, outputs, batch) = (self.inputs, self.outputs, rec.batch);
        let epi = Epilogue {
            bias: Some((weights.values, slot(self.bias))),
            bias_batch_stride: weights.stride,
            relu: self.relu,
            accumulate: false,
        };
        let wt = Mat::at(weights.values, slot(self.weight), outputs, inputs)
            .transposed()
            .with_batch_stride(weights.stride);
        let xm = match f.srcs.first() {
            None => Mat::new(f.input, batch, inputs).shared(),
            Some(a) => Mat::new(&a.t, batch, inputs).with_batch_stride(a.seg),
        };
        let ym = Mat::new(&f.y.t, batch, outputs);
        matmul::record(prog, rec.gpu, &xm, &wt, &ym, f.probes(), epi)
    }

    fn forward_along(&self, prog: &mut Program, a: &Along) -> Result<(), GpuError> {
        let s = |i: usize| a.net.layout.slots[i].offset;
        let epi = Epilogue {
            bias: Some((a.direction, s(self.bias))),
            ..Default::default()
        };
        let wt = Mat::at(a.direction, s(self.weight), self.outputs, self.inputs).transposed();
        let xm = Mat::new(a.input, a.batch, self.inputs);
        let out = Mat::new(a.out, a.batch, self.outputs);
        matmul::record(prog, a.gpu, &xm, &wt, &out, 1, epi)
    }

    fn backward(&self, prog: &mut Program, b: &Backward) -> Result<(), GpuError> {
        let (gpu, params, batch) = (b.gpu, b.params, b.batch);
        let (inputs, outputs) = (self.inputs, self.outputs);
        let (w, gw, gb) = (
            params.value(self.weight),
            params.grad(self.weight),
            params.grad(self.bias),
        );
        let dzm = Mat::new(b.dz, batch, outputs);
        // dW [out, in] = dZᵀ · X
        matmul::record(
            prog,
            gpu,
            &dzm.clone().transposed(),
            &Mat::new(b.x, batch, inputs),
            &Mat::new(&gw, outputs, inputs),
            1,
            Epilogue::default(),
        )?;
        bias::backward(prog, gpu, b.dz, &gb, batch, outputs, false)?;
        if let Some((dx, acc)) = b.dx() {
            // dX [B, in] = dZ · W
            let epi = Epilogue {
                accumulate: acc,
                ..Default::default()
            };
            matmul::record(
                prog,
                gpu,
                &dzm,
                &Mat::new(&w, outputs, inputs),
                &Mat::new(dx, batch, inputs),
                1,
                epi,
            )?;
        }
        Ok(())
    }
}
