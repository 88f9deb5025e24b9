//! The checker and the compiler: any text loads as `fuzz.policy` into
//! diagnostics and, when none is an error, compiled policies, never a panic.
//! Policies that load decide a fixed small claim, retargeted to their payer so
//! that their rules run.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use payer_rules::internal::read_claims_str;
use payer_rules::{Claim, Engine, InputFormat, Policies};

/// One TPI line and its drug, as in `policies/medicare-tpi.cases.yaml`.
const CLAIM: &str = r#"{"id":"FUZZ-1","payer":"medicare","patient":{"id":"P-FUZZ","birth_date":"1961-05-14","sex":"F"},"provider":{"npi":"1234567893","taxonomy":"208VP0014X"},"place_of_service":"11","diagnoses":["M79.18","M54.2"],"facts":{"symptom_duration_days":195,"trigger_points_palpated":true},"lines":[{"line":1,"date_of_service":"2025-01-06","procedure":"20553","modifiers":[],"units":1,"diagnosis_pointers":[1],"site":"cervical","muscles":3,"injections":4,"charge":182.5},{"line":2,"date_of_service":"2025-01-06","procedure":"J3301","units":4,"diagnosis_pointers":[1],"charge":12.0}]}"#;

fn claim() -> &'static Claim {
    static CLAIM_READ: OnceLock<Claim> = OnceLock::new();
    CLAIM_READ.get_or_init(|| {
        match read_claims_str(CLAIM, InputFormat::JsonLines)
            .into_iter()
            .next()
        {
            Some(Ok(claim)) => claim,
            other => panic!("the fixed fuzz claim does not read: {other:?}"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let loaded = Policies::from_source("fuzz.policy", text);
    let has_errors = loaded.has_errors();
    for d in &loaded.diagnostics {
        // Spans stay inside the file, so that reports can show them.
        assert!(
            d.span.start <= d.span.end && d.span.end <= d.file.text.len(),
            "diagnostic span outside its file: {d:?}"
        );
        let _ = d.render_plain();
    }
    // Policies exactly when no diagnostic is an error.
    assert_eq!(
        loaded.policies.is_some(),
        !has_errors,
        "policies {} but errors {has_errors}: {:?}",
        loaded.policies.is_some(),
        loaded.diagnostics
    );
    let Some(policies) = loaded.policies else {
        return;
    };
    let mut claim = claim().clone();
    if let Some(payer) = policies.iter().find_map(|p| p.payers.first()) {
        claim.payer = payer.as_str().into();
    }
    let mut engine = Engine::new(policies).explain(true);
    let _ = engine.evaluate(&claim, 1);
});
