//! Eval: claim + history -> decision, by running a compiled policy line by line.
//!
//! Lines are decided in claim order; a line decided allow or review becomes
//! history at once, so a later line of the same claim (or a later claim) sees it.

pub mod value;

use chrono::{Duration, NaiveDate};

use crate::check::fields::FieldId;
use crate::claims::{
    Action, Claim, ClaimDecision, ClaimError, Decision, ErrorKind, Line, LineDecision, Outcome, Reason, TraceOutcome,
    TraceStep,
};
use crate::compile::plan::{Check, CheckKind, Cond, Count, InOp, Policy, Quant, Rule, Value};
use crate::history::{HistoryStore, MemoryHistory, Query, Service};
use crate::policies::Policies;
use value::{code_in, codes_in, compare, elements, has, Val};

/// Evaluates claims against loaded policies, keeping the history they build.
pub struct Engine<H: HistoryStore = MemoryHistory> {
    policies: Policies,
    history: H,
    explain: bool,
}

impl Engine<MemoryHistory> {
    /// An engine with an empty in-memory history.
    pub fn new(policies: Policies) -> Engine<MemoryHistory> {
        Engine::with_history(policies, MemoryHistory::new())
    }
}

impl<H: HistoryStore> Engine<H> {
    /// An engine over the given history store.
    pub fn with_history(policies: Policies, history: H) -> Engine<H> {
        Engine { policies, history, explain: false }
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

    /// Records every line of an already adjudicated claim as an allowed service.
    pub fn record_prior(&mut self, claim: &Claim) {
        for line in &claim.lines {
            self.history.record(&claim.patient.id, service(line));
        }
    }

    /// Decides one claim (`record`: its 1-based position in the input) and records
    /// its allowed and reviewed lines in the history.
    pub fn evaluate(&mut self, claim: &Claim, record: usize) -> Outcome {
        let policy = match self.policies.select(claim) {
            Ok(p) => p,
            Err((message, path)) => {
                return Outcome::Error(
                    ClaimError { id: Some(claim.id.clone()), kind: ErrorKind::NoPolicy, message, path: Some(path), record }
                        .into(),
                );
            }
        };
        let mut lines = Vec::with_capacity(claim.lines.len());
        for (index, line) in claim.lines.iter().enumerate() {
            let cx = LineCx { claim, line, index, policy, history: &self.history };
            let decided = cx.decide(self.explain);
            if decided.decision != Action::Deny {
                self.history.record(&claim.patient.id, service(line));
            }
            lines.push(decided);
        }
        let actions: Vec<Action> = lines.iter().map(|l| l.decision).collect();
        Outcome::Decision(Decision {
            id: claim.id.clone(),
            payer: claim.payer.clone(),
            policy: policy.id.clone(),
            policy_version: policy.version.clone(),
            decision: ClaimDecision::from_lines(&actions),
            lines,
        })
    }
}

fn service(line: &Line) -> Service {
    Service { date: line.date_of_service, procedure: line.procedure, site: line.site.clone() }
}

fn shift(date: NaiveDate, days: i64) -> NaiveDate {
    date.checked_add_signed(Duration::days(days)).unwrap_or(if days < 0 { NaiveDate::MIN } else { NaiveDate::MAX })
}

/// Everything a condition on one line can see.
struct LineCx<'a, H: HistoryStore> {
    claim: &'a Claim,
    line: &'a Line,
    index: usize,
    policy: &'a Policy,
    history: &'a H,
}

impl<'a, H: HistoryStore> LineCx<'a, H> {
    fn decide(&self, explain: bool) -> LineDecision {
        let mut reasons = Vec::new();
        let mut trace = explain.then(Vec::new);
        for rule in &self.policy.rules {
            let (outcome, detail) = self.run_rule(rule, &mut reasons);
            if let Some(trace) = trace.as_mut() {
                trace.push(TraceStep { rule: rule.id.clone(), outcome, detail });
            }
        }
        let decision = reasons.iter().map(|r: &Reason| r.action).max().unwrap_or(Action::Allow);
        LineDecision { line: self.line.line, procedure: self.line.procedure_text.clone(), decision, reasons, trace }
    }

    fn run_rule(&self, rule: &Rule, reasons: &mut Vec<Reason>) -> (TraceOutcome, Option<String>) {
        if let Some(trigger) = rule.trigger {
            if !self.policy.sets[trigger].contains(self.line.procedure) {
                return (TraceOutcome::NotApplicable, None);
            }
        }
        if let Some(i) = rule.when.iter().position(|c| !self.cond(c, None)) {
            return (TraceOutcome::NotApplicable, Some(format!("`when` #{} is false", i + 1)));
        }
        for (i, check) in rule.checks.iter().enumerate() {
            if let Some(detail) = self.failed(check) {
                let a = &check.action;
                reasons.push(Reason {
                    rule: rule.id.clone(),
                    action: a.action,
                    carc: a.carc.clone(),
                    rarc: a.rarc.clone(),
                    message: a.message.clone(),
                    at: rule.at.clone(),
                });
                return (TraceOutcome::Fired, Some(format!("check #{}: {detail}", i + 1)));
            }
        }
        (TraceOutcome::Passed, None)
    }

    /// `Some(why)` when the check fails.
    fn failed(&self, check: &Check) -> Option<String> {
        let dos = self.line.date_of_service;
        match &check.kind {
            CheckKind::Require(cond) => (!self.cond(cond, None)).then(|| "the required condition is false".to_string()),
            CheckKind::Always => Some("the rule applies".to_string()),
            CheckKind::Limit { set, max, days, scope } => {
                let from = shift(dos, 1 - i64::from(*days));
                let q = self.query(*set, from, dos, *scope);
                let earlier = self.history.count(&q);
                let this = u32::from(self.policy.sets[*set].contains(self.line.procedure));
                let total = earlier.saturating_add(this);
                (total > *max).then(|| format!("{total} services from {from} to {dos}, more than {max}"))
            }
            CheckKind::Interval { set, days, scope } => {
                let from = shift(dos, 1 - i64::from(*days));
                let q = self.query(*set, from, shift(dos, -1), *scope);
                let earlier = self.history.count(&q);
                (earlier > 0).then(|| format!("{earlier} services from {from} to {}, less than {days} days ago", shift(dos, -1)))
            }
        }
    }

    fn query(&self, set: usize, from: NaiveDate, to: NaiveDate, scope: Option<crate::syntax::ast::SiteScope>) -> Query<'a> {
        Query {
            patient: &self.claim.patient.id,
            from,
            to,
            set: &self.policy.sets[set],
            scope,
            site: self.line.site.as_deref(),
        }
    }

    /// Evaluates a condition; `other` is the line a quantifier is looking at.
    fn cond(&self, cond: &Cond, other: Option<&'a Line>) -> bool {
        match cond {
            Cond::Const(b) => *b,
            Cond::Or(parts) => parts.iter().any(|c| self.cond(c, other)),
            Cond::And(parts) => parts.iter().all(|c| self.cond(c, other)),
            Cond::Not(inner) => !self.cond(inner, other),
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
                let member = |x: Val<'_>| items.iter().any(|c| compare(crate::compile::plan::CompareOp::Eq, x, Val::of_const(c)));
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
                let mut others =
                    self.claim.lines.iter().enumerate().filter(|(i, _)| *i != self.index).map(|(_, l)| l);
                match quant {
                    Quant::Some => others.any(|l| self.cond(body, Some(l))),
                    Quant::No => !others.any(|l| self.cond(body, Some(l))),
                    Quant::Every => others.all(|l| self.cond(body, Some(l))),
                }
            }
            Cond::Truthy(v) => matches!(self.value(v, other), Val::Bool(true)),
        }
    }

    fn value(&self, v: &'a Value, other: Option<&'a Line>) -> Val<'a> {
        match v {
            Value::Const(c) => Val::of_const(c),
            Value::Fact(name) => Val::of_fact(self.claim.facts.get(name)),
            Value::Count(count) => Val::Int(i64::from(self.count(count))),
            Value::Field { id, other: is_other } => {
                let line = if *is_other { other.unwrap_or(self.line) } else { self.line };
                self.field(*id, line)
            }
        }
    }

    fn count(&self, c: &Count) -> u32 {
        let dos = self.line.date_of_service;
        self.history.count(&self.query(c.set, shift(dos, c.from), shift(dos, c.to), c.scope))
    }

    fn field(&self, id: FieldId, line: &'a Line) -> Val<'a> {
        let claim = self.claim;
        let opt_str = |s: &'a Option<String>| s.as_deref().map_or(Val::Missing, Val::Str);
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
            FieldId::ClaimLineCount => Val::Int(i64::try_from(claim.lines.len()).unwrap_or(i64::MAX)),
            FieldId::PatientId => Val::Str(&claim.patient.id),
            FieldId::PatientAge => {
                claim.patient.age_on(self.line.date_of_service).map_or(Val::Missing, |a| Val::Int(i64::from(a)))
            }
            FieldId::PatientSex => claim.patient.sex.map_or(Val::Missing, |s| Val::Str(s.as_str())),
            FieldId::PatientBirthDate => claim.patient.birth_date.map_or(Val::Missing, Val::Date),
            FieldId::ProviderNpi => claim.provider.as_ref().map_or(Val::Missing, |p| opt_str(&p.npi)),
            FieldId::ProviderTaxonomy => claim.provider.as_ref().map_or(Val::Missing, |p| opt_str(&p.taxonomy)),
        }
    }
}
