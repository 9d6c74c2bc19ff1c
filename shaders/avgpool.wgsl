// Global average pooling of NCHW planes to [N, C], and its gradient.

struct Params { planes: u32, hw: u32, accumulate: u32, pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

// One invocation per plane, summing it in order.
@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = index(gid, nwg);
    if (o >= p.planes) {
        return;
    }
    var s = 0.0;
    for (var k = o * p.hw; k < (o + 1u) * p.hw; k++) {
        s += x[k];
    }
    y[o] = s / f32(p.hw);
}

// One invocation per input: dx (+)= dy of its plane / hw.
@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let k = index(gid, nwg);
    if (k >= p.planes * p.hw) {
        return;
    }
    var g = dy[k / p.hw] / f32(p.hw);
    if (p.accumulate != 0u) {
        g += dx[k];
    }
    dx[k] = g;
}
