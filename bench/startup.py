#!/usr/bin/env python3
"""Start-up time: the median wall time of each command over RUNS runs,
interleaved (one run of each in turn, so that a busy moment of the machine
falls on all of them alike). stdin, stdout and stderr are /dev/null; the
environment is this one's. Prints one "median_ms N" line per command, in
order; exits 1 when a command cannot be run or exits non-zero.

usage: startup.py RUNS -- CMD [ARG...] [-- CMD [ARG...]]...
"""
import os
import statistics
import sys
import time


def commands(argv):
    out = []
    for a in argv:
        if a == "--":
            out.append([])
        elif out:
            out[-1].append(a)
    return [c for c in out if c]


def run(argv, null):
    t0 = time.perf_counter()
    dup = [(os.POSIX_SPAWN_DUP2, null, fd) for fd in (0, 1, 2)]
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=dup)
    _, status = os.waitpid(pid, 0)
    wall = time.perf_counter() - t0
    return wall, os.waitstatus_to_exitcode(status)


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    runs = int(sys.argv[1])
    cmds = commands(sys.argv[2:])
    null = os.open(os.devnull, os.O_RDWR)
    walls = [[] for _ in cmds]
    for _ in range(runs):
        for i, c in enumerate(cmds):
            wall, code = run(c, null)
            if code != 0:
                print("startup.py: %s: exit %d" % (c[0], code), file=sys.stderr)
                return 1
            walls[i].append(wall)
    for w in walls:
        print("median_ms %.2f" % (statistics.median(w) * 1e3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
