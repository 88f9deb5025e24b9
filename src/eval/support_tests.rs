//! What the evaluator's test modules share (a test module itself, by the
//! `*_tests.rs` name `tests/layers.rs` knows): test policies loaded with their
//! diagnostics checked (a policy that does not load fails the test rather
//! than leaving an engine that decides nothing), and one case run against
//! each history store.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::claims::{read_claims_str, Claim, Decision, InputFormat};
use crate::diagnostic::{DiagCode, Diagnostic};
use crate::policies::{Loaded, Policies};

/// The policies of `loaded`; a diagnostic that `allowed` does not accept
/// fails the test, and the message lists them all.
pub(super) fn checked(loaded: Loaded, allowed: impl Fn(&Diagnostic) -> bool) -> Policies {
    let unexpected: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| !allowed(d))
        .map(Diagnostic::render_plain)
        .collect();
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
    let Some(policies) = loaded.policies else {
        panic!("the test policies did not load: {:?}", loaded.diagnostics)
    };
    policies
}

/// Policy files (path, text) loaded from memory, every file a root.
pub(super) fn load_files(
    files: &[(&str, String)],
    allowed: impl Fn(&Diagnostic) -> bool,
) -> Policies {
    let map: HashMap<PathBuf, String> = files
        .iter()
        .map(|(p, t)| (PathBuf::from(p), t.clone()))
        .collect();
    let roots: Vec<PathBuf> = files.iter().map(|(p, _)| PathBuf::from(p)).collect();
    checked(Policies::from_memory(&map, &roots), allowed)
}

/// Policy `t` ("test") of `header` items and `rules`, loaded from one file.
pub(super) fn load_policy(
    header: &str,
    rules: &str,
    allowed: impl Fn(&Diagnostic) -> bool,
) -> Policies {
    let text = format!("policy t \"test\" {{\n {header}\n{rules}\n}}\n");
    checked(Policies::from_source("t.policy", &text), allowed)
}

/// The claim of the JSON line `text`; one that does not read fails the test.
pub(super) fn read_claim(text: &str) -> Claim {
    match read_claims_str(text, InputFormat::JsonLines).pop() {
        Some(Ok(c)) => c,
        other => panic!("bad test claim {text}: {other:?}"),
    }
}

/// The rule ids that fired on each line of `d`, in order.
pub(super) fn rules_fired(d: &Decision) -> Vec<Vec<String>> {
    d.lines
        .iter()
        .map(|l| l.reasons.iter().map(|r| r.rule.to_string()).collect())
        .collect()
}

/// An engine of policy `t` of `header` items and `rules`, warnings allowed.
pub(super) fn engine(header: &str, rules: &str) -> super::Engine {
    super::Engine::new(load_policy(header, rules, no_errors))
}

/// A directory of the test's own, `name` and the process id under the
/// system's temporary one, made empty.
pub(super) fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("payer-rules-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// The history file `h.db` of `dir`, opened (made the first time).
pub(super) fn history_file(dir: &Path) -> crate::history::HistoryDb {
    crate::history::HistoryDb::open(&dir.join("h.db"), std::time::Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// Accepts warnings: only an error fails the test.
pub(super) fn no_errors(d: &Diagnostic) -> bool {
    !d.is_error()
}

/// Accepts only the warning about code sets no rule uses (test headers
/// share sets that not every test's rules use).
pub(super) fn unused_sets(d: &Diagnostic) -> bool {
    d.code == DiagCode::UnusedCodeSet
}

/// Each named case (a function taking an `Engine`) as a test per history
/// store: memory, a SQLite file of its own, and, with the `postgres`
/// feature, a database of the tests' cluster. `$prefix` names the files and
/// databases; the invoking module provides `policies()`.
macro_rules! per_store {
    ($prefix:literal: $($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[test]
                fn $case() {
                    super::$case(super::Engine::with_history(
                        super::policies(),
                        super::MemoryHistory::new(),
                    ));
                }
            )*
        }

        mod sqlite {
            $(
                #[test]
                fn $case() {
                    let dir = crate::eval::support_tests::fresh_dir(
                        concat!($prefix, "-", stringify!($case)),
                    );
                    let store = crate::eval::support_tests::history_file(&dir);
                    super::$case(super::Engine::with_history(super::policies(), store));
                    let _ = std::fs::remove_dir_all(&dir);
                }
            )*
        }

        #[cfg(feature = "postgres")]
        mod postgres {
            $(
                #[test]
                fn $case() {
                    let Some(url) = crate::history::postgres::test_cluster::database(
                        concat!($prefix, "_", stringify!($case)),
                    ) else {
                        return;
                    };
                    let store = crate::history::HistoryDb::open(
                        std::path::Path::new(&url),
                        std::time::Duration::from_secs(30),
                    )
                    .unwrap();
                    super::$case(super::Engine::with_history(super::policies(), store));
                }
            )*
        }
    };
}
pub(super) use per_store;
