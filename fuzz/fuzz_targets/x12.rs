//! The X12 837P reader: any bytes read as X12 (the tokenizer, the envelope
//! checks and the mapper) into claims and error records, never a panic; the
//! claims that read are written back as 837P and must read back unchanged,
//! and are decided against the bundled policies (`policies/`), loaded once.
#![no_main]

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use payer_rules::internal::write_837p;
use payer_rules::{ClaimReader, Engine, InputFormat, MemoryHistory, Policies};

/// The bundled policies. A target that ran with no policies would decide
/// nothing and report a clean run, so a load failure is a panic.
fn policies() -> &'static Policies {
    static POLICIES: OnceLock<Policies> = OnceLock::new();
    POLICIES.get_or_init(|| {
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../policies"));
        match Policies::load(&[dir.clone()]).into_result() {
            Ok(policies) => policies,
            Err(err) => panic!("the bundled policies in {} do not load: {err:?}", dir.display()),
        }
    })
}

thread_local! {
    /// One engine, its history emptied for each input so that a crash replays.
    static ENGINE: RefCell<Engine<MemoryHistory>> =
        RefCell::new(Engine::new(policies().clone()).explain(true));
}

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
