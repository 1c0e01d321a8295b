#!/usr/bin/env bash
# The fuzzing campaign (issue 11 §7): runs one cargo-fuzz target, or all of them, from its
# committed corpus (fuzz/corpus/TARGET) with its dictionary (fuzz/dict/TARGET.dict) if there is
# one, until RUNS executions (default 10,000,000) or SECONDS (default 1800), whichever comes
# first; then minimises the corpus in place (cargo fuzz cmin) and prints one line per target:
#
#   TARGET  DATE  EXECUTIONS  SECONDS  COVERAGE  FEATURES  CORPUS  RESULT
#
# The lines are also appended to target/fuzz/results.md. A crash leaves its input in
# fuzz/artifacts/TARGET/ and the line says FAIL; the script then exits non-zero. Make every
# crash a regression test in its crate.
#
#   scripts/fuzz.sh                     every target, 10 M executions or 30 min each
#   scripts/fuzz.sh wkc_start 600       one target, at most 10 min
#   scripts/fuzz.sh all 60 1000000      every target, 1 M executions or 60 s each
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`); only the stable toolchain exists here, so the
# nightly flags are enabled with RUSTC_BOOTSTRAP=1.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${1:-all}
SECONDS_MAX=${2:-1800}
RUNS=${3:-10000000}
OUT="$ROOT/target/fuzz"
mkdir -p "$OUT"
cd "$ROOT/fuzz" || exit 2

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz.sh: cargo-fuzz is missing: cargo install cargo-fuzz" >&2
    exit 2
fi

targets=()
if [ "$TARGET" = all ]; then
    while read -r t; do targets+=("$t"); done < <(RUSTC_BOOTSTRAP=1 cargo fuzz list)
else
    targets=("$TARGET")
fi

RUSTC_BOOTSTRAP=1 cargo fuzz build >/dev/null 2>&1 || {
    echo "fuzz.sh: the targets do not build: RUSTC_BOOTSTRAP=1 cargo fuzz build" >&2
    exit 2
}

failed=0
for t in "${targets[@]}"; do
    corpus="corpus/$t"
    mkdir -p "$corpus"
    dict=()
    [ -f "dict/$t.dict" ] && dict=("-dict=dict/$t.dict")
    log="$OUT/$t.log"
    start=$(date +%s)
    RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" "$corpus" -- \
        -runs="$RUNS" -max_total_time="$SECONDS_MAX" -rss_limit_mb=4096 \
        -print_final_stats=1 "${dict[@]}" >"$log" 2>&1
    status=$?
    took=$(( $(date +%s) - start ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+')
    ft=$(grep -Eo 'ft: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+')
    result=PASS
    if [ $status -ne 0 ] || grep -q 'SUMMARY: \|deadly signal\|panicked at' "$log"; then
        result="FAIL (see $log and fuzz/artifacts/$t/)"
        failed=1
    else
        # Keep only inputs that add coverage (the committed corpus stays small).
        RUSTC_BOOTSTRAP=1 cargo fuzz cmin "$t" "$corpus" -- -rss_limit_mb=4096 "${dict[@]}" \
            >"$OUT/$t.cmin.log" 2>&1 || result="PASS (cmin failed: $OUT/$t.cmin.log)"
    fi
    files=$(find "$corpus" -type f | wc -l)
    line=$(printf '| %s | %s | %s | %s s | %s | %s | %s files | %s |' \
        "$t" "$(date -u +%F)" "${execs:-?}" "$took" "${cov:-?}" "${ft:-?}" "$files" "$result")
    echo "$line"
    echo "$line" >>"$OUT/results.md"
done
exit $failed
