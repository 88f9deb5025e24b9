//! PR405: `limit SET to 0 ...` (or `limit SET units to 0 ...`): every service
//! in the set is over the limit, so the check always fails. A bare action
//! says that plainly. A `charges` limit of 0 is PR407's.
//!
//! A window or interval of 0 days stays an error (PR211): it has no meaning.
//! A limit `with modifier` is left alone: a line billed without those
//! modifiers does not count itself, so it passes while the history holds
//! none of them, and no bare action says the same.

use super::visit::{limits, LimitCheck};
use super::{Lint, ModuleCx};
use crate::diagnostic::{DiagCode, Diagnostic};
use crate::syntax::ast::{LimitMax, Measure};

/// See the module docs.
pub struct ZeroLimit;

impl Lint for ZeroLimit {
    fn code(&self) -> DiagCode {
        DiagCode::ZeroLimit
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
            // A `charges` limit of 0 passes a service billed at 0: PR407.
            if max.node != LimitMax::Whole(0) || measure == Some(Measure::Charges) || with_modifiers
            {
                continue;
            }
            let (set, action) = (
                cx.file.written(set.span()),
                cx.file.written(check.action.span),
            );
            diags.push(
                Diagnostic::new(
                    DiagCode::ZeroLimit,
                    cx.file,
                    max.span,
                    format!("a limit of 0 denies every service in `{set}`"),
                )
                .with_label("no service is ever within this limit")
                .with_help(format!(
                    "use a bare action instead: `{action}`, with `when line.procedure in {set}` to choose the lines"
                )),
            );
        }
    }
}
