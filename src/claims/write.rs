//! Writing outcomes as JSON: the output of `eval`, one line per claim.
//!
//! A decision is written field by field into a byte buffer, which is what serde
//! would write, byte for byte (tested against `serde_json` on every bundled
//! policy case and generated claim), at a quarter of the cost: serde_json escapes
//! strings one byte at a time through a table and goes through the generic
//! `Serializer` for every field. Strings that need escaping, error records and
//! decisions with a trace are rare and are handed to serde_json itself, so
//! escaping rules live in one place.

use std::cell::RefCell;
use std::sync::Arc;

use super::decision::{Decision, LineDecision, Outcome, Reason};
use super::model::Text;
use crate::codes::CodeKey;

impl Outcome {
    /// Appends the outcome as JSON (no newline) to `out`.
    // Never inlined, for the same reason as `Engine::try_evaluate`.
    #[inline(never)]
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Outcome::Decision(d) if d.lines.iter().all(|l| l.trace.is_none()) => {
                write_decision(d, out);
            }
            // Serializing into memory fails only for non-string map keys, which
            // these types do not have.
            _ => {
                let _ = serde_json::to_writer(&mut *out, self);
            }
        }
    }
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
/// by serde_json.
fn string(s: &str, out: &mut Vec<u8>) {
    if crate::bytes::plain_json(s.as_bytes()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::claims::decision::{
        Action, ClaimDecision, ErrorRecord, ReasonParts, TraceOutcome, TraceStep,
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

    fn decision(reasons: Vec<Reason>, trace: Option<Vec<TraceStep>>) -> Outcome {
        Outcome::Decision(Decision {
            id: "CLM-1".into(),
            payer: "médicare".into(),
            policy: "medicare-tpi".into(),
            policy_version: "2026.1".into(),
            policies: Vec::new(),
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
        many.policies = vec![
            super::super::decision::PolicyRef {
                id: "medicare-tpi".into(),
                version: "2026.1".into(),
            },
            super::super::decision::PolicyRef {
                id: "medicare-\"x\"".into(),
                version: "2".into(),
            },
        ];
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
}
