//! Policy test cases: claims with the decisions a policy must give them.
//!
//! A case file sits beside its policy (`medicare-tpi.policy` ->
//! `medicare-tpi.cases.yaml`). Each case starts from an empty history, loads its
//! `history` claims as allowed services, evaluates its `claims` in order, and
//! compares the outcomes with `expect`. Only what an expectation names is
//! compared, so a case states exactly what it is about.
//!
//! An expectation that does not hold comes back as a [`Mismatch`]: the expected
//! entry and the actual outcome written in the case file's own shape, so that a
//! line diff of the two shows what differs. A [`FileReport`] also lists the rules
//! of the policy the cases load (imported ones included), for coverage.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::claims::{read_claims_str, Action, InputFormat, Outcome};
use crate::eval::Engine;
use crate::policies::Policies;

/// A file of test cases.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// The policy file the cases exercise, relative to the case file; by default
    /// the `.policy` file of the same stem.
    #[serde(default)]
    pub policy: Option<String>,
    /// The cases.
    pub cases: Vec<Case>,
}

/// One test case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What the case shows; printed on failure.
    pub name: String,
    /// Claims already adjudicated: their lines count as allowed history.
    #[serde(default)]
    pub history: Vec<serde_json::Value>,
    /// Claims evaluated in order (contract JSON/YAML shape).
    pub claims: Vec<serde_json::Value>,
    /// What must come out; at least one expectation.
    pub expect: Vec<Expect>,
}

/// The expected outcome of one claim.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The claim's id.
    pub id: String,
    /// The claim decision: `allow`, `review`, `deny` or `partial`.
    #[serde(default)]
    pub decision: Option<String>,
    /// An error kind instead of a decision: `invalid_claim` or `no_policy`.
    #[serde(default)]
    pub error: Option<String>,
    /// Expected line decisions; lines not listed are not compared.
    #[serde(default)]
    pub lines: Vec<ExpectLine>,
}

/// The expected decision of one line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectLine {
    /// The line number.
    pub line: u32,
    /// The line decision.
    #[serde(default)]
    pub decision: Option<Action>,
    /// The ids of the rules that fired, in policy order (exactly these).
    #[serde(default)]
    pub rules: Option<Vec<String>>,
    /// The CARCs of the reasons, in order.
    #[serde(default)]
    pub carc: Option<Vec<String>>,
    /// The RARCs of all reasons, in order.
    #[serde(default)]
    pub rarc: Option<Vec<String>>,
}

/// The result of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// What did not match; empty when the case passed.
    pub failures: Vec<String>,
    /// The expectations that did not hold, as expected and actual text.
    pub mismatches: Vec<Mismatch>,
    /// How often each rule fired in the case.
    pub fired: BTreeMap<String, usize>,
    /// How often each rule fired in the case, by its policy and id: what
    /// coverage counts, since two policies of a payer may name a rule alike.
    pub fired_in: BTreeMap<(String, String), usize>,
}

/// An expectation that did not hold: the `expect` entry as the case file has it
/// and the actual outcome written in the same shape (the same keys), one YAML
/// line per line decision, so that a line diff shows the difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The claim's id.
    pub id: String,
    /// What differs, one message each (also in [`CaseResult::failures`]).
    pub messages: Vec<String>,
    /// The expectation.
    pub expected: String,
    /// What the policy did.
    pub actual: String,
}

/// A rule of a tested policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRef {
    /// The policy whose claims the rule decides.
    pub policy: String,
    /// The rule id.
    pub id: String,
    /// `path:line:col` of the rule (in a library for an imported rule).
    pub at: String,
}

/// Everything a case file gave: its policy, the policy's rules and the cases.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The policy file the cases exercise.
    pub policy_path: PathBuf,
    /// Every rule of every policy the file loads, imported rules included, in
    /// evaluation order.
    pub rules: Vec<RuleRef>,
    /// The result of each case, in file order.
    pub cases: Vec<CaseResult>,
}

/// How many cases made each rule of one policy fire.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// The policy id.
    pub policy: String,
    /// Each rule, in evaluation order, with the number of cases that made it fire.
    pub rules: Vec<(RuleRef, usize)>,
}

impl Coverage {
    /// How many rules some case made fire.
    pub fn exercised(&self) -> usize {
        self.rules.iter().filter(|(_, n)| *n > 0).count()
    }

    /// The rules no case makes fire.
    pub fn unexercised(&self) -> impl Iterator<Item = &RuleRef> {
        self.rules.iter().filter(|(_, n)| *n == 0).map(|(r, _)| r)
    }

    /// The percentage of rules exercised; 100 for a policy without rules.
    pub fn percent(&self) -> f64 {
        if self.rules.is_empty() {
            100.0
        } else {
            100.0 * self.exercised() as f64 / self.rules.len() as f64
        }
    }
}

impl FileReport {
    /// Per policy, how many of the cases made each of its rules fire.
    pub fn coverage(&self) -> Vec<Coverage> {
        let mut out: Vec<Coverage> = Vec::new();
        for rule in &self.rules {
            let cases = self
                .cases
                .iter()
                .filter(|c| {
                    c.fired_in
                        .get(&(rule.policy.clone(), rule.id.clone()))
                        .is_some_and(|n| *n > 0)
                })
                .count();
            match out.iter_mut().find(|c| c.policy == rule.policy) {
                Some(c) => c.rules.push((rule.clone(), cases)),
                None => out.push(Coverage {
                    policy: rule.policy.clone(),
                    rules: vec![(rule.clone(), cases)],
                }),
            }
        }
        out
    }
}

impl CaseResult {
    /// True when nothing failed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// A case file that could not be read or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaseFileError {
    /// Unreadable file.
    #[error("cannot read `{path}`: {message}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// Not a case file.
    #[error("`{path}` is not a case file: {message}")]
    Format {
        /// The file.
        path: String,
        /// What the YAML reader said.
        message: String,
    },
    /// The policy does not load.
    #[error("the policy `{path}` of `{cases}` does not load: {message}")]
    Policy {
        /// The policy file.
        path: String,
        /// The case file.
        cases: String,
        /// The first diagnostics.
        message: String,
    },
}

/// The case file beside a policy file, if there is one.
pub fn cases_for(policy: &Path) -> Option<PathBuf> {
    let path = policy.with_extension("cases.yaml");
    path.exists().then_some(path)
}

/// Reads a case file, loads its policy and runs every case.
pub fn run_file(path: &Path) -> Result<Vec<CaseResult>, CaseFileError> {
    run_cases(path).map(|report| report.cases)
}

/// Reads a case file, loads its policy and runs every case; with the policy's
/// rules, for coverage.
pub fn run_cases(path: &Path) -> Result<FileReport, CaseFileError> {
    run_cases_within(path, &[])
}

/// [`run_cases`] with more directories in the policy tree its policy's
/// imports may read from (`test` passes the paths it was given).
pub fn run_cases_within(path: &Path, tree_too: &[PathBuf]) -> Result<FileReport, CaseFileError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| CaseFileError::Io {
        path: name.clone(),
        message: e.to_string(),
    })?;
    let file: CaseFile = serde_yaml_ng::from_str(&text).map_err(|e| CaseFileError::Format {
        path: name.clone(),
        message: e.to_string(),
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let policy_path = match &file.policy {
        Some(p) => dir.join(p),
        None => {
            let stem = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .trim_end_matches(".cases.yaml");
            dir.join(format!("{stem}.policy"))
        }
    };
    let loaded = Policies::load_within(std::slice::from_ref(&policy_path), tree_too);
    let Some(policies) = loaded.policies else {
        let message = loaded
            .diagnostics
            .iter()
            .take(3)
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(CaseFileError::Policy {
            path: policy_path.display().to_string(),
            cases: name,
            message,
        });
    };
    let rules = policies
        .iter()
        .flat_map(|p| {
            p.rules.iter().map(|r| RuleRef {
                policy: p.id.to_string(),
                id: r.id.to_string(),
                at: r.at.to_string(),
            })
        })
        .collect();
    Ok(FileReport {
        policy_path,
        rules,
        cases: file
            .cases
            .iter()
            .map(|case| run_case(case, &policies))
            .collect(),
    })
}

fn claims_of(
    values: &[serde_json::Value],
) -> Vec<Result<crate::claims::Claim, crate::claims::ClaimError>> {
    let text = serde_json::Value::Array(values.to_vec()).to_string();
    read_claims_str(&text, InputFormat::JsonArray)
}

/// Runs one case against loaded policies.
pub fn run_case(case: &Case, policies: &Policies) -> CaseResult {
    let mut result = CaseResult {
        name: case.name.clone(),
        failures: Vec::new(),
        mismatches: Vec::new(),
        fired: BTreeMap::new(),
        fired_in: BTreeMap::new(),
    };
    if case.expect.is_empty() {
        result
            .failures
            .push("the case expects nothing: add at least one `expect` entry".into());
    }
    let mut engine = Engine::new(policies.clone());
    for (i, claim) in claims_of(&case.history).into_iter().enumerate() {
        match claim {
            Ok(claim) => engine.record_prior(&claim),
            Err(e) => result
                .failures
                .push(format!("history[{i}] is not a valid claim: {e}")),
        }
    }
    let mut outcomes: BTreeMap<String, Outcome> = BTreeMap::new();
    for (i, claim) in claims_of(&case.claims).into_iter().enumerate() {
        let outcome = match claim {
            Ok(claim) => engine.evaluate(&claim, i + 1),
            Err(e) => Outcome::Error(e.into()),
        };
        if let Outcome::Decision(d) = &outcome {
            for r in d.lines.iter().flat_map(|l| &l.reasons) {
                *result.fired.entry(r.rule.to_string()).or_default() += 1;
                *result
                    .fired_in
                    .entry((r.policy.to_string(), r.rule.to_string()))
                    .or_default() += 1;
            }
        }
        let id = match &outcome {
            Outcome::Decision(d) => d.id.to_string(),
            Outcome::Error(e) => e.id.clone().unwrap_or_else(|| format!("#{}", i + 1)),
        };
        if outcomes.insert(id.clone(), outcome).is_some() {
            result.failures.push(format!(
                "{id}: two claims of the case have this id; give each its own"
            ));
        }
    }
    for expect in &case.expect {
        let actual = outcomes.get(&expect.id);
        let before = result.failures.len();
        compare(expect, actual, &mut result.failures);
        if result.failures.len() > before {
            result.mismatches.push(Mismatch {
                id: expect.id.clone(),
                messages: result.failures.get(before..).unwrap_or_default().to_vec(),
                expected: render_expected(expect),
                actual: render_actual(expect, actual),
            });
        }
    }
    result
}

/// `[a, b]`.
fn flow_list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

/// An expected line decision as the case file writes it: `{line: 1, ...}`.
fn render_line(want: &ExpectLine, got: Option<&crate::claims::LineDecision>) -> String {
    let mut keys = vec![format!("line: {}", want.line)];
    let Some(got) = got else {
        if let Some(d) = want.decision {
            keys.push(format!("decision: {}", d.as_str()));
        }
        for (name, list) in [
            ("rules", &want.rules),
            ("carc", &want.carc),
            ("rarc", &want.rarc),
        ] {
            if let Some(list) = list {
                keys.push(format!("{name}: {}", flow_list(list)));
            }
        }
        return format!("{{{}}}", keys.join(", "));
    };
    if want.decision.is_some() {
        keys.push(format!("decision: {}", got.decision.as_str()));
    }
    if want.rules.is_some() {
        let rules: Vec<String> = got.reasons.iter().map(|r| r.rule.to_string()).collect();
        keys.push(format!("rules: {}", flow_list(&rules)));
    }
    if want.carc.is_some() {
        let carc: Vec<String> = got
            .reasons
            .iter()
            .filter_map(|r| r.carc.as_deref().map(str::to_string))
            .collect();
        keys.push(format!("carc: {}", flow_list(&carc)));
    }
    if want.rarc.is_some() {
        let rarc: Vec<String> = got
            .reasons
            .iter()
            .flat_map(|r| r.rarc.iter().cloned())
            .collect();
        keys.push(format!("rarc: {}", flow_list(&rarc)));
    }
    format!("{{{}}}", keys.join(", "))
}

/// The expectation, one key per line.
fn render_expected(expect: &Expect) -> String {
    let mut out = format!("- id: {}\n", expect.id);
    if let Some(d) = &expect.decision {
        out.push_str(&format!("  decision: {d}\n"));
    }
    if let Some(e) = &expect.error {
        out.push_str(&format!("  error: {e}\n"));
    }
    if !expect.lines.is_empty() {
        out.push_str("  lines:\n");
        for line in &expect.lines {
            out.push_str(&format!("    - {}\n", render_line(line, None)));
        }
    }
    out
}

/// The actual outcome with the keys the expectation has.
fn render_actual(expect: &Expect, actual: Option<&Outcome>) -> String {
    let mut out = format!("- id: {}\n", expect.id);
    match actual {
        None => out.push_str("  # no claim with this id was evaluated\n"),
        Some(Outcome::Error(e)) => {
            out.push_str(&format!(
                "  error: {}  # {}\n",
                e.error.kind.as_str(),
                e.error.message
            ));
        }
        Some(Outcome::Decision(d)) => {
            if expect.decision.is_some() || expect.error.is_some() {
                out.push_str(&format!("  decision: {}\n", d.decision.as_str()));
            }
            if !expect.lines.is_empty() {
                out.push_str("  lines:\n");
                for want in &expect.lines {
                    match d.lines.iter().find(|l| l.line == want.line) {
                        Some(got) => {
                            out.push_str(&format!("    - {}\n", render_line(want, Some(got))))
                        }
                        None => out
                            .push_str(&format!("    - {{line: {}}}  # no such line\n", want.line)),
                    }
                }
            }
        }
    }
    out
}

fn compare(expect: &Expect, actual: Option<&Outcome>, failures: &mut Vec<String>) {
    let id = &expect.id;
    let Some(actual) = actual else {
        failures.push(format!("{id}: no claim with this id was evaluated"));
        return;
    };
    match actual {
        Outcome::Error(e) => {
            let kind = e.error.kind.as_str();
            match &expect.error {
                Some(want) if want == kind => {}
                Some(want) => failures.push(format!(
                    "{id}: expected error `{want}`, got `{kind}`: {}",
                    e.error.message
                )),
                None => failures.push(format!(
                    "{id}: expected a decision, got error `{kind}`: {}",
                    e.error.message
                )),
            }
        }
        Outcome::Decision(d) => {
            if let Some(want) = &expect.error {
                failures.push(format!(
                    "{id}: expected error `{want}`, got decision `{}`",
                    d.decision.as_str()
                ));
            }
            if let Some(want) = &expect.decision {
                if want != d.decision.as_str() {
                    failures.push(format!(
                        "{id}: expected decision `{want}`, got `{}`",
                        d.decision.as_str()
                    ));
                }
            }
            for want in &expect.lines {
                let Some(line) = d.lines.iter().find(|l| l.line == want.line) else {
                    failures.push(format!("{id} line {}: no such line", want.line));
                    continue;
                };
                let at = format!("{id} line {}", want.line);
                if let Some(decision) = want.decision {
                    if decision != line.decision {
                        failures.push(format!(
                            "{at}: expected `{}`, got `{}`",
                            decision.as_str(),
                            line.decision.as_str()
                        ));
                    }
                }
                let got_rules: Vec<String> =
                    line.reasons.iter().map(|r| r.rule.to_string()).collect();
                diff_list(&at, "rules", want.rules.as_ref(), &got_rules, failures);
                let got_carc: Vec<String> = line
                    .reasons
                    .iter()
                    .filter_map(|r| r.carc.as_deref().map(str::to_string))
                    .collect();
                diff_list(&at, "carc", want.carc.as_ref(), &got_carc, failures);
                let got_rarc: Vec<String> = line
                    .reasons
                    .iter()
                    .flat_map(|r| r.rarc.iter().cloned())
                    .collect();
                diff_list(&at, "rarc", want.rarc.as_ref(), &got_rarc, failures);
            }
        }
    }
}

fn diff_list(
    at: &str,
    what: &str,
    want: Option<&Vec<String>>,
    got: &[String],
    failures: &mut Vec<String>,
) {
    if let Some(want) = want {
        if want.as_slice() != got {
            failures.push(format!(
                "{at}: expected {what} [{}], got [{}]",
                want.join(", "),
                got.join(", ")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "policy t { payer p version \"1\" effective 2024-01-01.. source \"s\"\n codes tpi = cpt 20552\n rule R { when line.procedure in tpi and line.units > 1 deny CO-151 rarc N362 } }";

    fn case(yaml: &str) -> CaseResult {
        let case: Case = serde_yaml_ng::from_str(yaml).unwrap_or_else(|e| panic!("{e}"));
        let policies = Policies::from_source("t.policy", POLICY)
            .policies
            .unwrap_or_default();
        run_case(&case, &policies)
    }

    const CLAIM: &str = "claims: [{id: C, payer: p, patient: {id: P}, diagnoses: [M79.18], lines: [{date_of_service: 2025-01-01, procedure: '20552', units: 2}]}]\n";

    #[test]
    fn a_matching_expectation_passes() {
        let r = case(&format!("name: ok\n{CLAIM}expect: [{{id: C, decision: deny, lines: [{{line: 1, rules: [R], carc: [CO-151], rarc: [N362]}}]}}]"));
        assert!(r.passed(), "{:?}", r.failures);
        assert_eq!(r.fired.get("R"), Some(&1));
    }

    #[test]
    fn every_mismatch_is_reported() {
        let r = case(&format!(
            "name: bad\n{CLAIM}expect: [{{id: C, decision: allow, lines: [{{line: 1, decision: allow, rules: [], carc: [CO-1]}}, {{line: 2}}]}}, {{id: Z}}]"
        ));
        assert_eq!(r.failures.len(), 6, "{:#?}", r.failures);
        assert!(r.failures[0].contains("expected decision `allow`, got `deny`"));
        assert!(r
            .failures
            .iter()
            .any(|f| f.contains("expected rules [], got [R]")));
        assert!(r
            .failures
            .iter()
            .any(|f| f.contains("Z: no claim with this id")));
    }

    #[test]
    fn a_mismatch_renders_expected_and_actual_in_the_same_shape() {
        let r = case(&format!(
            "name: bad\n{CLAIM}expect: [{{id: C, decision: allow, lines: [{{line: 1, rules: [], rarc: [N362]}}, {{line: 2, decision: deny}}]}}, {{id: Z, error: no_policy}}]"
        ));
        assert_eq!(r.mismatches.len(), 2, "{:#?}", r.mismatches);
        let m = &r.mismatches[0];
        assert_eq!(
            m.expected,
            "- id: C\n  decision: allow\n  lines:\n    - {line: 1, rules: [], rarc: [N362]}\n    - {line: 2, decision: deny}\n"
        );
        assert_eq!(
            m.actual,
            "- id: C\n  decision: deny\n  lines:\n    - {line: 1, rules: [R], rarc: [N362]}\n    - {line: 2}  # no such line\n"
        );
        assert_eq!(m.messages.len(), 3, "{:?}", m.messages);
        assert_eq!(
            r.mismatches[1].actual,
            "- id: Z\n  # no claim with this id was evaluated\n"
        );
        // Every failure of an expectation belongs to its mismatch.
        let explained: usize = r.mismatches.iter().map(|m| m.messages.len()).sum();
        assert_eq!(explained, r.failures.len());
    }

    #[test]
    fn coverage_counts_the_cases_that_make_each_rule_fire() {
        let fired = |rule: &str| CaseResult {
            name: rule.into(),
            failures: Vec::new(),
            mismatches: Vec::new(),
            fired: [(rule.to_string(), 2)].into_iter().collect(),
            fired_in: [(("t".to_string(), rule.to_string()), 2)]
                .into_iter()
                .collect(),
        };
        let rule = |id: &str| RuleRef {
            policy: "t".into(),
            id: id.into(),
            at: format!("t.policy:{id}"),
        };
        // Another policy's rule of the same name, which no case fired.
        let other = RuleRef {
            policy: "u".into(),
            id: "A".into(),
            at: "u.policy:A".into(),
        };
        let report = FileReport {
            policy_path: PathBuf::from("t.policy"),
            rules: vec![rule("A"), rule("B"), rule("C"), other],
            cases: vec![fired("A"), fired("A"), fired("C")],
        };
        let coverage = report.coverage();
        assert_eq!(coverage.len(), 2);
        assert_eq!(coverage[1].policy, "u");
        assert_eq!(
            coverage[1].exercised(),
            0,
            "a rule counts in its own policy"
        );
        let c = &coverage[0];
        let counts: Vec<(&str, usize)> = c.rules.iter().map(|(r, n)| (r.id.as_str(), *n)).collect();
        assert_eq!(counts, vec![("A", 2), ("B", 0), ("C", 1)]);
        assert_eq!(c.exercised(), 2);
        assert_eq!(
            c.unexercised().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["B"]
        );
        assert!((c.percent() - 200.0 / 3.0).abs() < 1e-9);
        let empty = Coverage {
            policy: "e".into(),
            rules: Vec::new(),
        };
        assert_eq!(empty.percent(), 100.0);
    }

    #[test]
    fn a_case_without_expectations_fails() {
        let r = case(&format!("name: empty\n{CLAIM}expect: []"));
        assert!(!r.passed());
    }
}
