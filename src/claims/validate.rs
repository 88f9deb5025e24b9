//! Checking a parsed claim against `CLAIMS.md` and building the [`Claim`].
//!
//! The rules are the methods of [`Cx`], one per field. [`validate`] applies
//! them in contract order to a claim serde read, and the first bad field
//! rejects the claim, with its path (`lines[1].diagnosis_pointers[0]`, 0-based
//! indexes) and a message that quotes the bad value. The JSON Lines scanner
//! (`claims::scan`) and the 837P mapper (`x12::map`) apply the same methods
//! as they read each field and leave a claim that breaks one to `validate`,
//! so every message comes from here. The rules across fields come last,
//! in one method ([`Cx::across`]) that `validate` and the 837P fast path
//! both end with. The shape checks are public so that other parts of the
//! engine (policy code lists, fixtures) use the same definitions.

use std::borrow::Cow;

use chrono::NaiveDate;

use super::error::ClaimError;
use super::model::{
    Claim, Diagnoses, FactValue, Facts, Frequency, Line, Modifiers, Patient, Pointers, Provider,
    Sex, Text,
};
use super::read::{Code, Num, Obj, RawClaim, RawFact, RawFacts, RawLine};
use crate::codes::CodeKey;

#[cfg(test)]
mod frequency_tests;
mod rules;
#[cfg(test)]
mod shape_tests;
mod shapes;
#[cfg(test)]
mod tests;

pub(crate) use rules::Cx;
pub use shapes::{
    is_icd10cm_shape, is_procedure_shape, parse_date, MAX_DIAGNOSES, MAX_LINES, MAX_MODIFIERS,
    MAX_POINTERS,
};

/// Checks a parsed claim and builds it; `record` is its 1-based input position.
///
/// This is the order errors are reported in. Each rule is a method of [`Cx`],
/// which the scanner's fast path (`claims::scan`) calls too as it reads a
/// claim straight into a [`Claim`]: the rules have this one home.
pub(crate) fn validate(raw: RawClaim<'_>, record: usize) -> Result<Claim, ClaimError> {
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
    let (frequency, replaces) = cx.across(
        patient.birth_date,
        &diagnoses,
        &lines,
        raw.frequency_code.as_ref().map(|c| c.0.as_str()),
        raw.replaces.as_deref(),
    )?;
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
pub(crate) fn text(given: &str) -> Text {
    Text::from(given)
}

/// A code's text uppercased, inline when short.
fn upper(given: &str) -> Text {
    let mut text = Text::from(given);
    text.make_ascii_uppercase();
    text
}

/// A line's pointers as given (`None` when absent), or, when it gives none
/// (absent or empty), every diagnosis, as on a paper claim left blank.
pub(crate) fn or_all(given: Option<Pointers>, diagnoses: usize) -> Pointers {
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
