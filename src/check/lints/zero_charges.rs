//! PR407: `limit SET charges to 0 ...`: every service of the set billed
//! above 0 is over the limit, so the check fails on every line with a charge;
//! only lines billed at 0 (or without a charge) pass. Nearly always a
//! threshold left out (the Medicare therapy threshold is `2410.00`), or a
//! bare action written as a limit.
//!
//! The grammar admits no negative amount, so 0 is the one amount that is
//! not positive.

use super::visit::{limits, LimitCheck};
use super::{Lint, ModuleCx};
use crate::diagnostic::{DiagCode, Diagnostic};
use crate::syntax::ast::Measure;

/// See the module docs.
pub struct ZeroCharges;

impl Lint for ZeroCharges {
    fn code(&self) -> DiagCode {
        DiagCode::ChargesLimitOfZero
    }

    fn module(&self, cx: &ModuleCx<'_, '_>, diags: &mut Vec<Diagnostic>) {
        for LimitCheck {
            check,
            set,
            max,
            measure,
            with_modifiers,
        } in limits(cx.module)
        {
            // `with modifier`: a line without those modifiers does not count
            // its charge, so it is not denied for it (see PR405's lint).
            if measure != Some(Measure::Charges)
                || max.node.decimal().is_none_or(|d| !d.is_zero())
                || with_modifiers
            {
                continue;
            }
            let (set, action) = (
                cx.file.written(set.span()),
                cx.file.written(check.action.span),
            );
            diags.push(
                Diagnostic::new(
                    DiagCode::ChargesLimitOfZero,
                    cx.file,
                    max.span,
                    format!(
                        "a `charges` limit of `{}` denies every service in `{set}` billed above 0",
                        cx.file.written(max.span)
                    ),
                )
                .with_label("only a line billed at 0 is within this limit")
                .with_help(format!(
                    "write the amount the charges may add up to, e.g. `to 2410.00`; to deny \
                     the set's lines whatever they bill, use a bare action: `{action}`"
                )),
            );
        }
    }
}
