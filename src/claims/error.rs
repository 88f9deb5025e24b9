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
    /// X12: the input is not an interchange the reader can follow (no ISA, an
    /// ISA whose delimiters cannot be read, input that ends inside a segment).
    X12Syntax,
    /// X12: an envelope segment out of place or missing (an ST outside a
    /// group, a transaction without its SE, a group without its GE...).
    X12Envelope,
    /// X12: SE01 is not the transaction set's segment count.
    X12SegmentCount,
    /// X12: a trailer's control number differs from its header's (SE02/ST02,
    /// GE02/GS06, IEA02/ISA13).
    X12ControlNumber,
    /// X12: GE01 is not the number of transaction sets in the group.
    X12TransactionCount,
    /// X12: IEA01 is not the number of groups in the interchange.
    X12GroupCount,
    /// X12: HL01 does not run 1, 2, 3..., or HL02 names no earlier HL of the
    /// level above (or HL03 is no 837P level).
    X12Hierarchy,
    /// X12: a claim-level or line-level segment before any CLM of its HL loop.
    X12SegmentOrder,
    /// X12: ST03 (or GS08) is not an 837P version, `005010X222*`.
    X12Version,
    /// payer-rules could not write the claim's outcome (a bug, diagnostic
    /// code PR901): the record stands in its place so that no claim is left
    /// without one, or with an empty one.
    Internal,
}

impl ErrorKind {
    /// The contract's spelling (`invalid_claim`, `no_policy`, `conflict`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidClaim => "invalid_claim",
            ErrorKind::NoPolicy => "no_policy",
            ErrorKind::Conflict => "conflict",
            ErrorKind::X12Syntax => "x12_syntax",
            ErrorKind::X12Envelope => "x12_envelope",
            ErrorKind::X12SegmentCount => "x12_segment_count",
            ErrorKind::X12ControlNumber => "x12_control_number",
            ErrorKind::X12TransactionCount => "x12_transaction_count",
            ErrorKind::X12GroupCount => "x12_group_count",
            ErrorKind::X12Hierarchy => "x12_hierarchy",
            ErrorKind::X12SegmentOrder => "x12_segment_order",
            ErrorKind::X12Version => "x12_version",
            ErrorKind::Internal => "internal",
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
    /// Where in an X12 input the problem lies; `None` for other formats.
    pub x12: Option<Box<X12Location>>,
    /// True when the error is about the input rather than one claim: it could
    /// not be read (a directory, an I/O error) or not be split into claims (a
    /// JSON array whose brackets do not balance, YAML that does not parse), so
    /// claims in it may have been lost without a record of their own. A shell
    /// turns this into a failing exit status; it is not part of the output.
    pub input_lost: bool,
}

/// A place in an X12 interchange, for error records and warnings: the control
/// numbers of the envelopes around it, the loop, and the segment by id,
/// ordinal and byte offset. Fields that do not apply (no group yet, a segment
/// outside a loop) are `None` and not written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct X12Location {
    /// ISA13, the interchange control number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interchange: Option<String>,
    /// GS06, the group control number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// ST02, the transaction set control number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<String>,
    /// The 837P loop the segment belongs to (`2300`, `2400`, `2010BB`...).
    #[serde(default, rename = "loop", skip_serializing_if = "Option::is_none")]
    pub loop_id: Option<String>,
    /// The segment id (`SV1`, `SE`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// The segment's 1-based position in the input (ISA is 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordinal: Option<u64>,
    /// The byte offset of the segment's first byte in the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// Something a reader accepted but a person should know about (an X12 CLM02
/// that is not the sum of its lines' charges, minutes read as one unit): the
/// claim is still evaluated.
#[derive(Clone, Debug, PartialEq)]
pub struct Warning {
    /// The claim's id, when it has one.
    pub id: Option<String>,
    /// The field the warning is about, as in error records.
    pub path: Option<String>,
    /// What was noticed, lowercase, without a trailing period.
    pub message: String,
    /// 1-based position of the claim in the input.
    pub record: usize,
    /// Where in an X12 input.
    pub x12: Option<Box<X12Location>>,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record {}", self.record)?;
        // On stderr: the id escaped and capped, as for errors.
        if let Some(id) = &self.id {
            write!(f, " ({})", for_log(id))?;
        }
        if let Some(path) = &self.path {
            write!(f, " at {path}")?;
        }
        if let Some(at) = &self.x12 {
            write!(f, " [{at}]")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl fmt::Display for X12Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        let mut part =
            |f: &mut fmt::Formatter<'_>, name: &str, value: Option<&dyn fmt::Display>| {
                if let Some(value) = value {
                    let out = write!(f, "{sep}{name} {value}");
                    sep = ", ";
                    out
                } else {
                    Ok(())
                }
            };
        part(
            f,
            "loop",
            self.loop_id.as_ref().map(|v| v as &dyn fmt::Display),
        )?;
        part(
            f,
            "segment",
            self.segment.as_ref().map(|v| v as &dyn fmt::Display),
        )?;
        part(
            f,
            "#",
            self.ordinal.as_ref().map(|v| v as &dyn fmt::Display),
        )?;
        part(
            f,
            "byte",
            self.offset.as_ref().map(|v| v as &dyn fmt::Display),
        )?;
        part(
            f,
            "ST02",
            self.transaction.as_ref().map(|v| v as &dyn fmt::Display),
        )?;
        part(
            f,
            "GS06",
            self.group.as_ref().map(|v| v as &dyn fmt::Display),
        )?;
        part(
            f,
            "ISA13",
            self.interchange.as_ref().map(|v| v as &dyn fmt::Display),
        )
    }
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
            x12: None,
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

    /// The same error, placed in an X12 input.
    pub fn at_x12(mut self, at: X12Location) -> ClaimError {
        self.x12 = Some(Box::new(at));
        self
    }

    /// A valid claim that clashes with the history, at field `path`.
    pub fn conflict(id: &str, path: &str, message: impl Into<String>, record: usize) -> ClaimError {
        ClaimError {
            id: Some(id.to_owned()),
            kind: ErrorKind::Conflict,
            message: message.into(),
            path: Some(path.to_owned()),
            record,
            x12: None,
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
            x12: None,
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
        if let Some(at) = &self.x12 {
            write!(f, " [{at}]")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The longest claim value echoed in a message or a log line, in characters.
pub const SHOWN_CHARS: usize = 64;

/// `text` as a log line may show it (finding S2): control characters
/// escaped (an id with ESC or a newline can neither drive a terminal nor
/// forge a line) and at most `SHOWN_CHARS` (64) characters, then `…`.
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
