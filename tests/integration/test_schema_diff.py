#!/usr/bin/env python3
"""`nattel schema --diff OLD NEW [--json]` on hand-made versions of the 1.5
schema (reference/nat_cli_command.schema.json): each kind of change alone,
then several together, and the Guardrails snapshot against --builtin. Each
case checks the exact set of (change, class, path) in --json (parsed by
Python's json), the text lines, and the exit status (0 no change, 1
changed, 2 usage or I/O error or not a schema).
Env: NATTEL_BIN, NATTEL_REFERENCE_DIR, NATTEL_TEST_TMP."""
import copy
import json
import os
import subprocess

import nattel_testlib as tl
from nattel_testlib import check

BIN = tl.tool()
(BASE_PATH, GUARDRAILS) = tl.reference("nat_cli_command.schema.json",
                                       "guardrails_usage_event.schema.json")
with open(BASE_PATH) as f:
    BASE = json.load(f)
EV = "definitions.events.nat_cli_command"
P = EV + ".properties."


def ev(d):
    return d["definitions"]["events"]["nat_cli_command"]


def add_optional(d):
    ev(d)["properties"]["gpuCount"] = {"type": "integer", "minimum": 0}


def add_required(d):
    ev(d)["properties"]["gpuCount"] = {"type": "integer"}
    ev(d)["required"].append("gpuCount")


def remove_field(d):
    del ev(d)["properties"]["pythonVersion"]
    ev(d)["required"].remove("pythonVersion")


def change_kind(d):
    ev(d)["properties"]["command"] = {"type": "integer"}


def enum_add(d):
    d["definitions"]["types"]["TaskStatusEnum"]["enum"].append("skipped")


def enum_remove(d):
    d["definitions"]["types"]["NemoSourceEnum"]["enum"].remove("auditor")


def version(d):
    d["schemaMeta"]["schemaVersion"] = "1.6"


def def_version(d):
    d["schemaMeta"]["definitionVersion"] = "9.9"


def tighter(d):
    ev(d)["properties"]["durationMs"]["allOf"][1]["minimum"] = 0


def looser(d):
    ev(d)["properties"]["durationMs"]["allOf"][1]["minimum"] = -5


def make_optional(d):
    ev(d)["required"].remove("exitCode")


def open_props(d):
    ev(d)["additionalProperties"] = True


def remove_event(d):
    d["definitions"]["events"]["other_event"] = copy.deepcopy(ev(d))
    del d["definitions"]["events"]["nat_cli_command"]


CASES = [
    (add_optional, {("field-added", "compatible", P + "gpuCount")}),
    (add_required, {("field-added", "breaking", P + "gpuCount")}),
    (remove_field, {("field-removed", "breaking", P + "pythonVersion")}),
    (change_kind, {("kind-changed", "breaking", P + "command")}),
    (enum_add, {("enum-value-added", "compatible", "definitions.types.TaskStatusEnum")}),
    (enum_remove, {("enum-value-removed", "breaking", "definitions.types.NemoSourceEnum")}),
    (version, {("schema-version-changed", "compatible", "schemaMeta.schemaVersion")}),
    (def_version, {("definition-version-changed", "compatible",
                    "schemaMeta.definitionVersion")}),
    (tighter, {("bound-tightened", "breaking", P + "durationMs")}),
    (looser, {("bound-loosened", "compatible", P + "durationMs")}),
    (make_optional, {("required-removed", "compatible", P + "exitCode")}),
    (open_props, {("additional-properties-changed", "compatible",
                   EV + ".additionalProperties")}),
    (remove_event, {("event-removed", "breaking", EV),
                    ("event-added", "compatible", "definitions.events.other_event")}),
]


def run(*args):
    return subprocess.run([BIN, "schema"] + list(args), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=30, env=tl.tool_env())


def changes_of(old, new, what):
    p = run("--diff", old, new, "--json")
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        tl.fail(f"{what}: --json is not JSON ({e}): {p.stdout!r} {p.stderr!r}")
        return p, None
    got = {(c["change"], c["class"], c["path"]) for c in doc["changes"]}
    check(doc["breaking"] == sum(c["class"] == "breaking" for c in doc["changes"])
          and doc["compatible"] == len(doc["changes"]) - doc["breaking"]
          and doc["changed"] == bool(doc["changes"]), f"{what}: counts {doc}")
    check(p.returncode == (1 if got else 0), f"{what}: exit {p.returncode}")
    return p, got


def write(tmp, name, doc):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def main():
    with tl.tempdir("schema-diff-") as tmp:
        old = write(tmp, "old.json", BASE)
        _, got = changes_of(old, old, "same file")
        check(got == set(), f"same file: {got}")
        together_new = copy.deepcopy(BASE)
        want_all = set()
        for i, (mutate, want) in enumerate(CASES):
            new_doc = copy.deepcopy(BASE)
            mutate(new_doc)
            new = write(tmp, f"new{i}.json", new_doc)
            _, got = changes_of(old, new, mutate.__name__)
            check(got == want, f"{mutate.__name__}: got {got}, want {want}")
            # Text: one line per change, class first, then the summary.
            p = run("--diff", old, new)
            lines = p.stdout.splitlines()
            check(p.returncode == 1 and len(lines) == len(want) + 1,
                  f"{mutate.__name__} text: {p.returncode} {lines}")
            for change, cls, path in want:
                check(any(ln.split()[:2] == [cls, change] and (path + ":") in ln
                          for ln in lines), f"{mutate.__name__} text: no line for {path}")
            # One change per field: tighter and looser both move durationMs.
            if mutate not in (remove_event, add_required, change_kind, tighter):
                mutate(together_new)
                want_all |= want
        new = write(tmp, "together.json", together_new)
        _, got = changes_of(old, new, "several together")
        check(got == want_all, f"several together: got {got}, want {want_all}")

        # The Guardrails snapshot against the built-in types.
        p, got = changes_of("--builtin", GUARDRAILS, "--builtin vs guardrails")
        p = run("--diff", "--builtin", GUARDRAILS, "--json")
        doc = json.loads(p.stdout) if p.returncode == 1 else {}
        got = {(c["change"], c["class"], c["path"]) for c in doc.get("changes", [])}
        for want in [("schema-version-changed", "compatible", "schemaMeta.schemaVersion"),
                     ("event-removed", "breaking", EV),
                     ("event-added", "compatible",
                      "definitions.events.guardrails_usage_event")]:
            check(want in got, f"--builtin vs guardrails: {want} missing from {got}")
        p = run("--diff", "--builtin", BASE_PATH)
        check(p.returncode == 0 and p.stdout.startswith("0 changes"),
              f"--builtin vs the 1.5 reference: {p.returncode} {p.stdout!r}")

        # Usage and I/O errors: exit 2, one line on stderr.
        notjson = os.path.join(tmp, "notjson.json")
        with open(notjson, "w") as f:
            f.write("{\"definitions\": ")
        nolayout = write(tmp, "nolayout.json", {"a": 1})
        fifo = os.path.join(tmp, "fifo")
        os.mkfifo(fifo)
        for args in (["--diff", old], ["--diff", old, old, old], ["--diff", "--builtin"],
                     ["--diff", old, os.path.join(tmp, "missing.json")],
                     ["--diff", old, notjson], ["--diff", old, nolayout],
                     ["--diff", old, fifo], ["--json"], ["--builtin"],
                     ["--diff", old, old, "--event", "x"]):
            p = run(*args)
            check(p.returncode == 2 and p.stdout == "" and len(p.stderr.splitlines()) == 1
                  and p.stderr.startswith("nattel schema: "),
                  f"{args}: {p.returncode} {p.stdout!r} {p.stderr!r}")
    tl.finish()


if __name__ == "__main__":
    main()
