#!/usr/bin/env python3
"""Delivery end to end against a real `nattel serve` on loopback: `nattel
emit` spools and starts the detached flusher, `nattel flush --wait`
delivers what is left, the server stores each event once, and status, log
and the state directory say what happened (private files, symlinks
refused). The measured acceptance tests (concurrency, kill -9, faults,
overhead) live in their own scripts.

Environment: NATTEL_BIN, NATTEL_BUILD_DIR, NATTEL_TEST_TMP.
"""

import json
import os
import stat
import subprocess
import sys

import nattel_testlib as tl
from nattel_testlib import check

BIN = tl.tool()
BUILD = tl.env("NATTEL_BUILD_DIR")


def run(args, extra, timeout=120):
    e = tl.tool_env(extra, drop=("NATTEL_",))
    return subprocess.run([BIN] + args, env=e, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def private(root):
    """Every path under root that is not 0600 (files) or 0700 (dirs)."""
    bad = []
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(d, name)
            m = os.lstat(path).st_mode
            want = 0o700 if stat.S_ISDIR(m) else 0o600
            if stat.S_IMODE(m) != want or stat.S_ISLNK(m):
                bad.append(f"{path}: {oct(stat.S_IMODE(m))}")
    m = os.lstat(root).st_mode
    if stat.S_IMODE(m) != 0o700:
        bad.append(f"{root}: {oct(stat.S_IMODE(m))}")
    return bad


def main():
    with tl.tempdir("delivery-") as tmp, \
            tl.Serve(tmp, db=os.path.join(tmp, "t.db")) as serve:
        url = serve.url
        check(url.startswith("http://127.0.0.1:"), f"serve URL: {url!r}")
        state = os.path.join(tmp, "state")
        on = {"NAT_TELEMETRY_ENABLED": "1", "NAT_TELEMETRY_ENDPOINT": url,
              "NATTEL_STATE_DIR": state,
              "NAT_TELEMETRY_CONSENT_FILE": os.path.join(tmp, "c.toml"),
              "NATTEL_FLUSHER": os.path.join(BUILD, "nattel-flusher")}
        for i in range(5):
            p = run(["emit", "--command", "run", "--status", "success",
                     "--duration-ms", str(100 + i)], on)
            check(p.returncode == 0 and p.stdout == "" and p.stderr == "",
                  f"emit {i}: {p.returncode} {p.stdout!r} {p.stderr!r}")
        p = run(["flush", "--wait", "--json"], on)
        check(p.returncode == 0, f"flush: {p.returncode} {p.stderr!r}")
        out = json.loads(p.stdout or "{}")
        check(out.get("remaining") == 0 and out.get("deferred") == 0,
              f"flush: {out}")
        # Everything is delivered: a second flush says so in words.
        p = run(["flush"], on)
        check(p.returncode == 0 and p.stdout.startswith("nothing to send"),
              f"flush of an empty spool: {p.returncode} {p.stdout!r}")

        p = run(["report", "--db", os.path.join(tmp, "t.db"), "--json"], on)
        rows = json.loads(p.stdout or "[]")
        count = sum(r["count"] for r in rows)
        check(count == 5, f"stored {count} events, want 5 (each once): {rows}")

        p = run(["status", "--json"], on)
        st = json.loads(p.stdout or "{}")
        check(st.get("spooled") == 0 and st.get("sent") == 5 and st.get("dropped") == 0,
              f"status counters: {st}")
        last = st.get("last_delivery") or {}
        check(last.get("outcome") == "sent" and last.get("http_status") == 200,
              f"last_delivery: {last}")
        check("enabled" in st and "endpoint" in st, f"status keys kept: {sorted(st)}")

        p = run(["log", "--json"], on)
        recs = [json.loads(line) for line in p.stdout.splitlines()]
        sent = [r for r in recs if r["outcome"] == "sent"]
        check(sum(r["events"] for r in sent) == 5, f"log: {recs}")
        for r in recs:
            check(list(r) == ["ts", "outcome", "events", "http_status", "reason",
                              "endpoint", "payload"], f"log keys: {list(r)}")
        for r in sent:
            env_ = r["payload"] or {}
            check(len(env_.get("events", [])) == r["events"]
                  and env_.get("clientId") == "184482118588404",
                  f"log payload: {r}")
        p = run(["log", "-n", "1", "--json"], on)
        check(len(p.stdout.splitlines()) == 1, f"log -n 1: {p.stdout!r}")
        check(private(state) == [], f"not private: {private(state)}")

        # Spool only: nothing starts, status counts what waits.
        p = run(["emit", "--command", "run", "--status", "success"],
                dict(on, NATTEL_DELIVERY="spool-only"))
        st = json.loads(run(["status", "--json"], on).stdout or "{}")
        check(p.returncode == 0 and st.get("spooled") == 1, f"spool-only: {st}")
        p = run(["flush", "--json"], on)
        check(p.returncode == 0 and json.loads(p.stdout)["sent"] == 1,
              f"flush after spool-only: {p.returncode} {p.stdout!r}")

        # A symlinked state directory is refused with a clear error; emit
        # still exits 0 (a host's telemetry never fails the host).
        link = os.path.join(tmp, "link")
        os.symlink(state, link)
        p = run(["emit", "--command", "run", "--status", "success"],
                dict(on, NATTEL_STATE_DIR=link))
        check(p.returncode == 0 and "symlink" in p.stderr
              and p.stderr.count("\n") == 1, f"symlinked state: {p.stderr!r}")

        # Off means off: nothing created.
        off_state = os.path.join(tmp, "off")
        p = run(["emit", "--command", "run", "--status", "success"],
                dict(on, NAT_TELEMETRY_ENABLED="0", NATTEL_STATE_DIR=off_state))
        check(p.returncode == 0 and not os.path.exists(off_state),
              "consent off created the state directory")
    return tl.summary()


if __name__ == "__main__":
    sys.exit(main())
