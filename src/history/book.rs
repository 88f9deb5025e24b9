//! One member's book in the memory store (a member id under one payer): the
//! services sorted by date, each tagged with the claim version that put it
//! there, and the claims' versions by id.

use super::window::BILATERAL;
use super::*;

/// A stored service: its site and modifiers are interned together (a
/// mark, see [`Marks`]), so recording allocates nothing once a patient and
/// a mark have been seen. 32 bytes: units and modifier 50 fill what was
/// padding, and the charge is the one field more, kept beside the others
/// rather than in a list of its own (a second list per patient cost each
/// new patient an allocation and each service a second store, where the
/// counts of lines scan a patient's few services either way).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Entry {
    /// The date of service, as a day number: windows compare it with theirs.
    pub(super) day: Day,
    /// Its site and modifiers, as a mark of the store's [`Marks`]; 0 for
    /// no site and no modifiers.
    pub(super) mark: u32,
    pub(super) procedure: CodeKey,
    /// The [`Version::tag`] of the claim version that put it here, or
    /// [`NO_VERSION`] for a service recorded without a claim. A version's
    /// services are found by their tag when it is retired, rather than each
    /// version keeping a second copy of them (an allocation per claim).
    pub(super) version: u32,
    /// The units (up to [`MAX_UNITS`]) and, in the top bit, modifier 50.
    units: u32,
    /// The charge; NaN for none (a claim's charge is a finite number).
    charge: f64,
}

// What a patient's services cost in memory: a change of size shows here
// and in `docs/performance.md`'s figures.
const _: () = assert!(std::mem::size_of::<Entry>() == 32);

impl Entry {
    /// A service as stored, its site and modifiers interned in `marks`. A
    /// service with the modifier-50 flag and no `50` among its modifiers (a
    /// row stored before history kept them) is kept billed with 50, so that
    /// `with modifier "50"` and `other.modifiers` read it as the flag says.
    #[inline]
    pub(super) fn new(service: &Service<'_>, marks: &mut Marks, version: u32) -> Entry {
        let billed = if service.bilateral() {
            service.modifiers.with_bilateral()
        } else {
            service.modifiers
        };
        Entry {
            day: service.day,
            procedure: service.procedure,
            mark: marks.intern(service.site, billed),
            version,
            units: service.units,
            charge: service.charge,
        }
    }

    /// The service it stands for, its site's name and its modifiers from
    /// `marks` (none without them).
    #[inline]
    pub(super) fn service<'s>(&self, marks: Option<&'s Marks>) -> Service<'s> {
        let (site, modifiers) = marks.map_or((0, ModifierCodes::NONE), |m| m.of(self.mark));
        Service {
            procedure: self.procedure,
            site: marks.and_then(|m| m.sites.name(site)),
            day: self.day,
            units: self.units,
            charge: self.charge,
            modifiers,
        }
    }

    /// The units of service (at most [`MAX_UNITS`]).
    #[inline]
    pub(super) fn units(&self) -> u32 {
        self.units & !BILATERAL
    }

    /// Whether the line carried modifier 50.
    #[inline]
    pub(super) fn bilateral(&self) -> bool {
        self.units & BILATERAL != 0
    }

    /// The charge, if the line had one.
    #[inline]
    pub(super) fn charge(&self) -> Option<f64> {
        (!self.charge.is_nan()).then_some(self.charge)
    }
}

/// Makes room for `more` items, growing at most once: to twice the length,
/// or to the room needed when that is more (a claim's services arrive
/// together), and to at least `least` items. `Vec` starts at 4 whatever the
/// item's size; a quarter of a million patients' unused room is memory the
/// kernel has to clear, and each reallocation of a list about 200
/// instructions, so each list gets its own start.
pub(super) fn grow_by<T>(list: &mut Vec<T>, more: usize, least: usize) {
    if list.capacity() - list.len() < more {
        list.reserve_exact(list.len().max(more).max(least));
    }
}

/// The [`Version::replaced_by`] of a version that claim `by` replaced or
/// voided, its name kept in `replacers`.
pub(super) fn replacer(replacers: &mut Vec<Box<str>>, by: &str) -> u32 {
    replacers.push(by.into());
    u32::try_from(replacers.len()).unwrap_or(0)
}

/// The tag of services that belong to no claim version.
pub(super) const NO_VERSION: u32 = u32::MAX;

/// One member's history: services sorted by date (in arrival order once
/// the book has an index, see [`CodeIndex`]), and claims by id.
#[derive(Debug)]
pub(super) struct PatientBook {
    /// The member id, kept here rather than in the lookup table so that the
    /// table's slots stay 4 bytes (see [`MemoryHistory`]).
    pub(super) patient: Text,
    /// The payer, as its interned id (`MemoryHistory::payers`): with the
    /// member id, whose book this is.
    pub(super) payer: u32,
    pub(super) services: Vec<Entry>,
    /// `services` by procedure and mark, once there are many (see
    /// [`CodeIndex`]); kept in step with them.
    pub(super) index: Option<Box<CodeIndex>>,
    pub(super) claims: ClaimIndex,
    /// The tag the next version stored for this patient gets.
    pub(super) next_tag: u32,
}

impl PatientBook {
    /// Room for the first services (see [`grow_by`]).
    pub(super) const FIRST_SERVICES: usize = 4;

    pub(super) fn new(patient: &str, payer: u32) -> PatientBook {
        PatientBook {
            patient: patient.into(),
            payer,
            services: Vec::new(),
            index: None,
            claims: ClaimIndex::default(),
            next_tag: 0,
        }
    }

    /// Brings the index in step with the services after `added` was put
    /// among them: added to, or made once the book is large.
    pub(super) fn index_added(&mut self, added: &Entry) {
        match &mut self.index {
            // A book with an index appends its services (`add_entry`).
            Some(index) => index.add(added, self.services.len().saturating_sub(1)),
            None if self.services.len() >= CodeIndex::FROM => {
                self.index = Some(Box::new(CodeIndex::of(&self.services)));
            }
            None => {}
        }
    }

    /// Makes the index again after services were taken out (rare: a claim
    /// replaced or voided), or drops it when the book has become small.
    pub(super) fn reindex(&mut self) {
        if self.index.is_some() {
            // Indexed services are kept in arrival order; a book scanned
            // again needs them in date order (a stable sort: as inserting
            // each in date order would have put them).
            self.services.sort_by_key(|e| e.day);
        }
        self.index = (self.services.len() >= CodeIndex::FROM)
            .then(|| Box::new(CodeIndex::of(&self.services)));
    }

    /// Whether this is the book of `member`, its payer's name found in
    /// `payers`. The member id first: it tells books apart far more often.
    #[inline]
    pub(super) fn is(&self, member: Member<'_>, payers: &Sites) -> bool {
        crate::bytes::same(self.patient.as_bytes(), member.id.as_bytes())
            && payers
                .name(self.payer)
                .is_some_and(|p| crate::bytes::same(p.as_bytes(), member.payer.as_bytes()))
    }

    /// The next version's tag. Tags saturate: past 2^32 - 2 versions of one
    /// patient (beyond any history kept in memory) later versions would share
    /// one, and retiring one would take all their services out.
    pub(super) fn tag(&mut self) -> u32 {
        let tag = self.next_tag;
        self.next_tag = self.next_tag.saturating_add(1).min(NO_VERSION - 1);
        tag
    }
}

/// A member's claims by id. Most members have a handful, for which a hash map
/// per patient cost more memory than the claims themselves (about 900 bytes per
/// patient at a million claims) and a cache miss more per lookup; a short list
/// searched in place does better, and a patient with many claims gets a map.
///
/// Most claims are new, and finding that an id is not there would read the
/// whole list, elsewhere in memory: `ids` has one bit per id hash (a 64-bit
/// filter kept in the patient's book), so a lookup of an id never stored
/// usually ends without touching the list.
#[derive(Debug, Default)]
pub(super) struct ClaimIndex {
    ids: u64,
    pub(super) claims: Claims,
}

#[derive(Debug)]
pub(super) enum Claims {
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
    pub(super) const FEW: usize = 16;
    /// Room for the first claims (see [`grow_by`]).
    const FIRST: usize = 4;

    /// The filter bit of a claim id.
    fn bit(id: &str) -> u64 {
        1 << (FxBuildHasher.hash_one(id) >> 58)
    }

    pub(super) fn get(&self, id: &str) -> Option<&Versions> {
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

    pub(super) fn get_mut(&mut self, id: &str) -> Option<&mut Versions> {
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
    pub(super) fn prefetch_end(&self) {
        if let Claims::Few(list) = &self.claims {
            if let Some(last) = list.last() {
                hint::prefetch(last);
            }
        }
    }

    /// Adds a version to its claim id's list, the id's first or not.
    pub(super) fn add(&mut self, id: &str, version: Version) {
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

    pub(super) fn iter(&self) -> Box<dyn Iterator<Item = (&Text, &Versions)> + '_> {
        match &self.claims {
            Claims::Few(list) => Box::new(list.iter().map(|(k, v)| (k, v))),
            Claims::Many(map) => Box::new(map.iter()),
        }
    }
}

/// The versions of one claim id: nearly always one, kept inline.
#[derive(Debug)]
pub(super) enum Versions {
    One(Version),
    Many(Vec<Version>),
}

impl Versions {
    pub(super) fn as_slice(&self) -> &[Version] {
        match self {
            Versions::One(v) => std::slice::from_ref(v),
            Versions::Many(list) => list,
        }
    }

    pub(super) fn as_mut_slice(&mut self) -> &mut [Version] {
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
