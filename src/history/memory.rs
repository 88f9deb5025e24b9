//! The memory store: members' books found through a compact table, interned
//! sites and payers, and decisions kept in an arena of large chunks.

use super::*;

/// A piece of [`Arena`] text.
#[derive(Debug, Clone, Copy)]
pub(super) struct ArenaRef {
    /// The chunk's index plus one, so that `Option<ArenaRef>` takes no room
    /// of its own in a [`Version`].
    chunk: NonZeroU32,
    start: u32,
    len: u32,
}

/// Decisions kept in memory: appended to large chunks rather than allocated one
/// by one.
#[derive(Debug, Default)]
pub(super) struct Arena {
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

/// History in memory: per member (payer and member id, see [`Member`]),
/// services sorted by date, so a window is found by binary search rather than
/// a scan of the member's whole history; and the claims' versions with their
/// decisions.
///
/// At a million claims the history no longer fits in the processor's caches,
/// and finding a member was a fifth of the run's time, waiting for memory. So
/// the lookup table holds only 4-byte indexes into `books` (a quarter of a
/// million members take under 3 MB of table, which stays in cache) and the
/// member id is compared in the book, which is read next anyway; and the last
/// book found is remembered, since a claim asks about its member several times
/// in a row. A book names its payer by a 4-byte id (payers are interned like
/// sites: a run names a handful), which fits in room the book had as padding.
#[derive(Debug, Default)]
pub struct MemoryHistory {
    /// Indexes into `books`, hashed by member id (see [`MemoryHistory::hash`]).
    slots: table::Table,
    books: chunked::Chunked<PatientBook>,
    /// The index of the book the last lookup found: an atomic only so that the
    /// history stays `Sync` (relaxed loads and stores are plain moves).
    last: AtomicUsize,
    /// The services' sites and modifiers, interned ([`Entry::mark`]).
    marks: Marks,
    /// The payers of the books, interned as sites are ([`PatientBook::payer`]).
    payers: Sites,
    /// The claims that replaced or voided versions ([`Version::replaced_by`]).
    replacers: Vec<Box<str>>,
    next_seq: u64,
    decisions: Arena,
}

/// Sites (and payers), interned: a service keeps a 4-byte id instead of the
/// name.
#[derive(Debug, Default)]
pub(super) struct Sites {
    ids: FxHashMap<Text, u32>,
    /// Index plus one is the id; 0 is no site.
    names: Vec<Box<str>>,
}

impl Sites {
    /// Up to this many sites are found by comparing names in order, cheaper
    /// than hashing the name: a run names a handful of sites, not more.
    const FEW: usize = 8;

    /// The id of a site seen before.
    pub(super) fn id(&self, site: &str) -> Option<u32> {
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
    pub(super) fn intern(&mut self, site: Option<&str>) -> u32 {
        let Some(site) = site else { return 0 };
        if let Some(id) = self.id(site) {
            return id;
        }
        self.names.push(site.into());
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.ids.insert(site.into(), id);
        id
    }

    pub(super) fn name(&self, id: u32) -> Option<&str> {
        id.checked_sub(1)
            .and_then(|i| self.names.get(i as usize))
            .map(|s| &**s)
    }
}

/// Where and how services were billed, interned: a service's site (an id
/// of `sites`) and its modifiers together are one 4-byte mark
/// ([`Entry::mark`]). Keeping the modifiers (8 bytes) in each entry made
/// it 40 bytes instead of 32, and a million claims' history 9% larger
/// and their evaluation about 5% slower; a run bills few pairs of site and
/// modifiers, so a mark costs an entry nothing and a count that looks at
/// sites or modifiers one load from a small table.
#[derive(Debug, Default)]
pub(super) struct Marks {
    /// The sites' names.
    pub(super) sites: Sites,
    /// Mark `m` is `list[m - 1]`: (site id, modifiers); mark 0 is no site
    /// and no modifiers, what most services have.
    list: Vec<(u32, ModifierCodes)>,
    ids: FxHashMap<(u32, ModifierCodes), u32>,
}

impl Marks {
    /// Up to this many marks are found by comparing them in order, cheaper
    /// than hashing (as for sites).
    pub(super) const FEW: usize = 8;

    /// The mark of a service at `site` billed with `modifiers`, given one
    /// the first time the pair is seen.
    pub(super) fn intern(&mut self, site: Option<&str>, modifiers: ModifierCodes) -> u32 {
        let site = self.sites.intern(site);
        let pair = (site, modifiers);
        if pair == (0, ModifierCodes::NONE) {
            return 0;
        }
        let found = if self.list.len() > Self::FEW {
            self.ids.get(&pair).copied()
        } else {
            let at = self.list.iter().position(|p| *p == pair);
            at.and_then(|i| u32::try_from(i + 1).ok())
        };
        if let Some(mark) = found {
            return mark;
        }
        self.list.push(pair);
        let mark = u32::try_from(self.list.len()).unwrap_or(u32::MAX);
        self.ids.insert(pair, mark);
        mark
    }

    /// The site id and the modifiers of `mark`.
    #[inline(always)]
    pub(super) fn of(&self, mark: u32) -> (u32, ModifierCodes) {
        match mark.checked_sub(1) {
            None => (0, ModifierCodes::NONE),
            Some(i) => self
                .list
                .get(i as usize)
                .copied()
                .unwrap_or((0, ModifierCodes::NONE)),
        }
    }
}

impl MemoryHistory {
    /// The version of a member's claim id with this content, if stored: what
    /// a resubmission is answered from (the persistent stores then read its
    /// decision by `seq`).
    pub(super) fn version_of(
        &self,
        member: Member<'_>,
        id: &str,
        hash: ContentHash,
    ) -> Option<&Version> {
        self.versions(member, id).iter().find(|v| v.hash == hash)
    }

    /// An empty history.
    pub fn new() -> MemoryHistory {
        MemoryHistory::default()
    }

    /// A member's services, by date.
    pub fn services(&self, member: Member<'_>) -> Vec<Service<'_>> {
        self.book(member).map_or_else(Vec::new, |book| {
            let mut services: Vec<Service<'_>> =
                book.services.iter().map(|e| self.service(e)).collect();
            // A book with an index keeps arrival order (stable: the same
            // order among one date's services as inserting in date order).
            services.sort_by_key(|s| s.day());
            services
        })
    }

    /// A member's claims: id and versions, ordered by id.
    pub fn claims(&self, member: Member<'_>) -> Vec<(&str, &[Version])> {
        let mut out: Vec<(&str, &[Version])> = self
            .book(member)
            .map(|b| b.claims.iter().map(|(k, v)| (&**k, v.as_slice())).collect())
            .unwrap_or_default();
        out.sort_unstable_by(|a, b| a.0.cmp(b.0));
        out
    }

    /// The table's hash of a member: of its id alone. The book compares the
    /// payer too ([`PatientBook::is`]), so the books of one id under several
    /// payers (rare) share a hash and are told apart there; hashing the payer
    /// as well cost every lookup and every prefetch its bytes.
    fn hash(member: Member<'_>) -> u64 {
        FxBuildHasher.hash_one(member.id)
    }

    /// The index of a member's book.
    // Inlined where it is asked, which is several times per claim and nearly
    // always for the last book found: a call and its saved registers cost
    // more than the comparison.
    #[inline]
    fn find(&self, member: Member<'_>) -> Option<usize> {
        let last = self.last.load(Ordering::Relaxed);
        if self
            .books
            .get(last)
            .is_some_and(|b| b.is(member, &self.payers))
        {
            return Some(last);
        }
        self.find_in_table(member)
    }

    /// [`MemoryHistory::find`] for a member other than the last one found.
    #[inline(never)]
    fn find_in_table(&self, member: Member<'_>) -> Option<usize> {
        let found = self.find_by_hash(member, Self::hash(member))?;
        self.last.store(found, Ordering::Relaxed);
        Some(found)
    }

    /// The index of a member's book from the table alone, `last` untouched.
    fn find_by_hash(&self, member: Member<'_>, hash: u64) -> Option<usize> {
        let (books, payers) = (&self.books, &self.payers);
        let found = self.slots.find(hash, |i| {
            books.get(i as usize).is_some_and(|b| b.is(member, payers))
        })?;
        Some(found as usize)
    }

    #[inline]
    fn book(&self, member: Member<'_>) -> Option<&PatientBook> {
        self.find(member).and_then(|i| self.books.get(i))
    }

    fn service(&self, e: &Entry) -> Service<'_> {
        e.service(Some(&self.marks))
    }

    /// Number of services kept.
    pub fn len(&self) -> usize {
        self.books.iter().map(|b| b.services.len()).sum()
    }

    /// True when nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.books.is_empty()
    }

    /// Number of members kept (a member id under two payers is two).
    pub fn members(&self) -> usize {
        self.books.len()
    }

    /// Forgets everything (a cache being dropped).
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.books.clear();
        self.replacers.clear();
        self.last.store(0, Ordering::Relaxed);
    }

    /// True when the member has an entry (possibly empty).
    pub(crate) fn has_member(&self, member: Member<'_>) -> bool {
        self.find(member).is_some()
    }

    /// Empties a member's entry, to be loaded again (the PostgreSQL store's
    /// copy went stale: another node changed the member since).
    #[cfg(feature = "postgres")]
    pub(crate) fn forget_member(&mut self, member: Member<'_>) {
        let payer = self.payers.intern(Some(member.payer));
        if let Some(book) = self.find(member).and_then(|i| self.books.get_mut(i)) {
            *book = PatientBook::new(member.id, payer);
        }
    }

    /// Makes an (empty) entry for a member.
    pub(crate) fn touch(&mut self, member: Member<'_>) {
        self.with_book(member, |_| ());
    }

    /// The index of a member's book, made empty first when missing.
    fn book_index(&mut self, member: Member<'_>) -> usize {
        if let Some(i) = self.find(member) {
            return i;
        }
        let payer = self.payers.intern(Some(member.payer));
        let i = self.books.push(PatientBook::new(member.id, payer));
        // More than u32::MAX members in memory is beyond any run this
        // store is for; past it, lookups would miss and add books anew.
        self.slots
            .insert(Self::hash(member), u32::try_from(i).unwrap_or(u32::MAX));
        self.last.store(i, Ordering::Relaxed);
        i
    }

    /// Runs `f` on a member's book, made empty first when missing.
    fn with_book<R>(&mut self, member: Member<'_>, f: impl FnOnce(&mut PatientBook) -> R) -> R {
        let index = self.book_index(member);
        match self.books.get_mut(index) {
            Some(book) => f(book),
            None => f(&mut PatientBook::new(member.id, 0)),
        }
    }

    fn add_entry(book: &mut PatientBook, entry: Entry) {
        grow_by(&mut book.services, 1, PatientBook::FIRST_SERVICES);
        // Claims mostly arrive in date order: the insertion point is usually
        // the end, found without a search.
        // A book with an index counts from it and keeps its services in
        // arrival order: inserting each in date order moved half of them
        // when claims came out of date order.
        if book.index.is_some() || book.services.last().is_none_or(|e| e.day <= entry.day) {
            book.services.push(entry);
        } else {
            let at = book.services.partition_point(|e| e.day <= entry.day);
            book.services.insert(at, entry);
        }
        book.index_added(&entry);
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
        let index = self.book_index(claim.member);
        // The book and the marks are fields apart: sites and modifiers are
        // interned as the entries go in, with the book found once.
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
                Self::add_entry(book, Entry::new(s, &mut self.marks, tag));
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
                shared: false,
            },
        );
        seq
    }

    /// Adds a version as loaded from a database, superseded ones included,
    /// kept in arrival order.
    pub(crate) fn add_loaded(&mut self, member: Member<'_>, id: &str, mut version: Version) {
        self.with_book(member, |book| {
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
        member: Member<'_>,
        claim: &str,
        services: &[Service<'_>],
    ) {
        let tag = self
            .book(member)
            .and_then(|book| book.claims.get(claim))
            .and_then(|list| list.as_slice().iter().find(|v| v.status.is_current()))
            .map_or(NO_VERSION, |v| v.tag);
        for s in services {
            let entry = Entry::new(s, &mut self.marks, tag);
            self.with_book(member, |book| Self::add_entry(book, entry));
        }
    }

    /// A version as the SQLite store loads it (`shared`: a row stored before
    /// history was kept per payer, see [`Version::shared`]).
    pub(crate) fn loaded_version(
        &mut self,
        hash: ContentHash,
        status: Status,
        replaced_by: Option<&str>,
        seq: u64,
        shared: bool,
    ) -> Version {
        Version {
            hash,
            status,
            seq,
            decision: None,
            tag: NO_VERSION,
            replaced_by: replaced_by.map_or(0, |by| replacer(&mut self.replacers, by)),
            shared,
        }
    }

    /// Retires the current version of a member's claim `id`; true when it
    /// was a shared one (see [`Version::shared`]).
    pub(super) fn retire_version(
        &mut self,
        member: Member<'_>,
        id: &str,
        status: Status,
        by: &str,
    ) -> bool {
        let Some(book) = self.find(member).and_then(|i| self.books.get_mut(i)) else {
            return false;
        };
        let Some(v) = book.claims.get_mut(id).and_then(|list| {
            list.as_mut_slice()
                .iter_mut()
                .find(|v| v.status.is_current())
        }) else {
            return false;
        };
        v.status = status;
        v.replaced_by = replacer(&mut self.replacers, by);
        let shared = v.shared;
        let gone = std::mem::replace(&mut v.tag, NO_VERSION);
        if gone != NO_VERSION {
            book.services.retain(|e| e.version != gone);
            book.reindex();
        }
        shared
    }
}

impl HistoryStore for MemoryHistory {
    type Error = Infallible;

    fn load(&mut self, member: Member<'_>) -> Result<(), Infallible> {
        // Nothing to load: all is in memory. But evaluating the claim reads the
        // member's book, then its services (the counts), then the end of its
        // claims list (storing the claim): three cache misses, one after
        // another, at a million claims. The book was prefetched a claim
        // earlier (`prefetch`); the ends of its two lists are prefetched here,
        // to arrive while the claim's content hash is computed.
        //
        // A member not seen before gets an empty book now rather than when
        // the claim is stored: the lookups until then (the ledger, the
        // counts) find it as the last book found, where they each searched
        // the table in vain. An empty book stores nothing.
        let index = self.book_index(member);
        if let Some(book) = self.books.get(index) {
            if let Some(last) = book.services.last() {
                hint::prefetch(last);
            }
            book.claims.prefetch_end();
        }
        Ok(())
    }

    fn prefetch(&self, member: Member<'_>, ahead: usize) {
        let hash = Self::hash(member);
        match ahead {
            // The table's line, found from the hash alone.
            3.. => self.slots.prefetch(hash),
            // The table's line is in cache by now; the book is only
            // prefetched, since comparing its member id would wait for it.
            // An entry of another member with the same tag (rare) is a
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
                let found = self.find_by_hash(member, hash);
                if let Some(book) = found.and_then(|i| self.books.get(i)) {
                    if let Some(last) = book.services.last() {
                        hint::prefetch(last);
                    }
                    book.claims.prefetch_end();
                }
            }
        }
    }

    fn window(&self, member: Member<'_>) -> Window<'_> {
        // The book found once: finding it compares the member id and payer.
        let book = self.book(member);
        Window {
            entries: book.map_or(&[], |book| &book.services),
            index: book.and_then(|book| book.index.as_deref()),
            marks: Some(&self.marks),
        }
    }

    fn record(&mut self, member: Member<'_>, service: Service<'_>) -> Result<(), Infallible> {
        let entry = Entry::new(&service, &mut self.marks, NO_VERSION);
        self.with_book(member, |book| Self::add_entry(book, entry));
        Ok(())
    }

    fn versions(&self, member: Member<'_>, id: &str) -> &[Version] {
        self.book(member)
            .and_then(|b| b.claims.get(id))
            .map_or(&[], Versions::as_slice)
    }

    fn replaced_by(&self, version: &Version) -> Option<&str> {
        let at = version.replaced_by.checked_sub(1)?;
        self.replacers.get(at as usize).map(|by| &**by)
    }

    fn decision(
        &mut self,
        member: Member<'_>,
        id: &str,
        hash: ContentHash,
    ) -> Result<Option<StoredDecision>, Infallible> {
        Ok(self
            .version_of(member, id, hash)
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
        member: Member<'_>,
        id: &str,
        status: Status,
        by: &str,
    ) -> Result<(), Infallible> {
        self.retire_version(member, id, status, by);
        Ok(())
    }
}
