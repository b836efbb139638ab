#!/usr/bin/env python3
"""The dashboard's API on a store of one million events: a store filled
through the real ingest of `nattel serve` (POST of envelopes of 50
nat_cli_command events, from several processes at once, each with its own
keep-alive connection), so that the store, its indexes and its per-hour
summary are what a server writes: a realistic spread of commands,
statuses, durations, error classes, three client versions and two CPU
architectures over 60 days, each envelope a session's commands within one
hour. Then each query is timed (best of a few
runs). Target: under a second for every query at 1M events.

Usage: bench/dashboard.py NATTEL_BIN [EVENTS] [--db FILE | --pg]
  --db FILE: fill FILE (kept) instead of a temporary store; an existing
  FILE is not filled again, only measured.
  --pg: the store is a PostgreSQL database of a private server started
  here (initdb in a temporary directory, as nobody; fsync off: the figure
  is the reads'), removed at the end.
Environment: BENCH_FILL_WORKERS (default 4) posting processes."""

import http.client
import json
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests",
                                "integration"))
import nattel_testlib as tl  # noqa: E402

TARGET_MS = 1000
PER_ENVELOPE = 50
PATH = "/v1.1/events/json"
CMDS = [("run", ""), ("run", "pipeline"), ("info", "list-components"),
        ("info", "list-channels"), ("serve", ""), ("eval", ""),
        ("optimize", ""), ("configure", "")]
QUERIES = ["/api/v1/report", "/api/v1/report?command=run",
           "/api/v1/report?from=2026-04-01&to=2026-04-07",
           "/api/v1/report?bucket=hour&from=2026-04-01&to=2026-04-01",
           "/api/v1/report?from=2026-04-01T10:30&to=2026-04-03T08:15",
           "/"]


def envelope_head():
    env = {"browserType": "undefined", "clientId": "184482118588404",
           "clientType": "Native", "clientVariant": "Release",
           "deviceGdprBehOptIn": "None", "deviceGdprFuncOptIn": "None",
           "deviceGdprTechOptIn": "None", "eventProtocol": "1.6",
           "eventSchemaVer": "1.5", "eventSysVer": "nat-telemetry/1.0",
           "externalUserId": "undefined", "gdprBehOptIn": "None",
           "gdprFuncOptIn": "None", "gdprTechOptIn": "None",
           "idpId": "undefined", "integrationId": "undefined",
           "productName": "undefined", "productVersion": "undefined",
           "sentTs": "2026-05-06T17:00:09.999Z", "userId": "undefined"}
    for key in ["deviceId", "deviceMake", "deviceModel", "deviceOS",
                "deviceOSVersion", "deviceType"]:
        env[key] = "undefined"
    return env


def one_envelope(rng, k, n):
    env = envelope_head()
    env["sessionId"] = "s%d" % k
    env["clientVer"] = "0.%d.0" % rng.randrange(3)
    env["cpuArchitecture"] = rng.choice(["x86_64", "arm64"])
    events = []
    # A session's commands fall within one hour, somewhere in 60 days.
    day, hour = divmod(rng.randrange(60 * 24), 24)
    for _ in range(n):
        sec = hour * 3600 + rng.randrange(3600)
        ts = "2026-%02d-%02dT%02d:%02d:%02d.000Z" % (
            3 + day // 30, 1 + day % 30, sec // 3600, sec // 60 % 60,
            sec % 60)
        cmd, sub = rng.choice(CMDS)
        status = rng.choice(["success"] * 6 + ["failure", "interrupted"])
        events.append({"ts": ts, "name": "nat_cli_command", "parameters": {
            "nemoSource": "agent_toolkit", "command": cmd,
            "subcommand": sub, "taskStatus": status,
            "durationMs": rng.randrange(-1, 60000),
            "exitCode": 0 if status == "success" else 1,
            "errorClass": rng.choice(["ValueError", "KeyError", "OSError"])
            if status == "failure" else "undefined",
            "pythonVersion": "undefined"}})
    env["events"] = events
    return json.dumps(env, separators=(",", ":")).encode()


def post_range(args):
    """Worker: envelopes [first, last) of the fill, on one connection."""
    port, first, last, total = args
    rng = random.Random(first)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    posted = 0
    for k in range(first, last):
        n = min(PER_ENVELOPE, total - k * PER_ENVELOPE)
        body = one_envelope(rng, k, n)
        conn.request("POST", PATH, body,
                     {"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise RuntimeError("POST: %d %s" % (r.status, data[:200]))
        posted += n
    conn.close()
    return posted


def fill(port, n, workers):
    envelopes = (n + PER_ENVELOPE - 1) // PER_ENVELOPE
    step = max(1, min(500, envelopes // (workers * 4) or 1))
    jobs = [(port, k, min(k + step, envelopes), n)
            for k in range(0, envelopes, step)]
    with multiprocessing.Pool(workers) as pool:
        return sum(pool.imap_unordered(post_range, jobs))


def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    assert r.status == 200, (r.status, body[:200])
    return body


def timed(port, path, runs=3):
    best, body = None, None
    for _ in range(runs):
        t0 = time.perf_counter()
        body = get(port, path)
        ms = (time.perf_counter() - t0) * 1000
        best = ms if best is None else min(best, ms)
    total = None if path == "/" else json.loads(body)["total"]
    return best, total


def main():
    args = sys.argv[1:]
    db = None
    pg = None
    if "--db" in args:
        i = args.index("--db")
        db = args[i + 1]
        del args[i:i + 2]
    if "--pg" in args:
        args.remove("--pg")
        pg = tl.Postgres()
        db = pg.create_db("dashboard")
    os.environ["NATTEL_BIN"] = os.path.abspath(args[0])
    n = int(args[1]) if len(args) > 1 else 1000000
    workers = int(os.environ.get("BENCH_FILL_WORKERS", "4"))
    work = tempfile.mkdtemp(prefix="bench-dashboard-")
    db = db or os.path.join(work, "serve.db")
    refill = pg is not None or not os.path.exists(db)
    srv = tl.Serve(work, "--quiet", "--max-connections", "64", db=db,
                   timeout=600)
    met = True
    try:
        if refill:
            t0 = time.time()
            posted = fill(srv.port, n, workers)
            secs = time.time() - t0
            print("dashboard: filled %d events through POST %s (%d per"
                  " envelope, %d processes) in %.0f s, %.0f events/s" % (
                      posted, PATH, PER_ENVELOPE, workers, secs,
                      posted / secs))
        for path in QUERIES:
            ms, total = timed(srv.port, path)
            ok = ms < TARGET_MS
            met = met and ok
            print("dashboard: GET %-58s %7.0f ms  %s  (target < %d ms)%s" % (
                path, ms, "met" if ok else "NOT MET", TARGET_MS,
                "" if total is None else ", %d events" % total))
    finally:
        srv.stop()
        # The temporary store (hundreds of MB at 1M); a --db FILE is kept.
        shutil.rmtree(work, ignore_errors=True)
        if pg is not None:
            pg.close()
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
