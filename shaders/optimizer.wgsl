// The step direction d of each optimizer, written to `dir`; the update is then w −= η·d
// (sgd.wgsl) and the line probes follow w − (η + kε)·d, the line the optimizer steps along.
// As PyTorch's SGD (momentum, dampening 0, nesterov) and Adam (bias-corrected), with L2
// weight decay folded into the gradient.

struct Params { len: u32, a: f32, b: f32, eps: f32, weight_decay: f32, nesterov: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read_write> dir: array<f32>;
// Adam's bias corrections for this step: 1 − β1^t and 1 − β2^t, written by the host.
@group(0) @binding(6) var<storage, read> corrections: array<f32>;

// d = g + λ·w
@compute @workgroup_size(64)
fn decay(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i < p.len) {
        dir[i] = g[i] + p.weight_decay * w[i];
    }
}

// buf = μ·buf + g′; d = buf, or g′ + μ·buf with Nesterov (a = μ). The first step starts
// from buf = 0, which gives PyTorch's buf = g′.
@compute @workgroup_size(64)
fn momentum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    let gi = g[i] + p.weight_decay * w[i];
    let buf = p.a * m[i] + gi;
    m[i] = buf;
    dir[i] = select(buf, gi + p.a * buf, p.nesterov != 0u);
}

// m = β1·m + (1−β1)·g′, v = β2·v + (1−β2)·g′², d = m̂ / (√v̂ + eps) (a = β1, b = β2).
@compute @workgroup_size(64)
fn adam(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    let gi = g[i] + p.weight_decay * w[i];
    let mi = p.a * m[i] + (1.0 - p.a) * gi;
    let vi = p.b * v[i] + (1.0 - p.b) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    dir[i] = (mi / corrections[0]) / (sqrt(vi / corrections[1]) + p.eps);
}
