//! Tests of the readers: every format, any buffer size, broken records and
//! what each reads to.

use super::*;
use crate::claims::model::{FactValue, Sex};
use crate::codes::CodeKey;

/// Every line `LineSplitter` hands out from `input` read through a buffer
/// of `capacity` bytes.
fn split(input: &[u8], capacity: usize) -> Vec<Vec<u8>> {
    let mut reader = std::io::BufReader::with_capacity(capacity, input);
    let mut lines = LineSplitter::default();
    let mut out = Vec::new();
    while let Ok(Some(line)) = lines.next(&mut reader, <[u8]>::to_vec) {
        out.push(line);
    }
    out
}

#[test]
fn lines_are_split_alike_whatever_the_buffer() {
    let input =
        b"{\"a\":1}\n\n  \n{\"b\":\"a longer line than the buffer\"}\r\nlast without newline";
    let want: Vec<Vec<u8>> = input
        .split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    for capacity in [1, 2, 7, 8, 64, 8192] {
        assert_eq!(split(input, capacity), want, "buffer of {capacity}");
    }
    assert!(split(b"", 8).is_empty());
    let blank: Vec<bool> = want.iter().map(|l| is_blank(l)).collect();
    assert_eq!(blank, [false, true, true, false, false]);
}

#[test]
fn claims_read_alike_whatever_the_buffer() {
    let text = include_str!("../../../examples/claims.jsonl");
    let whole = read_claims_str(text, InputFormat::JsonLines);
    for capacity in [1, 7, 600] {
        let reader = std::io::BufReader::with_capacity(capacity, text.as_bytes());
        let read: Vec<_> = ClaimReader::new(reader, InputFormat::JsonLines).collect();
        assert_eq!(read, whole, "buffer of {capacity}");
    }
}

/// Every record read into one slot, one after the other.
fn read_into_one_slot(text: &str, format: InputFormat) -> Vec<Result<Claim, ClaimError>> {
    let mut reader = ClaimReader::new(text.as_bytes(), format);
    let mut slot = ClaimSlot::new();
    let mut read = Vec::new();
    while reader.read_into(&mut slot) {
        read.push(slot.get().cloned().map_err(Clone::clone));
    }
    read
}

#[test]
fn claims_read_alike_into_one_slot() {
    // The bundled claims hold errors between claims, claims of every shape
    // and claims the scanner leaves to serde: each must read as if alone.
    let text = include_str!("../../../examples/claims.jsonl");
    for format in [InputFormat::Auto, InputFormat::JsonLines] {
        assert_eq!(
            read_into_one_slot(text, format),
            read_claims_str(text, format)
        );
    }
    let array = format!("[{EXAMPLE}, 7, {EXAMPLE}]");
    assert_eq!(
        read_into_one_slot(&array, InputFormat::Auto),
        read_claims_str(&array, InputFormat::Auto)
    );
    assert!(read_into_one_slot("", InputFormat::Auto).is_empty());
}

/// The example claim of `CLAIMS.md`.
const EXAMPLE: &str = r#"{
      "id": "CLM-000123",
      "payer": "medicare",
      "patient": { "id": "PAT-88", "birth_date": "1957-06-30", "sex": "F" },
      "provider": { "npi": "1234567893", "taxonomy": "208VP0014X" },
      "place_of_service": "11",
      "diagnoses": ["M79.18", "M54.50"],
      "facts": { "symptom_duration_days": 120, "trigger_points_palpated": true },
      "lines": [
        { "line": 1, "date_of_service": "2026-03-04", "procedure": "20553",
          "modifiers": [], "units": 1, "diagnosis_pointers": [1],
          "site": "cervical", "muscles": 3, "injections": 4, "charge": 182.50 }
      ]
    }"#;

const EXAMPLE_YAML: &str = r#"
- id: CLM-000123
  payer: medicare
  patient: { id: PAT-88, birth_date: "1957-06-30", sex: F }
  provider: { npi: "1234567893", taxonomy: 208VP0014X }
  place_of_service: "11"
  diagnoses: [M79.18, M54.50]
  facts:
    symptom_duration_days: 120
    trigger_points_palpated: true
  lines:
    - line: 1
      date_of_service: 2026-03-04
      procedure: "20553"
      modifiers: []
      units: 1
      diagnosis_pointers: [1]
      site: cervical
      muscles: 3
      injections: 4
      charge: 182.50
"#;

fn one_line(json: &str) -> String {
    json.lines().map(str::trim).collect::<Vec<_>>().join(" ")
}

fn only(results: Vec<Result<Claim, ClaimError>>) -> Result<Claim, ClaimError> {
    assert_eq!(results.len(), 1, "{results:?}");
    results
        .into_iter()
        .next()
        .unwrap_or_else(|| Err(ClaimError::invalid(None, None, "none", 0)))
}

fn date(text: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
}

#[test]
fn example_claim_reads_the_same_in_every_format() {
    let jsonl = only(read_claims_str(&one_line(EXAMPLE), InputFormat::Auto));
    let array = only(read_claims_str(&format!("[{EXAMPLE}]"), InputFormat::Auto));
    let yaml = only(read_claims_str(EXAMPLE_YAML, InputFormat::Auto));
    let Ok(claim) = jsonl else {
        panic!("example rejected: {jsonl:?}")
    };
    assert_eq!(array.as_ref(), Ok(&claim));
    assert_eq!(yaml.as_ref(), Ok(&claim));

    assert_eq!(claim.id, "CLM-000123");
    assert_eq!(claim.patient.sex, Some(Sex::F));
    assert_eq!(claim.patient.birth_date, Some(date("1957-06-30")));
    assert_eq!(
        claim.provider.as_ref().and_then(|p| p.npi.as_deref()),
        Some("1234567893")
    );
    assert_eq!(
        claim.diagnoses[..],
        [CodeKey::parse("M7918"), CodeKey::parse("M5450")].map(Option::unwrap_or_default)
    );
    // A whole number is kept exact (C5).
    assert_eq!(
        claim.facts.get("symptom_duration_days"),
        Some(&FactValue::Integer(120))
    );
    assert_eq!(
        claim.facts.get("trigger_points_palpated"),
        Some(&FactValue::Bool(true))
    );
    let line = &claim.lines[0];
    assert_eq!(line.date_of_service, date("2026-03-04"));
    assert_eq!(line.procedure_text, "20553");
    assert_eq!(line.procedure, CodeKey::parse("20553").unwrap_or_default());
    assert_eq!(
        (line.units, line.muscles, line.injections, line.charge),
        (1, Some(3), Some(4), Some(182.5))
    );
    assert_eq!(line.diagnosis_pointers[..], [1]);
    assert_eq!(line.site.as_deref(), Some("cervical"));

    // Explicit formats agree with detection.
    assert_eq!(
        only(read_claims_str(&one_line(EXAMPLE), InputFormat::JsonLines)).as_ref(),
        Ok(&claim)
    );
    assert_eq!(
        only(read_claims_str(
            &format!("[{EXAMPLE}]"),
            InputFormat::JsonArray
        ))
        .as_ref(),
        Ok(&claim)
    );
    assert_eq!(
        only(read_claims_str(EXAMPLE_YAML, InputFormat::Yaml)).as_ref(),
        Ok(&claim)
    );
}

#[test]
fn to_json_reads_back_to_the_same_claim() {
    let Ok(claim) = only(read_claims_str(&one_line(EXAMPLE), InputFormat::JsonLines)) else {
        panic!("example rejected")
    };
    let again = only(read_claims_str(
        &claim.to_json().to_string(),
        InputFormat::JsonLines,
    ));
    assert_eq!(again, Ok(claim));
}

#[test]
fn dotted_and_undotted_diagnoses_are_equal() {
    let a = one_line(EXAMPLE);
    let b = a.replace("M79.18", "M7918").replace("M54.50", "m5450");
    assert_ne!(a, b);
    assert_eq!(
        only(read_claims_str(&a, InputFormat::Auto)),
        only(read_claims_str(&b, InputFormat::Auto))
    );
}

#[test]
fn defaults_fill_units_pointers_and_line_numbers() {
    let text = r#"{"id":"C","payer":"p","patient":{"id":"P"},"diagnoses":["M79.18","M54.50","G89.29"],
            "lines":[{"date_of_service":"2026-03-04","procedure":"20552"},
                     {"date_of_service":"2026-03-04","procedure":"j3301","modifiers":["rt"]}]}"#;
    let Ok(claim) = only(read_claims_str(&one_line(text), InputFormat::Auto)) else {
        panic!("rejected")
    };
    assert_eq!(
        claim.lines.iter().map(|l| l.line).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(claim.lines[0].units, 1);
    assert_eq!(claim.lines[0].diagnosis_pointers[..], [1, 2, 3]);
    assert!(claim.lines[0].modifiers.is_empty());
    assert_eq!(claim.lines[1].procedure_text, "J3301");
    assert_eq!(claim.lines[1].modifiers[..], ["RT"]);
    assert_eq!(claim.lines[1].pointed_diagnoses(&claim).count(), 3);
    assert!(claim.provider.is_none() && claim.facts.is_empty() && claim.place_of_service.is_none());
}

#[test]
fn one_bad_line_rejects_only_its_claim() {
    let good = one_line(EXAMPLE);
    let bad = good
        .replace("CLM-000123", "CLM-BAD")
        .replace(r#""units": 1"#, r#""units": 0"#);
    assert_ne!(good, bad);
    let text = format!(
        "{good}\n\n{bad}\r\n{}\n",
        good.replace("CLM-000123", "CLM-3")
    );
    let results = read_claims_str(&text, InputFormat::Auto);
    assert_eq!(results.len(), 3, "{results:?}");
    assert_eq!(results[0].as_ref().map(|c| c.id.as_str()), Ok("CLM-000123"));
    let Err(err) = &results[1] else {
        panic!("bad line accepted")
    };
    assert_eq!(err.id.as_deref(), Some("CLM-BAD"));
    assert_eq!(err.path.as_deref(), Some("lines[0].units"));
    assert_eq!(err.message, "units must be an integer of at least 1, got 0");
    // The record is the line's number: the blank line counts (C3).
    assert_eq!(err.record, 3);
    assert_eq!(results[2].as_ref().map(|c| c.id.as_str()), Ok("CLM-3"));
}

#[test]
fn type_errors_keep_the_id_and_path() {
    let line = one_line(EXAMPLE).replace(r#""muscles": 3"#, r#""muscles": "three""#);
    let Err(err) = only(read_claims_str(&line, InputFormat::JsonLines)) else {
        panic!("accepted")
    };
    assert_eq!(err.id.as_deref(), Some("CLM-000123"));
    assert_eq!(err.path.as_deref(), Some("lines[0].muscles"));
    assert_eq!(
        err.message,
        r#"invalid type: string "three", expected a number"#
    );

    let array = format!("[{}]", EXAMPLE.replace(r#""sex": "F""#, r#""sex": 1"#));
    let Err(err) = only(read_claims_str(&array, InputFormat::Auto)) else {
        panic!("accepted")
    };
    assert_eq!(
        (err.id.as_deref(), err.path.as_deref()),
        (Some("CLM-000123"), Some("patient.sex"))
    );

    let yaml = EXAMPLE_YAML.replace("modifiers: []", "modifiers: {a: 1}");
    let Err(err) = only(read_claims_str(&yaml, InputFormat::Auto)) else {
        panic!("accepted")
    };
    assert_eq!(
        (err.id.as_deref(), err.path.as_deref()),
        (Some("CLM-000123"), Some("lines[0].modifiers"))
    );
}

#[test]
fn broken_lines_and_documents() {
    let text = format!("{{\"id\": \"X\", \n{}\n[1]\n", one_line(EXAMPLE));
    let results = read_claims_str(&text, InputFormat::Auto);
    assert_eq!(results.len(), 3, "{results:?}");
    let Err(err) = &results[0] else {
        panic!("accepted")
    };
    // The id read before the break is kept (C3).
    assert_eq!(
        (err.id.as_deref(), err.path.as_deref(), err.record),
        (Some("X"), None, 1)
    );
    assert!(
        err.message.starts_with("line is not complete JSON"),
        "{}",
        err.message
    );
    assert!(results[1].is_ok());
    let Err(err) = &results[2] else {
        panic!("accepted")
    };
    assert_eq!(
        err.message,
        "invalid type: sequence, expected a claim object"
    );
    assert_eq!((err.path.as_deref(), err.record), (None, 3));

    let trailing = format!("{} junk", one_line(EXAMPLE));
    let Err(err) = only(read_claims_str(&trailing, InputFormat::JsonLines)) else {
        panic!("accepted")
    };
    assert_eq!(err.id.as_deref(), Some("CLM-000123"));
    assert!(
        err.message
            .starts_with("line is not valid JSON: trailing characters"),
        "{}",
        err.message
    );

    for (text, format) in [
        ("[{\"id\": 1},", InputFormat::Auto),
        ("- id: [unclosed", InputFormat::Auto),
        ("{\"id\": \"x\"}", InputFormat::JsonArray),
        ("just text", InputFormat::Yaml),
    ] {
        // The array's element is read before the array breaks.
        let results = read_claims_str(text, format);
        let Some(Err(err)) = results.last() else {
            panic!("accepted {text}")
        };
        assert_eq!(
            (err.id.as_deref(), err.path.as_deref(), err.record),
            (None, None, results.len()),
            "{text}"
        );
        assert!(err.input_lost, "{text}");
    }
}

#[test]
fn array_elements_fail_alone() {
    let text = format!(
        "[{EXAMPLE}, 7, {}]",
        EXAMPLE.replace("\"payer\": \"medicare\",", "")
    );
    let results = read_claims_str(&text, InputFormat::Auto);
    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok());
    let Err(err) = &results[1] else {
        panic!("accepted")
    };
    assert_eq!(
        (err.record, err.message.as_str()),
        (2, "invalid type: integer `7`, expected a claim object")
    );
    let Err(err) = &results[2] else {
        panic!("accepted")
    };
    assert_eq!(
        (err.record, err.id.as_deref(), err.path.as_deref()),
        (3, Some("CLM-000123"), Some("payer"))
    );
}

#[test]
fn empty_inputs_hold_no_claims() {
    for text in ["", "  \n\n", "[]", "---\n", "\u{feff}"] {
        assert_eq!(read_claims_str(text, InputFormat::Auto), vec![], "{text:?}");
    }
}

#[test]
fn yaml_single_claim_and_documents() {
    let single = EXAMPLE_YAML.replace("\n- id", "\nid").replace("\n  ", "\n");
    assert!(
        only(read_claims_str(&single, InputFormat::Auto)).is_ok(),
        "{single}"
    );
    let two = format!(
        "{EXAMPLE_YAML}---\n{}",
        EXAMPLE_YAML.replace("CLM-000123", "CLM-2")
    );
    let results = read_claims_str(&two, InputFormat::Yaml);
    assert_eq!(
        results
            .iter()
            .map(|r| r.as_ref().map(|c| c.id.as_str()))
            .collect::<Vec<_>>(),
        [Ok("CLM-000123"), Ok("CLM-2")]
    );
}

#[test]
fn detection_picks_the_format() {
    let mut reader = ClaimReader::new("  [ ]".as_bytes(), InputFormat::Auto);
    assert!(reader.next().is_none());
    assert_eq!(reader.format(), InputFormat::JsonArray);
    let mut reader = ClaimReader::new("\n{}".as_bytes(), InputFormat::Auto);
    assert!(matches!(reader.next(), Some(Err(_))));
    assert_eq!(reader.format(), InputFormat::JsonLines);
    // A first line that is neither JSON nor YAML is one bad record of JSON
    // Lines, not a batch read as YAML (C1).
    let mut reader = ClaimReader::new("# only a comment\n".as_bytes(), InputFormat::Auto);
    assert!(matches!(reader.next(), Some(Err(e)) if e.record == 1 && !e.input_lost));
    assert_eq!(reader.format(), InputFormat::JsonLines);
    for yaml in [
        "# claims\n- id: X\n",
        "---\nid: X\n",
        "id: X\n",
        "-\n  id: X\n",
    ] {
        let mut reader = ClaimReader::new(yaml.as_bytes(), InputFormat::Auto);
        let _ = reader.next();
        assert_eq!(reader.format(), InputFormat::Yaml, "{yaml}");
    }
    for lines in ["oops not json\n{}\n", "\"hello\"\n", "#comment\n{}\n"] {
        let mut reader = ClaimReader::new(lines.as_bytes(), InputFormat::Auto);
        let _ = reader.next();
        assert_eq!(reader.format(), InputFormat::JsonLines, "{lines}");
    }
}

#[test]
fn a_bad_first_line_is_one_bad_record_not_a_yaml_batch() {
    let good = one_line(EXAMPLE);
    let text = format!(
        "oops not json\n{good}\n{}\n",
        good.replace("CLM-000123", "CLM-2")
    );
    let results = read_claims_str(&text, InputFormat::Auto);
    assert_eq!(results.len(), 3, "{results:?}");
    assert!(matches!(&results[0], Err(e) if e.record == 1 && !e.input_lost));
    assert_eq!(results[1].as_ref().map(|c| c.id.as_str()), Ok("CLM-000123"));
    assert_eq!(results[2].as_ref().map(|c| c.id.as_str()), Ok("CLM-2"));
}

#[test]
fn json_lines_are_read_incrementally() {
    // A reader that fails after the first line shows nothing past it was
    // needed to yield the first claim.
    struct FirstLineOnly(Vec<u8>, bool);
    impl std::io::Read for FirstLineOnly {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("unused"))
        }
    }
    impl BufRead for FirstLineOnly {
        fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
            if self.1 {
                Err(std::io::Error::other("read past the first claim"))
            } else {
                Ok(&self.0)
            }
        }
        fn consume(&mut self, n: usize) {
            self.0.drain(..n);
            self.1 = self.0.is_empty();
        }
    }
    let input = FirstLineOnly(format!("{}\n", one_line(EXAMPLE)).into_bytes(), false);
    let mut reader = ClaimReader::new(input, InputFormat::Auto);
    assert!(matches!(reader.next(), Some(Ok(_))));
    let Some(Err(err)) = reader.next() else {
        panic!("no read error")
    };
    assert_eq!(
        (err.record, err.message.as_str()),
        (2, "cannot read input: read past the first claim")
    );
    assert!(reader.next().is_none());
}

#[test]
fn format_names_round_trip() {
    for format in InputFormat::ALL {
        assert_eq!(format.name().parse(), Ok(format));
        assert_eq!(format.to_string(), format.name());
    }
    assert_eq!("NDJSON".parse(), Ok(InputFormat::JsonLines));
    assert_eq!("yml".parse(), Ok(InputFormat::Yaml));
    assert!("xml".parse::<InputFormat>().is_err());
}

/// The first record's error of `text` read in `format`.
fn first_error(text: &str, format: InputFormat) -> ClaimError {
    match read_claims_str(text, format).into_iter().next() {
        Some(Err(err)) => err,
        other => panic!("not an error: {other:?}"),
    }
}

#[test]
fn numbers_out_of_range_keep_the_id_path_rule_and_text() {
    let line = one_line(EXAMPLE);
    let cases = [
        (
            "1e400",
            "lines[0].units",
            "units must be at most 4294967295, got 1e400",
        ),
        (
            "18446744073709551616",
            "lines[0].units",
            "units must be at most 4294967295, got 18446744073709551616",
        ),
        (
            "100000000000000000000000",
            "lines[0].units",
            "units must be at most 4294967295, got 100000000000000000000000",
        ),
        (
            "-1e400",
            "lines[0].units",
            "units must be an integer of at least 1, got -1e400",
        ),
    ];
    for (number, path, message) in cases {
        let text = line.replace(r#""units": 1"#, &format!(r#""units": {number}"#));
        let err = first_error(&text, InputFormat::JsonLines);
        assert_eq!(err.id.as_deref(), Some("CLM-000123"), "{number}");
        assert_eq!(err.path.as_deref(), Some(path), "{number}");
        assert_eq!(err.message, message, "{number}");
    }
    let text = line.replace(
        r#""diagnosis_pointers": [1]"#,
        r#""diagnosis_pointers": [18446744073709551616]"#,
    );
    let err = first_error(&text, InputFormat::JsonLines);
    assert_eq!(err.path.as_deref(), Some("lines[0].diagnosis_pointers[0]"));
    assert!(
        err.message.contains("18446744073709551616"),
        "{}",
        err.message
    );
    assert!(err.message.contains("points past"), "{}", err.message);
    let text = line.replace(
        r#""symptom_duration_days": 120"#,
        r#""symptom_duration_days": 1e999"#,
    );
    let err = first_error(&text, InputFormat::JsonLines);
    assert_eq!(err.path.as_deref(), Some("facts.symptom_duration_days"));
    assert!(err.message.contains("1e999"), "{}", err.message);
}

#[test]
fn duplicate_fields_are_named_by_their_own_path() {
    let line = one_line(EXAMPLE);
    let text = line.replace(r#""units": 1"#, r#""units": 1, "units": 2"#);
    let err = first_error(&text, InputFormat::JsonLines);
    assert_eq!(err.path.as_deref(), Some("lines[0].units"));
    assert_eq!(err.id.as_deref(), Some("CLM-000123"));
    let text = line.replacen(
        r#""payer": "medicare""#,
        r#""payer": "medicare", "id": "B""#,
        1,
    );
    let err = first_error(&text, InputFormat::JsonLines);
    assert_eq!(err.path.as_deref(), Some("id"));
    assert_eq!(err.message, "duplicate field `id`");
}

#[test]
fn syntax_errors_say_line_and_column() {
    let good = one_line(EXAMPLE);
    let text = format!("{good}\n\n{{\"id\": \"T\", \"payer\":\n{good}\n");
    let results = read_claims_str(&text, InputFormat::JsonLines);
    assert_eq!(results.len(), 3, "{results:?}");
    let Err(err) = &results[1] else {
        panic!("accepted")
    };
    assert_eq!((err.id.as_deref(), err.record), (Some("T"), 3));
    assert!(
        err.message.ends_with("at line 3 column 20"),
        "{}",
        err.message
    );
}

#[test]
fn a_record_longer_than_the_limit_is_refused_alone() {
    let good = one_line(EXAMPLE);
    let long = format!("{{\"id\": \"{}\"}}", "x".repeat(MAX_RECORD_BYTES));
    let text = format!("{good}\n{long}\n{good}\n");
    // A small buffer, as a file or pipe gives, and the whole text at once.
    for results in [
        ClaimReader::new(
            std::io::BufReader::with_capacity(4096, text.as_bytes()),
            InputFormat::Auto,
        )
        .collect::<Vec<_>>(),
        read_claims_str(&text, InputFormat::Auto),
    ] {
        assert_eq!(results.len(), 3);
        assert!(results[0].is_ok() && results[2].is_ok());
        let Err(err) = &results[1] else {
            panic!("accepted")
        };
        assert!(err.message.contains("longer than"), "{}", err.message);
        assert!(!err.input_lost);
    }
}

#[test]
fn array_elements_are_read_one_by_one_and_a_broken_one_costs_itself() {
    let good = one_line(EXAMPLE);
    // The second element is not JSON, but its brackets balance.
    let text = format!(
        "[{good},\n{{\"id\": \"X\" \"payer\": 1}},\n{}\n]",
        good.replace("CLM-000123", "CLM-3")
    );
    let results = read_claims_str(&text, InputFormat::Auto);
    assert_eq!(results.len(), 3, "{results:?}");
    let Err(err) = &results[1] else {
        panic!("accepted")
    };
    assert_eq!((err.id.as_deref(), err.record), (Some("X"), 2));
    assert!(
        err.message.ends_with("at line 2 column 12"),
        "{}",
        err.message
    );
    assert!(!err.input_lost);
    assert_eq!(results[2].as_ref().map(|c| c.id.as_str()), Ok("CLM-3"));

    // Brackets that do not balance: the claims before are read, then one
    // error says where and that the rest is lost.
    let text = format!("[{good},\n{{\"id\":\"X\",\n{good}]");
    let results = read_claims_str(&text, InputFormat::Auto);
    assert_eq!(results.len(), 2, "{results:?}");
    assert!(results[0].is_ok());
    let Err(err) = &results[1] else {
        panic!("accepted")
    };
    assert!(err.input_lost);
    assert!(err.message.contains("line 3 column"), "{}", err.message);

    // Text after the closing bracket.
    let results = read_claims_str(&format!("[{good}] junk"), InputFormat::Auto);
    assert!(results[0].is_ok());
    assert!(matches!(&results[1], Err(e) if e.input_lost && e.message.contains("line 1")));
}

#[test]
fn yaml_documents_before_a_broken_one_are_read() {
    let text = format!("{EXAMPLE_YAML}---\n- id: [unclosed\n");
    let results = read_claims_str(&text, InputFormat::Auto);
    assert_eq!(results.len(), 2, "{results:?}");
    assert!(results[0].is_ok());
    let Err(err) = &results[1] else {
        panic!("accepted")
    };
    assert!(err.input_lost);
    assert!(err.message.contains("line"), "{}", err.message);
}

#[test]
fn an_interchange_is_detected_by_its_isa() {
    assert_eq!(InputFormat::sniff(b"ISA*00*"), InputFormat::X12);
    assert_eq!(
        InputFormat::sniff(b"\xEF\xBB\xBF\r\n  ISA*00*"),
        InputFormat::X12
    );
    // A buffer shorter than `ISA` that begins it.
    assert_eq!(InputFormat::sniff(b"IS"), InputFormat::X12);
    assert_eq!(InputFormat::sniff(b"id: C1\n"), InputFormat::Yaml);
    assert_eq!(InputFormat::sniff(b"IS bad\n"), InputFormat::JsonLines);
    for name in ["a.837", "a.X12", "a.edi"] {
        assert_eq!(
            InputFormat::of_path(std::path::Path::new(name)),
            InputFormat::X12
        );
    }
}

#[test]
fn x12_records_are_numbered_as_the_reader_says() {
    let bytes = include_bytes!("../../../tests/data/x12/valid.837");
    let mut reader = ClaimReader::new(&bytes[..], InputFormat::Auto);
    let mut n = 0;
    while let Some(read) = reader.next() {
        n += 1;
        assert_eq!(reader.format(), InputFormat::X12);
        assert_eq!(reader.record(), n);
        if let Err(err) = read {
            assert_eq!(err.record, reader.record());
        }
    }
    assert!(n > 0);
}
