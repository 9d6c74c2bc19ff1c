//! `--download` against a local HTTP server on 127.0.0.1 (no network): success, wrong
//! checksum, truncated transfer, HTTP error. Nothing partial may be left behind.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};

use etaprobe::data::download::{download, fetch_verified, official_download};
use etaprobe::data::synth::write_fake_dataset;
use etaprobe::data::{DataArgs, DataError, DatasetKind};

fn temp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("etaprobe-download-")
        .tempdir()
        .expect("temporary folder")
}

/// A response: the body and the Content-Length to announce (more than the body for a
/// truncated transfer).
#[derive(Clone)]
struct Reply {
    body: Vec<u8>,
    announced: usize,
}

fn full(body: Vec<u8>) -> Reply {
    let announced = body.len();
    Reply { body, announced }
}

/// Serves `routes` (path -> reply; anything else is a 404) on 127.0.0.1 from a background
/// thread, one connection at a time, each closed after its response. Returns the base URL.
fn serve(routes: HashMap<String, Reply>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let address = listener.local_addr().expect("local address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(match stream.try_clone() {
                Ok(s) => s,
                Err(_) => continue,
            });
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // Skip the headers.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .to_string();
            let response = match routes.get(&path) {
                Some(reply) => {
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        reply.announced
                    )
                    .into_bytes();
                    r.extend_from_slice(&reply.body);
                    r
                }
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = stream.write_all(&response);
            let _ = stream.flush();
            // Dropping the stream closes the connection, cutting a truncated reply short.
        }
    });
    format!("http://{address}")
}

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A `.tar.gz` of a small generated CIFAR-10 binary release (`cifar-10-batches-bin/...`).
fn cifar10_archive() -> Vec<u8> {
    let dir = temp();
    let folder = write_fake_dataset(DatasetKind::Cifar10, dir.path(), 10, 4, 1).unwrap();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    builder
        .append_dir_all("cifar-10-batches-bin", &folder)
        .unwrap();
    builder.into_inner().unwrap().finish().unwrap()
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn archive_download_verifies_unpacks_and_loads() {
    let archive = cifar10_archive();
    let md5 = md5_hex(&archive);
    let base = serve(HashMap::from([(
        "/cifar-10-binary.tar.gz".to_string(),
        full(archive),
    )]));
    let cache = temp();
    let mut plan = official_download(DatasetKind::Cifar10)
        .unwrap()
        .with_base(&base);
    plan.files[0].md5 = md5;
    let folder = download(&plan, cache.path()).unwrap();
    assert_eq!(folder, cache.path().join("cifar-10-batches-bin"));
    // Only the unpacked release stays: no archive, no temporary file.
    let mut names: Vec<String> = files_under(cache.path())
        .iter()
        .map(|p| p.strip_prefix(cache.path()).unwrap().display().to_string())
        .collect();
    names.sort();
    assert_eq!(names.len(), 7, "{names:?}");
    assert!(
        names.iter().all(|n| n.starts_with("cifar-10-batches-bin/")),
        "{names:?}"
    );

    // The cache is where a later run finds it.
    let args = DataArgs {
        dataset: DatasetKind::Cifar10,
        cache_dir: Some(cache.path().to_path_buf()),
        ..DataArgs::default()
    };
    let data = args.load(0).unwrap();
    assert_eq!((data.train.len(), data.test.len()), (10, 4));
    assert_eq!(data.source, folder);
}

#[test]
fn download_flag_uses_the_base_override_and_refuses_a_wrong_checksum() {
    // The served archive is fine but is not the official one, so its MD5 cannot match.
    let base = serve(HashMap::from([(
        "/cifar-10-binary.tar.gz".to_string(),
        full(cifar10_archive()),
    )]));
    let cache = temp();
    let args = DataArgs {
        dataset: DatasetKind::Cifar10,
        download: true,
        cache_dir: Some(cache.path().to_path_buf()),
        download_base: Some(base.clone()),
        ..DataArgs::default()
    };
    match args.load(0) {
        Err(DataError::Checksum {
            url,
            expected,
            actual,
        }) => {
            assert_eq!(url, format!("{base}/cifar-10-binary.tar.gz"));
            assert_eq!(expected, "c32a1d4ab5d03f1284b67883e8d87530");
            assert_ne!(actual, expected);
        }
        other => panic!("expected a checksum error, got {other:?}"),
    }
    // Nothing of the data is kept; the download lock's empty file stays, by design.
    assert_eq!(
        files_under(cache.path()),
        vec![cache.path().join(etaprobe::data::download::DOWNLOAD_LOCK)]
    );
}

#[test]
fn truncated_transfer_is_an_error_and_leaves_nothing() {
    let body = vec![42u8; 100_000];
    let md5 = md5_hex(&body);
    let reply = Reply {
        body: body[..60_000].to_vec(),
        announced: body.len(),
    };
    let base = serve(HashMap::from([("/blob.bin".to_string(), reply)]));
    let dir = temp();
    let dest = dir.path().join("sub/blob.bin");
    let error = fetch_verified(&format!("{base}/blob.bin"), &dest, &md5).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, DataError::Download { .. }), "{message}");
    assert!(message.contains(&format!("{base}/blob.bin")), "{message}");
    assert!(message.contains("of 100000 bytes"), "{message}");
    assert_eq!(files_under(dir.path()), Vec::<PathBuf>::new());
}

#[test]
fn single_file_download_and_http_errors() {
    let body: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let md5 = md5_hex(&body);
    let base = serve(HashMap::from([("/ok.gz".to_string(), full(body.clone()))]));
    let dir = temp();
    let dest = dir.path().join("ok.gz");
    fetch_verified(&format!("{base}/ok.gz"), &dest, &md5.to_uppercase()).unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert_eq!(files_under(dir.path()), vec![dest]);

    let error = fetch_verified(
        &format!("{base}/missing.gz"),
        &dir.path().join("m.gz"),
        &md5,
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("/missing.gz") && error.contains("HTTP status 404"),
        "{error}"
    );
    assert!(!dir.path().join("m.gz").exists());
}

#[test]
fn fashion_mnist_files_are_fetched_into_their_folder() {
    let dir = temp();
    let folder = write_fake_dataset(DatasetKind::FashionMnist, dir.path(), 6, 3, 1).unwrap();
    let mut plan = official_download(DatasetKind::FashionMnist).unwrap();
    let mut routes = HashMap::new();
    for file in &mut plan.files {
        let bytes = std::fs::read(folder.join(&file.name)).unwrap();
        file.md5 = md5_hex(&bytes);
        routes.insert(format!("/{}", file.name), full(bytes));
    }
    let plan = plan.with_base(&serve(routes));
    let cache = temp();
    let fetched = download(&plan, cache.path()).unwrap();
    assert_eq!(fetched, cache.path().join("fashion-mnist"));
    let args = DataArgs {
        dataset: DatasetKind::FashionMnist,
        cache_dir: Some(cache.path().to_path_buf()),
        ..DataArgs::default()
    };
    assert_eq!(args.load(0).unwrap().test.len(), 3);
    // A second run keeps the verified files instead of fetching them again (the server is
    // not even asked: a dead base URL still succeeds).
    let offline = plan.with_base("http://127.0.0.1:9");
    download(&offline, cache.path()).unwrap();
}

#[test]
fn failed_download_removes_the_folders_it_created() {
    // The server knows none of the files: the first fetch fails with HTTP 404.
    let plan = official_download(DatasetKind::FashionMnist)
        .unwrap()
        .with_base(&serve(HashMap::new()));
    let dir = temp();
    let cache = dir.path().join("cache/etaprobe");
    let error = download(&plan, &cache).unwrap_err().to_string();
    assert!(error.contains("HTTP status 404"), "{error}");
    assert!(
        !dir.path().join("cache").exists(),
        "left behind: {:?}",
        files_and_folders(dir.path())
    );

    // A cache folder that was there before stays, with what it held.
    let kept = dir.path().join("kept");
    std::fs::create_dir_all(&kept).unwrap();
    std::fs::write(kept.join("notes.txt"), "mine").unwrap();
    download(&plan, &kept).unwrap_err();
    assert_eq!(files_and_folders(&kept), vec![kept.join("notes.txt")]);

    // A cache folder that cannot be made (a file in its way) names the file.
    let error = download(&plan, &kept.join("notes.txt").join("cache"))
        .unwrap_err()
        .to_string();
    let says = format!(
        "{}: a file where the cache needs a folder",
        kept.join("notes.txt").display()
    );
    assert!(error.starts_with(&says), "{error}");
}

fn files_and_folders(dir: &Path) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    all.sort();
    all
}

/// A Fashion-MNIST download cut short between its files leaves some of them in the cache:
/// with --download the next run fetches what is missing (here from a dead server, so it
/// fails saying so) instead of taking the partial folder for the data set.
#[test]
fn a_partial_fashion_mnist_download_is_completed_not_taken_for_the_data() {
    let dir = temp();
    let folder = write_fake_dataset(DatasetKind::FashionMnist, dir.path(), 6, 3, 1).unwrap();
    let plan = official_download(DatasetKind::FashionMnist).unwrap();
    let cache = temp();
    let partial = cache.path().join(&plan.folder);
    std::fs::create_dir_all(&partial).unwrap();
    let first = &plan.files[0].name;
    std::fs::copy(folder.join(first), partial.join(first)).unwrap();
    let args = |download: bool| DataArgs {
        dataset: DatasetKind::FashionMnist,
        cache_dir: Some(cache.path().to_path_buf()),
        download,
        download_base: Some("http://127.0.0.1:9".into()),
        ..DataArgs::default()
    };
    // Without --download the folder is the data set's, and its reader names what is missing.
    assert!(args(false).locate().is_ok());
    let error = args(true).locate().unwrap_err().to_string();
    assert!(error.contains("127.0.0.1:9"), "{error}");
    assert!(partial.join(first).is_file(), "the kept file was removed");
    // A whole copy kept uncompressed is the data set's, with or without --download.
    std::fs::remove_dir_all(&partial).unwrap();
    std::fs::create_dir_all(&partial).unwrap();
    for f in &plan.files {
        let raw = f.name.strip_suffix(".gz").unwrap();
        let gz = std::fs::read(folder.join(&f.name)).unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut bytes).unwrap();
        std::fs::write(partial.join(raw), bytes).unwrap();
    }
    assert!(args(true).load(1).is_ok());
}

/// What stands in a download's way is named: a file where the cache folder should be, and
/// a base URL of a scheme the downloader does not speak (refused when a download is to
/// happen, not before).
#[test]
fn a_file_for_the_cache_and_a_base_of_another_scheme_are_named() {
    let dir = temp();
    let file = dir.path().join("afile");
    std::fs::write(&file, "mine").unwrap();
    let args = DataArgs {
        dataset: DatasetKind::FashionMnist,
        cache_dir: Some(file.clone()),
        download: true,
        download_base: Some("http://127.0.0.1:9".into()),
        ..DataArgs::default()
    };
    let error = args.locate().unwrap_err().to_string();
    assert!(
        error.contains("a file where the cache needs a folder"),
        "{error}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    let mirror = DataArgs {
        download_base: Some("file:///tmp/mirror".into()),
        cache_dir: Some(dir.path().join("cache")),
        ..args
    };
    let error = mirror.locate().unwrap_err().to_string();
    assert!(error.contains("not an http:// or https:// URL"), "{error}");
    // Read only when a download is to happen: a run that finds its data is not stopped.
    let here = DataArgs {
        download: false,
        data: Some(write_fake_dataset(DatasetKind::FashionMnist, dir.path(), 6, 3, 1).unwrap()),
        ..mirror.clone()
    };
    assert!(here.locate().is_ok());
}

/// Two downloads into one cache folder take turns: the second waits for the first's lock.
#[test]
fn downloads_into_one_cache_take_turns() {
    let cache = temp();
    let held = etaprobe::data::download::lock_cache(cache.path()).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let path = cache.path().to_path_buf();
    std::thread::spawn(move || {
        let _second = etaprobe::data::download::lock_cache(&path).unwrap();
        tx.send(()).unwrap();
    });
    let wait = std::time::Duration::from_millis(300);
    assert!(rx.recv_timeout(wait).is_err(), "the second did not wait");
    drop(held);
    assert!(
        rx.recv_timeout(30 * wait).is_ok(),
        "the second never got the lock"
    );

    // What downloads killed outright left is removed by the next one to take the lock;
    // anything else stays.
    let data = cache.path().join("fashion-mnist");
    std::fs::create_dir_all(data.join(".x.unpack-123/inner")).unwrap();
    std::fs::write(data.join(".x.unpack-123/inner/batch.bin"), b"half").unwrap();
    std::fs::write(data.join(".train-images-idx3-ubyte.gz.part-4567"), b"half").unwrap();
    std::fs::write(cache.path().join(".cifar.tar.gz.part-89"), b"half").unwrap();
    std::fs::write(data.join("notes.part-mine"), b"kept").unwrap();
    std::fs::write(data.join(".hidden"), b"kept").unwrap();
    drop(etaprobe::data::download::lock_cache(cache.path()).unwrap());
    let mut left: Vec<String> = files_under(cache.path())
        .iter()
        .map(|p| p.strip_prefix(cache.path()).unwrap().display().to_string())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            ".etaprobe-download.lock",
            "fashion-mnist/.hidden",
            "fashion-mnist/notes.part-mine"
        ]
    );
}

/// Ctrl-C while a data set downloads stops the download at once: exit 130, no partial file
/// left, no run written.
#[test]
fn ctrl_c_stops_a_download_and_keeps_nothing() {
    // A server that trickles its 16 MiB reply, 64 KiB every 20 ms.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let total = 16usize << 20;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {total}\r\nConnection: close\r\n\r\n"
                );
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                for _ in 0..total / 65536 {
                    if stream.write_all(&[0u8; 65536]).is_err() {
                        return;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            });
        }
    });
    let cache = temp();
    let out = cache.path().join("run");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .args([
            "train",
            "--model",
            "logreg",
            "--dataset",
            "fashion-mnist",
            "--download",
        ])
        .args(["--download-base", &base, "--cache-dir"])
        .arg(cache.path())
        .arg("--out")
        .arg(&out)
        .env_remove("ETAPROBE_DATA")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let parts = || {
        files_under(cache.path())
            .into_iter()
            .filter(|p| p.to_string_lossy().contains(".part-"))
            .count()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while parts() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the download never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("was stopped on request; nothing was kept"),
        "{stderr}"
    );
    assert_eq!(parts(), 0, "{:?}", files_under(cache.path()));
    assert!(!out.exists());
}
