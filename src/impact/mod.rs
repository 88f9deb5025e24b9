//! Impact: what a policy change does to real claims. Two policy sets (the base
//! and the candidate) replay the same claims in the same arrival order, each
//! with a history of its own (a change that denies an early claim changes what
//! later claims count), and the decisions are compared claim by claim and line
//! by line.
//!
//! The report ([`Impact`]) counts every claim and line, lists transitions as
//! matrices (`allow -> deny`), groups the changed lines by the rule that newly
//! fires or stops firing, by payer, policy and procedure, sums the charges of
//! the changed lines exactly (decimals, never floating point), and keeps a few
//! example claims per rule. Claims whose decision did not change are counted,
//! not listed. Its JSON (serde) is stable and documented in `docs/impact.md`.

mod money;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use crate::claims::{Action, Claim, ClaimError, Outcome};
use crate::eval::{Engine, Imported};
use crate::policies::Policies;
pub use money::Money;

/// Examples kept per rule.
pub const EXAMPLES_PER_RULE: usize = 3;

/// A line or claim decision as the report names it: the contract's decision,
/// or `error` for a claim that could not be decided.
pub type Label = &'static str;

/// The label of a claim that became an error record (`no_policy`, say).
pub const ERROR: Label = "error";

/// What a policy change does to a set of claims.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Impact {
    /// Claims replayed (error records included).
    pub claims: usize,
    /// Lines replayed, of the claims that read.
    pub lines: usize,
    /// Claims whose claim decision (or error) differs.
    pub changed_claims: usize,
    /// Lines whose decision differs (a line of a claim that is an error record
    /// on one side is `error` there).
    pub changed_lines: usize,
    /// Claims by decision before and after: `from -> to -> count`, the
    /// unchanged diagonal included.
    pub claim_transitions: BTreeMap<Label, BTreeMap<Label, usize>>,
    /// Lines by decision before and after, as `claim_transitions`.
    pub line_transitions: BTreeMap<Label, BTreeMap<Label, usize>>,
    /// The sum of the `charge` of every changed line, exactly.
    pub charges_moved: Money,
    /// The rules that newly fire, stop firing or fire with another outcome
    /// on some line, most lines first: see [`RuleChange`].
    pub by_rule: Vec<RuleChange>,
    /// Changed lines by payer, policy and procedure.
    pub by_payer: Vec<Group>,
    /// See [`Impact::by_payer`]; the policy that decided the line after the
    /// change, else before it (where several policies applied to the claim,
    /// each whose rules fired on the line on that side).
    pub by_policy: Vec<Group>,
    /// See [`Impact::by_payer`].
    pub by_procedure: Vec<Group>,
}

/// A rule whose firing changed on some lines.
///
/// A line counts here when the rule fires on it on one side only, or on both
/// with another outcome (action, CARC or RARC: a rule whose `deny` became
/// `review` fires on the same lines as before), whether or not the line's
/// decision changed: a rule can newly fire on a line another rule already
/// denied. Money moves only where the decision changed, so
/// `changed_lines` and `charges` count those lines alone, and the examples
/// are those lines first.
#[derive(Debug, Clone, Serialize)]
pub struct RuleChange {
    /// The policy the rule belongs to.
    pub policy: String,
    /// The rule's id.
    pub rule: String,
    /// Lines it fires on now and did not before.
    pub newly_fires: usize,
    /// Lines it fired on before and does not now.
    pub stops_firing: usize,
    /// Lines it fires on before and after, with another action, CARC or
    /// RARC after.
    pub changes_outcome: usize,
    /// Of the lines counted in `newly_fires`, `stops_firing` and
    /// `changes_outcome`, those whose decision changed.
    pub changed_lines: usize,
    /// The charges of the lines counted in `changed_lines`.
    pub charges: Money,
    /// The rule's text in the base, when it differs from the candidate's (or
    /// the rule is only in the base).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_before: Option<String>,
    /// The rule's text in the candidate, when it differs from the base's (or
    /// the rule is new).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_after: Option<String>,
    /// A few of the lines: those whose decision changed, then (when there
    /// are fewer than [`EXAMPLES_PER_RULE`] of them) the others.
    pub examples: Vec<Example>,
}

/// One changed line, for a reader to look at.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    /// The claim's id.
    pub claim: String,
    /// The claim's 1-based position in the input.
    pub record: usize,
    /// The line number.
    pub line: u32,
    /// The line's procedure code.
    pub procedure: String,
    /// The line's decision before.
    pub before: Label,
    /// The line's decision after.
    pub after: Label,
    /// The rules that fired before.
    pub rules_before: Vec<String>,
    /// The rules that fire after.
    pub rules_after: Vec<String>,
    /// The rules that fire on both sides with another outcome, with both
    /// outcomes (not written when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outcomes: Vec<OutcomeChange>,
}

/// A rule that fires on a line on both sides with another outcome.
#[derive(Debug, Clone, Serialize)]
pub struct OutcomeChange {
    /// The rule's id.
    pub rule: String,
    /// Its outcome before: the action, the CARC and the RARCs
    /// (`deny CO-151 N640`).
    pub before: String,
    /// Its outcome after, as `before`.
    pub after: String,
}

/// Changed claims and lines sharing a key (a payer, a policy, a procedure).
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// The payer id, policy id or procedure code.
    pub key: String,
    /// Changed claims with a changed line under this key.
    pub claims: usize,
    /// Changed lines under this key.
    pub lines: usize,
    /// Their charges.
    pub charges: Money,
    /// The first few of its changed lines ([`EXAMPLES_PER_RULE`]), each
    /// with both decisions and the rules that fired on each side.
    pub examples: Vec<Example>,
}

/// Replays claims against two policy sets and compares the answers: see the
/// module documentation. `prior` claims are loaded into both histories first,
/// as paid history.
pub struct Replay {
    base: Engine,
    candidate: Engine,
    impact: Impact,
    rules: RuleTexts,
    groups: [BTreeMap<String, Tally>; 3],
    /// Each rule's change so far, with examples of lines whose decision did
    /// not change kept aside until the end (they are shown only when the
    /// rule has too few lines whose decision did).
    by_rule: BTreeMap<(String, String), (RuleChange, Vec<Example>)>,
}

/// What a group has counted so far: the records of its changed claims, its
/// changed lines and their charges.
type Tally = (BTreeSet<usize>, usize, Money, Vec<Example>);

/// The source text of every rule of both sides, by policy and rule id.
#[derive(Default)]
struct RuleTexts {
    base: BTreeMap<(String, String), String>,
    candidate: BTreeMap<(String, String), String>,
}

fn texts(policies: &Policies) -> BTreeMap<(String, String), String> {
    policies
        .iter()
        .flat_map(|p| {
            p.rules
                .iter()
                .map(move |r| ((p.id.to_string(), r.id.to_string()), r.source.clone()))
        })
        .collect()
}

impl Replay {
    /// A replay of the base policies against the candidate ones.
    pub fn new(base: Policies, candidate: Policies) -> Replay {
        let rules = RuleTexts {
            base: texts(&base),
            candidate: texts(&candidate),
        };
        Replay {
            base: Engine::new(base),
            candidate: Engine::new(candidate),
            impact: Impact::default(),
            rules,
            groups: Default::default(),
            by_rule: BTreeMap::new(),
        }
    }

    /// Loads a claim paid before the replay into both histories; `false` when
    /// other content is already stored under its id on either side (it is
    /// then skipped there).
    pub fn prior(&mut self, claim: &Claim) -> bool {
        let base = matches!(self.base.import(claim), Ok(Imported::Conflict));
        let candidate = matches!(self.candidate.import(claim), Ok(Imported::Conflict));
        !(base || candidate)
    }

    /// Replays the next claim of the input (`record`: its 1-based position),
    /// or its error record when it did not read.
    pub fn add(&mut self, record: usize, claim: Result<&Claim, &ClaimError>) {
        self.impact.claims += 1;
        let Ok(claim) = claim else {
            bump(&mut self.impact.claim_transitions, ERROR, ERROR);
            return;
        };
        let before = self.base.evaluate(claim, record);
        let after = self.candidate.evaluate(claim, record);
        let (b, a) = (claim_label(&before), claim_label(&after));
        bump(&mut self.impact.claim_transitions, b, a);
        let mut changed = b != a;
        for (k, line) in claim.lines.iter().enumerate() {
            self.impact.lines += 1;
            let lb = line_of(&before, k);
            let la = line_of(&after, k);
            let (lb_label, la_label) = (lb.0, la.0);
            bump(&mut self.impact.line_transitions, lb_label, la_label);
            let (outcomes_before, outcomes_after) = (lb.1, la.1);
            if lb_label == la_label && outcomes_before == outcomes_after {
                continue;
            }
            let rules_before: BTreeSet<&(String, String)> = outcomes_before.keys().collect();
            let rules_after: BTreeSet<&(String, String)> = outcomes_after.keys().collect();
            let other_outcome: Vec<(&(String, String), &RuleOutcome, &RuleOutcome)> =
                outcomes_before
                    .iter()
                    .filter_map(|(k, o)| {
                        let after = outcomes_after.get(k)?;
                        (after != o).then_some((k, o, after))
                    })
                    .collect();
            // A line whose reasons changed but not its decision moved no money
            // and is not a changed line; its rules still show in `by_rule`,
            // with no charge.
            let decision_changed = lb_label != la_label;
            let example = Example {
                claim: claim.id.to_string(),
                record,
                line: line.line,
                procedure: line.procedure.to_string(),
                before: lb_label,
                after: la_label,
                rules_before: rules_before.iter().map(|k| k.1.clone()).collect(),
                rules_after: rules_after.iter().map(|k| k.1.clone()).collect(),
                outcomes: other_outcome
                    .iter()
                    .map(|(k, b, a)| OutcomeChange {
                        rule: k.1.clone(),
                        before: describe(b),
                        after: describe(a),
                    })
                    .collect(),
            };
            let charge = line.charge.map(Money::of_f64).unwrap_or_default();
            if decision_changed {
                changed = true;
                self.impact.changed_lines += 1;
                self.impact.charges_moved += charge;
                let policies = match policies_of(&after, &rules_after) {
                    Some(p) => p,
                    None => policies_of(&before, &rules_before).unwrap_or_default(),
                };
                let keys = [
                    vec![claim.payer.to_string()],
                    policies,
                    vec![line.procedure.to_string()],
                ];
                for (g, keys) in keys.into_iter().enumerate() {
                    for key in keys {
                        if let Some(groups) = self.groups.get_mut(g) {
                            let entry = groups.entry(key).or_default();
                            entry.0.insert(record);
                            entry.1 += 1;
                            entry.2 += charge;
                            if entry.3.len() < EXAMPLES_PER_RULE {
                                entry.3.push(example.clone());
                            }
                        }
                    }
                }
            }
            let newly = rules_after
                .difference(&rules_before)
                .map(|&k| (k, Firing::Newly));
            let stops = rules_before
                .difference(&rules_after)
                .map(|&k| (k, Firing::Stops));
            let other = other_outcome
                .iter()
                .map(|&(k, _, _)| (k, Firing::Otherwise));
            for (key, firing) in newly.chain(stops).chain(other) {
                let (change, others) = self.rule_change(key);
                match firing {
                    Firing::Newly => change.newly_fires += 1,
                    Firing::Stops => change.stops_firing += 1,
                    Firing::Otherwise => change.changes_outcome += 1,
                }
                let examples = if decision_changed {
                    change.changed_lines += 1;
                    change.charges += charge;
                    &mut change.examples
                } else {
                    others
                };
                if examples.len() < EXAMPLES_PER_RULE {
                    examples.push(example.clone());
                }
            }
        }
        if changed {
            self.impact.changed_claims += 1;
        }
    }

    fn rule_change(&mut self, key: &(String, String)) -> &mut (RuleChange, Vec<Example>) {
        let (before, after) = (self.rules.base.get(key), self.rules.candidate.get(key));
        let differs = before != after;
        self.by_rule.entry(key.clone()).or_insert_with(|| {
            let change = RuleChange {
                policy: key.0.clone(),
                rule: key.1.clone(),
                newly_fires: 0,
                stops_firing: 0,
                changes_outcome: 0,
                changed_lines: 0,
                charges: Money::default(),
                text_before: before.filter(|_| differs).cloned(),
                text_after: after.filter(|_| differs).cloned(),
                examples: Vec::new(),
            };
            (change, Vec::new())
        })
    }

    /// The report.
    pub fn finish(mut self) -> Impact {
        let mut rules: Vec<RuleChange> = std::mem::take(&mut self.by_rule)
            .into_values()
            .map(|(mut change, others)| {
                let room = EXAMPLES_PER_RULE.saturating_sub(change.examples.len());
                change.examples.extend(others.into_iter().take(room));
                change
            })
            .collect();
        rules.sort_by(|a, b| {
            b.lines()
                .cmp(&a.lines())
                .then_with(|| (&a.policy, &a.rule).cmp(&(&b.policy, &b.rule)))
        });
        self.impact.by_rule = rules;
        let [payers, policies, procedures] = std::mem::take(&mut self.groups);
        self.impact.by_payer = groups(payers);
        self.impact.by_policy = groups(policies);
        self.impact.by_procedure = groups(procedures);
        self.impact
    }
}

impl Impact {
    /// Claims decided (not error records) on each side: before, after.
    pub fn decided(&self) -> (usize, usize) {
        let mut sides = (0, 0);
        for (from, row) in &self.claim_transitions {
            for (to, n) in row {
                if *from != ERROR {
                    sides.0 += n;
                }
                if *to != ERROR {
                    sides.1 += n;
                }
            }
        }
        sides
    }

    /// Lines that went from `from` to `to` (`*` for any decision).
    pub fn lines_between(&self, from: &str, to: &str) -> usize {
        self.line_transitions
            .iter()
            .filter(|(f, _)| from == "*" || **f == from)
            .flat_map(|(f, row)| row.iter().map(move |(t, n)| (*f, *t, *n)))
            .filter(|(f, t, _)| (to == "*" || *t == to) && f != t)
            .map(|(_, _, n)| n)
            .sum()
    }
}

fn groups(map: BTreeMap<String, Tally>) -> Vec<Group> {
    let mut out: Vec<Group> = map
        .into_iter()
        .map(|(key, (claims, lines, charges, examples))| Group {
            key,
            claims: claims.len(),
            lines,
            charges,
            examples,
        })
        .collect();
    out.sort_by(|a, b| b.lines.cmp(&a.lines).then_with(|| a.key.cmp(&b.key)));
    out
}

fn bump(matrix: &mut BTreeMap<Label, BTreeMap<Label, usize>>, from: Label, to: Label) {
    *matrix.entry(from).or_default().entry(to).or_default() += 1;
}

fn claim_label(outcome: &Outcome) -> Label {
    match outcome {
        Outcome::Decision(d) => d.decision.as_str(),
        Outcome::Error(_) => ERROR,
    }
}

/// The policies a changed line counts under in `by_policy`, from one side's
/// outcome (`None` for an error record): the decision's policy when one
/// policy applied to the claim; when several did, those whose rules fired on
/// the line (`fired`, by policy and rule), or the decision's first policy
/// when none fired.
fn policies_of(outcome: &Outcome, fired: &BTreeSet<&(String, String)>) -> Option<Vec<String>> {
    match outcome {
        Outcome::Decision(d) => {
            let mut of_rules: Vec<String> = Vec::new();
            if !d.policies.is_empty() {
                for (policy, _) in fired {
                    if of_rules.last() != Some(policy) {
                        of_rules.push(policy.clone());
                    }
                }
            }
            if of_rules.is_empty() {
                of_rules.push(d.policy.to_string());
            }
            Some(of_rules)
        }
        Outcome::Error(_) => None,
    }
}

/// How a rule's firing on a line differs between the sides.
enum Firing {
    /// After, not before.
    Newly,
    /// Before, not after.
    Stops,
    /// On both, with another outcome.
    Otherwise,
}

impl RuleChange {
    /// The lines counted under the rule: newly fired on, no longer, or
    /// with another outcome.
    pub fn lines(&self) -> usize {
        self.newly_fires + self.stops_firing + self.changes_outcome
    }
}

/// What a rule gives a line, as a remittance would carry it: the action,
/// the CARC and the RARCs, sorted (their order on a remittance means
/// nothing; the message is the policy's wording, not an outcome).
type RuleOutcome = (Action, Option<Arc<str>>, Vec<String>);

/// An outcome as a reader scans it: `deny CO-151 N640`.
fn describe((action, carc, rarcs): &RuleOutcome) -> String {
    let mut text = action.as_str().to_string();
    for code in carc
        .iter()
        .map(|c| &**c)
        .chain(rarcs.iter().map(String::as_str))
    {
        text.push(' ');
        text.push_str(code);
    }
    text
}

/// A line's decision on one side and the outcome of each rule that fired
/// on it, by policy and rule id.
fn line_of(outcome: &Outcome, k: usize) -> (Label, BTreeMap<(String, String), RuleOutcome>) {
    match outcome {
        Outcome::Decision(d) => match d.lines.get(k) {
            Some(line) => (
                line.decision.as_str(),
                line.reasons
                    .iter()
                    .map(|r| {
                        let key = (r.policy.to_string(), r.rule.to_string());
                        let mut rarcs = r.rarc.to_vec();
                        rarcs.sort_unstable();
                        (key, (r.action, r.carc.clone(), rarcs))
                    })
                    .collect(),
            ),
            // A void has no line decisions: its lines are `void`.
            None => (d.decision.as_str(), BTreeMap::new()),
        },
        Outcome::Error(_) => (ERROR, BTreeMap::new()),
    }
}

#[cfg(test)]
mod tests;
