#!/usr/bin/env python3
"""Local-only mode (`nattel consent --local`, issue 22) against a real
listener on 127.0.0.1: events are kept on this machine (STATE/local), never
spooled or sent; `nattel report --local` shows them; the shared consent file
reads "disabled" by the upstream rules (Python tomllib as the oracle); a
later decision made through the Python `nat` (which rewrites the whole
file) wins; going from local to enabled sends only what is emitted after.
Env: NATTEL_BIN, NATTEL_TEST_TMP."""
import json
import os
import sys
import time

import nattel_testlib as tl
from nattel_testlib import check
import consent_testlib as ct

if ct.tomllib is None:
    tl.skip("Python's tomllib (3.11+) is not available")


def flush(h, lis, extra=None):
    env = {"NAT_TELEMETRY_ENDPOINT": lis.url}
    env.update(extra or {})
    return h.run("flush", extra=env)


def test_local_keeps_and_sends_nothing(work):
    h = ct.Home(work)
    lis = ct.Listener()
    try:
        r = h.run("consent", "--local")
        check(r.returncode == 0, f"consent --local: {r.returncode} {r.stderr}")
        check(ct.upstream_consent(h.shared) == "disabled",
              "the shared file must read disabled by the upstream rules")
        with open(h.shared, "rb") as f:
            tel = ct.tomllib.load(f)["telemetry"]
        check(set(tel) == {"consent", "consented_at", "prompt_version"},
              f"the shared file keeps the upstream layout: {tel}")
        with open(h.config, "rb") as f:
            check(ct.tomllib.load(f)["consent"]["mode"] == "local",
                  "nattel's config records local")
        # Spawn mode, as a host runs: a flusher may start; nothing is sent.
        for cmd in ("run", "serve", "run"):
            r = h.emit(cmd, {"NAT_TELEMETRY_ENDPOINT": lis.url})
            check(r.returncode == 0, f"emit {cmd}: {r.stderr}")
        r = flush(h, lis)
        check(r.returncode == 0, f"flush: {r.returncode} {r.stderr}")
        time.sleep(0.5)
        check(lis.bodies == [], f"local mode sent {len(lis.bodies)} POST(s)")
        check(h.spooled() == [], f"local mode spooled {h.spooled()}")
        check(len(h.kept()) == 3, f"3 envelopes kept, found {h.kept()}")
        for name in h.kept():
            st = os.stat(os.path.join(h.local, name))
            check(st.st_mode & 0o777 == 0o600, f"{name}: mode {oct(st.st_mode)}")
        r = h.run("report", "--local", "--json")
        check(r.returncode == 0, f"report --local: {r.returncode} {r.stderr}")
        rows = {row["command"]: row["count"] for row in json.loads(r.stdout)}
        check(rows == {"run": 2, "serve": 1}, f"report --local: {rows}")
        r = h.run("report", "--local")
        check("serve" in r.stdout and "run" in r.stdout, r.stdout)
        r = h.run("status")
        check("telemetry:     local" in r.stdout, r.stdout)
        check("local-only choice" in r.stdout, r.stdout)
    finally:
        lis.close()


def test_local_to_enabled_sends_only_newer(work):
    h = ct.Home(work)
    lis = ct.Listener()
    try:
        spool_only = {"NAT_TELEMETRY_ENDPOINT": lis.url,
                      "NATTEL_DELIVERY": "spool-only"}
        check(h.run("consent", "--local").returncode == 0, "--local")
        h.emit("run", spool_only)
        h.emit("run", spool_only)
        r = h.run("consent", "--enable")
        check(r.returncode == 0, f"--enable: {r.stderr}")
        check(ct.upstream_consent(h.shared) == "enabled", "shared file enabled")
        h.emit("serve", spool_only)
        r = flush(h, lis)
        check(r.returncode == 0, f"flush: {r.stderr}")
        check(lis.commands() == ["serve"],
              f"only what was emitted after --enable is sent: {lis.commands()}")
        check(len(h.kept()) == 2, "the local events stay local")
    finally:
        lis.close()


def test_python_nat_decision_wins(work):
    h = ct.Home(work)
    check(h.run("consent", "--local").returncode == 0, "--local")
    check("local" in h.run("consent", "--status").stdout, "local first")
    # The Python `nat` records a decision later: it rewrites the whole file.
    with open(h.shared, "w") as f:
        f.write('[telemetry]\nconsent = "disabled"\n'
                'consented_at = "2031-01-01T00:00:00+00:00"\n'
                'prompt_version = "1.0"\n')
    r = h.run("consent", "--status", "--json")
    st = json.loads(r.stdout)
    check(st["state"] == "disabled" and st["source"] == "file",
          f"a later decision through nat wins: {st}")
    with open(h.shared, "w") as f:
        f.write('[telemetry]\nconsent = "enabled"\n'
                'consented_at = "2031-01-01T00:00:01+00:00"\n'
                'prompt_version = "1.0"\n')
    st = json.loads(h.run("consent", "--status", "--json").stdout)
    check(st["state"] == "enabled" and st["source"] == "file", f"{st}")


def test_report_local_usage(work):
    h = ct.Home(work)
    r = h.run("report", "--local", "--db", "x.db")
    check(r.returncode == 2 and "exclude" in r.stderr, f"{r.returncode} {r.stderr}")
    r = h.run("report", "--local", "--json")
    check(r.returncode == 0 and json.loads(r.stdout) == [],
          f"nothing kept yet: an empty report: {r.returncode} {r.stdout} {r.stderr}")
    os.makedirs(h.local)
    with open(os.path.join(h.local, "0000000000001-bad.json"), "w") as f:
        f.write("{not json")
    r = h.run("report", "--local", "--json")
    check(r.returncode == 0 and "0000000000001-bad.json" in r.stderr,
          f"a bad kept file is named and skipped: {r.stderr}")


if __name__ == "__main__":
    sys.exit(tl.run_tests([test_local_keeps_and_sends_nothing,
                           test_local_to_enabled_sends_only_newer,
                           test_python_nat_decision_wins,
                           test_report_local_usage], "local-mode-"))
