//! Tests of validation: claims checked against the contract, and the first
//! bad field named with its path and a message.

use super::*;

#[test]
fn trim_is_str_trim() {
    let cases = [
        "", " ", "a", " a", "a ", "\ta\n", "\u{a0}x", "x\u{a0}", "\u{3000}", "ab c", "\u{7f}",
        "\u{1c}a", "é", " é ", "\u{85}",
    ];
    for s in cases {
        assert_eq!(trim(s), s.trim(), "{s:?}");
    }
}
use crate::claims::read::{read_claims_str, InputFormat};
use serde_json::{json, Value};

fn base() -> Value {
    json!({
        "id": "CLM-1", "payer": "medicare",
        "patient": { "id": "PAT-1", "birth_date": "1957-06-30", "sex": "F" },
        "provider": { "npi": "1234567893", "taxonomy": "208VP0014X" },
        "place_of_service": "11",
        "diagnoses": ["M79.18", "M54.50"],
        "facts": { "symptom_duration_days": 120, "trigger_points_palpated": true },
        "lines": [{ "line": 1, "date_of_service": "2026-03-04", "procedure": "20553",
                    "modifiers": [], "units": 1, "diagnosis_pointers": [1],
                    "site": "cervical", "muscles": 3, "injections": 4, "charge": 182.5 }]
    })
}

/// JSON pointers into `base()` and the value to put there (`None` removes it).
type Changes = Vec<(&'static str, Option<Value>)>;

/// Sets (or with `None` removes) the value at a JSON pointer of `base()`.
fn with(changes: &[(&str, Option<Value>)]) -> Value {
    let mut claim = base();
    for (pointer, value) in changes {
        let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
        match (claim.pointer_mut(parent), value) {
            (Some(Value::Object(map)), Some(v)) => {
                map.insert(key.to_owned(), v.clone());
            }
            (Some(Value::Object(map)), None) => {
                map.remove(key);
            }
            (Some(Value::Array(list)), Some(v)) => {
                match key.parse::<usize>().ok().and_then(|i| list.get_mut(i)) {
                    Some(slot) => *slot = v.clone(),
                    None => list.push(v.clone()),
                }
            }
            _ => panic!("bad pointer {pointer}"),
        }
    }
    claim
}

/// Reads `claim` as JSON Lines and as a JSON array (the typed and the
/// `Value` parse paths) and insists they agree.
fn check(claim: &Value) -> Result<Claim, ClaimError> {
    let mut jsonl = read_claims_str(&claim.to_string(), InputFormat::JsonLines);
    let array = read_claims_str(&format!("[{claim}]"), InputFormat::JsonArray);
    assert_eq!(jsonl, array, "formats disagree on {claim}");
    assert_eq!(jsonl.len(), 1);
    jsonl.remove(0)
}

#[test]
fn base_claim_is_valid() {
    assert!(check(&base()).is_ok(), "{:?}", check(&base()));
}

#[test]
fn invalid_claims_name_the_first_bad_field() {
    let thirteen: Vec<String> = (0..13).map(|i| format!("M79.1{}", i % 10)).collect();
    let line1 = base()["lines"][0].clone();
    let cases: Vec<(Changes, &str, &str)> = vec![
        (
            vec![("/lines/0/units", Some(json!(0)))],
            "lines[0].units",
            "units must be an integer of at least 1, got 0",
        ),
        (
            vec![("/lines/0/units", Some(json!(1.5)))],
            "lines[0].units",
            "units must be an integer of at least 1, got 1.5",
        ),
        (
            vec![("/lines/0/units", Some(json!(-1)))],
            "lines[0].units",
            "units must be an integer of at least 1, got -1",
        ),
        (
            vec![("/lines/0/units", Some(json!(5_000_000_000u64)))],
            "lines[0].units",
            "units must be at most 4294967295, got 5000000000",
        ),
        (
            vec![("/lines/0/date_of_service", Some(json!("2026-02-30")))],
            "lines[0].date_of_service",
            "date_of_service `2026-02-30` is not a valid YYYY-MM-DD date",
        ),
        (
            vec![("/lines/0/date_of_service", None)],
            "lines[0].date_of_service",
            "date_of_service is required",
        ),
        (
            vec![("/lines/0/diagnosis_pointers", Some(json!([3])))],
            "lines[0].diagnosis_pointers[0]",
            "diagnosis pointer 3 points past the 2 diagnoses of the claim",
        ),
        (
            vec![(
                "/lines/1",
                Some(
                    json!({"date_of_service": "2026-03-04", "procedure": "20552", "diagnosis_pointers": [2, 3]}),
                ),
            )],
            "lines[1].diagnosis_pointers[1]",
            "diagnosis pointer 3 points past the 2 diagnoses of the claim",
        ),
        (
            vec![("/lines/0/diagnosis_pointers", Some(json!([0])))],
            "lines[0].diagnosis_pointers[0]",
            "diagnosis pointer must be an integer from 1 to 2, got 0",
        ),
        (
            vec![("/lines/0/diagnosis_pointers", Some(json!([1, 1])))],
            "lines[0].diagnosis_pointers[1]",
            "diagnosis pointer 1 is given twice",
        ),
        (
            vec![
                (
                    "/diagnoses",
                    Some(json!(["A00", "A01", "A02", "A03", "A04"])),
                ),
                ("/lines/0/diagnosis_pointers", Some(json!([1, 2, 3, 4, 5]))),
            ],
            "lines[0].diagnosis_pointers",
            "a line takes at most 4 diagnosis pointers, got 5",
        ),
        (
            vec![("/diagnoses", Some(json!(thirteen)))],
            "diagnoses",
            "a claim needs 1 to 12 diagnoses, got 13",
        ),
        (
            vec![("/diagnoses", Some(json!([])))],
            "diagnoses",
            "a claim needs 1 to 12 diagnoses, got 0",
        ),
        (
            vec![("/diagnoses", None)],
            "diagnoses",
            "diagnoses is required",
        ),
        (
            vec![("/diagnoses/1", Some(json!("M5")))],
            "diagnoses[1]",
            "diagnosis `M5` is not an ICD-10-CM code",
        ),
        (
            vec![("/diagnoses/0", Some(json!("M79.18901")))],
            "diagnoses[0]",
            "diagnosis `M79.18901` is not an ICD-10-CM code",
        ),
        (
            vec![("/provider/npi", Some(json!("1234567890")))],
            "provider.npi",
            "npi `1234567890` fails the NPI check digit: the last digit should be 3",
        ),
        (
            vec![("/provider/npi", Some(json!("123456789")))],
            "provider.npi",
            "npi must be 10 digits, got `123456789`",
        ),
        (
            vec![(
                "/lines/0/modifiers",
                Some(json!(["25", "59", "RT", "XS", "76"])),
            )],
            "lines[0].modifiers",
            "a line takes at most 4 modifiers, got 5",
        ),
        (
            vec![("/lines/0/modifiers", Some(json!(["RT", "LEFT"])))],
            "lines[0].modifiers[1]",
            "modifier `LEFT` must be 2 letters or digits",
        ),
        (
            vec![("/lines/0/procedure", Some(json!("2055")))],
            "lines[0].procedure",
            "procedure `2055` is not a CPT or HCPCS code",
        ),
        (
            vec![("/lines/0/procedure", Some(json!("W1234")))],
            "lines[0].procedure",
            "procedure `W1234` is not a CPT or HCPCS code",
        ),
        (
            vec![("/lines/0/procedure", Some(json!("0213X")))],
            "lines[0].procedure",
            "procedure `0213X` is not a CPT or HCPCS code",
        ),
        (vec![("/lines", None)], "lines", "lines is required"),
        (
            vec![("/lines", Some(json!([])))],
            "lines",
            "a claim needs at least 1 line",
        ),
        (
            vec![("/facts/relief_percent", Some(json!({"value": 50})))],
            "facts.relief_percent",
            "fact `relief_percent` must be a bool, number, string or date, got an object",
        ),
        (
            vec![("/facts/x", Some(json!([1])))],
            "facts.x",
            "fact `x` must be a bool, number, string or date, got an array",
        ),
        (
            vec![("/facts/x", Some(Value::Null))],
            "facts.x",
            "fact `x` must be a bool, number, string or date, got null",
        ),
        (
            vec![("/facts/injury_date", Some(json!("2026-02-30")))],
            "facts.injury_date",
            "fact `injury_date` value `2026-02-30` is not a valid YYYY-MM-DD date",
        ),
        (vec![("/patient/id", None)], "patient.id", "id is required"),
        (
            vec![("/patient/id", Some(json!("  ")))],
            "patient.id",
            "id must not be empty",
        ),
        (vec![("/patient", None)], "patient", "patient is required"),
        (
            vec![("/patient/sex", Some(json!("X")))],
            "patient.sex",
            "sex must be F, M or U, got `X`",
        ),
        (
            vec![("/patient/birth_date", Some(json!("1957-6-30")))],
            "patient.birth_date",
            "birth_date `1957-6-30` is not a valid YYYY-MM-DD date",
        ),
        (
            vec![("/payer", Some(json!("")))],
            "payer",
            "payer must not be empty",
        ),
        (
            vec![("/place_of_service", Some(json!("1")))],
            "place_of_service",
            "place_of_service must be 2 digits, got `1`",
        ),
        (
            vec![("/lines/1", Some(line1.clone()))],
            "lines[1].line",
            "line number 1 is already used by lines[0]",
        ),
        // The default number (position 2) collides with an explicit 2.
        (
            vec![
                ("/lines/0/line", Some(json!(2))),
                (
                    "/lines/1",
                    Some(json!({"date_of_service": "2026-03-04", "procedure": "20552"})),
                ),
            ],
            "lines[1].line",
            "line number 2 is already used by lines[0]",
        ),
        (
            vec![("/lines/0/line", Some(json!(0)))],
            "lines[0].line",
            "line must be an integer of at least 1, got 0",
        ),
        (
            vec![("/lines/0/muscles", Some(json!(-1)))],
            "lines[0].muscles",
            "muscles must be a non-negative integer, got -1",
        ),
        (
            vec![("/lines/0/injections", Some(json!(2.5)))],
            "lines[0].injections",
            "injections must be a non-negative integer, got 2.5",
        ),
        (
            vec![("/lines/0/charge", Some(json!(-5)))],
            "lines[0].charge",
            "charge must be a non-negative number, got -5",
        ),
        // First bad field in contract order wins: payer comes before lines.
        (
            vec![
                ("/lines/0/units", Some(json!(0))),
                ("/payer", Some(json!(" "))),
            ],
            "payer",
            "payer must not be empty",
        ),
        // Within a line, the line number comes before the date.
        (
            vec![(
                "/lines/1",
                Some(json!({"line": 1, "date_of_service": "bad", "procedure": "20552"})),
            )],
            "lines[1].line",
            "line number 1 is already used by lines[0]",
        ),
        (
            vec![("/frequency_code", Some(json!("5")))],
            "frequency_code",
            "frequency_code must be 1 (original), 7 (replacement) or 8 (void), got `5`",
        ),
        (
            vec![("/frequency_code", Some(json!(true)))],
            "frequency_code",
            "invalid type: boolean `true`, expected a string or a number",
        ),
        (
            vec![("/replaces", Some(json!("CLM-0")))],
            "replaces",
            "replaces needs frequency_code 7 (replacement) or 8 (void)",
        ),
        (
            vec![
                ("/frequency_code", Some(json!("1"))),
                ("/replaces", Some(json!("CLM-0"))),
            ],
            "replaces",
            "replaces needs frequency_code 7 (replacement) or 8 (void)",
        ),
        (
            vec![
                ("/frequency_code", Some(json!(8))),
                ("/replaces", Some(json!(" "))),
            ],
            "replaces",
            "replaces must not be empty",
        ),
    ];
    assert!(cases.len() >= 15);
    for (changes, path, message) in cases {
        let claim = with(&changes);
        let Err(err) = check(&claim) else {
            panic!("accepted {changes:?}")
        };
        assert_eq!(err.path.as_deref(), Some(path), "{changes:?}: {err}");
        assert!(
            err.message.starts_with(message),
            "{changes:?}: {:?} does not start with {message:?}",
            err.message
        );
        assert_eq!(err.id.as_deref(), Some("CLM-1"), "{changes:?}");
        assert_eq!(err.kind, crate::claims::ErrorKind::InvalidClaim);
        assert_eq!(err.record, 1);
    }
}

#[test]
fn missing_id_has_no_id_and_path_id() {
    for changes in [&[("/id", None)][..], &[("/id", Some(json!("")))][..]] {
        let Err(err) = check(&with(changes)) else {
            panic!("accepted")
        };
        assert_eq!(
            (err.id.as_deref(), err.path.as_deref()),
            (None, Some("id")),
            "{changes:?}"
        );
    }
    let Err(err) = check(&with(&[("/id", Some(json!(42)))])) else {
        panic!("accepted")
    };
    assert_eq!((err.id.as_deref(), err.path.as_deref()), (None, Some("id")));
    assert_eq!(err.message, "invalid type: integer `42`, expected a string");
}

#[test]
fn objects_must_be_objects() {
    let Err(err) = check(&with(&[("/patient", Some(json!(["PAT-1"])))])) else {
        panic!("accepted")
    };
    assert_eq!(err.path.as_deref(), Some("patient"));
    assert_eq!(
        err.message,
        "invalid type: sequence, expected a patient object"
    );
    let Err(err) = check(&with(&[("/lines/0", Some(json!("20553")))])) else {
        panic!("accepted")
    };
    assert_eq!(err.path.as_deref(), Some("lines[0]"));
}

#[test]
fn lenient_but_valid_inputs_are_accepted() {
    let cases: Vec<Changes> = vec![
        vec![("/lines/0/units", Some(json!(2.0)))],
        vec![("/patient/sex", Some(json!("m")))],
        vec![("/lines/0/procedure", Some(json!("0213T")))],
        vec![("/lines/0/procedure", Some(json!("j3301")))],
        vec![("/lines/0/procedure", Some(json!("0001U")))],
        vec![("/lines/0/procedure", Some(json!("3008F")))],
        vec![("/lines/0/procedure", Some(json!("A0425")))],
        vec![("/diagnoses/0", Some(json!("u07.1")))],
        vec![("/diagnoses/0", Some(json!("S52.521A")))],
        vec![("/diagnoses/0", Some(json!("m79.7")))],
        vec![("/place_of_service", Some(json!("02")))],
        vec![("/lines/0/modifiers", Some(json!(["59", "xs", "RT", "25"])))],
        vec![("/lines/0/diagnosis_pointers", Some(json!([])))],
        vec![("/lines/0/muscles", Some(json!(0)))],
        vec![("/lines/0/charge", Some(json!(0)))],
        vec![
            ("/unknown_field", Some(json!({"anything": [1, 2]}))),
            ("/lines/0/extra", Some(json!(true))),
        ],
        vec![("/provider/npi", None)],
        vec![
            ("/provider", None),
            ("/facts", None),
            ("/place_of_service", None),
        ],
        vec![("/facts/note", Some(json!("2026-03")))],
    ];
    for changes in cases {
        let result = check(&with(&changes));
        assert!(result.is_ok(), "{changes:?}: {result:?}");
    }
    let Ok(claim) = check(&with(&[
        ("/lines/0/modifiers", Some(json!(["xs"]))),
        ("/patient/sex", Some(json!("m"))),
        ("/facts/injury_date", Some(json!("2026-01-15"))),
        ("/facts/note", Some(json!("2026-1-15"))),
        ("/lines/0/diagnosis_pointers", Some(json!([]))),
    ])) else {
        panic!("rejected")
    };
    assert_eq!(claim.lines[0].modifiers[..], ["XS"]);
    assert_eq!(claim.patient.sex, Some(Sex::M));
    assert_eq!(claim.lines[0].diagnosis_pointers[..], [1, 2]);
    assert_eq!(
        claim.facts.get("injury_date"),
        Some(&FactValue::Date(
            NaiveDate::from_ymd_opt(2026, 1, 15).unwrap_or_default()
        ))
    );
    assert_eq!(
        claim.facts.get("note"),
        Some(&FactValue::Text("2026-1-15".into()))
    );
}

#[test]
fn repeated_fact_names_are_refused() {
    let text = base().to_string().replace(
        r#""trigger_points_palpated":true"#,
        r#""trigger_points_palpated":true,"trigger_points_palpated":false"#,
    );
    let results = read_claims_str(&text, InputFormat::JsonLines);
    let Some(Err(err)) = results.first() else {
        panic!("accepted")
    };
    assert_eq!(err.path.as_deref(), Some("facts.trigger_points_palpated"));
    assert_eq!(
        err.message,
        "fact `trigger_points_palpated` is given more than once"
    );
}

/// The path and message of the error `changes` make, or the claim's id when
/// they make none.
fn rejection(changes: &[(&str, Option<Value>)]) -> (Option<String>, String) {
    match check(&with(changes)) {
        Err(err) => (err.path, err.message),
        Ok(claim) => (None, format!("accepted {}", claim.id)),
    }
}

#[test]
fn a_birth_date_after_a_service_is_invalid() {
    for birth in ["9999-12-31", "2030-01-01", "2026-03-05"] {
        let (path, message) = rejection(&[("/patient/birth_date", Some(json!(birth)))]);
        assert_eq!(path.as_deref(), Some("patient.birth_date"), "{message}");
        assert_eq!(
            message,
            format!("birth_date {birth} is after the date of service of lines[0] (2026-03-04)")
        );
    }
    // Born on the day of the service is fine.
    assert!(check(&with(&[("/patient/birth_date", Some(json!("2026-03-04")))])).is_ok());
}

#[test]
fn an_empty_site_is_invalid() {
    for site in ["", "  "] {
        let (path, message) = rejection(&[("/lines/0/site", Some(json!(site)))]);
        assert_eq!(path.as_deref(), Some("lines[0].site"));
        assert_eq!(message, "site must not be empty");
    }
}

#[test]
fn a_claim_takes_at_most_50_lines() {
    let line = |n: usize| json!({"line": n, "date_of_service": "2026-03-04", "procedure": "20553"});
    let fifty: Vec<Value> = (1..=50).map(line).collect();
    assert!(check(&with(&[("/lines", Some(json!(fifty)))])).is_ok());
    let many: Vec<Value> = (1..=10_000).map(line).collect();
    let started = std::time::Instant::now();
    let (path, message) = rejection(&[("/lines", Some(json!(many)))]);
    assert_eq!(path.as_deref(), Some("lines"), "{message}");
    assert_eq!(
        message,
        "a claim takes at most 50 lines (the 837P limit), got 10000"
    );
    // Refused in linear time (debug build): the scanner stops at line 51.
    assert!(started.elapsed().as_secs() < 10);
}

/// The claim of `base()` with one diagnosis and one line on `date`.
fn dx_on(dx: &str, date: &str) -> Result<Claim, ClaimError> {
    check(&with(&[
        ("/diagnoses", Some(json!(["G44.209", dx]))),
        ("/lines/0/date_of_service", Some(json!(date))),
        ("/patient/birth_date", Some(json!("1950-01-01"))),
    ]))
}

/// The path and message of the error of an invalid claim.
fn rejected(read: Result<Claim, ClaimError>) -> (String, String) {
    match read {
        Ok(_) => panic!("the claim was accepted"),
        Err(e) => (e.path.clone().unwrap_or_default(), e.message.clone()),
    }
}

#[test]
fn m54_5_is_billable_until_fy2021_and_a_header_from_2021_10_01() {
    assert!(dx_on("M54.5", "2021-09-30").is_ok());
    assert!(dx_on("M54.5", "2019-10-01").is_ok());
    let (path, message) = rejected(dx_on("M54.5", "2021-10-01"));
    assert_eq!(path, "diagnoses[1]");
    assert_eq!(
        message,
        "diagnosis `M54.5` is not a billable ICD-10-CM code on 2021-10-01 \
         (lines[0].date_of_service, fiscal year FY2022): it is a header in FY2025, \
         read with the FY2025 code set (FY2022 is not shipped): report one of the billable \
         codes under it"
    );
    // Its codes are the other way round.
    assert!(dx_on("M54.50", "2021-10-01").is_ok());
    let (path, message) = rejected(dx_on("m5450", "2021-09-30"));
    assert_eq!(path, "diagnoses[1]");
    assert!(
        message.contains("`M54.50` is not a billable ICD-10-CM code on 2021-09-30")
            && message.contains("fiscal year FY2021): it is not in the FY2021 code set; it is billable in FY2025, FY2026"),
        "{message}"
    );
}

#[test]
fn m79_1_is_a_header_from_2018_10_01() {
    let (path, message) = rejected(dx_on("M79.1", "2018-10-01"));
    assert_eq!(path, "diagnoses[1]");
    assert!(
        message.contains("on 2018-10-01 (lines[0].date_of_service, fiscal year FY2019): it is a header in FY2019: report"),
        "{message}"
    );
    assert!(dx_on("M79.18", "2018-10-01").is_ok());
    // FY2018 is not shipped (data/README.md): 2018-09-30 is read with FY2019,
    // the oldest year, where M79.1 is already a header, and so rejected too,
    // though M79.1 was billable then.
    let (_, message) = rejected(dx_on("M79.1", "2018-09-30"));
    assert!(
        message.contains("fiscal year FY2018): it is a header in FY2019, read with FY2019, the oldest code set shipped"),
        "{message}"
    );
}

#[test]
fn diagnoses_are_checked_against_every_line_year_and_not_before_icd10() {
    // Two lines across October 1: M54.5 is billable on the first, not the second.
    let two = with(&[
        ("/diagnoses", Some(json!(["M54.5"]))),
        ("/lines/0/date_of_service", Some(json!("2021-09-30"))),
        (
            "/lines/1",
            Some(
                json!({"date_of_service": "2021-10-01", "procedure": "20552", "diagnosis_pointers": [1]}),
            ),
        ),
    ]);
    let (path, message) = rejected(check(&two));
    assert_eq!(path, "diagnoses[0]");
    assert!(
        message.contains("on 2021-10-01 (lines[1].date_of_service"),
        "{message}"
    );
    // Before 2015-10-01 no ICD-10-CM code is valid.
    let (path, message) = rejected(dx_on("M79.18", "2015-09-30"));
    assert_eq!(path, "diagnoses[0]");
    assert_eq!(
        message,
        "diagnosis `G44.209` is not valid on 2015-09-30 (lines[0].date_of_service): ICD-10-CM \
         took effect on 2015-10-01, and earlier dates of service take ICD-9-CM codes"
    );
    assert!(dx_on("M79.18", "2015-10-01").is_ok());
    // A well-formed code of no year, and one deleted after FY2019.
    let (_, message) = rejected(dx_on("M79.19", "2026-03-04"));
    assert!(
        message
            .ends_with("it is not in the ICD-10-CM code sets of FY2019, FY2021, FY2025 and FY2026"),
        "{message}"
    );
    assert!(dx_on("H81.41", "2019-01-01").is_ok());
    let (_, message) = rejected(dx_on("H81.41", "2020-01-01"));
    assert!(message.contains("it is not in the FY2021 code set, read with the FY2021 code set (FY2020 is not shipped); it is billable in FY2019"), "{message}");
    // After the newest year, the newest decides.
    assert!(dx_on("M54.50", "2031-01-01").is_ok());
    assert!(dx_on("M54.5", "2031-01-01").is_err());
}
