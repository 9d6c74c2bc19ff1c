pub mod checkpoint;
pub mod metrics;
pub mod run;
