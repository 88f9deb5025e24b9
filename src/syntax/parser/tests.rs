//! Tests of syntax errors: their messages, condensed lists of what was
//! expected, and trailing trivia.

use super::lower::without_trailing_trivia;
use super::*;

#[test]
fn long_value_lists_are_condensed() {
    let parsed =
        parse("policy p {\n  rule r {\n    require line.units <= else deny CO-1\n  }\n}\n");
    assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
    assert_eq!(parsed.errors[0].expected, vec![VALUE.to_string()]);
    assert_eq!(parsed.errors[0].found.as_deref(), Some("else"));
}

#[test]
fn an_unclosed_rule_does_not_swallow_the_next() {
    let text = "policy p {\n  rule a {\n    deny CO-1\n\n  rule b {\n    deny CO-2\n  }\n}\n";
    let parsed = parse(text);
    assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
    assert_eq!(parsed.errors[0].message(), "rule `a` has no closing `}`");
    assert_eq!(parsed.errors[0].span, Span::new(20, 21));
    let items = parsed.file.module.map(|m| m.items.len());
    assert_eq!(items, Some(1));
}

#[test]
fn a_header_line_before_a_stray_word_is_kept() {
    let parsed = parse("policy p {\n  source \"x\"\n  owner \"y\"\n  rule r { deny CO-1 }\n}\n");
    assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
    assert_eq!(parsed.errors[0].found.as_deref(), Some("owner"));
    let header = parsed.file.module.map(|m| m.header.len());
    assert_eq!(header, Some(1));
}

#[test]
fn spans_end_before_trailing_whitespace_and_comments() {
    assert_eq!(without_trailing_trivia("payer a  // main\n  "), "payer a");
    assert_eq!(
        without_trailing_trivia("message \"a // b\"\n"),
        "message \"a // b\""
    );
    assert_eq!(without_trailing_trivia("/// doc"), "/// doc");
}
