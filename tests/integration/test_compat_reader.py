#!/usr/bin/env python3
"""Issue 8, the reader: what upstream NAT clients send must validate.

- Every line of ../shared/reference/upstream_payloads.jsonl (payloads the
  upstream Python code built, in both encodings its HTTP client sends)
  validates with `nattel validate`, wire and model mode, and `--canonical`
  gives back the same document (every field, every event, the integer
  above 2^53, the Cyrillic error class). Python's jsonschema with the
  reference schemas is the independent oracle that the lines are valid.
- An envelope of more than 50 events (51, 120, 1000) is valid: the 50 cap
  binds senders only (DESIGN.md section 3).
- An integer outside int64 is "out of range", never "not an integer", in
  both modes; `nattel emit` says the same of its integer options.
- A raw NUL byte or a bad escape inside a string is reported with its byte
  offset and what was found.

Exit 0 pass, 1 fail, 77 skipped (the reference folder is missing).
"""
import atexit
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from nattel_testlib import SKIP, check, env, fail, failures  # noqa: E402

NATTEL = env("NATTEL_BIN")
REF_DIR = os.environ.get("NATTEL_REFERENCE_DIR", "")
UPSTREAM = os.path.join(REF_DIR, "upstream_payloads.jsonl")
ENV_SCHEMA = os.path.join(REF_DIR, "envelope.schema.json")
CLI_SCHEMA = os.path.join(REF_DIR, "nat_cli_command.schema.json")
for f in (UPSTREAM, ENV_SCHEMA, CLI_SCHEMA):
    if not os.path.isfile(f):
        print(f"skipped: reference file missing: {f}", file=sys.stderr)
        sys.exit(SKIP)

try:
    from jsonschema import Draft7Validator
except ImportError:
    Draft7Validator = None
    print("note: Python's jsonschema is not importable; the oracle check is skipped",
          file=sys.stderr)


def validate(args, stdin=b""):
    p = subprocess.run([NATTEL, "validate"] + args, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def no_dups(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError(f"duplicate keys {keys}")
    return dict(pairs)


def strict_eq(a, b):
    """Equal values of equal JSON types (12 is not 12.0, 1 is not True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(strict_eq(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_eq(x, y) for x, y in zip(a, b))
    return a == b


with open(UPSTREAM, "rb") as f:
    lines = [ln for ln in f.read().split(b"\n") if ln.strip()]
check(len(lines) >= 20, f"upstream_payloads.jsonl: {len(lines)} lines, expected 20")
docs = [json.loads(ln, object_pairs_hook=no_dups) for ln in lines]


# --- the oracle: every line is valid by the reference schemas ----------------
def oracle_errors(doc):
    if Draft7Validator is None:
        return []
    env_v = Draft7Validator(json.load(open(ENV_SCHEMA)))
    cli = json.load(open(CLI_SCHEMA))
    errs = [e.message for e in env_v.iter_errors(doc)]
    event_schema = dict(cli["definitions"]["events"]["nat_cli_command"])
    event_schema["definitions"] = cli["definitions"]
    ev_v = Draft7Validator(event_schema)
    for i, ev in enumerate(doc.get("events", [])):
        errs += [f"events[{i}].parameters: {e.message}" for e in ev_v.iter_errors(ev["parameters"])]
    return errs


biggest = 0
for n, doc in enumerate(docs, 1):
    errs = oracle_errors(doc)
    check(not errs, f"oracle: upstream line {n} is not valid by the reference schemas: {errs[:3]}")
    biggest = max(biggest, len(doc["events"]))
check(biggest > 50, f"upstream_payloads.jsonl: largest envelope has {biggest} events, expected > 50")

# --- the whole file, each mode ------------------------------------------------
for mode in ([], ["--model"]):
    rc, out, err = validate(mode + [UPSTREAM])
    if rc != 0 or err:
        fail(f"validate {' '.join(mode)} {UPSTREAM}: exit {rc}, stderr {err[:600]!r}")

# --- each line alone, and its canonical form is the same document -------------
for n, (raw, doc) in enumerate(zip(lines, docs), 1):
    rc, out, err = validate(["--canonical", "-"], raw + b"\n")
    if rc != 0 or err:
        fail(f"upstream line {n} ({len(doc['events'])} events): exit {rc}, stderr {err[:400]!r}")
        continue
    outs = out.split("\n")
    if len(outs) != 2 or outs[1] != "":
        fail(f"upstream line {n}: --canonical printed {len(outs) - 1} lines, expected 1")
        continue
    back = json.loads(outs[0], object_pairs_hook=no_dups)
    if not strict_eq(back, doc):
        diff = [k for k in doc if not strict_eq(doc.get(k), back.get(k))]
        fail(f"upstream line {n}: --canonical differs from the input in {diff}")
    check(len(back["events"]) == len(doc["events"]),
          f"upstream line {n}: {len(back['events'])} events back of {len(doc['events'])}")

# --- envelopes of more than 50 events, built here from the facts ---------------
base = docs[0]
for count in (51, 120, 1000):
    e = copy.deepcopy(base)
    e["events"] = [copy.deepcopy(base["events"][i % len(base["events"])]) for i in range(count)]
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
base_tmp = os.environ.get("NATTEL_TEST_TMP") or tempfile.gettempdir()
os.makedirs(base_tmp, exist_ok=True)
tmp = tempfile.mkdtemp(prefix="compat-reader-", dir=base_tmp)
atexit.register(shutil.rmtree, tmp, True)
emit_env = {k: v for k, v in os.environ.items() if not k.startswith(("NAT_", "NATTEL_DEBUG"))}
emit_env.update(NAT_TELEMETRY_ENABLED="0", HOME=tmp,
                NAT_TELEMETRY_CONSENT_FILE=os.path.join(tmp, "telemetry.toml"))
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

if failures:
    for f_ in failures:
        print("FAIL: " + f_, file=sys.stderr)
    sys.exit(1)
print(f"ok: {len(lines)} upstream payloads (largest {biggest} events), "
      f"51/120/1000-event envelopes, range and string messages")
