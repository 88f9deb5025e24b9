//! `payer-rules test`: runs the test cases beside policies.

use std::path::{Path, PathBuf};

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::testing::{cases_for, run_file_report};

/// Case files named by `paths`: a `.cases.yaml` file itself, the case file beside
/// a `.policy` file, or every case file below a directory.
fn case_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut out)?;
        } else if path.to_string_lossy().ends_with(".cases.yaml") {
            out.push(path.clone());
        } else if let Some(cases) = cases_for(path) {
            out.push(cases);
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.to_string_lossy().ends_with(".cases.yaml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Runs the cases; prints a line per case and the failures; exit 1 on any failure.
pub fn run(paths: &[PathBuf]) -> u8 {
    let files = match case_files(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cannot read test cases: {e}");
            return EXIT_USAGE;
        }
    };
    if files.is_empty() {
        eprintln!("no test cases (`*.cases.yaml`) found");
        return EXIT_USAGE;
    }
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut status = EXIT_OK;
    for file in files {
        match run_file_report(&file) {
            Err(e) => {
                eprintln!("error: {e}");
                status = EXIT_FAILED;
            }
            Ok(report) => {
                println!("{}", file.display());
                let unexercised = report.unexercised().join(", ");
                for r in report.results {
                    if r.passed() {
                        passed += 1;
                        println!("  ok    {}", r.name);
                    } else {
                        failed += 1;
                        println!("  FAIL  {}", r.name);
                        for f in &r.failures {
                            println!("          {f}");
                        }
                    }
                }
                if !unexercised.is_empty() {
                    println!("  note  no case makes these rules fire: {unexercised}");
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        status = EXIT_FAILED;
    }
    status
}
