#!/bin/sh
# Runs every libFuzzer target of a fuzz build for FUZZ_SECONDS each.
#
# usage: FUZZ_SECONDS=60 sh scripts/fuzz.sh BUILD [TARGET...]
#   BUILD   a build made with -DNATTEL_FUZZ=ON (clang), e.g. build-fuzz
#   TARGET  names to run (json_wire, envelope, ...); default: all fuzz_* built
#   FUZZ_OPTIONS  extra libFuzzer flags for every target (e.g. "-seed=1")
#
# Each target `fuzz_<name>` runs on BUILD/fuzz-corpus/<name>/, which starts as
# a copy of the seed corpus fuzz/corpus/<name>/ and keeps what the fuzzer
# finds between runs; fuzz/<name>.dict is used as a dictionary when present.
# Crash, leak, timeout and out-of-memory inputs land in
# BUILD/fuzz-artifacts/<name>/, the full output in BUILD/fuzz-logs/<name>.log.
# Exit status: 0 no finding, 1 some target found something (each named with
# its input file and the start of its report), 2 usage error.
set -u

BUILD=${1:-}
[ -n "$BUILD" ] || { echo "usage: FUZZ_SECONDS=N sh scripts/fuzz.sh BUILD [TARGET...]" >&2; exit 2; }
shift
SECS=${FUZZ_SECONDS:-60}
case $SECS in '' | *[!0-9]*) echo "fuzz: FUZZ_SECONDS must be a whole number of seconds" >&2; exit 2 ;; esac
EXTRA_OPTS=${FUZZ_OPTIONS:-}

src=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "fuzz: no build directory '$BUILD'" >&2; exit 2; }
bindir=$BUILD/fuzz
[ -d "$bindir" ] || { echo "fuzz: $bindir missing: configure with -DNATTEL_FUZZ=ON (CC=clang)" >&2; exit 2; }

if [ $# -gt 0 ]; then
    names=$*
else
    names=$(cd "$bindir" && for f in fuzz_*; do [ -x "$f" ] && [ -f "$f" ] && echo "${f#fuzz_}"; done)
fi
[ -n "$names" ] || { echo "fuzz: no fuzz targets built in $bindir" >&2; exit 2; }

# Sanitizers: stop at the first report, with a symbolized stack.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:symbolize=1}
export ASAN_OPTIONS UBSAN_OPTIONS
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
    for s in llvm-symbolizer llvm-symbolizer-14; do
        if p=$(command -v $s 2>/dev/null); then ASAN_SYMBOLIZER_PATH=$p; export ASAN_SYMBOLIZER_PATH; break; fi
    done
fi

failed=""
total=0
for name in $names; do
    bin=$bindir/fuzz_$name
    if [ ! -x "$bin" ]; then
        echo "fuzz: $name: no binary $bin" >&2
        failed="$failed $name"
        continue
    fi
    corpus=$BUILD/fuzz-corpus/$name
    artifacts=$BUILD/fuzz-artifacts/$name
    log=$BUILD/fuzz-logs/$name.log
    mkdir -p "$corpus" "$artifacts" "$BUILD/fuzz-logs"
    if [ -d "$src/fuzz/corpus/$name" ]; then
        cp -p "$src/fuzz/corpus/$name"/* "$corpus"/ 2>/dev/null
    else
        echo "fuzz: $name: no seed corpus fuzz/corpus/$name/ (starting empty)" >&2
    fi
    set -- -max_total_time="$SECS" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="$artifacts/" -print_final_stats=1
    [ -f "$src/fuzz/$name.dict" ] && set -- "$@" -dict="$src/fuzz/$name.dict"
    stamp=$BUILD/fuzz-logs/$name.stamp
    : >"$stamp"
    # shellcheck disable=SC2086
    "$bin" "$@" $EXTRA_OPTS "$corpus" >"$log" 2>&1
    rc=$?
    new=$(find "$artifacts" -type f -newer "$stamp" | head -n 5)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    files=$(find "$corpus" -type f | wc -l | tr -d " ")
    if [ $rc -eq 0 ] && [ -z "$new" ]; then
        echo "fuzz: $name: ok (${SECS} s, ${runs:-?} runs, ${cov:-cov: ?}, corpus $files files)"
        total=$((total + 1))
        continue
    fi
    failed="$failed $name"
    echo "fuzz: $name: FINDING (exit $rc) after ${runs:-?} runs; log $log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY:|.*runtime error:|.*property failed:|artifact_prefix=|Test unit written to)' "$log" |
        head -n 8 | sed 's/^/  | /'
    for f in $new; do
        echo "  input: $f ($(wc -c <"$f" | tr -d ' ') bytes)"
        echo "  reproduce: $bin $f"
    done
    # The first frames of the stack that are not the fuzzer's or libc's.
    grep -E '^ +#[0-9]+ ' "$log" | grep -Ev 'fuzzer::|__sanitizer_|libc\.so|compiler-rt|/sanitizer_common/' |
        head -n 10 | sed 's/^/  | /'
done

if [ -n "$failed" ]; then
    echo "fuzz: findings in:$failed" >&2
    exit 1
fi
echo "fuzz: $total targets, no finding (${SECS} s each)"
