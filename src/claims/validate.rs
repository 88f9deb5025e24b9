//! Checking a parsed claim against `CLAIMS.md` and building the [`Claim`].
//!
//! The rules are the methods of [`Cx`], one per field. [`validate`] applies
//! them in contract order to a claim serde read, and the first bad field
//! rejects the claim, with its path (`lines[1].diagnosis_pointers[0]`, 0-based
//! indexes) and a message that quotes the bad value. The JSON Lines scanner
//! (`claims::scan`) applies the same methods as it reads each field and
//! leaves a claim that breaks one to `validate`, so every message comes from
//! here. The shape checks are public so that other parts of the engine (policy
//! code lists, fixtures) use the same definitions.

use std::borrow::Cow;

use chrono::NaiveDate;

use super::error::ClaimError;
use super::model::{
    Claim, Diagnoses, FactValue, Facts, Frequency, Line, Modifiers, Patient, Pointers, Provider,
    Sex, Text,
};
use super::read::{Code, Num, Obj, RawClaim, RawFact, RawFacts, RawLine};
use crate::codes::CodeKey;

/// Most diagnoses a claim may carry (the 837P limit).
pub const MAX_DIAGNOSES: usize = 12;
/// Most modifiers a line may carry.
pub const MAX_MODIFIERS: usize = 4;
/// Most diagnosis pointers a line may carry.
pub const MAX_POINTERS: usize = 4;

/// Reads a strict ISO `YYYY-MM-DD` date: four-digit year, two-digit month and
/// day, and a day that exists (`2026-02-30` does not).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    // Two dates a claim: the shape is checked and the fields read from one
    // eight-byte word and the two bytes after it, where a byte at a time
    // cost some sixty instructions a date.
    let (head, day) = text.as_bytes().split_first_chunk::<8>()?;
    let &[d1, d2] = day else {
        return None;
    };
    const ONES: u64 = 0x0101_0101_0101_0101;
    // `0` where a digit goes, `-` where a dash does (bytes 4 and 7).
    const DASHES: u64 = 0xff00_00ff_0000_0000;
    const SHAPE: u64 = ((ONES * b'0' as u64) & !DASHES) | ((ONES * b'-' as u64) & DASHES);
    let values = u64::from_le_bytes(*head) ^ SHAPE;
    // Every byte below 10 (the seven-bit addition carries into no other
    // byte), and the dashes exactly so.
    let over_nine = crate::bytes::over_nine(values);
    let (d1, d2) = (d1.wrapping_sub(b'0'), d2.wrapping_sub(b'0'));
    if over_nine != 0 || values & DASHES != 0 || d1 > 9 || d2 > 9 {
        return None;
    }
    let digit = |at: u32| (values >> (8 * at)) as u32 & 0xff;
    let year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3);
    let month = digit(5) * 10 + digit(6);
    let day = u32::from(d1) * 10 + u32::from(d2);
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

/// True when `text` has the `dddd-dd-dd` form, whether or not the date exists.
fn looks_like_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// True for a National Provider Identifier: 10 digits whose last is the Luhn
/// check digit of the first 9 prefixed with `80840` (e.g. `1234567893`).
pub fn npi_is_valid(npi: &str) -> bool {
    npi.len() == 10
        && npi.bytes().all(|b| b.is_ascii_digit())
        && npi_check_digit(npi) == npi.bytes().last()
}

/// The check digit the first 9 digits of `npi` call for, as an ASCII digit.
fn npi_check_digit(npi: &str) -> Option<u8> {
    // Luhn: the 80840 prefix contributes a fixed 24 to the sum; doubling starts
    // from the rightmost body digit because the check digit will follow it.
    // A doubled digit's digit sum, from a table: the loop it replaces was most
    // of checking a provider.
    const DOUBLED: [u32; 10] = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];
    let body: [u8; 9] = npi.as_bytes().get(..9)?.try_into().ok()?;
    let d = body.map(|b| b.wrapping_sub(b'0'));
    if d.iter().any(|&v| v > 9) {
        return None;
    }
    let doubled = |v: u8| DOUBLED[usize::from(v)];
    let sum = 24
        + doubled(d[8])
        + doubled(d[6])
        + doubled(d[4])
        + doubled(d[2])
        + doubled(d[0])
        + [d[7], d[5], d[3], d[1]]
            .iter()
            .map(|&v| u32::from(v))
            .sum::<u32>();
    Some(b'0' + ((10 - sum % 10) % 10) as u8)
}

/// True for an ICD-10-CM code shape: a letter, a digit, a letter or digit, then
/// up to 4 letters or digits, optionally after a dot (`M79.18`, `M7918`, `U07.1`).
pub fn is_icd10cm_shape(code: &str) -> bool {
    let b = code.as_bytes();
    let [first, second, third, rest @ ..] = b else {
        return false;
    };
    if !(first.is_ascii_alphabetic() && second.is_ascii_digit() && third.is_ascii_alphanumeric()) {
        return false;
    }
    let rest = match rest {
        [b'.', after @ ..] if !after.is_empty() => after,
        [b'.', ..] => return false,
        _ => rest,
    };
    rest.len() <= 4 && rest.iter().all(u8::is_ascii_alphanumeric)
}

/// True for a CPT or HCPCS Level II code shape: 5 digits (`20552`), 4 digits and
/// `F`, `T` or `U` (CPT category II, III and PLA codes: `0213T`), or a letter A-V
/// and 4 digits (`J3301`). Letters may be either case.
pub fn is_procedure_shape(code: &str) -> bool {
    let [first, middle @ .., last] = code.as_bytes() else {
        return false;
    };
    if code.len() != 5 || !middle.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (first, last) = (first.to_ascii_uppercase(), last.to_ascii_uppercase());
    (first.is_ascii_digit() && (last.is_ascii_digit() || matches!(last, b'F' | b'T' | b'U')))
        || ((b'A'..=b'V').contains(&first) && last.is_ascii_digit())
}

/// Checks a parsed claim and builds it; `record` is its 1-based input position.
///
/// This is the order errors are reported in. Each rule is a method of [`Cx`],
/// which the scanner's fast path (`claims::scan`) calls too as it reads a
/// claim straight into a [`Claim`]: the rules have this one home.
pub(super) fn validate(raw: RawClaim<'_>, record: usize) -> Result<Claim, ClaimError> {
    // The id, borrowed for error records: copying it for every claim would cost
    // an allocation on the path of claims that have no error.
    let raw_id = raw.id;
    let cx = Cx {
        id: raw_id.as_deref().filter(|id| !trim(id).is_empty()),
        record,
    };
    let id = cx.required_text(raw_id.as_deref(), "id")?;
    let payer = cx.required_text(raw.payer.as_deref(), "payer")?;
    let Obj(patient) = cx.required(raw.patient, "patient")?;
    let patient = cx.patient(
        patient.id.as_deref(),
        patient.birth_date.as_deref(),
        patient.sex.as_deref(),
    )?;
    let provider = raw
        .provider
        .map(|Obj(p)| cx.provider(p.npi.as_deref(), p.taxonomy.as_deref()))
        .transpose()?;
    let place_of_service = raw
        .place_of_service
        .map(|p| cx.place_of_service(&p))
        .transpose()?;
    let diagnoses = cx.diagnoses(raw.diagnoses)?;
    let facts = raw
        .facts
        .map(|f| cx.facts(f))
        .transpose()?
        .unwrap_or_default();
    let lines = cx.lines(raw.lines, diagnoses.len())?;
    let frequency = raw
        .frequency_code
        .map(|c| cx.frequency(&c.0))
        .transpose()?
        .unwrap_or_default();
    let replaces = raw
        .replaces
        .map(|r| cx.replaces(&r, frequency))
        .transpose()?;
    Ok(Claim {
        id,
        payer,
        patient,
        provider,
        place_of_service,
        diagnoses,
        facts,
        lines,
        frequency,
        replaces,
    })
}

/// `given.trim()`, without decoding characters when the text starts and ends
/// with an ASCII character other than white space or a control below the
/// space (nearly always): `str::trim` decodes each
/// end's characters to test them for Unicode white space, some 50
/// instructions per field of every claim.
fn trim(given: &str) -> &str {
    let plain = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b.is_ascii());
    let bytes = given.as_bytes();
    if plain(bytes.first()) && plain(bytes.last()) {
        given
    } else {
        given.trim()
    }
}

/// A claim field's text, inline when short (see [`Text`]).
pub(super) fn text(given: &str) -> Text {
    Text::from(given)
}

/// A code's text uppercased, inline when short.
fn upper(given: &str) -> Text {
    let mut text = Text::from(given);
    text.make_ascii_uppercase();
    text
}

/// A field path, rendered only when an error needs it: validating a good claim
/// formats no paths (this is on the hot path of every batch).
trait FieldPath {
    fn render(self) -> String;
}

impl FieldPath for &str {
    fn render(self) -> String {
        self.to_owned()
    }
}

impl FieldPath for String {
    fn render(self) -> String {
        self
    }
}

/// `lines[i].field`.
#[derive(Clone, Copy)]
struct LineField(usize, &'static str);

impl FieldPath for LineField {
    fn render(self) -> String {
        format!("lines[{}].{}", self.0, self.1)
    }
}

/// The rules of the contract, one method per field, with what every error of
/// one claim shares. [`validate`] applies them in contract order to a claim
/// serde read; the scanner applies them as it meets each field and steps
/// aside at the first error, so that `validate` names it.
pub(super) struct Cx<'r> {
    /// The claim's id for error records, when it has a usable one.
    pub id: Option<&'r str>,
    /// The claim's 1-based position in the input.
    pub record: usize,
}

impl Cx<'_> {
    // Out of line and cold: the validators that call it are inlined into the
    // scanner, and their common path must stay small.
    #[cold]
    #[inline(never)]
    fn err(&self, path: impl FieldPath, message: impl Into<String>) -> ClaimError {
        ClaimError::invalid(
            self.id.map(str::to_owned),
            Some(path.render()),
            message,
            self.record,
        )
    }

    fn required<T>(&self, value: Option<T>, path: impl FieldPath) -> Result<T, ClaimError> {
        value.ok_or_else(|| {
            let path = path.render();
            let message = format!("{} is required", leaf(&path));
            self.err(path, message)
        })
    }

    /// A required text field (`id`, `payer`, `patient.id`): given, and more
    /// than white space. Kept as given.
    pub fn required_text(&self, value: Option<&str>, path: &str) -> Result<Text, ClaimError> {
        let value = self.required(value, path)?;
        if trim(value).is_empty() {
            return Err(self.err(path, format!("{} must not be empty", leaf(path))));
        }
        Ok(text(value))
    }

    /// A strict `YYYY-MM-DD` date.
    #[inline]
    fn date(&self, text: &str, path: impl FieldPath) -> Result<NaiveDate, ClaimError> {
        parse_date(text).ok_or_else(|| {
            let path = path.render();
            let message = format!("{} `{text}` is not a valid YYYY-MM-DD date", leaf(&path));
            self.err(path, message)
        })
    }

    /// `patient`, from its fields as given: a required id, a date of birth
    /// and a sex.
    pub fn patient(
        &self,
        id: Option<&str>,
        birth_date: Option<&str>,
        sex: Option<&str>,
    ) -> Result<Patient, ClaimError> {
        Ok(Patient {
            id: self.required_text(id, "patient.id")?,
            birth_date: birth_date
                .map(|d| self.date(d, "patient.birth_date"))
                .transpose()?,
            sex: sex.map(|s| self.sex(s)).transpose()?,
        })
    }

    /// `patient.sex`.
    fn sex(&self, given: &str) -> Result<Sex, ClaimError> {
        Sex::parse(given).ok_or_else(|| {
            self.err(
                "patient.sex",
                format!("sex must be F, M or U, got `{given}`"),
            )
        })
    }

    /// `provider`, from its fields as given: an NPI and a taxonomy code,
    /// kept as given.
    pub fn provider(
        &self,
        npi: Option<&str>,
        taxonomy: Option<&str>,
    ) -> Result<Provider, ClaimError> {
        Ok(Provider {
            npi: npi.map(|npi| self.npi(npi)).transpose()?,
            taxonomy: taxonomy.map(text),
        })
    }

    /// `provider.npi`: 10 digits with the NPI check digit.
    fn npi(&self, npi: &str) -> Result<Text, ClaimError> {
        if npi.len() != 10 || !npi.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err(
                "provider.npi",
                format!("npi must be 10 digits, got `{npi}`"),
            ));
        }
        if let Some(want) = npi_check_digit(npi).filter(|d| Some(*d) != npi.bytes().last()) {
            return Err(self.err(
                "provider.npi",
                format!(
                    "npi `{npi}` fails the NPI check digit: the last digit should be {}",
                    char::from(want)
                ),
            ));
        }
        Ok(text(npi))
    }

    /// `frequency_code` given as a whole number (YAML's unquoted `7`): read
    /// as its digits, as [`Code`] reads it from serde.
    pub fn frequency_number(&self, n: u64) -> Result<Frequency, ClaimError> {
        self.frequency(&Code::of_number(n).0)
    }

    /// `frequency_code`, given as text (a number's digits).
    pub fn frequency(&self, code: &str) -> Result<Frequency, ClaimError> {
        Frequency::parse(trim(code)).ok_or_else(|| {
            self.err(
                "frequency_code",
                format!(
                    "frequency_code must be 1 (original), 7 (replacement) or 8 (void), got `{code}`"
                ),
            )
        })
    }

    /// `replaces`, which only a replacement or a void may carry.
    pub fn replaces(&self, id: &str, frequency: Frequency) -> Result<Text, ClaimError> {
        if frequency.is_original() {
            return Err(self.err(
                "replaces",
                "replaces needs frequency_code 7 (replacement) or 8 (void)",
            ));
        }
        if trim(id).is_empty() {
            return Err(self.err("replaces", "replaces must not be empty"));
        }
        Ok(text(id))
    }

    /// `place_of_service`: 2 digits.
    pub fn place_of_service(&self, pos: &str) -> Result<Text, ClaimError> {
        if pos.len() == 2 && pos.bytes().all(|b| b.is_ascii_digit()) {
            Ok(text(pos))
        } else {
            Err(self.err(
                "place_of_service",
                format!("place_of_service must be 2 digits, got `{pos}`"),
            ))
        }
    }

    fn diagnoses(&self, raw: Option<Vec<Cow<'_, str>>>) -> Result<Diagnoses, ClaimError> {
        let raw = self.required(raw, "diagnoses")?;
        self.diagnosis_count(raw.len())?;
        raw.iter()
            .enumerate()
            .take(MAX_DIAGNOSES)
            .map(|(i, code)| self.diagnosis(i, code))
            .collect()
    }

    /// How many diagnoses a claim has: 1 to [`MAX_DIAGNOSES`].
    pub fn diagnosis_count(&self, n: usize) -> Result<(), ClaimError> {
        if n == 0 || n > MAX_DIAGNOSES {
            return Err(self.err(
                "diagnoses",
                format!("a claim needs 1 to {MAX_DIAGNOSES} diagnoses, got {n}"),
            ));
        }
        Ok(())
    }

    /// `diagnoses[i]`: an ICD-10-CM code's shape, packed.
    #[inline]
    pub fn diagnosis(&self, i: usize, code: &str) -> Result<CodeKey, ClaimError> {
        if let Some(key) = plain_diagnosis(code) {
            return Ok(key);
        }
        let trimmed = trim(code);
        CodeKey::parse(trimmed)
            .filter(|_| is_icd10cm_shape(trimmed))
            .ok_or_else(|| {
                self.err(
                    format!("diagnoses[{i}]"),
                    format!(
                        "diagnosis `{code}` is not an ICD-10-CM code: expected a letter, a digit, \
                         a letter or digit, then up to 4 letters or digits after an optional dot"
                    ),
                )
            })
    }

    fn facts(&self, raw: RawFacts<'_>) -> Result<Facts, ClaimError> {
        let mut facts = Vec::with_capacity(raw.0.len());
        for (name, value) in raw.0 {
            facts.push((text(&name), self.fact(&name, value)?));
        }
        self.fact_names(facts)
    }

    /// The value of fact `name`: a bool, a finite number, a date (a string of
    /// date shape, which must then be a real date) or other text.
    pub fn fact(&self, name: &str, value: RawFact<'_>) -> Result<FactValue, ClaimError> {
        let path = || format!("facts.{name}");
        Ok(match value {
            RawFact::Bool(b) => FactValue::Bool(b),
            RawFact::Number(n) if n.is_finite() => FactValue::Number(n),
            RawFact::Number(n) => {
                return Err(self.err(
                    path(),
                    format!("fact `{name}` must be a finite number, got {n}"),
                ));
            }
            RawFact::Text(text) if looks_like_date(&text) => match parse_date(&text) {
                Some(date) => FactValue::Date(date),
                None => {
                    return Err(self.err(
                        path(),
                        format!("fact `{name}` value `{text}` is not a valid YYYY-MM-DD date"),
                    ));
                }
            },
            RawFact::Text(given) => FactValue::Text(text(&given)),
            RawFact::Other(kind) => {
                return Err(self.err(
                    path(),
                    format!("fact `{name}` must be a bool, number, string or date, got {kind}"),
                ));
            }
        })
    }

    /// The facts once every value is checked: no name twice.
    pub fn fact_names(&self, mut facts: Vec<(Text, FactValue)>) -> Result<Facts, ClaimError> {
        // Checked after the values so a bad value is still the first error named;
        // sorted by name, a repeat is next to its first (and `Facts` wants them
        // sorted anyway).
        facts.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(pair) = facts.windows(2).find(|w| w[0].0 == w[1].0) {
            let name = &pair[0].0;
            return Err(self.err(
                format!("facts.{name}"),
                format!("fact `{name}` is given more than once"),
            ));
        }
        Ok(Facts::from_sorted(facts))
    }

    fn lines(
        &self,
        raw: Option<Vec<Obj<RawLine<'_>>>>,
        diagnoses: usize,
    ) -> Result<Vec<Line>, ClaimError> {
        let raw = self.required(raw, "lines")?;
        self.line_count(raw.len())?;
        let mut lines: Vec<Line> = Vec::with_capacity(raw.len());
        for (i, Obj(line)) in raw.into_iter().enumerate() {
            let line = self.line(i, line, diagnoses, &lines)?;
            lines.push(line);
        }
        Ok(lines)
    }

    /// How many lines a claim has: at least one.
    pub fn line_count(&self, n: usize) -> Result<(), ClaimError> {
        if n == 0 {
            return Err(self.err("lines", "a claim needs at least 1 line"));
        }
        Ok(())
    }

    /// Checks line `i`; `earlier` are the lines before it, for unique numbers.
    fn line(
        &self,
        i: usize,
        raw: RawLine<'_>,
        diagnoses: usize,
        earlier: &[Line],
    ) -> Result<Line, ClaimError> {
        let path = |field: &'static str| LineField(i, field);
        let line = self.line_number(i, raw.line, earlier)?;
        let date_text = self.required(raw.date_of_service, path("date_of_service"))?;
        let date_of_service = self.date_of_service(i, &date_text)?;
        let procedure_given = self.required(raw.procedure, path("procedure"))?;
        let (procedure, procedure_text) = self.procedure(i, &procedure_given)?;

        let given = raw.modifiers.unwrap_or_default();
        self.modifier_count(i, given.len())?;
        let mut modifiers = Modifiers::new();
        // The count was checked above, so `take` drops nothing.
        for (j, m) in given.iter().enumerate().take(MAX_MODIFIERS) {
            modifiers.push(self.modifier(i, j, m)?);
        }

        let units = self.units(i, raw.units)?;
        let diagnosis_pointers = self.pointers(i, raw.diagnosis_pointers, diagnoses)?;
        let muscles = raw
            .muscles
            .map(|n| self.tally(i, "muscles", n))
            .transpose()?;
        let injections = raw
            .injections
            .map(|n| self.tally(i, "injections", n))
            .transpose()?;
        let charge = raw.charge.map(|n| self.charge(i, n)).transpose()?;

        Ok(Line {
            line,
            date_of_service,
            procedure,
            procedure_text,
            modifiers,
            units,
            diagnosis_pointers,
            site: raw.site.as_deref().map(text),
            muscles,
            injections,
            charge,
        })
    }

    /// `lines[i].date_of_service`: a strict date.
    #[inline]
    pub fn date_of_service(&self, i: usize, text: &str) -> Result<NaiveDate, ClaimError> {
        self.date(text, LineField(i, "date_of_service"))
    }

    /// `lines[i].<field>` for a count of the session (`muscles`,
    /// `injections`): a whole number from 0.
    pub fn tally(&self, i: usize, field: &'static str, n: Num) -> Result<u32, ClaimError> {
        self.count(n, 0, LineField(i, field), field)
    }

    /// `lines[i].line` (`given`), or the line's 1-based position; unique among
    /// the `earlier` lines.
    #[inline]
    pub fn line_number(
        &self,
        i: usize,
        given: Option<Num>,
        earlier: &[Line],
    ) -> Result<u32, ClaimError> {
        let path = LineField(i, "line");
        let line = match given {
            Some(n) => self.count(n, 1, path, "line")?,
            None => u32::try_from(i + 1).map_err(|_| self.err(path, "too many lines"))?,
        };
        if let Some(j) = earlier.iter().position(|l| l.line == line) {
            return Err(self.err(
                path,
                format!("line number {line} is already used by lines[{j}]"),
            ));
        }
        Ok(line)
    }

    /// `lines[i].procedure`: a CPT or HCPCS code's shape, packed, and its text
    /// trimmed and uppercased.
    #[inline]
    pub fn procedure(&self, i: usize, given: &str) -> Result<(CodeKey, Text), ClaimError> {
        if let Some(key) = plain_procedure(given) {
            return Ok((key, text(given)));
        }
        let trimmed = trim(given);
        let procedure = CodeKey::parse(trimmed)
            .filter(|_| is_procedure_shape(trimmed))
            .ok_or_else(|| {
                self.err(
                    LineField(i, "procedure"),
                    format!(
                        "procedure `{given}` is not a CPT or HCPCS code: expected 5 digits, \
                         4 digits and F, T or U, or a letter A-V and 4 digits"
                    ),
                )
            })?;
        // Codes nearly always come uppercased: then the text is kept as given
        // (uppercasing in place cost a third of checking a procedure).
        let procedure_text = if trimmed.bytes().any(|b| b.is_ascii_lowercase()) {
            upper(trimmed)
        } else {
            text(trimmed)
        };
        Ok((procedure, procedure_text))
    }

    /// How many modifiers line `i` has: at most [`MAX_MODIFIERS`].
    pub fn modifier_count(&self, i: usize, n: usize) -> Result<(), ClaimError> {
        if n > MAX_MODIFIERS {
            return Err(self.err(
                LineField(i, "modifiers"),
                format!("a line takes at most {MAX_MODIFIERS} modifiers, got {n}"),
            ));
        }
        Ok(())
    }

    /// `lines[i].modifiers[j]`: 2 letters or digits, uppercased.
    pub fn modifier(&self, i: usize, j: usize, given: &str) -> Result<Text, ClaimError> {
        let upper = upper(trim(given));
        if upper.len() != 2 || !upper.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(self.err(
                format!("lines[{i}].modifiers[{j}]"),
                format!("modifier `{given}` must be 2 letters or digits"),
            ));
        }
        Ok(upper)
    }

    /// A whole number from `min` up that fits a `u32`.
    // Inlined for the common case (a small whole number, read on every line
    // several times); the rest is out of line.
    #[inline]
    fn count(&self, n: Num, min: u32, path: impl FieldPath, name: &str) -> Result<u32, ClaimError> {
        if let Num::Unsigned(v) = n {
            if let Ok(v) = u32::try_from(v) {
                if v >= min {
                    return Ok(v);
                }
            }
        }
        self.count_otherwise(n, min, path, name)
    }

    #[inline(never)]
    fn count_otherwise(
        &self,
        n: Num,
        min: u32,
        path: impl FieldPath,
        name: &str,
    ) -> Result<u32, ClaimError> {
        let what = || {
            if min == 0 {
                "a non-negative integer".to_owned()
            } else {
                format!("an integer of at least {min}")
            }
        };
        match n.integer() {
            Some(v) if v >= i128::from(min) => u32::try_from(v).map_err(|_| {
                self.err(
                    path,
                    format!("{name} must be at most {}, got {n}", u32::MAX),
                )
            }),
            _ => Err(self.err(path, format!("{name} must be {}, got {n}", what()))),
        }
    }

    /// `lines[i].units`: a whole number from 1, and 1 when not given.
    pub fn units(&self, i: usize, given: Option<Num>) -> Result<u32, ClaimError> {
        given.map_or(Ok(1), |n| self.count(n, 1, LineField(i, "units"), "units"))
    }

    /// `lines[i].charge`: a non-negative amount.
    pub fn charge(&self, i: usize, n: Num) -> Result<f64, ClaimError> {
        let amount = n.as_f64();
        if amount.is_finite() && amount >= 0.0 {
            Ok(amount)
        } else {
            Err(self.err(
                LineField(i, "charge"),
                format!("charge must be a non-negative number, got {n}"),
            ))
        }
    }

    fn pointers(
        &self,
        i: usize,
        raw: Option<Vec<Num>>,
        diagnoses: usize,
    ) -> Result<Pointers, ClaimError> {
        let raw = raw.unwrap_or_default();
        self.pointer_count(i, raw.len())?;
        let mut pointers = Pointers::new();
        for (j, n) in raw.into_iter().enumerate().take(MAX_POINTERS) {
            let pointer = self.pointer(i, j, n, diagnoses, &pointers)?;
            pointers.push(pointer);
        }
        Ok(or_all(Some(pointers), diagnoses))
    }

    /// How many diagnosis pointers line `i` has: at most [`MAX_POINTERS`].
    #[inline]
    pub fn pointer_count(&self, i: usize, n: usize) -> Result<(), ClaimError> {
        if n > MAX_POINTERS {
            return Err(self.err(
                format!("lines[{i}].diagnosis_pointers"),
                format!("a line takes at most {MAX_POINTERS} diagnosis pointers, got {n}"),
            ));
        }
        Ok(())
    }

    /// `lines[i].diagnosis_pointers[j]`: one of the claim's `diagnoses`, not
    /// among the line's `earlier` pointers.
    pub fn pointer(
        &self,
        i: usize,
        j: usize,
        n: Num,
        diagnoses: usize,
        earlier: &Pointers,
    ) -> Result<u8, ClaimError> {
        let path = || format!("lines[{i}].diagnosis_pointers[{j}]");
        let pointer = match n.integer() {
            Some(p) if p > diagnoses as i128 && p > 0 => {
                let noun = if diagnoses == 1 {
                    "diagnosis"
                } else {
                    "diagnoses"
                };
                return Err(self.err(
                    path(),
                    format!(
                        "diagnosis pointer {p} points past the {diagnoses} {noun} of the claim"
                    ),
                ));
            }
            Some(p) => u8::try_from(p).ok().filter(|p| *p >= 1),
            None => None,
        };
        let Some(pointer) = pointer else {
            return Err(self.err(
                path(),
                format!("diagnosis pointer must be an integer from 1 to {diagnoses}, got {n}"),
            ));
        };
        if earlier.contains(&pointer) {
            return Err(self.err(
                path(),
                format!("diagnosis pointer {pointer} is given twice"),
            ));
        }
        Ok(pointer)
    }
}

/// The packed key of a procedure code written the common way: five
/// characters, uppercase, no white space. `None` leaves the code to the general
/// rule, which says the same of these codes (tested) at twice the cost.
fn plain_procedure(given: &str) -> Option<CodeKey> {
    let b: [u8; 5] = given.as_bytes().try_into().ok()?;
    let [first, .., last] = b;
    let middle = b[1..4].iter().all(u8::is_ascii_digit);
    let shape = if first.is_ascii_digit() {
        last.is_ascii_digit() || matches!(last, b'F' | b'T' | b'U')
    } else {
        (b'A'..=b'V').contains(&first) && last.is_ascii_digit()
    };
    (middle && shape).then(|| CodeKey(u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], 0, 0, 0])))
}

/// The packed key of an ICD-10-CM code written the common way: uppercase, no
/// white space, with or without its dot. `None` leaves the code to the general
/// rule, which says the same of these codes (tested).
fn plain_diagnosis(code: &str) -> Option<CodeKey> {
    let upper_or_digit = |b: &u8| b.is_ascii_uppercase() || b.is_ascii_digit();
    let b = code.as_bytes();
    let (head, rest) = b.split_at_checked(3)?;
    let body = match rest {
        [b'.', after @ ..] if !after.is_empty() => after,
        _ => rest,
    };
    let plain = head[0].is_ascii_uppercase()
        && head[1].is_ascii_digit()
        && upper_or_digit(&head[2])
        && body.len() <= 4
        && body.iter().all(upper_or_digit);
    plain.then(|| {
        let mut packed = [0u8; 8];
        for (slot, &c) in packed.iter_mut().zip(head.iter().chain(body)) {
            *slot = c;
        }
        CodeKey(u64::from_be_bytes(packed))
    })
}

/// A line's pointers as given (`None` when absent), or, when it gives none
/// (absent or empty), every diagnosis, as on a paper claim left blank.
pub(super) fn or_all(given: Option<Pointers>, diagnoses: usize) -> Pointers {
    match given {
        Some(pointers) if !pointers.is_empty() => pointers,
        // At most 12 diagnoses (checked before), so they fit.
        _ => (1..=diagnoses)
            .filter_map(|p| u8::try_from(p).ok())
            .take(MAX_DIAGNOSES)
            .collect(),
    }
}

/// The last segment of a path, to name the field in a message.
fn leaf(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_is_str_trim() {
        let cases = [
            "", " ", "a", " a", "a ", "\ta\n", "\u{a0}x", "x\u{a0}", "\u{3000}", "ab c", "\u{7f}",
            "\u{1c}a", "é", " é ", "\u{85}",
        ];
        for s in cases {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }
    use crate::claims::read::{read_claims_str, InputFormat};
    use serde_json::{json, Value};

    fn base() -> Value {
        json!({
            "id": "CLM-1", "payer": "medicare",
            "patient": { "id": "PAT-1", "birth_date": "1957-06-30", "sex": "F" },
            "provider": { "npi": "1234567893", "taxonomy": "208VP0014X" },
            "place_of_service": "11",
            "diagnoses": ["M79.18", "M54.50"],
            "facts": { "symptom_duration_days": 120, "trigger_points_palpated": true },
            "lines": [{ "line": 1, "date_of_service": "2026-03-04", "procedure": "20553",
                        "modifiers": [], "units": 1, "diagnosis_pointers": [1],
                        "site": "cervical", "muscles": 3, "injections": 4, "charge": 182.5 }]
        })
    }

    /// JSON pointers into `base()` and the value to put there (`None` removes it).
    type Changes = Vec<(&'static str, Option<Value>)>;

    /// Sets (or with `None` removes) the value at a JSON pointer of `base()`.
    fn with(changes: &[(&str, Option<Value>)]) -> Value {
        let mut claim = base();
        for (pointer, value) in changes {
            let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
            match (claim.pointer_mut(parent), value) {
                (Some(Value::Object(map)), Some(v)) => {
                    map.insert(key.to_owned(), v.clone());
                }
                (Some(Value::Object(map)), None) => {
                    map.remove(key);
                }
                (Some(Value::Array(list)), Some(v)) => {
                    match key.parse::<usize>().ok().and_then(|i| list.get_mut(i)) {
                        Some(slot) => *slot = v.clone(),
                        None => list.push(v.clone()),
                    }
                }
                _ => panic!("bad pointer {pointer}"),
            }
        }
        claim
    }

    /// Reads `claim` as JSON Lines and as a JSON array (the typed and the
    /// `Value` parse paths) and insists they agree.
    fn check(claim: &Value) -> Result<Claim, ClaimError> {
        let mut jsonl = read_claims_str(&claim.to_string(), InputFormat::JsonLines);
        let array = read_claims_str(&format!("[{claim}]"), InputFormat::JsonArray);
        assert_eq!(jsonl, array, "formats disagree on {claim}");
        assert_eq!(jsonl.len(), 1);
        jsonl.remove(0)
    }

    #[test]
    fn base_claim_is_valid() {
        assert!(check(&base()).is_ok(), "{:?}", check(&base()));
    }

    #[test]
    fn invalid_claims_name_the_first_bad_field() {
        let thirteen: Vec<String> = (0..13).map(|i| format!("M79.1{}", i % 10)).collect();
        let line1 = base()["lines"][0].clone();
        let cases: Vec<(Changes, &str, &str)> = vec![
            (
                vec![("/lines/0/units", Some(json!(0)))],
                "lines[0].units",
                "units must be an integer of at least 1, got 0",
            ),
            (
                vec![("/lines/0/units", Some(json!(1.5)))],
                "lines[0].units",
                "units must be an integer of at least 1, got 1.5",
            ),
            (
                vec![("/lines/0/units", Some(json!(-1)))],
                "lines[0].units",
                "units must be an integer of at least 1, got -1",
            ),
            (
                vec![("/lines/0/units", Some(json!(5_000_000_000u64)))],
                "lines[0].units",
                "units must be at most 4294967295, got 5000000000",
            ),
            (
                vec![("/lines/0/date_of_service", Some(json!("2026-02-30")))],
                "lines[0].date_of_service",
                "date_of_service `2026-02-30` is not a valid YYYY-MM-DD date",
            ),
            (
                vec![("/lines/0/date_of_service", None)],
                "lines[0].date_of_service",
                "date_of_service is required",
            ),
            (
                vec![("/lines/0/diagnosis_pointers", Some(json!([3])))],
                "lines[0].diagnosis_pointers[0]",
                "diagnosis pointer 3 points past the 2 diagnoses of the claim",
            ),
            (
                vec![(
                    "/lines/1",
                    Some(
                        json!({"date_of_service": "2026-03-04", "procedure": "20552", "diagnosis_pointers": [2, 3]}),
                    ),
                )],
                "lines[1].diagnosis_pointers[1]",
                "diagnosis pointer 3 points past the 2 diagnoses of the claim",
            ),
            (
                vec![("/lines/0/diagnosis_pointers", Some(json!([0])))],
                "lines[0].diagnosis_pointers[0]",
                "diagnosis pointer must be an integer from 1 to 2, got 0",
            ),
            (
                vec![("/lines/0/diagnosis_pointers", Some(json!([1, 1])))],
                "lines[0].diagnosis_pointers[1]",
                "diagnosis pointer 1 is given twice",
            ),
            (
                vec![
                    (
                        "/diagnoses",
                        Some(json!(["A00", "A01", "A02", "A03", "A04"])),
                    ),
                    ("/lines/0/diagnosis_pointers", Some(json!([1, 2, 3, 4, 5]))),
                ],
                "lines[0].diagnosis_pointers",
                "a line takes at most 4 diagnosis pointers, got 5",
            ),
            (
                vec![("/diagnoses", Some(json!(thirteen)))],
                "diagnoses",
                "a claim needs 1 to 12 diagnoses, got 13",
            ),
            (
                vec![("/diagnoses", Some(json!([])))],
                "diagnoses",
                "a claim needs 1 to 12 diagnoses, got 0",
            ),
            (
                vec![("/diagnoses", None)],
                "diagnoses",
                "diagnoses is required",
            ),
            (
                vec![("/diagnoses/1", Some(json!("M5")))],
                "diagnoses[1]",
                "diagnosis `M5` is not an ICD-10-CM code",
            ),
            (
                vec![("/diagnoses/0", Some(json!("M79.18901")))],
                "diagnoses[0]",
                "diagnosis `M79.18901` is not an ICD-10-CM code",
            ),
            (
                vec![("/provider/npi", Some(json!("1234567890")))],
                "provider.npi",
                "npi `1234567890` fails the NPI check digit: the last digit should be 3",
            ),
            (
                vec![("/provider/npi", Some(json!("123456789")))],
                "provider.npi",
                "npi must be 10 digits, got `123456789`",
            ),
            (
                vec![(
                    "/lines/0/modifiers",
                    Some(json!(["25", "59", "RT", "XS", "76"])),
                )],
                "lines[0].modifiers",
                "a line takes at most 4 modifiers, got 5",
            ),
            (
                vec![("/lines/0/modifiers", Some(json!(["RT", "LEFT"])))],
                "lines[0].modifiers[1]",
                "modifier `LEFT` must be 2 letters or digits",
            ),
            (
                vec![("/lines/0/procedure", Some(json!("2055")))],
                "lines[0].procedure",
                "procedure `2055` is not a CPT or HCPCS code",
            ),
            (
                vec![("/lines/0/procedure", Some(json!("W1234")))],
                "lines[0].procedure",
                "procedure `W1234` is not a CPT or HCPCS code",
            ),
            (
                vec![("/lines/0/procedure", Some(json!("0213X")))],
                "lines[0].procedure",
                "procedure `0213X` is not a CPT or HCPCS code",
            ),
            (vec![("/lines", None)], "lines", "lines is required"),
            (
                vec![("/lines", Some(json!([])))],
                "lines",
                "a claim needs at least 1 line",
            ),
            (
                vec![("/facts/relief_percent", Some(json!({"value": 50})))],
                "facts.relief_percent",
                "fact `relief_percent` must be a bool, number, string or date, got an object",
            ),
            (
                vec![("/facts/x", Some(json!([1])))],
                "facts.x",
                "fact `x` must be a bool, number, string or date, got an array",
            ),
            (
                vec![("/facts/x", Some(Value::Null))],
                "facts.x",
                "fact `x` must be a bool, number, string or date, got null",
            ),
            (
                vec![("/facts/injury_date", Some(json!("2026-02-30")))],
                "facts.injury_date",
                "fact `injury_date` value `2026-02-30` is not a valid YYYY-MM-DD date",
            ),
            (vec![("/patient/id", None)], "patient.id", "id is required"),
            (
                vec![("/patient/id", Some(json!("  ")))],
                "patient.id",
                "id must not be empty",
            ),
            (vec![("/patient", None)], "patient", "patient is required"),
            (
                vec![("/patient/sex", Some(json!("X")))],
                "patient.sex",
                "sex must be F, M or U, got `X`",
            ),
            (
                vec![("/patient/birth_date", Some(json!("1957-6-30")))],
                "patient.birth_date",
                "birth_date `1957-6-30` is not a valid YYYY-MM-DD date",
            ),
            (
                vec![("/payer", Some(json!("")))],
                "payer",
                "payer must not be empty",
            ),
            (
                vec![("/place_of_service", Some(json!("1")))],
                "place_of_service",
                "place_of_service must be 2 digits, got `1`",
            ),
            (
                vec![("/lines/1", Some(line1.clone()))],
                "lines[1].line",
                "line number 1 is already used by lines[0]",
            ),
            // The default number (position 2) collides with an explicit 2.
            (
                vec![
                    ("/lines/0/line", Some(json!(2))),
                    (
                        "/lines/1",
                        Some(json!({"date_of_service": "2026-03-04", "procedure": "20552"})),
                    ),
                ],
                "lines[1].line",
                "line number 2 is already used by lines[0]",
            ),
            (
                vec![("/lines/0/line", Some(json!(0)))],
                "lines[0].line",
                "line must be an integer of at least 1, got 0",
            ),
            (
                vec![("/lines/0/muscles", Some(json!(-1)))],
                "lines[0].muscles",
                "muscles must be a non-negative integer, got -1",
            ),
            (
                vec![("/lines/0/injections", Some(json!(2.5)))],
                "lines[0].injections",
                "injections must be a non-negative integer, got 2.5",
            ),
            (
                vec![("/lines/0/charge", Some(json!(-5)))],
                "lines[0].charge",
                "charge must be a non-negative number, got -5",
            ),
            // First bad field in contract order wins: payer comes before lines.
            (
                vec![
                    ("/lines/0/units", Some(json!(0))),
                    ("/payer", Some(json!(" "))),
                ],
                "payer",
                "payer must not be empty",
            ),
            // Within a line, the line number comes before the date.
            (
                vec![(
                    "/lines/1",
                    Some(json!({"line": 1, "date_of_service": "bad", "procedure": "20552"})),
                )],
                "lines[1].line",
                "line number 1 is already used by lines[0]",
            ),
            (
                vec![("/frequency_code", Some(json!("5")))],
                "frequency_code",
                "frequency_code must be 1 (original), 7 (replacement) or 8 (void), got `5`",
            ),
            (
                vec![("/frequency_code", Some(json!(true)))],
                "frequency_code",
                "invalid type: boolean `true`, expected a string or a number",
            ),
            (
                vec![("/replaces", Some(json!("CLM-0")))],
                "replaces",
                "replaces needs frequency_code 7 (replacement) or 8 (void)",
            ),
            (
                vec![
                    ("/frequency_code", Some(json!("1"))),
                    ("/replaces", Some(json!("CLM-0"))),
                ],
                "replaces",
                "replaces needs frequency_code 7 (replacement) or 8 (void)",
            ),
            (
                vec![
                    ("/frequency_code", Some(json!(8))),
                    ("/replaces", Some(json!(" "))),
                ],
                "replaces",
                "replaces must not be empty",
            ),
        ];
        assert!(cases.len() >= 15);
        for (changes, path, message) in cases {
            let claim = with(&changes);
            let Err(err) = check(&claim) else {
                panic!("accepted {changes:?}")
            };
            assert_eq!(err.path.as_deref(), Some(path), "{changes:?}: {err}");
            assert!(
                err.message.starts_with(message),
                "{changes:?}: {:?} does not start with {message:?}",
                err.message
            );
            assert_eq!(err.id.as_deref(), Some("CLM-1"), "{changes:?}");
            assert_eq!(err.kind, crate::claims::ErrorKind::InvalidClaim);
            assert_eq!(err.record, 1);
        }
    }

    #[test]
    fn missing_id_has_no_id_and_path_id() {
        for changes in [&[("/id", None)][..], &[("/id", Some(json!("")))][..]] {
            let Err(err) = check(&with(changes)) else {
                panic!("accepted")
            };
            assert_eq!(
                (err.id.as_deref(), err.path.as_deref()),
                (None, Some("id")),
                "{changes:?}"
            );
        }
        let Err(err) = check(&with(&[("/id", Some(json!(42)))])) else {
            panic!("accepted")
        };
        assert_eq!((err.id.as_deref(), err.path.as_deref()), (None, Some("id")));
        assert_eq!(err.message, "invalid type: integer `42`, expected a string");
    }

    #[test]
    fn objects_must_be_objects() {
        let Err(err) = check(&with(&[("/patient", Some(json!(["PAT-1"])))])) else {
            panic!("accepted")
        };
        assert_eq!(err.path.as_deref(), Some("patient"));
        assert_eq!(
            err.message,
            "invalid type: sequence, expected a patient object"
        );
        let Err(err) = check(&with(&[("/lines/0", Some(json!("20553")))])) else {
            panic!("accepted")
        };
        assert_eq!(err.path.as_deref(), Some("lines[0]"));
    }

    #[test]
    fn lenient_but_valid_inputs_are_accepted() {
        let cases: Vec<Changes> = vec![
            vec![("/lines/0/units", Some(json!(2.0)))],
            vec![("/patient/sex", Some(json!("m")))],
            vec![("/lines/0/procedure", Some(json!("0213T")))],
            vec![("/lines/0/procedure", Some(json!("j3301")))],
            vec![("/lines/0/procedure", Some(json!("0001U")))],
            vec![("/lines/0/procedure", Some(json!("3008F")))],
            vec![("/lines/0/procedure", Some(json!("A0425")))],
            vec![("/diagnoses/0", Some(json!("u07.1")))],
            vec![("/diagnoses/0", Some(json!("S52.521A")))],
            vec![("/diagnoses/0", Some(json!("M79")))],
            vec![("/place_of_service", Some(json!("02")))],
            vec![("/lines/0/modifiers", Some(json!(["59", "xs", "RT", "25"])))],
            vec![("/lines/0/diagnosis_pointers", Some(json!([])))],
            vec![("/lines/0/muscles", Some(json!(0)))],
            vec![("/lines/0/charge", Some(json!(0)))],
            vec![
                ("/unknown_field", Some(json!({"anything": [1, 2]}))),
                ("/lines/0/extra", Some(json!(true))),
            ],
            vec![("/provider/npi", None)],
            vec![
                ("/provider", None),
                ("/facts", None),
                ("/place_of_service", None),
            ],
            vec![("/facts/note", Some(json!("2026-03")))],
        ];
        for changes in cases {
            let result = check(&with(&changes));
            assert!(result.is_ok(), "{changes:?}: {result:?}");
        }
        let Ok(claim) = check(&with(&[
            ("/lines/0/modifiers", Some(json!(["xs"]))),
            ("/patient/sex", Some(json!("m"))),
            ("/facts/injury_date", Some(json!("2026-01-15"))),
            ("/facts/note", Some(json!("2026-1-15"))),
            ("/lines/0/diagnosis_pointers", Some(json!([]))),
        ])) else {
            panic!("rejected")
        };
        assert_eq!(claim.lines[0].modifiers[..], ["XS"]);
        assert_eq!(claim.patient.sex, Some(Sex::M));
        assert_eq!(claim.lines[0].diagnosis_pointers[..], [1, 2]);
        assert_eq!(
            claim.facts.get("injury_date"),
            Some(&FactValue::Date(
                NaiveDate::from_ymd_opt(2026, 1, 15).unwrap_or_default()
            ))
        );
        assert_eq!(
            claim.facts.get("note"),
            Some(&FactValue::Text("2026-1-15".into()))
        );
    }

    #[test]
    fn repeated_fact_names_are_refused() {
        let text = base().to_string().replace(
            r#""trigger_points_palpated":true"#,
            r#""trigger_points_palpated":true,"trigger_points_palpated":false"#,
        );
        let results = read_claims_str(&text, InputFormat::JsonLines);
        let Some(Err(err)) = results.first() else {
            panic!("accepted")
        };
        assert_eq!(err.path.as_deref(), Some("facts.trigger_points_palpated"));
        assert_eq!(
            err.message,
            "fact `trigger_points_palpated` is given more than once"
        );
    }

    /// The Luhn check digit as the NPI standard states it, digit by digit.
    fn luhn_reference(body: &str) -> Option<u8> {
        let mut sum = 24;
        for (i, b) in body.as_bytes().iter().rev().enumerate() {
            let d = u32::from(b.checked_sub(b'0').filter(|d| *d <= 9)?);
            sum += if i % 2 == 0 {
                (d * 2) / 10 + (d * 2) % 10
            } else {
                d
            };
        }
        Some(b'0' + ((10 - sum % 10) % 10) as u8)
    }

    #[test]
    fn npi_check_digit_is_luhn() {
        // A spread of 9-digit bodies, every digit at every position among them.
        let mut body = 123_456_789u64;
        let mut seen = [[false; 10]; 9];
        for _ in 0..20_000 {
            body = (body * 48_271 + 12_345) % 1_000_000_007 % 1_000_000_000;
            let text = format!("{body:09}");
            for (at, b) in text.bytes().enumerate() {
                seen[at][usize::from(b - b'0')] = true;
            }
            assert_eq!(npi_check_digit(&text), luhn_reference(&text), "{text}");
        }
        assert!(seen.iter().flatten().all(|s| *s));
        for text in ["000000000", "999999999", "12345678x", "1234"] {
            assert_eq!(
                npi_check_digit(text),
                luhn_reference(text).filter(|_| text.len() == 9),
                "{text}"
            );
        }
    }

    #[test]
    fn npi_luhn_check() {
        for good in [
            "1234567893",
            "1999999992",
            "1000000004",
            "9876543213",
            "1111111112",
        ] {
            assert!(npi_is_valid(good), "{good}");
        }
        for bad in [
            "1234567890",
            "1234567894",
            "1999999991",
            "123456789",
            "12345678930",
            "123456789X",
            "",
            "１234567893",
        ] {
            assert!(!npi_is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn code_shapes() {
        for code in [
            "M79.18", "M7918", "m79.18", "A00", "U07.1", "S52.521A", "Z99.89",
        ] {
            assert!(is_icd10cm_shape(code), "{code}");
        }
        for code in [
            "M7",
            "7M9",
            "MM9",
            "M79.",
            "M7.918",
            "M79.18901",
            "M79181234",
            "M79 1",
            ".M79",
            "M79..1",
        ] {
            assert!(!is_icd10cm_shape(code), "{code}");
        }
        for code in [
            "20552", "00100", "0213T", "3008F", "0001U", "J3301", "A0425", "V2020", "g0283",
        ] {
            assert!(is_procedure_shape(code), "{code}");
        }
        for code in [
            "2055", "205520", "W1234", "J330", "J33011", "0213X", "T123F", "2055.", "ABCDE",
            "J 301",
        ] {
            assert!(!is_procedure_shape(code), "{code}");
        }
    }

    /// Rules whose errors are dropped: only what they accept is compared.
    const TEST_CX: Cx<'static> = Cx {
        id: None,
        record: 1,
    };

    /// What the general rule makes of a code: trimmed, packed, and only when
    /// it has `shape`.
    fn packed_if(given: &str, shape: fn(&str) -> bool) -> Option<CodeKey> {
        let trimmed = trim(given);
        CodeKey::parse(trimmed).filter(|_| shape(trimmed))
    }

    #[test]
    fn plain_procedures_read_as_the_general_rule_reads_them() {
        let cx = TEST_CX;
        let general =
            |given: &str| packed_if(given, is_procedure_shape).map(|key| (key, upper(trim(given))));
        let mut plain = 0;
        // Every code of five characters from an alphabet of the characters
        // each position's rule tells apart (digits, the letters A-V and the
        // F, T, U endings, a letter past V, lowercase, a dot, a space).
        let alphabet = b"09AFTUVZa. ";
        let mut code = [0u8; 5];
        for n in 0..alphabet.len().pow(5) {
            let mut rest = n;
            for slot in &mut code {
                *slot = alphabet[rest % alphabet.len()];
                rest /= alphabet.len();
            }
            let code = String::from_utf8(code.to_vec()).unwrap_or_default();
            plain += usize::from(plain_procedure(&code).is_some());
            assert_eq!(cx.procedure(0, &code).ok(), general(&code), "{code}");
        }
        for code in [
            "2055", "205521", " 20552", "20552 ", "", "J3301", "j3301", "0213T",
        ] {
            assert_eq!(cx.procedure(0, code).ok(), general(code), "{code}");
        }
        assert!(plain > 100, "{plain} codes on the plain path");
    }

    #[test]
    fn plain_diagnoses_read_as_the_general_rule_reads_them() {
        let cx = TEST_CX;
        let general = |given: &str| packed_if(given, is_icd10cm_shape);
        let alphabet = ["M", "m", "7", "9", ".", "A", " ", "-"];
        let mut plain = 0;
        // Codes of up to 8 characters from the alphabet, first three fixed
        // in turn to shapes that pass and fail.
        for head in ["M79", "m79", "M7A", "U07", "7M9", "MM9", "M7.", "M7"] {
            let mut tails = vec![String::new()];
            for _ in 0..5 {
                let longer: Vec<String> = tails
                    .iter()
                    .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                    .collect();
                tails.extend(longer.into_iter().filter(|t| t.len() <= 5));
                tails.sort();
                tails.dedup();
            }
            for tail in &tails {
                let code = format!("{head}{tail}");
                plain += usize::from(plain_diagnosis(&code).is_some());
                assert_eq!(cx.diagnosis(0, &code).ok(), general(&code), "{code}");
            }
        }
        assert!(plain > 100, "{plain} codes on the plain path");
    }

    #[test]
    fn dates_are_strict_iso() {
        assert_eq!(
            parse_date("2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        for bad in [
            "2026-02-30",
            "2025-02-29",
            "2026-3-04",
            "26-03-04",
            "2026/03/04",
            "2026-03-04T00:00",
            "+2026-03-04",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        // Every month and day number, around leap years and the ends of the range.
        for year in [0, 1, 1900, 1999, 2000, 2023, 2024, 2100, 9999] {
            for month in 0..=13 {
                for day in 0..=32 {
                    let text = format!("{year:04}-{month:02}-{day:02}");
                    assert_eq!(
                        parse_date(&text),
                        NaiveDate::from_ymd_opt(year, month, day),
                        "{text}"
                    );
                }
            }
        }
        // A byte other than a digit (or the dashes) anywhere is refused: the
        // bytes either side of the digits and the dash, and those a dash or
        // a digit differs from in one bit.
        for at in 0..10 {
            let near =
                (0..8).flat_map(|bit| [b'-' ^ (1 << bit), b'0' ^ (1 << bit), b'9' ^ (1 << bit)]);
            for c in [b'/', b':', b'a', b' ', b'-', b'0', 0, 0x7f, 0x80, 0xff]
                .into_iter()
                .chain(near)
            {
                let mut bytes = *b"2024-02-29";
                bytes[at] = c;
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let digit_at_digit = c.is_ascii_digit() && at != 4 && at != 7;
                let dash_at_dash = c == b'-' && (at == 4 || at == 7);
                if !(digit_at_digit || dash_at_dash) {
                    assert_eq!(parse_date(&text), None, "{text:?}");
                }
            }
        }
    }

    /// The date reader the word-at-once one replaced: a byte at a time.
    fn parse_date_bytewise(text: &str) -> Option<NaiveDate> {
        let b = text.as_bytes();
        let shaped = b.len() == 10
            && b.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                _ => c.is_ascii_digit(),
            });
        if !shaped {
            return None;
        }
        let number = |range: std::ops::Range<usize>| {
            b[range]
                .iter()
                .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
        };
        NaiveDate::from_ymd_opt(number(0..4) as i32, number(5..7), number(8..10))
    }

    proptest::proptest! {
        /// Dates and near misses of every length read as a byte at a time.
        #[test]
        fn dates_read_as_a_byte_at_a_time(text in "[0-9]{0,4}[-0-9/. ]?[0-9]{0,2}[-0-9/ ]?[0-9]{0,3}") {
            proptest::prop_assert_eq!(parse_date(&text), parse_date_bytewise(&text), "{:?}", text);
        }
    }
}

#[cfg(test)]
mod frequency_tests {
    use crate::claims::model::Frequency;
    use crate::claims::read::{read_claims_str, InputFormat};

    #[test]
    fn frequency_codes_and_replaces_are_read_in_every_format() {
        let base = r#"{"id":"C2","payer":"p","patient":{"id":"P"},"diagnoses":["M79.18"],"lines":[{"date_of_service":"2025-01-01","procedure":"20552"}]"#;
        for (extra, frequency, replaces) in [
            ("", Frequency::Original, None),
            (r#","frequency_code":"1""#, Frequency::Original, None),
            (r#","frequency_code":7"#, Frequency::Replacement, None),
            (
                r#","frequency_code":"8","replaces":"C1""#,
                Frequency::Void,
                Some("C1"),
            ),
        ] {
            let text = format!("{base}{extra}}}");
            let claim = read_claims_str(&text, InputFormat::JsonLines)
                .remove(0)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(claim.frequency, frequency, "{text}");
            assert_eq!(claim.replaces.as_deref(), replaces);
            let target = claim.target();
            assert_eq!(
                target,
                match frequency {
                    Frequency::Original => None,
                    _ => Some(replaces.unwrap_or("C2")),
                }
            );
            // Written back only when not an original, and read back the same.
            let json = claim.to_json().to_string();
            assert_eq!(json.contains("frequency_code"), !frequency.is_original());
            let again = read_claims_str(&json, InputFormat::JsonLines).remove(0);
            assert_eq!(again.as_ref().ok(), Some(&claim));
        }
        let yaml = "- {id: C2, payer: p, patient: {id: P}, diagnoses: [M79.18], frequency_code: 7, replaces: C1, lines: [{date_of_service: 2025-01-01, procedure: '20552'}]}\n";
        let claim = read_claims_str(yaml, InputFormat::Yaml)
            .remove(0)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(claim.frequency, Frequency::Replacement);
    }
}
