//! A training step as one rank of data-parallel training runs it: the step's gradient is
//! the global batch's mean before anything reads it (the optimizer, the rule's
//! measurements, the update), and every scalar read back is the global batch's, so that
//! every rank's rule sees the same observation and takes the same η.

use std::cell::Cell;
use std::time::Instant;

use anyhow::Result;

use super::step::Readings;
use crate::dist::{DataParallel, Scalars};
use crate::gpu::{Gpu, ReadBack, Tensor};
use crate::schedule::{BackProbe, Dots, GradientReadings};

/// One rank's data-parallel state in a [`super::Stepper`]: its group, the staging buffer
/// the gradient goes to the host through, and whether the ranks have agreed to stop.
pub struct Replicas {
    /// The group of ranks and what this one spent communicating.
    pub data_parallel: DataParallel,
    readback: ReadBack,
    stop: Cell<bool>,
}

impl Replicas {
    /// Data-parallel steps in `data_parallel` over a gradient of `len` values.
    pub fn new(gpu: &Gpu, len: usize, data_parallel: DataParallel) -> Replicas {
        Replicas {
            data_parallel,
            readback: ReadBack::new(gpu, "gradient for the exchange", len),
            stop: Cell::new(false),
        }
    }

    /// The position in a global batch of `whole` samples of this rank's first sample: its
    /// dropout masks are drawn from there, so that they are the ones one process draws.
    pub fn first_sample(&self, whole: usize) -> usize {
        self.data_parallel.shard().range(whole).start
    }

    /// Submits `encoder` (the forward and backward pass of this rank's shard of a batch of
    /// `whole` samples), replaces the gradient `grads` by the global batch's mean, and
    /// returns a fresh encoder for what reads it.
    pub fn average_gradient(
        &self,
        gpu: &Gpu,
        grads: &Tensor,
        encoder: wgpu::CommandEncoder,
        whole: usize,
    ) -> Result<wgpu::CommandEncoder> {
        // The backward first, waited for apart, so that the transfer's time is its own.
        let backward = gpu.queue.submit([encoder.finish()]);
        let waited = gpu.device.poll(wgpu::PollType::Wait {
            submission_index: Some(backward),
            timeout: None,
        });
        waited.map_err(|e| anyhow::anyhow!("waiting for the backward pass: {e}"))?;
        let started = Instant::now();
        let mut copy = gpu.device.create_command_encoder(&Default::default());
        self.readback.copy_from(&mut copy, grads, 0);
        let submission = gpu.queue.submit([copy.finish()]);
        let local: Vec<f32> = self.readback.fetch_after(gpu, Some(submission))?;
        self.data_parallel
            .add_transfer(started.elapsed().as_secs_f64());
        let mean = self.data_parallel.mean_gradient(&local, whole);
        let started = Instant::now();
        gpu.write(grads, &mean);
        self.data_parallel
            .add_transfer(started.elapsed().as_secs_f64());
        Ok(gpu.device.create_command_encoder(&Default::default()))
    }

    /// Whether every rank holds the same `weights`, compared by a 64-bit hash of their bits:
    /// they should, since every rank applies the same update to the same gradient, unless
    /// adapters of different kinds round differently.
    pub fn same_everywhere(&self, weights: &[f32]) -> bool {
        // FNV-1a, split into halves that f64 holds exactly.
        let hash = weights.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, w| {
            (h ^ u64::from(w.to_bits())).wrapping_mul(0x0100_0000_01b3)
        });
        let halves = [(hash >> 32) as f64, (hash & 0xffff_ffff) as f64];
        let all = self
            .data_parallel
            .group()
            .all_gather("weights check", &halves);
        all.chunks_exact(2).all(|theirs| theirs == halves)
    }

    /// The gradient measurements of the global batch from this rank's, made on `samples`
    /// samples: the loss is a shard mean, the rest are of the replicated state.
    pub fn agree_gradient(&self, r: GradientReadings, samples: usize) -> GradientReadings {
        let local = Scalars {
            means: r.loss.into_iter().collect(),
            sums: Vec::new(),
            replicated: [r.dot, r.norm, r.previous_norm, r.distance, r.origin_norm]
                .into_iter()
                .flatten()
                .collect(),
        };
        let (agreed, _) = self
            .data_parallel
            .agree("gradient measurement", samples, &local);
        let mut replicated = agreed.replicated.into_iter();
        let mut next = |x: Option<f64>| x.and_then(|_| replicated.next());
        GradientReadings {
            dot: next(r.dot),
            norm: next(r.norm),
            previous_norm: next(r.previous_norm),
            distance: next(r.distance),
            origin_norm: next(r.origin_norm),
            loss: agreed.means.first().copied(),
        }
    }

    /// Whether a stop was requested (Ctrl-C, SIGTERM) on any rank by the last exchange of
    /// readings: the same answer on every rank, which then stop after the same step.
    pub fn stop_agreed(&self) -> bool {
        self.stop.get()
    }

    /// The global batch's readings from this rank's: the loss, the probes and the back
    /// probe are shard means, the correct count a sum, the dots and the rule's sums are of
    /// the replicated state; `batch` becomes the global batch's size. The same exchange
    /// carries this rank's stop request ([`Replicas::stop_agreed`]), a flag summed over the
    /// ranks, which saves a collective per step.
    pub fn agree_readings(&self, r: Readings) -> Readings {
        let mut means = vec![r.outputs.loss];
        means.extend(r.probes.iter().flatten());
        means.extend(r.back_probe.map(|b| b.start));
        let mut replicated = Vec::new();
        if let Some(d) = &r.dots {
            replicated.extend([d.own, d.weights, d.norm]);
            replicated.extend(d.cross);
        }
        replicated.extend(&r.sums);
        let stop = super::interrupt::stop_requested();
        let local = Scalars {
            means,
            sums: vec![r.outputs.correct, f64::from(u8::from(stop))],
            replicated,
        };
        let (agreed, whole) = self.data_parallel.agree("step readings", r.batch, &local);
        if agreed.sums[1] > 0.0 {
            self.stop.set(true);
        }
        // Past f32 as one process's sum of the whole batch would be, not only each shard's.
        let mut means = agreed
            .means
            .into_iter()
            .map(|mean| crate::ops::reduce::past_f32(mean, whole));
        let loss = means.next().expect("the loss");
        let probes = r
            .probes
            .map(|_| std::array::from_fn(|_| means.next().expect("probe")));
        let back_probe = r.back_probe.map(|b| BackProbe {
            start: means.next().expect("back probe"),
            at: b.at,
        });
        let mut replicated = agreed.replicated.into_iter();
        let dots = r.dots.map(|d| Dots {
            own: replicated.next().expect("dot"),
            weights: replicated.next().expect("dot"),
            norm: replicated.next().expect("dot"),
            cross: d.cross.and_then(|_| replicated.next()),
        });
        Readings {
            batch: whole,
            outputs: crate::models::StepOutputs {
                loss,
                correct: agreed.sums[0],
            },
            probes,
            back_probe,
            dots,
            sums: replicated.collect(),
            ..r
        }
    }
}
