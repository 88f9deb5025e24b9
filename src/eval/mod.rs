//! Eval: claim + history -> decision, by running a compiled policy line by line.
//!
//! Lines are decided in claim order; a line decided allow or review counts at
//! once for the later lines of the same claim, and the claim's counted lines
//! enter the history together with its decision when the claim is done.
//!
//! Before a claim is evaluated, the engine asks the history's claim ledger about
//! it (see `crate::history`): the same content under the same patient and claim
//! id is answered with the stored decision and changes nothing; other content
//! under a stored id is a `conflict`, unless the claim replaces that id; a
//! replacement (frequency code 7) takes the earlier claim's services out and is
//! evaluated in its place; a void (8) takes them out and is answered `void`.

mod batch;
mod lookahead;
#[cfg(test)]
mod lowered_tests;
pub mod parallel;
pub mod value;

use std::convert::Infallible;

use smallvec::SmallVec;

use crate::check::fields::FieldId;
use crate::claims::{
    Action, Claim, ClaimDecision, ClaimError, Decision, ErrorKind, FactValue, Frequency, Line,
    LineDecision, Outcome, Reason, Text, TraceOutcome, TraceStep,
};
use crate::compile::plan::{
    Check, CheckKind, Cond, Count, CountWindow, InOp, Period, Policy, Program, Quant, Rule, Value,
};
use crate::days::Day;
use crate::history::{
    counts_service, ContentHash, DecisionParts, HistoryStore, MemoryHistory, NewClaim, Service,
    SiteId, Status, StoredDecision, Window,
};
use crate::policies::Policies;
pub use batch::Batch;
pub use lookahead::Lookahead;
use value::{code_in, codes_in, compare, elements, has, holds, Val};

/// Evaluates claims against loaded policies, keeping the history they build.
pub struct Engine<H: HistoryStore = MemoryHistory> {
    policies: Policies,
    history: H,
    explain: bool,
    /// The compact decision of the claim being decided, kept between claims
    /// for its room: the store copies it.
    kept: Vec<u8>,
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
    /// The same content was already stored under this patient and id: nothing
    /// changed.
    Present,
    /// Other content is stored under this patient and id: nothing changed.
    Conflict,
}

impl Engine<MemoryHistory> {
    /// An engine with an empty in-memory history.
    pub fn new(policies: Policies) -> Engine<MemoryHistory> {
        Engine::with_history(policies, MemoryHistory::new())
    }
}

impl<H: HistoryStore<Error = Infallible>> Engine<H> {
    /// Records every line of an already adjudicated claim as an allowed service,
    /// without claim identity (every call counts, whatever its id).
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
            spare: Spare::default(),
        }
    }

    /// Takes back an outcome that has been written out, for the room of its
    /// lists: the next decisions are made in it. Optional; a caller that
    /// keeps its outcomes simply does not call it.
    pub fn recycle(&mut self, evaluated: Evaluated) {
        if let Outcome::Decision(decision) = evaluated.outcome {
            self.spare.keep(decision.lines);
        }
    }

    /// Adds each rule's evaluation trace to line decisions.
    pub fn explain(mut self, on: bool) -> Self {
        self.explain = on;
        self
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
        self.history.load(&claim.patient.id)?;
        for line in &claim.lines {
            self.history.record(&claim.patient.id, service(line))?;
        }
        Ok(())
    }

    /// Stores a claim paid elsewhere: all its lines count as allowed history, and
    /// a replacement or void can act on it. Importing the same claim again
    /// changes nothing. Its frequency code is not acted on.
    pub fn import(&mut self, claim: &Claim) -> Result<Imported, H::Error> {
        let patient = claim.patient.id.as_str();
        self.history.load(patient)?;
        let hash = ContentHash::of(claim);
        let versions = self.history.versions(patient, &claim.id);
        if versions.iter().any(|v| v.hash == hash) {
            return Ok(Imported::Present);
        }
        if !versions.is_empty() {
            return Ok(Imported::Conflict);
        }
        let services: Vec<(u32, Service<'_>)> =
            claim.lines.iter().map(|l| (l.line, service(l))).collect();
        self.history.store(NewClaim {
            patient,
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
        let patient = claim.patient.id.as_str();
        let id = claim.id.as_str();
        self.history.load(patient)?;
        let hash = ContentHash::of(claim);
        let versions = self.history.versions(patient, id);
        // Asked once: finding the versions is a lookup in the patient's book.
        let known = !versions.is_empty();
        if versions.iter().any(|v| v.hash == hash) {
            let stored = self.history.decision(patient, id, hash)?;
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
        let policy = match self.policies.select(claim) {
            Ok(p) => p,
            Err(missing) => {
                return Ok(error(ClaimError {
                    id: Some(claim.id.to_string()),
                    kind: ErrorKind::NoPolicy,
                    message: missing.message,
                    path: Some(missing.path),
                    record,
                }));
            }
        };
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
            let of_target = self.history.versions(patient, t);
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
            self.history.retire(patient, t, how, id)?;
        }
        // On the stack for the claims of a few lines (nearly all): an
        // allocation less per claim.
        let mut counted: SmallVec<[(u32, Service<'_>); 8]> = SmallVec::new();
        // Their dates as days, for the counts of the later lines.
        let mut counted_days: SmallVec<[Day; 8]> = SmallVec::new();
        let mut lines = self.spare.lines();
        lines.reserve(claim.lines.len());
        // The compact decision: policy, claim decision, then each line's.
        let kept = &mut self.kept;
        kept.clear();
        let policy_index = self
            .policies
            .iter()
            .position(|p| std::ptr::eq(p, policy))
            .unwrap_or(usize::MAX);
        kept.extend_from_slice(
            &u16::try_from(policy_index)
                .unwrap_or(u16::MAX)
                .to_le_bytes(),
        );
        kept.push(0);
        if !void {
            // The claim's lines do not change the store until it is done.
            let window = self.history.window(patient);
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
                    earlier: &counted,
                    earlier_days: &counted_days,
                };
                let decided = cx.decide(self.explain, kept, self.spare.reasons());
                if decided.decision != Action::Deny {
                    counted.push((line.line, service(line)));
                    counted_days.push(day);
                }
                lines.push(decided);
            }
        }
        let decision = Decision {
            id: claim.id.clone(),
            payer: claim.payer.clone(),
            policy: policy.id.clone(),
            policy_version: policy.version.clone(),
            decision: if void {
                ClaimDecision::Void
            } else {
                ClaimDecision::of(lines.iter().map(|l| l.decision))
            },
            lines,
        };
        // Its index in `ClaimDecision::ALL`, the code the compact form keeps.
        kept[2] = decision.decision as u8;
        // The stored decision carries no trace: a resubmission is answered with
        // the decision, however the first one was asked for.
        self.history.store(NewClaim {
            patient,
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

impl<H: HistoryStore> Engine<H> {
    /// A decision from its compact form and the claim, which gives back the id,
    /// payer, line numbers and codes (the same content, so the same claim).
    fn rebuild(&self, claim: &Claim, kept: &[u8]) -> Option<Decision> {
        let word = |at: usize| -> Option<usize> {
            Some(usize::from(u16::from_le_bytes([
                *kept.get(at)?,
                *kept.get(at + 1)?,
            ])))
        };
        let policy = self.policies.iter().nth(word(0)?)?;
        let decision = *ClaimDecision::ALL.get(usize::from(*kept.get(2)?))?;
        let mut at = 3;
        let mut lines = Vec::new();
        if decision != ClaimDecision::Void {
            for line in &claim.lines {
                let action = action_of(*kept.get(at)?)?;
                let n = usize::from(*kept.get(at + 1)?);
                at += 2;
                let mut reasons = Vec::with_capacity(n);
                for _ in 0..n {
                    let rule = policy.rules.get(word(at)?)?;
                    let check = rule.checks.get(word(at + 2)?)?;
                    reasons.push(check.reason.clone());
                    at += 4;
                }
                lines.push(LineDecision {
                    line: line.line,
                    procedure: line.procedure,
                    decision: action,
                    reasons,
                    trace: None,
                });
            }
        }
        Some(Decision {
            id: claim.id.clone(),
            payer: claim.payer.clone(),
            policy: policy.id.clone(),
            policy_version: policy.version.clone(),
            decision,
            lines,
        })
    }
}

fn to_json(outcome: &Outcome) -> String {
    // Serializing these types into memory cannot fail.
    serde_json::to_string(outcome).unwrap_or_default()
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

/// A decision from a store's parts and the claim.
fn from_parts(claim: &Claim, parts: &DecisionParts) -> Option<Decision> {
    let lines = if parts.decision == ClaimDecision::Void {
        Vec::new()
    } else {
        if parts.lines.len() != claim.lines.len() {
            return None;
        }
        claim
            .lines
            .iter()
            .zip(&parts.lines)
            .map(|(line, (action, reasons))| LineDecision {
                line: line.line,
                procedure: line.procedure,
                decision: *action,
                reasons: reasons.clone(),
                trace: None,
            })
            .collect()
    };
    Some(Decision {
        id: claim.id.clone(),
        payer: claim.payer.clone(),
        policy: parts.policy.clone(),
        policy_version: parts.version.clone(),
        decision: parts.decision,
        lines,
    })
}

/// Why a rule did what it did; turned into text only for `--explain`, so the
/// hot path formats nothing.
#[derive(Debug, Clone, Copy)]
enum Why {
    WhenFalse(usize),
    Required(usize),
    Always(usize),
    Limit {
        index: usize,
        total: u32,
        max: u32,
        from: Day,
        to: Day,
    },
    Interval {
        index: usize,
        earlier: u32,
        period: Period,
        from: Day,
        to: Day,
    },
}

fn action_code(a: Action) -> u8 {
    match a {
        Action::Allow => 0,
        Action::Review => 1,
        Action::Deny => 2,
    }
}

fn action_of(code: u8) -> Option<Action> {
    [Action::Allow, Action::Review, Action::Deny]
        .get(usize::from(code))
        .copied()
}

impl Why {
    /// The check that fired, for a rule that fired.
    fn check(self) -> Option<usize> {
        match self {
            Why::WhenFalse(_) => None,
            Why::Required(i) | Why::Always(i) => Some(i),
            Why::Limit { index, .. } | Why::Interval { index, .. } => Some(index),
        }
    }

    fn describe(self) -> String {
        match self {
            Why::WhenFalse(i) => format!("`when` #{} is false", i + 1),
            Why::Required(i) => format!("check #{}: the required condition is false", i + 1),
            Why::Always(i) => format!("check #{}: the rule applies", i + 1),
            Why::Limit {
                index,
                total,
                max,
                from,
                to,
            } => {
                format!(
                    "check #{}: {total} services from {} to {}, more than {max}",
                    index + 1,
                    from.date(),
                    to.date()
                )
            }
            Why::Interval {
                index,
                earlier,
                period,
                from,
                to,
            } => format!(
                "check #{}: {earlier} services from {} to {}, less than {period} ago",
                index + 1,
                from.date(),
                to.date()
            ),
        }
    }
}

fn service(line: &Line) -> Service<'_> {
    Service {
        date: line.date_of_service,
        procedure: line.procedure,
        site: line.site.as_deref(),
    }
}

/// Everything a condition on one line can see.
struct LineCx<'a> {
    claim: &'a Claim,
    line: &'a Line,
    index: usize,
    policy: &'a Policy,
    /// The line's date of service as a day, where count windows start from.
    day: Day,
    /// The patient's services the line's counts look at, from the store.
    window: Window<'a>,
    /// The line's site as the window knows it, once a count that matches
    /// sites asked for it.
    site: std::cell::Cell<Option<SiteId>>,
    /// The lines of this claim counted so far: history the store has not got yet.
    earlier: &'a [(u32, Service<'a>)],
    /// Their dates as days.
    earlier_days: &'a [Day],
}

impl<'a> LineCx<'a> {
    /// Decides the line; appends to `kept` its action and the (rule, check)
    /// of each reason, the compact form a memory store keeps.
    /// `reasons` is an empty list to put the reasons in.
    fn decide(&self, explain: bool, kept: &mut Vec<u8>, mut reasons: Vec<Reason>) -> LineDecision {
        let head = kept.len();
        kept.extend_from_slice(&[0, 0]);
        // Remembers which rule and check fired, for the compact stored decision;
        // called only for a rule that fired (few do), so the rest pay one test.
        let mut keep = |index: usize, why: Option<Why>| {
            if let Some(check) = why.and_then(Why::check) {
                kept.extend_from_slice(&u16::try_from(index).unwrap_or(u16::MAX).to_le_bytes());
                kept.extend_from_slice(&u16::try_from(check).unwrap_or(u16::MAX).to_le_bytes());
            }
        };
        let trace = if explain {
            // A trace names every rule, so every rule is visited.
            let mut steps = Vec::with_capacity(self.policy.rules.len());
            for (index, rule) in self.policy.rules.iter().enumerate() {
                let triggered = rule
                    .trigger
                    .is_none_or(|t| self.policy.sets[t].contains(self.line.procedure));
                let (outcome, why) = if triggered {
                    self.run_rule(rule, &mut reasons)
                } else {
                    (TraceOutcome::NotApplicable, None)
                };
                if outcome == TraceOutcome::Fired {
                    keep(index, why);
                }
                steps.push(TraceStep {
                    rule: rule.id.clone(),
                    outcome,
                    detail: why.map(Why::describe),
                });
            }
            Some(steps)
        } else {
            for &i in self.policy.dispatch.rules_for(self.line.procedure) {
                let index = usize::from(i);
                if let Some(rule) = self.policy.rules.get(index) {
                    let (outcome, why) = self.run_rule(rule, &mut reasons);
                    if outcome == TraceOutcome::Fired {
                        keep(index, why);
                    }
                }
            }
            None
        };
        let decision = reasons
            .iter()
            .map(|r: &Reason| r.action)
            .max()
            .unwrap_or(Action::Allow);
        kept[head] = action_code(decision);
        kept[head + 1] = u8::try_from(reasons.len()).unwrap_or(u8::MAX);
        LineDecision {
            line: self.line.line,
            procedure: self.line.procedure,
            decision,
            reasons,
            trace,
        }
    }

    /// Runs a rule whose trigger (if any) the line's procedure is known to meet.
    // Inlined into `decide`'s loop over the rules: a call per rule, saving
    // and restoring the registers of all its checks, cost more than most
    // rules' tests.
    #[inline(always)]
    fn run_rule(&self, rule: &Rule, reasons: &mut Vec<Reason>) -> (TraceOutcome, Option<Why>) {
        if let Some(i) = rule.when.iter().position(|c| !self.test(c, None)) {
            return (TraceOutcome::NotApplicable, Some(Why::WhenFalse(i)));
        }
        for (i, check) in rule.checks.iter().enumerate() {
            if let Some(why) = self.failed(check, i) {
                reasons.push(check.reason.clone());
                return (TraceOutcome::Fired, Some(why));
            }
        }
        (TraceOutcome::Passed, None)
    }

    /// `Some(why)` when check number `index` fails.
    // Inlined into `decide` with `run_rule`, for the same reason.
    #[inline(always)]
    fn failed(&self, check: &Check, index: usize) -> Option<Why> {
        let dos = self.line.date_of_service;
        match &check.kind {
            CheckKind::Require(cond) => (!self.test(cond, None)).then_some(Why::Required(index)),
            CheckKind::Always => Some(Why::Always(index)),
            CheckKind::Limit {
                set,
                max,
                period,
                per_code,
                scope,
                counts_line,
            } => {
                let (from, to) = CountWindow::Within(*period).days(dos, self.day);
                let earlier = self.counted(*set, from, to, *per_code, *scope);
                let this =
                    u32::from(*counts_line || self.policy.sets[*set].contains(self.line.procedure));
                let total = earlier.saturating_add(this);
                (total > *max).then_some(Why::Limit {
                    index,
                    total,
                    max: *max,
                    from,
                    to,
                })
            }
            CheckKind::Interval {
                set,
                period,
                per_code,
                scope,
            } => {
                let from = period.before_day(dos, self.day).succ();
                let to = self.day.pred();
                let earlier = self.counted(*set, from, to, *per_code, *scope);
                (earlier > 0).then_some(Why::Interval {
                    index,
                    earlier,
                    period: *period,
                    from,
                    to,
                })
            }
        }
    }

    /// [`LineCx::cond`], with the cheapest tests (a code in a set, a field or
    /// two dates compared) made in place: a call to `cond`, which saves and
    /// restores the registers its larger arms need, cost more than they do.
    #[inline(always)]
    fn test(&self, cond: &Cond, other: Option<&'a Line>) -> bool {
        match cond {
            Cond::CodeIn {
                other: is_other,
                set,
                negated,
            } => self.policy.sets[*set].contains(self.pick(*is_other, other).procedure) != *negated,
            Cond::DatesCompare {
                op,
                left_other,
                right_other,
            } => {
                let left = self.pick(*left_other, other).date_of_service;
                holds(
                    *op,
                    left.cmp(&self.pick(*right_other, other).date_of_service),
                )
            }
            _ => self.cond(cond, other),
        }
    }

    /// Evaluates a condition; `other` is the line a quantifier is looking at.
    fn cond(&self, cond: &Cond, other: Option<&'a Line>) -> bool {
        match cond {
            // The loop that replaces the tree's calls: each leaf is tested in
            // place, and says which leaf is next or that the program is done.
            Cond::Flat(program) => {
                let mut at = 0;
                while let Some(op) = program.ops.get(at) {
                    at = usize::from(if self.leaf(&op.leaf, other) {
                        op.on_true
                    } else {
                        op.on_false
                    });
                }
                at == usize::from(Program::TRUE)
            }
            _ => self.leaf(cond, other),
        }
    }

    /// [`LineCx::cond`] of anything but a [`Cond::Flat`], made in place in
    /// its two callers: a flattened program's loop and a lone leaf.
    #[inline(always)]
    fn leaf(&self, cond: &Cond, other: Option<&'a Line>) -> bool {
        match cond {
            // Never a leaf of a program; here for the match to be whole.
            Cond::Flat(_) => self.cond(cond, other),
            Cond::Const(b) => *b,
            Cond::Or(parts) => parts.iter().any(|c| self.test(c, other)),
            Cond::And(parts) => parts.iter().all(|c| self.test(c, other)),
            Cond::Not(inner) => !self.test(inner, other),
            // Made in place by `test`, their one home.
            Cond::CodeIn { .. } | Cond::DatesCompare { .. } => self.test(cond, other),
            Cond::DiagnosesIn {
                claim,
                other: is_other,
                set,
                all,
            } => {
                let codes = if *claim {
                    Val::ClaimDx(self.claim)
                } else {
                    Val::LineDx(self.pick(*is_other, other), self.claim)
                };
                codes_in(codes, &self.policy.sets[*set], *all)
            }
            Cond::FieldCompare {
                op,
                field,
                other: is_other,
                value,
            } => match self.field(*field, self.pick(*is_other, other)) {
                Val::Int(x) => holds(*op, x.cmp(value)),
                _ => false,
            },
            Cond::FactCompare { op, name, value } => match self.claim.facts.get(name) {
                Some(FactValue::Number(x)) => x.partial_cmp(value).is_some_and(|o| holds(*op, o)),
                _ => false,
            },
            Cond::FactExists { name, negated } => self.claim.facts.get(name).is_some() != *negated,
            Cond::FactTrue(name) => {
                matches!(self.claim.facts.get(name), Some(FactValue::Bool(true)))
            }
            Cond::ModifiersHas {
                other: is_other,
                text,
            } => self
                .pick(*is_other, other)
                .modifiers
                .iter()
                .any(|m| m.as_str() == text.as_str()),
            Cond::Compare(op, a, b) => compare(*op, self.value(a, other), self.value(b, other)),
            Cond::InSet(op, v, set) => {
                let set = &self.policy.sets[*set];
                let v = self.value(v, other);
                match op {
                    InOp::In => code_in(v, set) == Some(true),
                    InOp::NotIn => code_in(v, set) == Some(false),
                    InOp::AnyIn => codes_in(v, set, false),
                    InOp::AllIn => codes_in(v, set, true),
                }
            }
            Cond::InList(op, v, items) => {
                let v = self.value(v, other);
                let member = |x: Val<'_>| {
                    items
                        .iter()
                        .any(|c| compare(crate::compile::plan::CompareOp::Eq, x, Val::of_const(c)))
                };
                match op {
                    InOp::In => member(v),
                    InOp::NotIn => v.is_present() && !member(v),
                    InOp::AnyIn => elements(v).is_some_and(|mut e| e.any(member)),
                    InOp::AllIn => elements(v).is_some_and(|mut e| e.all(member)),
                }
            }
            Cond::Has(list, v) => has(self.value(list, other), self.value(v, other)),
            Cond::Exists(v, negated) => self.value(v, other).is_present() != *negated,
            Cond::Quantified(quant, body) => {
                let mut others = self
                    .claim
                    .lines
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != self.index)
                    .map(|(_, l)| l);
                match quant {
                    Quant::Some => others.any(|l| self.test(body, Some(l))),
                    Quant::No => !others.any(|l| self.test(body, Some(l))),
                    Quant::Every => others.all(|l| self.test(body, Some(l))),
                }
            }
            Cond::Truthy(v) => matches!(self.value(v, other), Val::Bool(true)),
            Cond::CountCompare { op, count, value } => {
                holds(*op, i64::from(self.count(count)).cmp(value))
            }
        }
    }

    /// The line a field reads: `other` for `other.X` inside a quantifier, else
    /// the current line (outside a quantifier `other.X` reads the current line).
    #[inline]
    fn pick(&self, is_other: bool, other: Option<&'a Line>) -> &'a Line {
        if is_other {
            other.unwrap_or(self.line)
        } else {
            self.line
        }
    }

    // Inlined into `cond`, with the rarer and larger cases (facts, counts)
    // kept out of line: a call per operand, saving and restoring the registers
    // all of them need, cost more than reading most operands.
    #[inline]
    fn value(&self, v: &'a Value, other: Option<&'a Line>) -> Val<'a> {
        match v {
            Value::Const(c) => Val::of_const(c),
            Value::Fact(name) => self.fact(name),
            Value::Count(count) => Val::Int(i64::from(self.count(count))),
            Value::Field {
                id,
                other: is_other,
            } => self.field(*id, self.pick(*is_other, other)),
        }
    }

    #[inline(never)]
    fn fact(&self, name: &str) -> Val<'a> {
        Val::of_fact(self.claim.facts.get(name))
    }

    #[inline(never)]
    fn count(&self, c: &Count) -> u32 {
        if self.nothing_to_count() {
            return 0;
        }
        let (from, to) = c.window.days(self.line.date_of_service, self.day);
        self.counted(c.set, from, to, c.per_code, c.scope)
    }

    /// The services of `set` from day `from` to day `to` (of the line's own
    /// procedure when `per_code`, at a site that matches under `scope`): the
    /// history's and this claim's earlier lines'.
    fn counted(
        &self,
        set: usize,
        from: Day,
        to: Day,
        per_code: bool,
        scope: Option<crate::syntax::ast::SiteScope>,
    ) -> u32 {
        if self.nothing_to_count() {
            return 0;
        }
        let set = &self.policy.sets[set];
        let code = per_code.then_some(self.line.procedure);
        let site = self.line.site.as_deref();
        let here = self
            .earlier
            .iter()
            .zip(self.earlier_days)
            .filter(|((_, s), &day)| {
                day >= from && day <= to && counts_service(set, code, scope, site, s)
            })
            .count();
        // A count that does not match sites does not look the site up.
        let site_id = match scope {
            None => SiteId::NONE,
            Some(_) => self.site_id(),
        };
        self.window
            .count(from, to, set, code, scope, site_id)
            .saturating_add(u32::try_from(here).unwrap_or(u32::MAX))
    }

    /// True when the patient has no services in the store and the claim no
    /// counted lines before this one (a patient's first claim, a claim's first
    /// line: most counts): every count is 0, without its window worked out,
    /// the line's site looked up or either list searched.
    #[inline]
    fn nothing_to_count(&self) -> bool {
        self.window.is_empty() && self.earlier.is_empty()
    }

    /// The line's site as the window knows it, looked up once.
    fn site_id(&self) -> SiteId {
        self.site.get().unwrap_or_else(|| {
            let id = self.window.site(self.line.site.as_deref());
            self.site.set(Some(id));
            id
        })
    }

    #[inline]
    fn field(&self, id: FieldId, line: &'a Line) -> Val<'a> {
        let claim = self.claim;
        let opt_str = |s: &'a Option<Text>| s.as_deref().map_or(Val::Missing, Val::Str);
        let opt_int = |n: Option<u32>| n.map_or(Val::Missing, |n| Val::Int(i64::from(n)));
        match id {
            FieldId::LineProcedure => Val::Code(line.procedure),
            FieldId::LineModifiers => Val::List(&line.modifiers),
            FieldId::LineUnits => Val::Int(i64::from(line.units)),
            FieldId::LineDiagnoses => Val::LineDx(line, claim),
            FieldId::LineSite => opt_str(&line.site),
            FieldId::LineMuscles => opt_int(line.muscles),
            FieldId::LineInjections => opt_int(line.injections),
            FieldId::LineCharge => line.charge.map_or(Val::Missing, Val::Num),
            FieldId::LineDate => Val::Date(line.date_of_service),
            FieldId::LineNumber => Val::Int(i64::from(line.line)),
            FieldId::ClaimId => Val::Str(&claim.id),
            FieldId::ClaimPayer => Val::Str(&claim.payer),
            FieldId::ClaimPlaceOfService => opt_str(&claim.place_of_service),
            FieldId::ClaimDiagnoses => Val::ClaimDx(claim),
            FieldId::ClaimLineCount => {
                Val::Int(i64::try_from(claim.lines.len()).unwrap_or(i64::MAX))
            }
            FieldId::PatientId => Val::Str(&claim.patient.id),
            FieldId::PatientAge => claim
                .patient
                .age_on(self.line.date_of_service)
                .map_or(Val::Missing, |a| Val::Int(i64::from(a))),
            FieldId::PatientSex => claim
                .patient
                .sex
                .map_or(Val::Missing, |s| Val::Str(s.as_str())),
            FieldId::PatientBirthDate => claim.patient.birth_date.map_or(Val::Missing, Val::Date),
            FieldId::ProviderNpi => claim
                .provider
                .as_ref()
                .map_or(Val::Missing, |p| opt_str(&p.npi)),
            FieldId::ProviderTaxonomy => claim
                .provider
                .as_ref()
                .map_or(Val::Missing, |p| opt_str(&p.taxonomy)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::claims::{read_claims_str, InputFormat};

    const HEADER: &str = "payer p\n version \"1\"\n effective 2024-01-01..\n source \"test\"\n codes tpi = cpt 20552, 20553\n codes drugs = hcpcs J*\n";

    fn engine(rules: &str) -> Engine {
        let text = format!("policy t \"test\" {{\n {HEADER}\n{rules}\n}}\n");
        let loaded = Policies::from_source("t.policy", &text);
        let errors: Vec<String> = loaded
            .diagnostics
            .iter()
            .map(|d| d.render_plain())
            .collect();
        assert!(loaded.policies.is_some(), "{}", errors.join("\n"));
        Engine::new(loaded.policies.unwrap_or_default())
    }

    #[test]
    fn recycled_decisions_change_no_outcome() {
        // The bundled policies and claims, decided by an engine that gets
        // every outcome back and one that does not: the recycled lists come
        // with other lengths and reasons, and must leave nothing behind.
        let policies = Policies::load(&["policies".into()])
            .policies
            .unwrap_or_default();
        let input = std::fs::read_to_string("examples/claims.jsonl").unwrap_or_default();
        let claims = read_claims_str(&input, InputFormat::JsonLines);
        assert!(claims.len() >= 500);
        let (mut fresh, mut recycling) = (Engine::new(policies.clone()), Engine::new(policies));
        let mut decided_with_reasons = 0;
        for (i, claim) in claims.iter().enumerate() {
            let Ok(claim) = claim else { continue };
            let want = fresh.evaluate(claim, i + 1);
            let Ok(got) = recycling.try_evaluate(claim, i + 1);
            assert_eq!(got.outcome, want, "claim {}", i + 1);
            if let Outcome::Decision(d) = &want {
                decided_with_reasons += usize::from(d.lines.iter().any(|l| !l.reasons.is_empty()));
            }
            recycling.recycle(got);
        }
        assert!(decided_with_reasons > 100, "{decided_with_reasons}");
        assert!(!recycling.spare.lines.is_empty() && !recycling.spare.reasons.is_empty());
    }

    /// Evaluates claims given as JSON Lines; returns each line's fired rule ids.
    fn fired(engine: &mut Engine, claims: &str) -> Vec<Vec<Vec<String>>> {
        read_claims_str(claims, InputFormat::JsonLines)
            .into_iter()
            .enumerate()
            .map(|(i, c)| match c.map(|c| engine.evaluate(&c, i + 1)) {
                Ok(Outcome::Decision(d)) => d
                    .lines
                    .iter()
                    .map(|l| l.reasons.iter().map(|r| r.rule.to_string()).collect())
                    .collect(),
                other => panic!("claim {i}: {other:?}"),
            })
            .collect()
    }

    fn claim(id: &str, lines: &[(&str, &str)]) -> String {
        let lines: Vec<String> = lines
            .iter()
            .map(|(date, code)| format!(r#"{{"date_of_service":"{date}","procedure":"{code}"}}"#))
            .collect();
        format!(
            r#"{{"id":"{id}","payer":"p","patient":{{"id":"P","birth_date":"1960-06-15"}},"diagnoses":["M79.18"],"place_of_service":"11","lines":[{}]}}"#,
            lines.join(",")
        ) + "\n"
    }

    #[test]
    fn a_line_allowed_earlier_in_the_same_claim_is_history() {
        let mut e =
            engine("rule D { when line.procedure in tpi limit tpi to 1 per day else deny CO-97 }");
        let out = fired(
            &mut e,
            &claim(
                "C1",
                &[
                    ("2025-01-01", "20552"),
                    ("2025-01-01", "20553"),
                    ("2025-01-02", "20553"),
                ],
            ),
        );
        assert_eq!(
            out[0],
            vec![Vec::<String>::new(), vec!["D".to_string()], vec![]]
        );
    }

    #[test]
    fn a_denied_line_is_not_history() {
        let mut e = engine(
            "rule D { when line.procedure in tpi limit tpi to 1 per day else deny CO-97 }\n\
             rule X { when line.procedure in tpi and line.date_of_service == 2025-01-01 deny CO-50 }",
        );
        let out = fired(
            &mut e,
            &(claim("C1", &[("2025-01-01", "20552")]) + &claim("C2", &[("2025-01-01", "20553")])),
        );
        assert_eq!(out[0][0], vec!["X"]);
        assert_eq!(
            out[1][0],
            vec!["X"],
            "C1 was denied, so C2 is not a second session"
        );
    }

    #[test]
    fn count_windows_include_or_exclude_the_date_of_service() {
        let mut e = engine(
            "rule W { when line.procedure in tpi and line.date_of_service == 2025-01-31 \
               require count(tpi within 30 days) == 2 else review CO-16 }\n\
             rule B { when line.procedure in tpi and line.date_of_service == 2025-01-31 \
               require count(tpi within 30 days before) == 2 else review CO-16 }\n\
             rule S { when line.procedure in tpi and line.date_of_service == 2025-01-31 \
               require count(tpi on same day) == 1 else review CO-16 }",
        );
        // History: 2025-01-01 (day -30), 2025-01-02 (day -29), 2025-01-31 (day 0, same day).
        let input = claim(
            "H",
            &[
                ("2025-01-01", "20552"),
                ("2025-01-02", "20552"),
                ("2025-01-31", "20552"),
            ],
        ) + &claim("C", &[("2025-01-31", "20553")]);
        let out = fired(&mut e, &input);
        // within 30 days = [01-02, 01-31]: 01-02 and 01-31 -> 2; before = [01-01, 01-30] -> 2; same day -> 1.
        assert_eq!(out[1][0], Vec::<String>::new());
    }

    #[test]
    fn month_windows_count_calendar_months() {
        // 12 months before 2028-03-01 is 2027-03-01: the window starts 2027-03-02
        // and spans 366 days, because it holds 2028-02-29.
        let limit =
            "rule L { when line.procedure in tpi limit tpi to 1 per 12 months else deny CO-151 }";
        for (earlier, fires) in [("2027-03-01", false), ("2027-03-02", true)] {
            let mut e = engine(limit);
            let out = fired(
                &mut e,
                &(claim("H", &[(earlier, "20552")]) + &claim("C", &[("2028-03-01", "20552")])),
            );
            assert_eq!(out[1][0] == vec!["L"], fires, "earlier TPI on {earlier}");
        }
        // One month before 2025-03-31 is 2025-02-28 (the 31st does not exist).
        let interval =
            "rule I { when line.procedure in tpi interval tpi at least 1 months else deny CO-151 }";
        for (earlier, fires) in [
            ("2025-02-28", false),
            ("2025-03-01", true),
            ("2025-03-31", false),
        ] {
            let mut e = engine(interval);
            let out = fired(
                &mut e,
                &(claim("H", &[(earlier, "20552")]) + &claim("C", &[("2025-03-31", "20552")])),
            );
            assert_eq!(out[1][0] == vec!["I"], fires, "earlier TPI on {earlier}");
        }
        // `within 2 months before` on 2025-05-15: 2025-03-15 .. 2025-05-14.
        let count = "rule K { when line.procedure in tpi and count(tpi within 2 months before) >= 1 allow }";
        for (earlier, fires) in [
            ("2025-03-14", false),
            ("2025-03-15", true),
            ("2025-05-14", true),
            ("2025-05-15", false),
        ] {
            let mut e = engine(count);
            let out = fired(
                &mut e,
                &(claim("H", &[(earlier, "20552")]) + &claim("C", &[("2025-05-15", "20552")])),
            );
            assert_eq!(out[1][0] == vec!["K"], fires, "earlier TPI on {earlier}");
        }
    }

    #[test]
    fn per_code_counts_only_services_of_the_lines_own_code() {
        let mut e = engine(
            "rule U { when line.procedure in tpi limit tpi to 1 per day per code else deny CO-151 }\n\
             rule W { when line.procedure in tpi interval tpi at least 30 days per code else deny CO-151 }\n\
             rule K { when line.procedure in tpi and count(tpi within 30 days per code) >= 1 allow }",
        );
        let out = fired(
            &mut e,
            &(claim(
                "A",
                &[
                    ("2025-01-01", "20552"),
                    ("2025-01-01", "20553"),
                    ("2025-01-01", "20553"),
                ],
            ) + &claim("B", &[("2025-01-20", "20552")])),
        );
        assert_eq!(
            out[0],
            vec![
                Vec::<String>::new(),
                vec![],
                vec!["U".to_string(), "K".to_string()]
            ],
            "20552 and 20553 are counted apart; the second 20553 is over"
        );
        assert_eq!(out[1][0], vec!["W", "K"]);
    }

    #[test]
    fn missing_facts_fail_comparisons_and_exists_tells_them_apart() {
        let mut e = engine(
            "rule F { when line.procedure in tpi \
               require facts.relief exists else review CO-16 \
               require facts.relief >= 50 else deny CO-50 }",
        );
        let with = |facts: &str| {
            format!(
                // An id per variant: one claim id with other content would be a
                // conflict in the ledger.
                r#"{{"id":"C{}","payer":"p","patient":{{"id":"Q"}},"diagnoses":["M79.18"],"facts":{facts},"lines":[{{"date_of_service":"2025-01-01","procedure":"20552"}}]}}"#,
                facts.len()
            ) + "\n"
        };
        assert_eq!(fired(&mut e, &with("{}"))[0][0], vec!["F"]);
        let e2 = &mut engine(
            "rule F { when line.procedure in tpi require facts.relief >= 50 else deny CO-50 }",
        );
        assert_eq!(
            fired(e2, &with("{}"))[0][0],
            vec!["F"],
            "a missing fact fails the comparison"
        );
        assert_eq!(
            fired(e2, &with(r#"{"relief":"lots"}"#))[0][0],
            vec!["F"],
            "a text fact fails a numeric comparison"
        );
        assert!(fired(e2, &with(r#"{"relief":50}"#))[0][0].is_empty());
    }

    #[test]
    fn quantifiers_look_at_the_other_lines_only() {
        let mut e = engine(
            "rule S { when line.procedure in tpi require some other line (other.procedure in drugs) else review CO-16 }\n\
             rule N { when line.procedure in tpi require no other line (other.procedure in tpi) else deny CO-97 }\n\
             rule E { when line.procedure in drugs require every other line (other.date_of_service == line.date_of_service) else review CO-16 }",
        );
        let out = fired(
            &mut e,
            &(claim("A", &[("2025-01-01", "20552"), ("2025-01-01", "J3301")])
                + &claim("B", &[("2025-02-01", "20552")])
                + &claim("C", &[("2025-03-01", "J3301"), ("2025-03-02", "20552")])),
        );
        assert_eq!(out[0], vec![Vec::<String>::new(), vec![]]);
        assert_eq!(out[1][0], vec!["S"]);
        assert_eq!(out[2][0], vec!["E"]);
    }

    #[test]
    fn lists_ages_and_modifiers() {
        let mut e = engine(
            "rule P { when line.procedure in tpi and claim.place_of_service not in [\"11\", \"22\"] deny CO-58 }\n\
             rule A { when line.procedure in tpi and patient.age < 65 review CO-16 }",
        );
        // Born 1960-06-15: 64 on 2025-06-14, 65 on 2025-06-15.
        let out = fired(
            &mut e,
            &(claim("A", &[("2025-06-14", "20552")]) + &claim("B", &[("2025-06-15", "20552")])),
        );
        assert_eq!(out[0][0], vec!["A"]);
        assert!(out[1][0].is_empty());
    }

    #[test]
    fn line_takes_the_most_severe_action_and_the_claim_is_partial() {
        let mut e = engine(
            "rule R { when line.procedure in tpi review CO-16 }\n\
             rule D { when line.procedure in tpi and line.units > 1 deny CO-151 }",
        );
        let input = r#"{"id":"C","payer":"p","patient":{"id":"Z"},"diagnoses":["M79.18"],"lines":[{"date_of_service":"2025-01-01","procedure":"20552","units":2},{"date_of_service":"2025-01-01","procedure":"J3301"}]}"#;
        let claim = read_claims_str(input, InputFormat::JsonLines)
            .remove(0)
            .unwrap_or_else(|e| panic!("{e}"));
        let Outcome::Decision(d) = e.evaluate(&claim, 1) else {
            panic!("no decision")
        };
        assert_eq!(d.lines[0].decision, Action::Deny);
        assert_eq!(
            d.lines[0]
                .reasons
                .iter()
                .map(|r| &*r.rule)
                .collect::<Vec<_>>(),
            ["R", "D"]
        );
        assert_eq!(d.decision, ClaimDecision::Partial);
    }

    #[test]
    fn the_latest_version_in_effect_is_chosen() {
        let v = |version: &str, range: &str, carc: &str| {
            format!(
                "policy t \"t\" {{ payer p version \"{version}\" effective {range} source \"s\" codes tpi = cpt 20552 \
                 rule R {{ when line.procedure in tpi deny {carc} }} }}"
            )
        };
        let mut files = std::collections::HashMap::new();
        files.insert(
            std::path::PathBuf::from("a.policy"),
            v("old", "2020-01-01..2024-12-31", "CO-1"),
        );
        files.insert(
            std::path::PathBuf::from("b.policy"),
            v("new", "2024-06-01..", "CO-2"),
        );
        let roots = [
            std::path::PathBuf::from("a.policy"),
            std::path::PathBuf::from("b.policy"),
        ];
        let (ws, diags) = crate::workspace::Workspace::from_memory(&files, &roots);
        let loaded = Policies::from_workspace(ws, diags);
        let mut e = Engine::new(loaded.policies.unwrap_or_default());
        let version = |e: &mut Engine, date: &str| {
            let c =
                // An id per date: one id with other content would be a conflict.
                read_claims_str(&claim(date, &[(date, "20552")]), InputFormat::JsonLines)
                    .remove(0);
            match c.map(|c| e.evaluate(&c, 1)) {
                Ok(Outcome::Decision(d)) => d.policy_version.to_string(),
                other => format!("{other:?}"),
            }
        };
        assert_eq!(version(&mut e, "2024-05-31"), "old");
        assert_eq!(
            version(&mut e, "2024-06-01"),
            "new",
            "both cover it; the later start wins"
        );
        assert_eq!(version(&mut e, "2024-12-31"), "new");
        assert_eq!(version(&mut e, "2025-01-01"), "new");
        assert!(version(&mut e, "2019-12-31").contains("NoPolicy"));
    }
}

#[cfg(test)]
mod ledger_tests {
    use super::*;
    use crate::claims::{read_claims_str, InputFormat};

    const POLICY: &str = "policy t \"test\" {\n payer p\n version \"1\"\n effective 2024-01-01..\n source \"test\"\n codes tpi = cpt 20552, 20553\n rule D { when line.procedure in tpi limit tpi to 1 per 30 days else deny CO-97 }\n}\n";

    fn engine() -> Engine {
        let loaded = Policies::from_source("t.policy", POLICY);
        Engine::new(loaded.policies.unwrap_or_default())
    }

    /// A claim of patient `patient` with one TPI line on `date`; `extra` adds
    /// fields (`"frequency_code":"7"`, ...).
    fn claim(id: &str, patient: &str, date: &str, extra: &str) -> Claim {
        let text = format!(
            r#"{{"id":"{id}","payer":"p","patient":{{"id":"{patient}"}},"diagnoses":["M79.18"],"lines":[{{"date_of_service":"{date}","procedure":"20552"}}]{extra}}}"#
        );
        read_claims_str(&text, InputFormat::JsonLines)
            .remove(0)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn run(e: &mut Engine, c: &Claim) -> Evaluated {
        let Ok(done) = e.try_evaluate(c, 1);
        done
    }

    fn decision(ev: &Evaluated) -> String {
        match &ev.outcome {
            Outcome::Decision(d) => d.decision.as_str().to_string(),
            Outcome::Error(e) => e.error.kind.as_str().to_string(),
        }
    }

    fn services(e: &Engine, patient: &str) -> usize {
        e.history().services(patient).len()
    }

    #[test]
    fn the_same_claim_twice_is_answered_from_the_ledger_and_counts_once() {
        let mut e = engine();
        let c = claim("C1", "P", "2025-01-01", "");
        let first = run(&mut e, &c);
        let again = run(&mut e, &c);
        assert_eq!(decision(&first), "allow");
        assert!(again.replayed && !first.replayed);
        assert_eq!(
            first.json(),
            again.json(),
            "the stored decision, byte for byte"
        );
        assert_eq!(services(&e, "P"), 1);
        // A later session in the window still sees one earlier session, not two.
        let next = run(&mut e, &claim("C2", "P", "2025-01-10", ""));
        assert_eq!(decision(&next), "deny");
    }

    #[test]
    fn other_content_under_a_stored_id_is_a_conflict_that_changes_nothing() {
        let mut e = engine();
        run(&mut e, &claim("C1", "P", "2025-01-01", ""));
        let other = run(&mut e, &claim("C1", "P", "2025-03-01", ""));
        let Outcome::Error(err) = &other.outcome else {
            panic!("{}", other.json())
        };
        assert_eq!(err.error.kind, ErrorKind::Conflict);
        assert_eq!(err.error.path.as_deref(), Some("id"));
        assert_eq!(services(&e, "P"), 1);
        // The same id for another patient is another claim.
        assert_eq!(
            decision(&run(&mut e, &claim("C1", "Q", "2025-03-01", ""))),
            "allow"
        );
    }

    #[test]
    fn a_replacement_takes_the_earlier_services_out_and_is_evaluated_instead() {
        let mut e = engine();
        run(&mut e, &claim("C1", "P", "2025-01-01", ""));
        // Same id, frequency 7: replaces itself. Without the replacement the
        // 2025-01-05 session would be the second in 30 days.
        let r = run(
            &mut e,
            &claim("C1", "P", "2025-01-05", r#","frequency_code":"7""#),
        );
        assert_eq!(decision(&r), "allow", "{}", r.json());
        assert_eq!(services(&e, "P"), 1);
        assert_eq!(e.history().services("P")[0].date.to_string(), "2025-01-05");
        // A replacement with its own id names the claim it replaces.
        let r2 = run(
            &mut e,
            &claim(
                "C1-R",
                "P",
                "2025-01-06",
                r#","frequency_code":7,"replaces":"C1""#,
            ),
        );
        assert_eq!(decision(&r2), "allow", "{}", r2.json());
        assert_eq!(services(&e, "P"), 1);
        let versions = e.history().versions("P", "C1");
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[0].status, Status::Replaced);
        assert_eq!(versions[1].status, Status::Replaced);
        assert_eq!(e.history().replaced_by(&versions[1]), Some("C1-R"));
        // The original, sent again, is answered as it was and changes nothing.
        let orig = run(&mut e, &claim("C1", "P", "2025-01-01", ""));
        assert!(orig.replayed);
        assert_eq!(services(&e, "P"), 1);
        // Replacing C1 again is a conflict: C1-R stands for it now.
        let late = run(
            &mut e,
            &claim(
                "C1-S",
                "P",
                "2025-01-07",
                r#","frequency_code":"7","replaces":"C1""#,
            ),
        );
        assert_eq!(decision(&late), "conflict", "{}", late.json());
        assert!(
            late.json().contains("already replaced by claim `C1-R`"),
            "{}",
            late.json()
        );
    }

    #[test]
    fn a_void_takes_the_services_out_and_is_answered_void() {
        let mut e = engine();
        run(&mut e, &claim("C1", "P", "2025-01-01", ""));
        let v = run(
            &mut e,
            &claim(
                "V1",
                "P",
                "2025-01-01",
                r#","frequency_code":"8","replaces":"C1""#,
            ),
        );
        assert_eq!(decision(&v), "void", "{}", v.json());
        assert!(
            v.json().contains(r#""decision":"void","lines":[]"#),
            "{}",
            v.json()
        );
        assert_eq!(services(&e, "P"), 0);
        assert_eq!(
            decision(&run(&mut e, &claim("C2", "P", "2025-01-02", ""))),
            "allow"
        );
        // Sending the void again changes nothing; replacing a voided claim is a conflict.
        assert!(
            run(
                &mut e,
                &claim(
                    "V1",
                    "P",
                    "2025-01-01",
                    r#","frequency_code":"8","replaces":"C1""#
                )
            )
            .replayed
        );
        let r = run(
            &mut e,
            &claim("C1", "P", "2025-01-03", r#","frequency_code":"7""#),
        );
        assert!(
            r.json().contains("already voided by claim `V1`"),
            "{}",
            r.json()
        );
        // A void is not replaced or voided itself.
        let vv = run(
            &mut e,
            &claim(
                "V2",
                "P",
                "2025-01-01",
                r#","frequency_code":"8","replaces":"V1""#,
            ),
        );
        assert!(vv.json().contains("is a void"), "{}", vv.json());
    }

    #[test]
    fn a_replacement_or_void_of_an_unknown_claim() {
        let mut e = engine();
        // Evaluated as an original: there is nothing to take out.
        let r = run(
            &mut e,
            &claim(
                "R1",
                "P",
                "2025-01-01",
                r#","frequency_code":"7","replaces":"NOPE""#,
            ),
        );
        assert_eq!(decision(&r), "allow", "{}", r.json());
        assert_eq!(services(&e, "P"), 1);
        // A void of an unknown claim changes nothing but is kept: the same void
        // again is answered from the ledger.
        let v = run(
            &mut e,
            &claim(
                "V1",
                "P",
                "2025-01-01",
                r#","frequency_code":"8","replaces":"NOPE2""#,
            ),
        );
        assert_eq!(decision(&v), "void");
        assert_eq!(services(&e, "P"), 1);
    }

    #[test]
    fn imported_claims_count_can_be_replaced_and_are_not_imported_twice() {
        let mut e = engine();
        let paid = claim("H1", "P", "2025-01-01", "");
        assert_eq!(e.import(&paid), Ok(Imported::Added));
        assert_eq!(e.import(&paid), Ok(Imported::Present));
        assert_eq!(
            e.import(&claim("H1", "P", "2025-02-01", "")),
            Ok(Imported::Conflict)
        );
        assert_eq!(services(&e, "P"), 1);
        let same = run(&mut e, &paid);
        assert_eq!(decision(&same), "conflict");
        assert!(same.json().contains("imported"), "{}", same.json());
        assert_eq!(
            decision(&run(&mut e, &claim("C2", "P", "2025-01-10", ""))),
            "deny"
        );
        let r = run(
            &mut e,
            &claim("H1", "P", "2025-03-01", r#","frequency_code":"7""#),
        );
        assert_eq!(decision(&r), "allow", "{}", r.json());
        assert_eq!(services(&e, "P"), 1);
    }

    #[test]
    fn a_claim_without_a_policy_changes_nothing() {
        let mut e = engine();
        run(&mut e, &claim("C1", "P", "2025-01-01", ""));
        let text = r#"{"id":"X","payer":"nobody","patient":{"id":"P"},"diagnoses":["M79.18"],"frequency_code":"8","replaces":"C1","lines":[{"date_of_service":"2025-01-01","procedure":"20552"}]}"#;
        let c = read_claims_str(text, InputFormat::JsonLines)
            .remove(0)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(decision(&run(&mut e, &c)), "no_policy");
        assert_eq!(services(&e, "P"), 1, "the void did not happen");
    }

    #[test]
    fn content_hashes_ignore_spelling_and_see_every_field() {
        let a = claim("C1", "P", "2025-01-01", "");
        let b = read_claims_str(
            r#"{"lines":[{"procedure":"20552","date_of_service":"2025-01-01","line":1,"units":1}],"diagnoses":["M7918"],"patient":{"id":"P"},"payer":"p","id":"C1","frequency_code":1}"#,
            InputFormat::JsonLines,
        )
        .remove(0)
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ContentHash::of(&a), ContentHash::of(&b));
        let c = claim("C1", "P", "2025-01-02", "");
        assert_ne!(ContentHash::of(&a), ContentHash::of(&c));
        let d = claim("C1", "P", "2025-01-01", r#","frequency_code":"7""#);
        assert_ne!(ContentHash::of(&a), ContentHash::of(&d));
        // Stable across runs and versions: a fixed claim has a fixed hash, which
        // databases keep. Changing it orphans every stored claim.
        assert_eq!(
            ContentHash::of(&a).hex(),
            "3837ee7ee3ed08c88cad5fb4e1f00954"
        );
        // A claim whose encoding outgrows the hash's buffer on the stack is
        // hashed from the same bytes.
        let long_facts: String = (0..40)
            .map(|i| format!(r#","fact_{i}":"{}""#, "x".repeat(40)))
            .collect();
        let long = |date: &str| {
            let facts = format!(r#","facts":{{"a":1{long_facts}}}"#);
            claim("C1", "P", date, &facts)
        };
        let (e, f) = (long("2025-01-01"), long("2025-01-02"));
        let mut bytes = Vec::new();
        crate::history::canonical_bytes(&e, &mut bytes);
        assert!(bytes.len() > 1024, "{}", bytes.len());
        assert_eq!(
            ContentHash::of(&e).0,
            xxhash_rust::xxh3::xxh3_128(&bytes).to_le_bytes()
        );
        assert_ne!(ContentHash::of(&e), ContentHash::of(&f));
        let mut short = Vec::new();
        crate::history::canonical_bytes(&a, &mut short);
        assert_eq!(
            ContentHash::of(&a).0,
            xxhash_rust::xxh3::xxh3_128(&short).to_le_bytes()
        );
        // The buffer is the thread's, reused: what a longer claim left in it
        // past the end of a shorter one's encoding is not hashed.
        let longer = claim(
            "C1",
            "P",
            "2025-01-01",
            &format!(r#","facts":{{"a":"{}"}}"#, "y".repeat(300)),
        );
        let _ = ContentHash::of(&longer);
        assert_eq!(
            ContentHash::of(&a).0,
            xxhash_rust::xxh3::xxh3_128(&short).to_le_bytes()
        );
    }
}
