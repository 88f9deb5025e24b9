//! Medical code sets the engine knows without a policy: the shipped FY2026
//! ICD-10-CM table and the shapes of CPT and HCPCS codes.

pub mod key;

pub use key::CodeKey;
