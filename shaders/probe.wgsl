// The points of the line search, materialised: for each probe k,
// out[k·stride + i] = w[i] − steps[k]·g[i], g bound to the direction d probed along
// (d(t), or d(t−1) for the back probe) and steps the step sizes the host writes each
// step: the rule's probe steps (η + (k − 2)·ε for newton, η·(1 + (k − 2)/2) for gen), or
// −η(t−1) for the back probe. One pass over the flat buffers; the probes' forward then
// reads its weights from `out` like the training forward reads `w`.

// `relu` is used by `combine` only.
struct Params { len: u32, stride: u32, probes: u32, relu: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> steps: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn perturb(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    let wi = w[i];
    let gi = g[i];
    for (var k = 0u; k < p.probes; k++) {
        out[k * p.stride + i] = wi - steps[k] * gi;
    }
}

// The first layer is linear in its weights, so its five probe outputs need no five passes:
// with z_w = layer(x; w) and z_g = layer(x; g) (bias included),
// layer(x; w − s·g) = z_w − s·z_g. This also keeps the perturbation exact where
// w − s·g would round it away in f32. out[k·stride + i] = act(z_w[i] − steps[k]·z_g[i]).
@group(0) @binding(5) var<storage, read> zw: array<f32>;
@group(0) @binding(6) var<storage, read> zg: array<f32>;

@compute @workgroup_size(64)
fn combine(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    let a = zw[i];
    let b = zg[i];
    for (var k = 0u; k < p.probes; k++) {
        var v = a - steps[k] * b;
        if (p.relu != 0u) {
            v = max(v, 0.0);
        }
        out[k * p.stride + i] = v;
    }
}
