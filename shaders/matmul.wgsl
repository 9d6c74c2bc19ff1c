// Batched matrix product with fused bias and ReLU, in two forms.
//
// mm_sg8 is the fast path for adapters whose subgroup is exactly 8 lanes (Mesa lavapipe on
// AVX2/AVX-512 CPUs, some integrated GPUs). lavapipe turns every storage load whose address
// differs between lanes into a loop over the lanes, so a load costs far more than an FMA.
// Here each lane loads one vec4 of A per 8 rows and shares it with the other lanes through
// subgroupBroadcast; a 32-row × 64-column tile then needs 12 vec4 loads per lane per 4 k for
// 1024 FMAs (measured on lavapipe: 16×64 tiles ~20 GFLOP/s, 32×64 ~27-32). The loops are unrolled by hand because lavapipe keeps a dynamically indexed
// accumulator array in memory. Its operands are packed first (entry `pack`) into
// zero-padded row-major buffers: A as [Mp, Kp] and B as [Kp, Np] with Mp % 32 = 0,
// Kp % 4 = 0, Np % 64 = 0, so the inner loop needs no bounds checks. An operand that is
// already row-major along K with K % 4 = 0 and vec4-aligned strides is read in place: its
// rows (columns of B) past M (N) up to the padded size hold other data, which only reaches
// outputs the epilogue drops. For these kernels a_off, a_rs, a_bs and b_off, b_rs, b_bs
// address the operands in vec4s.
//
// mm_tiled is the portable path: 8×8 workgroups, a 4×4 block per invocation, reading the
// operands in place through their strides.
//
// Both write C[b] (+)= A[b]·B[b] (+ bias per column) (ReLU) through C's strides.

struct Params {
    m: u32, n: u32, k: u32, flags: u32,
    a_off: u32, a_rs: u32, a_cs: u32, a_bs: u32,
    b_off: u32, b_rs: u32, b_cs: u32, b_bs: u32,
    c_off: u32, c_rs: u32, c_cs: u32, c_bs: u32,
    bias_off: u32, kp: u32, np: u32, mp: u32,
    // Batch items (the five probes) may each have their own bias.
    bias_bs: u32,
}

const HAS_BIAS: u32 = 1u;
const RELU: u32 = 2u;
const ACCUMULATE: u32 = 4u;
// The packed A (or B) is one matrix shared by every batch item.
const SHARED_A: u32 = 8u;
const SHARED_B: u32 = 16u;
// C is computed transposed: the bias then runs along the kernel's rows.
const BIAS_BY_ROW: u32 = 32u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> b4: array<vec4<f32>>;
// The output again, four elements at a time: on lavapipe each store with per-lane
// addresses is a loop over the lanes, so one vec4 store replaces four loops.
@group(0) @binding(7) var<storage, read_write> c4: array<vec4<f32>>;

fn epilogue(batch: u32, row: u32, col: u32, v: f32) {
    if (row >= p.m || col >= p.n) {
        return;
    }
    var x = v;
    if ((p.flags & HAS_BIAS) != 0u) {
        x += bias[p.bias_off + batch * p.bias_bs + select(col, row, (p.flags & BIAS_BY_ROW) != 0u)];
    }
    if ((p.flags & RELU) != 0u) {
        x = max(x, 0.0);
    }
    let i = p.c_off + batch * p.c_bs + row * p.c_rs + col * p.c_cs;
    if ((p.flags & ACCUMULATE) != 0u) {
        x += c[i];
    }
    c[i] = x;
}

// Copies the strided matrix (a_off, a_rs, a_cs, a_bs) of m × k into c4 as a zero-padded
// row-major [mp, kp] matrix per batch item (c_bs apart, a multiple of 4). One invocation
// per four output elements; kp % 4 = 0, so the four never straddle a row.
@compute @workgroup_size(64)
fn pack(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let quads = p.mp * p.kp / 4u;
    let q = gid.x + gid.y * nwg.x * 64u;
    if (q >= quads) {
        return;
    }
    let row = 4u * q / p.kp;
    let col = 4u * q % p.kp;
    let base = p.a_off + gid.z * p.a_bs + row * p.a_rs;
    var v = vec4(0.0);
    if (row < p.m) {
        for (var j = 0u; j < 4u; j++) {
            if (col + j < p.k) {
                v[j] = a[base + (col + j) * p.a_cs];
            }
        }
    }
    c4[gid.z * p.c_bs / 4u + q] = v;
}

@compute @workgroup_size(8)
fn mm_sg8(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    let batch = wg.z;
    let k4 = p.kp / 4u;
    // Row stride of B in vec4s.
    let n4 = p.b_rs;
    let r0 = wg.y * 32u;
    // This lane owns columns 4·c4 .. 4·c4+3 and the same 32 columns further right.
    let c4 = wg.x * 16u + lane;
    let a_base = p.a_off + select(batch, 0u, (p.flags & SHARED_A) != 0u) * p.a_bs;
    let b_base = p.b_off + select(batch, 0u, (p.flags & SHARED_B) != 0u) * p.b_bs;
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
    for (var k = 0u; k < k4; k++) {
        // Rows r0 + 8q + lane (q < 4), k-values 4k .. 4k+3.
        let a0 = a4[a_base + (r0 + lane) * p.a_rs + k];
        let a1 = a4[a_base + (r0 + 8u + lane) * p.a_rs + k];
        let a2 = a4[a_base + (r0 + 16u + lane) * p.a_rs + k];
        let a3 = a4[a_base + (r0 + 24u + lane) * p.a_rs + k];
        let row = b_base + 4u * k * n4 + c4;
        let b00 = b4[row];
        let b01 = b4[row + 8u];
        let b10 = b4[row + 1u * n4];
        let b11 = b4[row + 1u * n4 + 8u];
        let b20 = b4[row + 2u * n4];
        let b21 = b4[row + 2u * n4 + 8u];
        let b30 = b4[row + 3u * n4];
        let b31 = b4[row + 3u * n4 + 8u];
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
        let x8 = subgroupBroadcast(a1, 0u);
        acc8_0 += x8.x * b00 + x8.y * b10 + x8.z * b20 + x8.w * b30;
        acc8_1 += x8.x * b01 + x8.y * b11 + x8.z * b21 + x8.w * b31;
        let x9 = subgroupBroadcast(a1, 1u);
        acc9_0 += x9.x * b00 + x9.y * b10 + x9.z * b20 + x9.w * b30;
        acc9_1 += x9.x * b01 + x9.y * b11 + x9.z * b21 + x9.w * b31;
        let x10 = subgroupBroadcast(a1, 2u);
        acc10_0 += x10.x * b00 + x10.y * b10 + x10.z * b20 + x10.w * b30;
        acc10_1 += x10.x * b01 + x10.y * b11 + x10.z * b21 + x10.w * b31;
        let x11 = subgroupBroadcast(a1, 3u);
        acc11_0 += x11.x * b00 + x11.y * b10 + x11.z * b20 + x11.w * b30;
        acc11_1 += x11.x * b01 + x11.y * b11 + x11.z * b21 + x11.w * b31;
        let x12 = subgroupBroadcast(a1, 4u);
        acc12_0 += x12.x * b00 + x12.y * b10 + x12.z * b20 + x12.w * b30;
        acc12_1 += x12.x * b01 + x12.y * b11 + x12.z * b21 + x12.w * b31;
        let x13 = subgroupBroadcast(a1, 5u);
        acc13_0 += x13.x * b00 + x13.y * b10 + x13.z * b20 + x13.w * b30;
        acc13_1 += x13.x * b01 + x13.y * b11 + x13.z * b21 + x13.w * b31;
        let x14 = subgroupBroadcast(a1, 6u);
        acc14_0 += x14.x * b00 + x14.y * b10 + x14.z * b20 + x14.w * b30;
        acc14_1 += x14.x * b01 + x14.y * b11 + x14.z * b21 + x14.w * b31;
        let x15 = subgroupBroadcast(a1, 7u);
        acc15_0 += x15.x * b00 + x15.y * b10 + x15.z * b20 + x15.w * b30;
        acc15_1 += x15.x * b01 + x15.y * b11 + x15.z * b21 + x15.w * b31;
        let x16 = subgroupBroadcast(a2, 0u);
        acc16_0 += x16.x * b00 + x16.y * b10 + x16.z * b20 + x16.w * b30;
        acc16_1 += x16.x * b01 + x16.y * b11 + x16.z * b21 + x16.w * b31;
        let x17 = subgroupBroadcast(a2, 1u);
        acc17_0 += x17.x * b00 + x17.y * b10 + x17.z * b20 + x17.w * b30;
        acc17_1 += x17.x * b01 + x17.y * b11 + x17.z * b21 + x17.w * b31;
        let x18 = subgroupBroadcast(a2, 2u);
        acc18_0 += x18.x * b00 + x18.y * b10 + x18.z * b20 + x18.w * b30;
        acc18_1 += x18.x * b01 + x18.y * b11 + x18.z * b21 + x18.w * b31;
        let x19 = subgroupBroadcast(a2, 3u);
        acc19_0 += x19.x * b00 + x19.y * b10 + x19.z * b20 + x19.w * b30;
        acc19_1 += x19.x * b01 + x19.y * b11 + x19.z * b21 + x19.w * b31;
        let x20 = subgroupBroadcast(a2, 4u);
        acc20_0 += x20.x * b00 + x20.y * b10 + x20.z * b20 + x20.w * b30;
        acc20_1 += x20.x * b01 + x20.y * b11 + x20.z * b21 + x20.w * b31;
        let x21 = subgroupBroadcast(a2, 5u);
        acc21_0 += x21.x * b00 + x21.y * b10 + x21.z * b20 + x21.w * b30;
        acc21_1 += x21.x * b01 + x21.y * b11 + x21.z * b21 + x21.w * b31;
        let x22 = subgroupBroadcast(a2, 6u);
        acc22_0 += x22.x * b00 + x22.y * b10 + x22.z * b20 + x22.w * b30;
        acc22_1 += x22.x * b01 + x22.y * b11 + x22.z * b21 + x22.w * b31;
        let x23 = subgroupBroadcast(a2, 7u);
        acc23_0 += x23.x * b00 + x23.y * b10 + x23.z * b20 + x23.w * b30;
        acc23_1 += x23.x * b01 + x23.y * b11 + x23.z * b21 + x23.w * b31;
        let x24 = subgroupBroadcast(a3, 0u);
        acc24_0 += x24.x * b00 + x24.y * b10 + x24.z * b20 + x24.w * b30;
        acc24_1 += x24.x * b01 + x24.y * b11 + x24.z * b21 + x24.w * b31;
        let x25 = subgroupBroadcast(a3, 1u);
        acc25_0 += x25.x * b00 + x25.y * b10 + x25.z * b20 + x25.w * b30;
        acc25_1 += x25.x * b01 + x25.y * b11 + x25.z * b21 + x25.w * b31;
        let x26 = subgroupBroadcast(a3, 2u);
        acc26_0 += x26.x * b00 + x26.y * b10 + x26.z * b20 + x26.w * b30;
        acc26_1 += x26.x * b01 + x26.y * b11 + x26.z * b21 + x26.w * b31;
        let x27 = subgroupBroadcast(a3, 3u);
        acc27_0 += x27.x * b00 + x27.y * b10 + x27.z * b20 + x27.w * b30;
        acc27_1 += x27.x * b01 + x27.y * b11 + x27.z * b21 + x27.w * b31;
        let x28 = subgroupBroadcast(a3, 4u);
        acc28_0 += x28.x * b00 + x28.y * b10 + x28.z * b20 + x28.w * b30;
        acc28_1 += x28.x * b01 + x28.y * b11 + x28.z * b21 + x28.w * b31;
        let x29 = subgroupBroadcast(a3, 5u);
        acc29_0 += x29.x * b00 + x29.y * b10 + x29.z * b20 + x29.w * b30;
        acc29_1 += x29.x * b01 + x29.y * b11 + x29.z * b21 + x29.w * b31;
        let x30 = subgroupBroadcast(a3, 6u);
        acc30_0 += x30.x * b00 + x30.y * b10 + x30.z * b20 + x30.w * b30;
        acc30_1 += x30.x * b01 + x30.y * b11 + x30.z * b21 + x30.w * b31;
        let x31 = subgroupBroadcast(a3, 7u);
        acc31_0 += x31.x * b00 + x31.y * b10 + x31.z * b20 + x31.w * b30;
        acc31_1 += x31.x * b01 + x31.y * b11 + x31.z * b21 + x31.w * b31;
    }
    let col0 = 4u * c4;
    store4(batch, r0 + 0u, col0, acc0_0);
    store4(batch, r0 + 0u, col0 + 32u, acc0_1);
    store4(batch, r0 + 1u, col0, acc1_0);
    store4(batch, r0 + 1u, col0 + 32u, acc1_1);
    store4(batch, r0 + 2u, col0, acc2_0);
    store4(batch, r0 + 2u, col0 + 32u, acc2_1);
    store4(batch, r0 + 3u, col0, acc3_0);
    store4(batch, r0 + 3u, col0 + 32u, acc3_1);
    store4(batch, r0 + 4u, col0, acc4_0);
    store4(batch, r0 + 4u, col0 + 32u, acc4_1);
    store4(batch, r0 + 5u, col0, acc5_0);
    store4(batch, r0 + 5u, col0 + 32u, acc5_1);
    store4(batch, r0 + 6u, col0, acc6_0);
    store4(batch, r0 + 6u, col0 + 32u, acc6_1);
    store4(batch, r0 + 7u, col0, acc7_0);
    store4(batch, r0 + 7u, col0 + 32u, acc7_1);
    store4(batch, r0 + 8u, col0, acc8_0);
    store4(batch, r0 + 8u, col0 + 32u, acc8_1);
    store4(batch, r0 + 9u, col0, acc9_0);
    store4(batch, r0 + 9u, col0 + 32u, acc9_1);
    store4(batch, r0 + 10u, col0, acc10_0);
    store4(batch, r0 + 10u, col0 + 32u, acc10_1);
    store4(batch, r0 + 11u, col0, acc11_0);
    store4(batch, r0 + 11u, col0 + 32u, acc11_1);
    store4(batch, r0 + 12u, col0, acc12_0);
    store4(batch, r0 + 12u, col0 + 32u, acc12_1);
    store4(batch, r0 + 13u, col0, acc13_0);
    store4(batch, r0 + 13u, col0 + 32u, acc13_1);
    store4(batch, r0 + 14u, col0, acc14_0);
    store4(batch, r0 + 14u, col0 + 32u, acc14_1);
    store4(batch, r0 + 15u, col0, acc15_0);
    store4(batch, r0 + 15u, col0 + 32u, acc15_1);
    store4(batch, r0 + 16u, col0, acc16_0);
    store4(batch, r0 + 16u, col0 + 32u, acc16_1);
    store4(batch, r0 + 17u, col0, acc17_0);
    store4(batch, r0 + 17u, col0 + 32u, acc17_1);
    store4(batch, r0 + 18u, col0, acc18_0);
    store4(batch, r0 + 18u, col0 + 32u, acc18_1);
    store4(batch, r0 + 19u, col0, acc19_0);
    store4(batch, r0 + 19u, col0 + 32u, acc19_1);
    store4(batch, r0 + 20u, col0, acc20_0);
    store4(batch, r0 + 20u, col0 + 32u, acc20_1);
    store4(batch, r0 + 21u, col0, acc21_0);
    store4(batch, r0 + 21u, col0 + 32u, acc21_1);
    store4(batch, r0 + 22u, col0, acc22_0);
    store4(batch, r0 + 22u, col0 + 32u, acc22_1);
    store4(batch, r0 + 23u, col0, acc23_0);
    store4(batch, r0 + 23u, col0 + 32u, acc23_1);
    store4(batch, r0 + 24u, col0, acc24_0);
    store4(batch, r0 + 24u, col0 + 32u, acc24_1);
    store4(batch, r0 + 25u, col0, acc25_0);
    store4(batch, r0 + 25u, col0 + 32u, acc25_1);
    store4(batch, r0 + 26u, col0, acc26_0);
    store4(batch, r0 + 26u, col0 + 32u, acc26_1);
    store4(batch, r0 + 27u, col0, acc27_0);
    store4(batch, r0 + 27u, col0 + 32u, acc27_1);
    store4(batch, r0 + 28u, col0, acc28_0);
    store4(batch, r0 + 28u, col0 + 32u, acc28_1);
    store4(batch, r0 + 29u, col0, acc29_0);
    store4(batch, r0 + 29u, col0 + 32u, acc29_1);
    store4(batch, r0 + 30u, col0, acc30_0);
    store4(batch, r0 + 30u, col0 + 32u, acc30_1);
    store4(batch, r0 + 31u, col0, acc31_0);
    store4(batch, r0 + 31u, col0 + 32u, acc31_1);
}

// The same for products with few rows (LeNet's 6 and 16 channels): 8- and 16-row tiles
// pad them far less than 32.
@compute @workgroup_size(8)
fn mm_sg8_r16(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    let batch = wg.z;
    let k4 = p.kp / 4u;
    // Row stride of B in vec4s.
    let n4 = p.b_rs;
    let r0 = wg.y * 16u;
    // This lane owns columns 4·c4 .. 4·c4+3 and the same 32 columns further right.
    let c4 = wg.x * 16u + lane;
    let a_base = p.a_off + select(batch, 0u, (p.flags & SHARED_A) != 0u) * p.a_bs;
    let b_base = p.b_off + select(batch, 0u, (p.flags & SHARED_B) != 0u) * p.b_bs;
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
    for (var k = 0u; k < k4; k++) {
        // Rows r0 + 8q + lane (q < 2), k-values 4k .. 4k+3.
        let a0 = a4[a_base + (r0 + lane) * p.a_rs + k];
        let a1 = a4[a_base + (r0 + 8u + lane) * p.a_rs + k];
        let row = b_base + 4u * k * n4 + c4;
        let b00 = b4[row];
        let b01 = b4[row + 8u];
        let b10 = b4[row + 1u * n4];
        let b11 = b4[row + 1u * n4 + 8u];
        let b20 = b4[row + 2u * n4];
        let b21 = b4[row + 2u * n4 + 8u];
        let b30 = b4[row + 3u * n4];
        let b31 = b4[row + 3u * n4 + 8u];
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
        let x8 = subgroupBroadcast(a1, 0u);
        acc8_0 += x8.x * b00 + x8.y * b10 + x8.z * b20 + x8.w * b30;
        acc8_1 += x8.x * b01 + x8.y * b11 + x8.z * b21 + x8.w * b31;
        let x9 = subgroupBroadcast(a1, 1u);
        acc9_0 += x9.x * b00 + x9.y * b10 + x9.z * b20 + x9.w * b30;
        acc9_1 += x9.x * b01 + x9.y * b11 + x9.z * b21 + x9.w * b31;
        let x10 = subgroupBroadcast(a1, 2u);
        acc10_0 += x10.x * b00 + x10.y * b10 + x10.z * b20 + x10.w * b30;
        acc10_1 += x10.x * b01 + x10.y * b11 + x10.z * b21 + x10.w * b31;
        let x11 = subgroupBroadcast(a1, 3u);
        acc11_0 += x11.x * b00 + x11.y * b10 + x11.z * b20 + x11.w * b30;
        acc11_1 += x11.x * b01 + x11.y * b11 + x11.z * b21 + x11.w * b31;
        let x12 = subgroupBroadcast(a1, 4u);
        acc12_0 += x12.x * b00 + x12.y * b10 + x12.z * b20 + x12.w * b30;
        acc12_1 += x12.x * b01 + x12.y * b11 + x12.z * b21 + x12.w * b31;
        let x13 = subgroupBroadcast(a1, 5u);
        acc13_0 += x13.x * b00 + x13.y * b10 + x13.z * b20 + x13.w * b30;
        acc13_1 += x13.x * b01 + x13.y * b11 + x13.z * b21 + x13.w * b31;
        let x14 = subgroupBroadcast(a1, 6u);
        acc14_0 += x14.x * b00 + x14.y * b10 + x14.z * b20 + x14.w * b30;
        acc14_1 += x14.x * b01 + x14.y * b11 + x14.z * b21 + x14.w * b31;
        let x15 = subgroupBroadcast(a1, 7u);
        acc15_0 += x15.x * b00 + x15.y * b10 + x15.z * b20 + x15.w * b30;
        acc15_1 += x15.x * b01 + x15.y * b11 + x15.z * b21 + x15.w * b31;
    }
    let col0 = 4u * c4;
    store4(batch, r0 + 0u, col0, acc0_0);
    store4(batch, r0 + 0u, col0 + 32u, acc0_1);
    store4(batch, r0 + 1u, col0, acc1_0);
    store4(batch, r0 + 1u, col0 + 32u, acc1_1);
    store4(batch, r0 + 2u, col0, acc2_0);
    store4(batch, r0 + 2u, col0 + 32u, acc2_1);
    store4(batch, r0 + 3u, col0, acc3_0);
    store4(batch, r0 + 3u, col0 + 32u, acc3_1);
    store4(batch, r0 + 4u, col0, acc4_0);
    store4(batch, r0 + 4u, col0 + 32u, acc4_1);
    store4(batch, r0 + 5u, col0, acc5_0);
    store4(batch, r0 + 5u, col0 + 32u, acc5_1);
    store4(batch, r0 + 6u, col0, acc6_0);
    store4(batch, r0 + 6u, col0 + 32u, acc6_1);
    store4(batch, r0 + 7u, col0, acc7_0);
    store4(batch, r0 + 7u, col0 + 32u, acc7_1);
    store4(batch, r0 + 8u, col0, acc8_0);
    store4(batch, r0 + 8u, col0 + 32u, acc8_1);
    store4(batch, r0 + 9u, col0, acc9_0);
    store4(batch, r0 + 9u, col0 + 32u, acc9_1);
    store4(batch, r0 + 10u, col0, acc10_0);
    store4(batch, r0 + 10u, col0 + 32u, acc10_1);
    store4(batch, r0 + 11u, col0, acc11_0);
    store4(batch, r0 + 11u, col0 + 32u, acc11_1);
    store4(batch, r0 + 12u, col0, acc12_0);
    store4(batch, r0 + 12u, col0 + 32u, acc12_1);
    store4(batch, r0 + 13u, col0, acc13_0);
    store4(batch, r0 + 13u, col0 + 32u, acc13_1);
    store4(batch, r0 + 14u, col0, acc14_0);
    store4(batch, r0 + 14u, col0 + 32u, acc14_1);
    store4(batch, r0 + 15u, col0, acc15_0);
    store4(batch, r0 + 15u, col0 + 32u, acc15_1);
}

@compute @workgroup_size(8)
fn mm_sg8_r8(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    let batch = wg.z;
    let k4 = p.kp / 4u;
    // Row stride of B in vec4s.
    let n4 = p.b_rs;
    let r0 = wg.y * 8u;
    // This lane owns columns 4·c4 .. 4·c4+3 and the same 32 columns further right.
    let c4 = wg.x * 16u + lane;
    let a_base = p.a_off + select(batch, 0u, (p.flags & SHARED_A) != 0u) * p.a_bs;
    let b_base = p.b_off + select(batch, 0u, (p.flags & SHARED_B) != 0u) * p.b_bs;
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
    for (var k = 0u; k < k4; k++) {
        // Rows r0 + 8q + lane (q < 1), k-values 4k .. 4k+3.
        let a0 = a4[a_base + (r0 + lane) * p.a_rs + k];
        let row = b_base + 4u * k * n4 + c4;
        let b00 = b4[row];
        let b01 = b4[row + 8u];
        let b10 = b4[row + 1u * n4];
        let b11 = b4[row + 1u * n4 + 8u];
        let b20 = b4[row + 2u * n4];
        let b21 = b4[row + 2u * n4 + 8u];
        let b30 = b4[row + 3u * n4];
        let b31 = b4[row + 3u * n4 + 8u];
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
    let col0 = 4u * c4;
    store4(batch, r0 + 0u, col0, acc0_0);
    store4(batch, r0 + 0u, col0 + 32u, acc0_1);
    store4(batch, r0 + 1u, col0, acc1_0);
    store4(batch, r0 + 1u, col0 + 32u, acc1_1);
    store4(batch, r0 + 2u, col0, acc2_0);
    store4(batch, r0 + 2u, col0 + 32u, acc2_1);
    store4(batch, r0 + 3u, col0, acc3_0);
    store4(batch, r0 + 3u, col0 + 32u, acc3_1);
    store4(batch, r0 + 4u, col0, acc4_0);
    store4(batch, r0 + 4u, col0 + 32u, acc4_1);
    store4(batch, r0 + 5u, col0, acc5_0);
    store4(batch, r0 + 5u, col0 + 32u, acc5_1);
    store4(batch, r0 + 6u, col0, acc6_0);
    store4(batch, r0 + 6u, col0 + 32u, acc6_1);
    store4(batch, r0 + 7u, col0, acc7_0);
    store4(batch, r0 + 7u, col0 + 32u, acc7_1);
}

fn store4(batch: u32, row: u32, col: u32, v: vec4<f32>) {
    let i = p.c_off + batch * p.c_bs + row * p.c_rs + col;
    if (p.c_cs == 1u && row < p.m && col + 3u < p.n && i % 4u == 0u) {
        var x = v;
        if ((p.flags & HAS_BIAS) != 0u) {
            let o = p.bias_off + batch * p.bias_bs;
            if ((p.flags & BIAS_BY_ROW) != 0u) {
                x += vec4(bias[o + row]);
            } else {
                x += vec4(bias[o + col], bias[o + col + 1u], bias[o + col + 2u], bias[o + col + 3u]);
            }
        }
        if ((p.flags & RELU) != 0u) {
            x = max(x, vec4(0.0));
        }
        if ((p.flags & ACCUMULATE) != 0u) {
            x += c4[i / 4u];
        }
        c4[i / 4u] = x;
        return;
    }
    epilogue(batch, row, col, v.x);
    epilogue(batch, row, col + 1u, v.y);
    epilogue(batch, row, col + 2u, v.z);
    epilogue(batch, row, col + 3u, v.w);
}

fn load_a(base: u32, row: u32, k: u32) -> f32 {
    if (row >= p.m) {
        return 0.0;
    }
    return a[base + row * p.a_rs + k * p.a_cs];
}

fn load_b(base: u32, k: u32, col: u32) -> f32 {
    if (col >= p.n) {
        return 0.0;
    }
    return b[base + k * p.b_rs + col * p.b_cs];
}

@compute @workgroup_size(8, 8)
fn mm_tiled(@builtin(global_invocation_id) gid: vec3<u32>) {
    let batch = gid.z;
    let a_base = p.a_off + batch * p.a_bs;
    let b_base = p.b_off + batch * p.b_bs;
    let r0 = gid.y * 4u;
    let col0 = gid.x * 4u;
    var acc: array<vec4<f32>, 4>;
    for (var k = 0u; k < p.k; k++) {
        let bv = vec4(load_b(b_base, k, col0), load_b(b_base, k, col0 + 1u),
                      load_b(b_base, k, col0 + 2u), load_b(b_base, k, col0 + 3u));
        for (var r = 0u; r < 4u; r++) {
            acc[r] += load_a(a_base, r0 + r, k) * bv;
        }
    }
    for (var r = 0u; r < 4u; r++) {
        store4(batch, r0 + r, col0, acc[r]);
    }
}
