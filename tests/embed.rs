//! `examples/embed.rs`, the embedding example, run as a test: through the
//! library's batch protocol it gives the decisions the in-memory engine gives,
//! and a second run on the same history file answers every claim from it.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

#[path = "../examples/embed.rs"]
#[allow(dead_code)]
mod embed;

use std::path::Path;

use payer_rules::{ClaimReader, Engine, InputFormat, Policies};

#[test]
fn the_embedding_example_decides_and_replays() {
    let claims = Path::new("examples/history/day1.jsonl");
    let dir = std::env::temp_dir().join(format!("payer-rules-embed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let db = dir.join("history.db");

    let policies = Policies::load(&["policies".into()])
        .into_result()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut memory = Engine::new(policies);
    let input = std::fs::read(claims).unwrap_or_else(|e| panic!("{e}"));
    let expected: Vec<String> = ClaimReader::new(input.as_slice(), InputFormat::Auto)
        .enumerate()
        .map(|(i, claim)| match claim {
            Ok(claim) => serde_json::to_string(&memory.evaluate(&claim, i + 1)),
            Err(e) => serde_json::to_string(&payer_rules::Outcome::from(e)),
        })
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(expected.len() >= 2, "{expected:?}");

    let first = embed::decide(claims, &db).unwrap_or_else(|e| panic!("{e}"));
    let first_json: Vec<String> = first.iter().map(|a| a.json()).collect();
    assert_eq!(first_json, expected);
    assert!(first.iter().all(|a| !a.replayed));

    let again = embed::decide(claims, &db).unwrap_or_else(|e| panic!("{e}"));
    let again_json: Vec<String> = again.iter().map(|a| a.json()).collect();
    assert_eq!(
        again_json, expected,
        "answered from the history, byte for byte"
    );
    assert!(again.iter().all(|a| a.replayed), "every claim was stored");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_batch_dropped_without_commit_stores_nothing() {
    let dir = std::env::temp_dir().join(format!("payer-rules-rollback-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let db = dir.join("history.db");
    let policies = Policies::load(&["policies".into()])
        .into_result()
        .unwrap_or_else(|e| panic!("{e}"));
    let store = payer_rules::SqliteHistory::open(&db, std::time::Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut engine = Engine::with_history(policies, store);
    let input = std::fs::read("examples/history/day1.jsonl").unwrap_or_else(|e| panic!("{e}"));
    let claims = || {
        ClaimReader::new(input.as_slice(), InputFormat::Auto)
            .enumerate()
            .map(|(i, c)| (i + 1, c))
    };
    {
        let mut batch = engine.begin().unwrap_or_else(|e| panic!("{e}"));
        batch.decide_all(claims()).unwrap_or_else(|e| panic!("{e}"));
        assert!(!batch.is_empty());
        // Dropped here: rolled back, its answers never released.
    }
    let mut batch = engine.begin().unwrap_or_else(|e| panic!("{e}"));
    batch.decide_all(claims()).unwrap_or_else(|e| panic!("{e}"));
    let answers = batch.commit().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        answers.iter().all(|a| !a.replayed),
        "the dropped batch stored nothing, so nothing is a resubmission"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The errors a program embedding the library meets at its edges are `miette`
/// diagnostics, each kind with a code of its own, so that it can report them
/// as the command line does and tell them apart without parsing messages.
#[test]
fn store_and_selection_errors_are_diagnostics_with_their_own_codes() {
    use miette::Diagnostic;
    use payer_rules::StoreError;

    let path = || std::path::PathBuf::from("history.db");
    let errors = [
        StoreError::Sqlite {
            path: path(),
            source: rusqlite::Error::InvalidQuery,
        },
        StoreError::TooNew {
            path: path(),
            found: 9,
            supported: 8,
        },
        StoreError::Outdated {
            path: path(),
            found: 1,
            supported: 8,
        },
        StoreError::Create {
            path: path(),
            source: std::io::Error::other("no"),
        },
        StoreError::Foreign {
            path: path(),
            why: "no table".into(),
        },
        StoreError::Stopped {
            path: path(),
            why: "ended".into(),
        },
        StoreError::Postgres {
            target: "db".into(),
            code: None,
            why: "down".into(),
        },
        StoreError::Corrupt {
            path: path(),
            why: "row".into(),
        },
    ];
    let mut codes: Vec<String> = errors
        .iter()
        .map(|e| match e.code() {
            Some(code) => code.to_string(),
            None => panic!("no code: {e}"),
        })
        .collect();
    assert!(
        codes
            .iter()
            .all(|c| c.starts_with("payer_rules::history::")),
        "{codes:?}"
    );
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), errors.len(), "one code per variant: {codes:?}");

    // A real one: a directory is no database file.
    let dir = std::env::temp_dir().join(format!("payer-rules-edges-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    match payer_rules::SqliteHistory::open(&dir, std::time::Duration::from_secs(1)) {
        Ok(_) => panic!("a directory opened as a history database"),
        Err(e) => assert!(e.code().is_some(), "{e}"),
    }
    let _ = std::fs::remove_dir_all(&dir);

    // No policy for the claim's payer.
    let policies = Policies::load(&["policies".into()])
        .into_result()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = r#"{"id":"C1","payer":"nobody","patient":{"id":"P1"},"diagnoses":["M79.18"],"lines":[{"line":1,"date_of_service":"2025-03-01","procedure":"20552"}]}"#;
    let claim = match ClaimReader::new(text.as_bytes(), InputFormat::JsonLines).next() {
        Some(Ok(claim)) => claim,
        other => panic!("{other:?}"),
    };
    let Err(no_policy) = policies.select(&claim) else {
        panic!("payer `nobody` has a policy");
    };
    assert_eq!(
        no_policy.code().map(|c| c.to_string()).as_deref(),
        Some("payer_rules::eval::no_policy")
    );
    assert!(no_policy.help().is_some());
}
