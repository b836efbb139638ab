#!/usr/bin/env python3
"""Ingest rate, events per second, driven by wrk (one thread, 8
connections, SECONDS each) at 1, 10 and 50 events per request, for:
nattel serve on SQLite, the upstream-style Python endpoint
(bench/python_endpoint.py) interleaved with it on the same envelopes,
nattel serve on PostgreSQL (one node), and two nodes on one PostgreSQL
database (one wrk per node, at once, their rates summed). Each request's
body is made unique by wrk (a counter in its sessionId), so that every
envelope is really stored (an unchanged resend would be stored once).

Beside them: the floor (bench/store_floor: the same rows inserted by a C
loop in one transaction into a database nattel serve made, so the report
says how far the endpoint is from what SQLite itself takes) and the HTTP
ceiling (wrk on a path nattel serve answers 404 without touching the
store: no endpoint behind this HTTP layer and this wrk can go faster).

usage: ingest.py NATTEL_BIN WORKDIR [--seconds 5] [--events 1,10,50]
                 [--floor STORE_FLOOR_BIN]
Prints "run ..." lines and "target ..." lines; "unavailable REASON" when
wrk or the server cannot run.
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
PATH = "/v1.1/events/json"

LUA = r"""
local pre, post, tag
local n = 0
init = function(args)
  local f = io.open(args[1], "rb"); local body = f:read("*a"); f:close()
  local at = string.find(body, "SESSIONXXXXXXXXX", 1, true)
  pre = string.sub(body, 1, at - 1); post = string.sub(body, at + 16)
  tag = args[2]
end
request = function()
  n = n + 1
  return wrk.format("POST", "%s", {["Content-Type"] = "application/json"},
                    pre .. tag .. string.format("%%012d", n) .. post)
end
""" % PATH


def ts(ms):
    t = time.gmtime(ms // 1000)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
        t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
        ms % 1000)


def envelope(nevents):
    """The upstream example's shape, n events, sessionId a placeholder."""
    base = 1778086805000
    u = "undefined"
    events = [{"ts": ts(base + k), "parameters": {
        "nemoSource": "agent_toolkit",
        "command": ("run", "serve", "info", "eval")[k % 4],
        "subcommand": "list-components" if k % 4 == 2 else u,
        "taskStatus": "success" if k % 10 else "failure",
        "durationMs": 100 + k, "exitCode": 0 if k % 10 else 1,
        "errorClass": u if k % 10 else "ValueError",
        "pythonVersion": "3.12.1"}, "name": "nat_cli_command"}
        for k in range(nevents)]
    env = {"browserType": u, "clientId": "184482118588404",
           "clientType": "Native", "clientVariant": "Release",
           "clientVer": "1.7.0", "cpuArchitecture": "x86_64",
           "deviceGdprBehOptIn": "None", "deviceGdprFuncOptIn": "None",
           "deviceGdprTechOptIn": "None", "deviceId": u, "deviceMake": u,
           "deviceModel": u, "deviceOS": u, "deviceOSVersion": u,
           "deviceType": u, "eventProtocol": "1.6", "eventSchemaVer": "1.5",
           "eventSysVer": "nat-telemetry/1.0", "externalUserId": u,
           "gdprBehOptIn": "None", "gdprFuncOptIn": "None",
           "gdprTechOptIn": "None", "idpId": u, "integrationId": u,
           "productName": u, "productVersion": u,
           "sentTs": ts(base + nevents), "sessionId": "SESSIONXXXXXXXXX",
           "userId": u, "events": events}
    return json.dumps(env, separators=(",", ":"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, secs=15):
    end = time.time() + secs
    while time.time() < end and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def start_nattel(nattel, db, log):
    port = free_port()
    p = subprocess.Popen([nattel, "serve", "--quiet", "--listen",
                          "127.0.0.1:%d" % port, "--db", db],
                         stdout=log, stderr=log)
    if not wait_port(port, p):
        p.kill()
        raise RuntimeError("nattel serve did not start (%s)" % log.name)
    return p, port


def start_python(db, log):
    port = free_port()
    p = subprocess.Popen([sys.executable, os.path.join(HERE,
                                                       "python_endpoint.py"),
                          db, str(port)], stdout=log, stderr=log)
    if not wait_port(port, p):
        p.kill()
        raise RuntimeError("python endpoint did not start (%s)" % log.name)
    return p, port


def wrk(ports, body_file, lua, seconds, tag):
    """Runs one wrk per port at once; returns (requests/s summed, non-2xx)."""
    procs = [subprocess.Popen(
        ["wrk", "-t1", "-c8", "-d%ds" % seconds, "-s", lua,
         "http://127.0.0.1:%d%s" % (port, PATH), "--", body_file,
         "%s%d" % (tag, i)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for i, port in enumerate(ports)]
    rps, bad = 0.0, 0
    for p in procs:
        out = p.communicate(timeout=seconds + 60)[0].decode()
        m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
        if not m:
            raise RuntimeError("wrk printed no rate: " + out[-300:])
        rps += float(m.group(1))
        m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        bad += int(m.group(1)) if m else 0
        m = re.search(r"Socket errors:.*", out)
        bad += sum(int(x) for x in re.findall(r"\d+", m.group(0))) if m else 0
    return rps, bad


def stop(p):
    p.terminate()
    try:
        p.wait(20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def clean(db):
    for s in ("", "-wal", "-shm"):
        if os.path.exists(db + s):
            os.unlink(db + s)


def floor(a, n):
    """The floor's events/s at n per envelope, or None."""
    if not a.floor or not os.access(a.floor, os.X_OK):
        return None
    db = os.path.join(a.workdir, "floor-%d.db" % n)
    clean(db)
    with open(os.devnull, "wb") as null:
        p, _ = start_nattel(a.nattel, db, null)  # its tables and indexes
        stop(p)
    out = subprocess.run([a.floor, db, str(n), "100000"],
                         capture_output=True, text=True).stdout
    m = re.search(r"events_per_s=([0-9.]+)", out)
    return float(m.group(1)) if m else None


def ceiling(a, lua, log_path):
    """Requests/s nattel serve answers 404 at (no store), or None."""
    db = os.path.join(a.workdir, "ceiling.db")
    clean(db)
    with open(log_path, "ab") as log:
        p, port = start_nattel(a.nattel, db, log)
    try:
        out = subprocess.run(
            ["wrk", "-t1", "-c8", "-d%ds" % a.seconds,
             "http://127.0.0.1:%d/none" % port], capture_output=True,
            text=True).stdout
    finally:
        stop(p)
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    return float(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("nattel")
    ap.add_argument("workdir")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--events", default="1,10,50")
    ap.add_argument("--floor", help="bench/store_floor binary")
    ap.add_argument("--cases", default="python,sqlite,pg1,pg2",
                    help="which of python,sqlite,pg1,pg2 to run")
    a = ap.parse_args()
    if not shutil.which("wrk"):
        print("unavailable wrk is not installed (apt-get install wrk)")
        return 0
    os.makedirs(a.workdir, exist_ok=True)
    lua = os.path.join(a.workdir, "post.lua")
    with open(lua, "w") as f:
        f.write(LUA)
    log_path = os.path.join(a.workdir, "servers.log")
    log = open(log_path, "ab")
    try:
        import nattel_testlib as tl
        pg = tl.Postgres(bindir=tl.pg_bin_dir(), fsync=True) \
            if tl.pg_bin_dir() else None
    except Exception as e:  # noqa: BLE001
        print("note PostgreSQL not started: %s" % e)
        pg = None
    results = {}
    try:
        for n in [int(x) for x in a.events.split(",")]:
            body = os.path.join(a.workdir, "body-%d.json" % n)
            with open(body, "w") as f:
                f.write(envelope(n))
            want = a.cases.split(",")
            cases = [(c, None) for c in ("python", "sqlite") * 2
                     if c in want]
            if pg:
                cases += [(c, None) for c in ("pg1", "pg2") if c in want]
            for k, (case, _) in enumerate(cases):
                db = os.path.join(a.workdir, "%s-%d.db" % (case, n))
                clean(db)
                if case.startswith("pg"):
                    name = "bench_%s_%d_%d" % (case, n, k)
                    db = pg.create_db(name)
                procs = []
                if case == "python":
                    procs.append(start_python(db, log))
                else:
                    for _ in range(2 if case == "pg2" else 1):
                        procs.append(start_nattel(a.nattel, db, log))
                try:
                    rps, bad = wrk([p for _, p in procs], body, lua,
                                   a.seconds, "%s%02d" % (case[:3], k))
                finally:
                    for p, _ in procs:
                        stop(p)
                results.setdefault((case, n), []).append(rps * n)
                print("run case=%s events_per_request=%d requests_per_s=%.0f "
                      "events_per_s=%.0f failed=%d" % (case, n, rps, rps * n,
                                                        bad))
                sys.stdout.flush()
    finally:
        if pg:
            pg.close()
        log.close()

    for n in [int(x) for x in a.events.split(",")]:
        f = floor(a, n)
        if f:
            results[("floor", n)] = [f]
            print("run case=floor events_per_request=%d events_per_s=%.0f" %
                  (n, f))
    c = ceiling(a, lua, log_path)
    if c:
        print("run case=http_ceiling requests_per_s=%.0f (404, no store)" % c)

    def best(case, n):
        v = results.get((case, n))
        return max(v) if v else None
    for n in [int(x) for x in a.events.split(",")]:
        s, p, f = best("sqlite", n), best("python", n), best("floor", n)
        want = {1: 10.0, 50: 5.0}.get(n)
        if s and p and want:
            print("target sqlite_vs_python events_per_request=%d ratio=%.2f "
                  "want=%.0f %s" % (n, s / p, want,
                                    "met" if s / p >= want else "NOT MET"))
        elif s and p:
            print("ratio sqlite_vs_python events_per_request=%d ratio=%.2f "
                  "(no target)" % (n, s / p))
        if s and f:
            print("ratio sqlite_vs_floor events_per_request=%d ratio=%.2f "
                  "floor_vs_python=%s" % (n, s / f,
                                          "%.2f" % (f / p) if p else "-"))
    for n in [int(x) for x in a.events.split(",")]:
        one, two = best("pg1", n), best("pg2", n)
        if one and two:
            print("target pg2_vs_pg1 events_per_request=%d ratio=%.2f want=1 "
                  "%s" % (n, two / one, "met" if two >= one else "NOT MET"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
