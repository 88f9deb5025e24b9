//! Parallel evaluation of JSON Lines without changing results.
//!
//! History is per patient, so claims of different patients are independent.
//! A reader thread reads lines and sends each to the worker that owns its patient
//! (a hash of the patient id), so one patient's claims are decided by one worker
//! in arrival order, against a history only that worker holds. Workers parse,
//! evaluate and serialize; the caller's thread puts the outcomes back in input
//! order. The bytes written are the same as with one job.

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::io::{self, BufRead, Write};
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};

use rustc_hash::FxHasher;

use super::{Engine, Evaluated, Lookahead};
use crate::claims::read::{
    io_error, is_blank, patient_of_line, skip_json_lines_start, LineSplitter,
};
use crate::claims::InputFormat;
use crate::claims::{Claim, ClaimError, ClaimSlot};
use crate::policies::Policies;

/// Batches in flight per worker; bounds memory whatever the input size.
const QUEUE: usize = 64;
/// Lines per batch: channels cost per message, so lines travel in batches.
const BATCH: usize = 256;

/// Lines on their way to a worker, in one buffer: one allocation per batch, not
/// one per line.
#[derive(Default)]
struct Batch {
    /// Each line's record number and the end of its bytes in `bytes`.
    lines: Vec<(usize, usize)>,
    bytes: Vec<u8>,
    /// The input failed to read after these lines: the error record of the
    /// record that could not be read, the last one (as `ClaimReader` ends).
    failed: Option<(usize, ClaimError)>,
}

/// The worker that owns a patient.
pub fn shard(patient: &str, jobs: usize) -> usize {
    let mut h = FxHasher::default();
    patient.hash(&mut h);
    (h.finish() % jobs.max(1) as u64) as usize
}

/// A worker's decided batch on its way to the writer: outcomes in the order the
/// worker got them, which is input order among this worker's records.
struct Done {
    worker: usize,
    records: Vec<usize>,
    /// The outcomes' JSON lines, serialized by the worker (in parallel), one
    /// after the other; `ends[i]` is where line `i` ends.
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Done {
    fn push(&mut self, record: usize, evaluated: &Evaluated) {
        evaluated.append_line(&mut self.bytes);
        self.ends.push(self.bytes.len());
        self.records.push(record);
    }
}

/// What is counted of the outcomes (the summary of `eval`). Each worker counts
/// its own outcomes and the counts are merged at the end, so outcomes never
/// travel to the writer: only their JSON does. `add` sees one worker's
/// outcomes in their input order, but not the outcomes of all workers in
/// input order: what is counted must not depend on order across patients.
pub trait Tally: Default + Send {
    /// Counts one outcome.
    fn add(&mut self, evaluated: &Evaluated);
    /// Adds another worker's counts.
    fn merge(&mut self, other: Self);
}

/// Counts outcomes.
impl Tally for usize {
    fn add(&mut self, _: &Evaluated) {
        *self += 1;
    }

    fn merge(&mut self, other: usize) {
        *self += other;
    }
}

/// Evaluates JSON Lines from `input` with `jobs` workers and writes one JSON line
/// per claim to `out`, in input order. `format` is how the input was given
/// (`Auto` or `JsonLines`: the start of the input is read as [`ClaimReader`]
/// reads it). `prior` claims are imported as paid history. Returns what `T`
/// counted of every outcome. An input that fails to read is an error record,
/// as with [`ClaimReader`]; `Err` is a failure to write, or a thread that
/// panicked.
///
/// [`ClaimReader`]: crate::claims::ClaimReader
#[allow(clippy::too_many_arguments)]
pub fn evaluate_lines<R, W, T>(
    policies: &Policies,
    prior: Vec<Claim>,
    explain: bool,
    jobs: usize,
    format: InputFormat,
    input: R,
    out: &mut W,
) -> io::Result<T>
where
    R: BufRead + Send,
    W: Write,
    T: Tally,
{
    let jobs = jobs.max(1);
    let mut priors: Vec<Vec<Claim>> = (0..jobs).map(|_| Vec::new()).collect();
    for claim in prior {
        let s = shard(&claim.patient.id, jobs);
        priors[s].push(claim);
    }
    std::thread::scope(|scope| {
        let (done_tx, done_rx) = channel::<Done>();
        let mut senders: Vec<SyncSender<Batch>> = Vec::with_capacity(jobs);
        let mut workers = Vec::with_capacity(jobs);
        for (index, prior) in priors.into_iter().enumerate() {
            let (tx, rx) = sync_channel::<Batch>(QUEUE);
            senders.push(tx);
            let done = done_tx.clone();
            let policies = policies.clone();
            workers
                .push(scope.spawn(move || worker::<T>(index, policies, prior, explain, rx, done)));
        }
        drop(done_tx);
        let reader = scope.spawn(move || read_and_dispatch(input, format, &senders));
        let written = write_in_order(done_rx, jobs, out);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the reader thread panicked")));
        let mut tally = T::default();
        let mut panicked = false;
        for worker in workers {
            match worker.join() {
                Ok(counted) => tally.merge(counted),
                Err(_) => panicked = true,
            }
        }
        // A failed write is the first thing to report; a worker that panicked
        // left the output short, which must not pass for a finished run.
        written.and(read)?;
        if panicked {
            return Err(io::Error::other("a worker thread panicked"));
        }
        Ok(tally)
    })
}

fn worker<T: Tally>(
    index: usize,
    policies: Policies,
    prior: Vec<Claim>,
    explain: bool,
    rx: Receiver<Batch>,
    done: std::sync::mpsc::Sender<Done>,
) -> T {
    let mut tally = T::default();
    let mut engine = Engine::new(policies).explain(explain);
    for claim in &prior {
        let Ok(_) = engine.import(claim);
    }
    for batch in rx {
        let n = batch.lines.len();
        let mut out = Done {
            worker: index,
            records: Vec::with_capacity(n),
            bytes: Vec::with_capacity(n * 512),
            ends: Vec::with_capacity(n),
        };
        let mut start = 0;
        let mut lines = batch.lines.iter();
        let mut claims = Lookahead::new(|slot: &mut ClaimSlot| {
            let &(record, end) = lines.next()?;
            let line = batch.bytes.get(start..end).unwrap_or_default();
            start = end;
            slot.read_json_line(line, record);
            Some(record)
        });
        while let Some((record, parsed)) = claims.next(&engine) {
            let evaluated = match parsed {
                Ok(claim) => {
                    let Ok(done) = engine.try_evaluate(claim, record);
                    done
                }
                Err(e) => Evaluated::error(e.clone()),
            };
            out.push(record, &evaluated);
            tally.add(&evaluated);
        }
        if let Some((record, err)) = batch.failed {
            let evaluated = Evaluated::error(err);
            out.push(record, &evaluated);
            tally.add(&evaluated);
        }
        if done.send(out).is_err() {
            break;
        }
    }
    // The process ends soon: handing the history back to the OS whole is faster
    // than freeing it entry by entry.
    std::mem::forget(engine);
    tally
}

/// Sends every line to its worker. An input that fails to read ends the run
/// as it does with one job: the lines read so far are decided, then the record
/// that could not be read is an error record.
fn read_and_dispatch<R: BufRead>(
    mut input: R,
    format: InputFormat,
    senders: &[SyncSender<Batch>],
) -> io::Result<()> {
    let mut record = 0usize;
    let mut batches: Vec<Batch> = senders.iter().map(|_| Batch::fresh()).collect();
    let read = dispatch(&mut input, format, senders, &mut batches, &mut record);
    match read {
        // The writer has gone: nothing more is wanted.
        Ok(false) => return Ok(()),
        Ok(true) => {}
        Err(err) => {
            if let Some(first) = batches.first_mut() {
                first.failed = Some((record + 1, io_error(&err, record + 1)));
            }
        }
    }
    for (s, batch) in batches.into_iter().enumerate() {
        let pending = !batch.lines.is_empty() || batch.failed.is_some();
        if pending && senders[s].send(batch).is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// Reads lines into the workers' batches, sending each batch when it is full;
/// `Ok(false)` when the writer has gone.
fn dispatch<R: BufRead>(
    input: &mut R,
    format: InputFormat,
    senders: &[SyncSender<Batch>],
    batches: &mut [Batch],
    record: &mut usize,
) -> io::Result<bool> {
    skip_json_lines_start(input, format)?;
    let mut lines = LineSplitter::default();
    loop {
        // Each line is copied once, from the input buffer straight into its
        // worker's batch.
        let sent = lines.next(input, |line| {
            if is_blank(line) {
                return true;
            }
            *record += 1;
            // A line without a readable patient is an error record; any worker
            // will do.
            let s = patient_of_line(line).map_or(0, |p| shard(&p, senders.len()));
            let batch = &mut batches[s];
            batch.bytes.extend_from_slice(line);
            batch.lines.push((*record, batch.bytes.len()));
            if batch.lines.len() < BATCH {
                return true;
            }
            let full = std::mem::replace(batch, Batch::fresh());
            senders[s].send(full).is_ok()
        })?;
        match sent {
            None => return Ok(true),
            Some(false) => return Ok(false),
            Some(true) => {}
        }
    }
}

impl Batch {
    fn fresh() -> Batch {
        Batch {
            lines: Vec::with_capacity(BATCH),
            bytes: Vec::with_capacity(BATCH * 640),
            failed: None,
        }
    }
}

/// Writes the workers' outcomes in input order. Each worker's records arrive in
/// increasing order, so the next record is always at the front of one worker's
/// queue: a merge over `jobs` queues, with no map of pending records.
fn write_in_order<W: Write>(done: Receiver<Done>, jobs: usize, out: &mut W) -> io::Result<()> {
    let mut next = 1usize;
    // Per worker: its batches not yet written, and how far into the first one.
    let mut queues: Vec<(VecDeque<Done>, usize)> =
        (0..jobs).map(|_| (VecDeque::new(), 0)).collect();
    for batch in done {
        let Some(queue) = queues.get_mut(batch.worker) else {
            continue;
        };
        queue.0.push_back(batch);
        'merge: loop {
            for (queue, at) in &mut queues {
                let Some(front) = queue.front() else {
                    continue;
                };
                if front.records.get(*at) != Some(&next) {
                    continue;
                }
                let start = at.checked_sub(1).map_or(0, |p| front.ends[p]);
                out.write_all(front.bytes.get(start..front.ends[*at]).unwrap_or_default())?;
                next += 1;
                *at += 1;
                if *at == front.records.len() {
                    queue.pop_front();
                    *at = 0;
                }
                continue 'merge;
            }
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_stable_and_in_range() {
        for jobs in 1..5 {
            for p in ["P1", "PAT-000123", ""] {
                let s = shard(p, jobs);
                assert!(s < jobs);
                assert_eq!(s, shard(p, jobs));
            }
        }
    }

    /// Gives `limit` bytes of `data`, then fails.
    struct Failing<'a> {
        data: &'a [u8],
        limit: usize,
    }

    impl io::Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.limit == 0 {
                return Err(io::Error::other("disk gone"));
            }
            let n = buf.len().min(self.limit).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            self.limit -= n;
            Ok(n)
        }
    }

    /// The bundled policies and claims (JSON Lines).
    fn bundled() -> (Policies, String) {
        let policies = Policies::load(&["policies".into()])
            .policies
            .unwrap_or_default();
        let input = std::fs::read_to_string("examples/claims.jsonl").unwrap_or_default();
        assert!(input.lines().count() >= 500);
        (policies, input)
    }

    /// Evaluates `input` with `jobs` workers, no prior history and no
    /// traces: the output and the number of outcomes.
    fn run(
        policies: &Policies,
        jobs: usize,
        input: impl BufRead + Send,
    ) -> (Vec<u8>, io::Result<usize>) {
        let mut out = Vec::new();
        let counted = evaluate_lines::<_, _, usize>(
            policies,
            Vec::new(),
            false,
            jobs,
            InputFormat::Auto,
            input,
            &mut out,
        );
        (out, counted)
    }

    #[test]
    fn an_input_that_fails_to_read_ends_with_an_error_record_as_with_one_job() {
        let (policies, input) = bundled();
        // Fails in the middle of the 300th line.
        let limit = input.lines().take(299).map(|l| l.len() + 1).sum::<usize>() + 10;
        let failing = || {
            io::BufReader::with_capacity(
                1000,
                Failing {
                    data: input.as_bytes(),
                    limit,
                },
            )
        };
        let mut engine = Engine::new(policies.clone());
        let mut expected = Vec::new();
        for (i, claim) in crate::claims::ClaimReader::new(failing(), InputFormat::Auto).enumerate()
        {
            let outcome = match claim {
                Ok(c) => engine.evaluate(&c, i + 1),
                Err(e) => crate::claims::Outcome::from(e),
            };
            outcome.write_json(&mut expected);
            expected.push(b'\n');
        }
        let expected = String::from_utf8_lossy(&expected).into_owned();
        assert_eq!(expected.lines().count(), 300, "299 decided, then the error");
        let last = expected.lines().last().unwrap_or_default();
        assert!(last.contains("cannot read input: disk gone"), "{last}");
        assert!(last.contains("\"record\":300"), "{last}");
        for jobs in [1, 2, 3] {
            let (out, result) = run(&policies, jobs, failing());
            assert!(matches!(result, Ok(300)), "{result:?}");
            assert_eq!(String::from_utf8_lossy(&out), expected, "--jobs {jobs}");
        }
    }

    #[test]
    fn parallel_output_equals_sequential_output() {
        let (policies, input) = bundled();
        let finished = |(out, n): (Vec<u8>, io::Result<usize>)| match n {
            Ok(n) => (out, n),
            Err(e) => panic!("{e}"),
        };
        let (one, n1) = finished(run(&policies, 1, input.as_bytes()));
        // Lines that straddle the reader's buffer take the other path through
        // the reader; a 7-byte buffer makes every line do so.
        let small = std::io::BufReader::with_capacity(7, input.as_bytes());
        let (straddled, _) = finished(run(&policies, 2, small));
        assert!(one == straddled, "a small read buffer changes the output");
        assert_eq!(n1, input.lines().filter(|l| !l.trim().is_empty()).count());
        for jobs in [2, 3] {
            let (many, n) = finished(run(&policies, jobs, input.as_bytes()));
            assert_eq!(n, n1);
            assert!(one == many, "--jobs {jobs} differs from --jobs 1");
        }
    }
}
