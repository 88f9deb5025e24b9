//! Deciding one line: its policy's rules, their conditions and counts, against
//! the line, its claim, the claim's earlier lines and the patient's history.

use super::stored::action_code;
use super::why::Why;
use super::*;
use crate::number::int_to_float;

/// A line as a service of the history, its date of service the day `day`.
#[inline]
pub(super) fn service(line: &Line, day: Day) -> Service<'_> {
    Service::on(day, line.procedure, line.site.as_deref())
        .with_units(line.units, is_bilateral(line))
        .with_charge(line.charge)
        .with_modifiers(modifier_codes(line))
}

/// A line's modifiers as the history keeps them (validation leaves two
/// letters or digits each, at most four).
#[inline]
pub(super) fn modifier_codes(line: &Line) -> ModifierCodes {
    if line.modifiers.is_empty() {
        return ModifierCodes::NONE;
    }
    ModifierCodes::of_line(line.modifiers.iter().map(|m| m.as_str()))
}

/// Whether a line carries modifier 50 (bilateral procedure). Modifiers are
/// uppercased by validation; `50` has no case anyway.
#[inline]
pub(super) fn is_bilateral(line: &Line) -> bool {
    line.modifiers.iter().any(|m| m.as_str() == "50")
}

/// A service of an earlier claim as a line, for a same-day quantifier's
/// `other.` to read: the fields the history keeps
/// ([`crate::fields::HISTORY_FIELDS`], which is all the checker lets
/// `other.` read there, PR314) are the service's: its code (and so its
/// region, which `LineCx::region_name` finds from it), site, date, units
/// (without the modifier-50 flag kept with them), charge (the claim's
/// double, read back exactly by every store) and modifiers (`50` alone for
/// a service stored with the flag before history kept the modifiers: the
/// memory store adds it, see `Entry::new`). The rest are empty.
pub(super) fn as_line(service: &Service<'_>) -> Line {
    let modifiers: crate::claims::model::Modifiers = service
        .modifiers()
        .iter()
        .map(|m| Text::from(m.as_str()))
        .collect();
    Line {
        line: 0,
        date_of_service: service.date(),
        procedure: service.procedure,
        procedure_text: Text::default(),
        modifiers,
        units: service.units(),
        diagnosis_pointers: Default::default(),
        site: service.site.map(Text::from),
        muscles: None,
        injections: None,
        charge: service.charge(),
    }
}

/// Everything a condition on one line can see.
pub(super) struct LineCx<'a> {
    pub(super) claim: &'a Claim,
    pub(super) line: &'a Line,
    pub(super) index: usize,
    pub(super) policy: &'a Policy,
    /// The line's date of service as a day, where count windows start from.
    pub(super) day: Day,
    /// The patient's services the line's counts look at, from the store.
    pub(super) window: Window<'a>,
    /// The line's site as the window knows it, once a count that matches
    /// sites asked for it.
    pub(super) site: std::cell::Cell<Option<SiteId>>,
    /// The line's region in `policy` ([`Policy::region_of`]), once a count
    /// `per region` or `line.region` asked for it.
    pub(super) region: std::cell::Cell<Option<usize>>,
    /// The lines of this claim counted so far: history the store has not got yet.
    pub(super) earlier: &'a [(u32, Service<'a>)],
    /// Their dates as days.
    pub(super) earlier_days: &'a [Day],
}

impl<'a> LineCx<'a> {
    /// Decides the line against its policies (`on_line`, indexes into
    /// `policies`, in policy order; with one policy for the whole claim, not
    /// `many`, the one `self.policy` names); appends to `kept` its action and the
    /// (rule, check) of each reason, the compact form a memory store keeps,
    /// each preceded by the rule's policy when `many` policies applied to the
    /// claim. `reasons` is an empty list to put the reasons in.
    pub(super) fn decide(
        mut self,
        policies: &'a Policies,
        on_line: &[u16],
        many: bool,
        explain: bool,
        kept: &mut Vec<u8>,
        mut reasons: Vec<Reason>,
    ) -> LineDecision {
        let head = kept.len();
        kept.extend_from_slice(&[0, 0]);
        let mut steps = explain.then(Vec::new);
        if many {
            for &index in on_line {
                let Some(policy) = policies.get(usize::from(index)) else {
                    continue;
                };
                self.policy = policy;
                // Each policy has regions of its own.
                self.region.set(None);
                self.visit(Some(index), kept, &mut reasons, steps.as_mut());
            }
        } else {
            // One policy applied to the claim, so to every line: the one
            // `policy` already names (the common case, without the lookup).
            self.visit(None, kept, &mut reasons, steps.as_mut());
        }
        let decision = reasons
            .iter()
            .map(|r: &Reason| r.action)
            .max()
            .unwrap_or(Action::Allow);
        // The two bytes pushed at `head` above.
        if let Some([action, count, ..]) = kept.get_mut(head..) {
            *action = action_code(decision);
            *count = u8::try_from(reasons.len()).unwrap_or(u8::MAX);
        }
        LineDecision {
            line: self.line.line,
            procedure: self.line.procedure,
            decision,
            reasons,
            trace: steps,
        }
    }

    /// Runs the rules of the line's current policy that its procedure can
    /// trigger (every rule when tracing: a trace names every rule), adding
    /// the reasons of those that fire. `tag`: the policy's index, written
    /// before each reason in `kept` and naming the policy in trace steps,
    /// when several policies applied to the claim.
    #[inline(always)]
    fn visit(
        &self,
        tag: Option<u16>,
        kept: &mut Vec<u8>,
        reasons: &mut Vec<Reason>,
        steps: Option<&mut Vec<TraceStep>>,
    ) {
        // Remembers which rule and check fired, for the compact stored decision;
        // called only for a rule that fired (few do), so the rest pay one test.
        let mut keep = |index: usize, why: Option<Why>| {
            if let Some(check) = why.and_then(Why::check) {
                if let Some(policy) = tag {
                    kept.extend_from_slice(&policy.to_le_bytes());
                }
                kept.extend_from_slice(&u16::try_from(index).unwrap_or(u16::MAX).to_le_bytes());
                kept.extend_from_slice(&u16::try_from(check).unwrap_or(u16::MAX).to_le_bytes());
            }
        };
        if let Some(steps) = steps {
            steps.reserve(self.policy.rules.len());
            let named = tag.map(|_| self.policy.id.clone());
            for (index, rule) in self.policy.rules.iter().enumerate() {
                let triggered = rule
                    .trigger
                    .is_none_or(|t| self.set(t).is_some_and(|s| s.contains(self.line.procedure)));
                let (outcome, why) = if triggered {
                    self.run_rule(rule, reasons)
                } else {
                    (TraceOutcome::NotApplicable, None)
                };
                if outcome == TraceOutcome::Fired {
                    keep(index, why);
                }
                steps.push(TraceStep {
                    rule: rule.id.clone(),
                    outcome,
                    detail: match why {
                        Some(Why::Required(i)) => match rule.checks.get(i).map(|c| &c.kind) {
                            Some(CheckKind::Require(Cond::Within(limit))) => {
                                self.measured_detail(limit, i)
                            }
                            _ => why.map(Why::describe),
                        },
                        why => why.map(Why::describe),
                    },
                    policy: named.clone(),
                });
            }
        } else {
            for &i in self.policy.dispatch.rules_for(self.line.procedure) {
                let index = usize::from(i);
                if let Some(rule) = self.policy.rules.get(index) {
                    let (outcome, why) = self.run_rule(rule, reasons);
                    if outcome == TraceOutcome::Fired {
                        keep(index, why);
                    }
                }
            }
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

    /// Whether a limit counts the line being decided: its procedure is in
    /// the limit's set (known at compile time, `counts_line`, when every
    /// line the rule runs on is), and, `with modifier`, it was billed with
    /// one of them.
    #[inline(always)]
    pub(super) fn counts_itself(&self, of: &Counting) -> bool {
        (of.counts_line
            || self
                .set(of.set)
                .is_some_and(|s| s.contains(self.line.procedure)))
            && (of.matching.modifiers.is_any()
                || of.matching.modifiers.admits(modifier_codes(self.line)))
    }

    /// `Some(why)` when check number `index` fails.
    // Inlined into `decide` with `run_rule`, for the same reason.
    #[inline(always)]
    fn failed(&self, check: &Check, index: usize) -> Option<Why> {
        let dos = self.line.date_of_service;
        match &check.kind {
            CheckKind::Require(cond) => (!self.test(cond, None)).then_some(Why::Required(index)),
            CheckKind::Always => Some(Why::Always(index)),
            CheckKind::Limit { of, max } => {
                let (counted, from, to) = self.span(of);
                let earlier = self.counted(counted, from, to, &of.matching);
                let this = u32::from(self.counts_itself(of));
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
                matching,
            } => {
                let from = period.before_day(dos, self.day).succ();
                let to = self.day.pred();
                let counted = self.regional(*set, matching.per_region);
                let earlier = self.counted(counted, from, to, matching);
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
            } => self
                .set(*set)
                .is_some_and(|s| s.contains(self.pick(*is_other, other).procedure) != *negated),
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
    pub(super) fn cond(&self, cond: &Cond, other: Option<&'a Line>) -> bool {
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
                self.set(*set).is_some_and(|s| codes_in(codes, s, *all))
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
                // Exact: see `Cond::FactCompare` and `crate::number`.
                Some(FactValue::Number(x)) => x.partial_cmp(value).is_some_and(|o| holds(*op, o)),
                Some(FactValue::Integer(x)) => {
                    int_to_float(*x, *value).is_some_and(|o| holds(*op, o))
                }
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
                let Some(set) = self.set(*set) else {
                    return false;
                };
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
            Cond::SameDay { none, body } => self.same_day(body) != *none,
            Cond::Truthy(v) => matches!(self.value(v, other), Val::Bool(true)),
            Cond::Within(limit) => self.within(limit),
            Cond::CountCompare { op, count, value } => {
                holds(*op, i64::from(self.count(count)).cmp(value))
            }
        }
    }

    /// Whether some other service on the line's date of service meets
    /// `body`: another line of the claim on that date (whatever the rules
    /// decide for it, as `some other line` sees it), or a service of an
    /// earlier claim of the member on that date. This claim's lines counted
    /// so far are not in the window yet (`earlier`), and are among its lines.
    // Out of line: few rules have one, and its loops would weigh on every
    // condition's registers (see `value`).
    #[inline(never)]
    fn same_day(&self, body: &Cond) -> bool {
        let dos = self.line.date_of_service;
        let on_claim =
            self.claim.lines.iter().enumerate().any(|(i, l)| {
                i != self.index && l.date_of_service == dos && self.test(body, Some(l))
            });
        on_claim
            || self
                .window
                .any_on(self.day, |service| self.test(body, Some(&as_line(service))))
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
            Value::Count(count) => match count.measure {
                Measure::Lines => Val::Int(i64::from(self.count(count))),
                _ => self.measured(count),
            },
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

    /// A count of lines ([`Measure::Lines`]; the others are
    /// [`LineCx::measured`]).
    #[inline(never)]
    pub(super) fn count(&self, c: &Count) -> u32 {
        if self.nothing_to_count() {
            return 0;
        }
        let set = self.regional(c.set, c.matching.per_region);
        let (from, to) = match c.window {
            CountWindow::FromFirst(_) => self.reach(c.window, set, &c.matching),
            window => window.days(self.line.date_of_service, self.day),
        };
        self.counted(set, from, to, &c.matching)
    }

    /// The set a count of `set` counts: with `per region`, its codes in the
    /// line's region (the line itself is in it exactly when it is in `set`).
    // Without `per region` (nearly every count) a test and the set as given;
    // the region's lookup stays out of line, so that the counts that do not
    // use it do not pay for its registers.
    #[inline(always)]
    pub(super) fn regional(&self, set: usize, per_region: Option<Regional>) -> usize {
        match per_region {
            None => set,
            Some(r) => self.in_region(r),
        }
    }

    /// The split of `r` for the line's region.
    #[inline(never)]
    fn in_region(&self, r: Regional) -> usize {
        r.set(self.region())
    }

    /// The line's region in its policy, looked up once.
    fn region(&self) -> usize {
        self.region.get().unwrap_or_else(|| {
            let region = self.policy.region_of(self.line.procedure);
            self.region.set(Some(region));
            region
        })
    }

    /// The set a limit counts on this line (its region's part, when per
    /// region) and the days of its window: a rolling window, nearly every
    /// limit's, in place; the others through [`LineCx::reach`].
    #[inline(always)]
    pub(super) fn span(&self, of: &Counting) -> (usize, Day, Day) {
        let counted = self.regional(of.set, of.matching.per_region);
        let (from, to) = match of.window {
            CountWindow::Within(period) => (
                period
                    .before_day(self.line.date_of_service, self.day)
                    .succ(),
                self.day,
            ),
            window => self.reach(window, counted, &of.matching),
        };
        (counted, from, to)
    }

    /// The first and last days of `window` for this line, the window of a
    /// count or a limit of the services of `set` that `matching` takes: any
    /// form that counts or
    /// sums history takes its days from here, so that every window works
    /// for every form. Only an anchored window looks at the history. Out of
    /// line: the hot paths work out the windows they meet most (a limit's
    /// rolling window, a count's non-anchored one) in place and call this for
    /// the others, which kept the instructions per claim of policies without
    /// the calendar windows where they were (`docs/performance.md`).
    #[inline(never)]
    pub(super) fn reach(&self, window: CountWindow, set: usize, matching: &Match) -> (Day, Day) {
        match window {
            CountWindow::FromFirst(period) => (self.anchor(period, set, matching), self.day),
            _ => window.days(self.line.date_of_service, self.day),
        }
    }

    /// The first day of the anchored period of `period` (`P from first`)
    /// that the line's date falls in, for the services of `set` that a count
    /// with `matching` counts: the history's and this claim's
    /// earlier lines', up to the line's date (later ones do not move it). The
    /// first such service is the first anchor; the first one on or after
    /// [`Period::after_anchor`] of an anchor is the next. When the last
    /// anchor's period has ended before the line's date, or there is none,
    /// the line's date starts a period: its own day. A search per period
    /// the history spans, not a walk over every service.
    #[inline(never)]
    fn anchor(&self, period: Period, set: usize, matching: &Match) -> Day {
        let to = self.day;
        let Some(c) = self.looked_at(set, Day::MIN, to, matching) else {
            return to;
        };
        // The earliest service that counts from day `from` to the line's.
        let first = |from: Day| {
            let c = Counted { from, ..c };
            let stored = self.window.first(&c);
            let here = self.earlier_in(&c).map(|(_, day)| day).min();
            match (stored, here) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        let Some(mut anchor) = first(Day::MIN) else {
            return to;
        };
        loop {
            let next = period.after_anchor(anchor);
            // `next <= anchor` only where dates saturate: no later period.
            if next > to || next <= anchor {
                return anchor;
            }
            match first(next) {
                Some(later) => anchor = later,
                None => return to,
            }
        }
    }

    /// The services of `set` from day `from` to day `to` that `matching`
    /// takes: the history's and this claim's earlier lines'.
    pub(super) fn counted(&self, set: usize, from: Day, to: Day, matching: &Match) -> u32 {
        let Some(c) = self.looked_at(set, from, to, matching) else {
            return 0;
        };
        let here = self.earlier_in(&c).count();
        self.window
            .count(&c)
            .saturating_add(u32::try_from(here).unwrap_or(u32::MAX))
    }

    /// What a count, a sum or an anchored period's search of `set` from day
    /// `from` to day `to` looks at (the services `matching` takes, by code,
    /// site and modifiers); `None` when there
    /// is nothing to count (see [`LineCx::nothing_to_count`]) or no such
    /// set. A count that does not match sites does not look the site up.
    #[inline(always)]
    pub(super) fn looked_at(
        &self,
        set: usize,
        from: Day,
        to: Day,
        matching: &Match,
    ) -> Option<Counted<'a>> {
        if self.nothing_to_count() {
            return None;
        }
        Some(Counted {
            from,
            to,
            set: self.set(set)?,
            code: matching.per_code.then_some(self.line.procedure),
            scope: matching.scope,
            site: match matching.scope {
                None => SiteId::NONE,
                Some(_) => self.site_id(),
            },
            modifiers: matching.modifiers,
        })
    }

    /// This claim's earlier lines that `c` counts, with their days: the
    /// services the store has not got yet.
    #[inline(always)]
    pub(super) fn earlier_in(
        &self,
        c: &Counted<'a>,
    ) -> impl Iterator<Item = (&'a Service<'a>, Day)> + 'a {
        let Counted {
            from,
            to,
            set,
            code,
            scope,
            modifiers,
            ..
        } = *c;
        let site = self.line.site.as_deref();
        self.earlier
            .iter()
            .zip(self.earlier_days)
            .filter(move |((_, s), &day)| {
                day >= from
                    && day <= to
                    && counts_service(set, code, scope, site, s)
                    && modifiers.admits(s.modifiers())
            })
            .map(|((_, s), &day)| (s, day))
    }

    /// True when the patient has no services in the store and the claim no
    /// counted lines before this one (a patient's first claim, a claim's first
    /// line: most counts): every count is 0, without its window worked out,
    /// the line's site looked up or either list searched.
    #[inline]
    pub(super) fn nothing_to_count(&self) -> bool {
        self.window.is_empty() && self.earlier.is_empty()
    }

    /// Code set `id` of the line's policy. The compiler gives a set its id
    /// once the set is in the policy's `sets`, so `None` is only for a policy
    /// put together otherwise: a test against the missing set is false (negated
    /// or not) and a count of it is 0.
    #[inline(always)]
    pub(super) fn set(&self, id: usize) -> Option<&'a crate::codes::CodeSet> {
        self.policy.sets.get(id)
    }

    /// The line's site as the window knows it, looked up once.
    pub(super) fn site_id(&self) -> SiteId {
        self.site.get().unwrap_or_else(|| {
            let id = self.window.site(self.line.site.as_deref());
            self.site.set(Some(id));
            id
        })
    }

    /// `line.region` (of `line`, the line being decided or another): the
    /// name of its region, or missing. Out of line: the other fields are
    /// read in place and should not pay for its registers.
    #[inline(never)]
    fn region_name(&self, line: &'a Line) -> Val<'a> {
        let region = if std::ptr::eq(line, self.line) {
            self.region()
        } else {
            self.policy.region_of(line.procedure)
        };
        self.policy
            .regions
            .get(region)
            .map_or(Val::Missing, |r| Val::Str(&r.name))
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
            FieldId::LineRegion => self.region_name(line),
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
