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
//
// LeNet's second convolution (rows of 14 inputs and 10 outputs, 16 output channels):
// `weight_grad5x5_p0_o16` reads each of the quad's four pixels' five taps as scalars (a
// quad of the folded columns may cross an output row) and takes 16 output channels from
// two dY loads, in the same order.

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

// The input as scalars, for rows that are not whole vec4s.
@group(0) @binding(4) var<storage, read> x1: array<f32>;

// The first of a column quad's four pixels: image b, output row oy and column ox. A quad
// never crosses images (out_pixels is a multiple of 4) and, with out_width ≥ 4, crosses
// at most one row end.
struct Pixel {
    b: u32,
    oy: u32,
    ox: u32,
}

fn pixel_of(q: u32) -> Pixel {
    let per_image = p.out_pixels / 4u;
    let b = q / per_image;
    let pix = 4u * (q - b * per_image);
    let oy = pix / p.out_width;
    return Pixel(b, oy, pix - oy * p.out_width);
}

// The next quad's first pixel, four columns on.
fn next_pixel(s: Pixel) -> Pixel {
    var n = s;
    n.ox += 4u;
    if (n.ox >= p.out_width) {
        n.ox -= p.out_width;
        n.oy += 1u;
        if (n.oy * p.out_width == p.out_pixels) {
            n.oy = 0u;
            n.b += 1u;
        }
    }
    return n;
}

// Index in x1 of the input under pixel j of the quad at tap (c, ky, kx = 0): its patch
// values for kx = 0..4 follow it.
fn row_start(s: Pixel, j: u32, c: u32, ky: u32) -> u32 {
    let wrap = s.ox + j >= p.out_width;
    let ox = select(s.ox + j, s.ox + j - p.out_width, wrap);
    let oy = s.oy + select(0u, 1u, wrap);
    return ((s.b * p.channels + c) * p.height + oy + ky) * p.width + ox;
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

// unrolled: direct5x5_grad_rows1 weight_grad5x5_p0_o16 16
@compute @workgroup_size(8)
fn weight_grad5x5_p0_o16(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    // This lane's kernel row (c, ky); lanes past the last row redo it, unstored.
    let r = 8u * wg.y + lane;
    let stored = r < 5u * p.channels;
    let row = min(r, 5u * p.channels - 1u);
    let c = row / 5u;
    let ky = row - 5u * c;
    let k = 5u * row;
    // Lane o loads output channels o's and 8 + o's dY (the last one past out_channels).
    let d_row0 = min(lane, p.out_channels - 1u) * p.quads;
    let d_row1 = min(8u + lane, p.out_channels - 1u) * p.quads;
    let first = wg.x * p.chunk;
    let last = min(first + p.chunk, p.quads);
    var s = pixel_of(first);
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
    var acc8_0 = vec4(0.0);
    var acc8_1 = vec4(0.0);
    var acc8_2 = vec4(0.0);
    var acc8_3 = vec4(0.0);
    var acc8_4 = vec4(0.0);
    var acc9_0 = vec4(0.0);
    var acc9_1 = vec4(0.0);
    var acc9_2 = vec4(0.0);
    var acc9_3 = vec4(0.0);
    var acc9_4 = vec4(0.0);
    var acc10_0 = vec4(0.0);
    var acc10_1 = vec4(0.0);
    var acc10_2 = vec4(0.0);
    var acc10_3 = vec4(0.0);
    var acc10_4 = vec4(0.0);
    var acc11_0 = vec4(0.0);
    var acc11_1 = vec4(0.0);
    var acc11_2 = vec4(0.0);
    var acc11_3 = vec4(0.0);
    var acc11_4 = vec4(0.0);
    var acc12_0 = vec4(0.0);
    var acc12_1 = vec4(0.0);
    var acc12_2 = vec4(0.0);
    var acc12_3 = vec4(0.0);
    var acc12_4 = vec4(0.0);
    var acc13_0 = vec4(0.0);
    var acc13_1 = vec4(0.0);
    var acc13_2 = vec4(0.0);
    var acc13_3 = vec4(0.0);
    var acc13_4 = vec4(0.0);
    var acc14_0 = vec4(0.0);
    var acc14_1 = vec4(0.0);
    var acc14_2 = vec4(0.0);
    var acc14_3 = vec4(0.0);
    var acc14_4 = vec4(0.0);
    var acc15_0 = vec4(0.0);
    var acc15_1 = vec4(0.0);
    var acc15_2 = vec4(0.0);
    var acc15_3 = vec4(0.0);
    var acc15_4 = vec4(0.0);
    for (var q = first; q < last; q++) {
        let d0 = dy4[d_row0 + q];
        let d1 = dy4[d_row1 + q];
        let i0 = row_start(s, 0u, c, ky);
        let i1 = row_start(s, 1u, c, ky);
        let i2 = row_start(s, 2u, c, ky);
        let i3 = row_start(s, 3u, c, ky);
        let b0 = vec4(x1[i0], x1[i1], x1[i2], x1[i3]);
        let b1 = vec4(x1[i0 + 1u], x1[i1 + 1u], x1[i2 + 1u], x1[i3 + 1u]);
        let b2 = vec4(x1[i0 + 2u], x1[i1 + 2u], x1[i2 + 2u], x1[i3 + 2u]);
        let b3 = vec4(x1[i0 + 3u], x1[i1 + 3u], x1[i2 + 3u], x1[i3 + 3u]);
        let b4 = vec4(x1[i0 + 4u], x1[i1 + 4u], x1[i2 + 4u], x1[i3 + 4u]);
        let x0 = subgroupBroadcast(d0, 0u);
        acc0_0 += x0 * b0;
        acc0_1 += x0 * b1;
        acc0_2 += x0 * b2;
        acc0_3 += x0 * b3;
        acc0_4 += x0 * b4;
        let x1 = subgroupBroadcast(d0, 1u);
        acc1_0 += x1 * b0;
        acc1_1 += x1 * b1;
        acc1_2 += x1 * b2;
        acc1_3 += x1 * b3;
        acc1_4 += x1 * b4;
        let x2 = subgroupBroadcast(d0, 2u);
        acc2_0 += x2 * b0;
        acc2_1 += x2 * b1;
        acc2_2 += x2 * b2;
        acc2_3 += x2 * b3;
        acc2_4 += x2 * b4;
        let x3 = subgroupBroadcast(d0, 3u);
        acc3_0 += x3 * b0;
        acc3_1 += x3 * b1;
        acc3_2 += x3 * b2;
        acc3_3 += x3 * b3;
        acc3_4 += x3 * b4;
        let x4 = subgroupBroadcast(d0, 4u);
        acc4_0 += x4 * b0;
        acc4_1 += x4 * b1;
        acc4_2 += x4 * b2;
        acc4_3 += x4 * b3;
        acc4_4 += x4 * b4;
        let x5 = subgroupBroadcast(d0, 5u);
        acc5_0 += x5 * b0;
        acc5_1 += x5 * b1;
        acc5_2 += x5 * b2;
        acc5_3 += x5 * b3;
        acc5_4 += x5 * b4;
        let x6 = subgroupBroadcast(d0, 6u);
        acc6_0 += x6 * b0;
        acc6_1 += x6 * b1;
        acc6_2 += x6 * b2;
        acc6_3 += x6 * b3;
        acc6_4 += x6 * b4;
        let x7 = subgroupBroadcast(d0, 7u);
        acc7_0 += x7 * b0;
        acc7_1 += x7 * b1;
        acc7_2 += x7 * b2;
        acc7_3 += x7 * b3;
        acc7_4 += x7 * b4;
        let x8 = subgroupBroadcast(d1, 0u);
        acc8_0 += x8 * b0;
        acc8_1 += x8 * b1;
        acc8_2 += x8 * b2;
        acc8_3 += x8 * b3;
        acc8_4 += x8 * b4;
        let x9 = subgroupBroadcast(d1, 1u);
        acc9_0 += x9 * b0;
        acc9_1 += x9 * b1;
        acc9_2 += x9 * b2;
        acc9_3 += x9 * b3;
        acc9_4 += x9 * b4;
        let x10 = subgroupBroadcast(d1, 2u);
        acc10_0 += x10 * b0;
        acc10_1 += x10 * b1;
        acc10_2 += x10 * b2;
        acc10_3 += x10 * b3;
        acc10_4 += x10 * b4;
        let x11 = subgroupBroadcast(d1, 3u);
        acc11_0 += x11 * b0;
        acc11_1 += x11 * b1;
        acc11_2 += x11 * b2;
        acc11_3 += x11 * b3;
        acc11_4 += x11 * b4;
        let x12 = subgroupBroadcast(d1, 4u);
        acc12_0 += x12 * b0;
        acc12_1 += x12 * b1;
        acc12_2 += x12 * b2;
        acc12_3 += x12 * b3;
        acc12_4 += x12 * b4;
        let x13 = subgroupBroadcast(d1, 5u);
        acc13_0 += x13 * b0;
        acc13_1 += x13 * b1;
        acc13_2 += x13 * b2;
        acc13_3 += x13 * b3;
        acc13_4 += x13 * b4;
        let x14 = subgroupBroadcast(d1, 6u);
        acc14_0 += x14 * b0;
        acc14_1 += x14 * b1;
        acc14_2 += x14 * b2;
        acc14_3 += x14 * b3;
        acc14_4 += x14 * b4;
        let x15 = subgroupBroadcast(d1, 7u);
        acc15_0 += x15 * b0;
        acc15_1 += x15 * b1;
        acc15_2 += x15 * b2;
        acc15_3 += x15 * b3;
        acc15_4 += x15 * b4;
        s = next_pixel(s);
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
    put(wg.x, 8u, k + 0u, stored, acc8_0);
    put(wg.x, 8u, k + 1u, stored, acc8_1);
    put(wg.x, 8u, k + 2u, stored, acc8_2);
    put(wg.x, 8u, k + 3u, stored, acc8_3);
    put(wg.x, 8u, k + 4u, stored, acc8_4);
    put(wg.x, 9u, k + 0u, stored, acc9_0);
    put(wg.x, 9u, k + 1u, stored, acc9_1);
    put(wg.x, 9u, k + 2u, stored, acc9_2);
    put(wg.x, 9u, k + 3u, stored, acc9_3);
    put(wg.x, 9u, k + 4u, stored, acc9_4);
    put(wg.x, 10u, k + 0u, stored, acc10_0);
    put(wg.x, 10u, k + 1u, stored, acc10_1);
    put(wg.x, 10u, k + 2u, stored, acc10_2);
    put(wg.x, 10u, k + 3u, stored, acc10_3);
    put(wg.x, 10u, k + 4u, stored, acc10_4);
    put(wg.x, 11u, k + 0u, stored, acc11_0);
    put(wg.x, 11u, k + 1u, stored, acc11_1);
    put(wg.x, 11u, k + 2u, stored, acc11_2);
    put(wg.x, 11u, k + 3u, stored, acc11_3);
    put(wg.x, 11u, k + 4u, stored, acc11_4);
    put(wg.x, 12u, k + 0u, stored, acc12_0);
    put(wg.x, 12u, k + 1u, stored, acc12_1);
    put(wg.x, 12u, k + 2u, stored, acc12_2);
    put(wg.x, 12u, k + 3u, stored, acc12_3);
    put(wg.x, 12u, k + 4u, stored, acc12_4);
    put(wg.x, 13u, k + 0u, stored, acc13_0);
    put(wg.x, 13u, k + 1u, stored, acc13_1);
    put(wg.x, 13u, k + 2u, stored, acc13_2);
    put(wg.x, 13u, k + 3u, stored, acc13_3);
    put(wg.x, 13u, k + 4u, stored, acc13_4);
    put(wg.x, 14u, k + 0u, stored, acc14_0);
    put(wg.x, 14u, k + 1u, stored, acc14_1);
    put(wg.x, 14u, k + 2u, stored, acc14_2);
    put(wg.x, 14u, k + 3u, stored, acc14_3);
    put(wg.x, 14u, k + 4u, stored, acc14_4);
    put(wg.x, 15u, k + 0u, stored, acc15_0);
    put(wg.x, 15u, k + 1u, stored, acc15_1);
    put(wg.x, 15u, k + 2u, stored, acc15_2);
    put(wg.x, 15u, k + 3u, stored, acc15_3);
    put(wg.x, 15u, k + 4u, stored, acc15_4);
}
// end unrolled
