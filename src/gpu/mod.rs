//! The GPU layer: device selection, tensors in storage buffers, cached kernels and
//! pre-recorded programs of dispatches.

#![warn(missing_docs)]

mod device;
mod params;
mod program;
mod tensor;

pub use device::{choose_adapter, enumerate_adapters, summaries, AdapterSummary, Gpu};
pub use params::{ParamLayout, ParamSlot, Params};
pub use program::{CommandTime, Kernel, Program, Shader};
pub use tensor::{align_elems, ReadBack, Tensor};

/// Whether a switch of the environment (`ETAPROBE_NO_SUBGROUPS`, ...) is on: set, and not
/// empty, `0`, `false`, `no` or `off`, so that `VAR=0` turns it off as one would expect.
pub fn env_flag(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| switched_on(&v.to_string_lossy()))
}

fn switched_on(value: &str) -> bool {
    let v = value.trim().to_ascii_lowercase();
    !matches!(v.as_str(), "" | "0" | "false" | "no" | "off")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_switch_set_to_0_is_off() {
        for on in ["1", "yes", "true", "on", "2"] {
            assert!(super::switched_on(on), "{on}");
        }
        for off in ["", "0", "false", "FALSE", "no", "off", " 0 "] {
            assert!(!super::switched_on(off), "{off:?}");
        }
    }
}

/// Everything that can go wrong on the GPU side, phrased for the user.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// wgpu found no adapter that can run compute shaders.
    #[error(
        "no usable GPU adapter found. Install a GPU driver with Vulkan, Metal or DX12 support, \
         or, on a machine without a GPU, Mesa's software Vulkan driver \
         (Debian/Ubuntu: `apt-get install mesa-vulkan-drivers`)"
    )]
    NoAdapter,
    /// `--adapter` (or `ETAPROBE_ADAPTER`) names no adapter: text that is part of no
    /// adapter's description.
    #[error(
        "--adapter (or ETAPROBE_ADAPTER) '{wanted}' matches no adapter (give an index, or \
         words of an adapter's name, backend or type); available:\n{available}"
    )]
    AdapterNotFound {
        /// The choice as given.
        wanted: String,
        /// One line per adapter: index, name, backend and device type.
        available: String,
    },
    /// An index past the last adapter.
    #[error(
        "--adapter (or ETAPROBE_ADAPTER) {index}: there is no adapter {index}, only {count} \
         (0 to {last}); available:\n{available}",
        last = count - 1
    )]
    AdapterIndexOutOfRange {
        /// The index given.
        index: usize,
        /// How many adapters there are (at least one).
        count: usize,
        /// One line per adapter: index, name, backend and device type.
        available: String,
    },
    /// Text that matches several adapters (two identical GPUs, or one GPU through two
    /// backends): choosing the first would be a guess.
    #[error(
        "--adapter (or ETAPROBE_ADAPTER) '{wanted}' matches {matches}: give an index, or \
         more words (e.g. the backend); available:\n{available}"
    )]
    AdapterAmbiguous {
        /// The choice as given.
        wanted: String,
        /// "adapters 0 and 2".
        matches: String,
        /// One line per adapter: index, name, backend and device type.
        available: String,
    },
    /// The chosen adapter refused to open a device; holds the adapter, its backend and wgpu's
    /// reason.
    #[error("could not open the device on {0}")]
    Device(String),
    /// A buffer or dispatch grid exceeds the adapter's limits (detected before wgpu is asked).
    #[error(
        "{what} needs {bytes} bytes in one storage binding, but {adapter} allows at most {limit}; \
         use a smaller batch size or model"
    )]
    TooLarge {
        /// What was being created: a tensor (its label) or a kernel's dispatch grid.
        what: String,
        /// Bytes of the one storage binding it needs; for a dispatch grid, the workgroup count
        /// along its largest dimension.
        bytes: u64,
        /// The adapter's limit, in the same unit as `bytes`.
        limit: u64,
        /// The adapter's name.
        adapter: String,
    },
    /// An error wgpu reported: validation or out-of-memory errors caught since the last
    /// [`Gpu::take_error`], a failed poll, map or binding.
    #[error("GPU error: {0}")]
    Wgpu(String),
    /// A kernel could not be built or used: WGSL that fails to compile (with file and line), a
    /// missing entry point, or an op given a shape its kernels do not support.
    #[error("invalid kernel {0}")]
    Shader(String),
    /// A lock of the GPU layer (the error sink or the kernel cache) was poisoned by a panic in
    /// another thread.
    #[error("GPU error sink was poisoned by a panic")]
    Poisoned,
}
