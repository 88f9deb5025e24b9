//! payer-rules: a rule engine and policy language for medical claim editing.
//!
//! Payer policy teams write policy files (covered diagnoses, frequency limits,
//! units, companion lines, each with the CARC/RARC a remittance would carry);
//! a billing engine embeds this library, loads the policies once, and asks an
//! [`Engine`] for a line-level decision on each claim. Everything a program
//! needs is at the crate root:
//!
//! | to | use |
//! |---|---|
//! | load policy files, or policy text, with their diagnostics | [`Policies::load`], [`Policies::from_source`], [`Loaded`], [`Diagnostic`] |
//! | read claims (JSON Lines, a JSON array, YAML, X12 837P) | [`ClaimReader`], [`InputFormat`], [`Claim`], [`ClaimError`], [`PayerIds`], [`Warning`] |
//! | decide claims against an in-memory history | [`Engine::new`], [`Engine::evaluate`] |
//! | decide claims against a durable history | [`SqliteHistory`], [`Engine::with_history`], [`Engine::begin`] and its [`Batch`] |
//! | a history store of one's own | [`HistoryStore`], [`Transactional`] and the types of [`store`] |
//! | the answers | [`Outcome`]: a [`Decision`] with its [`LineDecision`]s and [`Reason`]s, or an [`ErrorRecord`] |
//! | policy tooling: format, run test cases, look up codes | [`tooling`] |
//!
//! A program evaluating the bundled example claims against the bundled policies,
//! with the history in a SQLite file (the same file `payer-rules eval --db` uses):
//!
//! ```
//! use std::time::Duration;
//! use payer_rules::{ClaimReader, Engine, InputFormat, Policies, SqliteHistory};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = std::env::temp_dir().join(format!("payer-rules-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! // Load, check and compile; any error diagnostic makes this an `Err`.
//! let policies = Policies::load(&["policies".into()]).into_result()?;
//! let store = SqliteHistory::open(&dir.join("history.db"), Duration::from_secs(5))?;
//! let mut engine = Engine::with_history(policies, store);
//!
//! let input = std::fs::read("examples/claims.jsonl")?;
//! let claims = ClaimReader::new(input.as_slice(), InputFormat::JsonLines);
//! // One transaction: the answers are released once their claims are stored.
//! let mut batch = engine.begin()?;
//! batch.decide_all(claims.enumerate().map(|(i, claim)| (i + 1, claim)))?;
//! let answers = batch.commit()?;
//! assert_eq!(answers.len(), 600);
//! println!("{}", answers[0].json());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
//!
//! Inside, data flows one way: text -> `syntax` (a spanned tree) -> `check`
//! (diagnostics and the resolved scopes) -> `compile` (an evaluation plan) ->
//! `eval` (decisions), with `claims` and `history` beside them; see
//! `docs/architecture.md`. Those stages are private: the shells of this
//! workspace (the `payer-rules` command line) reach what they need of them
//! through [`internal`], which is not part of the API.

#![deny(missing_docs)]

// The stages and their helpers: private to the crate. The facade below and
// `internal` are the only ways in.
mod bytes;
mod check;
mod claims;
mod codes;
mod compile;
mod days;
mod diagnostic;
mod eval;
mod fields;
mod fmt;
mod hint;
mod history;
mod impact;
mod number;
mod policies;
mod syntax;
mod testing;
mod workspace;
mod x12;

pub mod internal;
pub mod store;
pub mod tooling;

pub use claims::{
    Action, Claim, ClaimDecision, ClaimError, ClaimReader, Decision, ErrorBody, ErrorKind,
    ErrorRecord, FactValue, Frequency, InputFormat, Line, LineDecision, Outcome, Patient,
    PolicyRef, Provider, Reason, Sex, TraceOutcome, TraceStep, Warning, X12Location,
};
pub use diagnostic::{DiagCode, Diagnostic, Severity, SourceFile};
pub use eval::{Batch, Engine, Evaluated, Imported};
#[cfg(feature = "postgres")]
pub use history::postgres::PgHistory;
pub use history::{
    is_postgres_url, HistoryDb, HistoryStore, Member, MemoryHistory, SqliteHistory, StoreError,
    Transactional,
};
pub use policies::{InvalidPolicies, LoadError, Loaded, NoPolicies, NoPolicy, Policies, Selection};
/// The list type of [`Decision::policies`], re-exported so that a program
/// building or matching decisions needs no dependency of its own.
pub use thin_vec::ThinVec;
pub use x12::PayerIds;
