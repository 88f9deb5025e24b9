//! The decision side of the contract: what the engine writes for each claim.
//!
//! Field order in these structs is the order of `CLAIMS.md`; serde writes fields in
//! declaration order, so reordering them changes the output.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thin_vec::ThinVec;

use super::error::{ClaimError, ErrorKind, X12Location};
use super::model::Text;
use crate::codes::CodeKey;

/// What a rule, and then a line, asks for. Ordered by severity so that the most
/// severe action of the rules that fired is their `max()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Pay the line.
    Allow,
    /// Pend the line for a person.
    Review,
    /// Do not pay the line.
    Deny,
}

impl Action {
    /// The contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Review => "review",
            Action::Deny => "deny",
        }
    }

    /// Reads the contract's spelling back (as stores keep it).
    pub fn parse(text: &str) -> Option<Action> {
        [Action::Allow, Action::Review, Action::Deny]
            .into_iter()
            .find(|a| a.as_str() == text)
    }
}

/// The decision on a whole claim, summarizing its lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ClaimDecision {
    /// Every line allowed.
    Allow,
    /// At least one line pends for a person.
    Review,
    /// Every line denied.
    Deny,
    /// Some lines denied, the others allowed.
    Partial,
    /// The claim voids an earlier one (frequency code 8): nothing was evaluated
    /// and the earlier claim's services left the history.
    Void,
}

impl ClaimDecision {
    /// Every claim decision, in declaration order (`d as usize` indexes it):
    /// the index is the code a memory store keeps for a claim's decision, so
    /// the order only ever grows at the end.
    pub const ALL: [ClaimDecision; 5] = [
        ClaimDecision::Allow,
        ClaimDecision::Review,
        ClaimDecision::Deny,
        ClaimDecision::Partial,
        ClaimDecision::Void,
    ];

    /// The claim decision from its line decisions, by the contract's rule: `review`
    /// if any line is `review`; else `deny` if every line is `deny`; else `partial`
    /// if some line is `deny`; else `allow`. A claim without lines (which
    /// validation never lets through) denied nothing and so is `allow`.
    pub fn from_lines(lines: &[Action]) -> ClaimDecision {
        ClaimDecision::of(lines.iter().copied())
    }

    /// [`ClaimDecision::from_lines`] over any sequence of line actions.
    pub fn of(lines: impl IntoIterator<Item = Action>) -> ClaimDecision {
        let (mut total, mut denied, mut review) = (0usize, 0usize, false);
        for a in lines {
            total += 1;
            denied += usize::from(a == Action::Deny);
            review |= a == Action::Review;
        }
        if review {
            ClaimDecision::Review
        } else if denied == 0 {
            ClaimDecision::Allow
        } else if denied == total {
            ClaimDecision::Deny
        } else {
            ClaimDecision::Partial
        }
    }

    /// The contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimDecision::Allow => "allow",
            ClaimDecision::Review => "review",
            ClaimDecision::Deny => "deny",
            ClaimDecision::Partial => "partial",
            ClaimDecision::Void => "void",
        }
    }

    /// Reads the contract's spelling back (as stores keep it).
    pub fn parse(text: &str) -> Option<ClaimDecision> {
        ClaimDecision::ALL.into_iter().find(|d| d.as_str() == text)
    }
}

/// Why a rule fired on a line. Made once per check when a policy is compiled
/// and shared by every line it is given to: handing it to a line is one count
/// increment rather than one per field, and writing it is one copy of its JSON,
/// made with it. Its fields are read through `ReasonParts`.
#[derive(Clone, Debug)]
pub struct Reason(Arc<SharedReason>);

#[derive(Debug)]
struct SharedReason {
    parts: ReasonParts,
    /// `parts` as serde_json writes them (`write::reason_json`).
    json: Box<str>,
}

/// What a reason says: the contract's fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReasonParts {
    /// The rule's name in its policy.
    pub rule: Arc<str>,
    /// What the rule asked for.
    pub action: Action,
    /// Claim adjustment group and reason code joined by `-` (`CO-11`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carc: Option<Arc<str>>,
    /// Remittance advice remark codes; may be empty.
    #[serde(default = "no_rarc")]
    pub rarc: Arc<[String]>,
    /// Human-readable explanation.
    pub message: Arc<str>,
    /// The rule's location in its policy file, `path:line:column`.
    pub at: Arc<str>,
    /// The id of the policy the rule belongs to (a payer may have several
    /// policies in effect on one date). Empty only in a reason read from a
    /// store written before reasons named their policy, which the store
    /// fills in from the decision's one policy.
    #[serde(default)]
    pub policy: Arc<str>,
    /// That policy's version.
    #[serde(default)]
    pub policy_version: Arc<str>,
}

fn no_rarc() -> Arc<[String]> {
    Arc::from(Vec::new())
}

impl Reason {
    /// A reason and its JSON (written by hand, as serde_json would: making
    /// a reason cannot fail).
    pub fn new(parts: ReasonParts) -> Reason {
        let json = super::write::reason_json(&parts).into();
        Reason(Arc::new(SharedReason { parts, json }))
    }

    /// The reason as one JSON object, as the contract writes it.
    pub fn json(&self) -> &str {
        &self.0.json
    }

    /// The address of the shared reason: equal for clones of one reason, so
    /// a count by reason can key on one word. Different reasons may still say
    /// the same thing.
    pub fn address(&self) -> usize {
        Arc::as_ptr(&self.0).cast::<u8>() as usize
    }
}

impl std::ops::Deref for Reason {
    type Target = ReasonParts;

    fn deref(&self) -> &ReasonParts {
        &self.0.parts
    }
}

impl PartialEq for Reason {
    fn eq(&self, other: &Reason) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.parts == other.0.parts
    }
}

impl Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.parts.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Reason, D::Error> {
        ReasonParts::deserialize(deserializer).map(Reason::new)
    }
}

/// One step of an evaluation trace: what one rule did on a line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceStep {
    /// The rule's name.
    pub rule: Arc<str>,
    /// Whether the rule applied and, if so, whether it fired.
    pub outcome: TraceOutcome,
    /// Extra detail, such as the count a frequency limit saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The id of the rule's policy, when more than one policy applied to the
    /// claim (with one, the decision's `policy` names it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Arc<str>>,
}

/// What a rule did on a line, for traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceOutcome {
    /// The rule's scope did not cover the line.
    NotApplicable,
    /// The rule applied and its conditions held.
    Passed,
    /// The rule applied and acted on the line.
    Fired,
}

/// The decision on one service line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LineDecision {
    /// The line number from the claim.
    pub line: u32,
    /// The line's procedure code as given (trimmed, uppercased).
    pub procedure: CodeKey,
    /// The most severe action of the rules that fired; `allow` if none did.
    pub decision: Action,
    /// Every rule that fired, in policy order.
    pub reasons: Vec<Reason>,
    /// What every rule did, when tracing was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<TraceStep>>,
}

/// A policy that applied to a claim, in [`Decision::policies`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRef {
    /// The policy id.
    pub id: Arc<str>,
    /// Its version.
    pub version: Arc<str>,
}

/// The decision on one claim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The claim's id.
    pub id: Text,
    /// The claim's payer.
    pub payer: Text,
    /// Name of the policy that decided it; where several did, the first of
    /// [`Decision::policies`].
    pub policy: Arc<str>,
    /// Version of that policy.
    pub policy_version: Arc<str>,
    /// Every policy that applied to some line, sorted by id (then by start
    /// date, for two versions of one id on lines of different dates); empty,
    /// and not written, when only one did.
    ///
    /// A [`ThinVec`] (one pointer, no allocation while empty) rather than a
    /// `Vec`: it keeps an [`Evaluated`](crate::Evaluated) within 128 bytes,
    /// which the compiler moves with a few register stores; at 144 each of
    /// the two moves per claim was a call to `memcpy` whose loads waited for
    /// the stores just made, 2% of `eval`'s time at a million claims.
    #[serde(default, skip_serializing_if = "ThinVec::is_empty")]
    pub policies: ThinVec<PolicyRef>,
    /// The claim decision, from the line decisions.
    pub decision: ClaimDecision,
    /// One decision per claim line, in claim order.
    pub lines: Vec<LineDecision>,
}

/// The output record for a claim that could not be evaluated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorRecord {
    /// The claim's id, or `null` when it could not be read.
    pub id: Option<String>,
    /// What went wrong.
    pub error: ErrorBody,
    /// 1-based position of the claim in the input (added to the contract, optional
    /// for readers), to find claims without a readable id.
    #[serde(default)]
    pub record: usize,
    /// The error is about the input, not this claim alone (see
    /// [`ClaimError::input_lost`]); never written out.
    #[serde(skip)]
    pub input_lost: bool,
}

/// The `error` object of an [`ErrorRecord`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// `invalid_claim`, `no_policy` or `conflict`.
    pub kind: ErrorKind,
    /// What is wrong.
    pub message: String,
    /// The first bad field, as `lines[0].date_of_service`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Where in an X12 input (added to the contract, optional for readers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x12: Option<Box<X12Location>>,
}

impl From<ClaimError> for ErrorRecord {
    fn from(err: ClaimError) -> ErrorRecord {
        ErrorRecord {
            id: err.id,
            error: ErrorBody {
                kind: err.kind,
                message: err.message,
                path: err.path,
                x12: err.x12,
            },
            record: err.record,
            input_lost: err.input_lost,
        }
    }
}

/// One output record: a decision or an error, written without a tag since the
/// contract tells them apart by their fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Outcome {
    /// The claim was evaluated.
    Decision(Decision),
    /// The claim could not be evaluated.
    Error(ErrorRecord),
}

impl From<ClaimError> for Outcome {
    fn from(err: ClaimError) -> Outcome {
        Outcome::Error(err.into())
    }
}

impl From<Decision> for Outcome {
    fn from(decision: Decision) -> Outcome {
        Outcome::Decision(decision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_and_its_clones_share_an_address_and_others_do_not() {
        let parts = ReasonParts {
            rule: "R1".into(),
            action: Action::Deny,
            carc: None,
            rarc: no_rarc(),
            message: "m".into(),
            at: "p:1:1".into(),
            policy: "p".into(),
            policy_version: "1".into(),
        };
        let one = Reason::new(parts.clone());
        let same_words = Reason::new(parts);
        assert_eq!(one.address(), one.clone().address());
        assert_ne!(one.address(), same_words.address());
        assert_eq!(one, same_words);
    }

    #[test]
    fn every_claim_decision_is_listed_at_its_stored_code() {
        // The codes a memory store keeps, pinned. One arm per variant and no
        // wildcard: a new variant stops this compiling until it has a code.
        let code = |d: ClaimDecision| match d {
            ClaimDecision::Allow => 0,
            ClaimDecision::Review => 1,
            ClaimDecision::Deny => 2,
            ClaimDecision::Partial => 3,
            ClaimDecision::Void => 4,
        };
        assert_eq!(ClaimDecision::ALL.len(), 5);
        for (i, d) in ClaimDecision::ALL.iter().enumerate() {
            assert_eq!(code(*d), i, "{d:?}");
            assert_eq!(*d as usize, i, "{d:?}");
        }
    }

    fn sample() -> Decision {
        Decision {
            id: "CLM-000123".into(),
            payer: "medicare".into(),
            policy: "medicare-tpi".into(),
            policy_version: "2026.1".into(),
            policies: ThinVec::new(),
            decision: ClaimDecision::Deny,
            lines: vec![LineDecision {
                line: 1,
                procedure: "20553".into(),
                decision: Action::Deny,
                reasons: vec![Reason::new(ReasonParts {
                    rule: "covered-diagnosis".into(),
                    action: Action::Deny,
                    carc: Some("CO-11".into()),
                    rarc: vec!["N657".to_string()].into(),
                    message: "no diagnosis on the claim supports medical necessity for 20553"
                        .into(),
                    at: "policies/medicare/tpi.policy:14:3".into(),
                    policy: "medicare-tpi".into(),
                    policy_version: "2026.1".into(),
                })],
                trace: None,
            }],
        }
    }

    #[test]
    fn action_order_is_severity() {
        assert!(Action::Allow < Action::Review);
        assert!(Action::Review < Action::Deny);
        let fired = [Action::Review, Action::Deny, Action::Allow];
        assert_eq!(fired.iter().copied().max(), Some(Action::Deny));
        assert_eq!(
            [Action::Allow, Action::Review].iter().copied().max(),
            Some(Action::Review)
        );
    }

    #[test]
    fn claim_decision_from_lines() {
        use Action::{Allow as A, Deny as D, Review as R};
        let table: &[(&[Action], ClaimDecision)] = &[
            (&[A], ClaimDecision::Allow),
            (&[A, A], ClaimDecision::Allow),
            (&[D], ClaimDecision::Deny),
            (&[D, D], ClaimDecision::Deny),
            (&[A, D], ClaimDecision::Partial),
            (&[D, A, D], ClaimDecision::Partial),
            (&[R], ClaimDecision::Review),
            (&[D, R], ClaimDecision::Review),
            (&[D, D, R], ClaimDecision::Review),
            (&[A, R], ClaimDecision::Review),
            (&[], ClaimDecision::Allow),
        ];
        for (lines, want) in table {
            assert_eq!(ClaimDecision::from_lines(lines), *want, "{lines:?}");
        }
    }

    #[test]
    fn decision_serializes_to_contract_fields_in_order() {
        let json = serde_json::to_string(&Outcome::Decision(sample())).unwrap_or_default();
        assert_eq!(
            json,
            concat!(
                r#"{"id":"CLM-000123","payer":"medicare","policy":"medicare-tpi","policy_version":"2026.1","#,
                r#""decision":"deny","lines":[{"line":1,"procedure":"20553","decision":"deny","#,
                r#""reasons":[{"rule":"covered-diagnosis","action":"deny","carc":"CO-11","rarc":["N657"],"#,
                r#""message":"no diagnosis on the claim supports medical necessity for 20553","#,
                r#""at":"policies/medicare/tpi.policy:14:3","policy":"medicare-tpi","policy_version":"2026.1"}]}]}"#
            )
        );
        // Several policies: `policies` after `policy_version`.
        let mut many = sample();
        many.policies = thin_vec::thin_vec![
            PolicyRef {
                id: "medicare-tpi".into(),
                version: "2026.1".into(),
            },
            PolicyRef {
                id: "medicare-x".into(),
                version: "1".into(),
            },
        ];
        let json = serde_json::to_string(&many).unwrap_or_default();
        assert!(
            json.contains(r#""policy_version":"2026.1","policies":[{"id":"medicare-tpi","version":"2026.1"},{"id":"medicare-x","version":"1"}],"decision":"deny""#),
            "{json}"
        );
    }

    #[test]
    fn a_reason_without_a_policy_reads_with_an_empty_one() {
        // What a history file written before reasons named their policy holds.
        let old = r#"{"rule":"R","action":"deny","rarc":[],"message":"m","at":"p:1:1"}"#;
        let r: Reason = serde_json::from_str(old).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&*r.policy, "");
        assert_eq!(&*r.policy_version, "");
    }

    #[test]
    fn a_reason_is_its_fields_and_its_json_is_what_serde_writes() {
        let d = sample();
        let reason = &d.lines[0].reasons[0];
        let json = serde_json::to_string(reason).unwrap_or_default();
        assert_eq!(reason.json(), json);
        assert!(json.starts_with(r#"{"rule":"covered-diagnosis","action":"deny","carc":"CO-11""#));
        let back: Reason = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&back, reason);
        assert_eq!(back.json(), json);
        // Equal by content, not only when shared.
        let mut other = ReasonParts::clone(reason);
        other.message = "another".into();
        assert_ne!(&Reason::new(other), reason);
    }

    #[test]
    fn optional_fields_are_skipped_or_written() {
        let mut d = sample();
        let mut parts = ReasonParts::clone(&d.lines[0].reasons[0]);
        parts.carc = None;
        parts.rarc = Vec::new().into();
        d.lines[0].reasons[0] = Reason::new(parts);
        d.lines[0].trace = Some(vec![
            TraceStep {
                rule: "r1".into(),
                outcome: TraceOutcome::NotApplicable,
                detail: None,
                policy: None,
            },
            TraceStep {
                rule: "r2".into(),
                outcome: TraceOutcome::Fired,
                detail: Some("3 > 2".into()),
                policy: Some("p".into()),
            },
        ]);
        let json = serde_json::to_string(&d.lines[0]).unwrap_or_default();
        assert!(
            json.contains(r#""action":"deny","rarc":[],"message""#),
            "{json}"
        );
        assert!(
            json.ends_with(
                r#""trace":[{"rule":"r1","outcome":"not_applicable"},{"rule":"r2","outcome":"fired","detail":"3 > 2","policy":"p"}]}"#
            ),
            "{json}"
        );
    }

    #[test]
    fn error_record_serializes_to_contract_shape() {
        let err = ClaimError::invalid(
            Some("CLM-9".into()),
            Some("lines[0].date_of_service".into()),
            "date_of_service is required",
            4,
        );
        let json = serde_json::to_string(&Outcome::from(err)).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"id":"CLM-9","error":{"kind":"invalid_claim","message":"date_of_service is required","path":"lines[0].date_of_service"},"record":4}"#
        );
        let err = ClaimError {
            id: None,
            kind: ErrorKind::NoPolicy,
            message: "m".into(),
            path: None,
            record: 1,
            x12: None,
            input_lost: false,
        };
        let json = serde_json::to_string(&ErrorRecord::from(err)).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"id":null,"error":{"kind":"no_policy","message":"m"},"record":1}"#
        );
    }

    #[test]
    fn outcomes_read_back() {
        let decision = Outcome::Decision(sample());
        let text = serde_json::to_string(&decision).unwrap_or_default();
        assert_eq!(serde_json::from_str::<Outcome>(&text).ok(), Some(decision));
        // The contract's own error example, without our `record` field.
        let text = r#"{"id": "CLM-9", "error": {"kind": "invalid_claim", "message": "...", "path": "lines[0].date_of_service"}}"#;
        let Ok(Outcome::Error(record)) = serde_json::from_str::<Outcome>(text) else {
            panic!("not an error record: {text}");
        };
        assert_eq!(
            record.error.path.as_deref(),
            Some("lines[0].date_of_service")
        );
        assert_eq!(record.record, 0);
    }
}
