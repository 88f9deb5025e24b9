//! The claim read by the scanner: the contract's objects and fields, each
//! checked by the contract's rule as it is read, straight into a [`Claim`].

use std::borrow::Cow;

use chrono::NaiveDate;

use super::cursor::Scanner;
use super::keys::{Key, CLAIM_FIELDS, LINE_FIELDS, PATIENT_FIELDS, PROVIDER_FIELDS};
use crate::claims::model::{
    Claim, Diagnoses, FactValue, Facts, Frequency, Line, Modifiers, Patient, Pointers, Provider,
    Text,
};
use crate::claims::read::{Num, RawFact};
use crate::claims::slot::blank_line;
use crate::claims::validate::{or_all, text, Cx, MAX_LINES};

impl<'a> Scanner<'a> {
    /// The claim, each field checked by the contract's rule as it is read,
    /// into `out`; `None` at anything the scanner does not read or any rule
    /// that fails. The line must end with it (white space aside). The
    /// diagnoses and lines are read straight into `out`, the lines into the
    /// room the last claim left; the other fields are assigned once at the
    /// end, when every rule has passed.
    pub(super) fn claim(&mut self, cx: &Cx<'_>, out: &mut Claim) -> Option<()> {
        let (mut id, mut payer, mut patient, mut provider, mut place_of_service) =
            (None, None, None, None, None);
        let (mut facts, mut frequency, mut replaces) = (None, None, None);
        let (mut diagnoses, mut lines) = (None, None);
        let (out_diagnoses, out_lines) = (&mut out.diagnoses, &mut out.lines);
        // The facts go into the room the last claim's left.
        let mut room = std::mem::take(&mut out.facts).into_room();
        self.fields(&CLAIM_FIELDS, 1, |s, at| {
            match at {
                0 => id = s.opt_str(Some)?,
                1 => payer = s.opt_str(Some)?,
                2 => patient = s.opt(|s| s.patient(cx))?,
                3 => provider = s.opt(|s| s.provider(cx))?,
                4 => place_of_service = s.opt_str(|t| cx.place_of_service(t).ok())?,
                5 => diagnoses = s.opt(|s| s.diagnoses(cx, out_diagnoses))?,
                6 => facts = s.opt(|s| s.facts(cx, &mut room))?,
                // Pointers are checked against the diagnoses, so lines given
                // before them are left to serde_json (clients send them after).
                7 => {
                    diagnoses?;
                    let count = out_diagnoses.len();
                    lines = s.opt(|s| s.lines(cx, count, out_lines))?;
                }
                8 => frequency = s.opt(|s| s.frequency(cx))?,
                _ => replaces = s.opt_str(Some)?,
            }
            Some(())
        })?;
        self.skip_ws();
        if !self.rest.is_empty() {
            return None;
        }
        let ((), (), frequency) = (diagnoses?, lines?, frequency.unwrap_or_default());
        out.id = cx.required_text(id, "id").ok()?;
        out.payer = cx.required_text(payer, "payer").ok()?;
        let patient = patient?;
        cx.against_dates(patient.birth_date, out_diagnoses, out_lines)
            .ok()?;
        out.patient = patient;
        out.replaces = replaces
            .map(|r| cx.replaces(r, frequency))
            .transpose()
            .ok()?;
        out.provider = provider;
        out.place_of_service = place_of_service;
        out.facts = facts.unwrap_or_else(|| Facts::from_sorted(room));
        out.frequency = frequency;
        Some(())
    }

    /// An object whose known fields are all text (`patient`, `provider`): their
    /// values in the order of `names`.
    // Out of line: inlined into the claim's reader, its copies cost more
    // than the calls (about 130 instructions per claim).
    #[inline(never)]
    fn text_fields<const N: usize>(&mut self, keys: &[Key; N]) -> Option<[Option<&'a str>; N]> {
        let mut values = [None; N];
        self.fields(keys, 2, |s, at| {
            *values.get_mut(at as usize)? = s.opt_str(Some)?;
            Some(())
        })?;
        Some(values)
    }

    fn patient(&mut self, cx: &Cx<'_>) -> Option<Patient> {
        let [id, birth_date, sex] = self.text_fields(&PATIENT_FIELDS)?;
        cx.patient(id, birth_date, sex).ok()
    }

    fn provider(&mut self, cx: &Cx<'_>) -> Option<Provider> {
        let [npi, taxonomy] = self.text_fields(&PROVIDER_FIELDS)?;
        cx.provider(npi, taxonomy).ok()
    }

    /// The diagnoses, into `codes` (emptied first).
    fn diagnoses(&mut self, cx: &Cx<'_>, codes: &mut Diagnoses) -> Option<()> {
        codes.clear();
        self.items(|s| {
            let code = cx.diagnosis(codes.len(), s.str()?).ok()?;
            // More than the most a claim may have: the count's rule says so.
            codes.try_push(code).ok()
        })?;
        cx.diagnosis_count(codes.len()).ok()
    }

    /// The lines, into `lines`: each written over an old line where one is
    /// left (the room and contents the last claim left), the rest cut off.
    fn lines(&mut self, cx: &Cx<'_>, diagnoses: usize, lines: &mut Vec<Line>) -> Option<()> {
        // A line built aside and pushed was a 216-byte copy (a `memcpy` call);
        // filled where it lies, each field is stored once.
        let mut count = 0;
        // The lines of a claim nearly always share their date: the last date
        // read is kept with its text, and the same text is not read again.
        let mut last_date = None;
        self.items(|s| {
            // A line past the most a claim may have: the count's rule says so.
            if count >= MAX_LINES {
                return None;
            }
            if count == lines.len() {
                // Only while the slot's lines grow: claims have one to three.
                lines.push(blank_line());
            }
            let (earlier, rest) = lines.split_at_mut(count);
            let line = rest.first_mut()?;
            s.line(cx, count, diagnoses, earlier, line, &mut last_date)?;
            count += 1;
            Some(())
        })?;
        lines.truncate(count);
        cx.line_count(count).ok()
    }

    /// Line `i`, into `out` (every field overwritten); `earlier` are the lines
    /// before it, for unique numbers; `last_date` the last date of service
    /// read, with its text.
    fn line(
        &mut self,
        cx: &Cx<'_>,
        i: usize,
        diagnoses: usize,
        earlier: &[Line],
        out: &mut Line,
        last_date: &mut Option<(&'a str, NaiveDate)>,
    ) -> Option<()> {
        let (mut number, mut date, mut procedure, mut units) = (None, None, None, None);
        let (mut pointers, mut site, mut muscles, mut injections, mut charge) =
            (None, None, None, None, None);
        // Read straight into the line: absent or `null`, they stay empty.
        let modifiers = &mut out.modifiers;
        modifiers.clear();
        self.fields(&LINE_FIELDS, 3, |s, at| {
            match at {
                0 => number = s.opt(Self::number)?,
                1 => {
                    date = s.opt_str(|t| match *last_date {
                        Some((text, date)) if text == t => Some(date),
                        _ => {
                            let date = cx.date_of_service(i, t).ok()?;
                            *last_date = Some((t, date));
                            Some(date)
                        }
                    })?;
                }
                2 => procedure = s.opt_str(|t| cx.procedure(i, t).ok())?,
                3 => {
                    s.opt(|s| s.modifiers(cx, i, modifiers))?;
                }
                4 => units = s.opt(Self::number)?,
                5 => pointers = s.opt(|s| s.pointers(cx, i, diagnoses))?,
                6 => site = s.opt_str(|t| cx.site(i, t).ok())?,
                7 => muscles = s.opt(|s| cx.tally(i, "muscles", s.number()?).ok())?,
                8 => injections = s.opt(|s| cx.tally(i, "injections", s.number()?).ok())?,
                _ => charge = s.opt(|s| cx.charge(i, s.number()?).ok())?,
            }
            Some(())
        })?;
        let (procedure, procedure_text) = procedure?;
        out.line = cx.line_number(i, number, earlier).ok()?;
        out.date_of_service = date?;
        out.procedure = procedure;
        out.procedure_text = procedure_text;
        out.units = cx.units(i, units).ok()?;
        out.diagnosis_pointers = or_all(pointers, diagnoses);
        out.site = site;
        out.muscles = muscles;
        out.injections = injections;
        out.charge = charge;
        Some(())
    }

    /// Line `i`'s modifiers, into `modifiers` (empty).
    fn modifiers(&mut self, cx: &Cx<'_>, i: usize, modifiers: &mut Modifiers) -> Option<()> {
        self.items(|s| {
            let given = s.str()?;
            cx.modifier_count(i, modifiers.len() + 1).ok()?;
            let modifier = cx.modifier(i, modifiers.len(), given).ok()?;
            modifiers.try_push(modifier).ok()
        })
    }

    fn pointers(&mut self, cx: &Cx<'_>, i: usize, diagnoses: usize) -> Option<Pointers> {
        let mut pointers = Pointers::new();
        self.items(|s| {
            let n = s.number()?;
            cx.pointer_count(i, pointers.len() + 1).ok()?;
            let pointer = cx
                .pointer(i, pointers.len(), n, diagnoses, &pointers)
                .ok()?;
            pointers.try_push(pointer).ok()
        })?;
        Some(pointers)
    }

    /// Facts, each value checked; then their names. They are gathered in
    /// `room` (emptied first), which the claim's facts then keep.
    fn facts(&mut self, cx: &Cx<'_>, room: &mut Vec<(Text, FactValue)>) -> Option<Facts> {
        room.clear();
        let facts = room;
        self.object(|s, name| {
            let value = match s.peek()? {
                b'"' => RawFact::Text(Cow::Borrowed(s.str()?)),
                b't' => s.literal(b"true").map(|()| RawFact::Bool(true))?,
                b'f' => s.literal(b"false").map(|()| RawFact::Bool(false))?,
                // Refused by the fact rule, whose message serde_json's path gives.
                b'n' | b'{' | b'[' => return None,
                _ => RawFact::of_num(s.number()?),
            };
            facts.push((text(name), cx.fact(name, value).ok()?));
            Some(())
        })?;
        cx.fact_names(std::mem::take(facts)).ok()
    }

    /// `frequency_code`, as a string or a whole number.
    fn frequency(&mut self, cx: &Cx<'_>) -> Option<Frequency> {
        if self.peek()? == b'"' {
            return cx.frequency(self.str()?).ok();
        }
        match self.number()? {
            Num::Unsigned(n) => cx.frequency_number(n).ok(),
            _ => None,
        }
    }
}
