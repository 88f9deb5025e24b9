//! Syntax: policy text -> a spanned tree and its syntax errors.
//!
//! This stage knows nothing of names, types or evaluation: it depends on no later
//! stage. The grammar is `grammar/policy.pest`.

pub mod ast;
mod expected;
pub mod parser;
pub mod span;

pub use parser::{parse, SyntaxError};
pub use span::{Span, Spanned};
