#!/usr/bin/env python3
"""`nattel schema` against the reference wire schema.

1. Structure: the exported JSON Schema describes nat_cli_command exactly as
   reference/nat_cli_command.schema.json does: the same properties in the
   same order, the same effective types ($ref and allOf resolved), enums,
   bounds, required set, additionalProperties false, and the
   anonymous_events.json layout (definitions.types, definitions.events,
   oneOf).
2. Behaviour: with Python's jsonschema (Draft7Validator), validation with
   the exported schema agrees with validation with the reference schema on
   a generated corpus of parameter objects, valid and broken; and
   `nattel validate --event nat_cli_command` agrees with the reference too.
3. The same structural comparison for a foreign schema loaded with
   `--schema` (reference/guardrails_usage_event.schema.json).

Exit 0 pass, 1 fail, 77 skipped (reference folder or jsonschema missing).
"""
import json
import os
import random
import re
import subprocess
import sys

import nattel_testlib as tl
from nattel_testlib import fail, failures

NATTEL = tl.tool()
REF = tl.reference("nat_cli_command.schema.json")
GUARD = os.path.join(os.path.dirname(REF), "guardrails_usage_event.schema.json")


def no_dups(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError(f"duplicate keys in {keys}")
    return dict(pairs)


def run(args, stdin=None):
    p = subprocess.run([NATTEL] + args, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout, p.stderr


def load_export(args):
    rc, out, err = run(["schema"] + args)
    if rc != 0:
        fail(f"nattel schema {' '.join(args)} exited {rc}: {err.decode(errors='replace')}")
        return None, None
    text = out.decode("utf-8")
    try:
        doc = json.loads(text, object_pairs_hook=no_dups)
    except ValueError as e:
        fail(f"nattel schema {' '.join(args)} is not JSON: {e}")
        return None, None
    return doc, text


def resolve(schema, root):
    """The effective constraints of a property: $ref and allOf merged."""
    eff = {}

    def walk(s):
        if "$ref" in s:
            ref = s["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"external $ref {ref}")
            target = root
            for part in ref[2:].split("/"):
                target = target[part]
            walk(target)
        for sub in s.get("allOf", []):
            walk(sub)
        for k, v in s.items():
            if k in ("$ref", "allOf", "description"):
                continue
            if k == "minimum" and "minimum" in eff:
                eff[k] = max(eff[k], v)
            elif k == "maximum" and "maximum" in eff:
                eff[k] = min(eff[k], v)
            elif k == "items":
                eff[k] = resolve(v, root)
            else:
                if k in eff and eff[k] != v:
                    raise ValueError(f"conflicting {k}: {eff[k]} vs {v}")
                eff[k] = v

    walk(schema)
    return eff


def compare_event(ours, ref, name):
    """Field-by-field comparison of definitions.events.<name>."""
    try:
        o = ours["definitions"]["events"][name]
        r = ref["definitions"]["events"][name]
    except (KeyError, TypeError) as e:
        fail(f"{name}: not in definitions.events ({e})")
        return
    for key in ("type", "additionalProperties"):
        if o.get(key) != r.get(key):
            fail(f"{name}: {key} is {o.get(key)!r}, reference {r.get(key)!r}")
    if r.get("additionalProperties") is not False:
        fail(f"{name}: the reference has additionalProperties {r.get('additionalProperties')}")
    if o.get("additionalProperties") is not False:
        fail(f"{name}: additionalProperties must be false")
    if list(o.get("properties", {})) != list(r["properties"]):
        fail(f"{name}: properties {list(o.get('properties', {}))}, reference "
             f"{list(r['properties'])} (same names, same order)")
    if sorted(o.get("required", [])) != sorted(r["required"]):
        fail(f"{name}: required {o.get('required')}, reference {r['required']}")
    if len(o.get("required", [])) != len(set(o.get("required", []))):
        fail(f"{name}: required lists a name twice")
    for prop, rschema in r["properties"].items():
        oschema = o.get("properties", {}).get(prop)
        if oschema is None:
            continue
        try:
            reff = resolve(rschema, ref)
            oeff = resolve(oschema, ours)
        except (KeyError, ValueError, TypeError) as e:
            fail(f"{name}.{prop}: cannot resolve: {e}")
            continue
        for k in sorted(set(reff) | set(oeff)):
            rv, ov = reff.get(k), oeff.get(k)
            # integer bounds compare exactly (no float rounding)
            if k in ("minimum", "maximum") and rv is not None and ov is not None:
                if type(rv) is not type(ov) or rv != ov:
                    fail(f"{name}.{prop}: {k} {ov!r} ({type(ov).__name__}), "
                         f"reference {rv!r} ({type(rv).__name__})")
                continue
            if rv != ov:
                fail(f"{name}.{prop}: {k} {ov!r}, reference {rv!r}")
        if "description" not in oschema:
            fail(f"{name}.{prop}: no description")
    em_o = o.get("eventMeta", {}).get("gdpr", {}).get("category")
    em_r = r.get("eventMeta", {}).get("gdpr", {}).get("category")
    if em_o != em_r:
        fail(f"{name}: eventMeta.gdpr.category {em_o!r}, reference {em_r!r}")


def check_layout(doc, text, ref, names):
    if doc.get("$schema") != "http://json-schema.org/draft-07/schema#":
        fail(f"$schema is {doc.get('$schema')!r}")
    meta = doc.get("schemaMeta", {})
    for k in ("clientId", "schemaVersion", "clientName", "definitionVersion"):
        if meta.get(k) != ref["schemaMeta"][k]:
            fail(f"schemaMeta.{k} is {meta.get(k)!r}, reference {ref['schemaMeta'][k]!r}")
    if not isinstance(doc.get("definitions", {}).get("types"), dict):
        fail("no definitions.types")
    events = doc.get("definitions", {}).get("events", {})
    if sorted(events) != sorted(names):
        fail(f"definitions.events holds {sorted(events)}, expected {sorted(names)}")
    one_of = sorted(x.get("$ref", "") for x in doc.get("oneOf", []))
    want = sorted(f"#/definitions/events/{n}" for n in names)
    if one_of != want:
        fail(f"oneOf is {one_of}, expected {want}")
    # shared types: every enum and integer type the reference defines is
    # defined alike (the $ref targets)
    for tname, tdef in ref["definitions"]["types"].items():
        odef = doc.get("definitions", {}).get("types", {}).get(tname)
        used = tname in json.dumps(ref["definitions"]["events"])
        if odef is None:
            if used:
                fail(f"definitions.types.{tname} is missing")
            continue
        for k in ("type", "enum", "minimum", "maximum"):
            if odef.get(k) != tdef.get(k):
                fail(f"definitions.types.{tname}.{k} is {odef.get(k)!r}, "
                     f"reference {tdef.get(k)!r}")
    # pretty-printed with a 4-space indent, ending in a newline
    if not text.endswith("\n"):
        fail("the schema output does not end in a newline")
    lines = text.split("\n")
    if len(lines) < 10 or not lines[1].startswith("    \"") or lines[1].startswith("     "):
        fail("the schema output is not pretty-printed with a 4-space indent")


ref = json.load(open(REF), object_pairs_hook=no_dups)
doc, text = load_export([])
if doc is not None:
    check_layout(doc, text, ref, ["nat_cli_command"])
    compare_event(doc, ref, "nat_cli_command")

doc1, text1 = load_export(["--event", "nat_cli_command"])
if doc1 is not None and doc1 != doc:
    fail("nattel schema --event nat_cli_command differs from nattel schema "
         "(only one type is built in)")

# an unknown event name is an error, on stderr, with nothing on stdout
rc, out, err = run(["schema", "--event", "no_such_event"])
if rc == 0 or out.strip() or not err.strip():
    fail(f"nattel schema --event no_such_event: exit {rc}, stdout {out[:80]!r}, "
         f"stderr {err[:200]!r}")
rc, out, err = run(["schema", "--bogus-option"])
if rc != 2:
    fail(f"nattel schema --bogus-option: exit {rc}, expected 2 (usage)")
rc, out, err = run(["schema", "--help"])
if rc != 0 or b"usage" not in (out + err).lower():
    fail(f"nattel schema --help: exit {rc}")

# ---------------------------------------------------------------- #
# Behaviour with jsonschema                                          #
# ---------------------------------------------------------------- #

try:
    import jsonschema
    from jsonschema import Draft7Validator
except ImportError:
    if failures:
        tl.finish()
    tl.skip("Python's jsonschema is not importable; the structural checks "
            "ran, the Draft-7 agreement checks did not")

if doc is None:
    tl.finish()

try:
    Draft7Validator.check_schema(doc)
except jsonschema.exceptions.SchemaError as e:
    fail(f"the exported schema is not a valid draft-07 schema: {e.message}")

ref_v = Draft7Validator(ref)
our_v = Draft7Validator(doc)

BASE = {
    "nemoSource": "agent_toolkit",
    "command": "run",
    "subcommand": "undefined",
    "taskStatus": "success",
    "durationMs": 1234,
    "exitCode": 0,
    "errorClass": "undefined",
    "pythonVersion": "3.11.7",
}
ENUMS = {
    "nemoSource": ref["definitions"]["types"]["NemoSourceEnum"]["enum"],
    "taskStatus": ref["definitions"]["types"]["TaskStatusEnum"]["enum"],
}
WEIRD_VALUES = [
    None, True, False, 0, -1, -2, 1, 12.0, 12.5, -1.0, -1.5, 2**63 - 1, 2**63,
    -(2**63), -(2**63) - 1, 1e19, -1e19, 1.5e300, "", "x", "12", "-1", "undefined",
    [], ["run"], {}, {"a": 1}, "\u00e9\u20ac\U0001F600", "a\"b\\c\n", "SUCCESS",
    "agent-toolkit", "Success", "canceled", "cancelled",
]
STRING_SAMPLES = ["", "run", "list-components", "3.11.7", "ValueError", "undefined",
                  "\u00e9", "\U0001F600", "tab\there", "nul\u0000here", "q\"uote", "/\\"]


def gen_corpus(rnd, n):
    out = []
    for _ in range(n):
        d = dict(BASE)
        kind = rnd.randrange(10)
        if kind == 0:
            pass  # valid as is
        elif kind == 1:  # valid variations
            for k in ("command", "subcommand", "errorClass", "pythonVersion"):
                if rnd.random() < 0.5:
                    d[k] = rnd.choice(STRING_SAMPLES)
            for k, vals in ENUMS.items():
                d[k] = rnd.choice(vals)
            d["durationMs"] = rnd.choice([-1, 0, 1, 12.0, 2**63 - 1, rnd.randrange(10**9)])
            d["exitCode"] = rnd.choice([-1, 0, 1, 130, -(2**63), 2**63 - 1, -5])
        elif kind == 2:  # a field missing
            del d[rnd.choice(list(BASE))]
        elif kind == 3:  # an unknown field ("events" would make it an envelope)
            d[rnd.choice(["foo", "task_status", "Command", "durationms", "extra", ""])] = 1
        elif kind in (4, 5, 6):  # a field of the wrong value
            d[rnd.choice(list(BASE))] = rnd.choice(WEIRD_VALUES)
        elif kind == 7:  # several problems at once
            for _ in range(rnd.randrange(2, 5)):
                d[rnd.choice(list(BASE))] = rnd.choice(WEIRD_VALUES)
            if rnd.random() < 0.5:
                del d[rnd.choice(list(d))]
        elif kind == 8:  # bounds
            d["durationMs"] = rnd.choice([-1, -2, -1.0, -0.5, 0, 2**63 - 1, 2**63, -3])
            d["exitCode"] = rnd.choice([-(2**63), -(2**63) - 1, 2**63 - 1, 2**63, 1e18,
                                        9.3e18, -9.3e18])
        else:  # shuffled key order (valid)
            items = list(d.items())
            rnd.shuffle(items)
            d = dict(items)
        out.append(d)
    return out


rnd = random.Random(20260506)
corpus = gen_corpus(rnd, 3000)
lines = []
ref_ok = []
disagree = 0
for d in corpus:
    r_ok = ref_v.is_valid(d)
    o_ok = our_v.is_valid(d)
    ref_ok.append(r_ok)
    if r_ok != o_ok:
        disagree += 1
        if disagree <= 10:
            fail(f"jsonschema disagrees: {json.dumps(d)} is "
                 f"{'valid' if r_ok else 'invalid'} by the reference, "
                 f"{'valid' if o_ok else 'invalid'} by the export")
    lines.append(json.dumps(d, ensure_ascii=rnd.random() < 0.5))

n_valid = sum(ref_ok)
if n_valid < 300 or n_valid > len(corpus) - 300:
    fail(f"the corpus is lopsided: {n_valid} valid of {len(corpus)}")

# nattel validate on the same lines agrees with the reference
payload = ("\n".join(lines) + "\n").encode("utf-8")
rc, out, err = run(["validate", "--event", "nat_cli_command", "-"], stdin=payload)
bad_lines = set()
line_re = re.compile(r"^(?:-|<stdin>):(\d+): (\S*): (.+)$")
for ln in err.decode("utf-8", errors="replace").splitlines():
    m = line_re.match(ln)
    if not m:
        fail(f"nattel validate: an error line not in the SOURCE:LINE: PATH: MESSAGE "
             f"format: {ln!r}")
        continue
    bad_lines.add(int(m.group(1)))
want_bad = {i + 1 for i, ok in enumerate(ref_ok) if not ok}
shown = 0
for i in sorted(want_bad ^ bad_lines):
    shown += 1
    if shown > 10:
        break
    fail(f"nattel validate says line {i} is "
         f"{'invalid' if i in bad_lines else 'valid'}, the reference schema says "
         f"{'valid' if ref_ok[i - 1] else 'invalid'}: {lines[i - 1]}")
if want_bad ^ bad_lines:
    fail(f"nattel validate disagrees with the reference on {len(want_bad ^ bad_lines)} "
         f"of {len(lines)} lines")
expected_rc = 1 if want_bad else 0
if rc != expected_rc:
    fail(f"nattel validate exited {rc}, expected {expected_rc}")

# the export also agrees on the reference payload's events
payload_ex = os.path.join(os.path.dirname(REF), "payload.example.json")
if os.path.isfile(payload_ex):
    for ev in json.load(open(payload_ex))["events"]:
        if not our_v.is_valid(ev["parameters"]):
            fail(f"the export refuses a reference payload event: {ev['parameters']}")

# ---------------------------------------------------------------- #
# A foreign schema through --schema                                  #
# ---------------------------------------------------------------- #

if os.path.isfile(GUARD):
    gref = json.load(open(GUARD), object_pairs_hook=no_dups)
    gdoc, gtext = load_export(["--schema", GUARD, "--event", "guardrails_usage_event"])
    if gdoc is not None:
        check_layout(gdoc, gtext, gref, ["guardrails_usage_event"])
        compare_event(gdoc, gref, "guardrails_usage_event")
        try:
            Draft7Validator.check_schema(gdoc)
        except jsonschema.exceptions.SchemaError as e:
            fail(f"the exported guardrails schema is not valid draft-07: {e.message}")
    both, _ = load_export(["--schema", GUARD])
    if both is not None:
        evs = sorted(both.get("definitions", {}).get("events", {}))
        if evs != ["guardrails_usage_event", "nat_cli_command"]:
            fail(f"nattel schema --schema GUARD exports {evs}")
else:
    print(f"note: {GUARD} missing; the foreign schema checks did not run", file=sys.stderr)

print(f"schema export: {len(corpus)} generated parameter objects ({n_valid} valid), "
      f"{len(failures)} failure(s)")
tl.finish()
