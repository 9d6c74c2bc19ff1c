//! One image file's bytes through the image-folder reader's path: the header is read and
//! checked, then the pixels are decoded into a buffer of the size the header declared.
#![no_main]

use etaprobe::data::image_folder::{decode_image, probe_image, ImageFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("fuzz.png");
    let Ok(header) = probe_image(path, data) else {
        return;
    };
    let format = ImageFormat {
        shape: [
            header.channels,
            header.height as usize,
            header.width as usize,
        ],
        first: path,
    };
    let mut pixels = vec![0u8; format.shape.iter().product()];
    let _ = decode_image(path, data, &format, &mut pixels);
});
