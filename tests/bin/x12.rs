//! X12 837P through the binary: the README's example, detection on stdin,
//! `convert` both ways and its exit statuses, `history import` of 837P.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

use std::io::Write;
use std::process::Stdio;

mod common;

use common::{bin, root, run, text};

const EXAMPLE: &str = "examples/claims.837p";
const IDS: &str = "examples/payer-ids.txt";

#[test]
fn the_readme_shows_what_eval_writes_for_the_bundled_837p() {
    let readme = std::fs::read_to_string(root("README.md")).unwrap_or_default();
    let command = "$ payer-rules eval --payer-ids examples/payer-ids.txt examples/claims.837p\n";
    let at = readme
        .find(command)
        .expect_or_panic("the README shows eval on the 837P example");
    let shown: Vec<&str> = readme[at + command.len()..]
        .lines()
        .take_while(|l| !l.starts_with("```"))
        .collect();
    let out = run(&["eval", "-q", "--payer-ids", IDS, EXAMPLE]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let got = text(&out.stdout);
    assert_eq!(got.lines().collect::<Vec<_>>(), shown);
}

trait ExpectOrPanic<T> {
    fn expect_or_panic(self, what: &str) -> T;
}

impl<T> ExpectOrPanic<T> for Option<T> {
    fn expect_or_panic(self, what: &str) -> T {
        self.unwrap_or_else(|| panic!("{what}"))
    }
}

#[test]
fn an_interchange_on_stdin_is_detected() {
    let bytes = std::fs::read(root(EXAMPLE)).unwrap_or_default();
    let mut child = bin()
        .args(["eval", "-q", "--payer-ids", IDS, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    child
        .stdin
        .take()
        .map(|mut stdin| stdin.write_all(&bytes))
        .transpose()
        .unwrap_or_else(|e| panic!("{e}"));
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let from_file = run(&["eval", "-q", "--payer-ids", IDS, EXAMPLE]);
    assert_eq!(text(&out.stdout), text(&from_file.stdout));
    assert_eq!(text(&out.stdout).lines().count(), 4);
}

#[test]
fn convert_writes_837p_that_converts_back_to_the_same_claims() {
    let dir = std::env::temp_dir().join(format!("payer-rules-x12-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let x12 = dir.join("claims.837p");
    let out = run(&["convert", "--to", "x12", "examples/claims.jsonl"]);
    // The batch's malformed claims have no 837P form: exit 1, said on stderr.
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("skipped record 30 (CLM-0000029)"));
    std::fs::write(&x12, &out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let back = run(&["convert", "--from", "x12", x12.to_str().unwrap_or_default()]);
    assert_eq!(back.status.code(), Some(0), "{}", text(&back.stderr));
    let json = run(&["convert", "examples/claims.jsonl"]);
    let valid: Vec<String> = text(&json.stdout)
        .lines()
        .filter(|l| !l.contains("\"error\""))
        .map(str::to_owned)
        .collect();
    let again: Vec<String> = text(&back.stdout).lines().map(str::to_owned).collect();
    assert_eq!(again, valid);
    // History import reads 837P too.
    let db = dir.join("history.db");
    let out = run(&[
        "history",
        "import",
        "--db",
        db.to_str().unwrap_or_default(),
        "--payer-ids",
        IDS,
        EXAMPLE,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("imported 4 claims"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn convert_writes_error_records_in_place_and_exits_1() {
    let out = run(&["convert", "tests/data/x12/se01-count.837"]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].contains("\"kind\":\"x12_segment_count\""),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with("{\"id\":\"TPI-9\""), "{}", lines[1]);
    let warned = run(&["convert", "tests/data/x12/valid.837"]);
    assert_eq!(warned.status.code(), Some(0));
    assert!(
        text(&warned.stderr).contains("warning: record 2 (TPI-2)"),
        "{}",
        text(&warned.stderr)
    );
    let unreadable = run(&["convert", "--payer-ids", "no/such/file", EXAMPLE]);
    assert_eq!(unreadable.status.code(), Some(2));
}

/// The bundled policies copied to a scratch directory, each policy declaring
/// the payer ids `examples/payer-ids.txt` lists for its payer.
fn policies_declaring_ids(test: &str) -> std::path::PathBuf {
    let dir = common::temp_dir("x12", test);
    let ids =
        std::fs::read_to_string(root("examples/payer-ids.txt")).unwrap_or_else(|e| panic!("{e}"));
    let copy = |from: &std::path::Path, to: &std::path::Path| {
        std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{e}"));
        for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{e}")) {
            let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
            if path.is_dir() {
                continue;
            }
            let name = path
                .file_name()
                .unwrap_or_else(|| panic!("no file name"))
                .to_owned();
            let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
            if let Some(payer) = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("payer "))
                .map(|p| p.trim().to_string())
            {
                let declared: Vec<String> = ids
                    .lines()
                    .filter(|l| !l.starts_with('#'))
                    .filter_map(|l| l.split_once(' '))
                    .filter(|(_, p)| p.trim() == payer)
                    .map(|(id, _)| format!("\"{id}\""))
                    .collect();
                if !declared.is_empty() {
                    text = text.replacen(
                        &format!("payer {payer}\n"),
                        &format!("payer {payer}\n  payer-ids {}\n", declared.join(", ")),
                        1,
                    );
                }
            }
            std::fs::write(to.join(name), text).unwrap_or_else(|e| panic!("{e}"));
        }
    };
    copy(&root("policies"), &dir.join("policies"));
    copy(&root("policies/lib"), &dir.join("policies/lib"));
    dir.join("policies")
}

#[test]
fn payer_ids_declared_in_the_policies_select_them() {
    let policies = policies_declaring_ids("declared-ids");
    let check = run(&["check", "--deny-warnings", policies.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    let declared = run(&[
        "eval",
        "-q",
        "--policies",
        policies.to_str().unwrap(),
        "examples/claims.837p",
    ]);
    let file = run(&[
        "eval",
        "-q",
        "--payer-ids",
        "examples/payer-ids.txt",
        "examples/claims.837p",
    ]);
    assert_eq!(
        declared.status.code(),
        Some(0),
        "{}",
        text(&declared.stderr)
    );
    // The policies' own ids decide as the file of ids does (the reasons'
    // `at` differ: the copies are elsewhere and one line longer).
    let summary = |out: &std::process::Output| -> Vec<(String, String, String)> {
        text(&out.stdout)
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let field = |k: &str| v[k].as_str().unwrap_or("").to_string();
                let decision = v["error"]["kind"]
                    .as_str()
                    .map_or_else(|| field("decision"), str::to_string);
                (field("id"), field("payer"), decision)
            })
            .collect()
    };
    assert_eq!(summary(&declared), summary(&file));
    assert_eq!(summary(&declared).len(), 4);
    assert!(text(&declared.stdout).contains("\"payer\":\"medicare\""));
    // Without either, the ids are payers of their own: no policy.
    let none = run(&["eval", "-q", "examples/claims.837p"]);
    assert!(
        text(&none.stdout).contains("no_policy"),
        "{}",
        text(&none.stdout)
    );
    // fmt keeps the header item where it is.
    let fmt = run(&["fmt", "--check", policies.to_str().unwrap()]);
    assert_eq!(fmt.status.code(), Some(0), "{}", text(&fmt.stdout));
}
