//! One transaction set (ST..SE) as the mapper sees it, and the checks that
//! reject it whole: SE01, SE02, ST03/GS08, the HL hierarchy and claim-level
//! segments before any CLM of their HL loop.

use crate::claims::{ClaimError, ErrorKind, X12Location};

use super::tokenizer::{pack_id, SegPos};

/// A segment of the transaction: its text, its id, and where its element
/// separators are (split once: the mapper reads elements by number).
#[derive(Clone, Copy, Debug)]
pub(super) struct Seg<'a> {
    pub text: &'a str,
    pub id: &'a str,
    /// What the id says, for matching on it.
    pub tag: Tag,
    /// Byte positions of the element separators in `text`.
    pub cuts: &'a [u32],
}

impl<'a> Seg<'a> {
    /// Element `n` (1-based, as in `CLM05`); empty when absent. `_sep` is
    /// the separator the cuts were made at.
    #[inline]
    pub fn el(&self, _sep: char, n: usize) -> &'a str {
        let Some(&before) = n.checked_sub(1).and_then(|i| self.cuts.get(i)) else {
            return if n == 0 { self.id } else { "" };
        };
        let end = self.cuts.get(n).map_or(self.text.len(), |&c| c as usize);
        self.text.get(before as usize + 1..end).unwrap_or_default()
    }
}

/// The segment ids the checks and the mapper act on, read once per segment
/// (packed, [`pack_id`]): each segment is matched several times (the
/// hierarchy check, the mapper's loop), and comparing a tag is an
/// instruction where comparing ids was a dozen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tag {
    Hl,
    Clm,
    Nm1,
    Prv,
    Dmg,
    Sbr,
    Ref,
    Hi,
    K3,
    Lx,
    Sv1,
    Dtp,
    Lin,
    Svd,
    /// Another segment that belongs to a claim (2300) or a line (2400) and
    /// their loops.
    ClaimOnly,
    /// Any other segment.
    Other,
}

impl Tag {
    /// The tag of a segment id, packed ([`pack_id`]).
    pub fn of(packed: u32) -> Tag {
        const HL: u32 = pack_id(b"HL");
        const CLM: u32 = pack_id(b"CLM");
        const NM1: u32 = pack_id(b"NM1");
        const PRV: u32 = pack_id(b"PRV");
        const DMG: u32 = pack_id(b"DMG");
        const SBR: u32 = pack_id(b"SBR");
        const REF: u32 = pack_id(b"REF");
        const HI: u32 = pack_id(b"HI");
        const K3: u32 = pack_id(b"K3");
        const LX: u32 = pack_id(b"LX");
        const SV1: u32 = pack_id(b"SV1");
        const DTP: u32 = pack_id(b"DTP");
        const LIN: u32 = pack_id(b"LIN");
        const SVD: u32 = pack_id(b"SVD");
        const OTHERS: [u32; 18] = [
            pack_id(b"SV5"),
            pack_id(b"PWK"),
            pack_id(b"CN1"),
            pack_id(b"AMT"),
            pack_id(b"NTE"),
            pack_id(b"CR1"),
            pack_id(b"CR2"),
            pack_id(b"CRC"),
            pack_id(b"HCP"),
            pack_id(b"CAS"),
            pack_id(b"OI"),
            pack_id(b"MOA"),
            pack_id(b"LQ"),
            pack_id(b"FRM"),
            pack_id(b"PS1"),
            pack_id(b"CTP"),
            pack_id(b"QTY"),
            pack_id(b"MEA"),
        ];
        match packed {
            HL => Tag::Hl,
            CLM => Tag::Clm,
            NM1 => Tag::Nm1,
            PRV => Tag::Prv,
            DMG => Tag::Dmg,
            SBR => Tag::Sbr,
            REF => Tag::Ref,
            HI => Tag::Hi,
            K3 => Tag::K3,
            LX => Tag::Lx,
            SV1 => Tag::Sv1,
            DTP => Tag::Dtp,
            LIN => Tag::Lin,
            SVD => Tag::Svd,
            other if OTHERS.contains(&other) => Tag::ClaimOnly,
            _ => Tag::Other,
        }
    }

    /// Whether the segment belongs to a claim (2300) or a line (2400) and
    /// their loops: one of these before any CLM of its HL loop is out of
    /// place.
    fn claim_only(self) -> bool {
        matches!(
            self,
            Tag::Hi
                | Tag::K3
                | Tag::Lx
                | Tag::Sv1
                | Tag::Dtp
                | Tag::Lin
                | Tag::Svd
                | Tag::ClaimOnly
        )
    }
}

/// The segments of `text` at `spans`, each with its share of `cuts` (the
/// positions of its element separators).
pub(super) fn segments<'a>(text: &'a str, spans: &[SegPos], cuts: &'a [u32]) -> Vec<Seg<'a>> {
    spans
        .iter()
        .map(|span| {
            let text = text.get(span.start..span.end).unwrap_or_default();
            let (from, to) = span.cuts;
            let cuts = cuts.get(from as usize..to as usize).unwrap_or_default();
            let id = cuts
                .first()
                .and_then(|&c| text.get(..c as usize))
                .unwrap_or(text);
            Seg {
                text,
                id,
                // From the id as the segment's text gives it (a segment
                // without elements, ended by a line feed after a carriage
                // return, has the carriage return in its packed id).
                tag: Tag::of(pack_id(id.as_bytes())),
                cuts,
            }
        })
        .collect()
}

/// Component `n` (1-based, as in `SV101-2`) of a composite; empty when absent.
pub(super) fn comp(composite: &str, sep: char, n: usize) -> &str {
    // By bytes: composites are a few bytes long, shorter than a searcher's
    // set-up. The separator is ASCII (the tokenizer refuses others), so the
    // cuts fall on character boundaries.
    let sep = u8::try_from(sep).unwrap_or(b':');
    let mut from = 0;
    let mut index = 1;
    for (at, &b) in composite.as_bytes().iter().enumerate() {
        if b == sep {
            if index == n {
                return composite.get(from..at).unwrap_or_default();
            }
            index += 1;
            from = at + 1;
        }
    }
    if index == n {
        composite.get(from..).unwrap_or_default()
    } else {
        ""
    }
}

/// The pieces of `text` between the (ASCII) separator `sep`, as
/// `str::split` gives them, by bytes: SV107's pointers are a byte or two,
/// shorter than a character searcher's set-up.
pub(super) fn pieces(text: &str, sep: char) -> impl Iterator<Item = &str> {
    let sep = u8::try_from(sep).unwrap_or(b':');
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.as_bytes().iter().position(|&b| b == sep) {
            Some(at) => {
                rest = text.get(at + 1..);
                text.get(..at)
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

/// `text` around the first `sep` (an ASCII byte), as `str::split_once` with
/// a character, by bytes (K3's texts are short).
pub(super) fn split_once(text: &str, sep: u8) -> Option<(&str, &str)> {
    let at = text.as_bytes().iter().position(|&b| b == sep)?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// The control numbers around a transaction set.
#[derive(Clone, Debug, Default)]
pub(super) struct Envelope {
    /// ISA13.
    pub interchange: String,
    /// GS06.
    pub group: Option<String>,
    /// GS08, the version a transaction without ST03 takes.
    pub version: String,
}

/// A transaction set read whole, ST to SE.
pub(super) struct Tx<'a> {
    pub segs: Vec<Seg<'a>>,
    pub pos: &'a [SegPos],
    pub element: char,
    pub component: char,
    pub envelope: &'a Envelope,
}

/// Why a transaction set is rejected whole, at segment `seg` (its index).
#[derive(Debug)]
pub(super) struct Rejection {
    pub kind: ErrorKind,
    pub message: String,
    pub seg: usize,
}

impl<'a> Tx<'a> {
    /// ST02.
    pub fn control(&self) -> &'a str {
        self.segs
            .first()
            .map(|st| st.el(self.element, 2))
            .unwrap_or_default()
    }

    /// Where segment `idx` lies, in loop `loop_id`.
    pub fn location(&self, idx: usize, loop_id: Option<&str>) -> X12Location {
        let seg = self.segs.get(idx);
        let pos = self.pos.get(idx);
        X12Location {
            interchange: Some(self.envelope.interchange.clone()),
            group: self.envelope.group.clone(),
            transaction: Some(self.control().to_owned()),
            loop_id: loop_id.map(str::to_owned),
            segment: seg.map(|s| s.id.to_owned()),
            ordinal: pos.map(|p| p.ordinal),
            offset: pos.map(|p| p.offset),
        }
    }

    /// The checks that reject the transaction set whole, in the order a
    /// clearinghouse makes them: envelope, version, hierarchy, segment order.
    pub fn check(&self) -> Result<(), Rejection> {
        let e = self.element;
        let n = self.segs.len();
        let last = n.saturating_sub(1);
        let reject = |kind, seg, message: String| Rejection {
            kind,
            message: format!("transaction set {} rejected: {message}", self.control()),
            seg,
        };
        let (Some(st), Some(se)) = (self.segs.first(), self.segs.last()) else {
            return Err(reject(ErrorKind::X12Envelope, 0, "it is empty".into()));
        };
        let se01 = se.el(e, 1);
        if se01.trim().parse::<usize>().ok() != Some(n) {
            return Err(reject(
                ErrorKind::X12SegmentCount,
                last,
                format!("SE01 says `{se01}` segments, the transaction set has {n}"),
            ));
        }
        if se.el(e, 2) != st.el(e, 2) {
            return Err(reject(
                ErrorKind::X12ControlNumber,
                last,
                format!("SE02 `{}` differs from ST02 `{}`", se.el(e, 2), st.el(e, 2)),
            ));
        }
        if st.el(e, 1) != "837" {
            return Err(reject(
                ErrorKind::X12Version,
                0,
                format!("ST01 `{}` is not 837", st.el(e, 1)),
            ));
        }
        let (field, version) = match st.el(e, 3) {
            "" => ("GS08", self.envelope.version.as_str()),
            v => ("ST03", v),
        };
        if !version.starts_with("005010X222") {
            return Err(reject(
                ErrorKind::X12Version,
                0,
                format!("{field} `{version}` is not an 837P version (005010X222A1, 005010X222A2)"),
            ));
        }
        self.check_hierarchy()
            .map_err(|(kind, seg, message)| reject(kind, seg, message))
    }

    /// HL01 runs 1, 2, 3...; HL02 names an earlier HL of the level above;
    /// no claim or line segment before the CLM of its HL loop.
    fn check_hierarchy(&self) -> Result<(), (ErrorKind, usize, String)> {
        let e = self.element;
        let mut levels: Vec<&str> = Vec::new();
        let mut seen_clm = false;
        let inner = self.segs.len().saturating_sub(1);
        for (idx, seg) in self.segs.iter().enumerate().take(inner).skip(1) {
            match seg.tag {
                Tag::Hl => {
                    let want = levels.len() + 1;
                    let hl01 = seg.el(e, 1);
                    if hl01.parse::<usize>().ok() != Some(want) {
                        return Err((
                            ErrorKind::X12Hierarchy,
                            idx,
                            format!("HL01 is `{hl01}`, expected {want}"),
                        ));
                    }
                    let level = seg.el(e, 3);
                    let parent_level = match level {
                        "20" => None,
                        "22" => Some("20"),
                        "23" => Some("22"),
                        _ => {
                            return Err((
                                ErrorKind::X12Hierarchy,
                                idx,
                                format!(
                                    "HL03 of HL {want} is `{level}`, not 20 (billing provider), 22 (subscriber) or 23 (patient)"
                                ),
                            ))
                        }
                    };
                    let hl02 = seg.el(e, 2);
                    let parent = hl02
                        .parse::<usize>()
                        .ok()
                        .and_then(|p| p.checked_sub(1))
                        .and_then(|p| levels.get(p).copied());
                    match (parent_level, hl02, parent) {
                        (None, "", _) => {}
                        (Some(want_level), _, Some(got)) if got == want_level => {}
                        (None, _, _) => {
                            return Err((
                                ErrorKind::X12Hierarchy,
                                idx,
                                format!("HL {want} (level 20) names a parent, HL02 `{hl02}`"),
                            ))
                        }
                        (Some(want_level), _, _) => {
                            return Err((
                                ErrorKind::X12Hierarchy,
                                idx,
                                format!(
                                    "HL02 of HL {want} (level {level}) is `{hl02}`, which names no earlier HL of level {want_level}"
                                ),
                            ))
                        }
                    }
                    levels.push(level);
                    seen_clm = false;
                }
                Tag::Clm => {
                    match levels.last() {
                        None => {
                            return Err((
                                ErrorKind::X12SegmentOrder,
                                idx,
                                "CLM before any HL".into(),
                            ))
                        }
                        Some(&"20") => {
                            return Err((
                                ErrorKind::X12Hierarchy,
                                idx,
                                format!(
                                    "CLM in HL {} (level 20, billing provider): a claim belongs to a subscriber (22) or patient (23) loop",
                                    levels.len()
                                ),
                            ))
                        }
                        Some(_) => {}
                    }
                    seen_clm = true;
                }
                tag if !seen_clm && tag.claim_only() => {
                    let id = seg.id;
                    let at = match levels.len() {
                        0 => "before any HL".to_owned(),
                        hl => format!("before any CLM of HL {hl}"),
                    };
                    return Err((
                        ErrorKind::X12SegmentOrder,
                        idx,
                        format!("{id} is a claim- or line-level segment, {at}"),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The error records of a rejected transaction set: one per claim in it
    /// (named by CLM01), or one without an id when it holds no claim.
    pub fn rejected(&self, why: &Rejection, record: &mut usize) -> Vec<ClaimError> {
        let at = self.location(why.seg, None);
        let mut out: Vec<ClaimError> = self
            .segs
            .iter()
            .filter(|s| s.tag == Tag::Clm)
            .map(|clm| {
                *record += 1;
                let id = clm.el(self.element, 1);
                rejection(why, (!id.is_empty()).then(|| id.to_owned()), *record, &at)
            })
            .collect();
        if out.is_empty() {
            *record += 1;
            out.push(rejection(why, None, *record, &at));
        }
        out
    }
}

fn rejection(why: &Rejection, id: Option<String>, record: usize, at: &X12Location) -> ClaimError {
    ClaimError {
        id,
        kind: why.kind,
        message: why.message.clone(),
        path: None,
        record,
        x12: Some(Box::new(at.clone())),
        input_lost: false,
    }
}
