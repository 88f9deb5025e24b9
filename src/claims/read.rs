//! Reading claims from JSON Lines, a JSON array or YAML.
//!
//! Parsing happens in two steps. Serde reads each record into the private `Raw*`
//! types below, which take every field as optional and every number as any
//! number; [`validate`](super::validate) then checks them and builds the
//! [`Claim`]. Keeping types loose here lets validation name a missing field by its
//! own path and give messages like "units must be an integer of at least 1, got
//! 1.5" instead of serde's generic ones, and lets a malformed claim be rejected
//! alone while the rest of the input goes on.

mod lines;
mod raw;
mod record;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;
use std::io::BufRead;
use std::str::FromStr;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use std::sync::Arc;

use super::error::{ClaimError, Warning};
use super::model::Claim;
use super::scan::{scan_claim_into, scan_patient_id};
use super::slot::{empty_claim, ClaimSlot};
use super::validate::validate;
use crate::x12::{PayerIds, X12Reader};
use lines::skip_start;
pub use lines::{is_blank, skip_json_lines_start, LineSplitter};
pub(crate) use raw::{
    Code, Num, Obj, RawClaim, RawFact, RawFacts, RawLine, RawPatient, RawProvider,
};
pub(crate) use record::io_error;
use record::{json_message, parse_element, whole_input_error, yaml_items};
pub use record::{parse_json_line, parse_json_line_into, patient_of_line};

/// How claims are laid out in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum InputFormat {
    /// Decide from the first non-whitespace byte: `[` is a JSON array, `{` JSON
    /// Lines, anything else YAML.
    #[default]
    Auto,
    /// One claim object per line.
    JsonLines,
    /// A JSON array of claims.
    JsonArray,
    /// A YAML list of claims (one claim mapping or several documents also do).
    Yaml,
    /// An X12 837P interchange (auto-detected by its leading `ISA`).
    X12,
}

impl InputFormat {
    /// Every format, for listing them in help and completions.
    pub const ALL: [InputFormat; 5] = [
        InputFormat::Auto,
        InputFormat::JsonLines,
        InputFormat::JsonArray,
        InputFormat::Yaml,
        InputFormat::X12,
    ];

    /// The canonical name, as accepted by [`FromStr`].
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Auto => "auto",
            InputFormat::JsonLines => "jsonl",
            InputFormat::JsonArray => "json",
            InputFormat::Yaml => "yaml",
            InputFormat::X12 => "x12",
        }
    }
}

impl fmt::Display for InputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for InputFormat {
    type Err = String;

    /// Reads a canonical name or a common alias (`ndjson`, `json-lines`, `yml`, ...).
    fn from_str(text: &str) -> Result<InputFormat, String> {
        match text.to_ascii_lowercase().as_str() {
            "auto" => Ok(InputFormat::Auto),
            "jsonl" | "json-lines" | "jsonlines" | "ndjson" => Ok(InputFormat::JsonLines),
            "json" | "json-array" => Ok(InputFormat::JsonArray),
            "yaml" | "yml" => Ok(InputFormat::Yaml),
            "x12" | "837" | "837p" => Ok(InputFormat::X12),
            _ => Err(format!(
                "unknown input format `{text}`; expected auto, jsonl, json, yaml or x12"
            )),
        }
    }
}

/// Reads claims one at a time, yielding each valid claim or the error that
/// rejects it, in input order.
///
/// JSON Lines is read line by line, so memory stays bounded by the longest line;
/// a JSON array or YAML input is parsed whole first. Input that is not JSON or YAML
/// at all yields a single error (record 1) and nothing else.
pub struct ClaimReader<R: BufRead> {
    format: InputFormat,
    state: State<R>,
    payer_ids: Option<Arc<PayerIds>>,
}

enum State<R> {
    Start(R),
    Lines {
        input: R,
        lines: LineSplitter,
        record: usize,
    },
    Json {
        items: std::vec::IntoIter<serde_json::Value>,
        record: usize,
    },
    Yaml {
        items: std::vec::IntoIter<serde_yaml_ng::Value>,
        record: usize,
    },
    X12(Box<X12Reader<R>>),
    Done,
}

impl<R: BufRead> ClaimReader<R> {
    /// A reader over `input` in `format`; nothing is read until the first `next()`.
    pub fn new(input: R, format: InputFormat) -> ClaimReader<R> {
        ClaimReader {
            format,
            state: State::Start(input),
            payer_ids: None,
        }
    }

    /// Maps X12 payer ids (2010BB NM109) to policy payers; without it, or for
    /// an id it lacks, the id itself is the claim's payer.
    pub fn with_payer_ids(mut self, payer_ids: Arc<PayerIds>) -> ClaimReader<R> {
        self.payer_ids = Some(payer_ids);
        self
    }

    /// What the reader noticed since the last call without rejecting a claim
    /// (X12: CLM02 against the lines' charges, minutes read as one unit).
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        match &mut self.state {
            State::X12(reader) => reader.take_warnings(),
            _ => Vec::new(),
        }
    }

    /// The format being read: the one given, or once reading has started, the one
    /// auto-detection chose.
    pub fn format(&self) -> InputFormat {
        self.format
    }

    fn start(&mut self, mut input: R) -> Option<Result<Claim, ClaimError>> {
        let prefix = match skip_start(&mut input, self.format == InputFormat::Auto) {
            Ok(prefix) => prefix,
            Err(err) => return Some(Err(io_error(&err, 1))),
        };
        if self.format == InputFormat::Auto {
            self.format = match prefix.first_byte {
                None => return None,
                Some(b'[') => InputFormat::JsonArray,
                Some(b'{') => InputFormat::JsonLines,
                // An interchange starts with `ISA` (a buffer shorter than
                // that must at least begin it).
                Some(b'I')
                    if input
                        .fill_buf()
                        .is_ok_and(|b| b"ISA".starts_with(b.get(..3).unwrap_or(b))) =>
                {
                    InputFormat::X12
                }
                Some(_) => InputFormat::Yaml,
            };
        }
        match self.format {
            InputFormat::X12 => {
                let offset = prefix.consumed.len() as u64;
                self.state = State::X12(Box::new(X12Reader::new(
                    input,
                    offset,
                    self.payer_ids.clone(),
                )));
                self.next()
            }
            InputFormat::JsonLines | InputFormat::Auto => {
                self.state = State::Lines {
                    input,
                    lines: LineSplitter::default(),
                    record: 0,
                };
                self.next()
            }
            InputFormat::JsonArray => {
                let mut text = prefix.consumed;
                if let Err(err) = input.read_to_end(&mut text) {
                    return Some(Err(io_error(&err, 1)));
                }
                match serde_json::from_slice::<Vec<serde_json::Value>>(&text) {
                    Ok(items) => {
                        self.state = State::Json {
                            items: items.into_iter(),
                            record: 0,
                        };
                        self.next()
                    }
                    Err(err) => Some(Err(whole_input_error(format!(
                        "input is not a JSON array of claims: {}",
                        json_message(&err)
                    )))),
                }
            }
            InputFormat::Yaml => {
                let mut bytes = prefix.consumed;
                if let Err(err) = input.read_to_end(&mut bytes) {
                    return Some(Err(io_error(&err, 1)));
                }
                let Ok(text) = String::from_utf8(bytes) else {
                    return Some(Err(whole_input_error("input is not valid UTF-8")));
                };
                match yaml_items(&text) {
                    Ok(items) => {
                        self.state = State::Yaml {
                            items: items.into_iter(),
                            record: 0,
                        };
                        self.next()
                    }
                    Err(message) => Some(Err(whole_input_error(message))),
                }
            }
        }
    }
}

impl<R: BufRead> ClaimReader<R> {
    /// Reads the next record into `slot`, as [`Iterator::next`] would return
    /// it; `false` at the end of the input. JSON Lines are parsed in place,
    /// into the claim the slot holds (see [`ClaimSlot`]).
    pub fn read_into(&mut self, slot: &mut ClaimSlot) -> bool {
        match self.next_line(|line, record| slot.read_json_line(line, record)) {
            Some(Ok(())) => true,
            Some(Err(failed)) => {
                slot.reject(failed);
                true
            }
            None => match self.next() {
                Some(read) => {
                    slot.set(read);
                    true
                }
                None => false,
            },
        }
    }

    /// With JSON Lines, calls `parse` with the next non-blank line and its
    /// record number: `Some(Ok(..))` with what it returned, `Some(Err(..))`
    /// when the input failed to read, `None` at the end of the input. `None`
    /// too, calling nothing, when the format is not (or not yet) JSON Lines.
    #[inline]
    fn next_line<T>(
        &mut self,
        mut parse: impl FnMut(&[u8], usize) -> T,
    ) -> Option<Result<T, ClaimError>> {
        // Read in place: taking the state out and putting it back moved the
        // reader and its buffer state twice per claim.
        let State::Lines {
            input,
            lines,
            record,
        } = &mut self.state
        else {
            return None;
        };
        loop {
            let read = lines.next(input, |line| {
                (!is_blank(line)).then(|| parse(line, *record + 1))
            });
            match read {
                Ok(None) => break,
                Ok(Some(None)) => {}
                Ok(Some(Some(item))) => {
                    *record += 1;
                    return Some(Ok(item));
                }
                Err(err) => {
                    let failed = io_error(&err, *record + 1);
                    self.state = State::Done;
                    return Some(Err(failed));
                }
            }
        }
        self.state = State::Done;
        None
    }
}

impl<R: BufRead> Iterator for ClaimReader<R> {
    type Item = Result<Claim, ClaimError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let State::Lines { .. } = self.state {
            return self
                .next_line(parse_json_line)
                .map(|read| read.and_then(|parsed| parsed));
        }
        match std::mem::replace(&mut self.state, State::Done) {
            State::Done => None,
            State::Start(input) => self.start(input),
            // Read in place above.
            State::Lines { .. } => None,
            State::X12(mut reader) => {
                let item = reader.next();
                if item.is_some() {
                    self.state = State::X12(reader);
                }
                item
            }
            State::Json { mut items, record } => {
                let value = items.next()?;
                let record = record + 1;
                let id = value
                    .get("id")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned);
                let item = parse_element(value, id, record);
                self.state = State::Json { items, record };
                Some(item)
            }
            State::Yaml { mut items, record } => {
                let value = items.next()?;
                let record = record + 1;
                let id = value
                    .get("id")
                    .and_then(serde_yaml_ng::Value::as_str)
                    .map(str::to_owned);
                let item = parse_element(value, id, record);
                self.state = State::Yaml { items, record };
                Some(item)
            }
        }
    }
}

/// Reads every claim in `text`; for tests and small inputs.
pub fn read_claims_str(text: &str, format: InputFormat) -> Vec<Result<Claim, ClaimError>> {
    ClaimReader::new(text.as_bytes(), format).collect()
}
