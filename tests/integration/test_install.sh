#!/bin/sh
# `make install PREFIX=...` into a temporary prefix (its own build
# directory), then the documented example program of docs/hook.md built
# against the installed tree with pkg-config (with and without --static)
# and run: its event appears on stderr (stdout sink), nothing on stdout.
# Also: every installed file is there, the installed tool runs, and the
# man page renders.
# Env: NATTEL_SOURCE_DIR, NATTEL_TEST_TMP, NATTEL_CC.
set -u
src=${NATTEL_SOURCE_DIR:?run through CTest}
base=${NATTEL_TEST_TMP:?run through CTest}
cc=${NATTEL_CC:-cc}
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
# (the library looks for its flusher at the installed path first, then in
# the build tree).
rm -rf "$tmp/build"

pcdir=$(dirname "$(find "$prefix" -name nattel.pc | head -n 1)")
libdir=$(dirname "$pcdir")
for f in "$libdir/libnattel.a" "$prefix/include/nattel/nattel.h" \
    "$prefix/include/nattel/client.h" "$prefix/include/nattel/options.h" \
    "$prefix/include/nattel/consent.h" \
    "$prefix/include/nattel/hook.h" "$prefix/bin/nattel" \
    "$pcdir/nattel.pc" "$prefix/share/man/man1/nattel.1"; do
    [ -f "$f" ] || fail "not installed: $f"
done
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

# The example of docs/hook.md, built against the installed tree only.
sed -n '/^```c$/,/^```$/p' "$src/docs/hook.md" | sed '1d;$d' >"$tmp/hello.c"
[ -s "$tmp/hello.c" ] || fail "no C example in docs/hook.md"
export PKG_CONFIG_PATH="$pcdir"
for mode in "" --static; do
    flags=$(pkg-config --cflags --libs $mode nattel) || fail "pkg-config $mode"
    case "$flags" in *"$src/include"*) fail "pkg-config points into the source tree: $flags" ;; esac
    # shellcheck disable=SC2086 # the flags are words
    if ! "$cc" -std=c11 -Wall -Wextra -Werror "$tmp/hello.c" $flags \
        -o "$tmp/hello" 2>"$tmp/cc.err"; then
        cat "$tmp/cc.err" >&2
        fail "the example does not build with pkg-config --libs $mode"
        continue
    fi
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
done
# Real delivery from the installed tree: the library spools the event and
# starts the installed flusher, which posts it to a local `nattel serve`.
if [ -x "$tmp/hello" ]; then
    "$prefix/bin/nattel" serve --listen 127.0.0.1:0 --db "$tmp/serve.db" --quiet \
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
            NATTEL_STATE_DIR="$tmp/state-http" NAT_TELEMETRY_ENABLED=1 \
            NAT_TELEMETRY_ENDPOINT="$url" \
            "$tmp/hello" version </dev/null >"$tmp/out" 2>"$tmp/err" ||
            fail "hello (http): exit $?: $(cat "$tmp/err")"
        [ ! -s "$tmp/err" ] || fail "hello (http): stderr: $(cat "$tmp/err")"
        i=0 # the detached flusher delivers on its own: wait for it (bounded)
        while [ $i -lt 300 ]; do
            "$prefix/bin/nattel" report --db "$tmp/serve.db" >"$tmp/report" 2>/dev/null &&
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
exit $((fails > 0))
