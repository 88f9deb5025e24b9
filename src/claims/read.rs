//! Reading claims from JSON Lines, a JSON array or YAML.
//!
//! Parsing happens in two steps. Serde reads each record into the private `Raw*`
//! types below, which take every field as optional and every number as any
//! number; [`validate`](super::validate) then checks them and builds the
//! [`Claim`]. Keeping types loose here lets validation name a missing field by its
//! own path and give messages like "units must be an integer of at least 1, got
//! 1.5" instead of serde's generic ones, and lets a malformed claim be rejected
//! alone while the rest of the input goes on.

use std::borrow::Cow;
use std::fmt;
use std::io::BufRead;
use std::str::FromStr;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::error::ClaimError;
use super::model::Claim;
use super::scan::{scan_claim_into, scan_patient_id};
use super::slot::{empty_claim, ClaimSlot};
use super::validate::validate;

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
}

impl InputFormat {
    /// Every format, for listing them in help and completions.
    pub const ALL: [InputFormat; 4] = [
        InputFormat::Auto,
        InputFormat::JsonLines,
        InputFormat::JsonArray,
        InputFormat::Yaml,
    ];

    /// The canonical name, as accepted by [`FromStr`].
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Auto => "auto",
            InputFormat::JsonLines => "jsonl",
            InputFormat::JsonArray => "json",
            InputFormat::Yaml => "yaml",
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
            _ => Err(format!(
                "unknown input format `{text}`; expected auto, jsonl, json or yaml"
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
    Done,
}

impl<R: BufRead> ClaimReader<R> {
    /// A reader over `input` in `format`; nothing is read until the first `next()`.
    pub fn new(input: R, format: InputFormat) -> ClaimReader<R> {
        ClaimReader {
            format,
            state: State::Start(input),
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
                Some(_) => InputFormat::Yaml,
            };
        }
        match self.format {
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

struct Prefix {
    /// Bytes taken off the input while looking for the first real one; YAML and
    /// JSON arrays are parsed with them put back, since YAML indentation counts.
    consumed: Vec<u8>,
    first_byte: Option<u8>,
}

/// Takes off what [`ClaimReader`] takes off the start of JSON Lines before the
/// first record in `format` (`Auto` or `JsonLines`): a UTF-8 byte order mark
/// and, when detecting the format, the white space before the first record. For
/// readers of JSON Lines other than `ClaimReader` (parallel evaluation), so that
/// both number and read the same records.
pub fn skip_json_lines_start<R: BufRead>(
    input: &mut R,
    format: InputFormat,
) -> std::io::Result<()> {
    skip_start(input, format == InputFormat::Auto).map(drop)
}

/// Splits buffered input into lines. A line the input's buffer holds whole is
/// handed out in place; only one that straddles the buffer's end is gathered
/// into a buffer of its own. Copying every line out of the input buffer (as
/// `read_until` does) was a tenth of reading a claim.
#[derive(Debug, Default)]
pub struct LineSplitter {
    straddling: Vec<u8>,
}

impl LineSplitter {
    /// Calls `f` with the next line, its newline included when it has one;
    /// `Ok(None)` at the end of the input.
    pub fn next<R: BufRead, T>(
        &mut self,
        input: &mut R,
        f: impl FnOnce(&[u8]) -> T,
    ) -> std::io::Result<Option<T>> {
        loop {
            let buffered = match input.fill_buf() {
                Ok(buffered) => buffered,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buffered.is_empty() {
                return Ok(None);
            }
            if let Some(end) = memchr::memchr(b'\n', buffered) {
                let out = f(&buffered[..=end]);
                input.consume(end + 1);
                return Ok(Some(out));
            }
            self.straddling.clear();
            self.straddling.extend_from_slice(buffered);
            let n = buffered.len();
            input.consume(n);
            input.read_until(b'\n', &mut self.straddling)?;
            return Ok(Some(f(&self.straddling)));
        }
    }
}

/// True for a line of white space only, which JSON Lines readers skip.
pub fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Drops a UTF-8 byte order mark and, when detecting, reads up to the first
/// non-whitespace byte without consuming it.
fn skip_start<R: BufRead>(input: &mut R, detect: bool) -> std::io::Result<Prefix> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let mut consumed = Vec::new();
    let buf = input.fill_buf()?;
    if buf.starts_with(BOM) {
        input.consume(BOM.len());
    }
    if !detect {
        return Ok(Prefix {
            consumed,
            first_byte: None,
        });
    }
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(Prefix {
                consumed,
                first_byte: None,
            });
        }
        let spaces = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let first_byte = buf.get(spaces).copied();
        consumed.extend_from_slice(&buf[..spaces]);
        input.consume(spaces);
        if first_byte.is_some() {
            return Ok(Prefix {
                consumed,
                first_byte,
            });
        }
    }
}

/// The patient id of one JSON Lines record, read without building the claim:
/// what parallel evaluation shards by. `None` when the line has no readable
/// `patient.id` (such a line is an invalid claim anyway).
pub fn patient_of_line(line: &[u8]) -> Option<Cow<'_, str>> {
    if let Some(id) = scan_patient_id(line) {
        return Some(Cow::Borrowed(id));
    }
    #[derive(Deserialize)]
    struct Outer<'a> {
        #[serde(borrow)]
        patient: Option<Inner<'a>>,
    }
    #[derive(Deserialize)]
    struct Inner<'a> {
        #[serde(borrow)]
        id: Option<std::borrow::Cow<'a, str>>,
    }
    let outer: Outer<'_> = serde_json::from_slice(line).ok()?;
    outer.patient?.id.map(|id| Cow::Owned(id.into_owned()))
}

/// Reads one JSON Lines record (`record`: its 1-based position in the input).
pub fn parse_json_line(line: &[u8], record: usize) -> Result<Claim, ClaimError> {
    let mut claim = empty_claim();
    parse_json_line_into(line, record, &mut claim)?;
    Ok(claim)
}

/// [`parse_json_line`] into `claim`, whose fields are all overwritten on
/// `Ok` (its lines keep their room) and left in any state on `Err`.
pub fn parse_json_line_into(
    line: &[u8],
    record: usize,
    claim: &mut Claim,
) -> Result<(), ClaimError> {
    // The fast path reads the common shape itself; then plain serde. Only a claim
    // that fails both is parsed again with path tracking, which costs several
    // times more per field.
    if scan_claim_into(line, claim).is_some() {
        return Ok(());
    }
    *claim = parse_json_line_slowly(line, record)?;
    Ok(())
}

/// The serde path of [`parse_json_line`]: lines the scanner stepped aside from,
/// and every error. Kept out of line so the hot path stays small in the
/// instruction cache.
#[cold]
#[inline(never)]
fn parse_json_line_slowly(line: &[u8], record: usize) -> Result<Claim, ClaimError> {
    if let Ok(Obj(raw)) = serde_json::from_slice::<Obj<RawClaim>>(line) {
        return validate(raw, record);
    }
    let mut de = serde_json::Deserializer::from_slice(line);
    let (err, path) = match serde_path_to_error::deserialize::<_, Obj<RawClaim>>(&mut de) {
        // Trailing bytes after the object mean two records on one line, or junk.
        Ok(Obj(raw)) => match de.end() {
            Ok(()) => return validate(raw, record),
            Err(err) => (err, None),
        },
        Err(err) => {
            let path = data_path(err.path(), err.inner().is_data());
            (err.into_inner(), path)
        }
    };
    // Only now is the id worth a second, untyped parse.
    let id = serde_json::from_slice::<serde_json::Value>(line)
        .ok()
        .and_then(|v| v.get("id")?.as_str().map(str::to_owned));
    let message = match err.classify() {
        serde_json::error::Category::Eof => format!(
            "line is not complete JSON (each claim must be on one line): {}",
            json_message(&err)
        ),
        serde_json::error::Category::Data => json_message(&err),
        _ => format!("line is not valid JSON: {}", json_message(&err)),
    };
    Err(ClaimError::invalid(non_empty(id), path, message, record))
}

/// Parses one element of a JSON array or YAML list; `id` is taken beforehand
/// because deserializing consumes the value.
fn parse_element<'de, D>(value: D, id: Option<String>, record: usize) -> Result<Claim, ClaimError>
where
    D: Deserializer<'de>,
    D::Error: fmt::Display,
{
    match serde_path_to_error::deserialize::<_, Obj<RawClaim>>(value) {
        Ok(Obj(raw)) => validate(raw, record),
        Err(err) => {
            let path = data_path(err.path(), true);
            Err(ClaimError::invalid(
                non_empty(id),
                path,
                clean(&err.inner().to_string()),
                record,
            ))
        }
    }
}

fn yaml_items(text: &str) -> Result<Vec<serde_yaml_ng::Value>, String> {
    use serde_yaml_ng::Value;
    let mut items = Vec::new();
    for document in serde_yaml_ng::Deserializer::from_str(text) {
        let value = Value::deserialize(document)
            .map_err(|err| format!("input is not valid YAML: {}", clean(&err.to_string())))?;
        match value {
            Value::Sequence(list) => items.extend(list),
            // A lone claim is a list of one; an empty document holds none.
            Value::Mapping(_) => items.push(value),
            Value::Null => {}
            _ => return Err("input is not a YAML list of claims".to_owned()),
        }
    }
    Ok(items)
}

fn whole_input_error(message: impl Into<String>) -> ClaimError {
    ClaimError::invalid(None, None, message, 1)
}

/// The error record of an input that failed to read at `record`.
pub(crate) fn io_error(err: &std::io::Error, record: usize) -> ClaimError {
    ClaimError::invalid(None, None, format!("cannot read input: {err}"), record)
}

/// The path of a type error; none for syntax errors (the record is unreadable as
/// a whole) or an error about the record itself (`.`).
fn data_path(path: &serde_path_to_error::Path, is_data: bool) -> Option<String> {
    let path = path.to_string();
    (is_data && path != ".").then_some(path)
}

/// serde_json's message without its "at line 1 column 9" suffix: each JSON Lines
/// record is one line, so only the column tells anything.
fn json_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    match text.strip_suffix(&suffix) {
        Some(message) if err.is_data() => clean(message),
        Some(message) => clean(&format!("{message} at column {}", err.column())),
        None => clean(&text),
    }
}

fn clean(message: &str) -> String {
    message.trim().trim_end_matches('.').to_owned()
}

fn non_empty(id: Option<String>) -> Option<String> {
    id.filter(|id| !id.trim().is_empty())
}

// ---------------------------------------------------------------------------
// The loose serde shapes of a claim. Unknown fields are ignored on purpose:
// clients may send more than the engine reads.

/// A struct that must be written as an object. Derived `Deserialize` also takes
/// an array of the fields in order, which would read `"patient": ["P1"]` as a
/// patient with id `P1`; no client means that.
#[derive(Debug)]
pub(super) struct Obj<T>(pub T);

/// What an [`Obj`] is called in a type error.
pub(super) trait Named {
    const EXPECTING: &'static str;
}

impl<'de, T: Deserialize<'de> + Named> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Obj<T>, D::Error> {
        struct ObjVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Named> Visitor<'de> for ObjVisitor<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(T::EXPECTING)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Obj)
            }
        }
        deserializer.deserialize_map(ObjVisitor(std::marker::PhantomData))
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct RawClaim<'a> {
    pub id: Option<Cow<'a, str>>,
    pub payer: Option<Cow<'a, str>>,
    pub patient: Option<Obj<RawPatient<'a>>>,
    pub provider: Option<Obj<RawProvider<'a>>>,
    pub place_of_service: Option<Cow<'a, str>>,
    pub diagnoses: Option<Vec<Cow<'a, str>>>,
    pub facts: Option<RawFacts<'a>>,
    pub lines: Option<Vec<Obj<RawLine<'a>>>>,
    pub frequency_code: Option<Code>,
    pub replaces: Option<Cow<'a, str>>,
}

impl Named for RawClaim<'_> {
    const EXPECTING: &'static str = "a claim object";
}

#[derive(Debug, Deserialize)]
pub(super) struct RawPatient<'a> {
    pub id: Option<Cow<'a, str>>,
    pub birth_date: Option<Cow<'a, str>>,
    pub sex: Option<Cow<'a, str>>,
}

impl Named for RawPatient<'_> {
    const EXPECTING: &'static str = "a patient object";
}

#[derive(Debug, Deserialize)]
pub(super) struct RawProvider<'a> {
    pub npi: Option<Cow<'a, str>>,
    pub taxonomy: Option<Cow<'a, str>>,
}

impl Named for RawProvider<'_> {
    const EXPECTING: &'static str = "a provider object";
}

#[derive(Debug, Deserialize)]
pub(super) struct RawLine<'a> {
    pub line: Option<Num>,
    pub date_of_service: Option<Cow<'a, str>>,
    pub procedure: Option<Cow<'a, str>>,
    pub modifiers: Option<Vec<Cow<'a, str>>>,
    pub units: Option<Num>,
    pub diagnosis_pointers: Option<Vec<Num>>,
    pub site: Option<Cow<'a, str>>,
    pub muscles: Option<Num>,
    pub injections: Option<Num>,
    pub charge: Option<Num>,
}

impl Named for RawLine<'_> {
    const EXPECTING: &'static str = "a service line object";
}

/// A code given as a string or a number (`"7"` or `7`: YAML reads an unquoted
/// `7` as a number), kept as text.
#[derive(Debug)]
pub(super) struct Code(pub String);

impl Code {
    /// A code given as a whole number: its digits.
    pub fn of_number(n: u64) -> Code {
        Code(n.to_string())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Code, D::Error> {
        struct CodeVisitor;
        impl Visitor<'_> for CodeVisitor {
            type Value = Code;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Code, E> {
                Ok(Code(s.to_owned()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Code, E> {
                Ok(Code(s))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Code, E> {
                Ok(Code::of_number(n))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Code, E> {
                Ok(Code(n.to_string()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Code, E> {
                Ok(Code(n.to_string()))
            }
        }
        deserializer.deserialize_any(CodeVisitor)
    }
}

/// Any number, kept as read so validation can say what was wrong with it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Num {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

impl Num {
    /// The value when it is a whole number (`2.0` counts, as in JSON Schema).
    pub fn integer(self) -> Option<i128> {
        // Beyond 2^63 a float is no longer worth reading as a count.
        const LIMIT: f64 = 9_223_372_036_854_775_808.0;
        match self {
            Num::Unsigned(n) => Some(i128::from(n)),
            Num::Signed(n) => Some(i128::from(n)),
            Num::Float(f) if f.fract() == 0.0 && f.abs() < LIMIT => Some(f as i128),
            Num::Float(_) => None,
        }
    }

    /// The value as a float, for amounts.
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Unsigned(n) => n as f64,
            Num::Signed(n) => n as f64,
            Num::Float(f) => f,
        }
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Num::Unsigned(n) => write!(f, "{n}"),
            Num::Signed(n) => write!(f, "{n}"),
            Num::Float(x) => write!(f, "{x}"),
        }
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Num, D::Error> {
        struct NumVisitor;
        impl Visitor<'_> for NumVisitor {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Num, E> {
                Ok(Num::Unsigned(n))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Num, E> {
                Ok(if n >= 0 {
                    Num::Unsigned(n as u64)
                } else {
                    Num::Signed(n)
                })
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Num, E> {
                Ok(Num::Float(n))
            }
        }
        deserializer.deserialize_any(NumVisitor)
    }
}

/// A fact value as read; objects, arrays and null are kept as a description so
/// validation can reject them at `facts.NAME` rather than serde at `facts`.
#[derive(Debug)]
pub(super) enum RawFact<'a> {
    Bool(bool),
    Number(f64),
    Text(Cow<'a, str>),
    Other(&'static str),
}

impl<'de, 'a> Deserialize<'de> for RawFact<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RawFact<'a>, D::Error> {
        struct FactVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de, 'a> Visitor<'de> for FactVisitor<'a> {
            type Value = RawFact<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a bool, number or string")
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<RawFact<'a>, E> {
                Ok(RawFact::Bool(b))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<RawFact<'a>, E> {
                Ok(RawFact::Number(n as f64))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<RawFact<'a>, E> {
                Ok(RawFact::Number(n as f64))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<RawFact<'a>, E> {
                Ok(RawFact::Number(n))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawFact<'a>, E> {
                Ok(RawFact::Text(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<RawFact<'a>, E> {
                Ok(RawFact::Text(Cow::Owned(s)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawFact<'a>, E> {
                Ok(RawFact::Other("null"))
            }
            fn visit_none<E: de::Error>(self) -> Result<RawFact<'a>, E> {
                Ok(RawFact::Other("null"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFact<'a>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(RawFact::Other("an object"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawFact<'a>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(RawFact::Other("an array"))
            }
        }
        deserializer.deserialize_any(FactVisitor(std::marker::PhantomData))
    }
}

/// The `facts` object in input order, repeats included, so validation reports
/// the first bad fact as written and can refuse a name given twice.
#[derive(Debug)]
pub(super) struct RawFacts<'a>(pub Vec<(Cow<'a, str>, RawFact<'a>)>);

impl<'de, 'a> Deserialize<'de> for RawFacts<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RawFacts<'a>, D::Error> {
        struct FactsVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de, 'a> Visitor<'de> for FactsVisitor<'a> {
            type Value = RawFacts<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of facts")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFacts<'a>, A::Error> {
                let mut facts = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry::<String, RawFact<'a>>()? {
                    facts.push((Cow::Owned(entry.0), entry.1));
                }
                Ok(RawFacts(facts))
            }
        }
        deserializer.deserialize_map(FactsVisitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::model::{FactValue, Sex};
    use crate::codes::CodeKey;

    /// Every line `LineSplitter` hands out from `input` read through a buffer
    /// of `capacity` bytes.
    fn split(input: &[u8], capacity: usize) -> Vec<Vec<u8>> {
        let mut reader = std::io::BufReader::with_capacity(capacity, input);
        let mut lines = LineSplitter::default();
        let mut out = Vec::new();
        while let Ok(Some(line)) = lines.next(&mut reader, <[u8]>::to_vec) {
            out.push(line);
        }
        out
    }

    #[test]
    fn lines_are_split_alike_whatever_the_buffer() {
        let input =
            b"{\"a\":1}\n\n  \n{\"b\":\"a longer line than the buffer\"}\r\nlast without newline";
        let want: Vec<Vec<u8>> = input
            .split_inclusive(|b| *b == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
        for capacity in [1, 2, 7, 8, 64, 8192] {
            assert_eq!(split(input, capacity), want, "buffer of {capacity}");
        }
        assert!(split(b"", 8).is_empty());
        let blank: Vec<bool> = want.iter().map(|l| is_blank(l)).collect();
        assert_eq!(blank, [false, true, true, false, false]);
    }

    #[test]
    fn claims_read_alike_whatever_the_buffer() {
        let text = include_str!("../../examples/claims.jsonl");
        let whole = read_claims_str(text, InputFormat::JsonLines);
        for capacity in [1, 7, 600] {
            let reader = std::io::BufReader::with_capacity(capacity, text.as_bytes());
            let read: Vec<_> = ClaimReader::new(reader, InputFormat::JsonLines).collect();
            assert_eq!(read, whole, "buffer of {capacity}");
        }
    }

    /// Every record read into one slot, one after the other.
    fn read_into_one_slot(text: &str, format: InputFormat) -> Vec<Result<Claim, ClaimError>> {
        let mut reader = ClaimReader::new(text.as_bytes(), format);
        let mut slot = ClaimSlot::new();
        let mut read = Vec::new();
        while reader.read_into(&mut slot) {
            read.push(slot.get().cloned().map_err(Clone::clone));
        }
        read
    }

    #[test]
    fn claims_read_alike_into_one_slot() {
        // The bundled claims hold errors between claims, claims of every shape
        // and claims the scanner leaves to serde: each must read as if alone.
        let text = include_str!("../../examples/claims.jsonl");
        for format in [InputFormat::Auto, InputFormat::JsonLines] {
            assert_eq!(
                read_into_one_slot(text, format),
                read_claims_str(text, format)
            );
        }
        let array = format!("[{EXAMPLE}, 7, {EXAMPLE}]");
        assert_eq!(
            read_into_one_slot(&array, InputFormat::Auto),
            read_claims_str(&array, InputFormat::Auto)
        );
        assert!(read_into_one_slot("", InputFormat::Auto).is_empty());
    }

    /// The example claim of `CLAIMS.md`.
    const EXAMPLE: &str = r#"{
      "id": "CLM-000123",
      "payer": "medicare",
      "patient": { "id": "PAT-88", "birth_date": "1957-06-30", "sex": "F" },
      "provider": { "npi": "1234567893", "taxonomy": "208VP0014X" },
      "place_of_service": "11",
      "diagnoses": ["M79.18", "M54.50"],
      "facts": { "symptom_duration_days": 120, "trigger_points_palpated": true },
      "lines": [
        { "line": 1, "date_of_service": "2026-03-04", "procedure": "20553",
          "modifiers": [], "units": 1, "diagnosis_pointers": [1],
          "site": "cervical", "muscles": 3, "injections": 4, "charge": 182.50 }
      ]
    }"#;

    const EXAMPLE_YAML: &str = r#"
- id: CLM-000123
  payer: medicare
  patient: { id: PAT-88, birth_date: "1957-06-30", sex: F }
  provider: { npi: "1234567893", taxonomy: 208VP0014X }
  place_of_service: "11"
  diagnoses: [M79.18, M54.50]
  facts:
    symptom_duration_days: 120
    trigger_points_palpated: true
  lines:
    - line: 1
      date_of_service: 2026-03-04
      procedure: "20553"
      modifiers: []
      units: 1
      diagnosis_pointers: [1]
      site: cervical
      muscles: 3
      injections: 4
      charge: 182.50
"#;

    fn one_line(json: &str) -> String {
        json.lines().map(str::trim).collect::<Vec<_>>().join(" ")
    }

    fn only(results: Vec<Result<Claim, ClaimError>>) -> Result<Claim, ClaimError> {
        assert_eq!(results.len(), 1, "{results:?}");
        results
            .into_iter()
            .next()
            .unwrap_or_else(|| Err(ClaimError::invalid(None, None, "none", 0)))
    }

    fn date(text: &str) -> chrono::NaiveDate {
        chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn example_claim_reads_the_same_in_every_format() {
        let jsonl = only(read_claims_str(&one_line(EXAMPLE), InputFormat::Auto));
        let array = only(read_claims_str(&format!("[{EXAMPLE}]"), InputFormat::Auto));
        let yaml = only(read_claims_str(EXAMPLE_YAML, InputFormat::Auto));
        let Ok(claim) = jsonl else {
            panic!("example rejected: {jsonl:?}")
        };
        assert_eq!(array.as_ref(), Ok(&claim));
        assert_eq!(yaml.as_ref(), Ok(&claim));

        assert_eq!(claim.id, "CLM-000123");
        assert_eq!(claim.patient.sex, Some(Sex::F));
        assert_eq!(claim.patient.birth_date, Some(date("1957-06-30")));
        assert_eq!(
            claim.provider.as_ref().and_then(|p| p.npi.as_deref()),
            Some("1234567893")
        );
        assert_eq!(
            claim.diagnoses[..],
            [CodeKey::parse("M7918"), CodeKey::parse("M5450")].map(Option::unwrap_or_default)
        );
        assert_eq!(
            claim.facts.get("symptom_duration_days"),
            Some(&FactValue::Number(120.0))
        );
        assert_eq!(
            claim.facts.get("trigger_points_palpated"),
            Some(&FactValue::Bool(true))
        );
        let line = &claim.lines[0];
        assert_eq!(line.date_of_service, date("2026-03-04"));
        assert_eq!(line.procedure_text, "20553");
        assert_eq!(line.procedure, CodeKey::parse("20553").unwrap_or_default());
        assert_eq!(
            (line.units, line.muscles, line.injections, line.charge),
            (1, Some(3), Some(4), Some(182.5))
        );
        assert_eq!(line.diagnosis_pointers[..], [1]);
        assert_eq!(line.site.as_deref(), Some("cervical"));

        // Explicit formats agree with detection.
        assert_eq!(
            only(read_claims_str(&one_line(EXAMPLE), InputFormat::JsonLines)).as_ref(),
            Ok(&claim)
        );
        assert_eq!(
            only(read_claims_str(
                &format!("[{EXAMPLE}]"),
                InputFormat::JsonArray
            ))
            .as_ref(),
            Ok(&claim)
        );
        assert_eq!(
            only(read_claims_str(EXAMPLE_YAML, InputFormat::Yaml)).as_ref(),
            Ok(&claim)
        );
    }

    #[test]
    fn to_json_reads_back_to_the_same_claim() {
        let Ok(claim) = only(read_claims_str(&one_line(EXAMPLE), InputFormat::JsonLines)) else {
            panic!("example rejected")
        };
        let again = only(read_claims_str(
            &claim.to_json().to_string(),
            InputFormat::JsonLines,
        ));
        assert_eq!(again, Ok(claim));
    }

    #[test]
    fn dotted_and_undotted_diagnoses_are_equal() {
        let a = one_line(EXAMPLE);
        let b = a.replace("M79.18", "M7918").replace("M54.50", "m5450");
        assert_ne!(a, b);
        assert_eq!(
            only(read_claims_str(&a, InputFormat::Auto)),
            only(read_claims_str(&b, InputFormat::Auto))
        );
    }

    #[test]
    fn defaults_fill_units_pointers_and_line_numbers() {
        let text = r#"{"id":"C","payer":"p","patient":{"id":"P"},"diagnoses":["M79.18","M54.50","G89.29"],
            "lines":[{"date_of_service":"2026-03-04","procedure":"20552"},
                     {"date_of_service":"2026-03-04","procedure":"j3301","modifiers":["rt"]}]}"#;
        let Ok(claim) = only(read_claims_str(&one_line(text), InputFormat::Auto)) else {
            panic!("rejected")
        };
        assert_eq!(
            claim.lines.iter().map(|l| l.line).collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(claim.lines[0].units, 1);
        assert_eq!(claim.lines[0].diagnosis_pointers[..], [1, 2, 3]);
        assert!(claim.lines[0].modifiers.is_empty());
        assert_eq!(claim.lines[1].procedure_text, "J3301");
        assert_eq!(claim.lines[1].modifiers[..], ["RT"]);
        assert_eq!(claim.lines[1].pointed_diagnoses(&claim).count(), 3);
        assert!(
            claim.provider.is_none() && claim.facts.is_empty() && claim.place_of_service.is_none()
        );
    }

    #[test]
    fn one_bad_line_rejects_only_its_claim() {
        let good = one_line(EXAMPLE);
        let bad = good
            .replace("CLM-000123", "CLM-BAD")
            .replace(r#""units": 1"#, r#""units": 0"#);
        assert_ne!(good, bad);
        let text = format!(
            "{good}\n\n{bad}\r\n{}\n",
            good.replace("CLM-000123", "CLM-3")
        );
        let results = read_claims_str(&text, InputFormat::Auto);
        assert_eq!(results.len(), 3, "{results:?}");
        assert_eq!(results[0].as_ref().map(|c| c.id.as_str()), Ok("CLM-000123"));
        let Err(err) = &results[1] else {
            panic!("bad line accepted")
        };
        assert_eq!(err.id.as_deref(), Some("CLM-BAD"));
        assert_eq!(err.path.as_deref(), Some("lines[0].units"));
        assert_eq!(err.message, "units must be an integer of at least 1, got 0");
        assert_eq!(err.record, 2);
        assert_eq!(results[2].as_ref().map(|c| c.id.as_str()), Ok("CLM-3"));
    }

    #[test]
    fn type_errors_keep_the_id_and_path() {
        let line = one_line(EXAMPLE).replace(r#""muscles": 3"#, r#""muscles": "three""#);
        let Err(err) = only(read_claims_str(&line, InputFormat::JsonLines)) else {
            panic!("accepted")
        };
        assert_eq!(err.id.as_deref(), Some("CLM-000123"));
        assert_eq!(err.path.as_deref(), Some("lines[0].muscles"));
        assert_eq!(
            err.message,
            r#"invalid type: string "three", expected a number"#
        );

        let array = format!("[{}]", EXAMPLE.replace(r#""sex": "F""#, r#""sex": 1"#));
        let Err(err) = only(read_claims_str(&array, InputFormat::Auto)) else {
            panic!("accepted")
        };
        assert_eq!(
            (err.id.as_deref(), err.path.as_deref()),
            (Some("CLM-000123"), Some("patient.sex"))
        );

        let yaml = EXAMPLE_YAML.replace("modifiers: []", "modifiers: {a: 1}");
        let Err(err) = only(read_claims_str(&yaml, InputFormat::Auto)) else {
            panic!("accepted")
        };
        assert_eq!(
            (err.id.as_deref(), err.path.as_deref()),
            (Some("CLM-000123"), Some("lines[0].modifiers"))
        );
    }

    #[test]
    fn broken_lines_and_documents() {
        let text = format!("{{\"id\": \"X\", \n{}\n[1]\n", one_line(EXAMPLE));
        let results = read_claims_str(&text, InputFormat::Auto);
        assert_eq!(results.len(), 3, "{results:?}");
        let Err(err) = &results[0] else {
            panic!("accepted")
        };
        assert_eq!(
            (err.id.as_deref(), err.path.as_deref(), err.record),
            (None, None, 1)
        );
        assert!(
            err.message.starts_with("line is not complete JSON"),
            "{}",
            err.message
        );
        assert!(results[1].is_ok());
        let Err(err) = &results[2] else {
            panic!("accepted")
        };
        assert_eq!(
            err.message,
            "invalid type: sequence, expected a claim object"
        );
        assert_eq!((err.path.as_deref(), err.record), (None, 3));

        let trailing = format!("{} junk", one_line(EXAMPLE));
        let Err(err) = only(read_claims_str(&trailing, InputFormat::JsonLines)) else {
            panic!("accepted")
        };
        assert_eq!(err.id.as_deref(), None);
        assert!(
            err.message
                .starts_with("line is not valid JSON: trailing characters"),
            "{}",
            err.message
        );

        for (text, format) in [
            ("[{\"id\": 1},", InputFormat::Auto),
            ("- id: [unclosed", InputFormat::Auto),
            ("{\"id\": \"x\"}", InputFormat::JsonArray),
            ("just text", InputFormat::Yaml),
        ] {
            let Err(err) = only(read_claims_str(text, format)) else {
                panic!("accepted {text}")
            };
            assert_eq!(
                (err.id.as_deref(), err.path.as_deref(), err.record),
                (None, None, 1),
                "{text}"
            );
        }
    }

    #[test]
    fn array_elements_fail_alone() {
        let text = format!(
            "[{EXAMPLE}, 7, {}]",
            EXAMPLE.replace("\"payer\": \"medicare\",", "")
        );
        let results = read_claims_str(&text, InputFormat::Auto);
        assert_eq!(results.len(), 3);
        assert!(results[0].is_ok());
        let Err(err) = &results[1] else {
            panic!("accepted")
        };
        assert_eq!(
            (err.record, err.message.as_str()),
            (2, "invalid type: integer `7`, expected a claim object")
        );
        let Err(err) = &results[2] else {
            panic!("accepted")
        };
        assert_eq!(
            (err.record, err.id.as_deref(), err.path.as_deref()),
            (3, Some("CLM-000123"), Some("payer"))
        );
    }

    #[test]
    fn empty_inputs_hold_no_claims() {
        for text in ["", "  \n\n", "[]", "---\n", "\u{feff}"] {
            assert_eq!(read_claims_str(text, InputFormat::Auto), vec![], "{text:?}");
        }
    }

    #[test]
    fn yaml_single_claim_and_documents() {
        let single = EXAMPLE_YAML.replace("\n- id", "\nid").replace("\n  ", "\n");
        assert!(
            only(read_claims_str(&single, InputFormat::Auto)).is_ok(),
            "{single}"
        );
        let two = format!(
            "{EXAMPLE_YAML}---\n{}",
            EXAMPLE_YAML.replace("CLM-000123", "CLM-2")
        );
        let results = read_claims_str(&two, InputFormat::Yaml);
        assert_eq!(
            results
                .iter()
                .map(|r| r.as_ref().map(|c| c.id.as_str()))
                .collect::<Vec<_>>(),
            [Ok("CLM-000123"), Ok("CLM-2")]
        );
    }

    #[test]
    fn detection_picks_the_format() {
        let mut reader = ClaimReader::new("  [ ]".as_bytes(), InputFormat::Auto);
        assert!(reader.next().is_none());
        assert_eq!(reader.format(), InputFormat::JsonArray);
        let mut reader = ClaimReader::new("\n{}".as_bytes(), InputFormat::Auto);
        assert!(matches!(reader.next(), Some(Err(_))));
        assert_eq!(reader.format(), InputFormat::JsonLines);
        let mut reader = ClaimReader::new("# only a comment\n".as_bytes(), InputFormat::Auto);
        assert!(reader.next().is_none());
        assert_eq!(reader.format(), InputFormat::Yaml);
    }

    #[test]
    fn json_lines_are_read_incrementally() {
        // A reader that fails after the first line shows nothing past it was
        // needed to yield the first claim.
        struct FirstLineOnly(Vec<u8>, bool);
        impl std::io::Read for FirstLineOnly {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("unused"))
            }
        }
        impl BufRead for FirstLineOnly {
            fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
                if self.1 {
                    Err(std::io::Error::other("read past the first claim"))
                } else {
                    Ok(&self.0)
                }
            }
            fn consume(&mut self, n: usize) {
                self.0.drain(..n);
                self.1 = self.0.is_empty();
            }
        }
        let input = FirstLineOnly(format!("{}\n", one_line(EXAMPLE)).into_bytes(), false);
        let mut reader = ClaimReader::new(input, InputFormat::Auto);
        assert!(matches!(reader.next(), Some(Ok(_))));
        let Some(Err(err)) = reader.next() else {
            panic!("no read error")
        };
        assert_eq!(
            (err.record, err.message.as_str()),
            (2, "cannot read input: read past the first claim")
        );
        assert!(reader.next().is_none());
    }

    #[test]
    fn format_names_round_trip() {
        for format in InputFormat::ALL {
            assert_eq!(format.name().parse(), Ok(format));
            assert_eq!(format.to_string(), format.name());
        }
        assert_eq!("NDJSON".parse(), Ok(InputFormat::JsonLines));
        assert_eq!("yml".parse(), Ok(InputFormat::Yaml));
        assert!("xml".parse::<InputFormat>().is_err());
    }
}
