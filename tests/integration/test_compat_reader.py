#!/usr/bin/env python3
"""Issue 8, the reader (needs no reference data):

- An envelope of more than 50 events (51, 120, 1000) is valid, wire and
  model mode, and --canonical keeps every event in order: the 50 cap binds
  senders only (docs/design.md section 3). Upstream's own payloads are
  test_compat_upstream_payloads.py.
- An integer outside int64 is "out of range", never "not an integer", in
  both modes; `nattel emit` says the same of its integer options.
- A raw NUL byte or a bad escape inside a string is reported with its byte
  offset and what was found.

Exit 0 pass, 1 fail.
"""
import copy
import json
import os
import re
import subprocess

import nattel_testlib as tl
from nattel_testlib import check, fail, failures

NATTEL = tl.tool()


def validate(args, stdin=b""):
    p = subprocess.run([NATTEL, "validate"] + args, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# An envelope built here from the facts of docs/design.md section 3 (not copied
# from the reference folder, which a user's clone does not have).
EVENT = {"ts": "2026-11-25T10:00:00.000Z",
         "parameters": {"nemoSource": "agent_toolkit", "command": "run",
                        "subcommand": "undefined", "taskStatus": "success",
                        "durationMs": 5, "exitCode": 0, "errorClass": "undefined",
                        "pythonVersion": "3.12.1"},
         "name": "nat_cli_command"}
base = {"browserType": "undefined", "clientId": "184482118588404", "clientType": "Native",
        "clientVariant": "Release", "clientVer": "1.7.0", "cpuArchitecture": "x86_64",
        "deviceGdprBehOptIn": "None", "deviceGdprFuncOptIn": "None",
        "deviceGdprTechOptIn": "None", "deviceId": "undefined", "deviceMake": "undefined",
        "deviceModel": "undefined", "deviceOS": "undefined", "deviceOSVersion": "undefined",
        "deviceType": "undefined", "eventProtocol": "1.6", "eventSchemaVer": "1.5",
        "eventSysVer": "nat-telemetry/1.0", "externalUserId": "undefined",
        "gdprBehOptIn": "None", "gdprFuncOptIn": "None", "gdprTechOptIn": "None",
        "idpId": "undefined", "integrationId": "undefined", "productName": "undefined",
        "productVersion": "undefined", "sentTs": "2026-11-25T10:00:01.000Z",
        "sessionId": "0123456789ab4def8123456789abcdef", "userId": "undefined",
        "events": [EVENT]}
rc, out, err = validate(["-"], json.dumps(base).encode() + b"\n")
check(rc == 0 and not err, f"the base envelope: exit {rc}, {err!r}")

# --- envelopes of more than 50 events, built here from the facts ---------------
for count in (51, 120, 1000):
    e = copy.deepcopy(base)
    e["events"] = [copy.deepcopy(EVENT) for i in range(count)]
    for i, ev in enumerate(e["events"]):
        ev["parameters"]["durationMs"] = i  # each event distinct
    body = json.dumps(e, separators=(",", ":")).encode()
    for mode in ([], ["--model"]):
        rc, out, err = validate(mode + ["--canonical", "-"], body + b"\n")
        if rc != 0 or err:
            fail(f"{count} events {' '.join(mode)}: exit {rc}, stderr {err[:300]!r}")
            continue
        back = json.loads(out)
        check([ev["parameters"]["durationMs"] for ev in back["events"]] == list(range(count)),
              f"{count} events {' '.join(mode)}: the canonical output lost or reordered events")
# still at least one
e = copy.deepcopy(base)
e["events"] = []
rc, out, err = validate(["-"], json.dumps(e).encode() + b"\n")
check(rc == 1 and "events" in err, f"no events: exit {rc}, stderr {err!r}")

# --- integers outside int64: "out of range", both modes ------------------------
PARAMS = ('{"nemoSource":"agent_toolkit","command":"run","subcommand":"undefined",'
          '"taskStatus":"success","durationMs":%s,"exitCode":%s,"errorClass":"undefined",'
          '"pythonVersion":"3.12"}')
for value in ("9223372036854775808", "-9223372036854775809", "1e19", "-1e19",
              "18446744073709551616", "1.5e300"):
    for mode in ([], ["--model"]):
        for field, doc in (("exitCode", PARAMS % ("5", value)),
                           ("durationMs", PARAMS % (value, "0"))):
            if field == "durationMs" and value.startswith("-"):
                continue  # below the minimum of -1 before it is below int64
            rc, out, err = validate(mode + ["-"], doc.encode() + b"\n")
            what = f"{field}={value} {' '.join(mode)}"
            check(rc == 1, f"{what}: exit {rc}")
            check(f"-:1: {field}: " in err and "out of range" in err,
                  f"{what}: not reported as out of range: {err!r}")
            check("not an integer" not in err and "expected an integer" not in err,
                  f"{what}: reported as not an integer: {err!r}")
# a fraction is still "not an integer"-like, not out of range
rc, out, err = validate(["-"], (PARAMS % ("12.5", "0")).encode() + b"\n")
check(rc == 1 and "out of range" not in err, f"durationMs=12.5: {err!r}")

# `nattel emit` says the same of its integer options (nothing is sent: off)
tmp = tl.scratch("compat-reader-")
emit_env = tl.tool_env({"NAT_TELEMETRY_ENABLED": "0",
                        "NAT_TELEMETRY_CONSENT_FILE": os.path.join(tmp, "telemetry.toml")},
                       home=tmp)
for opt in ("--duration-ms", "--exit-code"):
    for value in ("9223372036854775808", "-9223372036854775809"):
        p = subprocess.run([NATTEL, "emit", "--command", "run", "--status", "success",
                            opt, value], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=emit_env, timeout=60)
        err = p.stderr.decode()
        check(p.returncode == 2 and "out of range" in err and "not an integer" not in err,
              f"emit {opt} {value}: exit {p.returncode}, stderr {err!r}")
p = subprocess.run([NATTEL, "emit", "--command", "run", "--status", "success",
                    "--exit-code", "12x"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                   env=emit_env, timeout=60)
check(p.returncode == 2 and "not an integer" in p.stderr.decode(),
      f"emit --exit-code 12x: exit {p.returncode}, stderr {p.stderr!r}")

# --- a raw NUL and bad escapes, with the byte offset and what was found --------
ERR_RE = re.compile(r"^-:1: \$: invalid JSON at byte (\d+): (.*)$")
cases = [
    (b'{"command":"a\x00b"}', 13, "raw U+0000 inside a string"),
    (b'{"command":"ok","subcommand":"x\x00"}', 31, "raw U+0000 inside a string"),
    (b'{"command":"a\\qb"}', 13, "invalid escape '\\q'"),
    (b'{"command":"ab\\x41"}', 14, "invalid escape '\\x'"),
    (b'{"command":"ab\\u12"}', 14, "invalid escape '\\u12'"),
    (b'{"command":"ab\\u12G4"}', 14, "invalid escape '\\u12G4'"),
    (b'{"a\\\'":1}', 3, "invalid escape '\\''"),
    (b'{"command":"a\\\xc3\xa9"}', 13, "invalid escape: '\\' followed by byte 0xC3"),
]
for doc, at, what in cases:
    rc, out, err = validate(["-"], doc + b"\n")
    m = ERR_RE.match(err.rstrip("\n"))
    if rc != 1 or not m or int(m.group(1)) != at or what not in m.group(2):
        fail(f"{doc!r}: want byte {at} and {what!r}; exit {rc}, stderr {err!r}")

if not failures:
    print("ok: 51/120/1000-event envelopes, range and string messages")
tl.finish()
