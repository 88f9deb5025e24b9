//! `payer-rules test`: runs the test cases beside policies.

use crate::stdio::{errln, out, outln};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use payer_rules::internal::{ast::ModuleKind, parse};
use payer_rules::tooling::{cases_for, run_cases_within, CaseResult, Coverage, Mismatch};

/// What `test` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Case files, policy files or directories.
    pub paths: Vec<PathBuf>,
    /// Print the per-rule coverage report.
    pub coverage: bool,
    /// Fail when a policy has a smaller percentage of its rules exercised.
    pub min_coverage: Option<f64>,
}

/// Case files named by `paths`: a `.cases.yaml` file itself, the case file beside
/// a `.policy` file, or every case file below a directory. Also the policy files
/// found in directories, to tell which have no cases at all.
fn case_files(paths: &[PathBuf]) -> std::io::Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut cases = Vec::new();
    let mut policies = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut cases, &mut policies)?;
        } else if path.to_string_lossy().ends_with(".cases.yaml") {
            cases.push(path.clone());
        } else if let Some(found) = cases_for(path) {
            cases.push(found);
        } else if !path.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("`{}` does not exist", path.display()),
            ));
        }
    }
    Ok((cases, policies))
}

fn walk(dir: &Path, cases: &mut Vec<PathBuf>, policies: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let is_cases = |p: &Path| p.to_string_lossy().ends_with(".cases.yaml");
    cases.extend(payer_rules::internal::files_below(dir, &is_cases)?);
    policies.extend(payer_rules::internal::files_below(
        dir,
        &payer_rules::internal::is_policy_file,
    )?);
    Ok(())
}

/// True when the file defines a `policy` (not a library), so it needs cases.
fn is_policy(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| {
        parse(&text)
            .file
            .module
            .is_some_and(|m| m.kind == ModuleKind::Policy)
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Expected (`-`) against actual (`+`), line by line, indented under the case.
fn diff(m: &Mismatch) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "          --- expected");
    let _ = writeln!(out, "          +++ actual");
    let diff = similar::TextDiff::from_lines(&m.expected, &m.actual);
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => '-',
            similar::ChangeTag::Insert => '+',
            similar::ChangeTag::Equal => ' ',
        };
        let _ = write!(out, "          {sign} {}", change.value());
        if change.missing_newline() {
            out.push('\n');
        }
    }
    out
}

fn print_case(r: &CaseResult) {
    if r.passed() {
        outln!("  ok    {}", r.name);
        return;
    }
    outln!("  FAIL  {}", r.name);
    // Failures of an expectation show in its diff; the others (the case as a
    // whole) are printed as they are.
    for f in &r.failures {
        if !r.mismatches.iter().any(|m| m.messages.contains(f)) {
            outln!("          {f}");
        }
    }
    for m in &r.mismatches {
        out!("{}", diff(m));
    }
}

/// A percentage rounded down, so that 99.6% never reads as 100%.
fn percent(c: &Coverage) -> String {
    format!("{}%", c.percent().floor())
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn print_coverage(policy_path: &Path, c: &Coverage, detail: bool) {
    outln!(
        "{} ({}): {} of {} exercised ({})",
        c.policy,
        policy_path.display(),
        c.exercised(),
        plural(c.rules.len(), "rule", "rules"),
        percent(c)
    );
    if !detail {
        return;
    }
    let width = c.rules.iter().map(|(r, _)| r.id.len()).max().unwrap_or(0);
    for (rule, cases) in &c.rules {
        outln!("  {:<width$}  {}", rule.id, plural(*cases, "case", "cases"));
    }
    let missing: Vec<String> = c
        .unexercised()
        .map(|r| format!("{} ({})", r.id, r.at))
        .collect();
    if missing.is_empty() {
        outln!("  not exercised: none");
    } else {
        outln!("  not exercised: {}", missing.join(", "));
    }
}

/// Runs the cases; prints a line per case, a diff per failure and, when asked,
/// coverage; exit 1 on any failure or a policy below the minimum coverage.
pub fn run(options: &Options) -> u8 {
    let (files, policies) = match case_files(&options.paths) {
        Ok(f) => f,
        Err(e) => {
            errln!("cannot read test cases: {e}");
            return EXIT_USAGE;
        }
    };
    if files.is_empty() {
        errln!("no test cases (`*.cases.yaml`) found");
        return EXIT_USAGE;
    }
    let want_coverage = options.coverage || options.min_coverage.is_some();
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut status = EXIT_OK;
    let mut coverage: Vec<(PathBuf, Coverage)> = Vec::new();
    let mut tested: Vec<PathBuf> = Vec::new();
    for file in files {
        match run_cases_within(&file, &options.paths) {
            Err(e) => {
                errln!("error: {e}");
                status = EXIT_FAILED;
            }
            // A case file with no cases tests nothing: that is the README's
            // "no cases found" (exit 2), not a pass.
            Ok(report) if report.cases.is_empty() => {
                errln!(
                    "error: `{}` has no cases: add at least one under `cases:`",
                    file.display()
                );
                status = EXIT_USAGE;
            }
            Ok(report) => {
                outln!("{}", file.display());
                for r in &report.cases {
                    if r.passed() {
                        passed += 1;
                    } else {
                        failed += 1;
                    }
                    print_case(r);
                }
                for c in report.coverage() {
                    coverage.push((report.policy_path.clone(), c));
                }
                tested.push(report.policy_path);
            }
        }
    }
    outln!("{passed} passed, {failed} failed");
    if failed > 0 && status != EXIT_USAGE {
        status = EXIT_FAILED;
    }
    if !want_coverage {
        return status;
    }
    let untested: Vec<&PathBuf> = policies
        .iter()
        .filter(|p| !tested.iter().any(|t| same_file(p, t)) && is_policy(p))
        .collect();
    outln!();
    outln!("coverage (cases that make each rule fire):");
    for (path, c) in &coverage {
        print_coverage(path, c, options.coverage);
    }
    for path in &untested {
        outln!(
            "{}: no test cases (no `{}` beside it): 0% of its rules exercised",
            path.display(),
            path.with_extension("cases.yaml")
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
    }
    if let Some(min) = options.min_coverage {
        let mut below: Vec<String> = coverage
            .iter()
            .filter(|(_, c)| c.percent() < min)
            .map(|(_, c)| format!("{} ({})", c.policy, percent(c)))
            .collect();
        below.extend(
            untested
                .iter()
                .map(|p| format!("{} (no cases)", p.display())),
        );
        if below.is_empty() {
            outln!("every policy has at least {min}% of its rules exercised");
        } else {
            outln!("below the minimum coverage of {min}%: {}", below.join(", "));
            status = EXIT_FAILED;
        }
    }
    status
}
