//! Reading claims from JSON Lines, a JSON array or YAML.
//!
//! Parsing happens in two steps. Serde reads each record into the private `Raw*`
//! types below, which take every field as optional and every number as any
//! number; [`validate`](super::validate) then checks them and builds the
//! [`Claim`]. Keeping types loose here lets validation name a missing field by its
//! own path and give messages like "units must be an integer of at least 1, got
//! 1.5" instead of serde's generic ones, and lets a malformed claim be rejected
//! alone while the rest of the input goes on.

mod array;
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
use array::{ArraySplitter, Item, Place};
pub(crate) use lines::gather_line;
pub use lines::{is_blank, skip_json_lines_start, LineSplitter, MAX_RECORD_BYTES};
use lines::{skip_bom, sniff};
pub(crate) use raw::{
    Code, Num, Obj, RawClaim, RawFact, RawFacts, RawLine, RawPatient, RawProvider,
};
pub(crate) use record::io_error;
use record::{parse_element, parse_json_slowly, too_long, yaml_items, Unit};
pub use record::{parse_json_line, parse_json_line_into, patient_of_line};

/// The most bytes a YAML input may take: YAML is parsed whole (as a tree
/// several times its size), so its size is bounded. JSON Lines and JSON arrays
/// are read record by record and have no such limit.
pub const MAX_YAML_BYTES: usize = 64 << 20;

/// How claims are laid out in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum InputFormat {
    /// Decide from the start of the input: a JSON array when its first byte
    /// that is not white space is `[`, YAML when its first line (blank lines
    /// and `#` comments aside) starts a YAML document (`---`), list item
    /// (`- `) or mapping (`id: C1`), X12 837P when it starts with `ISA`, JSON
    /// Lines otherwise (so a bad first line is one bad record).
    /// Only what the reader's buffer holds is looked at.
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

impl InputFormat {
    /// The format a file's name says: `.jsonl` and `.ndjson` are JSON
    /// Lines, `.yaml` and `.yml` YAML, `.x12`, `.837` and `.edi` X12; anything else (`.json`, which may be
    /// an array or lines) is left to [`InputFormat::Auto`].
    pub fn of_path(path: &std::path::Path) -> InputFormat {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("jsonl" | "ndjson") => InputFormat::JsonLines,
            Some("yaml" | "yml") => InputFormat::Yaml,
            Some("x12" | "837" | "edi") => InputFormat::X12,
            _ => InputFormat::Auto,
        }
    }

    /// What [`InputFormat::Auto`] decides for an input that starts with
    /// `start` (a byte order mark is skipped).
    pub fn sniff(start: &[u8]) -> InputFormat {
        sniff(start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(start))
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
/// JSON Lines is read line by line and a JSON array element by element, so
/// memory stays bounded by one record (`MAX_RECORD_BYTES`, 1 MiB; a longer one is
/// an error record); YAML is parsed whole first. A JSON Lines record is
/// numbered by its line (blank lines counted), an array's or a list's by its
/// position. An input that cannot be read, or split into claims, ends with an
/// error whose [`ClaimError::input_lost`] is set.
pub struct ClaimReader<R: BufRead> {
    format: InputFormat,
    state: State<R>,
    payer_ids: Option<Arc<PayerIds>>,
    /// The number of the last record read (see [`ClaimReader::record`]).
    last: usize,
}

enum State<R> {
    Start(R),
    Lines {
        input: R,
        lines: LineSplitter,
        record: usize,
    },
    Array {
        input: R,
        split: ArraySplitter,
        record: usize,
    },
    Yaml {
        items: std::vec::IntoIter<serde_yaml_ng::Value>,
        record: usize,
        /// Why the input stopped being readable after `items`.
        failed: Option<String>,
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
            last: 0,
        }
    }

    /// Maps X12 payer ids (2010BB NM109) to policy payers; without it, or for
    /// an id it lacks, the id itself is the claim's payer. Takes an `Option`
    /// too, for callers whose ids are optional (`None`: no mapping).
    pub fn with_payer_ids(mut self, payer_ids: impl Into<Option<Arc<PayerIds>>>) -> ClaimReader<R> {
        self.payer_ids = payer_ids.into();
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

    /// The number of the record read last, as its error record would say:
    /// its line number in JSON Lines (blank lines counted), its position in
    /// a JSON array or a YAML list. 0 before the first.
    pub fn record(&self) -> usize {
        self.last
    }

    /// The format being read: the one given, or once reading has started, the one
    /// auto-detection chose.
    pub fn format(&self) -> InputFormat {
        self.format
    }

    fn start(&mut self, mut input: R) -> Option<Result<Claim, ClaimError>> {
        if let Err(err) = skip_bom(&mut input) {
            return Some(Err(io_error(&err, 1)));
        }
        if self.format == InputFormat::Auto {
            self.format = match input.fill_buf() {
                Ok(start) => sniff(start),
                Err(err) => return Some(Err(io_error(&err, 1))),
            };
        }
        match self.format {
            InputFormat::X12 => {
                // Byte offsets are counted after a byte order mark (white
                // space before the ISA is the tokenizer's to count).
                self.state = State::X12(Box::new(X12Reader::new(input, 0, self.payer_ids.clone())));
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
                self.state = State::Array {
                    input,
                    split: ArraySplitter::default(),
                    record: 0,
                };
                self.next()
            }
            InputFormat::Yaml => {
                // YAML is parsed whole: its size is bounded instead.
                let mut bytes = Vec::new();
                let limit = MAX_YAML_BYTES as u64 + 1;
                if let Err(err) = std::io::Read::read_to_end(&mut input.take(limit), &mut bytes) {
                    return Some(Err(io_error(&err, 1)));
                }
                if bytes.len() > MAX_YAML_BYTES {
                    return Some(Err(ClaimError::input(
                        format!(
                            "YAML input is larger than {} MiB; send large batches as JSON Lines",
                            MAX_YAML_BYTES >> 20
                        ),
                        1,
                    )));
                }
                let Ok(text) = String::from_utf8(bytes) else {
                    return Some(Err(ClaimError::input("input is not valid UTF-8", 1)));
                };
                let (items, failed) = yaml_items(&text);
                self.state = State::Yaml {
                    items: items.into_iter(),
                    record: 0,
                    failed,
                };
                self.next()
            }
        }
    }

    /// The next element of a JSON array, read and checked as one record.
    fn next_element(
        input: &mut R,
        split: &mut ArraySplitter,
        record: &mut usize,
    ) -> Option<Result<Claim, ClaimError>> {
        let item = match split.next(input) {
            Ok(item) => item,
            Err(err) => return Some(Err(io_error(&err, *record + 1))),
        };
        match item {
            Item::End => None,
            Item::Broken(message) => Some(Err(ClaimError::input(
                format!("input is not a JSON array of claims: {message}"),
                *record + 1,
            ))),
            Item::Element {
                bytes,
                at,
                too_long: long,
            } => {
                *record += 1;
                if long {
                    return Some(Err(too_long(*record)));
                }
                let mut claim = empty_claim();
                if scan_claim_into(&bytes, &mut claim).is_some() {
                    return Some(Ok(claim));
                }
                Some(parse_json_slowly(&bytes, *record, at, Unit::Element))
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
            // Every line counts, blank or not: a record's number is its line's.
            let read = lines.next(input, |line| {
                (!is_blank(line)).then(|| parse(line, *record + 1))
            });
            match read {
                Ok(None) => break,
                Ok(Some(None)) => *record += 1,
                Ok(Some(Some(item))) => {
                    *record += 1;
                    self.last = *record;
                    return Some(Ok(item));
                }
                Err(err) => {
                    let failed = io_error(&err, *record + 1);
                    self.last = failed.record;
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
        let item = self.next_record();
        match (&item, &self.state) {
            (Some(Err(e)), _) => self.last = e.record,
            (Some(Ok(_)), State::Array { record, .. } | State::Yaml { record, .. }) => {
                self.last = *record;
            }
            (Some(Ok(_)), State::X12(reader)) => self.last = reader.last_record(),
            _ => {}
        }
        item
    }
}

impl<R: BufRead> ClaimReader<R> {
    /// [`Iterator::next`] in every state but JSON Lines read in place.
    fn next_record(&mut self) -> Option<Result<Claim, ClaimError>> {
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
            State::Array {
                mut input,
                mut split,
                mut record,
            } => {
                let item = Self::next_element(&mut input, &mut split, &mut record);
                // An input that failed ends there.
                if !matches!(&item, Some(Err(e)) if e.input_lost) {
                    self.state = State::Array {
                        input,
                        split,
                        record,
                    };
                }
                item
            }
            State::Yaml {
                mut items,
                record,
                failed,
            } => {
                let record = record + 1;
                let Some(value) = items.next() else {
                    return failed.map(|message| Err(ClaimError::input(message, record)));
                };
                let id = value
                    .get("id")
                    .and_then(serde_yaml_ng::Value::as_str)
                    .map(str::to_owned);
                let item = parse_element(value, id, record);
                self.state = State::Yaml {
                    items,
                    record,
                    failed,
                };
                Some(item)
            }
        }
    }
}

/// Reads every claim in `text`; for tests and small inputs.
pub fn read_claims_str(text: &str, format: InputFormat) -> Vec<Result<Claim, ClaimError>> {
    ClaimReader::new(text.as_bytes(), format).collect()
}
