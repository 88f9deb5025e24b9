//! Tests of frequency codes and `replaces`, read in every input format.

use crate::claims::model::Frequency;
use crate::claims::read::{read_claims_str, InputFormat};

#[test]
fn frequency_codes_and_replaces_are_read_in_every_format() {
    let base = r#"{"id":"C2","payer":"p","patient":{"id":"P"},"diagnoses":["M79.18"],"lines":[{"date_of_service":"2025-01-01","procedure":"20552"}]"#;
    for (extra, frequency, replaces) in [
        ("", Frequency::Original, None),
        (r#","frequency_code":"1""#, Frequency::Original, None),
        (r#","frequency_code":7"#, Frequency::Replacement, None),
        (
            r#","frequency_code":"8","replaces":"C1""#,
            Frequency::Void,
            Some("C1"),
        ),
    ] {
        let text = format!("{base}{extra}}}");
        let claim = read_claims_str(&text, InputFormat::JsonLines)
            .remove(0)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(claim.frequency, frequency, "{text}");
        assert_eq!(claim.replaces.as_deref(), replaces);
        let target = claim.target();
        assert_eq!(
            target,
            match frequency {
                Frequency::Original => None,
                _ => Some(replaces.unwrap_or("C2")),
            }
        );
        // Written back only when not an original, and read back the same.
        let json = claim.to_json().to_string();
        assert_eq!(json.contains("frequency_code"), !frequency.is_original());
        let again = read_claims_str(&json, InputFormat::JsonLines).remove(0);
        assert_eq!(again.as_ref().ok(), Some(&claim));
    }
    let yaml = "- {id: C2, payer: p, patient: {id: P}, diagnoses: [M79.18], frequency_code: 7, replaces: C1, lines: [{date_of_service: 2025-01-01, procedure: '20552'}]}\n";
    let claim = read_claims_str(yaml, InputFormat::Yaml)
        .remove(0)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(claim.frequency, Frequency::Replacement);
}
