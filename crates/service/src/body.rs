//! Request bodies read under a limit, and claims read from them.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use payer_rules::{ClaimError, ClaimReader, InputFormat, PayerIds};

use crate::decider::Record;
use crate::error::ApiError;

/// The whole body, or 413 when it is past `limit` bytes.
pub async fn read(body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large =
        || ApiError::too_large(format!("the body is larger than {limit} bytes"), "body");
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())
}

/// A claim with more lines than the service takes becomes its error record.
pub fn cap_lines(record: Record, max_lines: usize) -> Record {
    let (n, read) = record;
    match read {
        Ok(claim) if claim.lines.len() > max_lines => (
            n,
            Err(ClaimError::invalid(
                Some(claim.id.to_string()),
                Some("lines".into()),
                format!(
                    "a claim may have at most {max_lines} lines here, this one has {}",
                    claim.lines.len()
                ),
                n,
            )),
        ),
        read => (n, read),
    }
}

/// The one claim of a `/v1/claims/evaluate` body: a JSON object, on one line
/// or many (read as a one-element JSON array, so that its errors are the
/// reader's own), or an 837P interchange holding one claim.
pub fn one_claim(
    body: &[u8],
    max_lines: usize,
    payer_ids: Option<&Arc<PayerIds>>,
) -> Result<Record, ApiError> {
    let text;
    let mut claims = if InputFormat::sniff(body) == InputFormat::X12 {
        ClaimReader::new(body, InputFormat::X12).with_payer_ids(payer_ids.cloned())
    } else {
        let mut wrapped = Vec::with_capacity(body.len() + 2);
        wrapped.push(b'[');
        wrapped.extend_from_slice(body);
        wrapped.push(b']');
        text = wrapped;
        ClaimReader::new(text.as_slice(), InputFormat::JsonArray).with_payer_ids(payer_ids.cloned())
    };
    let Some(first) = claims.next() else {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_claim",
            "the body holds no claim",
            Some("body"),
        ));
    };
    if claims.next().is_some() {
        return Err(ApiError::bad_request(
            "the body holds more than one claim; send several to /v1/claims/batch",
            "body",
        ));
    }
    Ok(cap_lines((1, first), max_lines))
}

/// The claims of a `/v1/claims/batch` body (JSON Lines, a JSON array, YAML
/// or an 837P interchange, as `eval` reads them, X12 payer ids mapped with
/// `payer_ids`), each numbered as `eval` numbers it; 413 past `max_claims`.
pub fn claims(
    body: &[u8],
    max_claims: usize,
    max_lines: usize,
    payer_ids: Option<&Arc<PayerIds>>,
) -> Result<Vec<Record>, ApiError> {
    let mut out = Vec::new();
    let mut claims = ClaimReader::new(body, InputFormat::Auto).with_payer_ids(payer_ids.cloned());
    while let Some(claim) = claims.next() {
        if out.len() == max_claims {
            return Err(ApiError::too_large(
                format!("a batch may hold at most {max_claims} claims"),
                "body",
            ));
        }
        // The reader's record number (JSON Lines: the line, blank lines
        // counted), which `eval`'s engine errors name too.
        out.push(cap_lines((claims.record(), claim), max_lines));
    }
    Ok(out)
}
