#!/usr/bin/env python3
"""`nattel capture`: runs a command against a private endpoint and checks
the one nat_cli_command event it sends. Real runs: natdemo's commands
(a program on libnattel), scripts calling `nattel emit`, a program that
sends nothing, one that sends two, one that posts an invalid payload, a
secret in argv that must appear nowhere in capture's output, and the
caller's own telemetry settings (DO_NOT_TRACK, a consent file, a state
directory) that must neither stop nor receive anything.
Env: NATTEL_BIN, NATDEMO_BIN, NATTEL_TEST_TMP."""
import json
import os
import subprocess
import sys

import nattel_testlib as tl

NATTEL = tl.tool()
NATDEMO = tl.tool("NATDEMO_BIN")


def capture(work, *args, extra=None):
    env = tl.tool_env(dict({"TMPDIR": work}, **(extra or {})), home=work)
    p = subprocess.run([NATTEL, "capture", *args], capture_output=True,
                       text=True, env=env, cwd=work, timeout=60)
    return p


def last_json(p):
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_natdemo_info(work):
    p = capture(work, "--expect", "command=info",
                "--expect", "subcommand=list-components",
                "--expect", "task_status=success", "--expect", "exitCode=0",
                "--", NATDEMO, "info", "list-components")
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    # natdemo's own stdout passes through, before capture's lines
    lines = p.stdout.splitlines()
    ev = [l for l in lines if l.startswith("event: nat_cli_command ")]
    assert len(ev) == 1, p.stdout
    params = json.loads(ev[0].split(" ", 2)[2])
    assert params["command"] == "info", params
    assert lines.index(ev[0]) > 0, "natdemo's output is missing before it"
    assert "command: exited with status 0" in lines, p.stdout
    assert lines[-1] == "result: pass", p.stdout


def test_natdemo_failure_exit_status_reported(work):
    p = capture(work, "--json", "--expect", "command=run",
                "--expect", "errorClass=FileNotFoundError", "--",
                NATDEMO, "run", os.path.join(work, "missing.yml"))
    assert p.returncode == 0, (p.stdout, p.stderr)
    doc = last_json(p)
    assert doc["result"] == "pass", doc
    assert doc["command"] == {"exitStatus": 1, "signal": None}, doc
    assert doc["events"][0]["parameters"]["exitCode"] == 1, doc


def test_field_differs(work):
    p = capture(work, "--expect", "command=run", "--expect",
                "taskStatus=failure", "--", NATTEL, "emit", "--command", "run",
                "--status", "success")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "taskStatus is 'success', expected 'failure'" in p.stderr, p.stderr
    assert "command is" not in p.stderr, p.stderr  # the field that matched
    assert p.stdout.splitlines()[-1] == "result: fail", p.stdout


def test_sends_nothing(work):
    p = capture(work, "--json", "--", "sh", "-c", "echo hello; exit 4")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert p.stdout.splitlines()[0] == "hello", p.stdout
    doc = last_json(p)
    assert doc["events"] == [] and doc["result"] == "fail", doc
    assert doc["command"]["exitStatus"] == 4, doc
    assert "no nat_cli_command event arrived" in p.stderr, p.stderr


def test_sends_two(work):
    script = (f'"{NATTEL}" emit --command a --status success && '
              f'"{NATTEL}" emit --command b --status failure')
    p = capture(work, "--", "sh", "-c", script)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert p.stdout.count("event: nat_cli_command") == 2, p.stdout
    assert "2 nat_cli_command events arrived, expected exactly one" in \
        p.stderr, p.stderr


def test_invalid_payload(work):
    post = ("import os, urllib.request as u\n"
            "r = u.Request(os.environ['NAT_TELEMETRY_ENDPOINT'],"
            " data=b'{\"events\": 5}',"
            " headers={'Content-Type': 'application/json'})\n"
            "try: u.urlopen(r)\n"
            "except Exception as e: print('posted:', e)\n")
    p = capture(work, "--json", "--", sys.executable, "-c", post)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "posted: HTTP Error 422" in p.stdout, p.stdout
    doc = last_json(p)
    assert len(doc["rejected"]) == 1 and "422" in doc["rejected"][0], doc
    assert "1 payload(s) refused by the strict check" in p.stderr, p.stderr


def test_secret_in_argv_nowhere(work):
    secret = "hunter2-S3CRET-token-abc"
    with open(os.path.join(work, "w.yml"), "w") as f:
        f.write("name: x\n")
    p = capture(work, "--json", "--expect", "command=run", "--", NATDEMO,
                "run", os.path.join(work, "w.yml"), "--api-key", secret)
    out = p.stdout + p.stderr
    assert secret not in out, out
    doc = last_json(p)
    assert len(doc["events"]) == 1, doc


def test_callers_settings_ignored(work):
    """DO_NOT_TRACK and a consent file saying no do not stop the capture,
    and the caller's state directory and endpoint get nothing."""
    state = os.path.join(work, "mystate")
    consent = os.path.join(work, "consent.toml")
    with open(consent, "w") as f:
        f.write('consent = "disabled"\nprompt_version = "1.0"\n')
    p = capture(work, "--", NATTEL, "emit", "--command", "x", "--status",
                "success", extra={"DO_NOT_TRACK": "1",
                                  "NAT_TELEMETRY_ENABLED": "0",
                                  "NATTEL_STATE_DIR": state,
                                  "NAT_TELEMETRY_CONSENT_FILE": consent,
                                  "NAT_TELEMETRY_ENDPOINT":
                                      "http://127.0.0.1:9/v1.1/events/json",
                                  "NATTEL_DELIVERY": "spool-only"})
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert not os.path.exists(state), os.listdir(state)
    with open(consent) as f:
        assert "disabled" in f.read()
    left = [n for n in os.listdir(work) if
            n.startswith("nattel-capture.")]
    assert not left, left


def test_usage(work):
    for args, what in ((["--expect", "nosuch=1", "--", "true"],
                        "nat_cli_command has no field 'nosuch'"),
                       (["--expect", "novalue", "--", "true"],
                        "not FIELD=VALUE"),
                       ([], "no COMMAND to run")):
        p = capture(work, *args)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert what in p.stderr, (args, p.stderr)
    p = capture(work, "--", os.path.join(work, "nonexistent"))
    assert p.returncode == 1 and "cannot run" in p.stderr, p.stderr
    assert "command: not run" in p.stdout, p.stdout


TESTS = [test_natdemo_info, test_natdemo_failure_exit_status_reported,
         test_field_differs, test_sends_nothing, test_sends_two,
         test_invalid_payload, test_secret_in_argv_nowhere,
         test_callers_settings_ignored, test_usage]

if __name__ == "__main__":
    sys.exit(tl.run_tests(TESTS, "capture."))
