// Rectified linear unit and its gradient.

struct Params { len: u32, accumulate: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
// x, dy and dx again, four elements at a time, for backward4.
@group(0) @binding(5) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> dy4: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> dx4: array<vec4<f32>>;

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i < p.len) {
        y[i] = max(x[i], 0.0);
    }
}

// dx (+)= dy where x > 0. Works with x being either the input or the output of the ReLU.
@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    var g = select(0.0, dy[i], x[i] > 0.0);
    if (p.accumulate != 0u) {
        g += dx[i];
    }
    dx[i] = g;
}

// backward on vec4s when len % 4 = 0, QUADS of them per invocation.
@compute @workgroup_size(64)
fn backward4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let first = QUADS * index(gid, nwg);
    for (var q = first; q < min(first + QUADS, p.len / 4u); q++) {
        var g = select(vec4(0.0), dy4[q], x4[q] > vec4(0.0));
        if (p.accumulate != 0u) {
            g += dx4[q];
        }
        dx4[q] = g;
    }
}
