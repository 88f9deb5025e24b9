//! Policy tooling for programs that treat policies as code: the formatter, the
//! test-case runner, impact reports (what a policy change does to real
//! claims) and the ICD-10-CM table. The `payer-rules` commands `fmt`,
//! `test` and `codes lookup` are thin shells over these; an editor plugin or a
//! CI step can call them the same way.

pub use crate::codes::icd10::{lookup as lookup_icd10, nearest as nearest_icd10};
pub use crate::codes::{Icd10Code, Icd10Kind};
pub use crate::diagnostic::json_lines as diagnostics_json_lines;
pub use crate::fmt::{format, FormatError};
pub use crate::impact::{
    Example, Group, Impact, Money, OutcomeChange, Replay, RuleChange, EXAMPLES_PER_RULE,
};
pub use crate::testing::{
    cases_for, run_cases, run_cases_within, run_file, CaseFileError, CaseResult, Coverage,
    FileReport, Mismatch, RuleRef,
};
