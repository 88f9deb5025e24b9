//! Evaluation alone: the bundled example batch, already parsed, decided with an
//! empty history per iteration. Reading and writing JSON are left out;
//! `bench/run.sh` measures the whole command. The engine is made once: a fresh
//! engine per iteration measured copying the compiled policies too, which is
//! not evaluation.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use payer_rules::internal::read_claims_str;
use payer_rules::InputFormat;
use payer_rules::{Engine, MemoryHistory, Policies};

// The allocator the binary uses (`crates/cli/src/main.rs`): evaluation allocates per
// claim, so the system allocator would measure a different program.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn evaluation(c: &mut Criterion) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let policies = Policies::load(&[dir.join("policies")])
        .policies
        .unwrap_or_default();
    let text = std::fs::read_to_string(dir.join("examples/claims.jsonl")).unwrap_or_default();
    let claims: Vec<_> = read_claims_str(&text, InputFormat::JsonLines)
        .into_iter()
        .filter_map(Result::ok)
        .collect();
    let mut group = c.benchmark_group("eval");
    group.throughput(Throughput::Elements(claims.len() as u64));
    let mut engine = Engine::new(policies);
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
