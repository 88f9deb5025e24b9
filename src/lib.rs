//! payer-rules: a rule engine and policy language for medical claim editing.
//!
//! The pipeline runs one way: text -> [`syntax`] (a spanned tree) -> [`check`]
//! (diagnostics) -> [`compile`] (an evaluation plan) -> [`eval`] (decisions).
//! [`claims`] holds the claim and decision shapes of the JSON contract,
//! [`history`] the services earlier claims leave behind, [`codes`] the shipped
//! code tables. See `docs/architecture.md`.

pub mod claims;
pub mod check;
pub mod codes;
pub mod diagnostic;
pub mod syntax;
pub mod workspace;
