//! What the integration tests share: running the built binary and reading its
//! output. Each test file uses part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// The built `payer-rules`, run from the crate's directory.
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_payer-rules"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// Runs `payer-rules ARGS` to the end.
pub fn run(args: &[&str]) -> Output {
    bin()
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run payer-rules: {e}"))
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Standard output as JSON Lines.
pub fn lines_json(out: &Output) -> Vec<serde_json::Value> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

/// A fresh, empty directory for one test of one test file (`suite`).
pub fn temp_dir(suite: &str, test: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("payer-rules-{suite}-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}
