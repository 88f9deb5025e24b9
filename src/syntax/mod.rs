//! Syntax: policy text -> a spanned tree and its syntax errors.
//!
//! This stage knows nothing of names, types or evaluation: it depends on no later
//! stage. The grammar is `grammar/policy.pest`.

pub mod ast;
mod expected;
pub mod parser;
pub mod span;

pub use parser::{parse, parse_item, Parsed, SyntaxError};
pub use span::{Span, Spanned};
