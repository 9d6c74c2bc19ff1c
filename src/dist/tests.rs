//! The exchanges' arithmetic, with ranks simulated by threads of one process.

use std::rc::Rc;
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use super::{Collective, DataParallel, Scalars};
use crate::data::{Batch, Dataset, DatasetKind, Inputs, Shard, Split, Targets};

/// One simulated rank: the ranks meet at a barrier and swap their buffers through shared
/// slots, one per rank.
struct Threads {
    rank: usize,
    ranks: usize,
    barrier: Arc<Barrier>,
    slots: Arc<Mutex<Vec<Vec<f64>>>>,
}

impl Threads {
    /// Every rank's `values`, in rank order.
    fn swap(&self, values: Vec<f64>) -> Vec<Vec<f64>> {
        self.slots.lock().unwrap()[self.rank] = values;
        self.barrier.wait();
        let all = self.slots.lock().unwrap().clone();
        self.barrier.wait();
        all
    }
}

impl Collective for Threads {
    fn rank(&self) -> usize {
        self.rank
    }

    fn ranks(&self) -> usize {
        self.ranks
    }

    fn local_rank(&self) -> usize {
        self.rank
    }

    fn all_gather(&self, _: &str, values: &[f64]) -> Vec<f64> {
        self.swap(values.to_vec()).concat()
    }

    fn all_gather_waiting(&self, what: &str, values: &[f64], _: Duration) -> Vec<f64> {
        self.all_gather(what, values)
    }

    fn all_gather_f32(&self, _: &str, block: &[f32]) -> Vec<f32> {
        let all = self.swap(block.iter().map(|&v| f64::from(v)).collect());
        all.concat().iter().map(|&v| v as f32).collect()
    }

    fn all_to_all_f32(&self, _: &str, send: &[f32]) -> Vec<f32> {
        let all = self.swap(send.iter().map(|&v| f64::from(v)).collect());
        let block = send.len() / self.ranks;
        let mine = self.rank * block..(self.rank + 1) * block;
        all.iter()
            .flat_map(|theirs| theirs[mine.clone()].iter().map(|&v| v as f32))
            .collect()
    }

    fn abort(&self, message: &str, _: i32) -> ! {
        panic!("{message}")
    }
}

/// Runs `body` as each of `ranks` ranks, returning each rank's result in rank order.
fn on_ranks<T: Send + 'static>(
    ranks: usize,
    body: impl Fn(DataParallel) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(ranks));
    let slots = Arc::new(Mutex::new(vec![Vec::new(); ranks]));
    let body = Arc::new(body);
    let threads: Vec<_> = (0..ranks)
        .map(|rank| {
            let (barrier, slots, body) = (barrier.clone(), slots.clone(), body.clone());
            std::thread::spawn(move || {
                let group = Threads {
                    rank,
                    ranks,
                    barrier,
                    slots,
                };
                body(DataParallel::new(Rc::new(group)))
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn shards_cover_the_batch_in_order_and_differ_by_at_most_one() {
    for len in [1, 5, 32, 33] {
        for ranks in 1..=len.min(4) {
            let parts: Vec<_> = (0..ranks)
                .map(|rank| Shard { rank, ranks }.range(len))
                .collect();
            assert_eq!(parts[0].start, 0);
            assert_eq!(parts[ranks - 1].end, len);
            assert!(parts.windows(2).all(|w| w[0].end == w[1].start));
            let sizes: Vec<usize> = parts.iter().map(|r| r.len()).collect();
            assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
        }
    }
}

#[test]
fn the_mean_gradient_weights_uneven_shards_by_their_samples() {
    // A batch of 5 over 2 ranks: shards of 3 and 2 samples; 7 values, not a multiple of 2.
    let local = |rank: usize| -> Vec<f32> { (0..7).map(|i| (i + 10 * rank) as f32).collect() };
    let means = on_ranks(2, move |dp| dp.mean_gradient(&local(dp.shard().rank), 5));
    let want: Vec<f32> = (0..7)
        .map(|i| (0.6 * i as f64 + 0.4 * (i + 10) as f64) as f32)
        .collect();
    assert_eq!(means[0], want);
    assert_eq!(means[1], want, "every rank holds the same bits");
}

#[test]
fn scalars_agree_as_the_global_batch_would_have_them() {
    let agreed = on_ranks(3, |dp| {
        let rank = dp.shard().rank;
        let local = Scalars {
            means: vec![rank as f64],
            sums: vec![1.0 + rank as f64],
            replicated: vec![100.0 + rank as f64],
        };
        // Shards of 4, 2 and 2 samples.
        let samples = [4, 2, 2][rank];
        dp.agree("test", samples, &local)
    });
    for (scalars, whole) in agreed {
        assert_eq!(whole, 8);
        assert_eq!(scalars.means, vec![(0.0 * 4.0 + 2.0 + 2.0 * 2.0) / 8.0]);
        assert_eq!(scalars.sums, vec![6.0]);
        assert_eq!(scalars.replicated, vec![100.0], "rank 0's");
    }
}

#[test]
fn a_stop_on_one_rank_stops_every_rank() {
    let stops = on_ranks(2, |dp| dp.any("stop", dp.shard().rank == 1));
    assert_eq!(stops, vec![true, true]);
}

/// A generated CIFAR-10-like data set: `n` training samples (and 10 test ones) of 3×8×8.
fn generated(n: usize) -> Dataset {
    let shape = [3, 8, 8];
    let split = |seed: u64, n: usize| {
        let fake = crate::data::synth::fake_split(seed, n, shape, 10);
        let labels: Vec<u32> = fake.labels.iter().map(|&l| u32::from(l)).collect();
        Split::new(
            Inputs::Pixels(fake.pixels.into()),
            Targets::Classes(labels.into()),
            3 * 8 * 8,
        )
        .unwrap()
    };
    let names = (0..10).map(|c| format!("class {c}")).collect();
    Dataset::new(
        DatasetKind::Cifar10,
        split(1, n),
        split(2, 10),
        shape,
        names,
        "generated".into(),
    )
    .unwrap()
}

/// The shards of every rank, in rank order, joined into one batch.
fn joined(parts: &[Batch]) -> Batch {
    let whole = parts[0].whole;
    for part in parts {
        assert_eq!(
            part.whole, whole,
            "every shard knows the global batch's size"
        );
        assert_eq!(part.index, parts[0].index);
    }
    Batch {
        x: parts.iter().flat_map(|p| p.x.clone()).collect(),
        y_class: parts.iter().flat_map(|p| p.y_class.clone()).collect(),
        y_value: parts.iter().flat_map(|p| p.y_value.clone()).collect(),
        len: parts.iter().map(|p| p.len).sum(),
        whole,
        index: parts[0].index,
        samples: parts.iter().flat_map(|p| p.samples.clone()).collect(),
    }
}

#[test]
fn the_shards_of_all_ranks_joined_are_the_one_process_batches() {
    // 650 samples in batches of 33: 19 full batches, then a short one of 23.
    let data = generated(650);
    for augment in [false, true] {
        for ranks in [2, 3] {
            // From an epoch's start, and from inside it (a resumed run).
            for start in [0, 18] {
                let one: Vec<Batch> = data
                    .train_batches(33, 3, 1, start, false, augment)
                    .unwrap()
                    .collect();
                assert_eq!(one.len(), 20 - start);
                assert_eq!(one.last().unwrap().len, 23);
                let shards: Vec<Vec<Batch>> = (0..ranks)
                    .map(|rank| {
                        let shard = Shard { rank, ranks };
                        data.train_shards(33, 3, 1, start, false, augment, shard)
                            .unwrap()
                            .collect()
                    })
                    .collect();
                for (i, whole) in one.iter().enumerate() {
                    let parts: Vec<Batch> = shards.iter().map(|s| s[i].clone()).collect();
                    let sizes: Vec<usize> = parts.iter().map(|p| p.len).collect();
                    let want: Vec<usize> = (0..ranks)
                        .map(|rank| Shard { rank, ranks }.range(whole.len).len())
                        .collect();
                    assert_eq!(sizes, want);
                    assert_eq!(
                        &joined(&parts),
                        whole,
                        "{ranks} ranks, batch {}",
                        whole.index
                    );
                }
                assert!(shards.iter().all(|s| s.len() == one.len()));
                if ranks == 2 {
                    let last: Vec<usize> = shards.iter().map(|s| s.last().unwrap().len).collect();
                    assert_eq!(last, [12, 11]);
                }
            }
        }
    }
}

#[test]
fn a_short_batch_probes_the_same_val_samples_on_the_ranks_as_one_process() {
    // --probe-on val: a full val batch of 33, probed for a training batch of 23 (an epoch's
    // last). One process probes the val batch's first 23 samples.
    let val = generated(100)
        .train_batch(33, 7, 0, 1, true, false)
        .unwrap();
    let one = val.first(23);
    assert_eq!((one.len, one.whole), (23, 23));
    assert_eq!(one.samples, val.samples[..23]);
    assert_eq!(one.x, val.x[..23 * 3 * 8 * 8]);
    for ranks in [2, 3] {
        let parts: Vec<Batch> = (0..ranks)
            .map(|rank| one.shard(Shard { rank, ranks }))
            .collect();
        assert_eq!(joined(&parts), one, "{ranks} ranks");
    }
    // A full training batch probes the whole val batch.
    assert_eq!(val.first(33), val);
}

#[test]
fn ranks_holding_different_data_are_named() {
    let data = |seed: u64| {
        let train = Split::new(
            Inputs::Features((0..12).map(|i| (i as u64 * seed) as f32).collect()),
            Targets::Values(vec![0.0; 4].into()),
            3,
        )
        .unwrap();
        let test = train.clone();
        Dataset::new(
            DatasetKind::Boston,
            train,
            test,
            [3, 1, 1],
            Vec::new(),
            "data".into(),
        )
        .unwrap()
    };
    // Ranks 0 and 2 hold the same data, rank 1 and 3 another copy.
    let verdicts = on_ranks(4, move |dp| {
        let rank = dp.shard().rank;
        let fingerprint = data(1 + rank as u64 % 2).fingerprint();
        super::agree_on_data(dp.group(), &[fingerprint, [0; 16]]).map_err(|e| e.to_string())
    });
    for verdict in &verdicts {
        let e = verdict.as_ref().unwrap_err();
        assert!(e.contains("ranks 1, 3 read different samples"), "{e}");
    }
    let same = on_ranks(3, move |dp| {
        super::agree_on_data(dp.group(), &[data(5).fingerprint(), [7; 16]]).is_ok()
    });
    assert_eq!(same, [true; 3]);
    // A different label is a different data set too.
    let relabelled = {
        let mut d = data(5);
        d.train.targets = Targets::Values(vec![0.0, 0.0, 0.0, 1.0].into());
        d
    };
    assert_ne!(relabelled.fingerprint(), data(5).fingerprint());
    // The same data and another checkpoint on rank 2.
    let resumed = on_ranks(3, move |dp| {
        let checkpoint = [u8::from(dp.shard().rank == 2); 16];
        let fingerprints = [data(5).fingerprint(), [0; 16], checkpoint];
        super::agree_on_data(dp.group(), &fingerprints).map_err(|e| e.to_string())
    });
    for verdict in &resumed {
        let e = verdict.as_ref().unwrap_err();
        assert!(e.contains("rank 2 reads a different checkpoint"), "{e}");
    }
}
