//! Sums and dot products of flat vectors as per-workgroup partial sums, added on the
//! host in f64 ([`combine`]).

use super::{grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    chunk: u32,
    alpha: f32,
    pad: u32,
}

/// How many partial sums a reduction over `len` elements writes: enough workgroups to
/// keep every core busy, few enough that reading them back is a handful of bytes.
pub fn partial_count(len: usize) -> usize {
    len.div_ceil(4096).clamp(1, 256)
}

fn chunk(len: usize) -> usize {
    len.div_ceil(partial_count(len)).max(1)
}

fn record(
    prog: &mut Program,
    gpu: &Gpu,
    entry: &str,
    x: &Tensor,
    y: &Tensor,
    partials: &Tensor,
) -> Result<(), GpuError> {
    record3(prog, gpu, entry, x, y, gpu.dummy(), partials)
}

fn record3(
    prog: &mut Program,
    gpu: &Gpu,
    entry: &str,
    x: &Tensor,
    y: &Tensor,
    z: &Tensor,
    partials: &Tensor,
) -> Result<(), GpuError> {
    let n = partial_count(x.len());
    assert!(
        partials.len() >= n,
        "partials holds {} < {n}",
        partials.len()
    );
    let k = gpu.kernel(&shader!("reduce"), entry, &[])?;
    let p = Params {
        len: u(x.len()),
        chunk: u(chunk(x.len())),
        alpha: 1.0,
        pad: 0,
    };
    let d = gpu.dummy();
    prog.dispatch(gpu, &k, &p, &[x, y, partials, z, d], [u(n), 1, 1])
}

/// Partial sums of `x` into the first [`partial_count`] elements of `partials`.
pub fn sum(prog: &mut Program, gpu: &Gpu, x: &Tensor, partials: &Tensor) -> Result<(), GpuError> {
    record(prog, gpu, "sum", x, gpu.dummy(), partials)
}

/// Partial sums of each of `segments` equal consecutive segments of `x`: segment s's
/// [`partial_count`]`(x.len() / segments)` partials start at s times that count.
pub fn sum_segments(
    prog: &mut Program,
    gpu: &Gpu,
    x: &Tensor,
    segments: usize,
    partials: &Tensor,
) -> Result<(), GpuError> {
    assert_eq!(x.len() % segments, 0, "segments must divide the tensor");
    let len = x.len() / segments;
    let n = partial_count(len);
    assert!(partials.len() >= n * segments, "partials too small");
    let k = gpu.kernel(&shader!("reduce"), "sum_segments", &[])?;
    let p = Params {
        len: u(len),
        chunk: u(chunk(len)),
        alpha: 1.0,
        pad: 0,
    };
    let d = gpu.dummy();
    prog.dispatch(gpu, &k, &p, &[x, d, partials, d, d], [u(n), u(segments), 1])
}

/// Partial sums of `x·y`.
pub fn dot(
    prog: &mut Program,
    gpu: &Gpu,
    x: &Tensor,
    y: &Tensor,
    partials: &Tensor,
) -> Result<(), GpuError> {
    assert_eq!(x.len(), y.len());
    record(prog, gpu, "dot", x, y, partials)
}

/// Partial sums of `(x − y)·(x − y)`, each difference formed exactly in f32.
pub fn distance(
    prog: &mut Program,
    gpu: &Gpu,
    x: &Tensor,
    y: &Tensor,
    partials: &Tensor,
) -> Result<(), GpuError> {
    assert_eq!(x.len(), y.len());
    record(prog, gpu, "distance", x, y, partials)
}

/// Partial sums of `|x|`.
pub fn abs_sum(
    prog: &mut Program,
    gpu: &Gpu,
    x: &Tensor,
    partials: &Tensor,
) -> Result<(), GpuError> {
    record(prog, gpu, "abs_sum", x, gpu.dummy(), partials)
}

/// Partial sums of `x·(y − z)`.
pub fn dot_difference(
    prog: &mut Program,
    gpu: &Gpu,
    x: &Tensor,
    y: &Tensor,
    z: &Tensor,
    partials: &Tensor,
) -> Result<(), GpuError> {
    assert!(x.len() == y.len() && y.len() == z.len());
    record3(prog, gpu, "dot_difference", x, y, z, partials)
}

/// Adds partial sums in f64.
pub fn combine(partials: &[f32]) -> f64 {
    partials.iter().map(|&p| p as f64).sum()
}

/// Backward of `s = α·Σx` given `g = ds` (a one-element tensor): `dx = g·α`.
pub fn sum_backward(
    prog: &mut Program,
    gpu: &Gpu,
    alpha: f32,
    g: &Tensor,
    dx: &Tensor,
) -> Result<(), GpuError> {
    let k = gpu.kernel(&shader!("reduce"), "sum_backward", &[])?;
    let p = Params {
        len: u(dx.len()),
        chunk: 0,
        alpha,
        pad: 0,
    };
    let d = gpu.dummy();
    prog.dispatch(gpu, &k, &p, &[d, d, d, g, dx], grid_1d(gpu, dx.len(), 1))
}

/// Backward of `s = α·x·y` with respect to x given `g = ds`: `dx = g·α·y`.
pub fn dot_backward(
    prog: &mut Program,
    gpu: &Gpu,
    alpha: f32,
    g: &Tensor,
    y: &Tensor,
    dx: &Tensor,
) -> Result<(), GpuError> {
    assert_eq!(y.len(), dx.len());
    let k = gpu.kernel(&shader!("reduce"), "dot_backward", &[])?;
    let p = Params {
        len: u(dx.len()),
        chunk: 0,
        alpha,
        pad: 0,
    };
    let d = gpu.dummy();
    prog.dispatch(gpu, &k, &p, &[d, y, d, g, dx], grid_1d(gpu, dx.len(), 1))
}
