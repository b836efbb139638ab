#!/usr/bin/env python3
"""Runs a command REPEAT times with stdin/stdout redirected and prints the best
wall time, its CPU time and the peak RSS over all runs, as "key value" lines.

usage: measure.py REPEAT IN OUT -- CMD [ARG...]   (IN/OUT: files, "-" = /dev/null)
"""
import os
import subprocess
import sys
import tempfile
import time

# The child's ru_maxrss counts the pages of the Python process it was forked
# from, so peak memory comes from GNU time (a small C program) when present.
GNU_TIME = "/usr/bin/time"


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
    use_time = os.access(GNU_TIME, os.X_OK)
    rss_file = tempfile.NamedTemporaryFile(prefix="measure-", suffix=".rss", delete=False)
    rss_file.close()
    for _ in range(repeat):
        run = ([GNU_TIME, "-f", "%M", "-o", rss_file.name] if use_time else []) + cmd
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            t0 = time.perf_counter()
            p = subprocess.Popen(run, stdin=fin, stdout=fout, stderr=subprocess.DEVNULL)
            _, status, ru = os.wait4(p.pid, 0)
            wall = time.perf_counter() - t0
            p.returncode = os.waitstatus_to_exitcode(status)
        codes.add(p.returncode)
        cpu = ru.ru_utime + ru.ru_stime
        rss = ru.ru_maxrss  # KiB on Linux
        if use_time:
            with open(rss_file.name) as f:
                # GNU time writes "Command exited with non-zero status N" first
                # when the status is not 0; the figure is on the last line.
                last = f.read().strip().splitlines()[-1:]
                rss = int(last[0]) if last and last[0].isdigit() else rss
        peak = max(peak, rss)
        if best is None or wall < best[0]:
            best = (wall, cpu)
    os.unlink(rss_file.name)
    print("wall_s %.6f" % best[0])
    print("cpu_s %.6f" % best[1])
    print("maxrss_kib %d" % peak)
    print("exit %s" % ",".join(str(c) for c in sorted(codes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
