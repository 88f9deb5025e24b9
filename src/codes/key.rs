//! A medical code packed into a `u64` so that code sets become integer intervals.
//!
//! Codes are short ASCII strings (CPT `20552`, HCPCS `J3301`, ICD-10-CM `M79.18`).
//! Packing them left-aligned and zero-padded into a big-endian `u64` keeps the
//! lexical order of the text, so a range `M60.80-M60.89` or a prefix `M79.1*` is a
//! closed interval of keys and membership is a comparison, not a string match.

use std::fmt;

/// The longest code that packs: ICD-10-CM codes are at most 7 characters without the dot.
pub const MAX_CODE_LEN: usize = 8;

/// A code packed for ordered comparison; see the module docs.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct CodeKey(pub u64);

impl CodeKey {
    /// Packs `text`, dropping dots and upper-casing letters.
    /// Returns `None` for an empty code, a code longer than [`MAX_CODE_LEN`], or a
    /// character other than an ASCII letter, digit or dot.
    pub fn parse(text: &str) -> Option<CodeKey> {
        let mut key: u64 = 0;
        let mut len = 0;
        for b in text.bytes() {
            if b == b'.' {
                continue;
            }
            if !b.is_ascii_alphanumeric() || len == MAX_CODE_LEN {
                return None;
            }
            key |= u64::from(b.to_ascii_uppercase()) << (8 * (7 - len));
            len += 1;
        }
        (len > 0).then_some(CodeKey(key))
    }

    /// Number of characters in the packed code.
    pub fn len(self) -> usize {
        MAX_CODE_LEN - (self.0.trailing_zeros() as usize / 8).min(MAX_CODE_LEN)
    }

    /// True for the zero key, which no parsed code produces.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The largest key that starts with this code: every longer code with this
    /// prefix lies in `self..=self.prefix_end()`.
    pub fn prefix_end(self) -> CodeKey {
        let used = self.len() * 8;
        let fill = if used >= 64 { 0 } else { u64::MAX >> used };
        CodeKey(self.0 | fill)
    }

    /// True when `self` starts with all the characters of `prefix`.
    pub fn starts_with(self, prefix: CodeKey) -> bool {
        prefix <= self && self <= prefix.prefix_end()
    }

    /// The code's characters, without a dot.
    pub fn as_string(self) -> String {
        self.0
            .to_be_bytes()
            .iter()
            .take_while(|b| **b != 0)
            .map(|b| char::from(*b))
            .collect()
    }
}

impl From<&str> for CodeKey {
    /// Packs a code known to be valid; text that does not pack gives the empty key.
    fn from(text: &str) -> CodeKey {
        CodeKey::parse(text).unwrap_or_default()
    }
}

// Written as the code's text, without allocating: decisions carry procedure codes
// as keys and print them straight into the output.
impl serde::Serialize for CodeKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let bytes = self.0.to_be_bytes();
        let text = bytes
            .get(..self.len())
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("");
        serializer.serialize_str(text)
    }
}

impl<'de> serde::Deserialize<'de> for CodeKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<CodeKey, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        CodeKey::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a code")))
    }
}

impl fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodeKey({})", self.as_string())
    }
}

impl fmt::Display for CodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_and_case_do_not_matter() {
        assert_eq!(CodeKey::parse("M79.18"), CodeKey::parse("m7918"));
        assert_eq!(
            CodeKey::parse("M79.18").map(CodeKey::as_string).as_deref(),
            Some("M7918")
        );
    }

    #[test]
    fn order_is_lexical() {
        let k = |s| CodeKey::parse(s).unwrap_or_default();
        assert!(k("00100") < k("01999"));
        assert!(k("M79") < k("M791"));
        assert!(k("M791") < k("M7918"));
        assert!(k("M7918") < k("M792"));
    }

    #[test]
    fn prefix_interval_holds_descendants_only() {
        let k = |s| CodeKey::parse(s).unwrap_or_default();
        assert!(k("M7918").starts_with(k("M79.1")));
        assert!(k("M791").starts_with(k("M79.1")));
        assert!(!k("M792").starts_with(k("M79.1")));
        assert!(!k("M79").starts_with(k("M79.1")));
        assert_eq!(k("ABCDEFGH").prefix_end(), k("ABCDEFGH"));
    }

    #[test]
    fn rejects_bad_text() {
        assert_eq!(CodeKey::parse(""), None);
        assert_eq!(CodeKey::parse("."), None);
        assert_eq!(CodeKey::parse("M79 1"), None);
        assert_eq!(CodeKey::parse("ABCDEFGHI"), None);
        assert_eq!(CodeKey::parse("M7é"), None);
    }

    #[test]
    fn len_counts_characters() {
        assert_eq!(CodeKey::parse("J").map(CodeKey::len), Some(1));
        assert_eq!(CodeKey::parse("M79.18").map(CodeKey::len), Some(5));
    }
}
