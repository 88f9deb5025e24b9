//! What a limit or a count adds up: a limit's most (PR211, PR215), the
//! `bilateral as K` clause (PR308, PR211) and the `with modifier` clause
//! (PR316); `count`'s and `sum`'s types are the expression checker's
//! (PR309).

use std::sync::Arc;

use super::positive;
use crate::codes::ModifierFilter;
use crate::diagnostic::{DiagCode, Diagnostic, SourceFile};
use crate::syntax::ast::{LimitMax, Measure, WithModifiers};
use crate::syntax::Spanned;

/// A limit's most: a whole number from 0 to 100000 of lines, units or dates
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
            let what = measure.map_or("lines", Measure::word);
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

/// PR316 for a `with modifier` clause (of a limit, an interval, a count or
/// a sum) that names something other than a modifier (two letters or
/// digits, as claims carry them) or more than [`ModifierFilter::MAX`]
/// different modifiers: the history could never match it.
pub(super) fn with_modifiers(
    clause: Option<&WithModifiers>,
    file: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    let Some(clause) = clause else { return };
    let before = diags.len();
    for code in &clause.codes {
        if ModifierFilter::of([code.node.as_str()]).is_none() {
            // Several modifiers in one string (`"GP, GN"`): name the fix.
            let parts: Vec<&str> = code
                .node
                .split([',', '/', ' '])
                .filter(|p| !p.is_empty())
                .collect();
            let help = if parts.len() > 1 && ModifierFilter::of(parts.iter().copied()).is_some() {
                let apart: Vec<String> = parts.iter().map(|p| format!("\"{p}\"")).collect();
                format!(
                    "write each modifier in quotes of its own, joined by `or`: `with modifier {}`",
                    apart.join(" or ")
                )
            } else {
                "a modifier is two letters or digits, as claims carry them: `with modifier \"GP\" or \"GN\"`"
                    .to_string()
            };
            diags.push(
                Diagnostic::new(
                    DiagCode::BadModifierFilter,
                    file,
                    code.span,
                    format!("`{}` is not a modifier", code.node),
                )
                .with_help(help),
            );
        }
    }
    if diags.len() == before
        && ModifierFilter::of(clause.codes.iter().map(|c| c.node.as_str())).is_none()
    {
        let mut different: Vec<String> = clause
            .codes
            .iter()
            .map(|c| c.node.to_ascii_uppercase())
            .collect();
        different.sort_unstable();
        different.dedup();
        diags.push(
            Diagnostic::new(
                DiagCode::BadModifierFilter,
                file,
                clause.span,
                format!(
                    "`with modifier` names {} different modifiers; at most {} count together",
                    different.len(),
                    ModifierFilter::MAX
                ),
            )
            .with_help("split the rule in two, each counting some of the modifiers"),
        );
    }
}
