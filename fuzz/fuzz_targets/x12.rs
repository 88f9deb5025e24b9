//! The X12 837P reader: any bytes read as X12 (the tokenizer, the envelope
//! checks and the mapper) into claims and error records, never a panic; the
//! claims that read are written back as 837P and must read back unchanged,
//! and are decided against the bundled policies (`policies/`), loaded once.
#![no_main]

#[path = "bundled.rs"]
mod bundled;

use bundled::ENGINE;
use libfuzzer_sys::fuzz_target;
use payer_rules::internal::write_837p;
use payer_rules::MemoryHistory;
use payer_rules::{ClaimReader, InputFormat};

fuzz_target!(|data: &[u8]| {
    ENGINE.with(|engine| {
        let mut engine = engine.borrow_mut();
        *engine.history_mut() = MemoryHistory::new();
        let mut reader = ClaimReader::new(data, InputFormat::X12);
        let mut claims = Vec::new();
        let mut record = 0;
        while let Some(read) = reader.next() {
            record += 1;
            let _ = reader.take_warnings();
            if let Ok(claim) = read {
                let _ = engine.evaluate(&claim, record);
                claims.push(claim);
            }
        }
        // What reads must write (unless its text holds a delimiter) and read
        // back as itself.
        if let Ok(text) = write_837p(&claims, Vec::new(), None) {
            let again: Vec<_> = ClaimReader::new(text.as_slice(), InputFormat::X12)
                .filter_map(Result::ok)
                .collect();
            assert_eq!(again, claims);
        }
    });
});
