//! Data-parallel training over several processes (`train --distributed`, `bench dist`):
//! every rank holds the whole model, computes the gradient of its shard of each global
//! batch, and the ranks agree on the mean gradient and on every scalar a rule decides
//! from, so that they apply the same η and keep identical weights. See docs/distributed.md.
//!
//! The exchanges are written against [`Collective`], which MPI implements (feature `mpi`,
//! [`join`]). Every reduction is done here, in f64 and in rank order, rather than by the
//! MPI library: the result is then the same on every rank and in every run, whatever
//! algorithm the library picks.

#![warn(missing_docs)]

mod bench;
#[cfg(feature = "mpi")]
mod mpi;
#[cfg(test)]
mod tests;

pub use bench::{bench_command, bench_dist, dist_table, DistBench, DistBenchArgs};

use std::cell::Cell;
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::data::Shard;

/// How long a rank waits in an exchange for the others by default before it stops the job.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// The exchanges data-parallel training needs between the ranks of a job. Every rank
/// calls the same exchanges in the same order; an exchange that the other ranks do not
/// join within the job's timeout stops the whole job, naming the exchange.
pub trait Collective {
    /// This process's rank, from 0.
    fn rank(&self) -> usize;
    /// Ranks in the job.
    fn ranks(&self) -> usize;
    /// This rank's position among the ranks on its host (which adapter it takes).
    fn local_rank(&self) -> usize;
    /// Every rank's `values` (the same length on each), concatenated in rank order.
    fn all_gather(&self, what: &str, values: &[f64]) -> Vec<f64>;
    /// [`Collective::all_gather`], waiting up to `wait` for the other ranks (or the job's
    /// timeout when longer): for the exchange that ends the ranks' set-up.
    fn all_gather_waiting(&self, what: &str, values: &[f64], wait: Duration) -> Vec<f64>;
    /// Every rank's `block` (the same length on each), concatenated in rank order.
    fn all_gather_f32(&self, what: &str, block: &[f32]) -> Vec<f32>;
    /// Sends block r of `send` (`ranks` equal blocks) to rank r; returns the blocks the
    /// ranks sent this one, in rank order.
    fn all_to_all_f32(&self, what: &str, send: &[f32]) -> Vec<f32>;
    /// Stops every rank of the job: prints `message`, then each process exits with `code`.
    fn abort(&self, message: &str, code: i32) -> !;
}

/// This process's rank and the job's ranks, once it has joined a job.
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
static JOINED: OnceLock<(usize, usize)> = OnceLock::new();

/// This process's rank and the ranks in all, once [`join`] has joined the job (for the
/// program's messages, which ranks other than 0 sign).
pub fn joined() -> Option<(usize, usize)> {
    JOINED.get().copied()
}

/// Joins the job this process was started in by an MPI launcher (`mpirun`, `srun
/// --mpi=pmix`); `timeout`: how long an exchange may wait for the other ranks.
pub fn join(timeout: Duration) -> Result<Rc<dyn Collective>> {
    #[cfg(feature = "mpi")]
    return Ok(Rc::new(mpi::Mpi::init(timeout)?));
    #[cfg(not(feature = "mpi"))]
    {
        let _ = timeout;
        anyhow::bail!(
            "this etaprobe was built without MPI: rebuild it with `cargo build --release \
             --features mpi` (Debian: apt-get install libopenmpi-dev openmpi-bin \
             libclang-dev)"
        )
    }
}

/// The adapter of the rank `local_rank`-th on its host: `adapter` when given (each rank
/// may be given its own), else round robin over the host's adapters of the preferred kind
/// (a GPU machine's software adapter takes no rank).
pub fn rank_adapter(adapter: Option<&str>, local_rank: usize) -> Result<Option<String>> {
    if let Some(adapter) = adapter {
        return Ok(Some(adapter.to_string()));
    }
    let adapters = crate::gpu::enumerate_adapters();
    let preferred = crate::gpu::choose_adapter(&adapters, None)?;
    let kind = adapters[preferred].get_info().device_type;
    let same_kind: Vec<usize> = (0..adapters.len())
        .filter(|&i| adapters[i].get_info().device_type == kind)
        .collect();
    Ok(Some(same_kind[local_rank % same_kind.len()].to_string()))
}

/// How long the ranks wait for each other at the end of their set-up: loading the data
/// (from a slow file system, or behind another process's download on the same cache),
/// opening the adapter, building the model. Set-up is not an exchange, so the job's
/// `--collective-timeout`, sized for a step, does not bound it (unless it is longer).
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Checks, once every rank has set up (waiting up to [`SETUP_TIMEOUT`] for the slowest),
/// that every rank holds the same data, by the fingerprints of what it will train and be
/// evaluated on and of the checkpoint it resumes from (as many on every rank, the first
/// [`DATA_FINGERPRINTS`] of data): ranks that read different copies would average
/// gradients of different samples and report one rank's accuracy as the job's.
pub fn agree_on_data(group: &dyn Collective, fingerprints: &[[u8; 16]]) -> Result<()> {
    // 32-bit words, which f64 holds exactly.
    let words: Vec<f64> = fingerprints
        .as_flattened()
        .chunks_exact(4)
        .map(|w| f64::from(u32::from_le_bytes([w[0], w[1], w[2], w[3]])))
        .collect();
    let all = group.all_gather_waiting("data check", &words, SETUP_TIMEOUT);
    let first = &all[..words.len()];
    let differ: Vec<String> = all
        .chunks_exact(words.len())
        .enumerate()
        .filter(|(_, theirs)| theirs != &first)
        .map(|(rank, _)| rank.to_string())
        .collect();
    if differ.is_empty() {
        return Ok(());
    }
    let data_words = 4 * DATA_FINGERPRINTS.min(fingerprints.len());
    let data_differs = all
        .chunks_exact(words.len())
        .any(|theirs| theirs[..data_words] != first[..data_words]);
    let (what, check) = match data_differs {
        true => (
            "different samples, labels or validation split",
            "every rank must read the same data set, with the same --val-split and --seed: \
             check --data and ETAPROBE_DATA on each host",
        ),
        false => (
            "a different checkpoint",
            "every rank must resume from the same checkpoint: on hosts without a shared \
             file system, copy the run directory to each",
        ),
    };
    anyhow::bail!(
        "the ranks do not hold the same data: rank{} {} read{} {what} than rank 0 ({check})",
        crate::words::plural_s(differ.len()),
        differ.join(", "),
        if differ.len() == 1 { "s" } else { "" },
    )
}

/// Checks, at the end of set-up, that every rank was given the same `options` (name →
/// value, the same names on every rank): ranks started with another η, seed, batch size or
/// rule would average gradients of different runs, or meet at different steps and fail
/// inside MPI. Names each option that differs, and which ranks.
pub fn agree_on_options(
    group: &dyn Collective,
    options: &std::collections::BTreeMap<String, serde_json::Value>,
) -> Result<()> {
    // One 32-bit word (exact in f64) of each value's MD5.
    let words: Vec<f64> = options
        .values()
        .map(|value| {
            use md5::Digest;
            let digest = md5::Md5::digest(value.to_string().as_bytes());
            f64::from(u32::from_le_bytes([
                digest[0], digest[1], digest[2], digest[3],
            ]))
        })
        .collect();
    // As many words on every rank, or the exchange itself fails: builds that know other
    // options are said as such first.
    let counts = group.all_gather_waiting("options check", &[words.len() as f64], SETUP_TIMEOUT);
    if counts.iter().any(|&c| c != counts[0]) {
        anyhow::bail!(
            "the ranks run different builds of etaprobe ({} options on rank 0, {} on \
             another): start every rank with the same program",
            counts[0],
            counts
                .iter()
                .find(|&&c| c != counts[0])
                .expect("one differs")
        );
    }
    let all = group.all_gather_waiting("options check", &words, SETUP_TIMEOUT);
    let n = words.len();
    let first = &all[..n];
    let mut differing: Vec<String> = Vec::new();
    for (rank, theirs) in all.chunks_exact(n.max(1)).enumerate().skip(1) {
        let names: Vec<String> = options
            .keys()
            .zip(theirs.iter().zip(first))
            .filter(|(_, (a, b))| a != b)
            .map(|(name, _)| format!("--{}", name.replace('_', "-")))
            .collect();
        if !names.is_empty() {
            differing.push(format!("rank {rank}'s {}", names.join(", ")));
        }
    }
    if differing.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "the ranks were not given the same options: {} differ{} from rank 0's; start every \
         rank with the same command (`mpirun -np N etaprobe train … --distributed`)",
        differing.join("; "),
        if differing.len() == 1 && !differing[0].contains(", ") {
            "s"
        } else {
            ""
        }
    )
}

/// Waits, up to [`SETUP_TIMEOUT`], until every rank is ready for its first step: rank 0
/// opens the run directory after [`agree_on_data`] (a resume's records read back, or copied
/// with `--out`), which the step's timeout is not sized for.
pub fn ready_to_train(group: &dyn Collective) {
    group.all_gather_waiting("run directory", &[1.0], SETUP_TIMEOUT);
}

/// How many processes the MPI launcher this process runs under started (Open MPI's and
/// PMI's size variables), if it runs under one that says.
pub fn launched_ranks() -> Option<usize> {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"]
        .iter()
        .find_map(|v| std::env::var(v).ok()?.trim().parse().ok())
}

/// How many of [`agree_on_data`]'s fingerprints are of data (the training and validation
/// splits); those after them are of the checkpoint a resume starts from.
pub const DATA_FINGERPRINTS: usize = 2;

/// Time and bytes a rank spent communicating (kept in checkpoints, so that a resumed run's
/// totals count every sitting).
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Traffic {
    /// Seconds inside exchanges (waiting for the slowest rank included).
    pub exchange_seconds: f64,
    /// Seconds moving the gradient between the GPU and the host for its exchange.
    pub transfer_seconds: f64,
    /// Bytes this rank sent to the others.
    pub bytes_sent: u64,
    /// Gradient exchanges made.
    pub gradients: u64,
}

/// One step's scalars as a rank measured them, by how they combine across ranks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scalars {
    /// Means over this rank's shard: weighted by the shard's samples into the global
    /// batch's mean.
    pub means: Vec<f64>,
    /// Counts and flags: summed over the ranks.
    pub sums: Vec<f64>,
    /// Functions of the replicated state (weights, optimizer state, the mean gradient),
    /// equal on every rank up to an adapter's rounding: rank 0's are taken, so that every
    /// rank decides from the same numbers.
    pub replicated: Vec<f64>,
}

/// A rank's side of data-parallel training: its group and shard, and what it spent
/// communicating.
pub struct DataParallel {
    group: Rc<dyn Collective>,
    traffic: Cell<Traffic>,
}

impl DataParallel {
    /// This process's part in `group`.
    pub fn new(group: Rc<dyn Collective>) -> DataParallel {
        DataParallel {
            group,
            traffic: Cell::new(Traffic::default()),
        }
    }

    /// The group of ranks.
    pub fn group(&self) -> &dyn Collective {
        &*self.group
    }

    /// The part of every global batch this rank computes.
    pub fn shard(&self) -> Shard {
        Shard {
            rank: self.group.rank(),
            ranks: self.group.ranks(),
        }
    }

    /// What this rank has spent communicating so far.
    pub fn traffic(&self) -> Traffic {
        self.traffic.get()
    }

    /// Counts on from what earlier sittings of a resumed run spent.
    pub fn continue_from(&self, earlier: Traffic) {
        self.traffic.set(earlier);
    }

    /// Adds `seconds` of moving the gradient between GPU and host.
    pub fn add_transfer(&self, seconds: f64) {
        let mut t = self.traffic.get();
        t.transfer_seconds += seconds;
        self.traffic.set(t);
    }

    fn account(&self, started: Instant, bytes: usize) {
        let mut t = self.traffic.get();
        t.exchange_seconds += started.elapsed().as_secs_f64();
        t.bytes_sent += bytes as u64;
        self.traffic.set(t);
    }

    /// The gradient of the global batch of `whole` samples from this rank's gradient
    /// `local` (the mean over its shard): Σ_r (n_r / whole)·g_r, summed in f64 in rank
    /// order and rounded once. Each rank sums one block of the vector (all-to-all), then
    /// every rank gathers the blocks: 2·(N−1)/N of the vector sent per rank, as a ring
    /// all-reduce, and the same bits on every rank.
    pub fn mean_gradient(&self, local: &[f32], whole: usize) -> Vec<f32> {
        let ranks = self.group.ranks();
        let block = local.len().div_ceil(ranks);
        let mut send = local.to_vec();
        send.resize(block * ranks, 0.0);
        let started = Instant::now();
        let blocks = self.group.all_to_all_f32("gradient reduce", &send);
        let weights: Vec<f64> = (0..ranks)
            .map(|rank| Shard { rank, ranks }.range(whole).len() as f64 / whole as f64)
            .collect();
        let mine: Vec<f32> = (0..block)
            .map(|i| {
                let sum: f64 = (0..ranks)
                    .map(|r| weights[r] * f64::from(blocks[r * block + i]))
                    .sum();
                sum as f32
            })
            .collect();
        let mut mean = self.group.all_gather_f32("gradient gather", &mine);
        mean.truncate(local.len());
        let sent = 2 * 4 * block * (ranks - 1);
        self.account(started, sent);
        let mut t = self.traffic.get();
        t.gradients += 1;
        self.traffic.set(t);
        mean
    }

    /// The global batch's scalars from each rank's `local` ones, measured on `samples`
    /// samples of the batch (the same structure on every rank), and the batch's samples
    /// in all. `what` names the exchange.
    pub fn agree(&self, what: &str, samples: usize, local: &Scalars) -> (Scalars, usize) {
        let (m, s) = (local.means.len(), local.sums.len());
        let mut packed = Vec::with_capacity(1 + m + s + local.replicated.len());
        packed.push(samples as f64);
        packed.extend(&local.means);
        packed.extend(&local.sums);
        packed.extend(&local.replicated);
        let started = Instant::now();
        let all = self.group.all_gather(what, &packed);
        self.account(started, 8 * packed.len() * (self.group.ranks() - 1));
        let mut total = 0.0;
        let mut weighted = vec![0.0; m];
        let mut sums = vec![0.0; s];
        for part in all.chunks_exact(packed.len()) {
            let n = part[0];
            total += n;
            for (w, v) in weighted.iter_mut().zip(&part[1..1 + m]) {
                *w += n * v;
            }
            for (sum, v) in sums.iter_mut().zip(&part[1 + m..1 + m + s]) {
                *sum += v;
            }
        }
        let agreed = Scalars {
            means: weighted.iter().map(|w| w / total).collect(),
            sums,
            replicated: all[1 + m + s..packed.len()].to_vec(),
        };
        (agreed, total as usize)
    }

    /// Whether `local` is true on any rank: every rank learns the same answer, and none
    /// returns before every rank has called it (`bench dist` starts its clock so).
    pub fn any(&self, what: &str, local: bool) -> bool {
        let flag = Scalars {
            sums: vec![f64::from(u8::from(local))],
            ..Scalars::default()
        };
        self.agree(what, 0, &flag).0.sums[0] > 0.0
    }
}
