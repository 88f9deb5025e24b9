//! `payer-rules eval`: claims in, one decision per claim out (JSON Lines), a
//! summary on stderr.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

use super::report::{print_diagnostics, tally};
use super::{EXIT_FAILED, EXIT_OK, EXIT_STORE, EXIT_USAGE};
use payer_rules::internal::{evaluate_lines, ClaimSlot, Lookahead, Tally};
use payer_rules::{
    Claim, ClaimDecision, ClaimError, Engine, Evaluated, Imported, InputFormat, Outcome, PayerIds,
    Policies, Reason, SqliteHistory, StoreError,
};

/// What `eval` was asked to do.
pub struct Options {
    /// Policy files or directories.
    pub policies: Vec<PathBuf>,
    /// The claims file; stdin when `None` or `-`.
    pub input: Option<PathBuf>,
    /// Input format.
    pub format: InputFormat,
    /// X12 payer ids and their policy payers.
    pub payer_ids: Option<Arc<PayerIds>>,
    /// Prior-history files.
    pub history: Vec<PathBuf>,
    /// Add traces.
    pub explain: bool,
    /// No summary.
    pub quiet: bool,
    /// Worker threads; claims of one patient always go to the same worker.
    pub jobs: usize,
    /// The history database; in memory when `None`.
    pub db: Option<PathBuf>,
    /// Claims per transaction with `db`.
    pub batch: usize,
    /// How long to wait for another process's write lock on `db`.
    pub busy_timeout: Duration,
}

fn open(path: Option<&PathBuf>) -> io::Result<Box<dyn BufRead + Send>> {
    match path {
        None => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(p) if p.as_os_str() == "-" => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(p) => Ok(Box::new(BufReader::with_capacity(1 << 16, File::open(p)?))),
    }
}

/// Counts for the summary.
#[derive(Default)]
struct Summary {
    claims: usize,
    replayed: usize,
    lines: usize,
    /// Claims by decision, indexed by `ClaimDecision as usize`: counted on every
    /// claim, where a map keyed by name compared strings.
    by_decision: [usize; ClaimDecision::ALL.len()],
    by_error: BTreeMap<&'static str, usize>,
    /// Reasons counted by identity (the policy's name and the shared reason):
    /// a hash of two words per reason instead of strings copied and compared.
    /// The policy and reason are kept to name them at the end, where equal
    /// names add up.
    by_rule: FxHashMap<RuleKey, (Arc<str>, Reason, usize)>,
    /// Reasons of replayed decisions, by text: a decision rebuilt from the
    /// store has texts of its own, whose addresses would each make a new entry.
    replayed_by_rule: BTreeMap<(String, String, &'static str), usize>,
}

/// The addresses of a reason's policy name and of the reason.
type RuleKey = (usize, usize);

impl Tally for Summary {
    fn add(&mut self, evaluated: &Evaluated) {
        self.claims += 1;
        self.replayed += usize::from(evaluated.replayed);
        match &evaluated.outcome {
            Outcome::Decision(d) => {
                self.lines += d.lines.len();
                // One counter per `ClaimDecision::ALL` entry, indexed by its
                // discriminant.
                if let Some(n) = self.by_decision.get_mut(d.decision as usize) {
                    *n += 1;
                }
                for line in &d.lines {
                    for r in &line.reasons {
                        if evaluated.replayed {
                            *self
                                .replayed_by_rule
                                .entry((
                                    d.policy.to_string(),
                                    r.rule.to_string(),
                                    r.action.as_str(),
                                ))
                                .or_default() += 1;
                            continue;
                        }
                        let key = (Arc::as_ptr(&d.policy).cast::<u8>() as usize, r.address());
                        self.by_rule
                            .entry(key)
                            .or_insert_with(|| (d.policy.clone(), r.clone(), 0))
                            .2 += 1;
                    }
                }
            }
            Outcome::Error(e) => *self.by_error.entry(e.error.kind.as_str()).or_default() += 1,
        }
    }

    fn merge(&mut self, other: Summary) {
        self.claims += other.claims;
        self.replayed += other.replayed;
        self.lines += other.lines;
        for (mine, n) in self.by_decision.iter_mut().zip(other.by_decision) {
            *mine += n;
        }
        for (k, n) in other.by_error {
            *self.by_error.entry(k).or_default() += n;
        }
        // Each worker's policies are its own copies: equal names under other
        // addresses are merged when printing, as the summary already does.
        for (k, (policy, rule, n)) in other.by_rule {
            self.by_rule.entry(k).or_insert((policy, rule, 0)).2 += n;
        }
        for (k, n) in other.replayed_by_rule {
            *self.replayed_by_rule.entry(k).or_default() += n;
        }
    }
}

impl Summary {
    fn print(&self, seconds: f64, load: Duration) {
        let per_s = |n: usize| {
            if seconds > 0.0 {
                n as f64 / seconds
            } else {
                0.0
            }
        };
        let by_name: BTreeMap<&str, usize> = ClaimDecision::ALL
            .iter()
            .zip(self.by_decision)
            .filter(|(_, n)| *n > 0)
            .map(|(d, n)| (d.as_str(), n))
            .collect();
        let decisions: Vec<String> = by_name.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let memory = peak_memory_mib()
            .map(|m| format!(", peak memory {m:.1} MiB"))
            .unwrap_or_default();
        eprintln!(
            "evaluated {} claims ({} lines) in {seconds:.3} s ({:.0} claims/s, {:.0} lines/s; policies loaded in {:.1} ms{memory}): {}",
            self.claims,
            self.lines,
            per_s(self.claims),
            per_s(self.lines),
            load.as_secs_f64() * 1000.0,
            if decisions.is_empty() { "no decisions".to_string() } else { decisions.join(", ") }
        );
        if self.replayed > 0 {
            let (n, were) = if self.replayed == 1 {
                ("claim", "was")
            } else {
                ("claims", "were")
            };
            eprintln!(
                "{} {n} {were} sent before with the same content: answered with the stored decisions",
                self.replayed
            );
        }
        if !self.by_error.is_empty() {
            let errors: Vec<String> = self
                .by_error
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            eprintln!("errors: {}", errors.join(", "));
        }
        if !self.by_rule.is_empty() || !self.replayed_by_rule.is_empty() {
            eprintln!("reasons by rule (policy, rule, action, lines):");
            // Equal texts behind different pointers (a replayed decision's) add up.
            let mut by_rule: BTreeMap<(&str, &str, &str), usize> = BTreeMap::new();
            for (policy, reason, n) in self.by_rule.values() {
                *by_rule
                    .entry((policy, &reason.rule, reason.action.as_str()))
                    .or_default() += n;
            }
            for ((policy, rule, action), n) in &self.replayed_by_rule {
                *by_rule.entry((policy, rule, action)).or_default() += n;
            }
            for ((policy, rule, action), n) in &by_rule {
                eprintln!("  {policy:<20} {rule:<12} {action:<7} {n}");
            }
        }
    }
}

/// The first byte that is not white space, without consuming anything.
fn first_byte(input: &mut Box<dyn BufRead + Send>) -> Option<u8> {
    let buf = input.fill_buf().ok()?;
    buf.iter().copied().find(|b| !b.is_ascii_whitespace())
}

/// One thread: read, decide, write, claim after claim.
fn sequential(
    policies: Policies,
    prior: Vec<Claim>,
    opts: &Options,
    input: Box<dyn BufRead + Send>,
    out: &mut impl Write,
    summary: &mut Summary,
) -> io::Result<()> {
    let mut engine = Engine::new(policies).explain(opts.explain);
    for claim in &prior {
        let Ok(_) = engine.import(claim);
    }
    let result = decide_all(&mut engine, opts, input, out, summary);
    // The process ends next: handing the history back to the OS whole is faster
    // than freeing it entry by entry.
    std::mem::forget(engine);
    result
}

/// Bytes of output gathered before they are written.
const WRITE_BLOCK: usize = 64 * 1024;

fn decide_all(
    engine: &mut Engine,
    opts: &Options,
    input: Box<dyn BufRead + Send>,
    out: &mut impl Write,
    summary: &mut Summary,
) -> io::Result<()> {
    // Decisions are gathered in a buffer and written in blocks: one `write_all`
    // per claim through the writer's checks cost more than the JSON itself.
    let mut pending: Vec<u8> = Vec::with_capacity(2 * WRITE_BLOCK);
    let mut reader = super::claim_reader(input, opts.format, opts.payer_ids.as_ref());
    let mut record = 0;
    let mut claims = Lookahead::new(|slot: &mut ClaimSlot| {
        let read = reader.read_into(slot);
        super::print_warnings(&mut reader);
        read.then(|| {
            record += 1;
            record
        })
    });
    while let Some((record, claim)) = claims.next(engine) {
        let evaluated = match claim {
            Ok(claim) => {
                let Ok(done) = engine.try_evaluate(claim, record);
                done
            }
            Err(e) => Evaluated::error(e.clone()),
        };
        summary.add(&evaluated);
        evaluated.append_line(&mut pending);
        engine.recycle(evaluated);
        if pending.len() >= WRITE_BLOCK {
            out.write_all(&pending)?;
            pending.clear();
        }
    }
    out.write_all(&pending)
}

/// Why a run with a database stopped.
enum DbFailure {
    Store(StoreError),
    Write(io::Error),
}

impl From<StoreError> for DbFailure {
    fn from(e: StoreError) -> DbFailure {
        DbFailure::Store(e)
    }
}

impl From<io::Error> for DbFailure {
    fn from(e: io::Error) -> DbFailure {
        DbFailure::Write(e)
    }
}

/// Records read ahead of evaluation, a chunk per message.
type Chunk = Vec<(usize, Result<Claim, ClaimError>)>;

/// With a database: a reader thread parses claims while this thread evaluates
/// them in batches. Each batch is one transaction: the write lock is taken, the
/// claims are decided and stored, the transaction commits, and only then are the
/// batch's decisions written out, in input order. A crash loses at most the
/// uncommitted batch, whose decisions were never written; running the same input
/// again answers the committed claims from the store and evaluates the rest.
fn with_db(
    engine: &mut Engine<SqliteHistory>,
    opts: &Options,
    input: Box<dyn BufRead + Send>,
    out: &mut impl Write,
    summary: &mut Summary,
) -> Result<(), DbFailure> {
    const CHUNK: usize = 64;
    // How long a batch waits to fill up when claims arrive slowly.
    const FILL: Duration = Duration::from_millis(50);
    let format = opts.format;
    let payer_ids = opts.payer_ids.clone();
    let batch_size = opts.batch.max(1);
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<Chunk>(64);
        let reader = std::thread::Builder::new().name("claim-reader".into());
        let spawned = reader.spawn_scoped(scope, move || {
            let mut chunk = Vec::with_capacity(CHUNK);
            let mut reader = super::claim_reader(input, format, payer_ids.as_ref());
            let mut record = 0;
            while let Some(claim) = reader.next() {
                super::print_warnings(&mut reader);
                record += 1;
                chunk.push((record, claim));
                if chunk.len() == CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                    if tx.send(full).is_err() {
                        return;
                    }
                }
            }
            if !chunk.is_empty() {
                let _ = tx.send(chunk);
            }
        });
        if let Err(e) = spawned {
            return Err(DbFailure::Write(e));
        }
        // The batch's decisions, held back until the batch is committed; one
        // buffer, reused, so that holding them costs no allocation per claim.
        let mut held: Vec<u8> = Vec::with_capacity(batch_size * 512);
        while let Ok(mut claims) = rx.recv() {
            let deadline = Instant::now() + FILL;
            while claims.len() < batch_size {
                match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(more) => claims.extend(more),
                    Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
                }
            }
            // The library's batch protocol: one transaction, whose answers are
            // released only once it has committed (a failure drops the batch,
            // which rolls it back).
            let mut batch = engine.begin()?;
            batch.decide_all(claims)?;
            let answers = batch.commit()?;
            held.clear();
            for evaluated in answers {
                summary.add(&evaluated);
                // Writing into memory cannot fail.
                evaluated.append_line(&mut held);
                engine.recycle(evaluated);
            }
            out.write_all(&held)?;
            out.flush()?;
        }
        Ok(())
    })
}

/// Imports paid claims into a store, `batch` claims per transaction, reporting
/// conflicts on stderr. Returns how many were added, already present and
/// conflicting.
pub(super) fn import_into(
    engine: &mut Engine<SqliteHistory>,
    claims: &[Claim],
    batch: usize,
    source: &str,
) -> Result<(usize, usize, usize), StoreError> {
    let mut counts = (0, 0, 0);
    for chunk in claims.chunks(batch.max(1)) {
        let mut batch = engine.begin()?;
        let members: Vec<&str> = chunk.iter().map(|c| c.patient.id.as_str()).collect();
        batch.load(&members)?;
        for claim in chunk {
            match batch.import(claim)? {
                Imported::Added => counts.0 += 1,
                Imported::Present => counts.1 += 1,
                Imported::Conflict => {
                    counts.2 += 1;
                    eprintln!(
                        "history `{source}`: skipped claim `{}` of patient `{}`: other content is already stored under its id",
                        claim.id, claim.patient.id
                    );
                }
            }
        }
        batch.commit()?;
    }
    Ok(counts)
}

/// Opens the history database, or says why not.
pub(super) fn open_db(path: &Path, busy_timeout: Duration) -> Result<SqliteHistory, u8> {
    SqliteHistory::open(path, busy_timeout).map_err(|e| {
        eprintln!("cannot open the history database: {e}");
        EXIT_STORE
    })
}

/// The process's peak resident memory, where the OS tells it (Linux).
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The exit status when stdout fails: a closed pipe (`| head`) is a normal end.
fn write_failed(e: &io::Error) -> u8 {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return EXIT_OK;
    }
    eprintln!("cannot write decisions: {e}");
    EXIT_USAGE
}

/// Runs `eval`.
pub fn run(opts: &Options) -> u8 {
    let load_started = Instant::now();
    let loaded = Policies::load(&opts.policies);
    let load_time = load_started.elapsed();
    if loaded.has_errors() || loaded.policies.is_none() {
        print_diagnostics(&loaded.diagnostics);
        eprintln!(
            "the policies have errors ({}); nothing was evaluated",
            tally(&loaded.diagnostics)
        );
        return EXIT_FAILED;
    }
    let Some(policies) = loaded.policies else {
        return EXIT_FAILED;
    };
    if policies.is_empty() {
        eprintln!(
            "no policy found in {}",
            opts.policies
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return EXIT_USAGE;
    }
    if opts.db.is_some() && opts.jobs > 1 {
        eprintln!(
            "--jobs works with in-memory history only: with --db, one thread evaluates the claims \
             in arrival order and the database's transactions keep other processes in step; \
             drop --jobs (or --db)"
        );
        return EXIT_USAGE;
    }
    let mut prior = Vec::new();
    for path in &opts.history {
        let reader = match open(Some(path)) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("cannot read history `{}`: {e}", path.display());
                return EXIT_USAGE;
            }
        };
        let mut claims = super::claim_reader(reader, InputFormat::Auto, opts.payer_ids.as_ref());
        while let Some(claim) = claims.next() {
            super::print_warnings(&mut claims);
            match claim {
                Ok(claim) => prior.push(claim),
                Err(e) => eprintln!("history `{}`: skipped {e}", path.display()),
            }
        }
    }

    let mut input = match open(opts.input.as_ref()) {
        Ok(r) => r,
        Err(e) => {
            let name = opts
                .input
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            eprintln!("cannot read claims `{name}`: {e}");
            return EXIT_USAGE;
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut summary = Summary::default();
    if let Some(db) = &opts.db {
        let store = match open_db(db, opts.busy_timeout) {
            Ok(s) => s,
            Err(code) => return code,
        };
        let mut engine = Engine::with_history(policies, store).explain(opts.explain);
        let source = opts
            .history
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        if let Err(e) = import_into(&mut engine, &prior, opts.batch, &source) {
            eprintln!("cannot import the history: {e}");
            return EXIT_STORE;
        }
        let started = Instant::now();
        match with_db(&mut engine, opts, input, &mut out, &mut summary) {
            Ok(()) => {}
            Err(DbFailure::Store(e)) => {
                let _ = out.flush();
                eprintln!(
                    "the history database failed; claims after the last decision written were not stored: {e}"
                );
                return EXIT_STORE;
            }
            Err(DbFailure::Write(e)) => return write_failed(&e),
        }
        if !opts.quiet {
            summary.print(started.elapsed().as_secs_f64(), load_time);
            let drops = engine.history().cache_drops;
            if drops > 0 {
                eprintln!(
                    "history `{}`: another process committed during the run; the cache was reloaded {drops} times",
                    db.display()
                );
            }
        }
        return EXIT_OK;
    }
    let started = Instant::now();
    let lines = match opts.format {
        InputFormat::JsonLines => true,
        InputFormat::Auto => first_byte(&mut input) == Some(b'{'),
        _ => false,
    };
    let result = if opts.jobs > 1 && lines {
        evaluate_lines::<_, _, Summary>(
            &policies,
            prior,
            opts.explain,
            opts.jobs,
            opts.format,
            input,
            &mut out,
        )
        .map(|counted| summary.merge(counted))
    } else {
        sequential(policies, prior, opts, input, &mut out, &mut summary)
    };
    if let Err(e) = result.and_then(|()| out.flush()) {
        return write_failed(&e);
    }
    if !opts.quiet {
        summary.print(started.elapsed().as_secs_f64(), load_time);
    }
    EXIT_OK
}
