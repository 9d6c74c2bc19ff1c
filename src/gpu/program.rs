//! Cached compute kernels and programs: lists of dispatches whose pipelines, bind groups and
//! parameter buffers are created once, then replayed step after step without allocating.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use wgpu::util::DeviceExt;

use super::{Gpu, GpuError, Tensor};

/// A WGSL file of `shaders/` as compiled: `shaders/prelude.wgsl`, any shared parts, then the
/// file itself, concatenated at compile time.
#[derive(Clone, Copy, Debug)]
pub struct Shader {
    /// The file under `shaders/` without `.wgsl`: `"matmul"`, `"conv/im2col"`.
    pub name: &'static str,
    /// The full WGSL source as compiled: the prelude, shared parts and the file, concatenated.
    pub source: &'static str,
    /// The files in `source`, in order: (name under `shaders/`, text).
    pub parts: &'static [(&'static str, &'static str)],
}

impl Shader {
    /// The file and line of line `line` (1-based) of `source`.
    pub fn locate(&self, line: usize) -> (&'static str, usize) {
        let mut first = 1;
        for &(name, text) in self.parts {
            let lines = text.lines().count();
            if line < first + lines {
                return (name, line + 1 - first);
            }
            first += lines;
        }
        (self.name, line)
    }

    /// The naga module, validated.
    pub fn validate(&self) -> Result<(naga::Module, naga::valid::ModuleInfo), GpuError> {
        let source = self.source;
        let module = naga::front::wgsl::parse_str(source)
            .map_err(|e| self.error(e.emit_to_string(source), e.location(source)))?;
        let info = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::all(),
        )
        .validate(&module)
        .map_err(|e| self.error(e.emit_to_string(source), e.location(source)))?;
        Ok((module, info))
    }

    /// naga's report of an error at `location`, with the file and line it points to.
    fn error(&self, report: String, location: Option<naga::SourceLocation>) -> GpuError {
        let at = location.map_or(String::new(), |l| {
            let (file, line) = self.locate(l.line_number as usize);
            format!(" (shaders/{file}.wgsl:{line})")
        });
        GpuError::Shader(format!("{}{at}: {report}", self.name))
    }
}

/// `shader!("matmul")` embeds the prelude and `shaders/matmul.wgsl`;
/// `shader!("conv/direct3x3" with "conv/direct3x3_window")` puts a shared part between them.
#[macro_export]
macro_rules! shader {
    ($name:literal $(with $part:literal)*) => {
        $crate::gpu::Shader {
            name: $name,
            source: concat!(
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/shaders/prelude.wgsl")),
                $(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/shaders/", $part, ".wgsl")),)*
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/shaders/", $name, ".wgsl")),
            ),
            parts: &[
                (
                    "prelude",
                    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/shaders/prelude.wgsl")),
                ),
                $((
                    $part,
                    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/shaders/", $part, ".wgsl")),
                ),)*
                (
                    $name,
                    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/shaders/", $name, ".wgsl")),
                ),
            ],
        }
    };
}

/// One entry point of a shader, compiled with a set of override constants.
pub struct Kernel {
    /// `shader::entry`, naming the kernel in errors, GPU debuggers and profiles.
    pub label: String,
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
    /// Bindings of group 0 the entry point uses; auto layouts contain only those.
    used: BTreeSet<u32>,
}

type KernelKey = (&'static str, String, String);

/// Compiled kernels per live device (by [`Gpu`] id).
type KernelCache = Mutex<HashMap<usize, HashMap<KernelKey, Arc<Kernel>>>>;

fn kernel_cache() -> &'static KernelCache {
    static CACHE: OnceLock<KernelCache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Bindings of group 0 that `entry` of `module` reads or writes.
fn used_bindings(shader: &Shader, entry: &str) -> Result<BTreeSet<u32>, GpuError> {
    let (module, info) = shader.validate()?;
    let index = module
        .entry_points
        .iter()
        .position(|ep| ep.name == entry)
        .ok_or_else(|| GpuError::Shader(format!("{} has no entry point {entry}", shader.name)))?;
    let fi = info.get_entry_point(index);
    Ok(module
        .global_variables
        .iter()
        .filter(|(h, _)| !fi[*h].is_empty())
        .filter_map(|(_, var)| var.binding.as_ref())
        .filter(|b| b.group == 0)
        .map(|b| b.binding)
        .collect())
}

impl Gpu {
    /// The compiled kernel for `entry` of `shader` with override `constants`, built once.
    pub fn kernel(
        &self,
        shader: &Shader,
        entry: &str,
        constants: &[(&str, f64)],
    ) -> Result<Arc<Kernel>, GpuError> {
        let key: KernelKey = (shader.name, entry.to_string(), format!("{constants:?}"));
        let mut cache = kernel_cache().lock().map_err(|_| GpuError::Poisoned)?;
        let per_device = cache.entry(self.id).or_default();
        if let Some(k) = per_device.get(&key) {
            return Ok(k.clone());
        }
        let used = used_bindings(shader, entry)?;
        log::trace!("{}::{entry} uses bindings {used:?}", shader.name);
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(shader.name),
                source: wgpu::ShaderSource::Wgsl(shader.source.into()),
            });
        let label = format!("{}::{}", shader.name, entry);
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&label),
                layout: None,
                module: &module,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants,
                    // Every kernel initialises the workgroup memory it reads.
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            });
        self.take_error()
            .map_err(|e| GpuError::Shader(format!("{label}: {e}")))?;
        let layout = pipeline.get_bind_group_layout(0);
        let kernel = Arc::new(Kernel {
            label,
            pipeline,
            layout,
            used,
        });
        per_device.insert(key, kernel.clone());
        Ok(kernel)
    }
}

/// Forgets the kernels of a device that is being dropped (tests open many devices).
pub(crate) fn forget_device(key: usize) {
    if let Ok(mut cache) = kernel_cache().lock() {
        cache.remove(&key);
    }
}

enum Command {
    Dispatch {
        kernel: Arc<Kernel>,
        bind_group: wgpu::BindGroup,
        groups: [u32; 3],
    },
    Clear(Tensor),
    Copy {
        src: Tensor,
        dst: Tensor,
    },
}

/// One command's wall-clock time, from [`Program::time_each`].
#[derive(Clone, Debug)]
pub struct CommandTime {
    /// `shader::entry`, or `clear` / `copy`.
    pub label: String,
    /// The dispatch's workgroup counts (zeros for clears and copies).
    pub groups: [u32; 3],
    /// Wall-clock seconds of the command's own submission, from encoding until the GPU has
    /// finished it.
    pub seconds: f64,
}

/// A recorded sequence of GPU commands. Recording creates every bind group and parameter
/// buffer; [`Program::encode`] replays them into a command encoder.
#[derive(Default)]
pub struct Program {
    commands: Vec<Command>,
}

/// Uniform blocks are bound in 16-byte units.
fn uniform_bytes<P: bytemuck::Pod>(params: &P) -> Vec<u8> {
    let mut bytes = bytemuck::bytes_of(params).to_vec();
    bytes.resize(bytes.len().div_ceil(16).max(1) * 16, 0);
    bytes
}

impl Program {
    /// An empty program, to record commands into.
    pub fn new() -> Program {
        Program::default()
    }

    /// Number of recorded commands (dispatches, clears and copies).
    pub fn len(&self) -> usize {
        self.commands.len()
    }

    /// Whether no command has been recorded.
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    /// Records a dispatch of `kernel`. `params` goes to binding 0 as a uniform block and
    /// `tensors` to bindings 1, 2, ... in order; bindings the entry point does not use are
    /// left out, as its automatic layout requires.
    pub fn dispatch<P: bytemuck::Pod>(
        &mut self,
        gpu: &Gpu,
        kernel: &Arc<Kernel>,
        params: &P,
        tensors: &[&Tensor],
        groups: [u32; 3],
    ) -> Result<(), GpuError> {
        let max = gpu.limits.max_compute_workgroups_per_dimension;
        if groups.iter().any(|&g| g > max) {
            return Err(GpuError::TooLarge {
                what: format!("{} grid {groups:?}", kernel.label),
                bytes: groups.iter().copied().max().unwrap_or(0) as u64,
                limit: max as u64,
                adapter: gpu.info.name.clone(),
            });
        }
        let uniform = kernel.used.contains(&0).then(|| {
            gpu.count_buffer(uniform_bytes(params).len() as u64);
            gpu.device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some(&kernel.label),
                    contents: &uniform_bytes(params),
                    usage: wgpu::BufferUsages::UNIFORM,
                })
        });
        let mut entries = Vec::new();
        if let Some(u) = &uniform {
            entries.push(wgpu::BindGroupEntry {
                binding: 0,
                resource: u.as_entire_binding(),
            });
        }
        for (i, t) in tensors.iter().enumerate() {
            let binding = i as u32 + 1;
            if kernel.used.contains(&binding) {
                entries.push(wgpu::BindGroupEntry {
                    binding,
                    resource: t.binding(),
                });
            }
        }
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(&kernel.label),
            layout: &kernel.layout,
            entries: &entries,
        });
        gpu.take_error()
            .map_err(|e| GpuError::Wgpu(format!("binding {}: {e}", kernel.label)))?;
        self.commands.push(Command::Dispatch {
            kernel: kernel.clone(),
            bind_group,
            groups,
        });
        Ok(())
    }

    /// Records zero-filling a tensor.
    pub fn clear(&mut self, t: &Tensor) {
        self.commands.push(Command::Clear(t.clone()));
    }

    /// Records a copy between equally long tensors.
    pub fn copy(&mut self, src: &Tensor, dst: &Tensor) {
        assert_eq!(
            src.len(),
            dst.len(),
            "copy between tensors of different sizes"
        );
        self.commands.push(Command::Copy {
            src: src.clone(),
            dst: dst.clone(),
        });
    }

    /// Appends another program's commands.
    pub fn append(&mut self, other: Program) {
        self.commands.extend(other.commands);
    }

    /// Replays the program into `encoder`, one compute pass per run of dispatches.
    pub fn encode(&self, encoder: &mut wgpu::CommandEncoder) {
        let mut i = 0;
        while i < self.commands.len() {
            match &self.commands[i] {
                Command::Clear(t) => {
                    encoder.clear_buffer(&t.buffer, 4 * t.offset as u64, Some(t.bytes()));
                    i += 1;
                }
                Command::Copy { src, dst } => {
                    encoder.copy_buffer_to_buffer(
                        &src.buffer,
                        4 * src.offset as u64,
                        &dst.buffer,
                        4 * dst.offset as u64,
                        src.bytes(),
                    );
                    i += 1;
                }
                Command::Dispatch { .. } => {
                    let mut pass = encoder.begin_compute_pass(&Default::default());
                    while let Some(Command::Dispatch {
                        kernel,
                        bind_group,
                        groups,
                    }) = self.commands.get(i)
                    {
                        pass.set_pipeline(&kernel.pipeline);
                        pass.set_bind_group(0, bind_group, &[]);
                        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
                        i += 1;
                    }
                }
            }
        }
    }

    /// Runs every command in a submission of its own and waits for it, returning each
    /// command's label and wall-clock seconds: a per-kernel profile that needs no timestamp
    /// queries (lavapipe's are not exposed through wgpu on every version). The waits make
    /// the total longer than [`Program::run`]'s.
    pub fn time_each(&self, gpu: &Gpu) -> Result<Vec<CommandTime>, GpuError> {
        let mut out = Vec::with_capacity(self.commands.len());
        for command in &self.commands {
            let (label, groups) = match command {
                Command::Dispatch { kernel, groups, .. } => (kernel.label.clone(), *groups),
                Command::Clear(_) => ("clear".to_string(), [0; 3]),
                Command::Copy { .. } => ("copy".to_string(), [0; 3]),
            };
            let single = Program {
                commands: vec![match command {
                    Command::Dispatch {
                        kernel,
                        bind_group,
                        groups,
                    } => Command::Dispatch {
                        kernel: kernel.clone(),
                        bind_group: bind_group.clone(),
                        groups: *groups,
                    },
                    Command::Clear(t) => Command::Clear(t.clone()),
                    Command::Copy { src, dst } => Command::Copy {
                        src: src.clone(),
                        dst: dst.clone(),
                    },
                }],
            };
            let t = std::time::Instant::now();
            single.run(gpu)?;
            out.push(CommandTime {
                label,
                groups,
                seconds: t.elapsed().as_secs_f64(),
            });
        }
        Ok(out)
    }

    /// Encodes and submits the program on its own, without waiting.
    pub fn submit(&self, gpu: &Gpu) -> wgpu::SubmissionIndex {
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        self.encode(&mut encoder);
        gpu.queue.submit([encoder.finish()])
    }

    /// Submits and waits, reporting any GPU error.
    pub fn run(&self, gpu: &Gpu) -> Result<(), GpuError> {
        self.submit(gpu);
        gpu.wait()
    }
}
