// Max pooling over NCHW planes with the arg-max of each window, and its gradient.

struct Params {
    planes: u32, height: u32, width: u32, out_h: u32,
    out_w: u32, kernel: u32, stride: u32, pad: u32,
    accumulate: u32, pad0: u32, pad1: u32, pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
// Flat index into x of each output's maximum.
@group(0) @binding(3) var<storage, read_write> argmax: array<u32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
// x and dx again, four elements at a time, for the kernels on pairs of windows.
@group(0) @binding(6) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> dx4: array<vec4<f32>>;

// One invocation per output. Windows are scanned in row-major order with a strict >, so
// ties go to the first maximum, as in PyTorch. Padding (wrapped-around unsigned
// positions) is skipped: it acts as −∞.
@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = index(gid, nwg);
    let outputs = p.out_h * p.out_w;
    if (o >= p.planes * outputs) {
        return;
    }
    let plane = o / outputs;
    let y0 = (o % outputs) / p.out_w * p.stride - p.pad;
    let x0 = o % p.out_w * p.stride - p.pad;
    var best = 0.0;
    var at = 0xffffffffu;
    for (var i = 0u; i < p.kernel; i++) {
        let iy = y0 + i;
        if (iy >= p.height) {
            continue;
        }
        for (var j = 0u; j < p.kernel; j++) {
            let ix = x0 + j;
            if (ix >= p.width) {
                continue;
            }
            let k = (plane * p.height + iy) * p.width + ix;
            let v = x[k];
            if (at == 0xffffffffu || v > best) {
                best = v;
                at = k;
            }
        }
    }
    y[o] = best;
    argmax[o] = at;
}

// One invocation per input: sums dy over the windows that contain it and chose it.
@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let k = index(gid, nwg);
    if (k >= p.planes * p.height * p.width) {
        return;
    }
    let plane = k / (p.height * p.width);
    let ty = (k / p.width) % p.height + p.pad;
    let tx = k % p.width + p.pad;
    // Windows oy with oy·stride ≤ ty < oy·stride + kernel.
    let oy_hi = min(ty / p.stride, p.out_h - 1u);
    let ox_hi = min(tx / p.stride, p.out_w - 1u);
    let oy_lo = select(0u, (ty + 1u - p.kernel + p.stride - 1u) / p.stride, ty + 1u >= p.kernel);
    let ox_lo = select(0u, (tx + 1u - p.kernel + p.stride - 1u) / p.stride, tx + 1u >= p.kernel);
    var g = 0.0;
    for (var oy = oy_lo; oy <= oy_hi; oy++) {
        for (var ox = ox_lo; ox <= ox_hi; ox++) {
            let o = (plane * p.out_h + oy) * p.out_w + ox;
            if (argmax[o] == k) {
                g += dy[o];
            }
        }
    }
    if (p.accumulate != 0u) {
        g += dx[k];
    }
    dx[k] = g;
}

// `forward` for 2×2 windows with stride 2 on rows of whole vec4s (LeNet's first pooling):
// one invocation per two neighbouring windows, their two rows one vec4 each, instead of
// eight loads with per-lane addresses (a loop over the lanes on lavapipe) and the
// divisions of a flat index per output. The same scan, so the same values and arg-maxes.
@compute @workgroup_size(64)
fn forward_pairs(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = index(gid, nwg);
    let per_row = p.out_w / 2u;
    let pairs = p.out_h * per_row;
    if (q >= p.planes * pairs) {
        return;
    }
    let plane = q / pairs;
    let r = q - plane * pairs;
    let oy = r / per_row;
    let px = r - oy * per_row;
    let top = (plane * p.height + 2u * oy) * (p.width / 4u) + px;
    let a = x4[top];
    let b = x4[top + p.width / 4u];
    // Flat index of a.x; b is a row below.
    let k = (plane * p.height + 2u * oy) * p.width + 4u * px;
    let o = (plane * p.out_h + oy) * p.out_w + 2u * px;
    var best = a.x;
    var at = k;
    if (a.y > best) {
        best = a.y;
        at = k + 1u;
    }
    if (b.x > best) {
        best = b.x;
        at = k + p.width;
    }
    if (b.y > best) {
        best = b.y;
        at = k + p.width + 1u;
    }
    y[o] = best;
    argmax[o] = at;
    best = a.z;
    at = k + 2u;
    if (a.w > best) {
        best = a.w;
        at = k + 3u;
    }
    if (b.z > best) {
        best = b.z;
        at = k + p.width + 2u;
    }
    if (b.w > best) {
        best = b.w;
        at = k + p.width + 3u;
    }
    y[o + 1u] = best;
    argmax[o + 1u] = at;
}

// The gradient when the windows tile the input (stride = kernel, no padding, every input
// in exactly one window, as in LeNet): one invocation per window writes its kernel²
// inputs, dy at the arg-max and 0 elsewhere. A quarter of the invocations of `backward`
// for 2×2 windows, and two integer divisions each instead of three per input (lavapipe
// runs them scalar).
@compute @workgroup_size(64)
fn backward_tiled(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = index(gid, nwg);
    let outputs = p.out_h * p.out_w;
    if (o >= p.planes * outputs) {
        return;
    }
    let plane = o / outputs;
    let r = o - plane * outputs;
    let oy = r / p.out_w;
    let ox = r - oy * p.out_w;
    let g = dy[o];
    let at = argmax[o];
    for (var i = 0u; i < p.kernel; i++) {
        let row = (plane * p.height + oy * p.kernel + i) * p.width + ox * p.kernel;
        for (var j = 0u; j < p.kernel; j++) {
            let k = row + j;
            var v = select(0.0, g, k == at);
            if (p.accumulate != 0u) {
                v += dx[k];
            }
            dx[k] = v;
        }
    }
}

// backward_tiled for forward_pairs' windows (2×2, stride 2, rows of whole vec4s): two
// windows per invocation, each of their two rows one vec4 of dx. The same values.
@compute @workgroup_size(64)
fn backward_pairs(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = index(gid, nwg);
    let per_row = p.out_w / 2u;
    let pairs = p.out_h * per_row;
    if (q >= p.planes * pairs) {
        return;
    }
    let plane = q / pairs;
    let r = q - plane * pairs;
    let oy = r / per_row;
    let px = r - oy * per_row;
    let o = (plane * p.out_h + oy) * p.out_w + 2u * px;
    let g0 = dy[o];
    let g1 = dy[o + 1u];
    let at0 = argmax[o];
    let at1 = argmax[o + 1u];
    // Flat index of the top row's first element, and its vec4.
    let k = (plane * p.height + 2u * oy) * p.width + 4u * px;
    let top = k / 4u;
    for (var i = 0u; i < 2u; i++) {
        let ki = k + i * p.width;
        var v = vec4(
            select(0.0, g0, ki == at0),
            select(0.0, g0, ki + 1u == at0),
            select(0.0, g1, ki + 2u == at1),
            select(0.0, g1, ki + 3u == at1),
        );
        let at = top + i * (p.width / 4u);
        if (p.accumulate != 0u) {
            v += dx4[at];
        }
        dx4[at] = v;
    }
}
