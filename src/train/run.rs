//! The training loop: steps, epochs, evaluation, and what a run records as it goes. Two
//! submissions and one small read-back per step (`step.rs`; a second read-back, waited for,
//! for the rules that set η from the gradient); the rule decides η on the host from what the
//! step measured.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};

use super::args::{ProbeOn, TrainConfig};
use super::commit::CHECKPOINT;
use super::interrupt::{self, Diverged, Interrupted};
use super::progress::{Progress, Scored};
use super::resume::{self, Discarded, EpochSums, Start};
use super::step::{Readings, Stepper, UpdateSpec};
use crate::data::{Batch, Dataset, Shard, Which};
use crate::dist::{DataParallel, Traffic};
use crate::rundir::{EpochRecord, RunFiles, StepRecord};
use crate::schedule::Schedule;

/// A run set up by [`super::setup::prepare`]: data loaded, model on the GPU, run directory
/// made.
pub struct Trainer {
    pub(super) args: TrainConfig,
    pub(super) data: Dataset,
    /// The validation split held out of the training set (--val-split, --probe-on val).
    pub(super) val: Option<Dataset>,
    /// Where the probes evaluate: the step's batch, a batch of `val`, or another batch of
    /// `data` (--probe-on).
    pub(super) probe_on: ProbeOn,
    /// --val-split given: `val` is evaluated at every epoch's end.
    pub(super) evaluate_val: bool,
    pub(super) stepper: Stepper,
    pub(super) schedule: Box<dyn Schedule>,
    /// The run directory's records; None on the ranks of data-parallel training other than
    /// rank 0, which write nothing.
    pub(super) files: Option<RunFiles>,
    /// The run directory.
    pub(super) out: PathBuf,
    pub(super) progress: Progress,
    pub(super) clock: Instant,
    pub(super) start: Start,
    /// The running sums of the current epoch.
    pub(super) sums: EpochSums,
    pub(super) tally: Tally,
    /// The next step's batch is discarded: an update was undone or the run restarted, so
    /// that a gradient taken before it is stale. Kept in checkpoints: where the last step's
    /// scalars were read (inside the next step, or before a checkpoint, an evaluation or an
    /// epoch's end) changes nothing. (A step discarded for a non-finite loss owes nothing:
    /// --on-nonfinite skip reads every step before the next gradient is taken.)
    pub(super) discard_next: bool,
    /// The MD5 of the data it trains and evaluates on ([`Dataset::fingerprint`], in hex),
    /// kept in each checkpoint so that a resume on other data is refused.
    pub(super) dataset_md5: String,
    pub(super) per_epoch: usize,
    pub(super) total_steps: usize,
    /// This run's hold on its directory, released when the trainer is dropped (rank 0's
    /// alone in data-parallel training).
    pub(super) _lock: Option<crate::rundir::RunLock>,
}

/// Panics at the start of step `step` on rank `rank` when `ETAPROBE_PANIC_AT=RANK@STEP`,
/// for the test that a panicking rank stops a data-parallel job at once. Debug builds only.
fn panic_point(rank: usize, step: usize) {
    #[cfg(debug_assertions)]
    if let Ok(spec) = std::env::var("ETAPROBE_PANIC_AT") {
        if spec == format!("{rank}@{step}") {
            panic!("ETAPROBE_PANIC_AT: panicking at step {step}");
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = (rank, step);
}

/// What the run has done so far, for its summary.
#[derive(Default)]
pub(super) struct Tally {
    pub images: usize,
    /// Steps discarded over the whole run, earlier processes' included.
    pub discarded: Discarded,
    pub last_train_loss: Option<f64>,
    pub last_test: Option<(f64, f64)>,
    /// The last epoch's validation loss and accuracy, when --val-split is evaluated.
    pub last_val: Option<(f64, f64)>,
    pub best_acc: Option<f64>,
    /// Buffers created on the device when the first epoch ended.
    pub buffers_after_epoch_1: Option<usize>,
}

impl Tally {
    /// A resumed run's tally: its summary's last and best evaluations start from the epochs
    /// it recorded before the checkpoint, so that a run resumed at its very end (killed
    /// between its last checkpoint and `run.json`) still reports them, and its best test
    /// accuracy is over the whole run, not this process's epochs; its discarded steps
    /// start from the checkpoint's.
    pub fn resumed(epochs: &[EpochRecord], discarded: Discarded) -> Tally {
        let last = epochs.last();
        Tally {
            discarded,
            last_train_loss: last.map(|e| e.train_loss),
            last_test: last.and_then(|e| Some((e.test_loss?, e.test_acc.unwrap_or(f64::NAN)))),
            last_val: last.and_then(|e| Some((e.val_loss?, e.val_acc.unwrap_or(f64::NAN)))),
            best_acc: epochs.iter().filter_map(|e| e.test_acc).reduce(f64::max),
            ..Tally::default()
        }
    }
}

/// A split's mean loss and accuracy.
type LossAcc = (f64, f64);

/// Which held-out split an evaluation measures.
#[derive(Clone, Copy)]
enum Held {
    Test,
    Val,
}

/// Where the loop stopped: steps done, epochs started, and the sums of the epoch
/// --max-steps stopped inside, if any.
pub(super) struct Stop {
    pub step: usize,
    pub epochs: usize,
    pub inside: Option<EpochSums>,
}

impl Trainer {
    pub(super) fn seconds(&self) -> f64 {
        self.start.seconds + self.clock.elapsed().as_secs_f64()
    }

    /// What data-parallel training has spent communicating, earlier sittings included; a
    /// run resumed as one process keeps its earlier sittings' totals. None when the run
    /// never communicated.
    pub(super) fn communication(&self) -> Option<Traffic> {
        match self.stepper.data_parallel() {
            Some(dp) => Some(dp.traffic()),
            None => (self.start.traffic != Traffic::default()).then_some(self.start.traffic),
        }
    }

    pub(super) fn classify(&self) -> bool {
        self.data.num_classes > 0
    }

    /// Runs the epochs from where the run starts.
    pub(super) fn run(&mut self) -> Result<Stop> {
        let (mut step, mut epoch) = (self.start.step, self.start.epoch);
        let (per_epoch, total_steps) = (self.per_epoch, self.total_steps);
        // A run resumed inside an epoch or at its last step owes that epoch's record even
        // with no step left (a run with nothing left is not resumed).
        while epoch < self.args.epochs && (step < total_steps || self.sums.consumed > 0) {
            // A checkpoint taken on an epoch's last step, or on the run's last (--max-steps),
            // resumes straight into the epoch's record.
            let first = self.sums.consumed;
            let args = &self.args;
            let batches = if first < per_epoch && step < total_steps {
                Some(self.data.train_shards(
                    args.batch_size,
                    args.seed,
                    epoch,
                    first,
                    args.data.drop_last,
                    args.data.augment,
                    self.shard(),
                )?)
            } else {
                None
            };
            for batch in batches.into_iter().flatten() {
                step += 1;
                self.step(step, epoch, &batch)?;
                // The step's evaluation before its checkpoint: a checkpoint must not promise
                // records that a kill between the two would lose.
                if self.args.eval_every.is_some_and(|n| step.is_multiple_of(n)) {
                    self.flush()?;
                    let (test_loss, test_acc) = self.evaluate()?;
                    let acc = self.classify().then_some(test_acc);
                    if let Some(files) = &mut self.files {
                        files.eval_line(step, epoch + 1, test_loss, acc)?;
                    }
                }
                if self
                    .args
                    .checkpoint_every
                    .is_some_and(|n| step.is_multiple_of(n))
                {
                    self.flush()?;
                    self.save_checkpoint(step, epoch, self.sums)?;
                }
                if self.stop_requested() {
                    self.flush()?;
                    self.save_checkpoint(step, epoch, self.sums)?;
                    return Err(Interrupted {
                        step,
                        checkpoint: self.out.join(CHECKPOINT),
                    }
                    .into());
                }
                if step >= total_steps {
                    break;
                }
            }
            self.flush()?;
            let inside = (self.sums.consumed < per_epoch).then_some(self.sums);
            self.end_epoch(epoch, inside.is_none())?;
            epoch += 1;
            if inside.is_some() {
                return Ok(Stop {
                    step,
                    epochs: epoch,
                    inside,
                });
            }
            // Every epoch ends in a checkpoint (the run's last one is written by its end):
            // a crash or a kill loses at most the epoch in progress.
            if epoch < self.args.epochs && step < total_steps {
                self.save_checkpoint(step, epoch, EpochSums::default())?;
            }
        }
        Ok(Stop {
            step,
            epochs: epoch,
            inside: None,
        })
    }

    /// One training step: its gradient, then (with the previous step's scalars read
    /// meanwhile) η(t) and its update.
    fn step(&mut self, step: usize, epoch: usize, batch: &Batch) -> Result<()> {
        panic_point(self.shard().rank, step);
        if std::mem::take(&mut self.discard_next) {
            // Owed by the last step, read before this one began: its batch goes unused, as
            // when the reading comes while its gradient is taken (below). Its plan is made
            // all the same, so that every batch size has one by the first epoch's end.
            self.stepper.plan(batch.len)?;
            self.sums.consumed += 1;
            return Ok(());
        }
        let measure = self.schedule.measure_gradient(step);
        let readings = self
            .stepper
            .submit_gradient(step, batch, self.args.seed, measure)?;
        // Step t−1's scalars arrive while this step's forward and backward run; for a rule
        // that measures g(t) before its update (`grad_dot`, `GradientNeeds`),
        // `submit_gradient` has already waited for them, and nothing overlaps.
        self.flush()?;
        if std::mem::take(&mut self.discard_next) {
            // The rule had the last two updates undone, or the run starts again from its
            // initial weights: this gradient was taken at weights no longer there.
            self.sums.consumed += 1;
            return Ok(());
        }
        let before = self.schedule.lr();
        self.schedule.observe_gradient(&readings);
        self.guard_lr(before);
        let eta = self.schedule.lr();
        if !eta.is_finite() {
            return Err(Diverged(format!(
                "η became {eta} at step {step} (epoch {}); metrics up to step {}{} are in {} \
                 (η is not bounded unless asked: see --on-nonfinite skip, --lr-min, --lr-max)",
                epoch + 1,
                step - 1,
                self.checkpoint_note(),
                self.out.display()
            ))
            .into());
        }
        let probes = self.stepper.measure.needs().probe && self.schedule.probe_at(step);
        // The probes' own batch: of the validation split, or another of the training set
        // drawn from a stream of its own (augmented as training batches are).
        let own = match self.probe_on {
            ProbeOn::Train => None,
            ProbeOn::Val => self.val.as_ref().map(|v| (v, 0x7072_6f62_6573, false)),
            ProbeOn::Fresh => Some((&self.data, 0x6672_6573_6862, self.args.data.augment)),
        };
        let probe_batch = match own.filter(|_| probes) {
            // Step t's probe batch is a pure function of (seed, t): resumable.
            Some((set, stream, augment)) => {
                let per_epoch = set.batches_per_epoch(self.args.batch_size, true);
                let whole = set.train_batch(
                    self.args.batch_size,
                    self.args.seed ^ stream,
                    (step - 1) / per_epoch,
                    (step - 1) % per_epoch,
                    true,
                    augment,
                )?;
                // A short batch (an epoch's last) probes the probe batch's first samples, as
                // many as the global batch holds: cut to them, then sharded like the batch,
                // every rank probes its part of the samples one process probes.
                let whole = whole.first(batch.whole);
                Some(match self.stepper.data_parallel() {
                    Some(dp) => whole.shard(dp.shard()),
                    None => whole,
                })
            }
            None => None,
        };
        let spec = UpdateSpec {
            eta,
            probe_steps: probes.then(|| self.schedule.probe_steps()),
            probe_batch: probe_batch.as_ref(),
            coefficients: self.schedule.coefficients(step),
        };
        self.stepper.submit_update(step, epoch, batch.len, &spec);
        if self.stepper.discards_nonfinite() {
            // Skipping needs the verdict before the next step builds on these weights.
            self.flush()?;
        }
        Ok(())
    }

    /// This rank's part of every batch (the whole batch outside data-parallel training).
    fn shard(&self) -> Shard {
        self.stepper
            .data_parallel()
            .map_or(Shard::WHOLE, DataParallel::shard)
    }

    /// Whether to stop after this step: Ctrl-C or SIGTERM here or, in data-parallel
    /// training, on any rank by the step's readings exchange (the previous step's readings,
    /// read during this step), so that every rank stops at the same step.
    fn stop_requested(&self) -> bool {
        self.stepper
            .stop_agreed()
            .unwrap_or_else(interrupt::stop_requested)
    }

    fn checkpoint_note(&self) -> &'static str {
        if self.out.join(CHECKPOINT).exists() {
            " and the last checkpoint"
        } else {
            ""
        }
    }

    /// Applies the opt-in safeguards to a new η: the clamps, and with --on-nonfinite skip
    /// half the previous rate in place of a non-finite one.
    fn guard_lr(&mut self, previous: f64) {
        let mut eta = self.schedule.lr();
        if !eta.is_finite() && self.stepper.discards_nonfinite() {
            eta = previous / 2.0;
        }
        // A non-finite η is for the stop check to see, not for a clamp to hide.
        if eta.is_finite() {
            if let Some(lo) = self.args.lr_min {
                eta = eta.max(lo);
            }
            if let Some(hi) = self.args.lr_max {
                eta = eta.min(hi);
            }
        }
        if eta.to_bits() != self.schedule.lr().to_bits() {
            self.schedule.set_lr(eta);
        }
    }

    /// Reads the scalars of the pending step, lets the schedule learn from them, logs.
    pub(super) fn flush(&mut self) -> Result<()> {
        let Some(r) = self.stepper.read()? else {
            return Ok(());
        };
        let loss = r.outputs.loss;
        // Step t−1's backup is missing in a run resumed at step t−1 from a checkpoint
        // written before checkpoints kept it.
        let can_undo = self.stepper.can_restore_before(r.step - 1);
        if self.schedule.needs().undo && self.schedule.blown_up(loss) && can_undo {
            return self.undo(&r);
        }
        let finite =
            loss.is_finite() && !r.probes.is_some_and(|f| f.iter().any(|v| !v.is_finite()));
        if !finite {
            return self.nonfinite(&r);
        }
        self.sums.loss += loss * r.batch as f64;
        self.sums.correct += r.outputs.correct;
        self.sums.samples += r.batch;
        self.sums.batches += 1;
        self.sums.consumed += 1;
        self.tally.images += r.batch;
        let probe = self.schedule.observe(&r.observation());
        self.guard_lr(r.lr);
        self.record_rule(r.step)?;
        self.record_step(&StepRecord {
            step: r.step,
            epoch: r.epoch + 1,
            loss,
            lr: r.lr,
            probe,
        })?;
        if self.schedule.take_restart() {
            // No progress at all since the first steps: nothing measured is lost by going
            // back to w(0), and weights a far too large η held at chance may be dead.
            self.stepper.restart(self.args.seed)?;
            self.schedule.forget_direction();
            self.tally.discarded.restarts += 1;
            self.discard_next = true;
            log::info!(
                "step {}: no progress since the first steps; back to the initial weights at η {}",
                r.step,
                self.schedule.lr()
            );
        }
        let ips = self.tally.images as f64 / self.clock.elapsed().as_secs_f64().max(1e-9);
        self.progress.step(r.step, r.epoch, loss, r.lr, ips);
        Ok(())
    }

    /// A non-finite loss or probe: with --on-nonfinite skip, discard the step (restore the
    /// weights, halve η); otherwise stop with a message naming the step.
    fn nonfinite(&mut self, r: &Readings) -> Result<()> {
        let loss = r.outputs.loss;
        if !self.stepper.discards_nonfinite() {
            let probes = r
                .probes
                .map_or(String::new(), |f| format!(", probes f(η+kε) = {f:?}"));
            return Err(Diverged(format!(
                "training diverged at step {} (epoch {}): loss {loss}{probes}; metrics up to step {}{} are in {} \
                 (η is not bounded unless asked: see --on-nonfinite skip, --lr-min, --lr-max)",
                r.step,
                r.epoch + 1,
                r.step - 1,
                self.checkpoint_note(),
                self.out.display()
            ))
            .into());
        }
        // A bad loss at w(t) was caused by step t−1's update: go back to w(t−1).
        // Bad probes (finite loss) condemn this step's update: go back to w(t). (w(t−1) is
        // missing in a run resumed at step t−1 from a checkpoint that did not keep it.)
        let back = if loss.is_finite() || !self.stepper.can_restore_before(r.step - 1) {
            r.step
        } else {
            r.step - 1
        };
        self.stepper.restore_before(back)?;
        self.schedule.set_lr(r.lr / 2.0);
        self.tally.discarded.skipped += 1;
        self.sums.consumed += 1;
        self.schedule.forget_direction();
        self.record_step(&StepRecord {
            step: r.step,
            epoch: r.epoch + 1,
            loss,
            lr: r.lr,
            probe: None,
        })?;
        log::warn!(
            "step {}: non-finite loss or probe; step discarded, η halved to {}",
            r.step,
            r.lr / 2.0
        );
        Ok(())
    }

    /// The rule found that step t−1's update blew the loss up (`r`: step t, its loss at
    /// w(t)): puts w(t−1) back, which also undoes step t's update, made from the damaged
    /// weights; the rule has set the η to retry with. The next step's batch is discarded
    /// by [`Trainer::step`] (its gradient may already be taken at the damaged weights).
    fn undo(&mut self, r: &Readings) -> Result<()> {
        self.stepper.restore_before(r.step - 1)?;
        self.schedule.forget_direction();
        self.tally.discarded.undone += 1;
        self.discard_next = true;
        self.sums.consumed += 1;
        self.record_rule(r.step)?;
        self.record_step(&StepRecord {
            step: r.step,
            epoch: r.epoch + 1,
            loss: r.outputs.loss,
            lr: r.lr,
            probe: None,
        })?;
        log::info!(
            "step {}: loss {} blew up after step {}'s update; weights put back to before it, \
             η cut to {}",
            r.step,
            r.outputs.loss,
            r.step - 1,
            self.schedule.lr()
        );
        Ok(())
    }

    /// Evaluates and records the epoch; `complete` is false when --max-steps stopped the
    /// run inside it (its step decay then waits for the epoch's real end).
    fn end_epoch(&mut self, epoch: usize, complete: bool) -> Result<()> {
        if complete {
            self.schedule.end_epoch(epoch);
        }
        let ((test_loss, test_acc), val) = self.evaluate_with_val()?;
        // Training stops or skips on a non-finite step, never on an evaluation: said here,
        // not left to a "done" over an inf in epochs.csv.
        for (split, loss) in [("validation", val.map(|v| v.0)), ("test", Some(test_loss))] {
            if let Some(loss) = loss.filter(|l| !l.is_finite()) {
                log::warn!(
                    "epoch {}: the {split} loss is {loss}: the model's outputs overflow on \
                     some of its samples",
                    epoch + 1
                );
            }
        }
        // An epoch whose every step was discarded (--on-nonfinite skip) has no training
        // loss or accuracy: NaN, not 0.
        let samples = self.sums.samples as f64;
        let train_loss = self.sums.loss / samples;
        let classify = self.classify();
        self.tally.last_train_loss = Some(train_loss);
        self.tally.last_test = Some((test_loss, test_acc));
        if classify {
            let best = self.tally.best_acc.map_or(test_acc, |b| b.max(test_acc));
            self.tally.best_acc = Some(best);
        }
        let record = EpochRecord {
            epoch: epoch + 1,
            train_loss,
            train_acc: classify.then_some(self.sums.correct / samples),
            test_loss: Some(test_loss),
            test_acc: classify.then_some(test_acc),
            lr: self.schedule.lr(),
            seconds: self.seconds(),
            val_loss: val.map(|v| v.0),
            val_acc: val.filter(|_| classify).map(|v| v.1),
        };
        if let Some(files) = &mut self.files {
            files.epoch(&record)?;
        }
        self.tally.last_val = val;
        let mut held = Vec::new();
        if let Some((loss, acc)) = val {
            let acc = classify.then_some(acc);
            held.push(Scored {
                name: "val",
                loss,
                acc,
            });
        }
        let acc = classify.then_some(test_acc);
        held.push(Scored {
            name: "test",
            loss: test_loss,
            acc,
        });
        self.progress
            .epoch_line(epoch, train_loss, &held, self.schedule.lr());
        self.sums = EpochSums::default();
        let created = self.stepper.gpu.buffers_created();
        self.tally.buffers_after_epoch_1.get_or_insert(created);
        Ok(())
    }

    /// Mean loss and accuracy over the test split, at the weights the run evaluates at
    /// (`--average-gamma`: the iterate average with its averaged statistics; schedule-free:
    /// the average x, with batch-norm statistics recomputed there).
    fn evaluate(&mut self) -> Result<(f64, f64)> {
        self.at_evaluation_weights(|t| t.evaluate_here(Held::Test))
    }

    /// [`Self::evaluate`], and the same over the validation split when --val-split asks for
    /// its evaluation, at the same weights.
    fn evaluate_with_val(&mut self) -> Result<(LossAcc, Option<LossAcc>)> {
        self.at_evaluation_weights(|t| {
            let test = t.evaluate_here(Held::Test)?;
            let val = match t.evaluate_val {
                true => Some(t.evaluate_here(Held::Val)?),
                false => None,
            };
            Ok((test, val))
        })
    }

    /// Runs `measure` at the weights the rule evaluates at, then goes back to the training
    /// weights.
    fn at_evaluation_weights<T>(
        &mut self,
        measure: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        if !self.stepper.to_evaluation_weights()? {
            return measure(self);
        }
        let measured = self.recompute_statistics().and_then(|()| measure(self));
        self.stepper.to_training_weights()?;
        measured
    }

    /// Schedule-free's recipe for batch norm at x: training-mode forward passes over the
    /// first `--bn-recompute-batches` batches of the first epoch's order (a fixed choice, so
    /// that a resumed run repeats it) move the running statistics to x's.
    fn recompute_statistics(&mut self) -> Result<()> {
        let count = self.args.bn_recompute_batches;
        let stepper = &self.stepper;
        if count == 0
            || !stepper.net.has_batch_norm()
            || !stepper.evaluation_recomputes_statistics()
        {
            return Ok(());
        }
        let args = &self.args;
        let batches = self.data.train_shards(
            args.batch_size,
            args.seed,
            0,
            0,
            args.data.drop_last,
            args.data.augment,
            self.shard(),
        )?;
        for (i, batch) in batches.take(count).enumerate() {
            self.stepper
                .forward_only(&batch, args.seed, u64::MAX - i as u64)?;
        }
        Ok(())
    }

    /// Mean loss and accuracy over the test or the validation split at the weights as they
    /// are.
    fn evaluate_here(&mut self, which: Held) -> Result<(f64, f64)> {
        let (mut loss, mut correct, mut n) = (0.0, 0.0, 0usize);
        let batches = match (which, &self.val) {
            (Held::Test, _) => match self.args.eval_subset {
                Some(n) => self
                    .data
                    .spread_batches(Which::Test, self.args.batch_size, n)?,
                None => self.data.test_batches(self.args.batch_size)?,
            },
            // The validation samples are the training split of their own data set.
            (Held::Val, Some(val)) => val.ordered_batches(Which::Train, self.args.batch_size)?,
            (Held::Val, None) => bail!("no validation split to evaluate (--val-split)"),
        };
        for batch in batches {
            let o = self.stepper.evaluate_batch(&batch)?;
            loss += o.loss * batch.len as f64;
            correct += o.correct;
            n += batch.len;
        }
        let n = n.max(1) as f64;
        Ok((loss / n, correct / n))
    }

    /// The rule's line of `step` in `rule.csv` (rank 0 only).
    fn record_rule(&mut self, step: usize) -> Result<()> {
        if let (Some(line), Some(files)) = (self.schedule.record(step), &mut self.files) {
            let header = self.schedule.record_header().unwrap_or("step");
            files.rule_line(header, &line)?;
        }
        Ok(())
    }

    fn record_step(&mut self, record: &StepRecord) -> Result<()> {
        match &mut self.files {
            Some(files) => files.step(record),
            None => Ok(()),
        }
    }

    /// Writes a checkpoint (rank 0 alone in data-parallel training: the ranks' states are
    /// the same).
    pub(super) fn save_checkpoint(&self, step: usize, epoch: usize, sums: EpochSums) -> Result<()> {
        if !self.stepper.replicas_agree()? && self.files.is_some() {
            log::warn!(
                "step {step}: the ranks' weights differ (adapters that round differently?); \
                 rank 0's are checkpointed"
            );
        }
        let Some(files) = &self.files else {
            return Ok(());
        };
        files.sync()?;
        let at = Start {
            step,
            epoch,
            sums,
            seconds: self.seconds(),
            discarded: self.tally.discarded,
            discard_next: self.discard_next,
            traffic: self.communication().unwrap_or_default(),
        };
        resume::save(
            &self.stepper,
            &self.out,
            &self.args,
            self.schedule.as_ref(),
            &at,
            &self.dataset_md5,
        )
    }
}
