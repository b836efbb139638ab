#!/bin/sh
# `make install PREFIX=...` into a temporary prefix (its own build
# directory), then README's example program built against the installed
# tree by a pkg-config consumer (shared, and static with --static) and a
# CMake consumer (find_package(nattel 1 CONFIG REQUIRED), nattel::nattel
# and nattel::nattel_static) and run: its event appears on stderr (stdout
# sink), nothing on stdout. Also: every installed file is there,
# libnattel.so.1 exports nattel_* alone, the installed tool runs, the man
# page renders, a host linked to the shared library finds the flusher from
# the library's location after the prefix moved, and `make uninstall`
# leaves nothing under the prefix.
# Env: NATTEL_SOURCE_DIR, NATTEL_TEST_TMP, NATTEL_CC, NATTEL_CMAKE.
set -u
src=${NATTEL_SOURCE_DIR:?run through CTest}
base=${NATTEL_TEST_TMP:?run through CTest}
cc=${NATTEL_CC:-cc}
cmake=${NATTEL_CMAKE:-cmake}
command -v pkg-config >/dev/null 2>&1 || {
    echo "skip: pkg-config is not installed" >&2
    exit 77
}
mkdir -p "$base" || exit 1
tmp=$(mktemp -d "$base/install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

prefix="$tmp/prefix"
if ! make -C "$src" install PREFIX="$prefix" BUILD="$tmp/build" \
    CMAKE_FLAGS=-DNATTEL_TESTS=OFF >"$tmp/install.log" 2>&1; then
    tail -n 30 "$tmp/install.log" >&2
    fail "make install PREFIX=... failed"
    exit 1
fi

# The installed tree must stand alone: no build directory to fall back on
# (the library looks for its flusher beside itself, at the installed path,
# then in the build tree). Put back for `make uninstall` at the end.
mv "$tmp/build" "$tmp/build-away" || exit 1

pcdir=$(dirname "$(find "$prefix" -name nattel.pc | head -n 1)")
libdir=$(dirname "$pcdir")
for f in "$libdir/libnattel.a" "$prefix/include/nattel/nattel.h" \
    "$prefix/include/nattel/client.h" "$prefix/include/nattel/options.h" \
    "$prefix/include/nattel/consent.h" "$prefix/include/nattel/reader.h" \
    "$prefix/include/nattel/hook.h" "$prefix/bin/nattel" \
    "$libdir/libnattel.so.1" "$libdir/libnattel.so" \
    "$libdir/cmake/nattel/nattelConfig.cmake" \
    "$libdir/cmake/nattel/nattelConfigVersion.cmake" \
    "$pcdir/nattel.pc" "$prefix/share/man/man1/nattel.1"; do
    [ -f "$f" ] || fail "not installed: $f"
done
# libnattel.so.1: a link to the real file, soname libnattel.so.1, and only
# the public API exported.
so="$libdir/libnattel.so.1"
[ -L "$so" ] && [ -f "$(readlink -f "$so")" ] || fail "$so is not a link to the library"
soname=$(readelf -d "$so" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libnattel.so.1 ] || fail "soname: '$soname', expected libnattel.so.1"
nm -D --defined-only "$so" | awk '{ print $NF }' >"$tmp/exported"
[ -s "$tmp/exported" ] || fail "libnattel.so.1 exports nothing"
if grep -v '^nattel_[a-z]' "$tmp/exported" >"$tmp/internal"; then
    fail "libnattel.so.1 exports internal symbols: $(head -n 5 "$tmp/internal" | tr '\n' ' ')"
fi
grep -qx nattel_client_new "$tmp/exported" || fail "nattel_client_new is not exported"
flusher=$(find "$prefix/libexec/nattel" -type f 2>/dev/null | head -n 1)
[ -n "$flusher" ] && [ -x "$flusher" ] ||
    fail "no flusher installed in $prefix/libexec/nattel/"
"$prefix/bin/nattel" --version | grep -q '^nattel [0-9]' ||
    fail "the installed nattel does not run"

# The man page renders (man -l when man is there, else its header).
if command -v man >/dev/null 2>&1; then
    MANPAGER=cat MANWIDTH=80 man -l "$prefix/share/man/man1/nattel.1" \
        >"$tmp/man.txt" 2>"$tmp/man.err" || fail "man -l failed: $(cat "$tmp/man.err")"
    for w in SYNOPSIS ENVIRONMENT FILES "EXIT STATUS" serve report flush \
        NAT_TELEMETRY_ENABLED DO_NOT_TRACK; do
        grep -q "$w" "$tmp/man.txt" || fail "man page lacks $w"
    done
else
    head -n 1 "$prefix/share/man/man1/nattel.1" | grep -q '^\.TH NATTEL 1' ||
        fail "man page header"
fi

# README's example, built against the installed tree only.
sed -n '/^```c$/,/^```$/p' "$src/README.md" | sed -n '2,/^```$/p' | sed '$d' >"$tmp/hello.c"
grep -q 'nattel_invocation_begin' "$tmp/hello.c" || fail "no C example in README.md"
export PKG_CONFIG_PATH="$pcdir"
pkg-config --libs nattel | grep -q -- '-lnattel' || fail "pkg-config --libs: no -lnattel"
pkg-config --libs nattel | grep -q -- '-lpthread' &&
    fail "pkg-config --libs carries the static link's private libraries"
for l in -lm -ldl -lpthread; do
    pkg-config --static --libs nattel | grep -q -- "$l" ||
        fail "pkg-config --static --libs lacks $l"
done
# The pkg-config consumers, as README.md says: shared, then static
# (-Wl,-Bstatic picks libnattel.a over libnattel.so).
for mode in shared static; do
    case $mode in
    shared) flags=$(pkg-config --cflags --libs nattel) ;;
    static) flags="$(pkg-config --cflags nattel) -Wl,-Bstatic $(pkg-config --static --libs nattel) -Wl,-Bdynamic" ;;
    esac
    case "$flags" in *"$src/include"*) fail "pkg-config points into the source tree: $flags" ;; esac
    # shellcheck disable=SC2086 # the flags are words
    if ! "$cc" -std=c11 -Wall -Wextra -Werror "$tmp/hello.c" $flags \
        -o "$tmp/hello-$mode" 2>"$tmp/cc.err"; then
        cat "$tmp/cc.err" >&2
        fail "the example does not build with pkg-config ($mode)"
        continue
    fi
    if readelf -d "$tmp/hello-$mode" | grep -q 'NEEDED.*libnattel.so.1'; then
        [ $mode = shared ] || fail "the static consumer needs libnattel.so.1"
    else
        [ $mode = static ] || fail "the shared consumer does not need libnattel.so.1"
    fi
    cp "$tmp/hello-$mode" "$tmp/hello"
    export LD_LIBRARY_PATH="$libdir"
    env -u DO_NOT_TRACK -u NAT_TELEMETRY_DRY_RUN HOME="$tmp/home" \
        NATTEL_STATE_DIR="$tmp/state" NAT_TELEMETRY_ENABLED=1 \
        NAT_TELEMETRY_ENDPOINT=stdout \
        "$tmp/hello" greet world </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 0 ] || fail "hello ($mode): exit $rc: $(cat "$tmp/err")"
    [ "$(cat "$tmp/out")" = "hello, world" ] ||
        fail "hello ($mode): stdout is not the program's own: $(cat "$tmp/out")"
    grep -q '"command":"greet","subcommand":"world","taskStatus":"success"' \
        "$tmp/err" || fail "hello ($mode): no event on stderr: $(cat "$tmp/err")"
    [ "$(grep -c '"clientId"' "$tmp/err")" -eq 1 ] ||
        fail "hello ($mode): not exactly one payload"
    # a usage error: failure with the program's error class, exit code kept
    env -u DO_NOT_TRACK HOME="$tmp/home" NATTEL_STATE_DIR="$tmp/state" \
        NAT_TELEMETRY_ENABLED=1 NAT_TELEMETRY_ENDPOINT=stdout \
        "$tmp/hello" --verbose deploy </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 2 ] || fail "hello usage ($mode): exit $rc"
    grep -q '"command":"unknown","subcommand":"undefined","taskStatus":"failure","durationMs":[0-9]*,"exitCode":2,"errorClass":"UsageError"' \
        "$tmp/err" || fail "hello usage ($mode): event: $(cat "$tmp/err")"
    unset LD_LIBRARY_PATH
done
unset LD_LIBRARY_PATH

# The CMake consumers: find_package(nattel 1 CONFIG REQUIRED) from the
# prefix; nattel::nattel (shared: CMake's build RPATH finds it) and
# nattel::nattel_static. A request for 2 is refused (SameMajorVersion).
mkdir -p "$tmp/consumer"
cp "$tmp/hello.c" "$tmp/consumer/hello.c"
cat >"$tmp/consumer/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(nattel ${WANT} CONFIG REQUIRED)
add_executable(hello-shared hello.c)
target_link_libraries(hello-shared PRIVATE nattel::nattel)
add_executable(hello-static hello.c)
target_link_libraries(hello-static PRIVATE nattel::nattel_static)
CMAKE
if ! "$cmake" -S "$tmp/consumer" -B "$tmp/consumer/build" -DWANT=1 \
    -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/cmake.log" 2>&1 ||
    ! "$cmake" --build "$tmp/consumer/build" >>"$tmp/cmake.log" 2>&1; then
    tail -n 20 "$tmp/cmake.log" >&2
    fail "the CMake consumer does not build"
else
    for mode in shared static; do
        env -u DO_NOT_TRACK -u NAT_TELEMETRY_DRY_RUN -u LD_LIBRARY_PATH HOME="$tmp/home" \
            NATTEL_STATE_DIR="$tmp/state" NAT_TELEMETRY_ENABLED=1 \
            NAT_TELEMETRY_ENDPOINT=stdout "$tmp/consumer/build/hello-$mode" greet moon \
            </dev/null >"$tmp/out" 2>"$tmp/err" || fail "cmake hello-$mode: exit $?: $(cat "$tmp/err")"
        [ "$(cat "$tmp/out")" = "hello, moon" ] || fail "cmake hello-$mode: stdout: $(cat "$tmp/out")"
        grep -q '"command":"greet","subcommand":"moon","taskStatus":"success"' "$tmp/err" ||
            fail "cmake hello-$mode: no event: $(cat "$tmp/err")"
    done
    readelf -d "$tmp/consumer/build/hello-shared" | grep -q 'NEEDED.*libnattel.so.1' ||
        fail "nattel::nattel is not the shared library"
fi
if "$cmake" -S "$tmp/consumer" -B "$tmp/consumer/build2" -DWANT=2 \
    -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/cmake2.log" 2>&1; then
    fail "find_package(nattel 2) accepted version 1"
fi
# Real delivery from the installed tree, moved to another prefix than the
# one compiled in (and no build tree): the shared library spools the event
# and starts the flusher it finds beside itself (../libexec/nattel/), which
# posts it to a local `nattel serve` (the tool, moved too, runs).
mv "$prefix" "$tmp/moved" || exit 1
if [ -x "$tmp/hello-shared" ]; then
    "$tmp/moved/bin/nattel" serve --listen 127.0.0.1:0 --db "$tmp/serve.db" --quiet \
        </dev/null >"$tmp/serve.out" 2>"$tmp/serve.err" &
    server=$!
    url=""
    i=0
    while [ $i -lt 200 ] && [ -z "$url" ]; do
        url=$(grep -o 'http://[^ ]*' "$tmp/serve.out" 2>/dev/null | head -n 1)
        sleep 0.05
        i=$((i + 1))
    done
    if [ -z "$url" ]; then
        fail "the installed nattel serve did not start: $(cat "$tmp/serve.err")"
    else
        env -u DO_NOT_TRACK -u NATTEL_FLUSHER HOME="$tmp/home" \
            LD_LIBRARY_PATH="$tmp/moved/${libdir#"$prefix"/}" \
            NATTEL_STATE_DIR="$tmp/state-http" NAT_TELEMETRY_ENABLED=1 \
            NAT_TELEMETRY_ENDPOINT="$url" \
            "$tmp/hello-shared" version </dev/null >"$tmp/out" 2>"$tmp/err" ||
            fail "hello (http): exit $?: $(cat "$tmp/err")"
        [ ! -s "$tmp/err" ] || fail "hello (http): stderr: $(cat "$tmp/err")"
        i=0 # the detached flusher delivers on its own: wait for it (bounded)
        while [ $i -lt 300 ]; do
            "$tmp/moved/bin/nattel" report --db "$tmp/serve.db" >"$tmp/report" 2>/dev/null &&
                grep -q '^version ' "$tmp/report" && break
            sleep 0.1
            i=$((i + 1))
        done
        grep -q '^version  *undefined  *1 ' "$tmp/report" ||
            fail "the installed flusher did not deliver: $(cat "$tmp/report")"
    fi
    kill -TERM "$server" 2>/dev/null
    wait "$server" 2>/dev/null
fi
[ ! -e "$tmp/home/.config" ] && [ ! -e "$tmp/home/.local" ] ||
    fail "the example wrote into HOME"

# `make uninstall` removes every file install wrote and the directories it
# created: nothing of ours is left under the prefix.
mv "$tmp/moved" "$prefix" && mv "$tmp/build-away" "$tmp/build" || exit 1
make -C "$src" uninstall BUILD="$tmp/build" >"$tmp/uninstall.log" 2>&1 ||
    fail "make uninstall: $(cat "$tmp/uninstall.log")"
left=$(find "$prefix" -mindepth 1 2>/dev/null | head -n 5)
[ -z "$left" ] || fail "left under the prefix after make uninstall: $left"
exit $((fails > 0))
