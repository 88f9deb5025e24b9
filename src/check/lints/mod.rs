//! Lints: policies that load but are likely wrong (the `PR4xx` codes), plus the
//! table of which checks are lints.
//!
//! Each lint is one small type implementing [`Lint`], in its own file, and one row
//! of [`LINTS`]. A lint reports only its own code. Module lints see one module
//! with its scope; workspace lints see every file (e.g. policies of one payer
//! whose dates overlap).
//!
//! Some lints reuse older codes that the checker reports while it resolves names
//! and codes (`PR203`, `PR206`, `PR207`, `PR109`, `PR211`); [`LINT_CODES`] lists
//! every code that `docs/lints/` documents as a lint.

mod anchored_period;
mod codes_in_no_region;
mod dead_conditions;
mod overlapping_codes;
mod overlapping_versions;
mod remark_codes;
mod same_day;
pub(crate) mod sets;
mod unused_sets;
mod visit;
mod zero_charges;
mod zero_limit;

use std::sync::Arc;

use super::scope::Scope;
use crate::diagnostic::{DiagCode, Diagnostic, SourceFile};
use crate::syntax::ast::Module;
use crate::workspace::Workspace;

/// What a module lint sees.
pub struct ModuleCx<'a, 'w> {
    /// The module.
    pub module: &'w Module,
    /// The names it sees.
    pub scope: &'a Scope<'w>,
    /// Its file.
    pub file: &'a Arc<SourceFile>,
    /// False when the checker found errors in the file. Lints that reason about
    /// the whole module (unused sets, dead conditions) stay quiet then: an item
    /// that did not parse, a name that does not resolve or a malformed code
    /// would make them guess.
    pub clean: bool,
}

/// One lint: a code and the checks that report it.
pub trait Lint: Sync {
    /// The code every diagnostic of this lint carries.
    fn code(&self) -> DiagCode;

    /// Checks one module (policy or library).
    fn module(&self, _cx: &ModuleCx<'_, '_>, _diags: &mut Vec<Diagnostic>) {}

    /// Checks the whole workspace once.
    fn workspace(&self, _ws: &Workspace, _diags: &mut Vec<Diagnostic>) {}
}

/// Every lint, in code order.
pub static LINTS: &[&dyn Lint] = &[
    &overlapping_codes::OverlappingCodes,
    &unused_sets::UnusedCodeSets,
    &dead_conditions::DeadConditions,
    &overlapping_versions::OverlappingVersions,
    &zero_limit::ZeroLimit,
    &remark_codes::RemarkCodes,
    &zero_charges::ZeroCharges,
    &anchored_period::LongAnchoredPeriod,
    &same_day::SameDayCondition,
    &codes_in_no_region::CodesInNoRegion,
];

/// The codes documented as lints in `docs/lints/`: the checker's code checks that
/// are lints in all but number, then the `LINTS`.
pub const LINT_CODES: &[DiagCode] = &[
    DiagCode::MissingSource,
    DiagCode::MalformedProcedure,
    DiagCode::UnknownDiagnosis,
    DiagCode::HeaderDiagnosis,
    DiagCode::NumberOutOfRange,
    DiagCode::OverlappingCodes,
    DiagCode::UnusedCodeSet,
    DiagCode::DeadCondition,
    DiagCode::OverlappingVersions,
    DiagCode::ZeroLimit,
    DiagCode::RemarkCodes,
    DiagCode::ChargesLimitOfZero,
    DiagCode::LongAnchoredPeriod,
    DiagCode::SameDayCondition,
    DiagCode::CodesInNoRegion,
];

/// Runs every module lint on one module.
pub fn check_module(cx: &ModuleCx<'_, '_>, diags: &mut Vec<Diagnostic>) {
    for lint in LINTS {
        let from = diags.len();
        lint.module(cx, diags);
        debug_assert!(diags.iter().skip(from).all(|d| d.code == lint.code()));
    }
}

/// Runs every workspace lint.
pub fn check_workspace(ws: &Workspace, diags: &mut Vec<Diagnostic>) {
    for lint in LINTS {
        let from = diags.len();
        lint.workspace(ws, diags);
        debug_assert!(diags.iter().skip(from).all(|d| d.code == lint.code()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages of code `code` that the one-file policy `text` makes; the
    /// text must load without errors (a lint's test is about its warnings, not
    /// a typo in the fixture).
    pub(super) fn lint_messages(text: &str, code: DiagCode) -> Vec<String> {
        let loaded = crate::policies::Policies::from_source("t.policy", text);
        assert!(!loaded.has_errors(), "{text}: {:?}", loaded.diagnostics);
        loaded
            .diagnostics
            .into_iter()
            .filter(|d| d.code == code)
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn each_lint_has_its_own_lint_code() {
        let mut seen = std::collections::HashSet::new();
        for lint in LINTS {
            assert!(seen.insert(lint.code()), "{:?} twice", lint.code());
            assert!(lint.code().is_lint(), "{:?}", lint.code());
            assert!(LINT_CODES.contains(&lint.code()), "{:?}", lint.code());
        }
        for code in DiagCode::ALL.iter().filter(|c| c.is_lint()) {
            assert!(seen.contains(code), "no lint reports {code:?}");
        }
    }
}
