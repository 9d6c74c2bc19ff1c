// The weight gradient dW[o, c, ky, kx] = Σ over columns of dY[o, g] · (the same windows)
// contracts over the columns: `weight_grad` gives each subgroup 8 output channels × 4
// channels and a chunk of the columns, 32 per step; lanes keep their own sums, added over
// the subgroup at the end into one partial dW per chunk, which `sum_chunks` adds up in a
// fixed order.

// weight_grad: dY -> partial dW per chunk; sum_chunks: -> dW.
@group(0) @binding(7) var<storage, read> dy4: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> parts: array<f32>;
@group(0) @binding(9) var<storage, read_write> dw: array<f32>;

// dY at the lane's four columns for output channel o (zero past the columns or channels).
fn grad_out(s: Source, o: u32) -> vec4<f32> {
    let ok = s.ok && o < p.out_channels;
    return select(vec4(0.0), dy4[select(0u, s.out + o * p.out_pixels / 4u, ok)], ok);
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

// unrolled: direct3x3_grad weight_grad 8 4
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
// end unrolled

@compute @workgroup_size(64)
fn sum_chunks(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let n = index(gid, nwg);
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
