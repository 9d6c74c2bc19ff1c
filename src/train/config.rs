//! Run configurations as TOML files: `--config FILE` reads every train option from one
//! (keys are the options' long names, `batch-size = 64`; the command line overrides any of
//! them), and every run directory gets the `config.toml` that reproduces its run, which
//! `--resume RUN_DIR` reads so that a run continues without its options retyped.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;

use anyhow::{bail, Context, Result};

use super::args::TrainConfig;

/// A run directory's configuration file.
pub const CONFIG_TOML: &str = "config.toml";

/// Options a configuration file does not hold: where the run goes and what it continues
/// (given on the command line), and the warm start, which η0 already resolves.
const NOT_IN_CONFIG: &[&str] = &[
    "out",
    "resume",
    "overwrite",
    "config",
    "lr_from",
    "lr_from_stat",
    "quiet",
    "verbose",
];

/// The `train` options a configuration file may set, by long name.
fn option_names() -> Vec<String> {
    use clap::Args;
    TrainConfig::augment_args(clap::Command::new("train"))
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_string))
        .filter(|name| !NOT_IN_CONFIG.contains(&name.replace('-', "_").as_str()))
        .collect()
}

/// The options that are flags (`--augment`): true or false in a configuration, and only
/// they.
fn flag_names() -> Vec<String> {
    use clap::Args;
    TrainConfig::augment_args(clap::Command::new("train"))
        .get_arguments()
        .filter(|a| !a.get_action().takes_values())
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect()
}

/// One option of a configuration: its long name and its value (none for a flag).
type Setting = (String, Option<String>);

/// Reads a configuration file into the command-line words it stands for (`--key value`),
/// checked whole: an unknown key, or a value the option refuses, is an error naming the
/// file and the line.
pub fn config_flags(path: &Path) -> Result<Vec<OsString>> {
    let Read { text, settings, .. } = read_settings(path)?;
    let words = words(&settings);
    check_words(path, &text, &words)?;
    Ok(words)
}

fn words(settings: &[Setting]) -> Vec<OsString> {
    settings
        .iter()
        .flat_map(|(name, value)| {
            std::iter::once(OsString::from(format!("--{name}")))
                .chain(value.clone().map(Into::into))
        })
        .collect()
}

/// A configuration file as read.
struct Read {
    text: String,
    /// What it sets, as command-line options.
    settings: Vec<Setting>,
    /// Every option it names, those it sets to their default (`augment = false`, `[]`)
    /// included: over another file, it replaces that file's values of them.
    names: Vec<String>,
}

fn read_settings(path: &Path) -> Result<Read> {
    // Any readable file: `--config <(...)` is a pipe. (A run directory's own config.toml
    // is checked to be a regular file before it is read, in `check_resumable`.)
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the configuration {}", path.display()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| anyhow::anyhow!("{}: {e}", path.display()))?;
    let known = option_names();
    let flags = flag_names();
    let mut settings = Vec::new();
    let mut names = Vec::new();
    for (key, value) in &table {
        let name = key.replace('_', "-");
        names.push(name.clone());
        let line = line_of(&text, key);
        if NOT_IN_CONFIG.contains(&name.replace('-', "_").as_str()) {
            bail!(
                "{} line {line}: --{name} goes on the command line, not in a configuration \
                 file (nor do {})",
                path.display(),
                NOT_IN_CONFIG
                    .iter()
                    .filter(|n| **n != name.replace('-', "_"))
                    .map(|n| format!("--{}", n.replace('_', "-")))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if !known.contains(&name) {
            bail!(
                "{} line {line}: {key:?} is not an option of etaprobe train (see `etaprobe \
                 train --help`)",
                path.display()
            );
        }
        // A flag is true or false; any other option takes a value.
        let is_flag = flags.contains(&name);
        if is_flag != matches!(value, toml::Value::Boolean(_)) {
            bail!(
                "{} line {line}: {key} = {value}: {}",
                path.display(),
                match is_flag {
                    true => format!("--{name} is a flag: write {key} = true or {key} = false"),
                    false => format!("--{name} takes a value, not true or false"),
                }
            );
        }
        let text_of = |v: &toml::Value| -> Result<String> {
            Ok(match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(x) => x.to_string(),
                other => bail!(
                    "{} line {line}: {key} = {other} is neither a number nor a string",
                    path.display()
                ),
            })
        };
        match value {
            toml::Value::Boolean(true) => settings.push((name, None)),
            toml::Value::Boolean(false) => {}
            toml::Value::Array(items) => {
                let items: Vec<String> = items.iter().map(text_of).collect::<Result<_>>()?;
                // An empty list is the option's default: nothing to say.
                if !items.is_empty() {
                    settings.push((name, Some(items.join(","))));
                }
            }
            value => settings.push((name, Some(text_of(value)?))),
        }
    }
    Ok(Read {
        text,
        settings,
        names,
    })
}

/// Parses the words of a configuration on their own, so that a bad value is reported with
/// the file and line it came from.
fn check_words(path: &Path, text: &str, words: &[OsString]) -> Result<()> {
    use clap::Args;
    let command = TrainConfig::augment_args(clap::Command::new("train").no_binary_name(true))
        .allow_negative_numbers(true);
    if let Err(e) = command.try_get_matches_from(words) {
        let option = e
            .get(clap::error::ContextKind::InvalidArg)
            .map(|a| a.to_string())
            .unwrap_or_default();
        let key = option
            .trim_start_matches("--")
            .split([' ', '='])
            .next()
            .unwrap_or("");
        // clap's own first line, which names the option and says what is wrong.
        let rendered = e.render().to_string();
        let message = rendered
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("error: ");
        bail!("{} line {}: {message}", path.display(), line_of(text, key));
    }
    Ok(())
}

/// The 1-based line that sets `key` (as written, or with `_` for `-`), 0 if none does.
fn line_of(text: &str, key: &str) -> usize {
    let other = key.replace('-', "_");
    text.lines()
        .position(|l| {
            let l = l.trim();
            // `key = value`, or a table's header `[key]` or `[[key]]` (a comment after it).
            let left = match l.strip_prefix('[') {
                Some(table) => {
                    let table = table.split('#').next().unwrap_or("").trim_end();
                    table.trim_start_matches('[').trim_end_matches(']')
                }
                None => l.split('=').next().unwrap_or(""),
            };
            let left = left.trim().trim_matches('"');
            !l.starts_with('#') && (left == key || left == other)
        })
        .map_or(0, |i| i + 1)
}

/// The configuration file of a run: every option that shapes it, by long name, as the
/// command line takes it.
pub fn config_text(args: &TrainConfig) -> Result<String> {
    let serde_json::Value::Object(all) = serde_json::to_value(args)? else {
        bail!("the training options do not serialize to a map");
    };
    let mut flat = serde_json::Map::new();
    for (key, value) in all {
        match value {
            serde_json::Value::Object(group) if key == "data" => flat.extend(group),
            value => {
                flat.insert(key, value);
            }
        }
    }
    let mut table = BTreeMap::new();
    for (key, mut value) in flat {
        if NOT_IN_CONFIG.contains(&key.as_str()) {
            continue;
        }
        // Paths as this directory saw them: `--resume RUN` and `--config RUN/config.toml`
        // are run from anywhere.
        if let ("data" | "cache_dir", serde_json::Value::String(path)) = (key.as_str(), &value) {
            if let Ok(absolute) = std::path::absolute(path) {
                value = serde_json::Value::String(absolute.to_string_lossy().into_owned());
            }
        }
        if let Some(value) = toml_value(&value) {
            table.insert(key.replace('_', "-"), value);
        }
    }
    let body = toml::to_string(&table).context("cannot write the configuration as TOML")?;
    Ok(format!(
        "# The options of this run: `etaprobe train --config config.toml --out DIR` runs it \
         again,\n# `etaprobe train --resume THIS_DIR` continues it.\n{body}"
    ))
}

/// An option's value as TOML: f32 options without their widening noise, unset ones left out.
fn toml_value(value: &serde_json::Value) -> Option<toml::Value> {
    Some(match value {
        serde_json::Value::Null => return None,
        serde_json::Value::Bool(b) => toml::Value::Boolean(*b),
        serde_json::Value::String(s) => toml::Value::String(s.clone()),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => toml::Value::Integer(i),
            // Beyond i64 (a seed): TOML has no such integer; the option parses the text.
            (None, _) if n.is_u64() => toml::Value::String(n.to_string()),
            (None, Some(x)) => {
                // An f32 option widened to f64 prints as its f32 text.
                let short = if (x as f32) as f64 == x {
                    (x as f32).to_string().parse().unwrap_or(x)
                } else {
                    x
                };
                toml::Value::Float(short)
            }
            (None, None) => toml::Value::String(n.to_string()),
        },
        serde_json::Value::Array(items) => {
            toml::Value::Array(items.iter().filter_map(toml_value).collect())
        }
        serde_json::Value::Object(_) => return None,
    })
}

/// Refuses a `--resume` with nothing to resume before anything else is read (a folder
/// without a configuration would otherwise be taken for a run with the default options,
/// whose data set would be looked for first).
fn check_resumable(path: &Path) -> Result<()> {
    use super::commit::{CHECKPOINT, PREVIOUS};
    if !path.exists() {
        bail!(
            "--resume {}: no such run directory or checkpoint file",
            path.display()
        );
    }
    if path.is_file() && path.extension().is_none_or(|e| e != "safetensors") {
        bail!(
            "--resume {}: not a checkpoint (a run directory, or its .safetensors checkpoint)",
            path.display()
        );
    }
    let config = path
        .is_dir()
        .then(|| std::fs::metadata(path.join(CONFIG_TOML)));
    if let Some(Ok(meta)) = config {
        if !meta.is_file() {
            bail!(
                "--resume {}: its {CONFIG_TOML} is {}, not the run's options: move it away and \
                 restore the file",
                path.display(),
                crate::rundir::file_kind(&meta.file_type())
            );
        }
    }
    let has_checkpoint = path.join(CHECKPOINT).is_file() || path.join(PREVIOUS).is_file();
    // The folder's config.toml gives the run's options: without it, defaults would stand
    // in for them (the data set looked for, the epochs) and the resume would be another run.
    if path.is_dir() && has_checkpoint && !path.join(CONFIG_TOML).is_file() {
        bail!(
            "--resume {0}: the run there has no {CONFIG_TOML}, which holds its options: \
             restore it, or resume from the checkpoint file with the run's options given \
             again (--resume {1} --model … --dataset … --epochs …)",
            path.display(),
            path.join(CHECKPOINT).display()
        );
    }
    if path.is_dir() && !has_checkpoint {
        if let Some(copy) = super::continuation::unfinished(path) {
            bail!(
                "--resume {}: it was being made from {}'s records when it stopped, before \
                 it held a checkpoint: make it again with the command that made it, from \
                 the folder it was run in (`{}`)",
                path.display(),
                copy.from.display(),
                copy.command
            );
        }
        if path.join(CONFIG_TOML).is_file() {
            bail!(
                "--resume {0}: the run there has no checkpoint: it stopped before its first \
                 one, so there is nothing to continue; start it again with `etaprobe train \
                 --config {1} --out {0} --overwrite`",
                path.display(),
                path.join(CONFIG_TOML).display()
            );
        }
        bail!(
            "--resume {}: not a run directory (it holds neither {CONFIG_TOML} nor {CHECKPOINT})",
            path.display()
        );
    }
    Ok(())
}

/// The configuration of the run `--resume DIR` continues, if it has one. A checkpoint
/// file's options are the command line's alone, as a sweep gives them all (design notes
/// §10: layering its folder's `config.toml` changed what a resume means across a change
/// of defaults).
fn run_config(path: &Path) -> Option<std::path::PathBuf> {
    Some(path.join(CONFIG_TOML)).filter(|f| path.is_dir() && f.is_file())
}

/// The command line `argv` with the options of the configurations it names inserted before
/// its own `train` options: the `config.toml` of the run `--resume DIR` continues, then
/// `--config FILE` over it, then the command line over both. `None` when there is no configuration to read.
pub fn expand_argv(argv: &[OsString], args: &TrainConfig) -> Result<Option<Vec<OsString>>> {
    if let Some(path) = &args.resume {
        check_resumable(path)?;
    }
    let run = args.resume.as_deref().and_then(run_config);
    let files: Vec<&Path> = run
        .as_deref()
        .into_iter()
        .chain(args.config.as_deref())
        .collect();
    if files.is_empty() {
        return Ok(None);
    }
    let Some(at) = argv
        .iter()
        .skip(1)
        .position(|a| a == "train")
        .map(|i| i + 1)
    else {
        bail!("no train command in the command line");
    };
    // What the command line gives itself is not taken from the files.
    let given: Vec<String> = argv[at + 1..]
        .iter()
        .filter_map(|a| a.to_str())
        .filter_map(|a| a.strip_prefix("--"))
        .map(|a| a.split('=').next().unwrap_or(a).to_string())
        .collect();
    let mut merged: Vec<Setting> = Vec::new();
    for file in files {
        let read = read_settings(file)?;
        if Some(file) == run.as_deref() && read.settings.is_empty() {
            bail!(
                "--resume: {} is empty, though it holds the run's options: restore it",
                file.display()
            );
        }
        check_words(file, &read.text, &words(&read.settings))?;
        merged.retain(|(name, _)| !read.names.contains(name));
        merged.extend(read.settings);
    }
    merged.retain(|(name, _)| !given.contains(name));
    let mut out = argv[..=at].to_vec();
    out.extend(words(&merged));
    out.extend_from_slice(&argv[at + 1..]);
    Ok(Some(out))
}
