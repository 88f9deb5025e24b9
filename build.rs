//! Build script: turns the shipped ICD-10-CM table into a binary blob that the
//! crate embeds with `include_bytes!` and searches in place, so nothing is parsed
//! at start-up.
//!
//! Input: `data/icd10cm.tsv.gz`, `#` comment lines (one of them `# years` and
//! the fiscal years, tab-separated, oldest first) then TSV
//! `code<TAB>years<TAB>description`, `years` one character per year: `B`
//! billable, `H` header, `-` not in that year's code set (see `data/README.md`).
//!
//! Output: `$OUT_DIR/icd10cm.bin`, all integers little-endian except the key:
//!
//! ```text
//! header   8 bytes   b"I10Y", u32 record count
//! records  16 bytes  u64 big-endian packed key, u8 billable years, u8 header
//!                    years (bit i for the i-th year), u32 text offset,
//!                    u16 description length
//! text     ...       per record: the dotted code, then its description (UTF-8),
//!                    offsets counted from the start of the text area
//! ```
//!
//! and `$OUT_DIR/icd10cm_years.rs`: the years (`YEARS`) and, for each category
//! (a code's first three characters), where its records start
//! (`PREFIX_STARTS`), so that a look-up searches one category's records (M79:
//! 80) instead of all of them.
//!
//! Records are sorted by key, so the runtime (`src/codes/icd10.rs`) finds a code
//! by binary search over fixed-width records. Keep the two files in step.

// A build script's only way to say the shipped table is wrong is to stop the
// build with a message; it reads a file of the repository, never user input.
#![expect(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a build script stops the build with a message when data/ is wrong"
)]

use std::env;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::Read;
use std::path::PathBuf;

const INPUT: &str = "data/icd10cm.tsv.gz";
const MAGIC: &[u8; 4] = b"I10Y";
const MAX_CODE_LEN: usize = 8;
/// At most 8 years: one bit each in a `u8`.
const MAX_YEARS: usize = 8;
/// Index of a code's category, its first three characters: a letter, then two
/// digits or letters.
const PREFIXES: usize = 26 * 36 * 36;

/// Packs a code like `CodeKey::parse` in `src/codes/key.rs`: dots dropped,
/// letters upper-cased, characters left-aligned and zero-padded in a big-endian
/// `u64`. Duplicated here because a build script cannot use the crate it builds;
/// the runtime asserts the two agree (`icd10::tests::keys_match_codekey`).
fn pack(code: &str) -> Option<u64> {
    let mut key: u64 = 0;
    let mut len = 0;
    for b in code.bytes() {
        if b == b'.' {
            continue;
        }
        if !b.is_ascii_alphanumeric() || len == MAX_CODE_LEN {
            return None;
        }
        key |= u64::from(b.to_ascii_uppercase()) << (8 * (7 - len));
        len += 1;
    }
    (len > 0).then_some(key)
}

/// The prefix index of a key's first three bytes (`src/codes/icd10.rs` has
/// the same): letter `A`-`Z`, then two characters of 36, digits first.
fn prefix_index(key: u64) -> usize {
    let [a, b, c, ..] = key.to_be_bytes();
    let digit = |x: u8| {
        usize::from(if x.is_ascii_digit() {
            x - b'0'
        } else {
            x - b'A' + 10
        })
    };
    (usize::from(a - b'A') * 36 + digit(b)) * 36 + digit(c)
}

struct Row {
    key: u64,
    billable: u8,
    header: u8,
    code: String,
    description: String,
}

fn main() {
    println!("cargo:rerun-if-changed={INPUT}");
    println!("cargo:rerun-if-changed=build.rs");

    let mut text = String::new();
    flate2::read::GzDecoder::new(
        File::open(INPUT).unwrap_or_else(|e| panic!("cannot open {INPUT}: {e}")),
    )
    .read_to_string(&mut text)
    .unwrap_or_else(|e| panic!("cannot decompress {INPUT} as UTF-8 text: {e}"));

    let mut years: Vec<u16> = Vec::new();
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        if let Some(list) = line.strip_prefix("# years\t") {
            years = list
                .split('\t')
                .map(|y| {
                    y.parse()
                        .unwrap_or_else(|_| panic!("{INPUT}:{line_no}: bad year {y:?}"))
                })
                .collect();
            continue;
        }
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if years.is_empty() || years.len() > MAX_YEARS || !years.is_sorted() {
            panic!("{INPUT}:{line_no}: a row before a `# years` line of 1 to {MAX_YEARS} years, oldest first");
        }
        let mut fields = line.splitn(3, '\t');
        let code = fields.next().unwrap_or_default();
        let flags = fields.next().unwrap_or_default();
        let description = fields.next().unwrap_or_default().trim().to_owned();
        if flags.len() != years.len() {
            panic!(
                "{INPUT}:{line_no}: {code} has {} year flags for {} years",
                flags.len(),
                years.len()
            );
        }
        let (mut billable, mut header) = (0u8, 0u8);
        for (i, f) in flags.bytes().enumerate() {
            match f {
                b'B' => billable |= 1 << i,
                b'H' => header |= 1 << i,
                b'-' => {}
                other => panic!(
                    "{INPUT}:{line_no}: unknown year flag {:?} for {code}",
                    other as char
                ),
            }
        }
        if billable | header == 0 {
            panic!("{INPUT}:{line_no}: {code} is in no year");
        }
        if description.is_empty() || description.contains('\t') {
            panic!("{INPUT}:{line_no}: {code} has no description, or a tab in it");
        }
        let key = pack(code).unwrap_or_else(|| panic!("{INPUT}:{line_no}: {code:?} is not a code"));
        let key_len = 8 - key.trailing_zeros() as usize / 8;
        let dotted = key_len + usize::from(key_len > 3);
        if code.len() != dotted || !key.to_be_bytes()[0].is_ascii_uppercase() || key_len < 3 {
            panic!("{INPUT}:{line_no}: {code:?} is not a dotted upper-case code");
        }
        rows.push(Row {
            key,
            billable,
            header,
            code: code.to_owned(),
            description,
        });
    }
    rows.sort_by_key(|r| r.key);
    for pair in rows.windows(2) {
        if pair[0].key == pair[1].key {
            panic!(
                "{INPUT}: {} and {} pack to the same key",
                pair[0].code, pair[1].code
            );
        }
    }

    let count =
        u32::try_from(rows.len()).unwrap_or_else(|_| panic!("too many codes for a u32 count"));
    let mut records = Vec::with_capacity(rows.len() * 16);
    let mut area = Vec::new();
    // PREFIX_STARTS[p]: the first record whose prefix index is p or more.
    let mut starts = vec![count; PREFIXES + 1];
    for (i, r) in rows.iter().enumerate().rev() {
        starts[prefix_index(r.key)] = i as u32;
    }
    // A category without codes starts where the next one does.
    for p in (0..PREFIXES).rev() {
        starts[p] = starts[p].min(starts[p + 1]);
    }
    for r in &rows {
        let offset =
            u32::try_from(area.len()).unwrap_or_else(|_| panic!("text area exceeds 4 GiB"));
        let desc_len = u16::try_from(r.description.len())
            .unwrap_or_else(|_| panic!("description of {} longer than 65535 bytes", r.code));
        records.extend_from_slice(&r.key.to_be_bytes());
        records.push(r.billable);
        records.push(r.header);
        records.extend_from_slice(&offset.to_le_bytes());
        records.extend_from_slice(&desc_len.to_le_bytes());
        area.extend_from_slice(r.code.as_bytes());
        area.extend_from_slice(r.description.as_bytes());
    }

    let mut blob = Vec::with_capacity(8 + records.len() + area.len());
    blob.extend_from_slice(MAGIC);
    blob.extend_from_slice(&count.to_le_bytes());
    blob.extend_from_slice(&records);
    blob.extend_from_slice(&area);

    let out_dir = PathBuf::from(
        env::var_os("OUT_DIR").unwrap_or_else(|| panic!("OUT_DIR is not set: run through cargo")),
    );
    let out = out_dir.join("icd10cm.bin");
    fs::write(&out, blob).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));

    let mut rs = String::new();
    let list: Vec<String> = years.iter().map(u16::to_string).collect();
    let _ = writeln!(
        rs,
        "/// The fiscal years of the table, oldest first: bit `i` of a code's\n\
         /// year sets is `YEARS[i]`.\npub const YEARS: [u16; {}] = [{}];",
        years.len(),
        list.join(", ")
    );
    let starts: Vec<String> = starts.iter().map(u32::to_string).collect();
    let _ = writeln!(
        rs,
        "/// For each prefix index (the first three characters), its first record.\n\
         static PREFIX_STARTS: [u32; {}] = [{}];",
        PREFIXES + 1,
        starts.join(", ")
    );
    let out = out_dir.join("icd10cm_years.rs");
    fs::write(&out, rs).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
