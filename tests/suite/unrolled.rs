//! The kernels with hand-unrolled accumulators (lavapipe keeps a dynamically indexed
//! accumulator array in memory) come from the generators below. Each sits in its shader
//! between a line `// unrolled: <generator> <entry point> <sizes>` and `// end unrolled`;
//! the test regenerates every such region and compares. After changing a generator, run
//! `ETAPROBE_BLESS=1 cargo test --test suite unrolled` to rewrite the regions.

use std::fmt::Write;
use std::fs;
use std::path::{Path, PathBuf};

const BEGIN: &str = "// unrolled: ";
const END: &str = "// end unrolled";

/// `mm_sg8` of matmul.wgsl for tiles of `rows` (8, 16 or 32) rows by 64 columns: A's rows
/// broadcast from the lanes, each lane's 2 × 4 columns of B loaded per 4 k.
fn matmul_sg8(entry: &str, rows: usize) -> String {
    let mut s = String::new();
    let w = &mut s;
    wl(w, "@compute @workgroup_size(8)");
    wl(w, &format!("fn {entry}(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {{"));
    wl(w, "    let batch = wg.z;");
    wl(w, "    let k4 = p.kp / 4u;");
    wl(w, "    // Row stride of B in vec4s.");
    wl(w, "    let n4 = p.b_rs;");
    wl(w, &format!("    let r0 = wg.y * {rows}u;"));
    wl(
        w,
        "    // This lane owns columns 4·c4 .. 4·c4+3 and the same 32 columns further right.",
    );
    wl(w, "    let c4 = wg.x * 16u + lane;");
    wl(
        w,
        "    let a_base = p.a_off + select(batch, 0u, (p.flags & SHARED_A) != 0u) * p.a_bs;",
    );
    wl(
        w,
        "    let b_base = p.b_off + select(batch, 0u, (p.flags & SHARED_B) != 0u) * p.b_bs;",
    );
    declare_pairs(w, rows, "    ");
    wl(w, "    for (var k = 0u; k < k4; k++) {");
    let q = rows / 8;
    wl(
        w,
        &format!("        // Rows r0 + 8q + lane (q < {q}), k-values 4k .. 4k+3."),
    );
    wl(w, "        let a0 = a4[a_base + (r0 + lane) * p.a_rs + k];");
    for i in 1..q {
        wl(
            w,
            &format!(
                "        let a{i} = a4[a_base + (r0 + {}u + lane) * p.a_rs + k];",
                8 * i
            ),
        );
    }
    wl(w, "        let row = b_base + 4u * k * n4 + c4;");
    wl(w, "        let b00 = b4[row];");
    wl(w, "        let b01 = b4[row + 8u];");
    for j in 1..4 {
        wl(w, &format!("        let b{j}0 = b4[row + {j}u * n4];"));
        wl(w, &format!("        let b{j}1 = b4[row + {j}u * n4 + 8u];"));
    }
    for r in 0..rows {
        wl(
            w,
            &format!(
                "        let x{r} = subgroupBroadcast(a{}, {}u);",
                r / 8,
                r % 8
            ),
        );
        for h in 0..2 {
            wl(w, &format!("        acc{r}_{h} += x{r}.x * b0{h} + x{r}.y * b1{h} + x{r}.z * b2{h} + x{r}.w * b3{h};"));
        }
    }
    wl(w, "    }");
    wl(w, "    let col0 = 4u * c4;");
    for r in 0..rows {
        wl(w, &format!("    store4(batch, r0 + {r}u, col0, acc{r}_0);"));
        wl(
            w,
            &format!("    store4(batch, r0 + {r}u, col0 + 32u, acc{r}_1);"),
        );
    }
    wl(w, "}");
    s
}

/// The forward pass of conv/direct3x3.wgsl for tiles of `rows` (16 or 32) output channels
/// by 64 columns: the taps of 8 channels per broadcast vec4, each lane's two windows.
fn direct3x3(entry: &str, rows: usize) -> String {
    let mut s = String::new();
    let w = &mut s;
    wl(w, "@compute @workgroup_size(8)");
    wl(w, &format!("fn {entry}(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {{"));
    wl(w, &format!("    let r0 = wg.y * {rows}u;"));
    wl(w, "    let s0 = source(wg.x * 64u + 4u * lane);");
    wl(w, "    let s1 = source(wg.x * 64u + 32u + 4u * lane);");
    declare_pairs(w, rows, "    ");
    wl(w, "    for (var c = 0u; c < p.channels; c++) {");
    wl(w, "        for (var ky = 0u; ky < 3u; ky++) {");
    wl(
        w,
        "            // Rows r0 + 8q + lane: the weights of kernel row ky of channel c.",
    );
    wl(w, "            let kk = c * 3u + ky;");
    for i in 0..rows / 8 {
        wl(
            w,
            &format!(
                "            let a{i} = taps[(r0 + {}u + lane) * p.taps_rs + kk];",
                8 * i
            ),
        );
    }
    wl(w, "            let t0 = window(s0, c, ky);");
    wl(w, "            let t1 = window(s1, c, ky);");
    for r in 0..rows {
        wl(
            w,
            &format!(
                "            let x{r} = subgroupBroadcast(a{}, {}u);",
                r / 8,
                r % 8
            ),
        );
        for h in 0..2 {
            wl(w, &format!("            acc{r}_{h} += x{r}.x * t{h}.left + x{r}.y * t{h}.mid + x{r}.z * t{h}.right;"));
        }
    }
    wl(w, "        }");
    wl(w, "    }");
    for r in 0..rows {
        wl(w, &format!("    store(s0, r0 + {r}u, acc{r}_0);"));
        wl(w, &format!("    store(s1, r0 + {r}u, acc{r}_1);"));
    }
    wl(w, "}");
    s
}

/// The stride-2 input gradient of conv/direct3x3.wgsl for tiles of `rows` dX channels by
/// 32 dY columns: per dY channel, each lane's two dY rows, the three kernel rows' taps of 8
/// channels per broadcast vec4, and four accumulators per channel (even and odd columns of
/// dX rows 2n and 2n + 1).
fn direct3x3_s2_dx(entry: &str, rows: usize) -> String {
    let mut s = String::new();
    let w = &mut s;
    wl(w, "@compute @workgroup_size(8)");
    wl(w, &format!("fn {entry}(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {{"));
    wl(w, &format!("    let r0 = wg.y * {rows}u;"));
    wl(w, "    let t = transposed_at(wg.x * 32u + 4u * lane);");
    for r in 0..rows {
        for a in ["e0", "o0", "e1", "o1"] {
            wl(w, &format!("    var acc{r}_{a} = vec4(0.0);"));
        }
    }
    wl(w, "    for (var o = 0u; o < p.channels; o++) {");
    wl(w, "        let d = dy_row(t, o, 0u);");
    wl(w, "        let e = dy_row(t, o, 1u);");
    wl(
        w,
        "        // Rows r0 + 8q + lane: their taps of channel o, kernel rows 0, 1, 2.",
    );
    for i in 0..rows / 8 {
        for ky in 0..3 {
            wl(
                w,
                &format!(
                    "        let a{i}_{ky} = taps[(r0 + {}u + lane) * p.taps_rs + 3u * o + {ky}u];",
                    8 * i
                ),
            );
        }
    }
    for r in 0..rows {
        for ky in 0..3 {
            wl(
                w,
                &format!(
                    "        let k{r}_{ky} = subgroupBroadcast(a{}_{ky}, {}u);",
                    r / 8,
                    r % 8
                ),
            );
        }
        wl(w, &format!("        acc{r}_e0 += k{r}_1.y * d.at;"));
        wl(
            w,
            &format!("        acc{r}_o0 += k{r}_1.x * d.next + k{r}_1.z * d.at;"),
        );
        wl(
            w,
            &format!("        acc{r}_e1 += k{r}_0.y * e.at + k{r}_2.y * d.at;"),
        );
        wl(w, &format!("        acc{r}_o1 += k{r}_0.x * e.next + k{r}_0.z * e.at + k{r}_2.x * d.next + k{r}_2.z * d.at;"));
    }
    wl(w, "    }");
    for r in 0..rows {
        wl(
            w,
            &format!("    store_dx(t, r0 + {r}u, acc{r}_e0, acc{r}_o0, acc{r}_e1, acc{r}_o1);"),
        );
    }
    wl(w, "}");
    s
}

/// The weight gradient of conv/direct3x3_grad.wgsl for `outs` output channels × `channels`
/// channels per subgroup: three taps (a vec3) per (output channel, channel, kernel row).
fn direct3x3_grad(entry: &str, outs: usize, channels: usize) -> String {
    let mut s = String::new();
    let w = &mut s;
    let taps = |o: usize, c: usize, ky: usize| format!("acc{o}_{c}_{ky}");
    wl(w, "@compute @workgroup_size(8)");
    wl(w, &format!("fn {entry}(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {{"));
    wl(w, &format!("    let o0 = wg.x * {outs}u;"));
    wl(w, &format!("    let c0 = wg.y * {channels}u;"));
    wl(w, "    let chunk = wg.z;");
    wl(w, "    let steps = (p.cols + 31u) / 32u;");
    wl(w, "    let first = chunk * p.chunk_steps;");
    wl(w, "    let last = min(first + p.chunk_steps, steps);");
    for o in 0..outs {
        for c in 0..channels {
            for ky in 0..3 {
                wl(w, &format!("    var {} = vec3(0.0);", taps(o, c, ky)));
            }
        }
    }
    wl(w, "    for (var t = first; t < last; t++) {");
    wl(w, "        let s = source(32u * t + 4u * lane);");
    for o in 0..outs {
        wl(w, &format!("        let d{o} = grad_out(s, o0 + {o}u);"));
    }
    for c in 0..channels {
        for ky in 0..3 {
            wl(
                w,
                &format!("        let w{c}_{ky} = window(s, c0 + {c}u, {ky}u);"),
            );
            for o in 0..outs {
                wl(
                    w,
                    &format!("        {} += taps_dot(d{o}, w{c}_{ky});", taps(o, c, ky)),
                );
            }
        }
    }
    wl(w, "    }");
    for o in 0..outs {
        for c in 0..channels {
            for ky in 0..3 {
                let acc = taps(o, c, ky);
                wl(
                    w,
                    &format!("    store_part(chunk, o0 + {o}u, c0 + {c}u, {ky}u, lane, {acc});"),
                );
            }
        }
    }
    wl(w, "}");
    s
}

/// The 5×5 stride-1 convolution of conv/direct5x5.wgsl on `channels` inputs with `pad`
/// (0 or 2) zero padding, `outs` (8 or 16) output channels by 16 column quads per
/// subgroup: mm_sg8's sums over K = 25·channels in chunks of four k (the last padded with
/// zeros), in the same order and the same expressions, on taps picked from each lane's
/// input rows instead of im2col's patches, so that the result is the patches' product bit
/// for bit. With 16 outputs (LeNet's second convolution: rows of 14 inputs and 10
/// outputs) the rows are read as scalars (`row8`) and the quads stored masked (`store1`).
fn direct5x5(entry: &str, channels: usize, pad: usize, outs: usize) -> String {
    assert!(pad == 0 || pad == 2, "direct5x5: padding 0 or 2");
    assert!(
        outs == 8 || (outs == 16 && pad == 0),
        "direct5x5: 8 outputs, or 16 without padding"
    );
    let rows8 = outs == 16;
    let mut s = String::new();
    let w = &mut s;
    let k = 25 * channels;
    let k4 = k.div_ceil(4);
    // An input row's vec4s, per half: two without padding (x = ox .. ox+7), three with
    // (ox−4 .. ox+7); the tap kx of output j is element kx + j + (pad == 2 ? 2 : 0).
    let tap = |c: usize, ky: usize, kx: usize, h: usize| tap5(&format!("w{c}_{ky}_{h}"), kx, pad);
    wl(w, "@compute @workgroup_size(8)");
    wl(w, &format!("fn {entry}(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {{"));
    wl(w, "    let s0 = quad(wg.z, wg.x * 16u + lane);");
    wl(w, "    let s1 = quad(wg.z, wg.x * 16u + 8u + lane);");
    wl(
        w,
        "    // Lane r holds output channel r's weights (the last one past out_channels).",
    );
    wl(w, "    let arow = min(lane, p.out_channels - 1u) * p.kp4;");
    if outs == 16 {
        wl(
            w,
            "    let arow1 = min(8u + lane, p.out_channels - 1u) * p.kp4;",
        );
    }
    wl(w, "    let zero4 = vec4(p.zero);");
    declare_pairs(w, outs, "    ");
    let mut loaded = std::collections::BTreeSet::new();
    for j in 0..k4 {
        let mut b = Vec::new();
        for t in 0..4 {
            let kk = 4 * j + t;
            if kk >= k {
                b.push(["zero4".to_string(), "zero4".to_string()]);
                continue;
            }
            let (c, ky, kx) = (kk / 25, kk % 25 / 5, kk % 5);
            if loaded.insert((c, ky)) {
                for h in 0..2 {
                    let load = if rows8 {
                        format!("row8(s{h}, {c}u, {ky}u)")
                    } else {
                        format!("row5(s{h}, {c}u, {ky}u, {pad}u)")
                    };
                    wl(w, &format!("    let w{c}_{ky}_{h} = {load};"));
                }
            }
            b.push([tap(c, ky, kx, 0), tap(c, ky, kx, 1)]);
        }
        wl(w, "    {");
        wl(w, &format!("        let a0 = a4[arow + {j}u];"));
        if outs == 16 {
            wl(w, &format!("        let a1 = a4[arow1 + {j}u];"));
        }
        for (t, pair) in b.iter().enumerate() {
            for (h, text) in pair.iter().enumerate() {
                wl(w, &format!("        let b{t}{h} = {text};"));
            }
        }
        for r in 0..outs {
            wl(
                w,
                &format!(
                    "        let x{r} = subgroupBroadcast(a{}, {}u);",
                    r / 8,
                    r % 8
                ),
            );
            for h in 0..2 {
                wl(w, &format!("        acc{r}_{h} += x{r}.x * b0{h} + x{r}.y * b1{h} + x{r}.z * b2{h} + x{r}.w * b3{h};"));
            }
        }
        wl(w, "    }");
    }
    let store = if rows8 { "store1" } else { "store" };
    for r in 0..outs {
        wl(w, &format!("    {store}(s0, {r}u, acc{r}_0);"));
        wl(w, &format!("    {store}(s1, {r}u, acc{r}_1);"));
    }
    wl(w, "}");
    s
}

/// Tap `kx` of four neighbouring outputs from the input row `row` that [`direct5x5`] and
/// [`direct5x5_grad`] load (`row5`): two vec4s without padding (x = ox .. ox+7), three
/// with padding 2 (ox−4 .. ox+7), so output j's tap is element kx + j (+ 2 with padding).
fn tap5(row: &str, kx: usize, pad: usize) -> String {
    let shift = if pad == 2 { 2 } else { 0 };
    let parts: Vec<String> = (0..4)
        .map(|j| {
            let e = kx + j + shift;
            format!("{row}.v{}.{}", e / 4, ["x", "y", "z", "w"][e % 4])
        })
        .collect();
    format!("vec4({})", parts.join(", "))
}

/// The start of a conv/direct5x5_grad.wgsl entry: each lane's kernel row (c, ky) and its
/// first tap k.
fn grad5x5_head(w: &mut String, entry: &str) {
    wl(w, "@compute @workgroup_size(8)");
    wl(w, &format!("fn {entry}(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {{"));
    wl(
        w,
        "    // This lane's kernel row (c, ky); lanes past the last row redo it, unstored.",
    );
    wl(w, "    let r = 8u * wg.y + lane;");
    wl(w, "    let stored = r < 5u * p.channels;");
    wl(w, "    let row = min(r, 5u * p.channels - 1u);");
    wl(w, "    let c = row / 5u;");
    wl(w, "    let ky = row - 5u * c;");
    wl(w, "    let k = 5u * row;");
}

/// The end of a conv/direct5x5_grad.wgsl entry: the chunk's partial dW of `outs` output
/// channels by the lane's five taps.
fn grad5x5_puts(w: &mut String, outs: usize) {
    for o in 0..outs {
        for kx in 0..5 {
            wl(
                w,
                &format!("    put(wg.x, {o}u, k + {kx}u, stored, acc{o}_{kx});"),
            );
        }
    }
    wl(w, "}");
}

/// The weight gradient of conv/direct5x5_grad.wgsl with `pad` (0 or 2) zero padding: each
/// lane one kernel row's five taps by 8 output channels, summed over its chunk's column
/// quads as weight_grad_nt sums them (`acc += x · b`, the quads in order).
fn direct5x5_grad(entry: &str, pad: usize) -> String {
    assert!(pad == 0 || pad == 2, "direct5x5_grad: padding 0 or 2");
    let mut s = String::new();
    let w = &mut s;
    grad5x5_head(w, entry);
    wl(
        w,
        "    // Lane o loads output channel o's dY (the last one past out_channels).",
    );
    wl(
        w,
        "    let d_row = min(lane, p.out_channels - 1u) * p.quads;",
    );
    wl(w, "    let first = wg.x * p.chunk;");
    wl(w, "    let last = min(first + p.chunk, p.quads);");
    wl(w, "    var s = quad_of(first);");
    for o in 0..8 {
        for kx in 0..5 {
            wl(w, &format!("    var acc{o}_{kx} = vec4(0.0);"));
        }
    }
    wl(w, "    for (var q = first; q < last; q++) {");
    wl(w, "        let d = dy4[d_row + q];");
    wl(w, &format!("        let w = row5(s, c, ky, {pad}u);"));
    for kx in 0..5 {
        wl(w, &format!("        let b{kx} = {};", tap5("w", kx, pad)));
    }
    for o in 0..8 {
        wl(
            w,
            &format!("        let x{o} = subgroupBroadcast(d, {o}u);"),
        );
        for kx in 0..5 {
            wl(w, &format!("        acc{o}_{kx} += x{o} * b{kx};"));
        }
    }
    wl(w, "        s = next_quad(s);");
    wl(w, "    }");
    grad5x5_puts(w, 8);
    s
}

/// The weight gradient of conv/direct5x5_grad.wgsl for `outs` (16) output channels on
/// rows that are not whole vec4s, without padding (LeNet's second convolution): each lane
/// one kernel row's five taps, read as scalars for each of the quad's four pixels (a quad
/// of the folded columns may cross an output row), by 16 output channels from two dY
/// loads, summed over its chunk's column quads as weight_grad_nt sums them.
fn direct5x5_grad_rows1(entry: &str, outs: usize) -> String {
    assert!(outs == 16, "direct5x5_grad_rows1: 16 outputs");
    let mut s = String::new();
    let w = &mut s;
    grad5x5_head(w, entry);
    wl(
        w,
        "    // Lane o loads output channels o's and 8 + o's dY (the last one past out_channels).",
    );
    wl(
        w,
        "    let d_row0 = min(lane, p.out_channels - 1u) * p.quads;",
    );
    wl(
        w,
        "    let d_row1 = min(8u + lane, p.out_channels - 1u) * p.quads;",
    );
    wl(w, "    let first = wg.x * p.chunk;");
    wl(w, "    let last = min(first + p.chunk, p.quads);");
    wl(w, "    var s = pixel_of(first);");
    for o in 0..outs {
        for kx in 0..5 {
            wl(w, &format!("    var acc{o}_{kx} = vec4(0.0);"));
        }
    }
    wl(w, "    for (var q = first; q < last; q++) {");
    wl(w, "        let d0 = dy4[d_row0 + q];");
    wl(w, "        let d1 = dy4[d_row1 + q];");
    for j in 0..4 {
        wl(w, &format!("        let i{j} = row_start(s, {j}u, c, ky);"));
    }
    for kx in 0..5 {
        let parts: Vec<String> = (0..4)
            .map(|j| {
                if kx == 0 {
                    format!("x1[i{j}]")
                } else {
                    format!("x1[i{j} + {kx}u]")
                }
            })
            .collect();
        wl(
            w,
            &format!("        let b{kx} = vec4({});", parts.join(", ")),
        );
    }
    for o in 0..outs {
        wl(
            w,
            &format!(
                "        let x{o} = subgroupBroadcast(d{}, {}u);",
                o / 8,
                o % 8
            ),
        );
        for kx in 0..5 {
            wl(w, &format!("        acc{o}_{kx} += x{o} * b{kx};"));
        }
    }
    wl(w, "        s = next_pixel(s);");
    wl(w, "    }");
    grad5x5_puts(w, outs);
    s
}

/// dX of conv/direct5x5_input_grad.wgsl for `channels` dX channels and `outs` (16) output
/// channels, a quad of four dX pixels per lane: for each kernel row that reads an output
/// row, the two padded dY vec4s of every output channel, the five taps' windows picked
/// from them; each tap's dcol value per channel summed as mm_sg8 sums it (chunks of four
/// output channels, the chunk's weights broadcast from the lane that loaded them), then
/// added to the quad's sum in col2im's order.
fn direct5x5_input_grad(entry: &str, channels: usize, outs: usize) -> String {
    assert_eq!(
        outs, 16,
        "direct5x5_input_grad: pack_weights lays out four chunks of four output channels"
    );
    let chunks = outs / 4;
    let per_row = 5 * chunks * channels;
    let slots = per_row.div_ceil(8);
    let mut s = String::new();
    let w = &mut s;
    wl(w, "@compute @workgroup_size(8)");
    wl(w, &format!("fn {entry}(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {{"));
    wl(w, "    let s = quad(wg.x, wg.y, lane);");
    wl(w, "    let zero4 = vec4(p.zero);");
    wl(w, "    let ostride = p.out_h * p.prow;");
    for c in 0..channels {
        wl(w, &format!("    var g{c} = zero4;"));
    }
    // Element e of tap j's window is padded column x + 4 − j + e: lo's below 4, hi's above.
    let window = |j: usize, o: usize| -> String {
        let parts: Vec<String> = (0..4)
            .map(|e| {
                let at = 4 - j + e;
                let half = if at < 4 { "lo" } else { "hi" };
                format!("{half}{o}.{}", ["x", "y", "z", "w"][at % 4])
            })
            .collect();
        format!("vec4({})", parts.join(", "))
    };
    for i in 0..5 {
        wl(w, &format!("    if (row_exists(s, {i}u)) {{"));
        wl(w, &format!("        let r = row_at(s, {i}u);"));
        for o in 0..outs {
            let off = if o == 0 {
                String::new()
            } else {
                format!(" + {o}u * ostride")
            };
            wl(w, &format!("        let lo{o} = padded[r{off}];"));
            wl(w, &format!("        let hi{o} = padded[r{off} + 1u];"));
        }
        for t in 0..slots {
            wl(
                w,
                &format!(
                    "        let w{t} = packed[{i}u * p.wrow + {}u + lane];",
                    8 * t
                ),
            );
        }
        for j in 0..5 {
            for o in 0..outs {
                wl(w, &format!("        let d{j}_{o} = {};", window(j, o)));
            }
        }
        for c in 0..channels {
            for j in 0..5 {
                wl(w, "        {");
                wl(w, "            var a = zero4;");
                for k in 0..chunks {
                    let v = (c * 5 + j) * chunks + k;
                    wl(
                        w,
                        &format!(
                            "            let x{k} = subgroupBroadcast(w{}, {}u);",
                            v / 8,
                            v % 8
                        ),
                    );
                    let d = |t: usize| format!("d{j}_{}", 4 * k + t);
                    wl(
                        w,
                        &format!(
                            "            a += x{k}.x * {} + x{k}.y * {} + x{k}.z * {} + x{k}.w * {};",
                            d(0),
                            d(1),
                            d(2),
                            d(3)
                        ),
                    );
                }
                wl(w, &format!("            g{c} += a;"));
                wl(w, "        }");
            }
        }
        wl(w, "    }");
    }
    for c in 0..channels {
        wl(w, &format!("    store(s, {c}u, g{c});"));
    }
    wl(w, "}");
    s
}

/// `var accR_H = vec4(0.0);` for `rows` rows of two column halves.
fn declare_pairs(w: &mut String, rows: usize, indent: &str) {
    for r in 0..rows {
        for h in 0..2 {
            wl(w, &format!("{indent}var acc{r}_{h} = vec4(0.0);"));
        }
    }
}

fn wl(w: &mut String, line: &str) {
    writeln!(w, "{line}").unwrap();
}

/// The region a `// unrolled:` line asks for.
fn generate(spec: &str) -> Result<String, String> {
    let words: Vec<&str> = spec.split_whitespace().collect();
    let size = |i: usize| -> Result<usize, String> {
        words
            .get(i)
            .and_then(|w| w.parse().ok())
            .ok_or_else(|| format!("`{spec}`: size {i} missing"))
    };
    match words.as_slice() {
        ["matmul_sg8", entry, _] => Ok(matmul_sg8(entry, size(2)?)),
        ["direct3x3", entry, _] => Ok(direct3x3(entry, size(2)?)),
        ["direct3x3_s2_dx", entry, _] => Ok(direct3x3_s2_dx(entry, size(2)?)),
        ["direct3x3_grad", entry, _, _] => Ok(direct3x3_grad(entry, size(2)?, size(3)?)),
        ["direct5x5", entry, _, _] => Ok(direct5x5(entry, size(2)?, size(3)?, 8)),
        ["direct5x5", entry, _, _, _] => Ok(direct5x5(entry, size(2)?, size(3)?, size(4)?)),
        ["direct5x5_grad", entry, _] => Ok(direct5x5_grad(entry, size(2)?)),
        ["direct5x5_grad_rows1", entry, _] => Ok(direct5x5_grad_rows1(entry, size(2)?)),
        ["direct5x5_input_grad", entry, _, _] => {
            Ok(direct5x5_input_grad(entry, size(2)?, size(3)?))
        }
        _ => Err(format!("unknown generator `{spec}`")),
    }
}

/// The file with every unrolled region regenerated, and how many there are.
fn regenerate(path: &Path, text: &str) -> (String, usize) {
    let mut out = String::new();
    let mut lines = text.split_inclusive('\n');
    let mut regions = 0;
    while let Some(line) = lines.next() {
        out.push_str(line);
        let Some(spec) = line.trim_end().strip_prefix(BEGIN) else {
            continue;
        };
        let body = generate(spec).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.push_str(&body);
        regions += 1;
        let end = lines
            .by_ref()
            .find(|l| l.trim_end() == END)
            .unwrap_or_else(|| panic!("{}: `{spec}` has no `{END}`", path.display()));
        out.push_str(end);
    }
    (out, regions)
}

fn wgsl_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            wgsl_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "wgsl") {
            out.push(path);
        }
    }
}

#[test]
fn unrolled_kernels_match_their_generators() {
    let bless = std::env::var_os("ETAPROBE_BLESS").is_some();
    let mut files = Vec::new();
    wgsl_files(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/shaders")),
        &mut files,
    );
    let mut regions = 0;
    let mut stale = Vec::new();
    for path in files {
        let text = fs::read_to_string(&path).unwrap();
        let (fresh, n) = regenerate(&path, &text);
        regions += n;
        if fresh != text {
            if bless {
                fs::write(&path, fresh).unwrap();
            } else {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "unrolled kernels differ from their generators in {stale:?}; \
         run `ETAPROBE_BLESS=1 cargo test --test suite unrolled` to rewrite them"
    );
    // matmul's three tile heights, the two forward tiles, the stride-2 input gradient,
    // the weight gradient, the two 5×5 first convolutions and their weight gradients, and
    // the second 5×5 convolution's forward, weight gradient and input gradient.
    assert_eq!(regions, 14, "unrolled regions found");
}
