//! Adapter discovery and selection, and the device with its real limits.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

use super::GpuError;

/// What `etaprobe devices` shows of one adapter.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AdapterSummary {
    /// Position in [`enumerate_adapters`]'s list; `--adapter` accepts it.
    pub index: usize,
    /// The adapter's name as the driver reports it.
    pub name: String,
    /// The graphics API wgpu drives it through: `Vulkan`, `Metal`, `Dx12` or `Gl`.
    pub backend: String,
    /// The kind of device: discrete, integrated, virtual, CPU (software) or other.
    pub device_type: String,
    /// The driver's name (`llvmpipe` for Mesa's software Vulkan driver).
    pub driver: String,
    /// The driver's version and build information.
    pub driver_info: String,
}

impl AdapterSummary {
    fn new(index: usize, info: &wgpu::AdapterInfo) -> Self {
        AdapterSummary {
            index,
            name: info.name.clone(),
            backend: format!("{:?}", info.backend),
            device_type: device_type_name(info.device_type).to_string(),
            driver: info.driver.clone(),
            driver_info: info.driver_info.clone(),
        }
    }
}

fn device_type_name(t: wgpu::DeviceType) -> &'static str {
    match t {
        wgpu::DeviceType::DiscreteGpu => "discrete GPU",
        wgpu::DeviceType::IntegratedGpu => "integrated GPU",
        wgpu::DeviceType::VirtualGpu => "virtual GPU",
        wgpu::DeviceType::Cpu => "software (CPU)",
        wgpu::DeviceType::Other => "other",
    }
}

/// Lower is preferred: discrete, then integrated, then virtual, then software.
fn preference_rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    }
}

fn new_instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    // Validation layers slow every dispatch; opt in through WGPU_VALIDATION / WGPU_DEBUG.
    desc.flags = wgpu::InstanceFlags::empty();
    wgpu::Instance::new(desc.with_env())
}

/// Every adapter wgpu can drive on this machine, in a stable order.
pub fn enumerate_adapters() -> Vec<wgpu::Adapter> {
    let instance = new_instance();
    let mut adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    // Compute needs storage buffers in compute shaders; GL ES 3.0-only adapters lack them.
    adapters.retain(|a| {
        a.get_downlevel_capabilities()
            .flags
            .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
    });
    adapters
}

/// What `etaprobe devices` shows of each adapter, indexed as in `adapters`.
pub fn summaries(adapters: &[wgpu::Adapter]) -> Vec<AdapterSummary> {
    adapters
        .iter()
        .enumerate()
        .map(|(i, a)| AdapterSummary::new(i, &a.get_info()))
        .collect()
}

/// Index of the adapter to use: the one named by `choice` (see [`named_adapter`]), else
/// the most capable kind present.
pub fn choose_adapter(adapters: &[wgpu::Adapter], choice: Option<&str>) -> Result<usize, GpuError> {
    if adapters.is_empty() {
        return Err(GpuError::NoAdapter);
    }
    match choice.map(str::trim) {
        Some(wanted) if !wanted.is_empty() => named_adapter(&summaries(adapters), wanted),
        _ => Ok((0..adapters.len())
            .min_by_key(|&i| {
                let info = adapters[i].get_info();
                // Among equals prefer Vulkan/Metal/DX12 over GL.
                let gl = u8::from(info.backend == wgpu::Backend::Gl);
                (preference_rank(info.device_type), gl, i)
            })
            .expect("non-empty")),
    }
}

/// The adapter `wanted` names: an index, or words each found (case aside) in the adapter's
/// "name (backend, type)" as `etaprobe devices` lists it. Several adapters matching is an
/// error, not the first of them: two identical GPUs, or one GPU under Vulkan and GL.
pub fn named_adapter(adapters: &[AdapterSummary], wanted: &str) -> Result<usize, GpuError> {
    let line = |s: &AdapterSummary| format!("{} ({}, {})", s.name, s.backend, s.device_type);
    let available = || {
        adapters
            .iter()
            .map(|s| format!("  {}: {}", s.index, line(s)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    if let Ok(index) = wanted.parse::<usize>() {
        return match index < adapters.len() {
            true => Ok(index),
            false => Err(GpuError::AdapterIndexOutOfRange {
                index,
                count: adapters.len(),
                available: available(),
            }),
        };
    }
    // A whole name (or line) names its adapter, even when it is part of another's: "RTX
    // 3080" beside "RTX 3080 Ti".
    let exactly: Vec<usize> = adapters
        .iter()
        .filter(|s| s.name.eq_ignore_ascii_case(wanted) || line(s).eq_ignore_ascii_case(wanted))
        .map(|s| s.index)
        .collect();
    if let [one] = exactly[..] {
        return Ok(one);
    }
    let words: Vec<String> = wanted.split_whitespace().map(str::to_lowercase).collect();
    let matching: Vec<usize> = adapters
        .iter()
        .filter(|s| {
            let text = line(s).to_lowercase();
            words.iter().all(|w| text.contains(w.as_str()))
        })
        .map(|s| s.index)
        .collect();
    match matching[..] {
        [one] => Ok(one),
        [] => Err(GpuError::AdapterNotFound {
            wanted: wanted.to_string(),
            available: available(),
        }),
        [ref first @ .., last] => Err(GpuError::AdapterAmbiguous {
            wanted: wanted.to_string(),
            matches: format!(
                "adapters {} and {last}",
                first
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            available: available(),
        }),
    }
}

/// The device etaprobe computes on, opened with the adapter's real limits.
pub struct Gpu {
    /// The logical device: creates buffers, pipelines and command encoders.
    pub device: wgpu::Device,
    /// The device's queue: command buffers are submitted and buffers written through it.
    pub queue: wgpu::Queue,
    /// The adapter's name, backend, device type and driver.
    pub info: wgpu::AdapterInfo,
    /// The adapter's position in [`enumerate_adapters`]'s list.
    pub index: usize,
    /// The limits the device was opened with: all the adapter supports, not wgpu's defaults.
    pub limits: wgpu::Limits,
    /// The optional features enabled: timestamp queries and subgroups where the adapter has
    /// them.
    pub features: wgpu::Features,
    errors: Arc<Mutex<Vec<String>>>,
    /// Distinguishes devices in the kernel cache.
    pub(crate) id: usize,
    dummy: std::sync::OnceLock<super::Tensor>,
    /// Buffers etaprobe has created on this device (storage, uniform and staging).
    pub(crate) buffers_created: AtomicUsize,
    bytes_allocated: std::sync::atomic::AtomicU64,
    /// Shared scratch tensors by purpose (matmul operand packing), grown on demand.
    scratch: Mutex<Vec<(&'static str, super::Tensor)>>,
}

impl Drop for Gpu {
    fn drop(&mut self) {
        super::program::forget_device(self.id);
    }
}

impl Gpu {
    /// Opens the adapter named by `choice`, or the preferred one.
    pub fn open(choice: Option<&str>) -> Result<Gpu, GpuError> {
        let adapters = enumerate_adapters();
        let index = choose_adapter(&adapters, choice)?;
        let adapter = adapters
            .into_iter()
            .nth(index)
            .expect("chosen index is valid");
        Self::from_adapter(adapter, index)
    }

    fn from_adapter(adapter: wgpu::Adapter, index: usize) -> Result<Gpu, GpuError> {
        let info = adapter.get_info();
        // The defaults cap storage bindings at 128 MiB; ask for all the adapter has.
        let limits = adapter.limits();
        let features =
            adapter.features() & (wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::SUBGROUP);
        let desc = wgpu::DeviceDescriptor {
            label: Some("etaprobe"),
            required_features: features,
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&desc))
            .map_err(|e| GpuError::Device(format!("{} ({:?}): {e}", info.name, info.backend)))?;
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = errors.clone();
        // Turn wgpu's default panic on validation errors into errors we report.
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.to_string());
            }
        }));
        Ok(Gpu {
            device,
            queue,
            info,
            index,
            limits,
            features,
            errors,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            dummy: std::sync::OnceLock::new(),
            scratch: Mutex::new(Vec::new()),
            buffers_created: AtomicUsize::new(0),
            bytes_allocated: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// How many buffers etaprobe has created on this device: a recorded training step
    /// replays without adding to it.
    pub fn buffers_created(&self) -> usize {
        self.buffers_created.load(Ordering::Relaxed)
    }

    /// Bytes of all buffers etaprobe has created on this device. Buffers are kept for the
    /// whole run (passes reuse them), so this is the peak of GPU memory etaprobe holds.
    pub fn bytes_allocated(&self) -> u64 {
        self.bytes_allocated.load(Ordering::Relaxed)
    }

    pub(crate) fn count_buffer(&self, bytes: u64) {
        self.buffers_created.fetch_add(1, Ordering::Relaxed);
        self.bytes_allocated.fetch_add(bytes, Ordering::Relaxed);
    }

    /// A scratch tensor of at least `len` elements for `purpose`, shared by every dispatch
    /// that records the same purpose: its contents live only from one dispatch to the next
    /// (dispatches run in recording order). A larger request makes a new, larger buffer;
    /// programs recorded earlier keep the old one.
    pub fn scratch(&self, purpose: &'static str, len: usize) -> Result<super::Tensor, GpuError> {
        let mut all = self.scratch.lock().expect("scratch lock");
        if let Some((_, t)) = all.iter().find(|(p, t)| *p == purpose && t.len() >= len) {
            return Ok(t.view(0, &[len]));
        }
        let limit = (self.limits.max_storage_buffer_binding_size / 4) as usize;
        let previous = all
            .iter()
            .filter(|(p, _)| *p == purpose)
            .map(|(_, t)| t.len())
            .max()
            .unwrap_or(0);
        // Grow geometrically, so that a run of growing requests makes few buffers.
        let size = len.max((2 * previous).min(limit));
        let t = self.zeros(purpose, &[size])?;
        all.retain(|(p, _)| *p != purpose);
        all.push((purpose, t.clone()));
        Ok(t.view(0, &[len]))
    }

    /// A small zero tensor to bind where a kernel's optional input is absent.
    pub fn dummy(&self) -> &super::Tensor {
        self.dummy.get_or_init(|| {
            self.zeros("unused", &[64])
                .expect("a 256-byte buffer always fits")
        })
    }

    /// What `etaprobe devices` shows of this device's adapter.
    pub fn summary(&self) -> AdapterSummary {
        AdapterSummary::new(self.index, &self.info)
    }

    /// One line naming the adapter, for logs and run.json.
    pub fn describe(&self) -> String {
        format!(
            "{} ({:?}, {}, driver {} {})",
            self.info.name,
            self.info.backend,
            device_type_name(self.info.device_type),
            self.info.driver,
            self.info.driver_info
        )
    }

    /// Returns the first validation or out-of-memory error wgpu reported since the last call.
    pub fn take_error(&self) -> Result<(), GpuError> {
        let mut errors = self.errors.lock().map_err(|_| GpuError::Poisoned)?;
        if errors.is_empty() {
            Ok(())
        } else {
            let all = std::mem::take(&mut *errors);
            Err(GpuError::Wgpu(all.join("\n")))
        }
    }

    /// Blocks until every submitted command buffer has finished.
    pub fn wait(&self) -> Result<(), GpuError> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::Wgpu(e.to_string()))?;
        self.take_error()
    }

    /// Fails with a clear message when a buffer of `bytes` cannot be bound in one piece.
    pub fn check_binding_size(&self, what: &str, bytes: u64) -> Result<(), GpuError> {
        let limit = self
            .limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size);
        if bytes > limit {
            return Err(GpuError::TooLarge {
                what: what.to_string(),
                bytes,
                limit,
                adapter: self.info.name.clone(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter(index: usize, name: &str, backend: &str, device_type: &str) -> AdapterSummary {
        AdapterSummary {
            index,
            name: name.into(),
            backend: backend.into(),
            device_type: device_type.into(),
            driver: String::new(),
            driver_info: String::new(),
        }
    }

    #[test]
    fn an_adapter_is_named_by_index_or_by_words_and_never_guessed() {
        let list = [
            adapter(0, "NVIDIA H100", "Vulkan", "discrete GPU"),
            adapter(1, "NVIDIA H100", "Vulkan", "discrete GPU"),
            adapter(2, "NVIDIA H100", "Gl", "discrete GPU"),
            adapter(
                3,
                "llvmpipe (LLVM 15.0.6, 256 bits)",
                "Vulkan",
                "software (CPU)",
            ),
        ];
        let said = |wanted: &str| named_adapter(&list, wanted).unwrap_err().to_string();
        assert_eq!(named_adapter(&list, "1").unwrap(), 1);
        assert_eq!(named_adapter(&list, "LLVMpipe").unwrap(), 3);
        // Words of the backend and the type count too.
        assert_eq!(named_adapter(&list, "cpu").unwrap(), 3);
        assert_eq!(named_adapter(&list, "nvidia gl").unwrap(), 2);
        // A whole name that is part of another's names its own adapter.
        let cards = [
            adapter(0, "NVIDIA GeForce RTX 3080 Ti", "Vulkan", "discrete GPU"),
            adapter(1, "NVIDIA GeForce RTX 3080", "Vulkan", "discrete GPU"),
        ];
        assert_eq!(named_adapter(&cards, "nvidia geforce rtx 3080").unwrap(), 1);
        assert_eq!(named_adapter(&cards, "3080 ti").unwrap(), 0);
        assert!(named_adapter(&cards, "3080").is_err());
        let e = said("nvidia");
        assert!(e.contains("'nvidia' matches adapters 0, 1 and 2"), "{e}");
        assert!(e.contains("give an index"), "{e}");
        let e = said("nvidia vulkan");
        assert!(e.contains("matches adapters 0 and 1"), "{e}");
        let e = said("7");
        assert!(e.contains("there is no adapter 7, only 4 (0 to 3)"), "{e}");
        assert!(e.contains("  3: llvmpipe"), "{e}");
        let e = said("radeon");
        assert!(e.contains("'radeon' matches no adapter"), "{e}");
        assert!(e.contains("ETAPROBE_ADAPTER"), "{e}");
    }
}
