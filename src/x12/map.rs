//! The 837P mapper: a checked transaction set's claims, each checked by the
//! contract's rules, the methods of `claims::validate`'s `Cx`, so that one
//! set of rules decides what a valid claim is.
//!
//! Only the segments a claim needs are decoded (see `docs/x12.md` for the
//! table); the rest are skipped by id. X12-only rules (ICD-9 qualifiers,
//! SV101-1 not `HC`, the unit basis, NM108 not `XX`) are checked here, with
//! the contract's field paths; every error also carries the X12 location.
//!
//! Two paths, as for JSON Lines. The loop over the segments notes, for each
//! claim, the segments its fields come from ([`Event`]s). The fast path
//! (`fast`) reads them straight into a [`Claim`], applying each rule as it
//! reads a field, and steps aside at anything it does not take: any error, a
//! warning to give. The general path then reads the same segments into the
//! loose claim shape the JSON readers build and checks it with `validate`,
//! which names the first error in contract order. So when the fast path
//! gives a claim, it is the claim the general path would have built (tested
//! on every file of `tests/data/x12/` and on generated claims).

use std::borrow::Cow;

use smallvec::SmallVec;

use crate::claims::{
    validate, Claim, ClaimError, Code, Num, Obj, RawClaim, RawFact, RawFacts, RawLine, Warning,
};

use super::payer_ids::PayerIds;
use super::transaction::{comp, pieces, Seg, Tag, Tx};
use parties::{Loops, Party};
use values::{
    decimal, fact_parts, fact_value, icd10_qualifier, iso_text, k3_parts, number, service_date,
    skipped_hi, Units,
};

mod fast;
#[cfg(test)]
mod fast_tests;
mod parties;
#[cfg(test)]
mod tests;
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

/// What a segment of a claim gives it, as the loop over the segments found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ev {
    /// REF*F8 in 2300: the claim replaced or voided.
    Replaces,
    /// HI in 2300: diagnoses.
    Hi,
    /// K3 in 2300: a fact.
    Fact,
    /// LX: a new line.
    Lx,
    /// SV1 in 2400.
    Sv1,
    /// K3 in 2400: the line's site, muscles or injections.
    LineK3,
    /// DTP*472 in 2400 or below: the date of service.
    Dtp,
    /// NM1*82 (2310B): the rendering provider.
    Rendering,
    /// PRV*PE in 2310B: the rendering provider's taxonomy.
    RenderingPrv,
}

/// A segment a claim's fields are read from, in the order of the segments.
#[derive(Clone, Copy, Debug)]
struct Event {
    ev: Ev,
    at: Ref,
}

/// A claim whose segments are being read: its HL loop (0-based), its CLM and
/// its record number.
#[derive(Clone, Copy, Debug)]
struct Open {
    hl: usize,
    clm: Ref,
    record: usize,
}

/// Where a line's fields came from: its LX, SV1 and DTP*472.
#[derive(Clone, Copy, Debug)]
struct LineAt {
    lx: Ref,
    sv1: Option<Ref>,
    dtp: Option<Ref>,
}

/// A claim as read so far by the general path.
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
    // Sized once: a transaction set has thousands of HL loops, and a party is
    // a few hundred bytes (growing the list was a twentieth of mapping).
    let hl_loops = tx.segs.iter().filter(|seg| seg.tag == Tag::Hl).count();
    let mut parties: Vec<Party<'_>> = Vec::with_capacity(hl_loops);
    let mut claim: Option<Open> = None;
    // The open claim's segments, kept for the next claim (cleared at each CLM).
    let mut events: Vec<Event> = Vec::new();
    let mut part = Part::Claim;
    let mut lp: &'static str = "header";
    let inner = tx.segs.len().saturating_sub(1);
    let mut finish = |claim: Option<Open>, events: &[Event], parties: &[Party<'_>]| {
        if let Some(claim) = claim {
            let (result, mut said) = m.claim(claim, events, parties);
            out.push((claim.record, result));
            warnings.append(&mut said);
        }
    };
    for (idx, seg) in tx.segs.iter().enumerate().take(inner).skip(1) {
        let e = m.e;
        let open = claim.is_some();
        let mut note = |ev: Ev, lp: &'static str| {
            if open {
                events.push(Event {
                    ev,
                    at: Ref { idx, lp },
                });
            }
        };
        match seg.tag {
            Tag::Hl => {
                finish(claim.take(), &events, &parties);
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
            Tag::Clm => {
                finish(claim.take(), &events, &parties);
                events.clear();
                lp = "2300";
                part = Part::Claim;
                *record += 1;
                claim = Some(Open {
                    hl: parties.len().saturating_sub(1),
                    clm: Ref { idx, lp },
                    record: *record,
                });
            }
            Tag::Nm1 => {
                let entity = seg.el(e, 1);
                if open {
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
                                note(Ev::Rendering, lp);
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
            Tag::Prv => {
                if open {
                    if lp == "2310B" && seg.el(e, 1) == "PE" {
                        note(Ev::RenderingPrv, lp);
                    }
                } else if let Some(p) = parties.last_mut().filter(|_| seg.el(e, 1) == "BI") {
                    p.taxonomy = Some(Ref { idx, lp });
                }
            }
            Tag::Dmg if !open => {
                if let Some(p) = parties.last_mut() {
                    p.dmg = Some(Ref { idx, lp });
                }
            }
            Tag::Sbr if open => {
                lp = "2320";
                part = Part::OtherPayer;
            }
            Tag::Ref if part == Part::Claim && seg.el(e, 1) == "F8" => note(Ev::Replaces, lp),
            Tag::Hi if part == Part::Claim => note(Ev::Hi, lp),
            Tag::K3 => match part {
                Part::Claim => note(Ev::Fact, lp),
                Part::Line => note(Ev::LineK3, lp),
                // Other K3 text is not ours.
                _ => {}
            },
            Tag::Lx if open => {
                lp = "2400";
                part = Part::Line;
                note(Ev::Lx, lp);
            }
            Tag::Sv1 if part == Part::Line => note(Ev::Sv1, lp),
            Tag::Dtp if matches!(part, Part::Line | Part::BelowLine) && seg.el(e, 1) == "472" => {
                note(Ev::Dtp, lp);
            }
            Tag::Lin if open => {
                lp = "2410";
                part = Part::BelowLine;
            }
            Tag::Svd if open => {
                lp = "2430";
                part = Part::BelowLine;
            }
            _ => {}
        }
    }
    finish(claim.take(), &events, &parties);
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
            tag: Tag::Other,
            cuts: &[],
        })
    }

    /// Claim `open`, from its `events` and the HL loops above it: by the fast
    /// path, else by the general one.
    fn claim(
        &self,
        open: Open,
        events: &[Event],
        parties: &[Party<'a>],
    ) -> (Result<Claim, ClaimError>, Vec<Warning>) {
        let empty = Party::default();
        let loops = Loops::of(parties, open.hl, &empty);
        if let Some(claim) = self.fast(open.clm, events, &loops) {
            #[cfg(test)]
            fast::FAST_CLAIMS.with(|n| n.set(n.get() + 1));
            return (Ok(claim), Vec::new());
        }
        let c = self.replay(open, events);
        self.finish(c, parties)
    }

    /// The claim's segments read by the general path, in their order, into
    /// the loose shape; X12-only errors and warnings noted on the way.
    fn replay(&self, open: Open, events: &[Event]) -> ClaimB<'a> {
        let mut c = ClaimB {
            hl: open.hl,
            clm: open.clm,
            record: open.record,
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
        };
        for &Event { ev, at } in events {
            let seg = self.seg(at);
            match ev {
                Ev::Replaces => c.replaces = Some(at),
                Ev::Hi => self.diagnoses(&mut c, seg, at),
                Ev::Fact => self.k3(&mut c, Part::Claim, seg, at),
                Ev::Lx => self.line(&mut c, seg, at),
                Ev::Sv1 => self.sv1(&mut c, seg, at),
                Ev::LineK3 => self.k3(&mut c, Part::Line, seg, at),
                Ev::Dtp => {
                    if let Some(line) = c.line_at.last_mut() {
                        line.dtp = Some(at);
                    }
                    self.dtp(&mut c, seg, at);
                }
                Ev::Rendering => c.rendering = Some(at),
                Ev::RenderingPrv => c.rendering_prv = Some(at),
            }
        }
        c
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
        if skipped_hi(comp(seg.el(self.e, 1), self.c, 1)) {
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
                q if icd10_qualifier(q) => {}
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
        let (key, value) = k3_parts(seg.el(self.e, 1));
        match (part, key) {
            (Part::Claim, "FACT") => {
                let (name, value) = fact_parts(value);
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
        let line = match values::whole(lx01) {
            Some(n) => Some(Num::Unsigned(n)),
            None => {
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
        let read = values::sv101(sv101, cs);
        let procedure = match read.procedure {
            Ok(code) => Some(Cow::Borrowed(code)),
            Err(qualifier) => {
                problems.push((
                    format!("lines[{i}].procedure"),
                    format!("SV101-1 must be HC (CPT/HCPCS), got `{qualifier}`"),
                ));
                None
            }
        };
        let modifiers: Vec<Cow<'a, str>> = read.modifiers.into_iter().map(Cow::Borrowed).collect();
        let sv102 = seg.el(e, 2);
        let charge = match values::charge(sv102) {
            Ok(charge) => charge.map(Num::Float),
            Err(()) => {
                problems.push((
                    format!("lines[{i}].charge"),
                    format!("SV102 must be an amount, got `{sv102}`"),
                ));
                None
            }
        };
        let (basis, quantity) = (seg.el(e, 3), seg.el(e, 4));
        let units = match values::units(basis, quantity) {
            Units::Count(v) => Some(Num::Float(v)),
            Units::BadQuantity => {
                problems.push((
                    format!("lines[{i}].units"),
                    format!("SV104 must be a quantity of units, got `{quantity}`"),
                ));
                None
            }
            Units::Minutes => {
                self.warn(
                    c,
                    Some(format!("lines[{i}].units")),
                    format!("SV103 is MJ (minutes): SV104 `{quantity}` is counted as 1 unit"),
                    at,
                );
                Some(Num::Unsigned(1))
            }
            Units::BadBasis => {
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
            for (j, p) in pieces(sv107, cs).enumerate() {
                match values::whole(p) {
                    Some(n) => pointers.push(Num::Unsigned(n)),
                    None => problems.push((
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
        match service_date(format, value) {
            Some(date) => {
                if let Some(Obj(line)) = c.lines.last_mut() {
                    line.date_of_service = Some(Cow::Owned(iso_text(&date).to_owned()));
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
