//! Decodes every image of the CIFAR-10 JPEG tree (60,000 files), then measures the batch
//! loader alone. Data: `ETAPROBE_DATA` (a data root or the tree itself). Run with
//! `ETAPROBE_DATA=DIR cargo bench --bench decode`.

use std::path::PathBuf;
use std::time::Instant;

use etaprobe::data::image_folder::read_image_folder;
use etaprobe::data::locate::detect_under;
use etaprobe::data::{Dataset, DatasetKind, Inputs, Source, Split, Targets};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(root) = std::env::var_os("ETAPROBE_DATA").map(PathBuf::from) else {
        eprintln!("decode bench: set ETAPROBE_DATA to a CIFAR-10 image-folder tree; skipped");
        return Ok(());
    };
    let Some(Source::ImageFolder(tree)) = detect_under(DatasetKind::Cifar10, &root) else {
        eprintln!(
            "decode bench: no CIFAR-10 image-folder tree at {} (set ETAPROBE_DATA); skipped",
            root.display()
        );
        return Ok(());
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());

    let started = Instant::now();
    let folder = read_image_folder(&tree, 3)?;
    let seconds = started.elapsed().as_secs_f64();
    let images = folder.train.labels.len() + folder.test.labels.len();
    println!(
        "decode: {images} images ({} train + {} test, {:?}) from {} in {seconds:.2} s on {threads} \
         threads = {:.0} images/s",
        folder.train.labels.len(),
        folder.test.labels.len(),
        folder.shape,
        tree.display(),
        images as f64 / seconds
    );

    let size = folder.shape.iter().product();
    let split = |d: etaprobe::data::image_folder::DecodedImages| {
        Split::new(
            Inputs::Pixels(d.pixels.into()),
            Targets::Classes(d.labels.into()),
            size,
        )
    };
    let dataset = Dataset::new(
        DatasetKind::Cifar10,
        split(folder.train)?,
        split(folder.test)?,
        folder.shape,
        folder.class_names,
        tree,
    )?;
    for augment in [false, true] {
        for batch in [32, 256] {
            let started = Instant::now();
            let mut samples = 0usize;
            let mut batches = 0usize;
            for b in dataset.train_batches(batch, 1, 0, 0, false, augment)? {
                samples += b.len;
                batches += 1;
            }
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "loader alone: batch {batch:>3}, augment {augment:<5}: {batches} batches in \
                 {seconds:.2} s = {:.0} batches/s ({:.0} samples/s)",
                batches as f64 / seconds,
                samples as f64 / seconds
            );
        }
    }
    // A consumer that works 4 ms per batch: with the loader overlapping, the epoch takes
    // about the consumer's time alone.
    let work = std::time::Duration::from_millis(4);
    let batches = dataset.batches_per_epoch(256, false);
    let started = Instant::now();
    for _ in dataset.train_batches(256, 1, 1, 0, false, true)? {
        std::thread::sleep(work);
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "overlap: batch 256 with augmentation and a consumer busy {} ms per batch: {seconds:.2} \
         s for {batches} batches (consumer alone {:.2} s)",
        work.as_millis(),
        batches as f64 * work.as_secs_f64()
    );
    Ok(())
}
