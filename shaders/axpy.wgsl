// Flat-vector arithmetic: y += alpha·x and y = alpha·x. Each is the other's backward:
// d/dx of (y += alpha·x) is alpha·dy, and d/dx of (y = alpha·x) is alpha·dy too.

struct Params { len: u32, alpha: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn axpy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i < p.len) {
        y[i] += p.alpha * x[i];
    }
}

@compute @workgroup_size(64)
fn scale(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i < p.len) {
        y[i] = p.alpha * x[i];
    }
}
