#!/usr/bin/env python3
"""Issue 8: every payload the upstream NAT code built validates.

Every line of tests/data/reference/upstream_payloads.jsonl (payloads the
upstream Python code built, in both encodings its HTTP client sends: an
interrupted run, a Cyrillic error class, an integer above 2^53, non-ASCII
command text, an envelope of 60 events) validates with `nattel validate`,
wire and model mode, and `--canonical` gives back the same document (every
field, every event). Python's jsonschema with the reference schemas is the
independent oracle that the lines are valid.

Exit 0 pass, 1 fail, 77 skipped (the reference folder is missing).
"""
import json
import subprocess
import sys

import nattel_testlib as tl
from nattel_testlib import check, fail, failures

NATTEL = tl.tool()
UPSTREAM, ENV_SCHEMA, CLI_SCHEMA = tl.reference(
    "upstream_payloads.jsonl", "envelope.schema.json", "nat_cli_command.schema.json")

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


if not failures:
    print(f"ok: {len(lines)} upstream payloads (largest {biggest} events) valid, canonical "
          "output identical")
tl.finish()
