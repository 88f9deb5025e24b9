//! `payer-rules convert`: claims from one format to another. X12 837P (or
//! any input) to JSON Lines, error records in place of the claims that do
//! not read; or any input to 837P, error records on stderr.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;

use crate::stdio::errln;
use payer_rules::internal::X12Writer;
use payer_rules::{InputFormat, Outcome};

use super::{load_payer_ids, print_warnings, EXIT_FAILED, EXIT_OK, EXIT_USAGE};

/// What to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// JSON Lines: one claim (in the contract's shape) or error record per line.
    Jsonl,
    /// One X12 837P interchange.
    X12,
}

/// `convert`'s arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The claims; `-` or nothing reads stdin.
    input: Option<PathBuf>,
    /// The input's format (auto, jsonl, json, yaml, x12); `auto` detects an
    /// X12 interchange by its leading `ISA`.
    #[arg(long, default_value = "auto")]
    from: InputFormat,
    /// What to write.
    #[arg(long, value_enum, default_value = "jsonl")]
    to: Target,
    /// X12 payer ids and their policy payers (`ID PAYER` per line): read
    /// ids map to payers, written payers to their first id.
    #[arg(long, value_name = "FILE")]
    payer_ids: Option<PathBuf>,
}

/// Runs `convert`: 0 every record converted, 1 some were error records, 2
/// an unreadable input or a failed write.
pub fn run(args: &Args) -> u8 {
    let payer_ids = match load_payer_ids(args.payer_ids.as_deref()) {
        Ok(ids) => ids,
        Err(code) => return code,
    };
    let input: Box<dyn BufRead> = match &args.input {
        None => Box::new(BufReader::new(io::stdin())),
        Some(p) if p.as_os_str() == "-" => Box::new(BufReader::new(io::stdin())),
        Some(p) => match File::open(p) {
            Ok(f) => Box::new(BufReader::with_capacity(1 << 16, f)),
            Err(e) => {
                errln!("cannot read claims `{}`: {e}", p.display());
                return EXIT_USAGE;
            }
        },
    };
    let stdout = io::stdout();
    let out = BufWriter::with_capacity(1 << 16, stdout.lock());
    // As for `eval`: --from, then the file's name, then detection.
    let from = match (args.from, &args.input) {
        (InputFormat::Auto, Some(path)) => InputFormat::of_path(path),
        (from, _) => from,
    };
    let mut reader = payer_rules::ClaimReader::new(input, from).with_payer_ids(payer_ids.clone());
    let mut invalid = 0usize;
    // An input not read or split whole: claims may be missing (exit 2).
    let mut input_lost = false;
    let written = match args.to {
        Target::Jsonl => {
            let mut out = out;
            let mut result = Ok(());
            while let Some(read) = reader.next() {
                print_warnings(&mut reader);
                let line = match read {
                    Ok(claim) => serde_json::to_string(&claim),
                    Err(err) => {
                        invalid += 1;
                        input_lost |= err.input_lost;
                        serde_json::to_string(&Outcome::from(err))
                    }
                };
                result = line
                    .map_err(io::Error::other)
                    .and_then(|line| writeln!(out, "{line}"));
                if result.is_err() {
                    break;
                }
            }
            result.and_then(|()| out.flush())
        }
        Target::X12 => {
            let mut writer = X12Writer::new(out, payer_ids);
            let mut result = Ok(());
            while let Some(read) = reader.next() {
                print_warnings(&mut reader);
                match read {
                    Ok(claim) => match writer.write(&claim) {
                        Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                            invalid += 1;
                            errln!("skipped {e}");
                        }
                        other => result = other,
                    },
                    Err(err) => {
                        invalid += 1;
                        input_lost |= err.input_lost;
                        errln!("skipped {err}");
                    }
                }
                if result.is_err() {
                    break;
                }
            }
            result.and_then(|()| writer.finish().map(drop))
        }
    };
    match written {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            errln!("cannot write the output: {e}");
            EXIT_USAGE
        }
        Ok(()) if input_lost => {
            errln!(
                "the input could not be read whole: claims after the error record may be missing"
            );
            EXIT_USAGE
        }
        Ok(()) if invalid > 0 => EXIT_FAILED,
        Ok(()) => EXIT_OK,
    }
}
