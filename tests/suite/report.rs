//! The run-output layer: epochs.csv / steps.csv / run.json round trips and errors, and the
//! figures drawn from them.

use std::fs;
use std::path::Path;

use etaprobe::report::{
    compare_runs, run_figures, run_figures_with, run_label, Comparison, FigureFormat, ACCURACY_PNG,
    FIGURES_PNG, FIGURE_SIZE, LOSS_PNG, LR_PNG, STEPS_PNG, WALL_CLOCK_PNG, WIDE_FIGURE_SIZE,
};
use etaprobe::rundir::{
    format_utc, read_epochs, read_steps, steps_have_probes, utc_now, write_atomic, EpochRecord,
    EpochWriter, RunInfo, StepRecord, StepWriter, EPOCHS_HEADER, STEPS_HEADER,
};
use etaprobe::schedule::ProbeRecord;

// ---------------------------------------------------------------------------------------
// Fixtures

fn epoch(e: usize, classification: bool) -> EpochRecord {
    let t = e as f64;
    EpochRecord {
        epoch: e,
        train_loss: 2.3 * (-0.4 * t).exp() + 0.05,
        train_acc: classification.then(|| 0.1 + 0.8 * (1.0 - (-0.5 * t).exp())),
        test_loss: Some(2.3 * (-0.3 * t).exp() + 0.2),
        test_acc: classification.then(|| 0.1 + 0.6 * (1.0 - (-0.5 * t).exp())),
        lr: 0.01 + 0.04 * (1.0 - (-0.7 * t).exp()),
        seconds: 12.5 * t,
        val_loss: None,
        val_acc: None,
    }
}

fn step(s: usize, steps_per_epoch: usize, probes: bool) -> StepRecord {
    let t = s as f64;
    StepRecord {
        step: s,
        epoch: s / steps_per_epoch + 1,
        loss: 2.3 * (-0.01 * t).exp() + 0.1 * (t * 0.7).sin().abs(),
        lr: 0.01 + 0.04 * (1.0 - (-0.02 * t).exp()) + 0.002 * (t * 0.3).sin(),
        probe: probes.then(|| ProbeRecord {
            f: [1.0, 0.9, 0.8, 0.7, 0.6].map(|v| v + t * 1e-3),
            numerator: -1e-4,
            denominator: if s.is_multiple_of(17) { 1e-6 } else { 3e-9 },
            safeguarded: s.is_multiple_of(17),
        }),
    }
}

fn run_info(schedule: &str, lr: f64) -> RunInfo {
    RunInfo {
        version: "0.1.0".into(),
        git_commit: Some("0123456789ab".into()),
        command: vec!["etaprobe".into(), "train".into()],
        seed: 7,
        config: serde_json::json!({
            "schedule": schedule,
            "lr": lr,
            "model": "lenet",
            "batch_size": 32,
            "seed": 7,
            "data": {"dataset": "cifar10", "data": "/data"},
        }),
        adapter: serde_json::json!({"name": "llvmpipe", "backend": "Vulkan"}),
        totals: serde_json::json!({"steps": 200, "safeguarded": 12}),
        started: format_utc(1_700_000_000),
        finished: Some(format_utc(1_700_000_100)),
        extra: Default::default(),
    }
}

/// A run directory with `epochs` epochs (epoch 1..=epochs) and 40 steps per epoch.
fn fake_run(dir: &Path, epochs: usize, classification: bool, probes: bool, info: Option<RunInfo>) {
    fs::create_dir_all(dir).unwrap();
    let mut ew = EpochWriter::create(dir.join("epochs.csv")).unwrap();
    for e in 1..=epochs {
        ew.write(&epoch(e, classification)).unwrap();
    }
    let mut sw = StepWriter::create(dir.join("steps.csv"), probes).unwrap();
    for s in 0..epochs * 40 {
        sw.write(&step(s, 40, probes)).unwrap();
    }
    if let Some(info) = info {
        info.write(dir.join("run.json")).unwrap();
    }
}

fn pngs(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".png"))
        .collect();
    v.sort();
    v
}

/// Decodes a PNG and checks its size and that it has drawing on it; returns the pixels.
fn check_png(path: &Path, size: (u32, u32)) -> image::RgbImage {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    assert_eq!(img.dimensions(), size, "{}", path.display());
    let non_white = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    let total = (size.0 * size.1) as usize;
    assert!(
        non_white > total / 200 && non_white < total / 2,
        "{}: {non_white} of {total} pixels drawn",
        path.display()
    );
    // Text and axes are dark: the embedded font renders.
    let dark = img.pixels().filter(|p| p.0.iter().all(|&c| c < 80)).count();
    assert!(dark > 150, "{}: only {dark} dark pixels", path.display());
    img
}

/// Pixels close to `rgb` (lines are anti-aliased only at their edges).
fn count_color(img: &image::RgbImage, rgb: [u8; 3]) -> usize {
    img.pixels()
        .filter(|p| p.0.iter().zip(rgb).all(|(&a, b)| a.abs_diff(b) <= 8))
        .count()
}

const BLUE: [u8; 3] = [31, 119, 180];
const ORANGE: [u8; 3] = [255, 127, 14];
const GREEN: [u8; 3] = [44, 160, 44];
const RED: [u8; 3] = [214, 39, 40];

// ---------------------------------------------------------------------------------------
// Metrics files

#[test]
fn epochs_csv_round_trips_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("epochs.csv");
    let mut recs: Vec<EpochRecord> = (1..=4).map(|e| epoch(e, true)).collect();
    recs[1].test_loss = None;
    recs[1].test_acc = None;
    recs[2].train_acc = None;
    recs[3].train_loss = f64::NAN;
    recs[3].lr = 1.0 / 3.0;
    let mut w = EpochWriter::create(&path).unwrap();
    for r in &recs {
        w.write(r).unwrap();
    }
    w.sync().unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().next(), Some(EPOCHS_HEADER));
    assert_eq!(text.lines().nth(2).unwrap().split(',').nth(3), Some(""));
    let back = read_epochs(&path).unwrap();
    assert_eq!(back.len(), 4);
    assert!(back[3].train_loss.is_nan());
    assert_eq!(back[3].lr.to_bits(), (1.0f64 / 3.0).to_bits());
    assert_eq!(back[..3], recs[..3]);

    // Regression: accuracy columns empty.
    let reg = dir.path().join("reg.csv");
    let mut w = EpochWriter::create(&reg).unwrap();
    w.write(&epoch(1, false)).unwrap();
    let line = fs::read_to_string(&reg)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let cells: Vec<&str> = line.split(',').collect();
    assert_eq!(cells.len(), 7);
    assert_eq!((cells[2], cells[4]), ("", ""));
    assert_eq!(read_epochs(&reg).unwrap(), vec![epoch(1, false)]);
}

#[test]
fn steps_csv_with_and_without_probes() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.csv");
    let mut w = StepWriter::create(&plain, false).unwrap();
    assert!(!w.probes());
    let recs: Vec<StepRecord> = (0..5).map(|s| step(s, 2, false)).collect();
    for r in &recs {
        w.write(r).unwrap();
    }
    // A probe cannot go into a file without probe columns.
    let e = w.write(&step(5, 2, true)).unwrap_err().to_string();
    assert!(e.contains("plain.csv") && e.contains("probe"), "{e}");
    assert_eq!(
        fs::read_to_string(&plain).unwrap().lines().next(),
        Some(STEPS_HEADER)
    );
    assert_eq!(read_steps(&plain).unwrap(), recs);
    assert!(!steps_have_probes(&plain).unwrap());

    let probed = dir.path().join("probed.csv");
    let mut w = StepWriter::create(&probed, true).unwrap();
    let mut recs: Vec<StepRecord> = (0..40).map(|s| step(s, 10, true)).collect();
    recs[3].probe = None; // e.g. a step that did not probe
    for r in &recs {
        w.write(r).unwrap();
    }
    let text = fs::read_to_string(&probed).unwrap();
    assert_eq!(
        text.lines().next(),
        Some("step,epoch,loss,lr,f_m2,f_m1,f_0,f_p1,f_p2,numerator,denominator,safeguarded")
    );
    assert!(
        text.lines().nth(1).unwrap().ends_with(",1"),
        "step 0 is safeguarded"
    );
    assert!(text.lines().nth(2).unwrap().ends_with(",0"));
    let no_probe = text.lines().nth(4).unwrap();
    assert!(
        no_probe.starts_with("3,1,") && no_probe.ends_with(",,,,,,,,"),
        "{no_probe}"
    );
    assert_eq!(read_steps(&probed).unwrap(), recs);
    assert!(steps_have_probes(&probed).unwrap());
}

#[test]
fn malformed_csv_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let case = |name: &str, text: &str| -> String {
        let p = dir.path().join(name);
        fs::write(&p, text).unwrap();
        let e = if name.starts_with("epochs") {
            read_epochs(&p).map(|_| ()).unwrap_err()
        } else {
            read_steps(&p).map(|_| ()).unwrap_err()
        };
        let s = format!("{e:#}");
        assert!(s.contains(name), "{s}");
        s
    };
    let h = EPOCHS_HEADER;
    let s = case(
        "epochs_badnum.csv",
        &format!("{h}\n1,2.0,,,,0.1,3\n2,abc,,,,0.1,4\n"),
    );
    assert!(
        s.contains("line 3") && s.contains("train_loss") && s.contains("abc"),
        "{s}"
    );
    let s = case("epochs_cols.csv", &format!("{h}\n1,2.0,0.1,3\n"));
    assert!(s.contains("line 2") && s.contains("4 columns"), "{s}");
    let s = case("epochs_header.csv", "epoch,loss\n1,2\n");
    assert!(s.contains("line 1") && s.contains("header"), "{s}");
    let s = case("epochs_empty.csv", "");
    assert!(s.contains("empty"), "{s}");
    let s = case("epochs_missing_lr.csv", &format!("{h}\n1,2.0,,,,,3\n"));
    assert!(s.contains("column lr is empty"), "{s}");
    let s = case("epochs_neg.csv", &format!("{h}\n-1,2.0,,,,0.1,3\n"));
    assert!(s.contains("column epoch"), "{s}");
    let s = case(
        "steps_partial.csv",
        &format!("{STEPS_HEADER},f_m2,f_m1,f_0,f_p1,f_p2,numerator,denominator,safeguarded\n0,0,1,0.1,1,1,1,,,,,\n"),
    );
    assert!(s.contains("line 2") && s.contains("partly empty"), "{s}");
    let s = case(
        "steps_flag.csv",
        &format!("{STEPS_HEADER},f_m2,f_m1,f_0,f_p1,f_p2,numerator,denominator,safeguarded\n0,0,1,0.1,1,1,1,1,1,1,1,yes\n"),
    );
    assert!(s.contains("safeguarded"), "{s}");
    let e = read_epochs(dir.path().join("nope.csv")).unwrap_err();
    assert!(format!("{e:#}").contains("nope.csv"));

    // A torn last line (a crash in the middle of a write) is dropped; a terminated bad
    // line is not.
    let p = dir.path().join("epochs_torn.csv");
    fs::write(&p, format!("{h}\n1,2.0,,,,0.1,3\n2,1.5,,")).unwrap();
    assert_eq!(read_epochs(&p).unwrap().len(), 1);
    // Blank lines and CRLF are tolerated.
    let p = dir.path().join("epochs_crlf.csv");
    fs::write(&p, format!("{h}\r\n1,2.0,,,,0.1,3\r\n\r\n")).unwrap();
    assert_eq!(read_epochs(&p).unwrap().len(), 1);
}

#[test]
fn csv_columns_are_found_by_name_and_floats_keep_their_text() {
    let dir = tempfile::tempdir().unwrap();
    // Floats are written as Rust's `{}` writes them (0.00001, not 1e-5; 10, not 10.0).
    let p = dir.path().join("steps.csv");
    let mut w = StepWriter::create(&p, false).unwrap();
    let r = StepRecord {
        step: 1,
        epoch: 1,
        loss: f64::NAN,
        lr: 1e-5,
        probe: None,
    };
    w.write(&r).unwrap();
    w.write(&StepRecord {
        step: 2,
        loss: 10.0,
        lr: f64::INFINITY,
        ..r.clone()
    })
    .unwrap();
    let text = fs::read_to_string(&p).unwrap();
    assert_eq!(
        text,
        format!("{STEPS_HEADER}\n1,1,NaN,0.00001\n2,1,10,inf\n")
    );
    // A file whose columns another tool reordered (and marked with a BOM) reads the same.
    let q = dir.path().join("epochs.csv");
    fs::write(
        &q,
        "\u{feff}lr,epoch,seconds,test_acc,test_loss,train_acc,train_loss\n0.1,1,3,,,,2.5\n",
    )
    .unwrap();
    let e = read_epochs(&q).unwrap();
    assert_eq!(
        (e[0].epoch, e[0].lr, e[0].train_loss, e[0].seconds),
        (1, 0.1, 2.5, 3.0)
    );
    // An unknown column, or half of the validation columns, is refused by name.
    fs::write(
        &q,
        format!("{EPOCHS_HEADER},val_loss\n1,2.0,,,,0.1,3,0.5\n"),
    )
    .unwrap();
    let s = format!("{:#}", read_epochs(&q).unwrap_err());
    assert!(s.contains("line 1") && s.contains("val_loss"), "{s}");
    // Kept records (docs/runs/) are gzipped: steps.csv.gz reads as steps.csv, so that
    // `compare` and `plot` work on them.
    let gz = dir.path().join("steps.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut enc, text.as_bytes()).unwrap();
    fs::write(&gz, enc.finish().unwrap()).unwrap();
    fs::remove_file(&p).unwrap();
    let kept = read_steps(&p).unwrap();
    assert_eq!(
        (kept.len(), kept[1].loss, kept[1].lr),
        (2, 10.0, f64::INFINITY)
    );
    let missing = format!("{:#}", read_steps(dir.path().join("rule.csv")).unwrap_err());
    assert!(missing.contains("rule.csv"), "{missing}");
}

#[test]
fn validation_columns_round_trip_and_files_without_them_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("epochs.csv");
    let mut w = EpochWriter::create_with(&p, true).unwrap();
    let mut records: Vec<EpochRecord> = (1..=3).map(|e| epoch(e, true)).collect();
    for (i, r) in records.iter_mut().enumerate() {
        r.val_loss = Some(0.5 + i as f64);
        // A regression run's accuracy cell stays empty.
        r.val_acc = (i != 1).then_some(0.25 * i as f64);
    }
    for r in &records {
        w.write(r).unwrap();
    }
    let text = fs::read_to_string(&p).unwrap();
    assert_eq!(
        text.lines().next(),
        Some(format!("{EPOCHS_HEADER},val_loss,val_acc").as_str())
    );
    assert_eq!(read_epochs(&p).unwrap(), records);
    assert!(etaprobe::rundir::epochs_have_val(&p).unwrap());
    // Resuming keeps the file's columns.
    let mut w = EpochWriter::resume(&p, 2).unwrap();
    assert!(w.val());
    w.write(&records[2]).unwrap();
    assert_eq!(read_epochs(&p).unwrap(), records);
    // A file of the old format reads with no validation values.
    let old = dir.path().join("old.csv");
    fs::write(&old, format!("{EPOCHS_HEADER}\n1,2.0,0.5,1.5,0.6,0.1,3\n")).unwrap();
    let back = read_epochs(&old).unwrap();
    assert_eq!((back[0].val_loss, back[0].val_acc), (None, None));
    assert!(!etaprobe::rundir::epochs_have_val(&old).unwrap());
    // Validation columns with a missing cell are a malformed line.
    fs::write(
        &old,
        format!("{EPOCHS_HEADER},val_loss,val_acc\n1,2.0,0.5,1.5,0.6,0.1,3,0.4\n"),
    )
    .unwrap();
    let e = read_epochs(&old).unwrap_err();
    assert!(format!("{e:#}").contains("line 2"), "{e:#}");
}

#[test]
fn resume_keeps_records_up_to_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let ep = dir.path().join("epochs.csv");
    let st = dir.path().join("steps.csv");
    fake_run(dir.path(), 5, true, true, None);
    // A crash left a torn line at the end of steps.csv.
    fs::OpenOptions::new()
        .append(true)
        .open(&st)
        .unwrap()
        .write_all(b"200,5,0.1")
        .unwrap();

    let mut w = EpochWriter::resume(&ep, 3).unwrap();
    w.write(&epoch(4, true)).unwrap();
    let back = read_epochs(&ep).unwrap();
    assert_eq!(
        back.iter().map(|r| r.epoch).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );

    let mut w = StepWriter::resume(&st, true, 99).unwrap();
    assert!(w.probes());
    w.write(&step(100, 40, true)).unwrap();
    let back = read_steps(&st).unwrap();
    assert_eq!(back.len(), 101);
    assert_eq!(back.last().unwrap(), &step(100, 40, true));

    // The schedule must match the file.
    let e = StepWriter::resume(&st, false, 99).unwrap_err();
    assert!(format!("{e:#}").contains("steps.csv"), "{e:#}");
    // No file yet: created.
    let fresh = dir.path().join("fresh.csv");
    StepWriter::resume(&fresh, false, 10).unwrap();
    assert_eq!(
        fs::read_to_string(&fresh).unwrap(),
        format!("{STEPS_HEADER}\n")
    );
    assert!(no_temp_files(dir.path()));
}

use std::io::Write as _;

fn no_temp_files(dir: &Path) -> bool {
    fs::read_dir(dir)
        .unwrap()
        .all(|e| !e.unwrap().file_name().to_string_lossy().contains(".tmp"))
}

#[test]
fn run_json_round_trips_and_is_written_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.json");
    let mut info = run_info("newton", 0.01);
    info.finished = None;
    info.extra.insert("host".into(), serde_json::json!("ci"));
    info.write(&path).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert!(!text.contains("finished"), "{text}");
    assert!(text.contains("\"host\": \"ci\""), "{text}");
    assert_eq!(RunInfo::read(&path).unwrap(), info);
    info.finished = Some(utc_now());
    info.write(&path).unwrap();
    assert_eq!(RunInfo::read(&path).unwrap(), info);
    assert!(no_temp_files(dir.path()));

    fs::write(&path, "{\"version\": 1}").unwrap();
    let e = format!("{:#}", RunInfo::read(&path).unwrap_err());
    assert!(e.contains("run.json"), "{e}");

    // write_atomic into a missing directory fails without leaving anything.
    assert!(write_atomic(&dir.path().join("no/such/dir/x"), b"x").is_err());
}

#[test]
fn utc_formatting() {
    assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
    assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(format_utc(1_700_000_000), "2023-11-14T22:13:20Z");
    assert_eq!(format_utc(4_102_444_799), "2099-12-31T23:59:59Z");
    let now = utc_now();
    assert_eq!(now.len(), 20, "{now}");
    assert!(now.ends_with('Z') && now.as_bytes()[10] == b'T');
}

// ---------------------------------------------------------------------------------------
// Figures

/// The colour of a `Style::Faint` dot of `rgb` on white.
fn faint(rgb: [u8; 3]) -> [u8; 3] {
    rgb.map(|c| (255.0 - 0.25 * (255.0 - c as f64)).round() as u8)
}

const BOUNDARY_GREY: [u8; 3] = [150, 150, 150];

/// The PNG names in `format`, sorted as [`pngs`] and [`files`] list them.
fn figure_names(format: FigureFormat) -> Vec<String> {
    let mut names: Vec<String> = FIGURES_PNG.iter().map(|n| format.file_name(n)).collect();
    names.sort();
    names
}

fn files(dir: &Path, ext: &str) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(ext))
        .collect();
    v.sort();
    v
}

/// Checks that a file is a complete SVG document of `size` with drawing in it; returns its
/// text.
fn check_svg(path: &Path, size: (u32, u32)) -> String {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let head = format!(r#"<svg width="{}" height="{}""#, size.0, size.1);
    assert!(
        text.starts_with(&head),
        "{}: {}",
        path.display(),
        &text[..80]
    );
    assert!(text.trim_end().ends_with("</svg>"), "{}", path.display());
    assert!(
        text.contains("<text") && text.len() > 500,
        "{}",
        path.display()
    );
    text
}

#[test]
fn run_figures_for_a_classification_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    fake_run(&run, 6, true, true, Some(run_info("newton", 0.01)));
    let written = run_figures(&run).unwrap();
    assert_eq!(written, FIGURES_PNG.map(|n| run.join(n)).to_vec());
    let loss = check_png(&run.join(LOSS_PNG), FIGURE_SIZE);
    assert!(count_color(&loss, BLUE) > 200, "train line");
    assert!(count_color(&loss, ORANGE) > 200, "test line");
    let acc = check_png(&run.join(ACCURACY_PNG), FIGURE_SIZE);
    assert!(count_color(&acc, BLUE) > 200 && count_color(&acc, ORANGE) > 200);
    let lr = check_png(&run.join(LR_PNG), FIGURE_SIZE);
    assert!(count_color(&lr, BLUE) > 200, "η line");
    assert!(count_color(&lr, RED) > 20, "safeguarded steps marked");
    // Per step: the smoothed line, the raw steps faint, five epoch boundaries.
    let steps = check_png(&run.join(STEPS_PNG), FIGURE_SIZE);
    assert!(count_color(&steps, BLUE) > 200, "smoothed line");
    assert!(count_color(&steps, faint(BLUE)) > 100, "raw steps");
    assert!(
        count_color(&steps, BOUNDARY_GREY) > 5 * 150,
        "epoch boundaries"
    );
    // Against seconds: loss | accuracy.
    let clock = check_png(&run.join(WALL_CLOCK_PNG), WIDE_FIGURE_SIZE);
    assert!(count_color(&clock, BLUE) > 400 && count_color(&clock, ORANGE) > 400);
    assert!(no_temp_files(&run));
    // Drawing again replaces the files.
    run_figures(&run).unwrap();
    assert_eq!(pngs(&run), figure_names(FigureFormat::Png));
}

#[test]
fn run_figures_for_a_regression_run_without_steps() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("boston");
    fake_run(&run, 8, false, false, None);
    fs::remove_file(run.join("steps.csv")).unwrap();
    run_figures(&run).unwrap();
    assert_eq!(pngs(&run), figure_names(FigureFormat::Png));
    check_png(&run.join(LOSS_PNG), FIGURE_SIZE);
    // accuracy.png says there is none: text only, no data colours.
    let acc = check_png(&run.join(ACCURACY_PNG), FIGURE_SIZE);
    assert_eq!(count_color(&acc, BLUE) + count_color(&acc, ORANGE), 0);
    // η per epoch instead of per step.
    let lr = check_png(&run.join(LR_PNG), FIGURE_SIZE);
    assert!(count_color(&lr, BLUE) > 100);
    // No steps: the per-step figure says so.
    let steps = check_png(&run.join(STEPS_PNG), FIGURE_SIZE);
    assert_eq!(count_color(&steps, BLUE), 0);
    // Loss against seconds at the epochs' ends, one panel (no accuracy).
    let clock = check_png(&run.join(WALL_CLOCK_PNG), FIGURE_SIZE);
    assert!(count_color(&clock, BLUE) > 100 && count_color(&clock, ORANGE) > 100);
    assert_eq!(run_label(&run), "boston");
}

#[test]
fn svg_figures_of_a_regression_run_name_its_task() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("boston");
    let mut info = run_info("basic", 0.01);
    info.config["model"] = "linreg".into();
    info.config["data"]["dataset"] = "boston".into();
    fake_run(&run, 4, false, false, Some(info));
    let written = run_figures_with(&run, FigureFormat::Svg).unwrap();
    assert_eq!(written.len(), FIGURES_PNG.len());
    assert_eq!(files(&run, ".svg"), figure_names(FigureFormat::Svg));
    assert!(pngs(&run).is_empty());
    let loss = check_svg(&run.join("loss.svg"), FIGURE_SIZE);
    assert!(
        loss.contains("Loss: linreg on boston · basic, η0=0.01"),
        "title"
    );
    let steps = check_svg(&run.join("loss-steps.svg"), FIGURE_SIZE);
    assert!(steps.contains("centred mean of 5 steps") && steps.contains("epoch boundary"));
    let clock = check_svg(&run.join("wall-clock.svg"), FIGURE_SIZE);
    assert!(
        clock.contains("interpolated between epoch ends"),
        "x axis says how"
    );
    check_svg(&run.join("accuracy.svg"), FIGURE_SIZE);
    check_svg(&run.join("lr.svg"), FIGURE_SIZE);
}

/// Rows of `img` holding a pixel of `rgb`: (first, last).
fn rows_with(img: &image::RgbImage, rgb: [u8; 3]) -> (u32, u32) {
    let rows: Vec<u32> = img
        .enumerate_pixels()
        .filter(|(_, _, p)| p.0.iter().zip(rgb).all(|(&a, b)| a.abs_diff(b) <= 8))
        .map(|(_, y, _)| y)
        .collect();
    (*rows.iter().min().unwrap(), *rows.iter().max().unwrap())
}

#[test]
fn lines_jumping_up_and_down_stay_inside_the_plot() {
    // η and the loss alternate between two levels from step to step: plotters' wide
    // polylines drew 1-pixel spikes from such turns across the whole figure.
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("zigzag");
    fs::create_dir_all(&run).unwrap();
    EpochWriter::create(run.join("epochs.csv"))
        .unwrap()
        .write(&epoch(1, true))
        .unwrap();
    let mut sw = StepWriter::create(run.join("steps.csv"), false).unwrap();
    for s in 0..1500 {
        let mut r = step(s, 1500, false);
        let up = s % 2 == 0;
        r.lr = if up { 0.07 } else { 0.01 } + 1e-5 * (s % 7) as f64;
        r.loss = if up { 2.0 } else { 0.5 } + 1e-3 * (s % 5) as f64;
        sw.write(&r).unwrap();
    }
    run_figures(&run).unwrap();
    for name in [LR_PNG, STEPS_PNG] {
        // (Not check_png: the zigzag fills most of the plot.)
        let img = image::open(run.join(name)).unwrap().to_rgb8();
        // The plot area lies below the title (~45 px) and above the x axis (~655 px); the
        // data fill it but for 5% (linear) or 25% (log) padding.
        let (top, bottom) = rows_with(&img, BLUE);
        assert!(
            top > 60 && bottom < 645,
            "{name}: line from row {top} to {bottom}"
        );
    }
}

#[test]
fn run_figures_survive_divergence_and_long_runs() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("diverged");
    fs::create_dir_all(&run).unwrap();
    let mut ew = EpochWriter::create(run.join("epochs.csv")).unwrap();
    for e in 1..=3 {
        let mut r = epoch(e, true);
        if e == 3 {
            r.train_loss = f64::NAN;
            r.test_loss = Some(f64::INFINITY);
        }
        ew.write(&r).unwrap();
    }
    // 120k steps: decimated, η going negative (possible with the raw Newton rule), the
    // last losses not finite.
    let mut sw = StepWriter::create(run.join("steps.csv"), false).unwrap();
    for s in 0..120_000 {
        let mut r = step(s, 40_000, false);
        r.lr = 0.05 - s as f64 * 1e-6;
        if s > 110_000 {
            r.loss = f64::NAN;
        }
        sw.write(&r).unwrap();
    }
    run_figures(&run).unwrap();
    for name in [LOSS_PNG, ACCURACY_PNG, LR_PNG, STEPS_PNG] {
        check_png(&run.join(name), FIGURE_SIZE);
    }
    check_png(&run.join(WALL_CLOCK_PNG), WIDE_FIGURE_SIZE);

    // A run that has not finished an epoch yet: figures say so instead of failing.
    let young = dir.path().join("young");
    fake_run(&young, 0, true, true, None);
    run_figures(&young).unwrap();
    check_png(&young.join(LOSS_PNG), FIGURE_SIZE);
    check_png(&young.join(STEPS_PNG), FIGURE_SIZE);
    check_png(&young.join(WALL_CLOCK_PNG), FIGURE_SIZE);
}

#[test]
fn compare_two_runs() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    fake_run(&a, 10, true, true, Some(run_info("newton", 0.01)));
    fake_run(&b, 10, true, false, Some(run_info("basic", 0.01)));
    // Make b visibly different.
    let mut recs = read_epochs(b.join("epochs.csv")).unwrap();
    let mut w = EpochWriter::create(b.join("epochs.csv")).unwrap();
    for r in &mut recs {
        r.train_loss *= 1.5;
        r.test_loss = r.test_loss.map(|v| v * 1.3);
        r.train_acc = r.train_acc.map(|v| v * 0.8);
        r.test_acc = r.test_acc.map(|v| v * 0.8);
        r.lr = 0.01;
        w.write(r).unwrap();
    }
    let mut steps = read_steps(b.join("steps.csv")).unwrap();
    let mut w = StepWriter::create(b.join("steps.csv"), false).unwrap();
    for s in &mut steps {
        s.loss *= 1.5;
        s.lr = 0.01;
        w.write(s).unwrap();
    }
    assert_eq!(run_label(&a), "newton, η0=0.01");
    assert_eq!(run_label(&b), "basic, η0=0.01");
    // The optimizer and a decay are named: a momentum + cosine run is not a plain one.
    let decayed = dir.path().join("decayed");
    let mut info = run_info("basic", 0.1);
    info.config["optimizer"] = "momentum".into();
    info.config["lr_decay"] = "cosine".into();
    fake_run(&decayed, 2, true, false, Some(info));
    assert_eq!(
        run_label(&decayed),
        "momentum + basic, cosine decay, η0=0.1"
    );
    let stepped = dir.path().join("stepped");
    let mut info = run_info("basic", 0.1);
    info.config["lr_decay"] = "none".into();
    info.config["lr_milestones"] = serde_json::json!([3, 4]);
    fake_run(&stepped, 2, true, false, Some(info));
    assert_eq!(run_label(&stepped), "basic, step decay, η0=0.1");

    let out = dir.path().join("figures/compare");
    let Comparison {
        written,
        labels,
        warnings,
        ..
    } = compare_runs(&[a.clone(), b.clone()], &out, FigureFormat::Png).unwrap();
    assert_eq!(written.len(), FIGURES_PNG.len());
    assert_eq!(labels, ["newton, η0=0.01", "basic, η0=0.01"]);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(pngs(&out), figure_names(FigureFormat::Png));
    for (name, size) in [
        (LOSS_PNG, WIDE_FIGURE_SIZE),
        (ACCURACY_PNG, WIDE_FIGURE_SIZE),
        (LR_PNG, FIGURE_SIZE),
        (STEPS_PNG, FIGURE_SIZE),
        (WALL_CLOCK_PNG, WIDE_FIGURE_SIZE),
    ] {
        let img = check_png(&out.join(name), size);
        assert!(count_color(&img, BLUE) > 200, "{name}: run a");
        assert!(count_color(&img, ORANGE) > 200, "{name}: run b");
    }

    // Same label as a (same config in another directory), and a regression run without
    // steps: the accuracy and per-step figures leave it out, the others draw it, η per
    // epoch.
    let c = dir.path().join("c");
    fake_run(&c, 4, false, false, Some(run_info("newton", 0.01)));
    fs::remove_file(c.join("steps.csv")).unwrap();
    let labels = compare_runs(&[a, b, c], &out, FigureFormat::Png)
        .unwrap()
        .labels;
    assert_eq!(
        labels,
        [
            "newton, η0=0.01 (a)",
            "basic, η0=0.01",
            "newton, η0=0.01 (c)"
        ]
    );
    let loss = check_png(&out.join(LOSS_PNG), WIDE_FIGURE_SIZE);
    assert!(count_color(&loss, GREEN) > 100);
    let acc = check_png(&out.join(ACCURACY_PNG), WIDE_FIGURE_SIZE);
    assert_eq!(count_color(&acc, GREEN), 0);
    let clock = check_png(&out.join(WALL_CLOCK_PNG), WIDE_FIGURE_SIZE);
    assert!(
        count_color(&clock, GREEN) > 100,
        "c's test loss against seconds"
    );
    let lr = check_png(&out.join(LR_PNG), FIGURE_SIZE);
    assert!(count_color(&lr, GREEN) > 100, "c's η per epoch");
    let steps = check_png(&out.join(STEPS_PNG), FIGURE_SIZE);
    assert_eq!(count_color(&steps, GREEN), 0);
}

#[test]
fn plot_reads_kept_records_and_smooths_each_run_over_its_own_steps() {
    let dir = tempfile::tempdir().unwrap();
    let (long, short, bare) = (
        dir.path().join("long"),
        dir.path().join("short"),
        dir.path().join("bare"),
    );
    fake_run(&long, 10, true, false, Some(run_info("newton", 0.01)));
    fake_run(&short, 1, true, false, Some(run_info("basic", 0.01)));
    // Kept as docs/runs/ keeps records: steps.csv gzipped in its place.
    let steps = fs::read(short.join("steps.csv")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &steps).unwrap();
    fs::write(short.join("steps.csv.gz"), gz.finish().unwrap()).unwrap();
    fs::remove_file(short.join("steps.csv")).unwrap();

    let out = dir.path().join("figures");
    // A user's file of another format's figure name stays where it is.
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("loss.png"), "mine").unwrap();
    let done = compare_runs(&[long.clone(), short.clone()], &out, FigureFormat::Svg).unwrap();
    assert!(done.warnings.is_empty(), "{:?}", done.warnings);
    assert_eq!(fs::read(out.join("loss.png")).unwrap(), b"mine");
    let lr = fs::read_to_string(out.join("lr.svg")).unwrap();
    assert!(
        lr.contains("\nstep\n"),
        "η per step: both runs have their steps"
    );
    // 400 steps smoothed over 11, 40 over 3: not both over the longest run's 11.
    let steps = fs::read_to_string(out.join("loss-steps.svg")).unwrap();
    assert!(
        steps.contains("centred means over 2.5% of each run&apos;s steps (3 to 11 steps)")
            || steps.contains("centred means over 2.5% of each run's steps (3 to 11 steps)"),
        "{}",
        &steps[..steps.len().min(3000)]
    );

    // A run with a validation split: a validation panel between train and test.
    let validated = dir.path().join("validated");
    fake_run(&validated, 3, true, false, Some(run_info("secant", 0.1)));
    let mut w = EpochWriter::create_with(validated.join("epochs.csv"), true).unwrap();
    for e in 1..=3 {
        let mut r = epoch(e, true);
        (r.val_loss, r.val_acc) = (Some(1.0 / e as f64), Some(0.3 + 0.1 * e as f64));
        w.write(&r).unwrap();
    }
    let out = dir.path().join("validated-figures");
    compare_runs(&[validated, short.clone()], &out, FigureFormat::Svg).unwrap();
    for (figure, panel) in [
        ("loss.svg", "validation loss"),
        ("accuracy.svg", "validation accuracy"),
    ] {
        let svg = check_svg(&out.join(figure), (2700, 720));
        assert!(svg.contains(&format!("\n{panel}\n")), "{figure}");
    }

    // A run without steps: said, not left to be noticed.
    fake_run(&bare, 2, true, false, Some(run_info("secant", 0.01)));
    fs::remove_file(bare.join("steps.csv")).unwrap();
    let out = dir.path().join("three");
    let done = compare_runs(&[long, short, bare.clone()], &out, FigureFormat::Svg).unwrap();
    let said = done.warnings.join("\n");
    assert!(
        said.contains(&format!("no steps recorded in {}", bare.display()))
            && said.contains("not in loss-steps"),
        "{said}"
    );
    // Plotted again in PNG, the folder's earlier SVG figures go: none of another sitting
    // stays beside the new ones.
    let runs = [dir.path().join("long"), bare];
    let done = compare_runs(&runs, &out, FigureFormat::Png).unwrap();
    assert!(files(&out, ".svg").is_empty(), "{:?}", files(&out, ".svg"));
    assert_eq!(
        done.removed.len(),
        FIGURES_PNG.len(),
        "each removal is said"
    );
    assert_eq!(pngs(&out), figure_names(FigureFormat::Png));
}

#[test]
fn compare_warns_about_mixed_tasks_and_labels_every_run_uniquely() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, edit: &dyn Fn(&mut RunInfo)| {
        let path = dir.path().join(name);
        let mut info = run_info("basic", 0.01);
        edit(&mut info);
        fake_run(&path, 3, true, false, Some(info));
        path
    };
    let seed7 = run("seed7", &|_| {});
    let seed8 = run("seed8", &|i| {
        i.seed = 8;
        i.config["seed"] = 8.into();
    });
    let boston = run("boston", &|i| {
        i.config["model"] = "linreg".into();
        i.config["data"]["dataset"] = "boston".into();
    });
    let out = dir.path().join("out");

    // Identical but for the seed: the seed tells them apart; one task, no warning.
    let c = compare_runs(&[seed7.clone(), seed8.clone()], &out, FigureFormat::Svg).unwrap();
    assert_eq!(
        c.labels,
        ["basic, η0=0.01 (seed=7)", "basic, η0=0.01 (seed=8)"]
    );
    assert!(c.warnings.is_empty());
    let loss = check_svg(&out.join("loss.svg"), WIDE_FIGURE_SIZE);
    assert!(loss.contains("Loss: lenet on cifar10"), "task in the title");
    assert!(
        loss.contains("basic, η0=0.01 (seed=8)"),
        "label in the legend"
    );

    // Two tasks: a warning naming both, and each label names its task.
    let c = compare_runs(&[seed7.clone(), boston.clone()], &out, FigureFormat::Png).unwrap();
    assert_eq!(c.warnings.len(), 1);
    let w = &c.warnings[0];
    assert!(
        w.contains("different tasks") && w.contains("lenet on cifar10 (seed7)"),
        "{w}"
    );
    assert!(w.contains("linreg on boston (boston)"), "{w}");
    assert_eq!(
        c.labels,
        [
            "lenet on cifar10: basic, η0=0.01",
            "linreg on boston: basic, η0=0.01"
        ]
    );

    // The same directory twice is refused; two directories of one name and configuration
    // are told apart.
    let twice = compare_runs(&[seed7.clone(), seed7.clone()], &out, FigureFormat::Png);
    assert!(format!("{:#}", twice.unwrap_err()).contains("are the same run"));
    let other = dir.path().join("elsewhere/seed7");
    fake_run(&other, 3, true, false, Some(run_info("basic", 0.01)));
    let namesakes = compare_runs(&[seed7, other], &out, FigureFormat::Png)
        .unwrap()
        .labels;
    assert_ne!(namesakes[0], namesakes[1]);
}

#[test]
fn plot_command_warns_about_mixed_tasks_and_writes_svg() {
    use crate::common::{etaprobe, ok, s};
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    fake_run(&a, 2, true, false, Some(run_info("basic", 0.01)));
    let mut info = run_info("basic", 0.01);
    info.config["model"] = "linreg".into();
    info.config["data"]["dataset"] = "boston".into();
    fake_run(&b, 2, false, false, Some(info));
    let out = dir.path().join("out");

    let run = etaprobe(&["plot", s(&a), s(&b), "--out", s(&out), "--format", "svg"]);
    ok(&run);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("warning:") && stderr.contains("different tasks"),
        "{stderr}"
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).lines().count(),
        FIGURES_PNG.len()
    );
    assert_eq!(files(&out, ".svg"), figure_names(FigureFormat::Svg));

    // One task: no warning; PNG by default.
    let run = etaprobe(&["plot", s(&a), "--out", s(&out)]);
    ok(&run);
    assert!(!String::from_utf8_lossy(&run.stderr).contains("warning"));
    assert_eq!(pngs(&out), figure_names(FigureFormat::Png));

    let run = etaprobe(&["plot", s(&a), "--out", s(&out), "--format", "gif"]);
    assert_eq!(run.status.code(), Some(2));

    // `train`'s name for the option works too.
    let svg = dir.path().join("svg");
    ok(&etaprobe(&[
        "plot",
        s(&a),
        "--out",
        s(&svg),
        "--figure-format",
        "svg",
    ]));
    assert_eq!(files(&svg, ".svg"), figure_names(FigureFormat::Svg));

    // Into a run's folder, whose own figures bear the same names: refused, untouched.
    let before = std::fs::read_dir(&b).unwrap().count();
    let run = etaprobe(&["plot", s(&a), "--out", s(&b)]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is a run's folder"), "{stderr}");
    assert_eq!(std::fs::read_dir(&b).unwrap().count(), before);

    // A run that stopped in its first epoch, with a damaged run.json: drawn, and what its
    // lines lack is said.
    let early = dir.path().join("early");
    fake_run(&early, 0, true, false, None);
    std::fs::write(early.join("run.json"), "{\"version\": ").unwrap();
    let run = etaprobe(&[
        "plot",
        s(&a),
        s(&early),
        "--out",
        s(&dir.path().join("early-out")),
    ]);
    ok(&run);
    let stderr = String::from_utf8_lossy(&run.stderr);
    for says in [
        "early: its run.json cannot be read",
        "early: no epoch ended (the run stopped in its first)",
    ] {
        assert!(stderr.contains(says), "{says}: {stderr}");
    }

    // The same run twice, however spelled: refused, nothing drawn.
    let twice = dir.path().join("twice");
    let again = a.join(".");
    let run = etaprobe(&["plot", s(&a), s(&again), "--out", s(&twice)]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("are the same run"), "{stderr}");
    assert!(!twice.exists());

    // A user's file of a figure's name, in a folder no plot wrote: refused, kept.
    let mine = dir.path().join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("loss.png"), "mine").unwrap();
    let run = etaprobe(&["plot", s(&a), "--out", s(&mine)]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("holds loss.png that this command would write over"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(mine.join("loss.png")).unwrap(),
        "mine"
    );

    // A run's five figures copied into a folder of the user's: refused, kept, although
    // the names are all a plot's.
    let copied = dir.path().join("copied");
    std::fs::create_dir_all(&copied).unwrap();
    for name in figure_names(FigureFormat::Png) {
        std::fs::write(copied.join(&name), "the user's copy").unwrap();
    }
    let run = etaprobe(&["plot", s(&a), "--out", s(&copied)]);
    assert_eq!(run.status.code(), Some(2));
    for name in figure_names(FigureFormat::Png) {
        assert_eq!(
            std::fs::read_to_string(copied.join(&name)).unwrap(),
            "the user's copy"
        );
    }
}

#[test]
fn bad_inputs_give_errors_and_no_png() {
    let dir = tempfile::tempdir().unwrap();
    fn err<T: std::fmt::Debug>(r: anyhow::Result<T>) -> String {
        format!("{:#}", r.unwrap_err())
    }
    let png = FigureFormat::Png;

    let missing = dir.path().join("missing");
    let e = err(run_figures(&missing));
    assert!(e.contains("missing") && e.contains("does not exist"), "{e}");

    let not_run = dir.path().join("not_run");
    fs::create_dir(&not_run).unwrap();
    fs::write(not_run.join("notes.txt"), "hi").unwrap();
    let e = err(run_figures(&not_run));
    assert!(
        e.contains("not a run directory") && e.contains("epochs.csv"),
        "{e}"
    );
    assert!(pngs(&not_run).is_empty());

    let file = dir.path().join("file");
    fs::write(&file, "x").unwrap();
    assert!(err(run_figures(&file)).contains("not a directory"));

    // Malformed epochs.csv: error with file and line, no figure written.
    let bad = dir.path().join("bad");
    fake_run(&bad, 3, true, false, None);
    let mut text = fs::read_to_string(bad.join("epochs.csv")).unwrap();
    text.push_str("4,oops,,,,0.1,9\n");
    fs::write(bad.join("epochs.csv"), text).unwrap();
    let e = err(run_figures(&bad));
    assert!(e.contains("epochs.csv line 5") && e.contains("oops"), "{e}");
    assert!(pngs(&bad).is_empty());

    // Malformed steps.csv also stops the run's figures, and a comparison.
    let bad_steps = dir.path().join("bad_steps");
    fake_run(&bad_steps, 2, true, false, None);
    fs::write(
        bad_steps.join("steps.csv"),
        "step,epoch,loss,lr\n0,0,x,0.1\n",
    )
    .unwrap();
    let e = err(run_figures_with(&bad_steps, FigureFormat::Svg));
    assert!(e.contains("steps.csv line 2"), "{e}");
    assert!(pngs(&bad_steps).is_empty() && files(&bad_steps, ".svg").is_empty());

    // compare: one bad directory spoils the comparison, nothing is written.
    let good = dir.path().join("good");
    fake_run(&good, 3, true, false, None);
    let out = dir.path().join("out");
    let e = err(compare_runs(&[good.clone(), not_run.clone()], &out, png));
    assert!(
        e.contains("not_run") && e.contains("not a run directory"),
        "{e}"
    );
    assert!(!out.exists() || pngs(&out).is_empty());
    let e = err(compare_runs(&[good.clone(), bad], &out, png));
    assert!(e.contains("line 5"), "{e}");
    let e = err(compare_runs(&[good.clone(), bad_steps], &out, png));
    assert!(e.contains("steps.csv line 2"), "{e}");
    let e = err(compare_runs(&[], &out, png));
    assert!(e.contains("no run directory"), "{e}");
    assert!(!out.exists() || pngs(&out).is_empty());

    // An output path that is a file.
    let e = err(compare_runs(&[good], &file, png));
    assert!(e.contains("file"), "{e}");
}
