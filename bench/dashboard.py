#!/usr/bin/env python3
"""The dashboard's API on a store of one million events: a store made by
`nattel serve`, filled here through SQLite (a realistic spread of commands,
statuses, durations, error classes, three client versions over 60 days),
then served; each query timed over a few runs. Target: under a second
for every query at 1M events.

Usage: bench/dashboard.py NATTEL_BIN [EVENTS]"""

import http.client
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests",
                                "integration"))
import nattel_testlib as tl  # noqa: E402

TARGET_MS = 1000


def fill(db, n):
    rng = random.Random(1)
    con = sqlite3.connect(db)
    cmds = [("run", ""), ("run", "pipeline"), ("info", "list-components"),
            ("info", "list-channels"), ("serve", ""), ("eval", ""),
            ("optimize", ""), ("configure", "")]
    with con:
        env_rows, ev_rows, cli_rows = [], [], []
        for i in range(n):
            if i % 10 == 0:
                env_rows.append((i // 10 + 1, "s%d" % (i // 10),
                                 "0.%d.0" % rng.randrange(3), "1.5",
                                 rng.choice(["x86_64", "arm64"]),
                                 "2026-05-06T00:00:00.000Z",
                                 "2026-05-06T00:00:00.000Z", 10))
            day, sec = divmod(rng.randrange(60 * 86400), 86400)
            ts = "2026-%02d-%02dT%02d:%02d:%02d.000Z" % (
                3 + day // 30, 1 + day % 30, sec // 3600, sec // 60 % 60,
                sec % 60)
            cmd, sub = rng.choice(cmds)
            status = rng.choice(["success"] * 6 + ["failure", "interrupted"])
            ev_rows.append((i + 1, i // 10 + 1, i % 10, "s", "0.1.0",
                            "nat_cli_command", "1.5", ts, ts, "{}"))
            cli_rows.append((i + 1, "agent_toolkit", cmd, sub, status,
                             rng.randrange(-1, 60000), 0,
                             rng.choice(["ValueError", "KeyError", "OSError"])
                             if status == "failure" else "undefined",
                             "undefined"))
        con.executemany("INSERT INTO envelopes (id, session_id, client_ver,"
                        " schema_ver, cpu_architecture, sent_ts, received_ts,"
                        " event_count) VALUES (?,?,?,?,?,?,?,?)", env_rows)
        con.executemany("INSERT INTO events (id, envelope_id, seq, session_id,"
                        " client_ver, name, schema_ver, ts, received_ts,"
                        " parameters) VALUES (?,?,?,?,?,?,?,?,?,?)", ev_rows)
        con.executemany("INSERT INTO nat_cli_command VALUES (?,?,?,?,?,?,?,?,?)",
                        cli_rows)
    con.close()


def timed(port, path, runs=3):
    best = None
    for _ in range(runs):
        t0 = time.perf_counter()
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        c.close()
        ms = (time.perf_counter() - t0) * 1000
        assert r.status == 200, (r.status, body[:200])
        best = ms if best is None else min(best, ms)
    return best, json.loads(body)["total"]


def main():
    os.environ["NATTEL_BIN"] = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
    work = tempfile.mkdtemp(prefix="bench-dashboard-")
    db = os.path.join(work, "serve.db")
    tl.Serve(work, "--quiet", db=db).stop()
    t0 = time.time()
    fill(db, n)
    print("dashboard: filled %d events in %.0f s" % (n, time.time() - t0))
    srv = tl.Serve(work, "--quiet", db=db, timeout=600)
    met = True
    try:
        for path in ["/api/v1/report", "/api/v1/report?command=run",
                     "/api/v1/report?from=2026-04-01&to=2026-04-07",
                     "/api/v1/report?bucket=hour&from=2026-04-01&to=2026-04-01",
                     "/"]:
            ms, total = timed(srv.port, path) if path != "/" else (None, None)
            if path == "/":
                t0 = time.perf_counter()
                c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
                c.request("GET", "/")
                c.getresponse().read()
                ms = (time.perf_counter() - t0) * 1000
            ok = ms < TARGET_MS
            met = met and ok
            print("dashboard: GET %-58s %7.0f ms  %s  (target < %d ms)%s" % (
                path, ms, "met" if ok else "NOT MET", TARGET_MS,
                "" if total is None else ", %d events" % total))
    finally:
        srv.stop()
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
