//! What a load costs on this adapter, by the kind of memory it reads: a storage buffer
//! (what every etaprobe kernel reads today), a uniform buffer, a sampled texture
//! (`textureLoad`), and workgroup memory. Each kernel sums `ITERS × 4` vec4s at addresses
//! that differ from lane to lane (as a convolution's input windows do) out of the same
//! 4096 vec4s (64 KiB, a uniform buffer's largest binding); two more read addresses that
//! are the same in every lane (as a weight is) from a storage and a uniform buffer; and
//! one does the same address arithmetic without loads, so what a kernel takes over it is
//! its loads' cost.
//!
//! On lavapipe (Mesa 22.3) a storage or workgroup load is a loop over the lanes with a
//! branch per lane and component, a uniform-buffer load a branch-free gather (one scalar
//! load when the compiler can prove the address the same in every lane), a texel fetch
//! the sampler's code; this bench says what that means in time (`docs/design-notes.md`
//! §14).
//!
//!     cargo bench --bench memory_paths            # ETAPROBE_ADAPTER picks the adapter
//!
//! Not a test: it asserts only that the paths sum the same values.

use std::time::Instant;

use etaprobe::gpu::Gpu;

const LEN: u32 = 4096;
const TEX_WIDTH: u32 = 1024;
const ITERS: u32 = 64;
const WORKGROUPS: u32 = 2048;
const ROUNDS: usize = 7;

const SHADER: &str = r#"
struct Params { len: u32, iters: u32, width: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> usrc: array<vec4<f32>, 4096>;
@group(0) @binding(4) var tsrc: texture_2d<f32>;

var<workgroup> shared_src: array<vec4<f32>, 4096>;

// Lane-dependent addresses, four per iteration; LEN is a power of two.
fn at(g: u32, k: u32, j: u32) -> u32 {
    return (g * 5u + k * 97u + j * 1031u) & (p.len - 1u);
}

fn texel(i: u32) -> vec4<f32> {
    return textureLoad(tsrc, vec2(i % p.width, i / p.width), 0);
}

@compute @workgroup_size(64)
fn from_storage(@builtin(global_invocation_id) gid: vec3<u32>) {
    var s = vec4(0.0);
    for (var k = 0u; k < p.iters; k++) {
        s += src[at(gid.x, k, 0u)] + src[at(gid.x, k, 1u)] + src[at(gid.x, k, 2u)] + src[at(gid.x, k, 3u)];
    }
    out[gid.x] = s;
}

@compute @workgroup_size(64)
fn from_uniform(@builtin(global_invocation_id) gid: vec3<u32>) {
    var s = vec4(0.0);
    for (var k = 0u; k < p.iters; k++) {
        s += usrc[at(gid.x, k, 0u)] + usrc[at(gid.x, k, 1u)] + usrc[at(gid.x, k, 2u)] + usrc[at(gid.x, k, 3u)];
    }
    out[gid.x] = s;
}

@compute @workgroup_size(64)
fn from_texture(@builtin(global_invocation_id) gid: vec3<u32>) {
    var s = vec4(0.0);
    for (var k = 0u; k < p.iters; k++) {
        s += texel(at(gid.x, k, 0u)) + texel(at(gid.x, k, 1u)) + texel(at(gid.x, k, 2u)) + texel(at(gid.x, k, 3u));
    }
    out[gid.x] = s;
}

@compute @workgroup_size(64)
fn from_workgroup(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    // Filled once per workgroup from the uniform copy (not timed apart: 64 loads per lane
    // against the loop's 4 · iters).
    for (var i = lid; i < p.len; i += 64u) {
        shared_src[i] = usrc[i];
    }
    workgroupBarrier();
    var s = vec4(0.0);
    for (var k = 0u; k < p.iters; k++) {
        s += shared_src[at(gid.x, k, 0u)] + shared_src[at(gid.x, k, 1u)] + shared_src[at(gid.x, k, 2u)] + shared_src[at(gid.x, k, 3u)];
    }
    out[gid.x] = s;
}

// Every lane the same address (a weight every lane needs): from the loop counter and the
// workgroup, as the kernels' weight indices are.
fn same(wg: u32, k: u32, j: u32) -> u32 {
    return (wg * 5u + k * 97u + j * 1031u) & (p.len - 1u);
}

@compute @workgroup_size(64)
fn same_storage(@builtin(workgroup_id) wg: vec3<u32>, @builtin(global_invocation_id) gid: vec3<u32>) {
    var s = vec4(0.0);
    for (var k = 0u; k < p.iters; k++) {
        s += src[same(wg.x, k, 0u)] + src[same(wg.x, k, 1u)] + src[same(wg.x, k, 2u)] + src[same(wg.x, k, 3u)];
    }
    out[gid.x] = s;
}

@compute @workgroup_size(64)
fn same_uniform(@builtin(workgroup_id) wg: vec3<u32>, @builtin(global_invocation_id) gid: vec3<u32>) {
    var s = vec4(0.0);
    for (var k = 0u; k < p.iters; k++) {
        s += usrc[same(wg.x, k, 0u)] + usrc[same(wg.x, k, 1u)] + usrc[same(wg.x, k, 2u)] + usrc[same(wg.x, k, 3u)];
    }
    out[gid.x] = s;
}

// The same addresses summed as numbers: the arithmetic without the loads.
@compute @workgroup_size(64)
fn no_loads(@builtin(global_invocation_id) gid: vec3<u32>) {
    var s = vec4(0.0);
    for (var k = 0u; k < p.iters; k++) {
        s += vec4(f32(at(gid.x, k, 0u)) + f32(at(gid.x, k, 1u)) + f32(at(gid.x, k, 2u)) + f32(at(gid.x, k, 3u)));
    }
    out[gid.x] = s;
}
"#;

fn main() {
    let gpu = match Gpu::open(std::env::var("ETAPROBE_ADAPTER").ok().as_deref()) {
        Ok(gpu) => gpu,
        Err(e) => {
            eprintln!("memory_paths: no adapter: {e}");
            std::process::exit(2);
        }
    };
    println!("{}", gpu.describe());
    let device = &gpu.device;
    use wgpu::util::DeviceExt;

    // Small integers, so every path's sums are exact and equal.
    let values: Vec<f32> = (0..LEN * 4).map(|i| (i % 7) as f32).collect();
    let bytes: &[u8] = bytemuck::cast_slice(&values);
    let params: [u32; 4] = [LEN, ITERS, TEX_WIDTH, 0];
    let params_buf = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("params"),
        contents: bytemuck::cast_slice(&params),
        usage: wgpu::BufferUsages::UNIFORM,
    });
    let storage = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("storage"),
        contents: bytes,
        usage: wgpu::BufferUsages::STORAGE,
    });
    let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("uniform"),
        contents: bytes,
        usage: wgpu::BufferUsages::UNIFORM,
    });
    let texture = device.create_texture_with_data(
        &gpu.queue,
        &wgpu::TextureDescriptor {
            label: Some("texture"),
            size: wgpu::Extent3d {
                width: TEX_WIDTH,
                height: LEN / TEX_WIDTH,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba32Float,
            usage: wgpu::TextureUsages::TEXTURE_BINDING,
            view_formats: &[],
        },
        wgpu::util::TextureDataOrder::LayerMajor,
        bytes,
    );
    let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
    let invocations = u64::from(WORKGROUPS) * 64;
    let out_size = invocations * 16;
    let out = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("out"),
        size: out_size,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let readback = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback"),
        size: out_size,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("memory_paths"),
        source: wgpu::ShaderSource::Wgsl(SHADER.into()),
    });

    let loads = invocations * u64::from(ITERS) * 4;
    println!(
        "{loads} vec4 loads per dispatch ({WORKGROUPS} workgroups of 64, {ITERS} × 4 each), \
         median of {ROUNDS} dispatches"
    );
    println!("{:<16}{:>10}{:>16}", "path", "ms", "ns per load");
    let mut reference: [Option<Vec<f32>>; 2] = [None, None];
    let mut baseline = 0.0;
    for entry in [
        "no_loads",
        "from_storage",
        "from_uniform",
        "from_texture",
        "from_workgroup",
        "same_storage",
        "same_uniform",
    ] {
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: None,
            module: &module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        });
        let mut entries = vec![
            wgpu::BindGroupEntry {
                binding: 0,
                resource: params_buf.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 2,
                resource: out.as_entire_binding(),
            },
        ];
        match entry {
            "from_storage" | "same_storage" => entries.push(wgpu::BindGroupEntry {
                binding: 1,
                resource: storage.as_entire_binding(),
            }),
            "from_uniform" | "from_workgroup" | "same_uniform" => {
                entries.push(wgpu::BindGroupEntry {
                    binding: 3,
                    resource: uniform.as_entire_binding(),
                })
            }
            "from_texture" => entries.push(wgpu::BindGroupEntry {
                binding: 4,
                resource: wgpu::BindingResource::TextureView(&view),
            }),
            _ => {}
        }
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(entry),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        let mut times = Vec::new();
        for _ in 0..ROUNDS + 1 {
            let mut encoder = device.create_command_encoder(&Default::default());
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                pass.set_pipeline(&pipeline);
                pass.set_bind_group(0, &bind_group, &[]);
                pass.dispatch_workgroups(WORKGROUPS, 1, 1);
            }
            let start = Instant::now();
            gpu.queue.submit([encoder.finish()]);
            gpu.wait().expect("the dispatch finishes");
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
        // The first dispatch compiles and warms up.
        let mut times = times[1..].to_vec();
        times.sort_by(f64::total_cmp);
        let ms = times[ROUNDS / 2];
        if entry == "no_loads" {
            baseline = ms;
            println!("{entry:<16}{ms:>10.2}{:>16}", "-");
            continue;
        }
        let per_load = (ms - baseline) * 1e6 / loads as f64;
        println!("{entry:<16}{ms:>10.2}{per_load:>16.3}");

        let mut encoder = device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(&out, 0, &readback, 0, out_size);
        gpu.queue.submit([encoder.finish()]);
        let slice = readback.slice(..);
        slice.map_async(wgpu::MapMode::Read, |r| r.expect("readback maps"));
        gpu.wait().expect("the readback finishes");
        let sums: Vec<f32> = {
            let view = slice.get_mapped_range().expect("the readback is mapped");
            bytemuck::cast_slice::<u8, f32>(&view).to_vec()
        };
        readback.unmap();
        // Each pair of paths that read the same addresses sums the same values.
        let group = usize::from(entry.starts_with("same_"));
        match &reference[group] {
            None => reference[group] = Some(sums),
            Some(r) => assert!(r == &sums, "{entry} sums differently from its storage twin"),
        }
    }
}
