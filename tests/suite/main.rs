//! The integration tests as one binary: one link of wgpu instead of one per file, which
//! keeps a CI build small and fast. Convolution chunking, which sets a process-wide
//! variable, has a binary of its own (`tests/resnet_chunking.rs`).

#[path = "../common/mod.rs"]
mod common;
#[path = "../reference/mod.rs"]
mod reference;

mod baselines;
mod checkpoint;
mod cli;
mod cli_bounded;
mod data_bounded;
mod data_download;
mod data_images;
mod data_loader;
mod data_locate;
mod data_readers;
mod data_real;
mod decay;
mod device_tree;
mod dist;
mod fuzz_seeds;
mod hand_root;
mod lenet;
mod ops;
mod report;
mod resnet;
mod resnet_cli;
mod resume_safety;
mod schedules;
mod schedules_rules;
mod schedules_start;
mod shaders;
mod sweep;
mod sweep_lane;
mod sweep_stop;
mod train_cli;
mod train_config;
mod train_crash;
mod train_interrupt;
mod train_least_squares;
mod train_output;
mod train_resume;
mod train_step;
mod unrolled;
