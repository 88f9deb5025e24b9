//! Property tests: no input text panics the parser, the checker or the claim
//! reader, and policies that still load after a mutation evaluate claims without
//! panicking.

use payer_rules::internal::read_claims_str;
use payer_rules::internal::Workspace;
use payer_rules::InputFormat;
use payer_rules::{ClaimReader, Engine, Policies};
use proptest::prelude::*;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

const MEDICARE: &str = include_str!("../policies/medicare-tpi.policy");
const EMBLEM: &str = include_str!("../policies/emblemhealth-tpi.policy");
const BCBSA: &str = include_str!("../policies/bcbsa-tpi.policy");
const CIGNA: &str = include_str!("../policies/evicore-cigna-tpi.policy");
const AETNA: &str = include_str!("../policies/aetna-tpi.policy");
/// A policy with regions (`per region`, `other.region`), from a library.
const ESI: &str = include_str!("data/regions/esi-example.policy");
/// The libraries the payer files import, at the paths they import them from.
const LIBRARIES: &[(&str, &str)] = &[
    (
        "lib/tpi-codes.policy",
        include_str!("../policies/lib/tpi-codes.policy"),
    ),
    (
        "lib/ncci-tpi.policy",
        include_str!("../policies/lib/ncci-tpi.policy"),
    ),
    (
        "lib/tpi-session-limits.policy",
        include_str!("../policies/lib/tpi-session-limits.policy"),
    ),
    (
        "lib/esi-regions.policy",
        include_str!("data/regions/lib/esi-regions.policy"),
    ),
];
const CLAIMS: &str = include_str!("data/mixed.jsonl");
/// The example batch: every bundled payer.
const EXAMPLES: &str = include_str!("../examples/claims.jsonl");

/// Pieces of the language, so that mutations stay near valid syntax and reach
/// the checker, not just the first parse error.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    "-",
    "+",
    "*",
    ".",
    "..",
    "\"",
    "///",
    "//",
    "\n",
    " ",
    "rule",
    "codes",
    "when",
    "require",
    "else",
    "limit",
    "interval",
    "deny",
    "review",
    "allow",
    "rarc",
    "message",
    "and",
    "or",
    "not",
    "in",
    "any in",
    "all in",
    "has",
    "exists",
    "is missing",
    "some other line",
    "no other service on same day (",
    "count(",
    "sum(",
    "units",
    "charges",
    "dates",
    "with modifier \"GP\" or \"GN\"",
    "bilateral as 2",
    "2410.00",
    "within",
    "in calendar year",
    "from first",
    "before",
    "on same day",
    "per site",
    "or unsited",
    "to",
    "per",
    "day",
    "days",
    "months",
    "per code",
    "per region",
    "region",
    "region r = cpt 62321\n",
    "line.region",
    "other.region",
    "at least",
    "cpt",
    "hcpcs",
    "icd10",
    "line.procedure",
    "line.units",
    "other.procedure",
    "facts.x",
    "patient.age",
    "20552",
    "M79.1",
    "M79.19",
    "J*",
    "00100-01999",
    "2024-02-30",
    "CO-50",
    "N115",
    "0",
    "99999999999",
    "tpi",
    "import \"x.policy\"",
    "library",
    "policy",
];

fn mutate(base: &str, edits: &[(usize, usize, usize)]) -> String {
    let mut text: Vec<u8> = base.as_bytes().to_vec();
    for &(at, len, token) in edits {
        let at = at % (text.len() + 1);
        let end = (at + len % 12).min(text.len());
        let token = TOKENS
            .get(token % TOKENS.len())
            .copied()
            .unwrap_or_default()
            .as_bytes();
        text.splice(at..end, token.iter().copied());
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// Loads `text` as `fuzz.policy`, with the bundled libraries beside it to import.
fn load(text: &str) -> payer_rules::Loaded {
    let mut files: HashMap<PathBuf, String> = LIBRARIES
        .iter()
        .map(|(path, text)| (PathBuf::from(path), text.to_string()))
        .collect();
    files.insert(PathBuf::from("fuzz.policy"), text.to_string());
    let (ws, diags) = Workspace::from_memory(&files, &[PathBuf::from("fuzz.policy")]);
    Policies::from_workspace(ws, diags)
}

/// The bundled Medicare policy with its libraries, loaded once; why not, with
/// the error diagnostics, when it does not load. The tests that use it fail
/// then: claims run against no policies would pass having decided nothing.
fn medicare() -> Result<&'static Policies, &'static str> {
    static MEDICARE_LOADED: OnceLock<Result<Policies, String>> = OnceLock::new();
    MEDICARE_LOADED
        .get_or_init(|| {
            load(MEDICARE)
                .into_result()
                .map_err(|err| format!("medicare-tpi.policy does not load: {err:?}"))
        })
        .as_ref()
        .map_err(String::as_str)
}

fn load_and_run(text: &str) {
    let loaded = load(text);
    for d in &loaded.diagnostics {
        // Spans must stay inside the file so that reports can show them.
        assert!(
            d.span.end <= d.file.text.len() && d.span.start <= d.span.end,
            "{d:?}"
        );
        let _ = d.render_plain();
    }
    if let Some(policies) = loaded.policies {
        let mut engine = Engine::new(policies).explain(true);
        let sample: String = EXAMPLES
            .lines()
            .take(60)
            .map(|l| format!("{l}\n"))
            .collect();
        for (i, claim) in read_claims_str(CLAIMS, InputFormat::JsonLines)
            .into_iter()
            .chain(read_claims_str(&sample, InputFormat::JsonLines))
            .enumerate()
        {
            if let Ok(claim) = claim {
                let _ = engine.evaluate(&claim, i + 1);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        load_and_run(&text);
    }

    #[test]
    fn mutated_policies_never_panic(
        which in 0usize..6,
        edits in proptest::collection::vec((0usize..6000, 0usize..40, 0usize..200), 1..6),
    ) {
        let base = [MEDICARE, EMBLEM, BCBSA, CIGNA, AETNA, ESI][which];
        load_and_run(&mutate(base, &edits));
    }

    #[test]
    fn arbitrary_claim_input_never_panics(text in "\\PC{0,300}") {
        for format in [InputFormat::Auto, InputFormat::JsonLines, InputFormat::JsonArray, InputFormat::Yaml] {
            let _ = read_claims_str(&text, format);
        }
    }

    #[test]
    fn mutated_claims_never_panic(edits in proptest::collection::vec((0usize..2000, 0usize..8, any::<u8>()), 1..8)) {
        let mut bytes = CLAIMS.as_bytes().to_vec();
        for (at, len, byte) in edits {
            let at = at % (bytes.len() + 1);
            let end = (at + len).min(bytes.len());
            bytes.splice(at..end, [byte]);
        }
        let text = String::from_utf8_lossy(&bytes);
        let policies = match medicare() {
            Ok(policies) => policies.clone(),
            Err(err) => panic!("{err}"),
        };
        let mut engine = Engine::new(policies);
        for (i, claim) in read_claims_str(&text, InputFormat::Auto).into_iter().enumerate() {
            if let Ok(claim) = claim {
                let _ = engine.evaluate(&claim, i + 1);
            }
        }
    }
}

#[test]
fn the_reference_policies_load_cleanly() {
    for (name, text) in [
        ("medicare-tpi.policy", MEDICARE),
        ("emblemhealth-tpi.policy", EMBLEM),
        ("bcbsa-tpi.policy", BCBSA),
        ("evicore-cigna-tpi.policy", CIGNA),
        ("aetna-tpi.policy", AETNA),
    ] {
        let loaded = load(text);
        assert!(
            loaded.diagnostics.is_empty(),
            "{name}: {:?}",
            loaded.diagnostics
        );
        assert!(loaded.policies.is_some());
    }
}

/// The directory the command line loads: every policy and library, with no
/// error, and at least one policy to decide with.
#[test]
fn the_bundled_policies_load_with_no_errors() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies");
    let loaded = Policies::load(&[dir]);
    let errors: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.render_plain())
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    match loaded.into_result() {
        Ok(policies) => assert!(!policies.is_empty()),
        Err(err) => panic!("the bundled policies do not load: {err:?}"),
    }
    // The policy the claim tests run against decides their claims.
    let policies = match medicare() {
        Ok(policies) => policies.clone(),
        Err(err) => panic!("{err}"),
    };
    let mut engine = Engine::new(policies);
    let decided = read_claims_str(CLAIMS, InputFormat::JsonLines)
        .into_iter()
        .enumerate()
        .filter_map(|(i, claim)| claim.ok().map(|claim| engine.evaluate(&claim, i + 1)))
        .filter(|outcome| matches!(outcome, payer_rules::Outcome::Decision(_)))
        .count();
    assert!(
        decided > 0,
        "no claim of tests/data/mixed.jsonl was decided"
    );
}

/// The inputs the fuzz targets (`fuzz/`, docs/fuzzing.md) once crashed on,
/// saved under `fuzz/regressions/<target>/`, replayed through the same stage.
#[test]
fn fuzz_regressions_do_not_panic() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    for target in ["parse", "check", "claims"] {
        let Ok(entries) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "md") {
                continue;
            }
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            match target {
                "parse" => {
                    if let Ok(text) = std::str::from_utf8(&bytes) {
                        let _ = payer_rules::internal::parse(text);
                    }
                }
                "check" => {
                    if let Ok(text) = std::str::from_utf8(&bytes) {
                        load_and_run(text);
                        let _ = Policies::from_source("fuzz.policy", text);
                    }
                }
                _ => {
                    let policies = match bundled() {
                        Ok(policies) => policies.clone(),
                        Err(err) => panic!("{err}"),
                    };
                    let mut engine = Engine::new(policies);
                    for format in InputFormat::ALL {
                        for (i, claim) in ClaimReader::new(&bytes[..], format).enumerate() {
                            if let Ok(claim) = claim {
                                let _ = engine.evaluate(&claim, i + 1);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Every bundled policy, as the command line loads `policies/`; why not when
/// they do not load.
fn bundled() -> Result<&'static Policies, &'static str> {
    static BUNDLED: OnceLock<Result<Policies, String>> = OnceLock::new();
    BUNDLED
        .get_or_init(|| {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies");
            Policies::load(&[dir])
                .into_result()
                .map_err(|err| format!("the bundled policies do not load: {err:?}"))
        })
        .as_ref()
        .map_err(String::as_str)
}
