//! The claim reader: any bytes, in each input format, read into claims and
//! error records, never a panic; the claims that read are decided against the
//! bundled policies (`policies/`), loaded once.
#![no_main]

#[path = "bundled.rs"]
mod bundled;

use bundled::ENGINE;
use libfuzzer_sys::fuzz_target;
use payer_rules::MemoryHistory;
use payer_rules::{ClaimReader, InputFormat};

fuzz_target!(|data: &[u8]| {
    ENGINE.with(|engine| {
        let mut engine = engine.borrow_mut();
        for format in [
            InputFormat::JsonLines,
            InputFormat::JsonArray,
            InputFormat::Yaml,
            InputFormat::Auto,
        ] {
            *engine.history_mut() = MemoryHistory::new();
            for (i, record) in ClaimReader::new(data, format).enumerate() {
                if let Ok(claim) = record {
                    let _ = engine.evaluate(&claim, i + 1);
                }
            }
        }
    });
});
