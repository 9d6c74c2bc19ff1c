//! A Boston Housing CSV's bytes through the reader.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = etaprobe::data::boston::parse_boston_csv(std::path::Path::new("fuzz.csv"), data);
});
