// Squared error of predictions against the truth, per element, and its gradient. The mean over all elements (the MSE) is
// the reduce kernel's sum times 1/len; backward takes that factor and the incoming
// gradient as `scale`: dpred = scale·2·(pred − truth).

// Predictions past `period` reuse the truth from the start (stacked probes).
struct Params { len: u32, scale: f32, period: u32, pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pred: array<f32>;
@group(0) @binding(2) var<storage, read> truth: array<f32>;
@group(0) @binding(3) var<storage, read_write> sq: array<f32>;
@group(0) @binding(4) var<storage, read_write> dpred: array<f32>;

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i < p.len) {
        let d = pred[i] - truth[i % p.period];
        sq[i] = d * d;
    }
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i < p.len) {
        dpred[i] = p.scale * 2.0 * (pred[i] - truth[i % p.period]);
    }
}
