// The weight gradient of LeNet's first convolution (conv/direct5x5.wgsl's shapes) read
// straight from the NCHW input, with no im2col patches: it adds exactly what im2col and
// weight_grad_nt (conv/im2col.wgsl) add, so that it gives the same bits, and only where
// a patch value comes from differs. The columns (batch · out_pixels, in quads of four
// neighbouring outputs of one row) are cut into weight_grad_nt's chunks of p.chunk quads;
// per (output channel o, tap k) a lane keeps the vec4 sum, over its chunk's quads in
// order, of dYt[o, quad] · col[k, quad] (weight_grad_nt's `acc += x · b`), and `put` adds
// its four lanes into the chunk's partial dW as weight_grad_nt's does; im2col's
// `sum_parts` then adds the chunks in order. Each lane owns one kernel row (c, ky), its
// five taps k = 25c + 5ky + kx picked from the two input vec4s (three with padding) under
// the quad, where weight_grad_nt loaded one vec4 of patches per tap, and the 8 output
// channels, their dY shared by subgroupBroadcast. The entries are generated
// (tests/suite/unrolled.rs) per padding.

// dY folded as `[out_channels, batch·out_pixels]` (im2col's `fold`), in vec4s.
@group(0) @binding(2) var<storage, read> dy4: array<vec4<f32>>;
// The partial weight gradients, `[chunk, out_channels, 25·channels]`.
@group(0) @binding(3) var<storage, read_write> parts: array<f32>;

// Column quad q of the batch.
fn quad_of(q: u32) -> Quad {
    let per_image = p.out_pixels / 4u;
    let b = q / per_image;
    return quad(b, q - b * per_image);
}

// The quad after s in the columns' order: along the row, the next row, the next image.
fn next_quad(s: Quad) -> Quad {
    var n = s;
    n.ox += 4u;
    if (n.ox == p.out_width) {
        n.ox = 0u;
        n.oy += 1u;
        if (n.oy * p.out_width == p.out_pixels) {
            n.oy = 0u;
            n.b += 1u;
        }
    }
    return n;
}

// weight_grad_nt's `put`: the sum of v's four lanes into the chunk's partial dW[o, k],
// for the channels and taps that exist.
fn put(chunk: u32, o: u32, k: u32, stored: bool, v: vec4<f32>) {
    let kdim = 25u * p.channels;
    if (stored && o < p.out_channels) {
        parts[(chunk * p.out_channels + o) * kdim + k] = (v.x + v.y) + (v.z + v.w);
    }
}

// unrolled: direct5x5_grad weight_grad5x5_p0 0
@compute @workgroup_size(8)
fn weight_grad5x5_p0(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    // This lane's kernel row (c, ky); lanes past the last row redo it, unstored.
    let r = 8u * wg.y + lane;
    let stored = r < 5u * p.channels;
    let row = min(r, 5u * p.channels - 1u);
    let c = row / 5u;
    let ky = row - 5u * c;
    let k = 5u * row;
    // Lane o loads output channel o's dY (the last one past out_channels).
    let d_row = min(lane, p.out_channels - 1u) * p.quads;
    let first = wg.x * p.chunk;
    let last = min(first + p.chunk, p.quads);
    var s = quad_of(first);
    var acc0_0 = vec4(0.0);
    var acc0_1 = vec4(0.0);
    var acc0_2 = vec4(0.0);
    var acc0_3 = vec4(0.0);
    var acc0_4 = vec4(0.0);
    var acc1_0 = vec4(0.0);
    var acc1_1 = vec4(0.0);
    var acc1_2 = vec4(0.0);
    var acc1_3 = vec4(0.0);
    var acc1_4 = vec4(0.0);
    var acc2_0 = vec4(0.0);
    var acc2_1 = vec4(0.0);
    var acc2_2 = vec4(0.0);
    var acc2_3 = vec4(0.0);
    var acc2_4 = vec4(0.0);
    var acc3_0 = vec4(0.0);
    var acc3_1 = vec4(0.0);
    var acc3_2 = vec4(0.0);
    var acc3_3 = vec4(0.0);
    var acc3_4 = vec4(0.0);
    var acc4_0 = vec4(0.0);
    var acc4_1 = vec4(0.0);
    var acc4_2 = vec4(0.0);
    var acc4_3 = vec4(0.0);
    var acc4_4 = vec4(0.0);
    var acc5_0 = vec4(0.0);
    var acc5_1 = vec4(0.0);
    var acc5_2 = vec4(0.0);
    var acc5_3 = vec4(0.0);
    var acc5_4 = vec4(0.0);
    var acc6_0 = vec4(0.0);
    var acc6_1 = vec4(0.0);
    var acc6_2 = vec4(0.0);
    var acc6_3 = vec4(0.0);
    var acc6_4 = vec4(0.0);
    var acc7_0 = vec4(0.0);
    var acc7_1 = vec4(0.0);
    var acc7_2 = vec4(0.0);
    var acc7_3 = vec4(0.0);
    var acc7_4 = vec4(0.0);
    for (var q = first; q < last; q++) {
        let d = dy4[d_row + q];
        let w = row5(s, c, ky, 0u);
        let b0 = vec4(w.v0.x, w.v0.y, w.v0.z, w.v0.w);
        let b1 = vec4(w.v0.y, w.v0.z, w.v0.w, w.v1.x);
        let b2 = vec4(w.v0.z, w.v0.w, w.v1.x, w.v1.y);
        let b3 = vec4(w.v0.w, w.v1.x, w.v1.y, w.v1.z);
        let b4 = vec4(w.v1.x, w.v1.y, w.v1.z, w.v1.w);
        let x0 = subgroupBroadcast(d, 0u);
        acc0_0 += x0 * b0;
        acc0_1 += x0 * b1;
        acc0_2 += x0 * b2;
        acc0_3 += x0 * b3;
        acc0_4 += x0 * b4;
        let x1 = subgroupBroadcast(d, 1u);
        acc1_0 += x1 * b0;
        acc1_1 += x1 * b1;
        acc1_2 += x1 * b2;
        acc1_3 += x1 * b3;
        acc1_4 += x1 * b4;
        let x2 = subgroupBroadcast(d, 2u);
        acc2_0 += x2 * b0;
        acc2_1 += x2 * b1;
        acc2_2 += x2 * b2;
        acc2_3 += x2 * b3;
        acc2_4 += x2 * b4;
        let x3 = subgroupBroadcast(d, 3u);
        acc3_0 += x3 * b0;
        acc3_1 += x3 * b1;
        acc3_2 += x3 * b2;
        acc3_3 += x3 * b3;
        acc3_4 += x3 * b4;
        let x4 = subgroupBroadcast(d, 4u);
        acc4_0 += x4 * b0;
        acc4_1 += x4 * b1;
        acc4_2 += x4 * b2;
        acc4_3 += x4 * b3;
        acc4_4 += x4 * b4;
        let x5 = subgroupBroadcast(d, 5u);
        acc5_0 += x5 * b0;
        acc5_1 += x5 * b1;
        acc5_2 += x5 * b2;
        acc5_3 += x5 * b3;
        acc5_4 += x5 * b4;
        let x6 = subgroupBroadcast(d, 6u);
        acc6_0 += x6 * b0;
        acc6_1 += x6 * b1;
        acc6_2 += x6 * b2;
        acc6_3 += x6 * b3;
        acc6_4 += x6 * b4;
        let x7 = subgroupBroadcast(d, 7u);
        acc7_0 += x7 * b0;
        acc7_1 += x7 * b1;
        acc7_2 += x7 * b2;
        acc7_3 += x7 * b3;
        acc7_4 += x7 * b4;
        s = next_quad(s);
    }
    put(wg.x, 0u, k + 0u, stored, acc0_0);
    put(wg.x, 0u, k + 1u, stored, acc0_1);
    put(wg.x, 0u, k + 2u, stored, acc0_2);
    put(wg.x, 0u, k + 3u, stored, acc0_3);
    put(wg.x, 0u, k + 4u, stored, acc0_4);
    put(wg.x, 1u, k + 0u, stored, acc1_0);
    put(wg.x, 1u, k + 1u, stored, acc1_1);
    put(wg.x, 1u, k + 2u, stored, acc1_2);
    put(wg.x, 1u, k + 3u, stored, acc1_3);
    put(wg.x, 1u, k + 4u, stored, acc1_4);
    put(wg.x, 2u, k + 0u, stored, acc2_0);
    put(wg.x, 2u, k + 1u, stored, acc2_1);
    put(wg.x, 2u, k + 2u, stored, acc2_2);
    put(wg.x, 2u, k + 3u, stored, acc2_3);
    put(wg.x, 2u, k + 4u, stored, acc2_4);
    put(wg.x, 3u, k + 0u, stored, acc3_0);
    put(wg.x, 3u, k + 1u, stored, acc3_1);
    put(wg.x, 3u, k + 2u, stored, acc3_2);
    put(wg.x, 3u, k + 3u, stored, acc3_3);
    put(wg.x, 3u, k + 4u, stored, acc3_4);
    put(wg.x, 4u, k + 0u, stored, acc4_0);
    put(wg.x, 4u, k + 1u, stored, acc4_1);
    put(wg.x, 4u, k + 2u, stored, acc4_2);
    put(wg.x, 4u, k + 3u, stored, acc4_3);
    put(wg.x, 4u, k + 4u, stored, acc4_4);
    put(wg.x, 5u, k + 0u, stored, acc5_0);
    put(wg.x, 5u, k + 1u, stored, acc5_1);
    put(wg.x, 5u, k + 2u, stored, acc5_2);
    put(wg.x, 5u, k + 3u, stored, acc5_3);
    put(wg.x, 5u, k + 4u, stored, acc5_4);
    put(wg.x, 6u, k + 0u, stored, acc6_0);
    put(wg.x, 6u, k + 1u, stored, acc6_1);
    put(wg.x, 6u, k + 2u, stored, acc6_2);
    put(wg.x, 6u, k + 3u, stored, acc6_3);
    put(wg.x, 6u, k + 4u, stored, acc6_4);
    put(wg.x, 7u, k + 0u, stored, acc7_0);
    put(wg.x, 7u, k + 1u, stored, acc7_1);
    put(wg.x, 7u, k + 2u, stored, acc7_2);
    put(wg.x, 7u, k + 3u, stored, acc7_3);
    put(wg.x, 7u, k + 4u, stored, acc7_4);
}
// end unrolled

// unrolled: direct5x5_grad weight_grad5x5_p2 2
@compute @workgroup_size(8)
fn weight_grad5x5_p2(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    // This lane's kernel row (c, ky); lanes past the last row redo it, unstored.
    let r = 8u * wg.y + lane;
    let stored = r < 5u * p.channels;
    let row = min(r, 5u * p.channels - 1u);
    let c = row / 5u;
    let ky = row - 5u * c;
    let k = 5u * row;
    // Lane o loads output channel o's dY (the last one past out_channels).
    let d_row = min(lane, p.out_channels - 1u) * p.quads;
    let first = wg.x * p.chunk;
    let last = min(first + p.chunk, p.quads);
    var s = quad_of(first);
    var acc0_0 = vec4(0.0);
    var acc0_1 = vec4(0.0);
    var acc0_2 = vec4(0.0);
    var acc0_3 = vec4(0.0);
    var acc0_4 = vec4(0.0);
    var acc1_0 = vec4(0.0);
    var acc1_1 = vec4(0.0);
    var acc1_2 = vec4(0.0);
    var acc1_3 = vec4(0.0);
    var acc1_4 = vec4(0.0);
    var acc2_0 = vec4(0.0);
    var acc2_1 = vec4(0.0);
    var acc2_2 = vec4(0.0);
    var acc2_3 = vec4(0.0);
    var acc2_4 = vec4(0.0);
    var acc3_0 = vec4(0.0);
    var acc3_1 = vec4(0.0);
    var acc3_2 = vec4(0.0);
    var acc3_3 = vec4(0.0);
    var acc3_4 = vec4(0.0);
    var acc4_0 = vec4(0.0);
    var acc4_1 = vec4(0.0);
    var acc4_2 = vec4(0.0);
    var acc4_3 = vec4(0.0);
    var acc4_4 = vec4(0.0);
    var acc5_0 = vec4(0.0);
    var acc5_1 = vec4(0.0);
    var acc5_2 = vec4(0.0);
    var acc5_3 = vec4(0.0);
    var acc5_4 = vec4(0.0);
    var acc6_0 = vec4(0.0);
    var acc6_1 = vec4(0.0);
    var acc6_2 = vec4(0.0);
    var acc6_3 = vec4(0.0);
    var acc6_4 = vec4(0.0);
    var acc7_0 = vec4(0.0);
    var acc7_1 = vec4(0.0);
    var acc7_2 = vec4(0.0);
    var acc7_3 = vec4(0.0);
    var acc7_4 = vec4(0.0);
    for (var q = first; q < last; q++) {
        let d = dy4[d_row + q];
        let w = row5(s, c, ky, 2u);
        let b0 = vec4(w.v0.z, w.v0.w, w.v1.x, w.v1.y);
        let b1 = vec4(w.v0.w, w.v1.x, w.v1.y, w.v1.z);
        let b2 = vec4(w.v1.x, w.v1.y, w.v1.z, w.v1.w);
        let b3 = vec4(w.v1.y, w.v1.z, w.v1.w, w.v2.x);
        let b4 = vec4(w.v1.z, w.v1.w, w.v2.x, w.v2.y);
        let x0 = subgroupBroadcast(d, 0u);
        acc0_0 += x0 * b0;
        acc0_1 += x0 * b1;
        acc0_2 += x0 * b2;
        acc0_3 += x0 * b3;
        acc0_4 += x0 * b4;
        let x1 = subgroupBroadcast(d, 1u);
        acc1_0 += x1 * b0;
        acc1_1 += x1 * b1;
        acc1_2 += x1 * b2;
        acc1_3 += x1 * b3;
        acc1_4 += x1 * b4;
        let x2 = subgroupBroadcast(d, 2u);
        acc2_0 += x2 * b0;
        acc2_1 += x2 * b1;
        acc2_2 += x2 * b2;
        acc2_3 += x2 * b3;
        acc2_4 += x2 * b4;
        let x3 = subgroupBroadcast(d, 3u);
        acc3_0 += x3 * b0;
        acc3_1 += x3 * b1;
        acc3_2 += x3 * b2;
        acc3_3 += x3 * b3;
        acc3_4 += x3 * b4;
        let x4 = subgroupBroadcast(d, 4u);
        acc4_0 += x4 * b0;
        acc4_1 += x4 * b1;
        acc4_2 += x4 * b2;
        acc4_3 += x4 * b3;
        acc4_4 += x4 * b4;
        let x5 = subgroupBroadcast(d, 5u);
        acc5_0 += x5 * b0;
        acc5_1 += x5 * b1;
        acc5_2 += x5 * b2;
        acc5_3 += x5 * b3;
        acc5_4 += x5 * b4;
        let x6 = subgroupBroadcast(d, 6u);
        acc6_0 += x6 * b0;
        acc6_1 += x6 * b1;
        acc6_2 += x6 * b2;
        acc6_3 += x6 * b3;
        acc6_4 += x6 * b4;
        let x7 = subgroupBroadcast(d, 7u);
        acc7_0 += x7 * b0;
        acc7_1 += x7 * b1;
        acc7_2 += x7 * b2;
        acc7_3 += x7 * b3;
        acc7_4 += x7 * b4;
        s = next_quad(s);
    }
    put(wg.x, 0u, k + 0u, stored, acc0_0);
    put(wg.x, 0u, k + 1u, stored, acc0_1);
    put(wg.x, 0u, k + 2u, stored, acc0_2);
    put(wg.x, 0u, k + 3u, stored, acc0_3);
    put(wg.x, 0u, k + 4u, stored, acc0_4);
    put(wg.x, 1u, k + 0u, stored, acc1_0);
    put(wg.x, 1u, k + 1u, stored, acc1_1);
    put(wg.x, 1u, k + 2u, stored, acc1_2);
    put(wg.x, 1u, k + 3u, stored, acc1_3);
    put(wg.x, 1u, k + 4u, stored, acc1_4);
    put(wg.x, 2u, k + 0u, stored, acc2_0);
    put(wg.x, 2u, k + 1u, stored, acc2_1);
    put(wg.x, 2u, k + 2u, stored, acc2_2);
    put(wg.x, 2u, k + 3u, stored, acc2_3);
    put(wg.x, 2u, k + 4u, stored, acc2_4);
    put(wg.x, 3u, k + 0u, stored, acc3_0);
    put(wg.x, 3u, k + 1u, stored, acc3_1);
    put(wg.x, 3u, k + 2u, stored, acc3_2);
    put(wg.x, 3u, k + 3u, stored, acc3_3);
    put(wg.x, 3u, k + 4u, stored, acc3_4);
    put(wg.x, 4u, k + 0u, stored, acc4_0);
    put(wg.x, 4u, k + 1u, stored, acc4_1);
    put(wg.x, 4u, k + 2u, stored, acc4_2);
    put(wg.x, 4u, k + 3u, stored, acc4_3);
    put(wg.x, 4u, k + 4u, stored, acc4_4);
    put(wg.x, 5u, k + 0u, stored, acc5_0);
    put(wg.x, 5u, k + 1u, stored, acc5_1);
    put(wg.x, 5u, k + 2u, stored, acc5_2);
    put(wg.x, 5u, k + 3u, stored, acc5_3);
    put(wg.x, 5u, k + 4u, stored, acc5_4);
    put(wg.x, 6u, k + 0u, stored, acc6_0);
    put(wg.x, 6u, k + 1u, stored, acc6_1);
    put(wg.x, 6u, k + 2u, stored, acc6_2);
    put(wg.x, 6u, k + 3u, stored, acc6_3);
    put(wg.x, 6u, k + 4u, stored, acc6_4);
    put(wg.x, 7u, k + 0u, stored, acc7_0);
    put(wg.x, 7u, k + 1u, stored, acc7_1);
    put(wg.x, 7u, k + 2u, stored, acc7_2);
    put(wg.x, 7u, k + 3u, stored, acc7_3);
    put(wg.x, 7u, k + 4u, stored, acc7_4);
}
// end unrolled
