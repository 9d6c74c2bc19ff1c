// Elementwise sums: the residual connection y = a + b (then ReLU), and y += x.

struct Params { len: u32, relu: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
// a, b and y again, four elements at a time, for forward4.
@group(0) @binding(4) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> b4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> y4: array<vec4<f32>>;

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    var v = a[i] + b[i];
    if (p.relu != 0u) {
        v = max(v, 0.0);
    }
    y[i] = v;
}

// y += a (then ReLU).
@compute @workgroup_size(64)
fn accumulate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    var v = y[i] + a[i];
    if (p.relu != 0u) {
        v = max(v, 0.0);
    }
    y[i] = v;
}

// forward on vec4s when len % 4 = 0, QUADS of them per invocation.
@compute @workgroup_size(64)
fn forward4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let first = QUADS * index(gid, nwg);
    for (var q = first; q < min(first + QUADS, p.len / 4u); q++) {
        var v = a4[q] + b4[q];
        if (p.relu != 0u) {
            v = max(v, vec4(0.0));
        }
        y4[q] = v;
    }
}
