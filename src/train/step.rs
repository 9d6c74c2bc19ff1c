//! One training step on the GPU, as `train` and `bench` both run it. The forward and
//! backward pass go in one submission; the update (after the line probes, when the rule
//! asks for them) in a second one, once η(t) is known; the scalars of step t are read back
//! while step t+1's forward and backward run.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context, Result};

use super::measure::Measure;
use super::replicas::Replicas;
use crate::data::Batch;
use crate::dist::DataParallel;
use crate::gpu::{Gpu, Params, Program, Tensor};
use crate::models::{probe_chunk, Net, Plan, ProbeSpec, StepOutputs, PROBES};
use crate::optim::{IterateAverage, Optimizer, OptimizerOptions, RuleUpdate};
use crate::schedule::{BackProbe, Dots, GradientReadings, Needs, Observation};

/// Everything one step needs on the GPU: the model's plans per batch size, η, the
/// optimizer, the measurements the rule needs, and the backups of `--on-nonfinite skip`.
pub struct Stepper {
    /// Shared, so that `bench` can build one step per rule on one device.
    pub gpu: Arc<Gpu>,
    /// The network: its layout, buffers and recorded passes.
    pub net: Net,
    /// The weights, gradients and running statistics on the GPU.
    pub params: Params,
    plans: HashMap<usize, Plan>,
    probe_weights: Option<Tensor>,
    /// What the plans' probes move along, and how many step sizes they evaluate.
    probe_direction: Tensor,
    probe_count: usize,
    /// The probes evaluate a batch of their own (`--probe-on val` or `fresh`).
    own_probe_batch: bool,
    lr: Tensor,
    /// w −= η·d, for the rules that only set η.
    update: Program,
    /// The optimizer that turns the gradient into the direction d(t), with its state.
    pub optimizer: Optimizer,
    /// The update of the rules that move the weights their own way.
    pub rule_update: Option<RuleUpdate>,
    /// `--average-gamma`: the iterate average the run is evaluated at.
    pub average: Option<IterateAverage>,
    /// The run's copy of w(0), for the rules that measure from it (checkpointed).
    pub origin: Option<Tensor>,
    /// The rule's measurements: dot products, norms, and their read-backs.
    pub measure: Measure,
    /// Whether this step's direction d(t) (and backup) went with its gradient, for the
    /// rules that measure d(t) before the update.
    direction_done: bool,
    /// The state before the last updates (weights, running statistics, optimizer and rule
    /// state), to restore (with --on-nonfinite skip, or for a rule that may undo an
    /// update). Two alternate: step t saves w(t) in `[t % 2]`.
    backup: Option<[Backup; 2]>,
    /// Which of the two backups holds a saved state: saved by this process, or loaded from
    /// the checkpoint it resumed from (which keeps both, so that the run continues exactly
    /// as it would have without the stop).
    filled: [bool; 2],
    /// --on-nonfinite skip: a step with a non-finite loss is discarded.
    discards_nonfinite: bool,
    /// η(t−1) as the GPU used it, for the back probe to w(t−1).
    previous_lr: Option<f32>,
    pending: Option<Pending>,
    /// Data-parallel training: the gradient and the scalars are the global batch's.
    replicas: Option<Replicas>,
}

/// Copies of the weights, running statistics, optimizer and rule state from before one
/// step's update.
struct Backup {
    save: Program,
    restore: Program,
    /// The copies, by what they copy (`weights`, `buffers`, `optimizer.NAME`, `rule.NAME`,
    /// `average.NAME`).
    copies: Vec<(String, Tensor)>,
}

/// A step whose update is submitted but whose scalars are not read yet.
struct Pending {
    /// The five probes' step sizes as the GPU got them.
    probe_steps: Option<[f64; 5]>,
    /// η(t−1) as the back probe used it, when it ran.
    back_probe_at: Option<f64>,
    /// Whether d(t−1) existed for this step's d(t−1)·g(t).
    had_previous: bool,
    step: usize,
    epoch: usize,
    batch: usize,
    lr: f64,
    submission: wgpu::SubmissionIndex,
}

/// What one step measured, read back.
pub struct Readings {
    /// The step, from 1.
    pub step: usize,
    /// The epoch it belongs to, from 0.
    pub epoch: usize,
    /// Samples in the step's batch.
    pub batch: usize,
    /// η(t), the rate the step's update used.
    pub lr: f64,
    /// The batch's loss and correct count at w(t).
    pub outputs: StepOutputs,
    /// The five probe losses f(w − s·d), when the step probed.
    pub probes: Option<[f64; 5]>,
    /// The step sizes s of those probes.
    pub probe_steps: Option<[f64; 5]>,
    /// The loss back at w(t−1), for the rules that check a step's effect.
    pub back_probe: Option<BackProbe>,
    /// d(t)·g(t), d(t−1)·g(t), w(t)·d(t) and d(t)·d(t) ([`Dots`]), for the rules that use
    /// them.
    pub dots: Option<Dots>,
    /// The sums of the rule's own update.
    pub sums: Vec<f64>,
}

/// How step t updates, once its rule has decided.
pub struct UpdateSpec<'a> {
    /// η(t).
    pub eta: f64,
    /// The five probes' step sizes, when the step probes.
    pub probe_steps: Option<[f64; 5]>,
    /// The probes' own batch (`--probe-on val` or `fresh`); else they score the step's batch.
    pub probe_batch: Option<&'a Batch>,
    /// The coefficients of the rule's own update.
    pub coefficients: Vec<f32>,
}

impl Readings {
    /// What the rule learns from.
    pub fn observation(&self) -> Observation {
        Observation {
            step: self.step,
            epoch: self.epoch,
            loss: self.outputs.loss,
            lr: self.lr,
            probes: self.probes,
            probe_steps: self.probe_steps,
            dots: self.dots,
            back_probe: self.back_probe,
            sums: self.sums.clone(),
        }
    }
}

/// What `Stepper::new` sets up.
pub struct StepConfig<'a> {
    /// The optimizer and its options.
    pub optimizer: &'a OptimizerOptions,
    /// What the rule measures, and so what the step records.
    pub needs: Needs,
    /// The batch size, laid out at once so that one too big for the adapter fails early.
    pub batch_size: usize,
    /// The probes score a batch of their own (`--probe-on val` or `fresh`).
    pub own_probe_batch: bool,
    /// Keep backups to discard a step with a non-finite loss (`--on-nonfinite skip`).
    pub backups: bool,
    /// `--average-gamma`: evaluate at the polynomial-decay average of the iterates.
    pub average_gamma: Option<f64>,
}

impl Stepper {
    /// Records the step's programs for `net` on `gpu` as `config` asks; fails early when
    /// the batch does not fit the adapter.
    pub fn new(gpu: Arc<Gpu>, net: Net, params: Params, config: StepConfig) -> Result<Stepper> {
        let needs = config.needs;
        needs.check().map_err(anyhow::Error::msg)?;
        // Five step sizes along d(t) (`probe`), or one along d(t−1), back to w(t−1) (`back_probe_every`).
        let probe_count = if needs.probe {
            PROBES
        } else if needs.back_probe_every > 0 {
            1
        } else {
            0
        };
        let probe_weights = if probe_count > 0 {
            // Five copies of the weights when they fit the binding limit, else one at a time.
            let chunk = probe_chunk(&gpu, &net, config.batch_size)
                .with_context(|| layout_error(&net, &gpu, config.batch_size))?
                .min(probe_count);
            Some(gpu.zeros("probe weights", &[chunk, params.values.len()])?)
        } else {
            None
        };
        let lr = gpu.zeros("learning rate", &[1])?;
        let optimizer = Optimizer::new(&gpu, config.optimizer, &params)?;
        let mut update = Program::new();
        crate::ops::sgd::step(&mut update, &gpu, &params.values, &optimizer.direction, &lr)?;
        // The weights are uploaded (or restored) before the step is built: w(0) is now.
        let origin = if needs.origin() {
            let origin = gpu.zeros("w(0)", &[params.values.len()])?;
            let mut copy = Program::new();
            copy.copy(&params.values, &origin);
            copy.run(&gpu)?;
            Some(origin)
        } else {
            None
        };
        let rule_update = RuleUpdate::new(
            &gpu,
            needs.update,
            &params,
            &optimizer.direction,
            origin.as_ref(),
            config.optimizer.weight_decay,
        )?;
        let average = match config.average_gamma {
            Some(gamma) => Some(IterateAverage::new(&gpu, &params, gamma)?),
            None => None,
        };
        let measure = Measure::new(&gpu, &params, &optimizer.direction, origin.as_ref(), needs)?;
        let probe_direction = match (measure.previous_direction(), needs.back_probe_every) {
            (Some(previous), 1..) => previous.clone(),
            _ => optimizer.direction.clone(),
        };
        let mut stepper = Stepper {
            gpu,
            net,
            params,
            plans: HashMap::new(),
            probe_weights,
            probe_direction,
            probe_count,
            own_probe_batch: config.own_probe_batch,
            lr,
            update,
            optimizer,
            rule_update,
            average,
            origin,
            measure,
            direction_done: false,
            backup: None,
            filled: [false; 2],
            discards_nonfinite: config.backups,
            previous_lr: None,
            pending: None,
            replicas: None,
        };
        stepper.plan(config.batch_size)?;
        if config.backups || needs.undo {
            stepper.backup = Some(stepper.backups()?);
        }
        Ok(stepper)
    }

    fn backups(&self) -> Result<[Backup; 2]> {
        let mut saved = Vec::new();
        for _ in 0..2 {
            let (mut save, mut restore) = (Program::new(), Program::new());
            let rule_state = self.rule_update.iter().flat_map(|u| &u.state);
            let average = self.average.iter().flat_map(|a| &a.state);
            // The running statistics too: a forward pass made at weights put back since
            // leaves no trace in them.
            let buffers = (!self.params.buffers.is_empty())
                .then(|| ("buffers".to_string(), &self.params.buffers));
            let live = std::iter::once(("weights".to_string(), &self.params.values))
                .chain(buffers)
                .chain(
                    self.optimizer
                        .state
                        .iter()
                        .map(|(n, x)| (format!("optimizer.{n}"), x)),
                )
                .chain(rule_state.map(|(n, x)| (format!("rule.{n}"), x)))
                .chain(average.map(|(n, x)| (format!("average.{n}"), x)));
            let mut copies = Vec::new();
            for (name, x) in live {
                let copy = self.gpu.zeros("state before the update", &[x.len()])?;
                save.copy(x, &copy);
                restore.copy(&copy, x);
                copies.push((name, copy));
            }
            saved.push(Backup {
                save,
                restore,
                copies,
            });
        }
        Ok(saved.try_into().ok().expect("two backups"))
    }

    /// The plan of `batch` samples, recorded on first use.
    pub fn plan(&mut self, batch: usize) -> Result<&Plan> {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.plans.entry(batch) {
            let spec = self
                .probe_weights
                .as_ref()
                .filter(|_| self.probe_count > 0)
                .map(|weights| ProbeSpec {
                    weights,
                    direction: &self.probe_direction,
                    count: self.probe_count,
                    own_batch: self.own_probe_batch,
                });
            let plan = Plan::with_probe(&self.gpu, &self.net, &self.params, batch, spec)
                .with_context(|| layout_error(&self.net, &self.gpu, batch))?;
            slot.insert(plan);
        }
        Ok(&self.plans[&batch])
    }

    /// Makes every step one rank's of data-parallel training in `data_parallel`: batches
    /// are this rank's shards, and the gradient and every scalar read back are the global
    /// batch's.
    pub fn distribute(&mut self, data_parallel: DataParallel) {
        let len = self.params.grads.len();
        self.replicas = Some(Replicas::new(&self.gpu, len, data_parallel));
    }

    /// In data-parallel training, whether every rank holds the same weights (downloads
    /// them); true outside it.
    pub fn replicas_agree(&self) -> Result<bool> {
        let Some(replicas) = &self.replicas else {
            return Ok(true);
        };
        let weights: Vec<f32> = self.gpu.read(&self.params.values)?;
        Ok(replicas.same_everywhere(&weights))
    }

    /// In data-parallel training, whether the ranks agreed to stop in the last readings
    /// exchange ([`Stepper::read`]); None outside it.
    pub fn stop_agreed(&self) -> Option<bool> {
        self.replicas.as_ref().map(Replicas::stop_agreed)
    }

    /// The data-parallel group this step is part of, if any.
    pub fn data_parallel(&self) -> Option<&DataParallel> {
        self.replicas.as_ref().map(|r| &r.data_parallel)
    }

    /// η(t−1) as the GPU used it (the back probe's step), kept in checkpoints.
    pub fn previous_lr(&self) -> Option<f32> {
        self.previous_lr
    }

    /// Sets η(t−1) (a resumed run's, from its checkpoint).
    pub fn set_previous_lr(&mut self, lr: f32) {
        self.previous_lr = Some(lr);
    }

    /// Whether a step with a non-finite loss is discarded (`--on-nonfinite skip`).
    pub fn discards_nonfinite(&self) -> bool {
        self.discards_nonfinite
    }

    /// Whether [`Stepper::restore_before`] can put back the state saved before step
    /// `step`'s update (or, when that step made none, the one saved before it).
    pub fn can_restore_before(&self, step: usize) -> bool {
        self.backup.is_some() && self.filled[step % 2]
    }

    /// The copies of saved state `slot` (0 or 1, a step's parity), by their names in a
    /// checkpoint's state file (`before_update.SLOT.WHAT`); none without backups.
    pub fn saved_state(&self, slot: usize) -> Vec<(String, &Tensor)> {
        (self.backup.iter())
            .flat_map(|saved| &saved[slot].copies)
            .map(|(n, x)| (format!("before_update.{slot}.{n}"), x))
            .collect()
    }

    /// Says that saved state `slot` holds what the checkpoint kept.
    pub fn loaded_saved_state(&mut self, slot: usize) {
        self.filled[slot] = true;
    }

    /// Bytes read back per step of the full batch.
    pub fn readback_bytes(&self, batch: usize) -> usize {
        self.plans[&batch].readback_bytes()
            + self.measure.readback_bytes()
            + self
                .rule_update
                .as_ref()
                .map_or(0, RuleUpdate::readback_bytes)
    }

    /// Records the backup of the state before step `step`'s update, and d(t).
    fn encode_direction(&mut self, step: usize, encoder: &mut wgpu::CommandEncoder) {
        if let Some(saved) = &self.backup {
            saved[step % 2].save.encode(encoder);
            self.filled[step % 2] = true;
        }
        if self
            .rule_update
            .as_ref()
            .is_none_or(RuleUpdate::uses_direction)
        {
            self.optimizer.encode(&self.gpu, step, encoder);
        }
    }

    /// Probes per forward pass, when the rule probes.
    pub fn probes_per_pass(&self) -> Option<usize> {
        self.probe_weights
            .as_ref()
            .map(|w| w.len() / self.params.values.len())
    }

    /// Submits the forward and backward pass of `batch`, and the measurements of g(t) the
    /// rule sets η(t) from, which it waits for: g(t)·d(t−1) with `grad_dot`, and when
    /// `measure` the [`Needs::gradient`] ones (d(t) is then computed here). `dropout_seed`:
    /// the run's seed.
    pub fn submit_gradient(
        &mut self,
        step: usize,
        batch: &Batch,
        dropout_seed: u64,
        measure: bool,
    ) -> Result<GradientReadings> {
        self.plan(batch.len)?;
        let plan = &self.plans[&batch.len];
        plan.write_batch(&self.gpu, &batch.x, &batch.y_class, &batch.y_value);
        // A rank's shard draws the masks one process draws for its samples.
        let first = match &self.replicas {
            Some(r) => r.first_sample(batch.whole),
            None => 0,
        };
        plan.set_dropout_shard(&self.gpu, dropout_seed, step as u64, first);
        let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
        plan.forward.encode(&mut encoder);
        plan.backward.encode(&mut encoder);
        if let Some(r) = &self.replicas {
            encoder = r.average_gradient(&self.gpu, &self.params.grads, encoder, batch.whole)?;
        }
        let measure = measure && self.measure.needs().gradient.any();
        if measure {
            self.encode_direction(step, &mut encoder);
        }
        self.direction_done = measure;
        let plan = &self.plans[&batch.len];
        let readings = self
            .measure
            .submit_gradient(&self.gpu, encoder, measure, plan)?;
        Ok(match &self.replicas {
            // Which readings exist is the same on every rank: they agree, or all skip.
            Some(r) if readings != GradientReadings::default() => {
                r.agree_gradient(readings, batch.len)
            }
            _ => readings,
        })
    }

    /// Submits step `step`'s update as `spec` says: d(t) (unless it went with the
    /// gradient), the measurements, the five probes when the step probes, on the probes'
    /// own batch or the step's, then w −= η·d or the rule's own update. Its scalars are read
    /// by the next [`Stepper::read`].
    pub fn submit_update(&mut self, step: usize, epoch: usize, batch: usize, spec: &UpdateSpec) {
        let eta = spec.eta;
        let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
        self.gpu.write(&self.lr, &[eta as f32]);
        if !self.direction_done {
            self.encode_direction(step, &mut encoder);
        }
        self.direction_done = false;
        let gpu = &self.gpu;
        let plan = &self.plans[&batch];
        let needs = self.measure.needs();
        let had_previous = self.measure.dots_have_previous();
        let mut back_probe_at = None;
        let every = needs.back_probe_every;
        // The back probe to w(t−1) = w(t) + η(t−1)·d(t−1), before d(t) replaces d(t−1).
        if let (true, Some(probe), Some(prev)) = (
            every > 0 && had_previous && step.is_multiple_of(every),
            &plan.probe,
            self.previous_lr,
        ) {
            gpu.write(&probe.steps, &[-prev]);
            probe.program.encode(&mut encoder);
            probe.copy_outputs(&mut encoder);
            back_probe_at = Some(f64::from(prev));
        }
        self.measure.encode_dots(&mut encoder);
        let mut gpu_steps = None;
        if let (Some(probe_steps), Some(probe)) =
            (spec.probe_steps.filter(|_| needs.probe), &plan.probe)
        {
            if let Some(vb) = spec.probe_batch {
                plan.write_probe_batch(gpu, &vb.x, &vb.y_class, &vb.y_value);
            }
            let steps = probe_steps.map(|v| v as f32);
            gpu_steps = Some(steps.map(f64::from));
            gpu.write(&probe.steps, &steps);
            probe.program.encode(&mut encoder);
            probe.copy_outputs(&mut encoder);
        }
        match &self.rule_update {
            Some(own) => own.encode(gpu, &spec.coefficients, &mut encoder),
            None => self.update.encode(&mut encoder),
        }
        if let Some(average) = &self.average {
            average.encode(&mut encoder);
        }
        plan.copy_outputs(&mut encoder);
        let submission = gpu.queue.submit([encoder.finish()]);
        self.measure.submitted();
        self.previous_lr = Some(eta as f32);
        self.pending = Some(Pending {
            probe_steps: gpu_steps,
            back_probe_at,
            had_previous,
            step,
            epoch,
            batch,
            lr: eta,
            submission,
        });
    }

    /// The scalars of the pending step, if any, waiting for them.
    pub fn read(&mut self) -> Result<Option<Readings>> {
        let Some(p) = self.pending.take() else {
            return Ok(None);
        };
        let gpu = &self.gpu;
        let plan = &self.plans[&p.batch];
        let outputs = plan.fetch_outputs_after(gpu, Some(p.submission.clone()))?;
        let probes: Option<[f64; 5]> = match (&plan.probe, p.probe_steps) {
            (Some(probe), Some(_)) => {
                let f = probe.fetch(gpu, Some(p.submission.clone()))?;
                Some(f.try_into().expect("five probes"))
            }
            _ => None,
        };
        let back_probe = match (&plan.probe, p.back_probe_at) {
            (Some(probe), Some(at)) => Some(BackProbe {
                start: probe.fetch(gpu, Some(p.submission.clone()))?[0],
                at,
            }),
            _ => None,
        };
        let dots = self.measure.read_dots(gpu, &p.submission, p.had_previous)?;
        let sums = match &self.rule_update {
            Some(own) => own.read_sums(gpu, &p.submission)?,
            None => Vec::new(),
        };
        let readings = Readings {
            step: p.step,
            epoch: p.epoch,
            batch: p.batch,
            lr: p.lr,
            outputs,
            probes,
            probe_steps: p.probe_steps,
            back_probe,
            dots,
            sums,
        };
        Ok(Some(match &self.replicas {
            Some(r) => r.agree_readings(readings),
            None => readings,
        }))
    }

    /// Puts the run's initial state back: w(0) and the buffers' (batch-norm statistics')
    /// initial values from `seed`, as a fresh run makes them, and zero optimizer state. For
    /// the rules whose update is w −= η·d (their own update state is not reset; Adam's bias
    /// correction goes on from the run's step count). An iterate average starts over at
    /// w(0).
    pub fn restart(&mut self, seed: u64) -> Result<()> {
        // Nothing saved before the restart is to be put back after it.
        self.filled = [false; 2];
        self.params.upload_all(&self.gpu, &self.net.init(seed));
        self.params
            .upload_buffers(&self.gpu, &self.net.init_buffers());
        for (_, x) in &self.optimizer.state {
            self.gpu.write(x, &vec![0f32; x.len()]);
        }
        if let Some(average) = &self.average {
            average.restart(&self.gpu)?;
        }
        self.measure.set_have_previous(false);
        Ok(())
    }

    /// Puts back the state saved before step `step`'s update (weights, running statistics,
    /// optimizer and rule state), and forgets d(t−1) (it may be the discarded one).
    pub fn restore_before(&mut self, step: usize) -> Result<()> {
        if let Some(saved) = &self.backup {
            saved[step % 2].restore.run(&self.gpu)?;
        }
        self.measure.set_have_previous(false);
        Ok(())
    }

    /// Puts the weights the run evaluates at in place (the iterate average with its
    /// statistics, or schedule-free's average x), keeping the training weights; false when
    /// the run evaluates where it trains.
    pub fn to_evaluation_weights(&self) -> Result<bool> {
        if let Some(average) = &self.average {
            average.to_average(&self.gpu)?;
            return Ok(true);
        }
        match &self.rule_update {
            Some(own) => own.to_average(&self.gpu),
            None => Ok(false),
        }
    }

    /// Puts the training weights back after [`Stepper::to_evaluation_weights`].
    pub fn to_training_weights(&self) -> Result<()> {
        if let Some(average) = &self.average {
            return average.back(&self.gpu);
        }
        match &self.rule_update {
            Some(own) => own.back_from_average(&self.gpu),
            None => Ok(()),
        }
    }

    /// Whether the batch-norm statistics are to be recomputed at the evaluation weights
    /// (schedule-free's recipe); the iterate average brings averaged statistics of its own.
    pub fn evaluation_recomputes_statistics(&self) -> bool {
        self.average.is_none()
    }

    /// A training-mode forward pass of `batch` and nothing else: the batch-norm running
    /// statistics move toward the batch's, the weights stay.
    pub fn forward_only(&mut self, batch: &Batch, dropout_seed: u64, step: u64) -> Result<()> {
        self.plan(batch.len)?;
        let plan = &self.plans[&batch.len];
        plan.write_batch(&self.gpu, &batch.x, &batch.y_class, &batch.y_value);
        plan.set_dropout_seed(&self.gpu, dropout_seed, step);
        let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
        plan.forward.encode(&mut encoder);
        self.gpu.queue.submit([encoder.finish()]);
        Ok(self.gpu.wait()?)
    }

    /// Mean loss and correct count of `batch` in evaluation mode.
    pub fn evaluate_batch(&mut self, batch: &Batch) -> Result<StepOutputs> {
        self.plan(batch.len)?;
        let plan = &self.plans[&batch.len];
        plan.write_batch(&self.gpu, &batch.x, &batch.y_class, &batch.y_value);
        let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
        plan.eval_forward().encode(&mut encoder);
        plan.copy_outputs(&mut encoder);
        let submission = self.gpu.queue.submit([encoder.finish()]);
        Ok(plan.fetch_outputs_after(&self.gpu, Some(submission))?)
    }
}

fn layout_error(net: &Net, gpu: &Gpu, batch: usize) -> String {
    format!(
        "cannot lay out {} at batch size {batch} on {}",
        net.kind.cli_name(),
        gpu.info.name
    )
}
