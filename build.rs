//! Records the git commit the program is built from (`ETAPROBE_GIT_COMMIT`, "unknown"
//! outside a git checkout), so that every run.json names the code that wrote it.

use std::process::Command;

fn main() {
    for path in [
        ".git/HEAD",
        ".git/refs/heads",
        ".git/packed-refs",
        "src",
        "shaders",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(commit) => {
            // Sources changed since the commit: say so, the commit alone is not the code.
            let dirty = git(&[
                "status",
                "--porcelain",
                "--",
                "src",
                "shaders",
                "Cargo.toml",
            ])
            .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{commit}-modified")
            } else {
                commit
            }
        }
        None => "unknown".to_string(),
    };
    println!("cargo:rustc-env=ETAPROBE_GIT_COMMIT={commit}");
}
