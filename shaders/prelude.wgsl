// Prepended to every shader by `shader!` (src/gpu/program.rs), so keep it short; errors
// in a shader name the file and line after it.

// Vec4s each invocation of the vec4 kernels steps through: lavapipe pays per invocation
// and per access (`QUADS` in src/ops/mod.rs).
const QUADS: u32 = 4u;

// The invocation's index in a 1-D grid of workgroups of 64 folded into y past the x limit
// (`grid_1d` in src/ops/mod.rs).
fn index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 64u;
}
