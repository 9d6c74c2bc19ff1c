//! The flat parameter buffer and its gradient twin: every layer owns an offset range in
//! both, so whole-model operations (the SGD update, g·g′, probe perturbations) are single
//! kernels over one buffer.

use super::tensor::ALIGN_ELEMS;
use super::{Gpu, GpuError, Tensor};

/// One named parameter tensor's place in the flat buffers.
#[derive(Clone, Debug)]
pub struct ParamSlot {
    pub name: String,
    pub shape: Vec<usize>,
    pub offset: usize,
}

impl ParamSlot {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The layout: slots in registration order, each starting on a bindable offset.
#[derive(Clone, Debug, Default)]
pub struct ParamLayout {
    pub slots: Vec<ParamSlot>,
    /// Total elements including alignment padding.
    pub len: usize,
}

impl ParamLayout {
    pub fn new() -> ParamLayout {
        ParamLayout::default()
    }

    /// Reserves a range for `name`; returns its index.
    pub fn add(&mut self, name: &str, shape: &[usize]) -> usize {
        let offset = self.len;
        let len: usize = shape.iter().product();
        self.len = offset + len.div_ceil(ALIGN_ELEMS) * ALIGN_ELEMS;
        self.slots.push(ParamSlot {
            name: name.to_string(),
            shape: shape.to_vec(),
            offset,
        });
        self.slots.len() - 1
    }

    /// Number of real parameters (without padding).
    pub fn count(&self) -> usize {
        self.slots.iter().map(ParamSlot::len).sum()
    }
}

/// The parameter and gradient buffers of a model, and its non-trainable buffers (batch-norm
/// running statistics), which no optimizer or probe touches.
pub struct Params {
    pub layout: ParamLayout,
    pub values: Tensor,
    pub grads: Tensor,
    pub buffer_layout: ParamLayout,
    pub buffers: Tensor,
}

impl Params {
    pub fn new(gpu: &Gpu, layout: ParamLayout) -> Result<Params, GpuError> {
        Params::with_buffers(gpu, layout, ParamLayout::new())
    }

    /// Parameters with non-trainable buffers laid out by `buffer_layout`.
    pub fn with_buffers(
        gpu: &Gpu,
        layout: ParamLayout,
        buffer_layout: ParamLayout,
    ) -> Result<Params, GpuError> {
        let len = layout.len.max(ALIGN_ELEMS);
        Ok(Params {
            values: gpu.zeros("parameters", &[len])?,
            grads: gpu.zeros("gradients", &[len])?,
            buffers: gpu.zeros("running statistics", &[buffer_layout.len.max(ALIGN_ELEMS)])?,
            buffer_layout,
            layout,
        })
    }

    /// The view of non-trainable buffer slot `i`.
    pub fn buffer(&self, i: usize) -> Tensor {
        let s = &self.buffer_layout.slots[i];
        self.buffers.view(s.offset, &s.shape)
    }

    /// Uploads every non-trainable buffer, in layout order.
    pub fn upload_buffers(&self, gpu: &Gpu, values: &[Vec<f32>]) {
        assert_eq!(values.len(), self.buffer_layout.slots.len());
        for (i, v) in values.iter().enumerate() {
            gpu.write(&self.buffer(i), v);
        }
    }

    /// Downloads every non-trainable buffer, in layout order.
    pub fn download_buffers(&self, gpu: &Gpu) -> Result<Vec<Vec<f32>>, GpuError> {
        let all: Vec<f32> = gpu.read(&self.buffers)?;
        Ok(self
            .buffer_layout
            .slots
            .iter()
            .map(|s| all[s.offset..s.offset + s.len()].to_vec())
            .collect())
    }

    /// The value view of slot `i`.
    pub fn value(&self, i: usize) -> Tensor {
        let s = &self.layout.slots[i];
        self.values.view(s.offset, &s.shape)
    }

    /// The gradient view of slot `i`.
    pub fn grad(&self, i: usize) -> Tensor {
        let s = &self.layout.slots[i];
        self.grads.view(s.offset, &s.shape)
    }

    /// Uploads the values of every slot, in layout order (padding stays zero).
    pub fn upload_all(&self, gpu: &Gpu, values: &[Vec<f32>]) {
        assert_eq!(values.len(), self.layout.slots.len());
        for (i, v) in values.iter().enumerate() {
            gpu.write(&self.value(i), v);
        }
    }

    /// Downloads every slot's values, in layout order.
    pub fn download_all(&self, gpu: &Gpu) -> Result<Vec<Vec<f32>>, GpuError> {
        let all: Vec<f32> = gpu.read(&self.values)?;
        Ok(self
            .layout
            .slots
            .iter()
            .map(|s| all[s.offset..s.offset + s.len()].to_vec())
            .collect())
    }
}
