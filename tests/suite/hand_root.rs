//! Sweep roots written by hand, for the tests of `compare` and of the lane's spec scripts:
//! run directories with chosen accuracies, and the manifest (`sweep.json`) that names them,
//! in the form `etaprobe sweep` writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A root of task "t" being written: [`HandRoot::cell`] plans a cell, [`hand_run`] fills
/// its directory, [`HandRoot::write_manifest`] writes `sweep.json`.
pub struct HandRoot {
    pub root: PathBuf,
    cells: Vec<serde_json::Value>,
    /// Each cell's `train` arguments, by directory, as a spec gives them (`sweep` refuses
    /// a root whose cells it would run otherwise); empty where not given.
    args: BTreeMap<String, Vec<String>>,
    /// Each rule's own options, as the manifest records them (none where not given).
    options: BTreeMap<String, BTreeMap<String, String>>,
}

impl HandRoot {
    pub fn new(root: &Path) -> Self {
        Self::with_args(root, BTreeMap::new())
    }

    /// A root whose cells record the arguments `args` gives for their directories.
    pub fn with_args(root: &Path, args: BTreeMap<String, Vec<String>>) -> Self {
        HandRoot {
            root: root.to_path_buf(),
            cells: Vec::new(),
            args,
            options: BTreeMap::new(),
        }
    }

    /// Records `options` as rule `rule`'s own in the cells planned from now on.
    pub fn rule_options(&mut self, rule: &str, options: &[(&str, &str)]) {
        let map = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.options.insert(rule.to_string(), map);
    }

    /// Plans a finished cell of rule label `rule` (trained by `schedule`) and returns its
    /// directory, `t/RULE/lrLR/seedSEED` as `sweep` names it.
    pub fn cell(&mut self, rule: &str, schedule: &str, lr: f64, seed: u64) -> PathBuf {
        self.cell_with_status(rule, schedule, lr, seed, "finished")
    }

    /// As [`HandRoot::cell`], with the manifest's status (e.g. "pending": planned, not run).
    pub fn cell_with_status(
        &mut self,
        rule: &str,
        schedule: &str,
        lr: f64,
        seed: u64,
        status: &str,
    ) -> PathBuf {
        let d = format!("t/{rule}/lr{lr}/seed{seed}");
        let args = self.args.get(&d).cloned().unwrap_or_default();
        let options = self.options.get(rule).cloned().unwrap_or_default();
        self.cells.push(serde_json::json!({
            "dir": d, "task": "t", "rule": rule, "schedule": schedule, "lr": lr,
            "seed": seed, "args": args, "options": options, "command": [], "status": status,
            "log": format!("{d}/train.log"),
        }));
        self.root.join(d)
    }

    /// Writes `sweep.json` with every cell planned so far (again after more are planned).
    pub fn write_manifest(&self) {
        let manifest = serde_json::json!({
            "spec": "hand.toml", "version": "0.1.0", "checkpoint_every": 100, "jobs": 1,
            "started": "", "updated": "", "cells": self.cells,
        });
        std::fs::create_dir_all(&self.root).unwrap();
        std::fs::write(self.root.join("sweep.json"), manifest.to_string()).unwrap();
    }
}

/// A finished (or, with `stopped`, failed) run directory written by hand: per epoch (test
/// accuracy, validation accuracy, seconds), 10 steps an epoch.
pub fn hand_run(dir: &Path, epochs: &[(f64, f64, f64)], stopped: Option<&str>) {
    std::fs::create_dir_all(dir).unwrap();
    let mut e =
        String::from("epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds,val_loss,val_acc\n");
    let mut st = String::from("step,epoch,loss,lr\n");
    for (i, (test, val, seconds)) in epochs.iter().enumerate() {
        e.push_str(&format!(
            "{},1.5,0.5,1.4,{test},0.1,{seconds},1.3,{val}\n",
            i + 1
        ));
        for k in 1..=10 {
            st.push_str(&format!("{},{},1.5,0.1\n", 10 * i + k, i + 1));
        }
    }
    std::fs::write(dir.join("epochs.csv"), e).unwrap();
    std::fs::write(dir.join("steps.csv"), st).unwrap();
    let seconds = epochs.last().map_or(0.0, |l| l.2);
    let mut totals = serde_json::json!({"seconds": seconds, "steps": 10 * epochs.len()});
    if let Some(why) = stopped {
        totals["stopped"] = why.into();
    }
    let run = serde_json::json!({
        "version": "0.1.0", "seed": 1, "config": {}, "adapter": {}, "totals": totals,
        "started": "2026-01-01T00:00:00Z", "finished": "2026-01-01T00:01:00Z",
    });
    std::fs::write(dir.join("run.json"), run.to_string()).unwrap();
}

/// Sets a hand-made run's `config` as the trainer nests it (e.g. the data set under `data`).
pub fn set_config(dir: &Path, config: serde_json::Value) {
    let json = dir.join("run.json");
    let mut run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    run["config"] = config;
    std::fs::write(&json, run.to_string()).unwrap();
}

/// A CSV's rows as maps from column name to cell, read by the csv crate (quoted cells).
pub fn csv_rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            assert_eq!(record.len(), header.len(), "{record:?}");
            header
                .iter()
                .zip(record.iter())
                .map(|(h, c)| (h.to_string(), c.to_string()))
                .collect()
        })
        .collect()
}
