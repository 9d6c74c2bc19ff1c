// D-Adaptation SGD's step (Defazio & Mishchenko, ICML 2023; as the authors' DAdaptSGD):
// the dual average s += (dλ/‖g₀‖)·d, its point z = w(0) − s, and the weights
// w = μ·w + (1 − μ)·z. The coefficient comes from the host each step (the D estimate moves
// between steps without re-recording); the sums d·s and s·s are separate reductions.

struct Params { len: u32, momentum: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read> d: array<f32>;
@group(0) @binding(3) var<storage, read_write> s: array<f32>;
@group(0) @binding(4) var<storage, read> origin: array<f32>;
// [dλ/‖g₀‖]
@group(0) @binding(5) var<storage, read> c: array<f32>;

@compute @workgroup_size(64)
fn step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    let si = s[i] + c[0] * d[i];
    s[i] = si;
    w[i] = p.momentum * w[i] + (1.0 - p.momentum) * (origin[i] - si);
}
