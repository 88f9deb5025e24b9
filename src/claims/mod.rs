//! Claims in, decisions out: the serde types of `CLAIMS.md` and the input readers.
