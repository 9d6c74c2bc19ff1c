//! Named tolerances of the element-wise comparisons, by what is compared: a GPU result in
//! f32 against the f64 reference, |got − want| ≤ abs + rel·|want|.

/// An absolute and a relative tolerance, for [`super::assert_close`].
#[derive(Clone, Copy, Debug)]
pub struct Tol {
    pub abs: f64,
    pub rel: f64,
}

/// Bit for bit: ops that select or copy values (ReLU, max pooling, arg-max flags).
pub const EXACT: Tol = Tol { abs: 0.0, rel: 0.0 };

/// One f32 rounding of a sum of two (residual add, accumulated ReLU gradient).
pub const ONE_ROUNDING: Tol = Tol {
    abs: 1e-7,
    rel: 1e-7,
};

/// One f32 rounding of a product with a dropout mask: exact where the mask is 0.
pub const MASKED: Tol = Tol {
    abs: 0.0,
    rel: 1e-7,
};

/// A few f32 operations per element, no sums: axpy, scale, SGD, bias add, optimizer
/// state, batch means.
pub const ELEMENTWISE: Tol = Tol {
    abs: 1e-6,
    rel: 1e-6,
};

/// A short f32 computation (a window, a plane, a squared error, running statistics), and
/// gradients of ops linear in their input against finite differences, which are exact
/// there up to f64 rounding.
pub const SHORT_CHAIN: Tol = Tol {
    abs: 1e-6,
    rel: 1e-5,
};

/// Gradients through nonlinear ops, products and batch sums against f64 finite
/// differences or the f64 chain rule; also other results of as long an f32 chain (a whole
/// training step, optimizer directions, running statistics of a network).
pub const GRADIENT: Tol = Tol {
    abs: 1e-5,
    rel: 1e-4,
};

/// Loss gradients: each value is scaled down by the batch, so the absolute part is
/// smaller than [`GRADIENT`]'s.
pub const LOSS_GRADIENT: Tol = Tol {
    abs: 1e-6,
    rel: 1e-4,
};

/// Sums over many f32 terms (matmul products, column sums): the absolute error grows
/// with the count of terms.
pub const LONG_SUMS: Tol = Tol {
    abs: 1e-4,
    rel: 1e-5,
};

/// Batch normalisation's outputs: a division by the standard deviation after sums over
/// the batch.
pub const BATCH_NORM: Tol = Tol {
    abs: 1e-5,
    rel: 1e-5,
};
