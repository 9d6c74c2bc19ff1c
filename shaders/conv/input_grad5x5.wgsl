// dX of LeNet's second convolution (5×5, stride 1, no padding; 6 channels in, 16 out) on
// 8-lane subgroups, without the `dcol` matrix: it computes what `dcol = Wᵀ·dY` (matmul's
// mm_sg8) and `col2im` (conv/im2col.wgsl) compute, bit for bit, so that runs begun on
// those go on under it with the same records. Each lane owns one dX pixel and all its
// channels; for every tap (i, j) in col2im's order (rows, then columns, only taps whose
// output exists) it forms the dcol value of each channel as mm_sg8 sums it, over the
// output channels in chunks of four, `acc += x.x·d0 + x.y·d1 + x.z·d2 + x.w·d3` from a
// zero, and adds it to the pixel's sum as col2im does. dY's 16 values under the tap are
// per-lane loads; the weights of a tap (uniform over the subgroup) are spread over the
// lanes' loads and shared by subgroupBroadcast. The entry is generated
// (tests/suite/unrolled.rs) for the channel counts.

struct Params {
    // dX's channels and size
    channels: u32,
    height: u32,
    width: u32,
    out_channels: u32,
    out_h: u32,
    out_w: u32,
    // batch · height · width
    pixels: u32,
    accumulate: u32,
    // 0.0, read at run time: the sums start from a zero the compiler cannot fold away, as
    // the matmul's and col2im's loops do.
    zero: f32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
// `[out, channels, 5, 5]`
@group(0) @binding(1) var<storage, read> w: array<f32>;
// `[batch, out, out_h, out_w]`
@group(0) @binding(2) var<storage, read> dy: array<f32>;
// `[batch, channels, height, width]`
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

// dX pixel r of a channel's plane over the batch; past the last one when not valid.
struct Pixel {
    b: u32,
    y: u32,
    x: u32,
    valid: bool,
}

fn pixel(r: u32) -> Pixel {
    let valid = r < p.pixels;
    let rr = select(0u, r, valid);
    let hw = p.height * p.width;
    let b = rr / hw;
    let in_plane = rr - b * hw;
    let y = in_plane / p.width;
    return Pixel(b, y, in_plane - y * p.width, valid);
}

// Whether tap (i, j) of output (y − i, x − j) reads this pixel: col2im's taps.
fn tap_ok(s: Pixel, i: u32, j: u32) -> bool {
    return s.valid && i <= s.y && s.y - i < p.out_h && j <= s.x && s.x - j < p.out_w;
}

// The index of dY[b, 0, y − i, x − j], the first output channel's; 0 for no tap.
fn dy_at(s: Pixel, i: u32, j: u32, ok: bool) -> u32 {
    let at = (s.b * p.out_channels * p.out_h + s.y - i) * p.out_w + s.x - j;
    return select(0u, at, ok);
}

// W[4k .. 4k+3, c, i, j] for v = 4c + k: the four output channels of chunk k, as mm_sg8's
// broadcast row of Wᵀ holds them (channels past the last read the last one, unused).
fn weights4(v: u32, i: u32, j: u32) -> vec4<f32> {
    let c = min(v / 4u, p.channels - 1u);
    let k = v % 4u;
    let step = p.channels * 25u;
    let at = (4u * k * p.channels + c) * 25u + i * 5u + j;
    return vec4(w[at], w[at + step], w[at + 2u * step], w[at + 3u * step]);
}

// col2im's epilogue: dX (+)= the pixel's sum.
fn store(s: Pixel, c: u32, g: f32) {
    if (s.valid && c < p.channels) {
        let at = ((s.b * p.channels + c) * p.height + s.y) * p.width + s.x;
        var v = g;
        if (p.accumulate != 0u) {
            v += dx[at];
        }
        dx[at] = v;
    }
}

// unrolled: input_grad5x5 input_grad5x5_c6_o16 6 16
@compute @workgroup_size(8)
fn input_grad5x5_c6_o16(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    let s = pixel(wg.x * 8u + lane);
    let plane = p.out_h * p.out_w;
    var g0 = p.zero;
    var g1 = p.zero;
    var g2 = p.zero;
    var g3 = p.zero;
    var g4 = p.zero;
    var g5 = p.zero;
    for (var i = 0u; i < 5u; i++) {
        for (var j = 0u; j < 5u; j++) {
            let ok = tap_ok(s, i, j);
            let at = dy_at(s, i, j, ok);
            let d0 = dy[at];
            let d1 = dy[at + 1u * plane];
            let d2 = dy[at + 2u * plane];
            let d3 = dy[at + 3u * plane];
            let d4 = dy[at + 4u * plane];
            let d5 = dy[at + 5u * plane];
            let d6 = dy[at + 6u * plane];
            let d7 = dy[at + 7u * plane];
            let d8 = dy[at + 8u * plane];
            let d9 = dy[at + 9u * plane];
            let d10 = dy[at + 10u * plane];
            let d11 = dy[at + 11u * plane];
            let d12 = dy[at + 12u * plane];
            let d13 = dy[at + 13u * plane];
            let d14 = dy[at + 14u * plane];
            let d15 = dy[at + 15u * plane];
            let w0 = weights4(lane, i, j);
            let w1 = weights4(lane + 8u, i, j);
            let w2 = weights4(lane + 16u, i, j);
            var a0 = p.zero;
            let x0_0 = subgroupBroadcast(w0, 0u);
            a0 += x0_0.x * d0 + x0_0.y * d1 + x0_0.z * d2 + x0_0.w * d3;
            let x0_1 = subgroupBroadcast(w0, 1u);
            a0 += x0_1.x * d4 + x0_1.y * d5 + x0_1.z * d6 + x0_1.w * d7;
            let x0_2 = subgroupBroadcast(w0, 2u);
            a0 += x0_2.x * d8 + x0_2.y * d9 + x0_2.z * d10 + x0_2.w * d11;
            let x0_3 = subgroupBroadcast(w0, 3u);
            a0 += x0_3.x * d12 + x0_3.y * d13 + x0_3.z * d14 + x0_3.w * d15;
            g0 = select(g0, g0 + a0, ok);
            var a1 = p.zero;
            let x1_0 = subgroupBroadcast(w0, 4u);
            a1 += x1_0.x * d0 + x1_0.y * d1 + x1_0.z * d2 + x1_0.w * d3;
            let x1_1 = subgroupBroadcast(w0, 5u);
            a1 += x1_1.x * d4 + x1_1.y * d5 + x1_1.z * d6 + x1_1.w * d7;
            let x1_2 = subgroupBroadcast(w0, 6u);
            a1 += x1_2.x * d8 + x1_2.y * d9 + x1_2.z * d10 + x1_2.w * d11;
            let x1_3 = subgroupBroadcast(w0, 7u);
            a1 += x1_3.x * d12 + x1_3.y * d13 + x1_3.z * d14 + x1_3.w * d15;
            g1 = select(g1, g1 + a1, ok);
            var a2 = p.zero;
            let x2_0 = subgroupBroadcast(w1, 0u);
            a2 += x2_0.x * d0 + x2_0.y * d1 + x2_0.z * d2 + x2_0.w * d3;
            let x2_1 = subgroupBroadcast(w1, 1u);
            a2 += x2_1.x * d4 + x2_1.y * d5 + x2_1.z * d6 + x2_1.w * d7;
            let x2_2 = subgroupBroadcast(w1, 2u);
            a2 += x2_2.x * d8 + x2_2.y * d9 + x2_2.z * d10 + x2_2.w * d11;
            let x2_3 = subgroupBroadcast(w1, 3u);
            a2 += x2_3.x * d12 + x2_3.y * d13 + x2_3.z * d14 + x2_3.w * d15;
            g2 = select(g2, g2 + a2, ok);
            var a3 = p.zero;
            let x3_0 = subgroupBroadcast(w1, 4u);
            a3 += x3_0.x * d0 + x3_0.y * d1 + x3_0.z * d2 + x3_0.w * d3;
            let x3_1 = subgroupBroadcast(w1, 5u);
            a3 += x3_1.x * d4 + x3_1.y * d5 + x3_1.z * d6 + x3_1.w * d7;
            let x3_2 = subgroupBroadcast(w1, 6u);
            a3 += x3_2.x * d8 + x3_2.y * d9 + x3_2.z * d10 + x3_2.w * d11;
            let x3_3 = subgroupBroadcast(w1, 7u);
            a3 += x3_3.x * d12 + x3_3.y * d13 + x3_3.z * d14 + x3_3.w * d15;
            g3 = select(g3, g3 + a3, ok);
            var a4 = p.zero;
            let x4_0 = subgroupBroadcast(w2, 0u);
            a4 += x4_0.x * d0 + x4_0.y * d1 + x4_0.z * d2 + x4_0.w * d3;
            let x4_1 = subgroupBroadcast(w2, 1u);
            a4 += x4_1.x * d4 + x4_1.y * d5 + x4_1.z * d6 + x4_1.w * d7;
            let x4_2 = subgroupBroadcast(w2, 2u);
            a4 += x4_2.x * d8 + x4_2.y * d9 + x4_2.z * d10 + x4_2.w * d11;
            let x4_3 = subgroupBroadcast(w2, 3u);
            a4 += x4_3.x * d12 + x4_3.y * d13 + x4_3.z * d14 + x4_3.w * d15;
            g4 = select(g4, g4 + a4, ok);
            var a5 = p.zero;
            let x5_0 = subgroupBroadcast(w2, 4u);
            a5 += x5_0.x * d0 + x5_0.y * d1 + x5_0.z * d2 + x5_0.w * d3;
            let x5_1 = subgroupBroadcast(w2, 5u);
            a5 += x5_1.x * d4 + x5_1.y * d5 + x5_1.z * d6 + x5_1.w * d7;
            let x5_2 = subgroupBroadcast(w2, 6u);
            a5 += x5_2.x * d8 + x5_2.y * d9 + x5_2.z * d10 + x5_2.w * d11;
            let x5_3 = subgroupBroadcast(w2, 7u);
            a5 += x5_3.x * d12 + x5_3.y * d13 + x5_3.z * d14 + x5_3.w * d15;
            g5 = select(g5, g5 + a5, ok);
        }
    }
    store(s, 0u, g0);
    store(s, 1u, g1);
    store(s, 2u, g2);
    store(s, 3u, g3);
    store(s, 4u, g4);
    store(s, 5u, g5);
}
// end unrolled
