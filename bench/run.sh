#!/usr/bin/env bash
# Throughput benchmark: 1 million generated claims against the bundled policies.
# Prints, per run, claims/s and lines/s end to end, peak memory and policy load
# time (from eval's summary), the median of the runs, then evaluation alone
# (criterion). Usage: bench/run.sh [CLAIMS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
runs=${2:-5}
data=target/bench-claims-$n.jsonl

cargo build --release --quiet --bin payer-rules --example gen_claims
[ -f "$data" ] || target/release/examples/gen_claims "$n" 42 > "$data"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "input: $data ($(wc -l < "$data") claims, $(du -h "$data" | cut -f1))"

for jobs in 1 2; do
  rates=()
  for i in $(seq "$runs"); do
    line=$(target/release/payer-rules eval --jobs "$jobs" "$data" 2>&1 >/dev/null | grep '^evaluated')
    echo "jobs $jobs run $i: $line"
    rates+=("$(sed -E 's/.*\(([0-9]+) claims\/s.*/\1/' <<< "$line")")
  done
  median=$(printf '%s\n' "${rates[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  echo "jobs $jobs median: $median claims/s"
done

cargo bench --quiet --bench eval -- --noplot 2>&1 | grep -E 'time:|thrpt:|eval/'
