//! A checkpoint file's bytes through the header checks and the safetensors parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ =
        etaprobe::rundir::checkpoint::load_bytes(std::path::Path::new("fuzz.safetensors"), data);
});
