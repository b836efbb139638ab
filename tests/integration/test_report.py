#!/usr/bin/env python3
"""Integration tests of `nattel report`: events are posted to a real
`nattel serve`, and the report's table and --json are checked against
figures computed here, independently, from what was posted.

Environment: NATTEL_BIN (the tool), NATTEL_TEST_TMP (scratch directory).
"""

import http.client
import json
import math
import os
import random
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from fractions import Fraction

import nattel_testlib as tl

BIN = tl.tool()
PATH = "/v1.1/events/json"
STATUSES = ["success", "failure", "completed", "error", "canceled",
            "interrupted", "undefined"]


def cli_params(command, subcommand, status, duration, error_class):
    return {
        "nemoSource": "agent_toolkit",
        "command": command,
        "subcommand": subcommand,
        "taskStatus": status,
        "durationMs": duration,
        "exitCode": 0 if status == "success" else 1,
        "errorClass": error_class,
        "pythonVersion": "undefined",
    }


def envelope(params_list, session):
    env = {"browserType": "undefined", "clientId": "184482118588404",
           "clientType": "Native", "clientVariant": "Release",
           "clientVer": "0.1.0", "cpuArchitecture": "x86_64",
           "deviceGdprBehOptIn": "None", "deviceGdprFuncOptIn": "None",
           "deviceGdprTechOptIn": "None"}
    for key in ["deviceId", "deviceMake", "deviceModel", "deviceOS",
                "deviceOSVersion", "deviceType"]:
        env[key] = "undefined"
    env.update({"eventProtocol": "1.6", "eventSchemaVer": "1.5",
                "eventSysVer": "nat-telemetry/1.0",
                "externalUserId": "undefined", "gdprBehOptIn": "None",
                "gdprFuncOptIn": "None", "gdprTechOptIn": "None",
                "idpId": "undefined", "integrationId": "undefined",
                "productName": "undefined", "productVersion": "undefined",
                "sentTs": "2026-05-06T17:00:09.999Z", "sessionId": session,
                "userId": "undefined"})
    env["events"] = [{"ts": "2026-05-06T17:00:05.%03dZ" % i, "parameters": p,
                      "name": "nat_cli_command"}
                     for i, p in enumerate(params_list)]
    return json.dumps(env, separators=(",", ":")).encode()


class Server(tl.Serve):
    """`nattel serve --quiet` on `db`; every post must be stored (200) and
    the server must stop cleanly."""

    def __init__(self, workdir, db):
        super().__init__(workdir, "--quiet", db=db)

    def post(self, body):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=20)
        try:
            conn.request("POST", PATH, body=body,
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            assert resp.status == 200, (resp.status, data)
        finally:
            conn.close()

    def stop(self):
        rc = super().stop()
        assert rc == 0, rc


def run_tool(*args):
    return subprocess.run([BIN] + list(args), capture_output=True,
                          timeout=60, stdin=subprocess.DEVNULL)


# --------------------------------------------------------------------------
# The oracle: the report computed from the posted events.
# --------------------------------------------------------------------------

def nearest_rank(sorted_values, pct):
    if not sorted_values:
        return None
    rank = math.ceil(Fraction(pct * len(sorted_values), 100))
    return sorted_values[max(rank, 1) - 1]


def expected_report(events):
    groups = {}
    for p in events:
        groups.setdefault((p["command"], p["subcommand"]), []).append(p)
    out = []
    # Byte order of the UTF-8 text is code point order.
    for (command, subcommand) in sorted(groups):
        rows = groups[(command, subcommand)]
        statuses = Counter(p["taskStatus"] for p in rows)
        known = sorted(p["durationMs"] for p in rows if p["durationMs"] >= 0)
        errors = Counter(p["errorClass"] for p in rows
                         if p["errorClass"] != "undefined")
        top = sorted(errors.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        out.append({
            "command": command,
            "subcommand": subcommand,
            "count": len(rows),
            "success": statuses["success"],
            "failure": statuses["failure"],
            "interrupted": statuses["interrupted"],
            "p50DurationMs": nearest_rank(known, 50),
            "p95DurationMs": nearest_rank(known, 95),
            "errorClasses": [{"errorClass": k, "count": v} for k, v in top],
        })
    return out


def random_events(rng, n):
    commands = {
        "run": ["undefined"],
        "info": ["list-components", "list-channels", "undefined"],
        "serve": ["undefined"],
        "configure": ["telemetry"],
        "d\u00e9mo": ["undefined"],          # non-ASCII
        "tab\there": ["undefined"],          # a control character
        "csi\u009b2J": ["undefined"],         # a C1 control (CSI): clears a terminal
        "unknown": ["undefined"],
    }
    error_classes = ["ValueError", "KeyError", "FileNotFoundError",
                     "KeyboardInterrupt", "RuntimeError"]
    names = sorted(commands)
    events = []
    for _ in range(n):
        command = rng.choice(names)
        status = rng.choice(STATUSES)
        if command == "unknown":
            duration = -1  # never a known duration: null percentiles
        else:
            duration = rng.choice([-1, 0, rng.randint(1, 100),
                                   rng.randint(100, 100000)])
        error = ("undefined" if status == "success" or rng.random() < 0.2
                 else rng.choice(error_classes))
        events.append(cli_params(command, rng.choice(commands[command]),
                                 status, duration, error))
    return events


# --------------------------------------------------------------------------
# Reading the table
# --------------------------------------------------------------------------

def parse_table(text):
    lines = text.rstrip("\n").split("\n")
    header = lines[0].split()
    assert header[:8] == ["COMMAND", "SUBCOMMAND", "COUNT", "SUCCESS",
                          "FAILURE", "INTERRUPTED", "P50_MS", "P95_MS"], header
    rows = []
    for line in lines[1:]:
        parts = line.split(None, 8)
        assert len(parts) == 9, line
        rows.append(parts)
    return rows


# What a terminal acts on instead of showing: C0, DEL, C1, the line and
# paragraph separators, the bidirectional marks, embeddings, overrides and
# isolates (Unicode's Bidi_Control set).
STEERING = (set(range(0x20)) | set(range(0x7f, 0xa0)) |
            {0x061c, 0x200e, 0x200f, 0x2028, 0x2029} |
            set(range(0x202a, 0x202f)) | set(range(0x2066, 0x206a)))


def steers_terminal(c):
    return ord(c) in STEERING


def table_row(expected):
    def num(v):
        return "-" if v is None else str(v)

    # The table's escapes: whole text, one line, nothing for a terminal.
    short = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\"}

    def printable(s):
        return "".join(short.get(c) or ("\\u%04x" % ord(c)
                                        if steers_terminal(c) else c)
                       for c in s)

    errors = ", ".join("%s (%d)" % (printable(e["errorClass"]), e["count"])
                       for e in expected["errorClasses"]) or "-"
    return [printable(expected["command"]), printable(expected["subcommand"]),
            str(expected["count"]), str(expected["success"]),
            str(expected["failure"]), str(expected["interrupted"]),
            num(expected["p50DurationMs"]), num(expected["p95DurationMs"]),
            errors]


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------

def post_all(srv, events, rng):
    i = 0
    n = 0
    while i < len(events):
        k = rng.randint(1, 7)
        srv.post(envelope(events[i:i + k], "%032x" % n))
        i += k
        n += 1


def test_report_matches_posted_events(work):
    seed = int(os.environ.get("NATTEL_TEST_SEED", time.time_ns() % 100000))
    print("seed %d (NATTEL_TEST_SEED to repeat)" % seed)
    rng = random.Random(seed)
    events = random_events(rng, 400)
    db = os.path.join(work, "report.db")
    srv = Server(work, db)
    try:
        post_all(srv, events, rng)
        # Read alongside the running server (WAL).
        r = run_tool("report", "--db", db, "--json")
        assert r.returncode == 0, r
        assert json.loads(r.stdout) == expected_report(events)
        # One more envelope after that read is seen by the next one.
        extra = [cli_params("run", "undefined", "failure", 7, "OSError")]
        srv.post(envelope(extra, "f" * 32))
        events += extra
    finally:
        srv.stop()
    want = expected_report(events)

    r = run_tool("report", "--db", db, "--json")
    assert r.returncode == 0 and r.stderr == b"", r
    got = json.loads(r.stdout)
    assert got == want, json.dumps({"got": got, "want": want}, indent=1)
    keys = ["command", "subcommand", "count", "success", "failure",
            "interrupted", "p50DurationMs", "p95DurationMs"]
    assert all(list(row)[:8] == keys for row in got), got[0]

    r = run_tool("report", "--db", db)
    assert r.returncode == 0 and r.stderr == b"", r
    rows = parse_table(r.stdout.decode())
    assert rows == [table_row(w) for w in want], (rows, want)

    # Run from the database's directory: the default --db is nattel.db.
    os.rename(db, os.path.join(work, "nattel.db"))
    r = subprocess.run([BIN, "report", "--json"], capture_output=True,
                       cwd=work, timeout=60)
    assert r.returncode == 0 and json.loads(r.stdout) == want, r


def test_percentiles_on_known_values(work):
    # Hand-checkable: 1..20 ms → nearest rank 10 and 19; -1 ignored.
    events = [cli_params("p", "undefined", "success", d, "undefined")
              for d in list(range(20, 0, -1)) + [-1, -1]]
    db = os.path.join(work, "pct.db")
    srv = Server(work, db)
    try:
        srv.post(envelope(events[:11], "a" * 32))
        srv.post(envelope(events[11:], "b" * 32))
    finally:
        srv.stop()
    r = run_tool("report", "--db", db, "--json")
    got = json.loads(r.stdout)
    assert got == expected_report(events), got
    assert (got[0]["count"], got[0]["p50DurationMs"],
            got[0]["p95DurationMs"]) == (22, 10, 19), got


def test_empty_database(work):
    db = os.path.join(work, "empty.db")
    Server(work, db).stop()
    r = run_tool("report", "--db", db, "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == [], r
    r = run_tool("report", "--db", db)
    assert r.returncode == 0, r
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("COMMAND"), lines


def test_errors(work):
    r = run_tool("report", "--help")
    assert r.returncode == 0 and b"usage: nattel report" in r.stdout, r
    for args in [["--bogus"], ["--db"], ["extra"]]:
        r = run_tool("report", *args)
        assert r.returncode == 2, (args, r)
        assert r.stderr.startswith(b"nattel report: "), r.stderr
        assert r.stdout == b"", r
    missing = os.path.join(work, "missing.db")
    r = run_tool("report", "--db", missing)
    assert r.returncode == 1, r
    assert missing.encode() in r.stderr, r.stderr
    assert not os.path.exists(missing), "report created the database"
    foreign = os.path.join(work, "foreign.db")
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    r = run_tool("report", "--db", foreign)
    assert r.returncode == 1, r
    assert foreign.encode() in r.stderr and r.stderr.count(b"\n") == 1, r


def test_control_characters_kept_whole(work):
    """A NUL or a control character inside a stored string is escaped in
    the report, never cut (issue 8). Stored through a real POST: JSON's
    \\u0000 is valid in a command string."""
    db = os.path.join(work, "ctl.db")
    cmd = "a\u0000b\nc\u001b[31m\\d\u009b\u00e9"
    sub = "x\ty\u0000"
    srv = Server(work, db)
    try:
        srv.post(envelope([cli_params(cmd, sub, "success", 5, "undefined"),
                           cli_params("a", sub, "success", 7, "undefined")],
                          "ctl"))
    finally:
        srv.stop()
    # Stored whole (what the report reads).
    con = sqlite3.connect(db)
    stored = con.execute("SELECT command FROM nat_cli_command ORDER BY "
                         "event_id").fetchall()
    con.close()
    assert stored == [(cmd,), ("a",)], stored
    r = run_tool("report", "--db", db, "--json")
    assert r.returncode == 0 and r.stderr == b"", r
    rows = json.loads(r.stdout)
    assert [(x["command"], x["subcommand"], x["count"]) for x in rows] == [
        ("a", sub, 1), (cmd, sub, 1)], rows
    assert b"\\u0000" in r.stdout and b"\x00" not in r.stdout, r.stdout
    r = run_tool("report", "--db", db)
    assert r.returncode == 0 and r.stderr == b"", r
    out = r.stdout.decode()
    assert "\x00" not in out and "\x1b" not in out, out
    lines = out.splitlines()
    assert len(lines) == 3, lines  # header, "a", the long one: one line each
    want_cmd = "a\\u0000b\\nc\\u001b[31m\\\\d\\u009b\u00e9"
    want_sub = "x\\ty\\u0000"
    assert lines[2].startswith(want_cmd + "  " + want_sub), lines[2]
    assert lines[1].startswith("a" + " " * (len(want_cmd) - 1 + 2) + want_sub
                               ), lines[1]


def test_terminal_steering_escaped(work):
    """DEL, C1 controls, U+202E and the other bidirectional controls,
    U+2028/2029: stored whole, never written raw by either report (issue
    16): JSON escapes them as \\uXXXX (so it still reads back equal), the
    table the same way."""
    db = os.path.join(work, "bidi.db")
    cmds = ["del\u007fx", "c1\u0085\u009b2J", "\u202etxt.exe",
            "l\u2028m\u2029n", "\u2066iso\u2069\u200e\u200f\u061c",
            "\u202a\u202b\u202c\u202d\u2067\u2068"]
    err = "Err\u202e\u2028\u007f"
    srv = Server(work, db)
    try:
        srv.post(envelope([cli_params(c, "undefined", "failure", 5, err)
                           for c in cmds], "bidi"))
    finally:
        srv.stop()
    r = run_tool("report", "--db", db, "--json")
    assert r.returncode == 0 and r.stderr == b"", r
    rows = json.loads(r.stdout)
    assert sorted(x["command"] for x in rows) == sorted(cmds), rows
    assert all(x["errorClasses"][0]["errorClass"] == err for x in rows), rows
    text = r.stdout.decode()
    raw = [c for c in text if steers_terminal(c) and c != "\n"]
    assert not raw, ["U+%04X" % ord(c) for c in raw]
    assert "\\u202e" in text and "\\u007f" in text, text
    r = run_tool("report", "--db", db)
    assert r.returncode == 0 and r.stderr == b"", r
    out = r.stdout.decode()
    raw = [c for c in out if steers_terminal(c) and c != "\n"]
    assert not raw, ["U+%04X" % ord(c) for c in raw]
    lines = out.splitlines()
    assert len(lines) == 1 + len(cmds), lines
    got = sorted(line.split()[0] for line in lines[1:])
    want = sorted("".join("\\u%04x" % ord(c) if steers_terminal(c) else c
                          for c in cmd) for cmd in cmds)
    assert got == want, (got, want)
    assert "Err\\u202e\\u2028\\u007f (1)" in out, out


def indexes(db):
    con = sqlite3.connect(db)
    try:
        return sorted(r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'"
            " AND name NOT LIKE 'sqlite_%'"))
    finally:
        con.close()


def test_layout_2_migrated(work):
    """A store of layout 2 (its indexes as they were) is read as it is by a
    report, taken to the current layout (4) by the next serve, with only
    the indexes a query uses, and reports the same."""
    rng = random.Random(3)
    events = random_events(rng, 120)
    db = os.path.join(work, "v2.db")
    srv = Server(work, db)
    try:
        post_all(srv, events, rng)
    finally:
        srv.stop()
    want = expected_report(events)
    con = sqlite3.connect(db)
    with con:
        con.executescript(
            "DROP INDEX events_ts;"
            " DROP INDEX nat_cli_command_by_duration;"
            " DROP TABLE usage_types; DROP TABLE usage_commands;"
            " DROP TABLE usage_clients;"
            " CREATE INDEX events_name ON events(name);"
            " CREATE INDEX events_session ON events(session_id);"
            " CREATE INDEX nat_cli_command_by_command"
            " ON nat_cli_command(command, subcommand);"
            " PRAGMA user_version = 2;")
    con.close()
    r = run_tool("report", "--db", db, "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == want, r
    Server(work, db).stop()
    con = sqlite3.connect(db)
    version = con.execute("PRAGMA user_version").fetchone()[0]
    con.close()
    assert version == 4, version
    # The indexes a query reads through, and no other (the summary
    # answers the counts).
    assert indexes(db) == ["envelopes_body_hash", "events_ts", "events_uid",
                           "nat_cli_command_by_duration"], indexes(db)
    r = run_tool("report", "--db", db, "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == want, r


TESTS = [
    test_layout_2_migrated,
    test_control_characters_kept_whole,
    test_terminal_steering_escaped,
    test_report_matches_posted_events,
    test_percentiles_on_known_values,
    test_empty_database,
    test_errors,
]


def main():
    return tl.run_tests(TESTS, "report-")


if __name__ == "__main__":
    sys.exit(main())
