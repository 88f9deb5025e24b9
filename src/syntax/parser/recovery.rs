//! Recovery after pest's first error: the module's body found by brace
//! matching, each item parsed on its own, and the errors of unclosed or stray
//! braces named where they are.

use super::*;

// ------------------------------------------------------------------ recovery

pub(super) fn recover(text: &str, first: SyntaxError) -> Parsed {
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
    let mut head_surprises = Vec::new();
    match PolicyParser::parse(Rule::head, head) {
        Ok(mut pairs) => {
            if let Some(pair) = pairs.next() {
                let lower = Lower::new(0);
                let (imports, module) = lower.head(pair);
                file.imports = imports;
                file.module = Some(module);
                head_surprises = lower.surprises();
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
        if let Some(chunk) = chunks.get_mut(i) {
            chunk.1 = at;
        }
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
    errors.extend(head_surprises);
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
        internal: false,
    }
}

fn unclosed_module(open: usize, kind: &str, id: &str) -> SyntaxError {
    SyntaxError {
        span: Span::new(open, open + 1),
        expected: vec!["`}`".into()],
        found: None,
        custom: Some(format!("{kind} `{id}` has no closing `}}`")),
        help: Some(format!("add `}}` at the end of the file to close the {kind}; if a rule lacks its `}}`, add that instead")),
        internal: false,
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
pub(super) fn code_bytes(
    text: &str,
    from: usize,
    to: usize,
) -> impl Iterator<Item = (usize, u8)> + '_ {
    let bytes = text.as_bytes();
    let mut i = from;
    let mut in_string = false;
    std::iter::from_fn(move || {
        while i < to {
            let at = i;
            // Callers keep `to` within the text.
            let &b = bytes.get(at)?;
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
                    while i < to && bytes.get(i).is_some_and(|&c| c != b'\n') {
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

const ITEM_STARTS: [&str; 8] = [
    "payer",
    "version",
    "effective",
    "source",
    "codes",
    "region",
    "rule",
    "///",
];

/// True when `before` ends with the word `per`: a `region` after it is the
/// scope of a check (`per region`), not a region declaration.
fn after_per(before: &str) -> bool {
    before.trim_end().strip_suffix("per").is_some_and(|head| {
        !head.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    })
}

/// Splits a module body into item chunks: a chunk starts at a line whose first
/// token starts an item; doc lines stay with the item they precede. Brace depth
/// is ignored: no item keyword can stand at the start of a line inside a rule,
/// but for the `region` of a `per region` split over two lines (see
/// [`after_per`]).
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
                    && !(**w == "region" && after_per(text.get(start..at).unwrap_or("")))
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
