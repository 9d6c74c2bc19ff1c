//! The flat parameter buffer and its gradient twin: every layer owns an offset range in
//! both, so whole-model operations (the SGD update, g·g′, probe perturbations) are single
//! kernels over one buffer.

use super::tensor::ALIGN_ELEMS;
use super::{Gpu, GpuError, Tensor};

/// One named parameter tensor's place in the flat buffers.
#[derive(Clone, Debug)]
pub struct ParamSlot {
    /// PyTorch's name for the tensor (`conv1.weight`), used in checkpoints.
    pub name: String,
    /// The tensor's shape in PyTorch's layout (`[out, in]` for a linear weight).
    pub shape: Vec<usize>,
    /// First element in the flat buffers; a multiple of `ALIGN_ELEMS`.
    pub offset: usize,
}

impl ParamSlot {
    /// Number of elements (the product of `shape`), without padding.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The layout: slots in registration order, each starting on a bindable offset.
#[derive(Clone, Debug, Default)]
pub struct ParamLayout {
    /// The tensors, in registration order (the order `upload_all` and `download_all` use).
    pub slots: Vec<ParamSlot>,
    /// Total elements including alignment padding.
    pub len: usize,
}

impl ParamLayout {
    /// An empty layout, to [`add`](ParamLayout::add) tensors to.
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
    /// Where each trainable tensor lies in `values` and `grads`.
    pub layout: ParamLayout,
    /// The trainable parameters w, all tensors in one flat buffer of `layout.len` elements.
    pub values: Tensor,
    /// The gradient of the loss with respect to `values`, laid out the same way.
    pub grads: Tensor,
    /// Where each non-trainable buffer (batch-norm running mean and variance) lies in
    /// `buffers`.
    pub buffer_layout: ParamLayout,
    /// The non-trainable buffers, in one flat buffer; never updated by an optimizer or probed.
    pub buffers: Tensor,
}

impl Params {
    /// Zeroed parameter and gradient buffers for `layout`, with no non-trainable buffers.
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
