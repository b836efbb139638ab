#!/usr/bin/env python3
"""The store keeps only the indexes a query reads through (layout 4): the
summary answers the counts, so layout 3's covering indexes (events by type
and schema version, the typed table's by outcome and by error class) and
layout 1's events(session_id), each a b-tree insert per stored event, are
gone. Checked with the catalogue as oracle (sqlite_master, pg_indexes):

- a fresh store has exactly the kept ones;
- a store of layout 3 (with its indexes) is taken to layout 4 without them
  by the next serve, and a store of layout 4 made with them (by nattel
  before they went) loses them on its next writable open;
- either way every answer stays the same: `nattel report --json`,
  `report --types --json`, the dashboard's data (`report --html`) and
  GET /api/v1/report, each also against figures computed here from the raw
  rows (test_dashboard_summary's oracle);
- the summary the put path counts in C equals its recomputation from the
  raw rows, also for an envelope with more keys than it counts in C (then
  the SQL statements write it) and for one whose events share keys.

Environment: NATTEL_BIN (the tool), NATTEL_TEST_TMP (scratch directory).
"""

import copy
import json
import os
import random
import sqlite3
import subprocess
import sys
from collections import Counter

import nattel_testlib as tl
import test_dashboard_summary as ds

KEPT = ["envelopes_body_hash", "events_ts", "events_uid",
        "nat_cli_command_by_duration"]
# Made by layout 3 (and by layout 4 before they went), with their tables.
OLD = [("events_type", "events(name, schema_ver)"),
       ("events_session", "events(session_id)"),
       ("nat_cli_command_by_outcome",
        "nat_cli_command(command, subcommand, task_status)"),
       ("nat_cli_command_by_error", "nat_cli_command(error_class, command)")]
OLD_DDL = "".join("CREATE INDEX %s ON %s;" % ix for ix in OLD)


def sqlite_indexes(db):
    con = sqlite3.connect(db)
    try:
        return sorted(r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'"
            " AND name NOT LIKE 'sqlite_autoindex_%'"))
    finally:
        con.close()


def sqlite_exec(db, sql):
    con = sqlite3.connect(db)
    try:
        with con:
            con.executescript(sql)
        return con.execute("PRAGMA user_version").fetchone()[0]
    finally:
        con.close()


def tool_json(*args):
    r = subprocess.run([tl.tool()] + list(args), capture_output=True,
                       timeout=60, stdin=subprocess.DEVNULL,
                       env=tl.tool_env())
    assert r.returncode == 0 and r.stderr == b"", r
    return json.loads(r.stdout)


def types_oracle(raw):
    n = Counter((r[1], r[2]) for r in raw)
    return [{"event": k[0], "schemaVersion": k[1], "count": n[k]}
            for k in sorted(n, key=lambda k: (k[0].encode(),
                                              k[1].encode()))]


def answers(db, work, tag):
    """What a reader says of the store: the report, the types, the
    dashboard's data; each also checked against the raw rows."""
    raw = ds.sqlite_raw(db) if not db.startswith("postgres") else None
    report = tool_json("report", "--db", db, "--json")
    types = tool_json("report", "--db", db, "--types", "--json")
    page = ds.report_html_data(db, os.path.join(work, tag + ".html"))
    if raw is not None:
        assert types == types_oracle(raw), (types, types_oracle(raw))
        ds.same_api(copy.deepcopy(page), ds.oracle(raw), tag)
    return report, types, page


def make_store(work, name, rng):
    db = os.path.join(work, name)
    srv = tl.Serve(work, *ds.serve_args(), db=db)
    try:
        ds.ingest(srv, rng, envelopes=30, foreign=bool(ds.guardrails_schema()))
    finally:
        assert srv.stop() == 0, srv.log()
    return db


def reopen_and_check(work, db, rng):
    """A writable open: the layout and indexes it leaves, and the API while
    it runs."""
    raw = ds.sqlite_raw(db)
    srv = tl.Serve(work, *ds.serve_args(), db=db)
    try:
        assert sqlite_indexes(db) == KEPT, sqlite_indexes(db)
        assert ds.sqlite_summary(db) == ds.summary_of(raw)
        ds.check_api_against(srv, raw, rng, n=10)
    finally:
        assert srv.stop() == 0, srv.log()
    assert sqlite_exec(db, "") == 4


def test_fresh_store_has_only_the_kept_indexes(work):
    db = make_store(work, "fresh.db", random.Random(1))
    assert sqlite_indexes(db) == KEPT, sqlite_indexes(db)


def test_layout_3_store_loses_them(work):
    rng = random.Random(5)
    db = make_store(work, "v3.db", rng)
    want = answers(db, work, "v4-made")
    # Layout 3 as nattel made it: its indexes, no summary.
    assert sqlite_exec(db, OLD_DDL + "DROP TABLE usage_types;"
                       " DROP TABLE usage_commands; DROP TABLE usage_clients;"
                       " PRAGMA user_version = 3;") == 3
    assert sqlite_indexes(db) == sorted(KEPT + [n for n, _ in OLD])
    # A reader takes it as it is (the whole-store queries).
    got = answers(db, work, "v3-read")
    assert got[0] == want[0] and got[2] == want[2], (got, want)
    reopen_and_check(work, db, rng)
    assert answers(db, work, "v3-migrated") == want


def test_layout_4_made_with_them_loses_them(work):
    rng = random.Random(6)
    db = make_store(work, "v4.db", rng)
    want = answers(db, work, "v4-made")
    # What nattel made as layout 4 before they went.
    assert sqlite_exec(db, OLD_DDL) == 4
    assert answers(db, work, "v4-old") == want
    reopen_and_check(work, db, rng)
    assert answers(db, work, "v4-reopened") == want


def test_summary_counted_in_c_equals_raw(work):
    """Keys shared within an envelope, and an envelope with more keys per
    table than the put path counts in C (its SQL statements write those)."""
    db = os.path.join(work, "keys.db")
    srv = tl.Serve(work, "--quiet", db=db)
    try:
        rng = random.Random(8)
        same = [("2026-05-06T10:%02d:00.000Z" % i,
                 ds.cli_params("run", "", "success", 5, "undefined"),
                 "nat_cli_command") for i in range(40)]
        ds.post(srv, ds.make_envelope(rng, same, "same"))
        many = [("2026-05-%02dT%02d:00:00.000Z" % (1 + i % 28, i % 24),
                 ds.cli_params("c%d" % i, "s%d" % (i % 3), "failure",
                               max(i - 50, -1),
                               "E%d" % (i % 7)), "nat_cli_command")
                for i in range(150)]
        ds.post(srv, ds.make_envelope(rng, many, "many"), [
            "k-%d" % i for i in range(150)])
        # Half of it again, under the same IDs: stored once.
        ds.post(srv, ds.make_envelope(rng, many[:75], "many2"), [
            "k-%d" % i for i in range(75)])
        raw = ds.sqlite_raw(db)
        assert len(raw) == 190, len(raw)
        assert ds.sqlite_summary(db) == ds.summary_of(raw)
        ds.check_api_against(srv, raw, rng, n=10)
    finally:
        assert srv.stop() == 0, srv.log()


def pg_indexes(pg):
    return sorted(pg.psql("SELECT indexname FROM pg_indexes"
                          " WHERE schemaname = 'public'",
                          db="summary").split())


def test_postgres_loses_them(work):
    if not tl.pg_bin_dir():
        print("skip: PostgreSQL server binaries not found (install "
              "postgresql)", file=sys.stderr)
        return
    rng = random.Random(9)
    with tl.Postgres() as pg:
        uri = pg.create_db("summary")
        srv = tl.Serve(work, *ds.serve_args(), db=uri)
        try:
            ds.ingest(srv, rng, envelopes=20,
                      foreign=bool(ds.guardrails_schema()))
        finally:
            assert srv.stop() == 0, srv.log()
        # Besides the keys' own (_pkey, _key), the two a query reads.
        fresh = pg_indexes(pg)
        assert [n for n in fresh if not n.endswith(("_pkey", "_key"))] == [
            "events_ts", "nat_cli_command_by_duration"], fresh
        raw = ds.pg_raw(pg)
        want = answers(uri, work, "pg-made")
        ds.same_api(copy.deepcopy(want[2]), ds.oracle(raw),
                    "PostgreSQL layout 4")
        # Layout 4 made with them, then layout 3 with them: each reopened.
        for version, extra in ((4, ""), (3, "DROP TABLE usage_types,"
                                         " usage_commands, usage_clients;"
                                         " UPDATE nattel_layout"
                                         " SET version = 3;")):
            pg.psql(OLD_DDL + extra, db="summary")
            assert set(pg_indexes(pg)) >= {n for n, _ in OLD}
            got = answers(uri, work, "pg-old-%d" % version)
            assert got[0] == want[0] and got[2] == want[2], (got, want)
            srv = tl.Serve(work, *ds.serve_args(), db=uri)
            try:
                assert pg_indexes(pg) == fresh, (pg_indexes(pg), fresh)
                ds.check_api_against(srv, raw, rng, n=5)
            finally:
                assert srv.stop() == 0, srv.log()
            assert pg.psql("SELECT max(version) FROM nattel_layout",
                           db="summary").strip() == "4"
            assert answers(uri, work, "pg-reopened-%d" % version) == want


TESTS = [
    test_fresh_store_has_only_the_kept_indexes,
    test_layout_3_store_loses_them,
    test_layout_4_made_with_them_loses_them,
    test_summary_counted_in_c_equals_raw,
    test_postgres_loses_them,
]


def main():
    return tl.run_tests(TESTS, "indexes-")


if __name__ == "__main__":
    sys.exit(main())
