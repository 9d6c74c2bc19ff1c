//! Locating the data (data folder, cache, what is missing), option checks and CLI names.

use std::path::PathBuf;

use etaprobe::data::synth::{write_fake_dataset, write_image_folder};
use etaprobe::data::{DataArgs, DatasetKind, Source};

use crate::data_images::CLASSES;
use crate::data_readers::{args, temp};

#[test]
fn cifar10_binary_and_image_folder_are_told_apart() {
    let dir = temp();
    let binary = write_fake_dataset(DatasetKind::Cifar10, dir.path(), 5, 5, 1).unwrap();
    write_image_folder(
        &dir.path().join("jpeg"),
        &CLASSES,
        (1, 1),
        [3, 4, 4],
        "png",
        1,
    )
    .unwrap();
    let cache = temp();
    assert_eq!(
        args(DatasetKind::Cifar10, &binary, cache.path())
            .locate()
            .unwrap(),
        Source::CifarBinary(binary.clone())
    );
    assert_eq!(
        args(DatasetKind::Cifar10, dir.path(), cache.path())
            .locate()
            .unwrap(),
        Source::CifarBinary(binary)
    );
    let jpeg = dir.path().join("jpeg");
    assert_eq!(
        args(DatasetKind::Cifar10, &jpeg, cache.path())
            .locate()
            .unwrap(),
        Source::ImageFolder(jpeg)
    );
}

#[test]
fn cache_folder_is_searched_after_data() {
    let empty_root = temp();
    let cache = temp();
    let folder = write_fake_dataset(DatasetKind::Cifar100, cache.path(), 5, 5, 1).unwrap();
    let found = args(DatasetKind::Cifar100, empty_root.path(), cache.path())
        .locate()
        .unwrap();
    assert_eq!(found, Source::CifarBinary(folder.clone()));
    let no_data = DataArgs {
        dataset: DatasetKind::Cifar100,
        cache_dir: Some(cache.path().into()),
        ..DataArgs::default()
    };
    assert_eq!(no_data.locate().unwrap(), Source::CifarBinary(folder));
}

#[test]
fn absent_data_says_what_was_expected_where_and_how_to_get_it() {
    let root = temp();
    let cache = temp();
    let message = args(DatasetKind::Cifar10, root.path(), cache.path())
        .load(0)
        .unwrap_err()
        .to_string();
    let r = root.path().display().to_string();
    let c = cache.path().display().to_string();
    for needle in [
        format!("{r}/cifar-10-batches-bin/{{data_batch_1..5.bin,test_batch.bin}}"),
        format!("{r}/cifar10-jpeg/{{train,test}}/<class>/"),
        format!("{c}/cifar-10-batches-bin/"),
        "--download".into(),
        "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz".into(),
        "c32a1d4ab5d03f1284b67883e8d87530".into(),
    ] {
        assert!(
            message.contains(&needle),
            "missing `{needle}` in:\n{message}"
        );
    }

    let message = args(DatasetKind::FashionMnist, root.path(), cache.path())
        .load(0)
        .unwrap_err()
        .to_string();
    assert!(message.contains("train-images-idx3-ubyte.gz"), "{message}");
    assert!(
        message.contains("bb300cfdad3c16e7a12a480ee83cd310"),
        "{message}"
    );

    let boston = DataArgs {
        download: true,
        ..args(DatasetKind::Boston, root.path(), cache.path())
    };
    let message = boston.load(0).unwrap_err().to_string();
    assert!(
        message.contains("no official CSV with a published checksum"),
        "{message}"
    );
    assert!(
        message.contains(&format!("{r}/boston_housing.csv")),
        "{message}"
    );

    let file = root.path().join("data_batch_1.bin");
    std::fs::write(&file, [0u8; 3073]).unwrap();
    let message = args(DatasetKind::Cifar10, &file, cache.path())
        .load(0)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("a file, but CIFAR-10 is read from a folder"),
        "{message}"
    );

    let missing = root.path().join("nowhere");
    let message = args(DatasetKind::Cifar10, &missing, cache.path())
        .load(0)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains(&format!("{}: no such file or folder", missing.display())),
        "{message}"
    );
}

#[test]
fn conflicting_options_are_refused_before_reading() {
    let dir = temp();
    let cache = temp();
    let augment_boston = DataArgs {
        augment: true,
        ..args(DatasetKind::Boston, dir.path(), cache.path())
    };
    assert!(augment_boston
        .load(0)
        .unwrap_err()
        .to_string()
        .contains("--augment"));
    let coarse_cifar10 = DataArgs {
        coarse_labels: true,
        ..args(DatasetKind::Cifar10, dir.path(), cache.path())
    };
    assert!(coarse_cifar10
        .load(0)
        .unwrap_err()
        .to_string()
        .contains("--coarse-labels"));
    let fraction = DataArgs {
        test_fraction: 1.5,
        ..args(DatasetKind::Boston, dir.path(), cache.path())
    };
    assert!(fraction
        .load(0)
        .unwrap_err()
        .to_string()
        .contains("--test-fraction"));
}

#[test]
fn cli_names_and_defaults() {
    use clap::{Parser, ValueEnum};
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        data: DataArgs,
    }
    let names: Vec<String> = DatasetKind::value_variants()
        .iter()
        .filter_map(|k| k.to_possible_value().map(|v| v.get_name().to_string()))
        .collect();
    assert_eq!(names, ["boston", "fashion-mnist", "cifar10", "cifar100"]);
    let cli = Cli::try_parse_from([
        "x",
        "--dataset",
        "fashion-mnist",
        "--data",
        "/d",
        "--drop-last",
        "--split-seed",
        "4",
    ])
    .unwrap();
    assert_eq!(cli.data.dataset, DatasetKind::FashionMnist);
    assert_eq!(cli.data.data, Some(PathBuf::from("/d")));
    assert!(cli.data.drop_last && !cli.data.augment);
    assert_eq!(cli.data.split_seed, Some(4));
    assert_eq!(cli.data.test_fraction, 0.2);
    assert_eq!(
        serde_json::to_string(&DatasetKind::FashionMnist).unwrap(),
        "\"fashion-mnist\""
    );
}

/// A --data folder without the data set falls back to the cache's copy, and says so.
#[test]
fn falling_back_from_data_to_the_cache_is_said() {
    use crate::common::{etaprobe, logreg_fm, ok, s};
    let wrong = temp();
    std::fs::create_dir_all(wrong.path().join("training")).unwrap();
    let cache = temp();
    let folder = write_fake_dataset(DatasetKind::FashionMnist, cache.path(), 32, 8, 1).unwrap();
    let out = temp();
    let o = etaprobe(
        &[
            &logreg_fm(wrong.path())[..],
            &[
                "--cache-dir",
                s(cache.path()),
                "--max-steps",
                "1",
                "--out",
                s(&out.path().join("run")),
            ],
        ]
        .concat(),
    );
    ok(&o);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(&format!(
            "{} (--data or ETAPROBE_DATA) holds no Fashion-MNIST; reading the copy in the cache, {}",
            wrong.path().display(),
            folder.display()
        )),
        "{stderr}"
    );
}
