#!/usr/bin/env python3
"""`nattel serve` and `nattel report` on a real PostgreSQL (issue 18),
which this script starts itself (initdb as nobody into a directory under
/tmp, a Unix socket there, stopped at the end even on failure). Skipped,
saying why, where the server binaries are absent.

- the upstream payloads are stored field by field on PostgreSQL as on
  SQLite (every column of every table but the receive time), and checked
  against the parsed JSON; `nattel report --json` is byte-identical;
- two nodes on one database, 8 concurrent senders retrying the same IDs
  through both: every event once; one envelope posted to both: one copy;
- kill -9 of a node under load: every acknowledged event is stored;
- PostgreSQL stopped under load: 503 with Retry-After, no 500, no 200 for
  anything unstored; started again: 200 without restarting the node;
- a node started while PostgreSQL is down exits 1 saying so;
- a newer layout is refused by serve and report;
- the password appears in no output of serve or report.
"""

import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nattel_testlib as tl  # noqa: E402

PASSWORD = "s3cret-Pw"
OUTPUTS = []   # every output of serve and report, checked for PASSWORD
CLI = ["nemo_source", "command", "subcommand", "task_status", "duration_ms",
       "exit_code", "error_class", "python_version"]


def upstream_lines():
    path = tl.reference("upstream_payloads.jsonl")
    with open(path, "rb") as f:
        return [line.rstrip(b"\n") for line in f if line.strip()]


def example():
    with open(tl.reference("payload.example.json"), "rb") as f:
        return json.loads(f.read())


def post(srv, body, ids=None, timeout=20):
    """(status, Retry-After, body) of one POST."""
    c = http.client.HTTPConnection(srv.host, srv.port, timeout=timeout)
    headers = {"Content-Type": "application/json"}
    if ids:
        headers["Nattel-Event-Ids"] = ",".join(ids)
    try:
        c.request("POST", tl.EVENTS_PATH, body, headers)
        r = c.getresponse()
        return r.status, r.getheader("Retry-After"), r.read()
    finally:
        c.close()


def serve(work, db):
    srv = tl.Serve(work, "--quiet", db=db)
    return srv


def stop(srv):
    rc = srv.stop()
    OUTPUTS.append(srv.log())
    return rc


def run_tool(*args):
    p = subprocess.run([tl.tool()] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60,
                       env=tl.tool_env())
    out, err = p.stdout.decode(errors="replace"), p.stderr.decode(
        errors="replace")
    OUTPUTS.append(out + err)
    return p.returncode, out, err


def pg_rows(pg, db, sql):
    out = pg.psql(sql, db=db)
    return [tuple(line.split("\x1f")) for line in out.split("\n") if line]


def sqlite_rows(path, sql):
    con = sqlite3.connect(path)
    try:
        return [tuple("" if v is None else str(v) for v in row)
                for row in con.execute(sql)]
    finally:
        con.close()


DUMPS = [
    "SELECT id, session_id, client_ver, schema_ver, cpu_architecture,"
    " sent_ts, event_count, body_hash FROM envelopes ORDER BY id",
    "SELECT id, envelope_id, seq, session_id, client_ver, name, schema_ver,"
    " ts, parameters, event_uid FROM events ORDER BY id",
    "SELECT event_id, %s FROM nat_cli_command ORDER BY event_id"
    % ", ".join(CLI),
]


def test_upstream_payloads_same_on_both_stores(work, pg):
    lines = upstream_lines()
    uri = pg.create_db("upstream")
    lite = os.path.join(work, "serve.db")
    for db in (lite, uri):
        srv = serve(work, db)
        try:
            for i, body in enumerate(lines):
                status, _, data = post(srv, body)
                assert status == 200, (db == uri, i + 1, status, data)
        finally:
            assert stop(srv) == 0
    for sql in DUMPS:
        a, b = sqlite_rows(lite, sql), pg_rows(pg, "upstream", sql)
        assert a and a == b, (sql, a[:2], b[:2])
    # And against the JSON itself, not only against the other store.
    envs = [json.loads(b) for b in lines]
    events = [ev for env in envs for ev in env["events"]]
    typed = pg_rows(pg, "upstream", DUMPS[2])
    assert len(typed) == len(events) > 50, (len(typed), len(events))
    for row, ev in zip(typed, events):
        assert row[1:] == tuple(str(ev["parameters"][k]) for k in (
            "nemoSource", "command", "subcommand", "taskStatus",
            "durationMs", "exitCode", "errorClass", "pythonVersion")), row
    r1 = run_tool("report", "--json", "--db", lite)
    r2 = run_tool("report", "--json", "--db", uri)
    assert r1[0] == 0 and r2[0] == 0, (r1, r2)
    assert json.loads(r1[1]), r1
    assert r1[1] == r2[1], (r1[1], r2[1])
    t1 = run_tool("report", "--db", lite)
    t2 = run_tool("report", "--db", uri)
    assert t1[1] == t2[1] and t1[1], (t1, t2)


def envelope_with(n, tag):
    env = example()
    env["events"] = (env["events"] * n)[:n]
    for k, ev in enumerate(env["events"]):
        ev["parameters"]["durationMs"] = k
    env["sessionId"] = tag
    return env


def test_two_nodes_store_each_event_once(work, pg):
    uri = pg.create_db("twonodes")
    a, b = serve(work, uri), serve(work, uri)
    errors = []
    envs = [(json.dumps(envelope_with(3, "s%d" % k)).encode(),
             ["e%d-%d" % (k, j) for j in range(3)]) for k in range(20)]

    def sender(s):
        try:
            for rnd in range(3):
                for k, (body, ids) in enumerate(envs):
                    if (k + s) % 8:
                        continue
                    # Each retry of the envelope goes through either node,
                    # with a body that differs (a new sentTs), so that only
                    # the IDs can tell the copies apart.
                    env = json.loads(body)
                    env["sentTs"] = "2026-01-0%dT00:00:00.%03dZ" % (rnd + 1, s)
                    srv = (a, b)[(s + rnd) % 2]
                    st, _, data = post(srv, json.dumps(env).encode(), ids)
                    if st != 200:
                        errors.append((s, k, st, data))
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    try:
        threads = [threading.Thread(target=sender, args=(s,))
                   for s in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors[:3]
        # The same envelope to both nodes at once: one copy.
        body = json.dumps(envelope_with(2, "both")).encode()
        res = []
        ts = [threading.Thread(target=lambda s: res.append(post(s, body)),
                               args=(s,)) for s in (a, b, a, b)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        assert [r[0] for r in res] == [200] * 4, res
    finally:
        assert stop(a) == 0 and stop(b) == 0
    rows = pg_rows(pg, "twonodes", "SELECT count(*), count(DISTINCT "
                   "event_uid), count(event_uid) FROM events")
    assert rows == [("62", "60", "60")], rows
    both = pg_rows(pg, "twonodes", "SELECT count(*) FROM envelopes WHERE "
                   "session_id = 'both'")
    assert both == [("1",)], both


def load(srv, tag, acked, statuses, stop_at):
    """Posts distinct envelopes of 2 events with IDs until stop_at is set;
    records the IDs answered 200 and every (status, Retry-After)."""
    k = 0
    while not stop_at.is_set():
        ids = ["%s-%d-%d" % (tag, k, j) for j in range(2)]
        body = json.dumps(envelope_with(2, "%s-%d" % (tag, k))).encode()
        try:
            st, retry, _ = post(srv, body, ids, timeout=10)
        except OSError:
            st, retry = None, None
        statuses.append((st, retry))
        if st == 200:
            acked.extend(ids)
        k += 1
        time.sleep(0.002)


def stored_ids(pg, db):
    return {r[0] for r in pg_rows(pg, db, "SELECT event_uid FROM events "
                                  "WHERE event_uid IS NOT NULL")}


def test_kill_9_loses_no_acknowledged_event(work, pg):
    uri = pg.create_db("kill9")
    a = serve(work, uri)
    acked, statuses, halt = [], [], threading.Event()
    ts = [threading.Thread(target=load, args=(a, "k%d" % i, acked, statuses,
                                              halt)) for i in range(4)]
    for t in ts:
        t.start()
    time.sleep(1.0)
    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait(10)
    halt.set()
    for t in ts:
        t.join(30)
    a.kill()
    OUTPUTS.append(a.log())
    assert len(acked) > 10, len(acked)
    missing = set(acked) - stored_ids(pg, "kill9")
    assert not missing, sorted(missing)[:5]
    assert all(s in (200, None) for s, _ in statuses), statuses


def test_postgres_restart_gives_503_then_200(work, pg):
    uri = pg.create_db("restart")
    a = serve(work, uri)
    acked, statuses, halt = [], [], threading.Event()
    ts = [threading.Thread(target=load, args=(a, "r%d" % i, acked, statuses,
                                              halt)) for i in range(3)]
    try:
        for t in ts:
            t.start()
        time.sleep(0.7)
        pg.stop("fast")
        time.sleep(1.0)
        down = len(statuses)
        time.sleep(0.5)
        during = statuses[down:]
        pg.start()
        time.sleep(1.5)
        halt.set()
        for t in ts:
            t.join(30)
        assert during and all(s == 503 for s, _ in during), during[:5]
        assert all(r and int(r) > 0 for s, r in statuses if s == 503)
        assert all(s in (200, 503) for s, _ in statuses), \
            sorted({s for s, _ in statuses}, key=str)
        assert statuses[-1][0] == 200, statuses[-5:]
        missing = set(acked) - stored_ids(pg, "restart")
        assert not missing, sorted(missing)[:5]
        # The node was never restarted.
        assert a.proc.poll() is None
    finally:
        halt.set()
        if not pg.running:
            pg.start()
        assert stop(a) == 0


def test_start_with_database_down_exits(work, pg):
    uri = pg.create_db("down")
    pg.stop("fast")
    try:
        p = subprocess.run([tl.tool(), "serve", "--listen", "127.0.0.1:0",
                            "--db", uri], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60,
                           env=tl.tool_env())
        err = p.stderr.decode()
        OUTPUTS.append(p.stdout.decode() + err)
        assert p.returncode == 1, (p.returncode, err)
        assert "cannot connect" in err and "***" in err, err
        rc, out, err = run_tool("report", "--db", uri)
        assert rc == 1 and "cannot connect" in err, (rc, err)
    finally:
        pg.start()


def test_newer_layout_refused(work, pg):
    uri = pg.create_db("newer")
    srv = serve(work, uri)
    assert stop(srv) == 0
    pg.psql("UPDATE nattel_layout SET version = 99", db="newer")
    p = subprocess.run([tl.tool(), "serve", "--listen", "127.0.0.1:0",
                        "--db", uri], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60, env=tl.tool_env())
    err = p.stderr.decode()
    OUTPUTS.append(p.stdout.decode() + err)
    assert p.returncode == 1 and "layout version 99" in err, err
    rc, out, err = run_tool("report", "--db", uri)
    assert rc == 1 and "layout version 99" in err, (rc, err)


def test_wrong_password_and_nul_text(work, pg):
    uri = pg.create_db("pw")
    rc, out, err = run_tool("report", "--db", uri.replace(PASSWORD,
                                                          "Wrong-" + PASSWORD))
    assert rc == 1 and "password authentication failed" in err, err
    srv = serve(work, uri)
    try:
        env = example()
        env["events"][0]["parameters"]["command"] = "a\u0000b"
        st, _, data = post(srv, json.dumps(env).encode())
        # PostgreSQL text cannot hold NUL: refused for good, not 503.
        assert st == 400 and b"NUL" in data, (st, data)
    finally:
        assert stop(srv) == 0


def test_password_in_no_output(work, pg):
    assert len(OUTPUTS) >= 8, len(OUTPUTS)
    for out in OUTPUTS:
        assert PASSWORD not in out, out
    assert any("***" in out for out in OUTPUTS)


def main():
    tl.reference("upstream_payloads.jsonl", "payload.example.json")
    tl.pg_or_skip()
    tests = [test_upstream_payloads_same_on_both_stores,
             test_two_nodes_store_each_event_once,
             test_kill_9_loses_no_acknowledged_event,
             test_postgres_restart_gives_503_then_200,
             test_start_with_database_down_exits,
             test_newer_layout_refused,
             test_wrong_password_and_nul_text,
             test_password_in_no_output]
    with tl.Postgres() as pg:
        wrapped = []
        for t in tests:
            def run(work, t=t):
                t(work, pg)
            run.__name__ = t.__name__
            wrapped.append(run)
        return tl.run_tests(wrapped, "pg-")


if __name__ == "__main__":
    sys.exit(main())
