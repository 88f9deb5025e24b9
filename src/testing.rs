//! Policy test cases: claims with the decisions a policy must give them.
//!
//! A case file sits beside its policy (`medicare-tpi.policy` ->
//! `medicare-tpi.cases.yaml`). Each case starts from an empty history, loads its
//! `history` claims as allowed services, evaluates its `claims` in order, and
//! compares the outcomes with `expect`. Only what an expectation names is
//! compared, so a case states exactly what it is about.

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
    /// How often each rule fired in the case.
    pub fired: BTreeMap<String, usize>,
}

impl CaseResult {
    /// True when nothing failed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// A case file that could not be read or run.
#[derive(Debug, thiserror::Error)]
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

/// What running a case file found: each case's result, and the rules of the
/// policy (its imported rules included) so that unexercised ones can be named.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// One result per case, in file order.
    pub results: Vec<CaseResult>,
    /// The ids of the policy's rules, in policy order.
    pub rules: Vec<String>,
}

impl FileReport {
    /// The rules that no case made fire, in policy order.
    pub fn unexercised(&self) -> Vec<&str> {
        self.rules
            .iter()
            .filter(|id| !self.results.iter().any(|r| r.fired.contains_key(*id)))
            .map(String::as_str)
            .collect()
    }
}

/// Reads a case file, loads its policy and runs every case.
pub fn run_file(path: &Path) -> Result<Vec<CaseResult>, CaseFileError> {
    run_file_report(path).map(|report| report.results)
}

/// Like [`run_file`], and also says which rules the policy has.
pub fn run_file_report(path: &Path) -> Result<FileReport, CaseFileError> {
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
    let loaded = Policies::load(std::slice::from_ref(&policy_path));
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
    let mut rules: Vec<String> = Vec::new();
    for rule in policies.iter().flat_map(|p| &p.rules) {
        if !rules.contains(&rule.id) {
            rules.push(rule.id.clone());
        }
    }
    Ok(FileReport {
        results: file
            .cases
            .iter()
            .map(|case| run_case(case, &policies))
            .collect(),
        rules,
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
        fired: BTreeMap::new(),
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
                *result.fired.entry(r.rule.clone()).or_default() += 1;
            }
        }
        let id = match &outcome {
            Outcome::Decision(d) => d.id.clone(),
            Outcome::Error(e) => e.id.clone().unwrap_or_else(|| format!("#{}", i + 1)),
        };
        if outcomes.insert(id.clone(), outcome).is_some() {
            result.failures.push(format!(
                "{id}: two claims of the case have this id; give each its own"
            ));
        }
    }
    for expect in &case.expect {
        compare(expect, outcomes.get(&expect.id), &mut result.failures);
    }
    result
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
                let got_rules: Vec<String> = line.reasons.iter().map(|r| r.rule.clone()).collect();
                diff_list(&at, "rules", want.rules.as_ref(), &got_rules, failures);
                let got_carc: Vec<String> =
                    line.reasons.iter().filter_map(|r| r.carc.clone()).collect();
                diff_list(&at, "carc", want.carc.as_ref(), &got_carc, failures);
                let got_rarc: Vec<String> =
                    line.reasons.iter().flat_map(|r| r.rarc.clone()).collect();
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
    fn a_report_names_the_rules_no_case_fires() {
        let report = FileReport {
            results: vec![case(&format!("name: ok\n{CLAIM}expect: [{{id: C}}]"))],
            rules: vec!["R".into(), "S".into()],
        };
        assert_eq!(report.unexercised(), ["S"]);
    }

    #[test]
    fn a_case_without_expectations_fails() {
        let r = case(&format!("name: empty\n{CLAIM}expect: []"));
        assert!(!r.passed());
    }
}
