// Bias over the columns of a row-major [rows, cols] matrix, and its gradient.

struct Params { rows: u32, cols: u32, accumulate: u32, x_off: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dbias: array<f32>;

// x[i, j] += bias[j]
@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i >= p.rows * p.cols) {
        return;
    }
    x[i] += bias[i % p.cols];
}

// dbias[j] (+)= Σ_i dy[i, j]; one invocation per column, rows summed in order.
@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    if (j >= p.cols) {
        return;
    }
    var s = 0.0;
    for (var i = 0u; i < p.rows; i++) {
        s += dy[i * p.cols + j];
    }
    if (p.accumulate != 0u) {
        s += dbias[j];
    }
    dbias[j] = s;
}
