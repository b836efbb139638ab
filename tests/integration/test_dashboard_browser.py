#!/usr/bin/env python3
"""The dashboard in a real browser (Debian's chromium driven by
playwright-core, tests/browser/dashboard.mjs): served by `nattel serve` and
written by `nattel report --html`, on a store of known events. Counts and
failure rates shown equal the oracle's; no request leaves 127.0.0.1; the
stored <script> command runs nothing; the filters narrow what is shown and
stay in the URL. A screenshot goes to build/dashboard.png.

Skips (77) when chromium, node or npm is missing, or playwright-core cannot
be installed. Environment: NATTEL_BIN, NATTEL_SOURCE_DIR, NATTEL_BUILD_DIR.
"""

import json
import os
import shutil
import subprocess
import sys

import nattel_testlib as tl
from dashboard_fixture import XSS, known_events, oracle, start_filled

SRC = os.environ.get("NATTEL_SOURCE_DIR",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("NATTEL_BUILD_DIR", os.path.join(SRC, "build"))
MODULES_DIR = os.path.join(BUILD, "browser")


def setup():
    """playwright-core under build/browser, from the committed lock file;
    None when it can be, else the reason to skip."""
    if not os.access("/usr/bin/chromium", os.X_OK):
        return "no /usr/bin/chromium (scripts/install-deps.sh installs it)"
    if not shutil.which("node") or not shutil.which("npm"):
        return "no node or npm"
    if os.path.isdir(os.path.join(MODULES_DIR, "node_modules",
                                  "playwright-core")):
        return None
    os.makedirs(MODULES_DIR, exist_ok=True)
    for f in ["package.json", "package-lock.json"]:
        shutil.copy(os.path.join(SRC, "tests", "browser", f), MODULES_DIR)
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"],
                       cwd=MODULES_DIR, capture_output=True, timeout=600)
    if r.returncode:
        return "npm ci failed: " + r.stderr.decode(errors="replace")[-300:]
    return None


def expected(events):
    return {c: {"count": w["count"], "failureRate": w["failure"] / w["count"]}
            for c, w in oracle(events)["commands"].items()}


def drive(args):
    args.update({"modules": os.path.join(MODULES_DIR, "node_modules"),
                 "xss": XSS, "filterCommand": "run",
                 "filterFrom": "2026-05-05"})
    r = subprocess.run(["node", os.path.join(SRC, "tests", "browser",
                                             "dashboard.mjs"),
                        json.dumps(args)], capture_output=True, timeout=300)
    out = r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")
    assert r.returncode == 0 and "ok" in r.stdout.decode(), out


def test_served_page(work):
    events = known_events()
    srv = start_filled(work, events)
    try:
        drive({"url": "http://127.0.0.1:%d/" % srv.port,
               "expected": expected(events),
               "screenshot": os.path.join(BUILD, "dashboard.png")})
    finally:
        srv.stop()


def test_html_file(work):
    events = known_events()
    srv = start_filled(work, events)
    srv.stop()
    out = os.path.join(work, "report.html")
    r = subprocess.run([tl.tool(), "report", "--db", work + "/serve.db",
                        "--html", out], capture_output=True, timeout=60)
    assert r.returncode == 0, r
    drive({"file": out, "expected": expected(events)})


if __name__ == "__main__":
    why = setup()
    if why:
        print("skip: " + why, file=sys.stderr)
        sys.exit(77)
    sys.exit(tl.run_tests([test_served_page, test_html_file],
                          "dashboard-browser-"))
