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

/// The mean of `rows` losses from their partial sums ([`combine`]), infinite when their sum
/// is past f32's range, where a partial sum may already have overflowed: whether a batch's
/// loss is finite (`--on-nonfinite`) then depends on the batch, not on how its sum was cut
/// into workgroups, or into the shards of a data-parallel job ([`past_f32`]).
pub fn loss_mean(partials: &[f32], rows: usize) -> f64 {
    past_f32(combine(partials) / rows as f64, rows)
}

/// `mean`, or an infinity of its sign when the sum of the `rows` values it is the mean of is
/// past f32's range (NaN stays NaN).
pub fn past_f32(mean: f64, rows: usize) -> f64 {
    match (mean * rows as f64).abs() > f64::from(f32::MAX) {
        true => f64::INFINITY.copysign(mean),
        false => mean,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loss_whose_sum_leaves_f32_is_infinite_however_it_was_cut() {
        let big = 2.0e38_f32;
        // One workgroup's f32 sum overflowed, or two that did not: the same verdict.
        assert_eq!(loss_mean(&[f32::INFINITY], 2), f64::INFINITY);
        assert_eq!(loss_mean(&[big, big], 2), f64::INFINITY);
        // Two ranks, each with a finite mean of its shard of 16: their global mean of 32.
        assert_eq!(past_f32(1.67e37, 32), f64::INFINITY);
        assert_eq!(past_f32(1.0e36, 32), 1.0e36);
        assert_eq!(loss_mean(&[1.0, 3.0], 2), 2.0);
        assert!(past_f32(f64::NAN, 4).is_nan());
    }
}
