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
    assert_eq!(
        claim.facts.get("symptom_duration_days"),
        Some(&FactValue::Number(120.0))
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
    assert_eq!(err.record, 2);
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
    assert_eq!(
        (err.id.as_deref(), err.path.as_deref(), err.record),
        (None, None, 1)
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
    assert_eq!(err.id.as_deref(), None);
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
        let Err(err) = only(read_claims_str(text, format)) else {
            panic!("accepted {text}")
        };
        assert_eq!(
            (err.id.as_deref(), err.path.as_deref(), err.record),
            (None, None, 1),
            "{text}"
        );
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
    let mut reader = ClaimReader::new("# only a comment\n".as_bytes(), InputFormat::Auto);
    assert!(reader.next().is_none());
    assert_eq!(reader.format(), InputFormat::Yaml);
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
