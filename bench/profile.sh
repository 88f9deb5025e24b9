#!/usr/bin/env bash
# Instruction counts per claim of each phase of `eval` (read + validate,
# evaluate, serialize), from callgrind: repeatable whatever else the machine is
# doing. Usage: bench/profile.sh [CLAIMS]   (needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
data=target/profile-claims-$n.jsonl
cargo build --release --quiet --example phases --example gen_claims
[ -f "$data" ] || target/release/examples/gen_claims "$n" 42 > "$data"
out=target/callgrind.out
valgrind --tool=callgrind --callgrind-out-file="$out" target/release/examples/phases "$data" > /dev/null 2>&1
callgrind_annotate --inclusive=yes "$out" 2>/dev/null > "$out.txt"
count() { grep -m1 "$1" "$out.txt" | awk '{gsub(",","",$1); print $1}'; }
total=$(grep "PROGRAM TOTALS" "$out.txt" | awk '{gsub(",","",$1); print $1}')
read=$(count 'ClaimReader<R> as core::iter::traits::iterator::Iterator>::next')
eval=$(count 'payer_rules::eval::Engine<H>::try_evaluate')
ser=$(count 'payer_rules::claims::write::<impl payer_rules::claims::decision::Outcome>::write_json')
echo "instructions per claim ($n claims): total $((total / n)), read $((read / n)), evaluate $((eval / n)), serialize $((ser / n))"
echo "top functions (self): callgrind_annotate $out | head -40"
