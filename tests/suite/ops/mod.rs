//! The kernels of `src/ops`, a file per op: each against the plain f64 CPU reference on
//! shapes that are not multiples of the tile sizes, and each backward against f64 central
//! finite differences with the op mid-graph: the scalar checked is L = Σ r ⊙ op(x) with a
//! random upstream gradient r (or c·loss for the losses), so a backward that ignored its
//! incoming gradient would return the gradient of Σ op(x) instead and fail.

mod add;
mod average;
mod axpy;
mod batchnorm;
mod bias;
pub mod conv;
mod dropout;
mod loss;
mod matmul;
mod optimizer;
mod pool;
mod reduce;
mod relu;

use crate::common::f32s;
use crate::reference as cpu;
use etaprobe::gpu::{Gpu, Tensor};

/// L = Σ r ⊙ y.
fn weighted(r: &[f64], y: &[f64]) -> f64 {
    cpu::dot(r, y)
}

fn upload(gpu: &Gpu, label: &str, v: &[f64]) -> Tensor {
    gpu.upload(label, &[v.len()], &f32s(v)).unwrap()
}

fn read(gpu: &Gpu, t: &Tensor) -> Vec<f32> {
    gpu.read(t).unwrap()
}

// Views at an offset into a larger buffer whose other elements hold a sentinel (batch
// norm, dropout, add, average pooling): the kernels are checked to index from the view's
// start and to write only inside it.

const SENTINEL: f32 = 12345.0;
/// Elements before and after each view.
const MARGIN: usize = 64;

/// A view of `data` at offset [`MARGIN`] into a buffer padded with sentinels.
struct Placed {
    whole: Tensor,
    view: Tensor,
}

fn place(gpu: &Gpu, label: &str, data: &[f64]) -> Placed {
    let mut all = vec![SENTINEL; MARGIN];
    all.extend(f32s(data));
    all.extend(vec![SENTINEL; MARGIN]);
    let whole = gpu.upload(label, &[all.len()], &all).unwrap();
    let view = whole.view(MARGIN, &[data.len()]);
    Placed { whole, view }
}

fn place_zeros(gpu: &Gpu, label: &str, len: usize) -> Placed {
    place(gpu, label, &vec![0.0; len])
}

impl Placed {
    /// The view's contents, after checking that nothing outside it changed.
    fn read(&self, gpu: &Gpu) -> Vec<f32> {
        let all = gpu.read::<f32>(&self.whole).unwrap();
        let len = self.view.len();
        for (i, &v) in all[..MARGIN].iter().chain(&all[MARGIN + len..]).enumerate() {
            assert_eq!(
                v, SENTINEL,
                "{:?}: margin element {i} overwritten",
                self.whole
            );
        }
        all[MARGIN..MARGIN + len].to_vec()
    }
}
