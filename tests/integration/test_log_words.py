#!/usr/bin/env python3
"""`nattel log`'s text, for a person: the server's answer once ("HTTP 200",
not "http 200  HTTP 200"), nothing about HTTP where nothing answered (a
drop, a network error: not "http 0"), and an empty log prints nothing.
Real records: a real `nattel serve`, a port nobody listens on, a spool
entry that is a symlink. Env: NATTEL_BIN, NATTEL_TEST_TMP."""
import os
import re
import socket
import subprocess
import sys

import nattel_testlib as tl
from nattel_testlib import check

NATTEL = tl.tool()


def run(env, *args):
    return subprocess.run([NATTEL, *args], env=env, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


def record_lines(text):
    """The record lines (the envelopes below them are indented)."""
    return [l for l in text.splitlines() if l and not l.startswith(" ")]


def dead_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_empty_log_prints_nothing(work):
    env = tl.tool_env({"NATTEL_STATE_DIR": os.path.join(work, "state")},
                      home=work)
    for what in ("no state directory", "no audit log", "an empty audit log"):
        if what == "no audit log":
            os.mkdir(os.path.join(work, "state"), 0o700)
        elif what == "an empty audit log":
            open(os.path.join(work, "state", "audit.log"), "w").close()
        for args in (["log"], ["log", "--json"], ["log", "-n", "3"]):
            r = run(env, *args)
            assert r.returncode == 0, f"{what}: {args}: exit {r.returncode}"
            assert r.stdout == "", f"{what}: {args} printed {r.stdout!r}"
            assert r.stderr == "", f"{what}: {args} said {r.stderr!r}"


def spool_one(env):
    r = run({**env, "NATTEL_DELIVERY": "spool-only"}, "emit", "--command",
            "info", "--status", "success")
    assert r.returncode == 0, f"emit: {r.returncode} {r.stderr!r}"


def test_words(work):
    env = tl.tool_env({"NATTEL_STATE_DIR": os.path.join(work, "state"),
                       "NAT_TELEMETRY_ENABLED": "1",
                       "NAT_TELEMETRY_CONSENT_FILE":
                       os.path.join(work, "telemetry.toml")}, home=work)
    with tl.Serve(work) as ok, tl.Serve(work, "--fail-status", "400",
                                        db=os.path.join(work, "f.db")) as bad:
        for url in (ok.url, bad.url):
            spool_one({**env, "NAT_TELEMETRY_ENDPOINT": url})
            run({**env, "NAT_TELEMETRY_ENDPOINT": url}, "flush", "--wait")
    dead = f"http://127.0.0.1:{dead_port()}{tl.EVENTS_PATH}"
    denv = {**env, "NAT_TELEMETRY_ENDPOINT": dead}
    spool_one(denv)
    run(denv, "flush", "--wait")
    # The deferred event's spool entry made a symlink: refused and dropped,
    # unsent.
    spool = os.path.join(work, "state", "spool")
    names = os.listdir(spool)
    assert len(names) == 1, f"spool holds {names}"
    entry = os.path.join(spool, names[0])
    os.rename(entry, os.path.join(work, "elsewhere"))
    os.symlink(os.path.join(work, "elsewhere"), entry)
    run(denv, "flush", "--wait")

    r = run(env, "log")
    assert r.returncode == 0, f"log: exit {r.returncode} {r.stderr!r}"
    lines = record_lines(r.stdout)
    outcomes = [l.split()[1] for l in lines]
    assert outcomes == ["sent", "rejected", "deferred", "dropped"], \
        f"outcomes {outcomes}: {r.stdout!r}"
    sent, rejected, deferred, dropped = lines
    for line in lines:
        assert not re.search(r"\bhttp\b", line), f"lower-case http: {line!r}"
        assert len(re.findall(r"HTTP \d+", line)) <= 1, f"repeated: {line!r}"
    assert sent.endswith("  sent      1 event(s)  HTTP 200"), sent
    assert "  rejected  1 event(s)  HTTP 400  " in rejected, rejected
    assert "HTTP" not in deferred and "network: " in deferred, deferred
    assert "HTTP" not in dropped and "symlink" in dropped, dropped
    # The machine's form keeps the number: 0 where nothing answered.
    j = run(env, "log", "--json")
    check('"http_status":0' in j.stdout and '"http_status":200' in j.stdout,
          f"--json lost http_status: {j.stdout!r}")


if __name__ == "__main__":
    sys.exit(tl.run_tests([test_empty_log_prints_nothing, test_words],
                          "log-words-"))
