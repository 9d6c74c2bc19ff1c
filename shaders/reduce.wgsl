// Sums and dot products of flat vectors, as per-workgroup partial sums that the host adds
// in f64: a long f32 running sum would lose the low digits the learning-rate rules need.
// Each workgroup of 64 reduces a contiguous chunk, 64 strided running sums then a tree.

struct Params { len: u32, chunk: u32, alpha: f32, pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;

var<workgroup> tree: array<f32, 64>;

fn finish(lid: u32, wid: u32, s: f32) {
    tree[lid] = s;
    workgroupBarrier();
    for (var stride = 32u; stride > 0u; stride /= 2u) {
        if (lid < stride) {
            tree[lid] += tree[lid + stride];
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        partials[wid] = tree[0];
    }
}

@compute @workgroup_size(64)
fn sum(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
    let start = wg.x * p.chunk;
    let end = min(start + p.chunk, p.len);
    var s = 0.0;
    for (var i = start + lid; i < end; i += 64u) {
        s += x[i];
    }
    finish(lid, wg.x, s);
}

// Partial sums of `segments` consecutive segments of `len` elements each (the five probes'
// per-row losses): workgroup (x, y) writes partial x of segment y at y·num_workgroups.x + x.
@compute @workgroup_size(64)
fn sum_segments(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>,
                @builtin(num_workgroups) nwg: vec3<u32>) {
    let base = wg.y * p.len;
    let start = wg.x * p.chunk;
    let end = min(start + p.chunk, p.len);
    var s = 0.0;
    for (var i = start + lid; i < end; i += 64u) {
        s += x[base + i];
    }
    finish(lid, wg.y * nwg.x + wg.x, s);
}

@compute @workgroup_size(64)
fn dot(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
    let start = wg.x * p.chunk;
    let end = min(start + p.chunk, p.len);
    var s = 0.0;
    for (var i = start + lid; i < end; i += 64u) {
        s += x[i] * y[i];
    }
    finish(lid, wg.x, s);
}

// Σ(x − y)²: the distance of two points, without the cancellation of x·x − 2x·y + y·y.
@compute @workgroup_size(64)
fn distance(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
    let start = wg.x * p.chunk;
    let end = min(start + p.chunk, p.len);
    var s = 0.0;
    for (var i = start + lid; i < end; i += 64u) {
        let e = x[i] - y[i];
        s += e * e;
    }
    finish(lid, wg.x, s);
}

// Σ|x|.
@compute @workgroup_size(64)
fn abs_sum(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
    let start = wg.x * p.chunk;
    let end = min(start + p.chunk, p.len);
    var s = 0.0;
    for (var i = start + lid; i < end; i += 64u) {
        s += abs(x[i]);
    }
    finish(lid, wg.x, s);
}

// Σ x·(y − g): a dot product with a difference of two points, formed exactly per element.
@compute @workgroup_size(64)
fn dot_difference(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
    let start = wg.x * p.chunk;
    let end = min(start + p.chunk, p.len);
    var s = 0.0;
    for (var i = start + lid; i < end; i += 64u) {
        s += x[i] * (y[i] - g[i]);
    }
    finish(lid, wg.x, s);
}

// Backward of s = alpha·Σx (y unused) or of s = alpha·x·y (d/dx): dx = g[0]·alpha·(1 or y).
@compute @workgroup_size(64)
fn sum_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i < p.len) {
        dx[i] = g[0] * p.alpha;
    }
}

@compute @workgroup_size(64)
fn dot_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i < p.len) {
        dx[i] = g[0] * p.alpha * y[i];
    }
}
