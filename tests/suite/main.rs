//! The integration tests as one binary: one link of wgpu instead of one per file, which
//! keeps a CI build small and fast. Convolution chunking, which sets a process-wide
//! variable, has a binary of its own (`tests/resnet_chunking.rs`).

#[path = "../common/mod.rs"]
mod common;

mod checkpoint;
mod cli;
mod conv;
mod data_download;
mod data_loader;
mod data_readers;
mod data_real;
mod gradients;
mod kernels;
mod optimizers;
mod report;
mod resnet;
mod resnet_cli;
mod resnet_ops;
mod schedules;
mod shaders;
mod train_cli;
mod train_step;
mod unrolled;
