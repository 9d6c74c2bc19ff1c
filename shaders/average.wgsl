// The polynomial-decay average of the iterates (Shamir & Zhang 2013; src/optim/average.rs):
// after each update, `count` adds one (t, the updates averaged; an f32, exact to 2^24),
// then every element moves avg = mix(avg, x, c) with c = (1 + γ)/(t + γ): 1 at t = 1,
// where avg becomes x exactly (selected on t itself, as backends compute mix and divide
// differently). t lives on
// the GPU so that it goes back with the average when a step is undone.

struct Params { len: u32, gamma: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> avg: array<f32>;
// [t]
@group(0) @binding(3) var<storage, read_write> count: array<f32>;

@compute @workgroup_size(1)
fn count_step() {
    count[0] += 1.0;
}

@compute @workgroup_size(64)
fn toward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = index(gid, nwg);
    if (i < p.len) {
        let t = count[0];
        let c = (1.0 + p.gamma) / (t + p.gamma);
        avg[i] = select(mix(avg[i], x[i], c), x[i], t == 1.0);
    }
}
