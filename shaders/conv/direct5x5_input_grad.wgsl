// dX of LeNet's second convolution (5×5, stride 1, no padding, 6 channels in, 16 out, on
// 14×14 inputs) on 8-lane subgroups, without the `dcol` matrix: it computes what
// `dcol = Wᵀ·dY` (matmul's mm_sg8) and `col2im` (conv/im2col.wgsl) compute, bit for bit,
// so that runs begun on those go on under it with the same records.
//
// Each lane owns four neighbouring dX pixels of one row (a quad) and all their channels;
// the 8 lanes of a subgroup are two images' four quads of the same row y, so whether
// kernel row i reads an output row (0 ≤ y − i < out_h) is the same for every lane and a
// row that does not exist is skipped, as col2im skips it. For each kernel row the lane
// loads two vec4s of every output channel's dY row (`pad_dy` has laid the rows out with
// four zeros on the left and zeros past the right edge), from which the five taps' windows
// are picked. Each tap's dcol value is summed as mm_sg8 sums it: over the output channels
// in chunks of four, `acc += x.x·d0 + x.y·d1 + x.z·d2 + x.w·d3` from a zero, the chunk's
// weights (`pack_weights`) broadcast from the lane that loaded them; then added to the
// quad's sum in col2im's order (kernel rows, then columns). A tap whose output column
// falls off the edge reads padding zeros and adds +0 exactly, which leaves col2im's sum
// as it is (that sum is never −0: it starts from +0, and dcol values are never −0).
// The entry is generated (tests/suite/unrolled.rs).

struct Params {
    // dX's channels and size
    channels: u32,
    height: u32,
    width: u32,
    out_channels: u32,
    out_h: u32,
    out_w: u32,
    batch: u32,
    accumulate: u32,
    // 0.0, read at run time: the sums start from a zero the compiler cannot fold away, as
    // the matmul's and col2im's loops do.
    zero: f32,
    // vec4s per padded dY row, and per kernel row of the packed weights
    prow: u32,
    wrow: u32,
    // invocations of pad_dy and pack_weights
    len: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
// `[out, channels, 5, 5]`
@group(0) @binding(1) var<storage, read> w: array<f32>;
// `[batch, out, out_h, out_w]`
@group(0) @binding(2) var<storage, read> dy: array<f32>;
// dY's rows padded: `[batch, out, out_h, prow]` vec4s, column ox at 4 + ox.
@group(0) @binding(3) var<storage, read_write> padded_out: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> padded: array<vec4<f32>>;
// The weights as the broadcasts read them: `[5, wrow]` vec4s, element (c·5 + j)·4 + k of
// kernel row i holding W[4k .. 4k+3, c, i, j].
@group(0) @binding(5) var<storage, read_write> packed_out: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> packed: array<vec4<f32>>;
// `[batch, channels, height, width]`
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn pad_dy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let n = index(gid, nwg);
    if (n >= p.len) {
        return;
    }
    let row = n / p.prow;
    let x0 = 4u * (n - row * p.prow);
    let base = row * p.out_w;
    var v = vec4(0.0);
    for (var e = 0u; e < 4u; e++) {
        // Column ox = x0 + e − 4.
        if (x0 + e >= 4u && x0 + e - 4u < p.out_w) {
            v[e] = dy[base + x0 + e - 4u];
        }
    }
    padded_out[n] = v;
}

@compute @workgroup_size(64)
fn pack_weights(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let n = index(gid, nwg);
    if (n >= p.len) {
        return;
    }
    let i = n / p.wrow;
    let v = n - i * p.wrow;
    var x = vec4(0.0);
    if (v < 20u * p.channels) {
        let c = v / 20u;
        let j = v / 4u % 5u;
        let k = v % 4u;
        let step = p.channels * 25u;
        let at = (4u * k * p.channels + c) * 25u + i * 5u + j;
        x = vec4(w[at], w[at + step], w[at + 2u * step], w[at + 3u * step]);
    }
    packed_out[n] = x;
}

// Four neighbouring dX pixels (y, x .. x+3) of image b; not valid past the batch (loads
// then read image 0, stores are dropped).
struct Quad {
    b: u32,
    y: u32,
    x: u32,
    valid: bool,
}

fn quad(pair: u32, y: u32, lane: u32) -> Quad {
    let b = 2u * pair + lane / 4u;
    let valid = b < p.batch;
    return Quad(select(0u, b, valid), y, 4u * (lane % 4u), valid);
}

// Whether kernel row i reads an output row: the same for the whole subgroup.
fn row_exists(s: Quad, i: u32) -> bool {
    return i <= s.y && s.y - i < p.out_h;
}

// The padded dY vec4 under the quad in output row y − i of output channel 0.
fn row_at(s: Quad, i: u32) -> u32 {
    return (s.b * p.out_channels * p.out_h + s.y - i) * p.prow + s.x / 4u;
}

// col2im's epilogue for the quad's pixels inside the image: dX (+)= the sum.
fn store(s: Quad, c: u32, g: vec4<f32>) {
    if (!s.valid) {
        return;
    }
    let at = ((s.b * p.channels + c) * p.height + s.y) * p.width + s.x;
    for (var e = 0u; e < 4u; e++) {
        if (s.x + e < p.width) {
            var v = g[e];
            if (p.accumulate != 0u) {
                v += dx[at + e];
            }
            dx[at + e] = v;
        }
    }
}

// unrolled: direct5x5_input_grad input_grad5x5_c6_o16 6 16
@compute @workgroup_size(8)
fn input_grad5x5_c6_o16(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    let s = quad(wg.x, wg.y, lane);
    let zero4 = vec4(p.zero);
    let ostride = p.out_h * p.prow;
    var g0 = zero4;
    var g1 = zero4;
    var g2 = zero4;
    var g3 = zero4;
    var g4 = zero4;
    var g5 = zero4;
    if (row_exists(s, 0u)) {
        let r = row_at(s, 0u);
        let lo0 = padded[r];
        let hi0 = padded[r + 1u];
        let lo1 = padded[r + 1u * ostride];
        let hi1 = padded[r + 1u * ostride + 1u];
        let lo2 = padded[r + 2u * ostride];
        let hi2 = padded[r + 2u * ostride + 1u];
        let lo3 = padded[r + 3u * ostride];
        let hi3 = padded[r + 3u * ostride + 1u];
        let lo4 = padded[r + 4u * ostride];
        let hi4 = padded[r + 4u * ostride + 1u];
        let lo5 = padded[r + 5u * ostride];
        let hi5 = padded[r + 5u * ostride + 1u];
        let lo6 = padded[r + 6u * ostride];
        let hi6 = padded[r + 6u * ostride + 1u];
        let lo7 = padded[r + 7u * ostride];
        let hi7 = padded[r + 7u * ostride + 1u];
        let lo8 = padded[r + 8u * ostride];
        let hi8 = padded[r + 8u * ostride + 1u];
        let lo9 = padded[r + 9u * ostride];
        let hi9 = padded[r + 9u * ostride + 1u];
        let lo10 = padded[r + 10u * ostride];
        let hi10 = padded[r + 10u * ostride + 1u];
        let lo11 = padded[r + 11u * ostride];
        let hi11 = padded[r + 11u * ostride + 1u];
        let lo12 = padded[r + 12u * ostride];
        let hi12 = padded[r + 12u * ostride + 1u];
        let lo13 = padded[r + 13u * ostride];
        let hi13 = padded[r + 13u * ostride + 1u];
        let lo14 = padded[r + 14u * ostride];
        let hi14 = padded[r + 14u * ostride + 1u];
        let lo15 = padded[r + 15u * ostride];
        let hi15 = padded[r + 15u * ostride + 1u];
        let w0 = packed[0u * p.wrow + 0u + lane];
        let w1 = packed[0u * p.wrow + 8u + lane];
        let w2 = packed[0u * p.wrow + 16u + lane];
        let w3 = packed[0u * p.wrow + 24u + lane];
        let w4 = packed[0u * p.wrow + 32u + lane];
        let w5 = packed[0u * p.wrow + 40u + lane];
        let w6 = packed[0u * p.wrow + 48u + lane];
        let w7 = packed[0u * p.wrow + 56u + lane];
        let w8 = packed[0u * p.wrow + 64u + lane];
        let w9 = packed[0u * p.wrow + 72u + lane];
        let w10 = packed[0u * p.wrow + 80u + lane];
        let w11 = packed[0u * p.wrow + 88u + lane];
        let w12 = packed[0u * p.wrow + 96u + lane];
        let w13 = packed[0u * p.wrow + 104u + lane];
        let w14 = packed[0u * p.wrow + 112u + lane];
        let d0_0 = vec4(hi0.x, hi0.y, hi0.z, hi0.w);
        let d0_1 = vec4(hi1.x, hi1.y, hi1.z, hi1.w);
        let d0_2 = vec4(hi2.x, hi2.y, hi2.z, hi2.w);
        let d0_3 = vec4(hi3.x, hi3.y, hi3.z, hi3.w);
        let d0_4 = vec4(hi4.x, hi4.y, hi4.z, hi4.w);
        let d0_5 = vec4(hi5.x, hi5.y, hi5.z, hi5.w);
        let d0_6 = vec4(hi6.x, hi6.y, hi6.z, hi6.w);
        let d0_7 = vec4(hi7.x, hi7.y, hi7.z, hi7.w);
        let d0_8 = vec4(hi8.x, hi8.y, hi8.z, hi8.w);
        let d0_9 = vec4(hi9.x, hi9.y, hi9.z, hi9.w);
        let d0_10 = vec4(hi10.x, hi10.y, hi10.z, hi10.w);
        let d0_11 = vec4(hi11.x, hi11.y, hi11.z, hi11.w);
        let d0_12 = vec4(hi12.x, hi12.y, hi12.z, hi12.w);
        let d0_13 = vec4(hi13.x, hi13.y, hi13.z, hi13.w);
        let d0_14 = vec4(hi14.x, hi14.y, hi14.z, hi14.w);
        let d0_15 = vec4(hi15.x, hi15.y, hi15.z, hi15.w);
        let d1_0 = vec4(lo0.w, hi0.x, hi0.y, hi0.z);
        let d1_1 = vec4(lo1.w, hi1.x, hi1.y, hi1.z);
        let d1_2 = vec4(lo2.w, hi2.x, hi2.y, hi2.z);
        let d1_3 = vec4(lo3.w, hi3.x, hi3.y, hi3.z);
        let d1_4 = vec4(lo4.w, hi4.x, hi4.y, hi4.z);
        let d1_5 = vec4(lo5.w, hi5.x, hi5.y, hi5.z);
        let d1_6 = vec4(lo6.w, hi6.x, hi6.y, hi6.z);
        let d1_7 = vec4(lo7.w, hi7.x, hi7.y, hi7.z);
        let d1_8 = vec4(lo8.w, hi8.x, hi8.y, hi8.z);
        let d1_9 = vec4(lo9.w, hi9.x, hi9.y, hi9.z);
        let d1_10 = vec4(lo10.w, hi10.x, hi10.y, hi10.z);
        let d1_11 = vec4(lo11.w, hi11.x, hi11.y, hi11.z);
        let d1_12 = vec4(lo12.w, hi12.x, hi12.y, hi12.z);
        let d1_13 = vec4(lo13.w, hi13.x, hi13.y, hi13.z);
        let d1_14 = vec4(lo14.w, hi14.x, hi14.y, hi14.z);
        let d1_15 = vec4(lo15.w, hi15.x, hi15.y, hi15.z);
        let d2_0 = vec4(lo0.z, lo0.w, hi0.x, hi0.y);
        let d2_1 = vec4(lo1.z, lo1.w, hi1.x, hi1.y);
        let d2_2 = vec4(lo2.z, lo2.w, hi2.x, hi2.y);
        let d2_3 = vec4(lo3.z, lo3.w, hi3.x, hi3.y);
        let d2_4 = vec4(lo4.z, lo4.w, hi4.x, hi4.y);
        let d2_5 = vec4(lo5.z, lo5.w, hi5.x, hi5.y);
        let d2_6 = vec4(lo6.z, lo6.w, hi6.x, hi6.y);
        let d2_7 = vec4(lo7.z, lo7.w, hi7.x, hi7.y);
        let d2_8 = vec4(lo8.z, lo8.w, hi8.x, hi8.y);
        let d2_9 = vec4(lo9.z, lo9.w, hi9.x, hi9.y);
        let d2_10 = vec4(lo10.z, lo10.w, hi10.x, hi10.y);
        let d2_11 = vec4(lo11.z, lo11.w, hi11.x, hi11.y);
        let d2_12 = vec4(lo12.z, lo12.w, hi12.x, hi12.y);
        let d2_13 = vec4(lo13.z, lo13.w, hi13.x, hi13.y);
        let d2_14 = vec4(lo14.z, lo14.w, hi14.x, hi14.y);
        let d2_15 = vec4(lo15.z, lo15.w, hi15.x, hi15.y);
        let d3_0 = vec4(lo0.y, lo0.z, lo0.w, hi0.x);
        let d3_1 = vec4(lo1.y, lo1.z, lo1.w, hi1.x);
        let d3_2 = vec4(lo2.y, lo2.z, lo2.w, hi2.x);
        let d3_3 = vec4(lo3.y, lo3.z, lo3.w, hi3.x);
        let d3_4 = vec4(lo4.y, lo4.z, lo4.w, hi4.x);
        let d3_5 = vec4(lo5.y, lo5.z, lo5.w, hi5.x);
        let d3_6 = vec4(lo6.y, lo6.z, lo6.w, hi6.x);
        let d3_7 = vec4(lo7.y, lo7.z, lo7.w, hi7.x);
        let d3_8 = vec4(lo8.y, lo8.z, lo8.w, hi8.x);
        let d3_9 = vec4(lo9.y, lo9.z, lo9.w, hi9.x);
        let d3_10 = vec4(lo10.y, lo10.z, lo10.w, hi10.x);
        let d3_11 = vec4(lo11.y, lo11.z, lo11.w, hi11.x);
        let d3_12 = vec4(lo12.y, lo12.z, lo12.w, hi12.x);
        let d3_13 = vec4(lo13.y, lo13.z, lo13.w, hi13.x);
        let d3_14 = vec4(lo14.y, lo14.z, lo14.w, hi14.x);
        let d3_15 = vec4(lo15.y, lo15.z, lo15.w, hi15.x);
        let d4_0 = vec4(lo0.x, lo0.y, lo0.z, lo0.w);
        let d4_1 = vec4(lo1.x, lo1.y, lo1.z, lo1.w);
        let d4_2 = vec4(lo2.x, lo2.y, lo2.z, lo2.w);
        let d4_3 = vec4(lo3.x, lo3.y, lo3.z, lo3.w);
        let d4_4 = vec4(lo4.x, lo4.y, lo4.z, lo4.w);
        let d4_5 = vec4(lo5.x, lo5.y, lo5.z, lo5.w);
        let d4_6 = vec4(lo6.x, lo6.y, lo6.z, lo6.w);
        let d4_7 = vec4(lo7.x, lo7.y, lo7.z, lo7.w);
        let d4_8 = vec4(lo8.x, lo8.y, lo8.z, lo8.w);
        let d4_9 = vec4(lo9.x, lo9.y, lo9.z, lo9.w);
        let d4_10 = vec4(lo10.x, lo10.y, lo10.z, lo10.w);
        let d4_11 = vec4(lo11.x, lo11.y, lo11.z, lo11.w);
        let d4_12 = vec4(lo12.x, lo12.y, lo12.z, lo12.w);
        let d4_13 = vec4(lo13.x, lo13.y, lo13.z, lo13.w);
        let d4_14 = vec4(lo14.x, lo14.y, lo14.z, lo14.w);
        let d4_15 = vec4(lo15.x, lo15.y, lo15.z, lo15.w);
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w0, 0u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w0, 1u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w0, 2u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w0, 3u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w0, 4u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w0, 5u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w0, 6u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w0, 7u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w1, 0u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w1, 1u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w1, 2u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w1, 3u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w1, 4u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w1, 5u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w1, 6u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w1, 7u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w2, 0u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w2, 1u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w2, 2u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w2, 3u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w2, 4u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w2, 5u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w2, 6u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w2, 7u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w3, 0u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w3, 1u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w3, 2u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w3, 3u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w3, 4u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w3, 5u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w3, 6u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w3, 7u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w4, 0u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w4, 1u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w4, 2u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w4, 3u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w4, 4u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w4, 5u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w4, 6u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w4, 7u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w5, 0u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w5, 1u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w5, 2u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w5, 3u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w5, 4u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w5, 5u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w5, 6u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w5, 7u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w6, 0u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w6, 1u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w6, 2u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w6, 3u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w6, 4u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w6, 5u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w6, 6u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w6, 7u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w7, 0u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w7, 1u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w7, 2u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w7, 3u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w7, 4u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w7, 5u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w7, 6u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w7, 7u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w8, 0u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w8, 1u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w8, 2u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w8, 3u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w8, 4u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w8, 5u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w8, 6u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w8, 7u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w9, 0u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w9, 1u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w9, 2u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w9, 3u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w9, 4u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w9, 5u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w9, 6u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w9, 7u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w10, 0u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w10, 1u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w10, 2u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w10, 3u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w10, 4u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w10, 5u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w10, 6u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w10, 7u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w11, 0u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w11, 1u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w11, 2u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w11, 3u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w11, 4u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w11, 5u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w11, 6u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w11, 7u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w12, 0u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w12, 1u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w12, 2u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w12, 3u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w12, 4u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w12, 5u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w12, 6u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w12, 7u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w13, 0u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w13, 1u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w13, 2u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w13, 3u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w13, 4u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w13, 5u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w13, 6u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w13, 7u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w14, 0u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w14, 1u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w14, 2u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w14, 3u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w14, 4u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w14, 5u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w14, 6u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w14, 7u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g5 += a;
        }
    }
    if (row_exists(s, 1u)) {
        let r = row_at(s, 1u);
        let lo0 = padded[r];
        let hi0 = padded[r + 1u];
        let lo1 = padded[r + 1u * ostride];
        let hi1 = padded[r + 1u * ostride + 1u];
        let lo2 = padded[r + 2u * ostride];
        let hi2 = padded[r + 2u * ostride + 1u];
        let lo3 = padded[r + 3u * ostride];
        let hi3 = padded[r + 3u * ostride + 1u];
        let lo4 = padded[r + 4u * ostride];
        let hi4 = padded[r + 4u * ostride + 1u];
        let lo5 = padded[r + 5u * ostride];
        let hi5 = padded[r + 5u * ostride + 1u];
        let lo6 = padded[r + 6u * ostride];
        let hi6 = padded[r + 6u * ostride + 1u];
        let lo7 = padded[r + 7u * ostride];
        let hi7 = padded[r + 7u * ostride + 1u];
        let lo8 = padded[r + 8u * ostride];
        let hi8 = padded[r + 8u * ostride + 1u];
        let lo9 = padded[r + 9u * ostride];
        let hi9 = padded[r + 9u * ostride + 1u];
        let lo10 = padded[r + 10u * ostride];
        let hi10 = padded[r + 10u * ostride + 1u];
        let lo11 = padded[r + 11u * ostride];
        let hi11 = padded[r + 11u * ostride + 1u];
        let lo12 = padded[r + 12u * ostride];
        let hi12 = padded[r + 12u * ostride + 1u];
        let lo13 = padded[r + 13u * ostride];
        let hi13 = padded[r + 13u * ostride + 1u];
        let lo14 = padded[r + 14u * ostride];
        let hi14 = padded[r + 14u * ostride + 1u];
        let lo15 = padded[r + 15u * ostride];
        let hi15 = padded[r + 15u * ostride + 1u];
        let w0 = packed[1u * p.wrow + 0u + lane];
        let w1 = packed[1u * p.wrow + 8u + lane];
        let w2 = packed[1u * p.wrow + 16u + lane];
        let w3 = packed[1u * p.wrow + 24u + lane];
        let w4 = packed[1u * p.wrow + 32u + lane];
        let w5 = packed[1u * p.wrow + 40u + lane];
        let w6 = packed[1u * p.wrow + 48u + lane];
        let w7 = packed[1u * p.wrow + 56u + lane];
        let w8 = packed[1u * p.wrow + 64u + lane];
        let w9 = packed[1u * p.wrow + 72u + lane];
        let w10 = packed[1u * p.wrow + 80u + lane];
        let w11 = packed[1u * p.wrow + 88u + lane];
        let w12 = packed[1u * p.wrow + 96u + lane];
        let w13 = packed[1u * p.wrow + 104u + lane];
        let w14 = packed[1u * p.wrow + 112u + lane];
        let d0_0 = vec4(hi0.x, hi0.y, hi0.z, hi0.w);
        let d0_1 = vec4(hi1.x, hi1.y, hi1.z, hi1.w);
        let d0_2 = vec4(hi2.x, hi2.y, hi2.z, hi2.w);
        let d0_3 = vec4(hi3.x, hi3.y, hi3.z, hi3.w);
        let d0_4 = vec4(hi4.x, hi4.y, hi4.z, hi4.w);
        let d0_5 = vec4(hi5.x, hi5.y, hi5.z, hi5.w);
        let d0_6 = vec4(hi6.x, hi6.y, hi6.z, hi6.w);
        let d0_7 = vec4(hi7.x, hi7.y, hi7.z, hi7.w);
        let d0_8 = vec4(hi8.x, hi8.y, hi8.z, hi8.w);
        let d0_9 = vec4(hi9.x, hi9.y, hi9.z, hi9.w);
        let d0_10 = vec4(hi10.x, hi10.y, hi10.z, hi10.w);
        let d0_11 = vec4(hi11.x, hi11.y, hi11.z, hi11.w);
        let d0_12 = vec4(hi12.x, hi12.y, hi12.z, hi12.w);
        let d0_13 = vec4(hi13.x, hi13.y, hi13.z, hi13.w);
        let d0_14 = vec4(hi14.x, hi14.y, hi14.z, hi14.w);
        let d0_15 = vec4(hi15.x, hi15.y, hi15.z, hi15.w);
        let d1_0 = vec4(lo0.w, hi0.x, hi0.y, hi0.z);
        let d1_1 = vec4(lo1.w, hi1.x, hi1.y, hi1.z);
        let d1_2 = vec4(lo2.w, hi2.x, hi2.y, hi2.z);
        let d1_3 = vec4(lo3.w, hi3.x, hi3.y, hi3.z);
        let d1_4 = vec4(lo4.w, hi4.x, hi4.y, hi4.z);
        let d1_5 = vec4(lo5.w, hi5.x, hi5.y, hi5.z);
        let d1_6 = vec4(lo6.w, hi6.x, hi6.y, hi6.z);
        let d1_7 = vec4(lo7.w, hi7.x, hi7.y, hi7.z);
        let d1_8 = vec4(lo8.w, hi8.x, hi8.y, hi8.z);
        let d1_9 = vec4(lo9.w, hi9.x, hi9.y, hi9.z);
        let d1_10 = vec4(lo10.w, hi10.x, hi10.y, hi10.z);
        let d1_11 = vec4(lo11.w, hi11.x, hi11.y, hi11.z);
        let d1_12 = vec4(lo12.w, hi12.x, hi12.y, hi12.z);
        let d1_13 = vec4(lo13.w, hi13.x, hi13.y, hi13.z);
        let d1_14 = vec4(lo14.w, hi14.x, hi14.y, hi14.z);
        let d1_15 = vec4(lo15.w, hi15.x, hi15.y, hi15.z);
        let d2_0 = vec4(lo0.z, lo0.w, hi0.x, hi0.y);
        let d2_1 = vec4(lo1.z, lo1.w, hi1.x, hi1.y);
        let d2_2 = vec4(lo2.z, lo2.w, hi2.x, hi2.y);
        let d2_3 = vec4(lo3.z, lo3.w, hi3.x, hi3.y);
        let d2_4 = vec4(lo4.z, lo4.w, hi4.x, hi4.y);
        let d2_5 = vec4(lo5.z, lo5.w, hi5.x, hi5.y);
        let d2_6 = vec4(lo6.z, lo6.w, hi6.x, hi6.y);
        let d2_7 = vec4(lo7.z, lo7.w, hi7.x, hi7.y);
        let d2_8 = vec4(lo8.z, lo8.w, hi8.x, hi8.y);
        let d2_9 = vec4(lo9.z, lo9.w, hi9.x, hi9.y);
        let d2_10 = vec4(lo10.z, lo10.w, hi10.x, hi10.y);
        let d2_11 = vec4(lo11.z, lo11.w, hi11.x, hi11.y);
        let d2_12 = vec4(lo12.z, lo12.w, hi12.x, hi12.y);
        let d2_13 = vec4(lo13.z, lo13.w, hi13.x, hi13.y);
        let d2_14 = vec4(lo14.z, lo14.w, hi14.x, hi14.y);
        let d2_15 = vec4(lo15.z, lo15.w, hi15.x, hi15.y);
        let d3_0 = vec4(lo0.y, lo0.z, lo0.w, hi0.x);
        let d3_1 = vec4(lo1.y, lo1.z, lo1.w, hi1.x);
        let d3_2 = vec4(lo2.y, lo2.z, lo2.w, hi2.x);
        let d3_3 = vec4(lo3.y, lo3.z, lo3.w, hi3.x);
        let d3_4 = vec4(lo4.y, lo4.z, lo4.w, hi4.x);
        let d3_5 = vec4(lo5.y, lo5.z, lo5.w, hi5.x);
        let d3_6 = vec4(lo6.y, lo6.z, lo6.w, hi6.x);
        let d3_7 = vec4(lo7.y, lo7.z, lo7.w, hi7.x);
        let d3_8 = vec4(lo8.y, lo8.z, lo8.w, hi8.x);
        let d3_9 = vec4(lo9.y, lo9.z, lo9.w, hi9.x);
        let d3_10 = vec4(lo10.y, lo10.z, lo10.w, hi10.x);
        let d3_11 = vec4(lo11.y, lo11.z, lo11.w, hi11.x);
        let d3_12 = vec4(lo12.y, lo12.z, lo12.w, hi12.x);
        let d3_13 = vec4(lo13.y, lo13.z, lo13.w, hi13.x);
        let d3_14 = vec4(lo14.y, lo14.z, lo14.w, hi14.x);
        let d3_15 = vec4(lo15.y, lo15.z, lo15.w, hi15.x);
        let d4_0 = vec4(lo0.x, lo0.y, lo0.z, lo0.w);
        let d4_1 = vec4(lo1.x, lo1.y, lo1.z, lo1.w);
        let d4_2 = vec4(lo2.x, lo2.y, lo2.z, lo2.w);
        let d4_3 = vec4(lo3.x, lo3.y, lo3.z, lo3.w);
        let d4_4 = vec4(lo4.x, lo4.y, lo4.z, lo4.w);
        let d4_5 = vec4(lo5.x, lo5.y, lo5.z, lo5.w);
        let d4_6 = vec4(lo6.x, lo6.y, lo6.z, lo6.w);
        let d4_7 = vec4(lo7.x, lo7.y, lo7.z, lo7.w);
        let d4_8 = vec4(lo8.x, lo8.y, lo8.z, lo8.w);
        let d4_9 = vec4(lo9.x, lo9.y, lo9.z, lo9.w);
        let d4_10 = vec4(lo10.x, lo10.y, lo10.z, lo10.w);
        let d4_11 = vec4(lo11.x, lo11.y, lo11.z, lo11.w);
        let d4_12 = vec4(lo12.x, lo12.y, lo12.z, lo12.w);
        let d4_13 = vec4(lo13.x, lo13.y, lo13.z, lo13.w);
        let d4_14 = vec4(lo14.x, lo14.y, lo14.z, lo14.w);
        let d4_15 = vec4(lo15.x, lo15.y, lo15.z, lo15.w);
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w0, 0u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w0, 1u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w0, 2u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w0, 3u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w0, 4u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w0, 5u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w0, 6u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w0, 7u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w1, 0u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w1, 1u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w1, 2u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w1, 3u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w1, 4u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w1, 5u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w1, 6u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w1, 7u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w2, 0u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w2, 1u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w2, 2u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w2, 3u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w2, 4u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w2, 5u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w2, 6u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w2, 7u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w3, 0u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w3, 1u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w3, 2u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w3, 3u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w3, 4u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w3, 5u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w3, 6u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w3, 7u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w4, 0u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w4, 1u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w4, 2u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w4, 3u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w4, 4u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w4, 5u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w4, 6u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w4, 7u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w5, 0u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w5, 1u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w5, 2u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w5, 3u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w5, 4u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w5, 5u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w5, 6u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w5, 7u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w6, 0u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w6, 1u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w6, 2u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w6, 3u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w6, 4u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w6, 5u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w6, 6u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w6, 7u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w7, 0u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w7, 1u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w7, 2u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w7, 3u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w7, 4u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w7, 5u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w7, 6u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w7, 7u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w8, 0u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w8, 1u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w8, 2u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w8, 3u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w8, 4u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w8, 5u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w8, 6u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w8, 7u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w9, 0u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w9, 1u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w9, 2u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w9, 3u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w9, 4u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w9, 5u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w9, 6u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w9, 7u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w10, 0u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w10, 1u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w10, 2u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w10, 3u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w10, 4u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w10, 5u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w10, 6u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w10, 7u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w11, 0u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w11, 1u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w11, 2u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w11, 3u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w11, 4u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w11, 5u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w11, 6u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w11, 7u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w12, 0u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w12, 1u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w12, 2u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w12, 3u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w12, 4u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w12, 5u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w12, 6u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w12, 7u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w13, 0u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w13, 1u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w13, 2u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w13, 3u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w13, 4u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w13, 5u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w13, 6u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w13, 7u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w14, 0u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w14, 1u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w14, 2u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w14, 3u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w14, 4u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w14, 5u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w14, 6u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w14, 7u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g5 += a;
        }
    }
    if (row_exists(s, 2u)) {
        let r = row_at(s, 2u);
        let lo0 = padded[r];
        let hi0 = padded[r + 1u];
        let lo1 = padded[r + 1u * ostride];
        let hi1 = padded[r + 1u * ostride + 1u];
        let lo2 = padded[r + 2u * ostride];
        let hi2 = padded[r + 2u * ostride + 1u];
        let lo3 = padded[r + 3u * ostride];
        let hi3 = padded[r + 3u * ostride + 1u];
        let lo4 = padded[r + 4u * ostride];
        let hi4 = padded[r + 4u * ostride + 1u];
        let lo5 = padded[r + 5u * ostride];
        let hi5 = padded[r + 5u * ostride + 1u];
        let lo6 = padded[r + 6u * ostride];
        let hi6 = padded[r + 6u * ostride + 1u];
        let lo7 = padded[r + 7u * ostride];
        let hi7 = padded[r + 7u * ostride + 1u];
        let lo8 = padded[r + 8u * ostride];
        let hi8 = padded[r + 8u * ostride + 1u];
        let lo9 = padded[r + 9u * ostride];
        let hi9 = padded[r + 9u * ostride + 1u];
        let lo10 = padded[r + 10u * ostride];
        let hi10 = padded[r + 10u * ostride + 1u];
        let lo11 = padded[r + 11u * ostride];
        let hi11 = padded[r + 11u * ostride + 1u];
        let lo12 = padded[r + 12u * ostride];
        let hi12 = padded[r + 12u * ostride + 1u];
        let lo13 = padded[r + 13u * ostride];
        let hi13 = padded[r + 13u * ostride + 1u];
        let lo14 = padded[r + 14u * ostride];
        let hi14 = padded[r + 14u * ostride + 1u];
        let lo15 = padded[r + 15u * ostride];
        let hi15 = padded[r + 15u * ostride + 1u];
        let w0 = packed[2u * p.wrow + 0u + lane];
        let w1 = packed[2u * p.wrow + 8u + lane];
        let w2 = packed[2u * p.wrow + 16u + lane];
        let w3 = packed[2u * p.wrow + 24u + lane];
        let w4 = packed[2u * p.wrow + 32u + lane];
        let w5 = packed[2u * p.wrow + 40u + lane];
        let w6 = packed[2u * p.wrow + 48u + lane];
        let w7 = packed[2u * p.wrow + 56u + lane];
        let w8 = packed[2u * p.wrow + 64u + lane];
        let w9 = packed[2u * p.wrow + 72u + lane];
        let w10 = packed[2u * p.wrow + 80u + lane];
        let w11 = packed[2u * p.wrow + 88u + lane];
        let w12 = packed[2u * p.wrow + 96u + lane];
        let w13 = packed[2u * p.wrow + 104u + lane];
        let w14 = packed[2u * p.wrow + 112u + lane];
        let d0_0 = vec4(hi0.x, hi0.y, hi0.z, hi0.w);
        let d0_1 = vec4(hi1.x, hi1.y, hi1.z, hi1.w);
        let d0_2 = vec4(hi2.x, hi2.y, hi2.z, hi2.w);
        let d0_3 = vec4(hi3.x, hi3.y, hi3.z, hi3.w);
        let d0_4 = vec4(hi4.x, hi4.y, hi4.z, hi4.w);
        let d0_5 = vec4(hi5.x, hi5.y, hi5.z, hi5.w);
        let d0_6 = vec4(hi6.x, hi6.y, hi6.z, hi6.w);
        let d0_7 = vec4(hi7.x, hi7.y, hi7.z, hi7.w);
        let d0_8 = vec4(hi8.x, hi8.y, hi8.z, hi8.w);
        let d0_9 = vec4(hi9.x, hi9.y, hi9.z, hi9.w);
        let d0_10 = vec4(hi10.x, hi10.y, hi10.z, hi10.w);
        let d0_11 = vec4(hi11.x, hi11.y, hi11.z, hi11.w);
        let d0_12 = vec4(hi12.x, hi12.y, hi12.z, hi12.w);
        let d0_13 = vec4(hi13.x, hi13.y, hi13.z, hi13.w);
        let d0_14 = vec4(hi14.x, hi14.y, hi14.z, hi14.w);
        let d0_15 = vec4(hi15.x, hi15.y, hi15.z, hi15.w);
        let d1_0 = vec4(lo0.w, hi0.x, hi0.y, hi0.z);
        let d1_1 = vec4(lo1.w, hi1.x, hi1.y, hi1.z);
        let d1_2 = vec4(lo2.w, hi2.x, hi2.y, hi2.z);
        let d1_3 = vec4(lo3.w, hi3.x, hi3.y, hi3.z);
        let d1_4 = vec4(lo4.w, hi4.x, hi4.y, hi4.z);
        let d1_5 = vec4(lo5.w, hi5.x, hi5.y, hi5.z);
        let d1_6 = vec4(lo6.w, hi6.x, hi6.y, hi6.z);
        let d1_7 = vec4(lo7.w, hi7.x, hi7.y, hi7.z);
        let d1_8 = vec4(lo8.w, hi8.x, hi8.y, hi8.z);
        let d1_9 = vec4(lo9.w, hi9.x, hi9.y, hi9.z);
        let d1_10 = vec4(lo10.w, hi10.x, hi10.y, hi10.z);
        let d1_11 = vec4(lo11.w, hi11.x, hi11.y, hi11.z);
        let d1_12 = vec4(lo12.w, hi12.x, hi12.y, hi12.z);
        let d1_13 = vec4(lo13.w, hi13.x, hi13.y, hi13.z);
        let d1_14 = vec4(lo14.w, hi14.x, hi14.y, hi14.z);
        let d1_15 = vec4(lo15.w, hi15.x, hi15.y, hi15.z);
        let d2_0 = vec4(lo0.z, lo0.w, hi0.x, hi0.y);
        let d2_1 = vec4(lo1.z, lo1.w, hi1.x, hi1.y);
        let d2_2 = vec4(lo2.z, lo2.w, hi2.x, hi2.y);
        let d2_3 = vec4(lo3.z, lo3.w, hi3.x, hi3.y);
        let d2_4 = vec4(lo4.z, lo4.w, hi4.x, hi4.y);
        let d2_5 = vec4(lo5.z, lo5.w, hi5.x, hi5.y);
        let d2_6 = vec4(lo6.z, lo6.w, hi6.x, hi6.y);
        let d2_7 = vec4(lo7.z, lo7.w, hi7.x, hi7.y);
        let d2_8 = vec4(lo8.z, lo8.w, hi8.x, hi8.y);
        let d2_9 = vec4(lo9.z, lo9.w, hi9.x, hi9.y);
        let d2_10 = vec4(lo10.z, lo10.w, hi10.x, hi10.y);
        let d2_11 = vec4(lo11.z, lo11.w, hi11.x, hi11.y);
        let d2_12 = vec4(lo12.z, lo12.w, hi12.x, hi12.y);
        let d2_13 = vec4(lo13.z, lo13.w, hi13.x, hi13.y);
        let d2_14 = vec4(lo14.z, lo14.w, hi14.x, hi14.y);
        let d2_15 = vec4(lo15.z, lo15.w, hi15.x, hi15.y);
        let d3_0 = vec4(lo0.y, lo0.z, lo0.w, hi0.x);
        let d3_1 = vec4(lo1.y, lo1.z, lo1.w, hi1.x);
        let d3_2 = vec4(lo2.y, lo2.z, lo2.w, hi2.x);
        let d3_3 = vec4(lo3.y, lo3.z, lo3.w, hi3.x);
        let d3_4 = vec4(lo4.y, lo4.z, lo4.w, hi4.x);
        let d3_5 = vec4(lo5.y, lo5.z, lo5.w, hi5.x);
        let d3_6 = vec4(lo6.y, lo6.z, lo6.w, hi6.x);
        let d3_7 = vec4(lo7.y, lo7.z, lo7.w, hi7.x);
        let d3_8 = vec4(lo8.y, lo8.z, lo8.w, hi8.x);
        let d3_9 = vec4(lo9.y, lo9.z, lo9.w, hi9.x);
        let d3_10 = vec4(lo10.y, lo10.z, lo10.w, hi10.x);
        let d3_11 = vec4(lo11.y, lo11.z, lo11.w, hi11.x);
        let d3_12 = vec4(lo12.y, lo12.z, lo12.w, hi12.x);
        let d3_13 = vec4(lo13.y, lo13.z, lo13.w, hi13.x);
        let d3_14 = vec4(lo14.y, lo14.z, lo14.w, hi14.x);
        let d3_15 = vec4(lo15.y, lo15.z, lo15.w, hi15.x);
        let d4_0 = vec4(lo0.x, lo0.y, lo0.z, lo0.w);
        let d4_1 = vec4(lo1.x, lo1.y, lo1.z, lo1.w);
        let d4_2 = vec4(lo2.x, lo2.y, lo2.z, lo2.w);
        let d4_3 = vec4(lo3.x, lo3.y, lo3.z, lo3.w);
        let d4_4 = vec4(lo4.x, lo4.y, lo4.z, lo4.w);
        let d4_5 = vec4(lo5.x, lo5.y, lo5.z, lo5.w);
        let d4_6 = vec4(lo6.x, lo6.y, lo6.z, lo6.w);
        let d4_7 = vec4(lo7.x, lo7.y, lo7.z, lo7.w);
        let d4_8 = vec4(lo8.x, lo8.y, lo8.z, lo8.w);
        let d4_9 = vec4(lo9.x, lo9.y, lo9.z, lo9.w);
        let d4_10 = vec4(lo10.x, lo10.y, lo10.z, lo10.w);
        let d4_11 = vec4(lo11.x, lo11.y, lo11.z, lo11.w);
        let d4_12 = vec4(lo12.x, lo12.y, lo12.z, lo12.w);
        let d4_13 = vec4(lo13.x, lo13.y, lo13.z, lo13.w);
        let d4_14 = vec4(lo14.x, lo14.y, lo14.z, lo14.w);
        let d4_15 = vec4(lo15.x, lo15.y, lo15.z, lo15.w);
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w0, 0u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w0, 1u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w0, 2u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w0, 3u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w0, 4u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w0, 5u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w0, 6u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w0, 7u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w1, 0u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w1, 1u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w1, 2u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w1, 3u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w1, 4u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w1, 5u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w1, 6u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w1, 7u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w2, 0u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w2, 1u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w2, 2u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w2, 3u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w2, 4u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w2, 5u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w2, 6u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w2, 7u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w3, 0u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w3, 1u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w3, 2u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w3, 3u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w3, 4u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w3, 5u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w3, 6u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w3, 7u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w4, 0u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w4, 1u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w4, 2u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w4, 3u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w4, 4u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w4, 5u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w4, 6u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w4, 7u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w5, 0u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w5, 1u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w5, 2u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w5, 3u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w5, 4u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w5, 5u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w5, 6u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w5, 7u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w6, 0u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w6, 1u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w6, 2u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w6, 3u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w6, 4u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w6, 5u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w6, 6u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w6, 7u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w7, 0u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w7, 1u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w7, 2u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w7, 3u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w7, 4u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w7, 5u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w7, 6u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w7, 7u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w8, 0u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w8, 1u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w8, 2u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w8, 3u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w8, 4u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w8, 5u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w8, 6u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w8, 7u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w9, 0u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w9, 1u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w9, 2u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w9, 3u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w9, 4u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w9, 5u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w9, 6u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w9, 7u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w10, 0u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w10, 1u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w10, 2u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w10, 3u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w10, 4u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w10, 5u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w10, 6u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w10, 7u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w11, 0u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w11, 1u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w11, 2u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w11, 3u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w11, 4u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w11, 5u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w11, 6u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w11, 7u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w12, 0u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w12, 1u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w12, 2u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w12, 3u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w12, 4u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w12, 5u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w12, 6u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w12, 7u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w13, 0u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w13, 1u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w13, 2u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w13, 3u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w13, 4u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w13, 5u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w13, 6u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w13, 7u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w14, 0u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w14, 1u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w14, 2u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w14, 3u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w14, 4u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w14, 5u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w14, 6u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w14, 7u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g5 += a;
        }
    }
    if (row_exists(s, 3u)) {
        let r = row_at(s, 3u);
        let lo0 = padded[r];
        let hi0 = padded[r + 1u];
        let lo1 = padded[r + 1u * ostride];
        let hi1 = padded[r + 1u * ostride + 1u];
        let lo2 = padded[r + 2u * ostride];
        let hi2 = padded[r + 2u * ostride + 1u];
        let lo3 = padded[r + 3u * ostride];
        let hi3 = padded[r + 3u * ostride + 1u];
        let lo4 = padded[r + 4u * ostride];
        let hi4 = padded[r + 4u * ostride + 1u];
        let lo5 = padded[r + 5u * ostride];
        let hi5 = padded[r + 5u * ostride + 1u];
        let lo6 = padded[r + 6u * ostride];
        let hi6 = padded[r + 6u * ostride + 1u];
        let lo7 = padded[r + 7u * ostride];
        let hi7 = padded[r + 7u * ostride + 1u];
        let lo8 = padded[r + 8u * ostride];
        let hi8 = padded[r + 8u * ostride + 1u];
        let lo9 = padded[r + 9u * ostride];
        let hi9 = padded[r + 9u * ostride + 1u];
        let lo10 = padded[r + 10u * ostride];
        let hi10 = padded[r + 10u * ostride + 1u];
        let lo11 = padded[r + 11u * ostride];
        let hi11 = padded[r + 11u * ostride + 1u];
        let lo12 = padded[r + 12u * ostride];
        let hi12 = padded[r + 12u * ostride + 1u];
        let lo13 = padded[r + 13u * ostride];
        let hi13 = padded[r + 13u * ostride + 1u];
        let lo14 = padded[r + 14u * ostride];
        let hi14 = padded[r + 14u * ostride + 1u];
        let lo15 = padded[r + 15u * ostride];
        let hi15 = padded[r + 15u * ostride + 1u];
        let w0 = packed[3u * p.wrow + 0u + lane];
        let w1 = packed[3u * p.wrow + 8u + lane];
        let w2 = packed[3u * p.wrow + 16u + lane];
        let w3 = packed[3u * p.wrow + 24u + lane];
        let w4 = packed[3u * p.wrow + 32u + lane];
        let w5 = packed[3u * p.wrow + 40u + lane];
        let w6 = packed[3u * p.wrow + 48u + lane];
        let w7 = packed[3u * p.wrow + 56u + lane];
        let w8 = packed[3u * p.wrow + 64u + lane];
        let w9 = packed[3u * p.wrow + 72u + lane];
        let w10 = packed[3u * p.wrow + 80u + lane];
        let w11 = packed[3u * p.wrow + 88u + lane];
        let w12 = packed[3u * p.wrow + 96u + lane];
        let w13 = packed[3u * p.wrow + 104u + lane];
        let w14 = packed[3u * p.wrow + 112u + lane];
        let d0_0 = vec4(hi0.x, hi0.y, hi0.z, hi0.w);
        let d0_1 = vec4(hi1.x, hi1.y, hi1.z, hi1.w);
        let d0_2 = vec4(hi2.x, hi2.y, hi2.z, hi2.w);
        let d0_3 = vec4(hi3.x, hi3.y, hi3.z, hi3.w);
        let d0_4 = vec4(hi4.x, hi4.y, hi4.z, hi4.w);
        let d0_5 = vec4(hi5.x, hi5.y, hi5.z, hi5.w);
        let d0_6 = vec4(hi6.x, hi6.y, hi6.z, hi6.w);
        let d0_7 = vec4(hi7.x, hi7.y, hi7.z, hi7.w);
        let d0_8 = vec4(hi8.x, hi8.y, hi8.z, hi8.w);
        let d0_9 = vec4(hi9.x, hi9.y, hi9.z, hi9.w);
        let d0_10 = vec4(hi10.x, hi10.y, hi10.z, hi10.w);
        let d0_11 = vec4(hi11.x, hi11.y, hi11.z, hi11.w);
        let d0_12 = vec4(hi12.x, hi12.y, hi12.z, hi12.w);
        let d0_13 = vec4(hi13.x, hi13.y, hi13.z, hi13.w);
        let d0_14 = vec4(hi14.x, hi14.y, hi14.z, hi14.w);
        let d0_15 = vec4(hi15.x, hi15.y, hi15.z, hi15.w);
        let d1_0 = vec4(lo0.w, hi0.x, hi0.y, hi0.z);
        let d1_1 = vec4(lo1.w, hi1.x, hi1.y, hi1.z);
        let d1_2 = vec4(lo2.w, hi2.x, hi2.y, hi2.z);
        let d1_3 = vec4(lo3.w, hi3.x, hi3.y, hi3.z);
        let d1_4 = vec4(lo4.w, hi4.x, hi4.y, hi4.z);
        let d1_5 = vec4(lo5.w, hi5.x, hi5.y, hi5.z);
        let d1_6 = vec4(lo6.w, hi6.x, hi6.y, hi6.z);
        let d1_7 = vec4(lo7.w, hi7.x, hi7.y, hi7.z);
        let d1_8 = vec4(lo8.w, hi8.x, hi8.y, hi8.z);
        let d1_9 = vec4(lo9.w, hi9.x, hi9.y, hi9.z);
        let d1_10 = vec4(lo10.w, hi10.x, hi10.y, hi10.z);
        let d1_11 = vec4(lo11.w, hi11.x, hi11.y, hi11.z);
        let d1_12 = vec4(lo12.w, hi12.x, hi12.y, hi12.z);
        let d1_13 = vec4(lo13.w, hi13.x, hi13.y, hi13.z);
        let d1_14 = vec4(lo14.w, hi14.x, hi14.y, hi14.z);
        let d1_15 = vec4(lo15.w, hi15.x, hi15.y, hi15.z);
        let d2_0 = vec4(lo0.z, lo0.w, hi0.x, hi0.y);
        let d2_1 = vec4(lo1.z, lo1.w, hi1.x, hi1.y);
        let d2_2 = vec4(lo2.z, lo2.w, hi2.x, hi2.y);
        let d2_3 = vec4(lo3.z, lo3.w, hi3.x, hi3.y);
        let d2_4 = vec4(lo4.z, lo4.w, hi4.x, hi4.y);
        let d2_5 = vec4(lo5.z, lo5.w, hi5.x, hi5.y);
        let d2_6 = vec4(lo6.z, lo6.w, hi6.x, hi6.y);
        let d2_7 = vec4(lo7.z, lo7.w, hi7.x, hi7.y);
        let d2_8 = vec4(lo8.z, lo8.w, hi8.x, hi8.y);
        let d2_9 = vec4(lo9.z, lo9.w, hi9.x, hi9.y);
        let d2_10 = vec4(lo10.z, lo10.w, hi10.x, hi10.y);
        let d2_11 = vec4(lo11.z, lo11.w, hi11.x, hi11.y);
        let d2_12 = vec4(lo12.z, lo12.w, hi12.x, hi12.y);
        let d2_13 = vec4(lo13.z, lo13.w, hi13.x, hi13.y);
        let d2_14 = vec4(lo14.z, lo14.w, hi14.x, hi14.y);
        let d2_15 = vec4(lo15.z, lo15.w, hi15.x, hi15.y);
        let d3_0 = vec4(lo0.y, lo0.z, lo0.w, hi0.x);
        let d3_1 = vec4(lo1.y, lo1.z, lo1.w, hi1.x);
        let d3_2 = vec4(lo2.y, lo2.z, lo2.w, hi2.x);
        let d3_3 = vec4(lo3.y, lo3.z, lo3.w, hi3.x);
        let d3_4 = vec4(lo4.y, lo4.z, lo4.w, hi4.x);
        let d3_5 = vec4(lo5.y, lo5.z, lo5.w, hi5.x);
        let d3_6 = vec4(lo6.y, lo6.z, lo6.w, hi6.x);
        let d3_7 = vec4(lo7.y, lo7.z, lo7.w, hi7.x);
        let d3_8 = vec4(lo8.y, lo8.z, lo8.w, hi8.x);
        let d3_9 = vec4(lo9.y, lo9.z, lo9.w, hi9.x);
        let d3_10 = vec4(lo10.y, lo10.z, lo10.w, hi10.x);
        let d3_11 = vec4(lo11.y, lo11.z, lo11.w, hi11.x);
        let d3_12 = vec4(lo12.y, lo12.z, lo12.w, hi12.x);
        let d3_13 = vec4(lo13.y, lo13.z, lo13.w, hi13.x);
        let d3_14 = vec4(lo14.y, lo14.z, lo14.w, hi14.x);
        let d3_15 = vec4(lo15.y, lo15.z, lo15.w, hi15.x);
        let d4_0 = vec4(lo0.x, lo0.y, lo0.z, lo0.w);
        let d4_1 = vec4(lo1.x, lo1.y, lo1.z, lo1.w);
        let d4_2 = vec4(lo2.x, lo2.y, lo2.z, lo2.w);
        let d4_3 = vec4(lo3.x, lo3.y, lo3.z, lo3.w);
        let d4_4 = vec4(lo4.x, lo4.y, lo4.z, lo4.w);
        let d4_5 = vec4(lo5.x, lo5.y, lo5.z, lo5.w);
        let d4_6 = vec4(lo6.x, lo6.y, lo6.z, lo6.w);
        let d4_7 = vec4(lo7.x, lo7.y, lo7.z, lo7.w);
        let d4_8 = vec4(lo8.x, lo8.y, lo8.z, lo8.w);
        let d4_9 = vec4(lo9.x, lo9.y, lo9.z, lo9.w);
        let d4_10 = vec4(lo10.x, lo10.y, lo10.z, lo10.w);
        let d4_11 = vec4(lo11.x, lo11.y, lo11.z, lo11.w);
        let d4_12 = vec4(lo12.x, lo12.y, lo12.z, lo12.w);
        let d4_13 = vec4(lo13.x, lo13.y, lo13.z, lo13.w);
        let d4_14 = vec4(lo14.x, lo14.y, lo14.z, lo14.w);
        let d4_15 = vec4(lo15.x, lo15.y, lo15.z, lo15.w);
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w0, 0u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w0, 1u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w0, 2u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w0, 3u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w0, 4u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w0, 5u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w0, 6u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w0, 7u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w1, 0u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w1, 1u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w1, 2u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w1, 3u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w1, 4u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w1, 5u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w1, 6u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w1, 7u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w2, 0u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w2, 1u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w2, 2u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w2, 3u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w2, 4u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w2, 5u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w2, 6u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w2, 7u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w3, 0u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w3, 1u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w3, 2u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w3, 3u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w3, 4u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w3, 5u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w3, 6u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w3, 7u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w4, 0u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w4, 1u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w4, 2u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w4, 3u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w4, 4u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w4, 5u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w4, 6u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w4, 7u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w5, 0u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w5, 1u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w5, 2u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w5, 3u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w5, 4u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w5, 5u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w5, 6u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w5, 7u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w6, 0u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w6, 1u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w6, 2u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w6, 3u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w6, 4u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w6, 5u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w6, 6u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w6, 7u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w7, 0u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w7, 1u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w7, 2u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w7, 3u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w7, 4u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w7, 5u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w7, 6u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w7, 7u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w8, 0u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w8, 1u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w8, 2u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w8, 3u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w8, 4u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w8, 5u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w8, 6u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w8, 7u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w9, 0u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w9, 1u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w9, 2u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w9, 3u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w9, 4u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w9, 5u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w9, 6u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w9, 7u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w10, 0u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w10, 1u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w10, 2u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w10, 3u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w10, 4u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w10, 5u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w10, 6u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w10, 7u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w11, 0u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w11, 1u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w11, 2u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w11, 3u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w11, 4u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w11, 5u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w11, 6u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w11, 7u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w12, 0u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w12, 1u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w12, 2u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w12, 3u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w12, 4u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w12, 5u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w12, 6u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w12, 7u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w13, 0u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w13, 1u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w13, 2u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w13, 3u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w13, 4u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w13, 5u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w13, 6u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w13, 7u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w14, 0u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w14, 1u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w14, 2u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w14, 3u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w14, 4u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w14, 5u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w14, 6u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w14, 7u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g5 += a;
        }
    }
    if (row_exists(s, 4u)) {
        let r = row_at(s, 4u);
        let lo0 = padded[r];
        let hi0 = padded[r + 1u];
        let lo1 = padded[r + 1u * ostride];
        let hi1 = padded[r + 1u * ostride + 1u];
        let lo2 = padded[r + 2u * ostride];
        let hi2 = padded[r + 2u * ostride + 1u];
        let lo3 = padded[r + 3u * ostride];
        let hi3 = padded[r + 3u * ostride + 1u];
        let lo4 = padded[r + 4u * ostride];
        let hi4 = padded[r + 4u * ostride + 1u];
        let lo5 = padded[r + 5u * ostride];
        let hi5 = padded[r + 5u * ostride + 1u];
        let lo6 = padded[r + 6u * ostride];
        let hi6 = padded[r + 6u * ostride + 1u];
        let lo7 = padded[r + 7u * ostride];
        let hi7 = padded[r + 7u * ostride + 1u];
        let lo8 = padded[r + 8u * ostride];
        let hi8 = padded[r + 8u * ostride + 1u];
        let lo9 = padded[r + 9u * ostride];
        let hi9 = padded[r + 9u * ostride + 1u];
        let lo10 = padded[r + 10u * ostride];
        let hi10 = padded[r + 10u * ostride + 1u];
        let lo11 = padded[r + 11u * ostride];
        let hi11 = padded[r + 11u * ostride + 1u];
        let lo12 = padded[r + 12u * ostride];
        let hi12 = padded[r + 12u * ostride + 1u];
        let lo13 = padded[r + 13u * ostride];
        let hi13 = padded[r + 13u * ostride + 1u];
        let lo14 = padded[r + 14u * ostride];
        let hi14 = padded[r + 14u * ostride + 1u];
        let lo15 = padded[r + 15u * ostride];
        let hi15 = padded[r + 15u * ostride + 1u];
        let w0 = packed[4u * p.wrow + 0u + lane];
        let w1 = packed[4u * p.wrow + 8u + lane];
        let w2 = packed[4u * p.wrow + 16u + lane];
        let w3 = packed[4u * p.wrow + 24u + lane];
        let w4 = packed[4u * p.wrow + 32u + lane];
        let w5 = packed[4u * p.wrow + 40u + lane];
        let w6 = packed[4u * p.wrow + 48u + lane];
        let w7 = packed[4u * p.wrow + 56u + lane];
        let w8 = packed[4u * p.wrow + 64u + lane];
        let w9 = packed[4u * p.wrow + 72u + lane];
        let w10 = packed[4u * p.wrow + 80u + lane];
        let w11 = packed[4u * p.wrow + 88u + lane];
        let w12 = packed[4u * p.wrow + 96u + lane];
        let w13 = packed[4u * p.wrow + 104u + lane];
        let w14 = packed[4u * p.wrow + 112u + lane];
        let d0_0 = vec4(hi0.x, hi0.y, hi0.z, hi0.w);
        let d0_1 = vec4(hi1.x, hi1.y, hi1.z, hi1.w);
        let d0_2 = vec4(hi2.x, hi2.y, hi2.z, hi2.w);
        let d0_3 = vec4(hi3.x, hi3.y, hi3.z, hi3.w);
        let d0_4 = vec4(hi4.x, hi4.y, hi4.z, hi4.w);
        let d0_5 = vec4(hi5.x, hi5.y, hi5.z, hi5.w);
        let d0_6 = vec4(hi6.x, hi6.y, hi6.z, hi6.w);
        let d0_7 = vec4(hi7.x, hi7.y, hi7.z, hi7.w);
        let d0_8 = vec4(hi8.x, hi8.y, hi8.z, hi8.w);
        let d0_9 = vec4(hi9.x, hi9.y, hi9.z, hi9.w);
        let d0_10 = vec4(hi10.x, hi10.y, hi10.z, hi10.w);
        let d0_11 = vec4(hi11.x, hi11.y, hi11.z, hi11.w);
        let d0_12 = vec4(hi12.x, hi12.y, hi12.z, hi12.w);
        let d0_13 = vec4(hi13.x, hi13.y, hi13.z, hi13.w);
        let d0_14 = vec4(hi14.x, hi14.y, hi14.z, hi14.w);
        let d0_15 = vec4(hi15.x, hi15.y, hi15.z, hi15.w);
        let d1_0 = vec4(lo0.w, hi0.x, hi0.y, hi0.z);
        let d1_1 = vec4(lo1.w, hi1.x, hi1.y, hi1.z);
        let d1_2 = vec4(lo2.w, hi2.x, hi2.y, hi2.z);
        let d1_3 = vec4(lo3.w, hi3.x, hi3.y, hi3.z);
        let d1_4 = vec4(lo4.w, hi4.x, hi4.y, hi4.z);
        let d1_5 = vec4(lo5.w, hi5.x, hi5.y, hi5.z);
        let d1_6 = vec4(lo6.w, hi6.x, hi6.y, hi6.z);
        let d1_7 = vec4(lo7.w, hi7.x, hi7.y, hi7.z);
        let d1_8 = vec4(lo8.w, hi8.x, hi8.y, hi8.z);
        let d1_9 = vec4(lo9.w, hi9.x, hi9.y, hi9.z);
        let d1_10 = vec4(lo10.w, hi10.x, hi10.y, hi10.z);
        let d1_11 = vec4(lo11.w, hi11.x, hi11.y, hi11.z);
        let d1_12 = vec4(lo12.w, hi12.x, hi12.y, hi12.z);
        let d1_13 = vec4(lo13.w, hi13.x, hi13.y, hi13.z);
        let d1_14 = vec4(lo14.w, hi14.x, hi14.y, hi14.z);
        let d1_15 = vec4(lo15.w, hi15.x, hi15.y, hi15.z);
        let d2_0 = vec4(lo0.z, lo0.w, hi0.x, hi0.y);
        let d2_1 = vec4(lo1.z, lo1.w, hi1.x, hi1.y);
        let d2_2 = vec4(lo2.z, lo2.w, hi2.x, hi2.y);
        let d2_3 = vec4(lo3.z, lo3.w, hi3.x, hi3.y);
        let d2_4 = vec4(lo4.z, lo4.w, hi4.x, hi4.y);
        let d2_5 = vec4(lo5.z, lo5.w, hi5.x, hi5.y);
        let d2_6 = vec4(lo6.z, lo6.w, hi6.x, hi6.y);
        let d2_7 = vec4(lo7.z, lo7.w, hi7.x, hi7.y);
        let d2_8 = vec4(lo8.z, lo8.w, hi8.x, hi8.y);
        let d2_9 = vec4(lo9.z, lo9.w, hi9.x, hi9.y);
        let d2_10 = vec4(lo10.z, lo10.w, hi10.x, hi10.y);
        let d2_11 = vec4(lo11.z, lo11.w, hi11.x, hi11.y);
        let d2_12 = vec4(lo12.z, lo12.w, hi12.x, hi12.y);
        let d2_13 = vec4(lo13.z, lo13.w, hi13.x, hi13.y);
        let d2_14 = vec4(lo14.z, lo14.w, hi14.x, hi14.y);
        let d2_15 = vec4(lo15.z, lo15.w, hi15.x, hi15.y);
        let d3_0 = vec4(lo0.y, lo0.z, lo0.w, hi0.x);
        let d3_1 = vec4(lo1.y, lo1.z, lo1.w, hi1.x);
        let d3_2 = vec4(lo2.y, lo2.z, lo2.w, hi2.x);
        let d3_3 = vec4(lo3.y, lo3.z, lo3.w, hi3.x);
        let d3_4 = vec4(lo4.y, lo4.z, lo4.w, hi4.x);
        let d3_5 = vec4(lo5.y, lo5.z, lo5.w, hi5.x);
        let d3_6 = vec4(lo6.y, lo6.z, lo6.w, hi6.x);
        let d3_7 = vec4(lo7.y, lo7.z, lo7.w, hi7.x);
        let d3_8 = vec4(lo8.y, lo8.z, lo8.w, hi8.x);
        let d3_9 = vec4(lo9.y, lo9.z, lo9.w, hi9.x);
        let d3_10 = vec4(lo10.y, lo10.z, lo10.w, hi10.x);
        let d3_11 = vec4(lo11.y, lo11.z, lo11.w, hi11.x);
        let d3_12 = vec4(lo12.y, lo12.z, lo12.w, hi12.x);
        let d3_13 = vec4(lo13.y, lo13.z, lo13.w, hi13.x);
        let d3_14 = vec4(lo14.y, lo14.z, lo14.w, hi14.x);
        let d3_15 = vec4(lo15.y, lo15.z, lo15.w, hi15.x);
        let d4_0 = vec4(lo0.x, lo0.y, lo0.z, lo0.w);
        let d4_1 = vec4(lo1.x, lo1.y, lo1.z, lo1.w);
        let d4_2 = vec4(lo2.x, lo2.y, lo2.z, lo2.w);
        let d4_3 = vec4(lo3.x, lo3.y, lo3.z, lo3.w);
        let d4_4 = vec4(lo4.x, lo4.y, lo4.z, lo4.w);
        let d4_5 = vec4(lo5.x, lo5.y, lo5.z, lo5.w);
        let d4_6 = vec4(lo6.x, lo6.y, lo6.z, lo6.w);
        let d4_7 = vec4(lo7.x, lo7.y, lo7.z, lo7.w);
        let d4_8 = vec4(lo8.x, lo8.y, lo8.z, lo8.w);
        let d4_9 = vec4(lo9.x, lo9.y, lo9.z, lo9.w);
        let d4_10 = vec4(lo10.x, lo10.y, lo10.z, lo10.w);
        let d4_11 = vec4(lo11.x, lo11.y, lo11.z, lo11.w);
        let d4_12 = vec4(lo12.x, lo12.y, lo12.z, lo12.w);
        let d4_13 = vec4(lo13.x, lo13.y, lo13.z, lo13.w);
        let d4_14 = vec4(lo14.x, lo14.y, lo14.z, lo14.w);
        let d4_15 = vec4(lo15.x, lo15.y, lo15.z, lo15.w);
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w0, 0u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w0, 1u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w0, 2u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w0, 3u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w0, 4u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w0, 5u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w0, 6u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w0, 7u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w1, 0u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w1, 1u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w1, 2u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w1, 3u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w1, 4u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w1, 5u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w1, 6u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w1, 7u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w2, 0u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w2, 1u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w2, 2u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w2, 3u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g0 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w2, 4u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w2, 5u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w2, 6u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w2, 7u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w3, 0u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w3, 1u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w3, 2u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w3, 3u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w3, 4u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w3, 5u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w3, 6u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w3, 7u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w4, 0u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w4, 1u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w4, 2u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w4, 3u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w4, 4u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w4, 5u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w4, 6u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w4, 7u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g1 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w5, 0u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w5, 1u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w5, 2u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w5, 3u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w5, 4u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w5, 5u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w5, 6u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w5, 7u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w6, 0u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w6, 1u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w6, 2u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w6, 3u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w6, 4u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w6, 5u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w6, 6u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w6, 7u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w7, 0u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w7, 1u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w7, 2u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w7, 3u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g2 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w7, 4u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w7, 5u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w7, 6u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w7, 7u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w8, 0u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w8, 1u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w8, 2u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w8, 3u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w8, 4u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w8, 5u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w8, 6u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w8, 7u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w9, 0u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w9, 1u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w9, 2u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w9, 3u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w9, 4u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w9, 5u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w9, 6u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w9, 7u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g3 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w10, 0u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w10, 1u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w10, 2u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w10, 3u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w10, 4u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w10, 5u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w10, 6u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w10, 7u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w11, 0u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w11, 1u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w11, 2u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w11, 3u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w11, 4u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w11, 5u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w11, 6u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w11, 7u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w12, 0u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w12, 1u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w12, 2u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w12, 3u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g4 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w12, 4u);
            a += x0.x * d0_0 + x0.y * d0_1 + x0.z * d0_2 + x0.w * d0_3;
            let x1 = subgroupBroadcast(w12, 5u);
            a += x1.x * d0_4 + x1.y * d0_5 + x1.z * d0_6 + x1.w * d0_7;
            let x2 = subgroupBroadcast(w12, 6u);
            a += x2.x * d0_8 + x2.y * d0_9 + x2.z * d0_10 + x2.w * d0_11;
            let x3 = subgroupBroadcast(w12, 7u);
            a += x3.x * d0_12 + x3.y * d0_13 + x3.z * d0_14 + x3.w * d0_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w13, 0u);
            a += x0.x * d1_0 + x0.y * d1_1 + x0.z * d1_2 + x0.w * d1_3;
            let x1 = subgroupBroadcast(w13, 1u);
            a += x1.x * d1_4 + x1.y * d1_5 + x1.z * d1_6 + x1.w * d1_7;
            let x2 = subgroupBroadcast(w13, 2u);
            a += x2.x * d1_8 + x2.y * d1_9 + x2.z * d1_10 + x2.w * d1_11;
            let x3 = subgroupBroadcast(w13, 3u);
            a += x3.x * d1_12 + x3.y * d1_13 + x3.z * d1_14 + x3.w * d1_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w13, 4u);
            a += x0.x * d2_0 + x0.y * d2_1 + x0.z * d2_2 + x0.w * d2_3;
            let x1 = subgroupBroadcast(w13, 5u);
            a += x1.x * d2_4 + x1.y * d2_5 + x1.z * d2_6 + x1.w * d2_7;
            let x2 = subgroupBroadcast(w13, 6u);
            a += x2.x * d2_8 + x2.y * d2_9 + x2.z * d2_10 + x2.w * d2_11;
            let x3 = subgroupBroadcast(w13, 7u);
            a += x3.x * d2_12 + x3.y * d2_13 + x3.z * d2_14 + x3.w * d2_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w14, 0u);
            a += x0.x * d3_0 + x0.y * d3_1 + x0.z * d3_2 + x0.w * d3_3;
            let x1 = subgroupBroadcast(w14, 1u);
            a += x1.x * d3_4 + x1.y * d3_5 + x1.z * d3_6 + x1.w * d3_7;
            let x2 = subgroupBroadcast(w14, 2u);
            a += x2.x * d3_8 + x2.y * d3_9 + x2.z * d3_10 + x2.w * d3_11;
            let x3 = subgroupBroadcast(w14, 3u);
            a += x3.x * d3_12 + x3.y * d3_13 + x3.z * d3_14 + x3.w * d3_15;
            g5 += a;
        }
        {
            var a = zero4;
            let x0 = subgroupBroadcast(w14, 4u);
            a += x0.x * d4_0 + x0.y * d4_1 + x0.z * d4_2 + x0.w * d4_3;
            let x1 = subgroupBroadcast(w14, 5u);
            a += x1.x * d4_4 + x1.y * d4_5 + x1.z * d4_6 + x1.w * d4_7;
            let x2 = subgroupBroadcast(w14, 6u);
            a += x2.x * d4_8 + x2.y * d4_9 + x2.z * d4_10 + x2.w * d4_11;
            let x3 = subgroupBroadcast(w14, 7u);
            a += x3.x * d4_12 + x3.y * d4_13 + x3.z * d4_14 + x3.w * d4_15;
            g5 += a;
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
