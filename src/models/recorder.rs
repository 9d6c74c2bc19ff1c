//! Recording passes over the layer graph: the training forward that keeps every output,
//! the pooled forward of the evaluation and the probes, and the backward pass. What each
//! layer records is in its file under `layers/`.

use super::layers::{Backward, Forward, LayerKind};
use super::pool::Pool;
use super::runtime::NodeRt;
use super::Net;
use crate::gpu::{Gpu, GpuError, Params, Program, Tensor};
use crate::ops::relu;

/// Where a forward pass reads its weights: `probes` copies of the flat parameter layout,
/// `stride` elements apart (the training pass reads the one parameter buffer).
#[derive(Clone, Copy)]
pub(crate) struct Weights<'a> {
    pub values: &'a Tensor,
    pub stride: usize,
    pub probes: usize,
}

/// A layer's output for every probe: probe p's `[batch, size]` block starts at `p·seg`.
pub(crate) struct Act {
    pub t: Tensor,
    pub seg: usize,
}

/// Which pass is being recorded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Batch statistics (updating the running ones), fresh dropout masks, state kept for
    /// the backward pass.
    Train,
    /// Batch statistics per probe, the step's dropout masks, no state written.
    Probe,
    /// Running statistics, no dropout.
    Eval,
}

/// What recording a pass needs.
#[derive(Clone, Copy)]
pub(crate) struct Recorder<'a> {
    pub gpu: &'a Gpu,
    pub net: &'a Net,
    pub params: &'a Params,
    pub rts: &'a [NodeRt],
    pub batch: usize,
    pub weights: Weights<'a>,
    pub mode: Mode,
    pub rng: Option<&'a Tensor>,
    /// Scratch for the probes' batch statistics.
    pub probe_saved: Option<&'a Tensor>,
}

impl Recorder<'_> {
    /// The training forward: every node's output is kept for the backward pass; the first
    /// node's pre-activation also goes to `pre0` (the probes reuse it).
    pub fn network_keeping_all(
        &self,
        prog: &mut Program,
        input: &Tensor,
        pre0: Option<&Tensor>,
    ) -> Result<Vec<Act>, GpuError> {
        let net = self.net;
        let mut acts: Vec<Act> = Vec::with_capacity(net.nodes.len());
        for (i, node) in net.nodes.iter().enumerate() {
            let n = self.batch * node.layer.output_size();
            if let (0, Some(pre)) = (i, pre0) {
                let mut plain = node.layer.clone();
                let relu = plain.kind_mut().take_relu();
                let z = Act {
                    t: pre.clone(),
                    seg: n,
                };
                self.layer(prog, plain.kind(), i, input, &[], &z)?;
                let y = if relu {
                    let y = self.gpu.zeros("layer 0 output", &[n])?;
                    relu::forward(prog, self.gpu, pre, &y)?;
                    Act { t: y, seg: n }
                } else {
                    z
                };
                acts.push(y);
                continue;
            }
            let y = Act {
                t: self.gpu.zeros(&format!("layer {i} output"), &[n])?,
                seg: n,
            };
            let srcs: Vec<&Act> = node.sources().map(|s| &acts[s]).collect();
            self.layer(prog, node.layer.kind(), i, input, &srcs, &y)?;
            acts.push(y);
        }
        Ok(acts)
    }

    /// A forward pass that keeps nothing: outputs come from `pool` and go back to it after
    /// their last reader. `first` replaces the first node's output (the probes compute it
    /// by linearity). Returns the last node's output, still taken from the pool.
    pub fn network(
        &self,
        prog: &mut Program,
        input: &Tensor,
        first: Option<Act>,
        pool: &mut Pool,
    ) -> Result<Act, GpuError> {
        let net = self.net;
        let count = net.nodes.len();
        let mut last_use = vec![0usize; count];
        for (i, node) in net.nodes.iter().enumerate() {
            for s in node.sources() {
                last_use[s] = i;
            }
        }
        let probes = self.weights.probes;
        let mut acts: Vec<Option<Act>> = Vec::with_capacity(count);
        let start = usize::from(first.is_some());
        acts.push(first);
        acts.truncate(start);
        for (i, node) in net.nodes.iter().enumerate().skip(start) {
            let kind = node.layer.kind();
            let n = self.batch * kind.output_size();
            let seg = kind.probe_segment(n, probes);
            let y = Act {
                t: pool.take(self.gpu, &format!("layer {i} output"), probes * seg)?,
                seg,
            };
            {
                let srcs: Vec<&Act> = node
                    .sources()
                    .map(|s| acts[s].as_ref().expect("sources are alive"))
                    .collect();
                self.layer(prog, kind, i, input, &srcs, &y)?;
            }
            for s in node.sources() {
                if last_use[s] == i {
                    let a = acts[s].take().expect("freed once");
                    pool.give(&a.t);
                }
            }
            acts.push(Some(y));
        }
        Ok(acts.pop().flatten().expect("a model has layers"))
    }

    /// Records node `i`'s forward pass (as `layer`, which may be the node's layer without
    /// its ReLU) from its sources' outputs (none: the network input).
    pub fn layer(
        &self,
        prog: &mut Program,
        layer: &dyn LayerKind,
        i: usize,
        input: &Tensor,
        srcs: &[&Act],
        y: &Act,
    ) -> Result<(), GpuError> {
        let f = Forward {
            rec: self,
            rt: &self.rts[i],
            input,
            srcs,
            y,
            in_size: self.net.input_size(i),
            n: self.batch * layer.output_size(),
        };
        layer.forward(prog, &f)
    }

    /// The backward pass, last node first, from the loss gradient `dlogits`: parameter
    /// gradients into the flat gradient buffer (overwritten), each node's output gradient
    /// summed over its readers in a pooled tensor freed once the node is done.
    pub fn backward(
        &self,
        prog: &mut Program,
        input: &Tensor,
        acts: &[Act],
        dlogits: Tensor,
        pool: &mut Pool,
    ) -> Result<(), GpuError> {
        let (gpu, net, batch) = (self.gpu, self.net, self.batch);
        let count = net.nodes.len();
        let mut grads: Vec<Option<Tensor>> = (0..count).map(|_| None).collect();
        grads[count - 1] = Some(dlogits);
        for i in (0..count).rev() {
            let node = &net.nodes[i];
            let Some(dy) = grads[i].take() else {
                continue; // nothing reads this node's output
            };
            // Where the gradients of this node's sources go, and whether they add to what
            // a later reader already wrote.
            let mut targets: Vec<(Tensor, bool)> = Vec::new();
            for s in node.sources() {
                let len = batch * net.nodes[s].layer.output_size();
                let acc = grads[s].is_some();
                if !acc {
                    grads[s] = Some(pool.take(gpu, &format!("layer {s} output gradient"), len)?);
                }
                targets.push((grads[s].clone().expect("just set"), acc));
            }
            let kind = node.layer.kind();
            let y = &acts[i].t;
            // Through a fused ReLU first, unless the layer does it: its output y is positive
            // exactly where it passed.
            let dz_owned = if kind.fused_relu() && !kind.backward_takes_relu_off() {
                let dz = pool.take(gpu, "pre-activation gradient", y.len())?;
                relu::backward(prog, gpu, y, &dy, &dz, false)?;
                Some(dz)
            } else {
                None
            };
            let b = Backward {
                gpu,
                params: self.params,
                batch,
                rt: &self.rts[i],
                x: node.input.map_or(input, |s| &acts[s].t),
                dz: dz_owned.as_ref().unwrap_or(&dy),
                dsrcs: &targets,
            };
            kind.backward(prog, &b)?;
            if let Some(dz) = &dz_owned {
                pool.give(dz);
            }
            if i + 1 < count {
                pool.give(&dy);
            }
        }
        Ok(())
    }
}
