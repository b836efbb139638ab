#!/usr/bin/env python3
"""The dashboard's per-hour summary (store layout 4), on SQLite and on a
real PostgreSQL (started here; skipped, saying why, without its binaries):

- after random ingests through a real `nattel serve` (duplicates refused by
  exactly-once, split deliveries, every task status, unknown durations,
  another event type than nat_cli_command) the summary tables equal their
  recomputation here, in Python, from the raw rows;
- GET /api/v1/report, whole store and under random time filters whose
  bounds fall inside an hour (and a command filter), equals every figure
  computed here from the raw rows (Python's sqlite3 / psql read them);
- a store of layout 3 is read as it is by `nattel report --html` (the
  whole-store queries), and taken to layout 4 by the next serve, which
  builds the summary from the stored events; the same on PostgreSQL.

Environment: NATTEL_BIN (the tool), NATTEL_TEST_TMP (scratch directory).
"""

import http.client
import json
import math
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import urllib.parse
from collections import Counter, defaultdict
from fractions import Fraction

import nattel_testlib as tl
from test_report import cli_params, envelope

PATH = "/v1.1/events/json"
XSS = "<script>alert(1)</script>"
COMMANDS = [("run", ""), ("run", "pipeline"), ("info", "list-components"),
            ("eval", ""), ("ünïcode", "sub"), (XSS, "x")]
STATUSES = ["success", "failure", "completed", "error", "canceled",
            "interrupted", "undefined"]
ERRORS = ["ValueError", "KeyError", "OSError", XSS]
VERSIONS = ["0.1.0", "0.2.0", "1.0.0rc1"]
ARCHS = ["x86_64", "arm64", "riscv64"]
# Times over three days, a few hours each, with the edges of an hour.
HOURS = ["2026-05-04T09", "2026-05-04T10", "2026-05-05T00", "2026-05-05T23",
         "2026-05-06T10", "2026-05-06T11"]


def guardrails_schema():
    """The foreign event type's schema, or None without the reference."""
    ref = os.environ.get("NATTEL_REFERENCE_DIR", "")
    path = os.path.join(ref, "guardrails_usage_event.schema.json")
    return path if ref and os.path.isfile(path) else None


def guardrails_params(rng):
    params = {
        "nemoSource": "guardrails", "sessionId": "undefined",
        "nemoguardrailsVersion": "0.21.0", "pythonVersion": "3.13.7",
        "platform": "Linux", "osName": "Linux", "colangVersion": "1.0",
        "llmProviders": ["nim"], "numRailsConfigured": rng.randrange(5),
        "railTypesInUse": ["input"], "tracingEnabled": False,
        "deploymentType": "library", "railsEngine": "LLMRails",
        "hasKnowledgeBase": True, "streamingConfigured": False,
        "builtinFeatures": [], "numCustomFlows": 0,
        "timestamp": 1767225600.5, "event": "startup"}
    return params


def random_ts(rng):
    hour = rng.choice(HOURS)
    pick = rng.random()
    if pick < 0.1:
        rest = ":00:00.000Z"
    elif pick < 0.2:
        rest = ":59:59.999Z"
    else:
        rest = ":%02d:%02d.%03dZ" % (rng.randrange(60), rng.randrange(60),
                                     rng.randrange(1000))
    return hour + rest


def cli(rng):
    cmd, sub = rng.choice(COMMANDS)
    status = rng.choice(STATUSES)
    dur = rng.choice([-1, rng.randrange(0, 50), rng.randrange(0, 100000)])
    err = rng.choice(ERRORS) if status in ("failure", "error") and \
        rng.random() < 0.8 else "undefined"
    return cli_params(cmd, sub, status, dur, err)


def make_envelope(rng, events, session, schema_ver="1.5"):
    env = json.loads(envelope([p for _, p, _ in events], session))
    env["clientVer"] = rng.choice(VERSIONS)
    env["cpuArchitecture"] = rng.choice(ARCHS)
    env["eventSchemaVer"] = schema_ver
    for ev, (ts, _, name) in zip(env["events"], events):
        ev["ts"] = ts
        ev["name"] = name
    return env


def post(srv, env, ids=None):
    body = json.dumps(env).encode()
    headers = {"Content-Type": "application/json"}
    if ids is not None:
        headers["Nattel-Event-Ids"] = ",".join(ids)
    c = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
    try:
        c.request("POST", PATH, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
    finally:
        c.close()
    assert r.status == 200, (r.status, data)


def ingest(srv, rng, envelopes=40, foreign=False):
    """Random envelopes, some sent twice (whole, or split then whole),
    some with event IDs; returns nothing: the oracle reads the store."""
    uid = 0
    for k in range(envelopes):
        if foreign and rng.random() < 0.2:
            evs = [(random_ts(rng), guardrails_params(rng),
                    "guardrails_usage_event")
                   for _ in range(rng.randrange(1, 6))]
            env = make_envelope(rng, evs, "g%d" % k, schema_ver="1.7")
        else:
            evs = [(random_ts(rng), cli(rng), "nat_cli_command")
                   for _ in range(rng.randrange(1, 30))]
            env = make_envelope(rng, evs, "s%d" % k)
        way = rng.randrange(4)
        if way == 0:                       # plain, resent unchanged
            post(srv, env)
            post(srv, env)
            continue
        ids = []
        for _ in env["events"]:
            uid += 1
            ids.append("id-%d" % uid)
        if way == 1:                       # IDs, sent twice
            post(srv, env, ids)
            post(srv, env, ids)
        elif way == 2:                     # split: a part first, then all
            cut = rng.randrange(len(ids) + 1)
            part = dict(env, events=env["events"][:cut])
            if cut:
                post(srv, part, ids[:cut])
            post(srv, env, ids)
        else:                              # IDs, once
            post(srv, env, ids)


# --------------------------------------------------------------------------
# The oracle, from the raw rows: (ts, name, schema_ver, client_ver,
# cpu_architecture, command, subcommand, task_status, duration_ms,
# error_class), the last five None for an event of another type.
# --------------------------------------------------------------------------

RAW_SQL = ("SELECT e.ts, e.name, e.schema_ver, e.client_ver,"
           " v.cpu_architecture, c.command, c.subcommand, c.task_status,"
           " c.duration_ms, c.error_class"
           " FROM events e JOIN envelopes v ON v.id = e.envelope_id"
           " LEFT JOIN nat_cli_command c ON c.event_id = e.id")


def summary_of(raw):
    """The three summary tables as sets of tuples, grouped here."""
    types, commands, clients = Counter(), Counter(), Counter()
    for ts, name, sv, cv, arch, cmd, sub, st, dur, err in raw:
        types[(ts[:13], name, sv)] += 1
        if cmd is None:
            continue
        commands[(ts[:13], cmd, sub, st, err, 1 if dur >= 0 else 0)] += 1
        clients[(ts[:13], cmd, cv, arch)] += 1
    return ({k + (n,) for k, n in types.items()},
            {k + (n,) for k, n in commands.items()},
            {k + (n,) for k, n in clients.items()})


def nearest_rank(values, pct):
    if not values:
        return None
    rank = math.ceil(Fraction(pct * len(values), 100))
    return values[max(rank, 1) - 1]


def listed(counter, key, key2="command"):
    return [{key: k[0], key2: k[1], "count": n}
            for k, n in sorted(counter.items())]


def oracle(raw, frm=None, to=None, command=None, by_hour=False):
    """The API's figures (all but "filter") from the raw rows."""
    def in_time(ts):
        return (frm is None or ts >= frm) and (to is None or ts < to + "~")
    rows = [r for r in raw if in_time(r[0])]
    cli = [r for r in rows if r[5] is not None and
           (command is None or r[5] == command)]
    per_cmd, per_sub = defaultdict(list), defaultdict(list)
    for r in cli:
        per_cmd[r[5]].append(r)
        per_sub[(r[5], r[6])].append(r)

    def counts(rs):
        st = Counter(r[7] for r in rs)
        return {"count": len(rs), "success": st["success"],
                "failure": st["failure"], "interrupted": st["interrupted"],
                "failureRate": st["failure"] / len(rs)}
    commands = []
    for c in sorted(per_cmd):
        d = counts(per_cmd[c])
        known = sorted(r[8] for r in per_cmd[c] if r[8] >= 0)
        commands.append(dict({"command": c}, **d,
                             p50DurationMs=nearest_rank(known, 50),
                             p95DurationMs=nearest_rank(known, 95),
                             p99DurationMs=nearest_rank(known, 99)))
    outcomes = []
    for (c, s) in sorted(per_sub):
        d = counts(per_sub[(c, s)])
        d["other"] = d["count"] - d["success"] - d["failure"] - \
            d["interrupted"]
        outcomes.append(dict({"command": c, "subcommand": s}, **d))
    width = 13 if by_hour else 10
    return {
        "total": len(cli),
        "commands": commands,
        "outcomes": outcomes,
        "series": listed(Counter((r[0][:width], r[5]) for r in cli),
                         "bucket"),
        "errorClasses": listed(Counter((r[9], r[5]) for r in cli
                                       if r[9] != "undefined"),
                               "errorClass"),
        "clientVersions": listed(Counter((r[3], r[5]) for r in cli),
                                 "clientVersion"),
        "cpuArchitectures": listed(Counter((r[4], r[5]) for r in cli),
                                   "cpuArchitecture"),
        "eventTypes": listed(Counter((r[1], r[2]) for r in rows), "event",
                             "schemaVersion"),
    }


def same_api(got, want, what):
    got = dict(got)
    got.pop("filter", None)
    for key in want:
        g, w = got[key], want[key]
        if key in ("commands", "outcomes"):
            assert len(g) == len(w), (what, key, g, w)
            for a, b in zip(g, w):
                assert abs(a.pop("failureRate") - b["failureRate"]) < 1e-12
                b = dict(b)
                b.pop("failureRate")
                assert a == b, (what, key, a, b)
        else:
            assert g == w, (what, key, g, w)
    assert set(got) == set(want), (what, set(got) ^ set(want))


def api(srv, **q):
    c = http.client.HTTPConnection(srv.host, srv.port, timeout=60)
    try:
        c.request("GET", "/api/v1/report?" + urllib.parse.urlencode(q))
        r = c.getresponse()
        body = r.read()
    finally:
        c.close()
    assert r.status == 200, (r.status, body)
    return json.loads(body)


def random_filters(rng, raw, n):
    """Bounds of every length, most of them inside an hour, cut from
    stored times (and their neighbours); both bounds in one hour too."""
    times = sorted({r[0] for r in raw})
    out = [{}, {"bucket": "hour"}]
    for _ in range(n):
        q = {}
        for side in ("from", "to"):
            if rng.random() < 0.8:
                ts = rng.choice(times)
                q[side] = ts[:rng.choice([4, 7, 10, 13, 16, 16, 19, 19])]
        if len(q.get("from", "")) >= 13 and rng.random() < 0.4:
            # Both bounds inside one hour.
            q["to"] = q["from"][:13] + rng.choice(["", ":59", ":30:00"])
        if rng.random() < 0.3:
            q["command"] = rng.choice(COMMANDS)[0]
        if rng.random() < 0.5:
            q["bucket"] = "hour"
        out.append(q)
    return out


def check_api_against(srv, raw, rng, n=40):
    for q in random_filters(rng, raw, n):
        want = oracle(raw, q.get("from"), q.get("to"), q.get("command"),
                      q.get("bucket") == "hour")
        same_api(api(srv, **q), want, q)


# --------------------------------------------------------------------------
# SQLite
# --------------------------------------------------------------------------

def sqlite_raw(db):
    con = sqlite3.connect(db)
    try:
        return con.execute(RAW_SQL).fetchall()
    finally:
        con.close()


def sqlite_summary(db):
    con = sqlite3.connect(db)
    try:
        return (set(con.execute("SELECT hour, name, schema_ver, n"
                                " FROM usage_types")),
                set(con.execute("SELECT hour, command, subcommand,"
                                " task_status, error_class, known, n"
                                " FROM usage_commands")),
                set(con.execute("SELECT hour, command, client_ver,"
                                " cpu_architecture, n FROM usage_clients")))
    finally:
        con.close()


def serve_args():
    schema = guardrails_schema()
    return ["--quiet"] + (["--schema", schema] if schema else [])


def test_sqlite_summary_equals_raw(work):
    seed = int(os.environ.get("NATTEL_TEST_SEED", random.randrange(1 << 30)))
    print("seed %d (NATTEL_TEST_SEED to repeat)" % seed)
    rng = random.Random(seed)
    db = os.path.join(work, "serve.db")
    srv = tl.Serve(work, *serve_args(), db=db)
    try:
        for _ in range(3):
            ingest(srv, rng, envelopes=25, foreign=bool(guardrails_schema()))
            raw = sqlite_raw(db)
            assert sqlite_summary(db) == summary_of(raw)
        assert any(r[5] is None for r in raw) or not guardrails_schema()
        check_api_against(srv, raw, rng)
    finally:
        assert srv.stop() == 0, srv.log()


def report_html_data(db, out):
    r = subprocess.run([tl.tool(), "report", "--db", db, "--html", out],
                       capture_output=True, timeout=60,
                       stdin=subprocess.DEVNULL, env=tl.tool_env())
    assert r.returncode == 0, r
    with open(out, encoding="utf-8") as f:
        page = f.read()
    return json.loads(page.split("id=nattel-data>")[1].split("</script>")[0])["data"]


def test_sqlite_layout_3_read_then_migrated(work):
    rng = random.Random(4)
    db = os.path.join(work, "v3.db")
    srv = tl.Serve(work, *serve_args(), db=db)
    try:
        ingest(srv, rng, envelopes=30, foreign=bool(guardrails_schema()))
    finally:
        assert srv.stop() == 0, srv.log()
    raw = sqlite_raw(db)
    con = sqlite3.connect(db)
    with con:
        con.executescript("DROP TABLE usage_types; DROP TABLE usage_commands;"
                          " DROP TABLE usage_clients;"
                          " PRAGMA user_version = 3;")
    con.close()
    # A reader takes layout 3 as it is: the whole-store queries.
    same_api(report_html_data(db, os.path.join(work, "v3.html")),
             oracle(raw), "layout 3, read-only")
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 3
    con.close()
    # A writer takes it to 4, the summary built from the stored events.
    srv = tl.Serve(work, *serve_args(), db=db)
    try:
        con = sqlite3.connect(db)
        assert con.execute("PRAGMA user_version").fetchone()[0] == 4
        con.close()
        assert sqlite_summary(db) == summary_of(raw)
        check_api_against(srv, raw, rng, n=10)
        ingest(srv, rng, envelopes=10)
        raw = sqlite_raw(db)
        assert sqlite_summary(db) == summary_of(raw)
    finally:
        assert srv.stop() == 0, srv.log()
    same_api(report_html_data(db, os.path.join(work, "v4.html")),
             oracle(raw), "layout 4, read-only")


# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------

def pg_rows(pg, sql, ints):
    """Rows of sql as tuples; columns in `ints` as int or None."""
    out = pg.psql(sql, db="summary")
    rows = []
    for line in out.split("\n"):
        if not line:
            continue
        cols = line.split("\x1f")
        rows.append(tuple(
            (None if v == "" else int(v)) if i in ints else v
            for i, v in enumerate(cols)))
    return rows


def pg_raw(pg):
    # psql shows NULL as "": a marker column says which events have no
    # nat_cli_command row.
    rows = pg_rows(pg, RAW_SQL.replace(
        "SELECT e.ts", "SELECT CASE WHEN c.event_id IS NULL THEN 'n'"
        " ELSE 'y' END, e.ts"), {9})
    return [r[1:6] + (None,) * 5 if r[0] == "n" else r[1:] for r in rows]


def pg_summary(pg):
    return (set(pg_rows(pg, "SELECT hour, name, schema_ver, n"
                        " FROM usage_types", {3})),
            set(pg_rows(pg, "SELECT hour, command, subcommand, task_status,"
                        " error_class, known, n FROM usage_commands", {5, 6})),
            set(pg_rows(pg, "SELECT hour, command, client_ver,"
                        " cpu_architecture, n FROM usage_clients", {4})))


def test_postgres_summary_equals_raw(work):
    if not tl.pg_bin_dir():
        print("skip: PostgreSQL server binaries not found (install "
              "postgresql)", file=sys.stderr)
        return
    seed = int(os.environ.get("NATTEL_TEST_SEED", random.randrange(1 << 30)))
    print("seed %d (NATTEL_TEST_SEED to repeat)" % seed)
    rng = random.Random(seed)
    with tl.Postgres() as pg:
        uri = pg.create_db("summary")
        srv = tl.Serve(work, *serve_args(), db=uri)
        try:
            for _ in range(2):
                ingest(srv, rng, envelopes=25,
                       foreign=bool(guardrails_schema()))
                raw = pg_raw(pg)
                assert pg_summary(pg) == summary_of(raw)
            check_api_against(srv, raw, rng)
        finally:
            assert srv.stop() == 0, srv.log()
        # Layout 3: read as it is, then migrated by the next serve.
        pg.psql("DROP TABLE usage_types, usage_commands, usage_clients;"
                " UPDATE nattel_layout SET version = 3", db="summary")
        same_api(report_html_data(uri, os.path.join(work, "pg3.html")),
                 oracle(raw), "PostgreSQL layout 3, read-only")
        srv = tl.Serve(work, *serve_args(), db=uri)
        try:
            assert pg.psql("SELECT max(version) FROM nattel_layout",
                           db="summary").strip() == "4"
            assert pg_summary(pg) == summary_of(raw)
            check_api_against(srv, raw, rng, n=10)
        finally:
            assert srv.stop() == 0, srv.log()


TESTS = [
    test_sqlite_summary_equals_raw,
    test_sqlite_layout_3_read_then_migrated,
    test_postgres_summary_equals_raw,
]


def main():
    return tl.run_tests(TESTS, "summary-")


if __name__ == "__main__":
    sys.exit(main())
