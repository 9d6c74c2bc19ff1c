//! etaprobe: neural-network training on any GPU through wgpu, with handwritten WGSL kernels
//! and a learning rate that is learnt while training (Gorti & Ravaut's first- and
//! second-order rules).
//!
//! To find your way in, read the README's section "How it computes: a map of the source":
//! the layers, what each module holds, and where to start reading to follow a training step.

#![warn(missing_docs)]

/// `impl Default` for a group of command-line options: each option at the default the
/// command line gives it, so that the two never disagree.
macro_rules! default_from_command_line {
    ($options:ty) => {
        impl Default for $options {
            fn default() -> Self {
                use clap::{Args, FromArgMatches};
                let command = <$options>::augment_args(clap::Command::new("defaults"));
                let matches = command.get_matches_from(["defaults"]);
                <$options>::from_arg_matches(&matches).expect("every option has a default")
            }
        }
    };
}
pub(crate) use default_from_command_line;

pub mod bench;
pub mod compare;
pub mod data;
pub mod dist;
pub mod gpu;
pub mod models;
pub mod ops;
pub mod optim;
pub mod output;
pub mod report;
pub mod rundir;
pub mod schedule;
pub mod sweep;
pub mod train;
pub mod values;
pub mod words;
