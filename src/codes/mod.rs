//! Medical code sets the engine knows without a policy: the shipped ICD-10-CM
//! table (the code sets of FY2019, FY2021, FY2025 and FY2026) and the shapes of
//! CPT and HCPCS codes.

pub mod icd10;
pub mod key;
pub mod procedure;
pub mod set;

pub use icd10::{Icd10Code, Icd10Kind};
pub use key::CodeKey;

pub use set::{CodeEntry, CodeSet};
