#!/bin/sh
# Build the libFuzzer targets with clang into build/fuzz and run each for SECONDS (default 60).
#   tests/fuzz/run.sh 600
# New corpus entries go to build/fuzz/<target>_corpus; crashes to build/fuzz/<target>-crash-*.
# Exit status is non-zero if a target finds a crash.
# FUZZ_TARGETS="fuzz_multipart" runs only those (the default: all of them).
set -eu
TARGETS=${FUZZ_TARGETS:-fuzz_request fuzz_chunked fuzz_json fuzz_ws fuzz_multipart}
SECONDS_EACH=${1:-60}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${MFA_BUILD:-$ROOT/build}/fuzz
CLANG=$(command -v clang || command -v clang-14)
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_C_COMPILER="$CLANG" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target $TARGETS >/dev/null
# The targets at once (they share the cores); each one's summary is printed when all are done.
for t in $TARGETS; do
    mkdir -p "$BUILD/${t}_corpus"
    "$BUILD/$t" -max_total_time="$SECONDS_EACH" -max_len=8192 -print_final_stats=1 \
        -artifact_prefix="$BUILD/$t-" "$BUILD/${t}_corpus" "$ROOT/tests/fuzz/corpus/$t" \
        >"$BUILD/$t.log" 2>&1 &
    pids="${pids:-} $!"
done
echo "== $TARGETS: ${SECONDS_EACH}s each"
status=0
for p in $pids; do
    wait "$p" || status=1   # libFuzzer exits non-zero on a crash, a leak or a timeout
done
for t in $TARGETS; do
    echo "== $t"
    grep -E "stat::number_of_executed_units|stat::new_units_added|ERROR|SUMMARY|Done" \
        "$BUILD/$t.log" || status=1
    if ls "$BUILD/$t-"crash-* >/dev/null 2>&1; then
        echo "$t: crash found: $(ls "$BUILD/$t-"crash-*)"
        status=1
    fi
done
exit $status
