//! Sums of charges, exactly: a claim's `charge` is read as a JSON number, and
//! adding thousands of them as floating point would drift by cents. Each
//! charge is taken at the decimal it was written as (the shortest text that
//! reads back as the same number: `182.5`, `0.1`), and sums are decimals.

use std::fmt;
use std::ops::AddAssign;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

/// An exact amount of money (any number of decimals).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(Decimal);

impl Money {
    /// The amount a charge read as `f64` was written as. A charge no decimal
    /// can hold (not finite, or beyond 28 digits) counts as 0: validation
    /// rejects such claims before they are decided.
    pub fn of_f64(charge: f64) -> Money {
        Money(Decimal::from_str(&charge.to_string()).unwrap_or_default())
    }

    /// The amount as written in a report: at least two decimals (`182.50`).
    pub fn text(&self) -> String {
        let mut d = self.0.normalize();
        if d.scale() < 2 {
            d.rescale(2);
        }
        d.to_string()
    }
}

impl FromStr for Money {
    type Err = String;

    fn from_str(text: &str) -> Result<Money, String> {
        Decimal::from_str(text.trim().trim_start_matches('$'))
            .map(Money)
            .map_err(|e| format!("`{text}` is not an amount: {e}"))
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, other: Money) {
        self.0 = self.0.saturating_add(other.0);
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// As a string: JSON numbers would be read back as floating point.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_thousand_dimes_are_a_thousand_dollars() {
        let mut sum = Money::default();
        let mut float = 0.0f64;
        for _ in 0..10_000 {
            sum += Money::of_f64(0.1);
            float += 0.1;
        }
        assert_eq!(sum.text(), "1000.00");
        assert_ne!(float, 1000.0, "floating point drifts; the decimal does not");
    }

    #[test]
    fn amounts_print_with_cents() {
        assert_eq!(Money::of_f64(182.5).text(), "182.50");
        assert_eq!(Money::of_f64(3.0).text(), "3.00");
        assert_eq!(Money::of_f64(0.125).text(), "0.125");
        assert_eq!("$1,000".parse::<Money>().map(|m| m.text()).ok(), None);
        assert_eq!(
            "$1000.5".parse::<Money>().map(|m| m.text()),
            Ok("1000.50".into())
        );
    }
}
