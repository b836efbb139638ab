#!/usr/bin/env python3
"""Issue 8, `nattel emit` against the upstream behaviour:

- NAT_TELEMETRY_ENDPOINT=stdout with NAT_TELEMETRY_DRY_RUN=1 still writes
  the payload line to stderr (upstream checks the sink before dry run);
  dry run with any other endpoint stays silent.
- sessionId is a UUID4 in hex after NAT_SESSION_PREFIX: 32 lowercase hex
  digits, the 13th `4`, the 17th one of 8, 9, a, b.
- An errorClass that is not an identifier is sent as "undefined" (exit 0,
  the event kept), with a debug line under NATTEL_DEBUG=1 that says why
  without echoing the value; Python identifiers with Unicode letters are
  kept as they are.

Every payload is checked with Python's jsonschema against the reference
schemas (an independent validator) where both are there.
Env: NATTEL_BIN, NATTEL_REFERENCE_DIR, NATTEL_TEST_TMP."""
import json
import os
import re
import subprocess
import sys

import nattel_testlib as tl
from nattel_testlib import check, failures

BIN = tl.tool()
REF = os.environ.get("NATTEL_REFERENCE_DIR", "")
ENVELOPE = os.path.join(REF, "envelope.schema.json")
EVENT = os.path.join(REF, "nat_cli_command.schema.json")
ENV_V = EVENT_V = None
try:
    from jsonschema import Draft7Validator
    if os.path.isfile(ENVELOPE) and os.path.isfile(EVENT):
        with open(ENVELOPE) as f:
            ENV_V = Draft7Validator(json.load(f))
        with open(EVENT) as f:
            EVENT_V = Draft7Validator(json.load(f))
    else:
        print(f"note: reference folder missing (NATTEL_REFERENCE_DIR={REF!r}): payloads "
              "are not checked against the reference schemas", file=sys.stderr)
except ImportError:
    print("note: Python's jsonschema is not installed: payloads are not checked "
          "against the reference schemas", file=sys.stderr)

UUID4_HEX = re.compile(r"[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}")
BASE = ["--command", "run", "--status", "failure"]

TMP = tl.scratch("compat-emit-")


def emit(args, extra):
    environ = tl.tool_env({"NAT_TELEMETRY_CONSENT_FILE":
                           os.path.join(TMP, "none", "telemetry.toml"), **extra},
                          home=TMP)
    return subprocess.run([BIN, "emit"] + args, env=environ, capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=30)


def payload(stderr, what):
    """The one payload line among stderr's lines (debug lines start with
    "nattel"); None after recording why not."""
    lines = [ln for ln in stderr.decode("utf-8").split("\n") if ln.startswith("{")]
    if len(lines) != 1:
        failures.append(f"{what}: want one payload line, got {stderr!r}")
        return None
    doc = json.loads(lines[0])
    if ENV_V:
        errs = [e.message for e in ENV_V.iter_errors(doc)]
        for ev in doc.get("events", []):
            errs += [e.message for e in EVENT_V.iter_errors(ev["parameters"])]
        check(not errs, f"{what}: payload breaks the reference schemas: {errs[:3]}")
    return doc


ON = {"NAT_TELEMETRY_ENABLED": "1", "NAT_TELEMETRY_ENDPOINT": "stdout"}

# --- stdout under dry run ---------------------------------------------------
for dry in ("1", "true", "YES"):
    p = emit(BASE, dict(ON, NAT_TELEMETRY_DRY_RUN=dry))
    check(p.returncode == 0 and p.stdout == b"", f"dry run {dry}: exit {p.returncode}, "
                                                  f"stdout {p.stdout!r}")
    doc = payload(p.stderr, f"stdout + dry run {dry}")
    check(doc is not None and p.stderr.count(b"\n") == 1,
          f"stdout + dry run {dry}: stderr {p.stderr!r}")
for endpoint in ("", "http://127.0.0.1:9/v1.1/events/json",
                 "https://events.telemetry.data.nvidia.com/v1.1/events/json"):
    p = emit(BASE, {"NAT_TELEMETRY_ENABLED": "1", "NAT_TELEMETRY_DRY_RUN": "1",
                    "NAT_TELEMETRY_ENDPOINT": endpoint})
    check(p.returncode == 0 and p.stdout == b"" and p.stderr == b"",
          f"dry run, endpoint {endpoint!r}: exit {p.returncode}, stderr {p.stderr!r}")
# consent still gates it
p = emit(BASE, {"NAT_TELEMETRY_ENABLED": "0", "NAT_TELEMETRY_ENDPOINT": "stdout",
                "NAT_TELEMETRY_DRY_RUN": "1"})
check(p.returncode == 0 and p.stderr == b"", f"dry run, consent off: {p.stderr!r}")

# --- sessionId: UUID4 in hex after the prefix --------------------------------
ids = set()
for k in range(40):
    prefix = ("", "ci-", "nat-2026-")[k % 3]
    extra = dict(ON)
    if prefix:
        extra["NAT_SESSION_PREFIX"] = prefix
    p = emit(BASE, extra)
    doc = payload(p.stderr, f"session id run {k}")
    if not doc:
        continue
    sid = doc["sessionId"]
    check(sid.startswith(prefix) and UUID4_HEX.fullmatch(sid[len(prefix):]) is not None,
          f"sessionId {sid!r} is not {prefix!r} + a UUID4 in hex")
    ids.add(sid[len(prefix):])
check(len(ids) == 40, f"session ids repeat: {len(ids)} distinct of 40")

# --- errorClass ---------------------------------------------------------------
kept = ["ValueError", "json.JSONDecodeError", "_Private", "Ошибка", "ÉrrorÇlass",
        "模块.错误", "Δ.λ_1", "E" * 128, "e\u0301x", "ｆｕｌｌ"]
secret = "bad value /etc/passwd"
dropped = [secret, "FileNotFoundError: /home/alice/secret.txt", "9Lives", "E" * 129,
           "a-b", "x y", ".x", "Err\u00a0or", "Err\u2028or", "«Error»", "Ошибка!",
           "a\u200bb", "x.", "a..b", "\u0301x", "A" * 60 + "Ж" * 40, "x\tb"]
# Python itself is the oracle of what an identifier is (per dotted name)
for ec in kept:
    check(all(seg.isidentifier() for seg in ec.split(".")), f"oracle: {ec!r} is not one")
for ec in dropped:
    if len(ec.encode()) <= 128:
        check(not all(seg.isidentifier() for seg in ec.split(".")),
              f"oracle: {ec!r} is an identifier")
for ec in kept:
    p = emit(BASE + ["--error-class", ec], ON)
    doc = payload(p.stderr, f"errorClass {ec!r}")
    check(p.returncode == 0, f"errorClass {ec!r}: exit {p.returncode}")
    if doc:
        got = doc["events"][0]["parameters"]["errorClass"]
        check(got == ec, f"errorClass {ec!r} sent as {got!r}")

for ec in dropped:
    for debug in (False, True):
        extra = dict(ON, NATTEL_DEBUG="1") if debug else ON
        p = emit(BASE + ["--error-class", ec], extra)
        what = f"errorClass {ec!r}{' (debug)' if debug else ''}"
        check(p.returncode == 0 and p.stdout == b"",
              f"{what}: exit {p.returncode} (the event must be kept), stderr {p.stderr!r}")
        doc = payload(p.stderr, what)
        if doc:
            params = doc["events"][0]["parameters"]
            check(params["errorClass"] == "undefined",
                  f"{what}: sent as {params['errorClass']!r}, want \"undefined\"")
            check(params["command"] == "run" and params["taskStatus"] == "failure",
                  f"{what}: the rest of the event changed: {params}")
        err = p.stderr.decode("utf-8", "replace")
        others = [ln for ln in err.split("\n") if ln and not ln.startswith("{")]
        if debug:
            check(any("errorClass" in ln and "undefined" in ln for ln in others),
                  f"{what}: no debug line says why: {others}")
        else:
            check(others == [], f"{what}: lines without NATTEL_DEBUG: {others}")
        # never echoed, not even in part (the payload holds "undefined")
        for piece in ("passwd", "secret", "alice", "9Lives", "E" * 129, "a-b", "x y"):
            if piece in ec:
                check(piece not in err, f"{what}: echoed {piece!r}: {err!r}")
# invalid UTF-8 in the argument
p = emit(BASE + ["--error-class", b"Err\xffor"], ON)
doc = payload(p.stderr, "errorClass with invalid UTF-8")
check(p.returncode == 0 and doc is not None and
      doc["events"][0]["parameters"]["errorClass"] == "undefined",
      f"invalid UTF-8 errorClass: exit {p.returncode}, {p.stderr!r}")

if not failures:
    print("ok: stdout under dry run, UUID4 session ids, errorClass sanitized")
tl.finish()
