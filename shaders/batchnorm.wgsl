// Batch normalisation over NCHW tensors (PyTorch's BatchNorm2d) and its gradient.
// Per-channel reductions run in one workgroup per channel: WG strided running sums in a
// fixed order, then two levels of sums in workgroup memory, so results are deterministic. The
// statistics take one pass (Welford's per invocation, joined pairwise), not a mean and then
// the centred squares: the loads are what these loops wait on.
//
// When a channel's plane is whole vec4s (hw % 4 = 0) the kernels move vec4s, and the
// elementwise ones (entry names ending in 4) run per channel, gid.z, so that its
// statistics and γ, β are loaded once per invocation at a uniform address, each
// invocation stepping through QUADS vec4s: lavapipe pays per invocation and runs every
// load with per-lane addresses as a loop over the lanes.

struct Params {
    count: u32,     // batch·hw: values per channel
    channels: u32,
    hw: u32,
    len: u32,       // batch·channels·hw
    relu: u32,
    acc_dx: u32,
    acc_dgamma: u32,
    acc_dbeta: u32,
    eps: f32,
    momentum: f32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
// [2·channels]: the batch means, then 1/√(σ² + eps).
@group(0) @binding(5) var<storage, read_write> saved: array<f32>;
@group(0) @binding(6) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(7) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(8) var<storage, read> dz: array<f32>;
@group(0) @binding(9) var<storage, read_write> dx: array<f32>;
@group(0) @binding(10) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(11) var<storage, read_write> dbeta: array<f32>;
// [2·channels]: Σdz, then Σdz·x̂, for the input gradient.
@group(0) @binding(12) var<storage, read_write> sums: array<f32>;
// x, y, dz and dx again, four elements at a time.
@group(0) @binding(13) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(14) var<storage, read_write> y4: array<vec4<f32>>;
@group(0) @binding(15) var<storage, read> dz4: array<vec4<f32>>;
@group(0) @binding(16) var<storage, read_write> dx4: array<vec4<f32>>;

// Invocations per channel in the reductions, a power of two up to 256, per pipeline.
override WG: u32 = 256u;
// tree_sum's two levels: GROUPS invocations add SPAN neighbours each, then the first adds
// the GROUPS partials.
override GROUPS: u32 = min(WG, 16u);
override SPAN: u32 = WG / GROUPS;

var<workgroup> tree_a: array<f32, 256>;
var<workgroup> tree_b: array<f32, 256>;
var<workgroup> tree_c: array<f32, 256>;

// Flat index of the k-th value (k < batch·hw) of channel c.
fn at(c: u32, k: u32) -> u32 {
    let n = k / p.hw;
    return (n * p.channels + c) * p.hw + (k - n * p.hw);
}

fn quads() -> bool {
    return p.hw % 4u == 0u;
}

// Vec4 index of the k-th vec4 (k < batch·hw/4) of channel c, when quads().
fn at4(c: u32, k: u32) -> u32 {
    let hw4 = p.hw / 4u;
    let n = k / hw4;
    return (n * p.channels + c) * hw4 + (k - n * hw4);
}

// The QUADS consecutive vec4s of channel c that invocation t steps through start at
// (image, vec4 within the plane); past the end when the image is ≥ batch.
fn first_quad(t: u32) -> vec2<u32> {
    let hw4 = p.hw / 4u;
    let k = t * QUADS;
    let n = k / hw4;
    return vec2(n, k - n * hw4);
}

// Sums `a` and `b` over the workgroup; every invocation gets the totals. Not a halving
// tree: GROUPS invocations each add SPAN neighbours in order, then the first adds those
// partials, so four barriers whatever WG.
fn tree_sum(lid: u32, a: f32, b: f32) -> vec2<f32> {
    tree_a[lid] = a;
    tree_b[lid] = b;
    workgroupBarrier();
    if (lid < GROUPS) {
        let first = lid * SPAN;
        var sa = tree_a[first];
        var sb = tree_b[first];
        for (var j = 1u; j < SPAN; j++) {
            sa += tree_a[first + j];
            sb += tree_b[first + j];
        }
        tree_a[first] = sa;
        tree_b[first] = sb;
    }
    workgroupBarrier();
    if (lid == 0u) {
        var sa = tree_a[0];
        var sb = tree_b[0];
        for (var j = 1u; j < GROUPS; j++) {
            sa += tree_a[j * SPAN];
            sb += tree_b[j * SPAN];
        }
        tree_a[0] = sa;
        tree_b[0] = sb;
    }
    workgroupBarrier();
    let total = vec2<f32>(tree_a[0], tree_b[0]);
    workgroupBarrier();
    return total;
}

// Welford's partial statistics (count, mean, sum of squared deviations) of b joined to a
// (Chan et al.'s pairwise update): exact in real arithmetic, and in f32 free of the
// cancellation of Σx² − n·mean².
fn join(a: vec3<f32>, b: vec3<f32>) -> vec3<f32> {
    if (a.x == 0.0) {
        return b;
    }
    if (b.x == 0.0) {
        return a;
    }
    let n = a.x + b.x;
    let d = b.y - a.y;
    let f = b.x / n;
    return vec3(n, a.y + d * f, a.z + b.z + d * d * a.x * f);
}

// join over the workgroup, in tree_sum's two levels; every invocation gets the total.
fn tree_join(lid: u32, v: vec3<f32>) -> vec3<f32> {
    tree_a[lid] = v.x;
    tree_b[lid] = v.y;
    tree_c[lid] = v.z;
    workgroupBarrier();
    if (lid < GROUPS) {
        let first = lid * SPAN;
        var st = vec3(tree_a[first], tree_b[first], tree_c[first]);
        for (var j = 1u; j < SPAN; j++) {
            st = join(st, vec3(tree_a[first + j], tree_b[first + j], tree_c[first + j]));
        }
        tree_a[first] = st.x;
        tree_b[first] = st.y;
        tree_c[first] = st.z;
    }
    workgroupBarrier();
    if (lid == 0u) {
        var st = vec3(tree_a[0], tree_b[0], tree_c[0]);
        for (var j = 1u; j < GROUPS; j++) {
            let i = j * SPAN;
            st = join(st, vec3(tree_a[i], tree_b[i], tree_c[i]));
        }
        tree_a[0] = st.x;
        tree_b[0] = st.y;
        tree_c[0] = st.z;
    }
    workgroupBarrier();
    let total = vec3<f32>(tree_a[0], tree_b[0], tree_c[0]);
    workgroupBarrier();
    return total;
}

// Mean and biased variance of channel c in one pass over it (each invocation keeps
// Welford's statistics of its values, joined over the workgroup); writes them to `saved`
// as mean and inv_std.
fn channel_stats(lid: u32, c: u32) -> vec2<f32> {
    var st = vec3(0.0);
    if (quads()) {
        for (var k = lid; k < p.count / 4u; k += WG) {
            let v = x4[at4(c, k)];
            let m = ((v.x + v.y) + (v.z + v.w)) * 0.25;
            let d = v - m;
            let dd = d * d;
            st = join(st, vec3(4.0, m, (dd.x + dd.y) + (dd.z + dd.w)));
        }
    } else {
        for (var k = lid; k < p.count; k += WG) {
            st = join(st, vec3(1.0, x[at(c, k)], 0.0));
        }
    }
    let total = tree_join(lid, st);
    let mean = total.y;
    let var_b = total.z / f32(p.count);
    if (lid == 0u) {
        saved[c] = mean;
        saved[p.channels + c] = 1.0 / sqrt(var_b + p.eps);
    }
    return vec2<f32>(mean, var_b);
}

// One workgroup per channel.
@compute @workgroup_size(WG)
fn stats(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>,
         @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = wg.x + wg.y * nwg.x;
    if (c >= p.channels) {
        return;
    }
    channel_stats(lid, c);
}

// As `stats`, and r ← (1 − m)·r + m·stat with the unbiased variance, as PyTorch.
@compute @workgroup_size(WG)
fn stats_running(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = wg.x + wg.y * nwg.x;
    if (c >= p.channels) {
        return;
    }
    let st = channel_stats(lid, c);
    if (lid == 0u) {
        let n = f32(p.count);
        let unbiased = st.y * n / (n - 1.0);
        running_mean[c] = (1.0 - p.momentum) * running_mean[c] + p.momentum * st.x;
        running_var[c] = (1.0 - p.momentum) * running_var[c] + p.momentum * unbiased;
    }
}

fn affine(i: u32, c: u32, mean: f32, inv_std: f32) {
    var v = (x[i] - mean) * inv_std * gamma[c] + beta[c];
    if (p.relu != 0u) {
        v = max(v, 0.0);
    }
    y[i] = v;
}

// Training mode: normalises with the batch statistics in `saved`.
@compute @workgroup_size(64)
fn normalize_batch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    let c = (i / p.hw) % p.channels;
    affine(i, c, saved[c], saved[p.channels + c]);
}

// Eval mode: normalises with the running statistics.
@compute @workgroup_size(64)
fn normalize_running(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    let c = (i / p.hw) % p.channels;
    affine(i, c, running_mean[c], 1.0 / sqrt(running_var[c] + p.eps));
}

// With p.relu the backward is handed the gradient after the fused ReLU, and takes the ReLU
// off itself: zero where the forward's pre-activation, recomputed from x by the same
// expression as affine's (affine4's, with its scale and shift), was not positive. That
// saves relu::backward a pass over y, dz and its output.
fn through_relu(g: f32, xv: f32, c: u32, mean: f32, inv_std: f32) -> f32 {
    if (p.relu == 0u) {
        return g;
    }
    return select(0.0, g, (xv - mean) * inv_std * gamma[c] + beta[c] > 0.0);
}

fn through_relu4(g: vec4<f32>, xv: vec4<f32>, scale: f32, shift: f32) -> vec4<f32> {
    if (p.relu == 0u) {
        return g;
    }
    return select(vec4(0.0), g, xv * scale + shift > vec4(0.0));
}

// Σdz and Σdz·x̂ of channel c (dz through the ReLU's mask when p.relu); dβ (+)= Σdz,
// dγ (+)= Σdz·x̂.
fn param_sums(lid: u32, c: u32) -> vec2<f32> {
    let mean = saved[c];
    let inv_std = saved[p.channels + c];
    var a = 0.0;
    var b = 0.0;
    if (quads()) {
        // The forward's scale and shift, for the ReLU's mask (γ and β bound only then).
        var scale = 0.0;
        var shift = 0.0;
        if (p.relu != 0u) {
            scale = inv_std * gamma[c];
            shift = beta[c] - mean * scale;
        }
        for (var k = lid; k < p.count / 4u; k += WG) {
            let i = at4(c, k);
            let xv = x4[i];
            let g = through_relu4(dz4[i], xv, scale, shift);
            let gx = g * ((xv - mean) * inv_std);
            a += (g.x + g.y) + (g.z + g.w);
            b += (gx.x + gx.y) + (gx.z + gx.w);
        }
    } else {
        for (var k = lid; k < p.count; k += WG) {
            let i = at(c, k);
            let xv = x[i];
            let g = through_relu(dz[i], xv, c, mean, inv_std);
            a += g;
            b += g * ((xv - mean) * inv_std);
        }
    }
    let s = tree_sum(lid, a, b);
    if (lid == 0u) {
        var db = s.x;
        var dg = s.y;
        if (p.acc_dbeta != 0u) {
            db += dbeta[c];
        }
        if (p.acc_dgamma != 0u) {
            dg += dgamma[c];
        }
        dbeta[c] = db;
        dgamma[c] = dg;
    }
    return s;
}

// One workgroup per channel, when no input gradient is wanted.
@compute @workgroup_size(WG)
fn param_grads(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = wg.x + wg.y * nwg.x;
    if (c >= p.channels) {
        return;
    }
    param_sums(lid, c);
}

// As `param_grads`, keeping the two sums for `input_grad`.
@compute @workgroup_size(WG)
fn channel_sums(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>,
                @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = wg.x + wg.y * nwg.x;
    if (c >= p.channels) {
        return;
    }
    let s = param_sums(lid, c);
    if (lid == 0u) {
        sums[c] = s.x;
        sums[p.channels + c] = s.y;
    }
}

// dx (+)= γ·inv_std·(dz − Σdz/n − x̂·Σ(dz·x̂)/n), dz through the ReLU's mask when p.relu.
@compute @workgroup_size(64)
fn input_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    let c = (i / p.hw) % p.channels;
    let inv_std = saved[p.channels + c];
    let xv = x[i];
    let xh = (xv - saved[c]) * inv_std;
    let n = f32(p.count);
    let d = through_relu(dz[i], xv, c, saved[c], inv_std);
    var g = gamma[c] * inv_std * (d - sums[c] / n - xh * (sums[p.channels + c] / n));
    if (p.acc_dx != 0u) {
        g += dx[i];
    }
    dx[i] = g;
}

// normalize_batch and normalize_running on vec4s: channel gid.z, QUADS vec4s each.
fn affine4(gid: vec3<u32>, nwg: vec3<u32>, mean: f32, inv_std: f32) {
    let c = gid.z;
    let hw4 = p.hw / 4u;
    var at = first_quad(index(gid, nwg));
    let scale = inv_std * gamma[c];
    let shift = beta[c] - mean * scale;
    for (var q = 0u; q < QUADS && at.x < p.count / p.hw; q++) {
        let i = (at.x * p.channels + c) * hw4 + at.y;
        var v = x4[i] * scale + shift;
        if (p.relu != 0u) {
            v = max(v, vec4(0.0));
        }
        y4[i] = v;
        at.y += 1u;
        if (at.y == hw4) {
            at.y = 0u;
            at.x += 1u;
        }
    }
}

@compute @workgroup_size(64)
fn normalize_batch4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    affine4(gid, nwg, saved[gid.z], saved[p.channels + gid.z]);
}

@compute @workgroup_size(64)
fn normalize_running4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = gid.z;
    affine4(gid, nwg, running_mean[c], 1.0 / sqrt(running_var[c] + p.eps));
}

// input_grad on vec4s: channel gid.z, QUADS vec4s each.
@compute @workgroup_size(64)
fn input_grad4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = gid.z;
    let hw4 = p.hw / 4u;
    var at = first_quad(index(gid, nwg));
    let mean = saved[c];
    let inv_std = saved[p.channels + c];
    let n = f32(p.count);
    let scale = gamma[c] * inv_std;
    // affine4's shift (its scale is `scale`), for the ReLU's mask.
    var shift = 0.0;
    if (p.relu != 0u) {
        shift = beta[c] - mean * scale;
    }
    let mean_dz = sums[c] / n;
    let mean_dzx = sums[p.channels + c] / n;
    for (var q = 0u; q < QUADS && at.x < p.count / p.hw; q++) {
        let i = (at.x * p.channels + c) * hw4 + at.y;
        let xv = x4[i];
        let xh = (xv - mean) * inv_std;
        let d = through_relu4(dz4[i], xv, scale, shift);
        var g = scale * (d - mean_dz - xh * mean_dzx);
        if (p.acc_dx != 0u) {
            g += dx4[i];
        }
        dx4[i] = g;
        at.y += 1u;
        if (at.y == hw4) {
            at.y = 0u;
            at.x += 1u;
        }
    }
}
