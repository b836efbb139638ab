#!/usr/bin/env python3
"""Other NeMo products' events through nattel (issue 20).

- The C example examples/products (loads the Guardrails schema, emits two
  nat_cli_command events and one guardrails_usage_event through ONE
  client) against a listener this test opens on 127.0.0.1: the spool is
  flushed as exactly two envelopes, one per schema version (1.5 with both
  nat_cli_command events, 1.7 with the Guardrails one), one session; each
  envelope validates against reference/envelope.schema.json and each
  event against its own schema (Python jsonschema, the oracle).
  eventSysVer is the client's option (productName stays "undefined").
- `nattel emit --event guardrails_usage_event --schema G --set ...` and a
  `nattel emit --command` delivered to a real `nattel serve --schema G`:
  both stored, the Guardrails event in its own typed table, and
  `nattel report --types` (text and --json) counts each by event name
  and schema version.
Env: NATTEL_BIN, NATTEL_BUILD_DIR, NATTEL_REFERENCE_DIR, NATTEL_TEST_TMP.
Exit 77 when jsonschema or the reference data is missing."""
import http.server
import json
import os
import sqlite3
import subprocess
import threading

import nattel_testlib as tl
from nattel_testlib import check

try:
    from jsonschema import Draft7Validator
except ImportError:
    tl.skip("Python's jsonschema is not installed")

ENVELOPE, GUARDRAILS, NAT = tl.reference(
    "envelope.schema.json", "guardrails_usage_event.schema.json",
    "nat_cli_command.schema.json")
BIN = tl.tool()
BUILD = tl.env("NATTEL_BUILD_DIR")
PRODUCTS = os.path.join(BUILD, "products")


def load(p):
    with open(p) as f:
        return json.load(f)


def event_validator(schema_path, name):
    """A validator of one event's parameters, with the file's definitions."""
    doc = load(schema_path)
    ev = dict(doc["definitions"]["events"][name])
    ev["definitions"] = doc["definitions"]
    return Draft7Validator(ev)


ENV_V = Draft7Validator(load(ENVELOPE))
EVENT_V = {"guardrails_usage_event": event_validator(GUARDRAILS, "guardrails_usage_event"),
           "nat_cli_command": event_validator(NAT, "nat_cli_command")}

GUARDRAILS_SETS = [
    "nemoSource=guardrails", "sessionId=s-1", "nemoguardrails_version=0.11.0",
    "pythonVersion=3.12.1", "platform=linux", "osName=Linux", "colangVersion=2.x",
    'llmProviders=["nim","openai"]', "numRailsConfigured=3", "railTypesInUse=[]",
    "tracingEnabled=true", "deploymentType=api", "railsEngine=LLMRails",
    "hasKnowledgeBase=false", "streamingConfigured=false", "builtinFeatures=[]",
    "num_custom_flows=0", "timestamp=1767225600.5", "event=startup"]


class Listener:
    """Answers every POST 200 and keeps its body."""

    def __init__(self):
        self.bodies = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                outer.bodies.append(body)
                data = b'{"accepted":1}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d%s" % (self.httpd.server_address[1], tl.EVENTS_PATH)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def env_for(tmp, url, sub):
    return tl.tool_env({"NAT_TELEMETRY_ENABLED": "1", "NAT_TELEMETRY_ENDPOINT": url,
                        "NATTEL_STATE_DIR": os.path.join(tmp, sub),
                        "NAT_TELEMETRY_CONSENT_FILE": os.path.join(tmp, "c.toml"),
                        "NATTEL_DELIVERY": "spool-only"}, drop=("NATTEL_",))


def run(argv, env):
    return subprocess.run(argv, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)


def check_envelopes(bodies, sysver):
    docs = [json.loads(b) for b in bodies]
    check(len(docs) == 2, f"{len(docs)} envelopes, want 2 (one per schema version)")
    by_ver = {d.get("eventSchemaVer"): d for d in docs}
    check(sorted(by_ver) == ["1.5", "1.7"], f"schema versions {sorted(by_ver)}")
    check(len({d.get("sessionId") for d in docs}) == 1, "one client, one session")
    names = {v: [e["name"] for e in d["events"]] for v, d in by_ver.items()}
    check(names.get("1.5") == ["nat_cli_command", "nat_cli_command"], f"1.5: {names.get('1.5')}")
    check(names.get("1.7") == ["guardrails_usage_event"], f"1.7: {names.get('1.7')}")
    for d in docs:
        check(d.get("eventSysVer") == sysver and d.get("productName") == "undefined",
              f"eventSysVer {d.get('eventSysVer')!r}, productName {d.get('productName')!r}")
        for err in ENV_V.iter_errors(d):
            tl.failures.append(f"envelope: {list(err.absolute_path)}: {err.message}")
        for e in d["events"]:
            for err in EVENT_V[e["name"]].iter_errors(e["parameters"]):
                tl.failures.append(f"{e['name']}: {list(err.absolute_path)}: {err.message}")
    g = by_ver.get("1.7", {"events": [{"parameters": {}}]})["events"][0]["parameters"]
    check(g.get("llmProviders") == ["nim", "openai"] and g.get("tracingEnabled") is True
          and g.get("timestamp") == 1767225600.25, f"guardrails parameters {g}")


def test_c_example_two_envelopes(tmp):
    if not os.access(PRODUCTS, os.X_OK):
        tl.fail(f"{PRODUCTS}: the example is not built")
        return
    for sub, product in (("a", None), ("b", "nemoguardrails/0.11")):
        lis = Listener()
        try:
            env = env_for(tmp, lis.url, sub)
            p = run([PRODUCTS, GUARDRAILS] + ([product] if product else []), env)
            check(p.returncode == 0 and p.stdout == "", f"products: {p.returncode} {p.stderr!r}")
            p = run([BIN, "flush", "--wait"], env)
            check(p.returncode == 0, f"flush: {p.returncode} {p.stderr!r}")
            check_envelopes(lis.bodies, product or "nat-telemetry/1.0")
        finally:
            lis.close()


def test_emit_to_serve_and_report(tmp):
    db = os.path.join(tmp, "products.db")
    with tl.Serve(tmp, "--schema", GUARDRAILS, db=db) as srv:
        env = env_for(tmp, srv.url, "serve-state")
        args = [BIN, "emit", "--event", "guardrails_usage_event", "--schema", GUARDRAILS]
        for s in GUARDRAILS_SETS:
            args += ["--set", s]
        p = run(args, env)
        check(p.returncode == 0 and p.stderr == "", f"emit --event: {p.returncode} {p.stderr!r}")
        p = run([BIN, "emit", "--command", "run", "--status", "success"], env)
        check(p.returncode == 0, f"emit --command: {p.returncode} {p.stderr!r}")
        p = run([BIN, "flush", "--wait"], env)
        check(p.returncode == 0, f"flush: {p.returncode} {p.stderr!r}")
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT name, schema_ver FROM events ORDER BY name").fetchall()
        check(rows == [("guardrails_usage_event", "1.7"), ("nat_cli_command", "1.5")],
              f"events {rows}")
        typed = con.execute("SELECT num_rails_configured, tracing_enabled, deployment_type"
                            " FROM guardrails_usage_event").fetchall()
        check(typed == [(3, 1, "api")], f"typed guardrails rows {typed}")
    except sqlite3.Error as e:
        tl.fail(f"database: {e}")
    finally:
        con.close()
    p = run([BIN, "report", "--db", db, "--types", "--json"], tl.tool_env())
    check(p.returncode == 0, f"report --types --json: {p.returncode} {p.stderr!r}")
    try:
        got = json.loads(p.stdout)
    except ValueError as e:
        got = None
        tl.fail(f"report --types --json: not JSON ({e}): {p.stdout!r}")
    check(got == [{"event": "guardrails_usage_event", "schemaVersion": "1.7", "count": 1},
                  {"event": "nat_cli_command", "schemaVersion": "1.5", "count": 1}],
          f"report --types --json: {got}")
    p = run([BIN, "report", "--db", db, "--types"], tl.tool_env())
    check(p.returncode == 0 and p.stdout.splitlines() == [
        "EVENT\tSCHEMA_VERSION\tCOUNT", "guardrails_usage_event\t1.7\t1",
        "nat_cli_command\t1.5\t1"], f"report --types: {p.returncode} {p.stdout!r}")


def test_emit_stdout_validates(tmp):
    """The payload itself, through the stdout sink: Guardrails at 1.7."""
    env = tl.tool_env({"NAT_TELEMETRY_ENABLED": "1", "NAT_TELEMETRY_ENDPOINT": "stdout",
                       "NATTEL_STATE_DIR": os.path.join(tmp, "so"),
                       "NAT_TELEMETRY_CONSENT_FILE": os.path.join(tmp, "c.toml")})
    args = [BIN, "emit", "--event", "guardrails_usage_event", "--schema", GUARDRAILS]
    for s in GUARDRAILS_SETS:
        args += ["--set", s]
    p = run(args, env)
    check(p.returncode == 0 and p.stdout == "", f"emit: {p.returncode} {p.stdout!r}")
    lines = p.stderr.splitlines()
    check(len(lines) == 1, f"stderr lines {lines}")
    if lines:
        d = json.loads(lines[0])
        check(d["eventSchemaVer"] == "1.7", f"eventSchemaVer {d['eventSchemaVer']}")
        for err in ENV_V.iter_errors(d):
            tl.failures.append(f"envelope: {list(err.absolute_path)}: {err.message}")
        for err in EVENT_V["guardrails_usage_event"].iter_errors(d["events"][0]["parameters"]):
            tl.failures.append(f"event: {list(err.absolute_path)}: {err.message}")


def main():
    with tl.tempdir("products-") as tmp:
        for t in (test_c_example_two_envelopes, test_emit_to_serve_and_report,
                  test_emit_stdout_validates):
            t(tmp)
    tl.finish()


if __name__ == "__main__":
    main()
