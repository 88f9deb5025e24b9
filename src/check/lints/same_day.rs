//! PR410: a same-day quantifier used in a way that cannot be what was meant.
//!
//! Two cases, both read from the condition in the parentheses of
//! `some/no other service on same day (...)`:
//!
//! - it never tests `other.procedure` (or `other.region`, the region of the
//!   code) against codes, with `in` or a comparison (`other.procedure
//!   exists`, `other.region is missing` say nothing of which codes): the
//!   other services are every line of the claim on the date and
//!   every service of the member's earlier claims on it, whatever they are
//!   (a drug line, an E/M visit); a condition that does not say which codes
//!   it looks for is met by any of them (`some`) or by none (`no`), which is
//!   rarely the payer's edit;
//! - it tests `other.date_of_service`: every service it looks at is on the
//!   line's date, so the test says nothing (or, compared with another date,
//!   makes the condition one that never holds).

use super::visit::{rule_conditions, rules, walk};
use super::{Lint, ModuleCx};
use crate::diagnostic::{DiagCode, Diagnostic};
use crate::syntax::ast::{Expr, ExprKind, Others};

/// See the module docs.
pub struct SameDayCondition;

impl Lint for SameDayCondition {
    fn code(&self) -> DiagCode {
        DiagCode::SameDayCondition
    }

    fn module(&self, cx: &ModuleCx<'_, '_>, diags: &mut Vec<Diagnostic>) {
        for rule in rules(cx.module) {
            for cond in rule_conditions(rule) {
                walk(cond, &mut |e| {
                    if let ExprKind::Quantified {
                        over: Others::SameDayServices,
                        body,
                        ..
                    } = &e.kind
                    {
                        check_body(cx, e, body, diags);
                    }
                });
            }
        }
    }
}

/// Reports what is wrong with the condition `body` of the same-day
/// quantifier `quantifier`.
fn check_body(cx: &ModuleCx<'_, '_>, quantifier: &Expr, body: &Expr, diags: &mut Vec<Diagnostic>) {
    let mut tests_procedure = false;
    let mut dates = Vec::new();
    // A region is a set of codes: `other.region == line.region` says which
    // codes it looks for as `other.procedure in SET` does. Only a
    // membership or a comparison names codes; `exists` and `is missing`
    // hold for (nearly) every service.
    let names_codes = |e: &Expr| matches!(other_field(e), Some("procedure" | "region"));
    walk(body, &mut |e| {
        match &e.kind {
            ExprKind::Compare { lhs, rhs, .. } if names_codes(lhs) || names_codes(rhs) => {
                tests_procedure = true;
            }
            ExprKind::In { lhs, .. } if names_codes(lhs) => tests_procedure = true,
            _ => {}
        }
        if other_field(e) == Some("date_of_service") {
            dates.push(e.span);
        }
    });
    if !tests_procedure {
        diags.push(
            Diagnostic::new(
                DiagCode::SameDayCondition,
                cx.file,
                quantifier.span,
                "this same-day quantifier never tests `other.procedure`",
            )
            .with_label("any service on the date meets its condition")
            .with_help(
                "say which codes it looks for: `some other service on same day (other.procedure in SET)`",
            ),
        );
    }
    for span in dates {
        diags.push(
            Diagnostic::new(
                DiagCode::SameDayCondition,
                cx.file,
                span,
                "`other.date_of_service` is always the line's date here",
            )
            .with_label("every service a same-day quantifier looks at is on the line's date")
            .with_help("remove the test of `other.date_of_service`"),
        );
    }
}

/// The name of the `other.` field an expression reads, if it is one.
fn other_field(expr: &Expr) -> Option<&str> {
    expr.field()
        .and_then(|(record, name)| (record == "other").then_some(name))
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::DiagCode;
    use crate::policies::Policies;

    /// The PR410 messages one `when` condition makes.
    fn warnings(cond: &str) -> Vec<String> {
        let text = format!(
            "policy t {{ payer p version \"1\" effective 2024-01-01.. source \"s\"\n codes tpi = cpt 20552, 20553\n codes guidance = cpt 77002\n rule A {{ when line.procedure in guidance\n when {cond}\n deny CO-50 rarc N115 }}\n}}"
        );
        super::super::tests::lint_messages(&text, DiagCode::SameDayCondition)
    }

    #[test]
    fn a_test_of_the_code_is_quiet() {
        for cond in [
            "some other service on same day (other.procedure in tpi)",
            "no other service on same day (other.procedure in tpi and other.site == line.site)",
            "some other service on same day (other.site is missing or not (other.procedure == line.procedure))",
            // Over other lines, the date is the test that makes it same-day.
            "some other line (other.site exists and other.date_of_service == line.date_of_service)",
        ] {
            assert_eq!(warnings(cond), Vec::<String>::new(), "{cond}");
        }
    }

    #[test]
    fn a_test_of_the_region_is_quiet() {
        // A region is a set of codes: the condition says which it looks for.
        let text = "policy t { payer p version \"1\" effective 2024-01-01.. source \"s\"\n codes esi = cpt 62321, 62323\n region cervical_thoracic = cpt 62321\n region lumbar_sacral = cpt 62323\n rule A { when line.procedure in esi\n when some other service on same day (other.region == line.region)\n review CO-252 rarc N706 }\n}";
        let loaded = Policies::from_source("t.policy", text);
        let codes: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code.code()).collect();
        assert_eq!(codes, Vec::<&str>::new());
        assert!(loaded.policies.is_some());
        // Whether the code has a region says nothing of which codes.
        let text = text.replace("other.region == line.region", "other.region is missing");
        let loaded = Policies::from_source("t.policy", &text);
        let codes: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code.code()).collect();
        assert_eq!(codes, ["PR410"]);
    }

    #[test]
    fn no_test_of_the_code_warns() {
        for cond in [
            "some other service on same day (other.site == line.site)",
            "no other service on same day (line.units > 1)",
            // Also when nested under `not`, or beside other conditions.
            "line.units > 1 and not (some other service on same day (other.site exists))",
            // Whether a code or a region is there says nothing of which.
            "some other service on same day (other.procedure exists)",
        ] {
            assert_eq!(
                warnings(cond),
                ["this same-day quantifier never tests `other.procedure`"],
                "{cond}"
            );
        }
    }

    #[test]
    fn a_test_of_the_date_warns() {
        assert_eq!(
            warnings(
                "some other service on same day (other.procedure in tpi and other.date_of_service == line.date_of_service)"
            ),
            ["`other.date_of_service` is always the line's date here"]
        );
        assert_eq!(
            warnings("some other service on same day (other.date_of_service exists)").len(),
            2
        );
    }
}
