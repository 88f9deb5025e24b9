//! What the claim-reading targets share: the bundled policies, loaded once,
//! and one engine over them per thread. A target that ran with no policies
//! would decide nothing and report a clean run, so a load failure is a panic.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::OnceLock;

use payer_rules::{Engine, MemoryHistory, Policies};

/// The bundled policies (`policies/`).
pub fn policies() -> &'static Policies {
    static POLICIES: OnceLock<Policies> = OnceLock::new();
    POLICIES.get_or_init(|| {
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../policies"));
        match Policies::load(&[dir.clone()]).into_result() {
            Ok(policies) => policies,
            Err(err) => panic!(
                "the bundled policies in {} do not load: {err:?}",
                dir.display()
            ),
        }
    })
}

thread_local! {
    /// One engine, its history emptied for each input so that a crash replays.
    pub static ENGINE: RefCell<Engine<MemoryHistory>> =
        RefCell::new(Engine::new(policies().clone()).explain(true));
}
