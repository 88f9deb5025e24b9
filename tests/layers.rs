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
    // claims <-> x12 is the one cycle accepted here. The X12 reader is one of
    // the claim readers (`ClaimReader` picks it for `InputFormat::X12` or an
    // input starting with `ISA`), and it builds claims through the claims'
    // own `validate`, so that one set of rules decides what a valid claim is
    // whatever the format. Breaking it would move format detection out of
    // `ClaimReader` into every caller, or `validate` into a third module: both
    // larger than the cycle, which stays between two readers of one input.
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

/// The top-level modules named by `crate::NAME` paths in `code`, and by each
/// item of a grouped import `crate::{a, b::c, d::{e, f}}` (`a`, `b`, `d`).
fn uses(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = rest[at + "crate::".len()..].trim_start();
        match after.strip_prefix('{') {
            Some(group) => found.extend(group_heads(group)),
            None => {
                let name = ident(after);
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        }
        rest = after;
    }
    found
}

/// The identifier `text` starts with (empty when it starts with none).
fn ident(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The first name of each item of a `{...}` group, `group` starting just
/// after its `{`: the items are split at the commas outside nested braces.
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0usize;
    let mut item_start = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => item_start = true,
            c if item_start && !c.is_whitespace() => {
                item_start = false;
                let name = ident(&group[i..]);
                if !name.is_empty() && name != "self" {
                    heads.push(name);
                }
            }
            _ => {}
        }
    }
    heads
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
    // So must one that does it inside a grouped import, however nested.
    std::fs::write(
        dir.join("claims/read.rs"),
        "use crate::{\n    codes::CodeKey,\n    days::{Day, Days},\n    compile::{plan::{Rule, Policy}, Facts},\n};\nuse crate::{ impact };\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let bad = forbidden_edges(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(bad.len(), 3, "{bad:?}");
    assert!(bad[0].starts_with("claims -> eval"), "{bad:?}");
    assert!(bad[1].starts_with("claims -> compile"), "{bad:?}");
    assert!(bad[2].starts_with("claims -> impact"), "{bad:?}");
}

#[test]
fn grouped_imports_name_each_module() {
    let names = |code: &str| uses(code).into_iter().collect::<Vec<_>>();
    assert_eq!(names("use crate::{a, b::c};"), ["a", "b"]);
    assert_eq!(
        names("use crate::{\n  a::{x, y::{z}},\n  self,\n  b,\n};"),
        ["a", "b"]
    );
    assert_eq!(
        names("use crate::{x::{a, b}, y};\nuse crate::z::w;"),
        ["x", "y", "z"]
    );
}
