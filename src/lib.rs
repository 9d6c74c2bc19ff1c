//! etaprobe: neural-network training on any GPU through wgpu, with handwritten WGSL kernels
//! and a learning rate that is learnt while training (Gorti & Ravaut's first- and
//! second-order rules).

pub mod bench;
pub mod compare;
pub mod data;
pub mod gpu;
pub mod models;
pub mod ops;
pub mod optim;
pub mod report;
pub mod rundir;
pub mod schedule;
pub mod sweep;
pub mod train;
