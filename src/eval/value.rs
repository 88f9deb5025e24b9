//! Run-time values and the operations conditions apply to them.
//!
//! A missing value (an absent optional field or fact) makes every comparison and
//! membership test false; only `exists` / `is missing` look at it. A fact whose
//! run-time type does not fit the comparison is treated the same way.

use std::cmp::Ordering;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::claims::{Claim, FactValue, Line, Text};
use crate::codes::CodeKey;
use crate::compile::plan::{CompareOp, Const};
use crate::compile::CodeSet;
use crate::number::{cmp_float, cmp_int, int_to_float, Exact};

/// A value read from a claim, a fact, a literal or the history.
#[derive(Debug, Clone, Copy)]
pub enum Val<'a> {
    /// Absent.
    Missing,
    /// A whole number.
    Int(i64),
    /// A claim's number with a fraction: a double, standing for the
    /// shortest decimal that reads back as it (`crate::number`).
    Num(f64),
    /// A policy's number literal with a fraction (or beyond 64 bits), exact.
    Dec(&'a Exact),
    /// An amount the engine added up exactly: a `sum` of charges.
    Sum(Decimal),
    /// Text.
    Str(&'a str),
    /// True/false.
    Bool(bool),
    /// A date.
    Date(NaiveDate),
    /// A code.
    Code(CodeKey),
    /// The diagnoses a line points to.
    LineDx(&'a Line, &'a Claim),
    /// Every diagnosis of the claim.
    ClaimDx(&'a Claim),
    /// A list of text values (modifiers).
    List(&'a [Text]),
}

impl<'a> Val<'a> {
    /// The value of a literal.
    pub fn of_const(c: &'a Const) -> Val<'a> {
        match c {
            Const::Int(i) => Val::Int(*i),
            Const::Number(n) => Val::Dec(n),
            Const::Str(s) => Val::Str(s),
            Const::Bool(b) => Val::Bool(*b),
            Const::Date(d) => Val::Date(*d),
        }
    }

    /// The value of a fact.
    pub fn of_fact(f: Option<&'a FactValue>) -> Val<'a> {
        match f {
            None => Val::Missing,
            Some(FactValue::Bool(b)) => Val::Bool(*b),
            Some(FactValue::Number(n)) => Val::Num(*n),
            Some(FactValue::Integer(i)) => Val::Int(*i),
            Some(FactValue::Text(s)) => Val::Str(s),
            Some(FactValue::Date(d)) => Val::Date(*d),
        }
    }

    /// True unless missing.
    pub fn is_present(self) -> bool {
        !matches!(self, Val::Missing)
    }

    fn codes(self) -> Option<Codes<'a>> {
        match self {
            Val::LineDx(line, claim) => Some(Codes::Pointed(line.diagnosis_pointers.iter(), claim)),
            Val::ClaimDx(claim) => Some(Codes::All(claim.diagnoses.iter())),
            _ => None,
        }
    }
}

fn order(a: Val<'_>, b: Val<'_>) -> Option<Ordering> {
    // Every pair of numbers compares exactly, as decimals: see `crate::number`.
    match (a, b) {
        (Val::Int(x), Val::Int(y)) => Some(x.cmp(&y)),
        (Val::Int(x), Val::Num(y)) => int_to_num(x, y),
        (Val::Num(x), Val::Int(y)) => int_to_num(y, x).map(Ordering::reverse),
        // Two doubles order as their shortest decimals do.
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(&y),
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        (Val::Date(x), Val::Date(y)) => Some(x.cmp(&y)),
        (Val::Dec(_) | Val::Sum(_), _) | (_, Val::Dec(_) | Val::Sum(_)) => decimal_order(a, b),
        _ => None,
    }
}

/// How a whole number compares with a claim's double, as decimals. Up to
/// 2^53 the double's binary value decides it (see `int_to_float`); beyond,
/// a whole number may lie between a double and its shortest decimal.
#[inline]
fn int_to_num(i: i64, f: f64) -> Option<Ordering> {
    if i.unsigned_abs() <= 1 << 53 {
        int_to_float(i, f)
    } else {
        large_int_to_num(i, f)
    }
}

#[cold]
#[inline(never)]
fn large_int_to_num(i: i64, f: f64) -> Option<Ordering> {
    cmp_float(f, &Exact::of_int(i)).map(Ordering::reverse)
}

/// [`order`] of a policy's decimal literal with anything: out of line, so
/// that the conditions that never meet one (the bundled policies' all) do
/// not carry its code.
#[cold]
#[inline(never)]
fn decimal_order(a: Val<'_>, b: Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Int(x), Val::Dec(y)) => Some(cmp_int(x, y)),
        (Val::Dec(x), Val::Int(y)) => Some(cmp_int(y, x).reverse()),
        (Val::Num(x), Val::Dec(y)) => cmp_float(x, y),
        (Val::Dec(x), Val::Num(y)) => cmp_float(y, x).map(Ordering::reverse),
        (Val::Dec(x), Val::Dec(y)) => Some(x.value.cmp(&y.value)),
        // A sum is compared as the decimal it is; a claim's double as its
        // shortest decimal (`crate::number`).
        (Val::Sum(x), Val::Sum(y)) => Some(x.cmp(&y)),
        (Val::Sum(x), Val::Int(y)) => Some(x.cmp(&Decimal::from(y))),
        (Val::Int(x), Val::Sum(y)) => Some(Decimal::from(x).cmp(&y)),
        (Val::Sum(x), Val::Dec(y)) => Some(x.cmp(&y.value)),
        (Val::Dec(x), Val::Sum(y)) => Some(x.value.cmp(&y)),
        (Val::Sum(x), Val::Num(y)) => cmp_float(y, &Exact::new(x)).map(Ordering::reverse),
        (Val::Num(x), Val::Sum(y)) => cmp_float(x, &Exact::new(y)),
        _ => None,
    }
}

fn equal(a: Val<'_>, b: Val<'_>) -> Option<bool> {
    match (a, b) {
        (Val::Bool(x), Val::Bool(y)) => Some(x == y),
        (Val::Code(x), Val::Code(y)) => Some(x == y),
        (Val::Code(x), Val::Str(s)) | (Val::Str(s), Val::Code(x)) => {
            Some(CodeKey::parse(s) == Some(x))
        }
        _ => order(a, b).map(|o| o == Ordering::Equal),
    }
}

/// `a OP b`; false when either side is missing or the types do not fit.
pub fn compare(op: CompareOp, a: Val<'_>, b: Val<'_>) -> bool {
    match op {
        CompareOp::Eq => equal(a, b) == Some(true),
        CompareOp::Ne => equal(a, b) == Some(false),
        _ => order(a, b).is_some_and(|o| holds(op, o)),
    }
}

/// Whether `a OP b` holds for two values that compare as `o` (`a` to `b`).
#[inline]
pub fn holds(op: CompareOp, o: Ordering) -> bool {
    match op {
        CompareOp::Eq => o == Ordering::Equal,
        CompareOp::Ne => o != Ordering::Equal,
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::Le => o != Ordering::Greater,
        CompareOp::Gt => o == Ordering::Greater,
        CompareOp::Ge => o != Ordering::Less,
    }
}

/// Whether one value is a member of a code set: `None` when it is no code.
pub fn code_in(v: Val<'_>, set: &CodeSet) -> Option<bool> {
    match v {
        Val::Code(k) => Some(set.contains(k)),
        Val::Str(s) => CodeKey::parse(s).map(|k| set.contains(k)),
        _ => None,
    }
}

/// The codes of a diagnosis list value, without boxing an iterator (conditions
/// on diagnoses run for nearly every line).
pub enum Codes<'a> {
    /// The diagnoses a line points to, in pointer order.
    Pointed(std::slice::Iter<'a, u8>, &'a Claim),
    /// Every diagnosis of the claim.
    All(std::slice::Iter<'a, CodeKey>),
}

impl Iterator for Codes<'_> {
    type Item = CodeKey;

    fn next(&mut self) -> Option<CodeKey> {
        match self {
            // Validation keeps every pointer in range; a stray one in a
            // hand-built claim is skipped, as `Line::pointed_diagnoses` does.
            Codes::Pointed(pointers, claim) => pointers.find_map(|&p| {
                let index = usize::from(p).checked_sub(1)?;
                claim.diagnoses.get(index).copied()
            }),
            Codes::All(codes) => codes.next().copied(),
        }
    }
}

/// The elements of a list value.
pub enum Elements<'a> {
    /// Text values (modifiers).
    Texts(std::slice::Iter<'a, Text>),
    /// Codes (diagnoses).
    Codes(Codes<'a>),
}

impl<'a> Iterator for Elements<'a> {
    type Item = Val<'a>;

    fn next(&mut self) -> Option<Val<'a>> {
        match self {
            Elements::Texts(items) => items.next().map(|s| Val::Str(s)),
            Elements::Codes(codes) => codes.next().map(Val::Code),
        }
    }
}

/// `list any in set` (when `all` is false) or `list all in set`.
pub fn codes_in(v: Val<'_>, set: &CodeSet, all: bool) -> bool {
    match v.codes() {
        Some(mut codes) if all => codes.all(|k| set.contains(k)),
        Some(mut codes) => codes.any(|k| set.contains(k)),
        None => false,
    }
}

/// The elements of a list value, as values.
pub fn elements(v: Val<'_>) -> Option<Elements<'_>> {
    match v {
        Val::List(items) => Some(Elements::Texts(items.iter())),
        other => other.codes().map(Elements::Codes),
    }
}

/// `list has value`.
pub fn has(list: Val<'_>, v: Val<'_>) -> bool {
    match elements(list) {
        Some(mut items) => items.any(|item| equal(item, v) == Some(true)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_makes_every_comparison_false() {
        for op in CompareOp::ALL {
            assert!(!compare(op, Val::Missing, Val::Int(1)), "{op:?}");
            assert!(!compare(op, Val::Int(1), Val::Missing), "{op:?}");
        }
    }

    #[test]
    fn numbers_compare_across_int_and_float() {
        assert!(compare(CompareOp::Ge, Val::Num(50.0), Val::Int(50)));
        assert!(compare(CompareOp::Lt, Val::Int(49), Val::Num(49.5)));
        assert!(compare(CompareOp::Eq, Val::Int(3), Val::Int(3)));
    }

    #[test]
    fn whole_numbers_compare_exactly_beyond_2_to_the_53() {
        let big = Val::Int(9_007_199_254_740_993);
        assert!(!compare(
            CompareOp::Eq,
            big,
            Val::Int(9_007_199_254_740_992)
        ));
        assert!(!compare(
            CompareOp::Eq,
            big,
            Val::Num(9_007_199_254_740_992.0)
        ));
        assert!(compare(
            CompareOp::Gt,
            big,
            Val::Num(9_007_199_254_740_992.0)
        ));
        assert!(compare(
            CompareOp::Lt,
            Val::Num(9_007_199_254_740_992.0),
            big
        ));
        assert!(compare(CompareOp::Lt, Val::Int(2), Val::Num(2.5)));
        assert!(compare(CompareOp::Gt, Val::Int(-2), Val::Num(-2.5)));
        assert!(compare(CompareOp::Lt, Val::Int(i64::MAX), Val::Num(1e19)));
        assert!(compare(CompareOp::Gt, Val::Int(i64::MIN), Val::Num(-1e19)));
        assert!(!compare(CompareOp::Eq, Val::Int(1), Val::Num(f64::NAN)));
    }

    #[test]
    fn literal_decimals_compare_exactly_with_every_number() {
        let lit =
            |t: &str| Exact::new(rust_decimal::Decimal::from_str_exact(t).unwrap_or_default());
        let (cents, long, point3) = (lit("100.10"), lit("100.100000000000000001"), lit("0.3"));
        assert!(compare(CompareOp::Ge, Val::Num(100.10), Val::Dec(&cents)));
        assert!(compare(CompareOp::Eq, Val::Dec(&cents), Val::Num(100.1)));
        // The same double, not the same decimal.
        assert!(compare(CompareOp::Lt, Val::Num(100.10), Val::Dec(&long)));
        assert!(compare(CompareOp::Gt, Val::Dec(&long), Val::Dec(&cents)));
        assert!(compare(
            CompareOp::Ne,
            Val::Num(0.1 + 0.2),
            Val::Dec(&point3)
        ));
        assert!(compare(
            CompareOp::Gt,
            Val::Num(0.1 + 0.2),
            Val::Dec(&point3)
        ));
        assert!(compare(CompareOp::Lt, Val::Int(100), Val::Dec(&cents)));
        assert!(compare(CompareOp::Gt, Val::Dec(&cents), Val::Int(100)));
        let big = lit("9223372036854775808");
        assert!(compare(CompareOp::Lt, Val::Int(i64::MAX), Val::Dec(&big)));
        assert!(!compare(CompareOp::Eq, Val::Num(f64::NAN), Val::Dec(&big)));
        // 2^60 as a double reads back as 1152921504606847000, its shortest
        // decimal; the whole number between them is below it.
        let between = Val::Int(1_152_921_504_606_846_980);
        assert!(compare(
            CompareOp::Lt,
            between,
            Val::Num(1_152_921_504_606_846_976.0)
        ));
        assert!(compare(
            CompareOp::Gt,
            Val::Num(1_152_921_504_606_846_976.0),
            between
        ));
    }

    #[test]
    fn sums_compare_exactly_with_every_number() {
        let dec = |t: &str| Decimal::from_str_exact(t).unwrap_or_default();
        let lit = |t: &str| Exact::new(dec(t));
        let (threshold, point3) = (lit("2410.00"), lit("0.3"));
        let sum = Val::Sum(dec("2410.00"));
        assert!(compare(CompareOp::Le, sum, Val::Dec(&threshold)));
        assert!(compare(CompareOp::Eq, sum, Val::Int(2410)));
        assert!(compare(
            CompareOp::Gt,
            Val::Sum(dec("2410.01")),
            Val::Int(2410)
        ));
        assert!(compare(
            CompareOp::Lt,
            Val::Int(2410),
            Val::Sum(dec("2410.01"))
        ));
        // 0.1 + 0.2 added as decimals is 0.3; as doubles it was not.
        let exact = Val::Sum(dec("0.1") + dec("0.2"));
        assert!(compare(CompareOp::Eq, exact, Val::Dec(&point3)));
        assert!(compare(CompareOp::Eq, Val::Dec(&point3), exact));
        assert!(compare(CompareOp::Lt, exact, Val::Num(0.1 + 0.2)));
        assert!(compare(CompareOp::Gt, Val::Num(0.1 + 0.2), exact));
        assert!(compare(CompareOp::Eq, exact, Val::Num(0.3)));
        assert!(compare(CompareOp::Eq, exact, Val::Sum(dec("0.30"))));
        assert!(!compare(CompareOp::Eq, exact, Val::Str("0.3")));
        assert!(!compare(CompareOp::Lt, exact, Val::Missing));
    }

    #[test]
    fn mismatched_types_are_neither_equal_nor_unequal() {
        assert!(!compare(CompareOp::Eq, Val::Str("50"), Val::Int(50)));
        assert!(!compare(CompareOp::Ne, Val::Str("50"), Val::Int(50)));
        assert!(!compare(CompareOp::Lt, Val::Bool(false), Val::Bool(true)));
    }

    #[test]
    fn codes_compare_with_text_ignoring_the_dot() {
        let k = CodeKey::parse("M79.18").unwrap_or_default();
        assert!(compare(CompareOp::Eq, Val::Code(k), Val::Str("M7918")));
        assert!(compare(CompareOp::Ne, Val::Code(k), Val::Str("M79.10")));
    }

    #[test]
    fn has_finds_modifiers() {
        let mods = [Text::from("25"), Text::from("LT")];
        assert!(has(Val::List(&mods), Val::Str("LT")));
        assert!(!has(Val::List(&mods), Val::Str("50")));
        assert!(!has(Val::Missing, Val::Str("50")));
    }
}
