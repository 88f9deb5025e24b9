//! A place a claim is read into again and again.
//!
//! A [`Claim`] is some 340 bytes and owns its lines' `Vec`. Returned by value,
//! each claim was copied four times on its way from the scanner to the
//! evaluator (the scanner's result, the line splitter's closure, the
//! iterator's item, the lookahead's queue) and its lines were allocated and
//! freed again for every claim. A slot is filled where it lies: the scanner
//! writes each field once, into the claim the slot kept from the record
//! before, whose lines keep their room.

use super::error::ClaimError;
use super::model::{Claim, Diagnoses, Facts, Frequency, Line, Modifiers, Patient, Pointers, Text};
use super::read::parse_json_line_into;

/// One record read in place: a claim, or the error that rejects it.
///
/// The claim is kept when an error is set, only for its room: it is not the
/// record's, and [`ClaimSlot::get`] does not show it.
#[derive(Debug)]
pub struct ClaimSlot {
    claim: Claim,
    error: Option<ClaimError>,
}

impl Default for ClaimSlot {
    fn default() -> Self {
        ClaimSlot::new()
    }
}

impl ClaimSlot {
    /// An empty slot: a claim with no fields and no lines.
    pub fn new() -> ClaimSlot {
        ClaimSlot {
            claim: empty_claim(),
            error: None,
        }
    }

    /// The record: the claim read, or why it was rejected.
    #[inline]
    pub fn get(&self) -> Result<&Claim, &ClaimError> {
        match &self.error {
            None => Ok(&self.claim),
            Some(error) => Err(error),
        }
    }

    /// Puts a record read elsewhere in the slot (a claim moves in; its room
    /// replaces the slot's).
    pub fn set(&mut self, read: Result<Claim, ClaimError>) {
        match read {
            Ok(claim) => {
                self.claim = claim;
                self.error = None;
            }
            Err(error) => self.error = Some(error),
        }
    }

    /// Reads one JSON Lines record (`record`: its 1-based position in the
    /// input) into the slot, as [`parse_json_line`] would return it.
    ///
    /// [`parse_json_line`]: super::read::parse_json_line
    #[inline]
    pub fn read_json_line(&mut self, line: &[u8], record: usize) {
        if let Err(error) = parse_json_line_into(line, record, self.claim_to_fill()) {
            self.reject(error);
        }
    }

    /// The claim to fill in place, marked as the record; what it held before
    /// is whatever the last record left, to be overwritten field by field.
    #[inline]
    pub(super) fn claim_to_fill(&mut self) -> &mut Claim {
        self.error = None;
        &mut self.claim
    }

    /// Marks the record as rejected by `error`.
    pub(super) fn reject(&mut self, error: ClaimError) {
        self.error = Some(error);
    }
}

/// A claim with no fields set and no lines: the starting content of a slot.
pub(super) fn empty_claim() -> Claim {
    Claim {
        id: Text::default(),
        payer: Text::default(),
        patient: Patient {
            id: Text::default(),
            birth_date: None,
            sex: None,
        },
        provider: None,
        place_of_service: None,
        diagnoses: Diagnoses::new(),
        facts: Facts::default(),
        lines: Vec::new(),
        frequency: Frequency::Original,
        replaces: None,
    }
}

/// A line with no fields set: the room a slot's lines grow by, each to be
/// overwritten field by field.
pub(crate) fn blank_line() -> Line {
    Line {
        line: 0,
        date_of_service: chrono::NaiveDate::default(),
        procedure: crate::codes::CodeKey::default(),
        procedure_text: Text::default(),
        modifiers: Modifiers::new(),
        units: 0,
        diagnosis_pointers: Pointers::new(),
        site: None,
        muscles: None,
        injections: None,
        charge: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(record: usize) -> ClaimError {
        ClaimError::invalid(Some("C".into()), None, "bad", record)
    }

    #[test]
    fn a_slot_shows_the_last_record_set() {
        let mut slot = ClaimSlot::new();
        assert_eq!(slot.get(), Ok(&empty_claim()));
        slot.set(Err(error(1)));
        assert_eq!(slot.get(), Err(&error(1)));
        let mut claim = empty_claim();
        claim.id = Text::from("C-2");
        slot.set(Ok(claim.clone()));
        assert_eq!(slot.get(), Ok(&claim));
        slot.reject(error(3));
        assert_eq!(slot.get(), Err(&error(3)));
        // Filling again makes the claim the record once more.
        slot.claim_to_fill().id = Text::from("C-4");
        assert_eq!(slot.get().map(|c| c.id.as_str()), Ok("C-4"));
    }
}
