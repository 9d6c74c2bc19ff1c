// Iterate averaging: avg += c·(x − avg), c from the host each step (src/optim/average.rs
// sets c = (1 + γ)/(t + γ), the polynomial-decay average of Shamir & Zhang 2013).

struct Params { len: u32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> avg: array<f32>;
// [c]
@group(0) @binding(3) var<storage, read> c: array<f32>;

@compute @workgroup_size(64)
fn toward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i < p.len) {
        avg[i] += c[0] * (x[i] - avg[i]);
    }
}
