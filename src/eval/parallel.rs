//! Parallel evaluation of JSON Lines without changing results.
//!
//! History is per payer and member, so claims of different member ids are
//! independent. A reader thread reads lines and sends each to the worker that
//! owns its member id (a hash of the id alone, which keeps every payer's
//! history of the id in one worker and reads one field of the line, not two),
//! so one member's claims are decided by one worker in arrival order, against
//! a history only that worker holds. Workers parse,
//! evaluate and serialize; the caller's thread puts the outcomes back in input
//! order. The bytes written are the same as with one job.

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::io::{self, BufRead, Read, Write};
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use rustc_hash::FxHasher;

use super::{Engine, Evaluated, Lookahead};
use crate::claims::read::{
    gather_line, io_error, is_blank, patient_of_line, skip_json_lines_start, MAX_RECORD_BYTES,
};
use crate::claims::InputFormat;
use crate::claims::{Claim, ClaimError, ClaimSlot};
use crate::policies::Policies;

/// Batches in flight per worker; bounds memory whatever the input size (each
/// holds a share of one input block).
const QUEUE: usize = 4;
/// Bytes of input read at a time: every worker gets one batch per block, so
/// channels carry a message per worker per block rather than per line.
const BLOCK: usize = 1 << 20;

/// A worker's lines of one input block. The block is read once and shared by
/// every worker, and a line is handed over as where it lies in it: the reader
/// copies no line.
struct Batch {
    block: Arc<Vec<u8>>,
    /// Each line's record number (its line number), its place among the
    /// input's records (1, 2, 3...: what the writer orders by, where line
    /// numbers skip blank lines), and where its bytes start and end in `block`.
    lines: Vec<(usize, usize, usize, usize)>,
    /// The input failed to read after these lines: the place among the
    /// records and the error record of the record that could not be read, the
    /// last one (as `ClaimReader` ends).
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
    /// Each outcome's place among the input's records.
    records: Vec<usize>,
    /// The outcomes' JSON lines, serialized by the worker (in parallel), one
    /// after the other; `ends[i]` is where line `i` ends.
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Done {
    /// Outcomes per message at most: a buffer of this many decisions stays
    /// small enough for the allocator to keep and hand out again, where a
    /// larger one went back to the kernel and was faulted in anew.
    const RECORDS: usize = 256;

    fn fresh(worker: usize) -> Done {
        Done {
            worker,
            records: Vec::with_capacity(Self::RECORDS),
            bytes: Vec::with_capacity(Self::RECORDS * 400),
            ends: Vec::with_capacity(Self::RECORDS),
        }
    }

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
    evaluate_in_blocks(policies, prior, explain, jobs, format, input, out, BLOCK)
}

/// [`evaluate_lines`], reading `block` bytes of input at a time.
#[allow(clippy::too_many_arguments)]
fn evaluate_in_blocks<R, W, T>(
    policies: &Policies,
    prior: Vec<Claim>,
    explain: bool,
    jobs: usize,
    format: InputFormat,
    input: R,
    out: &mut W,
    block: usize,
) -> io::Result<T>
where
    R: BufRead + Send,
    W: Write,
    T: Tally,
{
    let jobs = jobs.max(1);
    let mut priors: Vec<Vec<Claim>> = (0..jobs).map(|_| Vec::new()).collect();
    for claim in prior {
        // `shard` is below `jobs`, the number of lists.
        if let Some(list) = priors.get_mut(shard(&claim.patient.id, jobs)) {
            list.push(claim);
        }
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
        let reader = scope.spawn(move || read_and_dispatch(input, format, &senders, block));
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
    let mut out = Done::fresh(index);
    'batches: for batch in rx {
        let mut lines = batch.lines.iter();
        // The lookahead hands back each record's place among the input's
        // records (`Done` is ordered by it); its number is its line's.
        let mut claims = Lookahead::new(|slot: &mut ClaimSlot| {
            let &(record, place, start, end) = lines.next()?;
            let line = batch.block.get(start..end).unwrap_or_default();
            slot.read_json_line(line, record);
            Some(place)
        });
        // Records come back in the order they were read: the n-th is line n.
        let mut taken = 0;
        while let Some((place, parsed)) = claims.next(&engine) {
            let record = batch.lines.get(taken).map_or(place, |l| l.0);
            taken += 1;
            // The engine's answer is used where the call left it, by
            // reference (see `Engine::recycle_lines`).
            let mut finish = |engine: &mut Engine, evaluated: &mut Evaluated| {
                out.push(place, evaluated);
                tally.add(evaluated);
                engine.recycle_lines(evaluated);
            };
            match parsed {
                Ok(claim) => match engine.try_evaluate(claim, record) {
                    Ok(ref mut done) => finish(&mut engine, done),
                },
                Err(e) => finish(&mut engine, &mut Evaluated::error(e.clone())),
            }
            if out.records.len() == Done::RECORDS
                && done
                    .send(std::mem::replace(&mut out, Done::fresh(index)))
                    .is_err()
            {
                break 'batches;
            }
        }
        if let Some((place, err)) = batch.failed {
            let evaluated = Evaluated::error(err);
            out.push(place, &evaluated);
            tally.add(&evaluated);
        }
        // What is decided goes out at the end of each batch, so that the
        // writer never waits on outcomes held back.
        if !out.records.is_empty()
            && done
                .send(std::mem::replace(&mut out, Done::fresh(index)))
                .is_err()
        {
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
    // Either format starts alike: a byte order mark is dropped, nothing else.
    _format: InputFormat,
    senders: &[SyncSender<Batch>],
    size: usize,
) -> io::Result<()> {
    // Line numbers, and places among the records (blank lines skipped).
    let mut record = 0usize;
    let mut place = 0usize;
    let mut failed = None;
    if let Err(err) = skip_json_lines_start(&mut input) {
        failed = Some(err);
    }
    // The start of a line the last block cut off.
    let mut carried = Vec::new();
    let mut sent = VecDeque::new();
    while failed.is_none() {
        let mut block = reuse(&mut sent, size);
        block.reserve(2 * carried.len());
        block.append(&mut carried);
        let (end, more) = match fill(&mut input, &mut block) {
            Ok(true) => (block.len(), false),
            Ok(false) => match memchr::memrchr(b'\n', &block) {
                Some(newline) => (newline + 1, true),
                // One line longer than a record may be: its start is kept
                // (one byte past the limit, so that the record is refused as
                // too long), the rest read and dropped.
                None if block.len() > MAX_RECORD_BYTES => {
                    block.truncate(MAX_RECORD_BYTES + 1);
                    if let Err(err) = gather_line(&mut input, &mut Vec::new(), 0) {
                        failed = Some(err);
                    }
                    block.push(b'\n');
                    (block.len(), failed.is_none())
                }
                // One line longer than the block: read on into a larger one.
                None => {
                    carried = block;
                    continue;
                }
            },
            Err(err) => {
                failed = Some(err);
                // The line being read when it failed is lost, as with one job.
                let end = memchr::memrchr(b'\n', &block).map_or(0, |newline| newline + 1);
                (end, false)
            }
        };
        if more {
            carried.extend_from_slice(block.get(end..).unwrap_or_default());
        }
        block.truncate(end);
        if !block.is_empty() {
            let block = Arc::new(block);
            sent.push_back(Arc::clone(&block));
            if !dispatch(block, senders, &mut record, &mut place) {
                // The writer has gone: nothing more is wanted.
                return Ok(());
            }
        }
        if !more {
            break;
        }
    }
    if let Some(err) = failed {
        let batch = Batch {
            block: Arc::default(),
            lines: Vec::new(),
            failed: Some((place + 1, io_error(&err, record + 1))),
        };
        if let Some(first) = senders.first() {
            let _ = first.send(batch);
        }
    }
    Ok(())
}

/// An empty block with room for `size` bytes: the oldest one sent, when every
/// worker is done with it, else a new one. Blocks are used again rather than
/// freed: a freed block of a megabyte goes back to the kernel, and a new one
/// is faulted in page by page.
fn reuse(sent: &mut VecDeque<Arc<Vec<u8>>>, size: usize) -> Vec<u8> {
    if let Some(oldest) = sent.pop_front() {
        match Arc::try_unwrap(oldest) {
            Ok(mut block) => {
                block.clear();
                return block;
            }
            Err(busy) => sent.push_front(busy),
        }
    }
    Vec::with_capacity(size)
}

/// Reads into `block` until it is full or the input ends; `Ok(true)` at the
/// end of the input.
fn fill<R: Read>(input: &mut R, block: &mut Vec<u8>) -> io::Result<bool> {
    let room = block.capacity() - block.len();
    let read = io::Read::take(input, room as u64).read_to_end(block)?;
    Ok(read < room)
}

/// Sends each worker its lines of one block (whole lines); `false` when the
/// writer has gone.
fn dispatch(
    block: Arc<Vec<u8>>,
    senders: &[SyncSender<Batch>],
    record: &mut usize,
    place: &mut usize,
) -> bool {
    let mut lines: Vec<Vec<(usize, usize, usize, usize)>> = senders
        .iter()
        // About 500 bytes per claim.
        .map(|_| Vec::with_capacity(block.len() / 512 / senders.len().max(1)))
        .collect();
    let mut start = 0;
    while start < block.len() {
        let rest = block.get(start..).unwrap_or_default();
        let end = memchr::memchr(b'\n', rest).map_or(block.len(), |n| start + n + 1);
        let line = block.get(start..end).unwrap_or_default();
        // Every line counts, blank or not: a record's number is its line's.
        *record += 1;
        if !is_blank(line) {
            *place += 1;
            // A line without a readable patient is an error record; any
            // worker will do.
            let s = patient_of_line(line).map_or(0, |p| shard(&p, senders.len()));
            if let Some(list) = lines.get_mut(s) {
                list.push((*record, *place, start, end));
            }
        }
        start = end;
    }
    for (sender, lines) in senders.iter().zip(lines) {
        if lines.is_empty() {
            continue;
        }
        let batch = Batch {
            block: Arc::clone(&block),
            lines,
            failed: None,
        };
        if sender.send(batch).is_err() {
            return false;
        }
    }
    true
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
                // `ends` has an entry per record (`Done::push`).
                let start = at
                    .checked_sub(1)
                    .map_or(0, |p| front.ends.get(p).copied().unwrap_or(0));
                let end = front.ends.get(*at).copied().unwrap_or(start);
                out.write_all(front.bytes.get(start..end).unwrap_or_default())?;
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
        run_in_blocks(policies, jobs, input, BLOCK)
    }

    /// [`run`], reading `block` bytes at a time.
    fn run_in_blocks(
        policies: &Policies,
        jobs: usize,
        input: impl BufRead + Send,
        block: usize,
    ) -> (Vec<u8>, io::Result<usize>) {
        let mut out = Vec::new();
        let counted = evaluate_in_blocks::<_, _, usize>(
            policies,
            Vec::new(),
            false,
            jobs,
            InputFormat::Auto,
            input,
            &mut out,
            block,
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
        // Blocks that end within lines, and blocks shorter than a line.
        for block in [BLOCK, 4096, 1000, 7] {
            for jobs in [1, 2, 3] {
                let (out, result) = run_in_blocks(&policies, jobs, failing(), block);
                assert!(matches!(result, Ok(300)), "{result:?}");
                assert_eq!(
                    String::from_utf8_lossy(&out),
                    expected,
                    "--jobs {jobs}, blocks of {block}"
                );
            }
        }
    }

    #[test]
    fn a_line_longer_than_a_record_may_be_is_one_error_record() {
        let (policies, input) = bundled();
        let first = input.lines().next().unwrap_or_default();
        let long = "x".repeat(3 * MAX_RECORD_BYTES);
        let text = format!("{first}\n{long}\n{first}\n");
        for block in [4096, BLOCK] {
            let (out, n) = run_in_blocks(&policies, 2, text.as_bytes(), block);
            assert!(matches!(n, Ok(3)), "{n:?}");
            let out = String::from_utf8_lossy(&out).into_owned();
            let lines: Vec<&str> = out.lines().collect();
            assert_eq!(lines.len(), 3);
            assert!(lines[1].contains("longer than"), "{}", lines[1]);
            assert!(lines[1].contains("\"record\":2"), "{}", lines[1]);
            assert_eq!(lines[0].replace("CLM", ""), lines[2].replace("CLM", ""));
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
        let n1_of = |text: &str| text.lines().filter(|l| !l.trim().is_empty()).count();
        // Lines that straddle the reader's blocks are carried into the next
        // one; a line longer than a block is read on into a larger one. Blank
        // lines at a block's edge are skipped as anywhere else.
        let blank = input.replace("\n{\"id\":\"CLM-00001", "\n  \n\n{\"id\":\"CLM-00001");
        assert_ne!(blank, input);
        // Blank lines count in the records' numbers (their line numbers), so
        // each text is compared with its own run by one job.
        let (one_blank, _) = finished(run(&policies, 1, blank.as_bytes()));
        assert_ne!(one, one_blank, "error records are numbered by line");
        for block in [7, 100, 1000, 4096] {
            for (text, expected) in [(&input, &one), (&blank, &one_blank)] {
                let small = std::io::BufReader::with_capacity(7, text.as_bytes());
                let (straddled, n) = finished(run_in_blocks(&policies, 2, small, block));
                assert_eq!(n, n1_of(text));
                assert!(
                    *expected == straddled,
                    "blocks of {block} change the output"
                );
            }
        }
        assert_eq!(n1, input.lines().filter(|l| !l.trim().is_empty()).count());
        for jobs in [2, 3] {
            let (many, n) = finished(run(&policies, jobs, input.as_bytes()));
            assert_eq!(n, n1);
            assert!(one == many, "--jobs {jobs} differs from --jobs 1");
        }
    }
}
