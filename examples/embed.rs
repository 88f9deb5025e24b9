//! Embedding payer-rules: a billing engine's program that evaluates claims
//! against the bundled policies, with the claim history in a SQLite file.
//!
//! `cargo run --example embed [CLAIMS.jsonl] [HISTORY.db]` (defaults: the
//! bundled example claims and a fresh file in the temporary directory). Run it
//! twice on one file: the second run answers every claim from the history.
//! `tests/embed.rs` runs it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use payer_rules::{ClaimReader, Engine, Evaluated, InputFormat, Policies, SqliteHistory};

/// Decides the claims of `claims` against `policies/`, keeping the history in
/// the SQLite file `db`; the answers in input order.
pub fn decide(claims: &Path, db: &Path) -> Result<Vec<Evaluated>, Box<dyn std::error::Error>> {
    // Load, check and compile the policies: any error diagnostic is an `Err`.
    let policies = Policies::load(&["policies".into()]).into_result()?;
    let store = SqliteHistory::open(db, Duration::from_secs(30))?;
    let mut engine = Engine::with_history(policies, store);

    // One transaction: the answers leave the library only once stored.
    let input = std::fs::read(claims)?;
    let reader = ClaimReader::new(input.as_slice(), InputFormat::Auto);
    let mut batch = engine.begin()?;
    batch.decide_all(reader.enumerate().map(|(i, claim)| (i + 1, claim)))?;
    Ok(batch.commit()?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let claims = args
        .next()
        .unwrap_or_else(|| "examples/claims.jsonl".into());
    let db: PathBuf = args.next().map_or_else(
        || std::env::temp_dir().join(format!("payer-rules-embed-{}.db", std::process::id())),
        Into::into,
    );
    let answers = decide(Path::new(&claims), &db)?;
    for answer in &answers {
        println!("{}", answer.json());
    }
    let replayed = answers.iter().filter(|a| a.replayed).count();
    eprintln!(
        "{} claims decided ({replayed} answered from the history in {})",
        answers.len(),
        db.display()
    );
    Ok(())
}
