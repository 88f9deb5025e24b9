//! `POST /v1/claims/evaluate` and `POST /v1/claims/batch`: claims to the
//! decider, answers (the CLI's bytes) back after their commit.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use payer_rules::ErrorKind;
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot};
use utoipa::IntoParams;

use crate::body;
use crate::decider::{Answers, Job, Record};
use crate::error::{ApiError, ErrorResponse};
use crate::policy_set::PolicySet;
use crate::state::{AppState, St};

/// The header naming the policy revision a decision was made under.
pub const REVISION: &str = "x-policy-revision";

/// Claims per job a batch is cut into: its answers stream a chunk at a time.
const CHUNK: usize = 512;

/// `?explain=true`.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ExplainQuery {
    /// Add each rule's evaluation trace to every line decision (as
    /// `eval --explain`).
    #[serde(default)]
    pub explain: bool,
}

type Reply = oneshot::Receiver<Result<Answers, String>>;

/// The query, or a JSON 400 naming it (axum's own rejection is plain text).
pub fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request(e.body_text(), "query"))
}

/// Waits for a job's answers, under the request time limit.
async fn answers(state: &AppState, rx: Reply) -> Result<Answers, ApiError> {
    match tokio::time::timeout(state.config.request_timeout, rx).await {
        Err(_) => Err(ApiError::unavailable(
            "timeout",
            "no answer within the request time limit; sending the claim again is safe",
        )),
        Ok(Err(_)) => Err(ApiError::unavailable(
            "unavailable",
            "the service is shutting down",
        )),
        Ok(Ok(Err(store))) => Err(ApiError::unavailable(
            "store_failed",
            format!("the history store failed; nothing was stored: {store}"),
        )),
        Ok(Ok(Ok(answers))) => Ok(answers),
    }
}

fn revision_header(revision: &str) -> HeaderValue {
    HeaderValue::from_str(revision).unwrap_or_else(|_| HeaderValue::from_static("unknown"))
}

/// Decide one claim (JSON, or an 837P holding one claim).
#[utoipa::path(
    post,
    path = "/v1/claims/evaluate",
    tag = "claims",
    params(ExplainQuery),
    request_body(
        description = "One claim, as CLAIMS.md describes it, or an 837P interchange (X12 005010X222A1) holding one claim; an X12 payer id (2010BB NM109) names its policy payer as in `eval --payer-ids` (`serve --payer-ids` over the policies' `payer-ids`)",
        content((Object = "application/json"), (String = "application/edi-x12"))),
    responses(
        (status = 200, description = "The decision, exactly as `payer-rules eval` writes it (CLAIMS.md); header `X-Policy-Revision`", body = Object),
        (status = 400, description = "More than one claim in the body", body = ErrorResponse),
        (status = 401, description = "No valid bearer token", body = ErrorResponse),
        (status = 409, description = "The claim id holds other content (error record, kind `conflict`)", body = Object),
        (status = 413, description = "The body is too large", body = ErrorResponse),
        (status = 422, description = "Invalid claim or no policy for its payer (error record, kinds `invalid_claim`, `no_policy`)", body = Object),
        (status = 503, description = "Overloaded, timed out, store failed or shutting down; `Retry-After`", body = ErrorResponse),
    )
)]
pub async fn evaluate(
    state: St,
    query_string: Result<Query<ExplainQuery>, QueryRejection>,
    headers: HeaderMap,
    request: Body,
) -> Result<Response, ApiError> {
    let state = state.0;
    // The policies this request is decided under, whatever reloads follow.
    let set = state.shared.current();
    let query = query(query_string)?;
    let bytes = body::read(request, &headers, state.config.max_body).await?;
    let record = body::one_claim(&bytes, state.config.max_lines, set.payer_ids.as_ref())?;
    let (tx, rx) = oneshot::channel();
    state.decider.try_submit(Job::Claims {
        claims: vec![record],
        explain: query.explain,
        set,
        reply: tx,
    })?;
    let done = answers(&state, rx).await?;
    let Some(answer) = done.answers.into_iter().next() else {
        return Err(ApiError::unavailable(
            "unavailable",
            "the claim got no answer",
        ));
    };
    let status = match answer.error {
        None => StatusCode::OK,
        Some(ErrorKind::Conflict) => StatusCode::CONFLICT,
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Ok((
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::HeaderName::from_static(REVISION),
                revision_header(&done.revision),
            ),
        ],
        answer.json,
    )
        .into_response())
}

/// Decide many claims: JSON Lines (or a JSON array, YAML or an 837P) in,
/// JSON Lines out in input order, streamed as each chunk commits.
#[utoipa::path(
    post,
    path = "/v1/claims/batch",
    tag = "claims",
    params(ExplainQuery),
    request_body(
        description = "Claims, one JSON object per line (a JSON array or YAML also do), or an 837P interchange (X12 005010X222A1), read as `eval` reads it; an X12 payer id (2010BB NM109) names its policy payer as in `eval --payer-ids` (`serve --payer-ids` over the policies' `payer-ids`)",
        content((String = "application/x-ndjson"), (String = "application/edi-x12"))),
    responses(
        (status = 200, description = "One decision or error record (with `record`) per claim, in input order, byte-identical to `payer-rules eval`", body = String, content_type = "application/x-ndjson"),
        (status = 401, description = "No valid bearer token", body = ErrorResponse),
        (status = 413, description = "The body or the number of claims is past the limit", body = ErrorResponse),
        (status = 503, description = "Store failed or shutting down; `Retry-After`", body = ErrorResponse),
    )
)]
pub async fn batch(
    state: St,
    query_string: Result<Query<ExplainQuery>, QueryRejection>,
    headers: HeaderMap,
    request: Body,
) -> Result<Response, ApiError> {
    let state = state.0;
    // The policies every chunk of this batch is decided under, whatever
    // reloads happen while it runs.
    let set = state.shared.current();
    let query = query(query_string)?;
    let bytes = body::read(request, &headers, state.config.max_batch_body).await?;
    let (max_claims, max_lines) = (state.config.max_batch_claims, state.config.max_lines);
    let payer_ids = set.payer_ids.clone();
    let records = tokio::task::spawn_blocking(move || {
        body::claims(&bytes, max_claims, max_lines, payer_ids.as_ref())
    })
    .await
    .map_err(|_| ApiError::unavailable("unavailable", "the claims could not be read"))??;
    if records.is_empty() {
        return Ok(ndjson(&set.revision, Body::empty()));
    }
    let replies = submit_chunks(state.clone(), records, query.explain, set);
    stream_answers(state, replies).await
}

/// Sends the claims to the decider a chunk at a time, in order, handing each
/// chunk's reply on as it goes.
fn submit_chunks(
    state: Arc<AppState>,
    records: Vec<Record>,
    explain: bool,
    set: Arc<PolicySet>,
) -> mpsc::Receiver<Reply> {
    let (tx, rx) = mpsc::channel::<Reply>(64);
    tokio::spawn(async move {
        let mut records = records.into_iter().peekable();
        while records.peek().is_some() {
            let chunk: Vec<Record> = records.by_ref().take(CHUNK).collect();
            let (reply, answer) = oneshot::channel();
            let job = Job::Claims {
                claims: chunk,
                explain,
                set: set.clone(),
                reply,
            };
            if state.decider.submit(job).await.is_err() || tx.send(answer).await.is_err() {
                break;
            }
        }
    });
    rx
}

/// The response: the first chunk is awaited (the revision goes in the
/// header, and a failure is still a proper status), the rest stream. Every
/// chunk is decided under the set the request started with.
async fn stream_answers(
    state: Arc<AppState>,
    mut replies: mpsc::Receiver<Reply>,
) -> Result<Response, ApiError> {
    let Some(first) = replies.recv().await else {
        return Err(ApiError::unavailable(
            "unavailable",
            "the service is shutting down",
        ));
    };
    let first = answers(&state, first).await?;
    let revision = first.revision.clone();
    let head = lines(first);
    let rest = stream::unfold(
        (Some(head), replies, state, false),
        |(head, mut replies, state, failed)| async move {
            if let Some(head) = head {
                return Some((
                    Ok::<Bytes, std::io::Error>(head),
                    (None, replies, state, failed),
                ));
            }
            if failed {
                return None;
            }
            let reply = replies.recv().await?;
            match answers(&state, reply).await {
                Ok(done) => Some((Ok(lines(done)), (None, replies, state, false))),
                Err(e) => {
                    // The status is sent already: the failure is the last line.
                    let mut line = ErrorResponse::json(e.body);
                    line.push(b'\n');
                    Some((Ok(Bytes::from(line)), (None, replies, state, true)))
                }
            }
        },
    );
    Ok(ndjson(&revision, Body::from_stream(rest)))
}

fn lines(done: Answers) -> Bytes {
    let size = done.answers.iter().map(|a| a.json.len() + 1).sum();
    let mut out = Vec::with_capacity(size);
    for answer in done.answers {
        out.extend_from_slice(&answer.json);
        out.push(b'\n');
    }
    Bytes::from(out)
}

fn ndjson(revision: &str, body: Body) -> Response {
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-ndjson"),
            ),
            (
                header::HeaderName::from_static(REVISION),
                revision_header(revision),
            ),
        ],
        body,
    )
        .into_response()
}
