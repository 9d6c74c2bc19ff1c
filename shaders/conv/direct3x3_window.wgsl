// Shared by conv/direct3x3.wgsl (the forward pass, and the stride-2 input gradient, which
// uses only the parameters and the input) and conv/direct3x3_grad.wgsl (the weight
// gradient), each compiled as prelude + this file + itself: the parameters, the input, and
// the window of input pixels under a lane's four columns.
//
// Outputs at most 32 pixels wide (and a multiple of 4) start their rows on lanes whose
// columns are multiples of the width, so one row is out_width/4 consecutive lanes. With
// stride 1 a lane loads one vec4 per (channel, kernel row) and takes the pixels left and
// right of it from its neighbours by shuffles, or zero at the row's ends (the padding).
// With stride 2 (input twice as wide and high) it loads the two vec4s under its four
// outputs' windows, and only the pixel left of them comes from its neighbour.

struct Params {
    channels: u32, height: u32, width: u32, pixels: u32,
    // batch · out_pixels: the columns.
    cols: u32, out_channels: u32,
    // vec4s per output channel in taps: channels · 3.
    taps_rs: u32, flags: u32,
    // weight_grad: steps of 32 columns per chunk; chunks.
    chunk_steps: u32, chunks: u32,
    // The output's row length and pixels per image (width and pixels with stride 1;
    // unused by the stride-2 input gradient).
    out_width: u32, out_pixels: u32,
}

// 1 or 2, per pipeline.
override STRIDE: u32 = 1u;

const ACCUMULATE: u32 = 4u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;

// Where a lane's four columns starting at g read and write.
struct Source {
    // vec4 index of (image, channel 0, STRIDE·y, STRIDE·x) in x4.
    base: u32,
    // Output row.
    y: u32,
    // The columns exist (g < cols); the output row has pixels left of x, right of x + 3.
    ok: bool,
    left: bool,
    right: bool,
    // vec4 index of (image, output channel 0, y, x) in y4.
    out: u32,
}

fn source(g: u32) -> Source {
    let image = g / p.out_pixels;
    let pix = g - image * p.out_pixels;
    let y = pix / p.out_width;
    let x = pix - y * p.out_width;
    var s: Source;
    s.base = (image * p.channels * p.pixels + STRIDE * (y * p.width + x)) / 4u;
    s.y = y;
    s.ok = g < p.cols;
    s.left = x > 0u;
    s.right = x + 4u < p.out_width;
    s.out = (image * p.out_channels * p.out_pixels + pix) / 4u;
    return s;
}

// Input row STRIDE·y + ky − 1 of channel c under the lane's four outputs, for taps
// kx = 0, 1, 2. Every lane calls it, so the shuffles see the whole subgroup.
struct Window {
    left: vec4<f32>,
    mid: vec4<f32>,
    right: vec4<f32>,
}

fn window(s: Source, c: u32, ky: u32) -> Window {
    let row = STRIDE * s.y + ky;
    let ok = s.ok && row >= 1u && row <= p.height;
    // (ky − 1) rows down from (c, STRIDE·y): never below 0 when ok.
    let i = s.base + (c * p.pixels + ky * p.width) / 4u - p.width / 4u;
    let v = select(vec4(0.0), x4[select(0u, i, ok)], ok);
    var t: Window;
    if (STRIDE == 1u) {
        let before = subgroupShuffleUp(v.w, 1u);
        let after = subgroupShuffleDown(v.x, 1u);
        t.left = vec4(select(0.0, before, s.left), v.x, v.y, v.z);
        t.mid = v;
        t.right = vec4(v.y, v.z, v.w, select(0.0, after, s.right));
        return t;
    }
    // Input columns 2x .. 2x + 7; 2x − 1 is the lane before's last. The last output's
    // window ends at 2x + 7 < width: no padding on the right.
    let u = select(vec4(0.0), x4[select(0u, i + 1u, ok)], ok);
    let before = subgroupShuffleUp(u.w, 1u);
    t.left = vec4(select(0.0, before, s.left), v.y, v.w, u.y);
    t.mid = vec4(v.x, v.z, u.x, u.z);
    t.right = vec4(v.y, v.w, u.y, u.w);
    return t;
}
