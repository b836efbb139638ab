#!/usr/bin/env python3
"""`make demo`'s script (scripts/demo.sh) against the build: it exits 0 in
under a minute (the build is already there), its report's rows match
what it ran, what the user typed after the command names is not in the
report, and afterwards nothing it started is still running (every child
inherits a marker variable; /proc is searched for it), its temporary
directory is gone and HOME / XDG directories are untouched.
Env: NATTEL_SOURCE_DIR, NATTEL_BUILD_DIR, NATTEL_TEST_TMP."""
import os
import subprocess
import sys
import tempfile
import time
import uuid

import nattel_testlib as tl
from nattel_testlib import check, env as need_env, failures

SRC = need_env("NATTEL_SOURCE_DIR")
BUILD = need_env("NATTEL_BUILD_DIR")

# (command, subcommand) -> (count, success, failure, interrupted, errors)
WANT = {
    ("info", "list-components"): (3, 3, 0, 0, "-"),
    ("info", "list-channels"): (1, 1, 0, 0, "-"),
    ("run", "undefined"): (2, 1, 1, 0, "FileNotFoundError (1)"),
    ("unknown", "undefined"): (1, 0, 1, 0, "UsageError (1)"),
    ("serve", "undefined"): (1, 0, 0, 1, "SIGINT (1)"),
}


def report_rows(text):
    """The rows of the `nattel report` table in the demo's output."""
    lines = text.splitlines()
    try:
        start = next(i for i, l in enumerate(lines) if l.split()[:3] ==
                     ["COMMAND", "SUBCOMMAND", "COUNT"])
    except StopIteration:
        failures.append(f"no report table in the output: {text!r}")
        return {}
    rows = {}
    for line in lines[start + 1:]:
        f = line.split()
        if len(f) < 9 or not f[2].isdigit():
            break
        rows[(f[0], f[1])] = (int(f[2]), int(f[3]), int(f[4]), int(f[5]),
                              " ".join(f[8:]))
    return rows


def marked_processes(marker):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if marker.encode() in f.read():
                    with open(f"/proc/{pid}/cmdline", "rb") as c:
                        found.append((pid, c.read().replace(b"\0", b" ").decode()))
        except OSError:
            continue
    return found


def main():
    base = os.environ.get("NATTEL_TEST_TMP") or None
    if base:
        os.makedirs(base, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=base, prefix="demo-") as tmp:
        home = os.path.join(tmp, "home")
        tmpdir = os.path.join(tmp, "tmpdir")
        os.makedirs(home)
        os.makedirs(tmpdir)
        marker = "NATTEL_DEMO_TEST_" + uuid.uuid4().hex
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("NAT_", "NATTEL_")) and k != "DO_NOT_TRACK"}
        env.update({"HOME": home, "TMPDIR": tmpdir, marker: "1",
                    "XDG_STATE_HOME": os.path.join(home, "state"),
                    "XDG_CONFIG_HOME": os.path.join(home, "config")})
        t0 = time.monotonic()
        res = subprocess.run(["sh", os.path.join(SRC, "scripts", "demo.sh"), BUILD],
                             env=env, capture_output=True, text=True, timeout=300,
                             stdin=subprocess.DEVNULL)
        took = time.monotonic() - t0
        out = res.stdout
        check(res.returncode == 0, f"demo exit {res.returncode}: {res.stderr[-2000:]!r}")
        check(took < 60, f"demo took {took:.1f} s (want < 60 s)")
        rows = report_rows(out)
        check(rows == WANT, f"report rows {rows}, want {WANT}")
        check("ran: 3 × info list-components" in out, "no 'ran:' line")
        table = out[out.find("COMMAND"):out.find("ran:")]
        for secret in ("hunter2", "frobnicate", "workflow.yml", "secret-token", tmp):
            check(secret not in table, f"report shows {secret!r}")
        # nothing left behind
        time.sleep(0.2)
        left = marked_processes(marker)
        check(not left, f"processes left running: {left}")
        check(os.listdir(tmpdir) == [], f"temporary files left: {os.listdir(tmpdir)}")
        check(os.listdir(home) == [], f"HOME written: {os.listdir(home)}")
        print(f"demo took {took:.1f} s", file=sys.stderr)

        # `make demo | head -n 1`: the reader goes away early; the demo
        # still stops what it started and removes its directory.
        p = subprocess.Popen(["sh", os.path.join(SRC, "scripts", "demo.sh"), BUILD],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL)
        p.stdout.readline()
        p.stdout.close()
        try:
            p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            failures.append("demo with a closed stdout did not end")
        time.sleep(0.5)
        left = marked_processes(marker)
        check(not left, f"closed stdout: processes left running: {left}")
        check(os.listdir(tmpdir) == [], f"closed stdout: temporary files left: "
              f"{os.listdir(tmpdir)}")
    return tl.summary()


if __name__ == "__main__":
    sys.exit(main())
