//! Tensors: shaped views into storage buffers of 32-bit elements.

use std::sync::Arc;

use wgpu::util::DeviceExt;

use super::{Gpu, GpuError};

/// Storage offsets must be multiples of `min_storage_buffer_offset_alignment`, which the
/// spec caps at 256 bytes; views into shared buffers start on this many elements.
pub const ALIGN_ELEMS: usize = 64;

/// A view of `shape.product()` 32-bit elements (f32 or u32) at `offset` in a buffer.
/// Cloning is cheap and shares the buffer.
#[derive(Clone, Debug)]
pub struct Tensor {
    /// The storage buffer the view lies in, shared with other views of it.
    pub buffer: Arc<wgpu::Buffer>,
    /// In elements; a multiple of `ALIGN_ELEMS` ([`align_elems`]) so the view can be bound
    /// on its own.
    pub offset: usize,
    /// The view's shape, row-major (`[n, c, h, w]` for images); its product is the element
    /// count.
    pub shape: Vec<usize>,
}

/// Buffers hold whole vec4s (at least one), so every tensor can also be bound as vec4s.
fn padded_bytes(elems: usize) -> u64 {
    (4 * elems as u64).div_ceil(16).max(1) * 16
}

const USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

impl Tensor {
    /// Number of elements: the product of `shape`.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the view has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Size of the view in bytes: 4 per element, without padding.
    pub fn bytes(&self) -> u64 {
        4 * self.len() as u64
    }

    /// The same elements under another shape, without a copy.
    pub fn reshape(&self, shape: &[usize]) -> Tensor {
        assert_eq!(
            shape.iter().product::<usize>(),
            self.len(),
            "reshape must keep the element count"
        );
        Tensor {
            shape: shape.to_vec(),
            ..self.clone()
        }
    }

    /// A sub-view starting `offset` elements in (aligned).
    pub fn view(&self, offset: usize, shape: &[usize]) -> Tensor {
        assert_eq!(offset % ALIGN_ELEMS, 0, "views start on aligned offsets");
        let len: usize = shape.iter().product();
        assert!(offset + len <= self.len(), "view out of range");
        Tensor {
            buffer: self.buffer.clone(),
            offset: self.offset + offset,
            shape: shape.to_vec(),
        }
    }

    /// The view as a binding, rounded up to whole vec4s where the buffer allows, so kernels
    /// may also read it as `array<vec4<f32>>`.
    pub fn binding(&self) -> wgpu::BindingResource<'_> {
        let start = 4 * self.offset as u64;
        let size = padded_bytes(self.len()).min(self.buffer.size() - start);
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: &self.buffer,
            offset: start,
            size: wgpu::BufferSize::new(size),
        })
    }

    /// Whether both views lie in the same storage buffer (they may still not overlap).
    pub fn same_buffer(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.buffer, &other.buffer)
    }
}

impl Gpu {
    fn storage_buffer(&self, label: &str, elems: usize) -> Result<Arc<wgpu::Buffer>, GpuError> {
        let bytes = padded_bytes(elems);
        self.check_binding_size(label, bytes)?;
        self.count_buffer(bytes);
        Ok(Arc::new(self.device.create_buffer(
            &wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage: USAGE,
                mapped_at_creation: false,
            },
        )))
    }

    /// A zero-filled tensor (wgpu zero-initialises new buffers).
    pub fn zeros(&self, label: &str, shape: &[usize]) -> Result<Tensor, GpuError> {
        let elems = shape.iter().product();
        Ok(Tensor {
            buffer: self.storage_buffer(label, elems)?,
            offset: 0,
            shape: shape.to_vec(),
        })
    }

    /// A tensor holding `data` (f32 or u32, anything 4 bytes wide).
    pub fn upload<T: bytemuck::Pod>(
        &self,
        label: &str,
        shape: &[usize],
        data: &[T],
    ) -> Result<Tensor, GpuError> {
        assert_eq!(std::mem::size_of::<T>(), 4, "tensors hold 32-bit elements");
        let elems: usize = shape.iter().product();
        assert_eq!(elems, data.len(), "data does not match shape {shape:?}");
        self.check_binding_size(label, padded_bytes(elems))?;
        self.count_buffer(padded_bytes(elems));
        let mut contents = bytemuck::cast_slice::<T, u8>(data).to_vec();
        contents.resize(padded_bytes(elems) as usize, 0);
        let buffer = self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: &contents,
                usage: USAGE,
            });
        Ok(Tensor {
            buffer: Arc::new(buffer),
            offset: 0,
            shape: shape.to_vec(),
        })
    }

    /// Overwrites a tensor's elements; takes effect before the next submission.
    pub fn write<T: bytemuck::Pod>(&self, t: &Tensor, data: &[T]) {
        assert_eq!(
            std::mem::size_of_val(data) as u64,
            t.bytes(),
            "size mismatch"
        );
        if !data.is_empty() {
            self.queue
                .write_buffer(&t.buffer, 4 * t.offset as u64, bytemuck::cast_slice(data));
        }
    }

    /// Copies a tensor back to the host and waits. For tests, checkpoints and
    /// evaluation; the training step reads back through [`ReadBack`] instead.
    pub fn read<T: bytemuck::Pod>(&self, t: &Tensor) -> Result<Vec<T>, GpuError> {
        // A staging buffer freed on return: not counted among the buffers a run holds
        // (a checkpoint's read must not look like a step that allocates).
        let rb = ReadBack::allocate(self, "read", t.len());
        let mut encoder = self.device.create_command_encoder(&Default::default());
        rb.copy_from(&mut encoder, t, 0);
        self.queue.submit([encoder.finish()]);
        rb.fetch(self)
    }
}

/// A mappable staging buffer, allocated once, that the step copies its few scalars into.
pub struct ReadBack {
    staging: wgpu::Buffer,
    elems: usize,
}

impl ReadBack {
    /// A staging buffer for `elems` 32-bit values; counts towards
    /// [`Gpu::buffers_created`](super::Gpu::buffers_created).
    pub fn new(gpu: &Gpu, label: &str, elems: usize) -> ReadBack {
        gpu.count_buffer(4 * elems.max(1) as u64);
        ReadBack::allocate(gpu, label, elems)
    }

    fn allocate(gpu: &Gpu, label: &str, elems: usize) -> ReadBack {
        ReadBack {
            staging: gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: 4 * elems.max(1) as u64,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            elems,
        }
    }

    /// Bytes a fetch reads back.
    pub fn bytes(&self) -> usize {
        4 * self.elems
    }

    /// Records a copy of `src` into the staging buffer at element `at`.
    pub fn copy_from(&self, encoder: &mut wgpu::CommandEncoder, src: &Tensor, at: usize) {
        assert!(at + src.len() <= self.elems, "read-back buffer too small");
        if src.is_empty() {
            return;
        }
        encoder.copy_buffer_to_buffer(
            &src.buffer,
            4 * src.offset as u64,
            &self.staging,
            4 * at as u64,
            src.bytes(),
        );
    }

    /// Waits for the copies and returns the staging buffer's contents.
    pub fn fetch<T: bytemuck::Pod>(&self, gpu: &Gpu) -> Result<Vec<T>, GpuError> {
        self.fetch_after(gpu, None)
    }

    /// Like [`ReadBack::fetch`], but waits only for `submission` (the one that copied into
    /// this buffer), so that work submitted after it keeps the GPU busy meanwhile.
    pub fn fetch_after<T: bytemuck::Pod>(
        &self,
        gpu: &Gpu,
        submission: Option<wgpu::SubmissionIndex>,
    ) -> Result<Vec<T>, GpuError> {
        if self.elems == 0 {
            gpu.wait()?;
            return Ok(Vec::new());
        }
        let slice = self.staging.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        gpu.device
            .poll(wgpu::PollType::Wait {
                submission_index: submission,
                timeout: None,
            })
            .map_err(|e| GpuError::Wgpu(e.to_string()))?;
        gpu.take_error()?;
        rx.recv()
            .map_err(|e| GpuError::Wgpu(e.to_string()))?
            .map_err(|e| GpuError::Wgpu(e.to_string()))?;
        let out = {
            let view = slice
                .get_mapped_range()
                .map_err(|e| GpuError::Wgpu(e.to_string()))?;
            bytemuck::cast_slice::<u8, T>(&view).to_vec()
        };
        self.staging.unmap();
        Ok(out)
    }
}

/// `n` rounded up to a bindable offset.
pub fn align_elems(n: usize) -> usize {
    n.div_ceil(ALIGN_ELEMS) * ALIGN_ELEMS
}
