// Shared by conv/direct3x3.wgsl (the forward pass) and conv/direct3x3_grad.wgsl (the
// weight gradient), each compiled as prelude + this file + itself: the parameters, the
// input, and the window of input pixels under a lane's four columns.
//
// Images at most 32 pixels wide (and a multiple of 4) start their rows on lanes whose
// columns are multiples of the width, so one row is width/4 consecutive lanes: a lane loads
// one vec4 per (channel, kernel row) and takes the pixels left and right of it from its
// neighbours by shuffles, or zero at the row's ends (the padding).

struct Params {
    channels: u32, height: u32, width: u32, pixels: u32,
    // batch · pixels: the columns.
    cols: u32, out_channels: u32,
    // vec4s per output channel in taps: channels · 3.
    taps_rs: u32, flags: u32,
    // weight_grad: steps of 32 columns per chunk; chunks.
    chunk_steps: u32, chunks: u32, pad0: u32, pad1: u32,
}

const ACCUMULATE: u32 = 4u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;

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
