//! Shapes of procedure codes: CPT (Categories I, II, III and PLA) and HCPCS
//! Level II.
//!
//! Only the shape is checked. CPT descriptors are copyrighted by the AMA, so the
//! crate ships no CPT table and no descriptions; a well-shaped code may still
//! not exist.

/// The kind of procedure code a text looks like.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ProcedureShape {
    /// CPT Category I: five digits (`20552`, `00100`).
    Cpt,
    /// CPT Category II performance-measure code: four digits and `F` (`3074F`).
    CptCategoryII,
    /// CPT Category III emerging-technology code: four digits and `T` (`0213T`).
    CptCategoryIII,
    /// CPT Proprietary Laboratory Analyses code: four digits and `U` (`0001U`).
    Pla,
    /// HCPCS Level II: a letter `A`-`V` and four digits (`J3301`, `G0283`).
    HcpcsLevelII,
}

/// Classifies `text` by shape, for telling procedure codes apart from other
/// codes and typos in policies and claims. Exactly five characters; letters may
/// be lower case (`j3301`, `0213t`). `None` for anything else, including
/// surrounding whitespace and modifiers (`20552-59`).
pub fn shape(text: &str) -> Option<ProcedureShape> {
    let [a, b, c, d, e] = *text.as_bytes() else {
        return None;
    };
    let [a, e] = [a, e].map(|x| x.to_ascii_uppercase());
    if [b, c, d].iter().all(u8::is_ascii_digit) {
        if a.is_ascii_digit() {
            return match e {
                b'0'..=b'9' => Some(ProcedureShape::Cpt),
                b'F' => Some(ProcedureShape::CptCategoryII),
                b'T' => Some(ProcedureShape::CptCategoryIII),
                b'U' => Some(ProcedureShape::Pla),
                _ => None,
            };
        }
        if (b'A'..=b'V').contains(&a) && e.is_ascii_digit() {
            return Some(ProcedureShape::HcpcsLevelII);
        }
    }
    None
}

/// True when `text` looks like any CPT code (Category I, II, III or PLA), for
/// rules that apply to CPT but not HCPCS Level II codes.
pub fn is_cpt(text: &str) -> bool {
    matches!(
        shape(text),
        Some(
            ProcedureShape::Cpt
                | ProcedureShape::CptCategoryII
                | ProcedureShape::CptCategoryIII
                | ProcedureShape::Pla
        )
    )
}

/// True when `text` looks like any procedure code (CPT or HCPCS Level II), for
/// validating the procedure code of a claim line.
pub fn is_procedure(text: &str) -> bool {
    shape(text).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProcedureShape::*;

    #[test]
    fn shapes_are_recognised() {
        for (text, want) in [
            ("20552", Cpt),
            ("00100", Cpt),
            ("99213", Cpt),
            ("3074F", CptCategoryII),
            ("3074f", CptCategoryII),
            ("0213T", CptCategoryIII),
            ("0213t", CptCategoryIII),
            ("0001U", Pla),
            ("J3301", HcpcsLevelII),
            ("j3301", HcpcsLevelII),
            ("A0425", HcpcsLevelII),
            ("V2020", HcpcsLevelII),
            ("G0283", HcpcsLevelII),
        ] {
            assert_eq!(shape(text), Some(want), "{text}");
            assert!(is_procedure(text), "{text}");
            assert_eq!(is_cpt(text), want != HcpcsLevelII, "{text}");
        }
    }

    #[test]
    fn other_text_is_not_a_procedure() {
        for text in [
            "",
            "2055",
            "205521",
            "J330",
            "J33011",
            "W1234",
            "Z1234",
            "w1234",
            "0213X",
            "0213",
            "J330T",
            "JJ301",
            "2055F1",
            " 20552",
            "20552 ",
            "20552-59",
            "M79.1",
            "2055.",
            "٢٠٥٥٢",
            "J3３01",
        ] {
            assert_eq!(shape(text), None, "{text:?}");
            assert!(!is_procedure(text), "{text:?}");
            assert!(!is_cpt(text), "{text:?}");
        }
    }
}
