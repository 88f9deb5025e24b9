//! The printer: lays the tokens of a parsed file out in the canonical layout.
//!
//! The printer walks the tokens once. The language's keywords tell it where a
//! line starts (a header item, `codes`, `rule`, `when`, a check, `else`, `}`),
//! brace depth gives the indent, and everything between two line starts is
//! joined on one line with normalized spacing. Comments stay where they were
//! relative to the tokens: a comment that followed a token on its line still
//! does, a comment on its own line stays on its own line, indented like the
//! line after it. A comment inside a statement ends the line; the statement
//! goes on on a continuation line.

use std::collections::HashMap;

use super::lexer::{Kind, Token};

/// Lines are filled up to this many columns; only code lists wrap.
pub(crate) const WIDTH: usize = 100;
/// Spaces per level of braces.
const INDENT: usize = 2;

/// Where the printer is in a code list (`cpt 20552, 20553`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    /// Not in a code list.
    Out,
    /// After the system keyword: the next token is the first entry.
    First,
    /// After a comma: the next token is an entry.
    Entry,
    /// After an entry: a comma continues the list, anything else ends it.
    After,
}

struct Printer<'a> {
    tokens: &'a [Token<'a>],
    out: String,
    /// The line being built, indent included.
    line: String,
    /// Brace depth: 0 file, 1 module body, 2 rule body.
    depth: usize,
    /// Indent of the current statement's first line (or of its `else` line).
    base: usize,
    /// On an `effective` line: the dates and `..` are written without spaces.
    glue: bool,
    list: List,
    /// Column of the current code list's first entry: where its lines wrap to.
    list_col: Option<usize>,
    /// The last token printed that is not a comment.
    prev: Option<Token<'a>>,
    /// Nothing printed yet in the current block (or file): no blank line here.
    block_start: bool,
    /// Spaces after a code set's name, by token index, to align `=` in a group.
    pads: HashMap<usize, usize>,
}

/// Prints the tokens of a file in the canonical layout.
pub(crate) fn print(tokens: &[Token<'_>]) -> String {
    let mut p = Printer {
        tokens,
        out: String::new(),
        line: String::new(),
        depth: 0,
        base: 0,
        glue: false,
        list: List::Out,
        list_col: None,
        prev: None,
        block_start: true,
        pads: code_set_pads(tokens),
    };
    for (k, token) in tokens.iter().enumerate() {
        if token.is_comment() {
            p.comment(k, token);
        } else {
            p.token(k, token);
        }
    }
    p.flush();
    p.out
}

const HEADER_AND_ITEMS: [&str; 8] = [
    "payer",
    "payer-ids",
    "version",
    "effective",
    "source",
    "codes",
    "region",
    "rule",
];
const CHECKS: [&str; 4] = ["when", "require", "limit", "interval"];
const VERBS: [&str; 3] = ["deny", "review", "allow"];
const SYSTEMS: [&str; 3] = ["cpt", "hcpcs", "icd10"];

fn is_word(token: &Token<'_>, words: &[&str]) -> bool {
    token.kind == Kind::Word && words.contains(&token.text)
}

fn width(text: &str) -> usize {
    text.chars().count()
}

impl<'a> Printer<'a> {
    /// The next token after `k` that is not a comment.
    fn next_token(&self, k: usize) -> Option<&'a Token<'a>> {
        self.tokens.iter().skip(k + 1).find(|t| !t.is_comment())
    }

    /// The indent of the line `token` starts, or `None` when it continues the
    /// current line. `}` is handled by the caller.
    fn line_start(&self, token: &Token<'_>) -> Option<usize> {
        let here = self.depth * INDENT;
        let starts = match self.depth {
            0 => is_word(token, &["import", "policy", "library"]),
            1 => is_word(token, &HEADER_AND_ITEMS),
            _ => {
                if token.is("else") {
                    return Some(here + INDENT);
                }
                is_word(token, &CHECKS)
                    || (is_word(token, &VERBS) && !self.prev.is_some_and(|p| p.is("else")))
            }
        };
        starts.then_some(here)
    }

    /// Where a statement goes on after a comment broke it: under the first
    /// entry of the code list it is in, else two spaces in.
    fn continuation(&self) -> usize {
        match (self.list, self.list_col) {
            (List::Entry | List::After, Some(col)) => col,
            _ => self.base + INDENT,
        }
    }

    fn flush(&mut self) {
        let line = self.line.trim_end();
        if !line.is_empty() {
            self.out.push_str(line);
            self.out.push('\n');
        }
        self.line.clear();
    }

    /// Ends the current line and starts one at `indent`, after a blank line
    /// when the source had one here (never first in a block).
    fn start_line(&mut self, indent: usize, blank: bool) {
        self.flush();
        if blank && !self.block_start && !self.out.is_empty() {
            self.out.push('\n');
        }
        self.block_start = false;
        self.line = " ".repeat(indent);
    }

    fn comment(&mut self, k: usize, token: &Token<'_>) {
        let trailing = token.kind == Kind::Comment
            && token.newlines_before == 0
            && !self.line.trim().is_empty();
        if trailing {
            self.line.push(' ');
            self.line.push_str(token.text);
            self.flush();
            return;
        }
        let indent = match self.next_token(k) {
            // Inside the block the brace closes.
            Some(next) if next.is("}") => self.depth * INDENT,
            Some(next) => self.line_start(next).unwrap_or_else(|| self.continuation()),
            None => 0,
        };
        self.start_line(indent, token.newlines_before >= 2);
        self.line.push_str(token.text);
        self.flush();
    }

    fn space_before(&self, token: &Token<'_>) -> bool {
        let Some(prev) = self.prev else {
            return false;
        };
        let glued = prev.is("(")
            || prev.is("[")
            || token.is(")")
            || token.is("]")
            || token.is(",")
            || ((prev.is("count") || prev.is("sum")) && token.is("("))
            || (self.glue && !prev.is("effective"));
        !glued
    }

    fn token(&mut self, k: usize, token: &Token<'a>) {
        if self.list == List::After && !token.is(",") {
            self.list = List::Out;
            self.list_col = None;
        }
        let start = if token.is("}") {
            self.depth = self.depth.saturating_sub(1);
            Some(self.depth * INDENT)
        } else {
            self.line_start(token)
        };
        if let Some(indent) = start {
            let blank = token.newlines_before >= 2 && !token.is("}") && !token.is("else");
            self.start_line(indent, blank);
            self.base = indent;
            self.glue = token.is("effective");
            self.list = List::Out;
            self.list_col = None;
            self.line.push_str(token.text);
        } else if self.line.trim().is_empty() {
            // The line was ended by a comment inside the statement.
            self.line = " ".repeat(self.continuation());
            self.line.push_str(token.text);
        } else {
            if self.list == List::Entry {
                let comma = self.next_token(k).is_some_and(|t| t.is(","));
                let wanted = width(&self.line) + 1 + width(token.text) + usize::from(comma);
                if let Some(col) = self.list_col.filter(|_| wanted > WIDTH) {
                    self.flush();
                    self.line = " ".repeat(col);
                }
            }
            if !self.line.trim().is_empty() && self.space_before(token) {
                self.line.push(' ');
            }
            if self.list == List::First {
                self.list_col = Some(width(&self.line));
            }
            self.line.push_str(token.text);
        }
        if self.list == List::First && self.list_col.is_none() {
            // The first entry opened a continuation line.
            self.list_col = Some(width(&self.line) - width(token.text));
        }
        self.list = match self.list {
            _ if is_word(token, &SYSTEMS) => {
                self.list_col = None;
                List::First
            }
            List::First | List::Entry => List::After,
            List::After => List::Entry,
            List::Out => List::Out,
        };
        if let Some(pad) = self.pads.get(&k) {
            self.line.push_str(&" ".repeat(*pad));
        }
        if token.is("{") {
            self.depth += 1;
            self.block_start = true;
        }
        self.prev = Some(*token);
    }
}

/// Code sets declared one after the other (no blank line between them) form a
/// group whose `=` signs line up, and so do regions: the spaces to add after
/// each name, by the token index of the name.
fn code_set_pads(tokens: &[Token<'_>]) -> HashMap<usize, usize> {
    let mut groups: Vec<Vec<(usize, usize)>> = Vec::new();
    let mut depth = 0usize;
    // The keyword of the declaration before, when it was `codes` or `region`.
    let mut last: Option<&str> = None;
    // A blank line since the last token that is not a comment.
    let mut blank = false;
    for (k, token) in tokens.iter().enumerate() {
        if token.is_comment() {
            blank |= token.newlines_before >= 2;
            continue;
        }
        blank |= token.newlines_before >= 2;
        if token.is("{") {
            depth += 1;
        } else if token.is("}") {
            depth = depth.saturating_sub(1);
            last = None;
        } else if depth == 1 && is_word(token, &HEADER_AND_ITEMS) {
            if token.is("codes") || token.is("region") {
                let name = tokens
                    .iter()
                    .enumerate()
                    .skip(k + 1)
                    .find(|(_, t)| !t.is_comment());
                if let Some((name, name_token)) = name {
                    if last != Some(token.text) || blank {
                        groups.push(Vec::new());
                    }
                    if let Some(group) = groups.last_mut() {
                        group.push((name, width(name_token.text)));
                    }
                }
                last = Some(token.text);
            } else {
                last = None;
            }
        }
        blank = false;
    }
    let mut pads = HashMap::new();
    for group in groups {
        let widest = group.iter().map(|&(_, w)| w).max().unwrap_or(0);
        for (name, w) in group {
            pads.insert(name, widest - w);
        }
    }
    pads
}
