#!/usr/bin/env bash
# Load benchmark of `payer-rules serve`: the service in one process, the load
# generator (crates/service/examples/load.rs, HTTP/1.1 keep-alive, open loop)
# in another. For each store (memory, SQLite): single claims at a fixed rate
# (throughput, p50/p99 measured from when each request was due) and whole
# batches (claims/s); then `eval --db` on the same claims, the batch figure's
# yardstick. Usage: bench/serve.sh  (RATE=2000 DURATION=10 CONNECTIONS=32
# ROUNDS=100 to change the load; fewer rounds time batches too short to
# read: 20 rounds are over in a fifth of a second).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
rate=${RATE:-2000}
duration=${DURATION:-10}
conns=${CONNECTIONS:-32}
rounds=${ROUNDS:-100}
[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet -p payer-rules-cli -p payer-rules-service --bin payer-rules --example load
bin=$target/release/payer-rules
load=$target/release/examples/load
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

start() {
  : > "$work/out"
  "$bin" serve --addr 127.0.0.1:0 --no-watch "$@" > "$work/out" 2> "$work/err" &
  pid=$!
  until grep -q listening "$work/out"; do sleep 0.1; done
  url=$(sed -n 's/listening on //p' "$work/out")
}
stop() { kill -TERM "$pid"; wait "$pid"; pid=; }

for store in memory sqlite; do
  if [ "$store" = sqlite ]; then start --db "$work/serve.db"; else start; fi
  echo "[$store] $("$load" single "$url" examples/claims.jsonl "$rate" "$duration" "$conns")"
  echo "[$store] $("$load" batch "$url" examples/claims.jsonl "$rounds")"
  stop
done

# The same claims as the batches (fresh ids per round) through eval --db.
grep '"lines"' examples/claims.jsonl > "$work/one.jsonl"
for r in $(seq 0 $((rounds - 1))); do sed "s/\"id\":\"/\"id\":\"B$r-/" "$work/one.jsonl"; done > "$work/rounds.jsonl"
echo "[eval --db] $("$bin" eval --db "$work/eval.db" "$work/rounds.jsonl" 2>&1 >/dev/null | grep '^evaluated')"
