//! PR406: an action's reason code used against its X12 definition.
//!
//! Two cases, both read from the code's text in the X12 Claim Adjustment
//! Reason Code list:
//!
//! - a CARC whose definition says "At least one Remark Code must be
//!   provided" (16, 96, 252 and the others in [`NEEDS_REMARK`]) with no
//!   `rarc`: the remittance would break the code list's own rule;
//! - CARC 16 used to ask for documentation: its definition says "Do not use
//!   this code for claims attachment(s)/other documentation". Precisely: a
//!   `require` check whose condition reads a documentation fact
//!   (`facts.NAME`) and whose action (`review` or `deny`) carries CARC 16.
//!   CARC 252 ("An attachment/other documentation is required to
//!   adjudicate this claim/service") with RARC N706 ("Missing
//!   documentation") says it.

use super::visit::{rules, walk};
use super::{Lint, ModuleCx};
use crate::diagnostic::{DiagCode, Diagnostic};
use crate::syntax::ast::{Action, CheckKind, Expr, ExprKind, Verb};

/// See the module docs.
pub struct RemarkCodes;

/// The CARCs whose X12 definition says "At least one Remark Code must be
/// provided (may be comprised of either the NCPDP Reject Reason Code, or
/// Remittance Advice Remark Code that is not an ALERT.)".
///
/// Source: the X12 CARC texts as OpenEMR copies them
/// (`openemr/openemr`, `src/Billing/BillingUtilities.php`,
/// `claim_adjustment_reason_codes`, read at commit 003893015c54), each
/// code's text read there: 16, 96, 129, 148, 201, 226, 227, 234, 237, 250,
/// 251, 252, 267 and A1. 16, 96 and 252 are also in the project's audit
/// (`tpi-policy-audit.md`, section 9). Codes added to the X12 list after
/// that copy are not here (unverified), so the lint may miss them but
/// never flags a code whose text does not ask for a remark code.
pub const NEEDS_REMARK: &[&str] = &[
    "16", "96", "129", "148", "201", "226", "227", "234", "237", "250", "251", "252", "267", "A1",
];

impl Lint for RemarkCodes {
    fn code(&self) -> DiagCode {
        DiagCode::RemarkCodes
    }

    fn module(&self, cx: &ModuleCx<'_, '_>, diags: &mut Vec<Diagnostic>) {
        for rule in rules(cx.module) {
            for check in &rule.checks {
                let action = &check.action;
                let Some((carc, reason)) = carc_of(action) else {
                    continue;
                };
                let asks_for_documentation = reason == "16"
                    && matches!(action.verb.node, Verb::Review | Verb::Deny)
                    && matches!(&check.kind, CheckKind::Require(cond) if reads_fact(cond));
                if asks_for_documentation {
                    diags.push(
                        Diagnostic::new(
                            DiagCode::RemarkCodes,
                            cx.file,
                            carc.span,
                            format!(
                                "`{}` asks for documentation, which CARC 16 must not be used for",
                                carc.node
                            ),
                        )
                        .with_label("this check fails when a documentation fact is missing or falls short")
                        .with_help(
                            "X12 says of CARC 16 \"Do not use this code for claims attachment(s)/other documentation\": \
                             use `CO-252 rarc N706` (an attachment/other documentation is required; missing documentation)",
                        ),
                    );
                } else if action.rarc.is_empty() && NEEDS_REMARK.contains(&reason) {
                    diags.push(
                        Diagnostic::new(
                            DiagCode::RemarkCodes,
                            cx.file,
                            carc.span,
                            format!("`{}` needs at least one remark code", carc.node),
                        )
                        .with_label("no `rarc` follows")
                        .with_help(format!(
                            "X12 says of CARC {reason} \"At least one Remark Code must be provided\": add `rarc CODE` naming why \
                             (e.g. `rarc N706` for missing documentation, `rarc N130` for plan benefit limits)"
                        )),
                    );
                }
            }
        }
    }
}

/// The action's `GROUP-REASON` and its reason code (`16` of `CO-16`).
fn carc_of(action: &Action) -> Option<(&crate::syntax::Spanned<String>, &str)> {
    let carc = action.carc.as_ref()?;
    let (_, reason) = carc.node.split_once('-')?;
    Some((carc, reason))
}

/// True when the condition reads a documentation fact anywhere.
fn reads_fact(expr: &Expr) -> bool {
    let mut reads = false;
    walk(expr, &mut |e| {
        if let ExprKind::Field(parts) = &e.kind {
            reads |= parts.first().is_some_and(|p| p.node == "facts");
        }
    });
    reads
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::DiagCode;

    /// How many PR406 warnings one rule body makes.
    fn warnings(body: &str) -> usize {
        let text = format!(
            "policy t {{ payer p version \"1\" effective 2024-01-01.. source \"s\"\n codes tpi = cpt 20552, 20553\n rule A {{ when line.procedure in tpi\n {body} }}\n}}"
        );
        super::super::tests::lint_messages(&text, DiagCode::RemarkCodes).len()
    }

    #[test]
    fn codes_that_need_a_remark_code_are_flagged_without_one() {
        for body in [
            "deny CO-96",
            "deny PR-96",
            "review CO-16",
            "review CO-252",
            "deny OA-A1",
            "require line.units <= 1 else deny CO-234",
        ] {
            assert_eq!(warnings(body), 1, "{body}");
        }
        for body in [
            "deny CO-96 rarc N130",
            "review CO-252 rarc N706",
            "deny CO-50",
            "deny CO-151 rarc N640",
            "require line.units <= 1 else deny CO-151",
            // Not in the X12 list's text as read (see `NEEDS_REMARK`).
            "deny CO-97",
        ] {
            assert_eq!(warnings(body), 0, "{body}");
        }
    }

    #[test]
    fn carc_16_asking_for_documentation_is_flagged() {
        for body in [
            "require facts.relief_percent exists else review CO-16 rarc N706",
            "require facts.palpated else deny CO-16 rarc N349",
            "require line.units <= 1 and not (facts.relief_percent < 50) else review CO-16 rarc M51",
            // Both problems of one action are one warning: the fix for the
            // second replaces the code.
            "require facts.relief_percent >= 50 else review CO-16",
        ] {
            assert_eq!(warnings(body), 1, "{body}");
        }
        for body in [
            // Not about documentation.
            "require some other line (other.procedure in tpi) else review CO-16 rarc N349",
            // A bare action: the condition that chose the line is no request.
            "review CO-16 rarc N349",
            // An allow says nothing is missing.
            "require facts.relief_percent exists else allow CO-16 rarc N706",
            "require facts.relief_percent exists else review CO-252 rarc N706",
        ] {
            assert_eq!(warnings(body), 0, "{body}");
        }
    }
}
