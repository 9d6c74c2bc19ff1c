//! A CIFAR binary batch's bytes, read as CIFAR-10 and as CIFAR-100 (fine and coarse).
#![no_main]

use etaprobe::data::cifar::{parse_cifar_bin, CifarLabels, CifarRecords};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for labels in [CifarLabels::Ten, CifarLabels::Fine, CifarLabels::Coarse] {
        let mut records = CifarRecords::default();
        let path = std::path::Path::new("fuzz.bin");
        if parse_cifar_bin(path, data, labels, &mut records).is_ok() {
            assert_eq!(records.pixels.len(), records.len() * 3072);
        }
    }
});
