//! clap value parsers for the options' domains, so that the command line refuses a bad
//! value as it parses it, naming the flag (`invalid value '-1' for '--lr <F>': …`, exit 2).
//! [`crate::train::TrainConfig`]'s own checks stay: a configuration built through the
//! library or read from `--config` never passes through clap.

/// The most epochs a run may ask for. Far beyond any real run, and small enough that
/// epochs × steps per epoch cannot overflow for any data set that fits in memory (below
/// 1.8·10^11 steps an epoch).
pub const MAX_EPOCHS: usize = 100_000_000;

/// The largest `--batch-size`: 2^24 samples, far beyond what any adapter's buffers hold for
/// these models, and small enough that no size computed from it overflows.
pub const MAX_BATCH_SIZE: usize = 1 << 24;

/// A count of at least 1 (batch size, steps, intervals).
pub fn at_least_one(s: &str) -> Result<usize, String> {
    let n: usize = s
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number"))?;
    if n == 0 {
        return Err("must be at least 1".into());
    }
    Ok(n)
}

/// A whole number, 0 included (a warmup's steps or epochs).
pub fn whole(s: &str) -> Result<usize, String> {
    s.parse()
        .map_err(|_| format!("{s:?} is not a whole number (0, 1, 2, …)"))
}

/// A batch size: at least 1, at most [`MAX_BATCH_SIZE`].
pub fn batch_size(s: &str) -> Result<usize, String> {
    let n = at_least_one(s)?;
    if n > MAX_BATCH_SIZE {
        return Err(format!(
            "more than {MAX_BATCH_SIZE}: no adapter's buffers hold the activations of such a batch"
        ));
    }
    Ok(n)
}

/// The most steps or rounds a benchmark may time: far beyond what a ratio needs, and short
/// of a benchmark that would run for days.
pub const MAX_BENCH_COUNT: usize = 100_000;

/// A benchmark's steps or rounds: at least 1, at most [`MAX_BENCH_COUNT`].
pub fn bench_count(s: &str) -> Result<usize, String> {
    let n = at_least_one(s)?;
    if n > MAX_BENCH_COUNT {
        return Err(format!(
            "more than {MAX_BENCH_COUNT}: a few rounds of tens of steps give stable medians"
        ));
    }
    Ok(n)
}

/// A number of epochs: at least 1, at most [`MAX_EPOCHS`].
pub fn epochs(s: &str) -> Result<usize, String> {
    let n = at_least_one(s)?;
    if n > MAX_EPOCHS {
        return Err(format!(
            "more than {MAX_EPOCHS}; to stop after a number of steps instead, give --max-steps"
        ));
    }
    Ok(n)
}

/// A finite number.
pub fn finite(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !v.is_finite() {
        return Err("must be finite".into());
    }
    Ok(v)
}

/// A finite, non-negative number (a rate, a coefficient, an ε).
pub fn non_negative(s: &str) -> Result<f64, String> {
    let v = finite(s)?;
    if v < 0.0 {
        return Err("must be a finite non-negative number".into());
    }
    Ok(v)
}

/// A learning rate, a bound or a factor on one (`--lr`, `--lr-min`, `--prodigy-lr`): finite,
/// non-negative, and finite as an f32 ([`fits_f32`]).
pub fn rate(s: &str) -> Result<f64, String> {
    within_f32(non_negative(s)?)
}

/// A non-negative factor that reaches the GPU as an f32 (`--average-gamma`): finite there,
/// and 0 or at least f32's smallest normal number.
pub fn f32_factor(s: &str) -> Result<f64, String> {
    within_f32(non_negative(s)?)
}

/// A positive learning rate bound (`--lr-max`).
pub fn positive_rate(s: &str) -> Result<f64, String> {
    within_f32(positive(s)?)
}

/// Whether `v` stays finite as an f32, as η does on its way to the GPU. The test is the
/// conversion itself, not a comparison with `f32::MAX`: a value written back in its
/// shortest f32 form (config.toml) may lie a little above it and still convert to it.
pub fn fits_f32(v: f64) -> bool {
    (v as f32).is_finite()
}

fn within_f32(v: f64) -> Result<f64, String> {
    // Below f32's smallest normal number a rate reaches the GPU as 0 (or a subnormal that
    // many GPUs flush to 0), while the records would show the value given.
    if v != 0.0 && v.abs() < f32::MIN_POSITIVE as f64 {
        return Err(format!(
            "{v:e} is below {:e}, the smallest normal f32: the GPU would use 0",
            f32::MIN_POSITIVE
        ));
    }
    if !fits_f32(v) {
        return Err(format!(
            "too large for an f32 (at most {:e}): it reaches the GPU as one",
            f32::MAX
        ));
    }
    Ok(v)
}

/// A fraction strictly between 0 and 1 (a split).
pub fn open_fraction(s: &str) -> Result<f64, String> {
    let v = finite(s)?;
    if !(v > 0.0 && v < 1.0) {
        return Err("must lie strictly between 0 and 1".into());
    }
    Ok(v)
}

/// A finite number above 0 (a factor, an initial distance, a bound).
pub fn positive(s: &str) -> Result<f64, String> {
    let v = finite(s)?;
    if v <= 0.0 {
        return Err("must be a finite positive number".into());
    }
    Ok(v)
}

/// A coefficient in [0, 1) (a momentum, an averaging factor).
pub fn below_one(s: &str) -> Result<f64, String> {
    let v = finite(s)?;
    if !(0.0..1.0).contains(&v) {
        return Err("must be in [0, 1)".into());
    }
    Ok(v)
}

/// A number in (0, 1].
pub fn up_to_one(s: &str) -> Result<f64, String> {
    let v = finite(s)?;
    if !(v > 0.0 && v <= 1.0) {
        return Err("must be in (0, 1]".into());
    }
    Ok(v)
}

/// A number in [0, 1].
pub fn unit(s: &str) -> Result<f64, String> {
    let v = finite(s)?;
    if !(0.0..=1.0).contains(&v) {
        return Err("must be in [0, 1]".into());
    }
    Ok(v)
}

/// A growth factor: at least 1, `inf` for unbounded.
pub fn growth(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if v.is_nan() || v < 1.0 {
        return Err("must be ≥ 1 (inf: unbounded)".into());
    }
    Ok(v)
}

/// A finite number of at least 1.
pub fn at_least_one_f(s: &str) -> Result<f64, String> {
    let v = finite(s)?;
    if v < 1.0 {
        return Err("must be a finite number ≥ 1".into());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        assert_eq!(at_least_one("3"), Ok(3));
        assert!(at_least_one("0").unwrap_err().contains("at least 1"));
        assert!(at_least_one("-2").is_err());
        assert!(epochs(&(MAX_EPOCHS + 1).to_string()).is_err());
        assert_eq!(non_negative("0"), Ok(0.0));
        assert!(non_negative("-1").unwrap_err().contains("non-negative"));
        assert!(non_negative("inf").is_err() && non_negative("NaN").is_err());
        assert!(finite("-1").is_ok() && finite("x").is_err());
        // η as the GPU takes it: the largest f32, also in the shortest form config.toml
        // writes it back in (a little above f32::MAX as an f64), is a rate; beyond, not.
        assert_eq!(rate("0"), Ok(0.0));
        assert!(rate(&(f32::MAX as f64).to_string()).is_ok());
        assert!(rate("3.4028235e38").is_ok() && positive_rate("3.4028235e38").is_ok());
        assert!(rate("3.41e38")
            .unwrap_err()
            .contains("too large for an f32"));
        assert!(positive_rate("0").is_err());
        assert!(open_fraction("0.1").is_ok());
        assert!(open_fraction("1").is_err() && open_fraction("0").is_err());
        assert!(positive("0").is_err() && positive("1e-9").is_ok());
        assert!(below_one("1").is_err() && below_one("0").is_ok());
        assert!(up_to_one("1").is_ok() && up_to_one("0").is_err());
        assert!(unit("0").is_ok() && unit("1").is_ok() && unit("1.1").is_err());
        assert!(growth("inf").is_ok() && growth("0.5").is_err() && growth("NaN").is_err());
        assert!(at_least_one_f("1").is_ok() && at_least_one_f("inf").is_err());
    }
}

/// A path, refused unless it is UTF-8: a run records its paths as text (`config.toml`,
/// `run.json`), and a sweep passes each cell's on a command line. One that is not would
/// be written over with U+FFFD (or not at all), and the run or cell would land elsewhere.
/// An empty path is refused too: it would mean the current folder.
#[derive(Clone, Copy, Debug)]
pub struct Utf8Path;

impl clap::builder::TypedValueParser for Utf8Path {
    type Value = std::path::PathBuf;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<std::path::PathBuf, clap::Error> {
        match value.to_str() {
            // An empty path (an unset variable, `--out "$OUT"`) would mean the current
            // folder, and scatter the files there.
            Some("") => {
                let flag = arg.map_or_else(|| "a path".to_string(), |a| a.to_string());
                let message = format!(
                    "an empty path was given for {flag}: give a path (`.` for the current \
                     folder)\n"
                );
                Err(clap::Error::raw(clap::error::ErrorKind::InvalidValue, message).with_cmd(cmd))
            }
            Some(text) => Ok(text.into()),
            None => {
                let flag = arg.map_or_else(|| "a path".to_string(), |a| a.to_string());
                let message = format!(
                    "the path {} given for {flag} is not valid UTF-8: etaprobe records the \
                     paths it is given as text; give a path that is\n",
                    std::path::Path::new(value).display()
                );
                Err(clap::Error::raw(clap::error::ErrorKind::InvalidUtf8, message).with_cmd(cmd))
            }
        }
    }
}
