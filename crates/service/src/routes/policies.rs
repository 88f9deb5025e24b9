//! The policy endpoints: check text, list the active set, explain a rule,
//! status, reload.

use axum::body::Body;
use axum::extract::{Path, Query};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use payer_rules::Policies;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::body;
use crate::error::{ApiError, ErrorResponse};
use crate::policy_set::{diagnostics_json, ReloadAttempt};
use crate::state::St;

/// `?file=NAME.policy`: the name diagnostics give the text.
#[derive(Debug, Deserialize, IntoParams)]
pub struct CheckQuery {
    /// The file name diagnostics carry (default `policy.policy`).
    pub file: Option<String>,
}

/// Check policy text: its diagnostics as `check --format json` writes them.
#[utoipa::path(
    post,
    path = "/v1/check",
    tag = "policies",
    params(CheckQuery),
    request_body(content = String, content_type = "text/plain", description = "One policy file's text"),
    responses(
        (status = 200, description = "One JSON object per diagnostic, one per line (empty when clean), as `payer-rules check --format json`", body = String, content_type = "application/x-ndjson"),
        (status = 400, description = "The text is not UTF-8", body = ErrorResponse),
        (status = 401, description = "No valid bearer token", body = ErrorResponse),
        (status = 413, description = "The body is too large", body = ErrorResponse),
    )
)]
pub async fn check(
    state: St,
    query_string: Result<Query<CheckQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    request: Body,
) -> Result<Response, ApiError> {
    let query = crate::routes::claims::query(query_string)?;
    let bytes = body::read(request, &headers, state.config.max_body).await?;
    let text = String::from_utf8(bytes.to_vec()).map_err(|e| {
        ApiError::bad_request(
            format!(
                "the policy text is not UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            ),
            "body",
        )
    })?;
    let file = query.file.unwrap_or_else(|| "policy.policy".into());
    let lines = tokio::task::spawn_blocking(move || {
        let loaded = Policies::from_source(&file, &text);
        payer_rules::tooling::diagnostics_json_lines(&loaded.diagnostics)
    })
    .await
    .map_err(|_| ApiError::unavailable("unavailable", "the check stopped"))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        )],
        lines,
    )
        .into_response())
}

/// One loaded policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyInfo {
    /// The policy id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its version.
    pub version: String,
    /// The payer ids it applies to.
    pub payers: Vec<String>,
    /// First date of service covered.
    pub effective_from: String,
    /// Last date covered, or null.
    pub effective_to: Option<String>,
    /// The cited source.
    pub source: String,
    /// The file.
    pub file: String,
    /// How many rules (imported ones included).
    pub rules: usize,
}

/// The active policy set.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyList {
    /// The revision (content hash of the files).
    pub revision: String,
    /// Seconds since the epoch when it became active.
    pub loaded_at: u64,
    /// The policies.
    pub policies: Vec<PolicyInfo>,
}

/// The loaded policies.
#[utoipa::path(get, path = "/v1/policies", tag = "policies",
    responses((status = 200, body = PolicyList), (status = 401, body = ErrorResponse)))]
pub async fn list(state: St) -> Json<PolicyList> {
    let set = state.shared.current();
    Json(PolicyList {
        revision: set.revision.to_string(),
        loaded_at: set.loaded_at,
        policies: set
            .policies
            .iter()
            .map(|p| PolicyInfo {
                id: p.id.to_string(),
                title: p.title.clone(),
                version: p.version.to_string(),
                payers: p.payers.clone(),
                effective_from: p.effective_from.to_string(),
                effective_to: p.effective_to.map(|d| d.to_string()),
                source: p.source.clone(),
                file: p.path.clone(),
                rules: p.rules.len(),
            })
            .collect(),
    })
}

/// A rule as `payer-rules explain` shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleInfo {
    /// The rule id.
    pub id: String,
    /// The policies that have it (a library rule is in every importer).
    pub policies: Vec<String>,
    /// Its title.
    pub title: String,
    /// `path:line:col`.
    pub at: String,
    /// Its doc comment lines.
    pub doc: Vec<String>,
    /// How many checks it makes.
    pub checks: usize,
    /// Its text as written.
    pub text: String,
}

/// Explain a rule.
#[utoipa::path(get, path = "/v1/rules/{rule}", tag = "policies",
    params(("rule" = String, Path, description = "The rule id (`M4`)")),
    responses(
        (status = 200, description = "Every rule with that id, once per place it is written", body = Vec<RuleInfo>),
        (status = 401, body = ErrorResponse),
        (status = 404, description = "No rule with that id", body = ErrorResponse)))]
pub async fn rule(state: St, Path(id): Path<String>) -> Result<Json<Vec<RuleInfo>>, ApiError> {
    let set = state.shared.current();
    let mut shown: Vec<RuleInfo> = Vec::new();
    for policy in set.policies.iter() {
        for rule in policy.rules.iter().filter(|r| *r.id == *id) {
            match shown.iter_mut().find(|s| s.at == *rule.at) {
                Some(seen) => seen.policies.push(policy.id.to_string()),
                None => shown.push(RuleInfo {
                    id: rule.id.to_string(),
                    policies: vec![policy.id.to_string()],
                    title: rule.title.clone(),
                    at: rule.at.to_string(),
                    doc: rule.doc.clone(),
                    checks: rule.checks.len(),
                    text: rule.source.clone(),
                }),
            }
        }
    }
    if shown.is_empty() {
        let mut error = ApiError::not_found(format!(
            "no rule `{}` in the loaded policies",
            payer_rules::internal::for_log(&id)
        ));
        error.body.path = Some("rule".into());
        return Err(error);
    }
    Ok(Json(shown))
}

/// The service's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    /// The active revision.
    pub revision: String,
    /// When it became active (seconds since the epoch).
    pub loaded_at: u64,
    /// Ready for traffic (false while shutting down).
    pub ready: bool,
    /// `sqlite`, `postgres` or `memory`.
    pub store: &'static str,
    /// Jobs waiting for the decider.
    pub queue_depth: usize,
    /// The last reload attempt (with the diagnostics of a failed one).
    pub last_reload: Option<ReloadAttempt>,
    /// The active set's warnings.
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<serde_json::Value>,
}

/// The active revision, the last reload attempt and the store.
#[utoipa::path(get, path = "/v1/status", tag = "operations",
    responses((status = 200, body = Status), (status = 401, body = ErrorResponse)))]
pub async fn status(state: St) -> Json<Status> {
    let set = state.shared.current();
    Json(Status {
        revision: set.revision.to_string(),
        loaded_at: set.loaded_at,
        ready: state.shared.is_ready(),
        store: state.decider.store,
        queue_depth: state.decider.depth(),
        last_reload: state.shared.last_attempt(),
        warnings: diagnostics_json(&set.warnings),
    })
}

/// What a reload did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reloaded {
    /// The attempt.
    pub attempt: ReloadAttempt,
    /// The revision answering now (the old one after a failure).
    pub active: String,
}

/// Load the policies again now; a set with errors is not swapped in.
#[utoipa::path(post, path = "/v1/reload", tag = "operations",
    responses(
        (status = 200, description = "Loaded (`success`) or the same files (`unchanged`)", body = Reloaded),
        (status = 401, description = "No admin bearer token", body = ErrorResponse),
        (status = 422, description = "The new policies have errors; the active set keeps answering", body = Reloaded)))]
pub async fn reload(state: St) -> Response {
    let attempt = state.shared.reload("api").await;
    let status = if attempt.result == "failure" {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let active = state.shared.current().revision.to_string();
    (status, Json(Reloaded { attempt, active })).into_response()
}
