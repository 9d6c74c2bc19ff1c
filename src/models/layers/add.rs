//! The residual join: `y = x + (node `other`'s output)`, optionally followed by ReLU.

use super::{Backward, Forward, LayerKind};
use crate::gpu::{GpuError, Program};
use crate::ops::{add, axpy};

/// `y = x + (node `other`'s output)`, optionally followed by ReLU: the residual join.
#[derive(Clone, Debug)]
pub struct Add {
    /// Index of the node whose output is added to the input (ResNet's shortcut).
    pub other: usize,
    /// Elements per sample of both operands and of the output.
    pub size: usize,
    /// Whether a ReLU follows the sum.
    pub relu: bool,
}

impl LayerKind for Add {
    fn output_size(&self) -> usize {
        self.size
    }

    fn second_source(&self) -> Option<usize> {
        Some(self.other)
    }

    fn fused_relu(&self) -> bool {
        self.relu
    }

    fn take_relu(&mut self) -> bool {
        std::mem::replace(&mut self.relu, false)
    }

    /// One elementwise pass over all probes' blocks at once.
    fn forward(&self, prog: &mut Program, f: &Forward) -> Result<(), GpuError> {
        let (a, b, y) = (f.srcs[0], f.srcs[1], f.y);
        debug_assert_eq!(a.seg, b.seg);
        let len = f.probes() * y.seg;
        add::forward(
            prog,
            f.rec.gpu,
            &a.t.view(0, &[len]),
            &b.t.view(0, &[len]),
            &y.t.view(0, &[len]),
            self.relu,
        )
    }

    fn backward(&self, prog: &mut Program, b: &Backward) -> Result<(), GpuError> {
        // The sum passes its gradient to both operands.
        for (t, acc) in b.dsrcs {
            if *acc {
                axpy::axpy(prog, b.gpu, 1.0, b.dz, t)?;
            } else {
                prog.copy(b.dz, t);
            }
        }
        Ok(())
    }
}
