#!/usr/bin/env python3
"""`nattel emit`: every payload the stdout sink writes is one JSON line on
stderr that validates against reference/envelope.schema.json and, for its
event, reference/nat_cli_command.schema.json (jsonschema Draft7Validator,
an independent validator). Consent gates it; the empty endpoint, dry run
(but for the stdout endpoint) and the http(s) placeholder print nothing;
bad input exits 1 or 2 with one
line. Env: NATTEL_BIN, NATTEL_REFERENCE_DIR, NATTEL_TEST_TMP. Exit 77 when
jsonschema or the reference folder is missing."""
import json
import os
import re
import subprocess
import sys

import nattel_testlib as tl
from nattel_testlib import check, failures

try:
    from jsonschema import Draft7Validator
except ImportError:
    tl.skip("Python's jsonschema is not installed")

ENVELOPE, EVENT = tl.reference("envelope.schema.json", "nat_cli_command.schema.json")
BIN = tl.tool()


def load(path):
    with open(path) as f:
        return json.load(f)


ENV_SCHEMA = load(ENVELOPE)
EVENT_SCHEMA = load(EVENT)
ENV_V = Draft7Validator(ENV_SCHEMA)
EVENT_V = Draft7Validator(EVENT_SCHEMA)


def run(args, extra, tmp):
    env = tl.tool_env({"NAT_TELEMETRY_CONSENT_FILE": os.path.join(tmp, "none", "telemetry.toml"),
                       "NATTEL_STATE_DIR": os.path.join(tmp, "state"),
                       "NATTEL_DELIVERY": "spool-only", **extra})
    return subprocess.run([BIN, "emit"] + args, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=30)


ON = {"NAT_TELEMETRY_ENABLED": "1", "NAT_TELEMETRY_ENDPOINT": "stdout"}


def validate_payload(line, args, want):
    try:
        doc = json.loads(line)
    except ValueError as e:
        failures.append(f"{args}: not JSON ({e}): {line!r}")
        return
    for err in ENV_V.iter_errors(doc):
        failures.append(f"{args}: envelope: {list(err.absolute_path)}: {err.message}")
    check(list(doc) == list(ENV_SCHEMA["properties"]), f"{args}: key order {list(doc)}")
    check(len(doc.get("events", [])) == 1, f"{args}: events {doc.get('events')}")
    for ev in doc.get("events", []):
        check(list(ev) == ["ts", "parameters", "name"], f"{args}: event keys {list(ev)}")
        check(ev.get("name") == "nat_cli_command", f"{args}: name {ev.get('name')}")
        for err in EVENT_V.iter_errors(ev.get("parameters")):
            failures.append(f"{args}: event: {list(err.absolute_path)}: {err.message}")
        for k, v in want.items():
            check(ev["parameters"].get(k) == v, f"{args}: {k} = {ev['parameters'].get(k)!r}, want {v!r}")
    return doc


def main():
    with tl.tempdir("emit-") as tmp:
        cases = [
            (["--command", "run", "--status", "success"],
             {"command": "run", "subcommand": "undefined", "taskStatus": "success",
              "durationMs": -1, "exitCode": -1, "errorClass": "undefined",
              "pythonVersion": "undefined", "nemoSource": "agent_toolkit"}),
            (["--command", "eval", "--status", "failure", "--subcommand", "list",
              "--duration-ms", "1234", "--exit-code", "1", "--error-class",
              "json.JSONDecodeError", "--python-version", "3.12.1"],
             {"subcommand": "list", "taskStatus": "failure", "durationMs": 1234,
              "exitCode": 1, "errorClass": "json.JSONDecodeError", "pythonVersion": "3.12.1"}),
            (["--command=serve", "--status=interrupted", "--exit-code=130",
              "--duration-ms=0"],
             {"command": "serve", "taskStatus": "interrupted", "exitCode": 130, "durationMs": 0}),
            (["--command", "x", "--status", "canceled", "--exit-code", "-9223372036854775808",
              "--error-class", "E" * 128],
             {"exitCode": -9223372036854775808, "errorClass": "E" * 128}),
        ]
        sessions = set()
        for args, want in cases:
            p = run(args, dict(ON, NAT_SESSION_PREFIX="ci-"), tmp)
            check(p.returncode == 0, f"{args}: exit {p.returncode}: {p.stderr!r}")
            check(p.stdout == "", f"{args}: wrote to stdout: {p.stdout!r}")
            lines = p.stderr.split("\n")
            check(len(lines) == 2 and lines[1] == "", f"{args}: want one line, got {p.stderr!r}")
            doc = validate_payload(lines[0], args, want)
            if doc:
                sid = doc["sessionId"]
                check(re.fullmatch(r"ci-[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}", sid)
                      is not None, f"sessionId {sid!r} is not a UUID4 in hex")
                sessions.add(sid)
                check(doc["sentTs"] == doc["events"][0]["ts"], "sentTs vs ts")
        check(len(sessions) == len(cases), f"session ids repeat: {sessions}")
        p = run(["--command", "run", "--status", "success", "--client-version", "2.1.0"], ON, tmp)
        check('"clientVer":"2.1.0"' in p.stderr, f"--client-version: {p.stderr!r}")

        # consent gates it; DO_NOT_TRACK beats everything
        quiet = [
            ({"NAT_TELEMETRY_ENDPOINT": "stdout"}, "no decision, not a terminal"),
            ({"NAT_TELEMETRY_ENDPOINT": "stdout", "NAT_TELEMETRY_ENABLED": "no"}, "env off"),
            (dict(ON, DO_NOT_TRACK="1"), "DO_NOT_TRACK"),
            ({"NAT_TELEMETRY_ENABLED": "1", "NAT_TELEMETRY_ENDPOINT": ""}, "empty endpoint"),
            ({"NAT_TELEMETRY_ENABLED": "1", "NAT_TELEMETRY_DRY_RUN": "true"}, "dry run"),
            ({"NAT_TELEMETRY_ENABLED": "1", "NAT_TELEMETRY_DRY_RUN": "1",
              "NAT_TELEMETRY_ENDPOINT": "http://127.0.0.1:9/v1.1/events/json"}, "dry run, http"),
            ({"NAT_TELEMETRY_ENABLED": "1",
              "NAT_TELEMETRY_ENDPOINT": "http://127.0.0.1:9/v1.1/events/json"}, "http: spooled"),
        ]
        for extra, what in quiet:
            p = run(["--command", "run", "--status", "success"], extra, tmp)
            check(p.returncode == 0 and p.stdout == "" and p.stderr == "",
                  f"{what}: exit {p.returncode} out {p.stdout!r} err {p.stderr!r}")
        p = run(["--command", "run", "--status", "success"],
                {"NAT_TELEMETRY_ENABLED": "1", "NATTEL_DEBUG": "1",
                 "NAT_TELEMETRY_ENDPOINT": "http://127.0.0.1:9/v1.1/events/json"}, tmp)
        check(p.returncode == 0 and "spooled" in p.stderr and "nat_cli_command" not in p.stderr
              and all(l.startswith("nattel: debug: ") for l in p.stderr.splitlines()),
              f"http debug line: {p.stderr!r}")

        # a bad option value is a usage error of that option: exit 2, one line
        # (an errorClass that is not an identifier is sent as "undefined", exit 0:
        # test_compat_emit.py)
        bad = [
            (["--command", "run", "--status", "done"], 2),
            (["--command", "run", "--status", "success", "--duration-ms", "-2"], 2),
            (["--status", "success"], 2),
            (["--command", "run"], 2),
            (["--command", "run", "--status", "success", "--duration-ms", "1.5"], 2),
            (["--command", "run", "--status", "success", "--exit-code", "99999999999999999999"], 2),
            (["--command", "run", "--status", "success", "--bogus"], 2),
            (["--command", "run", "--status"], 2),
        ]
        for args, code in bad:
            p = run(args, ON, tmp)
            check(p.returncode == code, f"{args}: exit {p.returncode}, want {code}")
            check(p.stdout == "" and p.stderr.startswith("nattel emit: ")
                  and p.stderr.count("\n") == 1, f"{args}: output {p.stdout!r} {p.stderr!r}")
            check("secret" not in p.stderr, f"{args}: echoed the value: {p.stderr!r}")
        # an errorClass that is not an identifier is sent as "undefined"
        for e in ("FileNotFoundError: /home/alice/secret.txt", "E" * 129, "9Lives"):
            p = run(["--command", "run", "--status", "success", "--error-class", e], ON, tmp)
            check(p.returncode == 0 and '"errorClass":"undefined"' in p.stderr
                  and "secret" not in p.stderr, f"{e!r}: {p.returncode} {p.stderr!r}")
        for h in ("-h", "--help"):
            p = run([h], {}, tmp)
            check(p.returncode == 0 and p.stdout.startswith("usage: nattel emit"), f"{h}")
    return tl.summary()


if __name__ == "__main__":
    sys.exit(main())
