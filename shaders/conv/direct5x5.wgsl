// LeNet's first convolution (5×5, stride 1; 3 channels without padding on 32×32 images,
// 1 channel with padding 2 on 28×28) read straight from the NCHW input on 8-lane
// subgroups, with no im2col patches: each lane loads an input row's vec4s once for the
// five taps of its four outputs, where the patches' product loaded one vec4 per tap.
//
// It computes what im2col and matmul's mm_sg8_r8 compute, bit for bit: the same sums over
// K = 25·channels in chunks of four k (the weights padded with zero columns to
// Kp = ⌈K/4⌉·4, as `pad_weights` lays them out, and zero patch rows past K), each chunk
// added as `acc += x.x·b0 + x.y·b1 + x.z·b2 + x.w·b3` in that order, then the bias and the
// ReLU as matmul's epilogue adds them; only where b0..b3 come from differs. So runs that
// began on the patches' product go on under this kernel with the same records. The
// entries are generated (tests/suite/unrolled.rs) for 8 output channels by 64 columns (16
// quads of four neighbouring outputs of one row) per subgroup, as mm_sg8_r8's tile.

struct Params {
    channels: u32,
    height: u32,
    width: u32,
    out_width: u32,
    out_pixels: u32,
    out_channels: u32,
    // vec4s per row of the padded weights
    kp4: u32,
    flags: u32,
    // 0.0, read at run time: the padded chunk's zero terms are added, not folded away.
    zero: f32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

const HAS_BIAS: u32 = 1u;
const RELU: u32 = 2u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
// The weights as `[out_channels, Kp]` in vec4s.
@group(0) @binding(2) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y4: array<vec4<f32>>;

// Four neighbouring outputs (oy, ox .. ox+3) of image b; past the image's last quad when
// not valid (loads give zeros, stores are dropped).
struct Quad {
    b: u32,
    oy: u32,
    ox: u32,
    valid: bool,
}

fn quad(b: u32, q: u32) -> Quad {
    let per_row = p.out_width / 4u;
    let valid = q < p.out_pixels / 4u;
    let qq = select(0u, q, valid);
    let oy = qq / per_row;
    return Quad(b, oy, 4u * (qq - oy * per_row), valid);
}

// An input row's vec4s around a quad: v0, v1 (and v2 with padding).
struct Row {
    v0: vec4<f32>,
    v1: vec4<f32>,
    v2: vec4<f32>,
}

// Input vec4 xq of row y of channel c; zeros outside the image, as im2col's padding.
fn load(s: Quad, c: u32, y: i32, xq: i32) -> vec4<f32> {
    let w4 = p.width / 4u;
    if (!s.valid || y < 0 || y >= i32(p.height) || xq < 0 || xq >= i32(w4)) {
        return vec4(0.0);
    }
    return x4[((s.b * p.channels + c) * p.height + u32(y)) * w4 + u32(xq)];
}

// Kernel row ky of channel c: without padding x = ox .. ox+7, with padding 2 ox−4 .. ox+7.
fn row5(s: Quad, c: u32, ky: u32, pad: u32) -> Row {
    let y = i32(s.oy + ky) - i32(pad);
    let xq = i32(s.ox / 4u);
    if (pad == 0u) {
        return Row(load(s, c, y, xq), load(s, c, y, xq + 1), vec4(0.0));
    }
    return Row(load(s, c, y, xq - 1), load(s, c, y, xq), load(s, c, y, xq + 1));
}

// matmul's store4 for these outputs: + bias, then ReLU, written as one vec4.
fn store(s: Quad, row: u32, v: vec4<f32>) {
    if (!s.valid || row >= p.out_channels) {
        return;
    }
    var x = v;
    if ((p.flags & HAS_BIAS) != 0u) {
        x += vec4(bias[row]);
    }
    if ((p.flags & RELU) != 0u) {
        x = max(x, vec4(0.0));
    }
    y4[((s.b * p.out_channels + row) * p.out_pixels + s.oy * p.out_width + s.ox) / 4u] = x;
}

// unrolled: direct5x5 conv5x5_c3_p0 3 0
@compute @workgroup_size(8)
fn conv5x5_c3_p0(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    let s0 = quad(wg.z, wg.x * 16u + lane);
    let s1 = quad(wg.z, wg.x * 16u + 8u + lane);
    // Lane r holds output channel r's weights (the last one past out_channels).
    let arow = min(lane, p.out_channels - 1u) * p.kp4;
    let zero4 = vec4(p.zero);
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
    let w0_0_0 = row5(s0, 0u, 0u, 0u);
    let w0_0_1 = row5(s1, 0u, 0u, 0u);
    {
        let a0 = a4[arow + 0u];
        let b00 = vec4(w0_0_0.v0.x, w0_0_0.v0.y, w0_0_0.v0.z, w0_0_0.v0.w);
        let b01 = vec4(w0_0_1.v0.x, w0_0_1.v0.y, w0_0_1.v0.z, w0_0_1.v0.w);
        let b10 = vec4(w0_0_0.v0.y, w0_0_0.v0.z, w0_0_0.v0.w, w0_0_0.v1.x);
        let b11 = vec4(w0_0_1.v0.y, w0_0_1.v0.z, w0_0_1.v0.w, w0_0_1.v1.x);
        let b20 = vec4(w0_0_0.v0.z, w0_0_0.v0.w, w0_0_0.v1.x, w0_0_0.v1.y);
        let b21 = vec4(w0_0_1.v0.z, w0_0_1.v0.w, w0_0_1.v1.x, w0_0_1.v1.y);
        let b30 = vec4(w0_0_0.v0.w, w0_0_0.v1.x, w0_0_0.v1.y, w0_0_0.v1.z);
        let b31 = vec4(w0_0_1.v0.w, w0_0_1.v1.x, w0_0_1.v1.y, w0_0_1.v1.z);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    let w0_1_0 = row5(s0, 0u, 1u, 0u);
    let w0_1_1 = row5(s1, 0u, 1u, 0u);
    {
        let a0 = a4[arow + 1u];
        let b00 = vec4(w0_0_0.v1.x, w0_0_0.v1.y, w0_0_0.v1.z, w0_0_0.v1.w);
        let b01 = vec4(w0_0_1.v1.x, w0_0_1.v1.y, w0_0_1.v1.z, w0_0_1.v1.w);
        let b10 = vec4(w0_1_0.v0.x, w0_1_0.v0.y, w0_1_0.v0.z, w0_1_0.v0.w);
        let b11 = vec4(w0_1_1.v0.x, w0_1_1.v0.y, w0_1_1.v0.z, w0_1_1.v0.w);
        let b20 = vec4(w0_1_0.v0.y, w0_1_0.v0.z, w0_1_0.v0.w, w0_1_0.v1.x);
        let b21 = vec4(w0_1_1.v0.y, w0_1_1.v0.z, w0_1_1.v0.w, w0_1_1.v1.x);
        let b30 = vec4(w0_1_0.v0.z, w0_1_0.v0.w, w0_1_0.v1.x, w0_1_0.v1.y);
        let b31 = vec4(w0_1_1.v0.z, w0_1_1.v0.w, w0_1_1.v1.x, w0_1_1.v1.y);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    let w0_2_0 = row5(s0, 0u, 2u, 0u);
    let w0_2_1 = row5(s1, 0u, 2u, 0u);
    {
        let a0 = a4[arow + 2u];
        let b00 = vec4(w0_1_0.v0.w, w0_1_0.v1.x, w0_1_0.v1.y, w0_1_0.v1.z);
        let b01 = vec4(w0_1_1.v0.w, w0_1_1.v1.x, w0_1_1.v1.y, w0_1_1.v1.z);
        let b10 = vec4(w0_1_0.v1.x, w0_1_0.v1.y, w0_1_0.v1.z, w0_1_0.v1.w);
        let b11 = vec4(w0_1_1.v1.x, w0_1_1.v1.y, w0_1_1.v1.z, w0_1_1.v1.w);
        let b20 = vec4(w0_2_0.v0.x, w0_2_0.v0.y, w0_2_0.v0.z, w0_2_0.v0.w);
        let b21 = vec4(w0_2_1.v0.x, w0_2_1.v0.y, w0_2_1.v0.z, w0_2_1.v0.w);
        let b30 = vec4(w0_2_0.v0.y, w0_2_0.v0.z, w0_2_0.v0.w, w0_2_0.v1.x);
        let b31 = vec4(w0_2_1.v0.y, w0_2_1.v0.z, w0_2_1.v0.w, w0_2_1.v1.x);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    let w0_3_0 = row5(s0, 0u, 3u, 0u);
    let w0_3_1 = row5(s1, 0u, 3u, 0u);
    {
        let a0 = a4[arow + 3u];
        let b00 = vec4(w0_2_0.v0.z, w0_2_0.v0.w, w0_2_0.v1.x, w0_2_0.v1.y);
        let b01 = vec4(w0_2_1.v0.z, w0_2_1.v0.w, w0_2_1.v1.x, w0_2_1.v1.y);
        let b10 = vec4(w0_2_0.v0.w, w0_2_0.v1.x, w0_2_0.v1.y, w0_2_0.v1.z);
        let b11 = vec4(w0_2_1.v0.w, w0_2_1.v1.x, w0_2_1.v1.y, w0_2_1.v1.z);
        let b20 = vec4(w0_2_0.v1.x, w0_2_0.v1.y, w0_2_0.v1.z, w0_2_0.v1.w);
        let b21 = vec4(w0_2_1.v1.x, w0_2_1.v1.y, w0_2_1.v1.z, w0_2_1.v1.w);
        let b30 = vec4(w0_3_0.v0.x, w0_3_0.v0.y, w0_3_0.v0.z, w0_3_0.v0.w);
        let b31 = vec4(w0_3_1.v0.x, w0_3_1.v0.y, w0_3_1.v0.z, w0_3_1.v0.w);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    {
        let a0 = a4[arow + 4u];
        let b00 = vec4(w0_3_0.v0.y, w0_3_0.v0.z, w0_3_0.v0.w, w0_3_0.v1.x);
        let b01 = vec4(w0_3_1.v0.y, w0_3_1.v0.z, w0_3_1.v0.w, w0_3_1.v1.x);
        let b10 = vec4(w0_3_0.v0.z, w0_3_0.v0.w, w0_3_0.v1.x, w0_3_0.v1.y);
        let b11 = vec4(w0_3_1.v0.z, w0_3_1.v0.w, w0_3_1.v1.x, w0_3_1.v1.y);
        let b20 = vec4(w0_3_0.v0.w, w0_3_0.v1.x, w0_3_0.v1.y, w0_3_0.v1.z);
        let b21 = vec4(w0_3_1.v0.w, w0_3_1.v1.x, w0_3_1.v1.y, w0_3_1.v1.z);
        let b30 = vec4(w0_3_0.v1.x, w0_3_0.v1.y, w0_3_0.v1.z, w0_3_0.v1.w);
        let b31 = vec4(w0_3_1.v1.x, w0_3_1.v1.y, w0_3_1.v1.z, w0_3_1.v1.w);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    let w0_4_0 = row5(s0, 0u, 4u, 0u);
    let w0_4_1 = row5(s1, 0u, 4u, 0u);
    {
        let a0 = a4[arow + 5u];
        let b00 = vec4(w0_4_0.v0.x, w0_4_0.v0.y, w0_4_0.v0.z, w0_4_0.v0.w);
        let b01 = vec4(w0_4_1.v0.x, w0_4_1.v0.y, w0_4_1.v0.z, w0_4_1.v0.w);
        let b10 = vec4(w0_4_0.v0.y, w0_4_0.v0.z, w0_4_0.v0.w, w0_4_0.v1.x);
        let b11 = vec4(w0_4_1.v0.y, w0_4_1.v0.z, w0_4_1.v0.w, w0_4_1.v1.x);
        let b20 = vec4(w0_4_0.v0.z, w0_4_0.v0.w, w0_4_0.v1.x, w0_4_0.v1.y);
        let b21 = vec4(w0_4_1.v0.z, w0_4_1.v0.w, w0_4_1.v1.x, w0_4_1.v1.y);
        let b30 = vec4(w0_4_0.v0.w, w0_4_0.v1.x, w0_4_0.v1.y, w0_4_0.v1.z);
        let b31 = vec4(w0_4_1.v0.w, w0_4_1.v1.x, w0_4_1.v1.y, w0_4_1.v1.z);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    let w1_0_0 = row5(s0, 1u, 0u, 0u);
    let w1_0_1 = row5(s1, 1u, 0u, 0u);
    {
        let a0 = a4[arow + 6u];
        let b00 = vec4(w0_4_0.v1.x, w0_4_0.v1.y, w0_4_0.v1.z, w0_4_0.v1.w);
        let b01 = vec4(w0_4_1.v1.x, w0_4_1.v1.y, w0_4_1.v1.z, w0_4_1.v1.w);
        let b10 = vec4(w1_0_0.v0.x, w1_0_0.v0.y, w1_0_0.v0.z, w1_0_0.v0.w);
        let b11 = vec4(w1_0_1.v0.x, w1_0_1.v0.y, w1_0_1.v0.z, w1_0_1.v0.w);
        let b20 = vec4(w1_0_0.v0.y, w1_0_0.v0.z, w1_0_0.v0.w, w1_0_0.v1.x);
        let b21 = vec4(w1_0_1.v0.y, w1_0_1.v0.z, w1_0_1.v0.w, w1_0_1.v1.x);
        let b30 = vec4(w1_0_0.v0.z, w1_0_0.v0.w, w1_0_0.v1.x, w1_0_0.v1.y);
        let b31 = vec4(w1_0_1.v0.z, w1_0_1.v0.w, w1_0_1.v1.x, w1_0_1.v1.y);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    let w1_1_0 = row5(s0, 1u, 1u, 0u);
    let w1_1_1 = row5(s1, 1u, 1u, 0u);
    {
        let a0 = a4[arow + 7u];
        let b00 = vec4(w1_0_0.v0.w, w1_0_0.v1.x, w1_0_0.v1.y, w1_0_0.v1.z);
        let b01 = vec4(w1_0_1.v0.w, w1_0_1.v1.x, w1_0_1.v1.y, w1_0_1.v1.z);
        let b10 = vec4(w1_0_0.v1.x, w1_0_0.v1.y, w1_0_0.v1.z, w1_0_0.v1.w);
        let b11 = vec4(w1_0_1.v1.x, w1_0_1.v1.y, w1_0_1.v1.z, w1_0_1.v1.w);
        let b20 = vec4(w1_1_0.v0.x, w1_1_0.v0.y, w1_1_0.v0.z, w1_1_0.v0.w);
        let b21 = vec4(w1_1_1.v0.x, w1_1_1.v0.y, w1_1_1.v0.z, w1_1_1.v0.w);
        let b30 = vec4(w1_1_0.v0.y, w1_1_0.v0.z, w1_1_0.v0.w, w1_1_0.v1.x);
        let b31 = vec4(w1_1_1.v0.y, w1_1_1.v0.z, w1_1_1.v0.w, w1_1_1.v1.x);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    let w1_2_0 = row5(s0, 1u, 2u, 0u);
    let w1_2_1 = row5(s1, 1u, 2u, 0u);
    {
        let a0 = a4[arow + 8u];
        let b00 = vec4(w1_1_0.v0.z, w1_1_0.v0.w, w1_1_0.v1.x, w1_1_0.v1.y);
        let b01 = vec4(w1_1_1.v0.z, w1_1_1.v0.w, w1_1_1.v1.x, w1_1_1.v1.y);
        let b10 = vec4(w1_1_0.v0.w, w1_1_0.v1.x, w1_1_0.v1.y, w1_1_0.v1.z);
        let b11 = vec4(w1_1_1.v0.w, w1_1_1.v1.x, w1_1_1.v1.y, w1_1_1.v1.z);
        let b20 = vec4(w1_1_0.v1.x, w1_1_0.v1.y, w1_1_0.v1.z, w1_1_0.v1.w);
        let b21 = vec4(w1_1_1.v1.x, w1_1_1.v1.y, w1_1_1.v1.z, w1_1_1.v1.w);
        let b30 = vec4(w1_2_0.v0.x, w1_2_0.v0.y, w1_2_0.v0.z, w1_2_0.v0.w);
        let b31 = vec4(w1_2_1.v0.x, w1_2_1.v0.y, w1_2_1.v0.z, w1_2_1.v0.w);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    {
        let a0 = a4[arow + 9u];
        let b00 = vec4(w1_2_0.v0.y, w1_2_0.v0.z, w1_2_0.v0.w, w1_2_0.v1.x);
        let b01 = vec4(w1_2_1.v0.y, w1_2_1.v0.z, w1_2_1.v0.w, w1_2_1.v1.x);
        let b10 = vec4(w1_2_0.v0.z, w1_2_0.v0.w, w1_2_0.v1.x, w1_2_0.v1.y);
        let b11 = vec4(w1_2_1.v0.z, w1_2_1.v0.w, w1_2_1.v1.x, w1_2_1.v1.y);
        let b20 = vec4(w1_2_0.v0.w, w1_2_0.v1.x, w1_2_0.v1.y, w1_2_0.v1.z);
        let b21 = vec4(w1_2_1.v0.w, w1_2_1.v1.x, w1_2_1.v1.y, w1_2_1.v1.z);
        let b30 = vec4(w1_2_0.v1.x, w1_2_0.v1.y, w1_2_0.v1.z, w1_2_0.v1.w);
        let b31 = vec4(w1_2_1.v1.x, w1_2_1.v1.y, w1_2_1.v1.z, w1_2_1.v1.w);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    let w1_3_0 = row5(s0, 1u, 3u, 0u);
    let w1_3_1 = row5(s1, 1u, 3u, 0u);
    {
        let a0 = a4[arow + 10u];
        let b00 = vec4(w1_3_0.v0.x, w1_3_0.v0.y, w1_3_0.v0.z, w1_3_0.v0.w);
        let b01 = vec4(w1_3_1.v0.x, w1_3_1.v0.y, w1_3_1.v0.z, w1_3_1.v0.w);
        let b10 = vec4(w1_3_0.v0.y, w1_3_0.v0.z, w1_3_0.v0.w, w1_3_0.v1.x);
        let b11 = vec4(w1_3_1.v0.y, w1_3_1.v0.z, w1_3_1.v0.w, w1_3_1.v1.x);
        let b20 = vec4(w1_3_0.v0.z, w1_3_0.v0.w, w1_3_0.v1.x, w1_3_0.v1.y);
        let b21 = vec4(w1_3_1.v0.z, w1_3_1.v0.w, w1_3_1.v1.x, w1_3_1.v1.y);
        let b30 = vec4(w1_3_0.v0.w, w1_3_0.v1.x, w1_3_0.v1.y, w1_3_0.v1.z);
        let b31 = vec4(w1_3_1.v0.w, w1_3_1.v1.x, w1_3_1.v1.y, w1_3_1.v1.z);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    let w1_4_0 = row5(s0, 1u, 4u, 0u);
    let w1_4_1 = row5(s1, 1u, 4u, 0u);
    {
        let a0 = a4[arow + 11u];
        let b00 = vec4(w1_3_0.v1.x, w1_3_0.v1.y, w1_3_0.v1.z, w1_3_0.v1.w);
        let b01 = vec4(w1_3_1.v1.x, w1_3_1.v1.y, w1_3_1.v1.z, w1_3_1.v1.w);
        let b10 = vec4(w1_4_0.v0.x, w1_4_0.v0.y, w1_4_0.v0.z, w1_4_0.v0.w);
        let b11 = vec4(w1_4_1.v0.x, w1_4_1.v0.y, w1_4_1.v0.z, w1_4_1.v0.w);
        let b20 = vec4(w1_4_0.v0.y, w1_4_0.v0.z, w1_4_0.v0.w, w1_4_0.v1.x);
        let b21 = vec4(w1_4_1.v0.y, w1_4_1.v0.z, w1_4_1.v0.w, w1_4_1.v1.x);
        let b30 = vec4(w1_4_0.v0.z, w1_4_0.v0.w, w1_4_0.v1.x, w1_4_0.v1.y);
        let b31 = vec4(w1_4_1.v0.z, w1_4_1.v0.w, w1_4_1.v1.x, w1_4_1.v1.y);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    let w2_0_0 = row5(s0, 2u, 0u, 0u);
    let w2_0_1 = row5(s1, 2u, 0u, 0u);
    {
        let a0 = a4[arow + 12u];
        let b00 = vec4(w1_4_0.v0.w, w1_4_0.v1.x, w1_4_0.v1.y, w1_4_0.v1.z);
        let b01 = vec4(w1_4_1.v0.w, w1_4_1.v1.x, w1_4_1.v1.y, w1_4_1.v1.z);
        let b10 = vec4(w1_4_0.v1.x, w1_4_0.v1.y, w1_4_0.v1.z, w1_4_0.v1.w);
        let b11 = vec4(w1_4_1.v1.x, w1_4_1.v1.y, w1_4_1.v1.z, w1_4_1.v1.w);
        let b20 = vec4(w2_0_0.v0.x, w2_0_0.v0.y, w2_0_0.v0.z, w2_0_0.v0.w);
        let b21 = vec4(w2_0_1.v0.x, w2_0_1.v0.y, w2_0_1.v0.z, w2_0_1.v0.w);
        let b30 = vec4(w2_0_0.v0.y, w2_0_0.v0.z, w2_0_0.v0.w, w2_0_0.v1.x);
        let b31 = vec4(w2_0_1.v0.y, w2_0_1.v0.z, w2_0_1.v0.w, w2_0_1.v1.x);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    let w2_1_0 = row5(s0, 2u, 1u, 0u);
    let w2_1_1 = row5(s1, 2u, 1u, 0u);
    {
        let a0 = a4[arow + 13u];
        let b00 = vec4(w2_0_0.v0.z, w2_0_0.v0.w, w2_0_0.v1.x, w2_0_0.v1.y);
        let b01 = vec4(w2_0_1.v0.z, w2_0_1.v0.w, w2_0_1.v1.x, w2_0_1.v1.y);
        let b10 = vec4(w2_0_0.v0.w, w2_0_0.v1.x, w2_0_0.v1.y, w2_0_0.v1.z);
        let b11 = vec4(w2_0_1.v0.w, w2_0_1.v1.x, w2_0_1.v1.y, w2_0_1.v1.z);
        let b20 = vec4(w2_0_0.v1.x, w2_0_0.v1.y, w2_0_0.v1.z, w2_0_0.v1.w);
        let b21 = vec4(w2_0_1.v1.x, w2_0_1.v1.y, w2_0_1.v1.z, w2_0_1.v1.w);
        let b30 = vec4(w2_1_0.v0.x, w2_1_0.v0.y, w2_1_0.v0.z, w2_1_0.v0.w);
        let b31 = vec4(w2_1_1.v0.x, w2_1_1.v0.y, w2_1_1.v0.z, w2_1_1.v0.w);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    {
        let a0 = a4[arow + 14u];
        let b00 = vec4(w2_1_0.v0.y, w2_1_0.v0.z, w2_1_0.v0.w, w2_1_0.v1.x);
        let b01 = vec4(w2_1_1.v0.y, w2_1_1.v0.z, w2_1_1.v0.w, w2_1_1.v1.x);
        let b10 = vec4(w2_1_0.v0.z, w2_1_0.v0.w, w2_1_0.v1.x, w2_1_0.v1.y);
        let b11 = vec4(w2_1_1.v0.z, w2_1_1.v0.w, w2_1_1.v1.x, w2_1_1.v1.y);
        let b20 = vec4(w2_1_0.v0.w, w2_1_0.v1.x, w2_1_0.v1.y, w2_1_0.v1.z);
        let b21 = vec4(w2_1_1.v0.w, w2_1_1.v1.x, w2_1_1.v1.y, w2_1_1.v1.z);
        let b30 = vec4(w2_1_0.v1.x, w2_1_0.v1.y, w2_1_0.v1.z, w2_1_0.v1.w);
        let b31 = vec4(w2_1_1.v1.x, w2_1_1.v1.y, w2_1_1.v1.z, w2_1_1.v1.w);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    let w2_2_0 = row5(s0, 2u, 2u, 0u);
    let w2_2_1 = row5(s1, 2u, 2u, 0u);
    {
        let a0 = a4[arow + 15u];
        let b00 = vec4(w2_2_0.v0.x, w2_2_0.v0.y, w2_2_0.v0.z, w2_2_0.v0.w);
        let b01 = vec4(w2_2_1.v0.x, w2_2_1.v0.y, w2_2_1.v0.z, w2_2_1.v0.w);
        let b10 = vec4(w2_2_0.v0.y, w2_2_0.v0.z, w2_2_0.v0.w, w2_2_0.v1.x);
        let b11 = vec4(w2_2_1.v0.y, w2_2_1.v0.z, w2_2_1.v0.w, w2_2_1.v1.x);
        let b20 = vec4(w2_2_0.v0.z, w2_2_0.v0.w, w2_2_0.v1.x, w2_2_0.v1.y);
        let b21 = vec4(w2_2_1.v0.z, w2_2_1.v0.w, w2_2_1.v1.x, w2_2_1.v1.y);
        let b30 = vec4(w2_2_0.v0.w, w2_2_0.v1.x, w2_2_0.v1.y, w2_2_0.v1.z);
        let b31 = vec4(w2_2_1.v0.w, w2_2_1.v1.x, w2_2_1.v1.y, w2_2_1.v1.z);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    let w2_3_0 = row5(s0, 2u, 3u, 0u);
    let w2_3_1 = row5(s1, 2u, 3u, 0u);
    {
        let a0 = a4[arow + 16u];
        let b00 = vec4(w2_2_0.v1.x, w2_2_0.v1.y, w2_2_0.v1.z, w2_2_0.v1.w);
        let b01 = vec4(w2_2_1.v1.x, w2_2_1.v1.y, w2_2_1.v1.z, w2_2_1.v1.w);
        let b10 = vec4(w2_3_0.v0.x, w2_3_0.v0.y, w2_3_0.v0.z, w2_3_0.v0.w);
        let b11 = vec4(w2_3_1.v0.x, w2_3_1.v0.y, w2_3_1.v0.z, w2_3_1.v0.w);
        let b20 = vec4(w2_3_0.v0.y, w2_3_0.v0.z, w2_3_0.v0.w, w2_3_0.v1.x);
        let b21 = vec4(w2_3_1.v0.y, w2_3_1.v0.z, w2_3_1.v0.w, w2_3_1.v1.x);
        let b30 = vec4(w2_3_0.v0.z, w2_3_0.v0.w, w2_3_0.v1.x, w2_3_0.v1.y);
        let b31 = vec4(w2_3_1.v0.z, w2_3_1.v0.w, w2_3_1.v1.x, w2_3_1.v1.y);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    let w2_4_0 = row5(s0, 2u, 4u, 0u);
    let w2_4_1 = row5(s1, 2u, 4u, 0u);
    {
        let a0 = a4[arow + 17u];
        let b00 = vec4(w2_3_0.v0.w, w2_3_0.v1.x, w2_3_0.v1.y, w2_3_0.v1.z);
        let b01 = vec4(w2_3_1.v0.w, w2_3_1.v1.x, w2_3_1.v1.y, w2_3_1.v1.z);
        let b10 = vec4(w2_3_0.v1.x, w2_3_0.v1.y, w2_3_0.v1.z, w2_3_0.v1.w);
        let b11 = vec4(w2_3_1.v1.x, w2_3_1.v1.y, w2_3_1.v1.z, w2_3_1.v1.w);
        let b20 = vec4(w2_4_0.v0.x, w2_4_0.v0.y, w2_4_0.v0.z, w2_4_0.v0.w);
        let b21 = vec4(w2_4_1.v0.x, w2_4_1.v0.y, w2_4_1.v0.z, w2_4_1.v0.w);
        let b30 = vec4(w2_4_0.v0.y, w2_4_0.v0.z, w2_4_0.v0.w, w2_4_0.v1.x);
        let b31 = vec4(w2_4_1.v0.y, w2_4_1.v0.z, w2_4_1.v0.w, w2_4_1.v1.x);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    {
        let a0 = a4[arow + 18u];
        let b00 = vec4(w2_4_0.v0.z, w2_4_0.v0.w, w2_4_0.v1.x, w2_4_0.v1.y);
        let b01 = vec4(w2_4_1.v0.z, w2_4_1.v0.w, w2_4_1.v1.x, w2_4_1.v1.y);
        let b10 = vec4(w2_4_0.v0.w, w2_4_0.v1.x, w2_4_0.v1.y, w2_4_0.v1.z);
        let b11 = vec4(w2_4_1.v0.w, w2_4_1.v1.x, w2_4_1.v1.y, w2_4_1.v1.z);
        let b20 = vec4(w2_4_0.v1.x, w2_4_0.v1.y, w2_4_0.v1.z, w2_4_0.v1.w);
        let b21 = vec4(w2_4_1.v1.x, w2_4_1.v1.y, w2_4_1.v1.z, w2_4_1.v1.w);
        let b30 = zero4;
        let b31 = zero4;
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    store(s0, 0u, acc0_0);
    store(s1, 0u, acc0_1);
    store(s0, 1u, acc1_0);
    store(s1, 1u, acc1_1);
    store(s0, 2u, acc2_0);
    store(s1, 2u, acc2_1);
    store(s0, 3u, acc3_0);
    store(s1, 3u, acc3_1);
    store(s0, 4u, acc4_0);
    store(s1, 4u, acc4_1);
    store(s0, 5u, acc5_0);
    store(s1, 5u, acc5_1);
    store(s0, 6u, acc6_0);
    store(s1, 6u, acc6_1);
    store(s0, 7u, acc7_0);
    store(s1, 7u, acc7_1);
}
// end unrolled

// unrolled: direct5x5 conv5x5_c1_p2 1 2
@compute @workgroup_size(8)
fn conv5x5_c1_p2(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    let s0 = quad(wg.z, wg.x * 16u + lane);
    let s1 = quad(wg.z, wg.x * 16u + 8u + lane);
    // Lane r holds output channel r's weights (the last one past out_channels).
    let arow = min(lane, p.out_channels - 1u) * p.kp4;
    let zero4 = vec4(p.zero);
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
    let w0_0_0 = row5(s0, 0u, 0u, 2u);
    let w0_0_1 = row5(s1, 0u, 0u, 2u);
    {
        let a0 = a4[arow + 0u];
        let b00 = vec4(w0_0_0.v0.z, w0_0_0.v0.w, w0_0_0.v1.x, w0_0_0.v1.y);
        let b01 = vec4(w0_0_1.v0.z, w0_0_1.v0.w, w0_0_1.v1.x, w0_0_1.v1.y);
        let b10 = vec4(w0_0_0.v0.w, w0_0_0.v1.x, w0_0_0.v1.y, w0_0_0.v1.z);
        let b11 = vec4(w0_0_1.v0.w, w0_0_1.v1.x, w0_0_1.v1.y, w0_0_1.v1.z);
        let b20 = vec4(w0_0_0.v1.x, w0_0_0.v1.y, w0_0_0.v1.z, w0_0_0.v1.w);
        let b21 = vec4(w0_0_1.v1.x, w0_0_1.v1.y, w0_0_1.v1.z, w0_0_1.v1.w);
        let b30 = vec4(w0_0_0.v1.y, w0_0_0.v1.z, w0_0_0.v1.w, w0_0_0.v2.x);
        let b31 = vec4(w0_0_1.v1.y, w0_0_1.v1.z, w0_0_1.v1.w, w0_0_1.v2.x);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    let w0_1_0 = row5(s0, 0u, 1u, 2u);
    let w0_1_1 = row5(s1, 0u, 1u, 2u);
    {
        let a0 = a4[arow + 1u];
        let b00 = vec4(w0_0_0.v1.z, w0_0_0.v1.w, w0_0_0.v2.x, w0_0_0.v2.y);
        let b01 = vec4(w0_0_1.v1.z, w0_0_1.v1.w, w0_0_1.v2.x, w0_0_1.v2.y);
        let b10 = vec4(w0_1_0.v0.z, w0_1_0.v0.w, w0_1_0.v1.x, w0_1_0.v1.y);
        let b11 = vec4(w0_1_1.v0.z, w0_1_1.v0.w, w0_1_1.v1.x, w0_1_1.v1.y);
        let b20 = vec4(w0_1_0.v0.w, w0_1_0.v1.x, w0_1_0.v1.y, w0_1_0.v1.z);
        let b21 = vec4(w0_1_1.v0.w, w0_1_1.v1.x, w0_1_1.v1.y, w0_1_1.v1.z);
        let b30 = vec4(w0_1_0.v1.x, w0_1_0.v1.y, w0_1_0.v1.z, w0_1_0.v1.w);
        let b31 = vec4(w0_1_1.v1.x, w0_1_1.v1.y, w0_1_1.v1.z, w0_1_1.v1.w);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    let w0_2_0 = row5(s0, 0u, 2u, 2u);
    let w0_2_1 = row5(s1, 0u, 2u, 2u);
    {
        let a0 = a4[arow + 2u];
        let b00 = vec4(w0_1_0.v1.y, w0_1_0.v1.z, w0_1_0.v1.w, w0_1_0.v2.x);
        let b01 = vec4(w0_1_1.v1.y, w0_1_1.v1.z, w0_1_1.v1.w, w0_1_1.v2.x);
        let b10 = vec4(w0_1_0.v1.z, w0_1_0.v1.w, w0_1_0.v2.x, w0_1_0.v2.y);
        let b11 = vec4(w0_1_1.v1.z, w0_1_1.v1.w, w0_1_1.v2.x, w0_1_1.v2.y);
        let b20 = vec4(w0_2_0.v0.z, w0_2_0.v0.w, w0_2_0.v1.x, w0_2_0.v1.y);
        let b21 = vec4(w0_2_1.v0.z, w0_2_1.v0.w, w0_2_1.v1.x, w0_2_1.v1.y);
        let b30 = vec4(w0_2_0.v0.w, w0_2_0.v1.x, w0_2_0.v1.y, w0_2_0.v1.z);
        let b31 = vec4(w0_2_1.v0.w, w0_2_1.v1.x, w0_2_1.v1.y, w0_2_1.v1.z);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    let w0_3_0 = row5(s0, 0u, 3u, 2u);
    let w0_3_1 = row5(s1, 0u, 3u, 2u);
    {
        let a0 = a4[arow + 3u];
        let b00 = vec4(w0_2_0.v1.x, w0_2_0.v1.y, w0_2_0.v1.z, w0_2_0.v1.w);
        let b01 = vec4(w0_2_1.v1.x, w0_2_1.v1.y, w0_2_1.v1.z, w0_2_1.v1.w);
        let b10 = vec4(w0_2_0.v1.y, w0_2_0.v1.z, w0_2_0.v1.w, w0_2_0.v2.x);
        let b11 = vec4(w0_2_1.v1.y, w0_2_1.v1.z, w0_2_1.v1.w, w0_2_1.v2.x);
        let b20 = vec4(w0_2_0.v1.z, w0_2_0.v1.w, w0_2_0.v2.x, w0_2_0.v2.y);
        let b21 = vec4(w0_2_1.v1.z, w0_2_1.v1.w, w0_2_1.v2.x, w0_2_1.v2.y);
        let b30 = vec4(w0_3_0.v0.z, w0_3_0.v0.w, w0_3_0.v1.x, w0_3_0.v1.y);
        let b31 = vec4(w0_3_1.v0.z, w0_3_1.v0.w, w0_3_1.v1.x, w0_3_1.v1.y);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    {
        let a0 = a4[arow + 4u];
        let b00 = vec4(w0_3_0.v0.w, w0_3_0.v1.x, w0_3_0.v1.y, w0_3_0.v1.z);
        let b01 = vec4(w0_3_1.v0.w, w0_3_1.v1.x, w0_3_1.v1.y, w0_3_1.v1.z);
        let b10 = vec4(w0_3_0.v1.x, w0_3_0.v1.y, w0_3_0.v1.z, w0_3_0.v1.w);
        let b11 = vec4(w0_3_1.v1.x, w0_3_1.v1.y, w0_3_1.v1.z, w0_3_1.v1.w);
        let b20 = vec4(w0_3_0.v1.y, w0_3_0.v1.z, w0_3_0.v1.w, w0_3_0.v2.x);
        let b21 = vec4(w0_3_1.v1.y, w0_3_1.v1.z, w0_3_1.v1.w, w0_3_1.v2.x);
        let b30 = vec4(w0_3_0.v1.z, w0_3_0.v1.w, w0_3_0.v2.x, w0_3_0.v2.y);
        let b31 = vec4(w0_3_1.v1.z, w0_3_1.v1.w, w0_3_1.v2.x, w0_3_1.v2.y);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    let w0_4_0 = row5(s0, 0u, 4u, 2u);
    let w0_4_1 = row5(s1, 0u, 4u, 2u);
    {
        let a0 = a4[arow + 5u];
        let b00 = vec4(w0_4_0.v0.z, w0_4_0.v0.w, w0_4_0.v1.x, w0_4_0.v1.y);
        let b01 = vec4(w0_4_1.v0.z, w0_4_1.v0.w, w0_4_1.v1.x, w0_4_1.v1.y);
        let b10 = vec4(w0_4_0.v0.w, w0_4_0.v1.x, w0_4_0.v1.y, w0_4_0.v1.z);
        let b11 = vec4(w0_4_1.v0.w, w0_4_1.v1.x, w0_4_1.v1.y, w0_4_1.v1.z);
        let b20 = vec4(w0_4_0.v1.x, w0_4_0.v1.y, w0_4_0.v1.z, w0_4_0.v1.w);
        let b21 = vec4(w0_4_1.v1.x, w0_4_1.v1.y, w0_4_1.v1.z, w0_4_1.v1.w);
        let b30 = vec4(w0_4_0.v1.y, w0_4_0.v1.z, w0_4_0.v1.w, w0_4_0.v2.x);
        let b31 = vec4(w0_4_1.v1.y, w0_4_1.v1.z, w0_4_1.v1.w, w0_4_1.v2.x);
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    {
        let a0 = a4[arow + 6u];
        let b00 = vec4(w0_4_0.v1.z, w0_4_0.v1.w, w0_4_0.v2.x, w0_4_0.v2.y);
        let b01 = vec4(w0_4_1.v1.z, w0_4_1.v1.w, w0_4_1.v2.x, w0_4_1.v2.y);
        let b10 = zero4;
        let b11 = zero4;
        let b20 = zero4;
        let b21 = zero4;
        let b30 = zero4;
        let b31 = zero4;
        let x0 = subgroupBroadcast(a0, 0u);
        acc0_0 += x0.x * b00 + x0.y * b10 + x0.z * b20 + x0.w * b30;
        acc0_1 += x0.x * b01 + x0.y * b11 + x0.z * b21 + x0.w * b31;
        let x1 = subgroupBroadcast(a0, 1u);
        acc1_0 += x1.x * b00 + x1.y * b10 + x1.z * b20 + x1.w * b30;
        acc1_1 += x1.x * b01 + x1.y * b11 + x1.z * b21 + x1.w * b31;
        let x2 = subgroupBroadcast(a0, 2u);
        acc2_0 += x2.x * b00 + x2.y * b10 + x2.z * b20 + x2.w * b30;
        acc2_1 += x2.x * b01 + x2.y * b11 + x2.z * b21 + x2.w * b31;
        let x3 = subgroupBroadcast(a0, 3u);
        acc3_0 += x3.x * b00 + x3.y * b10 + x3.z * b20 + x3.w * b30;
        acc3_1 += x3.x * b01 + x3.y * b11 + x3.z * b21 + x3.w * b31;
        let x4 = subgroupBroadcast(a0, 4u);
        acc4_0 += x4.x * b00 + x4.y * b10 + x4.z * b20 + x4.w * b30;
        acc4_1 += x4.x * b01 + x4.y * b11 + x4.z * b21 + x4.w * b31;
        let x5 = subgroupBroadcast(a0, 5u);
        acc5_0 += x5.x * b00 + x5.y * b10 + x5.z * b20 + x5.w * b30;
        acc5_1 += x5.x * b01 + x5.y * b11 + x5.z * b21 + x5.w * b31;
        let x6 = subgroupBroadcast(a0, 6u);
        acc6_0 += x6.x * b00 + x6.y * b10 + x6.z * b20 + x6.w * b30;
        acc6_1 += x6.x * b01 + x6.y * b11 + x6.z * b21 + x6.w * b31;
        let x7 = subgroupBroadcast(a0, 7u);
        acc7_0 += x7.x * b00 + x7.y * b10 + x7.z * b20 + x7.w * b30;
        acc7_1 += x7.x * b01 + x7.y * b11 + x7.z * b21 + x7.w * b31;
    }
    store(s0, 0u, acc0_0);
    store(s1, 0u, acc0_1);
    store(s0, 1u, acc1_0);
    store(s1, 1u, acc1_1);
    store(s0, 2u, acc2_0);
    store(s1, 2u, acc2_1);
    store(s0, 3u, acc3_0);
    store(s1, 3u, acc3_1);
    store(s0, 4u, acc4_0);
    store(s1, 4u, acc4_1);
    store(s0, 5u, acc5_0);
    store(s1, 5u, acc5_1);
    store(s0, 6u, acc6_0);
    store(s1, 6u, acc6_1);
    store(s0, 7u, acc7_0);
    store(s1, 7u, acc7_1);
}
// end unrolled
