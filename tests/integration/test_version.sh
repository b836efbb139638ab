#!/bin/sh
# The version is said once (project(nattel VERSION ...) in CMakeLists.txt)
# and everything else agrees: NATTEL_VERSION in include/nattel/nattel.h,
# `nattel --version`, the shared library's file name
# (libnattel.so.VERSION) and soname (libnattel.so.MAJOR), nattel.pc, the
# man page's header, and an ABI baseline exists for the soname.
# Env: NATTEL_SOURCE_DIR, NATTEL_BUILD_DIR, NATTEL_BIN.
set -u
src=${NATTEL_SOURCE_DIR:?run through CTest}
build=${NATTEL_BUILD_DIR:?run through CTest}
bin=${NATTEL_BIN:?run through CTest}
fails=0
fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}
v=$(sed -n 's/^project(nattel VERSION \([0-9.]*\) .*/\1/p' "$src/CMakeLists.txt")
case $v in
[0-9]*.[0-9]*.[0-9]*) ;;
*) fail "no version in CMakeLists.txt's project(): '$v'" ;;
esac
major=${v%%.*}
h=$(sed -n 's/^#define NATTEL_VERSION "\(.*\)"$/\1/p' "$src/include/nattel/nattel.h")
[ "$h" = "$v" ] || fail "nattel.h says NATTEL_VERSION \"$h\", CMakeLists.txt $v"
"$bin" --version | grep -qx "nattel $v" || fail "nattel --version: $("$bin" --version)"
[ -f "$build/libnattel.so.$v" ] || fail "no $build/libnattel.so.$v"
soname=$(readelf -d "$build/libnattel.so.$v" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$soname" = "libnattel.so.$major" ] || fail "soname '$soname', expected libnattel.so.$major"
head -n 1 "$src/docs/nattel.1" | grep -q "\"nattel $v\"" ||
    fail "docs/nattel.1: $(head -n 1 "$src/docs/nattel.1")"
grep -qx "Version: $v" "$build/nattel.pc" || fail "nattel.pc: $(grep Version "$build/nattel.pc")"
[ -f "$src/abi/libnattel.so.$major.abi.xml" ] ||
    fail "no ABI baseline for libnattel.so.$major (make abi-baseline)"
exit $((fails > 0))
