//! `payer-rules eval`: claims in, one decision per claim out (JSON Lines), a
//! summary on stderr.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::report::{print_diagnostics, tally};
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::claims::{ClaimReader, InputFormat, Outcome};
use crate::eval::parallel::evaluate_lines;
use crate::eval::Engine;
use crate::policies::Policies;

/// What `eval` was asked to do.
pub struct Options {
    /// Policy files or directories.
    pub policies: Vec<PathBuf>,
    /// The claims file; stdin when `None` or `-`.
    pub input: Option<PathBuf>,
    /// Input format.
    pub format: InputFormat,
    /// Prior-history files.
    pub history: Vec<PathBuf>,
    /// Add traces.
    pub explain: bool,
    /// No summary.
    pub quiet: bool,
    /// Worker threads; claims of one patient always go to the same worker.
    pub jobs: usize,
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
    lines: usize,
    by_decision: BTreeMap<&'static str, usize>,
    by_error: BTreeMap<&'static str, usize>,
    by_rule: BTreeMap<(String, String, &'static str), usize>,
}

impl Summary {
    fn add(&mut self, outcome: &Outcome) {
        self.claims += 1;
        match outcome {
            Outcome::Decision(d) => {
                self.lines += d.lines.len();
                *self.by_decision.entry(d.decision.as_str()).or_default() += 1;
                for line in &d.lines {
                    for r in &line.reasons {
                        *self
                            .by_rule
                            .entry((d.policy.to_string(), r.rule.to_string(), r.action.as_str()))
                            .or_default() += 1;
                    }
                }
            }
            Outcome::Error(e) => *self.by_error.entry(e.error.kind.as_str()).or_default() += 1,
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
        let decisions: Vec<String> = self
            .by_decision
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
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
        if !self.by_error.is_empty() {
            let errors: Vec<String> = self
                .by_error
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            eprintln!("errors: {}", errors.join(", "));
        }
        if !self.by_rule.is_empty() {
            eprintln!("reasons by rule (policy, rule, action, lines):");
            for ((policy, rule, action), n) in &self.by_rule {
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
    prior: Vec<crate::claims::Claim>,
    opts: &Options,
    input: Box<dyn BufRead + Send>,
    out: &mut impl Write,
    summary: &mut Summary,
) -> io::Result<()> {
    let mut engine = Engine::new(policies).explain(opts.explain);
    for claim in &prior {
        engine.record_prior(claim);
    }
    for (i, claim) in ClaimReader::new(input, opts.format).enumerate() {
        let outcome = match claim {
            Ok(claim) => engine.evaluate(&claim, i + 1),
            Err(e) => Outcome::Error(e.into()),
        };
        summary.add(&outcome);
        serde_json::to_writer(&mut *out, &outcome).map_err(io::Error::from)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// The process's peak resident memory, where the OS tells it (Linux).
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
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
    let mut prior = Vec::new();
    for path in &opts.history {
        let reader = match open(Some(path)) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("cannot read history `{}`: {e}", path.display());
                return EXIT_USAGE;
            }
        };
        for claim in ClaimReader::new(reader, InputFormat::Auto) {
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
    let started = Instant::now();
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut summary = Summary::default();
    let lines = match opts.format {
        InputFormat::JsonLines => true,
        InputFormat::Auto => first_byte(&mut input) == Some(b'{'),
        _ => false,
    };
    let result = if opts.jobs > 1 && lines {
        evaluate_lines(
            &policies,
            prior,
            opts.explain,
            opts.jobs,
            input,
            &mut out,
            |o| summary.add(o),
        )
    } else {
        sequential(policies, prior, opts, input, &mut out, &mut summary)
    };
    if let Err(e) = result.and_then(|()| out.flush()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("cannot write decisions: {e}");
            return EXIT_USAGE;
        }
        return EXIT_OK;
    }
    if !opts.quiet {
        summary.print(started.elapsed().as_secs_f64(), load_time);
    }
    EXIT_OK
}
