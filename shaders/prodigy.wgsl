// Prodigy's step (Mishchenko & Defazio, ICML 2024; as the authors' Prodigy, without bias
// correction, decoupled weight decay): with the D estimate and the rate ηD from the host,
//   m = β₁m + (1−β₁)·D·g,  v = β₂v + (1−β₂)·D²·g²,  s = β₃s + c·g  (c = (D/D₀)·ηD),
//   w −= λ·ηD·w,  w −= ηD·m / (√v + D·ε).
// The sums g·(w(0) − w) (before) and Σ|s| (after) are separate reductions.

struct Params { len: u32, beta1: f32, beta2: f32, beta3: f32, eps: f32, decay: f32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read_write> s: array<f32>;
// [D, ηD, (D/D₀)·ηD]
@group(0) @binding(6) var<storage, read> c: array<f32>;

@compute @workgroup_size(64)
fn step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    let gi = g[i];
    let dd = c[0];
    let mi = p.beta1 * m[i] + (1.0 - p.beta1) * dd * gi;
    let vi = p.beta2 * v[i] + (1.0 - p.beta2) * dd * dd * gi * gi;
    m[i] = mi;
    v[i] = vi;
    s[i] = p.beta3 * s[i] + c[2] * gi;
    var wi = w[i];
    wi -= p.decay * c[1] * wi;
    w[i] = wi - c[1] * mi / (sqrt(vi) + dd * p.eps);
}
