//! Checkpoints as `.safetensors` files (DESIGN.md §5).
//!
//! Tensors carry PyTorch's names and layouts (conv weight `[out, in, kh, kw]`, linear weight
//! `[out, in]`, `weight` / `bias` / `running_mean` / `running_var`), so that
//! `model.load_state_dict(safetensors.torch.load_file(path))` works on the equivalent PyTorch
//! module. Only F32 tensors are written and accepted.
//!
//! The metadata is a plain string map (the safetensors format allows nothing else); the
//! trainer's own fields are in [`TrainingMeta`], and [`Checkpoint::meta`] /
//! [`Checkpoint::meta_parse`] / [`Checkpoint::meta_json`] read any key with an error that
//! names the file and the key. `format = pt` is added when absent, as PyTorch's
//! `save_file` does, because some loaders check it.
//!
//! Files are written by streaming the header and each tensor into a temporary file next to
//! the target, fsync, rename ([`write_atomic_with`]): an interrupted or failed save leaves
//! the previous checkpoint as it was and no partial file. The data is laid out in the order
//! the tensors were given, and [`load`] returns them in that order.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use md5::Digest;
use safetensors::{Dtype, SafeTensors};
use serde::de::DeserializeOwned;

use super::write_atomic_with;

/// Metadata keys written by [`TrainingMeta::to_metadata`].
/// η to continue with.
pub const META_LR: &str = "lr";
/// Steps completed.
pub const META_STEP: &str = "step";
/// Epochs completed.
pub const META_EPOCH: &str = "epoch";
/// The run's seed.
pub const META_SEED: &str = "seed";
/// The rule's own state, as JSON.
pub const META_SCHEDULE_STATE: &str = "schedule_state";
/// `pt`, as PyTorch's `save_file` writes it (some loaders check it).
pub const META_FORMAT: &str = "format";
/// The MD5 of the tensor data (everything after the header), written by [`save`] and
/// checked by [`load`]: a file damaged on the disk is refused, not trained on.
pub const META_DATA_MD5: &str = "etaprobe.data_md5";

/// The safetensors header length is a u64, but the reference implementation refuses
/// headers over 100 MB; a larger value means this is not a safetensors file.
const MAX_HEADER_LEN: u64 = 100_000_000;

/// Everything that can go wrong with a checkpoint; each message names the file (`path`).
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// There is no file at `path`.
    #[error("checkpoint {}: file not found", path.display())]
    NotFound {
        /// The checkpoint's path.
        path: PathBuf,
    },
    /// Reading or writing failed (`action` says which).
    #[error("checkpoint {}: {action}: {error}", path.display())]
    Io {
        /// The checkpoint's path.
        path: PathBuf,
        /// What was being done: "cannot read", "cannot write".
        action: &'static str,
        /// The operating system's error: in the message, so not also a `source` that
        /// `{:#}` would print a second time.
        error: io::Error,
    },
    /// The file is not in the safetensors format.
    #[error("checkpoint {}: not a safetensors file ({reason})", path.display())]
    NotSafetensors {
        /// The checkpoint's path.
        path: PathBuf,
        /// What does not fit the format.
        reason: String,
    },
    /// The file ends before the data its header describes.
    #[error("checkpoint {}: truncated ({reason})", path.display())]
    Truncated {
        /// The checkpoint's path.
        path: PathBuf,
        /// How much is missing.
        reason: String,
    },
    /// A tensor is not F32.
    #[error("checkpoint {}: tensor {tensor:?} has dtype {dtype}, only F32 is supported", path.display())]
    WrongDtype {
        /// The checkpoint's path.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// Its dtype as the header gives it.
        dtype: String,
    },
    /// A tensor to save or load is inconsistent (name, shape, data length).
    #[error("checkpoint {}: tensor {tensor:?}: {reason}", path.display())]
    BadTensor {
        /// The checkpoint's path.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The tensor data does not have the checksum it was written with.
    #[error("checkpoint {}: damaged: {reason}", path.display())]
    Damaged {
        /// The checkpoint's path.
        path: PathBuf,
        /// The checksums that differ.
        reason: String,
    },
    /// A metadata key the reader needs is absent.
    #[error("checkpoint {}: metadata has no key {key:?}", path.display())]
    MissingKey {
        /// The checkpoint's path.
        path: PathBuf,
        /// The key.
        key: String,
    },
    /// A metadata value does not parse as what its key holds.
    #[error("checkpoint {}: metadata {key:?} = {value:?} is not a valid {expected}: {reason}", path.display())]
    BadValue {
        /// The checkpoint's path.
        path: PathBuf,
        /// The key.
        key: String,
        /// The value found.
        value: String,
        /// What the key holds ("number", "non-negative integer", "JSON").
        expected: &'static str,
        /// The parser's complaint.
        reason: String,
    },
}

/// A result whose error is a [`CheckpointError`].
pub type Result<T, E = CheckpointError> = std::result::Result<T, E>;

/// A loaded checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// Where it was loaded from (for error messages).
    pub path: PathBuf,
    /// (name, shape, data), in the order of their data in the file: the order given to
    /// [`save`] for files written here.
    pub tensors: Vec<(String, Vec<usize>, Vec<f32>)>,
    /// The header's `__metadata__` string map.
    pub metadata: BTreeMap<String, String>,
}

/// The trainer's fields in a checkpoint's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingMeta {
    /// η to continue with (η(t+1) after the last completed step).
    pub lr: f64,
    /// Steps completed.
    pub step: u64,
    /// Epochs completed.
    pub epoch: u64,
    /// The run's seed.
    pub seed: u64,
    /// The schedule's own state (e.g. the previous gradient norm, safeguard counts).
    pub schedule_state: serde_json::Value,
}

impl TrainingMeta {
    /// The metadata map for [`save`]; floats use `{}` so they parse back exactly. Add any
    /// other keys to the returned map.
    pub fn to_metadata(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert(META_LR.into(), self.lr.to_string());
        m.insert(META_STEP.into(), self.step.to_string());
        m.insert(META_EPOCH.into(), self.epoch.to_string());
        m.insert(META_SEED.into(), self.seed.to_string());
        m.insert(META_SCHEDULE_STATE.into(), self.schedule_state.to_string());
        m
    }

    /// Reads the fields back from a metadata map; `path` is for the error messages.
    pub fn from_metadata(path: &Path, metadata: &BTreeMap<String, String>) -> Result<Self> {
        Ok(Self {
            lr: meta_parse(path, metadata, META_LR, "number")?,
            step: meta_parse(path, metadata, META_STEP, "non-negative integer")?,
            epoch: meta_parse(path, metadata, META_EPOCH, "non-negative integer")?,
            seed: meta_parse(path, metadata, META_SEED, "non-negative integer")?,
            schedule_state: meta_json(path, metadata, META_SCHEDULE_STATE)?,
        })
    }
}

impl Checkpoint {
    /// The tensor called `name`, as (shape, data).
    pub fn tensor(&self, name: &str) -> Option<(&[usize], &[f32])> {
        self.tensors
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, s, d)| (s.as_slice(), d.as_slice()))
    }

    /// A metadata value, or [`CheckpointError::MissingKey`].
    pub fn meta(&self, key: &str) -> Result<&str> {
        meta_str(&self.path, &self.metadata, key)
    }

    /// A metadata value parsed with `FromStr` (numbers, booleans).
    pub fn meta_parse<T>(&self, key: &str) -> Result<T>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        meta_parse(&self.path, &self.metadata, key, std::any::type_name::<T>())
    }

    /// A metadata value holding JSON (e.g. the schedule state).
    pub fn meta_json<T: DeserializeOwned>(&self, key: &str) -> Result<T> {
        meta_json(&self.path, &self.metadata, key)
    }

    /// η to continue with ([`META_LR`]).
    pub fn lr(&self) -> Result<f64> {
        meta_parse(&self.path, &self.metadata, META_LR, "number")
    }

    /// Steps completed ([`META_STEP`]).
    pub fn step(&self) -> Result<u64> {
        meta_parse(
            &self.path,
            &self.metadata,
            META_STEP,
            "non-negative integer",
        )
    }

    /// Epochs completed ([`META_EPOCH`]).
    pub fn epoch(&self) -> Result<u64> {
        meta_parse(
            &self.path,
            &self.metadata,
            META_EPOCH,
            "non-negative integer",
        )
    }

    /// The run's seed ([`META_SEED`]).
    pub fn seed(&self) -> Result<u64> {
        meta_parse(
            &self.path,
            &self.metadata,
            META_SEED,
            "non-negative integer",
        )
    }

    /// The rule's own state ([`META_SCHEDULE_STATE`]).
    pub fn schedule_state(&self) -> Result<serde_json::Value> {
        meta_json(&self.path, &self.metadata, META_SCHEDULE_STATE)
    }

    /// All the trainer's fields at once.
    pub fn training_meta(&self) -> Result<TrainingMeta> {
        TrainingMeta::from_metadata(&self.path, &self.metadata)
    }
}

/// A metadata value or [`CheckpointError::MissingKey`].
pub fn meta_str<'a>(
    path: &Path,
    metadata: &'a BTreeMap<String, String>,
    key: &str,
) -> Result<&'a str> {
    metadata
        .get(key)
        .map(String::as_str)
        .ok_or_else(|| CheckpointError::MissingKey {
            path: path.to_path_buf(),
            key: key.to_string(),
        })
}

/// A metadata value parsed with `FromStr`; `expected` names the type in the error.
pub fn meta_parse<T>(
    path: &Path,
    metadata: &BTreeMap<String, String>,
    key: &str,
    expected: &'static str,
) -> Result<T>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let value = meta_str(path, metadata, key)?;
    value
        .trim()
        .parse()
        .map_err(|e: T::Err| CheckpointError::BadValue {
            path: path.to_path_buf(),
            key: key.to_string(),
            value: value.to_string(),
            expected,
            reason: e.to_string(),
        })
}

/// A metadata value holding JSON.
pub fn meta_json<T: DeserializeOwned>(
    path: &Path,
    metadata: &BTreeMap<String, String>,
    key: &str,
) -> Result<T> {
    let value = meta_str(path, metadata, key)?;
    serde_json::from_str(value).map_err(|e| CheckpointError::BadValue {
        path: path.to_path_buf(),
        key: key.to_string(),
        value: value.to_string(),
        expected: "JSON value",
        reason: e.to_string(),
    })
}

/// Writes a checkpoint atomically. `tensors` are (PyTorch name, shape, data); the data
/// must have as many elements as the shape says, and names must be unique. On error the
/// file at `path` is as it was before (or still absent) and no temporary file remains.
/// Returns the MD5 of the tensor data (also stored under [`META_DATA_MD5`]).
pub fn save(
    path: impl AsRef<Path>,
    tensors: &[(String, Vec<usize>, &[f32])],
    metadata: BTreeMap<String, String>,
) -> Result<String> {
    let path = path.as_ref();
    let mut metadata = metadata;
    let md5 = data_md5(tensors);
    metadata.insert(META_DATA_MD5.to_string(), md5.clone());
    let header = build_header(path, tensors, metadata)?;
    write_atomic_with(path, |w| {
        w.write_all(&(header.len() as u64).to_le_bytes())?;
        w.write_all(&header)?;
        for (_, _, data) in tensors {
            write_f32_le(w, data)?;
        }
        Ok(())
    })
    .map_err(|source| io_err(path, source, "cannot write"))?;
    Ok(md5)
}

/// The JSON header, space-padded to a multiple of 8 bytes as the reference writer does
/// (keeps the data 8-byte aligned for memory-mapping readers).
fn build_header(
    path: &Path,
    tensors: &[(String, Vec<usize>, &[f32])],
    mut metadata: BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    let bad = |tensor: &str, reason: String| CheckpointError::BadTensor {
        path: path.to_path_buf(),
        tensor: tensor.to_string(),
        reason,
    };
    metadata
        .entry(META_FORMAT.to_string())
        .or_insert_with(|| "pt".to_string());
    let mut header = serde_json::Map::new();
    header.insert(
        "__metadata__".into(),
        serde_json::to_value(&metadata).expect("string map"),
    );
    let mut seen = BTreeSet::new();
    let mut offset = 0usize;
    for (name, shape, data) in tensors {
        if name.is_empty() || name == "__metadata__" {
            return Err(bad(name, "reserved or empty tensor name".into()));
        }
        if !seen.insert(name.as_str()) {
            return Err(bad(name, "name given twice".into()));
        }
        let numel = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| bad(name, format!("shape {shape:?} overflows")))?;
        if numel != data.len() {
            return Err(bad(
                name,
                format!(
                    "shape {shape:?} has {numel} elements but the data has {}",
                    data.len()
                ),
            ));
        }
        let end = offset + 4 * numel;
        header.insert(
            name.clone(),
            serde_json::json!({ "dtype": "F32", "shape": shape, "data_offsets": [offset, end] }),
        );
        offset = end;
    }
    let mut bytes = serde_json::to_vec(&header).expect("JSON of strings and numbers");
    bytes.resize(bytes.len().next_multiple_of(8), b' ');
    Ok(bytes)
}

/// The MD5 of the tensors' data as [`save`] lays it out, in hex (what it stores under
/// [`META_DATA_MD5`]).
pub fn data_md5(tensors: &[(String, Vec<usize>, &[f32])]) -> String {
    let mut digest = md5::Md5::new();
    for (_, _, data) in tensors {
        update_f32_le(&mut digest, data);
    }
    hex(&digest.finalize())
}

/// Feeds `data` to `digest` as the little-endian bytes a checkpoint stores.
pub fn update_f32_le(digest: &mut md5::Md5, data: &[f32]) {
    write_f32_le(&mut DigestWriter(digest), data).expect("hashing cannot fail");
}

/// Bytes as lowercase hexadecimal digits.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Feeds written bytes to a digest.
struct DigestWriter<'a>(&'a mut md5::Md5);

impl Write for DigestWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        md5::Digest::update(self.0, buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn write_f32_le(w: &mut dyn Write, data: &[f32]) -> io::Result<()> {
    #[cfg(target_endian = "little")]
    {
        w.write_all(bytemuck::cast_slice(data))
    }
    #[cfg(not(target_endian = "little"))]
    {
        for chunk in data.chunks(16 * 1024) {
            let bytes: Vec<u8> = chunk.iter().flat_map(|x| x.to_le_bytes()).collect();
            w.write_all(&bytes)?;
        }
        Ok(())
    }
}

fn io_err(path: &Path, source: io::Error, action: &'static str) -> CheckpointError {
    if source.kind() == io::ErrorKind::NotFound && action == "cannot read" {
        CheckpointError::NotFound {
            path: path.to_path_buf(),
        }
    } else {
        CheckpointError::Io {
            path: path.to_path_buf(),
            action,
            error: source,
        }
    }
}

/// Loads a checkpoint: every tensor must be F32.
pub fn load(path: impl AsRef<Path>) -> Result<Checkpoint> {
    let path = path.as_ref();
    let bytes = super::read_regular(path).map_err(|e| io_err(path, e, "cannot read"))?;
    load_bytes(path, &bytes)
}

/// Parses the bytes of a checkpoint file; `path` only names it in errors (and in the
/// returned checkpoint). Tensor data with an MD5 in the metadata must match it.
pub fn load_bytes(path: &Path, bytes: &[u8]) -> Result<Checkpoint> {
    let header = parse_header(path, bytes, bytes.len() as u64)?;
    if let Some(want) = header.metadata.get(META_DATA_MD5) {
        let got = hex(&md5::Md5::digest(&bytes[header.data_start..]));
        if &got != want {
            return Err(CheckpointError::Damaged {
                path: path.to_path_buf(),
                reason: format!("its tensor data has MD5 {got}, it was written with {want}"),
            });
        }
    }
    let st = SafeTensors::deserialize(bytes).map_err(|e| CheckpointError::NotSafetensors {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut tensors = Vec::with_capacity(header.tensors.len());
    for (name, _) in &header.tensors {
        let view = st.tensor(name).map_err(|e| CheckpointError::BadTensor {
            path: path.to_path_buf(),
            tensor: name.clone(),
            reason: e.to_string(),
        })?;
        if view.dtype() != Dtype::F32 {
            return Err(CheckpointError::WrongDtype {
                path: path.to_path_buf(),
                tensor: name.clone(),
                dtype: format!("{:?}", view.dtype()),
            });
        }
        let data = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        tensors.push((name.clone(), view.shape().to_vec(), data));
    }
    Ok(Checkpoint {
        path: path.to_path_buf(),
        tensors,
        metadata: header.metadata,
    })
}

/// Reads only the header's metadata (for `--lr-from`: η without loading the weights).
pub fn load_metadata(path: impl AsRef<Path>) -> Result<BTreeMap<String, String>> {
    let path = path.as_ref();
    let mut file = super::open_regular(path).map_err(|e| io_err(path, e, "cannot read"))?;
    let file_len = file
        .metadata()
        .map_err(|e| io_err(path, e, "cannot read"))?
        .len();
    let mut len_bytes = [0u8; 8];
    let n = read_up_to(&mut file, &mut len_bytes).map_err(|e| io_err(path, e, "cannot read"))?;
    let header_len = check_header_len(path, &len_bytes[..n], file_len)?;
    let mut buf = vec![0u8; 8 + header_len as usize];
    buf[..8].copy_from_slice(&len_bytes);
    file.read_exact(&mut buf[8..])
        .map_err(|e| io_err(path, e, "cannot read"))?;
    Ok(parse_header(path, &buf, file_len)?.metadata)
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

struct Header {
    /// (name, dtype) ordered by data offset.
    tensors: Vec<(String, String)>,
    metadata: BTreeMap<String, String>,
    /// Where the tensor data begins: after the length prefix and the header.
    data_start: usize,
}

fn check_header_len(path: &Path, first: &[u8], file_len: u64) -> Result<u64> {
    let not_st = |reason: String| CheckpointError::NotSafetensors {
        path: path.to_path_buf(),
        reason,
    };
    let Ok(first8) = <[u8; 8]>::try_from(first) else {
        return Err(not_st(format!(
            "{file_len} bytes, shorter than the 8-byte header length"
        )));
    };
    let n = u64::from_le_bytes(first8);
    if n == 0 || n > MAX_HEADER_LEN {
        return Err(not_st(format!("implausible header length {n}")));
    }
    if 8 + n > file_len {
        return Err(CheckpointError::Truncated {
            path: path.to_path_buf(),
            reason: format!("the header needs {} bytes, the file has {file_len}", 8 + n),
        });
    }
    Ok(n)
}

/// Checks the header by hand before handing the file to the safetensors crate, so that
/// the common failures get a precise message: not a safetensors file, truncated, wrong
/// dtype. `bytes` holds at least the length prefix and the header; `file_len` is the size
/// of the whole file.
fn parse_header(path: &Path, bytes: &[u8], file_len: u64) -> Result<Header> {
    let not_st = |reason: String| CheckpointError::NotSafetensors {
        path: path.to_path_buf(),
        reason,
    };
    let n = check_header_len(path, &bytes[..bytes.len().min(8)], file_len)?;
    let text = std::str::from_utf8(&bytes[8..8 + n as usize])
        .map_err(|_| not_st("the header is not UTF-8".into()))?;
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| not_st(format!("the header is not JSON: {e}")))?;
    let serde_json::Value::Object(map) = json else {
        return Err(not_st("the header is not a JSON object".into()));
    };
    let mut metadata = BTreeMap::new();
    let mut tensors = Vec::new();
    let mut data_end = 0u64;
    for (key, value) in map {
        if key == "__metadata__" {
            metadata = serde_json::from_value(value)
                .map_err(|e| not_st(format!("__metadata__ is not a map of strings: {e}")))?;
            continue;
        }
        let info = value
            .as_object()
            .ok_or_else(|| not_st(format!("entry {key:?} is not an object")))?;
        let dtype = info
            .get("dtype")
            .and_then(|d| d.as_str())
            .ok_or_else(|| not_st(format!("tensor {key:?} has no dtype")))?
            .to_string();
        let offsets: Vec<u64> = info
            .get("data_offsets")
            .and_then(|o| serde_json::from_value(o.clone()).ok())
            .filter(|o: &Vec<u64>| o.len() == 2)
            .ok_or_else(|| not_st(format!("tensor {key:?} has no valid data_offsets")))?;
        data_end = data_end.max(offsets[1]);
        tensors.push((offsets[0], key, dtype));
    }
    // Dtype before size: a file of another dtype is refused for that reason even if it is
    // also damaged.
    tensors.sort();
    if let Some((_, name, dtype)) = tensors.iter().find(|(_, _, d)| d != "F32") {
        return Err(CheckpointError::WrongDtype {
            path: path.to_path_buf(),
            tensor: name.clone(),
            dtype: dtype.clone(),
        });
    }
    // Saturating: a crafted data_offsets near u64::MAX must read as "too large", not wrap.
    let needed = (8 + n).saturating_add(data_end);
    if needed > file_len {
        return Err(CheckpointError::Truncated {
            path: path.to_path_buf(),
            reason: format!("the header describes {needed} bytes, the file has {file_len}"),
        });
    }
    if needed < file_len {
        return Err(not_st(format!(
            "{} bytes after the last tensor",
            file_len - needed
        )));
    }
    Ok(Header {
        tensors: tensors.into_iter().map(|(_, n, d)| (n, d)).collect(),
        metadata,
        data_start: 8 + n as usize,
    })
}
