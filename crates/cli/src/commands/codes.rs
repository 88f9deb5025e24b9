//! `payer-rules codes lookup`.

use super::{EXIT_FAILED, EXIT_OK};
use crate::stdio::{errln, outln};
use payer_rules::internal::icd10::{self, Icd10Kind};

/// Prints each code's kind and description; exit 1 when any is unknown.
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
