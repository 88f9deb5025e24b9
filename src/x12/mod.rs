//! Claims straight from X12 837P (005010X222A1/A2).
//!
//! Four parts, each in its own module:
//! - `tokenizer`: the delimiters an ISA declares and segments read one at a
//!   time, with their ordinal and byte offset;
//! - `reader`: the envelopes (ISA/IEA, GS/GE, ST/SE) followed segment by
//!   segment, each transaction set read whole and rejected whole when its
//!   envelope or hierarchy is wrong, group and interchange trailers checked;
//! - `transaction` and `map`: the checks on one transaction set, and the
//!   837P loops mapped to the claims of `CLAIMS.md` through the same
//!   validation as JSON claims;
//! - `write`: claims written back as 837P (the generator and the tests).
//!
//! `docs/x12.md` has the mapping table and the rejections.

mod map;
mod payer_ids;
mod reader;
mod tokenizer;
mod transaction;
mod write;

pub use payer_ids::PayerIds;
pub use reader::X12Reader;
pub use tokenizer::{Delimiters, Tokenizer};
pub use write::{write_837p, X12Writer};
