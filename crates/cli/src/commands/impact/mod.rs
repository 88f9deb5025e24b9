//! `payer-rules impact`: what a policy change does to real claims. The base
//! and candidate policies are directories (or files) on disk, or git
//! revisions of the policy repository read with `git` (no checkout); both
//! replay the same claims through `payer_rules::tooling::Replay`, and the
//! report is written as a terminal table, JSON, markdown or one
//! self-contained HTML page. `--fail-on` turns it into a CI check.

mod fail_on;
mod git;
mod render;

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use payer_rules::tooling::Impact;
use payer_rules::tooling::Replay;
use payer_rules::{ClaimReader, InputFormat, Loaded, PayerIds, Policies};

use super::progress::Progress;
use super::report::{print_diagnostics, tally};
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::stdio::{errln, out};
pub use fail_on::FailOn;

/// The report's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Tables for a terminal.
    Terminal,
    /// The report as one JSON object (`docs/impact.md`).
    Json,
    /// Markdown, for a pull-request comment or GitHub's job summary.
    Markdown,
    /// One self-contained HTML page: tables and a bar chart, no external
    /// scripts, styles or fonts.
    Html,
}

/// What `impact` was asked to do.
pub struct Options {
    /// The policies before the change: a path, or a git revision.
    pub base: String,
    /// The policies after the change: a path, or a git revision.
    pub candidate: String,
    /// The git repository revisions are read from.
    pub repo: PathBuf,
    /// The policy directory inside a revision.
    pub policies_dir: PathBuf,
    /// Claims files (`-` for stdin).
    pub claims: Vec<PathBuf>,
    /// X12 payer ids of a `--payer-ids` file, over those the policies declare.
    pub payer_ids: Option<Arc<PayerIds>>,
    /// Paid history loaded into both sides first.
    pub history: Vec<PathBuf>,
    /// The report's format.
    pub format: Format,
    /// Where to write it (stdout when `None`).
    pub output: Option<PathBuf>,
    /// Conditions that make the command exit 1.
    pub fail_on: Vec<FailOn>,
}

/// Loads one side: a path that exists is read from disk, anything else is a
/// git revision of `repo`.
fn load_side(spec: &str, opts: &Options) -> Result<(Loaded, String), String> {
    let path = Path::new(spec);
    if path.exists() {
        return Ok((Policies::load(&[path.to_path_buf()]), spec.to_string()));
    }
    let (files, commit) = git::policy_files(&opts.repo, spec, &opts.policies_dir)?;
    let roots: Vec<PathBuf> = files.keys().cloned().collect();
    let mut roots = roots;
    roots.sort();
    Ok((
        Policies::from_memory(&files, &roots),
        format!("{spec} ({commit})"),
    ))
}

fn ready(side: &str, spec: &str, loaded: Loaded) -> Result<Policies, u8> {
    if loaded.has_errors() {
        print_diagnostics(&loaded.diagnostics);
        errln!(
            "the {side} policies (`{spec}`) have errors ({}); nothing was compared",
            tally(&loaded.diagnostics)
        );
        return Err(EXIT_FAILED);
    }
    match loaded.into_result() {
        Ok(p) => Ok(p),
        Err(e) => {
            errln!("the {side} policies (`{spec}`): {e}");
            Err(EXIT_USAGE)
        }
    }
}

fn open(path: &Path, progress: Option<&Progress>) -> io::Result<Box<dyn Read>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(io::stdin()));
    }
    let file = File::open(path)?;
    Ok(match progress {
        Some(progress) => Box::new(BufReader::new(progress.count(file))),
        None => Box::new(BufReader::new(file)),
    })
}

/// A warning when neither side decided a single claim: a report of no change
/// that compared nothing must not read as a change with no effect.
fn nothing_decided(impact: &Impact) -> Option<String> {
    if impact.claims == 0 || impact.decided() != (0, 0) {
        return None;
    }
    Some(format!(
        "no claim was decided on either side: all {} are error records (no policy in force \
         for their payer, or unreadable), so the report compares nothing. Claims in X12 837P \
         name their payer by an id: map the ids to the policies' payers with --payer-ids FILE",
        impact.claims
    ))
}

/// Runs `impact`.
pub fn run(opts: &Options) -> u8 {
    let mut sides = Vec::with_capacity(2);
    for (side, spec) in [("base", &opts.base), ("candidate", &opts.candidate)] {
        let (loaded, label) = match load_side(spec, opts) {
            Ok(l) => l,
            Err(e) => {
                errln!("cannot read the {side} policies `{spec}`: {e}");
                return EXIT_USAGE;
            }
        };
        match ready(side, spec, loaded) {
            Ok(p) => sides.push((p, label)),
            Err(code) => return code,
        }
    }
    let (Some((candidate, candidate_label)), Some((base, base_label))) = (sides.pop(), sides.pop())
    else {
        return EXIT_USAGE;
    };
    // 837P claims name their payer by an X12 id: the ids both sides declare
    // (`payer-ids`), the candidate's first, under those of a `--payer-ids`
    // file, read them as eval does.
    let declared = candidate.payer_ids().over(&base.payer_ids());
    let payer_ids = Arc::new(declared.under(opts.payer_ids.as_deref()));
    // An empty table maps no id, as no table does.
    let reader = |input: Box<dyn Read>| {
        ClaimReader::new(BufReader::new(input), InputFormat::Auto).with_payer_ids(payer_ids.clone())
    };
    let mut replay = Replay::new(base, candidate);
    for path in &opts.history {
        let input = match open(path, None) {
            Ok(r) => r,
            Err(e) => {
                errln!("cannot read history `{}`: {e}", path.display());
                return EXIT_USAGE;
            }
        };
        let (mut added, mut skipped) = (0, 0);
        for claim in reader(input).flatten() {
            if replay.prior(&claim) {
                added += 1;
            } else {
                skipped += 1;
            }
        }
        errln!(
            "history `{}`: {added} claims loaded into both sides, {skipped} conflicting skipped",
            path.display()
        );
    }
    // A progress line on a terminal, when the claims are files.
    let mut progress = Progress::for_files(&opts.claims);
    let mut record = 0;
    for path in &opts.claims {
        let input = match open(path, progress.as_ref()) {
            Ok(r) => r,
            Err(e) => {
                drop(progress.take());
                errln!("cannot read claims `{}`: {e}", path.display());
                return EXIT_USAGE;
            }
        };
        for claim in reader(input) {
            record += 1;
            replay.add(record, claim.as_ref());
            if let Some(p) = &mut progress {
                p.add(1);
            }
        }
    }
    // Cleared before the report and any message.
    drop(progress);
    let impact = replay.finish();
    if let Some(warning) = nothing_decided(&impact) {
        errln!("warning: {warning}");
    }
    let labels = render::Labels {
        base: &base_label,
        candidate: &candidate_label,
    };
    let text = match opts.format {
        Format::Terminal => render::terminal(&impact, &labels),
        Format::Json => match render::json(&impact, &labels) {
            Ok(text) => text,
            Err(e) => {
                errln!("error[PR901]: the JSON report could not be written: {e}");
                return EXIT_USAGE;
            }
        },
        Format::Markdown => render::markdown(&impact, &labels),
        Format::Html => render::html(&impact, &labels),
    };
    match &opts.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, text.as_bytes()) {
                errln!("cannot write the report `{}`: {e}", path.display());
                return EXIT_USAGE;
            }
        }
        // A closed or failing stdout ends the command as every command's
        // does (`crate::stdio`).
        None => out!("{text}"),
    }
    let met: Vec<String> = opts.fail_on.iter().filter_map(|c| c.met(&impact)).collect();
    for m in &met {
        errln!("impact: {m}");
    }
    if met.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}
