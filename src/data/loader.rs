//! Batching: seeded per-epoch shuffle, normalisation, augmentation, and a prefetching
//! iterator.
//!
//! The prefetch thread owns clones of the split (its buffers are `Arc`-shared), so
//! [`Batches`] borrows nothing from the [`Dataset`] and may outlive it. It keeps at most
//! [`PREFETCH_DEPTH`] finished batches queued, plus the one it is building, while the
//! consumer works on the current one.

use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::JoinHandle;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::boston::bounded;
use super::{mix_seed, splitmix64, DataError, Dataset, Inputs, Split, Targets, Which};

/// Finished batches the background thread may queue ahead of the consumer.
pub const PREFETCH_DEPTH: usize = 2;
/// Zero padding of the random crop, in pixels on each side.
pub const AUGMENT_PAD: usize = 4;

const SHUFFLE_STREAM: u64 = 0x5348_5546_464c_4531;
const AUGMENT_STREAM: u64 = 0x4155_474d_454e_5431;

/// One batch, normalised and ready to upload.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// Inputs, f32 NCHW `[len, c, h, w]` (Boston: `[len, 13]`).
    pub x: Vec<f32>,
    /// Class indices for classification; empty for regression.
    pub y_class: Vec<u32>,
    /// Target values for regression; empty for classification.
    pub y_value: Vec<f32>,
    /// Number of samples (the last batch of an epoch may be short).
    pub len: usize,
    /// Samples of the global batch this batch is one rank's shard of (data-parallel
    /// training); `len` when it is the whole batch.
    pub whole: usize,
    /// Position of this batch in its epoch (or in the ordered pass).
    pub index: usize,
    /// Indices of the samples in their split, in batch order.
    pub samples: Vec<u32>,
}

/// The permutation of `0..len` used in `epoch` of a run seeded with `seed`. It depends on
/// nothing else, so a resumed run can rebuild any epoch directly.
pub fn epoch_order(len: usize, seed: u64, epoch: usize) -> Vec<u32> {
    let mut rng = ChaCha8Rng::seed_from_u64(mix_seed(mix_seed(seed, SHUFFLE_STREAM), epoch as u64));
    let mut order: Vec<u32> = (0..len as u32).collect();
    // Fisher-Yates with our own index mapping, so the order cannot change with the `rand`
    // version.
    for i in (1..len).rev() {
        let j = bounded(rng.next_u64(), i + 1);
        order.swap(i, j);
    }
    order
}

/// One rank's part of every global batch in data-parallel training: a contiguous range of
/// the batch's positions, the first `len % ranks` shards one sample longer, so that the
/// shards of all ranks are the global batch in its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This rank, from 0.
    pub rank: usize,
    /// Ranks in all.
    pub ranks: usize,
}

impl Shard {
    /// The whole batch: a single process.
    pub const WHOLE: Shard = Shard { rank: 0, ranks: 1 };

    /// The positions of this shard in a batch of `len` samples.
    pub fn range(&self, len: usize) -> std::ops::Range<usize> {
        let (base, extra) = (len / self.ranks, len % self.ranks);
        let start = self.rank * base + self.rank.min(extra);
        start..start + base + usize::from(self.rank < extra)
    }
}

impl Batch {
    /// This batch's `shard`: its samples, inputs and targets in that range of positions.
    pub fn shard(&self, shard: Shard) -> Batch {
        let range = shard.range(self.len);
        Batch {
            whole: self.len,
            ..self.positions(range)
        }
    }

    /// The batch of this one's first `len` samples (all of them when it holds fewer): a
    /// whole batch, which [`Batch::shard`] may then cut.
    pub fn first(&self, len: usize) -> Batch {
        self.positions(0..len.min(self.len))
    }

    /// The samples of this batch in `range` of positions, as a whole batch.
    fn positions(&self, range: std::ops::Range<usize>) -> Batch {
        let size = self.x.len() / self.len.max(1);
        let per_value = self.y_value.len() / self.len.max(1);
        let part = |v: &[f32], per: usize| v[range.start * per..range.end * per].to_vec();
        Batch {
            x: part(&self.x, size),
            y_class: match self.y_class.is_empty() {
                true => Vec::new(),
                false => self.y_class[range.clone()].to_vec(),
            },
            y_value: part(&self.y_value, per_value),
            len: range.len(),
            whole: range.len(),
            index: self.index,
            samples: self.samples[range].to_vec(),
        }
    }
}

/// The augmentation applied to one sample in one epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AugmentParams {
    /// Crop offset in `0..=2*AUGMENT_PAD` rows/columns of the zero-padded image; the output
    /// pixel `(y, x)` comes from input pixel `(y + dy - PAD, x + dx - PAD)` (before the flip).
    pub dy: usize,
    /// Column offset of the crop, in `0..=2*AUGMENT_PAD` (see `dy`).
    pub dx: usize,
    /// Mirror left-right after the crop.
    pub flip: bool,
}

/// Crop and flip of `sample` in `epoch`, from `(seed, epoch, sample)` alone.
pub fn augment_params(seed: u64, epoch: usize, sample: u32) -> AugmentParams {
    let bits =
        splitmix64(mix_seed(mix_seed(seed, AUGMENT_STREAM), epoch as u64) ^ u64::from(sample));
    let span = 2 * AUGMENT_PAD + 1;
    AugmentParams {
        dy: bounded(bits, span),
        dx: bounded(bits.rotate_left(21), span),
        flip: (bits >> 42) & 1 == 1,
    }
}

/// Turns sample indices into batches; owns everything the prefetch thread needs.
#[derive(Clone)]
struct Assembler {
    split: Split,
    shape: [usize; 3],
    /// Per channel: f32 value of each u8 pixel after normalisation.
    pixel_tables: Vec<[f32; 256]>,
    feature_mean: Vec<f32>,
    feature_inv_std: Vec<f32>,
    /// `(seed, epoch)` when augmenting.
    augment: Option<(u64, usize)>,
}

impl Assembler {
    fn new(dataset: &Dataset, which: Which, augment: Option<(u64, usize)>) -> Assembler {
        let norm = &dataset.normalization;
        let pixel_tables = match dataset.split(which).inputs {
            Inputs::Pixels(_) => norm
                .mean
                .iter()
                .zip(&norm.std)
                .map(|(&mean, &std)| {
                    let mut table = [0f32; 256];
                    for (v, out) in table.iter_mut().enumerate() {
                        *out = ((v as f64 / 255.0 - mean as f64) / std as f64) as f32;
                    }
                    table
                })
                .collect(),
            Inputs::Features(_) => Vec::new(),
        };
        Assembler {
            split: dataset.split(which).clone(),
            shape: dataset.input_shape,
            pixel_tables,
            feature_mean: norm.mean.clone(),
            feature_inv_std: norm.std.iter().map(|s| 1.0 / s).collect(),
            augment,
        }
    }

    fn assemble(&self, samples: &[u32], index: usize) -> Batch {
        let size = self.split.sample_size();
        let mut x = vec![0f32; samples.len() * size];
        match &self.split.inputs {
            Inputs::Pixels(pixels) => {
                for (dst, &k) in x.chunks_exact_mut(size).zip(samples) {
                    let src = &pixels[k as usize * size..(k as usize + 1) * size];
                    match self.augment {
                        Some((seed, epoch)) => {
                            self.augmented(src, dst, augment_params(seed, epoch, k))
                        }
                        None => self.plain(src, dst),
                    }
                }
            }
            Inputs::Features(features) => {
                for (dst, &k) in x.chunks_exact_mut(size).zip(samples) {
                    let src = &features[k as usize * size..(k as usize + 1) * size];
                    for (((d, &s), &m), &inv) in dst
                        .iter_mut()
                        .zip(src)
                        .zip(&self.feature_mean)
                        .zip(&self.feature_inv_std)
                    {
                        *d = (s - m) * inv;
                    }
                }
            }
        }
        let (y_class, y_value) = match &self.split.targets {
            Targets::Classes(c) => (samples.iter().map(|&k| c[k as usize]).collect(), Vec::new()),
            Targets::Values(v) => (Vec::new(), samples.iter().map(|&k| v[k as usize]).collect()),
        };
        Batch {
            x,
            y_class,
            y_value,
            len: samples.len(),
            whole: samples.len(),
            index,
            samples: samples.to_vec(),
        }
    }

    fn plain(&self, src: &[u8], dst: &mut [f32]) {
        let plane = self.shape[1] * self.shape[2];
        for ((dst, src), table) in dst
            .chunks_exact_mut(plane)
            .zip(src.chunks_exact(plane))
            .zip(&self.pixel_tables)
        {
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = table[s as usize];
            }
        }
    }

    fn augmented(&self, src: &[u8], dst: &mut [f32], params: AugmentParams) {
        let [_, height, width] = self.shape;
        let plane = height * width;
        for ((dst, src), table) in dst
            .chunks_exact_mut(plane)
            .zip(src.chunks_exact(plane))
            .zip(&self.pixel_tables)
        {
            // Padding is black in pixel space, as torchvision's RandomCrop(padding=4) before
            // Normalize.
            let pad = table[0];
            for (y, row) in dst.chunks_exact_mut(width).enumerate() {
                let sy = (y + params.dy).wrapping_sub(AUGMENT_PAD);
                if sy >= height {
                    row.fill(pad);
                    continue;
                }
                let src_row = &src[sy * width..(sy + 1) * width];
                for (x, d) in row.iter_mut().enumerate() {
                    let cx = if params.flip { width - 1 - x } else { x };
                    let sx = (cx + params.dx).wrapping_sub(AUGMENT_PAD);
                    *d = if sx < width {
                        table[src_row[sx] as usize]
                    } else {
                        pad
                    };
                }
            }
        }
    }
}

/// Batches made on a background thread, [`PREFETCH_DEPTH`] ahead of the consumer.
///
/// Dropping it early stops the thread.
pub struct Batches {
    receiver: Option<Receiver<Batch>>,
    worker: Option<JoinHandle<()>>,
    remaining: usize,
}

impl Batches {
    fn spawn(
        assembler: Assembler,
        order: Vec<u32>,
        batch: usize,
        (first, count): (usize, usize),
        shard: Shard,
    ) -> Result<Batches, DataError> {
        let (sender, receiver) = sync_channel(PREFETCH_DEPTH);
        let worker = std::thread::Builder::new()
            .name("etaprobe-batches".into())
            .spawn(move || {
                for index in first..first + count {
                    let end = ((index + 1) * batch).min(order.len());
                    let whole = &order[index * batch..end];
                    let mut made = assembler.assemble(&whole[shard.range(whole.len())], index);
                    made.whole = whole.len();
                    if sender.send(made).is_err() {
                        return; // the consumer went away
                    }
                }
            })
            .map_err(|e| {
                DataError::Invalid(format!("cannot start the batch-loading thread: {e}"))
            })?;
        Ok(Batches {
            receiver: Some(receiver),
            worker: Some(worker),
            remaining: count,
        })
    }

    fn join_worker(&mut self) {
        if let Some(worker) = self.worker.take() {
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
    }
}

impl Iterator for Batches {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        if self.remaining == 0 {
            self.join_worker();
            return None;
        }
        match self.receiver.as_ref().map(Receiver::recv) {
            Some(Ok(batch)) => {
                self.remaining -= 1;
                Some(batch)
            }
            _ => {
                // The thread ended before its last batch: only a panic does that; pass it on.
                self.remaining = 0;
                self.join_worker();
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Batches {}

impl Drop for Batches {
    fn drop(&mut self) {
        // Closing the channel first makes a thread blocked on `send` return.
        drop(self.receiver.take());
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

fn check_batch_size(batch: usize) -> Result<(), DataError> {
    if batch == 0 {
        return Err(DataError::Invalid(
            "the batch size must be at least 1".into(),
        ));
    }
    Ok(())
}

impl Dataset {
    /// Training batches per epoch: `ceil(n / batch)`, or `floor(n / batch)` with `drop_last`.
    pub fn batches_per_epoch(&self, batch: usize, drop_last: bool) -> usize {
        let n = self.train.len();
        match batch {
            0 => 0,
            _ if drop_last => n / batch,
            _ => n.div_ceil(batch),
        }
    }

    /// The training batches of `epoch`, from batch `start_batch` to the end of the epoch,
    /// shuffled by `(seed, epoch)` and prepared on a background thread. Starting at
    /// `start_batch = k` yields exactly the batches `k..` that starting at 0 would.
    ///
    /// `augment` (image data sets only) applies a random crop with zero padding
    /// [`AUGMENT_PAD`] then a horizontal flip, drawn from `(seed, epoch, sample index)`.
    pub fn train_batches(
        &self,
        batch: usize,
        seed: u64,
        epoch: usize,
        start_batch: usize,
        drop_last: bool,
        augment: bool,
    ) -> Result<Batches, DataError> {
        let whole = Shard::WHOLE;
        self.train_shards(batch, seed, epoch, start_batch, drop_last, augment, whole)
    }

    /// [`Dataset::train_batches`], each batch cut to this rank's `shard` (data-parallel
    /// training): only the shard's samples are read and prepared.
    #[allow(clippy::too_many_arguments)]
    pub fn train_shards(
        &self,
        batch: usize,
        seed: u64,
        epoch: usize,
        start_batch: usize,
        drop_last: bool,
        augment: bool,
        shard: Shard,
    ) -> Result<Batches, DataError> {
        let (assembler, order, total) = self.train_plan(batch, seed, epoch, drop_last, augment)?;
        if start_batch > total {
            return Err(DataError::Invalid(format!(
                "cannot start epoch {epoch} at batch {start_batch}: an epoch has {total} batches of \
                 {batch}"
            )));
        }
        let range = (start_batch, total - start_batch);
        Batches::spawn(assembler, order, batch, range, shard)
    }

    /// One training batch, built on the calling thread (random access; same content as the
    /// `index`-th item of [`Dataset::train_batches`] for the same arguments).
    pub fn train_batch(
        &self,
        batch: usize,
        seed: u64,
        epoch: usize,
        index: usize,
        drop_last: bool,
        augment: bool,
    ) -> Result<Batch, DataError> {
        let (assembler, order, total) = self.train_plan(batch, seed, epoch, drop_last, augment)?;
        if index >= total {
            return Err(DataError::Invalid(format!(
                "batch {index} does not exist: an epoch has {total} batches of {batch}"
            )));
        }
        let end = ((index + 1) * batch).min(order.len());
        Ok(assembler.assemble(&order[index * batch..end], index))
    }

    fn train_plan(
        &self,
        batch: usize,
        seed: u64,
        epoch: usize,
        drop_last: bool,
        augment: bool,
    ) -> Result<(Assembler, Vec<u32>, usize), DataError> {
        check_batch_size(batch)?;
        if augment && self.pixel_free() {
            return Err(DataError::Invalid(format!(
                "augmentation crops and flips images; {} has none",
                self.kind.title()
            )));
        }
        let total = self.batches_per_epoch(batch, drop_last);
        if total == 0 {
            return Err(DataError::Invalid(format!(
                "batch size {batch} exceeds the {} training samples and --drop-last drops the \
                 only, partial batch; use a smaller batch size",
                self.train.len()
            )));
        }
        let assembler = Assembler::new(self, Which::Train, augment.then_some((seed, epoch)));
        Ok((assembler, epoch_order(self.train.len(), seed, epoch), total))
    }

    fn pixel_free(&self) -> bool {
        matches!(self.train.inputs, Inputs::Features(_))
    }

    /// The test split in order, unshuffled and unaugmented, last partial batch kept.
    pub fn test_batches(&self, batch: usize) -> Result<Batches, DataError> {
        self.ordered_batches(Which::Test, batch)
    }

    /// A split in order, unshuffled and unaugmented, last partial batch kept (for instance
    /// to evaluate on the training split).
    pub fn ordered_batches(&self, which: Which, batch: usize) -> Result<Batches, DataError> {
        self.spread_batches(which, batch, usize::MAX)
    }

    /// `count` samples evenly spaced over a split (all of them, in order, if it has fewer).
    /// Spaced rather than the first ones: an image folder lists its samples class by class,
    /// so its first 500 test images are all of one class.
    pub fn spread_batches(
        &self,
        which: Which,
        batch: usize,
        count: usize,
    ) -> Result<Batches, DataError> {
        check_batch_size(batch)?;
        let total = self.split(which).len();
        let len = total.min(count);
        let order: Vec<u32> = (0..len).map(|i| (i * total / len) as u32).collect();
        Batches::spawn(
            Assembler::new(self, which, None),
            order,
            batch,
            (0, len.div_ceil(batch)),
            Shard::WHOLE,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pinned values: a change here would make resumed runs of older checkpoints see other
    /// batches than the ones they started with.
    #[test]
    fn shuffle_and_augmentation_are_pinned() {
        assert_eq!(epoch_order(10, 0, 0), PINNED_ORDER);
        let p = augment_params(7, 3, 11);
        assert_eq!((p.dy, p.dx, p.flip), PINNED_AUGMENT);
    }

    const PINNED_ORDER: [u32; 10] = [2, 4, 3, 1, 5, 6, 8, 9, 0, 7];
    const PINNED_AUGMENT: (usize, usize, bool) = (7, 3, false);

    #[test]
    fn errors_can_cross_threads_and_into_anyhow() {
        fn shareable<T: Send + Sync + 'static>() {}
        fn movable<T: Send + 'static>() {}
        shareable::<DataError>();
        shareable::<Dataset>();
        movable::<Batches>();
    }
}
