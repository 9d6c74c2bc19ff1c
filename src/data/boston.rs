//! Boston Housing as CSV: a header row naming the 13 features and the target `medv`.

use std::path::Path;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{mix_seed, DataError};

/// Feature columns, in the order they appear in each output row.
pub const BOSTON_FEATURES: [&str; 13] = [
    "crim", "zn", "indus", "chas", "nox", "rm", "age", "dis", "rad", "tax", "ptratio", "b", "lstat",
];
/// Target column (median home value in $1000s).
pub const BOSTON_TARGET: &str = "medv";

const SPLIT_STREAM: u64 = 0x5b17_b057_0000_0001;

/// Raw (unstandardised) rows of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct BostonTable {
    /// Row-major `[rows, 13]`, columns in [`BOSTON_FEATURES`] order.
    pub features: Vec<f32>,
    /// `[rows]` values of the target [`BOSTON_TARGET`] (`medv`), one per row of `features`.
    pub targets: Vec<f32>,
}

impl BostonTable {
    /// Number of data rows (samples).
    pub fn rows(&self) -> usize {
        self.targets.len()
    }
}

/// The largest CSV read: 64 MiB, a thousand times the published file.
pub const MAX_CSV_BYTES: u64 = 64 << 20;

/// Reads the CSV. Columns are found by header name (case-insensitive, any order); extra
/// columns such as a leading row index are ignored. The file's size is checked before it
/// is read.
pub fn read_boston_csv(path: &Path) -> Result<BostonTable, DataError> {
    let len = std::fs::metadata(path)
        .map_err(|e| DataError::io(path, e))?
        .len();
    check_size(path, len)?;
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    parse_boston_csv(path, &bytes)
}

fn check_size(path: &Path, len: u64) -> Result<(), DataError> {
    if len > MAX_CSV_BYTES {
        return Err(DataError::malformed(
            path,
            format!(
                "{len} bytes, more than the {} MiB a Boston Housing CSV may have here (the \
                 published file has 35 kB); is this the right file?",
                MAX_CSV_BYTES >> 20
            ),
        ));
    }
    Ok(())
}

/// Parses the bytes of a Boston Housing CSV; `path` only names the file in errors.
pub fn parse_boston_csv(path: &Path, bytes: &[u8]) -> Result<BostonTable, DataError> {
    check_size(path, bytes.len() as u64)?;
    let text = std::str::from_utf8(bytes)
        .map_err(|_| DataError::malformed(path, "not UTF-8 text, so not a CSV file"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // The csv crate splits the cells (quoted ones included) and skips blank lines; the
    // columns are then found by name, case-insensitively.
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let csv_error = |e: csv::Error| match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => DataError::malformed(
            path,
            format!(
                "line {}: {len} cells, but the header has {expected_len} columns",
                pos.as_ref().map_or(0, |p| p.line())
            ),
        ),
        _ => DataError::malformed(path, format!("not a readable CSV file: {e}")),
    };
    let header: Vec<String> = reader
        .headers()
        .map_err(csv_error)?
        .iter()
        // A name quoted inside spaces (` "crim" `) keeps its quotes past the csv reader.
        .map(|cell| cell.trim_matches('"').trim().to_ascii_lowercase())
        .collect();
    if header.iter().all(|h| h.is_empty()) {
        return Err(DataError::malformed(
            path,
            "empty file (expected a header row `crim,zn,...,lstat,medv` and 506 data rows)",
        ));
    }
    let column_of = |name: &str| -> Result<usize, DataError> {
        // Two columns of one name: which one holds the data cannot be told.
        if header.iter().filter(|h| *h == name).count() > 1 {
            return Err(DataError::malformed(
                path,
                format!("the header row names column `{name}` twice"),
            ));
        }
        header.iter().position(|h| h == name).ok_or_else(|| {
            // One column holding the names with another separator between them.
            let separator = match &header[..] {
                [one] if one.contains(';') => "; the file is separated by semicolons",
                [one] if one.contains('\t') => "; the file is separated by tabs",
                [one] if one.trim().contains(' ') => "; the file is separated by spaces",
                _ => "",
            };
            DataError::malformed(
                path,
                format!(
                    "missing column `{name}` in the header row (found: {}; expected the 13 \
                     features {} and the target {BOSTON_TARGET}){separator}{}",
                    header.join(","),
                    BOSTON_FEATURES.join(","),
                    match separator {
                        "" => "",
                        _ => ", but it is read as comma-separated values",
                    }
                ),
            )
        })
    };
    let feature_columns = BOSTON_FEATURES
        .iter()
        .map(|name| column_of(name))
        .collect::<Result<Vec<_>, _>>()?;
    let target_column = column_of(BOSTON_TARGET)?;

    let mut table = BostonTable {
        features: Vec::with_capacity(506 * BOSTON_FEATURES.len()),
        targets: Vec::with_capacity(506),
    };
    for record in reader.records() {
        let cells = record.map_err(csv_error)?;
        let line_number = cells.position().map_or(0, |p| p.line());
        let number = |column: usize| -> Result<f32, DataError> {
            let cell = &cells[column];
            // A finite f64 beyond f32's range would become an infinite feature and show up
            // only later, as a diverged run.
            match cell.parse::<f64>() {
                Ok(v) if v.is_finite() && (v as f32).is_finite() => Ok(v as f32),
                Ok(v) if v.is_finite() => Err(DataError::malformed(
                    path,
                    format!(
                        "line {line_number}, column `{}`: `{cell}` is beyond the range of a \
                         32-bit float (±3.4e38)",
                        header[column]
                    ),
                )),
                _ => Err(DataError::malformed(
                    path,
                    format!(
                        "line {line_number}, column `{}`: `{cell}` is not a finite number",
                        header[column]
                    ),
                )),
            }
        };
        for &column in &feature_columns {
            table.features.push(number(column)?);
        }
        table.targets.push(number(target_column)?);
    }
    if table.rows() < 2 {
        return Err(DataError::malformed(
            path,
            format!(
                "{} data rows; at least 2 are needed for a train/test split",
                table.rows()
            ),
        ));
    }
    Ok(table)
}

/// Number of test rows for a table of `rows` rows: `ceil(rows * test_fraction)`, kept within
/// `1..rows` (506 rows at 0.2 gives 404/102, as scikit-learn's `train_test_split`).
pub fn test_rows(rows: usize, test_fraction: f64) -> usize {
    let n = (rows as f64 * test_fraction - 1e-9).ceil().max(0.0) as usize;
    n.clamp(1, rows.saturating_sub(1).max(1))
}

/// Seeded split of `0..rows` into (train, test) row indices; both keep a random order.
pub fn split_rows(rows: usize, test_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..rows).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(mix_seed(seed, SPLIT_STREAM));
    for i in (1..rows).rev() {
        let j = bounded(rng.next_u64(), i + 1);
        order.swap(i, j);
    }
    let test = order.split_off(rows - test_rows(rows, test_fraction));
    (order, test)
}

/// Maps a uniform 64-bit value onto `0..n` (multiply-shift; the bias is below 2^-40 here).
pub(crate) fn bounded(random: u64, n: usize) -> usize {
    ((random as u128 * n as u128) >> 64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_split_is_404_102() {
        assert_eq!(test_rows(506, 0.2), 102);
        let (train, test) = split_rows(506, 0.2, 1);
        assert_eq!((train.len(), test.len()), (404, 102));
        let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..506).collect::<Vec<_>>());
    }

    #[test]
    fn quoted_cells_an_index_column_and_a_note_with_a_comma() {
        let names: Vec<String> = BOSTON_FEATURES
            .iter()
            .chain([&BOSTON_TARGET])
            .map(|n| format!(" \"{}\" ", n.to_uppercase()))
            .collect();
        let row = |i: usize| {
            let values: Vec<String> = (0..14).map(|c| format!("{}", i * 100 + c)).collect();
            format!("\"{i}\",{},\"a note, with a comma\"\n", values.join(","))
        };
        let text = format!("\"\",{},note\n{}\n{}", names.join(","), row(1), row(2));
        let table = parse_boston_csv(Path::new("t.csv"), text.as_bytes()).unwrap();
        assert_eq!(table.rows(), 2);
        assert_eq!(table.features[..2], [100.0, 101.0]);
        assert_eq!(table.targets, [113.0, 213.0]);
    }
}
