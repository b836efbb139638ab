#!/usr/bin/env python3
"""Integration tests of `nattel serve`: the real server on a free loopback
port, driven over HTTP; what it stored is read back with Python's sqlite3.

Environment: NATTEL_BIN (the tool), NATTEL_TEST_TMP (scratch directory),
NATTEL_REFERENCE_DIR (the reference data, tests/data/reference; the parts that need
it are skipped, saying so, when it is missing).
"""

import http.client
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import nattel_testlib as tl

BIN = tl.tool()
TMP = tl.tmp_base()
REFERENCE = os.environ.get("NATTEL_REFERENCE_DIR", "")
PATH = "/v1.1/events/json"
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
CLI_FIELDS = ["nemoSource", "command", "subcommand", "taskStatus",
              "durationMs", "exitCode", "errorClass", "pythonVersion"]
CLI_COLUMNS = ["nemo_source", "command", "subcommand", "task_status",
               "duration_ms", "exit_code", "error_class", "python_version"]
SKIPPED = []
JSON_HEADERS = {"Content-Type": "application/json"}


# --------------------------------------------------------------------------
# Fixtures: envelopes built here from the wire contract (docs/design.md section 3).
# --------------------------------------------------------------------------

def cli_event(command="run", subcommand="undefined", status="success",
              duration=1, exit_code=0, error_class="undefined",
              python="3.11.7", ts="2026-05-06T17:00:05.000Z"):
    params = {
        "nemoSource": "agent_toolkit",
        "command": command,
        "subcommand": subcommand,
        "taskStatus": status,
        "durationMs": duration,
        "exitCode": exit_code,
        "errorClass": error_class,
        "pythonVersion": python,
    }
    return {"ts": ts, "parameters": params, "name": "nat_cli_command"}


def envelope(events, session="0123456789abcdef0123456789abcdef",
             client_ver="1.7.0", schema_ver="1.5"):
    env = {}
    for key in ["browserType"]:
        env[key] = "undefined"
    env.update({
        "clientId": "184482118588404",
        "clientType": "Native",
        "clientVariant": "Release",
        "clientVer": client_ver,
        "cpuArchitecture": "x86_64",
        "deviceGdprBehOptIn": "None",
        "deviceGdprFuncOptIn": "None",
        "deviceGdprTechOptIn": "None",
    })
    for key in ["deviceId", "deviceMake", "deviceModel", "deviceOS",
                "deviceOSVersion", "deviceType"]:
        env[key] = "undefined"
    env.update({
        "eventProtocol": "1.6",
        "eventSchemaVer": schema_ver,
        "eventSysVer": "nat-telemetry/1.0",
        "externalUserId": "undefined",
        "gdprBehOptIn": "None",
        "gdprFuncOptIn": "None",
        "gdprTechOptIn": "None",
        "idpId": "undefined",
        "integrationId": "undefined",
        "productName": "undefined",
        "productVersion": "undefined",
        "sentTs": "2026-05-06T17:00:09.999Z",
        "sessionId": session,
        "userId": "undefined",
        "events": events,
    })
    return env


def dumps(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


# --------------------------------------------------------------------------
# The server under test
# --------------------------------------------------------------------------

class Server(tl.Serve):
    """One `nattel serve` process on 127.0.0.1 and a free port, with the
    requests the tests send it."""

    def request(self, body=b"", method="POST", path=PATH, headers=None,
                timeout=20):
        conn = http.client.HTTPConnection(self.host, self.port,
                                          timeout=timeout)
        if headers is None:
            headers = JSON_HEADERS
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, dict(resp.getheaders()), data
        finally:
            conn.close()

    def post(self, env, **kw):
        body = env if isinstance(env, bytes) else dumps(env)
        return self.request(body, **kw)

    def raw(self, data, timeout=10):
        """Sends raw bytes; returns what comes back until close/timeout."""
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        got = b""
        try:
            s.sendall(data)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
                if response_complete(got):
                    break
        except (socket.timeout, ConnectionResetError):
            pass
        finally:
            s.close()
        return got


def response_complete(data):
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    return bool(m) and len(body) >= int(m.group(1))


def raw_status(data):
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", data)
    assert m, "no HTTP status line in %r" % data[:200]
    return int(m.group(1))


def db_rows(path, sql, args=()):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def event_count(path):
    return db_rows(path, "SELECT count(*) FROM events")[0][0]


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------

def test_accepts_and_stores(work):
    events = [
        cli_event("run", status="success", duration=1234, exit_code=0,
                  ts="2026-05-06T17:00:05.000Z"),
        cli_event("info", "list-components", "failure", 87, 1, "ValueError",
                  "3.12.1", ts="2026-05-06T17:00:06.123Z"),
        cli_event("serve", status="interrupted", duration=-1, exit_code=130,
                  error_class="KeyboardInterrupt",
                  ts="2026-05-06T17:00:07.246Z"),
    ]
    session = "%032x" % random.getrandbits(128)
    srv = Server(work)
    try:
        before = time.time()
        status, headers, body = srv.post(envelope(events, session=session,
                                                  client_ver="9.8.7"))
        assert status == 200, (status, body)
        assert json.loads(body) == {"accepted": 3}, body
        assert headers.get("Content-Type") == "application/json", headers
        # A reader alongside the running server (WAL) sees the rows.
        assert event_count(srv.db) == 3
    finally:
        assert srv.stop() == 0, srv.log()
    rows = db_rows(srv.db, "SELECT id, envelope_id, seq, session_id, "
                   "client_ver, name, schema_ver, ts, received_ts, parameters"
                   " FROM events ORDER BY seq")
    assert len(rows) == 3, rows
    assert len({r[1] for r in rows}) == 1, "one envelope, one envelope_id"
    for i, r in enumerate(rows):
        assert r[2] == i
        assert r[3:7] == (session, "9.8.7", "nat_cli_command", "1.5"), r
        assert r[7] == events[i]["ts"], r
        assert TS_RE.match(r[8]), r[8]
        received = time.mktime(time.strptime(r[8][:19], "%Y-%m-%dT%H:%M:%S")
                               ) - time.timezone
        assert before - 5 <= received <= time.time() + 5, r[8]
        # Canonical JSON: compact, wire order, exactly the posted values.
        assert r[9] == json.dumps(events[i]["parameters"],
                                  separators=(",", ":")), r[9]
        typed = db_rows(srv.db, "SELECT %s FROM nat_cli_command WHERE "
                        "event_id = ?" % ", ".join(CLI_COLUMNS), (r[0],))
        assert typed == [tuple(events[i]["parameters"][f]
                               for f in CLI_FIELDS)], typed
    env_rows = db_rows(srv.db, "SELECT session_id, client_ver, schema_ver, "
                       "cpu_architecture, sent_ts, event_count FROM envelopes")
    assert env_rows == [(session, "9.8.7", "1.5", "x86_64",
                         "2026-05-06T17:00:09.999Z", 3)], env_rows
    assert db_rows(srv.db, "PRAGMA user_version")[0][0] >= 1
    assert db_rows(srv.db, "PRAGMA journal_mode")[0][0] == "wal"
    assert typed_types_ok(srv.db)


def typed_types_ok(db):
    rows = db_rows(db, "SELECT typeof(duration_ms), typeof(exit_code), "
                   "typeof(command) FROM nat_cli_command")
    return all(r == ("integer", "integer", "text") for r in rows)


def test_invalid_json_is_400(work):
    srv = Server(work)
    try:
        for body in [b"{bad", b"", b"[1 2]", b'{"a":1}{"b":2}',
                     b'{"s":"\xff"}', b'"\\ud800"']:
            status, _, data = srv.post(body)
            assert status == 400, (body, status, data)
            answer = json.loads(data)
            assert answer["error"], answer
        # Nested past the reader's depth limit: refused, 400, not a crash.
        status, _, data = srv.post(b"[" * 5000 + b"]" * 5000)
        assert status == 400, (status, data)
        assert json.loads(data)["problems"], data
        assert event_count(srv.db) == 0
    finally:
        assert srv.stop() == 0, srv.log()


def test_schema_violation_is_422_naming_each_path(work):
    good = cli_event("run")
    bad_duration = cli_event("info", duration=-5)
    bad_status = cli_event("eval", status="bogus")
    env = envelope([good, bad_duration, bad_status])
    env["clientId"] = "42"
    del env["events"][2]["parameters"]["pythonVersion"]
    env["events"][0]["parameters"]["extra"] = 1
    srv = Server(work)
    try:
        status, headers, data = srv.post(env)
        assert status == 422, (status, data)
        answer = json.loads(data)
        paths = {p["path"] for p in answer["problems"]}
        for want in ["clientId", "events[1].parameters.durationMs",
                     "events[2].parameters.taskStatus",
                     "events[2].parameters.pythonVersion",
                     "events[0].parameters.extra"]:
            assert any(p == want or p.endswith("." + want) or
                       p == "$." + want for p in paths), (want, paths)
        assert all(p["message"] for p in answer["problems"]), answer
        # All or nothing: the valid event of a rejected envelope is not kept.
        assert event_count(srv.db) == 0
        # An unknown event name and an empty event list are schema errors too.
        unknown = envelope([dict(cli_event(), name="no_such_event")])
        assert srv.post(unknown)[0] == 422
        assert srv.post(envelope([]))[0] == 422
        assert event_count(srv.db) == 0
    finally:
        assert srv.stop() == 0, srv.log()


def padded(env, size):
    body = dumps(env)
    assert len(body) <= size
    return body + b" " * (size - len(body))


def test_body_limit_is_413(work):
    limit = 4096
    srv = Server(work, "--max-body", str(limit))
    try:
        env = envelope([cli_event("limit")])
        status, _, data = srv.post(padded(env, limit))
        assert status == 200, (status, data)
        status, _, data = srv.post(padded(env, limit) + b" ")
        assert status == 413, (status, data)
        assert json.loads(data)["error"]
        # A Content-Length far beyond the limit is answered at once, from
        # the headers: the server does not wait for (or read) the body.
        t0 = time.time()
        got = srv.raw(b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/json\r\n"
                      b"Content-Length: 1000000000000\r\n\r\n" % PATH.encode())
        assert raw_status(got) == 413, got
        assert time.time() - t0 < 5
        # No Content-Length (chunked): counted as it comes, dropped past the
        # limit, still 413.
        body = padded(env, limit) + b" " * 10000
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 1000]),
                                             body[i:i + 1000])
                          for i in range(0, len(body), 1000))
        got = srv.raw(b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/json\r\n"
                      b"Transfer-Encoding: chunked\r\n"
                      b"Connection: close\r\n\r\n%s0\r\n\r\n"
                      % (PATH.encode(), chunks))
        assert raw_status(got) == 413, got
        assert event_count(srv.db) == 1
    finally:
        assert srv.stop() == 0, srv.log()


def test_default_body_limit_is_one_mib(work):
    srv = Server(work)
    try:
        env = envelope([cli_event("mib")])
        status, _, data = srv.post(padded(env, 1 << 20))
        assert status == 200, (status, data)
        got = srv.raw(b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n"
                      % (PATH.encode(), (1 << 20) + 1))
        assert raw_status(got) == 413, got
    finally:
        assert srv.stop() == 0, srv.log()


def test_other_paths_and_methods(work):
    srv = Server(work)
    try:
        for method, path in [("GET", "/index.html"), ("POST", "/v1.1/events"),
                             ("POST", "/v1.1/events/json/x"),
                             ("GET", "/v1.0/events/json")]:
            status, _, data = srv.request(dumps({}), method=method, path=path)
            assert status == 404, (method, path, status)
            assert json.loads(data)["error"]
        for method in ["GET", "PUT", "DELETE", "PATCH"]:
            status, headers, data = srv.request(method=method)
            assert status == 405, (method, status)
            assert headers.get("Allow") == "POST", headers
    finally:
        assert srv.stop() == 0, srv.log()


def test_fault_injection(work):
    env = envelope([cli_event("fault")])
    srv = Server(work, "--fail-status", "503", "--fail-count", "2",
                 "--retry-after", "7", "--quiet")
    try:
        for _ in range(2):
            status, headers, _ = srv.post(env)
            assert status == 503, status
            assert headers.get("Retry-After") == "7", headers
        assert event_count(srv.db) == 0
        status, headers, _ = srv.post(env)
        assert status == 200, status
        assert "Retry-After" not in headers
        assert event_count(srv.db) == 1
    finally:
        assert srv.stop() == 0, srv.log()

    srv = Server(work, "--fail-status", "429", "--quiet",
                 db=os.path.join(work, "fault2.db"))
    try:
        for _ in range(3):  # no --fail-count: every POST, no Retry-After
            status, headers, _ = srv.post(env)
            assert status == 429 and "Retry-After" not in headers, headers
        assert event_count(srv.db) == 0
    finally:
        assert srv.stop() == 0, srv.log()

    srv = Server(work, "--fail-status", "500", "--retry-after", "3",
                 "--delay-ms", "400", "--quiet",
                 db=os.path.join(work, "fault3.db"))
    try:
        t0 = time.time()
        status, headers, _ = srv.post(env)
        elapsed = time.time() - t0
        assert status == 500 and "Retry-After" not in headers, headers
        assert elapsed >= 0.39, elapsed
    finally:
        assert srv.stop() == 0, srv.log()


def guardrails_event():
    params = {
        "nemoSource": "guardrails",
        "sessionId": "undefined",
        "nemoguardrailsVersion": "0.21.0",
        "pythonVersion": "3.13.7",
        "platform": "Linux",
        "osName": "Linux",
        "colangVersion": "1.0",
        "llmProviders": ["nim", "openai"],
        "numRailsConfigured": 3,
        "railTypesInUse": ["input", "output"],
        "tracingEnabled": False,
        "deploymentType": "library",
        "railsEngine": "LLMRails",
        "hasKnowledgeBase": True,
        "streamingConfigured": False,
        "builtinFeatures": [],
        "numCustomFlows": 0,
        "timestamp": 1767225600.5,
        "event": "startup",
    }
    return {"ts": "2026-05-06T17:00:05.000Z", "parameters": params,
            "name": "guardrails_usage_event"}


def test_schema_option_accepts_a_foreign_event(work):
    schema = os.path.join(REFERENCE, "guardrails_usage_event.schema.json")
    if not os.path.isfile(schema):
        SKIPPED.append("--schema guardrails: no %s" % schema)
        return
    ev = guardrails_event()
    # Without the schema the event is unknown...
    srv = Server(work, "--quiet", db=os.path.join(work, "plain.db"))
    try:
        assert srv.post(envelope([ev], schema_ver="1.7"))[0] == 422
    finally:
        assert srv.stop() == 0, srv.log()
    # ... with it, accepted and stored with its parameters.
    srv = Server(work, "--schema", schema, db=os.path.join(work, "gr.db"))
    try:
        status, _, data = srv.post(envelope([ev], schema_ver="1.7"))
        assert status == 200, (status, data)
        bad = json.loads(json.dumps(ev))
        bad["parameters"]["tracingEnabled"] = "no"
        status, _, data = srv.post(envelope([bad], schema_ver="1.7"))
        assert status == 422, (status, data)
        paths = [p["path"] for p in json.loads(data)["problems"]]
        assert any(p.endswith("events[0].parameters.tracingEnabled")
                   for p in paths), paths
        # The built-in type is still known beside it.
        assert srv.post(envelope([cli_event()]))[0] == 200
    finally:
        assert srv.stop() == 0, srv.log()
    rows = db_rows(srv.db, "SELECT name, schema_ver, parameters FROM events "
                   "ORDER BY id")
    assert [r[:2] for r in rows] == [("guardrails_usage_event", "1.7"),
                                     ("nat_cli_command", "1.5")], rows
    assert json.loads(rows[0][2]) == ev["parameters"], rows[0][2]
    assert db_rows(srv.db, "SELECT count(*) FROM nat_cli_command")[0][0] == 1


def test_reference_payload_accepted(work):
    path = os.path.join(REFERENCE, "payload.example.json")
    if not os.path.isfile(path):
        SKIPPED.append("reference payload: no %s" % path)
        return
    with open(path, "rb") as f:
        body = f.read()
    srv = Server(work, "--quiet")
    try:
        status, _, data = srv.post(body)
        assert status == 200, (status, data)
        n = len(json.loads(body)["events"])
        assert json.loads(data) == {"accepted": n}
    finally:
        assert srv.stop() == 0, srv.log()
    assert event_count(srv.db) == n


def test_concurrent_clients_lose_nothing(work, clients=24, per_client=20):
    srv = Server(work, "--quiet")
    posted = []  # (session, seq, exitCode)
    failures = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client(k):
        rng = random.Random(k)
        conn = None
        start.wait(30)
        for i in range(per_client):
            session = "c%02d-%04d" % (k, i)
            n = rng.randint(1, 5)
            events = [cli_event("conc", status="success",
                                exit_code=k * 100000 + i * 10 + j,
                                duration=rng.randint(0, 5000))
                      for j in range(n)]
            try:
                # Half the clients keep one connection, half reconnect.
                if conn is None or k % 2:
                    conn = http.client.HTTPConnection(srv.host, srv.port,
                                                      timeout=30)
                conn.request("POST", PATH, body=dumps(envelope(
                    events, session=session)), headers=JSON_HEADERS)
                resp = conn.getresponse()
                data = resp.read()
                if k % 2:
                    conn.close()
                    conn = None
                if resp.status != 200 or json.loads(data) != {"accepted": n}:
                    raise AssertionError("%s: %s %r" % (session, resp.status,
                                                        data))
            except Exception as e:  # recorded, checked below
                with lock:
                    failures.append(repr(e))
                conn = None
                continue
            with lock:
                posted.extend((session, j, k * 100000 + i * 10 + j)
                              for j in range(n))
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=client, args=(k,))
               for k in range(clients)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not any(t.is_alive() for t in threads), "clients hung"
    finally:
        assert srv.stop() == 0, srv.log()
    assert not failures, failures[:5]
    stored = db_rows(srv.db, "SELECT e.session_id, e.seq, c.exit_code FROM "
                     "events e JOIN nat_cli_command c ON c.event_id = e.id")
    assert len(stored) == len(posted), (len(stored), len(posted))
    assert sorted(stored) == sorted(posted)
    assert len(set((s, q) for s, q, _ in stored)) == len(stored), "duplicates"
    assert db_rows(srv.db, "SELECT count(DISTINCT session_id) FROM "
                   "envelopes")[0][0] == clients * per_client


def check_clean_db(db):
    """Call before anything else opens `db` after the server stopped."""
    # The last connection closed cleanly: WAL checkpointed and removed.
    assert not os.path.exists(db + "-wal"), "WAL left behind"
    assert db_rows(db, "PRAGMA integrity_check") == [("ok",)]


def test_shutdown_finishes_requests_in_flight(work):
    for sig in (signal.SIGTERM, signal.SIGINT):
        db = os.path.join(work, "stop-%d.db" % sig)
        srv = Server(work, "--delay-ms", "1500", db=db)
        conn = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
        # The request is sent in full; its answer is delayed 1.5 s.
        conn.request("POST", PATH, body=dumps(envelope([cli_event("inflight")])),
                     headers=JSON_HEADERS)
        time.sleep(0.5)
        t0 = time.time()
        srv.proc.send_signal(sig)
        time.sleep(0.3)
        # No new connections once stopping.
        refused = False
        try:
            socket.create_connection((srv.host, srv.port), timeout=2).close()
        except OSError:
            refused = True
        resp = conn.getresponse()
        answer = (resp.status, resp.read())
        conn.close()
        rc = srv.stop(sig, timeout=30)
        assert rc == 0, (sig, rc, srv.log())
        assert answer == (200, b'{"accepted":1}'), answer
        assert refused, "still accepting connections after the signal"
        assert time.time() - t0 < 15
        check_clean_db(db)
        assert event_count(db) == 1


def test_restart_keeps_data_and_refuses_foreign_versions(work):
    db = os.path.join(work, "restart.db")
    for i in range(2):
        srv = Server(work, "--quiet", db=db)
        try:
            assert srv.post(envelope([cli_event("r%d" % i)]))[0] == 200
        finally:
            assert srv.stop() == 0, srv.log()
    check_clean_db(db)
    assert event_count(db) == 2
    con = sqlite3.connect(db)
    con.execute("PRAGMA user_version = 999")
    con.commit()
    con.close()
    r = run_tool("serve", "--listen", "127.0.0.1:0", "--db", db)
    assert r.returncode == 1, r
    assert "999" in r.stderr and db in r.stderr, r.stderr


def run_tool(*args, timeout=20):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def test_usage_and_startup_errors(work):
    r = run_tool("serve", "--help")
    assert r.returncode == 0 and "usage: nattel serve" in r.stdout, r
    for args in [["--bogus"], ["--max-body", "0"], ["--max-body", "x"],
                 ["--fail-status", "99"], ["--delay-ms", "-1"],
                 ["--listen", "nocolon"], ["--listen", "127.0.0.1:70000"],
                 ["--db"], ["extra"]]:
        r = run_tool("serve", *args)
        assert r.returncode == 2, (args, r)
        assert r.stderr.startswith("nattel serve: "), (args, r.stderr)
        assert r.stderr.count("\n") == 1, (args, r.stderr)
        assert r.stdout == "", (args, r.stdout)
    missing_dir = os.path.join(work, "no", "such", "dir", "x.db")
    r = run_tool("serve", "--listen", "127.0.0.1:0", "--db", missing_dir)
    assert r.returncode == 1, r
    assert "cannot create database" in r.stderr and missing_dir in r.stderr, r
    assert "No such file or directory" in r.stderr, r
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        port = busy.getsockname()[1]
        r = run_tool("serve", "--listen", "127.0.0.1:%d" % port, "--db",
                     os.path.join(work, "busy.db"))
        assert r.returncode == 1, r
        assert "127.0.0.1:%d" % port in r.stderr, r.stderr
    finally:
        busy.close()
    bad_schema = os.path.join(work, "bad-schema.json")
    with open(bad_schema, "w") as f:
        f.write("{not json")
    r = run_tool("serve", "--listen", "127.0.0.1:0", "--schema", bad_schema,
                 "--db", os.path.join(work, "s.db"))
    assert r.returncode == 2 and bad_schema in r.stderr, r
    r = run_tool("serve", "--listen", "127.0.0.1:0", "--schema",
                 os.path.join(work, "missing.json"),
                 "--db", os.path.join(work, "s.db"))
    assert r.returncode == 2 and "missing.json" in r.stderr, r


TESTS = [
    test_accepts_and_stores,
    test_invalid_json_is_400,
    test_schema_violation_is_422_naming_each_path,
    test_body_limit_is_413,
    test_default_body_limit_is_one_mib,
    test_other_paths_and_methods,
    test_fault_injection,
    test_schema_option_accepts_a_foreign_event,
    test_reference_payload_accepted,
    test_concurrent_clients_lose_nothing,
    test_shutdown_finishes_requests_in_flight,
    test_restart_keeps_data_and_refuses_foreign_versions,
    test_usage_and_startup_errors,
]


def main():
    return tl.run_tests(TESTS, "serve-", SKIPPED)


if __name__ == "__main__":
    sys.exit(main())
