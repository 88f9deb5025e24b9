//! Errors a request gets back: always JSON, `{"error": {"kind", "message",
//! "path"}}`, the shape of the CLI's error records, with the status that says
//! whose problem it is.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The `error` object of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable kind: `invalid_claim`, `no_policy`, `conflict`, `too_large`,
    /// `overloaded`, `timeout`, `unauthorized`, `not_found`, `invalid_request`,
    /// `invalid_policies`, `store_failed`, `unavailable`.
    pub kind: &'static str,
    /// What is wrong, lowercase, without a trailing period.
    pub message: String,
    /// The request field at fault (`lines[0].units`, `body`), or null.
    pub path: Option<String>,
}

/// An error response: `{"error": {...}}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorResponse {
    /// What went wrong.
    pub error: ErrorBody,
}

impl ErrorResponse {
    /// The response's JSON: for an error answered whole and for the last
    /// line of a batch that failed mid-stream. Serializing text cannot
    /// fail; were it to, the body still says an error happened rather than
    /// being empty.
    pub fn json(error: ErrorBody) -> Vec<u8> {
        serde_json::to_vec(&ErrorResponse { error }).unwrap_or_else(|_| {
            br#"{"error":{"kind":"internal","message":"the error could not be written","path":null}}"#
                .to_vec()
        })
    }
}

/// An error with its HTTP status (and, for 503 overloaded, a `Retry-After`).
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The status sent.
    pub status: StatusCode,
    /// The body sent.
    pub body: ErrorBody,
}

impl ApiError {
    /// An error of this status, kind and message, with an optional field path.
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        message: impl Into<String>,
        path: Option<&str>,
    ) -> ApiError {
        ApiError {
            status,
            body: ErrorBody {
                kind,
                message: message.into(),
                path: path.map(str::to_string),
            },
        }
    }

    /// 413: the body (or a count in it) is past a limit.
    pub fn too_large(message: impl Into<String>, path: &str) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            message,
            Some(path),
        )
    }

    /// 503 with `Retry-After`: the decider's queue is full.
    pub fn overloaded() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "the service has too many claims waiting; retry after a second",
            None,
        )
    }

    /// 400: the request itself is malformed (not a claim's content).
    pub fn bad_request(message: impl Into<String>, path: &str) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            message,
            Some(path),
        )
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message, None)
    }

    /// 503: the service cannot answer right now (draining, store failed).
    pub fn unavailable(kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, kind, message, None)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry = self.status == StatusCode::SERVICE_UNAVAILABLE;
        let body = ErrorResponse::json(self.body);
        let mut response = (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response();
        if retry {
            // Every 503 is temporary: the queue drains, a store comes back.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
