//! Writes a small generated data set (100 training and 25 test samples of random pixels or
//! features), to try the tool without downloading anything:
//!
//!   cargo run --example fake_data -- fashion-mnist DIR   # or boston, cifar10, cifar100
//!   etaprobe train --dataset fashion-mnist --data DIR --model logreg --epochs 1
use clap::ValueEnum;
use etaprobe::data::DatasetKind;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let names: Vec<&str> = DatasetKind::value_variants()
        .iter()
        .map(|k| k.cli_name())
        .collect();
    let usage = format!("usage: fake_data {} [DIR]", names.join("|"));
    let Some(name) = args.get(1) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let Ok(kind) = DatasetKind::from_str(name, true) else {
        eprintln!("error: no data set {name:?}\n{usage}");
        std::process::exit(2);
    };
    let root = std::path::Path::new(args.get(2).map_or("fake-data", String::as_str));
    match etaprobe::data::synth::write_fake_dataset(kind, root, 100, 25, 7) {
        Ok(p) => println!("{}", p.display()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
