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
