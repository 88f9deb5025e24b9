//! The element values' readers.

use super::values::{d8, decimal, fact_value};
use crate::claims::RawFact;

#[test]
fn decimals_are_x12_decimals() {
    assert_eq!(decimal("182.5"), Some(182.5));
    assert_eq!(decimal("-1"), Some(-1.0));
    assert_eq!(decimal("1.00"), Some(1.0));
    for bad in ["", "-", ".", "1e5", "inf", "NaN", "1.2.3", "+1"] {
        assert_eq!(decimal(bad), None, "{bad}");
    }
}

#[test]
fn dates_and_facts() {
    assert_eq!(d8("20260304").as_deref(), Some("2026-03-04"));
    assert_eq!(d8("2026034"), None);
    assert!(matches!(fact_value("true"), RawFact::Bool(true)));
    assert!(matches!(fact_value("120"), RawFact::Integer(120)));
    assert!(matches!(
        fact_value("-9007199254740993"),
        RawFact::Integer(-9007199254740993)
    ));
    assert!(matches!(fact_value("120.0"), RawFact::Number(n) if n == 120.0));
    assert!(matches!(fact_value("+120"), RawFact::Text(_)));
    assert!(matches!(fact_value("\"120\""), RawFact::Text(t) if t == "120"));
    assert!(matches!(fact_value("2026-01-02"), RawFact::Text(t) if t == "2026-01-02"));
}
