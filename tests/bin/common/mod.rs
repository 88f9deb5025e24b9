//! What the integration tests share: running the built binary and reading its
//! output. Each test file uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's root (the core crate's directory), where `policies/`,
/// `examples/` and `tests/data/` are: these tests belong to the CLI crate
/// (`crates/cli`), which is two levels below it.
pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// A path below the repository's root.
pub fn root(path: &str) -> PathBuf {
    Path::new(ROOT).join(path)
}

/// The built `payer-rules`, run from the repository's root.
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_payer-rules"));
    cmd.current_dir(ROOT);
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

/// Runs `payer-rules ARGS` with `input` on its stdin. The binary may stop
/// reading early (a refused input): a failed write is not an error here.
pub fn run_stdin(args: &[&str], input: &str) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run payer-rules: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        let _ = std::io::Write::write_all(&mut stdin, input.as_bytes());
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"))
}
