//! Eval: claim + history -> decision, by running a compiled policy line by line.
//!
//! Lines are decided in claim order; a line decided allow or review counts at
//! once for the later lines of the same claim, and the claim's counted lines
//! enter the history together with its decision when the claim is done.
//!
//! Before a claim is evaluated, the engine asks the history's claim ledger about
//! it (see `crate::history`): the same content under the same payer, member and
//! claim id is answered with the stored decision and changes nothing; other content
//! under a stored id is a `conflict`, unless the claim replaces that id; a
//! replacement (frequency code 7) takes the earlier claim's services out and is
//! evaluated in its place; a void (8) takes them out and is answered `void`.

mod batch;
#[cfg(test)]
mod calendar_tests;
#[cfg(test)]
mod ledger_tests;
mod line;
mod lookahead;
#[cfg(test)]
mod lowered_tests;
#[cfg(test)]
mod many_tests;
mod measured;
#[cfg(test)]
mod modifier_tests;
pub mod parallel;
#[cfg(test)]
mod region_tests;
#[cfg(test)]
mod same_day_fields_tests;
#[cfg(test)]
mod same_day_tests;
mod stored;
#[cfg(test)]
mod support_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod units_tests;
pub mod value;
mod why;

use std::convert::Infallible;

use smallvec::SmallVec;
use thin_vec::ThinVec;

use crate::claims::{
    Action, Claim, ClaimDecision, ClaimError, Decision, ErrorKind, FactValue, Frequency, Line,
    LineDecision, Outcome, PolicyRef, Reason, Text, TraceOutcome, TraceStep,
};
use crate::compile::plan::{
    Bound, Check, CheckKind, Cond, Count, CountWindow, Counting, Decimal, InOp, LimitOf, Match,
    Measure, Period, Policy, Program, Quant, Regional, Rule, Value,
};
use crate::days::Day;
use crate::fields::FieldId;
use crate::history::{
    counts_service, weight, ContentHash, Counted, DecisionParts, HistoryStore, Member,
    MemoryHistory, ModifierCodes, NewClaim, Service, SiteId, Status, StoredDecision, Window,
};
use crate::policies::{Policies, Selection};
pub use batch::Batch;
use line::{service, LineCx};
pub use lookahead::Lookahead;
use stored::from_parts;
use value::{code_in, codes_in, compare, elements, has, holds, Val};

/// Evaluates claims against loaded policies, keeping the history they build.
pub struct Engine<H: HistoryStore = MemoryHistory> {
    policies: Policies,
    history: H,
    explain: bool,
    /// The compact decision of the claim being decided, kept between claims
    /// for its room: the store copies it.
    kept: Vec<u8>,
    /// The policies of each line of the claim being decided, kept between
    /// claims for its room.
    selection: Selection,
    /// Room for decisions, given back by [`Engine::recycle`].
    spare: Spare,
}

/// The lists of decisions that were written out, kept for their room: a
/// claim's list of line decisions and each line's list of reasons were two
/// or three allocations per claim, and as many frees.
#[derive(Debug, Default)]
struct Spare {
    lines: Vec<Vec<LineDecision>>,
    reasons: Vec<Vec<Reason>>,
}

impl Spare {
    /// Lists kept of each kind at most: a claim needs one list of lines and
    /// a list of reasons per line.
    const KEEP: usize = 16;

    fn lines(&mut self) -> Vec<LineDecision> {
        self.lines.pop().unwrap_or_default()
    }

    fn reasons(&mut self) -> Vec<Reason> {
        self.reasons.pop().unwrap_or_default()
    }

    fn keep(&mut self, mut lines: Vec<LineDecision>) {
        for line in lines.drain(..) {
            let mut reasons = line.reasons;
            if reasons.capacity() > 0 && self.reasons.len() < Self::KEEP {
                reasons.clear();
                self.reasons.push(reasons);
            }
        }
        if lines.capacity() > 0 && self.lines.len() < Self::KEEP {
            self.lines.push(lines);
        }
    }
}

/// One evaluated claim.
#[derive(Debug, Clone)]
pub struct Evaluated {
    /// The decision or error record.
    pub outcome: Outcome,
    /// True when the decision is the stored one of an earlier, identical claim.
    pub replayed: bool,
}

// An `Evaluated` moves with a few register stores at 128 bytes or less; past
// that each move is a call to `memcpy` whose loads wait on the stores just
// made, 2% of `eval` at a million claims (docs/performance.md, "Issue 25
// closed"). A field that makes it larger should be boxed or made thinner.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Evaluated>() <= 128);

impl Evaluated {
    /// The outcome as one JSON line (no newline), as it is written out.
    pub fn json(&self) -> String {
        to_json(&self.outcome)
    }

    /// Appends the outcome as one JSON line, newline included, to a buffer: the
    /// output of `eval`, serialized where it is written rather than on every
    /// evaluation.
    pub fn append_line(&self, out: &mut Vec<u8>) {
        self.outcome.write_json(out);
        out.push(b'\n');
    }
}

/// What importing a paid claim into the history did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    /// Stored; all its lines count from now on.
    Added,
    /// The same content was already stored under this payer, member and id:
    /// nothing changed.
    Present,
    /// Other content is stored under this payer, member and id: nothing
    /// changed.
    Conflict,
}

impl Engine<MemoryHistory> {
    /// An engine with an empty in-memory history.
    pub fn new(policies: Policies) -> Engine<MemoryHistory> {
        Engine::with_history(policies, MemoryHistory::new())
    }
}

impl<H: HistoryStore<Error = Infallible>> Engine<H> {
    /// Records every line of an already adjudicated claim as an allowed service
    /// of its payer's member, without claim identity (every call counts,
    /// whatever its id).
    pub fn record_prior(&mut self, claim: &Claim) {
        let Ok(()) = self.try_record_prior(claim);
    }

    /// Decides one claim (`record`: its 1-based position in the input) and records
    /// its allowed and reviewed lines in the history; see [`Engine::try_evaluate`].
    pub fn evaluate(&mut self, claim: &Claim, record: usize) -> Outcome {
        let Ok(done) = self.try_evaluate(claim, record);
        done.outcome
    }
}

impl<H: HistoryStore> Engine<H> {
    /// An engine over the given history store.
    pub fn with_history(policies: Policies, history: H) -> Engine<H> {
        Engine {
            policies,
            history,
            explain: false,
            kept: Vec::with_capacity(64),
            selection: Selection::default(),
            spare: Spare::default(),
        }
    }

    /// Takes back an outcome that has been written out, for the room of its
    /// lists: the next decisions are made in it. Optional; a caller that
    /// keeps its outcomes simply does not call it.
    pub fn recycle(&mut self, mut evaluated: Evaluated) {
        self.recycle_lines(&mut evaluated);
    }

    /// [`Engine::recycle`] for an outcome left where it is: the room of its
    /// decision's lines is taken, and the decision keeps no lines. What a
    /// loop over many claims calls on the answer of [`Engine::try_evaluate`]
    /// bound by reference: moving the answer (128 bytes) out of where the
    /// call left it loaded it back in pieces that waited on the call's last
    /// stores, 2% of `eval`'s time at a million claims.
    pub fn recycle_lines(&mut self, evaluated: &mut Evaluated) {
        if let Outcome::Decision(decision) = &mut evaluated.outcome {
            self.spare.keep(std::mem::take(&mut decision.lines));
        }
    }

    /// Adds each rule's evaluation trace to line decisions.
    pub fn explain(mut self, on: bool) -> Self {
        self.explain = on;
        self
    }

    /// Turns traces on or off for the claims decided from now on: a service
    /// whose requests each ask for `explain` or not decides them all with
    /// one engine.
    pub fn set_explain(&mut self, on: bool) {
        self.explain = on;
    }

    /// The loaded policies.
    pub fn policies(&self) -> &Policies {
        &self.policies
    }

    /// The history so far.
    pub fn history(&self) -> &H {
        &self.history
    }

    /// The history, to drive a store's transactions.
    pub fn history_mut(&mut self) -> &mut H {
        &mut self.history
    }

    /// The history, giving up the engine.
    pub fn into_history(self) -> H {
        self.history
    }

    /// [`Engine::record_prior`] for a store that can fail.
    pub fn try_record_prior(&mut self, claim: &Claim) -> Result<(), H::Error> {
        let member = Member::of(claim);
        self.history.load(member)?;
        for line in &claim.lines {
            let day = Day::of(line.date_of_service);
            self.history.record(member, service(line, day))?;
        }
        Ok(())
    }

    /// Stores a claim paid elsewhere: all its lines count as allowed history, and
    /// a replacement or void can act on it. Importing the same claim again
    /// changes nothing. Its frequency code is not acted on.
    pub fn import(&mut self, claim: &Claim) -> Result<Imported, H::Error> {
        let member = Member::of(claim);
        self.history.load(member)?;
        let hash = ContentHash::of(claim);
        let versions = self.history.versions(member, &claim.id);
        if versions.iter().any(|v| v.hash == hash) {
            return Ok(Imported::Present);
        }
        if !versions.is_empty() {
            return Ok(Imported::Conflict);
        }
        let services: Vec<(u32, Service<'_>)> = claim
            .lines
            .iter()
            .map(|l| (l.line, service(l, Day::of(l.date_of_service))))
            .collect();
        self.history.store(NewClaim {
            member,
            id: &claim.id,
            hash,
            status: Status::Imported,
            replaces: None,
            services: &services,
            decision: None,
            kept: None,
        })?;
        Ok(Imported::Added)
    }

    /// Decides one claim (`record`: its 1-based position in the input) against
    /// the history and stores it with its counted lines; see the module
    /// documentation for resubmissions, replacements and voids. Only a failing
    /// store is an `Err`; a claim that cannot be decided is an error record.
    // Never inlined: one call per claim costs nothing, and it keeps the
    // evaluation a function of its own in profiles (`bench/profile.sh`).
    #[inline(never)]
    pub fn try_evaluate(&mut self, claim: &Claim, record: usize) -> Result<Evaluated, H::Error> {
        let member = Member::of(claim);
        let id = claim.id.as_str();
        self.history.load(member)?;
        let hash = ContentHash::of(claim);
        let versions = self.history.versions(member, id);
        // Asked once: finding the versions is a lookup in the member's book.
        let known = !versions.is_empty();
        if versions.iter().any(|v| v.hash == hash) {
            let stored = self.history.decision(member, id, hash)?;
            let rebuilt = match &stored {
                Some(StoredDecision::Kept(kept)) => self.rebuild(claim, kept),
                Some(StoredDecision::Parts(parts)) => from_parts(claim, parts),
                None => None,
            };
            return Ok(match stored {
                Some(_) => match rebuilt {
                    Some(decision) => {
                        let outcome = Outcome::Decision(decision);
                        Evaluated {
                            outcome,
                            replayed: true,
                        }
                    }
                    None => error(ClaimError::conflict(
                        id,
                        "id",
                        "the stored decision does not read",
                        record,
                    )),
                },
                None => error(ClaimError::conflict(
                    id,
                    "id",
                    format!(
                        "claim `{id}` is in the history as a paid claim (imported); \
                         a replacement (frequency_code 7) can change it"
                    ),
                    record,
                )),
            });
        }
        // What does not depend on the history comes before what does: a claim
        // answered with an error stores nothing, so running the same input again
        // after a crash, against a history that has grown since, must give it the
        // same answer.
        let selection = &mut self.selection;
        if let Err(missing) = self.policies.select_lines(claim, selection) {
            return Ok(error(ClaimError {
                id: Some(claim.id.to_string()),
                kind: ErrorKind::NoPolicy,
                message: missing.message,
                path: Some(missing.path),
                record,
                x12: None,
                input_lost: false,
            }));
        }
        let applied = self.selection.applied();
        // `select_lines` succeeded, so some policy applied (a claim has a
        // line: validation checks it).
        let Some((first_index, policy)) = applied
            .first()
            .and_then(|&i| Some((i, self.policies.get(usize::from(i))?)))
        else {
            return Ok(error(ClaimError::invalid(
                Some(claim.id.to_string()),
                Some("lines".to_string()),
                format!("claim `{id}` has no lines"),
                record,
            )));
        };
        // Before the history too: a fact of a kind the policy never compares
        // it with would make its comparisons false, silently.
        for &i in applied {
            let Some(p) = self.policies.get(usize::from(i)) else {
                continue;
            };
            if let Some(mismatch) = fact_mismatch(claim, p, record) {
                return Ok(error(mismatch));
            }
        }
        let target = claim.target();
        if known && target != Some(id) {
            return Ok(error(ClaimError::conflict(
                id,
                "id",
                format!(
                    "claim `{id}` was already evaluated with other content; \
                     a replacement (frequency_code 7) can change it"
                ),
                record,
            )));
        }
        // The claim a replacement or void takes out of the history, when it is
        // there. One never seen is nothing to take out: a replacement of it is
        // evaluated as an original, a void of it changes nothing.
        let mut retire = None;
        if let Some(t) = target {
            let of_target = self.history.versions(member, t);
            if let Some(current) = of_target.iter().find(|v| v.status.is_current()) {
                if current.status == Status::Void {
                    return Ok(error(ClaimError::conflict(
                        id,
                        "replaces",
                        format!("claim `{t}` is a void; it cannot be replaced or voided"),
                        record,
                    )));
                }
                retire = Some(t);
            } else if let Some(last) = of_target.last() {
                let how = if last.status == Status::Voided {
                    "voided"
                } else {
                    "replaced"
                };
                let by = self.history.replaced_by(last).unwrap_or_default();
                return Ok(error(ClaimError::conflict(
                    id,
                    "replaces",
                    format!("claim `{t}` was already {how} by claim `{by}`"),
                    record,
                )));
            }
        }
        let void = claim.frequency == Frequency::Void;
        if let Some(t) = retire {
            let how = if void {
                Status::Voided
            } else {
                Status::Replaced
            };
            self.history.retire(member, t, how, id)?;
        }
        // On the stack for the claims of a few lines (nearly all): an
        // allocation less per claim.
        let mut counted: SmallVec<[(u32, Service<'_>); 8]> = SmallVec::new();
        // Their dates as days, for the counts of the later lines.
        let mut counted_days: SmallVec<[Day; 8]> = SmallVec::new();
        let mut lines = self.spare.lines();
        lines.reserve(claim.lines.len());
        // The compact decision: policy, claim decision, then each line's
        // (see `stored.rs`).
        let many = applied.len() > 1;
        let kept = &mut self.kept;
        kept.clear();
        kept.extend_from_slice(&first_index.to_le_bytes());
        kept.push(0);
        if many {
            kept.extend_from_slice(
                &u16::try_from(applied.len())
                    .unwrap_or(u16::MAX)
                    .to_le_bytes(),
            );
            for &i in applied {
                kept.extend_from_slice(&i.to_le_bytes());
            }
        }
        if !void {
            // The claim's lines do not change the store until it is done.
            let window = self.history.window(member);
            for (index, line) in claim.lines.iter().enumerate() {
                let day = Day::of(line.date_of_service);
                let cx = LineCx {
                    claim,
                    line,
                    index,
                    policy,
                    day,
                    window,
                    site: std::cell::Cell::new(None),
                    region: std::cell::Cell::new(None),
                    earlier: &counted,
                    earlier_days: &counted_days,
                };
                let decided = cx.decide(
                    &self.policies,
                    self.selection.line(index),
                    many,
                    self.explain,
                    kept,
                    self.spare.reasons(),
                );
                if decided.decision != Action::Deny {
                    counted.push((line.line, service(line, day)));
                    counted_days.push(day);
                }
                lines.push(decided);
            }
        }
        let policies = if many {
            applied
                .iter()
                .filter_map(|&i| self.policies.get(usize::from(i)))
                .map(|p| PolicyRef {
                    id: p.id.clone(),
                    version: p.version.clone(),
                })
                .collect()
        } else {
            ThinVec::new()
        };
        let decision = Decision {
            id: claim.id.clone(),
            payer: claim.payer.clone(),
            policy: policy.id.clone(),
            policy_version: policy.version.clone(),
            policies,
            decision: if void {
                ClaimDecision::Void
            } else {
                ClaimDecision::of(lines.iter().map(|l| l.decision))
            },
            lines,
        };
        // Its index in `ClaimDecision::ALL`, the code the compact form keeps,
        // in the byte pushed after the policy's two.
        // With several policies its high bit says so.
        if let Some(code) = kept.get_mut(2) {
            *code = decision.decision as u8 | if many { stored::MANY } else { 0 };
        }
        // The stored decision carries no trace: a resubmission is answered with
        // the decision, however the first one was asked for.
        self.history.store(NewClaim {
            member,
            id,
            hash,
            status: if void { Status::Void } else { Status::Active },
            replaces: target,
            services: &counted,
            decision: Some(&decision),
            kept: Some(kept),
        })?;
        let outcome = Outcome::Decision(decision);
        Ok(Evaluated {
            outcome,
            replayed: false,
        })
    }
}

/// The error record of a claim with a fact of a kind its policy never
/// compares that fact with (`"relief_percent": "51"` where a rule compares it
/// with a number): `None` when every fact fits. Facts the policy compares
/// with no literal, and facts it does not read, fit anything.
fn fact_mismatch(claim: &Claim, policy: &Policy, record: usize) -> Option<ClaimError> {
    use crate::compile::facts::FactKind;
    if policy.facts.is_empty() {
        return None;
    }
    for (name, value) in claim.facts.iter() {
        let name: &str = name;
        let start = policy.facts.partition_point(|r| r.name.as_str() < name);
        let reads = policy.facts.get(start..).unwrap_or_default();
        let reads = reads.iter().take_while(|r| r.name == name);
        let kind = match value {
            FactValue::Number(_) | FactValue::Integer(_) => FactKind::Number,
            FactValue::Text(_) => FactKind::Text,
            FactValue::Bool(_) => FactKind::Bool,
            FactValue::Date(_) => FactKind::Date,
        };
        let mut wanted = reads.clone().peekable();
        if wanted.peek().is_none() || reads.clone().any(|r| r.kind == kind) {
            continue;
        }
        let first = wanted.next()?;
        let shown = match value {
            FactValue::Text(t) => format!(" (`{t}`)"),
            _ => String::new(),
        };
        return Some(ClaimError::invalid(
            Some(claim.id.to_string()),
            Some(format!("facts.{name}")),
            format!(
                "fact `{name}` is {}{shown}, but rule {} of policy `{}` compares it with {}",
                kind.noun(),
                first.rule,
                policy.id,
                first.kind.noun()
            ),
            record,
        ));
    }
    None
}

/// The outcome's JSON as `eval` writes it: never empty (an outcome that could
/// not be written is an `internal` error record naming PR901, see
/// `claims::write`). The writer writes `&str`s and ASCII only, so the bytes
/// are UTF-8; were they not, the lossy conversion would still keep the record.
fn to_json(outcome: &Outcome) -> String {
    let mut out = Vec::with_capacity(256);
    outcome.write_json(&mut out);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn error(err: ClaimError) -> Evaluated {
    Evaluated::error(err)
}

impl Evaluated {
    /// The error record of a claim that could not be evaluated.
    pub fn error(err: ClaimError) -> Evaluated {
        let outcome = Outcome::from(err);
        Evaluated {
            outcome,
            replayed: false,
        }
    }
}
