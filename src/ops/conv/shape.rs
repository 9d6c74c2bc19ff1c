//! The geometry of a convolution and the sizes derived from it.

use crate::gpu::{Gpu, GpuError};

/// Geometry of a convolution: input `[batch, in_channels, height, width]`, weights
/// `[out_channels, in_channels, kernel_h, kernel_w]`, the same stride and zero padding
/// along both axes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    /// Images in the batch.
    pub batch: usize,
    /// Input channels.
    pub in_channels: usize,
    /// Input height in pixels, before padding.
    pub height: usize,
    /// Input width in pixels, before padding.
    pub width: usize,
    /// Output channels: the number of filters.
    pub out_channels: usize,
    /// Kernel height.
    pub kernel_h: usize,
    /// Kernel width.
    pub kernel_w: usize,
    /// Step between windows, along both axes.
    pub stride: usize,
    /// Zero padding added on every side.
    pub padding: usize,
}

impl ConvShape {
    /// Output rows, floored like PyTorch.
    pub fn out_height(&self) -> usize {
        (self.height + 2 * self.padding - self.kernel_h) / self.stride + 1
    }

    /// Output columns, floored like PyTorch.
    pub fn out_width(&self) -> usize {
        (self.width + 2 * self.padding - self.kernel_w) / self.stride + 1
    }

    /// Output pixels per image and channel.
    pub fn pixels(&self) -> usize {
        self.out_height() * self.out_width()
    }

    /// A 1×1 kernel with stride 2 and no padding on an input exactly twice as wide and high
    /// as the output, whose rows are whole vec4s (ResNet's strided shortcuts): col2im then
    /// moves a vec4 of dcol at a time.
    pub fn strided_1x1_by_quads(&self) -> bool {
        self.kernel_h == 1
            && self.kernel_w == 1
            && self.stride == 2
            && self.padding == 0
            && self.height == 2 * self.out_height()
            && self.width == 2 * self.out_width()
            && self.out_width().is_multiple_of(4)
    }

    /// Length of one patch: the inner dimension `K` of the products.
    pub fn patch_len(&self) -> usize {
        self.in_channels * self.kernel_h * self.kernel_w
    }

    /// Rows of the patch matrix: [`ConvShape::patch_len`] rounded up to whole vec4s, the
    /// rows past it zero, so that the products read the patches in place (an operand whose
    /// inner dimension is not whole vec4s is packed: a copy as large as the patches).
    pub fn patch_rows(&self) -> usize {
        self.patch_len().div_ceil(4) * 4
    }

    /// `[batch, in_channels, height, width]`.
    pub fn input_shape(&self) -> [usize; 4] {
        [self.batch, self.in_channels, self.height, self.width]
    }

    /// `[batch, out_channels, out_height, out_width]`.
    pub fn output_shape(&self) -> [usize; 4] {
        [
            self.batch,
            self.out_channels,
            self.out_height(),
            self.out_width(),
        ]
    }

    /// `[out_channels, in_channels, kernel_h, kernel_w]`, PyTorch's layout.
    pub fn weight_shape(&self) -> [usize; 4] {
        [
            self.out_channels,
            self.in_channels,
            self.kernel_h,
            self.kernel_w,
        ]
    }

    /// Elements of the input.
    pub fn input_len(&self) -> usize {
        self.input_shape().iter().product()
    }

    /// Elements of the output.
    pub fn output_len(&self) -> usize {
        self.output_shape().iter().product()
    }

    /// Elements of the weights.
    pub fn weight_len(&self) -> usize {
        self.weight_shape().iter().product()
    }

    /// Row length of the scratch matrices: batch·pixels rounded up to whole vec4s.
    pub fn col_stride(&self) -> usize {
        (self.batch * self.pixels()).div_ceil(4) * 4
    }

    /// Elements of the `col` scratch ([`super::Conv2d::with_scratch`]).
    pub fn col_len(&self) -> usize {
        self.patch_rows() * self.col_stride()
    }

    /// Elements of the output-sized scratch ([`super::Conv2d::with_scratch`]).
    pub fn rows_len(&self) -> usize {
        self.out_channels * self.col_stride()
    }

    /// Checks that the convolution is well formed and that its tensors fit the adapter.
    pub fn validate(&self, gpu: &Gpu) -> Result<(), GpuError> {
        let s = self;
        let invalid = |why: String| Err(GpuError::Shader(format!("conv2d {s:?}: {why}")));
        if [s.batch, s.in_channels, s.height, s.width, s.out_channels].contains(&0)
            || [s.kernel_h, s.kernel_w, s.stride].contains(&0)
        {
            return invalid("sizes, kernel and stride must be at least 1".into());
        }
        if s.kernel_h > s.height + 2 * s.padding || s.kernel_w > s.width + 2 * s.padding {
            return invalid(format!(
                "a {}×{} kernel does not fit a {}×{} input padded by {}",
                s.kernel_h, s.kernel_w, s.height, s.width, s.padding
            ));
        }
        // Kernels index in u32; the storage-binding limit usually binds first.
        for (what, len) in [
            ("conv2d input", s.input_len()),
            ("conv2d output", s.output_len()),
            ("conv2d weight", s.weight_len()),
            ("conv2d im2col scratch", s.col_len()),
        ] {
            let bytes = 4 * len as u64;
            if len >= u32::MAX as usize {
                return Err(GpuError::TooLarge {
                    what: what.to_string(),
                    bytes,
                    limit: 4 * u32::MAX as u64,
                    adapter: gpu.info.name.clone(),
                });
            }
            gpu.check_binding_size(what, bytes)?;
        }
        // Channels are grid z (or x) indices, and so are blocks of patch rows (the
        // transposes and weight_grad_nt); the rows themselves are checked, a simpler and
        // slightly stricter bound.
        let max_groups = gpu.limits.max_compute_workgroups_per_dimension as usize;
        let most = s.patch_rows().max(s.out_channels).max(s.in_channels);
        if most > max_groups {
            return invalid(format!(
                "{most} channels or taps exceed the adapter's {max_groups} workgroups per dimension"
            ));
        }
        Ok(())
    }
}
