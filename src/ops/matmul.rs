//! Batched strided matrix product with fused bias and ReLU, and its backward.

use super::{bind, grid_1d, u};
use crate::gpu::{Gpu, GpuError, Program, Tensor};
use crate::shader;

/// A matrix inside a tensor: element (i, j) of batch item `b` sits at
/// `off + b·bs + i·rs + j·cs`. Transposing only swaps the strides.
#[derive(Clone, Debug)]
pub struct Mat<'a> {
    /// The tensor holding the matrix.
    pub t: &'a Tensor,
    /// Element offset of (0, 0) of batch item 0 in `t`.
    pub off: usize,
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Row stride, in elements.
    pub rs: usize,
    /// Column stride, in elements.
    pub cs: usize,
    /// Batch stride, in elements: distance between consecutive batch items (0: one matrix
    /// shared by all).
    pub bs: usize,
}

impl<'a> Mat<'a> {
    /// The whole tensor read as one row-major `rows × cols` matrix.
    pub fn new(t: &'a Tensor, rows: usize, cols: usize) -> Mat<'a> {
        assert!(rows * cols <= t.len(), "matrix larger than its tensor");
        Mat {
            t,
            off: 0,
            rows,
            cols,
            rs: cols,
            cs: 1,
            bs: rows * cols,
        }
    }

    /// A row-major matrix starting at element `off`.
    pub fn at(t: &'a Tensor, off: usize, rows: usize, cols: usize) -> Mat<'a> {
        assert!(off + rows * cols <= t.len(), "matrix out of its tensor");
        Mat {
            off,
            ..Mat::new(t, rows, cols)
        }
    }

    /// The transpose, as a view: rows and columns swap, with their strides; nothing moves.
    pub fn transposed(self) -> Mat<'a> {
        Mat {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    /// The same matrix for every batch item.
    pub fn shared(self) -> Mat<'a> {
        Mat { bs: 0, ..self }
    }

    /// The same matrix with batch item b at `off + b·bs`.
    pub fn with_batch_stride(self, bs: usize) -> Mat<'a> {
        Mat { bs, ..self }
    }
}

/// What happens to each output element after the dot product.
#[derive(Clone, Copy, Debug, Default)]
pub struct Epilogue<'a> {
    /// Bias per output column: (tensor, element offset).
    pub bias: Option<(&'a Tensor, usize)>,
    /// Apply the ReLU, `max(0, ·)`, after the bias and before adding into C.
    pub relu: bool,
    /// Add into C instead of overwriting it (gradient accumulation).
    pub accumulate: bool,
    /// Distance between the biases of consecutive batch items (0: one bias for all).
    pub bias_batch_stride: usize,
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    m: u32,
    n: u32,
    k: u32,
    flags: u32,
    a: [u32; 4],
    b: [u32; 4],
    c: [u32; 4],
    bias_off: u32,
    kp: u32,
    np: u32,
    mp: u32,
    bias_bs: u32,
}

const HAS_BIAS: u32 = 1;
const RELU: u32 = 2;
const ACCUMULATE: u32 = 4;
const SHARED_A: u32 = 8;
const SHARED_B: u32 = 16;
const BIAS_BY_ROW: u32 = 32;
const VEC4_A: u32 = 64;
const VEC4_B: u32 = 128;

/// Binding slots (binding − 1) of `shaders/matmul.wgsl`.
const A: usize = 0;
const B: usize = 1;
const C: usize = 2;
const BIAS: usize = 3;
const A4: usize = 4;
const B4: usize = 5;
const C4: usize = 6;
const SLOTS: usize = 7;

/// Whether the subgroup kernel applies: it hard-codes 8-lane subgroups.
pub fn uses_subgroup_kernel(gpu: &Gpu) -> bool {
    gpu.features.contains(wgpu::Features::SUBGROUP)
        && gpu.info.subgroup_min_size == 8
        && gpu.info.subgroup_max_size == 8
        && !crate::gpu::env_flag("ETAPROBE_NO_SUBGROUPS")
}

/// The portable kernel's register block per invocation, rows × columns (a workgroup of
/// 16 × 16 computes 16 times as much): 4 × 4, or `ETAPROBE_MM_TILE`, e.g. `8x4`, sides 1 to
/// 8, for a GPU check to compare tiles.
pub fn portable_tile() -> Result<(usize, usize), GpuError> {
    let Some(text) = std::env::var_os("ETAPROBE_MM_TILE") else {
        return Ok((4, 4));
    };
    let text = text.to_string_lossy();
    let side = |s: &str| s.parse::<usize>().ok().filter(|v| (1..=8).contains(v));
    match text.split_once('x').map(|(r, c)| (side(r), side(c))) {
        Some((Some(r), Some(c))) => Ok((r, c)),
        _ => Err(GpuError::Shader(format!(
            "ETAPROBE_MM_TILE={text}: give rows x columns per invocation, each 1 to 8, e.g. 4x4"
        ))),
    }
}

/// Rows of the subgroup kernel's tile for a product of `m` rows.
fn tile_rows(m: usize) -> usize {
    match m {
        0..=8 => 8,
        9..=16 => 16,
        _ => 32,
    }
}

/// Whether the subgroup kernel computes an `m × n` product as `Cᵀ = Bᵀ·Aᵀ`: when that
/// pads it less (tiles run 8, 16 or 32 rows by 64 columns).
pub fn subgroup_transposes(m: usize, n: usize) -> bool {
    let waste = |m: usize, n: usize| m.div_ceil(tile_rows(m)) * tile_rows(m) * n.div_ceil(64) * 64;
    waste(n, m) < waste(m, n)
}

/// Which kernel computes the product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The subgroup kernel where the adapter allows it, else the tiled one.
    Auto,
    /// The subgroup kernel (`mm_sg8`), which assumes 8-lane subgroups; only for adapters that
    /// have them.
    Subgroup8,
    /// The portable tiled kernel (`mm_tiled`), on any adapter.
    Tiled,
}

/// Records `C[b] = A[b] · B[b]` for `batch` items, then the epilogue.
pub fn record(
    prog: &mut Program,
    gpu: &Gpu,
    a: &Mat,
    b: &Mat,
    c: &Mat,
    batch: usize,
    epi: Epilogue,
) -> Result<(), GpuError> {
    record_variant(prog, gpu, a, b, c, batch, epi, Variant::Auto)
}

/// [`record`] with an explicit kernel choice (tests check both).
#[allow(clippy::too_many_arguments)]
pub fn record_variant(
    prog: &mut Program,
    gpu: &Gpu,
    a: &Mat,
    b: &Mat,
    c: &Mat,
    batch: usize,
    epi: Epilogue,
    variant: Variant,
) -> Result<(), GpuError> {
    assert_eq!(a.cols, b.rows, "inner dimensions differ");
    assert_eq!((c.rows, c.cols), (a.rows, b.cols), "output shape differs");
    let (m, n, k) = (a.rows, b.cols, a.cols);
    if m == 0 || n == 0 || batch == 0 {
        return Ok(());
    }
    assert!(k > 0, "matmul with an empty inner dimension");
    let mut flags = 0;
    if epi.bias.is_some() {
        flags |= HAS_BIAS;
    }
    if epi.relu {
        flags |= RELU;
    }
    if epi.accumulate {
        flags |= ACCUMULATE;
    }
    let bias = epi.bias.map_or(gpu.dummy(), |(t, _)| t);
    let bias_off = u(epi.bias.map_or(0, |(_, o)| o));
    let subgroup = match variant {
        Variant::Auto => uses_subgroup_kernel(gpu),
        Variant::Subgroup8 => true,
        Variant::Tiled => false,
    };
    if !subgroup {
        let params = Params {
            m: u(m),
            n: u(n),
            k: u(k),
            flags,
            a: [u(a.off), u(a.rs), u(a.cs), u(a.bs)],
            b: [u(b.off), u(b.rs), u(b.cs), u(b.bs)],
            c: [u(c.off), u(c.rs), u(c.cs), u(c.bs)],
            bias_off,
            bias_bs: u(epi.bias_batch_stride),
            ..Default::default()
        };
        // An operand whose rows are contiguous and vec4-aligned is also read four values at
        // a time (its binding then holds whole vec4s).
        let vec4 = |m: &Mat, inner_stride: usize, outer_stride: usize| {
            inner_stride == 1
                && [m.off, outer_stride, m.bs, m.t.len()]
                    .iter()
                    .all(|v| v.is_multiple_of(4))
        };
        let (vec4_a, vec4_b) = (vec4(a, a.cs, a.rs), vec4(b, b.cs, b.rs));
        let mut flags = flags;
        if vec4_a {
            flags |= VEC4_A;
        }
        if vec4_b {
            flags |= VEC4_B;
        }
        let params = Params { flags, ..params };
        let (tm, tn) = portable_tile()?;
        let tile = [("TM", tm as f64), ("TN", tn as f64)];
        let kernel = gpu.kernel(&shader!("matmul"), "mm_tiled", &tile)?;
        let groups = [n.div_ceil(16 * tn), m.div_ceil(16 * tm), batch].map(u);
        let mut slots = vec![(A, a.t), (B, b.t), (C, c.t), (BIAS, bias)];
        if vec4_a {
            slots.push((A4, a.t));
        }
        if vec4_b {
            slots.push((B4, b.t));
        }
        let tensors: [_; SLOTS] = bind(gpu, &slots);
        return prog.dispatch(gpu, &kernel, &params, &tensors, groups);
    }
    // Tiles are 8, 16 or 32 rows (the fewest that cover m) by 64 columns: put the longer
    // side along the columns by computing Cᵀ = Bᵀ·Aᵀ when that wastes less padding.
    let (a, b, c, m, n) = if subgroup_transposes(m, n) {
        flags |= if epi.bias.is_some() { BIAS_BY_ROW } else { 0 };
        (
            b.clone().transposed(),
            a.clone().transposed(),
            c.clone().transposed(),
            n,
            m,
        )
    } else {
        (a.clone(), b.clone(), c.clone(), m, n)
    };
    let rows = tile_rows(m);
    let (mp, kp, np) = (
        m.div_ceil(rows) * rows,
        k.div_ceil(4) * 4,
        n.div_ceil(64) * 64,
    );
    let a_items = if a.bs == 0 { 1 } else { batch };
    let b_items = if b.bs == 0 { 1 } else { batch };
    if a.bs == 0 {
        flags |= SHARED_A;
    }
    if b.bs == 0 {
        flags |= SHARED_B;
    }
    // An operand that is row-major along the inner dimension, with k % 4 = 0 and strides
    // in whole vec4s, is read in place (the kernel reads the padding past m or n from the
    // neighbouring data, which lands only in outputs it drops); any other is packed into a
    // zero-padded scratch once per replay. Addresses are (offset, row stride, batch
    // stride) in vec4s.
    let in_place = |x: &Mat, items: usize| {
        x.cs == 1
            && k.is_multiple_of(4)
            && x.off.is_multiple_of(4)
            && x.rs.is_multiple_of(4)
            && (items == 1 || x.bs.is_multiple_of(4))
    };
    let mut packed = Vec::new();
    for (src, rows, cols, rp, cp, items, label) in [
        (&a, m, k, mp, kp, a_items, "matmul packed A"),
        (&b, k, n, kp, np, b_items, "matmul packed B"),
    ] {
        if in_place(src, items) {
            packed.push((src.t.clone(), [src.off / 4, src.rs / 4, 0, src.bs / 4]));
            continue;
        }
        let dst = gpu.scratch(label, items * rp * cp)?;
        let pack = gpu.kernel(&shader!("matmul"), "pack", &[])?;
        let params = Params {
            m: u(rows),
            k: u(cols),
            a: [u(src.off), u(src.rs), u(src.cs), u(src.bs)],
            c: [0, 0, 0, u(rp * cp)],
            mp: u(rp),
            kp: u(cp),
            ..Default::default()
        };
        let groups = grid_1d(gpu, rp * cp / 4, items);
        let tensors: [_; SLOTS] = bind(gpu, &[(A, src.t), (C4, &dst)]);
        prog.dispatch(gpu, &pack, &params, &tensors, groups)?;
        packed.push((dst, [0, cp / 4, 0, rp * cp / 4]));
    }
    let ((pa, a_at), (pb, b_at)) = (&packed[0], &packed[1]);
    let params = Params {
        m: u(m),
        n: u(n),
        k: u(k),
        flags,
        a: a_at.map(u),
        b: b_at.map(u),
        c: [u(c.off), u(c.rs), u(c.cs), u(c.bs)],
        bias_off,
        bias_bs: u(epi.bias_batch_stride),
        kp: u(kp),
        np: u(np),
        mp: u(mp),
    };
    let entry = match rows {
        8 => "mm_sg8_r8",
        16 => "mm_sg8_r16",
        _ => "mm_sg8",
    };
    let kernel = gpu.kernel(&shader!("matmul"), entry, &[])?;
    let groups = [np / 64, mp / rows, batch].map(u);
    let tensors: [_; SLOTS] = bind(
        gpu,
        &[(C, c.t), (BIAS, bias), (A4, pa), (B4, pb), (C4, c.t)],
    );
    prog.dispatch(gpu, &kernel, &params, &tensors, groups)
}

/// Records the gradients of `C = A · B` given `dC`: `dA (+)= dC · Bᵀ` and
/// `dB (+)= Aᵀ · dC`, each only when asked for. Batched B shared across the batch
/// (bs = 0) gets its gradient summed over the batch by folding the batch into rows.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    prog: &mut Program,
    gpu: &Gpu,
    a: &Mat,
    b: &Mat,
    dc: &Mat,
    batch: usize,
    da: Option<(&Mat, bool)>,
    db: Option<(&Mat, bool)>,
) -> Result<(), GpuError> {
    if let Some((da, accumulate)) = da {
        let epi = Epilogue {
            accumulate,
            ..Default::default()
        };
        record(prog, gpu, dc, &b.clone().transposed(), da, batch, epi)?;
    }
    if let Some((db, accumulate)) = db {
        let epi = Epilogue {
            accumulate,
            ..Default::default()
        };
        if b.bs == 0 && batch > 1 {
            // Σ_b A[b]ᵀ dC[b] as one product over the stacked rows, when the batch items
            // are laid out contiguously.
            assert!(
                a.bs == a.rows * a.rs && dc.bs == dc.rows * dc.rs && a.cs == 1 && dc.cs == 1,
                "shared-weight gradient needs contiguous batches"
            );
            let a_all = Mat {
                rows: a.rows * batch,
                bs: 0,
                ..a.clone()
            };
            let dc_all = Mat {
                rows: dc.rows * batch,
                bs: 0,
                ..dc.clone()
            };
            record(prog, gpu, &a_all.transposed(), &dc_all, db, 1, epi)?;
        } else {
            record(prog, gpu, &a.clone().transposed(), dc, db, batch, epi)?;
        }
    }
    Ok(())
}
