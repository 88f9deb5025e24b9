//! The decider: one thread owns the engine and its history store, fed by a
//! channel. Requests from every connection queue in arrival order, so each
//! member's claims are decided in that order; what queued meanwhile is decided
//! in one transaction (the library's batch protocol) and each request is
//! answered on its oneshot only after the commit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use payer_rules::{
    Claim, ClaimError, Engine, ErrorKind, Evaluated, HistoryDb, Member, MemoryHistory, Outcome,
    Policies, StoreError,
};
use tokio::sync::{mpsc, oneshot};

use crate::error::ApiError;
use crate::metrics;
use crate::policy_set::{PolicySet, Shared};

/// A claim as read, with its 1-based position in the request.
pub type Record = (usize, Result<Claim, ClaimError>);

/// One claim's answer: its JSON line (no newline), exactly as `eval` writes
/// it, and the error kind when it is an error record.
#[derive(Debug)]
pub struct Answer {
    /// `Outcome::write_json`'s bytes.
    pub json: Vec<u8>,
    /// The error record's kind, `None` for a decision.
    pub error: Option<ErrorKind>,
}

/// The answers of one job, in the order of its claims, and the policy
/// revision they were decided under (the job's own set's).
#[derive(Debug)]
pub struct Answers {
    /// One per claim.
    pub answers: Vec<Answer>,
    /// The revision of the set they were decided under.
    pub revision: Arc<str>,
}

/// A member's history, as `history show --json` lists it.
pub type HistoryRows = Vec<serde_json::Value>;

/// Where a job's answers go; a store failure is an `Err` with its message.
pub type ReplyTo = oneshot::Sender<Result<Answers, String>>;

/// A claims job waiting in the current group: its claims, `explain`, and
/// where its answers go.
type Pending = (Vec<Record>, bool, ReplyTo);

/// Work for the decider.
pub enum Job {
    /// Decide these claims and answer after their commit.
    Claims {
        /// The claims, in request order.
        claims: Vec<Record>,
        /// Add traces.
        explain: bool,
        /// The policy set active when the request started: its claims are
        /// decided under it even when a reload swapped another in since.
        set: Arc<PolicySet>,
        /// Where the answers go.
        reply: ReplyTo,
    },
    /// Read a member's stored history (SQLite or PostgreSQL only).
    History {
        /// The payer whose history is asked for.
        payer: String,
        /// The member id.
        member: String,
        /// Where the rows go.
        reply: oneshot::Sender<Result<HistoryRows, ApiError>>,
    },
    /// Decide what came before, close the store and end.
    Stop,
}

/// The engine over either store: the service picks one at start.
enum Deciding {
    Memory(Engine<MemoryHistory>),
    Durable(Engine<HistoryDb>),
}

/// The handle the handlers send jobs through.
pub struct Decider {
    tx: mpsc::Sender<Job>,
    depth: Arc<AtomicUsize>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// `sqlite`, `postgres` or `memory`.
    pub store: &'static str,
}

impl Decider {
    /// Starts the decider thread over `store` (in memory when `None`).
    pub fn start(
        shared: Arc<Shared>,
        store: Option<HistoryDb>,
        queue: usize,
        group: usize,
        decision_log: bool,
    ) -> std::io::Result<Decider> {
        let set = shared.current();
        let policies = set.policies.clone();
        let (engine, kind) = match store {
            Some(store) => {
                let kind = store.kind();
                (
                    Deciding::Durable(Engine::with_history(policies, store)),
                    kind,
                )
            }
            None => (Deciding::Memory(Engine::new(policies)), "memory"),
        };
        let (tx, rx) = mpsc::channel(queue.max(1));
        let depth = Arc::new(AtomicUsize::new(0));
        let counted = depth.clone();
        let thread = std::thread::Builder::new()
            .name("decider".into())
            .spawn(move || {
                run(
                    engine,
                    set.revision.clone(),
                    rx,
                    &counted,
                    group.max(1),
                    decision_log,
                );
            })?;
        Ok(Decider {
            tx,
            depth,
            thread: Mutex::new(Some(thread)),
            store: kind,
        })
    }

    /// Queues a job now, or says the service is overloaded (503).
    pub fn try_submit(&self, job: Job) -> Result<(), ApiError> {
        self.depth.fetch_add(1, Ordering::SeqCst);
        match self.tx.try_send(job) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.depth.fetch_sub(1, Ordering::SeqCst);
                match e {
                    mpsc::error::TrySendError::Full(_) => Err(ApiError::overloaded()),
                    mpsc::error::TrySendError::Closed(_) => Err(stopped()),
                }
            }
        }
    }

    /// Queues a job, waiting for room (a batch's chunks).
    pub async fn submit(&self, job: Job) -> Result<(), ApiError> {
        self.depth.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(job).await.is_err() {
            self.depth.fetch_sub(1, Ordering::SeqCst);
            return Err(stopped());
        }
        Ok(())
    }

    /// Jobs waiting.
    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::SeqCst)
    }

    /// Lets the decider finish what is queued, commit and close the store,
    /// and waits for it.
    pub async fn stop(&self) {
        let _ = self.tx.send(Job::Stop).await;
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

fn stopped() -> ApiError {
    ApiError::unavailable("unavailable", "the service is shutting down")
}

/// The claims jobs waiting to be decided together, all under one set.
#[derive(Default)]
struct Group {
    set: Option<Arc<PolicySet>>,
    jobs: Vec<Pending>,
}

/// The decider's loop: take what is queued (up to `group` claims), decide it
/// in one transaction, answer, again. A group holds jobs of one policy set:
/// a job that started under another set (a reload came between) closes the
/// group before it, so that each request is decided under the set it
/// started with.
fn run(
    mut engine: Deciding,
    mut revision: Arc<str>,
    mut rx: mpsc::Receiver<Job>,
    depth: &AtomicUsize,
    group: usize,
    decision_log: bool,
) {
    let mut pending = Group::default();
    while let Some(first) = rx.blocking_recv() {
        let mut next = Some(first);
        let mut claims = 0;
        let mut stop = false;
        while let Some(job) = next.take() {
            depth.fetch_sub(1, Ordering::SeqCst);
            match job {
                Job::Claims {
                    claims: records,
                    explain,
                    set,
                    reply,
                } => {
                    if pending
                        .set
                        .as_ref()
                        .is_some_and(|s| s.revision != set.revision)
                    {
                        engine = decide(engine, &mut revision, &mut pending, decision_log);
                    }
                    claims += records.len();
                    pending.set = Some(set);
                    pending.jobs.push((records, explain, reply));
                }
                Job::History {
                    payer,
                    member,
                    reply,
                } => {
                    // What was queued before it is decided first.
                    engine = decide(engine, &mut revision, &mut pending, decision_log);
                    let _ = reply.send(history(&engine, &payer, &member));
                }
                Job::Stop => {
                    stop = true;
                    break;
                }
            }
            if claims < group {
                next = rx.try_recv().ok();
            }
        }
        metrics::queue(depth.load(Ordering::SeqCst));
        engine = decide(engine, &mut revision, &mut pending, decision_log);
        if stop {
            break;
        }
    }
    // The store closes as the engine drops, after the last commit.
    drop(engine);
}

/// Decides the pending jobs in one transaction and answers them; first
/// swaps in their policy set when the engine has another (a new engine over
/// the same store: after a reload, or back for a request that started
/// before it).
fn decide(
    engine: Deciding,
    revision: &mut Arc<str>,
    group: &mut Group,
    decision_log: bool,
) -> Deciding {
    let set = group.set.take();
    let pending = &mut group.jobs;
    let Some(set) = set.filter(|_| !pending.is_empty()) else {
        return engine;
    };
    let mut engine = if set.revision == *revision {
        engine
    } else {
        *revision = set.revision.clone();
        engine.with_policies(set.policies.clone())
    };
    let started = Instant::now();
    let result = engine.decide_group(pending);
    let decided = started.elapsed();
    match result {
        Ok((evaluated, commit)) => {
            metrics::group(decided.saturating_sub(commit), commit);
            let mut evaluated = evaluated.into_iter();
            for (records, _, reply) in pending.drain(..) {
                let mut answers = Vec::with_capacity(records.len());
                for done in evaluated.by_ref().take(records.len()) {
                    answers.push(answer(&done));
                    if decision_log {
                        log_decision(&done, revision);
                    }
                    engine.recycle(done);
                }
                let _ = reply.send(Ok(Answers {
                    answers,
                    revision: revision.clone(),
                }));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "the history store failed; the group was rolled back");
            for (_, _, reply) in pending.drain(..) {
                let _ = reply.send(Err(e.to_string()));
            }
        }
    }
    engine
}

/// One decision log entry (`serve --decision-log`), written after the commit:
/// the claim id, the payer, the decision, the rule ids that fired and the
/// policy revision, and nothing else (no member id, no diagnosis, no line
/// data), as structured fields of a `decision` event.
fn log_decision(done: &Evaluated, revision: &str) {
    match &done.outcome {
        Outcome::Decision(d) => {
            let mut rules: Vec<&str> = d
                .lines
                .iter()
                .flat_map(|l| l.reasons.iter().map(|r| &*r.rule))
                .collect();
            rules.sort_unstable();
            rules.dedup();
            tracing::info!(
                target: "decision",
                claim = %d.id,
                payer = %d.payer,
                policy = %d.policy,
                decision = d.decision.as_str(),
                rules = %rules.join(","),
                revision,
                "decided"
            );
        }
        Outcome::Error(e) => {
            tracing::info!(
                target: "decision",
                claim = e.id.as_deref().unwrap_or(""),
                decision = "error",
                kind = e.error.kind.as_str(),
                revision,
                "not decided"
            );
        }
    }
}

/// A decided claim's answer, counted in the metrics.
fn answer(done: &Evaluated) -> Answer {
    let mut json = Vec::with_capacity(256);
    done.outcome.write_json(&mut json);
    match &done.outcome {
        Outcome::Decision(d) => {
            metrics::claim(&d.payer, d.decision.as_str());
            for line in &d.lines {
                for r in &line.reasons {
                    metrics::reason(&r.rule, r.action.as_str());
                }
            }
            Answer { json, error: None }
        }
        Outcome::Error(e) => {
            metrics::claim("none", e.error.kind.as_str());
            Answer {
                json,
                error: Some(e.error.kind),
            }
        }
    }
}

impl Deciding {
    fn with_policies(self, policies: Policies) -> Deciding {
        match self {
            Deciding::Memory(e) => {
                Deciding::Memory(Engine::with_history(policies, e.into_history()))
            }
            Deciding::Durable(e) => {
                Deciding::Durable(Engine::with_history(policies, e.into_history()))
            }
        }
    }

    fn recycle(&mut self, done: Evaluated) {
        match self {
            Deciding::Memory(e) => e.recycle(done),
            Deciding::Durable(e) => e.recycle(done),
        }
    }

    /// Decides the jobs' claims in order; with a database in one transaction,
    /// whose answers are released by its commit. Returns the answers and how
    /// long the commit took.
    fn decide_group(
        &mut self,
        jobs: &[Pending],
    ) -> Result<(Vec<Evaluated>, std::time::Duration), StoreError> {
        match self {
            Deciding::Memory(engine) => {
                // Nothing durable to wait for: an in-memory answer is final
                // as soon as it is decided.
                let mut out = Vec::new();
                for (records, explain, _) in jobs {
                    engine.set_explain(*explain);
                    for (record, claim) in records {
                        out.push(match claim {
                            Ok(claim) => {
                                let Ok(done) = engine.try_evaluate(claim, *record);
                                done
                            }
                            Err(e) => Evaluated::error(e.clone()),
                        });
                    }
                }
                Ok((out, std::time::Duration::ZERO))
            }
            Deciding::Durable(engine) => {
                let mut batch = engine.begin()?;
                let members: Vec<Member<'_>> = jobs
                    .iter()
                    .flat_map(|(records, _, _)| records.iter())
                    .filter_map(|(_, c)| c.as_ref().ok().map(Member::of))
                    .collect();
                batch.load(&members)?;
                for (records, explain, _) in jobs {
                    batch.set_explain(*explain);
                    for (record, claim) in records {
                        match claim {
                            Ok(claim) => batch.decide(claim, *record)?,
                            Err(e) => batch.reject(e.clone()),
                        }
                    }
                }
                let committing = Instant::now();
                let answers = batch.commit()?;
                Ok((answers, committing.elapsed()))
            }
        }
    }
}

/// A member's stored services and claim versions in one payer's history, as
/// `history show --payer --json`.
fn history(engine: &Deciding, payer: &str, member: &str) -> Result<HistoryRows, ApiError> {
    let Deciding::Durable(engine) = engine else {
        return Err(ApiError::not_found(
            "the history endpoint needs a history database (serve --db)",
        ));
    };
    let store = engine.history();
    let failed = |e: StoreError| ApiError::unavailable("store_failed", e.to_string());
    let services = store.services_of(Some(payer), member).map_err(failed)?;
    let claims = store
        .claims_in_order(Some(payer), Some(member))
        .map_err(failed)?;
    let mut rows = Vec::with_capacity(services.len() + claims.len());
    for s in &services {
        rows.push(
            serde_json::json!({"patient": member, "payer": s.payer, "date": s.date,
            "procedure": s.procedure, "site": s.site, "claim": s.claim, "line": s.line,
            "units": s.units, "modifier_50": s.modifier_50, "charge": s.charge,
                       "modifiers": s.modifiers}),
        );
    }
    for c in &claims {
        rows.push(
            serde_json::json!({"patient": member, "payer": c.payer, "claim": c.id, "seq": c.seq,
            "status": c.status.as_str(), "replaces": c.replaces, "replaced_by": c.replaced_by,
            "hash": c.hash}),
        );
    }
    Ok(rows)
}
