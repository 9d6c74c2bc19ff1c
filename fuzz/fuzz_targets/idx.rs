//! An IDX file's bytes, raw or gzip, through the reader's header checks and bounded
//! decompression.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = etaprobe::data::idx::parse_idx(std::path::Path::new("fuzz.idx"), data);
});
