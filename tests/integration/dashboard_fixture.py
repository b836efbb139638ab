"""Known events for the dashboard tests, posted to a real `nattel serve`,
and the figures an independent oracle computes from them."""

import json
import math
import random
from collections import Counter, defaultdict
from fractions import Fraction

from test_report import Server, cli_params, envelope

XSS = "<script>alert(1)</script>"
ATTR = "\"' onmouseover=alert(2) x=\"&amp;"
STATUSES = ["success", "failure", "interrupted", "success", "success",
            "canceled"]
DAYS = ["2026-05-04", "2026-05-05", "2026-05-06"]


def known_events(seed=19, n=240):
    """(ts, params, client_ver) for n events over three days."""
    rng = random.Random(seed)
    cmds = [("run", ""), ("run", "pipeline"), ("info", "list-components"),
            ("serve", ""), (XSS, ATTR)]
    out = []
    for i in range(n):
        cmd, sub = cmds[i % len(cmds)]
        status = rng.choice(STATUSES)
        dur = rng.choice([-1, rng.randrange(0, 5000)])
        err = rng.choice(["ValueError", "KeyError", XSS]) \
            if status == "failure" else "undefined"
        ts = "%sT%02d:%02d:00.000Z" % (DAYS[i % 3], rng.randrange(24),
                                       rng.randrange(60))
        out.append((ts, cli_params(cmd, sub, status, dur, err),
                    "0.%d.0" % (i % 2 + 1)))
    return out


def post_events(srv, events, batch=20):
    for k in range(0, len(events), batch):
        chunk = events[k:k + batch]
        # One envelope per client version, so each keeps its own.
        for ver in sorted({e[2] for e in chunk}):
            part = [e for e in chunk if e[2] == ver]
            env = json.loads(envelope([p for _, p, _ in part],
                                      "s%d%s" % (k, ver)))
            env["clientVer"] = ver
            for ev, (ts, _, _) in zip(env["events"], part):
                ev["ts"] = ts
            srv.post(json.dumps(env).encode())


def nearest_rank(values, pct):
    if not values:
        return None
    rank = math.ceil(Fraction(pct * len(values), 100))
    return values[max(rank, 1) - 1]


def oracle(events, command=None, frm=None, to=None):
    """Per command: count, success, failure, interrupted, failureRate,
    p50/p95/p99; and the error classes and client versions summed."""
    keep = [(ts, p, v) for ts, p, v in events
            if (command is None or p["command"] == command)
            and (frm is None or ts >= frm)
            and (to is None or ts[:len(to)] <= to)]
    per = defaultdict(list)
    for ts, p, v in keep:
        per[p["command"]].append(p)
    cmds = {}
    for c, rows in per.items():
        st = Counter(p["taskStatus"] for p in rows)
        d = sorted(p["durationMs"] for p in rows if p["durationMs"] >= 0)
        cmds[c] = {"count": len(rows), "success": st["success"],
                   "failure": st["failure"], "interrupted": st["interrupted"],
                   "p50DurationMs": nearest_rank(d, 50),
                   "p95DurationMs": nearest_rank(d, 95),
                   "p99DurationMs": nearest_rank(d, 99)}
    errors = Counter(p["errorClass"] for _, p, _ in keep
                     if p["errorClass"] != "undefined")
    versions = Counter(v for _, _, v in keep)
    days = Counter(ts[:10] for ts, _, _ in keep)
    return {"commands": cmds, "errors": dict(errors),
            "versions": dict(versions), "days": dict(days), "total": len(keep)}


def start_filled(work, events=None):
    """A server on a fresh store holding the known events."""
    srv = Server(work, work + "/serve.db")
    post_events(srv, events if events is not None else known_events())
    return srv
