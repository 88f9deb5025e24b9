//! Medical code sets the engine knows without a policy: the shipped ICD-10-CM
//! table (the code sets of FY2019, FY2021, FY2025 and FY2026), the shapes of
//! CPT and HCPCS codes, and modifiers as history keeps and counts match them.

pub mod icd10;
pub mod key;
pub mod modifiers;
pub mod procedure;
pub mod set;

pub use icd10::{Icd10Code, Icd10Kind};
pub use key::CodeKey;
pub use modifiers::{ModifierCodes, ModifierFilter};

pub use set::{CodeEntry, CodeSet};
