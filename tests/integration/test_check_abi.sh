#!/bin/sh
# The ABI checker (scripts/check-abi.sh, run by `make check-abi`) catches a
# real incompatible change: a small library, libfake.so.1, built from C
# with debug information as libnattel is, its baseline dumped with the
# checker itself, then versions of it checked against that baseline:
# unchanged and grown (a function added) pass; a function removed, or a
# public struct changed, fail; the removal with the soname moved
# (libfake.so.2) passes. Then the library of this build against the
# committed baseline (abi/libnattel.so.1.abi.xml), as `make check-abi`.
# Env: NATTEL_SOURCE_DIR, NATTEL_BUILD_DIR, NATTEL_TEST_TMP, NATTEL_CC.
# Exit 77 (skip) when abidw/abidiff (abigail-tools) are not installed.
set -u
src=${NATTEL_SOURCE_DIR:?run through CTest}
build=${NATTEL_BUILD_DIR:?run through CTest}
base=${NATTEL_TEST_TMP:?run through CTest}
cc=${NATTEL_CC:-cc}
for t in abidw abidiff readelf; do
    command -v $t >/dev/null 2>&1 || {
        echo "skip: $t is not installed (Debian package abigail-tools / binutils)" >&2
        exit 77
    }
done
mkdir -p "$base" || exit 1
tmp=$(mktemp -d "$base/abi.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
check="$src/scripts/check-abi.sh"
fails=0
fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# fake VERSION SONAME HEADER_BODY SOURCE_BODY: builds $tmp/VERSION/libfake.so
fake() {
    d="$tmp/$1"
    mkdir -p "$d/include"
    printf '%s\n' "$3" >"$d/include/fake.h"
    printf '#include "fake.h"\n%s\n' "$4" >"$d/fake.c"
    "$cc" -g -O0 -fPIC -shared -I"$d/include" -Wl,-soname,"$2" \
        -o "$d/libfake.so" "$d/fake.c" 2>"$d/cc.err" ||
        fail "building $1: $(cat "$d/cc.err")"
}
H1='typedef struct fake_point { int x; int y; } fake_point;
int fake_add(const fake_point *p);
int fake_neg(int v);'
S1='int fake_add(const fake_point *p) { return p->x + p->y; }
int fake_neg(int v) { return -v; }'
fake v1 libfake.so.1 "$H1" "$S1"
"$check" dump "$tmp/v1/libfake.so" "$tmp/v1/include" "$tmp/base.xml" >/dev/null ||
    fail "dump of v1"
grep -q "soname='libfake.so.1'" "$tmp/base.xml" || fail "the baseline lacks the soname"
grep -q "fake_neg" "$tmp/base.xml" || fail "the baseline lacks fake_neg"

# expect NAME STATUS: the checker's exit status on version NAME
expect() {
    "$check" check "$tmp/$1/libfake.so" "$tmp/$1/include" "$tmp/base.xml" \
        >"$tmp/$1.out" 2>&1
    rc=$?
    [ $rc -eq "$2" ] || fail "$1: exit $rc, expected $2: $(cat "$tmp/$1.out")"
}
expect v1 0

fake added libfake.so.1 "$H1
int fake_twice(int v);" "$S1
int fake_twice(int v) { return 2 * v; }"
expect added 0
grep -q "fake_twice" "$tmp/added.out" || fail "the addition is not reported"

fake removed libfake.so.1 'typedef struct fake_point { int x; int y; } fake_point;
int fake_add(const fake_point *p);' 'int fake_add(const fake_point *p) { return p->x + p->y; }'
expect removed 1
grep -q "fake_neg" "$tmp/removed.out" || fail "the removal is not named"

fake changed libfake.so.1 'typedef struct fake_point { long x; int y; } fake_point;
int fake_add(const fake_point *p);
int fake_neg(int v);' "$S1"
expect changed 1

fake moved libfake.so.2 'typedef struct fake_point { int x; int y; } fake_point;
int fake_add(const fake_point *p);' 'int fake_add(const fake_point *p) { return p->x + p->y; }'
expect moved 0
grep -q "soname moved" "$tmp/moved.out" || fail "moved: the soname move is not said"

# This build's libnattel.so.1 against the committed baseline (skipped
# when built without debug information: then abidw sees symbols only).
lib="$build/libnattel.so.1"
if [ ! -f "$lib" ]; then
    fail "no $lib in the build"
elif ! readelf -S "$lib" | grep -q '\.debug_info'; then
    echo "note: $lib has no debug information (a Release build): not compared with the baseline" >&2
else
    "$check" check "$lib" "$src/include/nattel" "$src/abi/libnattel.so.1.abi.xml" \
        >"$tmp/nattel.out" 2>&1 || fail "libnattel: $(cat "$tmp/nattel.out")"
fi
exit $((fails > 0))
