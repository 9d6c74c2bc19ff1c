//! LeNet-5 on CIFAR-10 with the `auto` rule, through the library:
//! `cargo run --release --example train_lenet -- [CIFAR10_DIR] [EPOCHS] [OUT]`.
//! Without a folder it looks under `ETAPROBE_DATA` and the usual places, else downloads.
use std::path::PathBuf;

use etaprobe::data::DatasetKind;
use etaprobe::models::ModelKind;
use etaprobe::train::{train, TrainConfig};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let data = args.next().map(PathBuf::from);
    let epochs = args.next().map_or(Ok(2), |e| e.parse())?;
    let out = args.next().unwrap_or_else(|| "runs/example-lenet".into());
    let config = TrainConfig::default()
        .model(ModelKind::Lenet)
        .download(data.is_none())
        .dataset(DatasetKind::Cifar10, data)
        .schedule("auto")
        .lr(0.01)
        .batch_size(32)
        .epochs(epochs)
        .val_split(0.1)
        .out(&out)
        .overwrite(true);
    let run = train(&config, None)?;
    etaprobe::report::run_figures(&run.out)?;
    println!(
        "{} steps in {:.0} s: validation accuracy {:.2}%, test accuracy {:.2}%, final η {:.3e}",
        run.steps,
        run.seconds,
        100.0 * run.final_val_acc.unwrap_or(f64::NAN),
        100.0 * run.final_test_acc.unwrap_or(f64::NAN),
        run.lr
    );
    println!("records and figures in {}", run.out.display());
    Ok(())
}
