//! The impact report's four formats. Each shows the same figures: the totals,
//! the line and claim transition matrices, the rules whose firing changed
//! (with examples and the rule text that differs) and the changed lines by
//! payer, policy and procedure.

use std::collections::BTreeMap;
use std::fmt::Write;

use payer_rules::tooling::{Example, Group, Impact, RuleChange};
use serde::Serialize;

/// What the two sides were, as the user named them.
pub struct Labels<'a> {
    /// The base policies.
    pub base: &'a str,
    /// The candidate policies.
    pub candidate: &'a str,
}

/// Decisions in the order the matrices list them.
const ORDER: [&str; 6] = ["allow", "partial", "review", "deny", "void", "error"];

/// The labels that occur in a matrix, in [`ORDER`].
fn axes(matrix: &BTreeMap<&'static str, BTreeMap<&'static str, usize>>) -> Vec<&'static str> {
    ORDER
        .iter()
        .copied()
        .filter(|l| matrix.contains_key(l) || matrix.values().any(|row| row.contains_key(l)))
        .collect()
}

fn cell(
    matrix: &BTreeMap<&'static str, BTreeMap<&'static str, usize>>,
    from: &str,
    to: &str,
) -> usize {
    matrix
        .get(from)
        .and_then(|row| row.get(to))
        .copied()
        .unwrap_or(0)
}

/// The JSON report: the two sides' names and the report's fields.
pub fn json(impact: &Impact, labels: &Labels<'_>) -> Result<String, serde_json::Error> {
    #[derive(Serialize)]
    struct Report<'a> {
        base: &'a str,
        candidate: &'a str,
        #[serde(flatten)]
        impact: &'a Impact,
    }
    let report = Report {
        base: labels.base,
        candidate: labels.candidate,
        impact,
    };
    // Serializing these plain types into memory does not fail; were it to,
    // the caller says so rather than writing an empty report.
    let mut text = serde_json::to_string_pretty(&report)?;
    text.push('\n');
    Ok(text)
}

/// The rules of an example line that fire with another outcome, both
/// outcomes: ` (K: deny CO-151 N640 -> review CO-252 N706)`; empty when none.
fn outcomes(e: &Example, arrow: &str) -> String {
    if e.outcomes.is_empty() {
        return String::new();
    }
    let each: Vec<String> = e
        .outcomes
        .iter()
        .map(|o| format!("{}: {} {arrow} {}", o.rule, o.before, o.after))
        .collect();
    format!(" ({})", each.join("; "))
}

fn rule_line(r: &RuleChange) -> String {
    let mut parts = Vec::new();
    if r.newly_fires > 0 {
        parts.push(format!("newly fires on {} lines", r.newly_fires));
    }
    if r.stops_firing > 0 {
        parts.push(format!("stops firing on {} lines", r.stops_firing));
    }
    if r.changes_outcome > 0 {
        parts.push(format!(
            "fires with another outcome on {} lines",
            r.changes_outcome
        ));
    }
    // Lines whose decision stayed (another rule already decided them) moved
    // no money: the charges shown are those of the others.
    if r.changed_lines < r.lines() {
        parts.push(format!(
            "{} of them with a changed decision",
            r.changed_lines
        ));
    }
    parts.join(", ")
}

fn summary(impact: &Impact, labels: &Labels<'_>) -> String {
    format!(
        "{} of {} claims and {} of {} lines change decision from `{}` to `{}`; charges moved: ${}",
        impact.changed_claims,
        impact.claims,
        impact.changed_lines,
        impact.lines,
        labels.base,
        labels.candidate,
        impact.charges_moved
    )
}

/// Tables for a terminal.
pub fn terminal(impact: &Impact, labels: &Labels<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", summary(impact, labels));
    for (title, matrix) in [
        ("lines", &impact.line_transitions),
        ("claims", &impact.claim_transitions),
    ] {
        let axes = axes(matrix);
        if axes.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title} (rows: before, columns: after):");
        let _ = write!(out, "  {:<9}", "");
        for to in &axes {
            let _ = write!(out, "{to:>9}");
        }
        out.push('\n');
        for from in &axes {
            let _ = write!(out, "  {from:<9}");
            for to in &axes {
                let _ = write!(out, "{:>9}", cell(matrix, from, to));
            }
            out.push('\n');
        }
    }
    if !impact.by_rule.is_empty() {
        let _ = writeln!(out, "\nrules whose firing changed:");
        for r in &impact.by_rule {
            let _ = writeln!(
                out,
                "  {} {}: {} (${})",
                r.policy,
                r.rule,
                rule_line(r),
                r.charges
            );
            for e in &r.examples {
                let _ = writeln!(
                    out,
                    "    claim {} (record {}) line {} {}: {} -> {}{}",
                    e.claim,
                    e.record,
                    e.line,
                    e.procedure,
                    e.before,
                    e.after,
                    outcomes(e, "->")
                );
            }
            for (side, text) in [("before", &r.text_before), ("after", &r.text_after)] {
                if let Some(text) = text {
                    let _ = writeln!(out, "    {side}:");
                    for line in text.lines() {
                        let _ = writeln!(out, "      {line}");
                    }
                }
            }
        }
    }
    for (title, groups) in [
        ("payer", &impact.by_payer),
        ("policy", &impact.by_policy),
        ("procedure", &impact.by_procedure),
    ] {
        if groups.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\nchanged lines by {title}:");
        for g in groups.iter() {
            let _ = writeln!(
                out,
                "  {:<20} {:>6} lines {:>6} claims  ${}",
                g.key, g.lines, g.claims, g.charges
            );
            for e in &g.examples {
                let _ = writeln!(
                    out,
                    "    claim {} (record {}) line {} {}: {} -> {}",
                    e.claim, e.record, e.line, e.procedure, e.before, e.after
                );
            }
        }
    }
    out
}

/// Markdown text with `|` and backticks neutralised, for table cells.
fn md(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('`', "'")
        .replace('\n', " ")
}

fn md_matrix(
    out: &mut String,
    title: &str,
    matrix: &BTreeMap<&'static str, BTreeMap<&'static str, usize>>,
) {
    let axes = axes(matrix);
    if axes.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n**{title}** (rows: before, columns: after)\n");
    let _ = write!(out, "| before \\ after |");
    for to in &axes {
        let _ = write!(out, " {to} |");
    }
    let _ = write!(out, "\n|---|");
    for _ in &axes {
        out.push_str("---:|");
    }
    out.push('\n');
    for from in &axes {
        let _ = write!(out, "| {from} |");
        for to in &axes {
            let n = cell(matrix, from, to);
            if from != to && n > 0 {
                let _ = write!(out, " **{n}** |");
            } else {
                let _ = write!(out, " {n} |");
            }
        }
        out.push('\n');
    }
}

/// A group's examples for a table cell, one per `<br>`-separated line
/// (Markdown and HTML alike), the claim id as `claim` writes it.
fn group_examples(g: &Group, claim: impl Fn(&str) -> String) -> String {
    let examples: Vec<String> = g
        .examples
        .iter()
        .map(|e| {
            format!(
                "{} line {}: {} → {}",
                claim(&e.claim),
                e.line,
                e.before,
                e.after
            )
        })
        .collect();
    examples.join("<br>")
}

fn md_groups(out: &mut String, title: &str, groups: &[Group]) {
    if groups.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n**Changed lines by {title}**\n\n| {title} | lines | claims | charges | examples |\n|---|---:|---:|---:|---|");
    for g in groups {
        let _ = writeln!(
            out,
            "| {} | {} | {} | ${} | {} |",
            md(&g.key),
            g.lines,
            g.claims,
            g.charges,
            group_examples(g, |claim| format!("`{}`", md(claim)))
        );
    }
}

/// Markdown, for a pull-request comment or GitHub's job summary.
pub fn markdown(impact: &Impact, labels: &Labels<'_>) -> String {
    let mut out = String::from("## Policy impact\n\n");
    let _ = writeln!(out, "{}", md(&summary(impact, labels)));
    md_matrix(&mut out, "Lines", &impact.line_transitions);
    md_matrix(&mut out, "Claims", &impact.claim_transitions);
    if !impact.by_rule.is_empty() {
        let _ = writeln!(
            out,
            "\n**Rules whose firing changed**\n\n| policy | rule | newly fires | stops firing | other outcome | changed decision | charges |\n|---|---|---:|---:|---:|---:|---:|"
        );
        for r in &impact.by_rule {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | ${} |",
                md(&r.policy),
                md(&r.rule),
                r.newly_fires,
                r.stops_firing,
                r.changes_outcome,
                r.changed_lines,
                r.charges
            );
        }
        for r in &impact.by_rule {
            let _ = writeln!(
                out,
                "\n<details><summary>{} {}: {}</summary>\n",
                md(&r.policy),
                md(&r.rule),
                rule_line(r)
            );
            for e in &r.examples {
                let _ = writeln!(
                    out,
                    "- claim `{}` (record {}) line {} `{}`: {} → {}{}",
                    md(&e.claim),
                    e.record,
                    e.line,
                    e.procedure,
                    e.before,
                    e.after,
                    md(&outcomes(e, "→"))
                );
            }
            for (side, text) in [("before", &r.text_before), ("after", &r.text_after)] {
                if let Some(text) = text {
                    let _ = writeln!(out, "\n{side}:\n\n```\n{}\n```", text.replace("```", "'''"));
                }
            }
            out.push_str("\n</details>\n");
        }
    }
    md_groups(&mut out, "payer", &impact.by_payer);
    md_groups(&mut out, "policy", &impact.by_policy);
    md_groups(&mut out, "procedure", &impact.by_procedure);
    out
}

/// Text escaped for HTML.
fn h(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html_matrix(
    out: &mut String,
    id: &str,
    title: &str,
    matrix: &BTreeMap<&'static str, BTreeMap<&'static str, usize>>,
) {
    let axes = axes(matrix);
    if axes.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<h2>{title}</h2>\n<table id=\"{id}\">\n<tr><th>before \\ after</th>"
    );
    for to in &axes {
        let _ = write!(out, "<th>{to}</th>");
    }
    out.push_str("</tr>\n");
    for from in &axes {
        let _ = write!(out, "<tr><th>{from}</th>");
        for to in &axes {
            let n = cell(matrix, from, to);
            let class = if from != to && n > 0 {
                " class=\"moved\""
            } else {
                ""
            };
            let _ = write!(
                out,
                "<td{class} data-from=\"{from}\" data-to=\"{to}\">{n}</td>"
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

/// The changes by rule as horizontal bars (inline SVG: nothing to fetch).
fn html_chart(out: &mut String, rules: &[RuleChange]) {
    if rules.is_empty() {
        return;
    }
    let max = rules
        .iter()
        .map(RuleChange::lines)
        .max()
        .unwrap_or(1)
        .max(1);
    let row = 26;
    let height = row * rules.len() + 10;
    let _ = write!(
        out,
        "<h2>Changes by rule</h2>\n<svg id=\"chart\" role=\"img\" aria-label=\"changed lines by rule\" width=\"720\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\">\n"
    );
    for (i, r) in rules.iter().enumerate() {
        let y = i * row + 5;
        let scale = |n: usize| n * 440 / max;
        let (new, gone) = (scale(r.newly_fires), scale(r.stops_firing));
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{}\" font-size=\"13\">{} {}</text><rect x=\"220\" y=\"{y}\" width=\"{new}\" height=\"18\" fill=\"#c0392b\"><title>newly fires: {}</title></rect><rect x=\"{}\" y=\"{y}\" width=\"{gone}\" height=\"18\" fill=\"#27ae60\"><title>stops firing: {}</title></rect>",
            y + 14,
            h(&r.policy),
            h(&r.rule),
            r.newly_fires,
            220 + new,
            r.stops_firing,
        );
        // A rule whose outcome changed on lines it fires on either way: a
        // third bar, and a third figure, only when there are such lines (the
        // reports of changes without any stay as they were).
        let mut end = 220 + new + gone;
        let mut figures = format!("+{} / -{}", r.newly_fires, r.stops_firing);
        if r.changes_outcome > 0 {
            let other = scale(r.changes_outcome);
            let _ = write!(
                out,
                "<rect x=\"{end}\" y=\"{y}\" width=\"{other}\" height=\"18\" fill=\"#e67e22\"><title>another outcome: {}</title></rect>",
                r.changes_outcome
            );
            end += other;
            let _ = write!(figures, " / ~{}", r.changes_outcome);
        }
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"13\">{figures}</text>",
            end + 6,
            y + 14
        );
    }
    out.push_str("</svg>\n<p class=\"legend\"><span class=\"new\">■</span> newly fires <span class=\"gone\">■</span> stops firing");
    if rules.iter().any(|r| r.changes_outcome > 0) {
        out.push_str(" <span class=\"other\">■</span> fires with another outcome");
    }
    out.push_str("</p>\n");
}

fn html_groups(out: &mut String, title: &str, groups: &[Group]) {
    if groups.is_empty() {
        return;
    }
    let _ = write!(out, "<h2>Changed lines by {title}</h2>\n<table class=\"groups\">\n<tr><th>{title}</th><th>lines</th><th>claims</th><th>charges</th><th>examples</th></tr>\n");
    for g in groups {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>${}</td><td class=\"examples\">{}</td></tr>",
            h(&g.key),
            g.lines,
            g.claims,
            g.charges,
            group_examples(g, h)
        );
    }
    out.push_str("</table>\n");
}

/// One self-contained HTML page: no script, style sheet or font is fetched.
pub fn html(impact: &Impact, labels: &Labels<'_>) -> String {
    let mut out = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Policy impact</title>\n<style>\
         body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}\
         td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f4f4f4}\
         td.moved{background:#fde2e1;font-weight:bold}pre{background:#f8f8f8;padding:.5em}\
         .new{color:#c0392b}.gone{color:#27ae60}.other{color:#e67e22}</style>\n</head>\n<body>\n<h1>Policy impact</h1>\n",
    );
    let _ = write!(
        out,
        "<p id=\"summary\">{}</p>\n<ul id=\"totals\"><li>claims: <b id=\"claims\">{}</b></li><li>changed claims: <b id=\"changed-claims\">{}</b></li><li>lines: <b id=\"lines\">{}</b></li><li>changed lines: <b id=\"changed-lines\">{}</b></li><li>charges moved: <b id=\"charges\">${}</b></li></ul>\n",
        h(&summary(impact, labels)),
        impact.claims,
        impact.changed_claims,
        impact.lines,
        impact.changed_lines,
        impact.charges_moved
    );
    html_matrix(&mut out, "lines-matrix", "Lines", &impact.line_transitions);
    html_matrix(
        &mut out,
        "claims-matrix",
        "Claims",
        &impact.claim_transitions,
    );
    html_chart(&mut out, &impact.by_rule);
    for r in &impact.by_rule {
        let _ = write!(
            out,
            "<details><summary>{} {}: {} (${})</summary>\n<ul>\n",
            h(&r.policy),
            h(&r.rule),
            rule_line(r),
            r.charges
        );
        for e in &r.examples {
            let _ = writeln!(
                out,
                "<li>claim {} (record {}) line {} {}: {} → {}{}</li>",
                h(&e.claim),
                e.record,
                e.line,
                h(&e.procedure),
                e.before,
                e.after,
                h(&outcomes(e, "→"))
            );
        }
        out.push_str("</ul>\n");
        for (side, text) in [("before", &r.text_before), ("after", &r.text_after)] {
            if let Some(text) = text {
                let _ = write!(out, "<p>{side}:</p>\n<pre>{}</pre>\n", h(text));
            }
        }
        out.push_str("</details>\n");
    }
    html_groups(&mut out, "payer", &impact.by_payer);
    html_groups(&mut out, "policy", &impact.by_policy);
    html_groups(&mut out, "procedure", &impact.by_procedure);
    out.push_str("</body>\n</html>\n");
    out
}
