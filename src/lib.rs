//! payer-rules: a rule engine and policy language for medical claim editing.
//!
//! The pipeline runs one way: text -> [`syntax`] (a spanned tree) -> [`check`]
//! (diagnostics) -> [`compile`] (an evaluation plan) -> [`eval`] (decisions).
//! [`claims`] holds the claim and decision shapes of the JSON contract,
//! [`history`] the services earlier claims leave behind, [`codes`] the shipped
//! code tables. See `docs/architecture.md`.
//!
//! The facade: [`Policies::load`] gives diagnostics and compiled policies;
//! [`Engine`] evaluates [`Claim`]s read by [`ClaimReader`] into [`Outcome`]s.

mod bytes;
pub mod check;
pub mod claims;
pub mod codes;
pub mod compile;
pub mod days;
pub mod diagnostic;
pub mod eval;
pub mod fmt;
mod hint;
pub mod history;
pub mod policies;
pub mod syntax;
pub mod testing;
pub mod workspace;

pub use claims::{Claim, ClaimReader, Decision, InputFormat, Outcome};
pub use diagnostic::{DiagCode, Diagnostic, Severity};
pub use eval::Engine;
pub use history::{HistoryStore, MemoryHistory};
pub use policies::{Loaded, Policies};
