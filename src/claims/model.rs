//! The validated claim the evaluator works on.
//!
//! These types are built only by the validator (or by hand in tests), so the
//! evaluator can rely on their invariants: codes are packed and well shaped,
//! every diagnosis pointer names a diagnosis, line numbers are unique, facts are
//! sorted. They serialize back to the contract's claim shape, which is how test
//! fixtures are written.

use chrono::NaiveDate;
use serde::{Serialize, Serializer};

use super::validate::{MAX_DIAGNOSES, MAX_MODIFIERS};
use crate::codes::CodeKey;

/// The text of a claim field: kept inline up to 24 bytes (ids, codes, sites), so
/// building a claim allocates no string for any field clients send in practice.
/// It reads as a `&str` (`Deref`) and serializes as a string.
pub type Text = compact_str::CompactString;

/// A claim's diagnoses, inline: a claim has at most [`MAX_DIAGNOSES`].
pub type Diagnoses = arrayvec::ArrayVec<CodeKey, MAX_DIAGNOSES>;

/// A line's diagnosis pointers, inline: at most 12, one per diagnosis.
pub type Pointers = arrayvec::ArrayVec<u8, MAX_DIAGNOSES>;

/// A line's modifiers, inline: at most [`MAX_MODIFIERS`].
pub type Modifiers = arrayvec::ArrayVec<Text, MAX_MODIFIERS>;

/// A claim that passed validation; see `CLAIMS.md` for the meaning of each field.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Claim {
    /// Claim id, unique within one input.
    pub id: Text,
    /// Payer id; selects the policy that applies.
    pub payer: Text,
    /// The member the services were given to.
    pub patient: Patient,
    /// The rendering provider, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<Provider>,
    /// 2-digit CMS place-of-service code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_of_service: Option<Text>,
    /// ICD-10-CM codes; position k (1-based) is diagnosis pointer k.
    #[serde(serialize_with = "serialize_codes")]
    pub diagnoses: Diagnoses,
    /// Documentation facts a policy may require.
    #[serde(skip_serializing_if = "Facts::is_empty")]
    pub facts: Facts,
    /// Service lines, at least one, in input order.
    pub lines: Vec<Line>,
    /// What the claim does to an earlier one (X12 CLM05-3): an original (the
    /// default, not written), a replacement or a void.
    #[serde(
        skip_serializing_if = "Frequency::is_original",
        rename = "frequency_code"
    )]
    pub frequency: Frequency,
    /// The id of the claim a replacement or void acts on; the claim's own id
    /// when not given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<Text>,
}

impl Claim {
    /// The claim in the contract's JSON shape (diagnoses without their dot), so
    /// that a claim built in a test can be written as a fixture and read back.
    pub fn to_json(&self) -> serde_json::Value {
        // Serializing to a Value fails only on non-string map keys or a failing
        // custom Serialize, and these types have neither; Null is unreachable.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The line with line number `line`, if any.
    pub fn line(&self, line: u32) -> Option<&Line> {
        self.lines.iter().find(|l| l.line == line)
    }

    /// The claim a replacement or void acts on (`replaces`, else the claim's own
    /// id); `None` for an original.
    pub fn target(&self) -> Option<&str> {
        match self.frequency {
            Frequency::Original => None,
            Frequency::Replacement | Frequency::Void => {
                Some(self.replaces.as_deref().unwrap_or(&self.id))
            }
        }
    }
}

/// The claim frequency code of X12 837 CLM05-3, as far as the engine acts on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Frequency {
    /// `1`: an original claim.
    #[default]
    Original,
    /// `7`: replaces an earlier claim: its services leave the history and this
    /// claim is evaluated in its place.
    Replacement,
    /// `8`: voids an earlier claim: its services leave the history.
    Void,
}

impl Frequency {
    /// Reads `1`, `7` or `8`.
    pub fn parse(code: &str) -> Option<Frequency> {
        match code {
            "1" => Some(Frequency::Original),
            "7" => Some(Frequency::Replacement),
            "8" => Some(Frequency::Void),
            _ => None,
        }
    }

    /// The X12 code.
    pub fn code(self) -> &'static str {
        match self {
            Frequency::Original => "1",
            Frequency::Replacement => "7",
            Frequency::Void => "8",
        }
    }

    /// True for an original claim.
    pub fn is_original(&self) -> bool {
        *self == Frequency::Original
    }
}

impl Serialize for Frequency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// The member a claim is for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Patient {
    /// Member id, as the payer issued it; history and frequency limits are
    /// kept per payer and member (the same id under two payers is two
    /// histories).
    pub id: Text,
    /// Birth date, for age rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    /// Sex, for sex rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
}

impl Patient {
    /// Age in whole years on `date`; `None` without a birth date or when `date` is
    /// before it. Someone born on 29 February turns a year older on 1 March in
    /// common years.
    pub fn age_on(&self, date: NaiveDate) -> Option<u32> {
        date.years_since(self.birth_date?)
    }
}

/// A patient's sex as the contract spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Sex {
    /// Female.
    F,
    /// Male.
    M,
    /// Unknown.
    U,
}

impl Sex {
    /// Reads `F`, `M` or `U`, in either case.
    pub fn parse(text: &str) -> Option<Sex> {
        match text {
            "F" | "f" => Some(Sex::F),
            "M" | "m" => Some(Sex::M),
            "U" | "u" => Some(Sex::U),
            _ => None,
        }
    }

    /// The contract's one-letter spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::F => "F",
            Sex::M => "M",
            Sex::U => "U",
        }
    }
}

/// The rendering provider.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Provider {
    /// National Provider Identifier: 10 digits with a valid check digit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub npi: Option<Text>,
    /// NUCC provider taxonomy code, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taxonomy: Option<Text>,
}

/// One service line of a claim.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Line {
    /// Line number, unique within the claim; defaults to the 1-based position.
    pub line: u32,
    /// Date the service was given.
    pub date_of_service: NaiveDate,
    /// The CPT or HCPCS code, packed for set membership tests.
    #[serde(skip)]
    pub procedure: CodeKey,
    /// The procedure code as given, trimmed and uppercased, for output.
    #[serde(rename = "procedure")]
    pub procedure_text: Text,
    /// Up to 4 two-character modifiers, uppercased.
    pub modifiers: Modifiers,
    /// Units of service, at least 1.
    pub units: u32,
    /// 1-based indexes into the claim's diagnoses; all of them when not given.
    pub diagnosis_pointers: Pointers,
    /// Anatomic site label, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<Text>,
    /// Number of distinct muscles injected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub muscles: Option<u32>,
    /// Number of injections (needle placements) in the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub injections: Option<u32>,
    /// Billed amount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charge: Option<f64>,
}

impl Line {
    /// The diagnoses this line points to, in pointer order.
    pub fn pointed_diagnoses<'a>(&'a self, claim: &'a Claim) -> impl Iterator<Item = CodeKey> + 'a {
        // Validation guarantees every pointer is in range; filter_map keeps a
        // hand-built line with a stray pointer from panicking.
        self.diagnosis_pointers.iter().filter_map(move |&p| {
            let index = usize::from(p).checked_sub(1)?;
            claim.diagnoses.get(index).copied()
        })
    }
}

/// The value of one documentation fact.
#[derive(Clone, Debug, PartialEq)]
pub enum FactValue {
    /// `true` or `false`.
    Bool(bool),
    /// Any JSON number.
    Number(f64),
    /// A whole number written as one (no fraction, no exponent) that fits 64
    /// bits: kept exact, since a float holds every integer only up to 2^53
    /// (`9007199254740993` would compare equal to `9007199254740992`).
    Integer(i64),
    /// A string that is not a `YYYY-MM-DD` date.
    Text(Text),
    /// A string in `YYYY-MM-DD` form.
    Date(NaiveDate),
}

impl FactValue {
    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            FactValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            FactValue::Number(n) => Some(*n),
            FactValue::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The text, if this is a non-date string.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            FactValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The date, if this is one.
    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            FactValue::Date(d) => Some(*d),
            _ => None,
        }
    }
}

impl Serialize for FactValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Whole numbers go out as integers so a fixture written from `120` reads
        // `120`, not `120.0`; 2^53 is where f64 stops holding every integer.
        const EXACT: f64 = 9_007_199_254_740_992.0;
        match self {
            FactValue::Bool(b) => serializer.serialize_bool(*b),
            FactValue::Number(n) if n.fract() == 0.0 && n.abs() <= EXACT => {
                serializer.serialize_i64(*n as i64)
            }
            FactValue::Number(n) => serializer.serialize_f64(*n),
            FactValue::Integer(i) => serializer.serialize_i64(*i),
            FactValue::Text(s) => serializer.serialize_str(s),
            FactValue::Date(d) => d.serialize(serializer),
        }
    }
}

/// A claim's documentation facts, sorted by name so a policy's lookups are a
/// binary search rather than a scan or a per-claim hash map.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts(Vec<(Text, FactValue)>);

impl Facts {
    /// Builds the set from pairs in any order; when a name repeats, the last
    /// value wins, as in a JSON object read by most parsers.
    pub fn new(mut pairs: Vec<(Text, FactValue)>) -> Facts {
        // A stable sort keeps repeats in input order, so keeping the last of each
        // run keeps the last given.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        // In place: reversed, each run of a name starts with its last value, the
        // one `dedup_by` keeps.
        pairs.reverse();
        pairs.dedup_by(|later, kept| later.0 == kept.0);
        pairs.reverse();
        Facts(pairs)
    }

    /// Builds the set from pairs already sorted by name, no name twice
    /// (what validation checks), without sorting them again.
    pub(crate) fn from_sorted(pairs: Vec<(Text, FactValue)>) -> Facts {
        debug_assert!(pairs.windows(2).all(|w| matches!(w, [a, b] if a.0 < b.0)));
        Facts(pairs)
    }

    /// The list the facts were kept in, emptied: room for the next claim's.
    pub(crate) fn into_room(self) -> Vec<(Text, FactValue)> {
        let mut pairs = self.0;
        pairs.clear();
        pairs
    }

    /// The value of fact `name`.
    pub fn get(&self, name: &str) -> Option<&FactValue> {
        // Claims carry a few facts: a scan that compares lengths first beats a
        // binary search's string comparisons (a rule asks for facts on every
        // line).
        if self.0.len() <= 8 {
            return self
                .0
                .iter()
                .find(|(n, _)| crate::bytes::same(n.as_bytes(), name.as_bytes()))
                .map(|(_, v)| v);
        }
        self.0
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .and_then(|i| self.0.get(i))
            .map(|(_, v)| v)
    }

    /// The facts in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FactValue)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// How many facts there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when the claim carries no facts.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(Text, FactValue)> for Facts {
    fn from_iter<I: IntoIterator<Item = (Text, FactValue)>>(iter: I) -> Facts {
        Facts::new(iter.into_iter().collect())
    }
}

impl Serialize for Facts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(n, v)| (n, v)))
    }
}

fn serialize_codes<S: Serializer>(codes: &[CodeKey], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(codes.iter().map(|c| c.as_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn key(s: &str) -> CodeKey {
        CodeKey::parse(s).unwrap_or_default()
    }

    fn sample() -> Claim {
        Claim {
            id: "CLM-1".into(),
            payer: "medicare".into(),
            patient: Patient {
                id: "PAT-1".into(),
                birth_date: Some(date(1957, 6, 30)),
                sex: Some(Sex::F),
            },
            provider: None,
            place_of_service: Some("11".into()),
            diagnoses: [key("M79.18"), key("M54.50"), key("G89.29")]
                .into_iter()
                .collect(),
            facts: Facts::new(vec![
                ("trigger_points_palpated".into(), FactValue::Bool(true)),
                ("symptom_duration_days".into(), FactValue::Number(120.0)),
            ]),
            lines: vec![Line {
                line: 1,
                date_of_service: date(2026, 3, 4),
                procedure: key("20553"),
                procedure_text: "20553".into(),
                modifiers: Modifiers::new(),
                units: 1,
                diagnosis_pointers: [3, 1].into_iter().collect(),
                site: None,
                muscles: Some(3),
                injections: None,
                charge: Some(182.5),
            }],
            frequency: Frequency::Original,
            replaces: None,
        }
    }

    #[test]
    fn age_counts_whole_years() {
        let p = Patient {
            id: "P".into(),
            birth_date: Some(date(1957, 6, 30)),
            sex: None,
        };
        assert_eq!(p.age_on(date(2026, 6, 29)), Some(68));
        assert_eq!(p.age_on(date(2026, 6, 30)), Some(69));
        assert_eq!(p.age_on(date(1957, 6, 29)), None);
        let leap = Patient {
            id: "P".into(),
            birth_date: Some(date(2000, 2, 29)),
            sex: None,
        };
        assert_eq!(leap.age_on(date(2001, 2, 28)), Some(0));
        assert_eq!(leap.age_on(date(2001, 3, 1)), Some(1));
        let unknown = Patient {
            id: "P".into(),
            birth_date: None,
            sex: None,
        };
        assert_eq!(unknown.age_on(date(2026, 1, 1)), None);
    }

    #[test]
    fn pointed_diagnoses_follow_pointer_order() {
        let claim = sample();
        let got: Vec<String> = claim.lines[0]
            .pointed_diagnoses(&claim)
            .map(CodeKey::as_string)
            .collect();
        assert_eq!(got, ["G8929", "M7918"]);
    }

    #[test]
    fn facts_are_sorted_and_last_repeat_wins() {
        let facts = Facts::new(vec![
            ("b".into(), FactValue::Number(1.0)),
            ("a".into(), FactValue::Bool(false)),
            ("b".into(), FactValue::Number(2.0)),
        ]);
        assert_eq!(facts.len(), 2);
        assert_eq!(facts.iter().map(|(n, _)| n).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(facts.get("b"), Some(&FactValue::Number(2.0)));
        assert_eq!(facts.get("a").and_then(FactValue::as_bool), Some(false));
        assert_eq!(facts.get("c"), None);
    }

    #[test]
    fn facts_are_found_by_scan_and_by_search_alike() {
        // Up to 8 facts are scanned, more are searched: every size around the
        // switch finds each name and nothing else.
        for n in 1..=12 {
            let names: Vec<String> = (0..n).map(|i| format!("f{i:02}")).collect();
            let facts = Facts::new(
                names
                    .iter()
                    .enumerate()
                    .map(|(i, name)| (name.as_str().into(), FactValue::Number(i as f64)))
                    .collect(),
            );
            for (i, name) in names.iter().enumerate() {
                assert_eq!(
                    facts.get(name),
                    Some(&FactValue::Number(i as f64)),
                    "{n}: {name}"
                );
            }
            for missing in ["", "f", "f1", "f99", "g00"] {
                assert_eq!(facts.get(missing), None, "{n}: {missing}");
            }
        }
    }

    #[test]
    fn serializes_to_the_contract_shape_in_contract_order() {
        let claim = sample();
        let json = serde_json::to_string(&claim).unwrap_or_default();
        // to_json is the same document; its map order depends on serde_json features.
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&json).ok(),
            Some(claim.to_json())
        );
        assert_eq!(
            json,
            concat!(
                r#"{"id":"CLM-1","payer":"medicare","#,
                r#""patient":{"id":"PAT-1","birth_date":"1957-06-30","sex":"F"},"#,
                r#""place_of_service":"11","diagnoses":["M7918","M5450","G8929"],"#,
                r#""facts":{"symptom_duration_days":120,"trigger_points_palpated":true},"#,
                r#""lines":[{"line":1,"date_of_service":"2026-03-04","procedure":"20553","#,
                r#""modifiers":[],"units":1,"diagnosis_pointers":[3,1],"muscles":3,"charge":182.5}]}"#
            )
        );
    }
}
