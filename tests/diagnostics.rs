//! Golden tests of the checker's diagnostics.
//!
//! Every `tests/diagnostics/NN-name.policy` is loaded on its own; every directory
//! `tests/diagnostics/multi/<case>/` is loaded as one workspace whose roots are
//! all its files (as `payer-rules check <dir>` would). All diagnostics are
//! rendered without colour and snapshotted under the fixture's name, after a
//! header listing `code severity line:col` for each.
//!
//! Each fixture file starts with `// expect: PR...` listing the codes it must
//! produce, one entry per diagnostic (`// expect:` alone: none); the test fails
//! when the codes reported differ, so a diagnostic cannot silently disappear.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

use std::collections::HashMap;
use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use payer_rules::internal::Workspace;
use payer_rules::{Diagnostic, Loaded, Policies};

const FIXTURES: &str = "tests/diagnostics";

/// The codes listed on a fixture's first line, sorted.
fn expected_codes(path: &Path, text: &str) -> Vec<String> {
    let first = text.lines().next().unwrap_or("");
    let Some(list) = first.strip_prefix("// expect:") else {
        panic!(
            "{}: the first line must be `// expect: PR...`",
            path.display()
        );
    };
    let mut codes: Vec<String> = list.split_whitespace().map(str::to_string).collect();
    codes.sort();
    codes
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// One fixture: a single file, or a directory of files loaded together.
struct Fixture {
    name: String,
    /// Path as given to the loader -> text.
    files: Vec<(String, String)>,
    multi: bool,
}

impl Fixture {
    fn load(&self) -> Loaded {
        if let [(path, text)] = self.files.as_slice() {
            if !self.multi {
                return Policies::from_source(path, text);
            }
        }
        let map: HashMap<PathBuf, String> = self
            .files
            .iter()
            .map(|(p, t)| (PathBuf::from(p), t.clone()))
            .collect();
        let roots: Vec<PathBuf> = self.files.iter().map(|(p, _)| PathBuf::from(p)).collect();
        let (ws, diags) = Workspace::from_memory(&map, &roots);
        Policies::from_workspace(ws, diags)
    }
}

fn fixtures() -> Vec<Fixture> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = fs::read_dir(FIXTURES)
        .unwrap_or_else(|e| panic!("cannot list {FIXTURES}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "policy") {
            let name = format!("{stem}.policy");
            out.push(Fixture {
                name: stem.to_string(),
                files: vec![(name, read(&path))],
                multi: false,
            });
        }
    }
    let multi = Path::new(FIXTURES).join("multi");
    let mut cases: Vec<PathBuf> = fs::read_dir(&multi)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", multi.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    for dir in cases {
        let Some(case) = dir.file_name().and_then(|s| s.to_str()).map(str::to_string) else {
            continue;
        };
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "policy"))
            .collect();
        files.sort();
        let files = files
            .iter()
            .map(|p| {
                let file = p.file_name().and_then(|s| s.to_str()).unwrap_or_default();
                (format!("{case}/{file}"), read(p))
            })
            .collect();
        out.push(Fixture {
            name: format!("multi-{case}"),
            files,
            multi: true,
        });
    }
    out
}

fn header_line(d: &Diagnostic, multi: bool) -> String {
    let (line, col) = d.line_col();
    let at = if multi {
        format!("{}:{line}:{col}", d.file.path)
    } else {
        format!("{line}:{col}")
    };
    format!("{} {} {at}", d.code.code(), d.severity.as_str())
}

fn check_fixture(fixture: &Fixture) {
    let loaded = fixture.load();
    let diags = &loaded.diagnostics;

    let mut text = String::new();
    for d in diags {
        text.push_str(&header_line(d, fixture.multi));
        text.push('\n');
    }
    for d in diags {
        text.push('\n');
        text.push_str(d.render_plain().trim_end());
        text.push('\n');
    }
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!(fixture.name.as_str(), text);
    });

    for (path, source) in &fixture.files {
        let want = expected_codes(Path::new(path), source);
        let mut got: Vec<String> = diags
            .iter()
            .filter(|d| d.file.path == *path)
            .map(|d| d.code.code().to_string())
            .collect();
        got.sort();
        assert_eq!(
            got, want,
            "{path}: the codes reported differ from its `// expect:` line"
        );
    }
    let known: Vec<&str> = fixture.files.iter().map(|(p, _)| p.as_str()).collect();
    let stray: Vec<String> = diags
        .iter()
        .filter(|d| !known.contains(&d.file.path.as_str()))
        .map(|d| header_line(d, true))
        .collect();
    assert!(
        stray.is_empty(),
        "{}: diagnostics in files outside the fixture: {stray:?}",
        fixture.name
    );
}

#[test]
fn diagnostics_match_snapshots() {
    let fixtures = fixtures();
    assert!(
        fixtures.len() >= 25,
        "expected at least 25 fixtures, found {}",
        fixtures.len()
    );
    let mut failed = Vec::new();
    for fixture in &fixtures {
        if catch_unwind(AssertUnwindSafe(|| check_fixture(fixture))).is_err() {
            failed.push(fixture.name.clone());
        }
    }
    assert!(
        failed.is_empty(),
        "{} fixture(s) failed: {}",
        failed.len(),
        failed.join(", ")
    );
}

/// "Every lint has a fixture test": each code documented in `docs/lints/` is on
/// some fixture's `// expect:` line, so removing the lint fails a fixture.
#[test]
fn every_lint_code_has_a_fixture() {
    use payer_rules::internal::LINT_CODES;
    let expected: Vec<String> = fixtures()
        .iter()
        .flat_map(|f| f.files.iter())
        .flat_map(|(path, text)| expected_codes(Path::new(path), text))
        .collect();
    let missing: Vec<&str> = LINT_CODES
        .iter()
        .map(|c| c.code())
        .filter(|c| !expected.iter().any(|e| e == c))
        .collect();
    assert!(missing.is_empty(), "no fixture expects {missing:?}");
}
