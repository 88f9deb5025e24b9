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
}

impl SyntaxError {
    fn new(span: Span, expected: Vec<String>, found: Option<String>) -> SyntaxError {
        SyntaxError {
            span,
            expected,
            found,
            custom: None,
            help: None,
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
const VALUES: [&str; 10] = [
    "`count(...)`",
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
            let file = pairs
                .next()
                .map(|pair| Lower { offset: 0 }.file(pair))
                .unwrap_or(File {
                    imports: Vec::new(),
                    module: None,
                });
            Parsed {
                file,
                errors: Vec::new(),
            }
        }
        Err(err) => recover(text, syntax_error(&err, text, 0)),
    }
}

/// Parses a single rule, code set or header item: used to parse documentation
/// snippets and by the recovery below.
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
    let lower = Lower { offset };
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
    Ok(lower.module_item(pair))
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

// ------------------------------------------------------------------ recovery

fn recover(text: &str, first: SyntaxError) -> Parsed {
    let mut errors = Vec::new();
    let mut file = File {
        imports: Vec::new(),
        module: None,
    };
    let Some(open) = find_body_open(text) else {
        return Parsed {
            file,
            errors: vec![first],
        };
    };
    let head = &text[..=open];
    match PolicyParser::parse(Rule::head, head) {
        Ok(mut pairs) => {
            if let Some(pair) = pairs.next() {
                let (imports, module) = Lower { offset: 0 }.head(pair);
                file.imports = imports;
                file.module = Some(module);
            }
        }
        Err(_) => {
            return Parsed {
                file,
                errors: vec![first],
            }
        }
    }
    let (kind, id) = file.module.as_ref().map_or(("policy", String::new()), |m| {
        (m.kind.keyword(), m.id.node.clone())
    });
    // Items are split at the lines that start one, at any brace depth, so a rule
    // that lacks its `}` does not swallow the items after it. The module ends at
    // the first `}` that closes more than its item opened.
    let mut chunks = split_items(text, open + 1, text.len());
    let mut close = None;
    if let Some((i, at)) = chunks
        .iter()
        .enumerate()
        .find_map(|(i, &(s, e))| stray_close(text, s, e).map(|at| (i, at)))
    {
        chunks[i].1 = at;
        chunks.truncate(i + 1);
        close = Some(at);
    }
    let mut header = Vec::new();
    let mut items = Vec::new();
    let mut keep = |piece: Piece| match piece {
        Piece::Header(h) => header.push(h),
        Piece::Item(item) => items.push(item),
    };
    for (i, &(start, end)) in chunks.iter().enumerate() {
        let chunk = &text[start..end];
        if chunk.trim().is_empty() {
            continue;
        }
        let err = match parse_module_item(chunk, start) {
            Ok(piece) => {
                keep(piece);
                continue;
            }
            Err(err) => err,
        };
        if let Some(brace) = unclosed_brace(text, start, end, &err) {
            let next = chunks.get(i + 1).map(|c| c.0).or(close);
            errors.push(unclosed_rule(text, start, brace, next));
            continue;
        }
        // Keep what parsed before the error: a header line before a stray word,
        // the codes of a list before a typo.
        let parsed = err.span.start.saturating_sub(start);
        if parsed > 0 {
            if let Ok(piece) = parse_module_item(&chunk[..parsed], start) {
                keep(piece);
            }
        }
        errors.push(in_item_error(text, err));
    }
    match close {
        None => errors.push(unclosed_module(open, kind, &id)),
        Some(close) => {
            let trailing = &text[close + 1..];
            if let Err(err) = PolicyParser::parse(Rule::trailing, trailing) {
                errors.push(after_module(
                    text,
                    syntax_error(&err, trailing, close + 1),
                    close,
                    kind,
                    &id,
                ));
            }
        }
    }
    if errors.is_empty() {
        errors.push(first);
    }
    if let Some(module) = file.module.as_mut() {
        module.header = header;
        module.items = items;
        module.span = Span::new(module.span.start, close.map_or(text.len(), |c| c + 1));
    }
    errors.sort_by_key(|e| e.span.start);
    errors.dedup();
    Parsed { file, errors }
}

const END_OF_FILE: &str = "the end of the file";

/// The keywords that start a module item (`ITEM_STARTS` less doc comments).
fn item_starts() -> Vec<String> {
    ITEM_STARTS
        .iter()
        .filter(|w| w.starts_with(char::is_alphabetic))
        .map(|w| format!("`{w}`"))
        .collect()
}

/// An error inside one item parsed alone: "the end of the file" there is the end
/// of the item, and what is found there is what follows in the whole file.
fn in_item_error(text: &str, mut err: SyntaxError) -> SyntaxError {
    if err.found.is_none() {
        let (at, token) = next_token(text, err.span.start);
        err.span = Span::new(at, at + token.as_ref().map_or(0, String::len));
        err.found = token;
    }
    if err.expected.iter().any(|e| e == END_OF_FILE) {
        err.expected.retain(|e| e != END_OF_FILE);
        // A word at the start of a line is most likely an item the language does
        // not have; elsewhere, the item went wrong where it stands.
        let line_start = text[..err.span.start].rfind('\n').map_or(0, |i| i + 1);
        if err.expected.is_empty() || text[line_start..err.span.start].trim().is_empty() {
            err.expected.extend(item_starts());
            err.expected.sort();
            err.expected.dedup();
        }
    }
    err
}

/// The first `}` in `start..end` that closes a brace opened before `start`.
fn stray_close(text: &str, start: usize, end: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (at, b) in code_bytes(text, start, end) {
        match b {
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some(at),
            b'}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The `{` of an item that is never closed, when the item's parse failed at its
/// end: the item runs into the next one.
fn unclosed_brace(text: &str, start: usize, end: usize, err: &SyntaxError) -> Option<usize> {
    let mut open = Vec::new();
    for (at, b) in code_bytes(text, start, end) {
        match b {
            b'{' => open.push(at),
            b'}' => {
                open.pop();
            }
            _ => {}
        }
    }
    let brace = *open.first()?;
    let rest_blank =
        code_bytes(text, err.span.start.min(end), end).all(|(_, b)| b.is_ascii_whitespace());
    rest_blank.then_some(brace)
}

fn line_of(text: &str, at: usize) -> usize {
    Span::new(at, at).line_col(text).0
}

fn unclosed_rule(text: &str, start: usize, brace: usize, next: Option<usize>) -> SyntaxError {
    let head = &text[start..brace];
    let mut words = head
        .lines()
        .filter(|l| !l.trim_start().starts_with("///"))
        .flat_map(str::split_whitespace);
    let custom = match (words.next(), words.next()) {
        (Some("rule"), Some(name)) => format!("rule `{name}` has no closing `}}`"),
        _ => "this `{` has no closing `}`".to_string(),
    };
    let help = match next {
        Some(next) => format!(
            "add `}}` after the rule's last check, before line {}",
            line_of(text, next)
        ),
        None => "add `}` after the rule's last check".to_string(),
    };
    SyntaxError {
        span: Span::new(brace, brace + 1),
        expected: vec!["`}`".into()],
        found: None,
        custom: Some(custom),
        help: Some(help),
    }
}

fn unclosed_module(open: usize, kind: &str, id: &str) -> SyntaxError {
    SyntaxError {
        span: Span::new(open, open + 1),
        expected: vec!["`}`".into()],
        found: None,
        custom: Some(format!("{kind} `{id}` has no closing `}}`")),
        help: Some(format!("add `}}` at the end of the file to close the {kind}; if a rule lacks its `}}`, add that instead")),
    }
}

fn after_module(
    text: &str,
    mut err: SyntaxError,
    close: usize,
    kind: &str,
    id: &str,
) -> SyntaxError {
    let found = err.found.clone().unwrap_or_default();
    err.custom = Some(format!("found `{found}` after the end of {kind} `{id}`"));
    err.help = Some(format!(
        "a file holds one {kind}, and `{id}` ends at the `}}` on line {}: move this inside its braces, \
         or remove that `}}` if it ends the {kind} too early",
        line_of(text, close)
    ));
    err
}

/// A light lexer over the text: yields each byte's offset that is code (not in a
/// string or comment), so brace matching ignores `{` in messages and comments.
fn code_bytes(text: &str, from: usize, to: usize) -> impl Iterator<Item = (usize, u8)> + '_ {
    let bytes = text.as_bytes();
    let mut i = from;
    let mut in_string = false;
    std::iter::from_fn(move || {
        while i < to {
            let at = i;
            let b = bytes[at];
            i += 1;
            if in_string {
                match b {
                    b'\\' => i += 1,
                    b'"' | b'\n' => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => {
                    in_string = true;
                    return Some((at, b));
                }
                b'/' if bytes.get(at + 1) == Some(&b'/') => {
                    while i < to && bytes[i] != b'\n' {
                        i += 1;
                    }
                    // Doc comments start items; report their first slash.
                    if bytes.get(at + 2) == Some(&b'/') {
                        return Some((at, b'/'));
                    }
                }
                _ => return Some((at, b)),
            }
        }
        None
    })
}

fn find_body_open(text: &str) -> Option<usize> {
    code_bytes(text, 0, text.len())
        .find(|(_, b)| *b == b'{')
        .map(|(at, _)| at)
}

const ITEM_STARTS: [&str; 7] = [
    "payer",
    "version",
    "effective",
    "source",
    "codes",
    "rule",
    "///",
];

/// Splits a module body into item chunks: a chunk starts at a line whose first
/// token starts an item; doc lines stay with the item they precede. Brace depth
/// is ignored: no item keyword can stand at the start of a line inside a rule.
fn split_items(text: &str, start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut starts = vec![start];
    let mut prev_was_doc = false;
    let mut last_line = None;
    for (at, b) in code_bytes(text, start, end) {
        if b.is_ascii_whitespace() || !text.is_char_boundary(at) {
            continue;
        }
        let line_begin = text[..at].rfind('\n').map_or(0, |i| i + 1);
        if last_line != Some(line_begin) {
            let rest = &text[at..end];
            let word = ITEM_STARTS.iter().find(|w| {
                rest.starts_with(**w)
                    && (**w == "///"
                        || !rest[w.len()..].starts_with(|c: char| {
                            c.is_ascii_alphanumeric() || c == '_' || c == '-'
                        }))
            });
            match word {
                Some(w) => {
                    if !prev_was_doc && at > start {
                        starts.push(at);
                    }
                    prev_was_doc = *w == "///";
                }
                None => prev_was_doc = false,
            }
        }
        last_line = Some(line_begin);
    }
    starts.dedup();
    let mut chunks = Vec::new();
    for (i, s) in starts.iter().enumerate() {
        let e = starts.get(i + 1).copied().unwrap_or(end);
        chunks.push((*s, e));
    }
    chunks
}

// ------------------------------------------------------------------ lowering

/// Lowers pest pairs to tree nodes, one method per grammar rule. `offset` moves
/// spans when a piece of the file is parsed on its own.
struct Lower {
    offset: usize,
}

fn is_keyword(rule: Rule) -> bool {
    format!("{rule:?}").starts_with("kw_")
}

/// The meaningful children of a pair: keywords are left out.
fn kids(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pair.into_inner().filter(|p| !is_keyword(p.as_rule()))
}

/// `text` without trailing whitespace and `//` comments.
fn without_trailing_trivia(text: &str) -> &str {
    let mut text = text.trim_end();
    loop {
        let line_start = text.rfind('\n').map_or(0, |i| i + 1);
        let Some(comment) = comment_start(&text[line_start..]) else {
            return text;
        };
        let cut = text[..line_start + comment].trim_end();
        if cut.is_empty() {
            return text;
        }
        text = cut;
    }
}

/// Where a `//` comment starts in one line, outside strings.
fn comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Lower {
    /// A pair's span without the whitespace and comments pest leaves at its end
    /// (it skips them before trying an optional or repeated part that is absent).
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let len = without_trailing_trivia(s.as_str()).len();
        Span::new(s.start() + self.offset, s.start() + len + self.offset)
    }

    /// The span of an item from its keyword on: doc comments before it are left
    /// out, so locations point at `rule` / `codes`.
    fn item_span(&self, pair: &Pair<'_, Rule>) -> Span {
        let whole = self.span(pair);
        let start = pair
            .clone()
            .into_inner()
            .find(|p| p.as_rule() != Rule::doc)
            .map_or(whole.start, |p| p.as_span().start() + self.offset);
        Span::new(start, whole.end)
    }

    fn spanned<T>(&self, pair: &Pair<'_, Rule>, node: T) -> Spanned<T> {
        Spanned::new(node, self.span(pair))
    }

    fn text(&self, pair: &Pair<'_, Rule>) -> Spanned<String> {
        self.spanned(pair, pair.as_str().to_string())
    }

    fn string(&self, pair: &Pair<'_, Rule>) -> Spanned<String> {
        let inner = pair.as_str();
        let raw = inner.get(1..inner.len().saturating_sub(1)).unwrap_or("");
        self.spanned(pair, unescape(raw))
    }

    fn file(&self, pair: Pair<'_, Rule>) -> File {
        let mut imports = Vec::new();
        let mut module = None;
        for p in kids(pair) {
            match p.as_rule() {
                Rule::import => imports.extend(kids(p).next().map(|s| self.string(&s))),
                Rule::module => module = Some(self.module(p)),
                _ => {}
            }
        }
        File { imports, module }
    }

    /// `head`: imports and a module's opening line, for recovery.
    fn head(&self, pair: Pair<'_, Rule>) -> (Vec<Spanned<String>>, Module) {
        let span = self.span(&pair);
        let mut imports = Vec::new();
        let mut module = empty_module(span);
        let mut module_start = None;
        for p in kids(pair) {
            match p.as_rule() {
                Rule::import => imports.extend(kids(p).next().map(|s| self.string(&s))),
                Rule::doc => {
                    module_start.get_or_insert(self.span(&p).start);
                    module.doc.push(doc_text(p.as_str()));
                }
                Rule::module_kind => {
                    module_start.get_or_insert(self.span(&p).start);
                    module.kind = module_kind(p);
                }
                Rule::name => module.id = self.text(&p),
                Rule::string => module.title = Some(self.string(&p)),
                _ => {}
            }
        }
        module.span = Span::new(module_start.unwrap_or(span.start), span.end);
        (imports, module)
    }

    fn module(&self, pair: Pair<'_, Rule>) -> Module {
        let span = self.span(&pair);
        let mut module = empty_module(span);
        for p in kids(pair) {
            match p.as_rule() {
                Rule::doc => module.doc.push(doc_text(p.as_str())),
                Rule::module_kind => module.kind = module_kind(p),
                Rule::name => module.id = self.text(&p),
                Rule::string => module.title = Some(self.string(&p)),
                _ => match self.module_item(p) {
                    Piece::Header(h) => module.header.push(h),
                    Piece::Item(i) => module.items.push(i),
                },
            }
        }
        module
    }

    fn module_item(&self, pair: Pair<'_, Rule>) -> Piece {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::codes_decl => Piece::Item(Item::Codes(self.codes_decl(pair))),
            Rule::rule_decl => Piece::Item(Item::Rule(self.rule_decl(pair))),
            _ => Piece::Header(Header {
                kind: self.header_kind(pair),
                span,
            }),
        }
    }

    fn header_kind(&self, pair: Pair<'_, Rule>) -> HeaderKind {
        let rule = pair.as_rule();
        let parts: Vec<Pair<'_, Rule>> = kids(pair).collect();
        match rule {
            Rule::payer_decl => HeaderKind::Payer(parts.iter().map(|p| self.text(p)).collect()),
            Rule::version_decl => HeaderKind::Version(self.first_string(&parts)),
            Rule::source_decl => HeaderKind::Source(self.first_string(&parts)),
            _ => {
                let mut dates = parts.iter().map(|p| self.text(p));
                let from = dates.next().unwrap_or_default_spanned();
                HeaderKind::Effective {
                    from,
                    to: dates.next(),
                }
            }
        }
    }

    fn first_string(&self, parts: &[Pair<'_, Rule>]) -> Spanned<String> {
        parts
            .first()
            .map(|p| self.string(p))
            .unwrap_or_else(|| Spanned::new(String::new(), Span::default()))
    }

    fn codes_decl(&self, pair: Pair<'_, Rule>) -> CodeSetDecl {
        let span = self.item_span(&pair);
        let mut doc = Vec::new();
        let mut name = Spanned::new(String::new(), span);
        let mut expr = None;
        for p in kids(pair) {
            match p.as_rule() {
                Rule::doc => doc.push(doc_text(p.as_str())),
                Rule::name => name = self.text(&p),
                _ => expr = Some(self.set_expr(p)),
            }
        }
        let expr = expr.unwrap_or_else(|| SetExpr::Ref(name.clone()));
        CodeSetDecl {
            name,
            doc,
            expr,
            span,
        }
    }

    /// `set_expr` or any `set_term` (a list, a name, a parenthesized expression).
    fn set_expr(&self, pair: Pair<'_, Rule>) -> SetExpr {
        match pair.as_rule() {
            Rule::code_list => SetExpr::Literal(self.code_list(pair)),
            Rule::set_name => {
                let name = kids(pair).next();
                SetExpr::Ref(
                    name.map(|n| self.text(&n))
                        .unwrap_or_else(|| Spanned::new(String::new(), Span::default())),
                )
            }
            _ => {
                let mut parts = kids(pair);
                let Some(first) = parts.next() else {
                    return SetExpr::Ref(Spanned::new(String::new(), Span::default()));
                };
                let mut acc = self.set_expr(first);
                while let (Some(op), Some(rhs)) = (parts.next(), parts.next()) {
                    let rhs = self.set_expr(rhs);
                    let op = if op.as_str() == "+" {
                        SetOp::Union
                    } else {
                        SetOp::Difference
                    };
                    let span = acc.span().join(rhs.span());
                    acc = SetExpr::Binary {
                        op,
                        lhs: Box::new(acc),
                        rhs: Box::new(rhs),
                        span,
                    };
                }
                acc
            }
        }
    }

    fn code_list(&self, pair: Pair<'_, Rule>) -> CodeList {
        let span = self.span(&pair);
        let mut system = Spanned::new(CodeSystem::Cpt, span);
        let mut entries = Vec::new();
        for p in kids(pair) {
            match p.as_rule() {
                Rule::code_system => {
                    let s = match p.as_str() {
                        "hcpcs" => CodeSystem::Hcpcs,
                        "icd10" => CodeSystem::Icd10,
                        _ => CodeSystem::Cpt,
                    };
                    system = self.spanned(&p, s);
                }
                Rule::code_range => {
                    let mut ends = kids(p.clone()).map(|c| c.as_str().to_string());
                    let lo = ends.next().unwrap_or_default();
                    let hi = ends.next().unwrap_or_default();
                    entries.push(self.spanned(&p, CodeEntry::Range(lo, hi)));
                }
                Rule::code_prefix => {
                    let text = p.as_str().trim_end_matches('*').to_string();
                    entries.push(self.spanned(&p, CodeEntry::Prefix(text)));
                }
                _ => entries.push(self.spanned(&p, CodeEntry::Code(p.as_str().to_string()))),
            }
        }
        CodeList {
            system,
            entries,
            span,
        }
    }

    fn rule_decl(&self, pair: Pair<'_, Rule>) -> Rule_ {
        let span = self.item_span(&pair);
        let mut rule = Rule_ {
            id: Spanned::new(String::new(), span),
            title: None,
            doc: Vec::new(),
            when: Vec::new(),
            checks: Vec::new(),
            span,
        };
        for p in kids(pair) {
            match p.as_rule() {
                Rule::doc => rule.doc.push(doc_text(p.as_str())),
                Rule::name => rule.id = self.text(&p),
                Rule::string => rule.title = Some(self.string(&p)),
                Rule::when_clause => rule.when.extend(kids(p).next().map(|e| self.expr(e))),
                _ => rule.checks.push(self.check(p)),
            }
        }
        rule
    }

    fn check(&self, pair: Pair<'_, Rule>) -> Check {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        if rule == Rule::action {
            return Check {
                kind: CheckKind::Always,
                action: self.action(pair),
                span,
            };
        }
        let parts: Vec<Pair<'_, Rule>> = kids(pair).collect();
        let action = parts
            .iter()
            .rev()
            .find(|p| p.as_rule() == Rule::action)
            .map(|p| self.action(p.clone()))
            .unwrap_or_else(|| self.empty_action(span));
        let kind = match rule {
            Rule::require_check => {
                let cond = parts
                    .first()
                    .map(|p| self.expr(p.clone()))
                    .unwrap_or_else(|| Expr {
                        kind: ExprKind::Literal(Literal::Bool(true)),
                        span,
                    });
                CheckKind::Require(cond)
            }
            Rule::limit_check => {
                let set = self.set_expr(parts[0].clone());
                let max = self.integer(&parts[1]);
                let (days, unit) = self.period(parts[2].clone());
                let (per_code, scope) = self.scopes(&parts[3..]);
                CheckKind::Limit {
                    set,
                    max,
                    days,
                    unit,
                    per_code,
                    scope,
                }
            }
            _ => {
                let set = self.set_expr(parts[0].clone());
                let days = self.integer(&parts[1]);
                let unit = parts.get(2).map_or(TimeUnit::Days, time_unit);
                let (per_code, scope) = self.scopes(&parts[2..]);
                CheckKind::Interval {
                    set,
                    days,
                    unit,
                    per_code,
                    scope,
                }
            }
        };
        Check { kind, action, span }
    }

    fn integer(&self, pair: &Pair<'_, Rule>) -> Spanned<u32> {
        // The grammar admits only digits; an overflowing number saturates and the
        // checker reports it as out of range.
        self.spanned(pair, pair.as_str().parse::<u32>().unwrap_or(u32::MAX))
    }

    /// `day` or `N days|months`: the length (spanning the whole period) and unit.
    fn period(&self, pair: Pair<'_, Rule>) -> (Spanned<u32>, TimeUnit) {
        let span = self.span(&pair);
        let parts: Vec<Pair<'_, Rule>> = kids(pair).collect();
        match parts.first() {
            Some(n) => (
                Spanned::new(self.integer(n).node, span),
                parts.get(1).map_or(TimeUnit::Days, time_unit),
            ),
            None => (Spanned::new(1, span), TimeUnit::Days),
        }
    }

    /// The optional `per code` and `per site [or unsited]` after a window.
    fn scopes(&self, parts: &[Pair<'_, Rule>]) -> (bool, Option<Spanned<SiteScope>>) {
        let per_code = parts.iter().any(|p| p.as_rule() == Rule::code_scope);
        let scope = parts
            .iter()
            .find(|p| p.as_rule() == Rule::site_scope)
            .map(|p| self.site_scope(p.clone()));
        (per_code, scope)
    }

    fn site_scope(&self, pair: Pair<'_, Rule>) -> Spanned<SiteScope> {
        let unsited = kids(pair.clone()).any(|p| p.as_rule() == Rule::unsited);
        self.spanned(
            &pair,
            if unsited {
                SiteScope::OrUnsited
            } else {
                SiteScope::Strict
            },
        )
    }

    fn empty_action(&self, span: Span) -> Action {
        Action {
            verb: Spanned::new(Verb::Deny, span),
            carc: None,
            rarc: Vec::new(),
            message: None,
            span,
        }
    }

    fn action(&self, pair: Pair<'_, Rule>) -> Action {
        let span = self.span(&pair);
        let mut action = self.empty_action(span);
        for p in kids(pair) {
            match p.as_rule() {
                Rule::verb => {
                    let verb = match p.as_str() {
                        "allow" => Verb::Allow,
                        "review" => Verb::Review,
                        _ => Verb::Deny,
                    };
                    action.verb = self.spanned(&p, verb);
                }
                Rule::carc => action.carc = Some(self.text(&p)),
                Rule::rarc_list => action.rarc = kids(p).map(|r| self.text(&r)).collect(),
                Rule::message => action.message = kids(p).next().map(|s| self.string(&s)),
                _ => {}
            }
        }
        action
    }

    fn expr(&self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::expr => match kids(pair).next() {
                Some(inner) => self.expr(inner),
                None => Expr {
                    kind: ExprKind::Literal(Literal::Bool(true)),
                    span,
                },
            },
            Rule::or_expr | Rule::and_expr => {
                let is_or = pair.as_rule() == Rule::or_expr;
                let mut parts: Vec<Expr> = kids(pair).map(|p| self.expr(p)).collect();
                if parts.len() == 1 {
                    return parts.remove(0);
                }
                let kind = if is_or {
                    ExprKind::Or(parts)
                } else {
                    ExprKind::And(parts)
                };
                Expr { kind, span }
            }
            Rule::not_expr => {
                let parts: Vec<Pair<'_, Rule>> = kids(pair).collect();
                let mut nots = Vec::new();
                let mut inner = None;
                for p in parts {
                    if p.as_rule() == Rule::not_op {
                        nots.push(self.span(&p));
                    } else {
                        inner = Some(self.expr(p));
                    }
                }
                let mut e = inner.unwrap_or(Expr {
                    kind: ExprKind::Literal(Literal::Bool(true)),
                    span,
                });
                for not_span in nots.into_iter().rev() {
                    let s = not_span.join(e.span);
                    e = Expr {
                        kind: ExprKind::Not(Box::new(e)),
                        span: s,
                    };
                }
                e
            }
            Rule::predicate => self.predicate(pair),
            Rule::quantifier => {
                let mut parts = kids(pair);
                let quant_pair = parts.next();
                let quant = match quant_pair.as_ref().map(|q| q.as_str()) {
                    Some("no") => Quant::No,
                    Some("every") => Quant::Every,
                    _ => Quant::Some,
                };
                let qspan = quant_pair.map(|q| self.span(&q)).unwrap_or(span);
                let body = parts.next().map(|b| self.expr(b)).unwrap_or(Expr {
                    kind: ExprKind::Literal(Literal::Bool(true)),
                    span,
                });
                Expr {
                    kind: ExprKind::Quantified {
                        quant: Spanned::new(quant, qspan),
                        body: Box::new(body),
                    },
                    span,
                }
            }
            Rule::count => {
                let mut set = SetExpr::Ref(Spanned::new(String::new(), span));
                let mut window = Spanned::new(Window::SameDay, span);
                let mut scope = None;
                let mut per_code = false;
                for p in kids(pair) {
                    match p.as_rule() {
                        Rule::window => window = self.window(p),
                        Rule::site_scope => scope = Some(self.site_scope(p)),
                        Rule::code_scope => per_code = true,
                        _ => set = self.set_expr(p),
                    }
                }
                Expr {
                    kind: ExprKind::Count {
                        set,
                        window,
                        per_code,
                        scope,
                    },
                    span,
                }
            }
            Rule::field => {
                let parts = kids(pair).map(|p| self.text(&p)).collect();
                Expr {
                    kind: ExprKind::Field(parts),
                    span,
                }
            }
            _ => Expr {
                kind: ExprKind::Literal(self.literal(pair)),
                span,
            },
        }
    }

    fn window(&self, pair: Pair<'_, Rule>) -> Spanned<Window> {
        let span = self.span(&pair);
        let Some(inner) = kids(pair).next() else {
            return Spanned::new(Window::SameDay, span);
        };
        if inner.as_rule() == Rule::same_day {
            return Spanned::new(Window::SameDay, span);
        }
        let parts: Vec<Pair<'_, Rule>> = kids(inner).collect();
        let days = parts.first().map_or(0, |p| self.integer(p).node);
        let unit = parts
            .iter()
            .find(|p| p.as_rule() == Rule::time_unit)
            .map_or(TimeUnit::Days, time_unit);
        let before = parts.iter().any(|p| p.as_rule() == Rule::before);
        Spanned::new(Window::Within { days, unit, before }, span)
    }

    fn literal(&self, pair: Pair<'_, Rule>) -> Literal {
        match pair.as_rule() {
            Rule::date => Literal::Date(pair.as_str().to_string()),
            Rule::number => {
                let text = pair.as_str();
                match text.parse::<i64>() {
                    Ok(i) => Literal::Int(i),
                    Err(_) => Literal::Number(text.parse::<f64>().unwrap_or(f64::NAN)),
                }
            }
            Rule::string => Literal::Str(self.string(&pair).node),
            Rule::boolean => Literal::Bool(pair.as_str() == "true"),
            Rule::list => Literal::List(self.list_items(pair)),
            _ => Literal::Str(pair.as_str().to_string()),
        }
    }

    fn list_items(&self, pair: Pair<'_, Rule>) -> Vec<Spanned<Literal>> {
        kids(pair)
            .map(|p| Spanned::new(self.literal(p.clone()), self.span(&p)))
            .collect()
    }

    fn predicate(&self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let mut parts = kids(pair);
        let Some(first) = parts.next() else {
            return Expr {
                kind: ExprKind::Literal(Literal::Bool(true)),
                span,
            };
        };
        let lhs = self.expr(first);
        let Some(tail) = parts.next() else {
            return lhs;
        };
        let tail_rule = tail.as_rule();
        let tail_span = self.span(&tail);
        let mut tparts: Vec<Pair<'_, Rule>> = tail.into_inner().collect();
        let kind = match tail_rule {
            Rule::compare_tail => {
                let op_pair = tparts.remove(0);
                let op = match op_pair.as_str() {
                    "==" => CompareOp::Eq,
                    "!=" => CompareOp::Ne,
                    "<" => CompareOp::Lt,
                    "<=" => CompareOp::Le,
                    ">" => CompareOp::Gt,
                    _ => CompareOp::Ge,
                };
                let rhs = tparts.pop().map(|p| self.expr(p)).unwrap_or(Expr {
                    kind: ExprKind::Literal(Literal::Bool(true)),
                    span: tail_span,
                });
                ExprKind::Compare {
                    op: self.spanned(&op_pair, op),
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                }
            }
            Rule::in_tail => {
                let op_pair = tparts.remove(0);
                let words: Vec<&str> = op_pair.as_str().split_whitespace().collect();
                let op = match words.first().copied() {
                    Some("not") => InOp::NotIn,
                    Some("any") => InOp::AnyIn,
                    Some("all") => InOp::AllIn,
                    _ => InOp::In,
                };
                let target = match tparts.pop() {
                    Some(p) if p.as_rule() == Rule::list => {
                        let lspan = self.span(&p);
                        InTarget::List(self.list_items(p), lspan)
                    }
                    Some(p) => InTarget::Set(self.set_expr(p)),
                    None => InTarget::List(Vec::new(), tail_span),
                };
                ExprKind::In {
                    op: self.spanned(&op_pair, op),
                    lhs: Box::new(lhs),
                    rhs: target,
                }
            }
            Rule::has_tail => {
                let rhs = tparts
                    .into_iter()
                    .rfind(|p| !is_keyword(p.as_rule()))
                    .map(|p| self.expr(p))
                    .unwrap_or(Expr {
                        kind: ExprKind::Literal(Literal::Bool(true)),
                        span: tail_span,
                    });
                ExprKind::Has {
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                }
            }
            _ => {
                let negated = tparts.iter().any(|p| p.as_rule() == Rule::kw_missing);
                ExprKind::Exists {
                    operand: Box::new(lhs),
                    negated,
                }
            }
        };
        Expr { kind, span }
    }
}

// `Rule` is taken by pest's generated enum in this module.
use super::ast::Rule as Rule_;

/// `days` or `months` (a `time_unit` pair; anything else reads as days).
fn time_unit(pair: &Pair<'_, Rule>) -> TimeUnit {
    if pair.as_rule() == Rule::time_unit && pair.as_str().starts_with("months") {
        TimeUnit::Months
    } else {
        TimeUnit::Days
    }
}

/// A module with nothing parsed into it yet.
fn empty_module(span: Span) -> Module {
    Module {
        kind: ModuleKind::Policy,
        id: Spanned::new(String::new(), span),
        title: None,
        doc: Vec::new(),
        header: Vec::new(),
        items: Vec::new(),
        span,
    }
}

fn module_kind(pair: Pair<'_, Rule>) -> ModuleKind {
    if pair.as_str() == "library" {
        ModuleKind::Library
    } else {
        ModuleKind::Policy
    }
}

fn doc_text(raw: &str) -> String {
    let text = raw.trim_start_matches("///");
    text.strip_prefix(' ')
        .unwrap_or(text)
        .trim_end()
        .to_string()
}

trait OrDefaultSpanned {
    fn unwrap_or_default_spanned(self) -> Spanned<String>;
}

impl OrDefaultSpanned for Option<Spanned<String>> {
    fn unwrap_or_default_spanned(self) -> Spanned<String> {
        self.unwrap_or_else(|| Spanned::new(String::new(), Span::default()))
    }
}

/// The pest rule type, for the human names in [`super::expected`].
pub(crate) type GrammarRule = Rule;

#[cfg(test)]
mod tests {
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
        let parsed =
            parse("policy p {\n  source \"x\"\n  owner \"y\"\n  rule r { deny CO-1 }\n}\n");
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
}

#[cfg(test)]
mod tree_tests {
    use super::*;

    const OK: &str = r#"
import "lib/common.policy"
/// A doc line.
policy p "Title" {
  payer a, b
  version "1"
  effective 2024-01-01..2024-12-31
  source "s"
  codes tpi = cpt 20552, 20553
  codes dx = icd10 M79.1*, M60.80-M60.89 + extra - icd10 M79.7
  /// Rule doc.
  rule R1 "title" {
    when line.procedure in tpi and not (line.units > 1)
    require some other line (other.procedure in hcpcs J*) else review CO-16
    limit tpi to 3 per 90 days per site or unsited else deny CO-151 rarc N640, N435 message "m"
    interval tpi at least 42 days per site else deny CO-151
  }
}
"#;

    #[test]
    fn a_full_file_parses_with_spans() {
        let parsed = parse(OK);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.file.imports.len(), 1);
        let module = parsed.file.module.unwrap_or_else(|| panic!("no module"));
        assert_eq!(module.doc, vec!["A doc line."]);
        assert_eq!(module.header.len(), 4);
        assert_eq!(module.items.len(), 3);
        let Item::Rule(rule) = &module.items[2] else {
            panic!("not a rule")
        };
        assert_eq!(rule.doc, vec!["Rule doc."]);
        assert_eq!(&OK[rule.span.start..rule.span.start + 4], "rule");
        assert_eq!(&OK[rule.id.span.start..rule.id.span.end], "R1");
        assert_eq!(rule.checks.len(), 3);
        let CheckKind::Limit {
            max, days, scope, ..
        } = &rule.checks[1].kind
        else {
            panic!("not a limit")
        };
        assert_eq!(
            (max.node, days.node, scope.as_ref().map(|s| s.node)),
            (3, 90, Some(SiteScope::OrUnsited))
        );
        assert_eq!(rule.checks[1].action.rarc.len(), 2);
    }

    #[test]
    fn several_broken_items_give_several_errors_and_keep_the_rest() {
        let text = "policy p {\n  payer a\n  rule A { when line.units > }\n  codes ok = cpt 20552\n  rule B { deny CO-1 rarc }\n  rule C { deny CO-1 }\n}\n";
        let parsed = parse(text);
        assert_eq!(parsed.errors.len(), 2, "{:?}", parsed.errors);
        assert!(
            parsed.errors[0].message().contains("found `}`"),
            "{}",
            parsed.errors[0].message()
        );
        let module = parsed.file.module.unwrap_or_else(|| panic!("no module"));
        assert_eq!(module.header.len(), 1);
        assert_eq!(module.items.len(), 2, "the code set and rule C survive");
    }

    #[test]
    fn an_unclosed_module_is_reported_at_the_end() {
        let parsed = parse("policy p {\n  payer a\n");
        assert!(
            parsed
                .errors
                .iter()
                .any(|e| e.message().contains("has no closing `}`")),
            "{:?}",
            parsed.errors
        );
    }

    #[test]
    fn keywords_are_not_names_but_may_start_them() {
        assert!(parse("policy p { codes rule = cpt 20552 }").errors.len() == 1);
        let parsed = parse("policy p { codes rules = cpt 20552 codes index = cpt 20553 }");
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    }

    #[test]
    fn strings_unescape_and_braces_in_strings_do_not_confuse_recovery() {
        let parsed = parse("policy p \"a \\\"q\\\" {\" {\n  rule A { deny CO-1 message \"}\" }\n  rule B { when }\n}\n");
        assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
        let module = parsed.file.module.unwrap_or_else(|| panic!("no module"));
        assert_eq!(module.title.map(|t| t.node).as_deref(), Some("a \"q\" {"));
    }

    #[test]
    fn months_and_per_code_are_read_on_limits_intervals_and_counts() {
        let item = parse_item(
            "rule X {\n  when count(tpi within 12 months before per code per site) >= 1\n  \
             limit tpi to 4 per 12 months per code per site or unsited else deny CO-151\n  \
             interval tpi at least 2 months per code else deny CO-151\n  \
             limit tpi to 1 per day per code else deny CO-151\n  \
             interval tpi at least 7 days else deny CO-151\n}",
        );
        let Ok(Item::Rule(rule)) = item else {
            panic!("{item:?}")
        };
        let ExprKind::Compare { lhs, .. } = &rule.when[0].kind else {
            panic!("{:?}", rule.when[0])
        };
        let ExprKind::Count {
            window,
            per_code,
            scope,
            ..
        } = &lhs.kind
        else {
            panic!("{lhs:?}")
        };
        assert_eq!(
            (window.node, *per_code, scope.as_ref().map(|s| s.node)),
            (
                Window::Within {
                    days: 12,
                    unit: TimeUnit::Months,
                    before: true
                },
                true,
                Some(SiteScope::Strict)
            )
        );
        let shapes: Vec<(u32, TimeUnit, bool, Option<SiteScope>)> = rule
            .checks
            .iter()
            .map(|c| match &c.kind {
                CheckKind::Limit {
                    days,
                    unit,
                    per_code,
                    scope,
                    ..
                }
                | CheckKind::Interval {
                    days,
                    unit,
                    per_code,
                    scope,
                    ..
                } => (days.node, *unit, *per_code, scope.as_ref().map(|s| s.node)),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            shapes,
            [
                (12, TimeUnit::Months, true, Some(SiteScope::OrUnsited)),
                (2, TimeUnit::Months, true, None),
                (1, TimeUnit::Days, true, None),
                (7, TimeUnit::Days, false, None),
            ]
        );
    }

    #[test]
    fn per_code_comes_before_per_site_and_code_is_a_keyword() {
        assert!(parse_item(
            "rule X { when line.procedure in tpi limit tpi to 1 per day per site per code else deny CO-1 }"
        )
        .is_err());
        assert!(parse_item("rule X { interval tpi at least 2 month else deny CO-1 }").is_err());
        assert!(parse("policy p { codes code = cpt 20552 }").errors.len() == 1);
        let parsed = parse("policy p { codes codes_x = cpt 20552 codes months_ago = cpt 20553 }");
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    }

    #[test]
    fn parse_item_reads_one_rule() {
        let item = parse_item("rule X { when line.procedure in cpt 20560, 20561 deny CO-96 }");
        assert!(matches!(item, Ok(Item::Rule(_))), "{item:?}");
        assert!(parse_item("rule X {").is_err());
    }
}
