//! Content hashes: a claim's content in a canonical byte encoding, and its
//! stable hash, which tells a claim sent twice from a changed one.

use super::*;

/// A stable hash of a claim's content: XXH3-128 of the
/// validated claim in a canonical byte encoding (`canonical_bytes`), so that
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
            // Hashed as the float it was read as before whole numbers were
            // kept exact, where that float is exact: stored hashes stay valid.
            FactValue::Integer(i) if i.unsigned_abs() <= 1 << 53 => {
                out.put(&join::<1, 8, 9>([2], (*i as f64).to_bits().to_le_bytes()));
            }
            FactValue::Integer(i) => out.put(&join::<1, 8, 9>([5], i.to_le_bytes())),
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
