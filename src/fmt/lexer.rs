//! A lexer for the formatter: the tokens of a policy file and its comments.
//!
//! The grammar drops `//` comments (they are whitespace to pest), so the
//! formatter reads the text itself. It only runs on text that parsed without
//! errors, so it can be simple: every grammar token is one lexer token, and the
//! tokens the grammar glues together without spaces (codes, ranges, prefixes,
//! dates, names with `-`, fields, CARCs) are one word here, printed as written.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A run of letters, digits, `_`, `.`, `*` and `-`: keywords, names, codes,
    /// numbers, dates, fields, CARCs.
    Word,
    /// A quoted string, quotes and escapes included.
    Str,
    /// Punctuation and operators: `{ } ( ) [ ] , = + - == != < <= > >=`.
    Punct,
    /// A `//` comment (or `////...`), to the end of its line.
    Comment,
    /// A `///` doc comment, to the end of its line.
    Doc,
}

/// One token with its place in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    /// What it is.
    pub kind: Kind,
    /// The text as written (comments without trailing whitespace).
    pub text: &'a str,
    /// Line breaks between the previous token and this one (for the first
    /// token: since the start of the file).
    pub newlines_before: usize,
}

impl Token<'_> {
    /// True for `//` and `///` comments.
    pub fn is_comment(&self) -> bool {
        matches!(self.kind, Kind::Comment | Kind::Doc)
    }

    /// True for a word that is exactly `word` (keywords).
    pub fn is(&self, word: &str) -> bool {
        matches!(self.kind, Kind::Word | Kind::Punct) && self.text == word
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'*' | b'-')
}

/// Splits text into tokens and comments, in order.
pub(crate) fn lex(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut newlines = 0;
    while let Some(&b) = bytes.get(i) {
        if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
            if b == b'\n' {
                newlines += 1;
            }
            i += 1;
            continue;
        }
        let start = i;
        let kind = if text[i..].starts_with("//") {
            i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
            let doc = text[start..].starts_with("///") && !text[start..].starts_with("////");
            if doc {
                Kind::Doc
            } else {
                Kind::Comment
            }
        } else if b == b'"' {
            i += 1;
            while let Some(&c) = bytes.get(i).filter(|&&c| c != b'"' && c != b'\n') {
                i += if c == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(bytes.len());
            Kind::Str
        } else if b == b'-' && !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            // A set difference written against its right operand (`a -b`); a
            // leading `-` followed by a digit is a negative number.
            i += 1;
            Kind::Punct
        } else if is_word_byte(b) {
            while bytes.get(i).copied().is_some_and(is_word_byte) {
                i += 1;
            }
            Kind::Word
        } else {
            let two = text.get(i..i + 2).unwrap_or("");
            if matches!(two, "==" | "!=" | "<=" | ">=") {
                i += 2;
            } else {
                i += text[i..].chars().next().map_or(1, char::len_utf8);
            }
            Kind::Punct
        };
        let mut token_text = &text[start..i.min(bytes.len())];
        if matches!(kind, Kind::Comment | Kind::Doc) {
            token_text = token_text.trim_end();
        }
        tokens.push(Token {
            kind,
            text: token_text,
            newlines_before: newlines,
        });
        newlines = 0;
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<(Kind, &str)> {
        lex(text).into_iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn words_keep_codes_ranges_and_names_whole() {
        assert_eq!(
            texts("codes a-b = icd10 M60.80-M60.89, M79.1* + x -y"),
            vec![
                (Kind::Word, "codes"),
                (Kind::Word, "a-b"),
                (Kind::Punct, "="),
                (Kind::Word, "icd10"),
                (Kind::Word, "M60.80-M60.89"),
                (Kind::Punct, ","),
                (Kind::Word, "M79.1*"),
                (Kind::Punct, "+"),
                (Kind::Word, "x"),
                (Kind::Punct, "-"),
                (Kind::Word, "y"),
            ]
        );
    }

    #[test]
    fn comments_docs_strings_and_operators() {
        let tokens = lex("/// doc  \n//// not doc\nx>=-1 // c \"q\"\n\n\"a \\\" // b\"<=");
        let got: Vec<(Kind, &str, usize)> = tokens
            .iter()
            .map(|t| (t.kind, t.text, t.newlines_before))
            .collect();
        assert_eq!(
            got,
            vec![
                (Kind::Doc, "/// doc", 0),
                (Kind::Comment, "//// not doc", 1),
                (Kind::Word, "x", 1),
                (Kind::Punct, ">=", 0),
                (Kind::Word, "-1", 0),
                (Kind::Comment, "// c \"q\"", 0),
                (Kind::Str, "\"a \\\" // b\"", 2),
                (Kind::Punct, "<=", 0),
            ]
        );
    }
}
