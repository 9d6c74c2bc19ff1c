// 3×3 convolution with stride 1 and padding 1, read straight from the NCHW input on 8-lane
// subgroups: the im2col patches are never written, and each input vec4 is loaded once
// per kernel row instead of once per tap.
//
// Y[o, g] = Σ over (c, ky, kx) of W[o, c, ky, kx] · X[image, c, y + ky − 1, x + kx − 1] for
// the columns g = image · pixels + y · width + x, in tiles of 16 or 32 output channels by
// 64 columns per subgroup, as in matmul's mm_sg8 (whose notes on lavapipe apply: loads
// with per-lane addresses are loops over the lanes, so weights are shared by
// subgroupBroadcast, and the accumulators are unrolled by hand). Each lane owns two groups
// of four neighbouring pixels of one image row: tile columns 4·lane and 32 + 4·lane.
// Images at most 32 pixels wide (and a multiple of 4) start their rows on lanes whose
// columns are multiples of the width, so one row is width/4 consecutive lanes: a lane loads
// one vec4 per (channel, kernel row) and takes the pixels left and right of it from its
// neighbours by shuffles, or zero at the row's ends (the padding).
//
// The weights are first laid out by `lay_taps` as one vec4 (w0, w1, w2, 0) per (output
// channel, channel, kernel row), so one load and broadcast serves the three taps.
//
// The weight gradient dW[o, c, ky, kx] = Σ over columns of dY[o, g] · (the same windows)
// contracts over the columns: `weight_grad` gives each subgroup 8 output channels × 4
// channels and a chunk of the columns, 32 per step; lanes keep their own sums, added over
// the subgroup at the end into one partial dW per chunk, which `sum_chunks` adds up in a
// fixed order.

struct Params {
    channels: u32, height: u32, width: u32, pixels: u32,
    // batch · pixels: the columns.
    cols: u32, out_channels: u32,
    // vec4s per output channel in taps: channels · 3.
    taps_rs: u32, flags: u32,
    // weight_grad: steps of 32 columns per chunk; chunks.
    chunk_steps: u32, chunks: u32, pad0: u32, pad1: u32,
}

const HAS_BIAS: u32 = 1u;
const RELU: u32 = 2u;
const ACCUMULATE: u32 = 4u;
// w is [channels, out_channels, 3, 3]: the convolution whose input gradient this one is.
const FLIP: u32 = 8u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
// lay_taps: w -> taps_out.
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> taps_out: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> taps: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;
@group(0) @binding(6) var<storage, read_write> y4: array<vec4<f32>>;
// weight_grad: dY -> partial dW per chunk; sum_chunks: -> dW.
@group(0) @binding(7) var<storage, read> dy4: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> parts: array<f32>;
@group(0) @binding(9) var<storage, read_write> dw: array<f32>;

@compute @workgroup_size(64)
fn lay_taps(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    // n = (o · channels + c) · 3 + ky
    let n = gid.x + gid.y * nwg.x * 64u;
    if (n >= p.out_channels * p.taps_rs) {
        return;
    }
    if ((p.flags & FLIP) == 0u) {
        let i = 3u * n;
        taps_out[n] = vec4(w[i], w[i + 1u], w[i + 2u], 0.0);
        return;
    }
    let ky = n % 3u;
    let oc = n / 3u;
    let o = oc / p.channels;
    let c = oc - o * p.channels;
    // W'[o, c, ky, kx] = w[c, o, 2 − ky, 2 − kx]
    let i = ((c * p.out_channels + o) * 3u + 2u - ky) * 3u;
    taps_out[n] = vec4(w[i + 2u], w[i + 1u], w[i], 0.0);
}

// Where a lane's four columns starting at g read and write.
struct Source {
    // vec4 index of (image, channel 0, y, x) in x4.
    base: u32,
    y: u32,
    // The columns exist (g < cols); the row has pixels left of x, right of x + 3.
    ok: bool,
    left: bool,
    right: bool,
    // vec4 index of (image, output channel 0, y, x) in y4.
    out: u32,
}

fn source(g: u32) -> Source {
    let image = g / p.pixels;
    let pix = g - image * p.pixels;
    let y = pix / p.width;
    let x = pix - y * p.width;
    var s: Source;
    s.base = (image * p.channels * p.pixels + pix) / 4u;
    s.y = y;
    s.ok = g < p.cols;
    s.left = x > 0u;
    s.right = x + 4u < p.width;
    s.out = (image * p.out_channels * p.pixels + pix) / 4u;
    return s;
}

// Input row y + ky − 1 of channel c under the lane's four pixels, shifted for taps
// kx = 0, 1, 2. Every lane calls it, so the shuffles see the whole subgroup.
struct Window {
    left: vec4<f32>,
    mid: vec4<f32>,
    right: vec4<f32>,
}

fn window(s: Source, c: u32, ky: u32) -> Window {
    let ok = s.ok && s.y + ky >= 1u && s.y + ky <= p.height;
    // (y + ky − 1) rows down from (c, y): never below 0 when ok.
    let i = s.base + (c * p.pixels + ky * p.width) / 4u - p.width / 4u;
    let v = select(vec4(0.0), x4[select(0u, i, ok)], ok);
    let before = subgroupShuffleUp(v.w, 1u);
    let after = subgroupShuffleDown(v.x, 1u);
    var t: Window;
    t.left = vec4(select(0.0, before, s.left), v.x, v.y, v.z);
    t.mid = v;
    t.right = vec4(v.y, v.z, v.w, select(0.0, after, s.right));
    return t;
}

fn store(s: Source, o: u32, v: vec4<f32>) {
    if (!s.ok || o >= p.out_channels) {
        return;
    }
    var r = v;
    if ((p.flags & HAS_BIAS) != 0u) {
        r += vec4(bias[o]);
    }
    if ((p.flags & RELU) != 0u) {
        r = max(r, vec4(0.0));
    }
    let i = s.out + o * p.pixels / 4u;
    if ((p.flags & ACCUMULATE) != 0u) {
        r += y4[i];
    }
    y4[i] = r;
}

// Tiles of 16 output channels (products with at most 16) and of 32.
@compute @workgroup_size(8)
fn conv3x3_r16(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    let r0 = wg.y * 16u;
    let s0 = source(wg.x * 64u + 4u * lane);
    let s1 = source(wg.x * 64u + 32u + 4u * lane);
    var acc0_0 = vec4(0.0);
    var acc0_1 = vec4(0.0);
    var acc1_0 = vec4(0.0);
    var acc1_1 = vec4(0.0);
    var acc2_0 = vec4(0.0);
    var acc2_1 = vec4(0.0);
    var acc3_0 = vec4(0.0);
    var acc3_1 = vec4(0.0);
    var acc4_0 = vec4(0.0);
    var acc4_1 = vec4(0.0);
    var acc5_0 = vec4(0.0);
    var acc5_1 = vec4(0.0);
    var acc6_0 = vec4(0.0);
    var acc6_1 = vec4(0.0);
    var acc7_0 = vec4(0.0);
    var acc7_1 = vec4(0.0);
    var acc8_0 = vec4(0.0);
    var acc8_1 = vec4(0.0);
    var acc9_0 = vec4(0.0);
    var acc9_1 = vec4(0.0);
    var acc10_0 = vec4(0.0);
    var acc10_1 = vec4(0.0);
    var acc11_0 = vec4(0.0);
    var acc11_1 = vec4(0.0);
    var acc12_0 = vec4(0.0);
    var acc12_1 = vec4(0.0);
    var acc13_0 = vec4(0.0);
    var acc13_1 = vec4(0.0);
    var acc14_0 = vec4(0.0);
    var acc14_1 = vec4(0.0);
    var acc15_0 = vec4(0.0);
    var acc15_1 = vec4(0.0);
    for (var c = 0u; c < p.channels; c++) {
        for (var ky = 0u; ky < 3u; ky++) {
            // Rows r0 + 8q + lane: the weights of kernel row ky of channel c.
            let kk = c * 3u + ky;
            let a0 = taps[(r0 + 0u + lane) * p.taps_rs + kk];
            let a1 = taps[(r0 + 8u + lane) * p.taps_rs + kk];
            let t0 = window(s0, c, ky);
            let t1 = window(s1, c, ky);
            let x0 = subgroupBroadcast(a0, 0u);
            acc0_0 += x0.x * t0.left + x0.y * t0.mid + x0.z * t0.right;
            acc0_1 += x0.x * t1.left + x0.y * t1.mid + x0.z * t1.right;
            let x1 = subgroupBroadcast(a0, 1u);
            acc1_0 += x1.x * t0.left + x1.y * t0.mid + x1.z * t0.right;
            acc1_1 += x1.x * t1.left + x1.y * t1.mid + x1.z * t1.right;
            let x2 = subgroupBroadcast(a0, 2u);
            acc2_0 += x2.x * t0.left + x2.y * t0.mid + x2.z * t0.right;
            acc2_1 += x2.x * t1.left + x2.y * t1.mid + x2.z * t1.right;
            let x3 = subgroupBroadcast(a0, 3u);
            acc3_0 += x3.x * t0.left + x3.y * t0.mid + x3.z * t0.right;
            acc3_1 += x3.x * t1.left + x3.y * t1.mid + x3.z * t1.right;
            let x4 = subgroupBroadcast(a0, 4u);
            acc4_0 += x4.x * t0.left + x4.y * t0.mid + x4.z * t0.right;
            acc4_1 += x4.x * t1.left + x4.y * t1.mid + x4.z * t1.right;
            let x5 = subgroupBroadcast(a0, 5u);
            acc5_0 += x5.x * t0.left + x5.y * t0.mid + x5.z * t0.right;
            acc5_1 += x5.x * t1.left + x5.y * t1.mid + x5.z * t1.right;
            let x6 = subgroupBroadcast(a0, 6u);
            acc6_0 += x6.x * t0.left + x6.y * t0.mid + x6.z * t0.right;
            acc6_1 += x6.x * t1.left + x6.y * t1.mid + x6.z * t1.right;
            let x7 = subgroupBroadcast(a0, 7u);
            acc7_0 += x7.x * t0.left + x7.y * t0.mid + x7.z * t0.right;
            acc7_1 += x7.x * t1.left + x7.y * t1.mid + x7.z * t1.right;
            let x8 = subgroupBroadcast(a1, 0u);
            acc8_0 += x8.x * t0.left + x8.y * t0.mid + x8.z * t0.right;
            acc8_1 += x8.x * t1.left + x8.y * t1.mid + x8.z * t1.right;
            let x9 = subgroupBroadcast(a1, 1u);
            acc9_0 += x9.x * t0.left + x9.y * t0.mid + x9.z * t0.right;
            acc9_1 += x9.x * t1.left + x9.y * t1.mid + x9.z * t1.right;
            let x10 = subgroupBroadcast(a1, 2u);
            acc10_0 += x10.x * t0.left + x10.y * t0.mid + x10.z * t0.right;
            acc10_1 += x10.x * t1.left + x10.y * t1.mid + x10.z * t1.right;
            let x11 = subgroupBroadcast(a1, 3u);
            acc11_0 += x11.x * t0.left + x11.y * t0.mid + x11.z * t0.right;
            acc11_1 += x11.x * t1.left + x11.y * t1.mid + x11.z * t1.right;
            let x12 = subgroupBroadcast(a1, 4u);
            acc12_0 += x12.x * t0.left + x12.y * t0.mid + x12.z * t0.right;
            acc12_1 += x12.x * t1.left + x12.y * t1.mid + x12.z * t1.right;
            let x13 = subgroupBroadcast(a1, 5u);
            acc13_0 += x13.x * t0.left + x13.y * t0.mid + x13.z * t0.right;
            acc13_1 += x13.x * t1.left + x13.y * t1.mid + x13.z * t1.right;
            let x14 = subgroupBroadcast(a1, 6u);
            acc14_0 += x14.x * t0.left + x14.y * t0.mid + x14.z * t0.right;
            acc14_1 += x14.x * t1.left + x14.y * t1.mid + x14.z * t1.right;
            let x15 = subgroupBroadcast(a1, 7u);
            acc15_0 += x15.x * t0.left + x15.y * t0.mid + x15.z * t0.right;
            acc15_1 += x15.x * t1.left + x15.y * t1.mid + x15.z * t1.right;
        }
    }
    store(s0, r0 + 0u, acc0_0);
    store(s1, r0 + 0u, acc0_1);
    store(s0, r0 + 1u, acc1_0);
    store(s1, r0 + 1u, acc1_1);
    store(s0, r0 + 2u, acc2_0);
    store(s1, r0 + 2u, acc2_1);
    store(s0, r0 + 3u, acc3_0);
    store(s1, r0 + 3u, acc3_1);
    store(s0, r0 + 4u, acc4_0);
    store(s1, r0 + 4u, acc4_1);
    store(s0, r0 + 5u, acc5_0);
    store(s1, r0 + 5u, acc5_1);
    store(s0, r0 + 6u, acc6_0);
    store(s1, r0 + 6u, acc6_1);
    store(s0, r0 + 7u, acc7_0);
    store(s1, r0 + 7u, acc7_1);
    store(s0, r0 + 8u, acc8_0);
    store(s1, r0 + 8u, acc8_1);
    store(s0, r0 + 9u, acc9_0);
    store(s1, r0 + 9u, acc9_1);
    store(s0, r0 + 10u, acc10_0);
    store(s1, r0 + 10u, acc10_1);
    store(s0, r0 + 11u, acc11_0);
    store(s1, r0 + 11u, acc11_1);
    store(s0, r0 + 12u, acc12_0);
    store(s1, r0 + 12u, acc12_1);
    store(s0, r0 + 13u, acc13_0);
    store(s1, r0 + 13u, acc13_1);
    store(s0, r0 + 14u, acc14_0);
    store(s1, r0 + 14u, acc14_1);
    store(s0, r0 + 15u, acc15_0);
    store(s1, r0 + 15u, acc15_1);
}

@compute @workgroup_size(8)
fn conv3x3_r32(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    let r0 = wg.y * 32u;
    let s0 = source(wg.x * 64u + 4u * lane);
    let s1 = source(wg.x * 64u + 32u + 4u * lane);
    var acc0_0 = vec4(0.0);
    var acc0_1 = vec4(0.0);
    var acc1_0 = vec4(0.0);
    var acc1_1 = vec4(0.0);
    var acc2_0 = vec4(0.0);
    var acc2_1 = vec4(0.0);
    var acc3_0 = vec4(0.0);
    var acc3_1 = vec4(0.0);
    var acc4_0 = vec4(0.0);
    var acc4_1 = vec4(0.0);
    var acc5_0 = vec4(0.0);
    var acc5_1 = vec4(0.0);
    var acc6_0 = vec4(0.0);
    var acc6_1 = vec4(0.0);
    var acc7_0 = vec4(0.0);
    var acc7_1 = vec4(0.0);
    var acc8_0 = vec4(0.0);
    var acc8_1 = vec4(0.0);
    var acc9_0 = vec4(0.0);
    var acc9_1 = vec4(0.0);
    var acc10_0 = vec4(0.0);
    var acc10_1 = vec4(0.0);
    var acc11_0 = vec4(0.0);
    var acc11_1 = vec4(0.0);
    var acc12_0 = vec4(0.0);
    var acc12_1 = vec4(0.0);
    var acc13_0 = vec4(0.0);
    var acc13_1 = vec4(0.0);
    var acc14_0 = vec4(0.0);
    var acc14_1 = vec4(0.0);
    var acc15_0 = vec4(0.0);
    var acc15_1 = vec4(0.0);
    var acc16_0 = vec4(0.0);
    var acc16_1 = vec4(0.0);
    var acc17_0 = vec4(0.0);
    var acc17_1 = vec4(0.0);
    var acc18_0 = vec4(0.0);
    var acc18_1 = vec4(0.0);
    var acc19_0 = vec4(0.0);
    var acc19_1 = vec4(0.0);
    var acc20_0 = vec4(0.0);
    var acc20_1 = vec4(0.0);
    var acc21_0 = vec4(0.0);
    var acc21_1 = vec4(0.0);
    var acc22_0 = vec4(0.0);
    var acc22_1 = vec4(0.0);
    var acc23_0 = vec4(0.0);
    var acc23_1 = vec4(0.0);
    var acc24_0 = vec4(0.0);
    var acc24_1 = vec4(0.0);
    var acc25_0 = vec4(0.0);
    var acc25_1 = vec4(0.0);
    var acc26_0 = vec4(0.0);
    var acc26_1 = vec4(0.0);
    var acc27_0 = vec4(0.0);
    var acc27_1 = vec4(0.0);
    var acc28_0 = vec4(0.0);
    var acc28_1 = vec4(0.0);
    var acc29_0 = vec4(0.0);
    var acc29_1 = vec4(0.0);
    var acc30_0 = vec4(0.0);
    var acc30_1 = vec4(0.0);
    var acc31_0 = vec4(0.0);
    var acc31_1 = vec4(0.0);
    for (var c = 0u; c < p.channels; c++) {
        for (var ky = 0u; ky < 3u; ky++) {
            // Rows r0 + 8q + lane: the weights of kernel row ky of channel c.
            let kk = c * 3u + ky;
            let a0 = taps[(r0 + 0u + lane) * p.taps_rs + kk];
            let a1 = taps[(r0 + 8u + lane) * p.taps_rs + kk];
            let a2 = taps[(r0 + 16u + lane) * p.taps_rs + kk];
            let a3 = taps[(r0 + 24u + lane) * p.taps_rs + kk];
            let t0 = window(s0, c, ky);
            let t1 = window(s1, c, ky);
            let x0 = subgroupBroadcast(a0, 0u);
            acc0_0 += x0.x * t0.left + x0.y * t0.mid + x0.z * t0.right;
            acc0_1 += x0.x * t1.left + x0.y * t1.mid + x0.z * t1.right;
            let x1 = subgroupBroadcast(a0, 1u);
            acc1_0 += x1.x * t0.left + x1.y * t0.mid + x1.z * t0.right;
            acc1_1 += x1.x * t1.left + x1.y * t1.mid + x1.z * t1.right;
            let x2 = subgroupBroadcast(a0, 2u);
            acc2_0 += x2.x * t0.left + x2.y * t0.mid + x2.z * t0.right;
            acc2_1 += x2.x * t1.left + x2.y * t1.mid + x2.z * t1.right;
            let x3 = subgroupBroadcast(a0, 3u);
            acc3_0 += x3.x * t0.left + x3.y * t0.mid + x3.z * t0.right;
            acc3_1 += x3.x * t1.left + x3.y * t1.mid + x3.z * t1.right;
            let x4 = subgroupBroadcast(a0, 4u);
            acc4_0 += x4.x * t0.left + x4.y * t0.mid + x4.z * t0.right;
            acc4_1 += x4.x * t1.left + x4.y * t1.mid + x4.z * t1.right;
            let x5 = subgroupBroadcast(a0, 5u);
            acc5_0 += x5.x * t0.left + x5.y * t0.mid + x5.z * t0.right;
            acc5_1 += x5.x * t1.left + x5.y * t1.mid + x5.z * t1.right;
            let x6 = subgroupBroadcast(a0, 6u);
            acc6_0 += x6.x * t0.left + x6.y * t0.mid + x6.z * t0.right;
            acc6_1 += x6.x * t1.left + x6.y * t1.mid + x6.z * t1.right;
            let x7 = subgroupBroadcast(a0, 7u);
            acc7_0 += x7.x * t0.left + x7.y * t0.mid + x7.z * t0.right;
            acc7_1 += x7.x * t1.left + x7.y * t1.mid + x7.z * t1.right;
            let x8 = subgroupBroadcast(a1, 0u);
            acc8_0 += x8.x * t0.left + x8.y * t0.mid + x8.z * t0.right;
            acc8_1 += x8.x * t1.left + x8.y * t1.mid + x8.z * t1.right;
            let x9 = subgroupBroadcast(a1, 1u);
            acc9_0 += x9.x * t0.left + x9.y * t0.mid + x9.z * t0.right;
            acc9_1 += x9.x * t1.left + x9.y * t1.mid + x9.z * t1.right;
            let x10 = subgroupBroadcast(a1, 2u);
            acc10_0 += x10.x * t0.left + x10.y * t0.mid + x10.z * t0.right;
            acc10_1 += x10.x * t1.left + x10.y * t1.mid + x10.z * t1.right;
            let x11 = subgroupBroadcast(a1, 3u);
            acc11_0 += x11.x * t0.left + x11.y * t0.mid + x11.z * t0.right;
            acc11_1 += x11.x * t1.left + x11.y * t1.mid + x11.z * t1.right;
            let x12 = subgroupBroadcast(a1, 4u);
            acc12_0 += x12.x * t0.left + x12.y * t0.mid + x12.z * t0.right;
            acc12_1 += x12.x * t1.left + x12.y * t1.mid + x12.z * t1.right;
            let x13 = subgroupBroadcast(a1, 5u);
            acc13_0 += x13.x * t0.left + x13.y * t0.mid + x13.z * t0.right;
            acc13_1 += x13.x * t1.left + x13.y * t1.mid + x13.z * t1.right;
            let x14 = subgroupBroadcast(a1, 6u);
            acc14_0 += x14.x * t0.left + x14.y * t0.mid + x14.z * t0.right;
            acc14_1 += x14.x * t1.left + x14.y * t1.mid + x14.z * t1.right;
            let x15 = subgroupBroadcast(a1, 7u);
            acc15_0 += x15.x * t0.left + x15.y * t0.mid + x15.z * t0.right;
            acc15_1 += x15.x * t1.left + x15.y * t1.mid + x15.z * t1.right;
            let x16 = subgroupBroadcast(a2, 0u);
            acc16_0 += x16.x * t0.left + x16.y * t0.mid + x16.z * t0.right;
            acc16_1 += x16.x * t1.left + x16.y * t1.mid + x16.z * t1.right;
            let x17 = subgroupBroadcast(a2, 1u);
            acc17_0 += x17.x * t0.left + x17.y * t0.mid + x17.z * t0.right;
            acc17_1 += x17.x * t1.left + x17.y * t1.mid + x17.z * t1.right;
            let x18 = subgroupBroadcast(a2, 2u);
            acc18_0 += x18.x * t0.left + x18.y * t0.mid + x18.z * t0.right;
            acc18_1 += x18.x * t1.left + x18.y * t1.mid + x18.z * t1.right;
            let x19 = subgroupBroadcast(a2, 3u);
            acc19_0 += x19.x * t0.left + x19.y * t0.mid + x19.z * t0.right;
            acc19_1 += x19.x * t1.left + x19.y * t1.mid + x19.z * t1.right;
            let x20 = subgroupBroadcast(a2, 4u);
            acc20_0 += x20.x * t0.left + x20.y * t0.mid + x20.z * t0.right;
            acc20_1 += x20.x * t1.left + x20.y * t1.mid + x20.z * t1.right;
            let x21 = subgroupBroadcast(a2, 5u);
            acc21_0 += x21.x * t0.left + x21.y * t0.mid + x21.z * t0.right;
            acc21_1 += x21.x * t1.left + x21.y * t1.mid + x21.z * t1.right;
            let x22 = subgroupBroadcast(a2, 6u);
            acc22_0 += x22.x * t0.left + x22.y * t0.mid + x22.z * t0.right;
            acc22_1 += x22.x * t1.left + x22.y * t1.mid + x22.z * t1.right;
            let x23 = subgroupBroadcast(a2, 7u);
            acc23_0 += x23.x * t0.left + x23.y * t0.mid + x23.z * t0.right;
            acc23_1 += x23.x * t1.left + x23.y * t1.mid + x23.z * t1.right;
            let x24 = subgroupBroadcast(a3, 0u);
            acc24_0 += x24.x * t0.left + x24.y * t0.mid + x24.z * t0.right;
            acc24_1 += x24.x * t1.left + x24.y * t1.mid + x24.z * t1.right;
            let x25 = subgroupBroadcast(a3, 1u);
            acc25_0 += x25.x * t0.left + x25.y * t0.mid + x25.z * t0.right;
            acc25_1 += x25.x * t1.left + x25.y * t1.mid + x25.z * t1.right;
            let x26 = subgroupBroadcast(a3, 2u);
            acc26_0 += x26.x * t0.left + x26.y * t0.mid + x26.z * t0.right;
            acc26_1 += x26.x * t1.left + x26.y * t1.mid + x26.z * t1.right;
            let x27 = subgroupBroadcast(a3, 3u);
            acc27_0 += x27.x * t0.left + x27.y * t0.mid + x27.z * t0.right;
            acc27_1 += x27.x * t1.left + x27.y * t1.mid + x27.z * t1.right;
            let x28 = subgroupBroadcast(a3, 4u);
            acc28_0 += x28.x * t0.left + x28.y * t0.mid + x28.z * t0.right;
            acc28_1 += x28.x * t1.left + x28.y * t1.mid + x28.z * t1.right;
            let x29 = subgroupBroadcast(a3, 5u);
            acc29_0 += x29.x * t0.left + x29.y * t0.mid + x29.z * t0.right;
            acc29_1 += x29.x * t1.left + x29.y * t1.mid + x29.z * t1.right;
            let x30 = subgroupBroadcast(a3, 6u);
            acc30_0 += x30.x * t0.left + x30.y * t0.mid + x30.z * t0.right;
            acc30_1 += x30.x * t1.left + x30.y * t1.mid + x30.z * t1.right;
            let x31 = subgroupBroadcast(a3, 7u);
            acc31_0 += x31.x * t0.left + x31.y * t0.mid + x31.z * t0.right;
            acc31_1 += x31.x * t1.left + x31.y * t1.mid + x31.z * t1.right;
        }
    }
    store(s0, r0 + 0u, acc0_0);
    store(s1, r0 + 0u, acc0_1);
    store(s0, r0 + 1u, acc1_0);
    store(s1, r0 + 1u, acc1_1);
    store(s0, r0 + 2u, acc2_0);
    store(s1, r0 + 2u, acc2_1);
    store(s0, r0 + 3u, acc3_0);
    store(s1, r0 + 3u, acc3_1);
    store(s0, r0 + 4u, acc4_0);
    store(s1, r0 + 4u, acc4_1);
    store(s0, r0 + 5u, acc5_0);
    store(s1, r0 + 5u, acc5_1);
    store(s0, r0 + 6u, acc6_0);
    store(s1, r0 + 6u, acc6_1);
    store(s0, r0 + 7u, acc7_0);
    store(s1, r0 + 7u, acc7_1);
    store(s0, r0 + 8u, acc8_0);
    store(s1, r0 + 8u, acc8_1);
    store(s0, r0 + 9u, acc9_0);
    store(s1, r0 + 9u, acc9_1);
    store(s0, r0 + 10u, acc10_0);
    store(s1, r0 + 10u, acc10_1);
    store(s0, r0 + 11u, acc11_0);
    store(s1, r0 + 11u, acc11_1);
    store(s0, r0 + 12u, acc12_0);
    store(s1, r0 + 12u, acc12_1);
    store(s0, r0 + 13u, acc13_0);
    store(s1, r0 + 13u, acc13_1);
    store(s0, r0 + 14u, acc14_0);
    store(s1, r0 + 14u, acc14_1);
    store(s0, r0 + 15u, acc15_0);
    store(s1, r0 + 15u, acc15_1);
    store(s0, r0 + 16u, acc16_0);
    store(s1, r0 + 16u, acc16_1);
    store(s0, r0 + 17u, acc17_0);
    store(s1, r0 + 17u, acc17_1);
    store(s0, r0 + 18u, acc18_0);
    store(s1, r0 + 18u, acc18_1);
    store(s0, r0 + 19u, acc19_0);
    store(s1, r0 + 19u, acc19_1);
    store(s0, r0 + 20u, acc20_0);
    store(s1, r0 + 20u, acc20_1);
    store(s0, r0 + 21u, acc21_0);
    store(s1, r0 + 21u, acc21_1);
    store(s0, r0 + 22u, acc22_0);
    store(s1, r0 + 22u, acc22_1);
    store(s0, r0 + 23u, acc23_0);
    store(s1, r0 + 23u, acc23_1);
    store(s0, r0 + 24u, acc24_0);
    store(s1, r0 + 24u, acc24_1);
    store(s0, r0 + 25u, acc25_0);
    store(s1, r0 + 25u, acc25_1);
    store(s0, r0 + 26u, acc26_0);
    store(s1, r0 + 26u, acc26_1);
    store(s0, r0 + 27u, acc27_0);
    store(s1, r0 + 27u, acc27_1);
    store(s0, r0 + 28u, acc28_0);
    store(s1, r0 + 28u, acc28_1);
    store(s0, r0 + 29u, acc29_0);
    store(s1, r0 + 29u, acc29_1);
    store(s0, r0 + 30u, acc30_0);
    store(s1, r0 + 30u, acc30_1);
    store(s0, r0 + 31u, acc31_0);
    store(s1, r0 + 31u, acc31_1);
}

// dY at the lane's four columns for output channel o (zero past the columns or channels).
fn grad_out(s: Source, o: u32) -> vec4<f32> {
    let ok = s.ok && o < p.out_channels;
    return select(vec4(0.0), dy4[select(0u, s.out + o * p.pixels / 4u, ok)], ok);
}

fn taps_dot(d: vec4<f32>, w: Window) -> vec3<f32> {
    return vec3(dot(d, w.left), dot(d, w.mid), dot(d, w.right));
}

// Adds the lanes' sums for taps (o, c, ky, 0..2); lane 0 writes them to the chunk's part.
fn store_part(chunk: u32, o: u32, c: u32, ky: u32, lane: u32, v: vec3<f32>) {
    let total = subgroupAdd(v);
    if (lane == 0u && o < p.out_channels && c < p.channels) {
        let i = (chunk * p.out_channels * p.taps_rs + (o * p.channels + c) * 3u + ky) * 3u;
        parts[i] = total.x;
        parts[i + 1u] = total.y;
        parts[i + 2u] = total.z;
    }
}

@compute @workgroup_size(8)
fn weight_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    let o0 = wg.x * 8u;
    let c0 = wg.y * 4u;
    let chunk = wg.z;
    let steps = (p.cols + 31u) / 32u;
    let first = chunk * p.chunk_steps;
    let last = min(first + p.chunk_steps, steps);
    var acc0_0_0 = vec3(0.0);
    var acc0_0_1 = vec3(0.0);
    var acc0_0_2 = vec3(0.0);
    var acc0_1_0 = vec3(0.0);
    var acc0_1_1 = vec3(0.0);
    var acc0_1_2 = vec3(0.0);
    var acc0_2_0 = vec3(0.0);
    var acc0_2_1 = vec3(0.0);
    var acc0_2_2 = vec3(0.0);
    var acc0_3_0 = vec3(0.0);
    var acc0_3_1 = vec3(0.0);
    var acc0_3_2 = vec3(0.0);
    var acc1_0_0 = vec3(0.0);
    var acc1_0_1 = vec3(0.0);
    var acc1_0_2 = vec3(0.0);
    var acc1_1_0 = vec3(0.0);
    var acc1_1_1 = vec3(0.0);
    var acc1_1_2 = vec3(0.0);
    var acc1_2_0 = vec3(0.0);
    var acc1_2_1 = vec3(0.0);
    var acc1_2_2 = vec3(0.0);
    var acc1_3_0 = vec3(0.0);
    var acc1_3_1 = vec3(0.0);
    var acc1_3_2 = vec3(0.0);
    var acc2_0_0 = vec3(0.0);
    var acc2_0_1 = vec3(0.0);
    var acc2_0_2 = vec3(0.0);
    var acc2_1_0 = vec3(0.0);
    var acc2_1_1 = vec3(0.0);
    var acc2_1_2 = vec3(0.0);
    var acc2_2_0 = vec3(0.0);
    var acc2_2_1 = vec3(0.0);
    var acc2_2_2 = vec3(0.0);
    var acc2_3_0 = vec3(0.0);
    var acc2_3_1 = vec3(0.0);
    var acc2_3_2 = vec3(0.0);
    var acc3_0_0 = vec3(0.0);
    var acc3_0_1 = vec3(0.0);
    var acc3_0_2 = vec3(0.0);
    var acc3_1_0 = vec3(0.0);
    var acc3_1_1 = vec3(0.0);
    var acc3_1_2 = vec3(0.0);
    var acc3_2_0 = vec3(0.0);
    var acc3_2_1 = vec3(0.0);
    var acc3_2_2 = vec3(0.0);
    var acc3_3_0 = vec3(0.0);
    var acc3_3_1 = vec3(0.0);
    var acc3_3_2 = vec3(0.0);
    var acc4_0_0 = vec3(0.0);
    var acc4_0_1 = vec3(0.0);
    var acc4_0_2 = vec3(0.0);
    var acc4_1_0 = vec3(0.0);
    var acc4_1_1 = vec3(0.0);
    var acc4_1_2 = vec3(0.0);
    var acc4_2_0 = vec3(0.0);
    var acc4_2_1 = vec3(0.0);
    var acc4_2_2 = vec3(0.0);
    var acc4_3_0 = vec3(0.0);
    var acc4_3_1 = vec3(0.0);
    var acc4_3_2 = vec3(0.0);
    var acc5_0_0 = vec3(0.0);
    var acc5_0_1 = vec3(0.0);
    var acc5_0_2 = vec3(0.0);
    var acc5_1_0 = vec3(0.0);
    var acc5_1_1 = vec3(0.0);
    var acc5_1_2 = vec3(0.0);
    var acc5_2_0 = vec3(0.0);
    var acc5_2_1 = vec3(0.0);
    var acc5_2_2 = vec3(0.0);
    var acc5_3_0 = vec3(0.0);
    var acc5_3_1 = vec3(0.0);
    var acc5_3_2 = vec3(0.0);
    var acc6_0_0 = vec3(0.0);
    var acc6_0_1 = vec3(0.0);
    var acc6_0_2 = vec3(0.0);
    var acc6_1_0 = vec3(0.0);
    var acc6_1_1 = vec3(0.0);
    var acc6_1_2 = vec3(0.0);
    var acc6_2_0 = vec3(0.0);
    var acc6_2_1 = vec3(0.0);
    var acc6_2_2 = vec3(0.0);
    var acc6_3_0 = vec3(0.0);
    var acc6_3_1 = vec3(0.0);
    var acc6_3_2 = vec3(0.0);
    var acc7_0_0 = vec3(0.0);
    var acc7_0_1 = vec3(0.0);
    var acc7_0_2 = vec3(0.0);
    var acc7_1_0 = vec3(0.0);
    var acc7_1_1 = vec3(0.0);
    var acc7_1_2 = vec3(0.0);
    var acc7_2_0 = vec3(0.0);
    var acc7_2_1 = vec3(0.0);
    var acc7_2_2 = vec3(0.0);
    var acc7_3_0 = vec3(0.0);
    var acc7_3_1 = vec3(0.0);
    var acc7_3_2 = vec3(0.0);
    for (var t = first; t < last; t++) {
        let s = source(32u * t + 4u * lane);
        let d0 = grad_out(s, o0 + 0u);
        let d1 = grad_out(s, o0 + 1u);
        let d2 = grad_out(s, o0 + 2u);
        let d3 = grad_out(s, o0 + 3u);
        let d4 = grad_out(s, o0 + 4u);
        let d5 = grad_out(s, o0 + 5u);
        let d6 = grad_out(s, o0 + 6u);
        let d7 = grad_out(s, o0 + 7u);
        let w0_0 = window(s, c0 + 0u, 0u);
        acc0_0_0 += taps_dot(d0, w0_0);
        acc1_0_0 += taps_dot(d1, w0_0);
        acc2_0_0 += taps_dot(d2, w0_0);
        acc3_0_0 += taps_dot(d3, w0_0);
        acc4_0_0 += taps_dot(d4, w0_0);
        acc5_0_0 += taps_dot(d5, w0_0);
        acc6_0_0 += taps_dot(d6, w0_0);
        acc7_0_0 += taps_dot(d7, w0_0);
        let w0_1 = window(s, c0 + 0u, 1u);
        acc0_0_1 += taps_dot(d0, w0_1);
        acc1_0_1 += taps_dot(d1, w0_1);
        acc2_0_1 += taps_dot(d2, w0_1);
        acc3_0_1 += taps_dot(d3, w0_1);
        acc4_0_1 += taps_dot(d4, w0_1);
        acc5_0_1 += taps_dot(d5, w0_1);
        acc6_0_1 += taps_dot(d6, w0_1);
        acc7_0_1 += taps_dot(d7, w0_1);
        let w0_2 = window(s, c0 + 0u, 2u);
        acc0_0_2 += taps_dot(d0, w0_2);
        acc1_0_2 += taps_dot(d1, w0_2);
        acc2_0_2 += taps_dot(d2, w0_2);
        acc3_0_2 += taps_dot(d3, w0_2);
        acc4_0_2 += taps_dot(d4, w0_2);
        acc5_0_2 += taps_dot(d5, w0_2);
        acc6_0_2 += taps_dot(d6, w0_2);
        acc7_0_2 += taps_dot(d7, w0_2);
        let w1_0 = window(s, c0 + 1u, 0u);
        acc0_1_0 += taps_dot(d0, w1_0);
        acc1_1_0 += taps_dot(d1, w1_0);
        acc2_1_0 += taps_dot(d2, w1_0);
        acc3_1_0 += taps_dot(d3, w1_0);
        acc4_1_0 += taps_dot(d4, w1_0);
        acc5_1_0 += taps_dot(d5, w1_0);
        acc6_1_0 += taps_dot(d6, w1_0);
        acc7_1_0 += taps_dot(d7, w1_0);
        let w1_1 = window(s, c0 + 1u, 1u);
        acc0_1_1 += taps_dot(d0, w1_1);
        acc1_1_1 += taps_dot(d1, w1_1);
        acc2_1_1 += taps_dot(d2, w1_1);
        acc3_1_1 += taps_dot(d3, w1_1);
        acc4_1_1 += taps_dot(d4, w1_1);
        acc5_1_1 += taps_dot(d5, w1_1);
        acc6_1_1 += taps_dot(d6, w1_1);
        acc7_1_1 += taps_dot(d7, w1_1);
        let w1_2 = window(s, c0 + 1u, 2u);
        acc0_1_2 += taps_dot(d0, w1_2);
        acc1_1_2 += taps_dot(d1, w1_2);
        acc2_1_2 += taps_dot(d2, w1_2);
        acc3_1_2 += taps_dot(d3, w1_2);
        acc4_1_2 += taps_dot(d4, w1_2);
        acc5_1_2 += taps_dot(d5, w1_2);
        acc6_1_2 += taps_dot(d6, w1_2);
        acc7_1_2 += taps_dot(d7, w1_2);
        let w2_0 = window(s, c0 + 2u, 0u);
        acc0_2_0 += taps_dot(d0, w2_0);
        acc1_2_0 += taps_dot(d1, w2_0);
        acc2_2_0 += taps_dot(d2, w2_0);
        acc3_2_0 += taps_dot(d3, w2_0);
        acc4_2_0 += taps_dot(d4, w2_0);
        acc5_2_0 += taps_dot(d5, w2_0);
        acc6_2_0 += taps_dot(d6, w2_0);
        acc7_2_0 += taps_dot(d7, w2_0);
        let w2_1 = window(s, c0 + 2u, 1u);
        acc0_2_1 += taps_dot(d0, w2_1);
        acc1_2_1 += taps_dot(d1, w2_1);
        acc2_2_1 += taps_dot(d2, w2_1);
        acc3_2_1 += taps_dot(d3, w2_1);
        acc4_2_1 += taps_dot(d4, w2_1);
        acc5_2_1 += taps_dot(d5, w2_1);
        acc6_2_1 += taps_dot(d6, w2_1);
        acc7_2_1 += taps_dot(d7, w2_1);
        let w2_2 = window(s, c0 + 2u, 2u);
        acc0_2_2 += taps_dot(d0, w2_2);
        acc1_2_2 += taps_dot(d1, w2_2);
        acc2_2_2 += taps_dot(d2, w2_2);
        acc3_2_2 += taps_dot(d3, w2_2);
        acc4_2_2 += taps_dot(d4, w2_2);
        acc5_2_2 += taps_dot(d5, w2_2);
        acc6_2_2 += taps_dot(d6, w2_2);
        acc7_2_2 += taps_dot(d7, w2_2);
        let w3_0 = window(s, c0 + 3u, 0u);
        acc0_3_0 += taps_dot(d0, w3_0);
        acc1_3_0 += taps_dot(d1, w3_0);
        acc2_3_0 += taps_dot(d2, w3_0);
        acc3_3_0 += taps_dot(d3, w3_0);
        acc4_3_0 += taps_dot(d4, w3_0);
        acc5_3_0 += taps_dot(d5, w3_0);
        acc6_3_0 += taps_dot(d6, w3_0);
        acc7_3_0 += taps_dot(d7, w3_0);
        let w3_1 = window(s, c0 + 3u, 1u);
        acc0_3_1 += taps_dot(d0, w3_1);
        acc1_3_1 += taps_dot(d1, w3_1);
        acc2_3_1 += taps_dot(d2, w3_1);
        acc3_3_1 += taps_dot(d3, w3_1);
        acc4_3_1 += taps_dot(d4, w3_1);
        acc5_3_1 += taps_dot(d5, w3_1);
        acc6_3_1 += taps_dot(d6, w3_1);
        acc7_3_1 += taps_dot(d7, w3_1);
        let w3_2 = window(s, c0 + 3u, 2u);
        acc0_3_2 += taps_dot(d0, w3_2);
        acc1_3_2 += taps_dot(d1, w3_2);
        acc2_3_2 += taps_dot(d2, w3_2);
        acc3_3_2 += taps_dot(d3, w3_2);
        acc4_3_2 += taps_dot(d4, w3_2);
        acc5_3_2 += taps_dot(d5, w3_2);
        acc6_3_2 += taps_dot(d6, w3_2);
        acc7_3_2 += taps_dot(d7, w3_2);
    }
    store_part(chunk, o0 + 0u, c0 + 0u, 0u, lane, acc0_0_0);
    store_part(chunk, o0 + 0u, c0 + 0u, 1u, lane, acc0_0_1);
    store_part(chunk, o0 + 0u, c0 + 0u, 2u, lane, acc0_0_2);
    store_part(chunk, o0 + 0u, c0 + 1u, 0u, lane, acc0_1_0);
    store_part(chunk, o0 + 0u, c0 + 1u, 1u, lane, acc0_1_1);
    store_part(chunk, o0 + 0u, c0 + 1u, 2u, lane, acc0_1_2);
    store_part(chunk, o0 + 0u, c0 + 2u, 0u, lane, acc0_2_0);
    store_part(chunk, o0 + 0u, c0 + 2u, 1u, lane, acc0_2_1);
    store_part(chunk, o0 + 0u, c0 + 2u, 2u, lane, acc0_2_2);
    store_part(chunk, o0 + 0u, c0 + 3u, 0u, lane, acc0_3_0);
    store_part(chunk, o0 + 0u, c0 + 3u, 1u, lane, acc0_3_1);
    store_part(chunk, o0 + 0u, c0 + 3u, 2u, lane, acc0_3_2);
    store_part(chunk, o0 + 1u, c0 + 0u, 0u, lane, acc1_0_0);
    store_part(chunk, o0 + 1u, c0 + 0u, 1u, lane, acc1_0_1);
    store_part(chunk, o0 + 1u, c0 + 0u, 2u, lane, acc1_0_2);
    store_part(chunk, o0 + 1u, c0 + 1u, 0u, lane, acc1_1_0);
    store_part(chunk, o0 + 1u, c0 + 1u, 1u, lane, acc1_1_1);
    store_part(chunk, o0 + 1u, c0 + 1u, 2u, lane, acc1_1_2);
    store_part(chunk, o0 + 1u, c0 + 2u, 0u, lane, acc1_2_0);
    store_part(chunk, o0 + 1u, c0 + 2u, 1u, lane, acc1_2_1);
    store_part(chunk, o0 + 1u, c0 + 2u, 2u, lane, acc1_2_2);
    store_part(chunk, o0 + 1u, c0 + 3u, 0u, lane, acc1_3_0);
    store_part(chunk, o0 + 1u, c0 + 3u, 1u, lane, acc1_3_1);
    store_part(chunk, o0 + 1u, c0 + 3u, 2u, lane, acc1_3_2);
    store_part(chunk, o0 + 2u, c0 + 0u, 0u, lane, acc2_0_0);
    store_part(chunk, o0 + 2u, c0 + 0u, 1u, lane, acc2_0_1);
    store_part(chunk, o0 + 2u, c0 + 0u, 2u, lane, acc2_0_2);
    store_part(chunk, o0 + 2u, c0 + 1u, 0u, lane, acc2_1_0);
    store_part(chunk, o0 + 2u, c0 + 1u, 1u, lane, acc2_1_1);
    store_part(chunk, o0 + 2u, c0 + 1u, 2u, lane, acc2_1_2);
    store_part(chunk, o0 + 2u, c0 + 2u, 0u, lane, acc2_2_0);
    store_part(chunk, o0 + 2u, c0 + 2u, 1u, lane, acc2_2_1);
    store_part(chunk, o0 + 2u, c0 + 2u, 2u, lane, acc2_2_2);
    store_part(chunk, o0 + 2u, c0 + 3u, 0u, lane, acc2_3_0);
    store_part(chunk, o0 + 2u, c0 + 3u, 1u, lane, acc2_3_1);
    store_part(chunk, o0 + 2u, c0 + 3u, 2u, lane, acc2_3_2);
    store_part(chunk, o0 + 3u, c0 + 0u, 0u, lane, acc3_0_0);
    store_part(chunk, o0 + 3u, c0 + 0u, 1u, lane, acc3_0_1);
    store_part(chunk, o0 + 3u, c0 + 0u, 2u, lane, acc3_0_2);
    store_part(chunk, o0 + 3u, c0 + 1u, 0u, lane, acc3_1_0);
    store_part(chunk, o0 + 3u, c0 + 1u, 1u, lane, acc3_1_1);
    store_part(chunk, o0 + 3u, c0 + 1u, 2u, lane, acc3_1_2);
    store_part(chunk, o0 + 3u, c0 + 2u, 0u, lane, acc3_2_0);
    store_part(chunk, o0 + 3u, c0 + 2u, 1u, lane, acc3_2_1);
    store_part(chunk, o0 + 3u, c0 + 2u, 2u, lane, acc3_2_2);
    store_part(chunk, o0 + 3u, c0 + 3u, 0u, lane, acc3_3_0);
    store_part(chunk, o0 + 3u, c0 + 3u, 1u, lane, acc3_3_1);
    store_part(chunk, o0 + 3u, c0 + 3u, 2u, lane, acc3_3_2);
    store_part(chunk, o0 + 4u, c0 + 0u, 0u, lane, acc4_0_0);
    store_part(chunk, o0 + 4u, c0 + 0u, 1u, lane, acc4_0_1);
    store_part(chunk, o0 + 4u, c0 + 0u, 2u, lane, acc4_0_2);
    store_part(chunk, o0 + 4u, c0 + 1u, 0u, lane, acc4_1_0);
    store_part(chunk, o0 + 4u, c0 + 1u, 1u, lane, acc4_1_1);
    store_part(chunk, o0 + 4u, c0 + 1u, 2u, lane, acc4_1_2);
    store_part(chunk, o0 + 4u, c0 + 2u, 0u, lane, acc4_2_0);
    store_part(chunk, o0 + 4u, c0 + 2u, 1u, lane, acc4_2_1);
    store_part(chunk, o0 + 4u, c0 + 2u, 2u, lane, acc4_2_2);
    store_part(chunk, o0 + 4u, c0 + 3u, 0u, lane, acc4_3_0);
    store_part(chunk, o0 + 4u, c0 + 3u, 1u, lane, acc4_3_1);
    store_part(chunk, o0 + 4u, c0 + 3u, 2u, lane, acc4_3_2);
    store_part(chunk, o0 + 5u, c0 + 0u, 0u, lane, acc5_0_0);
    store_part(chunk, o0 + 5u, c0 + 0u, 1u, lane, acc5_0_1);
    store_part(chunk, o0 + 5u, c0 + 0u, 2u, lane, acc5_0_2);
    store_part(chunk, o0 + 5u, c0 + 1u, 0u, lane, acc5_1_0);
    store_part(chunk, o0 + 5u, c0 + 1u, 1u, lane, acc5_1_1);
    store_part(chunk, o0 + 5u, c0 + 1u, 2u, lane, acc5_1_2);
    store_part(chunk, o0 + 5u, c0 + 2u, 0u, lane, acc5_2_0);
    store_part(chunk, o0 + 5u, c0 + 2u, 1u, lane, acc5_2_1);
    store_part(chunk, o0 + 5u, c0 + 2u, 2u, lane, acc5_2_2);
    store_part(chunk, o0 + 5u, c0 + 3u, 0u, lane, acc5_3_0);
    store_part(chunk, o0 + 5u, c0 + 3u, 1u, lane, acc5_3_1);
    store_part(chunk, o0 + 5u, c0 + 3u, 2u, lane, acc5_3_2);
    store_part(chunk, o0 + 6u, c0 + 0u, 0u, lane, acc6_0_0);
    store_part(chunk, o0 + 6u, c0 + 0u, 1u, lane, acc6_0_1);
    store_part(chunk, o0 + 6u, c0 + 0u, 2u, lane, acc6_0_2);
    store_part(chunk, o0 + 6u, c0 + 1u, 0u, lane, acc6_1_0);
    store_part(chunk, o0 + 6u, c0 + 1u, 1u, lane, acc6_1_1);
    store_part(chunk, o0 + 6u, c0 + 1u, 2u, lane, acc6_1_2);
    store_part(chunk, o0 + 6u, c0 + 2u, 0u, lane, acc6_2_0);
    store_part(chunk, o0 + 6u, c0 + 2u, 1u, lane, acc6_2_1);
    store_part(chunk, o0 + 6u, c0 + 2u, 2u, lane, acc6_2_2);
    store_part(chunk, o0 + 6u, c0 + 3u, 0u, lane, acc6_3_0);
    store_part(chunk, o0 + 6u, c0 + 3u, 1u, lane, acc6_3_1);
    store_part(chunk, o0 + 6u, c0 + 3u, 2u, lane, acc6_3_2);
    store_part(chunk, o0 + 7u, c0 + 0u, 0u, lane, acc7_0_0);
    store_part(chunk, o0 + 7u, c0 + 0u, 1u, lane, acc7_0_1);
    store_part(chunk, o0 + 7u, c0 + 0u, 2u, lane, acc7_0_2);
    store_part(chunk, o0 + 7u, c0 + 1u, 0u, lane, acc7_1_0);
    store_part(chunk, o0 + 7u, c0 + 1u, 1u, lane, acc7_1_1);
    store_part(chunk, o0 + 7u, c0 + 1u, 2u, lane, acc7_1_2);
    store_part(chunk, o0 + 7u, c0 + 2u, 0u, lane, acc7_2_0);
    store_part(chunk, o0 + 7u, c0 + 2u, 1u, lane, acc7_2_1);
    store_part(chunk, o0 + 7u, c0 + 2u, 2u, lane, acc7_2_2);
    store_part(chunk, o0 + 7u, c0 + 3u, 0u, lane, acc7_3_0);
    store_part(chunk, o0 + 7u, c0 + 3u, 1u, lane, acc7_3_1);
    store_part(chunk, o0 + 7u, c0 + 3u, 2u, lane, acc7_3_2);
}

@compute @workgroup_size(64)
fn sum_chunks(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let n = gid.x + gid.y * nwg.x * 64u;
    let len = p.out_channels * p.taps_rs * 3u;
    if (n >= len) {
        return;
    }
    var v = 0.0;
    for (var j = 0u; j < p.chunks; j++) {
        v += parts[j * len + n];
    }
    if ((p.flags & ACCUMULATE) != 0u) {
        v += dw[n];
    }
    dw[n] = v;
}
