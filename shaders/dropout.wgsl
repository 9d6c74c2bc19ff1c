// Inverted dropout: a keep mask of 1/(1 − p) or 0 drawn from a counter-based hash of
// (seed, step, element index), so a recorded program draws a new mask each step once the
// host rewrites `rng`; y = x·mask, and its gradient dx (+)= dy·mask. The element index is
// counted from the global batch's first sample: a rank holding samples first.. of a batch
// (data-parallel training) draws the masks one process draws for them.

struct Params { len: u32, p: f32, scale: f32, accumulate: u32, size: u32, pad0: u32, pad1: u32, pad2: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
// [seed, step, first sample]; `size` elements per sample.
@group(0) @binding(2) var<storage, read> rng: array<u32>;
@group(0) @binding(3) var<storage, read_write> mask_out: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read> mask: array<f32>;
@group(0) @binding(6) var<storage, read> dy: array<f32>;
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;

// Chris Wellons' "lowbias32" integer hash (a bijection of u32).
fn mix32(v: u32) -> u32 {
    var h = v;
    h ^= h >> 16u;
    h *= 0x7feb352du;
    h ^= h >> 15u;
    h *= 0x846ca68bu;
    h ^= h >> 16u;
    return h;
}

// The random word of element i; reference::dropout_hash is the same function.
fn draw(seed: u32, step: u32, i: u32) -> u32 {
    var h = mix32(seed ^ 0x9e3779b9u);
    h = mix32(h ^ step);
    h = mix32(h ^ i);
    return mix32(h + 0x6a09e667u);
}

// Keeps element i when u = (top 24 bits)·2⁻²⁴, uniform in [0, 1), is at least p.
@compute @workgroup_size(64)
fn forward_train(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    let u = f32(draw(rng[0], rng[1], rng[2] * p.size + i) >> 8u) * (1.0 / 16777216.0);
    let m = select(0.0, p.scale, u >= p.p);
    mask_out[i] = m;
    y[i] = x[i] * m;
}

@compute @workgroup_size(64)
fn apply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i < p.len) {
        y[i] = x[i] * mask[i];
    }
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    var g = dy[i] * mask[i];
    if (p.accumulate != 0u) {
        g += dx[i];
    }
    dx[i] = g;
}
