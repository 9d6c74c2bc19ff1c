// 2-D convolution by im2col, and the passes of forward and backward that are not matmuls.
//
// The scratch matrices have one column per (image b, output pixel): column b·pixels + pix,
// zero past batch·pixels up to col_stride, a multiple of 4. col is [Kp, col_stride]: row
// k = (c, i, j) < K = channels·kh·kw holds the input under kernel tap (i, j) of channel c
// for each column's window (0 in the padding), and rows K..Kp (K rounded up to whole
// vec4s) are zero. dYt and the folded forward's product are
// [out_channels, col_stride].
//
// On lavapipe every storage access with per-lane addresses is a loop over the lanes and
// integer division is scalar: kernels move four columns per invocation with one vec4
// access, take the row from gid.z (uniform over the workgroup), step the four columns'
// coordinates without dividing, and are unrolled by hand (a dynamically indexed vector
// would live in memory).

struct Params {
    channels: u32, height: u32, width: u32, kh: u32,
    kw: u32, stride: u32, pad: u32, out_w: u32,
    out_h: u32, pixels: u32, cols: u32, col_stride: u32,
    batch: u32, out_channels: u32, len: u32, parts: u32,
    accumulate: u32, has_bias: u32, relu: u32, pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
// im2col: NCHW x -> col.
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> col4: array<vec4<f32>>;
// fold: NCHW dY -> dYt.
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> rows4: array<vec4<f32>>;
// bias_grad reads dYt, unfold the folded forward's product.
@group(0) @binding(5) var<storage, read> rows4_in: array<vec4<f32>>;
// bias_grad: -> dbias.
@group(0) @binding(6) var<storage, read_write> dbias: array<f32>;
// sum_parts: per-group weight gradients -> dW.
@group(0) @binding(7) var<storage, read> parts: array<f32>;
@group(0) @binding(8) var<storage, read_write> dw: array<f32>;
// col2im: dcol (laid out like col) -> NCHW dX.
@group(0) @binding(9) var<storage, read> dcol: array<f32>;
@group(0) @binding(10) var<storage, read_write> dx: array<f32>;
// unfold: + bias, ReLU -> NCHW y.
@group(0) @binding(11) var<storage, read> bias: array<f32>;
@group(0) @binding(12) var<storage, read_write> y: array<f32>;
// im2col_s1: x again, four elements at a time.
@group(0) @binding(13) var<storage, read> x4: array<vec4<f32>>;
// fold4 and unfold4: dy and y again, four elements at a time.
@group(0) @binding(14) var<storage, read> dy4: array<vec4<f32>>;
@group(0) @binding(15) var<storage, read_write> y4: array<vec4<f32>>;

// Column n's (image, output row, output column).
fn pixel_of(n: u32) -> vec3<u32> {
    let b = n / p.pixels;
    let pix = n - b * p.pixels;
    let oy = pix / p.out_w;
    return vec3(b, oy, pix - oy * p.out_w);
}

// The next column's (image, output row, output column); the image is p.batch past the end.
fn next_pixel(at: vec3<u32>) -> vec3<u32> {
    var s = at;
    s.z += 1u;
    if (s.z == p.out_w) {
        s.z = 0u;
        s.y += 1u;
        if (s.y == p.out_h) {
            s.y = 0u;
            s.x += 1u;
        }
    }
    return s;
}

// Index of channel ch at output pixel `at` in the NCHW output (or its gradient).
fn out_index(at: vec3<u32>, ch: u32) -> u32 {
    return ((at.x * p.out_channels + ch) * p.out_h + at.y) * p.out_w + at.z;
}

// The input under tap (i, j) of channel c for the window at `at`: 0 in the padding and
// past the last image. Branch-free: every lane loads, from index 0 when outside.
fn tap(at: vec3<u32>, c: u32, i: u32, j: u32) -> f32 {
    // Unsigned wrap-around makes positions in the padding fail the < tests.
    let iy = at.y * p.stride + i - p.pad;
    let ix = at.z * p.stride + j - p.pad;
    let inside = at.x < p.batch && iy < p.height && ix < p.width;
    let k = select(0u, ((at.x * p.channels + c) * p.height + iy) * p.width + ix, inside);
    return select(0.0, x[k], inside);
}

// im2col with one invocation per (column quad, channel c = gid.z) writing every tap of c:
// the four columns' coordinates are found once (two integer divisions, which lavapipe
// runs scalar) instead of once per row, and so is the channel's place in x. For the
// shapes the vec4 path cannot take (LeNet's second convolution reads 14-pixel rows).
@compute @workgroup_size(64)
fn im2col_channel(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = index(gid, nwg);
    let row_quads = p.col_stride / 4u;
    if (q >= row_quads) {
        return;
    }
    let c = gid.z;
    let a0 = pixel_of(4u * q);
    let a1 = next_pixel(a0);
    let a2 = next_pixel(a1);
    let a3 = next_pixel(a2);
    for (var i = 0u; i < p.kh; i++) {
        let row = (c * p.kh + i) * p.kw;
        for (var j = 0u; j < p.kw; j++) {
            col4[(row + j) * row_quads + q] = vec4(tap(a0, c, i, j), tap(a1, c, i, j), tap(a2, c, i, j), tap(a3, c, i, j));
        }
    }
    zero_padding_rows(c, q);
}

// The last channel also zeroes the rows past K, up to whole vec4s of rows.
fn zero_padding_rows(c: u32, q: u32) {
    if (c + 1u == p.channels) {
        let row_quads = p.col_stride / 4u;
        let taps = p.channels * p.kh * p.kw;
        for (var k = taps; k < (taps + 3u) / 4u * 4u; k++) {
            col4[k * row_quads + q] = vec4(0.0);
        }
    }
}

// x4[i] where `ok`, else zeros (reading index 0).
fn quad_at(i: u32, ok: bool) -> vec4<f32> {
    return select(vec4(0.0), x4[select(0u, i, ok)], ok);
}

// The four taps at shift s = j − pad (|s| ≤ 4) from the quads left of, at and right of
// four neighbouring columns.
fn shifted(lo: vec4<f32>, mid: vec4<f32>, hi: vec4<f32>, s: i32) -> vec4<f32> {
    switch s {
        case -4: { return lo; }
        case -3: { return vec4(lo.yzw, mid.x); }
        case -2: { return vec4(lo.zw, mid.xy); }
        case -1: { return vec4(lo.w, mid.xyz); }
        case 1: { return vec4(mid.yzw, hi.x); }
        case 2: { return vec4(mid.zw, hi.xy); }
        case 3: { return vec4(mid.w, hi.xyz); }
        case 4: { return hi; }
        default: { return mid; }
    }
}

// im2col for stride 1 when width and out_w are multiples of 4, out_w ≤ width and the taps
// reach at most 4 pixels either side (LeNet's 5×5 taps without padding reach 4 right):
// the four columns are four neighbours in one output row, so the taps of kernel row i are
// four neighbours in one input row, shifted by
// s = j − pad. Each invocation writes every tap of channel c = gid.z for its four
// columns from three vec4 loads per kernel row, instead of a scalar gather per value:
// lavapipe runs each gather as a loop over the lanes, and pays per invocation.
@compute @workgroup_size(64)
fn im2col_s1(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = index(gid, nwg);
    let row_quads = p.col_stride / 4u;
    if (q >= row_quads) {
        return;
    }
    let c = gid.z;
    let at = pixel_of(4u * q);
    let plane = (at.x * p.channels + c) * p.height;
    let has_lo = at.z > 0u;
    let has_hi = at.z + 4u < p.width;
    for (var i = 0u; i < p.kh; i++) {
        // Unsigned wrap-around makes rows in the padding fail the < test.
        let iy = at.y + i - p.pad;
        let ok = at.x < p.batch && iy < p.height;
        let quad = ((plane + iy) * p.width + at.z) / 4u;
        let lo = quad_at(quad - 1u, ok && has_lo && p.pad > 0u);
        let mid = quad_at(quad, ok);
        let hi = quad_at(quad + 1u, ok && has_hi && p.kw > p.pad + 1u);
        let row = (c * p.kh + i) * p.kw;
        for (var j = 0u; j < p.kw; j++) {
            col4[(row + j) * row_quads + q] = shifted(lo, mid, hi, i32(j) - i32(p.pad));
        }
    }
    zero_padding_rows(c, q);
}

// The patches transposed, for the weight gradient: colt[n, k] = col[k, n] for columns n
// < col_stride and rows k < Kp, so that dW = dYt·colᵀ reads both operands in place instead
// of packing a transposed copy (a scalar gather per value). Each invocation turns the 4×4
// blocks of rows 16·gid.z .. +15 in column quad q = index with vec4 loads and stores:
// neighbouring lanes load neighbouring quads of a row, and each output row gets 64
// consecutive bytes, whole cache lines rather than scattered 16-byte pieces.
@compute @workgroup_size(64)
fn transpose(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let row_quads = p.col_stride / 4u;
    let q = index(gid, nwg);
    if (q >= row_quads) {
        return;
    }
    let k4 = p.len;
    for (var kq = 4u * gid.z; kq < min(4u * gid.z + 4u, k4); kq++) {
        let r = 4u * kq;
        let a = rows4_in[r * row_quads + q];
        let b = rows4_in[(r + 1u) * row_quads + q];
        let c = rows4_in[(r + 2u) * row_quads + q];
        let d = rows4_in[(r + 3u) * row_quads + q];
        rows4[(4u * q) * k4 + kq] = vec4(a.x, b.x, c.x, d.x);
        rows4[(4u * q + 1u) * k4 + kq] = vec4(a.y, b.y, c.y, d.y);
        rows4[(4u * q + 2u) * k4 + kq] = vec4(a.z, b.z, c.z, d.z);
        rows4[(4u * q + 3u) * k4 + kq] = vec4(a.w, b.w, c.w, d.w);
    }
}

fn dy_at(at: vec3<u32>, o: u32) -> f32 {
    let inside = at.x < p.batch;
    return select(0.0, dy[select(0u, out_index(at, o), inside)], inside);
}

// dYt[o, 4q .. 4q+3] for o = gid.z: dY in the layout of col, so that dW = dYt·colᵀ
// contracts over batch and pixels in one product.
@compute @workgroup_size(64)
fn fold(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = index(gid, nwg);
    let row_quads = p.col_stride / 4u;
    if (q >= row_quads) {
        return;
    }
    let o = gid.z;
    let a0 = pixel_of(4u * q);
    let a1 = next_pixel(a0);
    let a2 = next_pixel(a1);
    let a3 = next_pixel(a2);
    rows4[o * row_quads + q] = vec4(dy_at(a0, o), dy_at(a1, o), dy_at(a2, o), dy_at(a3, o));
}

fn store_y(at: vec3<u32>, o: u32, v: f32) {
    if (at.x < p.batch) {
        let i = out_index(at, o);
        if (p.accumulate != 0u) {
            y[i] += v;
        } else {
            y[i] = v;
        }
    }
}

// The folded forward's epilogue: y[b, o, pixel] (+)= ReLU(product[o, column] + bias[o]) for
// o = gid.z and four columns.
@compute @workgroup_size(64)
fn unfold(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = index(gid, nwg);
    let row_quads = p.col_stride / 4u;
    if (q >= row_quads) {
        return;
    }
    let o = gid.z;
    var v = rows4_in[o * row_quads + q];
    if (p.has_bias != 0u) {
        v += bias[o];
    }
    if (p.relu != 0u) {
        v = max(v, vec4(0.0));
    }
    let a0 = pixel_of(4u * q);
    let a1 = next_pixel(a0);
    let a2 = next_pixel(a1);
    let a3 = next_pixel(a2);
    store_y(a0, o, v.x);
    store_y(a1, o, v.y);
    store_y(a2, o, v.z);
    store_y(a3, o, v.w);
}

var<workgroup> partial: array<f32, 64>;

// dbias[o] (+)= Σ dYt[o, :]: one workgroup per channel, a fixed summation order.
@compute @workgroup_size(64)
fn bias_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let o = wg.x;
    let row_quads = p.col_stride / 4u;
    var s = vec4(0.0);
    for (var q = lane; q < row_quads; q += 64u) {
        s += rows4_in[o * row_quads + q];
    }
    partial[lane] = (s.x + s.y) + (s.z + s.w);
    workgroupBarrier();
    for (var half = 32u; half > 0u; half /= 2u) {
        if (lane < half) {
            partial[lane] += partial[lane + half];
        }
        workgroupBarrier();
    }
    if (lane == 0u) {
        var g = partial[0];
        if (p.accumulate != 0u) {
            g += dbias[o];
        }
        dbias[o] = g;
    }
}

// One output of weight_grad_nt: the sum of the four lanes of `v` into the chunk's
// partial dW[o, k], for the channels and rows that exist.
fn put(o: u32, k: u32, part: u32, v: vec4<f32>) {
    let kdim = p.channels * p.kh * p.kw;
    if (o < p.out_channels && k < kdim) {
        dw[(part * p.out_channels + o) * kdim + k] = (v.x + v.y) + (v.z + v.w);
    }
}

// The weight gradient's partial sums without transposing the patches, on 8-lane
// subgroups: part c holds Σ over the columns n of chunk c (p.len quads) of dYt[o, n] ·
// col[k, n], with dYt (dY folded) bound as dy4 and col as rows4_in; `sum_parts` adds the
// chunks in order. Both operands run along n, so each lane owns four patch rows, k = 32·wg.y
// + 8j + lane (j < 4), and takes the 16 output channels o = 16·wg.z .. +15 from two loads
// shared by subgroupBroadcast (matmul's mm_sg8 notes on lavapipe apply): per quad of
// columns, 6 loads per lane for 64 vec4 products. The code is unrolled by hand (a
// dynamically indexed accumulator would live in memory on lavapipe).
@compute @workgroup_size(8)
fn weight_grad_nt(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    let row_quads = p.col_stride / 4u;
    let kp = (p.channels * p.kh * p.kw + 3u) / 4u * 4u;
    let k0 = 32u * wg.y + lane;
    // Rows past Kp (channels past out) read the last one; what they compute is not stored.
    let c0 = min(k0 + 0u, kp - 1u) * row_quads;
    let c1 = min(k0 + 8u, kp - 1u) * row_quads;
    let c2 = min(k0 + 16u, kp - 1u) * row_quads;
    let c3 = min(k0 + 24u, kp - 1u) * row_quads;
    let a0 = min(16u * wg.z + lane, p.out_channels - 1u) * row_quads;
    let a1 = min(16u * wg.z + 8u + lane, p.out_channels - 1u) * row_quads;
    var acc0_0 = vec4(0.0);
    var acc0_1 = vec4(0.0);
    var acc0_2 = vec4(0.0);
    var acc0_3 = vec4(0.0);
    var acc1_0 = vec4(0.0);
    var acc1_1 = vec4(0.0);
    var acc1_2 = vec4(0.0);
    var acc1_3 = vec4(0.0);
    var acc2_0 = vec4(0.0);
    var acc2_1 = vec4(0.0);
    var acc2_2 = vec4(0.0);
    var acc2_3 = vec4(0.0);
    var acc3_0 = vec4(0.0);
    var acc3_1 = vec4(0.0);
    var acc3_2 = vec4(0.0);
    var acc3_3 = vec4(0.0);
    var acc4_0 = vec4(0.0);
    var acc4_1 = vec4(0.0);
    var acc4_2 = vec4(0.0);
    var acc4_3 = vec4(0.0);
    var acc5_0 = vec4(0.0);
    var acc5_1 = vec4(0.0);
    var acc5_2 = vec4(0.0);
    var acc5_3 = vec4(0.0);
    var acc6_0 = vec4(0.0);
    var acc6_1 = vec4(0.0);
    var acc6_2 = vec4(0.0);
    var acc6_3 = vec4(0.0);
    var acc7_0 = vec4(0.0);
    var acc7_1 = vec4(0.0);
    var acc7_2 = vec4(0.0);
    var acc7_3 = vec4(0.0);
    var acc8_0 = vec4(0.0);
    var acc8_1 = vec4(0.0);
    var acc8_2 = vec4(0.0);
    var acc8_3 = vec4(0.0);
    var acc9_0 = vec4(0.0);
    var acc9_1 = vec4(0.0);
    var acc9_2 = vec4(0.0);
    var acc9_3 = vec4(0.0);
    var acc10_0 = vec4(0.0);
    var acc10_1 = vec4(0.0);
    var acc10_2 = vec4(0.0);
    var acc10_3 = vec4(0.0);
    var acc11_0 = vec4(0.0);
    var acc11_1 = vec4(0.0);
    var acc11_2 = vec4(0.0);
    var acc11_3 = vec4(0.0);
    var acc12_0 = vec4(0.0);
    var acc12_1 = vec4(0.0);
    var acc12_2 = vec4(0.0);
    var acc12_3 = vec4(0.0);
    var acc13_0 = vec4(0.0);
    var acc13_1 = vec4(0.0);
    var acc13_2 = vec4(0.0);
    var acc13_3 = vec4(0.0);
    var acc14_0 = vec4(0.0);
    var acc14_1 = vec4(0.0);
    var acc14_2 = vec4(0.0);
    var acc14_3 = vec4(0.0);
    var acc15_0 = vec4(0.0);
    var acc15_1 = vec4(0.0);
    var acc15_2 = vec4(0.0);
    var acc15_3 = vec4(0.0);
    let first = wg.x * p.len;
    let last = min(first + p.len, row_quads);
    for (var q = first; q < last; q++) {
        let d0 = dy4[a0 + q];
        let d1 = dy4[a1 + q];
        let b0 = rows4_in[c0 + q];
        let b1 = rows4_in[c1 + q];
        let b2 = rows4_in[c2 + q];
        let b3 = rows4_in[c3 + q];
        let x0 = subgroupBroadcast(d0, 0u);
        acc0_0 += x0 * b0;
        acc0_1 += x0 * b1;
        acc0_2 += x0 * b2;
        acc0_3 += x0 * b3;
        let x1 = subgroupBroadcast(d0, 1u);
        acc1_0 += x1 * b0;
        acc1_1 += x1 * b1;
        acc1_2 += x1 * b2;
        acc1_3 += x1 * b3;
        let x2 = subgroupBroadcast(d0, 2u);
        acc2_0 += x2 * b0;
        acc2_1 += x2 * b1;
        acc2_2 += x2 * b2;
        acc2_3 += x2 * b3;
        let x3 = subgroupBroadcast(d0, 3u);
        acc3_0 += x3 * b0;
        acc3_1 += x3 * b1;
        acc3_2 += x3 * b2;
        acc3_3 += x3 * b3;
        let x4 = subgroupBroadcast(d0, 4u);
        acc4_0 += x4 * b0;
        acc4_1 += x4 * b1;
        acc4_2 += x4 * b2;
        acc4_3 += x4 * b3;
        let x5 = subgroupBroadcast(d0, 5u);
        acc5_0 += x5 * b0;
        acc5_1 += x5 * b1;
        acc5_2 += x5 * b2;
        acc5_3 += x5 * b3;
        let x6 = subgroupBroadcast(d0, 6u);
        acc6_0 += x6 * b0;
        acc6_1 += x6 * b1;
        acc6_2 += x6 * b2;
        acc6_3 += x6 * b3;
        let x7 = subgroupBroadcast(d0, 7u);
        acc7_0 += x7 * b0;
        acc7_1 += x7 * b1;
        acc7_2 += x7 * b2;
        acc7_3 += x7 * b3;
        let x8 = subgroupBroadcast(d1, 0u);
        acc8_0 += x8 * b0;
        acc8_1 += x8 * b1;
        acc8_2 += x8 * b2;
        acc8_3 += x8 * b3;
        let x9 = subgroupBroadcast(d1, 1u);
        acc9_0 += x9 * b0;
        acc9_1 += x9 * b1;
        acc9_2 += x9 * b2;
        acc9_3 += x9 * b3;
        let x10 = subgroupBroadcast(d1, 2u);
        acc10_0 += x10 * b0;
        acc10_1 += x10 * b1;
        acc10_2 += x10 * b2;
        acc10_3 += x10 * b3;
        let x11 = subgroupBroadcast(d1, 3u);
        acc11_0 += x11 * b0;
        acc11_1 += x11 * b1;
        acc11_2 += x11 * b2;
        acc11_3 += x11 * b3;
        let x12 = subgroupBroadcast(d1, 4u);
        acc12_0 += x12 * b0;
        acc12_1 += x12 * b1;
        acc12_2 += x12 * b2;
        acc12_3 += x12 * b3;
        let x13 = subgroupBroadcast(d1, 5u);
        acc13_0 += x13 * b0;
        acc13_1 += x13 * b1;
        acc13_2 += x13 * b2;
        acc13_3 += x13 * b3;
        let x14 = subgroupBroadcast(d1, 6u);
        acc14_0 += x14 * b0;
        acc14_1 += x14 * b1;
        acc14_2 += x14 * b2;
        acc14_3 += x14 * b3;
        let x15 = subgroupBroadcast(d1, 7u);
        acc15_0 += x15 * b0;
        acc15_1 += x15 * b1;
        acc15_2 += x15 * b2;
        acc15_3 += x15 * b3;
    }
    let o0 = 16u * wg.z;
    put(o0 + 0u, k0 + 0u, wg.x, acc0_0);
    put(o0 + 0u, k0 + 8u, wg.x, acc0_1);
    put(o0 + 0u, k0 + 16u, wg.x, acc0_2);
    put(o0 + 0u, k0 + 24u, wg.x, acc0_3);
    put(o0 + 1u, k0 + 0u, wg.x, acc1_0);
    put(o0 + 1u, k0 + 8u, wg.x, acc1_1);
    put(o0 + 1u, k0 + 16u, wg.x, acc1_2);
    put(o0 + 1u, k0 + 24u, wg.x, acc1_3);
    put(o0 + 2u, k0 + 0u, wg.x, acc2_0);
    put(o0 + 2u, k0 + 8u, wg.x, acc2_1);
    put(o0 + 2u, k0 + 16u, wg.x, acc2_2);
    put(o0 + 2u, k0 + 24u, wg.x, acc2_3);
    put(o0 + 3u, k0 + 0u, wg.x, acc3_0);
    put(o0 + 3u, k0 + 8u, wg.x, acc3_1);
    put(o0 + 3u, k0 + 16u, wg.x, acc3_2);
    put(o0 + 3u, k0 + 24u, wg.x, acc3_3);
    put(o0 + 4u, k0 + 0u, wg.x, acc4_0);
    put(o0 + 4u, k0 + 8u, wg.x, acc4_1);
    put(o0 + 4u, k0 + 16u, wg.x, acc4_2);
    put(o0 + 4u, k0 + 24u, wg.x, acc4_3);
    put(o0 + 5u, k0 + 0u, wg.x, acc5_0);
    put(o0 + 5u, k0 + 8u, wg.x, acc5_1);
    put(o0 + 5u, k0 + 16u, wg.x, acc5_2);
    put(o0 + 5u, k0 + 24u, wg.x, acc5_3);
    put(o0 + 6u, k0 + 0u, wg.x, acc6_0);
    put(o0 + 6u, k0 + 8u, wg.x, acc6_1);
    put(o0 + 6u, k0 + 16u, wg.x, acc6_2);
    put(o0 + 6u, k0 + 24u, wg.x, acc6_3);
    put(o0 + 7u, k0 + 0u, wg.x, acc7_0);
    put(o0 + 7u, k0 + 8u, wg.x, acc7_1);
    put(o0 + 7u, k0 + 16u, wg.x, acc7_2);
    put(o0 + 7u, k0 + 24u, wg.x, acc7_3);
    put(o0 + 8u, k0 + 0u, wg.x, acc8_0);
    put(o0 + 8u, k0 + 8u, wg.x, acc8_1);
    put(o0 + 8u, k0 + 16u, wg.x, acc8_2);
    put(o0 + 8u, k0 + 24u, wg.x, acc8_3);
    put(o0 + 9u, k0 + 0u, wg.x, acc9_0);
    put(o0 + 9u, k0 + 8u, wg.x, acc9_1);
    put(o0 + 9u, k0 + 16u, wg.x, acc9_2);
    put(o0 + 9u, k0 + 24u, wg.x, acc9_3);
    put(o0 + 10u, k0 + 0u, wg.x, acc10_0);
    put(o0 + 10u, k0 + 8u, wg.x, acc10_1);
    put(o0 + 10u, k0 + 16u, wg.x, acc10_2);
    put(o0 + 10u, k0 + 24u, wg.x, acc10_3);
    put(o0 + 11u, k0 + 0u, wg.x, acc11_0);
    put(o0 + 11u, k0 + 8u, wg.x, acc11_1);
    put(o0 + 11u, k0 + 16u, wg.x, acc11_2);
    put(o0 + 11u, k0 + 24u, wg.x, acc11_3);
    put(o0 + 12u, k0 + 0u, wg.x, acc12_0);
    put(o0 + 12u, k0 + 8u, wg.x, acc12_1);
    put(o0 + 12u, k0 + 16u, wg.x, acc12_2);
    put(o0 + 12u, k0 + 24u, wg.x, acc12_3);
    put(o0 + 13u, k0 + 0u, wg.x, acc13_0);
    put(o0 + 13u, k0 + 8u, wg.x, acc13_1);
    put(o0 + 13u, k0 + 16u, wg.x, acc13_2);
    put(o0 + 13u, k0 + 24u, wg.x, acc13_3);
    put(o0 + 14u, k0 + 0u, wg.x, acc14_0);
    put(o0 + 14u, k0 + 8u, wg.x, acc14_1);
    put(o0 + 14u, k0 + 16u, wg.x, acc14_2);
    put(o0 + 14u, k0 + 24u, wg.x, acc14_3);
    put(o0 + 15u, k0 + 0u, wg.x, acc15_0);
    put(o0 + 15u, k0 + 8u, wg.x, acc15_1);
    put(o0 + 15u, k0 + 16u, wg.x, acc15_2);
    put(o0 + 15u, k0 + 24u, wg.x, acc15_3);
}

// dW[i] (+)= Σ_g parts[g, i], in order of g.
@compute @workgroup_size(64)
fn sum_parts(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    var s = 0.0;
    for (var g = 0u; g < p.parts; g++) {
        s += parts[g * p.len + i];
    }
    if (p.accumulate != 0u) {
        s += dw[i];
    }
    dw[i] = s;
}

// dX (+)= col2im(dcol) as a gather: each input pixel sums the dcol entries of every window
// tap that read it, so no two invocations write the same element and no atomics are
// needed. Channel c = gid.z; the index runs over batch × height × width.
@compute @workgroup_size(64)
fn col2im(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = index(gid, nwg);
    if (r >= p.len) {
        return;
    }
    let c = gid.z;
    let hw = p.height * p.width;
    let b = r / hw;
    let in_plane = r - b * hw;
    let yy = in_plane / p.width;
    let xx = in_plane - yy * p.width;
    // Tap i reads this pixel from output row oy when oy·stride + i = y + pad: the taps
    // congruent to y + pad modulo the stride, with i ≤ y + pad and oy < out_h; oy drops by
    // one from each such tap to the next. Likewise along x.
    let ty = yy + p.pad;
    let tx = xx + p.pad;
    let i0 = ty % p.stride;
    let j0 = tx % p.stride;
    let ox0 = (tx - j0) / p.stride;
    let base = b * p.pixels;
    var g = 0.0;
    var oy = (ty - i0) / p.stride;
    for (var i = i0; i < p.kh && i <= ty; i += p.stride) {
        if (oy < p.out_h) {
            let row = (c * p.kh + i) * p.kw;
            var ox = ox0;
            for (var j = j0; j < p.kw && j <= tx; j += p.stride) {
                if (ox < p.out_w) {
                    g += dcol[(row + j) * p.col_stride + base + oy * p.out_w + ox];
                }
                ox--;
            }
        }
        oy--;
    }
    let at = (b * p.channels + c) * hw + in_plane;
    if (p.accumulate != 0u) {
        g += dx[at];
    }
    dx[at] = g;
}

// col2im for 1×1 kernels with stride 2 and no padding on even sides (ResNet's strided
// shortcuts), when out_w is whole vec4s: dcol (bound as col4) has one row per channel, and
// each of its quads, four neighbouring outputs of one row, lands on the even columns of
// input row 2·oy; the odd columns and the odd row below get zeros (or keep dX when
// accumulating). The same sums as col2im's, a vec4 at a time; dX bound as y4. Channel c =
// gid.z; the index runs over batch × out_h × out_w/4.
@compute @workgroup_size(64)
fn col2im_1x1_s2(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = index(gid, nwg);
    if (q >= p.len) {
        return;
    }
    let c = gid.z;
    let w4 = p.out_w / 4u;
    let b = q / (p.out_h * w4);
    let r = q - b * p.out_h * w4;
    let oy = r / w4;
    let ox4 = r - oy * w4;
    // Columns b·pixels + 4r of row c.
    let d = col4[(c * p.col_stride + b * p.pixels) / 4u + r];
    let i = ((b * p.channels + c) * p.height * p.width + 2u * oy * p.width) / 4u + 2u * ox4;
    var lo = vec4(d.x, 0.0, d.y, 0.0);
    var hi = vec4(d.z, 0.0, d.w, 0.0);
    if (p.accumulate != 0u) {
        y4[i] = lo + y4[i];
        y4[i + 1u] = hi + y4[i + 1u];
        return;
    }
    y4[i] = lo;
    y4[i + 1u] = hi;
    let below = i + p.width / 4u;
    y4[below] = vec4(0.0);
    y4[below + 1u] = vec4(0.0);
}

// The input gradient of a stride-1 convolution is the convolution of dY with the weights
// turned half a turn and their channel axes swapped: flipped[c, o, i, j] = w[o, c, kh−1−i,
// kw−1−j], from w in x's slot into y's.
@compute @workgroup_size(64)
fn flip_weights(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let n = index(gid, nwg);
    if (n >= p.len) {
        return;
    }
    let taps = p.kh * p.kw;
    let c = n / (p.out_channels * taps);
    let r = n - c * p.out_channels * taps;
    let o = r / taps;
    let t = r - o * taps;
    let i = t / p.kw;
    let j = t - i * p.kw;
    y[n] = x[((o * p.channels + c) * p.kh + p.kh - 1u - i) * p.kw + p.kw - 1u - j];
}

// The weights [out, K] as the products read them, [out, Kp] with zero columns past K
// (Kp = K rounded up to whole vec4s): paired with the patches' zero rows, the forward's
// product reads both operands in place instead of packing a copy of the patches.
@compute @workgroup_size(64)
fn pad_weights(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let n = index(gid, nwg);
    if (n >= p.len) {
        return;
    }
    let k = p.channels * p.kh * p.kw;
    let kp = (k + 3u) / 4u * 4u;
    let o = n / kp;
    let t = n - o * kp;
    y[n] = select(0.0, x[select(0u, o * k + t, t < k)], t < k);
}

// fold and unfold when pixels % 4 = 0: four columns are four neighbouring pixels of one
// image, so both sides move vec4s; each invocation steps through QUADS of them in row
// o = gid.z (lavapipe pays per invocation).
@compute @workgroup_size(64)
fn fold4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let row_quads = p.col_stride / 4u;
    let o = gid.z;
    let first = QUADS * index(gid, nwg);
    var b = 4u * first / p.pixels;
    var pix = 4u * first - b * p.pixels;
    for (var q = first; q < min(first + QUADS, row_quads); q++) {
        let inside = b < p.batch;
        let v = dy4[select(0u, ((b * p.out_channels + o) * p.pixels + pix) / 4u, inside)];
        rows4[o * row_quads + q] = select(vec4(0.0), v, inside);
        pix += 4u;
        if (pix == p.pixels) {
            pix = 0u;
            b += 1u;
        }
    }
}

@compute @workgroup_size(64)
fn unfold4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let row_quads = p.col_stride / 4u;
    let o = gid.z;
    let first = QUADS * index(gid, nwg);
    var b = 4u * first / p.pixels;
    var pix = 4u * first - b * p.pixels;
    var shift = 0.0;
    if (p.has_bias != 0u) {
        shift = bias[o];
    }
    for (var q = first; q < min(first + QUADS, row_quads) && b < p.batch; q++) {
        var v = rows4_in[o * row_quads + q] + shift;
        if (p.relu != 0u) {
            v = max(v, vec4(0.0));
        }
        let i = ((b * p.out_channels + o) * p.pixels + pix) / 4u;
        if (p.accumulate != 0u) {
            v += y4[i];
        }
        y4[i] = v;
        pix += 4u;
        if (pix == p.pixels) {
            pix = 0u;
            b += 1u;
        }
    }
}
