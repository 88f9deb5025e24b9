//! Numbers compared exactly: a policy's number literals as decimals, and how
//! a claim's numbers compare with them.
//!
//! A policy's literal is kept as the decimal written (`100.10`, `0.3`,
//! `99999999999999999999`), never rounded to a binary float. A claim's
//! whole numbers are exact integers; its other numbers are read as doubles
//! (by every reader alike: JSON, YAML, X12), and the value a rule compares is
//! the **shortest decimal that reads back as that double**, which is the
//! number as written whenever it has at most 15 significant digits (every
//! amount in cents, every realistic fact): `100.10` is 100.10, not
//! 100.099999999999994315658113919198513031005859375, and
//! `0.30000000000000004` is greater than `0.3`.
//!
//! Cheap where it matters: a literal of at most 15 significant digits keeps
//! the double nearest to it, and comparing a claim's double with that double
//! decides exactly what comparing the two decimals does (two distinct
//! decimals of at most 15 significant digits never round to the same double,
//! and rounding keeps order), so the common case is one float comparison.
//! Longer literals compare digit by digit, without allocating.

use std::cmp::Ordering;
use std::fmt::Write as _;

use rust_decimal::Decimal;

/// A number literal of a policy, ready to be compared.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exact {
    /// The value as written.
    pub value: Decimal,
    /// The value when it is a whole number that fits 64 bits.
    pub int: Option<i64>,
    /// The double nearest the value when the value has at most 15
    /// significant digits (then comparing doubles with it is exact, see the
    /// module docs), else `None`.
    pub float: Option<f64>,
}

/// 10^15: values whose mantissa is below it have at most 15 significant digits.
const SHORT: u128 = 1_000_000_000_000_000;

impl Exact {
    /// The literal of value `value`.
    pub fn new(value: Decimal) -> Exact {
        let value = value.normalize();
        let int = if value.scale() == 0 {
            i64::try_from(value.mantissa()).ok()
        } else {
            None
        };
        // The standard library's parse rounds correctly; `Decimal`'s own
        // conversion is not promised to.
        let float = (value.mantissa().unsigned_abs() < SHORT)
            .then(|| value.to_string().parse::<f64>().ok())
            .flatten();
        Exact { value, int, float }
    }

    /// The literal of a whole number.
    pub fn of_int(i: i64) -> Exact {
        Exact {
            value: Decimal::from(i),
            int: Some(i),
            // Below 10^15 the conversion is exact.
            float: (i.unsigned_abs() < SHORT as u64).then_some(i as f64),
        }
    }
}

/// How a claim's whole number `i` compares with the literal `x`, exactly.
#[inline]
pub fn cmp_int(i: i64, x: &Exact) -> Ordering {
    match x.int {
        Some(n) => i.cmp(&n),
        None => Decimal::from(i).cmp(&x.value),
    }
}

/// How whole number `i` compares with the double `f`'s binary value,
/// exactly: converting `i` to a double rounds it beyond 2^53
/// (`9007199254740993` became equal to `9007199254740992.0`). `None` for
/// NaN. For a double that is a literal's nearest (a whole number up to 2^53,
/// or at most 15 significant digits) this is how `i` compares with the
/// literal: no whole number lies between such a literal and its double
/// unless it is the literal.
#[inline]
pub fn int_to_float(i: i64, f: f64) -> Option<Ordering> {
    // 2^63: every double from here up is above every i64, and every double
    // below -2^63 below every i64.
    const TOP: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() {
        return None;
    }
    if f >= TOP {
        return Some(Ordering::Less);
    }
    if f < -TOP {
        return Some(Ordering::Greater);
    }
    // Within range the whole part of `f` is an exact i64.
    let whole = f.trunc();
    let by_whole = i.cmp(&(whole as i64));
    Some(by_whole.then_with(|| 0.0_f64.partial_cmp(&(f - whole)).unwrap_or(Ordering::Equal)))
}

/// How a claim's double `f` (as the shortest decimal that reads back as it)
/// compares with the literal `x`, exactly; `None` when `f` is NaN.
#[inline]
pub fn cmp_float(f: f64, x: &Exact) -> Option<Ordering> {
    match x.float {
        Some(near) => f.partial_cmp(&near),
        None => cmp_float_digits(f, x.value),
    }
}

/// [`cmp_float`] of a literal of more than 15 significant digits: the
/// double's shortest decimal digits against the literal's.
#[cold]
fn cmp_float_digits(f: f64, x: Decimal) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f.is_infinite() {
        return Some(if f > 0.0 {
            Ordering::Greater
        } else {
            Ordering::Less
        });
    }
    let sign = |negative: bool, zero: bool| match (zero, negative) {
        (true, _) => 0,
        (false, true) => -1,
        (false, false) => 1,
    };
    let (fs, xs) = (
        sign(f < 0.0, f == 0.0),
        sign(x.is_sign_negative(), x.is_zero()),
    );
    if fs != xs || fs == 0 {
        return Some(fs.cmp(&xs));
    }
    let (digits, exponent) = shortest(f.abs())?;
    let magnitude = cmp_magnitudes(
        u128::from(digits),
        exponent,
        x.mantissa().unsigned_abs(),
        -i32::try_from(x.scale()).ok()?,
    );
    Some(if fs < 0 {
        magnitude.reverse()
    } else {
        magnitude
    })
}

/// The shortest decimal that reads back as the positive finite double `f`,
/// as `digits × 10^exponent`, written without allocating.
fn shortest(f: f64) -> Option<(u64, i32)> {
    let mut buf = Buf::default();
    // `{:e}` writes the shortest digits that read back as `f`:
    // `1.2345e-20`, `3e-1`.
    write!(buf, "{f:e}").ok()?;
    let text = std::str::from_utf8(buf.bytes.get(..buf.len)?).ok()?;
    let (mantissa, exponent) = text.split_once('e')?;
    let places = mantissa.split_once('.').map_or(0, |(_, after)| after.len());
    let digits = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .try_fold(0u64, |n, b| {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        })?;
    let exponent: i32 = exponent.parse().ok()?;
    Some((digits, exponent - i32::try_from(places).ok()?))
}

/// The shortest decimal that reads back as the double `f` (the value a
/// claim's number stands for, see the module docs), exactly, as a decimal:
/// how a charge kept as a double is summed. A value beyond the decimal's
/// range saturates at its largest (or smallest); digits past its 28th
/// decimal place, which no amount of money has, are rounded; NaN is 0.
pub fn decimal_of(f: f64) -> Decimal {
    if f.is_nan() || f == 0.0 {
        return Decimal::ZERO;
    }
    let huge = if f > 0.0 { Decimal::MAX } else { Decimal::MIN };
    let Some((digits, exponent)) = f.is_finite().then(|| shortest(f.abs())).flatten() else {
        return huge;
    };
    let magnitude = if exponent >= 0 {
        // `digits × 10^exponent`: whole, and within range only up to 10^29.
        u32::try_from(exponent)
            .ok()
            .and_then(|e| 10u128.checked_pow(e))
            .and_then(|p| u128::from(digits).checked_mul(p))
            .and_then(|m| i128::try_from(m).ok())
            .and_then(|m| Decimal::try_from_i128_with_scale(m, 0).ok())
    } else {
        let scale = exponent.unsigned_abs();
        let (mantissa, scale) = if scale <= Decimal::MAX_SCALE {
            (u128::from(digits), scale)
        } else {
            // Rounded half up at the 28th decimal place.
            let cut = 10u128
                .checked_pow(scale - Decimal::MAX_SCALE)
                .unwrap_or(u128::MAX);
            ((u128::from(digits) + cut / 2) / cut, Decimal::MAX_SCALE)
        };
        i128::try_from(mantissa)
            .ok()
            .and_then(|m| Decimal::try_from_i128_with_scale(m, scale).ok())
    };
    match magnitude {
        Some(m) if f < 0.0 => -m,
        Some(m) => m,
        None => huge,
    }
}

/// How `a × 10^ea` compares with `b × 10^eb`, both positive, `a` of at most
/// 20 digits and `b` of at most 29.
fn cmp_magnitudes(a: u128, ea: i32, b: u128, eb: i32) -> Ordering {
    let (na, nb) = (digit_count(a), digit_count(b));
    // The place of the leading digit decides, unless it is the same.
    let by_place = (na + ea).cmp(&(nb + eb));
    if by_place != Ordering::Equal {
        return by_place;
    }
    // The same leading place: the digits, padded to the same length (at most
    // 29 digits, which a u128 holds).
    let n = na.max(nb);
    let pad = |v: u128, d: i32| {
        10u128
            .checked_pow(u32::try_from(n - d).unwrap_or(0))
            .and_then(|p| v.checked_mul(p))
            .unwrap_or(u128::MAX)
    };
    pad(a, na).cmp(&pad(b, nb))
}

fn digit_count(v: u128) -> i32 {
    v.checked_ilog10().map_or(1, |d| d as i32 + 1)
}

/// A stack buffer `{:e}` of a double fits in.
struct Buf {
    bytes: [u8; 40],
    len: usize,
}

impl Default for Buf {
    fn default() -> Buf {
        Buf {
            bytes: [0; 40],
            len: 0,
        }
    }
}

impl std::fmt::Write for Buf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.bytes
            .get_mut(self.len..end)
            .ok_or(std::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn lit(text: &str) -> Exact {
        Exact::new(Decimal::from_str_exact(text).unwrap_or_else(|e| panic!("{text}: {e}")))
    }

    /// The reference: the double's shortest decimal, parsed as a decimal.
    fn reference(f: f64, x: &Exact) -> Ordering {
        let shortest = Decimal::from_str(&format!("{f}")).unwrap_or_else(|e| panic!("{f}: {e}"));
        shortest.cmp(&x.value)
    }

    #[test]
    fn short_literals_compare_as_written() {
        assert_eq!(cmp_float(100.10, &lit("100.10")), Some(Ordering::Equal));
        assert_eq!(cmp_float(0.3, &lit("0.3")), Some(Ordering::Equal));
        assert_eq!(cmp_float(0.1 + 0.2, &lit("0.3")), Some(Ordering::Greater));
        assert_eq!(
            cmp_float(0.30000000000000004, &lit("0.30000000000000004")),
            Some(Ordering::Equal)
        );
        assert_eq!(cmp_float(f64::NAN, &lit("1")), None);
        assert_eq!(cmp_float(-2.5, &lit("-2.5")), Some(Ordering::Equal));
        assert_eq!(cmp_float(-2.5, &lit("-2.4")), Some(Ordering::Less));
    }

    #[test]
    fn long_literals_are_not_rounded_to_a_double() {
        // Both literals read as the same double as the claim's number: as
        // floats they were all equal.
        let above = lit("2.50000000000000001");
        assert_eq!(above.float, None);
        assert_eq!(cmp_float(2.5, &above), Some(Ordering::Less));
        assert_eq!(
            cmp_float(-2.5, &lit("-2.50000000000000001")),
            Some(Ordering::Greater)
        );
        assert_eq!(
            cmp_float(100.1, &lit("100.099999999999999999")),
            Some(Ordering::Greater)
        );
        assert_eq!(
            cmp_float(0.30000000000000004, &lit("0.300000000000000040")),
            Some(Ordering::Equal)
        );
        // Beyond 64 bits.
        let huge = lit("100000000000000000001");
        assert_eq!(cmp_float(1e20, &huge), Some(Ordering::Less));
        assert_eq!(cmp_int(i64::MAX, &huge), Ordering::Less);
        assert_eq!(cmp_float(1e21, &huge), Some(Ordering::Greater));
        assert_eq!(cmp_float(0.0, &huge), Some(Ordering::Less));
        assert_eq!(cmp_float(-0.0, &lit("0")), Some(Ordering::Equal));
        assert_eq!(cmp_float(1e300, &huge), Some(Ordering::Greater));
        assert_eq!(cmp_float(f64::INFINITY, &huge), Some(Ordering::Greater));
        assert_eq!(
            cmp_float(1e-300, &lit("0.0000000000000000000000000001")),
            Some(Ordering::Less)
        );
    }

    #[test]
    fn digit_comparison_agrees_with_decimal_arithmetic() {
        let floats = [
            0.1,
            0.3,
            2.5,
            100.1,
            182.5,
            1e-20,
            1.2345678901234567e-5,
            9007199254740993.0,
            123_456_789.123_456_79,
            7.9e28,
            4.4e-10,
            1.0,
            10.0,
            99.99,
        ];
        let literals = [
            "0.1",
            "0.10000000000000000555",
            "0.3",
            "2.49999999999999999999",
            "100.1000000000000001",
            "182.50",
            "0.00000000000000000001",
            "0.0000123456789012345670",
            "9007199254740993",
            "123456789.123456789",
            "79000000000000000000000000000",
            "0.00000000044",
            "1",
            "10",
            "99.990000000000000001",
            "0",
        ];
        for f in floats {
            for sign in [1.0, -1.0] {
                let f = f * sign;
                for text in literals {
                    for text in [text.to_string(), format!("-{text}")] {
                        let x = lit(&text);
                        let want = reference(f, &x);
                        assert_eq!(cmp_float(f, &x), Some(want), "{f} vs {text}");
                        assert_eq!(cmp_float_digits(f, x.value), Some(want), "{f} vs {text}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_double_is_summed_as_its_shortest_decimal() {
        // The reference is the double's shortest decimal as text.
        for f in [
            0.1,
            0.2,
            0.3,
            182.5,
            12.0,
            2410.0,
            1e-20,
            1e20,
            1e28,
            7.9e28,
            4.4e-10,
            99.99,
            1.2345678901234567e-5,
            9007199254740993.0,
            123_456_789.123_456_79,
        ] {
            for f in [f, -f] {
                let want =
                    Decimal::from_str(&format!("{f}")).unwrap_or_else(|e| panic!("{f}: {e}"));
                assert_eq!(decimal_of(f), want, "{f}");
            }
        }
        // Exactly: 0.1 + 0.2 as decimals is 0.3, as doubles it is not.
        assert_eq!(
            decimal_of(0.1) + decimal_of(0.2),
            Decimal::from_str_exact("0.3").unwrap_or_default()
        );
        assert_ne!(
            decimal_of(0.1 + 0.2),
            Decimal::from_str_exact("0.3").unwrap_or_default()
        );
        assert_eq!(decimal_of(0.0), Decimal::ZERO);
        assert_eq!(decimal_of(f64::NAN), Decimal::ZERO);
        assert_eq!(decimal_of(1e300), Decimal::MAX);
        assert_eq!(decimal_of(-1e300), Decimal::MIN);
        assert_eq!(decimal_of(f64::INFINITY), Decimal::MAX);
        // Past the 28th decimal place: rounded there.
        assert_eq!(decimal_of(1e-30), Decimal::ZERO);
        assert_eq!(
            decimal_of(5e-28),
            Decimal::from_str_exact("0.0000000000000000000000000005").unwrap_or_default()
        );
        assert_eq!(
            decimal_of(1.2345678901234567e-13),
            Decimal::from_str_exact("0.0000000000001234567890123457").unwrap_or_default()
        );
    }

    #[test]
    fn whole_numbers_compare_exactly() {
        assert_eq!(cmp_int(50, &lit("50")), Ordering::Equal);
        assert_eq!(cmp_int(50, &lit("50.000")), Ordering::Equal);
        assert_eq!(cmp_int(50, &lit("49.99")), Ordering::Greater);
        assert_eq!(
            cmp_int(9_007_199_254_740_993, &lit("9007199254740992")),
            Ordering::Greater
        );
        assert_eq!(lit("50.000").int, Some(50));
        assert_eq!(Exact::of_int(i64::MAX).float, None);
        assert_eq!(Exact::of_int(-3).float, Some(-3.0));
    }

    #[test]
    fn whole_numbers_against_a_short_literals_double_compare_as_against_the_literal() {
        let literals = [
            "2.5",
            "0.3",
            "-0.3",
            "99999999999999.9",
            "-99999999999999.9",
            "3",
            "0.000000000000001",
        ];
        let ints = [
            0,
            1,
            -1,
            2,
            3,
            -3,
            99_999_999_999_999,
            100_000_000_000_000,
            -99_999_999_999_999,
            i64::MAX,
            i64::MIN,
        ];
        for text in literals {
            let x = lit(text);
            let near = x.float.unwrap_or(f64::NAN);
            for i in ints {
                assert_eq!(int_to_float(i, near), Some(cmp_int(i, &x)), "{i} vs {text}");
            }
        }
    }
}
