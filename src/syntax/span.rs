//! Byte ranges into a policy file's text.

use std::ops::Range;

/// A byte range `start..end` in the text of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from byte offsets.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span that covers both.
    pub fn join(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// The span moved `by` bytes later, for a piece parsed out of a larger text.
    pub fn shift(self, by: usize) -> Span {
        Span::new(self.start + by, self.end + by)
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        self.end - self.start
    }

    /// True for an empty span (a point).
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The 1-based line and column (in characters) of the span's start in `text`.
    pub fn line_col(self, text: &str) -> (usize, usize) {
        let upto = text.get(..self.start.min(text.len())).unwrap_or("");
        let line = upto.matches('\n').count() + 1;
        let col = upto.rsplit('\n').next().map_or(0, |s| s.chars().count()) + 1;
        (line, col)
    }
}

impl From<Span> for Range<usize> {
    fn from(span: Span) -> Range<usize> {
        span.start..span.end
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> miette::SourceSpan {
        (span.start, span.len()).into()
    }
}

/// A value with the span of the text it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub node: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Wraps a value with its span.
    pub fn new(node: T, span: Span) -> Spanned<T> {
        Spanned { node, span }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let text = "ab\ncdé\nf";
        assert_eq!(Span::new(0, 1).line_col(text), (1, 1));
        assert_eq!(Span::new(3, 4).line_col(text), (2, 1));
        assert_eq!(Span::new(8, 9).line_col(text), (3, 1));
        assert_eq!(Span::new(5, 6).line_col(text), (2, 3));
    }

    #[test]
    fn join_and_shift() {
        assert_eq!(Span::new(4, 6).join(Span::new(1, 5)), Span::new(1, 6));
        assert_eq!(Span::new(1, 2).shift(10), Span::new(11, 12));
    }
}
