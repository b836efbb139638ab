#!/usr/bin/env python3
"""Ingest rate of `nattel serve`: events per second POSTed by concurrent
clients (one keep-alive HTTP connection each, separate processes) over
loopback into its SQLite store.

usage: ingest.py NATTEL_BIN WORKDIR [--clients 16] [--seconds 5] [--events 1,10,50]
Prints "key value" lines; on any trouble starting the endpoint, prints
"unavailable REASON" and exits 0.
"""
import argparse
import http.client
import json
import multiprocessing
import os
import re
import select
import socket
import sqlite3
import subprocess
import sys
import time

PATH = "/v1.1/events/json"


def ts(ms):
    t = time.gmtime(ms // 1000)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour,
                                                   t.tm_min, t.tm_sec, ms % 1000)


def payload(client, seq, nevents):
    base = 1778086805000 + seq * 1000
    events = [{"ts": ts(base + k), "parameters": {
        "nemoSource": "agent_toolkit", "command": ("run", "serve", "info", "eval")[k % 4],
        "subcommand": "list-components" if k % 4 == 2 else "undefined",
        "taskStatus": "success" if k % 10 else "failure", "durationMs": 100 + k,
        "exitCode": 0 if k % 10 else 1, "errorClass": "undefined" if k % 10 else "ValueError",
        "pythonVersion": "3.12.1"}, "name": "nat_cli_command"} for k in range(nevents)]
    u = "undefined"
    env = {"browserType": u, "clientId": "184482118588404", "clientType": "Native",
           "clientVariant": "Release", "clientVer": "1.7.0", "cpuArchitecture": "x86_64",
           "deviceGdprBehOptIn": "None", "deviceGdprFuncOptIn": "None",
           "deviceGdprTechOptIn": "None", "deviceId": u, "deviceMake": u, "deviceModel": u,
           "deviceOS": u, "deviceOSVersion": u, "deviceType": u, "eventProtocol": "1.6",
           "eventSchemaVer": "1.5", "eventSysVer": "nat-telemetry/1.0", "externalUserId": u,
           "gdprBehOptIn": "None", "gdprFuncOptIn": "None", "gdprTechOptIn": "None",
           "idpId": u, "integrationId": u, "productName": u, "productVersion": u,
           "sentTs": ts(base + nevents), "sessionId": "%016x%016x" % (client, seq),
           "userId": u, "events": events}
    return json.dumps(env, separators=(",", ":")).encode()


def client(args):
    port, idx, nevents, start_at, seconds = args
    bodies = [payload(idx, s, nevents) for s in range(64)]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    ok = bad = 0
    statuses = {}
    while time.time() < start_at:
        time.sleep(0.001)
    end = start_at + seconds
    seq = 0
    while time.time() < end:
        try:
            # Each request its own session ID, so its own body: the endpoint
            # stores an unchanged resend once, which would skip the writes.
            k = seq % len(bodies)
            body = bodies[k].replace(b"%016x%016x" % (idx, k),
                                     b"%016x%016x" % (idx, seq), 1)
            conn.request("POST", PATH, body=body,
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
        except (OSError, http.client.HTTPException) as e:
            statuses[type(e).__name__] = statuses.get(type(e).__name__, 0) + 1
            bad += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        statuses[r.status] = statuses.get(r.status, 0) + 1
        if 200 <= r.status < 300:
            ok += 1
        else:
            bad += 1
        seq += 1
    conn.close()
    return ok, bad, statuses


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def can_connect(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def start(nattel, db, log):
    """Starts the endpoint; returns (process, port) or (None, reason). Its
    output goes to the log file, which is read for the port it bound."""
    # First as asked: port 0, the endpoint says which port it bound.
    p = subprocess.Popen([nattel, "serve", "--listen", "127.0.0.1:0", "--db", db],
                         stdout=log, stderr=log)
    deadline = time.time() + 5
    seen = b""
    while time.time() < deadline:
        alive = p.poll() is None
        with open(log.name, "rb") as f:
            seen = f.read()
        m = re.search(rb"(?:127\.0\.0\.1|localhost|port)[: ]+(\d{2,5})", seen)
        if alive and m and int(m.group(1)) and can_connect(int(m.group(1))):
            return p, int(m.group(1))
        if not alive:
            break
        time.sleep(0.05)
    if p.poll() is None:
        p.terminate()
        p.wait()
    msg = seen.decode(errors="replace").strip().splitlines()
    if msg and "not built" in msg[-1]:
        return None, msg[-1]
    # Then on a port chosen here.
    port = free_port()
    p = subprocess.Popen([nattel, "serve", "--listen", "127.0.0.1:%d" % port, "--db", db],
                         stdout=log, stderr=log)
    deadline = time.time() + 5
    while time.time() < deadline and p.poll() is None:
        if can_connect(port):
            return p, port
        time.sleep(0.05)
    if p.poll() is None:
        p.terminate()
        p.wait()
        return None, "no listener on 127.0.0.1:%d after 5 s" % port
    return None, "nattel serve exited with status %d (log: %s)" % (p.returncode, log.name)


def rows(db):
    try:
        c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
        out = {}
        for (name,) in c.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                 "AND name NOT LIKE 'sqlite_%'"):
            out[name] = c.execute('SELECT count(*) FROM "%s"' % name.replace('"', '""')).fetchone()[0]
        c.close()
        return out
    except sqlite3.Error as e:
        return {"error": str(e)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("nattel")
    ap.add_argument("workdir")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--events", default="1,10,50")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    for n in [int(x) for x in a.events.split(",")]:
        db = os.path.join(a.workdir, "ingest-%d.db" % n)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.unlink(db + suffix)
        with open(os.path.join(a.workdir, "serve-%d.log" % n), "wb") as log:
            p, port = start(a.nattel, db, log)
            if p is None:
                print("unavailable %s" % port)
                return 0
            try:
                start_at = time.time() + 1.0
                with multiprocessing.Pool(a.clients) as pool:
                    res = pool.map(client, [(port, i, n, start_at, a.seconds)
                                            for i in range(a.clients)])
            finally:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        ok = sum(r[0] for r in res)
        bad = sum(r[1] for r in res)
        statuses = {}
        for r in res:
            for k, v in r[2].items():
                statuses[k] = statuses.get(k, 0) + v
        print("run events_per_request=%d clients=%d seconds=%.1f requests_ok=%d "
              "requests_failed=%d events_per_s=%.0f requests_per_s=%.0f statuses=%s rows=%s"
              % (n, a.clients, a.seconds, ok, bad, ok * n / a.seconds, ok / a.seconds,
                 json.dumps(statuses, sort_keys=True, default=str).replace(" ", ""),
                 json.dumps(rows(db), sort_keys=True).replace(" ", "")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
