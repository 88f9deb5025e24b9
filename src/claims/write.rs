//! Writing outcomes as JSON: the output of `eval`, one line per claim.
//!
//! A decision is written field by field into a byte buffer, which is what serde
//! would write, byte for byte (tested against `serde_json` on every bundled
//! policy case and generated claim), at a quarter of the cost: serde_json escapes
//! strings one byte at a time through a table and goes through the generic
//! `Serializer` for every field. Error records and decisions with a trace are
//! rare and are handed to serde_json itself. Strings that need escaping are
//! escaped by [`push_string`], which cannot fail and writes serde_json's
//! escapes (tested against it); a reason's JSON is written with it when the
//! reason is made.
//!
//! Nothing here writes an empty record: should serde_json ever fail on an
//! outcome (it cannot on these types: no maps, no serializer of our own that
//! fails), the claim gets an error record of kind `internal` naming PR901 in
//! its place.

use std::cell::RefCell;
use std::sync::Arc;

use super::decision::{Decision, LineDecision, Outcome, Reason, ReasonParts};
use super::model::Text;
use crate::codes::CodeKey;

impl Outcome {
    /// Appends the outcome as JSON (no newline) to `out`: never nothing, and
    /// never part of a record.
    // Never inlined, for the same reason as `Engine::try_evaluate`.
    #[inline(never)]
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Outcome::Decision(d) if d.lines.iter().all(|l| l.trace.is_none()) => {
                write_decision(d, out);
            }
            _ => {
                let start = out.len();
                if let Err(e) = serde_json::to_writer(&mut *out, self) {
                    out.truncate(start);
                    let (id, record) = match self {
                        Outcome::Decision(d) => (Some(&*d.id), 0),
                        Outcome::Error(e) => (e.id.as_deref(), e.record),
                    };
                    internal_record(id, record, &e.to_string(), out);
                }
            }
        }
    }
}

/// The error record written in place of an outcome that could not be written
/// (`what` says why): kind `internal`, its message naming PR901, the claim's
/// id and record number when known (a decision carries no record number: 0,
/// as a reader defaults it).
pub(crate) fn internal_record(id: Option<&str>, record: usize, what: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"id\":");
    match id {
        Some(id) => string(id, out),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"error\":{\"kind\":\"internal\",\"message\":");
    string(
        &format!(
            "internal error PR901: payer-rules could not write this claim's outcome ({what}); \
             this is a bug in payer-rules, please report it"
        ),
        out,
    );
    out.extend_from_slice(b"},\"record\":");
    out.extend_from_slice(itoa::Buffer::new().format(record).as_bytes());
    out.push(b'}');
}

/// A reason's JSON, as serde_json writes [`ReasonParts`]: its fields in
/// declaration order, `carc` left out when there is none. Written by hand so
/// that making a reason cannot fail.
pub(crate) fn reason_json(p: &ReasonParts) -> String {
    let mut s = String::with_capacity(160 + p.message.len());
    s.push_str("{\"rule\":");
    push_string(&p.rule, &mut s);
    s.push_str(",\"action\":\"");
    s.push_str(p.action.as_str());
    s.push('"');
    if let Some(carc) = &p.carc {
        s.push_str(",\"carc\":");
        push_string(carc, &mut s);
    }
    s.push_str(",\"rarc\":[");
    for (i, r) in p.rarc.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        push_string(r, &mut s);
    }
    s.push_str("],\"message\":");
    push_string(&p.message, &mut s);
    s.push_str(",\"at\":");
    push_string(&p.at, &mut s);
    s.push_str(",\"policy\":");
    push_string(&p.policy, &mut s);
    s.push_str(",\"policy_version\":");
    push_string(&p.policy_version, &mut s);
    s.push('}');
    s
}

/// `text` as a JSON string, quotes included, escaped as serde_json escapes:
/// `\"` and `\\`, the short escapes `\b \f \n \r \t`, `\u00xx` (lowercase)
/// for the other control characters, everything else as it is.
pub(crate) fn push_string(text: &str, out: &mut String) {
    out.reserve(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\0'..='\u{1f}' => {
                let low = (u32::from(c) & 0xf) as u8;
                out.push_str("\\u00");
                out.push(if u32::from(c) < 0x10 { '0' } else { '1' });
                out.push(char::from(if low < 10 {
                    b'0' + low
                } else {
                    b'a' + low - 10
                }));
            }
            _ => out.push(c),
        }
    }
    out.push('"');
}

fn write_decision(d: &Decision, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"id\":");
    string(&d.id, out);
    if d.policies.is_empty() {
        Header::write(d, out);
    } else {
        // Several policies: rare, and the header cache keys on one.
        let header = Header::of(d);
        out.extend_from_slice(&header.json);
    }
    out.extend_from_slice(d.decision.as_str().as_bytes());
    out.extend_from_slice(b"\",\"lines\":[");
    list(&d.lines, out, write_line);
    out.extend_from_slice(b"]}");
}

fn write_line(line: &LineDecision, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"line\":");
    out.extend_from_slice(itoa::Buffer::new().format(line.line).as_bytes());
    out.extend_from_slice(b",\"procedure\":");
    code(line.procedure, out);
    out.extend_from_slice(b",\"decision\":\"");
    out.extend_from_slice(line.decision.as_str().as_bytes());
    out.extend_from_slice(b"\",\"reasons\":[");
    list(&line.reasons, out, write_reason);
    out.extend_from_slice(b"]}");
}

/// A decision's fields from `payer` to the opening quote of `decision`, as
/// written before on this thread. A run has a few payers and policies, and
/// every claim repeats one of them: comparing with the ones written before
/// costs less than checking the three strings for bytes to escape and copying
/// them one by one.
struct Header {
    payer: Text,
    /// Kept alive here, so that no other text can take its address: the
    /// same address is the same text.
    policy: Arc<str>,
    version: Arc<str>,
    json: Vec<u8>,
}

impl Header {
    /// Headers kept; past them, the oldest gives way. More payers than this
    /// take turns, which stays correct and costs a header made per claim.
    const KEPT: usize = 8;

    fn write(d: &Decision, out: &mut Vec<u8>) {
        thread_local! {
            static KEPT: RefCell<Vec<Header>> = const { RefCell::new(Vec::new()) };
        }
        KEPT.with_borrow_mut(|kept| {
            let at = match kept.iter().position(|h| h.is_for(d)) {
                Some(at) => at,
                None => {
                    if kept.len() == Self::KEPT {
                        kept.remove(0);
                    }
                    kept.push(Header::of(d));
                    kept.len() - 1
                }
            };
            if let Some(h) = kept.get(at) {
                out.extend_from_slice(&h.json);
            }
        });
    }

    fn of(d: &Decision) -> Header {
        let mut json = Vec::new();
        json.extend_from_slice(b",\"payer\":");
        string(&d.payer, &mut json);
        json.extend_from_slice(b",\"policy\":");
        string(&d.policy, &mut json);
        json.extend_from_slice(b",\"policy_version\":");
        string(&d.policy_version, &mut json);
        if !d.policies.is_empty() {
            json.extend_from_slice(b",\"policies\":[");
            list(&d.policies, &mut json, |p, out| {
                out.extend_from_slice(b"{\"id\":");
                string(&p.id, out);
                out.extend_from_slice(b",\"version\":");
                string(&p.version, out);
                out.push(b'}');
            });
            json.push(b']');
        }
        json.extend_from_slice(b",\"decision\":\"");
        Header {
            payer: d.payer.clone(),
            policy: d.policy.clone(),
            version: d.policy_version.clone(),
            json,
        }
    }

    fn is_for(&self, d: &Decision) -> bool {
        Arc::ptr_eq(&self.policy, &d.policy)
            && Arc::ptr_eq(&self.version, &d.policy_version)
            && crate::bytes::same(self.payer.as_bytes(), d.payer.as_bytes())
    }
}

/// A reason's JSON is made with it, once per check of a policy.
fn write_reason(r: &Reason, out: &mut Vec<u8>) {
    out.extend_from_slice(r.json().as_bytes());
}

/// The items of a JSON array, comma-separated (the brackets are the caller's).
fn list<T>(items: &[T], out: &mut Vec<u8>, mut item: impl FnMut(&T, &mut Vec<u8>)) {
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        item(x, out);
    }
}

/// A code's characters, which are letters and digits: nothing to escape.
#[expect(
    clippy::indexing_slicing,
    reason = "`CodeKey::len` is at most `MAX_CODE_LEN`, 8, the length of `to_be_bytes()`"
)]
fn code(key: CodeKey, out: &mut Vec<u8>) {
    let bytes = key.0.to_be_bytes();
    out.push(b'"');
    out.extend_from_slice(&bytes[..key.len()]);
    out.push(b'"');
}

/// A JSON string: copied as is when nothing in it needs escaping, else escaped
/// by [`push_string`] (rare: a string with a quote, a backslash or a control
/// character).
fn string(s: &str, out: &mut Vec<u8>) {
    if crate::bytes::plain_json(s.as_bytes()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let mut escaped = String::new();
        push_string(s, &mut escaped);
        out.extend_from_slice(escaped.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::claims::decision::{
        Action, ClaimDecision, ErrorRecord, PolicyRef, ReasonParts, TraceOutcome, TraceStep,
    };
    use crate::claims::{ClaimError, ErrorBody, ErrorKind};

    fn reason(carc: Option<&str>, rarc: &[&str], message: &str) -> Reason {
        Reason::new(ReasonParts {
            rule: "R1".into(),
            action: Action::Deny,
            carc: carc.map(Arc::from),
            rarc: rarc
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .into(),
            message: message.into(),
            at: "policies/x.policy:3:1".into(),
            policy: "medicare-tpi".into(),
            policy_version: "2026.1".into(),
        })
    }

    /// A decision's `policies`, each `(id, version)`.
    fn policy_refs(refs: &[(&str, &str)]) -> thin_vec::ThinVec<PolicyRef> {
        refs.iter()
            .map(|&(id, version)| PolicyRef {
                id: id.into(),
                version: version.into(),
            })
            .collect()
    }

    fn decision(reasons: Vec<Reason>, trace: Option<Vec<TraceStep>>) -> Outcome {
        Outcome::Decision(Decision {
            id: "CLM-1".into(),
            payer: "médicare".into(),
            policy: "medicare-tpi".into(),
            policy_version: "2026.1".into(),
            policies: thin_vec::ThinVec::new(),
            decision: ClaimDecision::Partial,
            lines: vec![
                LineDecision {
                    line: 1,
                    procedure: CodeKey::from("20553"),
                    decision: Action::Deny,
                    reasons,
                    trace,
                },
                LineDecision {
                    line: 4_000_000_000,
                    procedure: CodeKey::from("J3301"),
                    decision: Action::Allow,
                    reasons: vec![],
                    trace: None,
                },
            ],
        })
    }

    fn same_as_serde(outcome: &Outcome) {
        let mut fast = Vec::new();
        outcome.write_json(&mut fast);
        let serde = serde_json::to_vec(outcome).unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&fast),
            String::from_utf8_lossy(&serde)
        );
    }

    #[test]
    fn writes_what_serde_writes() {
        let cases = [
            decision(vec![], None),
            decision(vec![reason(Some("CO-11"), &["N657", "M80"], "plain")], None),
            decision(
                vec![reason(None, &[], "plain"), reason(None, &["N1"], "two")],
                None,
            ),
            decision(
                vec![reason(
                    Some("CO-\"1\""),
                    &["a\\b"],
                    "tab\there\nand \u{1} é",
                )],
                None,
            ),
            decision(
                vec![reason(None, &[], "traced")],
                Some(vec![TraceStep {
                    rule: "R1".into(),
                    outcome: TraceOutcome::Fired,
                    detail: Some("count 3".into()),
                    policy: None,
                }]),
            ),
            Outcome::Error(ErrorRecord {
                id: None,
                error: ErrorBody {
                    kind: ErrorKind::InvalidClaim,
                    message: "bad \"units\"".into(),
                    path: Some("lines[0].units".into()),
                    x12: None,
                },
                record: 7,
                input_lost: false,
            }),
            Outcome::from(ClaimError::conflict("CLM-2", "id", "seen", 3)),
        ];
        for outcome in &cases {
            same_as_serde(outcome);
        }
    }

    #[test]
    fn writes_each_decisions_own_payer_and_policy_when_they_change() {
        let Outcome::Decision(first) = decision(vec![], None) else {
            panic!("a decision");
        };
        let mut other_payer = first.clone();
        other_payer.payer = "bcbsa".into();
        let mut other_policy = first.clone();
        other_policy.policy = "bcbsa-tpi".into();
        let mut equal_texts = first.clone();
        equal_texts.policy = Arc::from(&*first.policy);
        equal_texts.policy_version = "2026.2".into();
        let mut escaped = first.clone();
        escaped.payer = "a\"b".into();
        // Several policies, one of them needing escapes, between decisions
        // of one: the header written for them is not kept for the next.
        let mut many = first.clone();
        many.policies = policy_refs(&[("medicare-tpi", "2026.1"), ("medicare-\"x\"", "2")]);
        let mut all = vec![first, many, other_payer, other_policy, equal_texts, escaped];
        // More payers than headers kept: they take turns.
        for n in 0..=Header::KEPT {
            let mut d = all[0].clone();
            d.payer = format!("payer-{n}").into();
            all.push(d);
        }
        for d in all.iter().chain(all.iter().rev()).chain(&all) {
            same_as_serde(&Outcome::Decision(d.clone()));
        }
    }

    #[test]
    fn writes_what_serde_writes_for_the_bundled_claims() {
        let policies = crate::Policies::load(&["policies".into()]).policies;
        let Some(policies) = policies else {
            panic!("the bundled policies load");
        };
        let text = include_str!("../../examples/claims.jsonl");
        let mut engine = crate::Engine::new(policies);
        let mut decisions = 0;
        for (i, claim) in
            crate::claims::read_claims_str(text, crate::claims::InputFormat::JsonLines)
                .into_iter()
                .enumerate()
        {
            let outcome = match claim {
                Ok(claim) => {
                    let Ok(done) = engine.try_evaluate(&claim, i + 1);
                    done.outcome
                }
                Err(e) => e.into(),
            };
            decisions += usize::from(matches!(outcome, Outcome::Decision(_)));
            same_as_serde(&outcome);
        }
        assert!(decisions > 500, "{decisions}");
    }

    #[test]
    fn strings_are_escaped_as_serde_escapes_them() {
        // Every ASCII character, then a few beyond.
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("é€😀\u{7f}\u{2028}");
        for text in [all.as_str(), "", "plain", "\"", "\\", "a\u{1f}b\u{10}c"] {
            let mut ours = String::new();
            push_string(text, &mut ours);
            assert_eq!(ours, serde_json::to_string(text).unwrap(), "{text:?}");
            let mut bytes = Vec::new();
            string(text, &mut bytes);
            assert_eq!(bytes, ours.as_bytes(), "{text:?}");
        }
    }

    #[test]
    fn a_reasons_json_is_what_serde_writes() {
        let mut parts = ReasonParts::clone(&reason(Some("CO-11"), &["N657", "M80"], "plain"));
        let check = |parts: &ReasonParts| {
            let json = Reason::new(parts.clone()).json().to_owned();
            assert_eq!(json, serde_json::to_string(parts).unwrap());
            let back: ReasonParts = serde_json::from_str(&json).unwrap();
            assert_eq!(&back, parts);
        };
        check(&parts);
        parts.carc = None;
        parts.rarc = Vec::new().into();
        check(&parts);
        parts.rarc = vec!["N\"1".to_owned()].into();
        parts.message = "tab\there\nand \u{1} é \\ \"q\"".into();
        parts.rule = "r\u{8}".into();
        parts.at = "p\\x.policy:1:1".into();
        parts.policy = String::new().into();
        parts.policy_version = "\u{c}".into();
        check(&parts);
        parts.action = Action::Review;
        check(&parts);
        parts.action = Action::Allow;
        check(&parts);
    }

    #[test]
    fn the_internal_record_names_pr901_and_reads_back() {
        for (id, record) in [(Some("CLM-\"1\""), 7), (None, 0)] {
            let mut out = b"before\n".to_vec();
            internal_record(id, record, "a \"reason\"", &mut out);
            let json = out.strip_prefix(b"before\n").unwrap();
            let text = std::str::from_utf8(json).unwrap();
            assert!(text.contains("PR901"), "{text}");
            let Ok(Outcome::Error(e)) = serde_json::from_slice::<Outcome>(json) else {
                panic!("not an error record: {text}");
            };
            assert_eq!(e.id.as_deref(), id);
            assert_eq!(e.record, record);
            assert_eq!(e.error.kind, ErrorKind::Internal);
            assert!(e.error.message.contains("a \"reason\""), "{text}");
            // Byte for byte what serde writes of the same record.
            assert_eq!(json, serde_json::to_vec(&Outcome::Error(e)).unwrap());
        }
    }

    /// Every shape an outcome takes, each written as a non-empty record that
    /// reads back as itself: through `write_json` (the output of `eval` and
    /// `serve`) and through `Evaluated::json` (the library's answer).
    #[test]
    fn every_outcome_shape_writes_a_record_that_reads_back() {
        let Outcome::Decision(plain) = decision(
            vec![reason(Some("CO-11"), &["N657"], "plain \"quoted\"")],
            None,
        ) else {
            panic!("a decision");
        };
        let mut many = plain.clone();
        many.policies = policy_refs(&[("medicare-tpi", "2026.1"), ("medicare-other", "1")]);
        let mut void = plain.clone();
        void.decision = ClaimDecision::Void;
        void.lines.clear();
        let traced = decision(
            vec![reason(None, &[], "traced")],
            Some(vec![
                TraceStep {
                    rule: "R1".into(),
                    outcome: TraceOutcome::Fired,
                    detail: Some("count 3".into()),
                    policy: Some("medicare-tpi".into()),
                },
                TraceStep {
                    rule: "R2".into(),
                    outcome: TraceOutcome::NotApplicable,
                    detail: None,
                    policy: None,
                },
            ]),
        );
        let mut x12 = ClaimError::invalid(Some("X1".into()), None, "bad SV1", 2).at_x12(
            crate::claims::X12Location {
                interchange: Some("000000001".into()),
                group: Some("1".into()),
                transaction: Some("0001".into()),
                loop_id: Some("2400".into()),
                segment: Some("SV1".into()),
                ordinal: Some(12),
                offset: Some(345),
            },
        );
        x12.kind = ErrorKind::X12SegmentOrder;
        let mut internal = Vec::new();
        internal_record(Some("CLM-1"), 3, "why", &mut internal);
        let Ok(internal) = serde_json::from_slice::<Outcome>(&internal) else {
            panic!("the internal record reads");
        };
        let shapes = [
            ("decision", Outcome::Decision(plain)),
            ("several policies", Outcome::Decision(many)),
            ("void", Outcome::Decision(void)),
            ("traced", traced),
            (
                "invalid_claim",
                ClaimError::invalid(None, Some("lines[0].units".into()), "bad", 4).into(),
            ),
            ("no_policy", ClaimError::no_policy("C", "nobody", 5).into()),
            (
                "conflict",
                ClaimError::conflict("C", "id", "seen", 6).into(),
            ),
            ("x12", x12.into()),
            ("internal", internal),
        ];
        for (shape, outcome) in shapes {
            let mut out = Vec::new();
            outcome.write_json(&mut out);
            assert!(out.len() > 2, "{shape}: {out:?}");
            let back: Outcome = serde_json::from_slice(&out)
                .unwrap_or_else(|e| panic!("{shape}: {e}: {}", String::from_utf8_lossy(&out)));
            assert_eq!(back, outcome, "{shape}");
            let evaluated = crate::eval::Evaluated {
                outcome,
                replayed: false,
            };
            assert_eq!(evaluated.json().as_bytes(), out, "{shape}");
        }
    }
}
