//! Checks of code lists: each code's shape, ICD-10-CM codes against the shipped
//! tables of the years their policy is in force, and range bounds.

use std::sync::Arc;

use super::InForce;
use crate::codes::icd10;
use crate::codes::{procedure, CodeKey};
use crate::diagnostic::{DiagCode, Diagnostic, SourceFile};
use crate::syntax::ast::{CodeEntry, CodeList, CodeSystem};
use crate::syntax::Spanned;

/// Checks every entry of a literal code list.
pub fn check_list(
    list: &CodeList,
    in_force: &InForce,
    file: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    for entry in &list.entries {
        match list.system.node {
            CodeSystem::Cpt | CodeSystem::Hcpcs => {
                procedure_entry(list.system.node, entry, file, diags)
            }
            CodeSystem::Icd10 => diagnosis_entry(entry, in_force, file, diags),
        }
    }
}

fn procedure_shape_ok(system: CodeSystem, code: &str) -> bool {
    match system {
        CodeSystem::Cpt => procedure::is_cpt(code),
        _ => procedure::is_procedure(code),
    }
}

fn procedure_entry(
    system: CodeSystem,
    entry: &Spanned<CodeEntry>,
    file: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    let help = match system {
        CodeSystem::Cpt => {
            "CPT codes are 5 characters: 5 digits (`20552`), or 4 digits and F, T or U (`0213T`)"
        }
        _ => "HCPCS codes are 5 characters: a CPT code, or a letter A-V and 4 digits (`J3301`)",
    };
    let malformed = |code: &str| {
        Diagnostic::new(
            DiagCode::MalformedProcedure,
            file,
            entry.span,
            format!("`{code}` is not a {} code", system.keyword().to_uppercase()),
        )
        .with_help(help)
    };
    match &entry.node {
        CodeEntry::Code(code) => {
            if !procedure_shape_ok(system, code) {
                diags.push(malformed(code));
            }
        }
        CodeEntry::Range(lo, hi) => {
            for code in [lo, hi] {
                if !procedure_shape_ok(system, code) {
                    diags.push(malformed(code));
                    return;
                }
            }
            reversed(lo, hi, entry, file, diags);
        }
        CodeEntry::Prefix(prefix) => {
            if prefix.len() >= 5 || !prefix.chars().all(|c| c.is_ascii_alphanumeric()) {
                diags.push(
                    Diagnostic::new(DiagCode::MalformedProcedure, file, entry.span, format!("`{prefix}*` is not a code prefix"))
                        .with_help("a prefix is 1 to 4 letters or digits followed by `*`, e.g. `J*` for every J code"),
                );
            }
        }
    }
}

fn reversed(
    lo: &str,
    hi: &str,
    entry: &Spanned<CodeEntry>,
    file: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let (Some(l), Some(h)) = (CodeKey::parse(lo), CodeKey::parse(hi)) else {
        return false;
    };
    if l > h {
        diags.push(
            Diagnostic::new(
                DiagCode::ReversedRange,
                file,
                entry.span,
                format!("the range `{lo}-{hi}` ends before it starts"),
            )
            .with_help(format!("write the lower code first: `{hi}-{lo}`")),
        );
        return true;
    }
    false
}

fn diagnosis_entry(
    entry: &Spanned<CodeEntry>,
    in_force: &InForce,
    file: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    match &entry.node {
        CodeEntry::Code(code) => {
            known_diagnosis(code, entry, in_force, file, diags, true);
        }
        CodeEntry::Range(lo, hi) => {
            let ok = known_diagnosis(lo, entry, in_force, file, diags, false)
                & known_diagnosis(hi, entry, in_force, file, diags, false);
            if ok {
                reversed(lo, hi, entry, file, diags);
            }
        }
        CodeEntry::Prefix(prefix) => {
            let Some(key) = CodeKey::parse(prefix) else {
                diags.push(malformed_dx(prefix, entry, file));
                return;
            };
            if icd10::in_range(key, key.prefix_end()).next().is_none() {
                diags.push(
                    Diagnostic::new(
                        DiagCode::UnknownDiagnosis,
                        file,
                        entry.span,
                        format!("no ICD-10-CM code starts with `{prefix}`"),
                    )
                    .with_help(format!(
                        "the prefix matches nothing in {}; check for a typo",
                        icd10::EDITION
                    )),
                );
            }
        }
    }
}

fn malformed_dx(code: &str, entry: &Spanned<CodeEntry>, file: &Arc<SourceFile>) -> Diagnostic {
    Diagnostic::new(DiagCode::MalformedDiagnosis, file, entry.span, format!("`{code}` is not an ICD-10-CM code"))
        .with_help("ICD-10-CM codes are a letter, a digit, a letter or digit, then up to 4 more after an optional dot: `M79.18`")
}

/// Reports an unknown or malformed code. A single code (`single`) must also be
/// billable in some year its policy is in force (an error when it is in none
/// of them, PR214), and is warned about when it is a header in all of them.
/// Returns true when the code exists in some year.
fn known_diagnosis(
    code: &str,
    entry: &Spanned<CodeEntry>,
    in_force: &InForce,
    file: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
    single: bool,
) -> bool {
    if !icd10::is_well_formed(code) {
        diags.push(malformed_dx(code, entry, file));
        return false;
    }
    let Some(found) = icd10::lookup(code) else {
        let near: Vec<String> = icd10::nearest_in(code, 4, in_force.years)
            .iter()
            .map(|c| format!("`{}`", c.code))
            .collect();
        let help = if near.is_empty() {
            format!("check the code against {}", icd10::EDITION)
        } else {
            format!("the nearest billable codes are {}", near.join(", "))
        };
        diags.push(
            Diagnostic::new(
                DiagCode::UnknownDiagnosis,
                file,
                entry.span,
                format!("`{code}` is not in {}", icd10::EDITION),
            )
            .with_help(help),
        );
        return false;
    };
    if !single || found.billable.meets(in_force.years) {
        return true;
    }
    let years = in_force.years;
    if years.within(found.header) {
        header_warning(code, &found, in_force, entry, file, diags);
        return true;
    }
    // Billable in none of the years, and not a header in all of them.
    let when = match &in_force.dates {
        Some(dates) => format!(
            "the years its policy is in force (`effective {dates}`: {})",
            years.describe()
        ),
        None => format!("any year ({})", years.describe()),
    };
    let was = if found.billable.is_empty() {
        format!("it is a header in {}", found.header.describe())
    } else {
        format!("it is billable in {}", found.billable.describe())
    };
    let near: Vec<String> = icd10::billable_descendants_in(found.key, years)
        .take(12)
        .map(|c| format!("`{}`", c.code))
        .collect();
    let help = if near.is_empty() {
        format!("{was}: list the codes of the policy's years, or check its `effective` dates")
    } else {
        format!(
            "{was}; in the policy's years the codes under it are {}",
            near.join(", ")
        )
    };
    diags.push(
        Diagnostic::new(
            DiagCode::DiagnosisNotInForce,
            file,
            entry.span,
            format!("`{code}` is not a billable ICD-10-CM code in {when}"),
        )
        .with_help(help),
    );
    true
}

/// The header warning (PR207): `found` is a header in every year `in_force`
/// names.
fn header_warning(
    code: &str,
    found: &icd10::Icd10Code,
    in_force: &InForce,
    entry: &Spanned<CodeEntry>,
    file: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    let children: Vec<String> = icd10::billable_descendants_in(found.key, in_force.years)
        .map(|c| c.code.to_string())
        .collect();
    let shown: Vec<String> = children.iter().take(12).map(|c| format!("`{c}`")).collect();
    let more = if children.len() > shown.len() {
        format!(" and {} more", children.len() - shown.len())
    } else {
        String::new()
    };
    diags.push(
        Diagnostic::new(
            DiagCode::HeaderDiagnosis,
            file,
            entry.span,
            format!("`{code}` is a non-billable header: no valid claim carries it"),
        )
        .with_label(format!("{} billable codes fall under it", children.len()))
        .with_help(format!(
            "list its billable codes ({}{more}) or write `{}*` to take them all",
            shown.join(", "),
            code
        )),
    );
}
