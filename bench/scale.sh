#!/usr/bin/env bash
# Scale-out benchmark (issue 21): 1, 2 and 3 `payer-rules serve` processes on
# one PostgreSQL history (a throw-away cluster, bench/pg-cluster.sh, fsync
# and synchronous_commit on as a real server has them), the same claim
# stream: single claims at a fixed total rate spread over the processes
# (throughput, p50/p99 from when each request was due) and whole batches
# sent to every process at once (claims/s), first with the same members in
# every process's batches (each batch locks all of them: the processes take
# turns), then with members of each process's own. Each process count gets a fresh
# database. Usage: bench/scale.sh  (RATE=1000 DURATION=10 CONNECTIONS=24
# ROUNDS=10 to change the load; NO_BUILD=1 to use the built binaries).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
rate=${RATE:-1000}
duration=${DURATION:-10}
conns=${CONNECTIONS:-24}
rounds=${ROUNDS:-10}
[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet -p payer-rules-cli -p payer-rules-service --bin payer-rules --example load
bin=$target/release/payer-rules
load=$target/release/examples/load
work=$(mktemp -d)
# The cluster runs as another user when this runs as root: it must reach
# its directory.
chmod 711 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  bench/pg-cluster.sh stop "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), PostgreSQL $(pg_config --version 2>/dev/null | awk '{print $2}')"
base=$(bench/pg-cluster.sh start "$work/pg")
psql_url=${base%%\?*}

for n in 1 2 3; do
  db="scale$n"
  psql -X -q "$psql_url" -c "CREATE DATABASE $db"
  url="${base/\/postgres\?//$db?}"
  urls=()
  pids=()
  for i in $(seq 1 "$n"); do
    out="$work/out$n-$i"
    : > "$out"
    "$bin" serve --addr 127.0.0.1:0 --no-watch --db "$url" > "$out" 2> "$work/err$n-$i" &
    pids+=($!)
    until grep -q listening "$out"; do sleep 0.1; done
    urls+=("$(sed -n 's/listening on //p' "$out")")
  done
  list=$(IFS=,; echo "${urls[*]}")
  echo "[$n process(es)] $("$load" single "$list" examples/claims.jsonl "$rate" "$duration" "$conns")"
  echo "[$n process(es)] shared members: $("$load" batch "$list" examples/claims.jsonl "$rounds")"
  echo "[$n process(es)] disjoint members: $("$load" batch "$list" examples/claims.jsonl "$rounds" disjoint)"
  for p in "${pids[@]}"; do kill -TERM "$p"; wait "$p" || true; done
  pids=()
done
