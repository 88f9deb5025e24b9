//! PR408: a period anchored at a member's first service (`per M months from
//! first`, `in M months from first`) of 10 years or more.
//!
//! An anchored period starts again only at the first service after it ends.
//! Payers anchor benefit periods of weeks or months to a year or two (a
//! visit limit "per 12 months from the first visit", an episode of care of
//! 60 or 90 days); one of 10 years or more (120 months, 3650 days) hardly
//! ever starts again within the history a payer keeps, so it is in effect a
//! limit over the member's whole history, or more likely a slip (`120
//! months` for `12 months`, `365 months` for `365 days`). Lengths out of range are
//! PR211 and not reported again here.

use super::visit::{rule_conditions, rules, walk};
use super::{Lint, ModuleCx};
use crate::check::{MOST_LENGTH, MOST_WINDOW_DAYS, MOST_WINDOW_MONTHS};
use crate::diagnostic::{DiagCode, Diagnostic};
use crate::syntax::ast::{CheckKind, ExprKind, Period, TimeUnit, Window};
use crate::syntax::{Span, Spanned};

/// See the module docs.
pub struct LongAnchoredPeriod;

/// The shortest anchored period reported, in months and in days.
const LEAST_MONTHS: u32 = 120;
const LEAST_DAYS: u32 = 3_650;

impl Lint for LongAnchoredPeriod {
    fn code(&self) -> DiagCode {
        DiagCode::LongAnchoredPeriod
    }

    fn module(&self, cx: &ModuleCx<'_, '_>, diags: &mut Vec<Diagnostic>) {
        let mut found: Vec<(Span, u32, TimeUnit)> = Vec::new();
        for rule in rules(cx.module) {
            for cond in rule_conditions(rule) {
                walk(cond, &mut |e| {
                    if let ExprKind::Count { window, .. } = &e.kind {
                        found.extend(anchored_window(window));
                    }
                });
            }
            for check in &rule.checks {
                // The range of a limit's length, which PR211 checks.
                if let CheckKind::Limit { period, .. } = &check.kind {
                    found.extend(long(period.span, &period.node, MOST_LENGTH, MOST_LENGTH));
                }
            }
        }
        for (span, length, unit) in found {
            let written = cx.file.written(span);
            let years = match unit {
                TimeUnit::Months => length / 12,
                TimeUnit::Days => length / 365,
            };
            diags.push(
                Diagnostic::new(
                    DiagCode::LongAnchoredPeriod,
                    cx.file,
                    span,
                    format!("`{written}` starts a new period only after {years} years"),
                )
                .with_label("anchored periods this long are in effect never renewed")
                .with_help(
                    "check the number and the unit against the payer's document (a year from the first service is `12 months from first`); for a limit over the member's whole history, a rolling window says so without an anchor",
                ),
            );
        }
    }
}

/// An anchored period as long as the lint reports and within its range (at
/// most `days` days or `months` months): its span, length and unit.
fn long(span: Span, period: &Period, days: u32, months: u32) -> Option<(Span, u32, TimeUnit)> {
    let Period::Anchored { length, unit } = period else {
        return None;
    };
    let (least, range) = match unit {
        TimeUnit::Months => (LEAST_MONTHS, months),
        TimeUnit::Days => (LEAST_DAYS, days),
    };
    (length.node >= least && length.node <= range).then_some((span, length.node, *unit))
}

/// The anchored window of a count (`in M months from first`; a window
/// written with `within` is PR311's), when long enough to report.
fn anchored_window(window: &Spanned<Window>) -> Option<(Span, u32, TimeUnit)> {
    let Window::In {
        period,
        before: false,
    } = &window.node
    else {
        return None;
    };
    // Within a count's range, which PR211 checks.
    long(window.span, period, MOST_WINDOW_DAYS, MOST_WINDOW_MONTHS)
}
