#!/usr/bin/env python3
"""The dashboard's API and page, and `nattel report --html`, against a real
`nattel serve` on a store of known events: every figure compared with an
oracle computed here from what was posted; GET only; stored strings
escaped. (The browser checks are in test_dashboard_browser.py.)

Environment: NATTEL_BIN (the tool), NATTEL_TEST_TMP (scratch directory).
"""

import html.parser
import http.client
import json
import os
import subprocess
import sys
import urllib.parse

import nattel_testlib as tl
from dashboard_fixture import (ATTR, XSS, known_events, oracle, post_events,
                               start_filled)
from test_report import Server


def get(srv, path, method="GET", body=None):
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
    try:
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def api(srv, **q):
    status, headers, body = get(srv, "/api/v1/report?" +
                                urllib.parse.urlencode(q))
    assert status == 200, (status, body)
    assert headers["Content-Type"] == "application/json", headers
    return json.loads(body)


def check_api(got, want):
    cmds = {c["command"]: c for c in got["commands"]}
    assert set(cmds) == set(want["commands"]), (set(cmds), want["commands"])
    for name, w in want["commands"].items():
        g = cmds[name]
        for k, v in w.items():
            assert g[k] == v, (name, k, g[k], v)
        rate = w["failure"] / w["count"]
        assert abs(g["failureRate"] - rate) < 1e-12, (name, g, rate)
    assert got["total"] == want["total"], (got["total"], want["total"])
    errors = {}
    for e in got["errorClasses"]:
        errors[e["errorClass"]] = errors.get(e["errorClass"], 0) + e["count"]
    assert errors == want["errors"], (errors, want["errors"])
    versions = {}
    for v in got["clientVersions"]:
        versions[v["clientVersion"]] = versions.get(v["clientVersion"], 0) + \
            v["count"]
    assert versions == want["versions"], (versions, want["versions"])
    days = {}
    for s in got["series"]:
        days[s["bucket"]] = days.get(s["bucket"], 0) + s["count"]
    assert days == want["days"], (days, want["days"])


def test_api_matches_the_store(work):
    events = known_events()
    srv = start_filled(work, events)
    try:
        check_api(api(srv), oracle(events))
        check_api(api(srv, command="run"), oracle(events, command="run"))
        check_api(api(srv, command=XSS), oracle(events, command=XSS))
        check_api(api(srv, **{"from": "2026-05-05", "to": "2026-05-05"}),
                  oracle(events, frm="2026-05-05", to="2026-05-05"))
        check_api(api(srv, **{"from": "2026-05-05T12"}),
                  oracle(events, frm="2026-05-05T12"))
        hours = api(srv, bucket="hour", to="2026-05-04")
        assert all(len(s["bucket"]) == 13 for s in hours["series"]), hours
        assert sum(s["count"] for s in hours["series"]) == \
            oracle(events, to="2026-05-04")["total"]
        types = api(srv)["eventTypes"]
        assert types == [{"event": "nat_cli_command", "schemaVersion": "1.5",
                          "count": len(events)}], types
    finally:
        srv.stop()


def test_get_only(work):
    srv = start_filled(work, known_events(n=10))
    try:
        for path in ["/", "/api/v1/report", "/api/v1/report?command=run"]:
            for method in ["POST", "PUT", "DELETE", "PATCH"]:
                status, headers, _ = get(srv, path, method, b"{}")
                assert status == 405, (path, method, status)
                assert headers.get("Allow") == "GET, HEAD", headers
            status, _, body = get(srv, path, "HEAD")
            assert status == 200 and body == b"", (path, status)
        # Events are still posted where they were.
        post_events(srv, known_events(seed=2, n=5))
        assert api(srv)["total"] == 15
    finally:
        srv.stop()


def test_bad_filters_are_400(work):
    srv = start_filled(work, known_events(n=5))
    try:
        for q in ["from=yesterday", "to=2026-5-1", "from=2026-05-06%27--",
                  "bucket=week", "command=" + "x" * 300]:
            for path in ["/", "/api/v1/report"]:
                status, _, body = get(srv, path + "?" + q)
                assert status == 400, (q, status, body)
                assert json.loads(body)["error"], body
    finally:
        srv.stop()


class Texts(html.parser.HTMLParser):
    """The page's text, the values of its attributes, and its elements."""

    def __init__(self):
        super().__init__()
        self.text, self.attrs, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.attrs += [v for _, v in attrs if v]

    def handle_data(self, data):
        self.text.append(data)


def check_escaped(page):
    p = Texts()
    p.feed(page)
    # Two scripts only: the data and the page's own.
    scripts = [a for t, a in p.tags if t == "script"]
    assert len(scripts) == 2, scripts
    assert scripts[0] == {"type": "application/json", "id": "nattel-data"}
    # Quotes are inert inside the data's script element (JSON text).
    head, rest = page.split("id=nattel-data>", 1)
    outside = head + rest.split("</script>", 1)[1]
    assert "<script>alert" not in page and ATTR[:15] not in outside, \
        "stored markup reached the page raw"
    texts = "".join(p.text)
    assert XSS in texts, "the stored command is not shown as text"
    assert ATTR in texts, "the stored subcommand is not shown as text"
    # No element or attribute name was made from stored text.
    for tag, attrs in p.tags:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
    data = json.loads([t for t in p.text if t.startswith('{"mode"')][0])
    assert any(c["command"] == XSS for c in data["data"]["commands"])


def test_page_escapes_stored_strings(work):
    srv = start_filled(work, known_events(n=50))
    try:
        status, headers, body = get(srv, "/")
        assert status == 200, status
        assert headers["Content-Type"].startswith("text/html"), headers
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        check_escaped(body.decode())
        # The filter values come back escaped in the form.
        status, _, body = get(srv, "/?command=" +
                              urllib.parse.quote(ATTR + XSS))
        assert status == 200
        p = Texts()
        p.feed(body.decode())
        inputs = [a for t, a in p.tags if t == "input" and
                  a.get("name") == "command"]
        assert inputs[0]["value"] == ATTR + XSS, inputs
    finally:
        srv.stop()


def test_report_html(work):
    events = known_events(n=60)
    srv = start_filled(work, events)
    srv.stop()
    out = os.path.join(work, "report.html")
    r = subprocess.run([tl.tool(), "report", "--db", work + "/serve.db",
                        "--html", out], capture_output=True, timeout=60)
    assert r.returncode == 0 and not r.stdout, r
    page = open(out, encoding="utf-8").read()
    check_escaped(page)
    # Nothing to fetch: the only URL is the SVG namespace's name.
    bare = page.replace("http://www.w3.org/2000/svg", "")
    assert "http://" not in bare and "https://" not in bare
    data = json.loads(page.split('id=nattel-data>')[1].split("</script>")[0])
    assert data["mode"] == "file"
    check_api(data["data"], oracle(events))
    for bad, msg in [(["--from", "x"], b"from"), (["--json"], b"--html"),
                     (["--command", "x"], None)]:
        args = ["--html", out] + bad if msg else bad
        r = subprocess.run([tl.tool(), "report", "--db", work + "/serve.db"]
                           + args, capture_output=True, timeout=60)
        assert r.returncode == 2, (bad, r)
        assert len(r.stderr.splitlines()) == 1, r.stderr


TESTS = [test_api_matches_the_store, test_get_only, test_bad_filters_are_400,
         test_page_escapes_stored_strings, test_report_html]

if __name__ == "__main__":
    sys.exit(tl.run_tests(TESTS, "dashboard-"))
