//! The router: which endpoints need which token, and the request log and
//! metrics around every one of them.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use crate::auth::{self, Class, Tokens};
use crate::routes::{claims, ops, playground, policies};
use crate::state::AppState;

/// The service's routes over `state`.
pub fn router(state: Arc<AppState>, tokens: Arc<Tokens>) -> Router {
    let mut open = Router::new()
        .route("/health/live", get(ops::live))
        .route("/health/ready", get(ops::ready))
        .route("/v1/openapi.json", get(ops::openapi));
    if state.config.playground {
        open = open.route("/playground", get(playground::page));
    }
    let mut api = Router::new()
        .route("/v1/claims/evaluate", post(claims::evaluate))
        .route("/v1/claims/batch", post(claims::batch))
        .route("/v1/check", post(policies::check))
        .route("/v1/policies", get(policies::list))
        .route("/v1/rules/{rule}", get(policies::rule))
        .route("/v1/status", get(policies::status))
        .route("/metrics", get(ops::metrics));
    if state.config.playground {
        api = api.route("/v1/playground/evaluate", post(playground::evaluate));
    }
    let api = api.route_layer(middleware::from_fn_with_state(
        (tokens.clone(), Class::Api),
        auth::require,
    ));
    let admin = Router::new()
        .route("/v1/reload", post(policies::reload))
        .route("/v1/members/{payer}/{member}/history", get(ops::history))
        .route_layer(middleware::from_fn_with_state(
            (tokens, Class::Admin),
            auth::require,
        ));
    open.merge(api)
        .merge(admin)
        .fallback(|| async { crate::error::ApiError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async {
            crate::error::ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method",
                None,
            )
        })
        .layer(middleware::from_fn(observe))
        .with_state(state)
}

/// Logs and counts each request by its route pattern, never its path: a
/// path can hold a member id.
async fn observe(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_owned();
    let method = request.method().clone();
    let response = next.run(request).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    crate::metrics::request(&route, status, took);
    tracing::debug!(
        method = %method,
        route = %route,
        status,
        micros = took.as_micros() as u64,
        "request"
    );
    response
}
