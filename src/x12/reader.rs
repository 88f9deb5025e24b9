//! The X12 claim reader: interchanges, groups and transaction sets read one
//! segment at a time, each transaction set checked and mapped whole, and the
//! envelope trailers (GE, IEA) checked against what they close.
//!
//! Memory is bounded by one transaction set plus the answers waiting for
//! their group and interchange to close: a group or interchange whose trailer
//! is wrong is rejected with every claim in it, so answers are held until the
//! IEA, up to [`HELD`] of them; past that they are released early, and a
//! rejection that comes later says how many had already gone.

use std::collections::VecDeque;
use std::io::BufRead;
use std::sync::Arc;

use crate::claims::{Claim, ClaimError, ErrorKind, Warning, X12Location};

use super::map::map_claims;
use super::payer_ids::PayerIds;
use super::tokenizer::{positions, segment_id, ReadError, SegPos, Tokenizer, TxEnd};
use super::transaction::{segments, Envelope, Rejection, Seg, Tx};

/// How many answers wait for their interchange's IEA at most.
pub const HELD: usize = 4096;

/// An answer and the envelopes it lies in.
struct Held {
    item: Result<Claim, ClaimError>,
    record: usize,
    interchange: u64,
    group: u64,
}

/// Where the reader is in the envelope structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    /// Before an ISA (at the start, or after an IEA).
    Outside,
    /// Inside an interchange, outside any group.
    Interchange,
    /// Inside a group, outside any transaction set.
    Group,
    /// The input is done (or unreadable).
    Done,
}

/// Reads claims from an X12 837P input.
pub struct X12Reader<R> {
    tok: Tokenizer<R>,
    payer_ids: Option<Arc<PayerIds>>,
    level: Level,
    held: VecDeque<Held>,
    /// How many of `held` may go out.
    ready: usize,
    warnings: Vec<Warning>,
    record: usize,
    envelope: Envelope,
    /// ISA/GS places, for trailer errors and rejections.
    isa_at: X12Location,
    gs_at: X12Location,
    interchange: u64,
    group: u64,
    groups_in_interchange: u64,
    transactions_in_group: u64,
    /// Answers of the open group or interchange already released early.
    released_group: usize,
    released_interchange: usize,
    /// A segment read but not yet handled (the one after a missing trailer).
    pending: Option<SegPos>,
    buf: Vec<u8>,
    segs: Vec<SegPos>,
    /// The element separators' positions in the transaction set's segments.
    cuts: Vec<u32>,
    /// The answers of the transaction set being mapped (empty between them).
    answers: Vec<(usize, Result<Claim, ClaimError>)>,
    /// Whether any ISA was found.
    seen_isa: bool,
    /// The record number of the answer returned last (0 before the first).
    last: usize,
}

impl<R: BufRead> X12Reader<R> {
    /// A reader over `input`, which starts `offset` bytes into the file.
    pub fn new(input: R, offset: u64, payer_ids: Option<Arc<PayerIds>>) -> X12Reader<R> {
        X12Reader {
            tok: Tokenizer::new(input, offset),
            payer_ids,
            level: Level::Outside,
            held: VecDeque::new(),
            ready: 0,
            warnings: Vec::new(),
            record: 0,
            envelope: Envelope::default(),
            isa_at: X12Location::default(),
            gs_at: X12Location::default(),
            interchange: 0,
            group: 0,
            groups_in_interchange: 0,
            transactions_in_group: 0,
            released_group: 0,
            released_interchange: 0,
            pending: None,
            buf: Vec::new(),
            segs: Vec::new(),
            cuts: Vec::new(),
            answers: Vec::new(),
            seen_isa: false,
            last: 0,
        }
    }

    /// The record number of the answer returned last, as its error record
    /// would say (0 before the first).
    pub fn last_record(&self) -> usize {
        self.last
    }

    /// Warnings noticed since the last call.
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.warnings)
    }

    fn hold(&mut self, record: usize, item: Result<Claim, ClaimError>) {
        self.held.push_back(Held {
            item,
            record,
            interchange: self.interchange,
            group: self.group,
        });
        if self.held.len() - self.ready > HELD {
            // Release all: the rest of the interchange streams.
            let early = self.held.len() - self.ready;
            self.released_group += self
                .held
                .iter()
                .skip(self.ready)
                .filter(|h| h.group == self.group)
                .count();
            self.released_interchange += early;
            self.ready = self.held.len();
        }
    }

    /// An error record that stands alone (no claim), at `at`.
    fn alone(&mut self, kind: ErrorKind, message: String, at: X12Location) {
        self.record += 1;
        let err = ClaimError {
            id: None,
            kind,
            message,
            path: None,
            record: self.record,
            x12: Some(Box::new(at)),
            input_lost: false,
        };
        self.hold(self.record, Err(err));
    }

    /// The input failed to read: an error record of its own, which says that
    /// what follows is lost (see `ClaimError::input_lost`).
    fn lost(&mut self, err: &std::io::Error) {
        self.alone(
            ErrorKind::X12Syntax,
            format!("cannot read input: {err}"),
            X12Location::default(),
        );
        if let Some(Held { item: Err(err), .. }) = self.held.back_mut() {
            err.input_lost = true;
        }
    }

    /// Where a segment outside any transaction set lies.
    fn at(&self, pos: SegPos, id: &str) -> X12Location {
        X12Location {
            interchange: (self.level != Level::Outside).then(|| self.envelope.interchange.clone()),
            group: (self.level == Level::Group)
                .then(|| self.envelope.group.clone())
                .flatten(),
            transaction: None,
            loop_id: None,
            segment: Some(id.to_owned()),
            ordinal: Some(pos.ordinal),
            offset: Some(pos.offset),
        }
    }

    /// Rejects every held claim of the open group (`group`) or interchange
    /// (`!group`); a record of its own when there is none, so that the
    /// rejection is always seen.
    fn reject_open(&mut self, group: bool, kind: ErrorKind, message: String, at: X12Location) {
        let (interchange, group_n) = (self.interchange, self.group);
        let released = if group {
            self.released_group
        } else {
            self.released_interchange
        };
        let message = if released > 0 {
            format!("{message} ({released} answers of it had already been released)")
        } else {
            message
        };
        // Claims of the group or interchange are rejected with it; records
        // already errors keep their own reason.
        let mut any = false;
        for held in self.held.iter_mut().skip(self.ready) {
            let inside = held.interchange == interchange && (!group || held.group == group_n);
            let Ok(claim) = &held.item else {
                continue;
            };
            if !inside {
                continue;
            }
            any = true;
            held.item = Err(ClaimError {
                id: Some(claim.id.to_string()),
                kind,
                message: message.clone(),
                path: None,
                record: held.record,
                x12: Some(Box::new(at.clone())),
                input_lost: false,
            });
        }
        if !any {
            self.alone(kind, message, at);
        }
    }

    /// Reads and handles segments until an answer is ready or the input ends.
    fn step(&mut self) {
        match self.level {
            Level::Done => {}
            Level::Outside => self.read_isa(),
            Level::Interchange | Level::Group => {
                let pos = match self.pending.take() {
                    Some(pos) => Some(pos),
                    None => {
                        self.buf.clear();
                        match self.tok.next_segment(&mut self.buf) {
                            Ok(pos) => pos,
                            Err(err) => {
                                self.read_failed(err);
                                return;
                            }
                        }
                    }
                };
                match pos {
                    Some(pos) => self.envelope_segment(pos),
                    None => self.ended(),
                }
            }
        }
    }

    fn read_isa(&mut self) {
        match self.tok.read_isa() {
            Ok(None) => {
                if !self.seen_isa {
                    self.alone(
                        ErrorKind::X12Syntax,
                        "the input holds no ISA segment: it is not an X12 interchange".into(),
                        X12Location::default(),
                    );
                }
                self.level = Level::Done;
            }
            Ok(Some(Err((why, pos)))) => {
                let at = self.at(pos, "ISA");
                self.alone(
                    ErrorKind::X12Syntax,
                    format!("interchange rejected: {why}"),
                    at,
                );
                // Without delimiters nothing after it can be read.
                self.level = Level::Done;
            }
            Ok(Some(Ok(isa))) => {
                self.seen_isa = true;
                let e = isa.delimiters.element;
                let isa13 = isa.text.split(|&b| b == e).nth(13).unwrap_or_default();
                self.envelope = Envelope {
                    interchange: String::from_utf8_lossy(isa13).trim().to_owned(),
                    group: None,
                    version: String::new(),
                };
                self.interchange += 1;
                self.groups_in_interchange = 0;
                self.released_interchange = 0;
                self.level = Level::Interchange;
                self.isa_at = self.at(isa.pos, "ISA");
            }
            Err(err) => {
                self.lost(&err);
                self.level = Level::Done;
            }
        }
    }

    fn read_failed(&mut self, err: ReadError) {
        match err {
            ReadError::Io(err) => {
                self.lost(&err);
                self.level = Level::Done;
                self.ready = self.held.len();
            }
            ReadError::Unterminated(pos) => {
                let e = self.tok.delimiters().element;
                let id = segment_id(self.buf.get(pos.start..pos.end).unwrap_or_default(), e);
                let id = String::from_utf8_lossy(id).into_owned();
                let at = self.at(pos, &id);
                self.alone(
                    ErrorKind::X12Syntax,
                    "the input ends inside a segment (no segment terminator)".into(),
                    at,
                );
                self.ended();
            }
        }
    }

    /// The input ended: whatever is open misses its trailer.
    fn ended(&mut self) {
        if self.level == Level::Group {
            let at = self.gs_at.clone();
            self.reject_open(
                true,
                ErrorKind::X12Envelope,
                format!(
                    "group {} rejected: the input ends before its GE",
                    self.envelope.group.as_deref().unwrap_or_default()
                ),
                at,
            );
        }
        if matches!(self.level, Level::Group | Level::Interchange) {
            let at = self.isa_at.clone();
            self.reject_open(
                false,
                ErrorKind::X12Envelope,
                format!(
                    "interchange {} rejected: the input ends before its IEA",
                    self.envelope.interchange
                ),
                at,
            );
        }
        self.level = Level::Done;
        self.ready = self.held.len();
    }

    fn text(&self, pos: SegPos) -> &str {
        let bytes = self.buf.get(pos.start..pos.end).unwrap_or_default();
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    fn element(&self, pos: SegPos, n: usize) -> String {
        let e = char::from(self.tok.delimiters().element);
        self.text(pos)
            .split(e)
            .nth(n)
            .unwrap_or_default()
            .to_owned()
    }

    fn envelope_segment(&mut self, pos: SegPos) {
        let e = self.tok.delimiters().element;
        let id = segment_id(self.buf.get(pos.start..pos.end).unwrap_or_default(), e);
        let id = String::from_utf8_lossy(id).into_owned();
        match (self.level, id.as_str()) {
            (Level::Interchange, "GS") => {
                self.envelope.group = Some(self.element(pos, 6));
                self.envelope.version = self.element(pos, 8);
                self.group += 1;
                self.groups_in_interchange += 1;
                self.transactions_in_group = 0;
                self.released_group = 0;
                self.level = Level::Group;
                self.gs_at = self.at(pos, "GS");
            }
            (Level::Interchange, "IEA") => {
                let at = self.at(pos, "IEA");
                let (iea01, iea02) = (self.element(pos, 1), self.element(pos, 2));
                let isa13 = self.envelope.interchange.clone();
                if iea01.trim().parse::<u64>().ok() != Some(self.groups_in_interchange) {
                    let n = self.groups_in_interchange;
                    self.reject_open(
                        false,
                        ErrorKind::X12GroupCount,
                        format!("interchange {isa13} rejected: IEA01 says `{iea01}` groups, the interchange has {n}"),
                        at,
                    );
                } else if iea02.trim() != isa13 {
                    self.reject_open(
                        false,
                        ErrorKind::X12ControlNumber,
                        format!("interchange {isa13} rejected: IEA02 `{iea02}` differs from ISA13 `{isa13}`"),
                        at,
                    );
                }
                self.level = Level::Outside;
                self.ready = self.held.len();
            }
            (Level::Group, "ST") => self.transaction(pos),
            (Level::Group, "GE") => {
                let at = self.at(pos, "GE");
                let (ge01, ge02) = (self.element(pos, 1), self.element(pos, 2));
                let gs06 = self.envelope.group.clone().unwrap_or_default();
                if ge01.trim().parse::<u64>().ok() != Some(self.transactions_in_group) {
                    let n = self.transactions_in_group;
                    self.reject_open(
                        true,
                        ErrorKind::X12TransactionCount,
                        format!("group {gs06} rejected: GE01 says `{ge01}` transaction sets, the group has {n}"),
                        at,
                    );
                } else if ge02 != gs06 {
                    self.reject_open(
                        true,
                        ErrorKind::X12ControlNumber,
                        format!("group {gs06} rejected: GE02 `{ge02}` differs from GS06 `{gs06}`"),
                        at,
                    );
                }
                self.level = Level::Interchange;
            }
            (Level::Group, "IEA") => {
                // The group never closed: reject it, then close the interchange.
                let at = self.gs_at.clone();
                let gs06 = self.envelope.group.clone().unwrap_or_default();
                self.reject_open(
                    true,
                    ErrorKind::X12Envelope,
                    format!("group {gs06} rejected: IEA before its GE"),
                    at,
                );
                self.level = Level::Interchange;
                self.pending = Some(pos);
            }
            (_, "ISA") => {
                let at = self.at(pos, "ISA");
                let isa13 = self.envelope.interchange.clone();
                self.reject_open(
                    false,
                    ErrorKind::X12Envelope,
                    format!("interchange {isa13} rejected: an ISA before its IEA; the rest of the input is not read"),
                    at,
                );
                self.level = Level::Done;
                self.ready = self.held.len();
            }
            (level, _) => {
                let at = self.at(pos, &id);
                let place = if level == Level::Group {
                    "outside any transaction set (ST..SE)"
                } else {
                    "outside any functional group (GS..GE)"
                };
                self.alone(
                    ErrorKind::X12Envelope,
                    format!("segment `{id}` is {place}; it is skipped"),
                    at,
                );
            }
        }
    }

    /// Reads a transaction set from its ST to its SE, then checks and maps it.
    fn transaction(&mut self, st: SegPos) {
        self.transactions_in_group += 1;
        // `buf` holds the ST from `st.start`; keep reading into it. The ST,
        // read alone, has its separators found here; the tokenizer finds the
        // others' as it reads them.
        let e = self.tok.delimiters().element;
        self.segs.clear();
        self.cuts.clear();
        let st_text = self.buf.get(st.start..st.end).unwrap_or_default();
        self.cuts
            .extend(positions(st_text, e).filter_map(|at| u32::try_from(at).ok()));
        self.segs.push(SegPos {
            cuts: (0, u32::try_from(self.cuts.len()).unwrap_or(u32::MAX)),
            ..st
        });
        let closed = match self
            .tok
            .read_transaction(&mut self.buf, &mut self.segs, &mut self.cuts)
        {
            Ok(TxEnd::Se(pos)) => {
                self.segs.push(pos);
                Ok(())
            }
            Ok(TxEnd::Envelope(pos)) => Err(Some(pos)),
            Ok(TxEnd::Eof) => Err(None),
            Err(ReadError::Unterminated(pos)) => {
                self.segs.push(pos);
                Err(None)
            }
            Err(ReadError::Io(err)) => {
                self.read_failed(ReadError::Io(err));
                return;
            }
        };
        // The answers' list is kept from one transaction set to the next
        // (grown for a thousand claims, each some 350 bytes, it was copied
        // ten times over).
        let mut out = std::mem::take(&mut self.answers);
        let mut warnings = Vec::new();
        let mut record = self.record;
        {
            let text = simdutf8::basic::from_utf8(&self.buf);
            let element = char::from(e);
            let component = char::from(self.tok.delimiters().component);
            let segs: Vec<Seg<'_>> = match text {
                Ok(text) => segments(text, &self.segs, &self.cuts),
                Err(_) => Vec::new(),
            };
            let tx = Tx {
                segs,
                pos: &self.segs,
                element,
                component,
                envelope: &self.envelope,
            };
            let verdict = if text.is_err() {
                Err(Rejection {
                    kind: ErrorKind::X12Syntax,
                    message: "transaction set rejected: it is not valid UTF-8".into(),
                    seg: 0,
                })
            } else if let Err(next) = closed {
                let why = match next {
                    Some(_) => "a segment of the envelope comes before its SE",
                    None => "the input ends before its SE",
                };
                Err(Rejection {
                    kind: ErrorKind::X12Envelope,
                    message: format!("transaction set {} rejected: {why}", tx.control()),
                    seg: 0,
                })
            } else {
                tx.check()
            };
            match verdict {
                Ok(()) => map_claims(
                    &tx,
                    self.payer_ids.as_deref(),
                    &mut record,
                    &mut out,
                    &mut warnings,
                ),
                Err(why) => out.extend(
                    tx.rejected(&why, &mut record)
                        .into_iter()
                        .map(|err| (err.record, Err(err))),
                ),
            }
        }
        self.record = record;
        self.warnings.append(&mut warnings);
        for (record, item) in out.drain(..) {
            self.hold(record, item);
        }
        self.answers = out;
        if let Err(next) = closed {
            match next {
                Some(pos) => {
                    // The envelope segment goes to the loop again, read into
                    // a fresh buffer.
                    let bytes = self
                        .buf
                        .get(pos.start..pos.end)
                        .unwrap_or_default()
                        .to_vec();
                    self.buf.clear();
                    self.buf.extend_from_slice(&bytes);
                    self.pending = Some(SegPos {
                        start: 0,
                        end: bytes.len(),
                        ..pos
                    });
                }
                None => self.ended(),
            }
        }
    }
}

impl<R: BufRead> Iterator for X12Reader<R> {
    type Item = Result<Claim, ClaimError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.ready > 0 {
                self.ready -= 1;
                return self.held.pop_front().map(|h| {
                    self.last = h.record;
                    h.item
                });
            }
            if self.level == Level::Done {
                // Nothing is left to wait for.
                self.ready = self.held.len();
                if self.ready == 0 {
                    return None;
                }
                continue;
            }
            self.step();
        }
    }
}
