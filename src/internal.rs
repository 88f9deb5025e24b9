//! Not part of the API: the pieces of the pipeline that the shells of this
//! workspace (the `payer-rules` command line), the tests, the benchmarks and
//! the fuzz targets reach into. Anything here may change in any release; a
//! program embedding payer-rules uses the crate root instead.
#![doc(hidden)]

pub use crate::check::lints::LINT_CODES;
pub use crate::check::{check, check_workspace, Checked};
pub use crate::claims::{for_log, read_claims_str, ClaimSlot};
pub use crate::codes::icd10;
pub use crate::compile::plan::{
    Bound, CheckKind, Cond, Counting, Match, ModifierFilter, Policy, Rule, SiteScope,
};
pub use crate::diagnostic::{region, Region};
pub use crate::eval::parallel::{evaluate_lines, Tally};
pub use crate::eval::Lookahead;
pub use crate::fields::FIELDS;
pub use crate::fmt::{same_tree, without_spans};
pub use crate::history::ContentHash;
pub use crate::syntax::{ast, parse, Span};
pub use crate::workspace::{
    files_below, is_policy_file, policy_text, read_policy_bytes, read_policy_text, ReadError,
    Workspace, BOM,
};
pub use crate::x12::{write_837p, Delimiters, Tokenizer, X12Reader, X12Writer};
