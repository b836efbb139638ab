#!/usr/bin/env python3
"""Runs a command REPEAT times with stdin/stdout redirected and prints the best
wall time, its CPU time and the peak RSS over all runs, as "key value" lines.

usage: measure.py REPEAT IN OUT -- CMD [ARG...]   (IN/OUT: files, "-" = /dev/null)
"""
import os
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 6 or sys.argv[4] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    repeat = int(sys.argv[1])
    src = os.devnull if sys.argv[2] == "-" else sys.argv[2]
    dst = os.devnull if sys.argv[3] == "-" else sys.argv[3]
    cmd = sys.argv[5:]
    best = None
    peak = 0
    codes = set()
    for _ in range(repeat):
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, stdin=fin, stdout=fout, stderr=subprocess.DEVNULL)
            _, status, ru = os.wait4(p.pid, 0)
            wall = time.perf_counter() - t0
            p.returncode = os.waitstatus_to_exitcode(status)
        codes.add(p.returncode)
        cpu = ru.ru_utime + ru.ru_stime
        peak = max(peak, ru.ru_maxrss)  # KiB on Linux
        if best is None or wall < best[0]:
            best = (wall, cpu)
    print("wall_s %.6f" % best[0])
    print("cpu_s %.6f" % best[1])
    print("maxrss_kib %d" % peak)
    print("exit %s" % ",".join(str(c) for c in sorted(codes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
