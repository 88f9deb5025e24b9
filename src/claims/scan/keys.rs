//! Field keys for the scanner: each contract object's keys as compact JSON
//! writes them, and where a key read falls among them.

/// The position of `key` in `keys`, comparing lengths first: a `match` on
/// strings compares each arm in turn with a call to `memcmp`, which was most of
/// the cost of reading a service line.
pub(super) fn field(key: &str, keys: &[Key]) -> Option<u32> {
    let key = key.as_bytes();
    let first = *key.first()?;
    let at = keys.iter().position(|k| {
        let name = k.name();
        name.len() == key.len() && name.first() == Some(&first) && name == key
    })?;
    u32::try_from(at).ok()
}

/// A field's key as compact JSON writes it, `"name":`, so that the key
/// expected next is compared in place as one run of bytes (quotes and colon
/// included) instead of three.
#[derive(Clone, Copy)]
pub(super) struct Key {
    written: [u8; Key::ROOM],
    len: usize,
}

impl Key {
    /// Room for the longest name and its quotes and colon.
    const ROOM: usize = 32;

    /// The keys of the fields `names`, in their order.
    #[expect(
        clippy::indexing_slicing,
        reason = "run only to make constants, where an index out of bounds fails the build; and in \
                  bounds: `i < N`, `j < name.len()`, `name.len() + 3 <= Key::ROOM` (asserted)"
    )]
    pub(super) const fn all<const N: usize>(names: [&str; N]) -> [Key; N] {
        let mut keys = [Key {
            written: [0; Key::ROOM],
            len: 0,
        }; N];
        let mut i = 0;
        while i < N {
            let name = names[i].as_bytes();
            // Checked when compiling: a longer name fails the build.
            assert!(name.len() + 3 <= Key::ROOM);
            let key = &mut keys[i];
            key.written[0] = b'"';
            let mut j = 0;
            while j < name.len() {
                key.written[j + 1] = name[j];
                j += 1;
            }
            key.written[name.len() + 1] = b'"';
            key.written[name.len() + 2] = b':';
            key.len = name.len() + 3;
            i += 1;
        }
        keys
    }

    /// `"name":`.
    #[inline(always)]
    pub(super) fn written(&self) -> &[u8] {
        self.written.get(..self.len).unwrap_or_default()
    }

    /// The field's name.
    pub(super) fn name(&self) -> &[u8] {
        self.written
            .get(1..self.len.saturating_sub(2))
            .unwrap_or_default()
    }
}

pub(super) const CLAIM_FIELDS: [Key; 10] = Key::all([
    "id",
    "payer",
    "patient",
    "provider",
    "place_of_service",
    "diagnoses",
    "facts",
    "lines",
    "frequency_code",
    "replaces",
]);
pub(super) const PATIENT_FIELDS: [Key; 3] = Key::all(["id", "birth_date", "sex"]);
pub(super) const PROVIDER_FIELDS: [Key; 2] = Key::all(["npi", "taxonomy"]);
pub(super) const LINE_FIELDS: [Key; 10] = Key::all([
    "line",
    "date_of_service",
    "procedure",
    "modifiers",
    "units",
    "diagnosis_pointers",
    "site",
    "muscles",
    "injections",
    "charge",
]);
