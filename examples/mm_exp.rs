use etaprobe::gpu::{Gpu, Program, Shader};
use std::time::Instant;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct P { m: u32, n: u32, k: u32, pad: u32, rest: [u32; 12] }

fn main() {
    let gpu = Gpu::open(None).unwrap();
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map(|s| s.parse().unwrap()).unwrap_or(1024);
    let files: Vec<String> = args[2..].to_vec();
    if files.iter().any(|f| f.contains("tex")) {}
    let a: Vec<f32> = (0..n * n).map(|i| ((i * 7 % 13) as f32) * 0.1).collect();
    let b: Vec<f32> = (0..n * n).map(|i| ((i * 5 % 11) as f32) * 0.1).collect();
    let ta = gpu.upload("a", &[n, n], &a).unwrap();
    let tb = gpu.upload("b", &[n, n], &b).unwrap();
    let tbu = {
        let buf = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: 65536,
            usage: wgpu::BufferUsages::UNIFORM
                | wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        etaprobe::gpu::Tensor {
            buffer: std::sync::Arc::new(buf),
            offset: 0,
            shape: vec![16384],
        }
    };
    let tc = gpu.zeros("c", &[n, n]).unwrap();
    // reference for a few entries
    for f in files {
        let src: &'static str = Box::leak(std::fs::read_to_string(&f).unwrap().into_boxed_str());
        let first = src.lines().next().unwrap();
        // first line: // tm tn  (outputs per workgroup in m and n)
        let v: Vec<u32> = first
            .trim_start_matches("//")
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        let sh = Shader {
            name: Box::leak(f.clone().into_boxed_str()),
            source: src,
        };
        let k = match gpu.kernel(&sh, "main", &[]) {
            Ok(k) => k,
            Err(e) => {
                println!("{f}: {e}");
                continue;
            }
        };
        let mut prog = Program::new();
        let groups = [(n as u32).div_ceil(v[1]), (n as u32).div_ceil(v[0]), 1];
        let p = P {
            m: n as u32,
            n: n as u32,
            k: n as u32,
            pad: 0,
            rest: [0, n as u32, 1, 0, 0, n as u32, 1, 0, 0, n as u32, 0, 0],
        };
        prog.dispatch(
            &gpu,
            &k,
            &p,
            &[
                if f.contains("ubo2") { &tbu } else { &ta },
                if f.contains("ubo") { &tbu } else { &tb },
                &tc,
                gpu.dummy(),
            ],
            groups,
        )
        .unwrap();
        prog.run(&gpu).unwrap();
        let c: Vec<f32> = gpu.read(&tc).unwrap();
        let mut maxerr = 0f64;
        for &(i, j) in &[
            (0usize, 0usize),
            (n - 1, n - 1),
            (n / 3, n / 2 + 1),
            (5, n - 3),
        ] {
            let mut s = 0f64;
            for kk in 0..n {
                s += a[i * n + kk] as f64 * b[kk * n + j] as f64;
            }
            maxerr = maxerr.max((s - c[i * n + j] as f64).abs() / s.abs().max(1.0));
        }
        let reps = 3;
        let t = Instant::now();
        for _ in 0..reps {
            prog.submit(&gpu);
        }
        gpu.wait().unwrap();
        let dt = t.elapsed().as_secs_f64() / reps as f64;
        println!(
            "{f}: {:.2} GFLOP/s  ({:.1} ms)  relerr {maxerr:.1e}",
            2.0 * (n as f64).powi(3) / dt / 1e9,
            dt * 1e3
        );
    }
}
