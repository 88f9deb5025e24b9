//! One record read: a JSON Lines line (the scanner's fast path, else serde_json
//! and validation), an array element or a YAML document, and the error record
//! of one that cannot be read.

use super::*;

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

/// Reads one JSON Lines record (`record`: its 1-based line number).
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
    if line.len() > MAX_RECORD_BYTES {
        return Err(too_long(record));
    }
    // The fast path reads the common shape itself; then plain serde. Only a claim
    // that fails both is parsed again with path tracking, which costs several
    // times more per field.
    if scan_claim_into(line, claim).is_some() {
        return Ok(());
    }
    let at = Place {
        line: record,
        column: 1,
    };
    *claim = parse_json_slowly(line, record, at, Unit::Line)?;
    Ok(())
}

/// The error record of a record longer than [`MAX_RECORD_BYTES`].
#[cold]
pub(super) fn too_long(record: usize) -> ClaimError {
    ClaimError::invalid(
        None,
        None,
        format!(
            "the record is longer than {MAX_RECORD_BYTES} bytes (1 MiB), the most one claim may take"
        ),
        record,
    )
}

/// What one JSON record is, for messages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    /// A line of JSON Lines.
    Line,
    /// An element of a JSON array.
    Element,
}

/// One JSON record (a line, or an array element starting at `at`) read by
/// serde: lines the scanner stepped aside from, array elements, and every
/// error. Kept out of line so the hot path stays small in the instruction
/// cache.
#[cold]
#[inline(never)]
pub(super) fn parse_json_slowly(
    text: &[u8],
    record: usize,
    at: Place,
    unit: Unit,
) -> Result<Claim, ClaimError> {
    parse_json_again(text, record, at, unit, 0)
}

/// [`parse_json_slowly`], `depth` numbers out of range into the record (each
/// is read again with a stand-in; a few are enough to name the first bad
/// field, and the depth stays bounded however many the record has).
fn parse_json_again(
    text: &[u8],
    record: usize,
    at: Place,
    unit: Unit,
    depth: u8,
) -> Result<Claim, ClaimError> {
    if let Ok(Obj(raw)) = serde_json::from_slice::<Obj<RawClaim>>(text) {
        return validate(raw, record).map_err(|err| numbers_as_written(err, text));
    }
    // A trailing newline would put an error at the end on a line of its own,
    // at column 0.
    let text = text.trim_ascii_end();
    let mut de = serde_json::Deserializer::from_slice(text);
    let (err, path) = match serde_path_to_error::deserialize::<_, Obj<RawClaim>>(&mut de) {
        // Trailing bytes after the object mean two records on one line, or junk.
        Ok(Obj(raw)) => match de.end() {
            Ok(()) => return validate(raw, record).map_err(|err| numbers_as_written(err, text)),
            Err(err) => (err, None),
        },
        Err(err) => {
            let path = err.path().to_string();
            (err.into_inner(), Some(path).filter(|p| p != "."))
        }
    };
    // Only now is the id worth a second, lenient parse.
    let id = id_of(text);
    let place = place_of(&err, at);
    let (path, message) = match err.classify() {
        serde_json::error::Category::Eof => (
            None,
            match unit {
                Unit::Line => format!(
                    "line is not complete JSON (each claim must be on one line): {} at {place}",
                    json_message(&err)
                ),
                Unit::Element => format!(
                    "element is not complete JSON: {} at {place}",
                    json_message(&err)
                ),
            },
        ),
        serde_json::error::Category::Data => {
            let message = json_message(&err);
            // A repeated field is named by its own path, not its object's.
            let path = match message
                .strip_prefix("duplicate field `")
                .and_then(|m| m.strip_suffix('`'))
            {
                Some(field) => Some(match path {
                    Some(object) => format!("{object}.{field}"),
                    None => field.to_owned(),
                }),
                None => path,
            };
            (path, message)
        }
        _ if json_message(&err).starts_with("number out of range") => {
            let record = Record { record, at, unit };
            return Err(out_of_range(text, record, depth, id, path, &err));
        }
        _ => (
            None,
            format!(
                "{} is not valid JSON: {} at {place}",
                match unit {
                    Unit::Line => "line",
                    Unit::Element => "element",
                },
                json_message(&err)
            ),
        ),
    };
    Err(ClaimError::invalid(non_empty(id), path, message, record))
}

/// A record's number and where it starts.
#[derive(Clone, Copy)]
struct Record {
    record: usize,
    at: Place,
    unit: Unit,
}

/// Where serde_json's error is in the input, the record starting at `at`.
fn place_of(err: &serde_json::Error, at: Place) -> Place {
    let line = at.line + err.line().saturating_sub(1);
    let column = if err.line() <= 1 {
        at.column + err.column().saturating_sub(1)
    } else {
        err.column()
    };
    Place {
        line,
        column: column.max(1),
    }
}

/// The claim's `id` when the record has a readable one, however broken the
/// rest: other values are skipped unread (so `1e400` elsewhere does not stop
/// it), an id read before a syntax error is kept, and of two ids the first
/// is taken.
fn id_of(text: &[u8]) -> Option<String> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let mut found = None;
    // An error after the id leaves it found.
    let _ = de.deserialize_map(CaptureId(&mut found));
    found
}

/// Reads a claim object's keys, keeping its first `id` in `.0`.
struct CaptureId<'a>(&'a mut Option<String>);

impl<'de> Visitor<'de> for CaptureId<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a claim object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "id" && self.0.is_none() {
                *self.0 = map
                    .next_value::<Option<Cow<'de, str>>>()?
                    .map(Cow::into_owned);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// The error record of a number beyond what a float holds (`1e400`), which
/// serde_json refuses as a syntax error: the field's rule, checked again
/// with a number that is as far out but in range, with the number as written.
#[cold]
fn out_of_range(
    text: &[u8],
    Record { record, at, unit }: Record,
    depth: u8,
    id: Option<String>,
    path: Option<String>,
    err: &serde_json::Error,
) -> ClaimError {
    let written = number_at(text, err.line(), err.column());
    let place = place_of(err, at);
    let fallback = |written: &str| {
        let field = path
            .as_deref()
            .map(|p| p.rsplit('.').next().unwrap_or(p))
            .unwrap_or("number");
        ClaimError::invalid(
            non_empty(id.clone()),
            path.clone(),
            format!("{field} must be a finite number, got {written} (at {place})"),
            record,
        )
    };
    let Some((start, end, written)) = written else {
        return fallback("a number out of range");
    };
    if depth >= 4 {
        return fallback(&written);
    }
    let stand_in: &[u8] = if written.starts_with('-') {
        b"-1e300"
    } else {
        b"1e300"
    };
    let mut again = text.get(..start).unwrap_or_default().to_vec();
    again.extend_from_slice(stand_in);
    again.extend_from_slice(text.get(end..).unwrap_or_default());
    match parse_json_again(&again, record, at, unit, depth + 1) {
        Err(mut rejected) if rejected.path == path && path.is_some() => {
            // The stand-in as a message quotes it: as a float, or saturated
            // to an integer.
            let negative = stand_in.starts_with(b"-");
            let (float, int) = if negative {
                (format!("{}", -1e300_f64), format!("{}", i128::MIN))
            } else {
                (format!("{}", 1e300_f64), format!("{}", i128::MAX))
            };
            rejected.message = rejected
                .message
                .replace(&float, &written)
                .replace(&int, &written);
            rejected
        }
        _ => fallback(&written),
    }
}

/// The number literal around serde_json's error position (`line`, `column`:
/// 1-based, in `text`): its byte range and text.
fn number_at(text: &[u8], line: usize, column: usize) -> Option<(usize, usize, String)> {
    let line_start = if line <= 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', text).nth(line - 2)? + 1
    };
    let at = (line_start + column.saturating_sub(1)).min(text.len());
    let numeric = |b: &u8| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E');
    let before = text.get(..at)?;
    let start = before.len() - before.iter().rev().take_while(|b| numeric(b)).count();
    let after = text.get(at..)?;
    let end = at + after.iter().take_while(|b| numeric(b)).count();
    let written = std::str::from_utf8(text.get(start..end)?).ok()?;
    (!written.is_empty()).then(|| (start, end, written.to_owned()))
}

/// A validation error about a number read as a float that is not the number
/// written (`18446744073709551616`, beyond a 64-bit integer, is read as
/// `1.8446744073709552e19`): the message quotes the number as written.
#[cold]
fn numbers_as_written(mut err: ClaimError, text: &[u8]) -> ClaimError {
    let Some(written) = err.path.as_deref().and_then(|p| raw_at(text, p)) else {
        return err;
    };
    let written = written.trim();
    // Only a whole number beyond 64 bits is read as another number.
    let digits = written.strip_prefix('-').unwrap_or(written);
    let whole = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    if !whole || written.parse::<i64>().is_ok() || written.parse::<u64>().is_ok() {
        return err;
    }
    if let Ok(value) = written.parse::<f64>() {
        for read in [format!("{value}"), format!("{}", value as i128)] {
            if err.message.contains(&read) {
                err.message = err.message.replace(&read, written);
                break;
            }
        }
    }
    err
}

/// The text of the value at `path` (`lines[0].units`) in the JSON `text`.
fn raw_at<'t>(text: &'t [u8], path: &str) -> Option<&'t str> {
    use serde_json::value::RawValue;
    let mut raw: &RawValue = serde_json::from_slice(text).ok()?;
    for part in path.split('.') {
        let (name, indexes) = match part.find('[') {
            Some(i) => (part.get(..i)?, part.get(i..)?),
            None => (part, ""),
        };
        if !name.is_empty() {
            let map: std::collections::BTreeMap<Cow<'_, str>, &RawValue> =
                serde_json::from_str(raw.get()).ok()?;
            raw = *map.get(name)?;
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            let i: usize = index.strip_suffix(']')?.parse().ok()?;
            let list: Vec<&RawValue> = serde_json::from_str(raw.get()).ok()?;
            raw = *list.get(i)?;
        }
    }
    Some(raw.get())
}

/// Parses one element of a JSON array or YAML list; `id` is taken beforehand
/// because deserializing consumes the value.
pub(super) fn parse_element<'de, D>(
    value: D,
    id: Option<String>,
    record: usize,
) -> Result<Claim, ClaimError>
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

/// The claims of a YAML input, document by document: a list's items, a lone
/// claim mapping, nothing for an empty document. The error of the first
/// document that does not parse or hold claims comes with the claims of the
/// documents before it, which are still read.
pub(super) fn yaml_items(text: &str) -> (Vec<serde_yaml_ng::Value>, Option<String>) {
    use serde_yaml_ng::Value;
    let mut items = Vec::new();
    for (n, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let value = match Value::deserialize(document) {
            Ok(value) => value,
            Err(err) => {
                let at = err
                    .location()
                    .map(|l| {
                        format!(
                            " (document {}, line {} column {})",
                            n + 1,
                            l.line(),
                            l.column()
                        )
                    })
                    .unwrap_or_default();
                let message = clean(&err.to_string());
                return (
                    items,
                    Some(format!("input is not valid YAML: {message}{at}")),
                );
            }
        };
        match value {
            Value::Sequence(list) => items.extend(list),
            // A lone claim is a list of one; an empty document holds none.
            Value::Mapping(_) => items.push(value),
            Value::Null => {}
            _ => {
                return (
                    items,
                    Some(format!(
                        "input is not a YAML list of claims: document {} is neither a list nor a claim",
                        n + 1
                    )),
                );
            }
        }
    }
    (items, None)
}

/// The error record of an input that failed to read at `record`: claims from
/// there on are lost.
pub(crate) fn io_error(err: &std::io::Error, record: usize) -> ClaimError {
    ClaimError::input(format!("cannot read input: {err}"), record)
}

/// The path of a type error; none for syntax errors (the record is unreadable as
/// a whole) or an error about the record itself (`.`).
fn data_path(path: &serde_path_to_error::Path, is_data: bool) -> Option<String> {
    let path = path.to_string();
    (is_data && path != ".").then_some(path)
}

/// serde_json's message without its "at line 1 column 9" suffix, which is
/// relative to the record: the callers say where in the input it is.
pub(super) fn json_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    clean(text.strip_suffix(&suffix).unwrap_or(&text))
}

fn clean(message: &str) -> String {
    message.trim().trim_end_matches('.').to_owned()
}

fn non_empty(id: Option<String>) -> Option<String> {
    id.filter(|id| !id.trim().is_empty())
}
