//! The Prometheus metrics: names, labels and the recorder. Labels are only
//! payers, decisions, rules, results and routes: never a member or a claim id.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Claims decided, by payer (of a matched policy, else `none`) and decision
/// (or error kind).
pub const CLAIMS: &str = "payer_rules_claims_total";
/// Line reasons given, by rule and action.
pub const REASONS: &str = "payer_rules_line_reasons_total";
/// Time to decide one group of claims, store excluded.
pub const EVALUATE: &str = "payer_rules_evaluate_duration_seconds";
/// Time to commit one group's transaction.
pub const COMMIT: &str = "payer_rules_batch_commit_duration_seconds";
/// Reload attempts by result (`success`, `unchanged`, `failure`).
pub const RELOADS: &str = "payer_rules_policy_reloads_total";
/// 1 for the active revision.
pub const POLICY_INFO: &str = "payer_rules_policy_info";
/// Jobs waiting for the decider.
pub const QUEUE: &str = "payer_rules_engine_queue_depth";
/// HTTP requests by route and status.
pub const REQUESTS: &str = "http_requests_total";
/// HTTP request latency by route.
pub const REQUEST_DURATION: &str = "http_request_duration_seconds";

const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder once (a second service in the same
/// process shares it) and returns the handle `/metrics` renders.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .ok()?;
            builder.install_recorder().ok()
        })
        .clone()
}

/// A claim decided (after its commit).
pub fn claim(payer: &str, decision: &str) {
    counter!(CLAIMS, "payer" => payer.to_string(), "decision" => decision.to_string()).increment(1);
}

/// A reason given on a line.
pub fn reason(rule: &str, action: &'static str) {
    counter!(REASONS, "rule" => rule.to_string(), "action" => action).increment(1);
}

/// How long deciding and committing one group took.
pub fn group(evaluate: Duration, commit: Duration) {
    histogram!(EVALUATE).record(evaluate.as_secs_f64());
    histogram!(COMMIT).record(commit.as_secs_f64());
}

/// The decider's queue depth.
pub fn queue(depth: usize) {
    gauge!(QUEUE).set(depth as f64);
}

/// A reload attempt.
pub fn reload(result: &'static str) {
    counter!(RELOADS, "result" => result).increment(1);
}

/// A revision became active (the previous one, if any, no longer is).
pub fn policy_loaded(revision: &str, previous: Option<&str>) {
    if let Some(previous) = previous {
        gauge!(POLICY_INFO, "revision" => previous.to_string()).set(0.0);
    }
    gauge!(POLICY_INFO, "revision" => revision.to_string()).set(1.0);
}

/// One HTTP request answered.
pub fn request(route: &str, status: u16, took: Duration) {
    counter!(REQUESTS, "route" => route.to_string(), "status" => status.to_string()).increment(1);
    histogram!(REQUEST_DURATION, "route" => route.to_string()).record(took.as_secs_f64());
}
