#!/bin/sh
# Instructions per operation of one bench_codec measure under callgrind:
# (run of N) - (run of 0), / N, so that setup and start-up cancel out.
# Repeatable where times are not (a shared machine).
#
# usage: sh bench/instr.sh BENCH_CODEC NAME [N]    (N default 2000)
# prints "NAME_instr I" (I rounded to a whole instruction); exit 1 and
# a reason on stderr when valgrind is missing or the run fails.
set -u
bin=$1 name=$2 n=${3:-2000}
command -v valgrind >/dev/null 2>&1 || { echo "instr: valgrind is not installed" >&2; exit 1; }
collected() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" --only "$name" --count "$1" 2>&1 >/dev/null |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
a=$(collected 0)
b=$(collected "$n")
[ -n "$a" ] && [ -n "$b" ] || { echo "instr: callgrind of $bin --only $name failed" >&2; exit 1; }
awk -v a="$a" -v b="$b" -v n="$n" -v name="$name" 'BEGIN { printf "%s_instr %.0f\n", name, (b - a) / n }'
