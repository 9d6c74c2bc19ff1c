//! The updates of the rules that move the weights their own way ([`Update`]) instead of
//! w −= η·d: D-Adaptation SGD, Prodigy and schedule-free SGD. Each keeps vectors on the
//! GPU (checkpointed), takes a few coefficients from the host each step, and reads back a
//! few sums with the step's loss, so that the host-side rule estimates its next step.

use anyhow::Result;

use crate::gpu::{align_elems, Gpu, Params, Program, ReadBack, Tensor};
use crate::ops::{dadapt, prodigy, reduce, schedule_free};
use crate::schedule::Update;

/// A rule's own update on the GPU.
pub struct RuleUpdate {
    kind: Update,
    coefficients: Tensor,
    program: Program,
    /// Named state (dual averages, moments, z), kept in checkpoints and backups.
    pub state: Vec<(&'static str, Tensor)>,
    /// The sums' partials, one aligned segment per sum, and their read-back.
    sums: Option<(Tensor, ReadBack, usize)>,
    /// Schedule-free: moves the weights to x keeping y, and back.
    average: Option<(Program, Program)>,
}

impl RuleUpdate {
    /// The update `kind` over `params`; `direction` is the optimizer's d (D-Adaptation and
    /// schedule-free step along it; Prodigy takes the raw gradient), `origin` the run's
    /// copy of w(0), `weight_decay` Prodigy's decoupled λ. None for [`Update::Direction`].
    pub fn new(
        gpu: &Gpu,
        kind: Update,
        params: &Params,
        direction: &Tensor,
        origin: Option<&Tensor>,
        weight_decay: f64,
    ) -> Result<Option<RuleUpdate>> {
        let (w, g) = (&params.values, &params.grads);
        let len = w.len();
        let n = reduce::partial_count(len);
        let sums = match kind.sums() {
            0 => None,
            k => {
                let partials = gpu.zeros("rule sums", &[k, align_elems(n)])?;
                let readback = ReadBack::new(gpu, "rule sums", partials.len());
                Some((partials, readback, n))
            }
        };
        let part = |i: usize| {
            let (partials, _, _) = sums.as_ref().expect("sums");
            partials.view(i * align_elems(n), &[n])
        };
        let mut program = Program::new();
        let mut state = Vec::new();
        let mut average = None;
        let coefficients;
        match kind {
            Update::Direction => return Ok(None),
            Update::DAdapt { momentum } => {
                let origin = origin.expect("D-Adaptation keeps w(0)");
                coefficients = gpu.zeros("D-Adaptation coefficients", &[1])?;
                let s = gpu.zeros("D-Adaptation sum s", &[len])?;
                reduce::dot(&mut program, gpu, direction, &s, &part(0))?;
                dadapt::step(
                    &mut program,
                    gpu,
                    w,
                    direction,
                    &s,
                    origin,
                    &coefficients,
                    momentum as f32,
                )?;
                reduce::dot(&mut program, gpu, &s, &s, &part(1))?;
                state.push(("s", s));
            }
            Update::Prodigy {
                beta1,
                beta2,
                beta3,
                eps,
            } => {
                let origin = origin.expect("Prodigy keeps w(0)");
                coefficients = gpu.zeros("Prodigy coefficients", &[3])?;
                let m = gpu.zeros("Prodigy exp_avg", &[len])?;
                let v = gpu.zeros("Prodigy exp_avg_sq", &[len])?;
                let s = gpu.zeros("Prodigy sum s", &[len])?;
                reduce::dot_difference(&mut program, gpu, g, origin, w, &part(0))?;
                let constants = prodigy::Constants {
                    beta1: beta1 as f32,
                    beta2: beta2 as f32,
                    beta3: beta3 as f32,
                    eps: eps as f32,
                    decay: weight_decay as f32,
                };
                let st = prodigy::State {
                    m: &m,
                    v: &v,
                    s: &s,
                };
                prodigy::step(&mut program, gpu, w, g, st, &coefficients, constants)?;
                reduce::abs_sum(&mut program, gpu, &s, &part(1))?;
                state.extend([("exp_avg", m), ("exp_avg_sq", v), ("s", s)]);
            }
            Update::ScheduleFree { beta } => {
                coefficients = gpu.zeros("schedule-free coefficients", &[2])?;
                let z = gpu.zeros("schedule-free z", &[len])?;
                // z starts at w(0) (the weights are uploaded before the step is built; a
                // resumed run overwrites it from the checkpoint).
                let mut init = Program::new();
                init.copy(w, &z);
                init.run(gpu)?;
                schedule_free::step(
                    &mut program,
                    gpu,
                    w,
                    direction,
                    &z,
                    &coefficients,
                    beta as f32,
                )?;
                let kept = gpu.zeros("schedule-free y during evaluation", &[len])?;
                let mut to_x = Program::new();
                let mut back = Program::new();
                // Evaluation leaves no trace: the batch-norm statistics recomputed at x are
                // put back too, so that a run evaluated more often trains the same.
                let stats = &params.buffers;
                if !stats.is_empty() {
                    let kept_stats =
                        gpu.zeros("running statistics during evaluation", &[stats.len()])?;
                    to_x.copy(stats, &kept_stats);
                    back.copy(&kept_stats, stats);
                }
                schedule_free::to_average(&mut to_x, gpu, w, &z, &kept, beta as f32)?;
                back.copy(&kept, w);
                average = Some((to_x, back));
                state.push(("z", z));
            }
        }
        Ok(Some(RuleUpdate {
            kind,
            coefficients,
            program,
            state,
            sums,
            average,
        }))
    }

    /// Whether the update steps along the optimizer's direction d (computed before it).
    pub fn uses_direction(&self) -> bool {
        self.kind.uses_direction()
    }

    /// Records the update with this step's `coefficients`, and the copy of its sums.
    pub fn encode(&self, gpu: &Gpu, coefficients: &[f32], encoder: &mut wgpu::CommandEncoder) {
        assert_eq!(
            coefficients.len(),
            self.coefficients.len(),
            "the rule gives {} coefficients, its update takes {}",
            coefficients.len(),
            self.coefficients.len()
        );
        gpu.write(&self.coefficients, coefficients);
        self.program.encode(encoder);
        if let Some((partials, readback, _)) = &self.sums {
            readback.copy_from(encoder, partials, 0);
        }
    }

    /// Bytes read back per step.
    pub fn readback_bytes(&self) -> usize {
        self.sums.as_ref().map_or(0, |(_, r, _)| r.bytes())
    }

    /// The sums of the step whose `submission` is done.
    pub fn read_sums(&self, gpu: &Gpu, submission: &wgpu::SubmissionIndex) -> Result<Vec<f64>> {
        let Some((_, readback, n)) = &self.sums else {
            return Ok(Vec::new());
        };
        let v: Vec<f32> = readback.fetch_after(gpu, Some(submission.clone()))?;
        Ok((0..self.kind.sums())
            .map(|i| reduce::combine(&v[i * align_elems(*n)..i * align_elems(*n) + n]))
            .collect())
    }

    /// Schedule-free: puts the evaluation point x in the weights, keeping y. False (and
    /// nothing done) for the other updates, which evaluate where they train.
    pub fn to_average(&self, gpu: &Gpu) -> Result<bool> {
        match &self.average {
            Some((to_x, _)) => {
                to_x.run(gpu)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Puts y back after [`RuleUpdate::to_average`].
    pub fn back_from_average(&self, gpu: &Gpu) -> Result<()> {
        if let Some((_, back)) = &self.average {
            back.run(gpu)?;
        }
        Ok(())
    }
}
