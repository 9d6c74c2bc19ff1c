//! Every shader the ops compile (`shaders/prelude.wgsl`, any shared parts, then the op's
//! file) parses and validates with naga, and every WGSL file in shaders/ is part of one.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use etaprobe::ops::SHADERS;

#[test]
fn every_shader_validates() {
    let mut count = 0;
    for shader in SHADERS {
        let (module, _) = shader.validate().unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !module.entry_points.is_empty(),
            "{} has no entry point",
            shader.name
        );
        for (part, text) in shader.parts {
            // A part without a final newline would run into the next one.
            assert!(
                text.ends_with('\n'),
                "shaders/{part}.wgsl lacks a final newline"
            );
        }
        count += 1;
    }
    assert!(count >= 8, "expected every op's shader, found {count}");
}

#[test]
fn every_wgsl_file_is_compiled() {
    let used: BTreeSet<&str> = SHADERS
        .iter()
        .flat_map(|s| s.parts.iter().map(|(name, _)| *name))
        .collect();
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/shaders"));
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "wgsl") {
                let name = path.strip_prefix(root).unwrap().with_extension("");
                let name = name.to_str().unwrap().replace('\\', "/");
                assert!(
                    used.contains(name.as_str()),
                    "{} is in no shader of etaprobe::ops::SHADERS",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn errors_name_the_file_and_line() {
    // A shader's line numbers count the prelude and shared parts first.
    let shader = SHADERS
        .iter()
        .find(|s| s.name == "conv/direct3x3_grad")
        .unwrap();
    let prelude = shader.parts[0].1.lines().count();
    let window = shader.parts[1].1.lines().count();
    assert_eq!(shader.locate(1), ("prelude", 1));
    assert_eq!(shader.locate(prelude + 2), ("conv/direct3x3_window", 2));
    assert_eq!(
        shader.locate(prelude + window + 3),
        ("conv/direct3x3_grad", 3)
    );
}
