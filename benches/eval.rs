//! Evaluation alone: the bundled example batch, already parsed, decided with an
//! empty history per iteration. Reading and writing JSON are left out;
//! `bench/run.sh` measures the whole command. The engine is made once: a fresh
//! engine per iteration measured copying the compiled policies too, which is
//! not evaluation.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use payer_rules::internal::read_claims_str;
use payer_rules::InputFormat;
use payer_rules::{Engine, LoadError, MemoryHistory, Outcome, Policies};

// The allocator the binary uses (`crates/cli/src/main.rs`): evaluation allocates per
// claim, so the system allocator would measure a different program.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Stops the benchmark: figures of a run that could not decide would mislead.
fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}

fn evaluation(c: &mut Criterion) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // No fallback to empty policies: they would decide nothing, fast.
    let policies = match Policies::load(&[dir.join("policies")]).into_result() {
        Ok(policies) => policies,
        Err(err) => {
            if let LoadError::Invalid(invalid) = &err {
                for d in &invalid.diagnostics {
                    eprintln!("{}", d.render_plain());
                }
            }
            fail(&format!("the bundled policies do not load: {err}"));
        }
    };
    let path = dir.join("examples/claims.jsonl");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", path.display())));
    let claims: Vec<_> = read_claims_str(&text, InputFormat::JsonLines)
        .into_iter()
        .filter_map(Result::ok)
        .collect();
    // A benchmark must measure decisions: every claim that has a policy (the
    // batch holds a few of a payer with none) is decided, and there are some.
    let with_policy = claims.iter().filter(|c| policies.select(c).is_ok()).count();
    let mut engine = Engine::new(policies);
    let decided = claims
        .iter()
        .enumerate()
        .filter(|(i, c)| matches!(engine.evaluate(c, i + 1), Outcome::Decision(_)))
        .count();
    assert!(
        decided > 0 && decided == with_policy,
        "{decided} of the {} claims read decided, {with_policy} have a policy",
        claims.len()
    );
    let mut group = c.benchmark_group("eval");
    group.throughput(Throughput::Elements(claims.len() as u64));
    group.bench_function("bundled-batch", |b| {
        b.iter(|| {
            // The last iteration's history is dropped here, inside the timing.
            *engine.history_mut() = MemoryHistory::new();
            for (i, claim) in claims.iter().enumerate() {
                black_box(engine.evaluate(claim, i + 1));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, evaluation);
criterion_main!(benches);
