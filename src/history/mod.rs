//! Claim history: the services earlier claims left behind, which frequency
//! limits and intervals count, and the ledger of the claims they came from.
//!
//! A line decided allow or review becomes a service here; a denied line does not.
//! Prior history loaded with `--history` counts as allowed. The ledger keeps, per
//! patient and claim id, every version of a claim (its content hash, status and
//! decision), so that a claim sent twice is answered from the ledger instead of
//! counting twice, and a replacement or void can take an earlier claim's services
//! out again. Claims are keyed by patient and id: the history is per patient, and
//! claim ids are assigned by providers, so two patients' claims may share one.
//!
//! Two stores implement [`HistoryStore`]: [`MemoryHistory`] (one run) and
//! [`SqliteHistory`] (a file that survives restarts, with `MemoryHistory` as its
//! per-patient cache).

mod chunked;
pub mod sqlite;
mod table;
mod transaction;

use std::cell::RefCell;
use std::convert::Infallible;
use std::fmt;
use std::num::NonZeroU32;

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;
use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::claims::{Action, Claim, ClaimDecision, Decision, Reason, Text};
use crate::codes::CodeKey;
use crate::compile::CodeSet;
use crate::days::Day;
use crate::hint;
use crate::syntax::ast::SiteScope;

pub use sqlite::{SqliteHistory, StoreError};
pub use transaction::Transactional;

/// One counted service of a patient, as the store is given it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service<'a> {
    /// Date of service.
    pub date: NaiveDate,
    /// The procedure code.
    pub procedure: CodeKey,
    /// The anatomic site, if the line gave one.
    pub site: Option<&'a str>,
}

/// Which services a count looks at.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// The patient.
    pub patient: &'a str,
    /// First date counted (inclusive).
    pub from: NaiveDate,
    /// Last date counted (inclusive).
    pub to: NaiveDate,
    /// The procedures counted.
    pub set: &'a CodeSet,
    /// When given, only services with exactly this procedure code count
    /// (`per code`).
    pub code: Option<CodeKey>,
    /// Site matching, against `site`.
    pub scope: Option<SiteScope>,
    /// The site of the line being decided.
    pub site: Option<&'a str>,
}

impl Query<'_> {
    /// True when `service` is one this query counts (window, set, code, site).
    pub fn matches(&self, service: &Service<'_>) -> bool {
        service.date >= self.from
            && service.date <= self.to
            && counts_service(self.set, self.code, self.scope, self.site, service)
    }
}

/// Whether a count of `set` (only procedure `code`, when given; at a site
/// matching `site` under `scope`) counts `service`, its window aside: the
/// rule of [`Query::matches`] and of the evaluator's count of a claim's
/// earlier lines, which compares days instead of dates.
#[inline]
pub fn counts_service(
    set: &CodeSet,
    code: Option<CodeKey>,
    scope: Option<SiteScope>,
    site: Option<&str>,
    service: &Service<'_>,
) -> bool {
    set.contains(service.procedure)
        && code.is_none_or(|c| c == service.procedure)
        && site_matches(scope, site, service.site)
}

/// A patient's counted services, as a store lends them to the counts of one
/// claim: the patient's book is found once per claim rather than once per
/// count, and days are compared as numbers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window<'a> {
    /// The services, by day.
    entries: &'a [Entry],
    /// The store's site names, which `entries` hold by id.
    sites: Option<&'a Sites>,
}

/// A site as a [`Window`] knows it: 0 for none, `u32::MAX` for one never
/// recorded, which matches no stored site; found once per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteId(u32);

impl SiteId {
    /// No site: what a count that does not match sites is given.
    pub const NONE: SiteId = SiteId(0);
}

impl Window<'_> {
    /// True when the patient has no services to count.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The id of a line's site, for [`Window::count`].
    pub fn site(&self, site: Option<&str>) -> SiteId {
        SiteId(match (site, self.sites) {
            (Some(s), Some(sites)) => sites.id(s).unwrap_or(u32::MAX),
            (Some(_), None) => u32::MAX,
            (None, _) => 0,
        })
    }

    /// How many services from day `from` to day `to` (both inclusive) are in
    /// `set`, have procedure `code` when given, and match site `site` (of
    /// [`Window::site`]) under `scope`.
    pub fn count(
        &self,
        from: Day,
        to: Day,
        set: &CodeSet,
        code: Option<CodeKey>,
        scope: Option<SiteScope>,
        site: SiteId,
    ) -> u32 {
        let site = site.0;
        let counts = |e: &Entry| {
            // The code first: an equality, where membership is a search.
            code.is_none_or(|c| c == e.procedure)
                && set.contains(e.procedure)
                && match scope {
                    None => true,
                    Some(SiteScope::Strict) => e.site == site,
                    Some(SiteScope::OrUnsited) => site == 0 || e.site == 0 || e.site == site,
                }
        };
        // Every window ends on or just before the line's date, usually
        // after the patient's latest service: its end is then the list's,
        // found without a search, and services after it (a claim older than
        // others of the patient, or the same day) by a binary search rather
        // than one by one. From there the scan runs back and stops at the
        // first service before the window.
        let all = self.entries;
        let end = if all.last().is_none_or(|e| e.day <= to) {
            all.len()
        } else {
            all.partition_point(|e| e.day <= to)
        };
        let mut n = 0usize;
        for e in all.get(..end).unwrap_or_default().iter().rev() {
            if e.day < from {
                break;
            }
            n += usize::from(counts(e));
        }
        u32::try_from(n).unwrap_or(u32::MAX)
    }
}

/// Site matching as the language defines it (see `SiteScope`).
pub fn site_matches(
    scope: Option<SiteScope>,
    current: Option<&str>,
    earlier: Option<&str>,
) -> bool {
    match scope {
        None => true,
        Some(SiteScope::Strict) => current == earlier,
        Some(SiteScope::OrUnsited) => current.is_none() || earlier.is_none() || current == earlier,
    }
}

/// A stable hash of a claim's content: XXH3-128 of the
/// validated claim in a canonical byte encoding ([`canonical_bytes`]), so that
/// dotted and undotted diagnoses, defaulted fields, letter case of codes and key
/// order do not matter. The encoding is versioned and only ever extended (a new
/// optional field is written only when present), so a hash stays the same across
/// runs and program versions.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash(pub [u8; 16]);

impl ContentHash {
    /// The hash of a claim's content.
    pub fn of(claim: &Claim) -> ContentHash {
        // The encoding is written into a buffer of the thread's own, where
        // each piece is a bounds check and a store: through a `Vec`, each of
        // its some 60 pieces checked and grew the capacity, a third of the
        // hash's cost; a buffer on the stack was cleared for each claim. A
        // claim whose encoding does not fit (long texts, many lines) takes
        // the `Vec`.
        thread_local! {
            static BUF: RefCell<[u8; 1024]> = const { RefCell::new([0; 1024]) };
        }
        let fixed = BUF.with_borrow_mut(|buf| {
            let mut fixed = Fixed {
                buf,
                len: 0,
                overflow: false,
            };
            encode(claim, &mut fixed);
            let len = fixed.len;
            (!fixed.overflow).then(|| Self::of_bytes(buf.get(..len).unwrap_or_default()))
        });
        fixed.unwrap_or_else(|| {
            let mut bytes = Vec::new();
            canonical_bytes(claim, &mut bytes);
            Self::of_bytes(&bytes)
        })
    }

    fn of_bytes(bytes: &[u8]) -> ContentHash {
        // XXH3-128: a fixed, documented algorithm (stable across runs and
        // versions, as stored hashes need) and an order of magnitude cheaper
        // than SHA-256 on the per-claim path; equality of a claim id's versions
        // needs no cryptographic strength.
        ContentHash(xxhash_rust::xxh3::xxh3_128(bytes).to_le_bytes())
    }

    /// The hash as 32 lowercase hex digits.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// The canonical encoding a [`ContentHash`] is taken of: every field of the
/// validated claim in contract order, strings length-prefixed, numbers
/// little-endian, dates as days from the common era, codes as their packed text,
/// absent optional fields as a 0 byte.
pub fn canonical_bytes(claim: &Claim, out: &mut Vec<u8>) {
    encode(claim, out);
}

/// Where the canonical encoding goes: a `Vec`, or a fixed buffer that notes
/// when it is too small.
trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

struct Fixed<'a> {
    buf: &'a mut [u8],
    len: usize,
    /// Something did not fit: the encoding in `buf` is incomplete.
    overflow: bool,
}

impl Sink for Fixed<'_> {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        match self.buf.get_mut(self.len..end) {
            Some(to) => {
                to.copy_from_slice(bytes);
                self.len = end;
            }
            None => self.overflow = true,
        }
    }
}

/// The encoding of [`canonical_bytes`], into any sink: its one home.
#[inline(always)]
fn encode(claim: &Claim, out: &mut impl Sink) {
    use crate::claims::FactValue;
    #[inline(always)]
    fn text(out: &mut impl Sink, s: &str) {
        out.put(&u32_of(s.len()));
        out.put(s.as_bytes());
    }
    #[inline(always)]
    fn opt_text(out: &mut impl Sink, s: Option<&str>) {
        match s {
            None => out.put(&[0]),
            Some(s) => {
                out.put(&join::<1, 4, 5>([1], u32_of(s.len())));
                out.put(s.as_bytes());
            }
        }
    }
    #[inline(always)]
    fn opt_num(out: &mut impl Sink, n: Option<u32>) {
        match n {
            None => out.put(&[0]),
            Some(n) => out.put(&join::<1, 4, 5>([1], n.to_le_bytes())),
        }
    }
    #[inline(always)]
    fn len(out: &mut impl Sink, n: usize) {
        out.put(&u32_of(n));
    }
    #[inline(always)]
    fn u32_of(n: usize) -> [u8; 4] {
        u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes()
    }
    #[inline(always)]
    fn days(d: NaiveDate) -> [u8; 4] {
        use chrono::Datelike;
        d.num_days_from_ce().to_le_bytes()
    }
    /// `N` bytes made of `A` and `B`: fields of a fixed size are written
    /// together, one bounds check for all.
    #[inline(always)]
    fn join<const A: usize, const B: usize, const N: usize>(a: [u8; A], b: [u8; B]) -> [u8; N] {
        const { assert!(A + B == N) };
        let mut out = [0; N];
        if let Some((x, y)) = out.split_first_chunk_mut::<A>() {
            *x = a;
            if let Some(y) = y.first_chunk_mut::<B>() {
                *y = b;
            }
        }
        out
    }
    out.put(b"payer-rules claim v1\0");
    text(out, &claim.id);
    text(out, &claim.payer);
    text(out, &claim.patient.id);
    match claim.patient.birth_date {
        None => out.put(&[0]),
        Some(d) => out.put(&join::<1, 4, 5>([1], days(d))),
    }
    opt_text(out, claim.patient.sex.map(|s| s.as_str()));
    match &claim.provider {
        None => out.put(&[0]),
        Some(p) => {
            out.put(&[1]);
            opt_text(out, p.npi.as_deref());
            opt_text(out, p.taxonomy.as_deref());
        }
    }
    opt_text(out, claim.place_of_service.as_deref());
    len(out, claim.diagnoses.len());
    for d in &claim.diagnoses {
        out.put(&d.0.to_be_bytes());
    }
    len(out, claim.facts.len());
    for (name, value) in claim.facts.iter() {
        text(out, name);
        match value {
            FactValue::Bool(b) => out.put(&[1, u8::from(*b)]),
            FactValue::Number(n) => out.put(&join::<1, 8, 9>([2], n.to_bits().to_le_bytes())),
            FactValue::Text(t) => {
                out.put(&[3]);
                text(out, t);
            }
            FactValue::Date(d) => out.put(&join::<1, 4, 5>([4], days(*d))),
        }
    }
    len(out, claim.lines.len());
    for l in &claim.lines {
        let head = join::<4, 4, 8>(l.line.to_le_bytes(), days(l.date_of_service));
        let head = join::<8, 8, 16>(head, l.procedure.0.to_be_bytes());
        out.put(&join::<16, 4, 20>(head, u32_of(l.modifiers.len())));
        for m in &l.modifiers {
            text(out, m);
        }
        out.put(&join::<4, 4, 8>(
            l.units.to_le_bytes(),
            u32_of(l.diagnosis_pointers.len()),
        ));
        out.put(&l.diagnosis_pointers);
        opt_text(out, l.site.as_deref());
        opt_num(out, l.muscles);
        opt_num(out, l.injections);
        match l.charge {
            None => out.put(&[0]),
            Some(c) => out.put(&join::<1, 8, 9>([1], c.to_bits().to_le_bytes())),
        }
    }
    // Added in the claim history: written only when not the default, so the
    // hashes of claims without them are unchanged.
    if !claim.frequency.is_original() || claim.replaces.is_some() {
        out.put(b"F");
        text(out, claim.frequency.code());
        opt_text(out, claim.replaces.as_deref());
    }
}

/// Where a version of a claim stands in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Evaluated; its allowed and reviewed lines count.
    Active,
    /// Imported as paid history; all its lines count. It has no decision.
    Imported,
    /// A void claim (frequency code 8); counts nothing.
    Void,
    /// Superseded by a replacement; its services were taken out.
    Replaced,
    /// Voided by a void claim; its services were taken out.
    Voided,
}

impl Status {
    /// The name kept in the database and shown by `history show`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Imported => "imported",
            Status::Void => "void",
            Status::Replaced => "replaced",
            Status::Voided => "voided",
        }
    }

    /// Reads a name written by [`Status::as_str`].
    pub fn parse(text: &str) -> Option<Status> {
        match text {
            "active" => Some(Status::Active),
            "imported" => Some(Status::Imported),
            "void" => Some(Status::Void),
            "replaced" => Some(Status::Replaced),
            "voided" => Some(Status::Voided),
            _ => None,
        }
    }

    /// True for the version that stands for its claim id now (at most one per
    /// id): active, imported or void, not superseded.
    pub fn is_current(self) -> bool {
        matches!(self, Status::Active | Status::Imported | Status::Void)
    }
}

/// One version of a claim in the ledger: a claim id has one per distinct content
/// that was stored under it (an original, then its replacements).
#[derive(Debug, Clone)]
pub struct Version {
    /// The content hash of this version.
    pub hash: ContentHash,
    /// Where it stands.
    pub status: Status,
    /// Arrival order: versions are numbered as they are stored, across runs and
    /// processes for a database.
    pub seq: u64,
    /// Where the stored decision (compact form) is in the memory store's arena.
    decision: Option<ArenaRef>,
    /// Marks the services this version put in its patient's history
    /// ([`Entry::version`]), to take them out again.
    tag: u32,
    /// For a replaced or voided version, the claim that did it: its index
    /// in the store's list of those names plus one, 0 for none (see
    /// [`HistoryStore::replaced_by`]). Few versions are ever replaced, and
    /// a name of their own made every version 88 bytes instead of 48 in
    /// the patients' claim lists, which grow with each claim.
    replaced_by: u32,
}

/// A piece of [`Arena`] text.
#[derive(Debug, Clone, Copy)]
struct ArenaRef {
    /// The chunk's index plus one, so that `Option<ArenaRef>` takes no room
    /// of its own in a [`Version`].
    chunk: NonZeroU32,
    start: u32,
    len: u32,
}

/// Decisions kept in memory: appended to large chunks rather than allocated one
/// by one.
#[derive(Debug, Default)]
struct Arena {
    chunks: Vec<Vec<u8>>,
}

impl Arena {
    const CHUNK: usize = 1 << 20;

    fn push(&mut self, text: &[u8]) -> Option<ArenaRef> {
        let fits = self
            .chunks
            .last()
            .is_some_and(|c| c.capacity() - c.len() >= text.len());
        if !fits {
            self.chunks
                .push(Vec::with_capacity(Self::CHUNK.max(text.len())));
        }
        let chunk = self.chunks.len().checked_sub(1)?;
        let last = self.chunks.get_mut(chunk)?;
        let start = last.len();
        last.extend_from_slice(text);
        Some(ArenaRef {
            chunk: NonZeroU32::new(u32::try_from(chunk + 1).ok()?)?,
            start: u32::try_from(start).ok()?,
            len: u32::try_from(text.len()).ok()?,
        })
    }

    fn get(&self, at: ArenaRef) -> Option<&[u8]> {
        let start = at.start as usize;
        self.chunks
            .get(at.chunk.get() as usize - 1)?
            .get(start..start + at.len as usize)
    }
}

/// A stored decision as a store gives it back. Either way, the claim that is
/// answered with it (the same content, so the same id, payer, lines and codes)
/// supplies the rest of the decision.
#[derive(Debug, Clone, PartialEq)]
pub enum StoredDecision {
    /// The engine's compact form (see [`NewClaim::kept`]).
    Kept(Vec<u8>),
    /// The decision without what the claim gives back.
    Parts(DecisionParts),
}

/// A decision without its claim's id, payer, line numbers and codes.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionParts {
    /// The policy that decided it.
    pub policy: std::sync::Arc<str>,
    /// Its version.
    pub version: std::sync::Arc<str>,
    /// The claim decision.
    pub decision: ClaimDecision,
    /// Per claim line (none for a void): its decision and reasons.
    pub lines: Vec<(Action, Vec<Reason>)>,
}

/// A claim version to store.
#[derive(Debug, Clone, Copy)]
pub struct NewClaim<'a> {
    /// The patient.
    pub patient: &'a str,
    /// The claim id.
    pub id: &'a str,
    /// Its content hash.
    pub hash: ContentHash,
    /// `Active`, `Imported` or `Void`.
    pub status: Status,
    /// For a replacement or void: the claim it acts on.
    pub replaces: Option<&'a str>,
    /// The services it puts in the history, each with its claim line number.
    pub services: &'a [(u32, Service<'a>)],
    /// The decision to answer a resubmission with; `None` when imported. Its
    /// traces, if any, are not kept.
    pub decision: Option<&'a Decision>,
    /// The same decision in the engine's compact form (policy, line actions and
    /// the rule checks that fired, a few bytes), which a store that keeps
    /// decisions in memory keeps instead of the JSON.
    pub kept: Option<&'a [u8]>,
}

/// Where services and the claim ledger are kept between claims.
///
/// A store may load a patient's history lazily: [`HistoryStore::load`] is called
/// for a patient before any other method is asked about that patient. Changes
/// take effect at once for later calls; a store with transactions (SQLite) makes
/// them durable when its transaction commits.
pub trait HistoryStore {
    /// What can go wrong in the store (`Infallible` in memory).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Makes a patient's history and claims available.
    fn load(&mut self, patient: &str) -> Result<(), Self::Error>;
    /// A hint that a claim of this patient will be decided `ahead` claims
    /// after the current one (1 to 3): a store may start fetching what it
    /// will read. Changes nothing.
    fn prefetch(&self, _patient: &str, _ahead: usize) {}
    /// The patient's counted services, for the counts of one claim; see
    /// [`Window`].
    fn window(&self, patient: &str) -> Window<'_>;
    /// How many services match the query.
    fn count(&self, query: &Query<'_>) -> u32 {
        let window = self.window(query.patient);
        let site = match query.scope {
            Some(_) => window.site(query.site),
            None => SiteId::NONE,
        };
        window.count(
            Day::of(query.from),
            Day::of(query.to),
            query.set,
            query.code,
            query.scope,
            site,
        )
    }
    /// Records a service of a patient that belongs to no claim in the ledger
    /// (prior history given without claim identity).
    fn record(&mut self, patient: &str, service: Service<'_>) -> Result<(), Self::Error>;
    /// The versions stored under a patient's claim id, in arrival order.
    fn versions(&self, patient: &str, id: &str) -> &[Version];
    /// For a version the store gave (from [`HistoryStore::versions`]) that
    /// was replaced or voided: the claim that did it.
    fn replaced_by(&self, version: &Version) -> Option<&str>;
    /// The stored decision of a version; `None` for an imported one.
    fn decision(
        &mut self,
        patient: &str,
        id: &str,
        hash: ContentHash,
    ) -> Result<Option<StoredDecision>, Self::Error>;
    /// Stores a claim version and its services.
    fn store(&mut self, claim: NewClaim<'_>) -> Result<(), Self::Error>;
    /// Marks the current version of a claim `Replaced` or `Voided` by claim `by`
    /// and takes its services out of the history.
    fn retire(
        &mut self,
        patient: &str,
        id: &str,
        status: Status,
        by: &str,
    ) -> Result<(), Self::Error>;
}

/// A stored service: sites are interned, so recording allocates nothing once a
/// patient and a site have been seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    /// The date of service, as a day number: windows compare it with theirs.
    day: Day,
    procedure: CodeKey,
    /// Index into `Sites::names` plus one; 0 for no site.
    site: u32,
    /// The [`Version::tag`] of the claim version that put it here, or
    /// [`NO_VERSION`] for a service recorded without a claim. A version's
    /// services are found by their tag when it is retired, rather than each
    /// version keeping a second copy of them (an allocation per claim).
    version: u32,
}

impl Entry {
    /// A service as stored, its site interned in `sites`.
    fn new(service: &Service<'_>, sites: &mut Sites, version: u32) -> Entry {
        Entry {
            day: Day::of(service.date),
            procedure: service.procedure,
            site: sites.intern(service.site),
            version,
        }
    }
}

/// Makes room for `more` items, growing at most once: to twice the length,
/// or to the room needed when that is more (a claim's services arrive
/// together), and to at least `least` items. `Vec` starts at 4 whatever the
/// item's size; a quarter of a million patients' unused room is memory the
/// kernel has to clear, and each reallocation of a list about 200
/// instructions, so each list gets its own start.
fn grow_by<T>(list: &mut Vec<T>, more: usize, least: usize) {
    if list.capacity() - list.len() < more {
        list.reserve_exact(list.len().max(more).max(least));
    }
}

/// The [`Version::replaced_by`] of a version that claim `by` replaced or
/// voided, its name kept in `replacers`.
fn replacer(replacers: &mut Vec<Box<str>>, by: &str) -> u32 {
    replacers.push(by.into());
    u32::try_from(replacers.len()).unwrap_or(0)
}

/// The tag of services that belong to no claim version.
const NO_VERSION: u32 = u32::MAX;

/// One patient's history: services sorted by date, and claims by id.
#[derive(Debug)]
struct PatientBook {
    /// The patient id, kept here rather than in the lookup table so that the
    /// table's slots stay 4 bytes (see [`MemoryHistory`]).
    patient: Text,
    services: Vec<Entry>,
    claims: ClaimIndex,
    /// The tag the next version stored for this patient gets.
    next_tag: u32,
}

impl PatientBook {
    /// Room for the first services (see [`grow_by`]).
    const FIRST_SERVICES: usize = 4;

    fn new(patient: &str) -> PatientBook {
        PatientBook {
            patient: patient.into(),
            services: Vec::new(),
            claims: ClaimIndex::default(),
            next_tag: 0,
        }
    }

    /// Whether this is the book of `patient`.
    #[inline]
    fn is(&self, patient: &str) -> bool {
        crate::bytes::same(self.patient.as_bytes(), patient.as_bytes())
    }

    /// The next version's tag. Tags saturate: past 2^32 - 2 versions of one
    /// patient (beyond any history kept in memory) later versions would share
    /// one, and retiring one would take all their services out.
    fn tag(&mut self) -> u32 {
        let tag = self.next_tag;
        self.next_tag = self.next_tag.saturating_add(1).min(NO_VERSION - 1);
        tag
    }
}

/// A patient's claims by id. Most patients have a handful, for which a hash map
/// per patient cost more memory than the claims themselves (about 900 bytes per
/// patient at a million claims) and a cache miss more per lookup; a short list
/// searched in place does better, and a patient with many claims gets a map.
///
/// Most claims are new, and finding that an id is not there would read the
/// whole list, elsewhere in memory: `ids` has one bit per id hash (a 64-bit
/// filter kept in the patient's book), so a lookup of an id never stored
/// usually ends without touching the list.
#[derive(Debug, Default)]
struct ClaimIndex {
    ids: u64,
    claims: Claims,
}

#[derive(Debug)]
enum Claims {
    Few(Vec<(Text, Versions)>),
    Many(FxHashMap<Text, Versions>),
}

impl Default for Claims {
    fn default() -> Claims {
        Claims::Few(Vec::new())
    }
}

impl ClaimIndex {
    /// Claims a patient may have before the list becomes a map.
    const FEW: usize = 16;
    /// Room for the first claims (see [`grow_by`]).
    const FIRST: usize = 4;

    /// The filter bit of a claim id.
    fn bit(id: &str) -> u64 {
        1 << (FxBuildHasher.hash_one(id) >> 58)
    }

    fn get(&self, id: &str) -> Option<&Versions> {
        if self.ids & Self::bit(id) == 0 {
            return None;
        }
        match &self.claims {
            Claims::Few(list) => list
                .iter()
                .find(|(k, _)| crate::bytes::same(k.as_bytes(), id.as_bytes()))
                .map(|(_, v)| v),
            Claims::Many(map) => map.get(id),
        }
    }

    fn get_mut(&mut self, id: &str) -> Option<&mut Versions> {
        self.get_mut_by(id, Self::bit(id))
    }

    /// [`ClaimIndex::get_mut`] with the id's filter bit.
    fn get_mut_by(&mut self, id: &str, bit: u64) -> Option<&mut Versions> {
        if self.ids & bit == 0 {
            return None;
        }
        match &mut self.claims {
            Claims::Few(list) => list
                .iter_mut()
                .find(|(k, _)| crate::bytes::same(k.as_bytes(), id.as_bytes()))
                .map(|(_, v)| v),
            Claims::Many(map) => map.get_mut(id),
        }
    }

    /// Prefetches the end of the list, where the next claim is added (see
    /// `MemoryHistory::load`).
    fn prefetch_end(&self) {
        if let Claims::Few(list) = &self.claims {
            if let Some(last) = list.last() {
                hint::prefetch(last);
            }
        }
    }

    /// Adds a version to its claim id's list, the id's first or not.
    fn add(&mut self, id: &str, version: Version) {
        // The filter bit is hashed once, for the lookup and the insertion.
        let bit = Self::bit(id);
        if let Some(list) = self.get_mut_by(id, bit) {
            list.push(version);
            return;
        }
        self.ids |= bit;
        let (id, versions) = (Text::from(id), Versions::One(version));
        match &mut self.claims {
            Claims::Few(list) if list.len() < Self::FEW => {
                grow_by(list, 1, ClaimIndex::FIRST);
                list.push((id, versions));
            }
            Claims::Few(list) => {
                let mut map: FxHashMap<Text, Versions> = std::mem::take(list).into_iter().collect();
                map.insert(id, versions);
                self.claims = Claims::Many(map);
            }
            Claims::Many(map) => {
                map.insert(id, versions);
            }
        }
    }

    fn iter(&self) -> Box<dyn Iterator<Item = (&Text, &Versions)> + '_> {
        match &self.claims {
            Claims::Few(list) => Box::new(list.iter().map(|(k, v)| (k, v))),
            Claims::Many(map) => Box::new(map.iter()),
        }
    }
}

/// The versions of one claim id: nearly always one, kept inline.
#[derive(Debug)]
enum Versions {
    One(Version),
    Many(Vec<Version>),
}

impl Versions {
    fn as_slice(&self) -> &[Version] {
        match self {
            Versions::One(v) => std::slice::from_ref(v),
            Versions::Many(list) => list,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [Version] {
        match self {
            Versions::One(v) => std::slice::from_mut(v),
            Versions::Many(list) => list,
        }
    }

    fn push(&mut self, version: Version) {
        match self {
            Versions::Many(list) => list.push(version),
            Versions::One(_) => {
                let first = std::mem::replace(self, Versions::Many(Vec::with_capacity(2)));
                if let (Versions::One(first), Versions::Many(list)) = (first, self) {
                    list.push(first);
                    list.push(version);
                }
            }
        }
    }
}

/// History in memory: per patient, services sorted by date, so a window is found
/// by binary search rather than a scan of the patient's whole history; and the
/// claims' versions with their decisions.
///
/// At a million claims the history no longer fits in the processor's caches,
/// and finding a patient was a fifth of the run's time, waiting for memory. So
/// the lookup table holds only 4-byte indexes into `books` (a quarter of a
/// million patients take under 3 MB of table, which stays in cache) and the
/// patient id is compared in the book, which is read next anyway; and the last
/// book found is remembered, since a claim asks about its patient several times
/// in a row.
#[derive(Debug, Default)]
pub struct MemoryHistory {
    /// Indexes into `books`, hashed by patient id.
    slots: table::Table,
    books: chunked::Chunked<PatientBook>,
    /// The index of the book the last lookup found: an atomic only so that the
    /// history stays `Sync` (relaxed loads and stores are plain moves).
    last: AtomicUsize,
    sites: Sites,
    /// The claims that replaced or voided versions ([`Version::replaced_by`]).
    replacers: Vec<Box<str>>,
    next_seq: u64,
    decisions: Arena,
}

/// Sites, interned: a service keeps a 4-byte id instead of the name.
#[derive(Debug, Default)]
struct Sites {
    ids: FxHashMap<Text, u32>,
    /// Index plus one is the id; 0 is no site.
    names: Vec<Box<str>>,
}

impl Sites {
    /// Up to this many sites are found by comparing names in order, cheaper
    /// than hashing the name: a run names a handful of sites, not more.
    const FEW: usize = 8;

    /// The id of a site seen before.
    fn id(&self, site: &str) -> Option<u32> {
        if self.names.len() > Self::FEW {
            return self.ids.get(site).copied();
        }
        let at = self
            .names
            .iter()
            .position(|n| crate::bytes::same(n.as_bytes(), site.as_bytes()))?;
        u32::try_from(at + 1).ok()
    }

    /// The id of a site, given one the first time it is seen.
    fn intern(&mut self, site: Option<&str>) -> u32 {
        let Some(site) = site else { return 0 };
        if let Some(id) = self.id(site) {
            return id;
        }
        self.names.push(site.into());
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.ids.insert(site.into(), id);
        id
    }

    fn name(&self, id: u32) -> Option<&str> {
        id.checked_sub(1)
            .and_then(|i| self.names.get(i as usize))
            .map(|s| &**s)
    }
}

impl MemoryHistory {
    /// An empty history.
    pub fn new() -> MemoryHistory {
        MemoryHistory::default()
    }

    /// A patient's services, by date.
    pub fn services(&self, patient: &str) -> Vec<Service<'_>> {
        self.book(patient).map_or_else(Vec::new, |book| {
            book.services.iter().map(|e| self.service(e)).collect()
        })
    }

    /// A patient's claims: id and versions, ordered by id.
    pub fn claims(&self, patient: &str) -> Vec<(&str, &[Version])> {
        let mut out: Vec<(&str, &[Version])> = self
            .book(patient)
            .map(|b| b.claims.iter().map(|(k, v)| (&**k, v.as_slice())).collect())
            .unwrap_or_default();
        out.sort_unstable_by(|a, b| a.0.cmp(b.0));
        out
    }

    fn hash(patient: &str) -> u64 {
        FxBuildHasher.hash_one(patient)
    }

    /// The index of a patient's book.
    // Inlined where it is asked, which is several times per claim and nearly
    // always for the last book found: a call and its saved registers cost
    // more than the comparison.
    #[inline]
    fn find(&self, patient: &str) -> Option<usize> {
        let last = self.last.load(Ordering::Relaxed);
        if self.books.get(last).is_some_and(|b| b.is(patient)) {
            return Some(last);
        }
        self.find_in_table(patient)
    }

    /// [`MemoryHistory::find`] for a patient other than the last one found.
    #[inline(never)]
    fn find_in_table(&self, patient: &str) -> Option<usize> {
        let found = self.find_by_hash(patient, Self::hash(patient))?;
        self.last.store(found, Ordering::Relaxed);
        Some(found)
    }

    /// The index of a patient's book from the table alone, `last` untouched.
    fn find_by_hash(&self, patient: &str, hash: u64) -> Option<usize> {
        let books = &self.books;
        let found = self.slots.find(hash, |i| {
            books.get(i as usize).is_some_and(|b| b.is(patient))
        })?;
        Some(found as usize)
    }

    #[inline]
    fn book(&self, patient: &str) -> Option<&PatientBook> {
        self.find(patient).and_then(|i| self.books.get(i))
    }

    fn service(&self, e: &Entry) -> Service<'_> {
        Service {
            date: e.day.date(),
            procedure: e.procedure,
            site: self.sites.name(e.site),
        }
    }

    /// Number of services kept.
    pub fn len(&self) -> usize {
        self.books.iter().map(|b| b.services.len()).sum()
    }

    /// True when nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.books.is_empty()
    }

    /// Number of patients kept.
    pub fn patients(&self) -> usize {
        self.books.len()
    }

    /// Forgets everything (a cache being dropped).
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.books.clear();
        self.replacers.clear();
        self.last.store(0, Ordering::Relaxed);
    }

    /// True when the patient has an entry (possibly empty).
    pub(crate) fn has_patient(&self, patient: &str) -> bool {
        self.find(patient).is_some()
    }

    /// Makes an (empty) entry for a patient.
    pub(crate) fn touch(&mut self, patient: &str) {
        self.with_book(patient, |_| ());
    }

    /// The index of a patient's book, made empty first when missing.
    fn book_index(&mut self, patient: &str) -> usize {
        if let Some(i) = self.find(patient) {
            return i;
        }
        let i = self.books.push(PatientBook::new(patient));
        // More than u32::MAX patients in memory is beyond any run this
        // store is for; past it, lookups would miss and add books anew.
        self.slots
            .insert(Self::hash(patient), u32::try_from(i).unwrap_or(u32::MAX));
        self.last.store(i, Ordering::Relaxed);
        i
    }

    /// Runs `f` on a patient's book, made empty first when missing.
    fn with_book<R>(&mut self, patient: &str, f: impl FnOnce(&mut PatientBook) -> R) -> R {
        let index = self.book_index(patient);
        match self.books.get_mut(index) {
            Some(book) => f(book),
            None => f(&mut PatientBook::new(patient)),
        }
    }

    fn add_entry(book: &mut PatientBook, entry: Entry) {
        grow_by(&mut book.services, 1, PatientBook::FIRST_SERVICES);
        // Claims mostly arrive in date order: the insertion point is usually
        // the end, found without a search.
        if book.services.last().is_none_or(|e| e.day <= entry.day) {
            book.services.push(entry);
        } else {
            let at = book.services.partition_point(|e| e.day <= entry.day);
            book.services.insert(at, entry);
        }
    }

    /// Adds a version; `seq` 0 takes the next number. Returns its number.
    pub(crate) fn add_version(
        &mut self,
        claim: &NewClaim<'_>,
        seq: u64,
        keep_decision: bool,
    ) -> u64 {
        let seq = if seq == 0 { self.next_seq + 1 } else { seq };
        self.next_seq = self.next_seq.max(seq);
        let counts = claim.status.is_current() && claim.status != Status::Void;
        let decision = match claim.kept {
            Some(bytes) if keep_decision => self.decisions.push(bytes),
            _ => None,
        };
        let index = self.book_index(claim.patient);
        // The book and the sites are fields apart: sites are interned as the
        // entries go in, with the book found once.
        let Some(book) = self.books.get_mut(index) else {
            return seq;
        };
        let tag = book.tag();
        if counts {
            grow_by(
                &mut book.services,
                claim.services.len(),
                PatientBook::FIRST_SERVICES,
            );
            for (_, s) in claim.services {
                Self::add_entry(book, Entry::new(s, &mut self.sites, tag));
            }
        }
        book.claims.add(
            claim.id,
            Version {
                hash: claim.hash,
                status: claim.status,
                seq,
                decision,
                tag,
                replaced_by: 0,
            },
        );
        seq
    }

    /// Adds a version as loaded from a database, superseded ones included,
    /// kept in arrival order.
    pub(crate) fn add_loaded(&mut self, patient: &str, id: &str, mut version: Version) {
        self.with_book(patient, |book| {
            version.tag = book.tag();
            book.claims.add(id, version);
            if let Some(list) = book.claims.get_mut(id) {
                list.as_mut_slice().sort_by_key(|v| v.seq);
            }
        });
    }

    /// Adds loaded services of a claim's current version (or of no claim, for
    /// `claim` empty).
    pub(crate) fn add_loaded_services(
        &mut self,
        patient: &str,
        claim: &str,
        services: &[Service<'_>],
    ) {
        let tag = self
            .book(patient)
            .and_then(|book| book.claims.get(claim))
            .and_then(|list| list.as_slice().iter().find(|v| v.status.is_current()))
            .map_or(NO_VERSION, |v| v.tag);
        for s in services {
            let entry = Entry::new(s, &mut self.sites, tag);
            self.with_book(patient, |book| Self::add_entry(book, entry));
        }
    }

    /// A version as the SQLite store loads it.
    pub(crate) fn loaded_version(
        &mut self,
        hash: ContentHash,
        status: Status,
        replaced_by: Option<&str>,
        seq: u64,
    ) -> Version {
        Version {
            hash,
            status,
            seq,
            decision: None,
            tag: NO_VERSION,
            replaced_by: replaced_by.map_or(0, |by| replacer(&mut self.replacers, by)),
        }
    }

    fn retire_version(&mut self, patient: &str, id: &str, status: Status, by: &str) {
        let Some(book) = self.find(patient).and_then(|i| self.books.get_mut(i)) else {
            return;
        };
        let Some(v) = book.claims.get_mut(id).and_then(|list| {
            list.as_mut_slice()
                .iter_mut()
                .find(|v| v.status.is_current())
        }) else {
            return;
        };
        v.status = status;
        v.replaced_by = replacer(&mut self.replacers, by);
        let gone = std::mem::replace(&mut v.tag, NO_VERSION);
        if gone != NO_VERSION {
            book.services.retain(|e| e.version != gone);
        }
    }
}

impl HistoryStore for MemoryHistory {
    type Error = Infallible;

    fn load(&mut self, patient: &str) -> Result<(), Infallible> {
        // Nothing to load: all is in memory. But evaluating the claim reads the
        // patient's book, then its services (the counts), then the end of its
        // claims list (storing the claim): three cache misses, one after
        // another, at a million claims. The book was prefetched a claim
        // earlier (`prefetch`); the ends of its two lists are prefetched here,
        // to arrive while the claim's content hash is computed.
        //
        // A patient not seen before gets an empty book now rather than when
        // the claim is stored: the lookups until then (the ledger, the
        // counts) find it as the last book found, where they each searched
        // the table in vain. An empty book stores nothing.
        let index = self.book_index(patient);
        if let Some(book) = self.books.get(index) {
            if let Some(last) = book.services.last() {
                hint::prefetch(last);
            }
            book.claims.prefetch_end();
        }
        Ok(())
    }

    fn prefetch(&self, patient: &str, ahead: usize) {
        let hash = Self::hash(patient);
        match ahead {
            // The table's line, found from the hash alone.
            3.. => self.slots.prefetch(hash),
            // The table's line is in cache by now; the book is only
            // prefetched, since comparing its patient id would wait for it.
            // An entry of another patient with the same tag (rare) is a
            // wasted hint.
            2 => {
                for i in self.slots.candidates(hash).take(2) {
                    if let Some(book) = self.books.get(i as usize) {
                        hint::prefetch(book);
                        hint::prefetch(&book.claims);
                    }
                }
            }
            // The book is in cache by now: the ends of its lists, which the
            // counts and the storing of the claim read. (Found without `find`,
            // whose `last` is to name the claim being decided.)
            _ => {
                let found = self.find_by_hash(patient, hash);
                if let Some(book) = found.and_then(|i| self.books.get(i)) {
                    if let Some(last) = book.services.last() {
                        hint::prefetch(last);
                    }
                    book.claims.prefetch_end();
                }
            }
        }
    }

    fn window(&self, patient: &str) -> Window<'_> {
        Window {
            entries: self.book(patient).map_or(&[], |book| &book.services),
            sites: Some(&self.sites),
        }
    }

    fn record(&mut self, patient: &str, service: Service<'_>) -> Result<(), Infallible> {
        let entry = Entry::new(&service, &mut self.sites, NO_VERSION);
        self.with_book(patient, |book| Self::add_entry(book, entry));
        Ok(())
    }

    fn versions(&self, patient: &str, id: &str) -> &[Version] {
        self.book(patient)
            .and_then(|b| b.claims.get(id))
            .map_or(&[], Versions::as_slice)
    }

    fn replaced_by(&self, version: &Version) -> Option<&str> {
        let at = version.replaced_by.checked_sub(1)?;
        self.replacers.get(at as usize).map(|by| &**by)
    }

    fn decision(
        &mut self,
        patient: &str,
        id: &str,
        hash: ContentHash,
    ) -> Result<Option<StoredDecision>, Infallible> {
        Ok(self
            .versions(patient, id)
            .iter()
            .find(|v| v.hash == hash)
            .and_then(|v| v.decision)
            .and_then(|at| self.decisions.get(at))
            .map(|b| StoredDecision::Kept(b.to_vec())))
    }

    fn store(&mut self, claim: NewClaim<'_>) -> Result<(), Infallible> {
        self.add_version(&claim, 0, true);
        Ok(())
    }

    fn retire(
        &mut self,
        patient: &str,
        id: &str,
        status: Status,
        by: &str,
    ) -> Result<(), Infallible> {
        self.retire_version(patient, id, status, by);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn claim_index_finds_every_id_before_and_after_it_becomes_a_map() {
        let mut index = ClaimIndex::default();
        let mut h = MemoryHistory::new();
        let mut version = |seq| h.loaded_version(ContentHash([0; 16]), Status::Active, None, seq);
        for n in 0..40u64 {
            index.add(&format!("C{n}"), version(n));
            for m in 0..=n {
                let got = index.get(&format!("C{m}")).map(|v| v.as_slice()[0].seq);
                assert_eq!(got, Some(m), "after {n} inserts");
            }
            assert!(index.get("missing").is_none());
            assert_eq!(index.iter().count() as u64, n + 1);
            let is_map = matches!(index.claims, Claims::Many(_));
            assert_eq!(is_map, n as usize >= ClaimIndex::FEW, "after {n} inserts");
        }
        // A second version of an id, in the map and in a list.
        index.add("C3", version(99));
        assert_eq!(index.get("C3").map(|v| v.as_slice().len()), Some(2));
        let mut few = ClaimIndex::default();
        few.add("C1", version(1));
        few.add("C2", version(2));
        few.add("C1", version(3));
        let seqs = |i: &ClaimIndex, id| {
            i.get(id)
                .map(|v| v.as_slice().iter().map(|v| v.seq).collect::<Vec<_>>())
        };
        assert_eq!(seqs(&few, "C1"), Some(vec![1, 3]));
        assert_eq!(seqs(&few, "C2"), Some(vec![2]));
        assert_eq!(few.iter().count(), 2);
    }

    use super::*;
    use crate::syntax::ast::CodeEntry;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    fn svc<'a>(d: &str, code: &str, site: Option<&'a str>) -> Service<'a> {
        Service {
            date: date(d),
            procedure: CodeKey::parse(code).unwrap_or_default(),
            site,
        }
    }

    /// The two TPI codes, 20552 and 20553.
    fn tpi_codes() -> CodeSet {
        CodeSet::from_entries(&[
            CodeEntry::Code("20552".into()),
            CodeEntry::Code("20553".into()),
        ])
    }

    #[test]
    fn a_window_counts_what_the_query_matches() {
        // Generated services, recorded out of date order, against every kind
        // of window, code, scope and site: the window's backward scan over
        // day numbers counts exactly the services `Query::matches` accepts.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let base = date("2025-12-01");
        let day = |n: u64| base + chrono::Days::new(n);
        let codes = ["20552", "20553", "J3301"];
        let sites = [None, Some("cervical"), Some("lumbar")];
        let tpi = tpi_codes();
        let mut h = MemoryHistory::new();
        for _ in 0..60 {
            let s = Service {
                date: day(next(90)),
                procedure: CodeKey::parse(codes[next(3) as usize]).unwrap_or_default(),
                site: sites[next(3) as usize],
            };
            let _ = h.record("P", s);
        }
        let stored = h.services("P");
        let line_sites = [None, Some("cervical"), Some("thoracic")];
        let scopes = [None, Some(SiteScope::Strict), Some(SiteScope::OrUnsited)];
        let mut nonzero = 0;
        for _ in 0..3000 {
            let from = day(next(100));
            let to = day(next(100));
            let q = Query {
                patient: "P",
                from,
                to,
                set: &tpi,
                code: [None, CodeKey::parse("20553")][next(2) as usize],
                scope: scopes[next(3) as usize],
                site: line_sites[next(3) as usize],
            };
            let want = stored.iter().filter(|s| q.matches(s)).count() as u32;
            assert_eq!(h.count(&q), want, "{q:?}");
            nonzero += usize::from(want > 0);
        }
        assert!(nonzero > 500, "{nonzero} windows held services");
        assert_eq!(
            h.window("nobody")
                .count(Day::MIN, Day::MAX, &tpi, None, None, SiteId::NONE),
            0
        );
    }

    #[test]
    fn prefetching_and_loading_change_nothing() {
        let tpi = tpi_codes();
        let mut h = MemoryHistory::new();
        let _ = h.record("P1", svc("2026-01-10", "20553", Some("cervical")));
        let _ = h.record("P2", svc("2026-01-11", "20552", None));
        let _ = h.record("P2", svc("2026-01-12", "20552", None));
        let q = |patient| Query {
            patient,
            from: date("2026-01-01"),
            to: date("2026-01-31"),
            set: &tpi,
            code: None,
            scope: None,
            site: None,
        };
        let counts = |h: &MemoryHistory| (h.count(&q("P1")), h.count(&q("P2")));
        assert_eq!(counts(&h), (1, 2));
        for patient in ["P2", "P1", "nobody", ""] {
            for ahead in [3, 2, 1] {
                h.prefetch(patient, ahead);
            }
            let _ = h.load(patient);
            assert_eq!(counts(&h), (1, 2), "after {patient:?}");
        }
        // A patient loaded has a book, empty when new: it holds nothing.
        assert!(h.has_patient("nobody"));
        assert!(h.services("nobody").is_empty() && h.versions("nobody", "C1").is_empty());
        assert_eq!((h.patients(), h.len()), (4, 3));
    }

    #[test]
    fn counts_by_window_set_and_site() {
        let tpi = tpi_codes();
        let mut h = MemoryHistory::new();
        let _ = h.record("P1", svc("2026-01-10", "20553", Some("cervical")));
        let _ = h.record("P1", svc("2026-01-01", "20552", None));
        let _ = h.record("P1", svc("2026-01-20", "J3301", None));
        let _ = h.record("P2", svc("2026-01-10", "20553", Some("cervical")));
        let q = |from, to, scope, site| Query {
            patient: "P1",
            from: date(from),
            to: date(to),
            set: &tpi,
            code: None,
            scope,
            site,
        };
        assert_eq!(h.count(&q("2026-01-01", "2026-01-31", None, None)), 2);
        assert_eq!(h.count(&q("2026-01-02", "2026-01-31", None, None)), 1);
        assert_eq!(h.count(&q("2026-01-01", "2026-01-09", None, None)), 1);
        assert_eq!(
            h.count(&q(
                "2026-01-01",
                "2026-01-31",
                Some(SiteScope::Strict),
                Some("cervical")
            )),
            1
        );
        assert_eq!(
            h.count(&q(
                "2026-01-01",
                "2026-01-31",
                Some(SiteScope::Strict),
                None
            )),
            1
        );
        assert_eq!(
            h.count(&q(
                "2026-01-01",
                "2026-01-31",
                Some(SiteScope::OrUnsited),
                Some("lumbar")
            )),
            1
        );
        assert_eq!(
            h.count(&q(
                "2026-01-01",
                "2026-01-31",
                Some(SiteScope::OrUnsited),
                None
            )),
            2
        );
        assert_eq!(
            h.services("P1").first().map(|s| s.date),
            Some(date("2026-01-01"))
        );
    }

    #[test]
    fn per_code_counts_only_the_same_procedure() {
        let tpi = tpi_codes();
        let mut h = MemoryHistory::new();
        let _ = h.record("P1", svc("2026-01-10", "20553", None));
        let _ = h.record("P1", svc("2026-01-10", "20552", None));
        let _ = h.record("P1", svc("2026-01-11", "20553", None));
        let q = |code: Option<&str>| Query {
            patient: "P1",
            from: date("2026-01-01"),
            to: date("2026-01-31"),
            set: &tpi,
            code: code.and_then(CodeKey::parse),
            scope: None,
            site: None,
        };
        assert_eq!(h.count(&q(None)), 3);
        assert_eq!(h.count(&q(Some("20553"))), 2);
        assert_eq!(h.count(&q(Some("20552"))), 1);
        assert_eq!(
            h.count(&q(Some("J3301"))),
            0,
            "a code outside the set counts nothing"
        );
    }

    #[test]
    fn retiring_a_version_takes_out_its_own_services_only() {
        let tpi = tpi_codes();
        let mut h = MemoryHistory::new();
        let same = [(1, svc("2026-01-10", "20553", Some("neck")))];
        let store = |h: &mut MemoryHistory, id: &str| {
            let _ = h.store(NewClaim {
                patient: "P1",
                id,
                hash: ContentHash([0; 16]),
                status: Status::Active,
                replaces: None,
                services: &same,
                decision: None,
                kept: None,
            });
        };
        store(&mut h, "A");
        store(&mut h, "B");
        let _ = h.record("P1", svc("2026-01-10", "20553", Some("neck")));
        // Loaded from a database: a version, then its services.
        let loaded = h.loaded_version(ContentHash([1; 16]), Status::Active, None, 9);
        h.add_loaded("P1", "C", loaded);
        h.add_loaded_services("P1", "C", &[svc("2026-01-11", "20552", None)]);
        let all = Query {
            patient: "P1",
            from: date("2026-01-01"),
            to: date("2026-01-31"),
            set: &tpi,
            code: None,
            scope: None,
            site: None,
        };
        assert_eq!(h.count(&all), 4);
        let _ = h.retire("P1", "A", Status::Replaced, "A2");
        assert_eq!(
            h.count(&all),
            3,
            "A's one service goes, B's equal one stays"
        );
        let _ = h.retire("P1", "A", Status::Replaced, "A3");
        assert_eq!(
            h.count(&all),
            3,
            "a retired version has nothing left to take out"
        );
        let _ = h.retire("P1", "C", Status::Voided, "C2");
        assert_eq!(h.count(&all), 2, "a loaded version's services go too");
        assert_eq!(
            h.versions("P1", "A").first().map(|v| v.status),
            Some(Status::Replaced)
        );
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn finds_every_patient_among_many() {
        let mut h = MemoryHistory::new();
        for n in 0..5000 {
            let _ = h.record(&format!("P{n}"), svc("2026-01-10", "20553", None));
        }
        assert_eq!(h.patients(), 5000);
        for n in (0..5000).rev() {
            assert_eq!(h.services(&format!("P{n}")).len(), 1, "P{n}");
        }
        assert!(h.services("P5000").is_empty());
        assert!(!h.has_patient("missing"));
        h.clear();
        assert!(h.is_empty() && !h.has_patient("P1"));
    }

    #[test]
    fn a_version_takes_48_bytes() {
        // The patients' claim lists grow with every claim: what a version
        // takes is copied whenever one grows.
        assert_eq!(std::mem::size_of::<Version>(), 48);
        assert_eq!(std::mem::size_of::<Versions>(), 48);
    }

    #[test]
    fn sites_are_found_by_name_before_and_after_the_map() {
        let mut sites = Sites::default();
        let names: Vec<String> = (0..20).map(|n| format!("site{n}")).collect();
        for (n, name) in names.iter().enumerate() {
            assert_eq!(sites.id(name), None);
            assert_eq!(sites.intern(Some(name)), n as u32 + 1);
            for (m, seen) in names.iter().enumerate().take(n + 1) {
                assert_eq!(sites.id(seen), Some(m as u32 + 1), "after {n}");
                assert_eq!(sites.intern(Some(seen)), m as u32 + 1);
                assert_eq!(sites.name(m as u32 + 1), Some(seen.as_str()));
            }
        }
        assert_eq!(sites.intern(None), 0);
        assert_eq!(sites.name(0), None);
    }

    #[test]
    fn site_matching_table() {
        use SiteScope::*;
        let cases = [
            (None, Some("a"), Some("b"), true),
            (Some(Strict), Some("a"), Some("a"), true),
            (Some(Strict), Some("a"), Some("b"), false),
            (Some(Strict), None, None, true),
            (Some(Strict), None, Some("a"), false),
            (Some(OrUnsited), None, Some("a"), true),
            (Some(OrUnsited), Some("a"), None, true),
            (Some(OrUnsited), Some("a"), Some("b"), false),
        ];
        for (scope, cur, earlier, want) in cases {
            assert_eq!(
                site_matches(scope, cur, earlier),
                want,
                "{scope:?} {cur:?} {earlier:?}"
            );
        }
    }
}
