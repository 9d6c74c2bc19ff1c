//! Tensor operations: each file records its forward kernels and its backward kernels
//! into a [`crate::gpu::Program`]; the WGSL lives in `shaders/` under the same name, after
//! `shaders/prelude.wgsl` (see [`crate::shader`]).

#![warn(missing_docs)]

pub mod add;
pub mod average;
pub mod avgpool;
pub mod axpy;
pub mod batchnorm;
pub mod bias;
pub mod conv;
pub mod dadapt;
pub mod dropout;
pub mod matmul;
pub mod maxpool;
pub mod mse;
pub mod optimizer;
pub mod probe;
pub mod prodigy;
pub mod reduce;
pub mod relu;
pub mod schedule_free;
pub mod sgd;
pub mod softmax_xent;

use crate::gpu::{Gpu, Shader, Tensor};
use crate::shader;

/// Every shader the ops compile, for the test that validates them all.
pub const SHADERS: &[Shader] = &[
    shader!("add"),
    shader!("average"),
    shader!("avgpool"),
    shader!("axpy"),
    shader!("batchnorm"),
    shader!("bias"),
    conv::direct3x3::SHADER,
    conv::direct3x3_grad::SHADER,
    conv::direct5x5::SHADER,
    conv::direct5x5_grad::SHADER,
    conv::direct5x5_input_grad::SHADER,
    conv::im2col::SHADER,
    shader!("dadapt"),
    shader!("dropout"),
    shader!("matmul"),
    shader!("maxpool"),
    shader!("mse"),
    shader!("optimizer"),
    shader!("probe"),
    shader!("prodigy"),
    shader!("reduce"),
    shader!("relu"),
    shader!("schedule_free"),
    shader!("sgd"),
    shader!("softmax_xent"),
];

/// Converts a size or offset for a kernel's u32 parameters.
pub(crate) fn u(x: usize) -> u32 {
    u32::try_from(x).expect("tensor index exceeds u32")
}

/// Vec4s each invocation of the vec4 kernels handles (`QUADS` in `shaders/prelude.wgsl`).
pub(crate) const QUADS: usize = 4;

/// A 1-D grid of `n` invocations in workgroups of 64, folded into y past the x limit;
/// kernels recover the index as `gid.x + gid.y · num_workgroups.x · 64`.
pub(crate) fn grid_1d(gpu: &Gpu, n: usize, z: usize) -> [u32; 3] {
    let groups = n.div_ceil(64).max(1);
    let max_x = gpu.limits.max_compute_workgroups_per_dimension as usize;
    let x = groups.min(max_x);
    [u(x), u(groups.div_ceil(x)), u(z)]
}

/// A grid of `n` workgroups (one per channel, row, ...) folded into y past the x limit;
/// kernels recover the workgroup's index as `wg.x + wg.y · num_workgroups.x` and skip
/// indices past `n`.
pub(crate) fn grid_groups(gpu: &Gpu, n: usize) -> [u32; 3] {
    let n = n.max(1);
    let max_x = gpu.limits.max_compute_workgroups_per_dimension as usize;
    let x = n.min(max_x);
    [u(x), u(n.div_ceil(x)), 1]
}

/// Tensors for [`crate::gpu::Program::dispatch`] by binding slot (binding − 1): `used` in
/// their slots, the dummy elsewhere (entry points bind only what they use).
pub(crate) fn bind<'a, const N: usize>(
    gpu: &'a Gpu,
    used: &[(usize, &'a Tensor)],
) -> [&'a Tensor; N] {
    let mut t = [gpu.dummy(); N];
    for &(slot, tensor) in used {
        t[slot] = tensor;
    }
    t
}
