//! The playground: a static page (in the binary, no CDN) and the endpoint it
//! evaluates with, which uses a fresh in-memory engine per request and never
//! the service's history.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use payer_rules::internal::read_claims_str;
use payer_rules::{Engine, InputFormat, Policies};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::body;
use crate::error::{ApiError, ErrorResponse};
use crate::policy_set::diagnostics_json;
use crate::state::St;

const PAGE: &str = include_str!("playground.html");
/// The bundled Medicare policy, the editor's first text.
const EXAMPLE_POLICY: &str = include_str!("../../../../policies/medicare-tpi.policy");
/// A Medicare claim of `examples/claims.jsonl`, the claim editor's first text.
const EXAMPLE_CLAIM: &str = r#"{"id":"CLM-0000016","payer":"medicare","patient":{"id":"MC-000020","birth_date":"1961-05-14","sex":"F"},"provider":{"npi":"1234567893","taxonomy":"208VP0014X"},"place_of_service":"11","diagnoses":["M79.11"],"lines":[{"line":1,"date_of_service":"2024-04-19","procedure":"20553","modifiers":[],"units":1,"diagnosis_pointers":[1],"muscles":3,"injections":3,"charge":182.5},{"line":2,"date_of_service":"2024-04-19","procedure":"J2001","units":1,"charge":12.0}]}"#;

/// A JSON string literal safe inside a `<script>` element.
fn script_string(text: &str) -> String {
    serde_json::to_string(text)
        .unwrap_or_else(|_| "\"\"".into())
        .replace("</", "<\\/")
}

/// The page.
pub async fn page() -> Response {
    let pretty_claim = serde_json::from_str::<serde_json::Value>(EXAMPLE_CLAIM)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| EXAMPLE_CLAIM.to_string());
    let html = PAGE
        .replace("__EXAMPLE_POLICY__", &script_string(EXAMPLE_POLICY))
        .replace("__EXAMPLE_CLAIM__", &script_string(&pretty_claim));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
                ),
            ),
        ],
        html,
    )
        .into_response()
}

/// What the playground evaluates.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PlaygroundRequest {
    /// One policy file's text.
    pub policy: String,
    /// Claims: JSON Lines, a JSON array, YAML or one JSON object.
    pub claims: String,
    /// Add traces.
    #[serde(default)]
    pub explain: bool,
}

/// Diagnostics, and decisions when the policy has no errors.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaygroundResult {
    /// As `check --format json`.
    #[schema(value_type = Vec<Object>)]
    pub diagnostics: Vec<serde_json::Value>,
    /// One decision or error record per claim, as `eval` writes them.
    #[schema(value_type = Vec<Object>)]
    pub decisions: Vec<serde_json::Value>,
}

/// Evaluate claims against policy text, in a fresh in-memory engine.
#[utoipa::path(post, path = "/v1/playground/evaluate", tag = "playground",
    request_body = PlaygroundRequest,
    responses((status = 200, body = PlaygroundResult),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 413, body = ErrorResponse)))]
pub async fn evaluate(
    state: St,
    headers: HeaderMap,
    request: Body,
) -> Result<Json<PlaygroundResult>, ApiError> {
    let bytes = body::read(request, &headers, state.config.max_body).await?;
    let asked: PlaygroundRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("not a playground request: {e}"), "body"))?;
    let max_lines = state.config.max_lines;
    tokio::task::spawn_blocking(move || run(&asked, max_lines))
        .await
        .map(Json)
        .map_err(|_| ApiError::unavailable("unavailable", "the evaluation stopped"))
}

fn run(asked: &PlaygroundRequest, max_lines: usize) -> PlaygroundResult {
    let loaded = Policies::from_source("playground.policy", &asked.policy);
    let diagnostics = diagnostics_json(&loaded.diagnostics);
    let mut decisions = Vec::new();
    if let (false, Some(policies)) = (loaded.has_errors(), loaded.policies) {
        let mut engine = Engine::new(policies).explain(asked.explain);
        let text = asked.claims.trim();
        // One pretty-printed object is a claim too, not broken JSON Lines.
        let claims = if text.starts_with('{') && text.contains('\n') {
            read_claims_str(&format!("[{text}]"), InputFormat::JsonArray)
        } else {
            read_claims_str(text, InputFormat::Auto)
        };
        for (i, claim) in claims.into_iter().enumerate() {
            let (record, claim) = body::cap_lines((i + 1, claim), max_lines);
            let outcome = match claim {
                Ok(claim) => engine.evaluate(&claim, record),
                Err(e) => e.into(),
            };
            let mut json = Vec::new();
            outcome.write_json(&mut json);
            decisions.push(serde_json::from_slice(&json).unwrap_or_default());
        }
    }
    PlaygroundResult {
        diagnostics,
        decisions,
    }
}
