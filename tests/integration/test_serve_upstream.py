#!/usr/bin/env python3
"""`nattel serve` stores every payload the upstream Python code built
(issue 8), field by field: each line of the shared reference's
upstream_payloads.jsonl (10 payloads in the two encodings upstream's HTTP
client sends; one holds 60 events) is POSTed to the real server on
127.0.0.1, must get 200, and the rows stored in SQLite must equal the
parsed JSON: every event field, the event's ts and name, and the envelope
fields the store keeps.

Skipped, saying why, when the reference folder is missing. Helpers come
from test_serve.py.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nattel_testlib as tl  # noqa: E402
import test_serve as ts  # noqa: E402

FIXTURE = "upstream_payloads.jsonl"


def load_lines():
    path = os.path.join(ts.REFERENCE, FIXTURE)
    if not ts.REFERENCE or not os.path.isfile(path):
        return None, path
    with open(path, "rb") as f:
        return [line.rstrip(b"\n") for line in f if line.strip()], path


def check_envelope_row(row, env, i):
    want = (env["sessionId"], env["clientVer"], env["eventSchemaVer"],
            env["cpuArchitecture"], env["sentTs"], len(env["events"]))
    assert row[1:7] == want, (i, row, want)
    assert ts.TS_RE.match(row[7]), (i, row)


def check_event_rows(db, envelope_id, env, i):
    rows = ts.db_rows(db, "SELECT id, seq, session_id, client_ver, name, "
                      "schema_ver, ts, parameters FROM events WHERE "
                      "envelope_id = ? ORDER BY seq", (envelope_id,))
    assert len(rows) == len(env["events"]), (i, len(rows))
    for k, (row, ev) in enumerate(zip(rows, env["events"])):
        where = "line %d event %d" % (i + 1, k)
        assert row[1] == k, where
        assert row[2:7] == (env["sessionId"], env["clientVer"], ev["name"],
                            env["eventSchemaVer"], ev["ts"]), (where, row)
        params = ev["parameters"]
        stored = json.loads(row[7])
        assert stored == params, (where, stored, params)
        # Canonical: wire names in schema order, compact.
        assert list(stored) == ts.CLI_FIELDS, (where, list(stored))
        assert row[7] == json.dumps(params, separators=(",", ":"),
                                    ensure_ascii=False), (where, row[7])
        typed = ts.db_rows(db, "SELECT %s FROM nat_cli_command WHERE "
                           "event_id = ?" % ", ".join(ts.CLI_COLUMNS),
                           (row[0],))
        want = tuple(params[f] for f in ts.CLI_FIELDS)
        assert typed == [want], (where, typed, want)
        types = ts.db_rows(db, "SELECT typeof(duration_ms), typeof(exit_code)"
                           " FROM nat_cli_command WHERE event_id = ?",
                           (row[0],))
        assert types == [("integer", "integer")], (where, types)


def test_every_upstream_payload_stored_field_by_field(work, lines):
    srv = ts.Server(work, "--quiet")
    try:
        for i, body in enumerate(lines):
            status, _, data = srv.post(body)
            env = json.loads(body)
            assert status == 200, (i + 1, status, data)
            assert json.loads(data) == {"accepted": len(env["events"])}, data
    finally:
        assert srv.stop() == 0, srv.log()
    envs = [json.loads(b) for b in lines]
    assert any(len(e["events"]) > 50 for e in envs), "no envelope over 50"
    rows = ts.db_rows(srv.db, "SELECT id, session_id, client_ver, schema_ver,"
                      " cpu_architecture, sent_ts, event_count, received_ts "
                      "FROM envelopes ORDER BY id")
    assert len(rows) == len(lines), (len(rows), len(lines))
    for i, (row, env) in enumerate(zip(rows, envs)):
        check_envelope_row(row, env, i)
        check_event_rows(srv.db, row[0], env, i)
    total = sum(len(e["events"]) for e in envs)
    assert ts.event_count(srv.db) == total
    print("stored %d envelopes, %d events, field by field" % (len(rows),
                                                              total))


def main():
    lines, path = load_lines()
    if lines is None:
        tl.skip("no %s (the shared reference is missing)" % path)

    def run(work):
        test_every_upstream_payload_stored_field_by_field(work, lines)
    run.__name__ = test_every_upstream_payload_stored_field_by_field.__name__
    return tl.run_tests([run], "upstream-")


if __name__ == "__main__":
    sys.exit(main())
