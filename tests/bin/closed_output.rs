//! Every command into a closed or full stdout or stderr (finding R1): it ends
//! with its conventional status, never a panic (exit 101).

#![allow(
    clippy::panic,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

use std::path::Path;
use std::process::{Output, Stdio};

mod common;

use common::{bin, run, text};

/// Which stream the command finds closed.
#[derive(Clone, Copy, Debug)]
enum Closed {
    Stdout,
    Stderr,
}

/// Runs `payer-rules ARGS` with `closed` piped and its read end dropped at
/// once: the child, still starting, finds the pipe closed when it writes.
fn run_closed(args: &[&str], closed: Closed) -> Output {
    let mut cmd = bin();
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{e}"));
    match closed {
        Closed::Stdout => drop(child.stdout.take()),
        Closed::Stderr => drop(child.stderr.take()),
    }
    child.wait_with_output().unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `payer-rules ARGS` with stdout or stderr on `/dev/full`.
fn run_full(args: &[&str], full: Closed) -> Output {
    let dev_full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let mut cmd = bin();
    cmd.args(args).stdin(Stdio::null());
    match full {
        Closed::Stdout => cmd.stdout(dev_full()).stderr(Stdio::piped()),
        Closed::Stderr => cmd.stdout(Stdio::piped()).stderr(dev_full()),
    };
    cmd.output().unwrap_or_else(|e| panic!("{e}"))
}

fn assert_no_panic(args: &[&str], how: &str, out: &Output) {
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.code().is_some_and(|c| c != 101) && !said.contains("panicked"),
        "{args:?} with {how}: {:?}\n{said}",
        out.status
    );
}

/// A policy file that `fmt --check` has a diff for: every line unindented.
fn unformatted(dir: &Path) -> String {
    let text = std::fs::read_to_string(common::root("policies/medicare-tpi.policy"))
        .unwrap_or_else(|e| panic!("{e}"));
    let flat: String = text
        .lines()
        .map(|l| format!("{}\n", l.trim_start()))
        .collect();
    let path = dir.join("flat.policy");
    std::fs::write(&path, flat).unwrap_or_else(|e| panic!("{e}"));
    path.to_string_lossy().into_owned()
}

#[test]
fn every_command_ends_quietly_into_a_closed_stdout_or_stderr() {
    let dir = common::temp_dir("closed", "all");
    let db = dir.join("h.db").to_string_lossy().into_owned();
    let day1 = common::root("examples/history/day1.jsonl")
        .to_string_lossy()
        .into_owned();
    let seeded = run(&["history", "import", "--db", &db, &day1]);
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let flat = unformatted(&dir);
    let eval_db = dir.join("e.db").to_string_lossy().into_owned();
    let import_db = dir.join("i.db").to_string_lossy().into_owned();
    let commands: Vec<Vec<&str>> = vec![
        vec!["check", "--format", "human", "tests/data/check-formats"],
        vec!["check", "--format", "json", "tests/data/check-formats"],
        vec!["check", "--format", "github", "tests/data/check-formats"],
        vec!["check", "--format", "sarif", "tests/data/check-formats"],
        vec!["fmt", "--check", &flat],
        vec!["test", "--coverage", "policies"],
        vec!["codes", "lookup", "M79", "M54", "M60", "M62", "G44", "M25"],
        vec!["explain", "M4"],
        vec!["eval", "examples/claims.jsonl"],
        vec!["eval", "--db", &eval_db, "examples/claims.jsonl"],
        vec!["history", "show", "--db", &db, "--patient", "PAT-7"],
        vec![
            "history",
            "show",
            "--json",
            "--db",
            &db,
            "--patient",
            "PAT-7",
        ],
        vec!["history", "stats", "--db", &db],
        vec!["history", "import", "--db", &import_db, &day1],
    ];
    for args in &commands {
        for closed in [Closed::Stdout, Closed::Stderr] {
            let out = run_closed(args, closed);
            assert_no_panic(args, &format!("{closed:?} closed"), &out);
        }
    }
}

#[test]
fn a_closed_stdout_ends_with_status_0() {
    // `| head` conventions: the reader had what it wanted.
    let out = run_closed(&["codes", "lookup", "M79", "M54", "M60"], Closed::Stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn a_full_stdout_or_stderr_is_a_failure_without_a_panic() {
    for (args, full) in [
        (&["codes", "lookup", "M79"][..], Closed::Stdout),
        (
            &["check", "--format", "json", "tests/data/check-formats"][..],
            Closed::Stdout,
        ),
        (&["eval", "examples/claims.jsonl"][..], Closed::Stdout),
        (&["eval", "examples/claims.jsonl"][..], Closed::Stderr),
        (&["test", "policies"][..], Closed::Stdout),
    ] {
        let out = run_full(args, full);
        assert_no_panic(args, &format!("{full:?} full"), &out);
        assert_ne!(
            out.status.code(),
            Some(0),
            "{args:?} with {full:?} on /dev/full"
        );
    }
}
