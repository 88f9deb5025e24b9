//! Times the phases of `eval` on a claims file: read + validate, evaluate,
//! serialize. `bench/profile.sh` runs it under callgrind.
use std::io::BufReader;
use std::time::Instant;

use payer_rules::{ClaimReader, InputFormat, Outcome};
use payer_rules::{Engine, Policies};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let path = std::env::args().nth(1).unwrap_or_default();
    let t = Instant::now();
    let policies = Policies::load(&["policies".into()])
        .policies
        .unwrap_or_default();
    println!("load {:?}", t.elapsed());
    let t = Instant::now();
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let claims: Vec<_> = ClaimReader::new(BufReader::new(file), InputFormat::Auto).collect();
    let read = t.elapsed();
    println!(
        "read {} claims {:?} ({:.0}/s)",
        claims.len(),
        read,
        claims.len() as f64 / read.as_secs_f64()
    );
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
