//! A model recorded for one batch size: the forward pass with its loss, the backward pass
//! into the flat gradient buffer, the evaluation pass and the five-point probe, as programs
//! recorded once and replayed every step.

use super::pool::Pool;
use super::probe::{Probe, ProbeSpec, PROBES};
use super::recorder::{Mode, Recorder, Weights};
use super::runtime::NodeRt;
use super::{Loss, Net};
use crate::gpu::{Gpu, GpuError, Params, Program, ReadBack, Tensor};
use crate::ops::{mse, reduce, softmax_xent};

/// Everything recorded for one batch size.
pub struct Plan {
    /// Samples per batch the programs were recorded for.
    pub batch: usize,
    /// `[batch, c, h, w]` inputs, written before each step.
    pub input: Tensor,
    /// Class indices (u32) for classifiers, target values (f32) for regression.
    pub targets: Tensor,
    /// Training forward pass (batch statistics, dropout), per-row loss and its partial sums.
    pub forward: Program,
    /// Loss gradient and the backward pass, overwriting the gradient buffer.
    pub backward: Program,
    /// Evaluation forward pass (running statistics, no dropout) writing the same loss
    /// outputs, for models whose layers differ between the modes.
    eval: Option<Program>,
    loss_partials: Tensor,
    correct_partials: Tensor,
    readback: ReadBack,
    loss: Loss,
    /// The dropout masks' (seed, step), written before each step.
    rng: Option<Tensor>,
    /// The batched five-point line probe, for schedules that ask for it.
    pub probe: Option<Probe>,
}

/// The scalars one forward pass produces, summed in f64.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepOutputs {
    /// Mean loss over the batch.
    pub loss: f64,
    /// Correctly classified samples (0 for regression).
    pub correct: f64,
}

impl Plan {
    /// Records the plan; with `probe_weights` (a `[chunk, params]` buffer shared by all
    /// plans, see [`probe_chunk`](super::probe_chunk)) also the five-point probe along the
    /// gradient.
    pub fn new(
        gpu: &Gpu,
        net: &Net,
        params: &Params,
        batch: usize,
        probe_weights: Option<&Tensor>,
    ) -> Result<Plan, GpuError> {
        Plan::with_direction(gpu, net, params, batch, probe_weights, &params.grads, false)
    }

    /// [`Plan::new`] with probes along `direction`, the optimizer's step direction d
    /// (the gradient for plain SGD): f(η) = L(w − η·d).
    /// With `probe_own_batch` the probes evaluate a batch of their own, written to
    /// [`Probe::input`] (`--probe-on val`).
    #[allow(clippy::too_many_arguments)]
    pub fn with_direction(
        gpu: &Gpu,
        net: &Net,
        params: &Params,
        batch: usize,
        probe_weights: Option<&Tensor>,
        direction: &Tensor,
        probe_own_batch: bool,
    ) -> Result<Plan, GpuError> {
        let spec = probe_weights.map(|weights| ProbeSpec {
            weights,
            direction,
            count: PROBES,
            own_batch: probe_own_batch,
        });
        Plan::with_probe(gpu, net, params, batch, spec)
    }

    /// [`Plan::new`] with the probes `spec` describes.
    pub fn with_probe(
        gpu: &Gpu,
        net: &Net,
        params: &Params,
        batch: usize,
        spec: Option<ProbeSpec>,
    ) -> Result<Plan, GpuError> {
        let probe_weights = spec.as_ref().map(|s| s.weights);
        let sample = net.sample_size();
        let input = gpu.zeros("input", &[batch, sample])?;
        let outputs = net.outputs();
        let targets = match net.loss {
            Loss::SoftmaxCrossEntropy { .. } => gpu.zeros("labels", &[batch])?,
            Loss::MeanSquaredError { .. } => gpu.zeros("targets", &[batch * outputs])?,
        };
        let chunk = spec.as_ref().map(|s| {
            if s.weights.len() / params.values.len() >= s.count {
                s.count
            } else {
                1
            }
        });
        let rts = NodeRt::all(gpu, net, batch, chunk)?;
        let draws_random = net.nodes.iter().any(|n| n.layer.kind().draws_random());
        let rng = if draws_random {
            Some(gpu.zeros("dropout seed", &[3])?)
        } else {
            None
        };
        let mut pool = Pool::default();
        let mut forward = Program::new();
        let pre0 = match probe_weights {
            Some(_) => Some(gpu.zeros(
                "layer 0 pre-activation",
                &[batch * net.nodes[0].layer.output_size()],
            )?),
            None => None,
        };
        let train = Recorder {
            gpu,
            net,
            params,
            rts: &rts,
            batch,
            weights: Weights {
                values: &params.values,
                stride: 0,
                probes: 1,
            },
            mode: Mode::Train,
            rng: rng.as_ref(),
            probe_saved: None,
        };
        let acts = train.network_keeping_all(&mut forward, &input, pre0.as_ref())?;
        let logits = &acts.last().expect("a model has layers").t;
        let rows = match net.loss {
            Loss::SoftmaxCrossEntropy { .. } => batch,
            Loss::MeanSquaredError { .. } => batch * outputs,
        };
        let per_row = gpu.zeros("per-row loss", &[rows])?;
        let correct = gpu.zeros("correct", &[batch])?;
        let loss_partials = gpu.zeros("loss partials", &[reduce::partial_count(rows)])?;
        let correct_partials = gpu.zeros("correct partials", &[reduce::partial_count(batch)])?;
        let record_loss = |prog: &mut Program, logits: &Tensor| -> Result<(), GpuError> {
            match net.loss {
                Loss::SoftmaxCrossEntropy { classes } => {
                    softmax_xent::forward(
                        prog, gpu, logits, &targets, &per_row, &correct, batch, classes,
                    )?;
                    reduce::sum(prog, gpu, &correct, &correct_partials)?;
                }
                Loss::MeanSquaredError { .. } => {
                    mse::forward(prog, gpu, logits, &targets, &per_row)?;
                }
            }
            reduce::sum(prog, gpu, &per_row, &loss_partials)
        };
        record_loss(&mut forward, logits)?;

        let dlogits = gpu.zeros("dlogits", &[batch * outputs])?;
        let mut backward = Program::new();
        match net.loss {
            Loss::SoftmaxCrossEntropy { classes } => softmax_xent::backward(
                &mut backward,
                gpu,
                logits,
                &targets,
                &dlogits,
                batch,
                classes,
                1.0,
            )?,
            Loss::MeanSquaredError { .. } => {
                mse::backward(&mut backward, gpu, logits, &targets, &dlogits, 1.0)?
            }
        }
        train.backward(&mut backward, &input, &acts, dlogits, &mut pool)?;

        let eval = if net.has_modes() {
            let mut prog = Program::new();
            let rec = Recorder {
                mode: Mode::Eval,
                ..train
            };
            let out = rec.network(&mut prog, &input, None, &mut pool)?;
            record_loss(&mut prog, &out.t)?;
            pool.give(&out.t);
            Some(prog)
        } else {
            None
        };

        let readback = ReadBack::new(
            gpu,
            "step scalars",
            loss_partials.len() + correct_partials.len(),
        );
        let probe = match spec {
            Some(spec) => Some(Probe::new(
                &train,
                &spec,
                &input,
                &targets,
                pre0.as_ref().expect("kept when probing"),
                &mut pool,
            )?),
            None => None,
        };
        Ok(Plan {
            probe,
            batch,
            input,
            targets,
            forward,
            backward,
            eval,
            loss_partials,
            correct_partials,
            readback,
            loss: net.loss,
            rng,
        })
    }

    /// The forward pass that scores a test batch: the evaluation-mode pass for models
    /// with batch norm or dropout, the training forward otherwise.
    pub fn eval_forward(&self) -> &Program {
        self.eval.as_ref().unwrap_or(&self.forward)
    }

    /// Seeds the step's dropout masks (the probes of the step reuse them); a no-op for
    /// models without dropout.
    pub fn set_dropout_seed(&self, gpu: &Gpu, seed: u64, step: u64) {
        self.set_dropout_shard(gpu, seed, step, 0);
    }

    /// [`Plan::set_dropout_seed`] for a batch that is the shard of a global batch starting
    /// at its sample `first` (data-parallel training): the masks are those one process
    /// draws for these samples of the global batch.
    pub fn set_dropout_shard(&self, gpu: &Gpu, seed: u64, step: u64, first: usize) {
        if let Some(rng) = &self.rng {
            let mixed = (seed ^ (seed >> 32)) as u32;
            gpu.write(rng, &[mixed, step as u32, first as u32]);
        }
    }

    /// Bytes one training step reads back: the loss and accuracy partial sums, and the
    /// five probes' partial sums when probing.
    pub fn readback_bytes(&self) -> usize {
        self.readback.bytes() + self.probe.as_ref().map_or(0, Probe::readback_bytes)
    }

    /// The partial sums of the batch's loss, which add up to [`Plan::loss_rows`] times its mean.
    pub fn loss_partials(&self) -> &Tensor {
        &self.loss_partials
    }

    /// The rows the loss is the mean over: samples, or samples × outputs for regression.
    pub fn loss_rows(&self) -> usize {
        match self.loss {
            Loss::SoftmaxCrossEntropy { .. } => self.batch,
            Loss::MeanSquaredError { outputs } => self.batch * outputs,
        }
    }

    /// Records the copies of this step's loss and accuracy partials for read-back.
    pub fn copy_outputs(&self, encoder: &mut wgpu::CommandEncoder) {
        self.readback.copy_from(encoder, &self.loss_partials, 0);
        self.readback
            .copy_from(encoder, &self.correct_partials, self.loss_partials.len());
    }

    /// Waits for the copies of [`Plan::copy_outputs`] and sums them in f64.
    pub fn fetch_outputs(&self, gpu: &Gpu) -> Result<StepOutputs, GpuError> {
        self.fetch_outputs_after(gpu, None)
    }

    /// [`Plan::fetch_outputs`] waiting only for `submission`.
    pub fn fetch_outputs_after(
        &self,
        gpu: &Gpu,
        submission: Option<wgpu::SubmissionIndex>,
    ) -> Result<StepOutputs, GpuError> {
        let v: Vec<f32> = self.readback.fetch_after(gpu, submission)?;
        let (loss, correct) = v.split_at(self.loss_partials.len());
        Ok(StepOutputs {
            loss: reduce::loss_mean(loss, self.loss_rows()),
            correct: reduce::combine(correct),
        })
    }

    /// Uploads a batch's inputs and targets; `labels` for classifiers, `values` otherwise.
    pub fn write_batch(&self, gpu: &Gpu, x: &[f32], labels: &[u32], values: &[f32]) {
        gpu.write(&self.input, x);
        match self.loss {
            Loss::SoftmaxCrossEntropy { .. } => gpu.write(&self.targets, labels),
            Loss::MeanSquaredError { .. } => gpu.write(&self.targets, values),
        }
    }

    /// Uploads the probes' own batch (`--probe-on val`); the first `batch` samples of the
    /// given ones are used.
    pub fn write_probe_batch(&self, gpu: &Gpu, x: &[f32], labels: &[u32], values: &[f32]) {
        let Some((input, targets)) = self.probe.as_ref().and_then(|p| p.input.as_ref()) else {
            return;
        };
        gpu.write(input, &x[..input.len()]);
        match self.loss {
            Loss::SoftmaxCrossEntropy { .. } => gpu.write(targets, &labels[..targets.len()]),
            Loss::MeanSquaredError { .. } => gpu.write(targets, &values[..targets.len()]),
        }
    }
}
