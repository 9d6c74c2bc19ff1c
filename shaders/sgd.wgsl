// The weight update over the flat parameter buffer: w −= η·d, d the optimizer's step
// direction (bound as g: the gradient for plain SGD, the momentum or Adam step otherwise).
// η is read from a storage scalar, not a uniform, so a schedule can change it on the GPU or
// by a write before each step without re-recording the program.

struct Params { len: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> lr: array<f32>;

@compute @workgroup_size(64)
fn step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i < p.len) {
        w[i] -= lr[0] * g[i];
    }
}
