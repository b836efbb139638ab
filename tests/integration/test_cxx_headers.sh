#!/bin/sh
# A C++ program compiles against every public header (g++ -std=c++17
# -Wall -Wextra -Werror: extern "C", no C-only constructs in the headers)
# and runs README's example, taken from README's own text and compiled as
# C++, linked to this build's libnattel.so.1: its event appears on stderr
# (stdout sink), its own line on stdout, its exit status kept.
# Env: NATTEL_SOURCE_DIR, NATTEL_BUILD_DIR, NATTEL_TEST_TMP.
# Exit 77 (skip) when g++ is not installed.
set -u
src=${NATTEL_SOURCE_DIR:?run through CTest}
build=${NATTEL_BUILD_DIR:?run through CTest}
base=${NATTEL_TEST_TMP:?run through CTest}
command -v g++ >/dev/null 2>&1 || {
    echo "skip: g++ is not installed (Debian package g++)" >&2
    exit 77
}
mkdir -p "$base" || exit 1
tmp=$(mktemp -d "$base/cxx.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# Every public header first (each on its own would be included by the
# example anyway), then README's example.
n=0
for h in "$src"/include/nattel/*.h; do
    echo "#include <nattel/$(basename "$h")>" >>"$tmp/hello.cpp"
    n=$((n + 1))
done
[ $n -ge 6 ] || fail "only $n public headers found"
sed -n '/^```c$/,/^```$/p' "$src/README.md" | sed -n '2,/^```$/p' | sed '$d' >"$tmp/example.c"
grep -q 'nattel_invocation_begin' "$tmp/example.c" || fail "no C example in README.md"
cat "$tmp/example.c" >>"$tmp/hello.cpp"
# NATTEL_CONSUMER_FLAGS: the sanitizer flags of an instrumented build.
# shellcheck disable=SC2086
if ! g++ -std=c++17 -Wall -Wextra -Werror ${NATTEL_CONSUMER_FLAGS:-} -I"$src/include" "$tmp/hello.cpp" \
    -L"$build" -lnattel -Wl,-rpath,"$build" -o "$tmp/hello" 2>"$tmp/cxx.err"; then
    cat "$tmp/cxx.err" >&2
    fail "README's example does not compile as C++17 against the public headers"
    exit 1
fi
readelf -d "$tmp/hello" | grep -q 'NEEDED.*libnattel.so.1' ||
    fail "the C++ program is not linked to libnattel.so.1"

env -u DO_NOT_TRACK -u NAT_TELEMETRY_DRY_RUN HOME="$tmp/home" \
    NATTEL_STATE_DIR="$tmp/state" NAT_TELEMETRY_ENABLED=1 \
    NAT_TELEMETRY_ENDPOINT=stdout "$tmp/hello" greet world \
    </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || fail "hello greet world: exit $rc: $(cat "$tmp/err")"
[ "$(cat "$tmp/out")" = "hello, world" ] || fail "stdout: $(cat "$tmp/out")"
grep -q '"command":"greet","subcommand":"world","taskStatus":"success"' "$tmp/err" ||
    fail "no event on stderr: $(cat "$tmp/err")"
env -u DO_NOT_TRACK HOME="$tmp/home" NATTEL_STATE_DIR="$tmp/state" \
    NAT_TELEMETRY_ENABLED=1 NAT_TELEMETRY_ENDPOINT=stdout "$tmp/hello" \
    </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "hello (usage): exit $rc, expected 2"
grep -q '"taskStatus":"failure".*"exitCode":2,"errorClass":"UsageError"' "$tmp/err" ||
    fail "usage: no failure event: $(cat "$tmp/err")"
exit $((fails > 0))
