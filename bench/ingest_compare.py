#!/usr/bin/env python3
"""The write-rate cost of a store layout: the same envelopes (50
nat_cli_command events each, made once beforehand) POSTed to two builds of
`nattel serve` on fresh SQLite stores, in interleaved runs (A B A B ...),
from several processes on keep-alive connections. Per run: events/s (wall)
and the server's CPU time per event (from /proc, which the load generator
sharing the machine does not blur). Two spreads of event times: "session"
(an envelope's events within one hour, as a client sends them) and
"scattered" (each event in a random hour of 60 days: the summary's worst
case, one summary row per event).

Usage: bench/ingest_compare.py NATTEL_A NATTEL_B [EVENTS] [PAIRS]
       bench/ingest_compare.py --wrk N [--rounds 3] [--seconds 5] NATTEL...
The second form: bench/ingest.py's driver (wrk -t1 -c8, its envelope of N
events, each body made unique) against each build in turn on a fresh
store, in rounds whose order rotates (A B C, B C A, ...); per build the
median events/s and server CPU per event."""

import http.client
import json
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests",
                                "integration"))
import dashboard  # noqa: E402
import nattel_testlib as tl  # noqa: E402

BODIES = []
WORKERS = 4


def scattered(rng, k, n):
    env = json.loads(dashboard.one_envelope(rng, k, n))
    for ev in env["events"]:
        day, sec = divmod(rng.randrange(60 * 86400), 86400)
        ev["ts"] = "2026-%02d-%02dT%02d:%02d:%02d.000Z" % (
            3 + day // 30, 1 + day % 30, sec // 3600, sec // 60 % 60,
            sec % 60)
    return json.dumps(env, separators=(",", ":")).encode()


def post_slice(args):
    port, first, step = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for body in BODIES[first::step]:
        conn.request("POST", dashboard.PATH, body,
                     {"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        assert r.status == 200, r.status
    conn.close()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(binary, events):
    work = tempfile.mkdtemp(prefix="bench-ingest-")
    os.environ["NATTEL_BIN"] = binary
    srv = tl.Serve(work, "--quiet", "--max-connections", "64",
                   db=os.path.join(work, "serve.db"), timeout=60)
    try:
        c0 = cpu_seconds(srv.proc.pid)
        t0 = time.perf_counter()
        with multiprocessing.Pool(WORKERS) as pool:
            pool.map(post_slice, [(srv.port, i, WORKERS)
                                  for i in range(WORKERS)])
        wall = time.perf_counter() - t0
        cpu = cpu_seconds(srv.proc.pid) - c0
    finally:
        srv.stop()
        shutil.rmtree(work, ignore_errors=True)
    return events / wall, cpu / events * 1e6


def wrk_main(argv):
    """The --wrk form (see the module's doc)."""
    import argparse
    import statistics
    import ingest
    ap = argparse.ArgumentParser()
    ap.add_argument("--wrk", type=int, required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("nattel", nargs="+")
    a = ap.parse_args(argv)
    bins = [os.path.abspath(b) for b in a.nattel]
    work = tempfile.mkdtemp(prefix="bench-ingest-wrk-")
    lua = os.path.join(work, "post.lua")
    body = os.path.join(work, "body.json")
    with open(lua, "w") as f:
        f.write(ingest.LUA)
    with open(body, "w") as f:
        f.write(ingest.envelope(a.wrk))
    rates = {b: [] for b in bins}
    cpus = {b: [] for b in bins}
    try:
        with open(os.path.join(work, "servers.log"), "ab") as log:
            for r in range(a.rounds):
                k = r % len(bins)
                for i, b in enumerate(bins[k:] + bins[:k]):
                    db = os.path.join(work, "serve.db")
                    ingest.clean(db)
                    p, port = ingest.start_nattel(b, db, log)
                    try:
                        c0 = cpu_seconds(p.pid)
                        rps, bad = ingest.wrk([port], body, lua, a.seconds,
                                              "r%02d%d" % (r, i))
                        c1 = cpu_seconds(p.pid)
                    finally:
                        ingest.stop(p)
                    ev = rps * a.wrk
                    rates[b].append(ev)
                    cpus[b].append((c1 - c0) / (ev * a.seconds) * 1e6)
                    print("run round=%d events_per_request=%d events_per_s="
                          "%.0f failed=%d  [%s]" % (r, a.wrk, ev, bad, b))
                    sys.stdout.flush()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for b in bins:
        print("median events_per_request=%d events_per_s=%.0f"
              " server_cpu_us_per_event=%.1f (runs %s)  [%s]" % (
                  a.wrk, statistics.median(rates[b]),
                  statistics.median(cpus[b]),
                  " ".join("%.0f" % x for x in rates[b]), b))
    return 0


def main():
    if "--wrk" in sys.argv:
        return wrk_main(sys.argv[1:])
    a, b = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 100000
    pairs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    envelopes = n // dashboard.PER_ENVELOPE
    for spread in ("session", "scattered"):
        rng = random.Random(7)
        make = dashboard.one_envelope if spread == "session" else scattered
        BODIES[:] = [make(rng, k, dashboard.PER_ENVELOPE)
                     for k in range(envelopes)]
        events = envelopes * dashboard.PER_ENVELOPE
        got = {a: [], b: []}
        for _ in range(pairs):
            for binary in (a, b):
                got[binary].append(one_run(binary, events))
        for binary, name in ((a, "A"), (b, "B")):
            rates = sorted(r for r, _ in got[binary])
            cpus = sorted(c for _, c in got[binary])
            print("ingest %-9s %s: %7.0f events/s (median of %d; runs %s),"
                  " server CPU %.1f us/event  [%s]" % (
                      spread, name, rates[len(rates) // 2], pairs,
                      " ".join("%.0f" % r for r, _ in got[binary]),
                      cpus[len(cpus) // 2], binary))
        ra = sorted(r for r, _ in got[a])[pairs // 2]
        rb = sorted(r for r, _ in got[b])[pairs // 2]
        ca = sorted(c for _, c in got[a])[pairs // 2]
        cb = sorted(c for _, c in got[b])[pairs // 2]
        print("ingest %-9s B/A: %.2f x events/s, %.2f x CPU per event" % (
            spread, rb / ra, cb / ca))
    return 0


if __name__ == "__main__":
    sys.exit(main())
