//! `payer-rules explain RULE`: what a rule is for, where it is, what it checks.

use crate::stdio::{errln, outln};
use std::path::PathBuf;

use super::report::print_diagnostics;
use super::{EXIT_FAILED, EXIT_OK};
use payer_rules::internal::{Bound, CheckKind, Cond, Counting, Match, Rule, SiteScope};
use payer_rules::Policies;

/// Which earlier services a limit or interval counts, as the policy says it.
fn counted(m: &Match) -> String {
    let code = if m.per_code { " per code" } else { "" };
    let region = if m.per_region.is_some() {
        " per region"
    } else {
        ""
    };
    let site = match m.scope {
        None => "",
        Some(SiteScope::Strict) => " per site",
        Some(SiteScope::OrUnsited) => " per site or unsited",
    };
    let billed = if m.modifiers.is_any() {
        String::new()
    } else {
        format!(" with modifier {}", m.modifiers)
    };
    format!("{code}{region}{site}{billed}")
}

/// A limit of lines, units, charges or dates, as the policy says it; a
/// limit of dates counts the line's date, not the line (`dates`).
fn at_most(max: &dyn std::fmt::Display, of: &Counting, dates: bool) -> String {
    format!(
        "at most {max} per {}{}, this {} included",
        of.window,
        counted(&of.matching),
        if dates { "service's date" } else { "service" }
    )
}

fn describe(rule: &Rule) -> Vec<String> {
    rule.checks
        .iter()
        .map(|c| {
            let what = match &c.kind {
                CheckKind::Require(Cond::Within(limit)) => {
                    at_most(&limit.max, &limit.of, matches!(limit.max, Bound::Dates(_)))
                }
                CheckKind::Require(_) => "require its condition".to_string(),
                CheckKind::Always => "always, when the rule applies".to_string(),
                CheckKind::Limit { of, max } => at_most(max, of, false),
                CheckKind::Interval {
                    period, matching, ..
                } => format!(
                    "at least {period} since the last service{}",
                    counted(matching)
                ),
            };
            let a = &c.reason;
            let carc = a.carc.as_deref().unwrap_or("-");
            let rarc = if a.rarc.is_empty() {
                String::new()
            } else {
                format!(" [{}]", a.rarc.join(", "))
            };
            format!(
                "{what}; else {} {carc}{rarc}: {}",
                a.action.as_str(),
                a.message
            )
        })
        .collect()
}

/// Prints every rule with the id (in every loaded policy that has it).
pub fn run(policies: &[PathBuf], id: &str) -> u8 {
    let loaded = Policies::load(policies);
    let Some(set) = loaded.policies.as_ref() else {
        print_diagnostics(&loaded.diagnostics);
        return EXIT_FAILED;
    };
    // A library rule is part of every policy that imports it: show it once.
    // A policy loaded in several versions is named with its version.
    let mut shown: Vec<(&str, Vec<String>, &Rule)> = Vec::new();
    for policy in set.iter() {
        let versions = set.iter().filter(|p| p.id == policy.id).count();
        let name = if versions > 1 {
            format!("{} ({})", policy.id, policy.version)
        } else {
            policy.id.to_string()
        };
        for rule in policy.rules.iter().filter(|r| &*r.id == id) {
            match shown.iter_mut().find(|(at, _, _)| *at == &*rule.at) {
                Some((_, users, _)) => users.push(name.clone()),
                None => shown.push((&rule.at, vec![name.clone()], rule)),
            }
        }
    }
    let found = !shown.is_empty();
    for (_, users, rule) in shown {
        outln!("{} {}: {}", users.join(", "), rule.id, rule.title);
        outln!("  at {}", rule.at);
        for line in &rule.doc {
            outln!("  {line}");
        }
        for (i, check) in describe(rule).iter().enumerate() {
            outln!("  check {}: {check}", i + 1);
        }
        outln!();
        for line in rule.source.lines() {
            outln!("    {line}");
        }
    }
    if !found {
        errln!("no rule `{id}` in the loaded policies");
        return EXIT_FAILED;
    }
    EXIT_OK
}
