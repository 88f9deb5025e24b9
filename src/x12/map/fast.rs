//! The mapper's fast path: a claim read from the segments the loop noted
//! straight into a [`Claim`], each field checked by the contract's rule (a
//! method of `Cx`) as it is read.
//!
//! No loose claim shape in between, and nothing allocated but the claim's
//! lines and facts: building the loose shape (a string for every date, a list
//! for every line's modifiers and pointers) and validating it was two thirds
//! of mapping a claim. It gives up, returning `None`, at anything it does not
//! take: an X12-only error, a rule that fails, a warning to give. The general
//! path then reads the claim again, and names the first error in contract
//! order. So the one invariant is: **when this returns a claim, it is the
//! claim the general path would have built, and the general path would have
//! given no warning** (tested on every file of `tests/data/x12/`, on the
//! bundled batch and on thousands of one-element changes of it:
//! `fast_tests.rs`). It holds no rule of its own: the contract's are `Cx`'s,
//! the X12 readings those of `values`, which the general path calls too.

use chrono::NaiveDate;

use crate::claims::model::{Diagnoses, Facts, Line, Pointers};
use crate::claims::slot::blank_line;
use crate::claims::validate::MAX_LINES;
use crate::claims::{or_all, text, Claim, Cx, FactValue, Num, Text};

use super::parties::Loops;
use super::values::{
    self, birth_date, decimal, fact_parts, fact_value, icd10_qualifier, iso_text, k3_parts, number,
    service_date, skipped_hi, Units,
};
use super::{comp, pieces, Ev, Event, Mapper, Ref, Seg};

#[cfg(test)]
thread_local! {
    /// Set by tests to send every claim down the general path, to compare.
    pub(super) static GENERAL_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// How many claims the fast path built, for tests.
    pub(super) static FAST_CLAIMS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The claim's lines, each checked as its segments come, in place: the
/// line an LX opens is added at once and its fields written as the SV1,
/// K3 and DTP*472 after it give them (each the last given, as the general
/// path keeps it).
struct Lines {
    /// The diagnoses' count, which pointers are checked against.
    diagnoses: usize,
    /// The last date of service read, with its text: a claim's lines nearly
    /// always share their date.
    last_date: Option<([u8; 10], NaiveDate)>,
    lines: Vec<Line>,
    /// Whether the last line is open, and has had an SV1 and a date.
    open: bool,
    sv1: bool,
    date: bool,
}

impl<'a> Mapper<'_, 'a> {
    /// The claim of CLM `clm`, whose segments are `events`, in the HL loops
    /// `loops`; `None` to leave it to the general path.
    pub(super) fn fast(&self, clm: Ref, events: &[Event], loops: &Loops<'_, 'a>) -> Option<Claim> {
        #[cfg(test)]
        if GENERAL_ONLY.with(std::cell::Cell::get) {
            return None;
        }
        // Errors are dropped (the general path names them), so they need
        // neither the claim's id nor its record.
        let cx = Cx {
            id: None,
            record: 0,
        };
        let (e, cs) = (self.e, self.c);
        let clm_seg = self.seg(clm);
        let mut diagnoses = Diagnoses::new();
        let facts = events.iter().filter(|event| event.ev == Ev::Fact).count();
        let mut facts: Vec<(Text, FactValue)> = Vec::with_capacity(facts);
        let (mut replaces, mut rendering, mut rendering_prv) = (None, None, None);
        let lines = events.iter().filter(|event| event.ev == Ev::Lx).count();
        let mut lines = Lines {
            diagnoses: 0,
            last_date: None,
            lines: Vec::with_capacity(lines),
            open: false,
            sv1: false,
            date: false,
        };
        for &Event { ev, at } in events {
            let seg = self.seg(at);
            // The claim's own segments all come before its first line (they
            // are read in 2300 only); the lines' pointers are checked
            // against the diagnoses then complete.
            let before_lines = lines.lines.is_empty();
            match ev {
                Ev::Replaces if before_lines => replaces = Some(seg.el(e, 2)),
                Ev::Hi if before_lines => self.fast_diagnoses(&cx, seg, &mut diagnoses)?,
                Ev::Fact if before_lines => {
                    let (key, value) = k3_parts(seg.el(e, 1));
                    if key == "FACT" {
                        let (name, value) = fact_parts(value);
                        facts.push((text(name), cx.fact(name, fact_value(value)).ok()?));
                    }
                }
                Ev::Replaces | Ev::Hi | Ev::Fact => return None,
                Ev::Lx => {
                    if before_lines {
                        cx.diagnosis_count(diagnoses.len()).ok()?;
                        lines.diagnoses = diagnoses.len();
                    }
                    lines.open(&cx, values::whole(seg.el(e, 1))?)?;
                }
                Ev::Sv1 => self.fast_sv1(&cx, seg, &mut lines)?,
                Ev::LineK3 => {
                    let i = lines.lines.len().checked_sub(1)?;
                    let line = lines.lines.last_mut().filter(|_| lines.open)?;
                    match k3_parts(seg.el(e, 1)) {
                        ("SITE", value) => line.site = Some(cx.site(i, value).ok()?),
                        ("MUSCLES", value) => {
                            line.muscles = Some(cx.tally(i, "muscles", number(value)?).ok()?);
                        }
                        ("INJECTIONS", value) => {
                            let n = number(value)?;
                            line.injections = Some(cx.tally(i, "injections", n).ok()?);
                        }
                        _ => {}
                    }
                }
                Ev::Dtp => {
                    let date = service_date(seg.el(e, 2), seg.el(e, 3))?;
                    // A date before any line is checked, and belongs to none.
                    if lines.open {
                        lines.date(&cx, date)?;
                    }
                }
                Ev::Rendering => rendering = Some(at),
                Ev::RenderingPrv => rendering_prv = Some(at),
            }
        }
        lines.close()?;
        let lines = lines.lines;
        cx.line_count(lines.len()).ok()?;

        // CLM02 against the lines' charges: a warning, which the general
        // path gives.
        let total = clm_seg.el(e, 2);
        if let Some(total) = decimal(total) {
            let sum: f64 = lines.iter().filter_map(|l| l.charge).sum();
            if (total - sum).abs() > 0.005 {
                return None;
            }
        }

        let id = cx.required_text(Some(clm_seg.el(e, 1)), "id").ok()?;
        let payer = self.payer(loops);
        let payer = cx.required_text(payer.as_deref(), "payer").ok()?;
        let (patient_id, dmg) = self.patient_id(loops);
        let (born, sex) = match dmg {
            Some(r) => {
                let seg = self.seg(r);
                let born = birth_date(seg.el(e, 1), seg.el(e, 2)).ok()?;
                (born, Some(seg.el(e, 3)).filter(|s| !s.is_empty()))
            }
            None => (None, None),
        };
        let patient = cx
            .patient(patient_id.as_deref(), born.as_ref().map(iso_text), sex)
            .ok()?;
        let (npi_ref, taxonomy_ref) = Self::provider_refs(rendering, rendering_prv, loops);
        let npi = match npi_ref {
            Some(r) => {
                let seg = self.seg(r);
                values::npi(seg.el(e, 8), seg.el(e, 9)).ok()?
            }
            None => None,
        };
        let taxonomy = taxonomy_ref
            .map(|r| self.seg(r).el(e, 3))
            .filter(|t| !t.is_empty());
        let provider = match (npi, taxonomy) {
            (None, None) => None,
            (npi, taxonomy) => Some(cx.provider(npi, taxonomy).ok()?),
        };
        let clm05 = clm_seg.el(e, 5);
        let place_of_service = match comp(clm05, cs, 1) {
            "" => None,
            given => Some(cx.place_of_service(given).ok()?),
        };
        let frequency = Some(comp(clm05, cs, 3)).filter(|given| !given.is_empty());
        let (frequency, replaces) = cx
            .across(patient.birth_date, &diagnoses, &lines, frequency, replaces)
            .ok()?;
        let facts = if facts.is_empty() {
            Facts::default()
        } else {
            cx.fact_names(facts).ok()?
        };
        Some(Claim {
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

    /// An HI segment's diagnoses, each checked, into `diagnoses`.
    fn fast_diagnoses(&self, cx: &Cx<'_>, seg: Seg<'a>, diagnoses: &mut Diagnoses) -> Option<()> {
        let (e, cs) = (self.e, self.c);
        if skipped_hi(comp(seg.el(e, 1), cs, 1)) {
            return Some(());
        }
        // HI01 to HI12, those the segment has (the others are empty).
        for n in 1..=seg.cuts.len().min(12) {
            let element = seg.el(e, n);
            if element.is_empty() {
                continue;
            }
            if !icd10_qualifier(comp(element, cs, 1)) {
                return None;
            }
            let code = cx.diagnosis(diagnoses.len(), comp(element, cs, 2)).ok()?;
            // More than the most a claim may have: the count's rule says so.
            diagnoses.try_push(code).ok()?;
        }
        Some(())
    }

    /// An SV1, each element read as the general path reads it and checked
    /// by the contract's rule, into the open line; `None` when one is wrong
    /// or the units are minutes (a warning).
    fn fast_sv1(&self, cx: &Cx<'_>, seg: Seg<'a>, lines: &mut Lines) -> Option<()> {
        let (e, cs) = (self.e, self.c);
        let i = lines.lines.len().checked_sub(1)?;
        let diagnoses = lines.diagnoses;
        let line = lines.lines.last_mut().filter(|_| lines.open)?;
        let sv101 = values::sv101(seg.el(e, 1), cs);
        (line.procedure, line.procedure_text) = cx.procedure(i, sv101.procedure.ok()?).ok()?;
        cx.modifier_count(i, sv101.modifiers.len()).ok()?;
        line.modifiers.clear();
        for given in sv101.modifiers {
            let modifier = cx.modifier(i, line.modifiers.len(), given).ok()?;
            line.modifiers.try_push(modifier).ok()?;
        }
        line.charge = match values::charge(seg.el(e, 2)).ok()? {
            Some(amount) => Some(cx.charge(i, Num::Float(amount)).ok()?),
            None => None,
        };
        let quantity = seg.el(e, 4);
        let units = match values::units(seg.el(e, 3), quantity) {
            // A whole number as the JSON scanner reads one, which the units'
            // rule takes as it takes the same value as a float.
            Units::Count(units) => values::whole(quantity).map_or(Num::Float(units), Num::Unsigned),
            Units::Minutes | Units::BadQuantity | Units::BadBasis => return None,
        };
        line.units = cx.units(i, Some(units)).ok()?;
        let mut pointers = Pointers::new();
        let sv107 = seg.el(e, 7);
        if !sv107.is_empty() {
            for p in pieces(sv107, cs) {
                let n = Num::Unsigned(values::whole(p)?);
                cx.pointer_count(i, pointers.len() + 1).ok()?;
                let pointer = cx
                    .pointer(i, pointers.len(), n, diagnoses, &pointers)
                    .ok()?;
                pointers.try_push(pointer).ok()?;
            }
        }
        line.diagnosis_pointers = or_all(Some(pointers), diagnoses);
        lines.sv1 = true;
        Some(())
    }
}

impl Lines {
    /// Opens line `number` (LX01), the line before it closed.
    fn open(&mut self, cx: &Cx<'_>, number: u64) -> Option<()> {
        self.close()?;
        let i = self.lines.len();
        // More than the most a claim may have: the count's rule says so.
        if i >= MAX_LINES {
            return None;
        }
        let number = cx
            .line_number(i, Some(Num::Unsigned(number)), &self.lines)
            .ok()?;
        self.lines.push(Line {
            line: number,
            ..blank_line()
        });
        (self.open, self.sv1, self.date) = (true, false, false);
        Some(())
    }

    /// The open line's date of service (its text, `CCYY-MM-DD`).
    fn date(&mut self, cx: &Cx<'_>, date: [u8; 10]) -> Option<()> {
        let i = self.lines.len().checked_sub(1)?;
        let parsed = match self.last_date {
            Some((given, parsed)) if given == date => parsed,
            _ => {
                let parsed = cx.date_of_service(i, iso_text(&date)).ok()?;
                self.last_date = Some((date, parsed));
                parsed
            }
        };
        self.lines.last_mut()?.date_of_service = parsed;
        self.date = true;
        Some(())
    }

    /// Closes the open line, if any: it must have had its SV1 (the
    /// procedure is required) and its DTP*472.
    fn close(&mut self) -> Option<()> {
        if std::mem::take(&mut self.open) && !(self.sv1 && self.date) {
            return None;
        }
        Some(())
    }
}
