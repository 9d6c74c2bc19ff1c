//! Writes a small generated data set: `cargo run --example fake_data -- boston DIR`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let kind = match args.get(1).map(String::as_str) {
        Some("boston") => etaprobe::data::DatasetKind::Boston,
        Some("cifar10") => etaprobe::data::DatasetKind::Cifar10,
        _ => etaprobe::data::DatasetKind::FashionMnist,
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
