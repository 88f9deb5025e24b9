//! What a limit or a count adds up: a limit's most (PR211, PR215) and the
//! `bilateral as K` clause (PR308, PR211); `count`'s and `sum`'s types are
//! the expression checker's (PR309).

use std::sync::Arc;

use super::positive;
use crate::diagnostic::{DiagCode, Diagnostic, SourceFile};
use crate::syntax::ast::{LimitMax, Measure};
use crate::syntax::Spanned;

/// A limit's most: a whole number from 0 to 100000 of lines or units
/// (PR211, and PR215 for a fraction), any amount of at most 28 significant
/// digits for `charges`.
pub(super) fn limit_max(
    max: &Spanned<LimitMax>,
    measure: Option<Measure>,
    file: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    let written = || file.written(max.span);
    match (measure, max.node) {
        (Some(Measure::Charges), LimitMax::Decimal(None)) => diags.push(
            Diagnostic::new(
                DiagCode::NumberOutOfRange,
                file,
                max.span,
                format!("an amount of `{}` is out of range", written()),
            )
            .with_help("amounts compare exactly, as decimals of at most 28 significant digits"),
        ),
        (Some(Measure::Charges), _) => {}
        (_, LimitMax::Whole(n)) => {
            if n > super::MOST_LENGTH {
                positive(&Spanned::new(n, max.span), "a limit", false, file, diags);
            }
        }
        // A whole number past `u32`, or one too long to read: out of range.
        (_, LimitMax::Decimal(d)) if d.is_none_or(|d| d.fract().is_zero()) => {
            positive(
                &Spanned::new(u32::MAX, max.span),
                "a limit",
                false,
                file,
                diags,
            );
        }
        (measure, LimitMax::Decimal(_)) => {
            let what = if measure == Some(Measure::Units) {
                "units"
            } else {
                "lines"
            };
            diags.push(
                Diagnostic::new(
                    DiagCode::LimitNotWhole,
                    file,
                    max.span,
                    format!("a limit of {what} is a whole number, not `{}`", written()),
                )
                .with_help(format!(
                    "write a whole number of {what}, e.g. `to 2`; a limit of amounts billed is \
                     `limit SET charges to {} per ...`",
                    written()
                )),
            );
        }
    }
}

/// `bilateral as K`: only where units are counted (PR308), and K is 1 or 2
/// (PR211). `what`: `limit` or `count`, for the message.
pub(super) fn bilateral_clause(
    k: &Spanned<u32>,
    measure: Option<Measure>,
    what: &str,
    file: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    let written = file.written(k.span);
    if measure != Some(Measure::Units) {
        let counted = measure.map_or("lines", Measure::word);
        diags.push(
            Diagnostic::new(
                DiagCode::BilateralWithoutUnits,
                file,
                k.span,
                format!("`{written}` weighs units, but this {what} adds up {counted}"),
            )
            .with_help(format!(
                "count units (`{}`), or remove `{written}`: a line with modifier 50 is one \
                 line and its charge is its charge",
                if what == "limit" {
                    "limit SET units to N ..."
                } else {
                    "count(SET units ...)"
                }
            )),
        );
        return;
    }
    if !(1..=2).contains(&k.node) {
        diags.push(
            Diagnostic::new(
                DiagCode::NumberOutOfRange,
                file,
                k.span,
                format!("`{written}` is out of range"),
            )
            .with_help(
                "a line with modifier 50 counts its units as billed (`bilateral as 1`) or twice \
                 (`bilateral as 2`)",
            ),
        );
    }
}
