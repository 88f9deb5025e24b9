//! The fast path of the JSON Lines reader: one claim read straight from the
//! line's bytes into a [`Claim`], every string borrowed from the line until
//! it is kept, every field checked by the contract's rule as it is read.
//!
//! It reads the shape clients send (the contract's fields, in any order but
//! with the diagnoses before the lines, no escapes in strings, plain numbers)
//! and gives up, returning `None`, at anything else: an escape, a duplicate
//! field, a negative number, a value of an unexpected type, malformed JSON, a
//! field that breaks a rule. The caller then reads the line with serde_json
//! and [`validate`](super::validate::validate), which builds the same claim or
//! names the first error in contract order. So the one invariant is: **when
//! this returns `Some`, the claim equals what serde_json and validation would
//! have built from the same line** (tested against them on generated and
//! mutated lines). It never has to produce an error message, and it holds no
//! rule of its own: each is a method of [`Cx`], which validation calls too.
//!
//! Why not serde: serde_json spent about 20,000 instructions on a 560-byte
//! claim (allocating every string, validating UTF-8 string by string, matching
//! field names through generic visitors); this reads the same line in a few
//! thousand. Why straight into the claim: an intermediate raw claim cost a
//! second walk over every field, five lists and the moves of 300-byte
//! structures, about a fifth of reading a claim.

mod claim;
mod cursor;
#[cfg(test)]
mod cursor_tests;
mod keys;
mod strings;
#[cfg(test)]
mod tests;

use super::model::Claim;
use super::validate::Cx;
use cursor::Scanner;
use keys::PATIENT_FIELDS;

/// Reads one JSON Lines record, or `None` to leave it to serde_json and
/// validation.
#[cfg(test)]
pub(super) fn scan_claim(line: &[u8]) -> Option<Claim> {
    let mut claim = super::slot::empty_claim();
    scan_claim_into(line, &mut claim)?;
    Some(claim)
}

/// Reads one JSON Lines record into `claim`, overwriting every field (its
/// lines keep their room), or `None` to leave it to serde_json and
/// validation; `claim` then holds any mix of old and new fields.
pub(super) fn scan_claim_into(line: &[u8], claim: &mut Claim) -> Option<()> {
    // One UTF-8 check of the whole line makes every slice between two quotes a
    // valid `&str`; `simdutf8` checks 32 bytes at a time where the processor
    // can (the standard library's check, a word at a time, was a tenth of
    // reading a claim).
    let text = simdutf8::basic::from_utf8(line).ok()?;
    let mut s = Scanner::new(text);
    // Errors are dropped (the slow path names them), so they need neither the
    // claim's id nor its position.
    let cx = Cx {
        id: None,
        record: 0,
    };
    s.claim(&cx, claim)
}

/// The patient id of one JSON Lines record, found without reading the rest of
/// the claim: what parallel evaluation shards by. `None` when the line is not
/// of the plain shape the scanner reads; the caller then asks serde_json.
pub(super) fn scan_patient_id(line: &[u8]) -> Option<&str> {
    // The patient comes early in a claim as clients write it: the start of the
    // line is checked and read first (the reader thread's share of the work,
    // which `--jobs` cannot spread). An id found there is the one the whole
    // line holds, since it ends within the start; else the whole line is read.
    let start = line.get(..PATIENT_WITHIN).unwrap_or(line);
    let text = match simdutf8::compat::from_utf8(start) {
        Ok(text) => text,
        // Invalid, or a character the cut went through: what is before it.
        Err(e) => std::str::from_utf8(start.get(..e.valid_up_to())?).ok()?,
    };
    if let Some(id) = patient_id_in(text) {
        return Some(id);
    }
    if start.len() == line.len() {
        return None;
    }
    patient_id_in(simdutf8::basic::from_utf8(line).ok()?)
}

/// Bytes at the start of a line where [`scan_patient_id`] looks first.
const PATIENT_WITHIN: usize = 256;

/// The patient id of the claim that `text` is, or begins: read up to the id
/// and no further.
fn patient_id_in(text: &str) -> Option<&str> {
    let mut s = Scanner::new(text);
    let mut found = None;
    s.object(|s, key| {
        if key != "patient" {
            return s.skip_value(1);
        }
        s.fields(&PATIENT_FIELDS, 2, |s, at| {
            let value = s.opt_str(Some)?;
            if at == 0 {
                found = value;
                // Stop here: the id is all that is needed.
                return None;
            }
            Some(())
        });
        // Stop here too. A second `patient` field, which serde_json refuses,
        // would make the claim an error record on whichever worker gets it.
        None
    });
    found
}
