//! Probes, metrics, the API description and member history.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use tokio::sync::oneshot;
use utoipa::{OpenApi, ToSchema};

use crate::decider::Job;
use crate::error::{ApiError, ErrorResponse};
use crate::state::St;

/// The process answers.
#[utoipa::path(get, path = "/health/live", tag = "operations",
    responses((status = 200, description = "`{}`", body = Object)))]
pub async fn live() -> Json<serde_json::Value> {
    Json(serde_json::json!({}))
}

/// Policies loaded, store open, not shutting down.
#[utoipa::path(get, path = "/health/ready", tag = "operations",
    responses((status = 200, description = "`{}`", body = Object),
        (status = 503, description = "Shutting down", body = ErrorResponse)))]
pub async fn ready(state: St) -> Response {
    if state.shared.is_ready() {
        Json(serde_json::json!({})).into_response()
    } else {
        ApiError::unavailable("unavailable", "shutting down").into_response()
    }
}

/// Prometheus text.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, body = String, content_type = "text/plain"),
        (status = 401, body = ErrorResponse)))]
pub async fn metrics(state: St) -> Response {
    let text = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        text,
    )
        .into_response()
}

/// This API's description.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1", body = Object)))]
pub async fn openapi() -> Response {
    (StatusCode::OK, Json(crate::openapi::Api::openapi())).into_response()
}

/// A member's stored history.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    /// The payer whose history it is (history is kept per payer and member).
    pub payer: String,
    /// The member.
    pub member: String,
    /// Counted services, then claim versions, as `history show --json`.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<serde_json::Value>,
}

/// A member's counted services and claim versions in one payer's history
/// (member data: off unless `serve --history-api`, admin token).
#[utoipa::path(get, path = "/v1/members/{payer}/{member}/history", tag = "history",
    params(("payer" = String, Path), ("member" = String, Path)),
    responses((status = 200, body = History),
        (status = 401, description = "No admin bearer token", body = ErrorResponse),
        (status = 404, description = "The endpoint is off, or the history is in memory", body = ErrorResponse),
        (status = 503, body = ErrorResponse)))]
pub async fn history(
    state: St,
    Path((payer, member)): Path<(String, String)>,
) -> Result<Json<History>, ApiError> {
    if !state.config.history_api {
        return Err(ApiError::not_found(
            "the history endpoint is off (serve --history-api)",
        ));
    }
    let (reply, rx) = oneshot::channel();
    state.decider.try_submit(Job::History {
        payer: payer.clone(),
        member: member.clone(),
        reply,
    })?;
    let rows = rx
        .await
        .map_err(|_| ApiError::unavailable("unavailable", "the service is shutting down"))??;
    Ok(Json(History {
        payer,
        member,
        rows,
    }))
}
