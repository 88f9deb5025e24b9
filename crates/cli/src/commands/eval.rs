//! `payer-rules eval`: claims in, one decision per claim out (JSON Lines), a
//! summary on stderr.

use crate::stdio::errln;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

use super::prior::{self, Counts, PriorFile};
use super::progress::{Lines, Progress};
use super::report::{print_diagnostics, tally};
use super::waiting::Watched;
use super::{EXIT_FAILED, EXIT_OK, EXIT_STORE, EXIT_USAGE};
use payer_rules::internal::{evaluate_lines, icd10, ClaimSlot, Lookahead, Tally};
use payer_rules::{
    Claim, ClaimDecision, ClaimError, Engine, Evaluated, HistoryDb, InputFormat, Outcome, PayerIds,
    Policies, Reason, StoreError,
};

/// What `eval` was asked to do.
#[derive(Clone)]
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
    /// Worker threads; claims of one member id always go to the same worker.
    pub jobs: usize,
    /// The history database; in memory when `None`.
    pub db: Option<PathBuf>,
    /// Claims per transaction with `db`.
    pub batch: usize,
    /// How long to wait for another process's write lock on `db`.
    pub busy_timeout: Duration,
}

fn open(
    path: Option<&PathBuf>,
    progress: Option<&Progress>,
) -> io::Result<Box<dyn BufRead + Send>> {
    match path {
        Some(p) if p.as_os_str() != "-" => {
            let file = File::open(p)?;
            readable(&file.metadata()?, false)?;
            Ok(match progress {
                Some(progress) => Box::new(BufReader::with_capacity(1 << 16, progress.count(file))),
                None => Box::new(BufReader::with_capacity(1 << 16, file)),
            })
        }
        _ => {
            #[cfg(unix)]
            {
                use std::io::IsTerminal;
                use std::os::fd::AsFd;
                let stdin = io::stdin();
                // A closed stdin has no metadata: reading it gives nothing.
                if let Ok(meta) = stdin.as_fd().try_clone_to_owned().map(File::from) {
                    readable(&meta.metadata()?, stdin.is_terminal())?;
                }
            }
            Ok(Box::new(BufReader::new(io::stdin())))
        }
    }
}

/// Refuses an input that is not a file, a pipe or a terminal: a directory
/// (reading it fails) and a device such as `/dev/zero` (which never ends and
/// has no lines).
fn readable(meta: &std::fs::Metadata, terminal: bool) -> io::Result<()> {
    if meta.is_dir() {
        return Err(io::Error::other("it is a directory"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if meta.file_type().is_char_device() && !terminal || meta.file_type().is_block_device() {
            return Err(io::Error::other(
                "it is a device, not a file or a pipe of claims",
            ));
        }
    }
    let _ = terminal;
    Ok(())
}

/// The input's format: as given, else what the file's name says (`.jsonl`,
/// `.yaml`...), else detected from the start of the input.
fn input_format(opts: &Options) -> InputFormat {
    match (opts.format, &opts.input) {
        (InputFormat::Auto, Some(path)) => InputFormat::of_path(path),
        (format, _) => format,
    }
}

/// False when stdout was closed when the process started (`>&-`): every
/// decision would be lost unnoticed, since Rust's stdout drops writes to a
/// closed descriptor as if they succeeded, and its runtime reopens a closed
/// standard descriptor on `/dev/null` before `main`. That one is read and
/// write, which a shell's `>/dev/null` (write only) never is.
fn stdout_is_open() -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if io::stdout().as_fd().try_clone_to_owned().is_err() {
            return false;
        }
    }
    #[cfg(target_os = "linux")]
    {
        let null = std::fs::read_link("/proc/self/fd/1").is_ok_and(|t| t == Path::new("/dev/null"));
        let read_write = std::fs::read_to_string("/proc/self/fdinfo/1").is_ok_and(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("flags:"))
                .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
                .is_some_and(|flags| flags & 0o3 == 0o2)
        });
        if null && read_write {
            return false;
        }
    }
    true
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
    /// Error records about the input rather than one claim (unreadable, or
    /// not splittable into claims): claims may have been lost.
    input_lost: usize,
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
                                    r.policy.to_string(),
                                    r.rule.to_string(),
                                    r.action.as_str(),
                                ))
                                .or_default() += 1;
                            continue;
                        }
                        // The rule's own policy: a claim may have several.
                        let key = (Arc::as_ptr(&r.policy).cast::<u8>() as usize, r.address());
                        self.by_rule
                            .entry(key)
                            .or_insert_with(|| (r.policy.clone(), r.clone(), 0))
                            .2 += 1;
                    }
                }
            }
            Outcome::Error(e) => {
                *self.by_error.entry(e.error.kind.as_str()).or_default() += 1;
                self.input_lost += usize::from(e.input_lost);
            }
        }
    }

    fn merge(&mut self, other: Summary) {
        self.claims += other.claims;
        self.replayed += other.replayed;
        self.lines += other.lines;
        self.input_lost += other.input_lost;
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
    /// The exit status of a run that wrote every outcome: 2 when the input
    /// could not be read or split into claims (claims may be lost; the error
    /// record says where), else 0.
    fn status(&self) -> u8 {
        if self.input_lost > 0 {
            errln!(
                "the input could not be read whole: claims after the error record may be missing"
            );
            EXIT_USAGE
        } else {
            EXIT_OK
        }
    }

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
        errln!(
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
            errln!(
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
            errln!("errors: {}", errors.join(", "));
        }
        // Each way a date of service was read with another year's ICD-10-CM
        // code set, said once however many claims it concerned.
        for note in icd10::fits_seen().into_iter().filter_map(icd10::fit_note) {
            errln!("{note}");
        }
        if !self.by_rule.is_empty() || !self.replayed_by_rule.is_empty() {
            errln!("reasons by rule (policy, rule, action, lines):");
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
                errln!("  {policy:<20} {rule:<12} {action:<7} {n}");
            }
        }
    }
}

/// One thread: read, decide, write, claim after claim.
fn sequential(
    policies: Policies,
    prior: Vec<PriorFile>,
    opts: &Options,
    input: Box<dyn BufRead + Send>,
    out: &mut impl Write,
    summary: &mut Summary,
) -> io::Result<()> {
    let mut engine = Engine::new(policies).explain(opts.explain);
    let mut counts = Counts::default();
    for file in &prior {
        counts.add(prior::import_in_memory(&mut engine, file));
    }
    drop(prior);
    report_history(opts, counts);
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
    // Claims streamed one at a time are answered one at a time (finding H1):
    // nothing is read ahead, and the output is flushed, when the input would
    // make the run wait.
    let (input, stall) = Watched::new(input);
    let mut reader = payer_rules::ClaimReader::new(input, input_format(opts))
        .with_payer_ids(opts.payer_ids.clone());
    let ahead = stall.clone();
    // The reader's record numbers (JSON Lines: line numbers) for the errors
    // the engine gives (no_policy, conflict), as the reader's own give them.
    let mut claims = Lookahead::new(|slot: &mut ClaimSlot| {
        let read = reader.read_into(slot);
        super::print_warnings(&mut reader);
        read.then(|| reader.record())
    })
    .reading_ahead_while(|| !ahead.may_wait());
    let mut unflushed = false;
    while let Some((record, claim)) = claims.next(engine) {
        // The engine's answer is used where the call left it, by reference
        // (see `Engine::recycle_lines`).
        match claim {
            Ok(claim) => match engine.try_evaluate(claim, record) {
                Ok(ref mut done) => finish(engine, summary, &mut pending, done),
            },
            Err(e) => finish(
                engine,
                summary,
                &mut pending,
                &mut Evaluated::error(e.clone()),
            ),
        }
        if pending.len() >= WRITE_BLOCK {
            out.write_all(&pending)?;
            pending.clear();
            unflushed = true;
        }
        if claims.read_ahead() == 0 && stall.may_wait() && (unflushed || !pending.is_empty()) {
            out.write_all(&pending)?;
            pending.clear();
            out.flush()?;
            unflushed = false;
        }
    }
    out.write_all(&pending)
}

/// Counts a claim's outcome, appends its line to the output and hands its
/// room back to the engine.
#[inline(always)]
fn finish(
    engine: &mut Engine,
    summary: &mut Summary,
    pending: &mut Vec<u8>,
    evaluated: &mut Evaluated,
) {
    summary.add(evaluated);
    evaluated.append_line(pending);
    engine.recycle_lines(evaluated);
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
    engine: &mut Engine<HistoryDb>,
    opts: &Options,
    input: Box<dyn BufRead + Send>,
    out: &mut impl Write,
    summary: &mut Summary,
) -> Result<(), DbFailure> {
    const CHUNK: usize = 64;
    // How long a batch waits to fill up when claims arrive slowly.
    const FILL: Duration = Duration::from_millis(50);
    let format = input_format(opts);
    let payer_ids = opts.payer_ids.clone();
    let batch_size = opts.batch.max(1);
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<Chunk>(64);
        let reader = std::thread::Builder::new().name("claim-reader".into());
        let spawned = reader.spawn_scoped(scope, move || {
            let mut chunk = Vec::with_capacity(CHUNK);
            // A chunk goes when full, and also before a read that may wait
            // for the writer (finding H1): a claim streamed alone is stored
            // and answered without waiting for the next.
            let (input, stall) = Watched::new(input);
            let mut reader =
                payer_rules::ClaimReader::new(input, format).with_payer_ids(payer_ids.clone());
            loop {
                if stall.may_wait() && !chunk.is_empty() {
                    let ready = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                    if tx.send(ready).is_err() {
                        return;
                    }
                }
                let Some(claim) = reader.next() else {
                    break;
                };
                super::print_warnings(&mut reader);
                chunk.push((reader.record(), claim));
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
        // What a chunk brought beyond the batch's size: the next batch's start.
        let mut carried: Chunk = Vec::new();
        loop {
            let mut claims = if carried.is_empty() {
                match rx.recv() {
                    Ok(claims) => claims,
                    Err(_) => break,
                }
            } else {
                std::mem::take(&mut carried)
            };
            let deadline = Instant::now() + FILL;
            while claims.len() < batch_size {
                match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(more) => claims.extend(more),
                    Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
                }
            }
            if claims.len() > batch_size {
                carried = claims.split_off(batch_size);
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

/// The history files' summary line, as `--db` and memory both give it.
fn report_history(opts: &Options, counts: Counts) {
    if !opts.history.is_empty() && !opts.quiet {
        errln!("history: {}", counts.line());
    }
}

/// Opens the history database (a SQLite file, or a PostgreSQL database for
/// a `postgres://` URL), or says why not.
pub(super) fn open_db(path: &Path, busy_timeout: Duration) -> Result<HistoryDb, u8> {
    HistoryDb::open(path, busy_timeout).map_err(|e| {
        errln!("cannot open the history database: {e}");
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
    errln!("cannot write decisions: {e}");
    EXIT_USAGE
}

/// Runs `eval`.
pub fn run(opts: &Options) -> u8 {
    if !stdout_is_open() {
        errln!("cannot write decisions: stdout is closed; nothing was evaluated");
        return EXIT_USAGE;
    }
    let load_started = Instant::now();
    let loaded = Policies::load(&opts.policies);
    let load_time = load_started.elapsed();
    if loaded.has_errors() || loaded.policies.is_none() {
        print_diagnostics(&loaded.diagnostics);
        errln!(
            "the policies have errors ({}); nothing was evaluated",
            tally(&loaded.diagnostics)
        );
        return EXIT_FAILED;
    }
    let Some(policies) = loaded.policies else {
        return EXIT_FAILED;
    };
    if policies.is_empty() {
        errln!(
            "no policy found in {}",
            opts.policies
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return EXIT_USAGE;
    }
    // X12 payer ids: those the policies declare (`payer-ids`), under those of
    // a `--payer-ids` file.
    let declared = policies.payer_ids();
    let with_ids;
    let opts = if declared.is_empty() {
        opts
    } else {
        with_ids = Options {
            payer_ids: Some(Arc::new(declared.under(opts.payer_ids.as_deref()))),
            ..opts.clone()
        };
        &with_ids
    };
    if opts.db.is_some() && opts.jobs > 1 {
        errln!(
            "--jobs works with in-memory history only: with --db, one thread evaluates the claims \
             in arrival order and the database's transactions keep other processes in step; \
             drop --jobs (or --db)"
        );
        return EXIT_USAGE;
    }
    // Every history file is open before anything is read or stored.
    let prior: Vec<PriorFile> = match prior::open_all(&opts.history) {
        Ok(inputs) => inputs
            .into_iter()
            .map(|input| prior::read(input, opts.payer_ids.as_ref()))
            .collect(),
        Err(code) => return code,
    };

    // A progress line on a terminal, for a file (`-q` asks for silence).
    let progress = match &opts.input {
        Some(path) if !opts.quiet => Progress::for_files(&[path]),
        _ => None,
    };
    let mut input = match open(opts.input.as_ref(), progress.as_ref()) {
        Ok(r) => r,
        Err(e) => {
            let name = opts
                .input
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            errln!("cannot read claims `{name}`: {e}");
            return EXIT_USAGE;
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, Lines::new(stdout.lock(), progress));
    let mut summary = Summary::default();
    if let Some(db) = &opts.db {
        let store = match open_db(db, opts.busy_timeout) {
            Ok(s) => s,
            Err(code) => return code,
        };
        let mut engine = Engine::with_history(policies, store).explain(opts.explain);
        let mut counts = Counts::default();
        for file in &prior {
            match prior::import_into(&mut engine, file, opts.batch) {
                Ok(c) => counts.add(c),
                Err(e) => {
                    errln!("cannot import the history `{}`: {e}", file.name);
                    return EXIT_STORE;
                }
            }
        }
        report_history(opts, counts);
        let started = Instant::now();
        let result = with_db(&mut engine, opts, input, &mut out, &mut summary);
        out.get_mut().finish();
        match result {
            Ok(()) => {}
            Err(DbFailure::Store(e)) => {
                let _ = out.flush();
                errln!(
                    "the history database failed; claims after the last decision written were not stored: {e}"
                );
                return EXIT_STORE;
            }
            Err(DbFailure::Write(e)) => return write_failed(&e),
        }
        if !opts.quiet {
            summary.print(started.elapsed().as_secs_f64(), load_time);
            let drops = match engine.history() {
                HistoryDb::Sqlite(s) => s.cache_drops,
                // Reloads of single members another node changed are the
                // normal course with several nodes: not reported.
                _ => 0,
            };
            if drops > 0 {
                errln!(
                    "history `{}`: another process committed during the run; the cache was reloaded {drops} times",
                    db.display()
                );
            }
        }
        return summary.status();
    }
    let started = Instant::now();
    let format = input_format(opts);
    let lines = match format {
        InputFormat::JsonLines => true,
        InputFormat::Auto => {
            InputFormat::sniff(input.fill_buf().unwrap_or_default()) == InputFormat::JsonLines
        }
        _ => false,
    };
    let result = if opts.jobs > 1 && lines {
        // The workers import the history themselves, saying nothing: what it
        // holds is told from an import of its own (finding H3).
        let mut scratch = Engine::new(Policies::default());
        let mut counts = Counts::default();
        for file in &prior {
            counts.add(prior::import_in_memory(&mut scratch, file));
        }
        std::mem::forget(scratch);
        report_history(opts, counts);
        let prior = prior
            .into_iter()
            .flat_map(|f| f.claims.into_iter().map(|(_, c)| c))
            .collect();
        evaluate_lines::<_, _, Summary>(
            &policies,
            prior,
            opts.explain,
            opts.jobs,
            format,
            input,
            &mut out,
        )
        .map(|counted| summary.merge(counted))
    } else {
        sequential(policies, prior, opts, input, &mut out, &mut summary)
    };
    let result = result.and_then(|()| out.flush());
    out.get_mut().finish();
    if let Err(e) = result {
        return write_failed(&e);
    }
    if !opts.quiet {
        summary.print(started.elapsed().as_secs_f64(), load_time);
    }
    summary.status()
}
