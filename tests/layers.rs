//! Data flows one way: syntax -> check -> compile -> eval, with claims and
//! history beside them. This test reads every module of `src/` and fails on a
//! `crate::` path that goes against the flow (a later stage reached from an
//! earlier one, or the language reached from claims or history).
//!
//! Unit tests (from a module's `#[cfg(test)]` on) may reach further: a test of
//! the checker loads whole policies through `crate::policies`.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each module and the modules it may use. A module missing here (the crate
/// root and the facade's `internal`, `store` and `tooling`) may use any.
const ALLOWED: &[(&str, &[&str])] = &[
    ("bytes", &[]),
    ("hint", &[]),
    ("fields", &[]),
    // How numbers compare exactly: the checker's, the compiler's and the
    // evaluator's alike.
    ("number", &[]),
    ("days", &["bytes"]),
    ("codes", &["bytes"]),
    ("syntax", &["codes", "days"]),
    ("diagnostic", &["syntax"]),
    ("workspace", &["syntax", "diagnostic"]),
    ("fmt", &["syntax"]),
    (
        "check",
        &[
            "syntax",
            "diagnostic",
            "workspace",
            "codes",
            "fields",
            "days",
            "number",
        ],
    ),
    (
        "compile",
        &[
            "check",
            "syntax",
            "diagnostic",
            "workspace",
            "codes",
            "fields",
            "days",
            "number",
            // The reasons a rule gives are the contract's `Reason`s, and a
            // count asks the history in its own terms (`SiteScope`).
            "claims",
            "history",
        ],
    ),
    // Claims and history are beside the pipeline: they know nothing of the
    // language.
    // The X12 reader is one of the claim readers (`InputFormat::X12`), and
    // builds claims through the claims' own validation.
    ("claims", &["codes", "days", "bytes", "hint", "x12"]),
    ("x12", &["claims", "codes", "days"]),
    // Sums of charges are exact decimals, as a policy's numbers are.
    (
        "history",
        &["claims", "codes", "days", "bytes", "hint", "number"],
    ),
    (
        "policies",
        &[
            "check",
            "compile",
            "workspace",
            "diagnostic",
            "syntax",
            "claims",
            // The X12 payer ids the policies declare.
            "x12",
        ],
    ),
    (
        "eval",
        &[
            "compile", "policies", "claims", "history", "fields", "days", "codes", "bytes", "hint",
            "number",
        ],
    ),
    ("testing", &["eval", "policies", "claims"]),
    ("impact", &["eval", "policies", "claims"]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        panic!("cannot list {}", dir.display());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to: `src/check/lints/x.rs` is
/// `check`, `src/days.rs` is `days`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_string()
}

/// The file's code without its unit tests and comments: an inline
/// `#[cfg(test)] mod tests { ... }` (at a file's end, by the crate's habit)
/// ends the code; another `#[cfg(test)]` item (`mod lowered_tests;`) is
/// skipped; files that are test modules (`tests.rs`, `*_tests.rs`) are
/// skipped by [`forbidden_edges`].
fn code_before_tests(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            match lines.next() {
                Some(item) if item.trim_start().starts_with("mod ") && item.contains('{') => break,
                _ => continue,
            }
        }
        if trimmed.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// True for a file that holds only unit tests.
fn is_test_file(file: &Path) -> bool {
    file.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == "tests.rs" || n.ends_with("_tests.rs"))
}

/// The top-level modules named by `crate::NAME` paths in `code`.
fn uses(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.insert(name);
        }
        rest = after;
    }
    found
}

/// Every forbidden edge of the tree at `src`, as `module -> used (file)`.
fn forbidden_edges(src: &Path) -> Vec<String> {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut bad = Vec::new();
    for file in files {
        let module = module_of(src, &file);
        let Some(may) = allowed.get(module.as_str()) else {
            continue;
        };
        if is_test_file(&file) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{e}"));
        for used in uses(&code_before_tests(&text)) {
            if used != module && !may.contains(&used.as_str()) {
                bad.push(format!("{module} -> {used} ({})", file.display()));
            }
        }
    }
    bad
}

#[test]
fn data_flows_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let bad = forbidden_edges(&src);
    assert!(
        bad.is_empty(),
        "dependencies against the flow (see docs/architecture.md):\n{}",
        bad.join("\n")
    );
}

#[test]
fn every_module_is_in_the_table_or_the_facade() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let facade = ["lib", "internal", "store", "tooling"];
    let known: BTreeSet<&str> = ALLOWED.iter().map(|(m, _)| *m).collect();
    let missing: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(&src, f))
        .filter(|m| !known.contains(m.as_str()) && !facade.contains(&m.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "modules with no place in the flow: {missing:?}"
    );
}

#[test]
fn the_check_catches_an_edge_against_the_flow() {
    // A claims module that reaches into the evaluator must be caught.
    let dir = std::env::temp_dir().join(format!("payer-rules-layers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("claims")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.join("claims/model.rs"),
        "use crate::eval::Engine;\n// crate::compile in a comment is fine\n#[cfg(test)]\nmod tests { use crate::policies::Policies; }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let bad = forbidden_edges(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].starts_with("claims -> eval"), "{bad:?}");
}
