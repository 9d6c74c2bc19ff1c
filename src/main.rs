use std::process::ExitCode;

use clap::{Parser, Subcommand};

use etaprobe::bench;
use etaprobe::gpu::{self, Gpu};
use etaprobe::models::ModelKind;
use etaprobe::train::{
    Diverged, Interrupted, StoppedBeforeStart, TrainConfig, Training, EXIT_DIVERGED,
    EXIT_INTERRUPTED, EXIT_REFUSED,
};
use etaprobe::words::counted;

/// Train neural networks on any GPU through wgpu, learning the learning rate as it trains.
#[derive(Parser)]
#[command(name = "etaprobe", version, about)]
struct Cli {
    /// Adapter to use: an index from `etaprobe devices` or part of its name.
    #[arg(long, global = true, env = "ETAPROBE_ADAPTER")]
    adapter: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the adapters wgpu can use and mark the one etaprobe would choose.
    Devices,
    /// Train a model (default: LeNet-5 on CIFAR-10 with the basic schedule).
    ///
    /// Exit status: 0 when the run finished (or had finished before), 1 when it diverged (its
    /// records are kept up to the step before), 130 when stopped on request (Ctrl-C,
    /// SIGTERM: a checkpoint to resume from is written), 3 when a rank of a --distributed
    /// job waited past --collective-timeout for the others, 2 for any other error.
    // Negative numbers parse, so that `--lr -1` gets the domain's message, not clap's.
    #[command(allow_negative_numbers = true)]
    Train(Box<TrainConfig>),
    /// Draw figures comparing runs.
    ///
    /// Loss, accuracy and η against epochs, the training loss per step, and loss and
    /// accuracy against seconds. Warns when the runs are of different models or data sets.
    Plot {
        /// Run directories written by `etaprobe train`.
        #[arg(value_parser = etaprobe::values::Utf8Path, required = true)]
        runs: Vec<std::path::PathBuf>,
        /// Where to write the figures.
        #[arg(value_parser = etaprobe::values::Utf8Path, long, value_name = "DIR")]
        out: std::path::PathBuf,
        /// File format of the figures (`--figure-format`, as `train` calls it, also works).
        #[arg(long, visible_alias = "figure-format", value_enum, default_value_t)]
        format: etaprobe::report::FigureFormat,
    },
    /// Run a grid of trainings (tasks × rules × η0 × seeds) from a TOML spec.
    ///
    /// Each cell is a run directory under one root; finished cells are skipped and
    /// interrupted ones resumed, so the same command picks up a killed sweep. Exit code 1
    /// when a cell failed, 2 for a bad spec or when a task's data was refused (its other
    /// cells are then not started), 130 when stopped on request. `--adapter A,B` gives the
    /// jobs those adapters in turn.
    Sweep {
        /// The spec file (see docs/sweeps/example.toml).
        #[arg(value_parser = etaprobe::values::Utf8Path)]
        spec: std::path::PathBuf,
        /// Cells run at once, each its own process.
        #[arg(long, default_value_t = 1, value_name = "N")]
        jobs: usize,
        /// Where the cells go [default: runs/SPEC_NAME].
        #[arg(value_parser = etaprobe::values::Utf8Path, long, value_name = "DIR")]
        root: Option<std::path::PathBuf>,
        /// Run again the cells whose run failed or stopped (e.g. diverged) in an earlier sweep.
        #[arg(long)]
        retry_failed: bool,
        /// Check the spec and list the cells and what would be done with each; run nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Tables and figures of a sweep: each rule at its validation-selected η0, over seeds.
    ///
    /// Task by task, in Markdown and CSV: each rule at its validation-selected η0, final and
    /// val-stopped test accuracy as mean ± 95% CI over seeds (t-distribution), paired
    /// differences against a reference rule, steps and seconds to a target, seconds per
    /// step; and the verdicts of docs/evaluation.md §7.
    Compare {
        /// The sweep's root (holding sweep.json); several: their tasks in one report (give
        /// --out), with the claims judged across them.
        #[arg(value_parser = etaprobe::values::Utf8Path, required = true, num_args = 1..)]
        roots: Vec<std::path::PathBuf>,
        /// The rule the others are paired against, on shared seeds; several, comma-separated
        /// (RULE,RULE,...): the one with the best mean final validation score at its
        /// selected η0 [default: auto when swept, else the first rule].
        #[arg(long, value_name = "RULE")]
        reference: Option<String>,
        /// The rule whose claims are judged against the reference and the tuning-free rules
        /// (docs/evaluation.md §7) [default: auto].
        #[arg(long, value_name = "RULE")]
        judge: Option<String>,
        /// Time to reach this accuracy (a fraction, e.g. 0.6) on validation (on test without
        /// a validation split) [default: the reference's mean final validation accuracy
        /// minus 1 point].
        #[arg(long, value_name = "F")]
        target_acc: Option<f64>,
        /// The same for regression tasks: time to get below this loss.
        #[arg(long, value_name = "F")]
        target_loss: Option<f64>,
        /// Where the report goes [default: ROOT/compare].
        #[arg(value_parser = etaprobe::values::Utf8Path, long, value_name = "DIR")]
        out: Option<std::path::PathBuf>,
        /// ROOT is an ablation: pair each of its rules with the judged rule of this sweep
        /// on the same task, η0 and seed (docs/evaluation.md §6).
        #[arg(value_parser = etaprobe::values::Utf8Path, long, value_name = "BASE_ROOT")]
        ablation_base: Option<std::path::PathBuf>,
    },
    /// Measure what a training step costs.
    ///
    /// Time per rule (probe), per kernel (kernels), GPU memory (memory), data-parallel
    /// steps (dist), matmul throughput (matmul).
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
}

/// The model and batch a step benchmark runs.
#[derive(clap::Args)]
struct BenchNet {
    /// The network whose training step is timed.
    #[arg(long, value_enum, default_value_t = ModelKind::Lenet)]
    model: ModelKind,
    /// Samples per timed step.
    #[arg(long, default_value_t = 256, value_name = "N", value_parser = etaprobe::values::batch_size)]
    batch_size: usize,
    /// ResNet channel multiplier (resnet18 only).
    #[arg(long, default_value_t = 1.0, value_name = "F")]
    width_mult: f64,
    /// Dropout after ResNet stages 2 and 4 (resnet18 only).
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    dropout: f32,
    /// Time the step on samples shaped like this data set's (e.g. LeNet-5 on 28×28
    /// Fashion-MNIST images); default: the model's paper data set (CIFAR-10 for lenet and
    /// resnet18, Fashion-MNIST for logreg, Boston for linreg). No data is read.
    #[arg(long, value_enum)]
    dataset: Option<etaprobe::data::DatasetKind>,
}

impl BenchNet {
    fn model(&self) -> bench::BenchModel {
        bench::BenchModel {
            kind: self.model,
            options: model_options(self.dropout, self.width_mult),
            dataset: self.dataset,
        }
    }
}

#[derive(Subcommand)]
enum BenchWhat {
    /// Time per training step of every rule of the registry, with the trainer's step code, and
    /// their ratios to basic.
    // Negative numbers parse, so that `--width-mult -1` gets the domain's message.
    #[command(allow_negative_numbers = true)]
    Probe {
        #[command(flatten)]
        net: BenchNet,
        /// Timed steps per schedule and round (after two warm-up steps); a multiple of 4, so
        /// that the rules probing every 4th step are timed on their share of probe steps.
        #[arg(long, default_value_t = 12, value_name = "N", value_parser = etaprobe::values::bench_count)]
        steps: usize,
        /// Rounds, each timing every schedule back to back; the medians are reported.
        #[arg(long, default_value_t = 3, value_name = "N", value_parser = etaprobe::values::bench_count)]
        rounds: usize,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Where a training step's time goes: each kernel of the forward pass, backward pass and
    /// update, run and timed one dispatch at a time.
    // Negative numbers parse, so that `--width-mult -1` gets the domain's message.
    #[command(allow_negative_numbers = true)]
    Kernels {
        #[command(flatten)]
        net: BenchNet,
        /// Timed rounds; the medians are reported.
        #[arg(long, default_value_t = 3, value_name = "N", value_parser = etaprobe::values::bench_count)]
        rounds: usize,
        /// List every dispatch in order, not only the 20 slowest.
        #[arg(long)]
        all: bool,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// GPU memory a training step holds, with and without the five-point probe, without
    /// running it: every buffer of the step is created when it is recorded.
    // Negative numbers parse, so that `--width-mult -1` gets the domain's message.
    #[command(allow_negative_numbers = true)]
    Memory {
        /// The network whose training step is counted.
        #[arg(long, value_enum, default_value_t = ModelKind::Resnet18)]
        model: ModelKind,
        /// Batch sizes to count the step at.
        #[arg(long, value_delimiter = ',', default_value = "32,256", value_name = "N,N", value_parser = etaprobe::values::batch_size)]
        batch_sizes: Vec<usize>,
        /// ResNet channel multiplier (resnet18 only).
        #[arg(long, default_value_t = 1.0, value_name = "F")]
        width_mult: f64,
        /// Dropout after ResNet stages 2 and 4 (resnet18 only).
        #[arg(long, default_value_t = 0.0, value_name = "P")]
        dropout: f32,
        /// Count the step on samples shaped like this data set's; default: the model's
        /// paper data set.
        #[arg(long, value_enum)]
        dataset: Option<etaprobe::data::DatasetKind>,
        /// Print JSON instead of a table (bytes, exact).
        #[arg(long)]
        json: bool,
    },
    /// Data-parallel training steps under MPI (`mpirun -np N etaprobe bench dist`, feature
    /// `mpi`): time per step, the share spent communicating, and the bytes sent per step.
    // Negative numbers parse, so that `--width-mult -1` gets the domain's message.
    #[command(allow_negative_numbers = true)]
    Dist(etaprobe::dist::DistBenchArgs),
    /// f32 matmul GFLOP/s at square sizes and at the shapes LeNet-5 and ResNet-18 use.
    Matmul {
        /// Only these square sizes (e.g. --sizes 512,1024); default: all shapes.
        #[arg(long, value_delimiter = ',', value_name = "N,N")]
        sizes: Vec<usize>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn model_options(dropout: f32, width_mult: f64) -> etaprobe::models::ModelOptions {
    etaprobe::models::ModelOptions {
        dropout,
        width_mult,
    }
}

fn main() -> ExitCode {
    etaprobe::sweep::stop_with_sweep();
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut cli = Cli::parse_from(&argv);
    // A configuration file's options go before the command line's, which override them.
    if let Command::Train(args) = &cli.command {
        match etaprobe::train::expand_argv(&argv, args) {
            Ok(Some(expanded)) => cli = Cli::parse_from(expanded),
            Ok(None) => {}
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::from(EXIT_REFUSED);
            }
        }
    }
    init_logging(&cli);
    // Mesa's Vulkan drivers complain on every command when XDG_RUNTIME_DIR is unset; give
    // them a private directory that lives as long as the process.
    let _runtime_dir = runtime_dir();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The sweep ran, and said which cells failed.
        Err(e) if e.downcast_ref::<CellsFailed>().is_some() => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
        // It said what it finished and what the same command resumes.
        Err(e) if e.downcast_ref::<SweepStopped>().is_some() => ExitCode::from(EXIT_INTERRUPTED),
        // The training failed, not its input: the records up to the failure are kept.
        Err(e) if e.downcast_ref::<Diverged>().is_some() => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_DIVERGED)
        }
        Err(e) if e.downcast_ref::<StoppedBeforeStart>().is_some() => {
            eprintln!("{e}");
            ExitCode::from(EXIT_INTERRUPTED)
        }
        Err(e) if e.downcast_ref::<Interrupted>().is_some() => {
            let stop = e.downcast_ref::<Interrupted>().expect("checked");
            eprintln!("{stop}");
            eprintln!("continue it with: {}", resume_command(&stop.checkpoint));
            ExitCode::from(EXIT_INTERRUPTED)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_REFUSED)
        }
    }
}

/// `etaprobe train`; with --distributed, as one rank of the job: a rank that fails stops
/// every rank (MPI_Abort), with a message naming it.
fn train(args: TrainConfig, adapter: Option<&str>) -> anyhow::Result<()> {
    let group = match args.distributed {
        true => {
            args.check_distributed()?;
            Some(etaprobe::dist::join(args.collective_timeout()?)?)
        }
        false => {
            if let Some(ranks) = etaprobe::dist::launched_ranks().filter(|&n| n > 1) {
                log::warn!(
                    "this process is one of {ranks} that an MPI launcher started, but \
                     --distributed is not given: each trains a run of its own, and all but \
                     one are refused the same --out; add --distributed for one data-parallel \
                     run"
                );
            }
            None
        }
    };
    let result = train_here(&args, adapter, group.clone());
    match (result, group) {
        // Every rank stops after the same step when one is interrupted: rank 0 says so.
        (Err(e), Some(g)) if e.downcast_ref::<Interrupted>().is_some() && g.rank() > 0 => Ok(()),
        (Err(e), Some(g)) if e.downcast_ref::<Interrupted>().is_none() => {
            let code = match e.downcast_ref::<Diverged>() {
                Some(_) => EXIT_DIVERGED,
                None => EXIT_REFUSED,
            };
            g.abort(
                &format!("rank {} of {}: {e:#}", g.rank(), g.ranks()),
                code.into(),
            )
        }
        (result, _) => result,
    }
}

fn train_here(
    args: &TrainConfig,
    adapter: Option<&str>,
    group: Option<std::rc::Rc<dyn etaprobe::dist::Collective>>,
) -> anyhow::Result<()> {
    if group.is_some() {
        etaprobe::train::stop_at_steps();
    }
    etaprobe::train::install_handler()?;
    let root = group.as_ref().is_none_or(|g| g.rank() == 0);
    // The same on every rank: rank 0 says it for the job.
    for warning in args.ignored_options().into_iter().filter(|_| root) {
        log::warn!("{warning}");
    }
    let training = Training::prepare_in(args, adapter, group)?;
    if let Some(s) = training.already_finished().filter(|_| root) {
        // The run resumed (not a --out it would have continued into), and what ends it.
        let run = match args.resume.as_deref() {
            Some(r) if r.is_dir() => r.to_path_buf(),
            Some(r) => etaprobe::rundir::folder_of(r),
            None => s.out.clone(),
        };
        let longer = match args.max_steps {
            Some(n) if s.steps >= n => {
                format!("its --max-steps {n} ends it there: give a larger --max-steps")
            }
            _ => "give a larger --epochs or --max-steps".to_string(),
        };
        eprintln!(
            "{} already finished: {}, {}; nothing to do and nothing changed ({longer} to \
             continue it)",
            run.display(),
            counted(s.steps, "step"),
            counted(s.epochs, "epoch")
        );
        return Ok(());
    }
    let out = training.out().to_path_buf();
    let result = training.run();
    if !root {
        return result.map(|_| ());
    }
    // The run's figures, also of a run that stopped early: what it measured up to
    // the failure stays readable.
    let figures = etaprobe::report::run_figures_with(&out, args.figure_format);
    if figures.is_ok() {
        args.figure_format.remove_others(&out);
    }
    let s = result?;
    figures.map_err(|e| e.context("drawing the run's figures"))?;
    // Validation first: it is what a choice reads; the test number is reported once.
    let percent = |name: &str, a: Option<f64>| {
        a.map_or(String::new(), |a| {
            format!(", {name} accuracy {:.2}%", 100.0 * a)
        })
    };
    let acc = percent("validation", s.final_val_acc) + &percent("test", s.final_test_acc);
    eprintln!(
        "done: {}, {} in {:.1} s ({:.0} images/s), train loss {:.5}{acc}; run files in {}",
        counted(s.steps, "step"),
        counted(s.epochs, "epoch"),
        s.seconds,
        s.images_per_second,
        s.final_train_loss,
        s.out.display()
    );
    Ok(())
}

/// Prints the library's messages on stderr: warnings as `warning: …`, information as it is;
/// `train -q` keeps only warnings and errors, `-v` adds the debug messages, and `RUST_LOG`
/// (e.g. `RUST_LOG=etaprobe=debug`) overrides both.
fn init_logging(cli: &Cli) {
    use std::io::Write;
    let level = match &cli.command {
        Command::Train(args) if args.quiet => log::LevelFilter::Warn,
        Command::Train(args) if args.verbose => log::LevelFilter::Debug,
        _ => log::LevelFilter::Info,
    };
    env_logger::Builder::new()
        // wgpu and the drivers log through the same facade: only their errors by default.
        .filter_level(log::LevelFilter::Error)
        .filter_module("etaprobe", level)
        .parse_env("RUST_LOG")
        .format(|out, record| {
            // In a distributed job rank 0 speaks for the job; the others sign their lines.
            let rank = match etaprobe::dist::joined() {
                Some((rank, ranks)) if rank > 0 => format!("rank {rank} of {ranks}: "),
                _ => String::new(),
            };
            match record.level() {
                log::Level::Error => writeln!(out, "error: {rank}{}", record.args()),
                log::Level::Warn => writeln!(out, "warning: {rank}{}", record.args()),
                _ => writeln!(out, "{rank}{}", record.args()),
            }
        })
        .init();
}

/// A fresh private directory as XDG_RUNTIME_DIR when the variable is unset (removed when
/// the returned guard drops); None when it is set or no directory can be made.
fn runtime_dir() -> Option<tempfile::TempDir> {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        return None;
    }
    // tempdir() creates it with mode 0700, as the XDG spec asks.
    let dir = tempfile::Builder::new()
        .prefix("etaprobe-runtime-")
        .tempdir()
        .ok()?;
    // Set before any thread starts and before the Vulkan instance reads it.
    std::env::set_var("XDG_RUNTIME_DIR", dir.path());
    Some(dir)
}

/// The command line that continues a run stopped at `checkpoint`: its directory's
/// config.toml holds every option of the run; only the adapter is said again.
fn resume_command(checkpoint: &std::path::Path) -> String {
    let dir = etaprobe::rundir::folder_of(checkpoint);
    let mut words = vec!["etaprobe".to_string()];
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if let Some(i) = argv.iter().position(|a| a == "--adapter") {
        words.extend(argv[i..].iter().take(2).cloned());
    }
    words.extend(argv.iter().filter(|a| a.starts_with("--adapter=")).cloned());
    words.extend(["train".into(), "--resume".into(), dir.display().to_string()]);
    // A data-parallel job continues as one, under the launcher (any number of ranks).
    if let Some((_, ranks)) = etaprobe::dist::joined() {
        words.splice(0..0, ["mpirun".into(), "-np".into(), ranks.to_string()]);
        words.push("--distributed".into());
    }
    words
        .iter()
        .map(|w| etaprobe::words::shell_word(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A sweep some of whose cells failed: exit code 1, apart from a bad spec's or refused
/// data's 2.
#[derive(Debug)]
struct CellsFailed(usize);

impl std::fmt::Display for CellsFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cells = counted(self.0, "cell");
        write!(f, "{cells} of the sweep failed (see sweep.json)")
    }
}

impl std::error::Error for CellsFailed {}

/// A sweep stopped on request (Ctrl-C, SIGTERM): it has said what it left to resume.
#[derive(Debug)]
struct SweepStopped;

impl std::fmt::Display for SweepStopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the sweep stopped on request")
    }
}

impl std::error::Error for SweepStopped {}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Devices => devices(cli.adapter.as_deref()),
        Command::Train(args) => train(*args, cli.adapter.as_deref()),
        Command::Sweep {
            spec,
            jobs,
            root,
            retry_failed,
            dry_run,
        } => sweep(
            &spec,
            jobs,
            root,
            retry_failed,
            dry_run,
            cli.adapter.as_deref(),
        ),
        Command::Compare {
            roots,
            reference,
            judge,
            target_acc,
            target_loss,
            out,
            ablation_base,
        } => {
            let options = etaprobe::compare::CompareOptions {
                roots,
                reference,
                judge,
                target_acc,
                target_loss,
                out,
                ablation_base,
            };
            let report = etaprobe::compare::compare(&options)?;
            etaprobe::out!("{}", report.markdown);
            for path in report.written {
                eprintln!("wrote {}", path.display());
            }
            for path in report.removed {
                eprintln!(
                    "removed {}: an earlier report's, not in this one",
                    path.display()
                );
            }
            Ok(())
        }
        Command::Plot { runs, out, format } => {
            let comparison = etaprobe::report::compare_runs(&runs, &out, format)?;
            for warning in &comparison.warnings {
                eprintln!("warning: {warning}");
            }
            for f in &comparison.removed {
                eprintln!(
                    "removed {}: an earlier plot's figure in another format",
                    f.display()
                );
            }
            for f in comparison.written {
                etaprobe::outln!("{}", f.display());
            }
            Ok(())
        }
        Command::Bench { what } => {
            let adapter = cli.adapter.as_deref();
            match what {
                BenchWhat::Probe {
                    net,
                    steps,
                    rounds,
                    json,
                } => bench_probe(net, steps, rounds, json, adapter),
                BenchWhat::Kernels {
                    net,
                    rounds,
                    all,
                    json,
                } => bench_kernels(net, rounds, all, json, adapter),
                BenchWhat::Memory {
                    model,
                    batch_sizes,
                    width_mult,
                    dropout,
                    dataset,
                    json,
                } => {
                    let model = bench::BenchModel {
                        kind: model,
                        options: model_options(dropout, width_mult),
                        dataset,
                    };
                    bench_memory(model, &batch_sizes, json, adapter)
                }
                BenchWhat::Dist(args) => etaprobe::dist::bench_command(adapter, &args),
                BenchWhat::Matmul { sizes, json } => bench_matmul(sizes, json, adapter),
            }
        }
    }
}

/// `etaprobe bench probe`: every rule's time per step, and its ratio to basic's.
fn bench_probe(
    net: BenchNet,
    steps: usize,
    rounds: usize,
    json: bool,
    adapter: Option<&str>,
) -> anyhow::Result<()> {
    let batch_size = net.batch_size;
    if batch_size == 0 || steps == 0 || rounds == 0 {
        anyhow::bail!("--batch-size, --steps and --rounds must be at least 1");
    }
    // Timed steps start at step 3; over a multiple of the probe period each
    // periodic rule probes on its own share of the steps, else on more or fewer.
    let every = etaprobe::schedule::PROBE_EVERY;
    if !steps.is_multiple_of(every) {
        log::warn!(
            "--steps {steps} is not a multiple of {every}: the rules that probe \
                 every {every}th step (auto, gen) are timed over {steps} steps holding \
                 {} of their probe steps, not 1 in {every}",
            probe_steps(steps, every)
        );
    }
    let gpu = std::sync::Arc::new(open(adapter)?);
    let r = bench::bench_probe(&gpu, net.model(), batch_size, steps, rounds)?;
    if json {
        etaprobe::outln!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        etaprobe::outln!(
            "{} at batch {} on {} ({} of {} each; medians)",
            r.model,
            r.batch_size,
            r.adapter,
            counted(r.rounds, "round"),
            counted(r.steps, "step")
        );
        // As wide as the longest rule's name (hypergradient), so no row shifts.
        let width = r.results.iter().map(|(s, ..)| s.len()).max().unwrap_or(0);
        let width = width.max("schedule".len());
        etaprobe::outln!(
            "{:<width$} {:>10} {:>8} {:>10}",
            "schedule",
            "ms/step",
            "× basic",
            "images/s"
        );
        for (s, ms, ratio) in &r.results {
            let ips = r.batch_size as f64 * 1e3 / ms;
            etaprobe::outln!("{s:<width$} {ms:>10.3} {ratio:>8.3} {ips:>10.1}");
        }
        etaprobe::outln!(
            "× basic: the median over rounds of each round's ratio to basic (robust \
                 to the machine's drift between rounds), so it may differ from the ratio \
                 of the ms medians"
        );
        etaprobe::outln!(
            "probes per forward pass: {}; GPU buffers: {:.1} MiB",
            r.probes_per_pass,
            r.gpu_bytes as f64 / (1 << 20) as f64
        );
    }
    Ok(())
}

/// `etaprobe bench kernels`: where one training step's time goes, dispatch by dispatch.
fn bench_kernels(
    net: BenchNet,
    rounds: usize,
    all: bool,
    json: bool,
    adapter: Option<&str>,
) -> anyhow::Result<()> {
    let batch_size = net.batch_size;
    if batch_size == 0 || rounds == 0 {
        anyhow::bail!("--batch-size and --rounds must be at least 1");
    }
    let gpu = open(adapter)?;
    let r = bench::bench_kernels(&gpu, net.model(), batch_size, rounds, all)?;
    if json {
        etaprobe::outln!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        let total: f64 = r.kernels.iter().map(|k| k.2).sum();
        etaprobe::outln!(
            "{} at batch {} on {} (medians of {})",
            r.model,
            r.batch_size,
            r.adapter,
            counted(r.rounds, "round")
        );
        etaprobe::outln!(
            "step as submitted: {:.1} ms; dispatches one at a time: {:.1} ms",
            r.step_ms,
            total
        );
        // Columns as wide as the longest kernel name, so none pushes its row out.
        let width = r
            .kernels
            .iter()
            .map(|k| k.0.chars().count())
            .chain(r.slowest.iter().map(|d| d.2.chars().count()))
            .max()
            .unwrap_or(0)
            .max(36);
        etaprobe::outln!(
            "{:<width$} {:>6} {:>10} {:>7}",
            "kernel",
            "count",
            "ms",
            "share"
        );
        for (label, count, ms) in &r.kernels {
            let share = 100.0 * ms / total;
            etaprobe::outln!("{label:<width$} {count:>6} {ms:>10.2} {share:>6.1}%");
        }
        etaprobe::outln!(
            "\n{}:",
            if all {
                "every dispatch"
            } else {
                "slowest dispatches"
            }
        );
        for (phase, at, label, groups, ms) in &r.slowest {
            etaprobe::outln!(
                "{phase:<9} #{at:<4} {label:<width$} {:>16} {ms:>9.2} ms",
                format!("{groups:?}")
            );
        }
    }
    Ok(())
}

/// `etaprobe bench memory`: the GPU memory of one training step, without and with the
/// five probes.
fn bench_memory(
    model: bench::BenchModel,
    batch_sizes: &[usize],
    json: bool,
    adapter: Option<&str>,
) -> anyhow::Result<()> {
    let adapter_name = open(adapter)?.describe();
    if batch_sizes.contains(&0) {
        anyhow::bail!("batch sizes must be at least 1");
    }
    // Every row is counted before the table is printed: an error (a model that
    // does not fit, a size past the adapter's limits) leaves no half table.
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    let mut rows = Vec::new();
    for &batch in batch_sizes {
        let mut row = Vec::new();
        for probes in [false, true] {
            // A fresh device per configuration, so that each count stands alone.
            let gpu = std::sync::Arc::new(Gpu::open(adapter)?);
            row.push(bench::step_memory(&gpu, model, batch, probes)?);
        }
        rows.push((batch, row));
    }
    if json {
        let rows: Vec<serde_json::Value> = (rows.iter())
            .map(|(batch, row)| {
                serde_json::json!({
                    "batch_size": batch,
                    "basic_bytes": row[0].0,
                    "probing_bytes": row[1].0,
                    "probes_per_pass": row[1].1,
                })
            })
            .collect();
        let v = serde_json::json!({
            "model": model.describe(),
            "adapter": adapter_name,
            "rows": rows,
        });
        etaprobe::outln!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    etaprobe::outln!(
        "GPU memory of one training step of {} on {adapter_name}",
        model.describe()
    );
    etaprobe::outln!(
        "{:<8} {:>12} {:>12} {:>8}",
        "batch",
        "basic MiB",
        "probing MiB",
        "probes"
    );
    for (batch, row) in rows {
        etaprobe::outln!(
            "{batch:<8} {:>12.1} {:>12.1} {:>8}",
            mib(row[0].0),
            mib(row[1].0),
            row[1].1
        );
    }
    etaprobe::outln!(
        "basic: a step without probes; probing: with the five line probes of newton and gen \
         (probes: how many one forward pass evaluates)"
    );
    Ok(())
}

/// `etaprobe bench matmul`: the matmul kernel's time and throughput on the given shapes.
fn bench_matmul(sizes: Vec<usize>, json: bool, adapter: Option<&str>) -> anyhow::Result<()> {
    let gpu = open(adapter)?;
    let shapes = if sizes.is_empty() {
        bench::matmul_shapes()
    } else {
        sizes
            .iter()
            .map(|&s| (format!("square {s}"), s, s, s))
            .collect()
    };
    let bench = bench::bench_matmul(&gpu, &shapes)?;
    if json {
        etaprobe::outln!("{}", serde_json::to_string_pretty(&bench)?);
    } else {
        etaprobe::outln!("adapter: {}", bench.adapter);
        etaprobe::outln!(
            "{:<28} {:>8} {:>6} {:>6} {:>10} {:>9}",
            "shape",
            "m",
            "n",
            "k",
            "ms",
            "GFLOP/s"
        );
        for r in bench.results {
            etaprobe::outln!(
                "{:<28} {:>8} {:>6} {:>6} {:>10.3} {:>9}",
                r.label,
                r.m,
                r.n,
                r.k,
                r.ms,
                significant(r.gflops)
            );
        }
    }
    Ok(())
}

/// `etaprobe sweep`; [`CellsFailed`] when a cell failed, an error (exit 2) when a task's
/// input was refused.
fn sweep(
    spec: &std::path::Path,
    jobs: usize,
    root: Option<std::path::PathBuf>,
    retry_failed: bool,
    dry_run: bool,
    adapter: Option<&str>,
) -> anyhow::Result<()> {
    let checked = etaprobe::sweep::spec::load(spec)?;
    let root = root.unwrap_or_else(|| {
        let name = spec.file_stem().unwrap_or_default();
        std::path::PathBuf::from("runs").join(name)
    });
    // Several adapters (comma-separated) are given to the jobs in turn.
    let adapters = adapter
        .iter()
        .flat_map(|a| a.split(','))
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(String::from)
        .collect();
    let options = etaprobe::sweep::SweepOptions {
        root,
        jobs,
        adapters,
        retry_failed,
        dry_run,
    };
    if !dry_run {
        // Ctrl-C or SIGTERM: no new cell starts, and the running ones stop with a checkpoint.
        etaprobe::train::stop_at_steps();
        etaprobe::train::install_handler()?;
    }
    let outcome = etaprobe::sweep::run_sweep(&checked, &options)?;
    // Which status wins: a stop on request (130), then a refused input (2), then failed
    // cells (1).
    if outcome.stopped {
        for r in &outcome.refused {
            log::error!("{r}");
        }
        return Err(SweepStopped.into());
    }
    // A task whose input was refused: the sweep's input is at fault (2), not a training.
    if !outcome.refused.is_empty() {
        let tasks: Vec<String> = outcome.refused.iter().map(|r| r.to_string()).collect();
        anyhow::bail!(
            "{}\nfix the input, and the same command runs the cells not started",
            tasks.join("\n")
        );
    }
    match outcome.failed.len() {
        0 => Ok(()),
        n => Err(CellsFailed(n).into()),
    }
}

/// How many of `bench probe`'s timed steps (3 to steps + 2, after two warm-up steps) a
/// rule probing every `every`th step probes on.
fn probe_steps(steps: usize, every: usize) -> usize {
    (3..steps + 3).filter(|s| s.is_multiple_of(every)).count()
}

/// A throughput with three significant digits, so that a tiny matmul's is not 0.00.
fn significant(x: f64) -> String {
    let decimals = match x.abs() {
        a if a >= 100.0 || a == 0.0 => 0,
        a => (2 - a.log10().floor() as i32).clamp(0, 6) as usize,
    };
    format!("{x:.decimals$}")
}

fn open(adapter: Option<&str>) -> anyhow::Result<Gpu> {
    let gpu = Gpu::open(adapter)?;
    log::info!("using adapter {}: {}", gpu.index, gpu.describe());
    Ok(gpu)
}

fn devices(choice: Option<&str>) -> anyhow::Result<()> {
    let adapters = gpu::enumerate_adapters();
    let chosen = gpu::choose_adapter(&adapters, choice)?;
    etaprobe::outln!(
        "{:<3} {:<2} {:<40} {:<8} {:<16} driver",
        "",
        "#",
        "name",
        "backend",
        "type"
    );
    for s in gpu::summaries(&adapters) {
        let mark = if s.index == chosen { "*" } else { "" };
        etaprobe::outln!(
            "{:<3} {:<2} {:<40} {:<8} {:<16} {} {}",
            mark,
            s.index,
            s.name,
            s.backend,
            s.device_type,
            s.driver,
            s.driver_info
        );
    }
    etaprobe::outln!(
        "(* = the adapter etaprobe uses; choose another with --adapter or ETAPROBE_ADAPTER)"
    );
    Ok(())
}
