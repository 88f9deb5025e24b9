//! Claims in, decisions out: the claim and decision shapes of `CLAIMS.md`, the
//! input readers and claim validation.
//!
//! [`ClaimReader`] turns JSON Lines, a JSON array or YAML into a stream of
//! validated [`Claim`]s or [`ClaimError`]s, one per input record, in input order;
//! the evaluator answers each with an [`Outcome`].

pub mod decision;
pub mod error;
pub mod model;
pub mod read;
mod scan;
pub mod slot;
pub mod validate;
mod write;

pub use decision::{
    Action, ClaimDecision, Decision, ErrorBody, ErrorRecord, LineDecision, Outcome, PolicyRef,
    Reason, ReasonParts, TraceOutcome, TraceStep,
};
pub use error::{for_log, ClaimError, ErrorKind, Warning, X12Location};
pub use model::{Claim, FactValue, Frequency, Line, Patient, Provider, Sex, Text};
pub use read::{read_claims_str, ClaimReader, InputFormat};
pub(crate) use read::{
    Code, Num, Obj, RawClaim, RawFact, RawFacts, RawLine, RawPatient, RawProvider,
};
pub use slot::ClaimSlot;
pub(crate) use validate::{or_all, text, validate, Cx};
