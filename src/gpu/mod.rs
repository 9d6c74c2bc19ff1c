//! The GPU layer: device selection, tensors in storage buffers, cached kernels and
//! pre-recorded programs of dispatches.

mod device;
mod params;
mod program;
mod tensor;

pub use device::{choose_adapter, enumerate_adapters, summaries, AdapterSummary, Gpu};
pub use params::{ParamLayout, ParamSlot, Params};
pub use program::{CommandTime, Kernel, Program, Shader};
pub use tensor::{align_elems, ReadBack, Tensor};

/// Everything that can go wrong on the GPU side, phrased for the user.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error(
        "no usable GPU adapter found. Install a GPU driver with Vulkan, Metal or DX12 support, \
         or, on a machine without a GPU, Mesa's software Vulkan driver \
         (Debian/Ubuntu: `apt-get install mesa-vulkan-drivers`)"
    )]
    NoAdapter,
    #[error(
        "no adapter matches '{wanted}' (give an index or part of a name); available:\n{available}"
    )]
    AdapterNotFound { wanted: String, available: String },
    #[error("could not open the device on {0}")]
    Device(String),
    #[error(
        "{what} needs {bytes} bytes in one storage binding, but {adapter} allows at most {limit}; \
         use a smaller batch size or model"
    )]
    TooLarge {
        what: String,
        bytes: u64,
        limit: u64,
        adapter: String,
    },
    #[error("GPU error: {0}")]
    Wgpu(String),
    #[error("invalid kernel {0}")]
    Shader(String),
    #[error("GPU error sink was poisoned by a panic")]
    Poisoned,
}
