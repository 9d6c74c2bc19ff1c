// Schedule-free SGD (Defazio et al., NeurIPS 2024; as the authors' SGDScheduleFree). The
// weights hold y, the point gradients are taken at; z is the SGD sequence; the average x,
// where the model is evaluated, is implicit: x = y + (1 − 1/β)(z − y).
//   step:       y = lerp(y, z, c) + γ·(β(1 − c) − 1)·d,  z −= γ·d   (c = c_{t+1}, γ from the host)
//   to_average: keep y, then w = x.

struct Params { len: u32, beta: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read> d: array<f32>;
@group(0) @binding(3) var<storage, read_write> z: array<f32>;
// [c, γ]
@group(0) @binding(4) var<storage, read> c: array<f32>;
// Where to_average keeps y.
@group(0) @binding(5) var<storage, read_write> kept: array<f32>;

@compute @workgroup_size(64)
fn step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    let ck = c[0];
    let lr = c[1];
    let zi = z[i];
    let y = w[i] + ck * (zi - w[i]);
    w[i] = y + lr * (p.beta * (1.0 - ck) - 1.0) * d[i];
    z[i] = zi - lr * d[i];
}

@compute @workgroup_size(64)
fn to_average(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    let y = w[i];
    kept[i] = y;
    w[i] = y + (1.0 - 1.0 / p.beta) * (z[i] - y);
}
