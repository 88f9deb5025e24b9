#!/usr/bin/env bash
# Throughput benchmark: 1 million generated claims against the bundled policies.
# Prints, per run, claims/s and lines/s end to end, peak memory and policy load
# time (from eval's summary), the median of the runs: in memory with --jobs 1 and
# 2, then with the history in a database (--db, a fresh file each run) against
# the in-memory rate, and the database's size per million counted services; the
# same claims as X12 837P (gen_claims --x12) against JSON Lines, both --jobs 1;
# impact with the bundled policies on both sides (every claim decided twice)
# against eval --jobs 1; then evaluation alone (criterion).
# With BASE=path/to/an/older/payer-rules, each run also times that binary and
# this one, --jobs 1, on the same claims and the policies of BASE_POLICIES
# (default: policies; give an older tree's policies when this tree's use
# what the older binary cannot read), and prints this one's rate as a share
# of the older one's: the comparison a change's "no regression" is read from.
# Usage: [BASE=BIN [BASE_POLICIES=DIR]] bench/run.sh [CLAIMS] [RUNS]
set -euo pipefail
# Paths given relative to where the script was started from.
[ -z "${BASE:-}" ] || BASE=$(realpath "$BASE")
[ -z "${BASE_POLICIES:-}" ] || BASE_POLICIES=$(realpath "$BASE_POLICIES")
cd "$(dirname "$0")/.."
n=${1:-1000000}
runs=${2:-5}
target=${CARGO_TARGET_DIR:-target}
data=$target/bench-claims-$n.jsonl
x12=$target/bench-claims-$n.837p
db=$target/bench-history-$n.db
bin=$target/release/payer-rules

cargo build --release --quiet --bin payer-rules --example gen_claims
[ -f "$data" ] || "$target/release/examples/gen_claims" "$n" 42 > "$data"
[ -f "$x12" ] || "$target/release/examples/gen_claims" "$n" 42 --x12 > "$x12"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "input: $data ($(wc -l < "$data") claims, $(du -h "$data" | cut -f1))"

rate() { sed -E 's/.*\(([0-9]+) claims\/s.*/\1/' <<< "$1"; }
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }

# In memory and with a database, run after run, so both see the same machine;
# on a shared machine the ratio within a run is steadier than either rate.
mem=(); two=(); disk=(); ratio=(); edi=(); edi_ratio=(); imp=(); imp_ratio=()
old=(); new=(); vs_old=()
base_policies=${BASE_POLICIES:-policies}
for i in $(seq "$runs"); do
  if [ -n "${BASE:-}" ]; then
    line=$("$BASE" eval --jobs 1 -p "$base_policies" "$data" 2>&1 >/dev/null | grep '^evaluated') || {
      echo "bench/run.sh: $BASE printed no 'evaluated' summary on $base_policies (does it read those policies?)" >&2
      exit 1
    }
    echo "BASE    jobs 1 run $i: $line"
    old+=("$(rate "$line")")
    line=$("$bin" eval --jobs 1 -p "$base_policies" "$data" 2>&1 >/dev/null | grep '^evaluated')
    echo "this    jobs 1 run $i: $line"
    new+=("$(rate "$line")")
    r=$(( 1000 * ${new[-1]} / ${old[-1]} ))
    echo "run $i: this binary at $(( r / 10 )).$(( r % 10 ))% of BASE ($base_policies)"
    vs_old+=("$r")
  fi
  line=$("$bin" eval --jobs 1 "$data" 2>&1 >/dev/null | grep '^evaluated')
  echo "memory  jobs 1 run $i: $line"
  mem+=("$(rate "$line")")
  line=$("$bin" eval --jobs 2 "$data" 2>&1 >/dev/null | grep '^evaluated')
  echo "memory  jobs 2 run $i: $line"
  two+=("$(rate "$line")")
  rm -f "$db" "$db-wal" "$db-shm"
  line=$("$bin" eval --db "$db" "$data" 2>&1 >/dev/null | grep '^evaluated')
  echo "--db           run $i: $line"
  disk+=("$(rate "$line")")
  r=$(( 100 * ${disk[-1]} / ${mem[-1]} ))
  echo "run $i: --db at $r% of memory jobs 1"
  ratio+=("$r")
  line=$("$bin" eval --jobs 1 "$x12" 2>&1 >/dev/null | grep '^evaluated')
  echo "837P    jobs 1 run $i: $line"
  edi+=("$(rate "$line")")
  r=$(( 100 * ${edi[-1]} / ${mem[-1]} ))
  echo "run $i: 837P at $r% of JSON Lines jobs 1"
  edi_ratio+=("$r")
  # impact prints no rate of its own: the wall clock of the whole run.
  start=$(date +%s%N)
  "$bin" impact --base policies --candidate policies --format json "$data" >/dev/null
  ns=$(( $(date +%s%N) - start ))
  imp+=("$(( n * 1000000000 / ns ))")
  r=$(( 100 * ${imp[-1]} / ${mem[-1]} ))
  echo "impact         run $i: ${imp[-1]} claims/s in $(( ns / 1000000 )) ms; impact at $r% of eval jobs 1"
  imp_ratio+=("$r")
done
m=$(median "${mem[@]}"); m2=$(median "${two[@]}"); d=$(median "${disk[@]}")
echo "memory jobs 1 median: $m claims/s"
echo "memory jobs 2 median: $m2 claims/s"
echo "--db median: $d claims/s; per run, --db at a median $(median "${ratio[@]}")% of memory jobs 1"
echo "837P median: $(median "${edi[@]}") claims/s; per run, 837P at a median $(median "${edi_ratio[@]}")% of JSON Lines jobs 1"
echo "impact median: $(median "${imp[@]}") claims/s; per run, impact at a median $(median "${imp_ratio[@]}")% of eval jobs 1 (target 40%)"
if [ -n "${BASE:-}" ]; then
  r=$(median "${vs_old[@]}")
  echo "BASE median: $(median "${old[@]}") claims/s, this binary $(median "${new[@]}") claims/s ($base_policies); per run, this binary at a median $(( r / 10 )).$(( r % 10 ))% of BASE"
fi
"$bin" history stats --db "$db"

cargo bench --quiet --bench eval -- --noplot 2>&1 | grep -E 'time:|thrpt:|eval/'
