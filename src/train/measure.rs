//! Turns a rule's [`Needs`] into GPU work, and the read-backs into the pieces of an
//! [`Observation`]: the dot products of the step direction and the gradient, over the flat
//! buffers. (The line probes themselves are recorded in the model's [`Plan`]; the step
//! pipeline in `step.rs` encodes them.) Used by `train` and by `bench`, so that a benchmark
//! times exactly the work a training step does.
//!
//! [`Observation`]: crate::schedule::Observation
//! [`Plan`]: crate::models::Plan

use anyhow::Result;

use crate::gpu::{align_elems, Gpu, Params, Program, ReadBack, Tensor};
use crate::models::Plan;
use crate::ops::reduce;
use crate::schedule::{Dots, GradientNeeds, GradientReadings, Needs};

/// The GPU side of the dots: g(t)·d(t−1) for [`Needs::grad_dot`] (read at once: the update
/// needs it; d = g for plain SGD), and d(t)·g(t), d(t−1)·g(t), w(t)·d(t), d(t)·d(t) for
/// [`Needs::dots`] (read back with the step's loss, no wait). d(t−1) is kept in `previous`.
pub struct Measure {
    needs: Needs,
    dots: Option<DotBuffers>,
    gradient: Option<GradientBuffers>,
}

/// The [`GradientNeeds`] reductions, one aligned segment each: d·d, d(t−1)·d(t−1),
/// ‖w − w(0)‖², ‖w(0)‖²; the read-back adds the step's loss partials as a fifth.
struct GradientBuffers {
    needs: GradientNeeds,
    program: Program,
    partials: Tensor,
    readback: ReadBack,
    /// Partial sums per reduction over the weights.
    count: usize,
}

/// Elements of one segment of [`GradientBuffers::partials`]: any partial count fits.
const SEGMENT: usize = 256;

struct DotBuffers {
    /// g(t)·d(t−1) into `partials`: the `grad_dot` (d = g for plain SGD), and the cross
    /// dot of `dots`.
    cross: Program,
    /// Copies d(t) into `previous`, once d(t) is computed.
    keep: Program,
    previous: Tensor,
    partials: Tensor,
    readback: ReadBack,
    /// Whether `previous` holds d(t−1) (not at the first step, nor after a discarded one).
    have_previous: bool,
    /// d(t)·g(t), w(t)·d(t) and d(t)·d(t) into `own_partials` (three equal parts).
    own: Program,
    own_partials: Tensor,
    /// The pipelined read-back of `partials` then `own_partials`.
    dots_readback: ReadBack,
}

impl Measure {
    /// The buffers and programs `needs` asks for, over the gradient and `direction` (d).
    /// `origin`: the run's copy of w(0), when [`GradientNeeds::distance`] asks for it.
    pub fn new(
        gpu: &Gpu,
        params: &Params,
        direction: &Tensor,
        origin: Option<&Tensor>,
        needs: Needs,
    ) -> Result<Measure> {
        let dots = if needs.grad_dot || needs.dots {
            Some(DotBuffers::new(gpu, params, direction)?)
        } else {
            None
        };
        let gradient = if needs.gradient.any() {
            let previous = dots.as_ref().map(|d| &d.previous);
            Some(GradientBuffers::new(
                gpu,
                params,
                direction,
                previous,
                origin,
                needs.gradient,
            )?)
        } else {
            None
        };
        Ok(Measure {
            needs,
            dots,
            gradient,
        })
    }

    /// What the rule asked to be measured.
    pub fn needs(&self) -> Needs {
        self.needs
    }

    /// d(t−1), kept on the GPU for the rules that compare consecutive directions.
    pub fn previous_direction(&self) -> Option<&Tensor> {
        self.dots.as_ref().map(|d| &d.previous)
    }

    /// Whether d(t−1) exists (checkpointed with it).
    pub fn have_previous(&self) -> bool {
        self.dots.as_ref().is_some_and(|d| d.have_previous)
    }

    /// Sets whether d(t−1) exists (a resumed run's, from its checkpoint).
    pub fn set_have_previous(&mut self, have: bool) {
        if let Some(d) = &mut self.dots {
            d.have_previous = have;
        }
    }

    /// Bytes read back per step besides the loss and the probes.
    pub fn readback_bytes(&self) -> usize {
        self.dots.as_ref().map_or(0, |d| d.readback.bytes())
            + self.gradient.as_ref().map_or(0, |g| g.readback.bytes())
    }

    /// Adds the measurements of g(t) the rule waits for to the gradient's `encoder` (with
    /// `grad_dot`, g(t)·d(t−1); when `measure`, the [`GradientNeeds`], `loss_partials`
    /// from the step's `plan`), submits it and waits for them. Otherwise submits the encoder.
    pub fn submit_gradient(
        &mut self,
        gpu: &Gpu,
        mut encoder: wgpu::CommandEncoder,
        measure: bool,
        plan: &Plan,
    ) -> Result<GradientReadings> {
        let loss_partials = plan.loss_partials();
        let dots = self.dots.as_mut().filter(|_| self.needs.grad_dot);
        let gradient = self.gradient.as_ref().filter(|_| measure);
        if dots.is_none() && gradient.is_none() {
            gpu.queue.submit([encoder.finish()]);
            return Ok(GradientReadings::default());
        }
        if let Some(d) = &dots {
            d.cross.encode(&mut encoder);
            d.readback.copy_from(&mut encoder, &d.partials, 0);
        }
        if let Some(g) = gradient {
            g.program.encode(&mut encoder);
            g.readback.copy_from(&mut encoder, &g.partials, 0);
            if g.needs.loss {
                let at = 4 * align_elems(SEGMENT);
                g.readback.copy_from(&mut encoder, loss_partials, at);
            }
        }
        let submission = gpu.queue.submit([encoder.finish()]);
        let mut readings = GradientReadings::default();
        let mut had_previous = false;
        if let Some(d) = dots {
            let partials: Vec<f32> = d.readback.fetch_after(gpu, Some(submission.clone()))?;
            had_previous = d.have_previous;
            readings.dot = d.have_previous.then(|| reduce::combine(&partials));
            d.have_previous = true;
        }
        if let Some(g) = gradient {
            let v: Vec<f32> = g.readback.fetch_after(gpu, Some(submission))?;
            let segment = |i: usize, n: usize| {
                let at = i * align_elems(SEGMENT);
                reduce::combine(&v[at..at + n])
            };
            let c = g.count;
            let n = &g.needs;
            readings.norm = n.norm.then(|| segment(0, c));
            readings.previous_norm = (n.previous_norm && had_previous).then(|| segment(1, c));
            readings.distance = n.distance.then(|| segment(2, c));
            readings.origin_norm = n.distance.then(|| segment(3, c));
            let rows = plan.loss_rows() as f64;
            readings.loss = n.loss.then(|| segment(4, loss_partials.len()) / rows);
        }
        Ok(readings)
    }

    /// With `dots`: whether this step has d(t−1), so that its cross dot means something.
    pub fn dots_have_previous(&self) -> bool {
        self.needs.dots && self.have_previous()
    }

    /// Records, after d(t) is computed and before the update: the `dots` with
    /// their read-back, then d(t) kept as the next step's d(t−1).
    pub fn encode_dots(&self, encoder: &mut wgpu::CommandEncoder) {
        let Some(d) = &self.dots else {
            return;
        };
        if self.needs.dots {
            d.cross.encode(encoder);
            d.own.encode(encoder);
            d.dots_readback.copy_from(encoder, &d.partials, 0);
            d.dots_readback
                .copy_from(encoder, &d.own_partials, d.partials.len());
        }
        d.keep.encode(encoder);
    }

    /// After the step's submission: d(t) is the next step's d(t−1).
    pub fn submitted(&mut self) {
        if let (true, Some(d)) = (self.needs.dots, &mut self.dots) {
            d.have_previous = true;
        }
    }

    /// The `dots` of the step whose `submission` is done; `had_previous`: whether
    /// that step had d(t−1).
    pub fn read_dots(
        &self,
        gpu: &Gpu,
        submission: &wgpu::SubmissionIndex,
        had_previous: bool,
    ) -> Result<Option<Dots>> {
        let Some(d) = self.dots.as_ref().filter(|_| self.needs.dots) else {
            return Ok(None);
        };
        let v: Vec<f32> = d.dots_readback.fetch_after(gpu, Some(submission.clone()))?;
        let n = d.partials.len();
        let (cross, rest) = v.split_at(n);
        let part = |i: usize| {
            let at = i * align_elems(n);
            reduce::combine(&rest[at..at + n])
        };
        Ok(Some(Dots {
            own: part(0),
            cross: had_previous.then(|| reduce::combine(cross)),
            weights: part(1),
            norm: part(2),
        }))
    }
}

impl GradientBuffers {
    fn new(
        gpu: &Gpu,
        params: &Params,
        direction: &Tensor,
        previous: Option<&Tensor>,
        origin: Option<&Tensor>,
        needs: GradientNeeds,
    ) -> Result<GradientBuffers> {
        let count = reduce::partial_count(params.values.len());
        let partials = gpu.zeros("gradient measurements", &[4, align_elems(SEGMENT)])?;
        let part = |i: usize| partials.view(i * align_elems(SEGMENT), &[count]);
        let mut program = Program::new();
        if needs.norm {
            reduce::dot(&mut program, gpu, direction, direction, &part(0))?;
        }
        if needs.previous_norm {
            let previous = previous.expect("previous_norm needs grad_dot");
            reduce::dot(&mut program, gpu, previous, previous, &part(1))?;
        }
        if needs.distance {
            let origin = origin.expect("distance needs the run's w(0)");
            reduce::distance(&mut program, gpu, &params.values, origin, &part(2))?;
            reduce::dot(&mut program, gpu, origin, origin, &part(3))?;
        }
        // The four reductions, then the loss partials.
        let readback = ReadBack::new(gpu, "gradient measurements", 5 * align_elems(SEGMENT));
        Ok(GradientBuffers {
            needs,
            program,
            partials,
            readback,
            count,
        })
    }
}

impl DotBuffers {
    /// f′(η(t−1)) = −d(t−1)·g(t): the dot (before step t's update) and the copy of d(t)
    /// for the next step (after it is computed).
    fn new(gpu: &Gpu, params: &Params, direction: &Tensor) -> Result<DotBuffers> {
        let len = params.grads.len();
        let previous = gpu.zeros("previous gradient", &[len])?;
        let partials = gpu.zeros("gradient dot partials", &[reduce::partial_count(len)])?;
        let mut cross = Program::new();
        reduce::dot(&mut cross, gpu, &params.grads, &previous, &partials)?;
        let mut keep = Program::new();
        keep.copy(direction, &previous);
        let readback = ReadBack::new(gpu, "gradient dot", partials.len());
        let n = partials.len();
        let own_partials = gpu.zeros("direction dot partials", &[3, align_elems(n)])?;
        let part = |i: usize| own_partials.view(i * align_elems(n), &[n]);
        let mut own = Program::new();
        reduce::dot(&mut own, gpu, &params.grads, direction, &part(0))?;
        reduce::dot(&mut own, gpu, &params.values, direction, &part(1))?;
        reduce::dot(&mut own, gpu, direction, direction, &part(2))?;
        let dots_readback = ReadBack::new(gpu, "direction dots", n + own_partials.len());
        Ok(DotBuffers {
            cross,
            keep,
            previous,
            partials,
            readback,
            have_previous: false,
            own,
            own_partials,
            dots_readback,
        })
    }
}
