//! Why a claim could not be evaluated.
//!
//! One [`ClaimError`] stands for one input record: the reader and the validator
//! produce them, the evaluator adds `no_policy`, and the output turns each into an
//! [`ErrorRecord`](super::decision::ErrorRecord) in place of that claim's decision.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The `error.kind` of an error record in the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The claim is malformed: unreadable, a required field missing, a bad value.
    InvalidClaim,
    /// The claim is well formed but no loaded policy covers its payer.
    NoPolicy,
    /// The claim clashes with the history: its id was already evaluated with
    /// other content (and it is not a replacement), it was imported as paid, or
    /// it replaces or voids a claim that was already replaced or voided.
    Conflict,
}

impl ErrorKind {
    /// The contract's spelling (`invalid_claim`, `no_policy`, `conflict`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidClaim => "invalid_claim",
            ErrorKind::NoPolicy => "no_policy",
            ErrorKind::Conflict => "conflict",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A claim that could not be evaluated, with enough context to find it in the input.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct ClaimError {
    /// The claim's `id`, when the record had a readable, non-empty one.
    pub id: Option<String>,
    /// Which of the contract's error kinds this is.
    pub kind: ErrorKind,
    /// What is wrong, lowercase, without a trailing period.
    pub message: String,
    /// The first bad field, as `lines[0].units` (0-based indexes); `None` when the
    /// record as a whole is unreadable.
    pub path: Option<String>,
    /// 1-based position of the claim in the input, so that claims without a
    /// readable id can still be found: the line number for JSON Lines (blank
    /// lines counted), the element's position for an array or a YAML list.
    pub record: usize,
    /// True when the error is about the input rather than one claim: it could
    /// not be read (a directory, an I/O error) or not be split into claims (a
    /// JSON array whose brackets do not balance, YAML that does not parse), so
    /// claims in it may have been lost without a record of their own. A shell
    /// turns this into a failing exit status; it is not part of the output.
    pub input_lost: bool,
}

impl ClaimError {
    /// A malformed claim.
    pub fn invalid(
        id: Option<String>,
        path: Option<String>,
        message: impl Into<String>,
        record: usize,
    ) -> ClaimError {
        ClaimError {
            id,
            kind: ErrorKind::InvalidClaim,
            message: capped_quotes(&message.into()),
            path,
            record,
            input_lost: false,
        }
    }

    /// An error about the input as a whole at `record` (see
    /// [`ClaimError::input_lost`]): an invalid claim with no id and no path.
    pub fn input(message: impl Into<String>, record: usize) -> ClaimError {
        ClaimError {
            input_lost: true,
            ..ClaimError::invalid(None, None, message, record)
        }
    }

    /// A valid claim that clashes with the history, at field `path`.
    pub fn conflict(id: &str, path: &str, message: impl Into<String>, record: usize) -> ClaimError {
        ClaimError {
            id: Some(id.to_owned()),
            kind: ErrorKind::Conflict,
            message: message.into(),
            path: Some(path.to_owned()),
            record,
            input_lost: false,
        }
    }

    /// A valid claim whose payer no loaded policy covers.
    pub fn no_policy(id: &str, payer: &str, record: usize) -> ClaimError {
        ClaimError {
            id: Some(id.to_owned()),
            kind: ErrorKind::NoPolicy,
            message: format!("no policy is loaded for payer `{payer}`"),
            path: Some("payer".to_owned()),
            record,
            input_lost: false,
        }
    }
}

impl fmt::Display for ClaimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record {}", self.record)?;
        // Shown on stderr and in logs: the id escaped and capped (finding S2).
        if let Some(id) = &self.id {
            write!(f, " ({})", for_log(id))?;
        }
        write!(f, ": {}", self.kind)?;
        if let Some(path) = &self.path {
            write!(f, " at {path}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The longest claim value echoed in a message or a log line, in characters.
pub const SHOWN_CHARS: usize = 64;

/// `text` as a log line may show it (finding S2): control characters
/// escaped (an id with ESC or a newline can neither drive a terminal nor
/// forge a line) and at most [`SHOWN_CHARS`] characters, then `…`.
pub fn for_log(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(SHOWN_CHARS + 8));
    for (i, c) in text.chars().enumerate() {
        if i == SHOWN_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A message with each quoted claim value (`"..."`, as serde quotes what it
/// found) cut to [`SHOWN_CHARS`] characters and `…`, and control characters
/// escaped: error records and stderr never carry a value of unbounded size
/// (finding S2). serde already escapes quotes inside the value (`\"`).
fn capped_quotes(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(4 * SHOWN_CHARS));
    let mut quoted: Option<usize> = None;
    let mut escaped = false;
    for c in message.chars() {
        match quoted {
            None => {
                if c == '"' {
                    quoted = Some(0);
                }
                if c.is_control() {
                    out.extend(c.escape_default());
                } else {
                    out.push(c);
                }
            }
            Some(n) => {
                let ends = c == '"' && !escaped;
                escaped = !escaped && c == '\\';
                if ends {
                    quoted = None;
                    out.push(c);
                    continue;
                }
                if n < SHOWN_CHARS {
                    if c.is_control() {
                        out.extend(c.escape_default());
                    } else {
                        out.push(c);
                    }
                } else if n == SHOWN_CHARS {
                    out.push('…');
                }
                quoted = Some(n + 1);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_record_id_and_path() {
        let err = ClaimError::invalid(
            Some("CLM-1".into()),
            Some("lines[0].units".into()),
            "units must be an integer of at least 1, got 0",
            3,
        );
        assert_eq!(
            err.to_string(),
            "record 3 (CLM-1): invalid_claim at lines[0].units: units must be an integer of at least 1, got 0"
        );
        let err = ClaimError::invalid(None, None, "not valid JSON", 1);
        assert_eq!(err.to_string(), "record 1: invalid_claim: not valid JSON");
    }

    #[test]
    fn values_in_messages_and_ids_in_logs_are_escaped_and_capped() {
        let long = "x".repeat(100_000);
        let err = ClaimError::invalid(
            Some(format!("EVIL\u{1b}]0;pwned\u{7}\r\nFAKE{long}")),
            Some("patient".into()),
            format!("invalid type: string \"John \\\"Smith\\\" {long}\", expected a claim"),
            4,
        );
        assert_eq!(
            err.message,
            format!(
                "invalid type: string \"John \\\"Smith\\\" {}…\", expected a claim",
                "x".repeat(SHOWN_CHARS - 15)
            )
        );
        let shown = err.to_string();
        assert!(shown.len() < 300, "{shown}");
        assert!(!shown.chars().any(char::is_control), "{shown}");
        assert!(
            shown.starts_with("record 4 (EVIL\\u{1b}]0;pwned\\u{7}\\r\\nFAKE"),
            "{shown}"
        );
    }
}
