//! Times the phases of `eval` on a claims file: read + validate, evaluate,
//! serialize. `bench/profile.sh` runs it under callgrind.
use std::io::BufReader;
use std::time::Instant;

use payer_rules::{ClaimReader, InputFormat, Outcome};
use payer_rules::{Engine, LoadError, Policies};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: phases CLAIMS-FILE (run from the repository root)");
        std::process::exit(2);
    };
    let t = Instant::now();
    // No fallback to empty policies: timings where nothing was decided are not
    // the timings of `eval`.
    let policies = match Policies::load(&["policies".into()]).into_result() {
        Ok(policies) => policies,
        Err(err) => {
            if let LoadError::Invalid(invalid) = &err {
                for d in &invalid.diagnostics {
                    eprintln!("{}", d.render_plain());
                }
            }
            eprintln!("error: the policies in ./policies do not load: {err}");
            std::process::exit(1);
        }
    };
    println!("load {:?}", t.elapsed());
    let t = Instant::now();
    let file = std::fs::File::open(&path).unwrap_or_else(|e| {
        eprintln!("error: cannot read {path}: {e}");
        std::process::exit(1)
    });
    let claims: Vec<_> = ClaimReader::new(BufReader::new(file), InputFormat::Auto).collect();
    let read = t.elapsed();
    println!(
        "read {} claims {:?} ({:.0}/s)",
        claims.len(),
        read,
        claims.len() as f64 / read.as_secs_f64()
    );
    let with_policy = claims
        .iter()
        .filter(|c| c.as_ref().is_ok_and(|c| policies.select(c).is_ok()))
        .count();
    let mut engine = Engine::new(policies);
    let t = Instant::now();
    let outcomes: Vec<Outcome> = claims
        .iter()
        .enumerate()
        .map(|(i, c)| match c {
            Ok(c) => engine.evaluate(c, i + 1),
            Err(e) => Outcome::Error(e.clone().into()),
        })
        .collect();
    let ev = t.elapsed();
    // The figures must be of decisions: every claim read that has a policy is
    // decided, and there are some.
    let decided = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Decision(_)))
        .count();
    if decided == 0 || decided != with_policy {
        eprintln!(
            "error: {decided} of the {} records decided, {with_policy} claims read have a policy",
            claims.len()
        );
        std::process::exit(1);
    }
    println!(
        "eval {:?} ({:.0}/s)",
        ev,
        claims.len() as f64 / ev.as_secs_f64()
    );
    let t = Instant::now();
    let mut out = Vec::with_capacity(200 << 20);
    for o in &outcomes {
        o.write_json(&mut out);
        out.push(b'\n');
    }
    let ser = t.elapsed();
    println!(
        "serialize {:?} ({:.0}/s) {} bytes",
        ser,
        claims.len() as f64 / ser.as_secs_f64(),
        out.len()
    );
}
