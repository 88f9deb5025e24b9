//! Build script: turns the shipped ICD-10-CM table into a binary blob that the
//! crate embeds with `include_bytes!` and searches in place, so nothing is parsed
//! at start-up.
//!
//! Input: `data/icd10cm-2026.tsv.gz`, `#` comment lines then TSV
//! `code<TAB>kind<TAB>description`, kinds `chapter|block|header|billable`.
//! Chapters and blocks are groupings, not codes, and are dropped.
//!
//! Output: `$OUT_DIR/icd10cm.bin`, all integers little-endian except the key:
//!
//! ```text
//! header   8 bytes   b"I10C", u32 record count
//! records  16 bytes  u64 big-endian packed key, u8 kind (0 billable, 1 header),
//!                    u8 code length, u32 text offset, u16 description length
//! text     ...       per record: the dotted code, then its description (UTF-8),
//!                    offsets counted from the start of the text area
//! ```
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
use std::fs::{self, File};
use std::io::Read;
use std::path::PathBuf;

const INPUT: &str = "data/icd10cm-2026.tsv.gz";
const MAGIC: &[u8; 4] = b"I10C";
const KIND_BILLABLE: u8 = 0;
const KIND_HEADER: u8 = 1;
/// A single-category block before it is known to be a header or billable.
const KIND_CATEGORY_BLOCK: u8 = 2;
const MAX_CODE_LEN: usize = 8;

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

struct Row {
    key: u64,
    kind: u8,
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

    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split('\t');
        let code = fields.next().unwrap_or_default();
        let kind = match fields.next() {
            Some("billable") => KIND_BILLABLE,
            Some("header") => KIND_HEADER,
            Some("chapter") => continue,
            // A block named by one category (`B20`, no dash) stands for that
            // category, whose own row the file leaves out; whether it is billable
            // depends on whether it has children, decided after the loop.
            Some("block") if !code.contains('-') => KIND_CATEGORY_BLOCK,
            Some("block") => continue,
            other => panic!("{INPUT}:{line_no}: unknown kind {other:?} for {code:?}"),
        };
        // 518 billable rows of the FY2026 file (H35.3x, S-code 7th characters)
        // carry a stray tab after a `/` in the description ("... type I or
        // II/<TAB>initial encounter for open fracture NOS"): everything after the
        // kind is the description, and those tabs are dropped.
        let description: String = fields.collect::<Vec<_>>().concat();
        let description = description.trim().to_owned();
        if description.is_empty() {
            panic!("{INPUT}:{line_no}: {code} has no description");
        }
        let key = pack(code).unwrap_or_else(|| panic!("{INPUT}:{line_no}: {code:?} is not a code"));
        rows.push(Row {
            key,
            kind,
            code: code.to_owned(),
            description,
        });
    }
    rows.sort_by_key(|r| r.key);
    // The file lists each single-category block twice; keep one row.
    rows.dedup_by(|b, a| {
        a.key == b.key && a.kind == KIND_CATEGORY_BLOCK && b.kind == KIND_CATEGORY_BLOCK
    });
    for i in 0..rows.len() {
        if rows[i].kind == KIND_CATEGORY_BLOCK {
            let key = rows[i].key;
            let end = key | (u64::MAX >> (8 * (8 - key.trailing_zeros() as usize / 8)).min(63));
            let has_children = rows
                .get(i + 1)
                .is_some_and(|next| next.key > key && next.key <= end);
            rows[i].kind = if has_children {
                KIND_HEADER
            } else {
                KIND_BILLABLE
            };
        }
    }
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
    for r in &rows {
        let offset =
            u32::try_from(area.len()).unwrap_or_else(|_| panic!("text area exceeds 4 GiB"));
        let code_len = u8::try_from(r.code.len())
            .unwrap_or_else(|_| panic!("code {} longer than 255 bytes", r.code));
        let desc_len = u16::try_from(r.description.len())
            .unwrap_or_else(|_| panic!("description of {} longer than 65535 bytes", r.code));
        records.extend_from_slice(&r.key.to_be_bytes());
        records.push(r.kind);
        records.push(code_len);
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

    let out = PathBuf::from(
        env::var_os("OUT_DIR").unwrap_or_else(|| panic!("OUT_DIR is not set: run through cargo")),
    )
    .join("icd10cm.bin");
    fs::write(&out, blob).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
