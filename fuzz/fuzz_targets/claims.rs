//! The claim reader: any bytes, in each input format, read into claims and
//! error records, never a panic; the claims that read are decided against the
//! bundled policies (`policies/`), loaded once.
#![no_main]

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
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
