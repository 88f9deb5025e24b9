#!/bin/sh
# Seeds the fuzz corpora from the repository: fuzz/corpus/<target>/ gets the
# bundled policies, the diagnostics fixtures and the policy snippets of the docs
# (parse, check), and the example claims, one file per record plus whole files,
# as JSON Lines, a JSON array and YAML (claims). Run from anywhere; safe to
# re-run (files are named by content, so nothing is duplicated).
# fuzz/corpus is git-ignored: the corpora grow as the fuzzer runs.
set -eu

fuzz=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$fuzz")
corpus=$fuzz/corpus

# put TARGET FILE: copies FILE into the target's corpus under its hash.
put() {
    mkdir -p "$corpus/$1"
    name=$(cksum < "$2" | cut -d' ' -f1)
    cp "$2" "$corpus/$1/seed-$name"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Policies: the bundled ones, their libraries, the test fixtures.
for f in "$root"/policies/*.policy "$root"/policies/lib/*.policy \
    "$root"/tests/diagnostics/*.policy "$root"/tests/data/*/*.policy; do
    [ -f "$f" ] || continue
    put parse "$f"
    put check "$f"
done

# The policy snippets of the docs: every ```policy... fence, one file each.
for md in "$root"/README.md "$root"/docs/*.md "$root"/docs/lints/*.md; do
    [ -f "$md" ] || continue
    awk -v out="$tmp/snippet" '
        /^```policy/ { n++; file = out "-" n; inside = 1; printf "" > file; next }
        /^```/ && inside { inside = 0; close(file); next }
        inside { print > file }
    ' "$md"
    for f in "$tmp"/snippet-*; do
        [ -f "$f" ] || continue
        put parse "$f"
        put check "$f"
        rm -f "$f"
    done
done

# Claims: every JSON Lines file whole, and each record on its own.
for f in "$root"/examples/claims.jsonl "$root"/examples/history/*.jsonl \
    "$root"/tests/data/*.jsonl; do
    [ -f "$f" ] || continue
    # The 600-claim example batch is too big a single input; its head is not.
    head -n 20 "$f" > "$tmp/whole"
    put claims "$tmp/whole"
    i=0
    while IFS= read -r line; do
        i=$((i + 1))
        printf '%s\n' "$line" > "$tmp/line"
        put claims "$tmp/line"
        # A few records as a JSON array too.
        if [ $((i % 50)) -eq 1 ]; then
            printf '[%s]\n' "$line" > "$tmp/array"
            put claims "$tmp/array"
        fi
    done < "$f"
done
# A JSON array of several claims.
{ printf '['; head -n 5 "$root/tests/data/mixed.jsonl" | paste -sd, -; printf ']\n'; } > "$tmp/array"
put claims "$tmp/array"

# YAML: the test cases' files (claims inside a `cases:` mapping) and a list of
# claims in block style.
for f in "$root"/policies/*.cases.yaml "$root"/tests/data/*/*.cases.yaml; do
    [ -f "$f" ] || continue
    put claims "$f"
done
cat > "$tmp/yaml" <<'YAML'
- id: BASE-1
  payer: medicare
  patient: {id: P-BASE, birth_date: 1961-05-14, sex: F}
  provider: {npi: "1234567893", taxonomy: 208VP0014X}
  place_of_service: "11"
  diagnoses: [M79.18, M54.2]
  lines:
    - {line: 1, date_of_service: 2025-01-06, procedure: "20553", units: 1, diagnosis_pointers: [1], site: cervical, muscles: 3, injections: 4, charge: 182.50}
    - {line: 2, date_of_service: 2025-01-06, procedure: J3301, units: 4, diagnosis_pointers: [1], charge: 12.00}
- id: BASE-2
  payer: aetna
  patient:
    id: P-AE
    birth_date: 1970-02-01
    sex: M
  diagnoses:
    - M79.18
  facts:
    trigger_points_palpated: true
    symptom_duration_days: 120
  lines:
    - line: 1
      date_of_service: 2025-03-01
      procedure: "20552"
      modifiers: [GA]
      units: 1
      site: lumbar
      muscles: 2
      injections: 2
      charge: 99.0
YAML
put claims "$tmp/yaml"

# X12 837P: the hand-written files (one per envelope and mapping rule) and the
# bundled example.
for f in "$root"/tests/data/x12/*.837 "$root"/examples/claims.837p; do
    [ -f "$f" ] || continue
    put x12 "$f"
    put claims "$f"
done

for target in parse check claims x12; do
    printf '%s: %s files\n' "$target" "$(ls "$corpus/$target" | wc -l)"
done
