//! Checkpoints: round trip, atomic saves, and clear errors on bad files.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use etaprobe::rundir::checkpoint::{
    load, load_metadata, save, CheckpointError, TrainingMeta, META_FORMAT, META_LR,
};
use etaprobe::rundir::write_atomic_with;

/// A LeNet-like state dict in PyTorch's names and layouts, with awkward values.
fn tensors() -> Vec<(String, Vec<usize>, Vec<f32>)> {
    let ramp = |n: usize, k: f32| (0..n).map(|i| (i as f32 - n as f32 / 2.0) * k).collect();
    let mut special: Vec<f32> = ramp(84 * 10, 1e-3);
    special[..6].copy_from_slice(&[
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        -0.0,
        f32::MIN_POSITIVE,
        f32::MAX,
    ]);
    vec![
        (
            "conv1.weight".into(),
            vec![6, 3, 5, 5],
            ramp(6 * 3 * 25, 0.01),
        ),
        ("conv1.bias".into(), vec![6], ramp(6, 0.5)),
        ("fc3.weight".into(), vec![10, 84], special),
        // Names sort differently from this order: load must keep the order given to save.
        ("bn.running_var".into(), vec![4], vec![1.0, 2.0, 3.0, 4.0]),
        ("empty".into(), vec![0, 3], vec![]),
        ("scalar".into(), vec![], vec![std::f32::consts::PI]),
    ]
}

fn borrowed(t: &[(String, Vec<usize>, Vec<f32>)]) -> Vec<(String, Vec<usize>, &[f32])> {
    t.iter()
        .map(|(n, s, d)| (n.clone(), s.clone(), d.as_slice()))
        .collect()
}

fn meta() -> TrainingMeta {
    TrainingMeta {
        lr: 0.012_345_678_901_234_567,
        step: 123_456,
        epoch: 7,
        seed: u64::MAX,
        schedule_state: serde_json::json!({"kind": "newton", "safeguarded": 3, "eps": 1e-5}),
    }
}

fn temp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect()
}

#[test]
fn round_trip_is_bit_exact_and_keeps_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ckpt.safetensors");
    let t = tensors();
    let mut m = meta().to_metadata();
    m.insert("model".into(), "lenet".into());
    save(&path, &borrowed(&t), m.clone()).unwrap();

    let ck = load(&path).unwrap();
    assert_eq!(ck.tensors.len(), t.len());
    for ((n0, s0, d0), (n1, s1, d1)) in t.iter().zip(&ck.tensors) {
        assert_eq!(n0, n1);
        assert_eq!(s0, s1, "{n0}");
        let b0: Vec<u32> = d0.iter().map(|x| x.to_bits()).collect();
        let b1: Vec<u32> = d1.iter().map(|x| x.to_bits()).collect();
        assert_eq!(b0, b1, "{n0}");
    }
    assert_eq!(ck.tensor("conv1.bias").unwrap().0, &[6]);
    assert!(ck.tensor("nope").is_none());
    // PyTorch's marker is added; the caller's keys are kept.
    assert_eq!(ck.metadata.get(META_FORMAT).map(String::as_str), Some("pt"));
    assert_eq!(ck.meta("model").unwrap(), "lenet");
    assert_eq!(ck.training_meta().unwrap(), meta());
    assert_eq!(ck.lr().unwrap().to_bits(), meta().lr.to_bits());
    assert_eq!(ck.step().unwrap(), 123_456);
    assert_eq!(ck.epoch().unwrap(), 7);
    assert_eq!(ck.seed().unwrap(), u64::MAX);
    assert_eq!(ck.schedule_state().unwrap()["safeguarded"], 3);
    let eps: f64 = ck.meta_json::<serde_json::Value>("schedule_state").unwrap()["eps"]
        .as_f64()
        .unwrap();
    assert_eq!(eps, 1e-5);

    // The header alone gives the same metadata (for --lr-from).
    assert_eq!(load_metadata(&path).unwrap(), ck.metadata);
    assert!(temp_files(dir.path()).is_empty());
}

#[test]
fn files_are_valid_for_the_reference_reader() {
    // The safetensors crate's own parser accepts the file and sees the same tensors,
    // with the data 8-byte aligned as its writer does it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.safetensors");
    let t = tensors();
    save(&path, &borrowed(&t), BTreeMap::new()).unwrap();
    let bytes = fs::read(&path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap());
    assert_eq!(n % 8, 0);
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.len(), t.len());
    let v = st.tensor("conv1.weight").unwrap();
    assert_eq!(v.dtype(), safetensors::Dtype::F32);
    assert_eq!(v.shape(), &[6, 3, 5, 5]);
    assert_eq!(
        &v.data()[..8],
        [t[0].2[0].to_le_bytes(), t[0].2[1].to_le_bytes()].concat()
    );
}

#[test]
fn overwrite_replaces_the_old_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("last.safetensors");
    let t = tensors();
    save(&path, &borrowed(&t), meta().to_metadata()).unwrap();
    let mut m2 = meta();
    m2.step += 1;
    let small = [("w".to_string(), vec![2], &[1.0f32, 2.0][..])];
    save(&path, &small, m2.to_metadata()).unwrap();
    let ck = load(&path).unwrap();
    assert_eq!(ck.tensors, vec![("w".into(), vec![2], vec![1.0, 2.0])]);
    assert_eq!(ck.step().unwrap(), 123_457);
    assert!(temp_files(dir.path()).is_empty());
}

#[test]
fn failed_save_leaves_old_checkpoint_and_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ckpt.safetensors");
    let t = tensors();
    save(&path, &borrowed(&t), meta().to_metadata()).unwrap();
    let before = fs::read(&path).unwrap();

    // Data that does not match its shape: refused before anything is written.
    let bad = [("w".to_string(), vec![2, 3], &[1.0f32; 5][..])];
    let e = save(&path, &bad, BTreeMap::new()).unwrap_err();
    assert!(matches!(e, CheckpointError::BadTensor { .. }), "{e}");
    assert!(e.to_string().contains("ckpt.safetensors") && e.to_string().contains("6 elements"));
    // A name given twice.
    let dup = [
        ("w".to_string(), vec![1], &[1.0f32][..]),
        ("w".to_string(), vec![1], &[2.0f32][..]),
    ];
    assert!(matches!(
        save(&path, &dup, BTreeMap::new()).unwrap_err(),
        CheckpointError::BadTensor { .. }
    ));

    // A failure in the middle of writing (disk full, killed writer, ...), simulated with
    // the streaming writer the checkpoint uses: the target keeps its old content.
    let e = write_atomic_with(&path, |w| {
        w.write_all(b"half a checkpoint")?;
        Err(std::io::Error::other("simulated disk full"))
    })
    .unwrap_err();
    assert!(e.to_string().contains("simulated"));

    // The rename fails (the target is a directory): the written temp file is removed.
    let as_dir = dir.path().join("dir.safetensors");
    fs::create_dir(&as_dir).unwrap();
    fs::write(as_dir.join("keep"), b"x").unwrap();
    let e = save(&as_dir, &borrowed(&t), BTreeMap::new()).unwrap_err();
    assert!(matches!(e, CheckpointError::Io { .. }), "{e}");
    assert!(e.to_string().contains("dir.safetensors"), "{e}");

    // The parent is not a directory: nothing can be created.
    let under_file = path.join("x.safetensors");
    assert!(save(&under_file, &borrowed(&t), BTreeMap::new()).is_err());

    assert_eq!(fs::read(&path).unwrap(), before);
    assert!(load(&path).is_ok());
    assert!(
        temp_files(dir.path()).is_empty(),
        "{:?}",
        temp_files(dir.path())
    );
}

#[cfg(unix)]
#[test]
fn save_into_read_only_dir_fails_cleanly() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("ro");
    fs::create_dir(&ro).unwrap();
    let path = ro.join("ckpt.safetensors");
    let t = tensors();
    save(&path, &borrowed(&t), BTreeMap::new()).unwrap();
    let before = fs::read(&path).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    // Root ignores permission bits (CI runs as root): nothing to test there.
    let writable = fs::write(ro.join("probe"), b"").is_ok();
    if !writable {
        let e = save(&path, &borrowed(&t[..1]), BTreeMap::new()).unwrap_err();
        assert!(matches!(e, CheckpointError::Io { .. }), "{e}");
        assert!(e.to_string().contains("ckpt.safetensors"), "{e}");
        assert_eq!(fs::read(&path).unwrap(), before);
        assert!(temp_files(&ro).is_empty());
    }
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn missing_and_foreign_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.safetensors");
    let e = load(&missing).unwrap_err();
    assert!(matches!(e, CheckpointError::NotFound { .. }), "{e}");
    assert!(e.to_string().contains("missing.safetensors") && e.to_string().contains("not found"));
    assert!(matches!(
        load_metadata(&missing).unwrap_err(),
        CheckpointError::NotFound { .. }
    ));

    let text = dir.path().join("notes.txt");
    fs::write(&text, "epoch,train_loss\n1,2.3\n").unwrap();
    let e = load(&text).unwrap_err();
    assert!(matches!(e, CheckpointError::NotSafetensors { .. }), "{e}");
    assert!(
        e.to_string().contains("notes.txt") && e.to_string().contains("not a safetensors file")
    );

    let tiny = dir.path().join("tiny");
    fs::write(&tiny, b"abc").unwrap();
    assert!(matches!(
        load(&tiny).unwrap_err(),
        CheckpointError::NotSafetensors { .. }
    ));

    // A plausible length but a header that is not JSON.
    let garbage = dir.path().join("garbage");
    let mut bytes = 16u64.to_le_bytes().to_vec();
    bytes.extend_from_slice(b"\x01\x02not json at all");
    fs::write(&garbage, &bytes).unwrap();
    let e = load(&garbage).unwrap_err();
    assert!(matches!(e, CheckpointError::NotSafetensors { .. }), "{e}");
}

#[test]
fn truncated_files_are_reported_as_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.safetensors");
    let t = tensors();
    save(&path, &borrowed(&t), meta().to_metadata()).unwrap();
    let bytes = fs::read(&path).unwrap();
    let header_end = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    for cut in [header_end - 3, header_end, header_end + 10, bytes.len() - 1] {
        let p = dir.path().join(format!("cut{cut}.safetensors"));
        fs::write(&p, &bytes[..cut]).unwrap();
        let e = load(&p).unwrap_err();
        assert!(
            matches!(e, CheckpointError::Truncated { .. }),
            "cut at {cut}: {e}"
        );
        assert!(
            e.to_string().contains(&format!("cut{cut}.safetensors")),
            "{e}"
        );
        assert!(e.to_string().contains("truncated"), "{e}");
    }
    // The metadata alone is readable as long as the header is complete.
    let p = dir
        .path()
        .join(format!("cut{}.safetensors", header_end + 10));
    assert!(matches!(
        load_metadata(&p),
        Err(CheckpointError::Truncated { .. })
    ));
    let p = dir
        .path()
        .join(format!("cut{}.safetensors", header_end - 3));
    assert!(matches!(
        load_metadata(&p),
        Err(CheckpointError::Truncated { .. })
    ));
    // Extra bytes at the end are damage too.
    let p = dir.path().join("long.safetensors");
    fs::write(&p, [&bytes[..], &b"xx"[..]].concat()).unwrap();
    assert!(matches!(
        load(&p),
        Err(CheckpointError::NotSafetensors { .. })
    ));
}

#[test]
fn other_dtypes_are_refused() {
    use safetensors::tensor::TensorView;
    use safetensors::Dtype;
    let dir = tempfile::tempdir().unwrap();
    let data64: Vec<u8> = [1.0f64, 2.0].iter().flat_map(|x| x.to_le_bytes()).collect();
    let data32: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|x| x.to_le_bytes()).collect();
    let data16 = vec![0u8; 4];
    for (dtype, data, name) in [
        (Dtype::F64, &data64, "layer.weight"),
        (Dtype::F16, &data16, "layer.half"),
        (Dtype::I64, &data64, "bn.num_batches_tracked"),
    ] {
        let views = vec![
            (
                "a.ok".to_string(),
                TensorView::new(Dtype::F32, vec![2], &data32).unwrap(),
            ),
            (
                name.to_string(),
                TensorView::new(dtype, vec![2], data).unwrap(),
            ),
        ];
        let bytes = safetensors::serialize(views, None).unwrap();
        let p = dir.path().join(format!("{dtype:?}.safetensors"));
        fs::write(&p, bytes).unwrap();
        let e = load(&p).unwrap_err();
        match &e {
            CheckpointError::WrongDtype {
                tensor, dtype: d, ..
            } => {
                assert_eq!(tensor, name);
                assert_eq!(d, &format!("{dtype:?}"));
            }
            other => panic!("{other}"),
        }
        assert!(e.to_string().contains("only F32"), "{e}");
    }
}

#[test]
fn metadata_getters_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let mut m = BTreeMap::new();
    m.insert(META_LR.to_string(), "fast".to_string());
    m.insert("step".to_string(), "-3".to_string());
    m.insert("schedule_state".to_string(), "{not json".to_string());
    save(&path, &[("w".to_string(), vec![1], &[0.5f32][..])], m).unwrap();
    let ck = load(&path).unwrap();

    let e = ck.lr().unwrap_err();
    assert!(matches!(e, CheckpointError::BadValue { .. }), "{e}");
    let s = e.to_string();
    assert!(
        s.contains("m.safetensors") && s.contains("\"lr\"") && s.contains("fast"),
        "{s}"
    );

    assert!(matches!(
        ck.step().unwrap_err(),
        CheckpointError::BadValue { .. }
    ));
    assert!(matches!(
        ck.schedule_state().unwrap_err(),
        CheckpointError::BadValue { .. }
    ));
    let e = ck.seed().unwrap_err();
    assert!(matches!(e, CheckpointError::MissingKey { .. }), "{e}");
    assert!(e.to_string().contains("\"seed\""), "{e}");
    assert!(matches!(
        ck.training_meta(),
        Err(CheckpointError::BadValue { .. })
    ));
    assert!(matches!(
        ck.meta("absent"),
        Err(CheckpointError::MissingKey { .. })
    ));
    assert_eq!(ck.meta_parse::<i64>("step").unwrap(), -3);
}
