#!/bin/sh
# An event type without an event name must not compile (docs/design.md section
# 2): NATTEL_EVENT_NAME("") and NATTEL_EVENT_NAME(NULL) (and a variable)
# are refused by the compiler; the same files with a proper name compile, and
# so does a plain well-named control, so this test fails both when the guard
# disappears and when the harness itself is broken.
#
# Environment (set by CTest): NATTEL_CC, NATTEL_SOURCE_DIR, NATTEL_TEST_TMP.
set -u

cc=${NATTEL_CC:-cc}
src=${NATTEL_SOURCE_DIR:?NATTEL_SOURCE_DIR is not set}
dir=$src/tests/compile
tmp=${NATTEL_TEST_TMP:-/tmp}/compile-guard.$$
mkdir -p "$tmp" || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

for f in event_name_ok.c event_name_empty.c event_name_null.c event_name_variable.c; do
    [ -f "$dir/$f" ] || { echo "FAIL: missing $dir/$f" >&2; exit 1; }
done

# compilers: the build's, plus gcc and clang when present (each is checked
# only if it compiles the control)
compilers=$cc
for extra in gcc clang; do
    p=$(command -v $extra 2>/dev/null) || continue
    case " $compilers " in *" $p "*) ;; *) compilers="$compilers $p" ;; esac
done

checked=0
for c in $compilers; do
    werror="-Wall -Wextra -Werror"
    # 1. the control compiles, warning-free (a public macro must not break
    #    a host's -Werror build with any compiler)
    if ! $c -std=c11 $werror -I "$src/include" -fsyntax-only "$dir/event_name_ok.c" \
            >"$tmp/out" 2>&1; then
        fail "$c: a properly named event type does not compile warning-free:"
        sed 's/^/    /' "$tmp/out" | head -20 >&2
        werror=""
        # without -Werror it must compile, else the refusals prove nothing
        if ! $c -std=c11 -I "$src/include" -fsyntax-only "$dir/event_name_ok.c" \
                >"$tmp/out" 2>&1; then
            fail "$c refuses the well-named control event_name_ok.c:"
            cat "$tmp/out" >&2
            continue
        fi
    fi
    flags="-std=c11 $werror -I $src/include"
    # ... builds and runs, and the name is the literal given
    if $c -std=c11 -I "$src/include" -DNATTEL_COMPILE_RUN -o "$tmp/ok" \
          "$dir/event_name_ok.c" >"$tmp/out" 2>&1; then
        "$tmp/ok" || fail "$c: NATTEL_EVENT_NAME(\"my_event\") is not \"my_event\" at run time"
    else
        fail "$c cannot build the control program:"
        cat "$tmp/out" >&2
    fi
    checked=$((checked + 1))
    for f in event_name_empty.c event_name_null.c event_name_variable.c; do
        # 2. with a proper name the very same file compiles
        if ! $c $flags -DNATTEL_COMPILE_CONTROL -fsyntax-only "$dir/$f" >"$tmp/out" 2>&1; then
            fail "$c: $f does not compile even with a proper name (a broken test file):"
            cat "$tmp/out" >&2
            continue
        fi
        # 3. as written, it must be refused
        if $c $flags -fsyntax-only "$dir/$f" >"$tmp/out" 2>&1; then
            fail "$c compiles $f: an event type without a proper name compiled"
            continue
        fi
        echo "ok: $c refuses $f: $(grep -m1 -i 'error' "$tmp/out")"
    done
    # the empty name is refused by the guard itself, which names the rule
    $c $flags -fsyntax-only "$dir/event_name_empty.c" >"$tmp/out" 2>&1
    grep -q 'nattel_event_type_needs_a_non_empty_name' "$tmp/out" ||
        fail "$c: the refusal of an empty name does not name the rule:
$(cat "$tmp/out")"
    # without -Werror too: the refusal is an error, not a warning
    if $c -std=c11 -w -I "$src/include" -fsyntax-only "$dir/event_name_empty.c" \
          >/dev/null 2>&1; then
        fail "$c compiles event_name_empty.c when warnings are off"
    fi
done

[ "$checked" -gt 0 ] || fail "no compiler could check the guard"
if [ "$failures" -gt 0 ]; then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "compile guard holds with: $compilers"
exit 0
