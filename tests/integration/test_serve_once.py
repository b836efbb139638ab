#!/usr/bin/env python3
"""Exactly once at the endpoint (issue 16): `nattel serve` stores a retried
delivery once. An envelope sent again unchanged is stored once (a UNIQUE
body hash); events named by the Nattel-Event-Ids header are stored once
per ID, also when a retried event comes back merged with new ones into a
different envelope; concurrent retries on separate connections leave one
copy (the database's UNIQUE key decides, not a check-then-insert). A
duplicate is answered 200 like a first delivery. A store of the previous
layout (schema version 1) is brought forward on open; a newer one is
refused.

The real `nattel serve` on 127.0.0.1; rows read back with Python's sqlite3.
"""

import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nattel_testlib as tl  # noqa: E402
import test_serve as ts  # noqa: E402

IDS = "Nattel-Event-Ids"


def post_ids(srv, env, ids):
    headers = dict(ts.JSON_HEADERS)
    if ids is not None:
        headers[IDS] = ids
    return srv.request(ts.dumps(env), headers=headers)


def commands(db):
    return sorted(r[0] for r in ts.db_rows(
        db, "SELECT command FROM nat_cli_command"))


def test_unchanged_envelope_stored_once(work):
    srv = ts.Server(work)
    env = ts.envelope([ts.cli_event("a"), ts.cli_event("b")])
    try:
        for _ in range(3):
            status, _, data = srv.post(env)
            assert status == 200, (status, data)
            assert b'"accepted":2' in data, data
        # A different body (one byte) is a different envelope.
        other = ts.envelope([ts.cli_event("a"), ts.cli_event("b")],
                            session="1123456789abcdef0123456789abcdef")
        assert srv.post(other)[0] == 200
    finally:
        assert srv.stop() == 0, srv.log()
    assert ts.event_count(srv.db) == 4
    assert ts.db_rows(srv.db, "SELECT count(*) FROM envelopes")[0][0] == 2
    assert commands(srv.db) == ["a", "a", "b", "b"]
    assert "stored before" in srv.log(), srv.log()


def test_event_ids_store_each_event_once(work):
    srv = ts.Server(work)
    try:
        first = ts.envelope([ts.cli_event("one"), ts.cli_event("two")])
        assert post_ids(srv, first, "id-1,id-2")[0] == 200
        # The retried "two" merged with a new "three": another body, which
        # the body hash cannot catch; the IDs do.
        merged = ts.envelope([ts.cli_event("two"), ts.cli_event("three")],
                             client_ver="1.7.1")
        status, _, data = post_ids(srv, merged, "id-2, id-3")
        assert status == 200, (status, data)
        assert b'"accepted":2' in data, data
        # All of it seen before, in another order and envelope: 200, none.
        again = ts.envelope([ts.cli_event("three"), ts.cli_event("one")],
                            client_ver="1.7.2")
        assert post_ids(srv, again, "id-3,id-1")[0] == 200
    finally:
        assert srv.stop() == 0, srv.log()
    assert commands(srv.db) == ["one", "three", "two"]
    uids = sorted(r[0] for r in ts.db_rows(srv.db,
                                           "SELECT event_uid FROM events"))
    assert uids == ["id-1", "id-2", "id-3"], uids


def test_bad_event_ids_header_is_400(work):
    srv = ts.Server(work)
    env = ts.envelope([ts.cli_event("x"), ts.cli_event("y")])
    try:
        for ids in ["a", "a,b,c", "a,,b", "a,b c", "a,b/c", "a," + "z" * 65,
                    "", "a,\u00e9".encode().decode("latin-1")]:
            status, _, data = post_ids(srv, env, ids)
            assert status == 400, (ids, status, data)
            assert IDS.encode() in data, (ids, data)
        # 64 characters of the whole alphabet are fine.
        ok = "A-z_0.9" + "q" * 57
        assert post_ids(srv, env, ok + ",k")[0] == 200
        # The envelope is judged first: a broken one is 422 whatever the
        # header says.
        bad = ts.envelope([{"name": "nat_cli_command", "ts": "x",
                            "parameters": {}}])
        assert post_ids(srv, bad, "a,b,c")[0] == 422
    finally:
        assert srv.stop() == 0, srv.log()
    assert ts.event_count(srv.db) == 2


def test_concurrent_retries_leave_one_copy(work):
    srv = ts.Server(work, "--quiet")
    results = []
    lock = threading.Lock()

    def sender(k):
        # Each its own body (client_ver), the same three IDs.
        env = ts.envelope([ts.cli_event("c1"), ts.cli_event("c2"),
                           ts.cli_event("c3")], client_ver="2.0.%d" % k)
        got = [post_ids(srv, env, "c-1,c-2,c-3")[0] for _ in range(3)]
        with lock:
            results.extend(got)

    try:
        threads = [threading.Thread(target=sender, args=(k,))
                   for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        assert srv.stop() == 0, srv.log()
    assert results == [200] * 24, results
    assert commands(srv.db) == ["c1", "c2", "c3"]


# The layout of schema version 1 (nattel before exactly once), as that
# version created it.
V1_DDL = """
CREATE TABLE envelopes (id INTEGER PRIMARY KEY, session_id TEXT NOT NULL,
 client_ver TEXT NOT NULL, schema_ver TEXT NOT NULL,
 cpu_architecture TEXT NOT NULL, sent_ts TEXT NOT NULL,
 received_ts TEXT NOT NULL, event_count INTEGER NOT NULL);
CREATE TABLE events (id INTEGER PRIMARY KEY,
 envelope_id INTEGER NOT NULL REFERENCES envelopes(id),
 seq INTEGER NOT NULL, session_id TEXT NOT NULL, client_ver TEXT NOT NULL,
 name TEXT NOT NULL, schema_ver TEXT NOT NULL, ts TEXT NOT NULL,
 received_ts TEXT NOT NULL, parameters TEXT NOT NULL,
 UNIQUE (envelope_id, seq));
CREATE INDEX events_name ON events(name);
CREATE INDEX events_session ON events(session_id);
CREATE TABLE "nat_cli_command" (event_id INTEGER PRIMARY KEY
 REFERENCES events(id), "nemo_source" TEXT NOT NULL,
 "command" TEXT NOT NULL, "subcommand" TEXT NOT NULL,
 "task_status" TEXT NOT NULL, "duration_ms" INTEGER NOT NULL,
 "exit_code" INTEGER NOT NULL, "error_class" TEXT NOT NULL,
 "python_version" TEXT NOT NULL);
CREATE INDEX nat_cli_command_by_command ON nat_cli_command(command,
 subcommand);
INSERT INTO envelopes VALUES (1, 's', '1', '1.5', 'x86_64',
 '2026-05-06T17:00:09.999Z', '2026-05-06T17:00:10.000Z', 2);
INSERT INTO events VALUES (1, 1, 0, 's', '1', 'nat_cli_command', '1.5',
 '2026-05-06T17:00:05.000Z', '2026-05-06T17:00:10.000Z', '{}');
INSERT INTO events VALUES (2, 1, 1, 's', '1', 'nat_cli_command', '1.5',
 '2026-05-06T17:00:05.000Z', '2026-05-06T17:00:10.000Z', '{}');
INSERT INTO nat_cli_command VALUES (1, 'agent_toolkit', 'old', 'undefined',
 'success', 5, 0, 'undefined', '3.11.7');
INSERT INTO nat_cli_command VALUES (2, 'agent_toolkit', 'old', 'undefined',
 'failure', 7, 1, 'undefined', '3.11.7');
PRAGMA user_version = 1;
"""


def make_v1(path):
    db = sqlite3.connect(path)
    db.executescript(V1_DDL)
    db.commit()
    db.close()


def test_version_1_store_is_migrated(work):
    path = os.path.join(work, "v1.db")
    make_v1(path)
    srv = ts.Server(work, db=path)
    env = ts.envelope([ts.cli_event("new")])
    try:
        assert post_ids(srv, env, "n-1")[0] == 200
        assert post_ids(srv, env, "n-1")[0] == 200
        assert srv.post(env)[0] == 200  # the same body, without IDs
    finally:
        assert srv.stop() == 0, srv.log()
    db = sqlite3.connect(path)
    try:
        # Through 2 and 3 to the current layout, 4.
        assert db.execute("PRAGMA user_version").fetchone()[0] == 4
        cols = [r[1] for r in db.execute("PRAGMA table_info(events)")]
        assert "event_uid" in cols, cols
        cols = [r[1] for r in db.execute("PRAGMA table_info(envelopes)")]
        assert "body_hash" in cols, cols
        idx = {r[1]: r[2] for r in db.execute("PRAGMA index_list(events)")}
        assert idx.get("events_uid") == 1, idx  # unique
        # The old rows are kept (NULL IDs), the new event stored once.
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] == 3
        assert db.execute("SELECT count(*) FROM events WHERE event_uid IS "
                          "NULL").fetchone()[0] == 2
        # The summary holds the old rows (built by the migration) and the
        # new one (added by the put path), as the raw rows count them.
        raw = db.execute(
            "SELECT substr(e.ts, 1, 13), c.command, c.subcommand,"
            " c.task_status, c.error_class, c.duration_ms, e.client_ver,"
            " v.cpu_architecture, e.name, e.schema_ver FROM events e"
            " JOIN envelopes v ON v.id = e.envelope_id"
            " JOIN nat_cli_command c ON c.event_id = e.id").fetchall()
        want = Counter((r[0],) + r[1:5] + (1 if r[5] >= 0 else 0,)
                       for r in raw)
        got = {r[:-1]: r[-1] for r in db.execute(
            "SELECT hour, command, subcommand, task_status, error_class,"
            " known, n FROM usage_commands")}
        assert got == dict(want), (got, want)
        want = Counter((r[0], r[1], r[6], r[7]) for r in raw)
        got = {r[:-1]: r[-1] for r in db.execute(
            "SELECT hour, command, client_ver, cpu_architecture, n"
            " FROM usage_clients")}
        assert got == dict(want), (got, want)
        want = Counter((r[0], r[8], r[9]) for r in raw)
        got = {r[:-1]: r[-1] for r in db.execute(
            "SELECT hour, name, schema_ver, n FROM usage_types")}
        assert got == dict(want) and sum(want.values()) == 3, (got, want)
    finally:
        db.close()
    # A reopening finds it current (no second migration).
    srv = ts.Server(work, db=path)
    assert srv.stop() == 0, srv.log()


def test_report_reads_a_version_1_store(work):
    # A reader cannot migrate; it reads the old layout as it is.
    path = os.path.join(work, "v1r.db")
    make_v1(path)
    r = subprocess.run([ts.BIN, "report", "--db", path, "--json"],
                       capture_output=True, text=True, timeout=20,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r
    rows = json.loads(r.stdout)
    assert [(x["command"], x["count"]) for x in rows] == [("old", 2)], rows
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    db.close()


def test_newer_store_is_refused(work):
    path = os.path.join(work, "v9.db")
    make_v1(path)
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 9")
    db.commit()
    db.close()
    r = subprocess.run([ts.BIN, "serve", "--listen", "127.0.0.1:0", "--db",
                        path], capture_output=True, text=True, timeout=20,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 1, r
    assert "schema version 9" in r.stderr, r.stderr


TESTS = [
    test_unchanged_envelope_stored_once,
    test_event_ids_store_each_event_once,
    test_bad_event_ids_header_is_400,
    test_concurrent_retries_leave_one_copy,
    test_version_1_store_is_migrated,
    test_newer_store_is_refused,
    test_report_reads_a_version_1_store,
]


def main():
    return tl.run_tests(TESTS, "once-")


if __name__ == "__main__":
    sys.exit(main())
