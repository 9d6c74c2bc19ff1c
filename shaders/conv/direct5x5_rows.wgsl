// Shared by conv/direct5x5.wgsl (LeNet's first convolution) and conv/direct5x5_grad.wgsl
// (its weight gradient), each compiled as prelude + this file + itself: the parameters,
// the input, and the input rows under four neighbouring outputs, from which both pick the
// taps the im2col patches would hold.

struct Params {
    channels: u32,
    height: u32,
    width: u32,
    out_width: u32,
    out_pixels: u32,
    out_channels: u32,
    // vec4s per row of the padded weights (the forward)
    kp4: u32,
    flags: u32,
    // 0.0, read at run time: the padded chunk's zero terms are added, not folded away.
    zero: f32,
    // The weight gradient: column quads of the batch (batch·out_pixels/4), and quads per
    // chunk.
    quads: u32,
    chunk: u32,
    pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;

// Four neighbouring outputs (oy, ox .. ox+3) of image b; past the image's last quad when
// not valid (loads give zeros, stores are dropped). A row's last quad reaches past it when
// the row is not whole quads.
struct Quad {
    b: u32,
    oy: u32,
    ox: u32,
    valid: bool,
}

fn quad(b: u32, q: u32) -> Quad {
    let per_row = (p.out_width + 3u) / 4u;
    let valid = q < per_row * (p.out_pixels / p.out_width);
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
