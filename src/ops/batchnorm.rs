//! Batch normalisation over NCHW tensors (PyTorch's `BatchNorm2d`): training mode with the
//! batch statistics (and the running-statistics update), eval mode with the running ones,
//! and the training-mode gradient. Per-channel statistics are reduced by one workgroup per
//! channel in a fixed order ([`reduction_width`] invocations), so every result is
//! deterministic.

use super::{bind, grid_1d, grid_groups, u, QUADS};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

/// Binding slots (binding − 1) of `shaders/batchnorm.wgsl`.
const X: usize = 0;
const GAMMA: usize = 1;
const BETA: usize = 2;
const Y: usize = 3;
const SAVED: usize = 4;
const RUNNING_MEAN: usize = 5;
const RUNNING_VAR: usize = 6;
const DZ: usize = 7;
const DX: usize = 8;
const DGAMMA: usize = 9;
const DBETA: usize = 10;
const SUMS: usize = 11;
const X4: usize = 12;
const Y4: usize = 13;
const DZ4: usize = 14;
const DX4: usize = 15;
const SLOTS: usize = 16;

/// [`bind`] for this shader's slots.
fn bindings<'a>(gpu: &'a Gpu, used: &[(usize, &'a Tensor)]) -> [&'a Tensor; SLOTS] {
    bind(gpu, used)
}

/// PyTorch's default `eps`.
pub const BN_EPS: f32 = 1e-5;
/// PyTorch's default `momentum` of the running statistics.
pub const BN_MOMENTUM: f32 = 0.1;

thread_local! {
    static PINNED_WIDTH: std::cell::Cell<Option<u32>> = const { std::cell::Cell::new(None) };
}

/// Invocations per channel in the reductions (`WG` of `shaders/batchnorm.wgsl`): 256 on a
/// GPU; 8, one subgroup, on a software adapter, where a workgroup's subgroups run one
/// after another on one thread and lavapipe pays for each subgroup of a shader with
/// barriers (ResNet-18 at width 0.25, batch 128: the statistics and gradient sums take
/// 155–165 ms a step against 243–253 with 256, `docs/design-notes.md` §14). Different
/// widths add in different orders, so their results differ in the last bits.
pub fn reduction_width(gpu: &Gpu) -> u32 {
    PINNED_WIDTH.get().unwrap_or(match gpu.info.device_type {
        wgpu::DeviceType::Cpu => 8,
        _ => 256,
    })
}

/// While the guard lives, batch norms recorded on this thread reduce with `width`
/// invocations per channel (a power of two up to 256) whatever the adapter: tests run the
/// GPU's width on the software adapter.
pub fn pin_reduction_width(width: u32) -> PinnedWidth {
    assert!(
        width.is_power_of_two() && width <= 256,
        "batch norm reduction width {width}: a power of two up to 256"
    );
    PinnedWidth(PINNED_WIDTH.replace(Some(width)))
}

/// Restores the width pinned before [`pin_reduction_width`] when dropped.
pub struct PinnedWidth(Option<u32>);

impl Drop for PinnedWidth {
    fn drop(&mut self) {
        PINNED_WIDTH.set(self.0);
    }
}

fn reduction_constants(gpu: &Gpu) -> [(&'static str, f64); 1] {
    [("WG", f64::from(reduction_width(gpu)))]
}

/// Geometry of a batch normalisation: input `[batch, channels, hw]` (hw = height·width).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BnShape {
    /// Images in the batch.
    pub batch: usize,
    /// Channels, each with its own statistics, weight and bias.
    pub channels: usize,
    /// Pixels per image and channel: height · width.
    pub hw: usize,
}

impl BnShape {
    /// Elements of the input and the output.
    pub fn tensor_len(&self) -> usize {
        self.batch * self.channels * self.hw
    }

    /// Values each channel's statistics are taken over: batch·hw.
    pub fn count(&self) -> usize {
        self.batch * self.hw
    }

    /// Checks that the shape is non-empty and indexable in u32.
    pub fn validate(&self, gpu: &Gpu) -> Result<(), GpuError> {
        if [self.batch, self.channels, self.hw].contains(&0) {
            return Err(GpuError::Shader(format!(
                "batch_norm {self:?}: sizes must be at least 1"
            )));
        }
        let len = self.tensor_len();
        if len >= u32::MAX as usize {
            return Err(GpuError::TooLarge {
                what: "batch_norm input".into(),
                bytes: 4 * len as u64,
                limit: 4 * u32::MAX as u64,
                adapter: gpu.info.name.clone(),
            });
        }
        gpu.check_binding_size("batch_norm input", 4 * len as u64)
    }

    /// Whether the kernels move vec4s: each channel's plane is whole vec4s.
    fn quads(&self) -> bool {
        self.hw.is_multiple_of(4)
    }

    /// The elementwise pass: its entry (`name`, or `name4` on vec4s) and grid.
    fn elementwise(&self, gpu: &Gpu, name: &str) -> (String, [u32; 3]) {
        if self.quads() {
            let threads = (self.count() / 4).div_ceil(QUADS);
            (format!("{name}4"), grid_1d(gpu, threads, self.channels))
        } else {
            (name.to_string(), grid_1d(gpu, self.tensor_len(), 1))
        }
    }

    fn params(&self, relu: bool, acc_dx: bool, acc_dgamma: bool, acc_dbeta: bool) -> Params {
        Params {
            count: u(self.count()),
            channels: u(self.channels),
            hw: u(self.hw),
            len: u(self.tensor_len()),
            relu: u32::from(relu),
            acc_dx: u32::from(acc_dx),
            acc_dgamma: u32::from(acc_dgamma),
            acc_dbeta: u32::from(acc_dbeta),
            eps: BN_EPS,
            momentum: BN_MOMENTUM,
            pad: [0; 2],
        }
    }

    fn check(&self, what: &str, t: &Tensor, len: usize) {
        assert_eq!(t.len(), len, "batch_norm {what} size for {self:?}");
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    count: u32,
    channels: u32,
    hw: u32,
    len: u32,
    relu: u32,
    acc_dx: u32,
    acc_dgamma: u32,
    acc_dbeta: u32,
    eps: f32,
    momentum: f32,
    pad: [u32; 2],
}

/// Training mode: per-channel batch mean μ and biased variance σ² over batch·hw (in one
/// pass: Welford's statistics per invocation, joined pairwise); `y = γ·(x − μ)/√(σ² + eps) + β`, then ReLU if
/// `relu`. Writes μ and 1/√(σ² + eps) into `saved` (`[2·channels]`: the means, then the
/// inverse standard deviations) for [`backward`]. With `running = Some((mean, var))` also
/// updates them as PyTorch: `r ← (1 − m)·r + m·stat`, with the unbiased variance
/// (σ²·n/(n − 1)) for the running variance. Like PyTorch, needs batch·hw ≥ 2.
#[allow(clippy::too_many_arguments)]
pub fn forward_train(
    prog: &mut Program,
    gpu: &Gpu,
    s: &BnShape,
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    y: &Tensor,
    saved: &Tensor,
    running: Option<(&Tensor, &Tensor)>,
    relu: bool,
) -> Result<(), GpuError> {
    s.validate(gpu)?;
    if s.count() < 2 {
        return Err(GpuError::Shader(format!(
            "batch_norm {s:?}: training needs more than one value per channel"
        )));
    }
    let c = s.channels;
    s.check("input", x, s.tensor_len());
    s.check("output", y, s.tensor_len());
    s.check("gamma", gamma, c);
    s.check("beta", beta, c);
    s.check("saved statistics", saved, 2 * c);
    let d = gpu.dummy();
    let p = s.params(relu, false, false, false);
    let shader = shader!("batchnorm");
    let (entry, rm, rv) = match running {
        Some((rm, rv)) => {
            s.check("running mean", rm, c);
            s.check("running variance", rv, c);
            ("stats_running", rm, rv)
        }
        None => ("stats", d, d),
    };
    let k = gpu.kernel(&shader, entry, &reduction_constants(gpu))?;
    prog.dispatch(
        gpu,
        &k,
        &p,
        &bindings(
            gpu,
            &[
                (X, x),
                (SAVED, saved),
                (RUNNING_MEAN, rm),
                (RUNNING_VAR, rv),
                (X4, x),
            ],
        ),
        grid_groups(gpu, c),
    )?;
    let (entry, groups) = s.elementwise(gpu, "normalize_batch");
    let k = gpu.kernel(&shader, &entry, &[])?;
    let t = bindings(
        gpu,
        &[
            (X, x),
            (GAMMA, gamma),
            (BETA, beta),
            (Y, y),
            (SAVED, saved),
            (X4, x),
            (Y4, y),
        ],
    );
    prog.dispatch(gpu, &k, &p, &t, groups)
}

/// Eval mode: `y = γ·(x − running_mean)/√(running_var + eps) + β`, then ReLU if `relu`.
#[allow(clippy::too_many_arguments)]
pub fn forward_eval(
    prog: &mut Program,
    gpu: &Gpu,
    s: &BnShape,
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    running_mean: &Tensor,
    running_var: &Tensor,
    y: &Tensor,
    relu: bool,
) -> Result<(), GpuError> {
    s.validate(gpu)?;
    let c = s.channels;
    s.check("input", x, s.tensor_len());
    s.check("output", y, s.tensor_len());
    s.check("gamma", gamma, c);
    s.check("beta", beta, c);
    s.check("running mean", running_mean, c);
    s.check("running variance", running_var, c);
    let (entry, groups) = s.elementwise(gpu, "normalize_running");
    let k = gpu.kernel(&shader!("batchnorm"), &entry, &[])?;
    let p = s.params(relu, false, false, false);
    let t = bindings(
        gpu,
        &[
            (X, x),
            (GAMMA, gamma),
            (BETA, beta),
            (Y, y),
            (RUNNING_MEAN, running_mean),
            (RUNNING_VAR, running_var),
            (X4, x),
            (Y4, y),
        ],
    );
    prog.dispatch(gpu, &k, &p, &t, groups)
}

/// Backward of [`forward_train`] given `dz` and the `saved` statistics. `dz` is the gradient
/// of the normalised output, or with `relu_beta` (β, when the forward fused a ReLU) the
/// gradient after the ReLU, whose mask the kernels recompute from `x`, γ and β as the
/// forward computed its output:
/// `dx = γ·inv_std/n·(n·dz − Σdz − x̂·Σ(dz·x̂))`, `dγ = Σ dz·x̂`, `dβ = Σ dz`, sums over
/// batch·hw per channel. Each output is written, or added to where its flag is true.
/// Records one workgroup-per-channel pass for the two sums, then, if `dx` is wanted, an
/// elementwise pass (with a `[2·channels]` scratch tensor allocated here).
#[allow(clippy::too_many_arguments)]
pub fn backward(
    prog: &mut Program,
    gpu: &Gpu,
    s: &BnShape,
    x: &Tensor,
    gamma: &Tensor,
    saved: &Tensor,
    dz: &Tensor,
    dx: Option<(&Tensor, bool)>,
    dgamma: (&Tensor, bool),
    dbeta: (&Tensor, bool),
    relu_beta: Option<&Tensor>,
) -> Result<(), GpuError> {
    s.validate(gpu)?;
    let c = s.channels;
    s.check("input", x, s.tensor_len());
    s.check("output gradient", dz, s.tensor_len());
    s.check("gamma", gamma, c);
    if let Some(beta) = relu_beta {
        s.check("beta", beta, c);
    }
    let beta = relu_beta.unwrap_or(gpu.dummy());
    s.check("saved statistics", saved, 2 * c);
    s.check("gamma gradient", dgamma.0, c);
    s.check("beta gradient", dbeta.0, c);
    let shader = shader!("batchnorm");
    let acc_dx = dx.is_some_and(|(_, a)| a);
    let p = s.params(relu_beta.is_some(), acc_dx, dgamma.1, dbeta.1);
    // param_grads and channel_sums bind the same tensors; channel_sums also writes `sums`
    // for input_grad.
    let param_sums = [
        (X, x),
        (GAMMA, gamma),
        (BETA, beta),
        (SAVED, saved),
        (DZ, dz),
        (DGAMMA, dgamma.0),
        (DBETA, dbeta.0),
        (X4, x),
        (DZ4, dz),
    ];
    let Some((dx, _)) = dx else {
        let k = gpu.kernel(&shader, "param_grads", &reduction_constants(gpu))?;
        let t = bindings(gpu, &param_sums);
        return prog.dispatch(gpu, &k, &p, &t, grid_groups(gpu, c));
    };
    s.check("input gradient", dx, s.tensor_len());
    let sums = gpu.zeros("batch_norm gradient sums", &[2 * c])?;
    let k = gpu.kernel(&shader, "channel_sums", &reduction_constants(gpu))?;
    let mut t = bindings(gpu, &param_sums);
    t[SUMS] = &sums;
    prog.dispatch(gpu, &k, &p, &t, grid_groups(gpu, c))?;
    let (entry, groups) = s.elementwise(gpu, "input_grad");
    let k = gpu.kernel(&shader, &entry, &[])?;
    let t = bindings(
        gpu,
        &[
            (X, x),
            (GAMMA, gamma),
            (BETA, beta),
            (SAVED, saved),
            (DZ, dz),
            (DX, dx),
            (SUMS, &sums),
            (X4, x),
            (DZ4, dz),
            (DX4, dx),
        ],
    );
    prog.dispatch(gpu, &k, &p, &t, groups)
}
