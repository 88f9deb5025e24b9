//! Policy text -> [`File`] tree and every syntax error found.
//!
//! pest stops at the first error, so on a failure the parser recovers at item
//! granularity: it finds the module's body by brace matching and parses each item
//! (header line, code set, rule) on its own. One broken rule then costs one error,
//! and the items that did parse still reach the checker.

use pest::iterators::Pair;
use pest::Parser as _;
use pest_derive::Parser;

use super::ast::*;
use super::expected::describe;
use super::span::{Span, Spanned};
use lower::Lower;
use recovery::{code_bytes, recover};

mod lower;
mod recovery;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tree_tests;

#[derive(Parser)]
#[grammar = "../grammar/policy.pest"]
struct PolicyParser;

/// A syntax error: where, and what the parser expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where parsing stopped (usually the offending token).
    pub span: Span,
    /// Human names of what could have come next (`a code list`, `\`else\``).
    pub expected: Vec<String>,
    /// The text found instead, or `None` at the end of the file.
    pub found: Option<String>,
    /// A message that says more than "expected ..., found ...", when recovery
    /// knows what is wrong (an unclosed brace, text after the module).
    pub custom: Option<String>,
    /// How to fix it, when the parser can tell.
    pub help: Option<String>,
    /// Not the text's fault: the parser met a shape its grammar cannot
    /// produce (a bug in payer-rules, reported as PR901).
    pub internal: bool,
}

impl SyntaxError {
    fn new(span: Span, expected: Vec<String>, found: Option<String>) -> SyntaxError {
        SyntaxError {
            span,
            expected,
            found,
            custom: None,
            help: None,
            internal: false,
        }
    }

    /// An internal error at `span`: see [`SyntaxError::internal`].
    pub(crate) fn internal(span: Span) -> SyntaxError {
        SyntaxError {
            span,
            expected: Vec::new(),
            found: None,
            custom: Some(
                "internal error: the parser met a shape its grammar cannot produce".into(),
            ),
            help: Some(
                "this is a bug in payer-rules: please report it with the policy file".into(),
            ),
            internal: true,
        }
    }

    /// One-line description: "expected X or Y, found `z`".
    pub fn message(&self) -> String {
        if let Some(custom) = &self.custom {
            return custom.clone();
        }
        let expected = join_or(&self.expected);
        let found = match &self.found {
            Some(text) => format!("`{text}`"),
            None => "the end of the file".to_string(),
        };
        if expected.is_empty() {
            format!("unexpected {found}")
        } else {
            format!("expected {expected}, found {found}")
        }
    }
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// What the parser may expect where a value starts; listed in full, they bury
/// the point, so [`condense`] names them once.
const VALUES: [&str; 11] = [
    "`count(...)`",
    "`sum(...)`",
    "`some other line (...)`",
    "`true`",
    "`false`",
    "a date (YYYY-MM-DD)",
    "a field such as `line.procedure`",
    "a list (`[...]`)",
    "a number",
    "a quoted string",
    "a value",
];
const VALUE: &str = "a value (a field, number, string, date, list or `count(...)`)";

/// What may follow a value in a condition.
const OPERATORS: [&str; 5] = [
    "a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`)",
    "`in`",
    "`has`",
    "`exists`",
    "`is missing`",
];
const OPERATOR: &str = "an operator (`==`, `<`, `in`, `has`, `exists` ...)";

/// Human names of what the parser expected: alternatives such as "`policy` or
/// `library`" are split so the list reads as one, long runs of value and operator
/// kinds become one entry each, and a condition absorbs the values it can be.
fn condense(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let parts: Vec<&str> = name.split(" or ").collect();
        let all_quoted = parts
            .iter()
            .all(|p| p.starts_with('`') && p.ends_with('`') && p.matches('`').count() == 2);
        if parts.len() > 1 && all_quoted {
            out.extend(parts.iter().map(|p| p.to_string()));
        } else {
            out.push(name);
        }
    }
    let values = out.iter().filter(|e| VALUES.contains(&e.as_str())).count();
    if values >= 3 {
        out.retain(|e| !VALUES.contains(&e.as_str()));
        if !out.iter().any(|e| e == "a condition") {
            out.push(VALUE.to_string());
        }
    }
    let operators = out
        .iter()
        .filter(|e| OPERATORS.contains(&e.as_str()))
        .count();
    if operators >= 3 {
        out.retain(|e| !OPERATORS.contains(&e.as_str()));
        out.push(OPERATOR.to_string());
    }
    out.sort();
    out.dedup();
    out
}

/// The tree of a file and the syntax errors in it. With errors, the tree holds
/// whatever items could still be parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The tree.
    pub file: File,
    /// Syntax errors, in source order.
    pub errors: Vec<SyntaxError>,
}

/// Parses a policy or library file.
pub fn parse(text: &str) -> Parsed {
    match PolicyParser::parse(Rule::file, text) {
        Ok(mut pairs) => {
            let lower = Lower::new(0);
            let file = pairs.next().map(|pair| lower.file(pair)).unwrap_or(File {
                imports: Vec::new(),
                module: None,
            });
            Parsed {
                file,
                errors: lower.surprises(),
            }
        }
        Err(err) => recover(text, syntax_error(&err, text, 0)),
    }
}

/// Parses a single rule, code set or header item (the tree tests parse
/// snippets with it).
#[cfg(test)]
pub fn parse_item(text: &str) -> Result<Item, SyntaxError> {
    parse_item_at(text, 0).and_then(|item| {
        item.ok_or_else(|| {
            SyntaxError::new(
                Span::new(0, text.len()),
                vec!["a code set or a rule".into()],
                Some(first_token(text)),
            )
        })
    })
}

/// Parses one module item; header items come back as `Ok(None)` with the header
/// pushed to `header` by the caller through [`parse_module_item`].
#[cfg(test)]
fn parse_item_at(text: &str, offset: usize) -> Result<Option<Item>, SyntaxError> {
    parse_module_item(text, offset).map(|piece| match piece {
        Piece::Item(item) => Some(item),
        Piece::Header(_) => None,
    })
}

enum Piece {
    Header(Header),
    Item(Item),
}

fn parse_module_item(text: &str, offset: usize) -> Result<Piece, SyntaxError> {
    let mut pairs = PolicyParser::parse(Rule::item_alone, text)
        .map_err(|err| syntax_error(&err, text, offset))?;
    let lower = Lower::new(offset);
    let pair = pairs
        .next()
        .and_then(|p| p.into_inner().find(|p| p.as_rule() != Rule::EOI))
        .ok_or_else(|| {
            SyntaxError::new(
                Span::new(offset, offset + text.len()),
                vec!["a code set or a rule".into()],
                None,
            )
        })?;
    let item = lower.module_item(pair);
    match lower.surprises().into_iter().next() {
        Some(surprise) => Err(surprise),
        None => Ok(item),
    }
}

fn syntax_error(err: &pest::error::Error<Rule>, text: &str, offset: usize) -> SyntaxError {
    use pest::error::{ErrorVariant, InputLocation};
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let expected: Vec<String> = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => condense(
            positives
                .iter()
                .filter_map(|r| describe(*r))
                .map(str::to_string)
                .collect(),
        ),
        ErrorVariant::CustomError { message } => vec![message.clone()],
    };
    let rest = text.get(pos..).unwrap_or("");
    let found = (!rest.trim().is_empty()).then(|| first_token(rest));
    let len = found.as_ref().map_or(0, |t| t.len());
    let mut error = SyntaxError::new(Span::new(offset + pos, offset + pos + len), expected, found);
    // `first_token` takes a whole string only when it is closed on its line.
    if error.found.as_deref() == Some("\"") {
        error.custom = Some("this string has no closing `\"`".into());
        error.help = Some("end the string on the line where it starts".into());
    }
    error
}

/// The token at the start of `text`: a word, a quoted string, an operator such
/// as `&&`, or one character.
fn first_token(text: &str) -> String {
    let text = text.trim_start();
    let word: String = text
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '*'))
        .take(40)
        .collect();
    if !word.is_empty() {
        return word;
    }
    if let Some(body) = text.strip_prefix('"') {
        if let Some(end) = body
            .find(['"', '\n'])
            .filter(|&e| e <= 40 && body[e..].starts_with('"'))
        {
            return format!("\"{}\"", &body[..end]);
        }
    }
    let op: String = text
        .chars()
        .take_while(|c| matches!(c, '&' | '|' | '=' | '!' | '<' | '>'))
        .take(3)
        .collect();
    if !op.is_empty() {
        return op;
    }
    text.chars().next().map(String::from).unwrap_or_default()
}

/// The next token at or after `pos`, skipping whitespace and comments: its offset
/// and text (`None` at the end of the file).
fn next_token(text: &str, pos: usize) -> (usize, Option<String>) {
    match code_bytes(text, pos, text.len()).find(|(_, b)| !b.is_ascii_whitespace()) {
        Some((at, _)) => (at, Some(first_token(&text[at..]))),
        None => (text.len(), None),
    }
}

/// The pest rule type, for the human names in [`super::expected`].
pub(crate) type GrammarRule = Rule;
