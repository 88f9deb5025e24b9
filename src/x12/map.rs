//! The 837P mapper: a checked transaction set's claims, each built as the
//! loose claim shape the JSON readers build and checked by the same
//! `validate`, so that one set of rules decides what a valid claim is.
//!
//! Only the segments a claim needs are decoded (see `docs/x12.md` for the
//! table); the rest are skipped by id. X12-only rules (ICD-9 qualifiers,
//! SV101-1 not `HC`, the unit basis, NM108 not `XX`) are checked here, with
//! the contract's field paths; every error also carries the X12 location.

use std::borrow::Cow;

use smallvec::SmallVec;

use crate::claims::{
    validate, Claim, ClaimError, Code, Num, Obj, RawClaim, RawFact, RawFacts, RawLine, Warning,
};

use super::payer_ids::PayerIds;
use super::transaction::{comp, Seg, Tx};
use parties::{Loops, Party};
use values::{d8, decimal, fact_value, number};

mod parties;
mod values;

/// A segment of the transaction and the loop it was read in.
#[derive(Clone, Copy, Debug)]
struct Ref {
    idx: usize,
    lp: &'static str,
}

/// Which part of a claim the segments being read belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// 2300 itself.
    Claim,
    /// A 2310 provider loop.
    Provider,
    /// 2320/2330: other payers, skipped.
    OtherPayer,
    /// 2400 itself.
    Line,
    /// 2410/2420/2430 below a line.
    BelowLine,
}

/// Where a line's fields came from: its LX, SV1 and DTP*472.
#[derive(Clone, Copy, Debug)]
struct LineAt {
    lx: Ref,
    sv1: Option<Ref>,
    dtp: Option<Ref>,
}

/// A claim as read so far.
struct ClaimB<'a> {
    hl: usize,
    clm: Ref,
    record: usize,
    replaces: Option<Ref>,
    /// Each HI segment and the index of its first diagnosis.
    hi: SmallVec<[(usize, Ref); 4]>,
    diagnoses: Vec<Cow<'a, str>>,
    rendering: Option<Ref>,
    rendering_prv: Option<Ref>,
    facts: Vec<(Cow<'a, str>, RawFact<'a>)>,
    /// The lines as read, in the shape `validate` takes (moved into the
    /// claim as they are), and where each came from.
    lines: Vec<Obj<RawLine<'a>>>,
    line_at: SmallVec<[LineAt; 8]>,
    /// The first X12-only error, which rejects the claim.
    error: Option<ClaimError>,
    warnings: Vec<Warning>,
}

/// Maps every claim of a checked transaction set, appending each claim (or
/// its error record) to `out` and warnings to `warnings`; `record` counts
/// the input's records.
pub(super) fn map_claims(
    tx: &Tx<'_>,
    payer_ids: Option<&PayerIds>,
    record: &mut usize,
    out: &mut Vec<(usize, Result<Claim, ClaimError>)>,
    warnings: &mut Vec<Warning>,
) {
    let m = Mapper {
        tx,
        e: tx.element,
        c: tx.component,
        payer_ids,
    };
    let mut parties: Vec<Party<'_>> = Vec::new();
    let mut claim: Option<ClaimB<'_>> = None;
    let mut part = Part::Claim;
    let mut lp: &'static str = "header";
    let inner = tx.segs.len().saturating_sub(1);
    let mut finish = |claim: Option<ClaimB<'_>>, parties: &[Party<'_>]| {
        if let Some(claim) = claim {
            let record = claim.record;
            let (result, mut said) = m.finish(claim, parties);
            out.push((record, result));
            warnings.append(&mut said);
        }
    };
    for (idx, &seg) in tx.segs.iter().enumerate().take(inner).skip(1) {
        let e = m.e;
        match seg.id {
            "HL" => {
                finish(claim.take(), &parties);
                let level = seg.el(e, 3);
                lp = match level {
                    "20" => "2000A",
                    "22" => "2000B",
                    _ => "2000C",
                };
                parties.push(Party {
                    level,
                    parent: seg
                        .el(e, 2)
                        .parse::<usize>()
                        .ok()
                        .and_then(|p| p.checked_sub(1)),
                    ..Party::default()
                });
            }
            "CLM" => {
                finish(claim.take(), &parties);
                lp = "2300";
                part = Part::Claim;
                *record += 1;
                claim = Some(ClaimB {
                    hl: parties.len().saturating_sub(1),
                    clm: Ref { idx, lp },
                    record: *record,
                    replaces: None,
                    hi: SmallVec::new(),
                    diagnoses: Vec::new(),
                    rendering: None,
                    rendering_prv: None,
                    facts: Vec::new(),
                    lines: Vec::new(),
                    line_at: SmallVec::new(),
                    error: None,
                    warnings: Vec::new(),
                });
            }
            "NM1" => {
                let entity = seg.el(e, 1);
                if let Some(c) = claim.as_mut() {
                    match part {
                        Part::Claim | Part::Provider => {
                            lp = match entity {
                                "DN" | "P3" => "2310A",
                                "82" => "2310B",
                                "77" => "2310C",
                                "DQ" => "2310D",
                                "PW" => "2310E",
                                "45" => "2310F",
                                _ => "2310",
                            };
                            part = Part::Provider;
                            if entity == "82" {
                                c.rendering = Some(Ref { idx, lp });
                            }
                        }
                        Part::OtherPayer => lp = "2330",
                        Part::Line | Part::BelowLine => {
                            lp = "2420";
                            part = Part::BelowLine;
                        }
                    }
                } else if let Some(p) = parties.last_mut() {
                    lp = match (entity, p.level) {
                        ("85", _) => "2010AA",
                        ("87", _) => "2010AB",
                        ("PE", _) => "2010AC",
                        ("IL", _) => "2010BA",
                        ("PR", _) => "2010BB",
                        ("QC", _) => "2010CA",
                        (_, "20") => "2000A",
                        (_, "22") => "2000B",
                        _ => "2000C",
                    };
                    let at = Some(Ref { idx, lp });
                    match entity {
                        "85" => p.billing = at,
                        "IL" => p.member = at,
                        "PR" => p.payer = at,
                        "QC" => p.person = at,
                        _ => {}
                    }
                } else {
                    lp = match entity {
                        "41" => "1000A",
                        "40" => "1000B",
                        _ => "header",
                    };
                }
            }
            "PRV" => match claim.as_mut() {
                Some(c) if lp == "2310B" && seg.el(e, 1) == "PE" => {
                    c.rendering_prv = Some(Ref { idx, lp });
                }
                Some(_) => {}
                None => {
                    if let Some(p) = parties.last_mut().filter(|_| seg.el(e, 1) == "BI") {
                        p.taxonomy = Some(Ref { idx, lp });
                    }
                }
            },
            "DMG" if claim.is_none() => {
                if let Some(p) = parties.last_mut() {
                    p.dmg = Some(Ref { idx, lp });
                }
            }
            "SBR" if claim.is_some() => {
                lp = "2320";
                part = Part::OtherPayer;
            }
            "REF" if part == Part::Claim && seg.el(e, 1) == "F8" => {
                if let Some(c) = claim.as_mut() {
                    c.replaces = Some(Ref { idx, lp });
                }
            }
            "HI" if part == Part::Claim => {
                if let Some(c) = claim.as_mut() {
                    m.diagnoses(c, seg, Ref { idx, lp });
                }
            }
            "K3" => {
                if let Some(c) = claim.as_mut() {
                    m.k3(c, part, seg, Ref { idx, lp });
                }
            }
            "LX" => {
                if let Some(c) = claim.as_mut() {
                    lp = "2400";
                    part = Part::Line;
                    m.line(c, seg, Ref { idx, lp });
                }
            }
            "SV1" if part == Part::Line => {
                if let Some(c) = claim.as_mut() {
                    m.sv1(c, seg, Ref { idx, lp });
                }
            }
            "DTP" if matches!(part, Part::Line | Part::BelowLine) && seg.el(e, 1) == "472" => {
                if let Some(line) = claim.as_mut().and_then(|c| c.line_at.last_mut()) {
                    line.dtp = Some(Ref { idx, lp });
                }
                if let Some(c) = claim.as_mut() {
                    m.dtp(c, seg, Ref { idx, lp });
                }
            }
            "LIN" if claim.is_some() => {
                lp = "2410";
                part = Part::BelowLine;
            }
            "SVD" if claim.is_some() => {
                lp = "2430";
                part = Part::BelowLine;
            }
            _ => {}
        }
    }
    finish(claim.take(), &parties);
}

/// The mapper's view of one transaction set.
struct Mapper<'t, 'a> {
    tx: &'t Tx<'a>,
    e: char,
    c: char,
    payer_ids: Option<&'t PayerIds>,
}

impl<'a> Mapper<'_, 'a> {
    fn seg(&self, r: Ref) -> Seg<'a> {
        self.tx.segs.get(r.idx).copied().unwrap_or(Seg {
            text: "",
            id: "",
            cuts: &[],
        })
    }

    fn error(&self, c: &ClaimB<'_>, path: String, message: String, at: Ref) -> ClaimError {
        let id = self.seg(c.clm).el(self.e, 1);
        ClaimError::invalid(
            (!id.is_empty()).then(|| id.to_owned()),
            Some(path),
            message,
            c.record,
        )
        .at_x12(self.tx.location(at.idx, Some(at.lp)))
    }

    /// Records an X12-only error; the first one rejects the claim.
    fn fail(&self, c: &mut ClaimB<'_>, path: String, message: String, at: Ref) {
        if c.error.is_none() {
            c.error = Some(self.error(c, path, message, at));
        }
    }

    fn warn(&self, c: &mut ClaimB<'_>, path: Option<String>, message: String, at: Ref) {
        let id = self.seg(c.clm).el(self.e, 1);
        c.warnings.push(Warning {
            id: (!id.is_empty()).then(|| id.to_owned()),
            path,
            message,
            record: c.record,
            x12: Some(Box::new(self.tx.location(at.idx, Some(at.lp)))),
        });
    }

    /// HI: ABK/ABF diagnoses in order; BP/BO (anesthesia) and BG (condition
    /// codes) segments skipped; ICD-9 (BK/BF) and other qualifiers refused.
    fn diagnoses(&self, c: &mut ClaimB<'a>, seg: Seg<'a>, at: Ref) {
        let first = comp(seg.el(self.e, 1), self.c, 1);
        if matches!(first, "BP" | "BO" | "BG") {
            return;
        }
        c.hi.push((c.diagnoses.len(), at));
        for n in 1..=12 {
            let element = seg.el(self.e, n);
            if element.is_empty() {
                continue;
            }
            let k = c.diagnoses.len();
            let qualifier = comp(element, self.c, 1);
            let code = comp(element, self.c, 2);
            match qualifier {
                "ABK" | "ABF" => {}
                "BK" | "BF" => self.fail(
                    c,
                    format!("diagnoses[{k}]"),
                    format!(
                        "HI{n:02} `{element}` is an ICD-9-CM code (qualifier {qualifier}): only ICD-10-CM (ABK, ABF) is accepted"
                    ),
                    at,
                ),
                _ => self.fail(
                    c,
                    format!("diagnoses[{k}]"),
                    format!(
                        "HI{n:02} qualifier `{qualifier}` is not a diagnosis qualifier (ABK, ABF)"
                    ),
                    at,
                ),
            }
            c.diagnoses.push(Cow::Borrowed(code));
        }
    }

    /// K3, payer-rules' own convention for what 837P has no segment for:
    /// `K3*FACT name=value` in 2300, `K3*SITE label`, `K3*MUSCLES n` and
    /// `K3*INJECTIONS n` in 2400. Other K3 text is not ours and is skipped.
    fn k3(&self, c: &mut ClaimB<'a>, part: Part, seg: Seg<'a>, at: Ref) {
        let text = seg.el(self.e, 1);
        let (key, value) = text.split_once(' ').unwrap_or((text, ""));
        match (part, key) {
            (Part::Claim, "FACT") => {
                let (name, value) = value.split_once('=').unwrap_or((value, ""));
                c.facts.push((Cow::Borrowed(name), fact_value(value)));
            }
            (Part::Line, "SITE" | "MUSCLES" | "INJECTIONS") => {
                let i = c.lines.len().saturating_sub(1);
                let Some(Obj(line)) = c.lines.last_mut() else {
                    return;
                };
                match key {
                    "SITE" => line.site = Some(Cow::Borrowed(value)),
                    _ => {
                        let field = if key == "MUSCLES" {
                            "muscles"
                        } else {
                            "injections"
                        };
                        match number(value) {
                            Some(n) if key == "MUSCLES" => line.muscles = Some(n),
                            Some(n) => line.injections = Some(n),
                            None => self.fail(
                                c,
                                format!("lines[{i}].{field}"),
                                format!("K3 {key} must be a number, got `{value}`"),
                                at,
                            ),
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// LX: a new line, numbered by LX01.
    fn line(&self, c: &mut ClaimB<'a>, seg: Seg<'a>, at: Ref) {
        let i = c.lines.len();
        let lx01 = seg.el(self.e, 1);
        let line = match lx01.parse::<u64>() {
            Ok(n) => Some(Num::Unsigned(n)),
            Err(_) => {
                self.fail(
                    c,
                    format!("lines[{i}].line"),
                    format!("LX01 must be a line number, got `{lx01}`"),
                    at,
                );
                None
            }
        };
        c.line_at.push(LineAt {
            lx: at,
            sv1: None,
            dtp: None,
        });
        c.lines.push(Obj(RawLine {
            line,
            date_of_service: None,
            procedure: None,
            modifiers: None,
            units: None,
            diagnosis_pointers: None,
            site: None,
            muscles: None,
            injections: None,
            charge: None,
        }));
    }

    /// SV1: procedure and modifiers, charge, units, diagnosis pointers.
    fn sv1(&self, c: &mut ClaimB<'a>, seg: Seg<'a>, at: Ref) {
        let i = c.lines.len().saturating_sub(1);
        let (e, cs) = (self.e, self.c);
        let sv101 = seg.el(e, 1);
        let mut problems: Vec<(String, String)> = Vec::new();
        let qualifier = comp(sv101, cs, 1);
        let procedure = if qualifier == "HC" {
            Some(Cow::Borrowed(comp(sv101, cs, 2)))
        } else {
            problems.push((
                format!("lines[{i}].procedure"),
                format!("SV101-1 must be HC (CPT/HCPCS), got `{qualifier}`"),
            ));
            None
        };
        let modifiers: Vec<Cow<'a, str>> = (3..=6)
            .map(|n| comp(sv101, cs, n))
            .filter(|m| !m.is_empty())
            .map(Cow::Borrowed)
            .collect();
        let sv102 = seg.el(e, 2);
        let charge = match sv102 {
            "" => None,
            text => match decimal(text) {
                Some(v) => Some(Num::Float(v)),
                None => {
                    problems.push((
                        format!("lines[{i}].charge"),
                        format!("SV102 must be an amount, got `{text}`"),
                    ));
                    None
                }
            },
        };
        let (basis, quantity) = (seg.el(e, 3), seg.el(e, 4));
        let units = match (basis, decimal(quantity)) {
            ("UN", Some(v)) => Some(Num::Float(v)),
            ("UN", None) => {
                problems.push((
                    format!("lines[{i}].units"),
                    format!("SV104 must be a quantity of units, got `{quantity}`"),
                ));
                None
            }
            ("MJ", _) => {
                self.warn(
                    c,
                    Some(format!("lines[{i}].units")),
                    format!("SV103 is MJ (minutes): SV104 `{quantity}` is counted as 1 unit"),
                    at,
                );
                Some(Num::Unsigned(1))
            }
            _ => {
                problems.push((
                    format!("lines[{i}].units"),
                    format!("SV103 must be UN (units) or MJ (minutes), got `{basis}`"),
                ));
                None
            }
        };
        let mut pointers = Vec::new();
        let sv107 = seg.el(e, 7);
        if !sv107.is_empty() {
            for (j, p) in sv107.split(cs).enumerate() {
                match p.parse::<u64>() {
                    Ok(n) => pointers.push(Num::Unsigned(n)),
                    Err(_) => problems.push((
                        format!("lines[{i}].diagnosis_pointers[{j}]"),
                        format!("SV107-{} must be a diagnosis pointer, got `{p}`", j + 1),
                    )),
                }
            }
        }
        for (path, message) in problems {
            self.fail(c, path, message, at);
        }
        if let Some(line) = c.line_at.last_mut() {
            line.sv1 = Some(at);
        }
        if let Some(Obj(line)) = c.lines.last_mut() {
            line.procedure = procedure;
            line.modifiers = Some(modifiers);
            line.charge = charge;
            line.units = units;
            line.diagnosis_pointers = (!pointers.is_empty()).then_some(pointers);
        }
    }

    /// DTP*472: the date of service, D8 or the start of an RD8 range.
    fn dtp(&self, c: &mut ClaimB<'a>, seg: Seg<'a>, at: Ref) {
        let i = c.lines.len().saturating_sub(1);
        let (format, value) = (seg.el(self.e, 2), seg.el(self.e, 3));
        let date = match format {
            "D8" => d8(value),
            "RD8" => value.split_once('-').and_then(|(start, _)| d8(start)),
            _ => None,
        };
        match date {
            Some(date) => {
                if let Some(Obj(line)) = c.lines.last_mut() {
                    line.date_of_service = Some(Cow::Owned(date));
                }
            }
            None => self.fail(
                c,
                format!("lines[{i}].date_of_service"),
                format!("DTP*472 must be D8 CCYYMMDD or RD8 CCYYMMDD-CCYYMMDD, got `{format}` `{value}`"),
                at,
            ),
        }
    }

    /// The claim: its own segments, its HL loop's and those above it, as the
    /// loose shape `validate` checks.
    fn finish(
        &self,
        mut c: ClaimB<'a>,
        parties: &[Party<'a>],
    ) -> (Result<Claim, ClaimError>, Vec<Warning>) {
        let e = self.e;
        let clm = self.seg(c.clm);
        // By reference: a party is a few hundred bytes, and this runs for
        // every claim.
        let empty = Party::default();
        let loops = Loops::of(parties, c.hl, &empty);
        let payer = self.payer(&loops);
        let (patient, dmg) = self.patient(&mut c, &loops);
        let (provider, npi_ref, taxonomy_ref) = self.provider(&mut c, &loops);

        // CLM05: place of service and frequency.
        let clm05 = clm.el(e, 5);
        let place_of_service = Some(comp(clm05, self.c, 1))
            .filter(|p| !p.is_empty())
            .map(Cow::Borrowed);
        let frequency_code = Some(comp(clm05, self.c, 3))
            .filter(|f| !f.is_empty())
            .map(|f| Code(f.to_owned()));
        let replaces = c.replaces.map(|r| Cow::Borrowed(self.seg(r).el(e, 2)));

        // CLM02 against the lines' charges: a warning (SNIP 3 is a 277CA
        // matter, not a reason to refuse the claim here).
        let total = clm.el(e, 2);
        if let Some(total_value) = decimal(total) {
            let sum: f64 = c
                .lines
                .iter()
                .filter_map(|Obj(l)| l.charge)
                .map(Num::as_f64)
                .sum();
            if (total_value - sum).abs() > 0.005 {
                let at = c.clm;
                self.warn(
                    &mut c,
                    None,
                    format!("CLM02 `{total}` is not the sum of the lines' SV102 ({sum:.2})"),
                    at,
                );
            }
        }
        for (i, line) in c.line_at.iter().enumerate() {
            if line.dtp.is_none() && c.error.is_none() {
                let at = line.sv1.unwrap_or(line.lx);
                let err = self.error(
                    &c,
                    format!("lines[{i}].date_of_service"),
                    "DTP*472 (date of service) is required in each 2400 loop".into(),
                    at,
                );
                c.error = Some(err);
            }
        }
        let warnings = std::mem::take(&mut c.warnings);
        if let Some(err) = c.error.take() {
            return (Err(err), warnings);
        }

        let id = clm.el(e, 1);
        let refs = Located {
            clm: c.clm,
            payer: loops.subscriber.payer,
            patient: loops
                .patient
                .and_then(|p| p.person)
                .or(loops.subscriber.member),
            dmg,
            provider: npi_ref,
            taxonomy: taxonomy_ref,
            replaces: c.replaces,
            hi: std::mem::take(&mut c.hi),
            lines: &c.line_at,
        };
        let raw = RawClaim {
            id: Some(Cow::Borrowed(id)),
            payer,
            patient: Some(Obj(patient)),
            provider,
            place_of_service,
            diagnoses: (!c.diagnoses.is_empty()).then(|| std::mem::take(&mut c.diagnoses)),
            facts: (!c.facts.is_empty()).then(|| RawFacts(std::mem::take(&mut c.facts))),
            lines: Some(std::mem::take(&mut c.lines)),
            frequency_code,
            replaces,
        };
        let result = validate(raw, c.record).map_err(|err| {
            let at = refs.locate(err.path.as_deref());
            err.at_x12(self.tx.location(at.idx, Some(at.lp)))
        });
        (result, warnings)
    }
}

/// The segments a claim's fields came from, to place `validate`'s errors.
struct Located<'c> {
    clm: Ref,
    payer: Option<Ref>,
    patient: Option<Ref>,
    dmg: Option<Ref>,
    provider: Option<Ref>,
    taxonomy: Option<Ref>,
    replaces: Option<Ref>,
    hi: SmallVec<[(usize, Ref); 4]>,
    lines: &'c [LineAt],
}

impl Located<'_> {
    /// The segment a field path names, else the CLM.
    fn locate(&self, path: Option<&str>) -> Ref {
        let path = path.unwrap_or_default();
        let found = if path == "payer" {
            self.payer
        } else if path == "patient.id" {
            self.patient
        } else if path.starts_with("patient.") {
            self.dmg
        } else if path == "provider.npi" {
            self.provider
        } else if path.starts_with("provider.") {
            self.taxonomy
        } else if path == "replaces" {
            self.replaces
        } else if let Some(rest) = path.strip_prefix("diagnoses[") {
            let k = index(rest);
            self.hi
                .iter()
                .rev()
                .find(|(first, _)| k.is_some_and(|k| k >= *first))
                .or(self.hi.first())
                .map(|(_, r)| *r)
        } else if path == "diagnoses" {
            self.hi.first().map(|(_, r)| *r)
        } else if let Some(rest) = path.strip_prefix("lines[") {
            index(rest).and_then(|i| self.lines.get(i)).map(|at| {
                if path.ends_with(".date_of_service") {
                    at.dtp.unwrap_or(at.lx)
                } else if path.ends_with(".line") {
                    at.lx
                } else {
                    at.sv1.unwrap_or(at.lx)
                }
            })
        } else {
            None
        };
        found.unwrap_or(self.clm)
    }
}

/// The number at the start of `3].units`.
fn index(rest: &str) -> Option<usize> {
    rest.split(']').next()?.parse().ok()
}

#[cfg(test)]
mod tests;
