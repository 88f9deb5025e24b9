//! `payer-rules codes lookup`.

use super::{EXIT_FAILED, EXIT_OK};
use crate::stdio::{errln, outln};
use payer_rules::internal::icd10::{self, Icd10Kind};

/// Prints each code's kind (in the newest year that has it) and description,
/// then the years in which it is billable or a header; exit 1 when any is
/// unknown.
pub fn lookup(codes: &[String]) -> u8 {
    let mut status = EXIT_OK;
    for text in codes {
        match icd10::lookup(text) {
            Some(code) => {
                let kind = match code.kind {
                    Icd10Kind::Billable => "billable",
                    Icd10Kind::Header => "header (not billable)",
                };
                outln!("{}\t{kind}\t{}", code.code, code.description);
                outln!("  {}", years(&code));
                if code.kind == Icd10Kind::Header {
                    for child in icd10::billable_descendants(code.key) {
                        outln!("  {}\t{}", child.code, child.description);
                    }
                }
            }
            None => {
                status = EXIT_FAILED;
                let near: Vec<String> = icd10::nearest(text, 4)
                    .iter()
                    .map(|c| c.code.to_string())
                    .collect();
                let hint = if near.is_empty() {
                    String::new()
                } else {
                    format!("; nearest: {}", near.join(", "))
                };
                errln!(
                    "`{text}` is not an ICD-10-CM code in {}{hint}",
                    icd10::EDITION
                );
            }
        }
    }
    status
}

/// "years: billable in FY2019, FY2021; header in FY2025, FY2026 (of the
/// shipped ...)": the years of the table in which the code is billable or a
/// header, and those that do not have it.
fn years(code: &icd10::Icd10Code) -> String {
    let mut parts = Vec::new();
    if !code.billable.is_empty() {
        parts.push(format!("billable in {}", code.billable.describe()));
    }
    if !code.header.is_empty() {
        parts.push(format!("header in {}", code.header.describe()));
    }
    let missing = icd10::YearSet(icd10::YearSet::ALL.0 & !code.years().0);
    if !missing.is_empty() {
        parts.push(format!("not in {}", missing.describe()));
    }
    format!(
        "years: {} (of the shipped {})",
        parts.join("; "),
        icd10::YearSet::ALL.describe()
    )
}
