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

pub(super) fn yaml_items(text: &str) -> Result<Vec<serde_yaml_ng::Value>, String> {
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

pub(super) fn whole_input_error(message: impl Into<String>) -> ClaimError {
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
pub(super) fn json_message(err: &serde_json::Error) -> String {
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
