//! Global average pooling of NCHW tensors to `[batch, channels]` (ResNet's last pooling).

use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    planes: u32,
    hw: u32,
    accumulate: u32,
    pad: u32,
}

fn params(batch: usize, channels: usize, hw: usize, accumulate: bool) -> Params {
    assert!(hw > 0, "average pooling over empty planes");
    let len = batch * channels * hw;
    assert!(len < u32::MAX as usize, "average pooling input too large");
    Params {
        planes: u(batch * channels),
        hw: u(hw),
        accumulate: u32::from(accumulate),
        pad: 0,
    }
}

/// `y[n, c] = Σ_p x[n, c, p] / hw` for `x: [batch, channels, hw]`.
pub fn forward(
    prog: &mut Program,
    gpu: &Gpu,
    batch: usize,
    channels: usize,
    hw: usize,
    x: &Tensor,
    y: &Tensor,
) -> Result<(), GpuError> {
    let p = params(batch, channels, hw, false);
    assert_eq!(x.len(), batch * channels * hw, "average pooling input size");
    assert_eq!(y.len(), batch * channels, "average pooling output size");
    let k = gpu.kernel(&shader!("avgpool"), "forward", &[])?;
    let d = gpu.dummy();
    prog.dispatch(
        gpu,
        &k,
        &p,
        &[x, y, d, d],
        grid_1d(gpu, batch * channels, 1),
    )
}

/// `dx[n, c, p] (+)= dy[n, c] / hw`.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    prog: &mut Program,
    gpu: &Gpu,
    batch: usize,
    channels: usize,
    hw: usize,
    dy: &Tensor,
    dx: &Tensor,
    accumulate: bool,
) -> Result<(), GpuError> {
    let p = params(batch, channels, hw, accumulate);
    assert_eq!(
        dx.len(),
        batch * channels * hw,
        "average pooling input size"
    );
    assert_eq!(dy.len(), batch * channels, "average pooling output size");
    let k = gpu.kernel(&shader!("avgpool"), "backward", &[])?;
    let d = gpu.dummy();
    prog.dispatch(gpu, &k, &p, &[d, d, dy, dx], grid_1d(gpu, dx.len(), 1))
}
