//! The HTTP handlers, by what they serve.

pub mod claims;
pub mod ops;
pub mod playground;
pub mod policies;
