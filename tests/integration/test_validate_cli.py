#!/usr/bin/env python3
"""`nattel validate` as its usage text and docs/design.md section 2 describe it.

Envelopes (the reference payload compacted to one line) and bare parameter
objects; --event, --model, --canonical, --schema (the guardrails schema);
the error format SOURCE:LINE: PATH: MESSAGE with every problem reported;
exit codes 0/1/2; stdin; missing files; malformed JSON, invalid UTF-8 and a
huge line (an error, never a crash, in bounded memory); --help.

Independent oracles: Python's json (what a document holds, for
--canonical), jsonschema with the reference schemas (which documents are
valid), and a small Python model of the upstream construction rules for
--model, written from docs/design.md section 2.

Exit 0 pass, 1 fail, 77 skipped (the reference folder is missing).
"""
import copy
import json
import os
import random
import re
import subprocess
import sys

import nattel_testlib as tl
from nattel_testlib import fail, failures

NATTEL = tl.tool()
PAYLOAD, CLI_SCHEMA, ENV_SCHEMA, GUARD = tl.reference(
    "payload.example.json", "nat_cli_command.schema.json", "envelope.schema.json",
    "guardrails_usage_event.schema.json")

try:
    from jsonschema import Draft7Validator
    HAVE_JSONSCHEMA = True
except ImportError:
    HAVE_JSONSCHEMA = False
    print("note: Python's jsonschema is not importable; the schema-oracle corpora "
          "are skipped", file=sys.stderr)

TMP = tl.scratch("validate-cli-")


def tmpfile(name, data):
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def run(args, stdin=b"", timeout=120):
    p = subprocess.run([NATTEL, "validate"] + args, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


ERR_RE = re.compile(r"^(?P<src>.+?):(?P<line>\d+): (?P<path>\S+): (?P<msg>.+)$")


def problems(err, what, allow_global=False):
    """stderr as (source, line, path, message); every line must match."""
    out = []
    for ln in err.decode("utf-8", errors="replace").split("\n"):
        if ln == "":
            continue
        m = ERR_RE.match(ln)
        if m:
            out.append((m.group("src"), int(m.group("line")), m.group("path"),
                        m.group("msg")))
        elif not (allow_global and ln.startswith("nattel")):
            fail(f"{what}: stderr line not SOURCE:LINE: PATH: MESSAGE: {ln!r}")
    return out


def out_lines(out):
    """stdout split on "\n" only (str.splitlines also splits on U+2028...)."""
    text = out.decode("utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def no_dups(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError(f"duplicate keys {keys}")
    return pairs


def ordered(text):
    """JSON as nested lists of (key, value) pairs, key order kept."""
    return json.loads(text, object_pairs_hook=no_dups)


def to_dict(x):
    if isinstance(x, list) and x and all(isinstance(p, tuple) for p in x):
        return {k: to_dict(v) for k, v in x}
    if isinstance(x, list) and not x:
        return []
    if isinstance(x, list):
        return [to_dict(v) for v in x]
    return x


def strict_eq(a, b):
    """Equal values of equal JSON types (12 is not 12.0, 1 is not True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strict_eq(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_eq(x, y) for x, y in zip(a, b))
    return a == b


def is_compact(text):
    """No whitespace outside strings."""
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in " \t\r\n":
            return False
    return True


def check_canonical_text(text, what):
    if not is_compact(text):
        fail(f"{what}: canonical output is not compact: {text[:200]!r}")
    if "null" in re.sub(r'"(?:[^"\\]|\\.)*"', '""', text):
        fail(f"{what}: canonical output holds a null: {text[:200]!r}")


ref_payload = json.load(open(PAYLOAD))
cli_schema = json.load(open(CLI_SCHEMA))
env_schema = json.load(open(ENV_SCHEMA))
guard_schema = json.load(open(GUARD))
ENV_ORDER = env_schema["required"]
CLI_ORDER = list(cli_schema["definitions"]["events"]["nat_cli_command"]["properties"])
PAYLOAD_LINE = json.dumps(ref_payload, separators=(",", ":"))
EVENTS = [e["parameters"] for e in ref_payload["events"]]

# ---------------------------------------------------------------- #
# 1. The reference payload and its events                            #
# ---------------------------------------------------------------- #

path = tmpfile("payload.jsonl", PAYLOAD_LINE + "\n")
rc, out, err = run([path])
if rc != 0 or err:
    fail(f"the reference payload: exit {rc}, stderr {err[:300]!r}")
if out:
    fail(f"without --canonical nothing goes to stdout, got {out[:100]!r}")
for args, stdin in (([path, path], b""), (["-"], PAYLOAD_LINE.encode()),
                    ([], PAYLOAD_LINE.encode() + b"\n"),
                    (["--event", "nat_cli_command", path], b"")):
    rc, out, err = run(args, stdin)
    if rc != 0 or err:
        fail(f"the reference payload via {args}: exit {rc}, stderr {err[:300]!r}")

# the pretty-printed payload is not JSON lines: every line is a problem
rc, out, err = run([PAYLOAD])
if rc != 1:
    fail(f"the pretty-printed (multi-line) payload: exit {rc}, expected 1")

rc, out, err = run(["--canonical", path])
lines = out_lines(out)
if rc != 0 or len(lines) != 1:
    fail(f"--canonical on the payload: exit {rc}, {len(lines)} lines")
else:
    check_canonical_text(lines[0], "payload")
    got = ordered(lines[0])
    if [k for k, _ in got] != ENV_ORDER:
        fail(f"canonical envelope key order {[k for k, _ in got]}")
    d = to_dict(got)
    if not strict_eq(d, ref_payload):
        fail("canonical envelope values differ from the input's")
    for i, ev in enumerate(dict(got)["events"]):
        if [k for k, _ in ev] != ["ts", "parameters", "name"]:
            fail(f"canonical events[{i}] key order {[k for k, _ in ev]}")
        if [k for k, _ in dict(ev)["parameters"]] != CLI_ORDER:
            fail(f"canonical events[{i}].parameters key order")

# bare parameter objects, in any key order and spacing
bare = []
for i, p in enumerate(EVENTS):
    items = list(p.items())
    random.Random(i).shuffle(items)
    bare.append(json.dumps(dict(items), indent=None, separators=(" , ", " : ")))
path = tmpfile("bare.jsonl", "\n".join(bare) + "\n")
rc, out, err = run(["--canonical", path])
lines = out_lines(out)
if rc != 0 or err or len(lines) != 3:
    fail(f"bare events: exit {rc}, {len(lines)} lines, stderr {err[:300]!r}")
else:
    for i, ln in enumerate(lines):
        check_canonical_text(ln, f"bare event {i}")
        got = ordered(ln)
        if [k for k, _ in got] != CLI_ORDER:
            fail(f"bare event {i}: canonical key order {[k for k, _ in got]}")
        if not strict_eq(to_dict(got), EVENTS[i]):
            fail(f"bare event {i}: canonical values differ: {ln}")

# CRLF line ends and a last line without a newline
rc, out, err = run(["--canonical", "-"],
                   (bare[0] + "\r\n" + bare[1] + "\r\n" + bare[2]).encode())
if rc != 0 or len(out_lines(out)) != 3:
    fail(f"CRLF lines / no final newline: exit {rc}, {len(out_lines(out))} lines, "
         f"stderr {err[:200]!r}")
rc, out, err = run(["-"], (bare[0] + "\n" + '{"command":1}').encode())
if rc != 1 or not any(p[1] == 2 for p in problems(err, "last line")):
    fail(f"an invalid last line without a newline: exit {rc}, stderr {err[:200]!r}")
rc, out, err = run(["-"], b"")
if rc != 0 or out or err:
    fail(f"empty input: exit {rc}")

# ---------------------------------------------------------------- #
# 2. Errors: format, paths, every problem                            #
# ---------------------------------------------------------------- #

bad_env = copy.deepcopy(ref_payload)
bad_env["clientId"] = "123"
bad_env["sentTs"] = "2026-05-06 17:00:09"
bad_env["events"][0]["parameters"]["foo"] = 1
bad_env["events"][1]["parameters"]["durationMs"] = -2
bad_env["events"][2]["parameters"]["taskStatus"] = "paused"
bad_env["events"][2]["ts"] = "yesterday"
del bad_env["events"][2]["parameters"]["exitCode"]
lines_in = [PAYLOAD_LINE, json.dumps(bad_env), PAYLOAD_LINE, "{not json", PAYLOAD_LINE]
path = tmpfile("mixed.jsonl", "\n".join(lines_in) + "\n")
rc, out, err = run(["--canonical", path])
probs = problems(err, "mixed")
if rc != 1:
    fail(f"mixed file: exit {rc}, expected 1")
if len(out_lines(out)) != 3:
    fail(f"mixed file: {len(out_lines(out))} canonical lines, expected 3 (the valid ones)")
for src, line, p, msg in probs:
    if src != path:
        fail(f"mixed file: SOURCE is {src!r}, expected the file name {path!r}")
if {p[1] for p in probs} != {2, 4}:
    fail(f"mixed file: problems on lines {sorted({p[1] for p in probs})}, expected [2, 4]")
want = {"clientId", "sentTs", "events[0].parameters.foo", "events[1].parameters.durationMs",
        "events[2].parameters.taskStatus", "events[2].ts", "events[2].parameters.exitCode"}
got_paths = {p[2] for p in probs if p[1] == 2}
if want - got_paths:
    fail(f"mixed file line 2: missing problems at {sorted(want - got_paths)}; got "
         f"{sorted(got_paths)}")
if len([p for p in probs if p[1] == 2]) != len(want):
    fail(f"mixed file line 2: {len([p for p in probs if p[1] == 2])} problems, expected "
         f"{len(want)}: {[p[2] for p in probs if p[1] == 2]}")
if not [p for p in probs if p[1] == 4]:
    fail("mixed file: no problem for the malformed line 4")

# stdin is named "-" (or "<stdin>")
rc, out, err = run(["-"], ("\n".join(lines_in) + "\n").encode())
srcs = {p[0] for p in problems(err, "stdin")}
if rc != 1 or not srcs or not srcs <= {"-", "<stdin>"}:
    fail(f"stdin: exit {rc}, sources {srcs}")

# two files: each with its own name and line numbers; a valid file and an
# invalid one exit 1
good = tmpfile("good.jsonl", PAYLOAD_LINE + "\n")
badf = tmpfile("bad.jsonl", PAYLOAD_LINE + "\n" + PAYLOAD_LINE + "\n" + "[]\n")
rc, out, err = run([good, badf])
probs = problems(err, "two files")
if rc != 1 or [(p[0], p[1]) for p in probs] != [(badf, 3)]:
    fail(f"two files: exit {rc}, problems {[(p[0], p[1]) for p in probs]}")


def envelope_case(mutate, want_paths, label):
    e = copy.deepcopy(ref_payload)
    mutate(e)
    rc, out, err = run(["-"], json.dumps(e).encode())
    probs = problems(err, label)
    paths = {p[2] for p in probs}
    if rc != 1:
        fail(f"{label}: exit {rc}, expected 1")
    for w in want_paths:
        if w not in paths:
            fail(f"{label}: no problem at {w}; got {sorted(paths)}")


envelope_case(lambda e: e.update(events=[]), ["events"], "no events")
# 51 events and more are valid (issue 8): test_compat_reader.py
envelope_case(lambda e: e.pop("deviceId"), ["deviceId"], "missing envelope field")
envelope_case(lambda e: e.update(extraField="x"), ["extraField"], "unknown envelope field")
envelope_case(lambda e: e.update(userId="alice"), ["userId"], "identity field set")
envelope_case(lambda e: e.update(gdprBehOptIn=None), ["gdprBehOptIn"], "null GDPR flag")
envelope_case(lambda e: e.update(clientType="Web"), ["clientType"], "clientType")
envelope_case(lambda e: e.update(eventProtocol="1.5"), ["eventProtocol"], "eventProtocol")
envelope_case(lambda e: e.update(sessionId=""), ["sessionId"], "empty sessionId")
envelope_case(lambda e: e.update(events={}), ["events"], "events not an array")
envelope_case(lambda e: e["events"][1].update(name="other_event"), ["events[1].name"],
              "unknown event name")
envelope_case(lambda e: e["events"][0].pop("ts"), ["events[0].ts"], "event without ts")
envelope_case(lambda e: e["events"][0].update(extra=1), ["events[0].extra"],
              "event with an extra key")
envelope_case(lambda e: e["events"][2]["parameters"].update(exitCode="130"),
              ["events[2].parameters.exitCode"], "a string integer")
envelope_case(lambda e: e["events"][0].update(parameters=[]), ["events[0].parameters"],
              "parameters not an object")
envelope_case(lambda e: e["events"][0].update(ts="2026-05-06T17:00:05Z"), ["events[0].ts"],
              "ts without milliseconds")

# duplicate keys: on the envelope and inside parameters
dup = PAYLOAD_LINE.replace('"clientVer":"1.7.0"', '"clientVer":"1.7.0","clientVer":"1.7.0"', 1)
dup = dup.replace('"command":"run"', '"command":"run","command":"run"', 1)
rc, out, err = run(["-"], dup.encode())
paths = {p[2] for p in problems(err, "duplicates")}
if rc != 1 or "clientVer" not in paths or "events[0].parameters.command" not in paths:
    fail(f"duplicate keys: exit {rc}, paths {sorted(paths)}")

# ---------------------------------------------------------------- #
# 3. Malformed input of every kind: an error, never a crash          #
# ---------------------------------------------------------------- #

good_bare = json.dumps(EVENTS[0]).encode()
malformed = [
    b"{", b"}", b"[1,]", b"{\"a\" 1}", b"nul", b"01", b"\"abc", b"{} {}",
    good_bare[:-1], good_bare + b"x", good_bare + b" " + good_bare,
    b"\xff\xfe", good_bare.replace(b"run", b"r\xc3"), good_bare.replace(b"run", b"\xc0\x80"),
    good_bare.replace(b"run", b"\xed\xa0\x80"), good_bare.replace(b"run", b"\\ud800"),
    good_bare.replace(b"run", b"r\x01n"), good_bare.replace(b"run", b"r\x00n"),
    good_bare.replace(b"run", b"\\x41"), b"\x00", b"[" * 100000 + b"]" * 100000,
    b"{\"command\":" + b"[" * 5000, b"\xef\xbb\xbf" + good_bare,
]
payload = b"\n".join(malformed) + b"\n" + good_bare + b"\n"
rc, out, err = run(["--canonical", "-"], payload)
probs = problems(err, "malformed")
bad_set = {p[1] for p in probs}
if rc != 1:
    fail(f"malformed lines: exit {rc}, expected 1 (a crash is negative)")
missing = [i + 1 for i in range(len(malformed)) if i + 1 not in bad_set]
if missing:
    fail(f"malformed lines without an error: {missing} "
         f"({[malformed[i - 1][:40] for i in missing]})")
if len(malformed) + 1 in bad_set:
    fail("the valid line after the malformed ones was refused")
if len(out_lines(out)) != 1:
    fail(f"malformed lines: {len(out_lines(out))} canonical lines, expected 1")

# a huge line: refused with an error, in bounded memory, and the next line
# is still read
big = {"command": "x" * (6 * 1024 * 1024)}
big.update({k: v for k, v in EVENTS[0].items() if k != "command"})
huge = json.dumps(big).encode()


def run_measured(args, stdin):
    """Runs validate; returns rc, stdout, stderr and the child's peak RSS in
    KiB (which includes this Python process's pages up to exec, so compare
    runs with each other, not with an absolute figure)."""
    import threading

    p = subprocess.Popen([NATTEL, "validate"] + args, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    res = {}

    def feed():
        try:
            p.stdin.write(stdin)
        except BrokenPipeError:
            pass
        p.stdin.close()

    def drain(name, stream):
        res[name] = stream.read()

    threads = [threading.Thread(target=feed),
               threading.Thread(target=drain, args=("out", p.stdout)),
               threading.Thread(target=drain, args=("err", p.stderr))]
    for t in threads:
        t.start()
    _, status, usage = os.wait4(p.pid, 0)
    for t in threads:
        t.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, res["out"], res["err"], usage.ru_maxrss


for via in ("file", "stdin"):
    data = huge + b"\n" + good_bare + b"\n"
    small_data = good_bare + b"\n" + good_bare + b"\n"
    if via == "file":
        args = ["--canonical", tmpfile("huge.jsonl", data)]
        base_args = ["--canonical", tmpfile("base.jsonl", small_data)]
        stdin = small_stdin = b""
    else:
        args = base_args = ["--canonical", "-"]
        stdin, small_stdin = data, small_data
    _, _, _, base_rss = run_measured(base_args, small_stdin)
    rc, hout, herr, rss = run_measured(args, stdin)
    probs = problems(herr, f"huge line ({via})")
    if rc < 0:
        fail(f"huge line ({via}): killed by signal {-rc}")
    elif rc not in (1, 2):
        fail(f"huge line ({via}): exit {rc}, expected an error (1)")
    if not any(pr[1] == 1 for pr in probs):
        fail(f"huge line ({via}): no error for line 1: {herr[:300]!r}")
    if len(out_lines(hout)) != 1:
        fail(f"huge line ({via}): the valid line after it was not validated "
             f"({len(out_lines(hout))} canonical lines)")
    extra_mib = (rss - base_rss) / 1024
    if extra_mib > 4:
        fail(f"huge line ({via}): {extra_mib:.1f} MiB more resident memory than for a "
             f"small line: a 6 MiB line over the 1 MiB limit was read into memory")

# --max-line
small = tmpfile("small.jsonl", good_bare + b"\n")
rc, out, err = run(["--max-line", str(len(good_bare) - 10), small])
if rc != 1 or not problems(err, "max-line"):
    fail(f"--max-line under the line's length: exit {rc}")
rc, out, err = run(["--max-line", str(len(good_bare) + 10), small])
if rc != 0:
    fail(f"--max-line over the line's length: exit {rc}, {err[:200]!r}")

# ---------------------------------------------------------------- #
# 4. Usage and I/O errors, --help                                    #
# ---------------------------------------------------------------- #

rc, out, err = run(["--help"])
if rc != 0 or b"usage" not in out.lower() or b"--canonical" not in out:
    fail(f"--help: exit {rc}, stdout {out[:100]!r}")
rc, out, err = run(["-h"])
if rc != 0:
    fail(f"-h: exit {rc}")
missing_file = os.path.join(TMP, "does-not-exist.jsonl")
rc, out, err = run([missing_file])
if rc != 2 or missing_file.encode() not in err:
    fail(f"a missing file: exit {rc}, stderr {err[:200]!r} (expected 2, naming the file)")
rc, out, err = run([good, missing_file])
if rc != 2:
    fail(f"a good file and a missing one: exit {rc}, expected 2")
rc, out, err = run([TMP])
if rc != 2:
    fail(f"a directory as input: exit {rc}, expected 2")
for args in (["--bogus"], ["--event"], ["--schema"], ["--event", "no_such_event", good],
             ["--schema", missing_file, good],
             ["--schema", tmpfile("notjson.json", "{nope"), good],
             ["--schema", tmpfile("notschema.json", "[1,2]"), good],
             ["--max-line", "abc", good]):
    rc, out, err = run(args)
    if rc != 2 or not err.strip():
        fail(f"validate {args}: exit {rc}, expected 2 with a message; stderr {err[:200]!r}")
    if len(err.decode(errors="replace").strip().splitlines()) > 25:
        fail(f"validate {args}: the error is not short")

# ---------------------------------------------------------------- #
# 5. --model                                                          #
# ---------------------------------------------------------------- #

MODEL_FIELDS = [  # (C name, wire name, kind, default) from docs/design.md section 2
    ("nemo_source", "nemoSource", "NemoSource", "agent_toolkit"),
    ("command", "command", "string", None),
    ("subcommand", "subcommand", "string", "undefined"),
    ("task_status", "taskStatus", "TaskStatus", None),
    ("duration_ms", "durationMs", "int64", -1),
    ("exit_code", "exitCode", "int64", -1),
    ("error_class", "errorClass", "string", "undefined"),
    ("python_version", "pythonVersion", "string", None),
]
ENUM_VALUES = {
    "NemoSource": cli_schema["definitions"]["types"]["NemoSourceEnum"]["enum"],
    "TaskStatus": cli_schema["definitions"]["types"]["TaskStatusEnum"]["enum"],
}


def has_surrogate(x):
    if isinstance(x, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in x)
    if isinstance(x, dict):
        return any(has_surrogate(k) or has_surrogate(v) for k, v in x.items())
    if isinstance(x, list):
        return any(has_surrogate(v) for v in x)
    return False


def model_oracle(obj, model):
    """The expected canonical dict, or None when invalid (docs/design.md section 2)."""
    if not isinstance(obj, dict) or has_surrogate(obj):
        return None
    known = {f[0] for f in MODEL_FIELDS} | {f[1] for f in MODEL_FIELDS} if model else \
        {f[1] for f in MODEL_FIELDS}
    if any(k not in known for k in obj):
        return None
    out = {}
    for c, w, kind, default in MODEL_FIELDS:
        names = [w] + ([c] if model and c != w else [])
        given = [n for n in names if n in obj]
        if len(given) > 1:
            return None
        if not given:
            if not model or default is None:
                return None
            out[w] = default
            continue
        v = obj[given[0]]
        if kind == "string":
            if not isinstance(v, str):
                return None
        elif kind in ENUM_VALUES:
            if not isinstance(v, str) or v not in ENUM_VALUES[kind]:
                return None
        else:
            if isinstance(v, bool):
                return None
            if isinstance(v, float):
                if not v.is_integer():
                    return None
                v = int(v)
            if not isinstance(v, int) or not -(2**63) <= v <= 2**63 - 1:
                return None
            if w == "durationMs" and v < -1:
                return None
        out[w] = v
    return out


minimal = '{"command":"run","taskStatus":"success","pythonVersion":"3.11.7"}'
rc, out, err = run(["--model", "--canonical", "-"], minimal.encode())
if rc != 0:
    fail(f"--model minimal object: exit {rc}, {err[:300]!r}")
else:
    got = ordered(out.decode().strip())
    if [k for k, _ in got] != CLI_ORDER or not strict_eq(to_dict(got),
                                                         model_oracle(json.loads(minimal), True)):
        fail(f"--model canonical: {out!r}")
rc, out, err = run(["-"], minimal.encode())
if rc != 1 or len(problems(err, "wire minimal")) != 5:
    fail(f"the minimal object in wire mode: exit {rc}, expected 5 missing fields: {err!r}")
cnames = ('{"command":"run","task_status":"failure","python_version":"3.12",'
          '"exit_code":2,"error_class":"OSError"}')
rc, out, err = run(["--model", "--canonical", "-"], cnames.encode())
if rc != 0 or not strict_eq(to_dict(ordered(out.decode().strip() or "{}")),
                            model_oracle(json.loads(cnames), True)):
    fail(f"--model with C names: exit {rc}, out {out!r}, err {err!r}")
both = '{"command":"run","taskStatus":"success","task_status":"success","pythonVersion":"3"}'
rc, out, err = run(["--model", "-"], both.encode())
if rc != 1 or out:
    fail(f"--model, one field under both names: exit {rc}")
rc, out, err = run(["--model", "--event", "nat_cli_command", "-"], b'{"command":"run"}')
paths = {p[2] for p in problems(err, "model missing")}
if rc != 1 or not {"taskStatus", "pythonVersion"} <= paths:
    fail(f"--model missing required fields: exit {rc}, paths {paths}")

# ---------------------------------------------------------------- #
# 6. --schema with a foreign schema (guardrails)                     #
# ---------------------------------------------------------------- #

GUARD_EVENT = {
    "nemoSource": "guardrails",
    "sessionId": "0b1e7c1a-5f3e-4a57-9c1e-2f6d2b9c8a11",
    "nemoguardrailsVersion": "0.21.0",
    "pythonVersion": "3.13.7",
    "platform": "Linux-5.15.0-x86_64-with-glibc2.35",
    "osName": "Linux",
    "colangVersion": "1.0",
    "llmProviders": ["nim", "openai"],
    "numRailsConfigured": 4,
    "railTypesInUse": ["input", "output"],
    "tracingEnabled": False,
    "deploymentType": "library",
    "railsEngine": "LLMRails",
    "hasKnowledgeBase": True,
    "streamingConfigured": False,
    "builtinFeatures": [],
    "numCustomFlows": 0,
    "timestamp": 1767225600.25,
    "event": "startup",
}
GUARD_ORDER = list(guard_schema["definitions"]["events"]["guardrails_usage_event"]["properties"])
gargs = ["--schema", GUARD, "--event", "guardrails_usage_event", "--canonical", "-"]
rc, out, err = run(gargs, json.dumps(GUARD_EVENT).encode())
if rc != 0:
    fail(f"a valid guardrails event: exit {rc}, {err[:300]!r}")
else:
    got = ordered(out.decode().strip())
    check_canonical_text(out.decode().strip(), "guardrails")
    if [k for k, _ in got] != GUARD_ORDER or not strict_eq(to_dict(got), GUARD_EVENT):
        fail(f"guardrails canonical output differs: {out!r}")

guard_bad = [
    ("tracingEnabled", "yes", "tracingEnabled"),
    ("tracingEnabled", 1, "tracingEnabled"),
    ("numRailsConfigured", 1.5, "numRailsConfigured"),
    ("numRailsConfigured", True, "numRailsConfigured"),
    ("llmProviders", ["nim", 1], "llmProviders[1]"),
    ("llmProviders", "nim", "llmProviders"),
    ("timestamp", "now", "timestamp"),
    ("timestamp", None, "timestamp"),
    ("event", "shutdown", "event"),
    ("deploymentType", "cloud", "deploymentType"),
    ("nemoSource", "agent-toolkit", "nemoSource"),
]
glines = []
for k, v, _ in guard_bad:
    g = dict(GUARD_EVENT)
    g[k] = v
    glines.append(json.dumps(g))
g = dict(GUARD_EVENT)
del g["railsEngine"]
glines.append(json.dumps(g))
g = dict(GUARD_EVENT)
g["extra"] = 1
glines.append(json.dumps(g))
rc, out, err = run(gargs, ("\n".join(glines) + "\n").encode())
probs = problems(err, "guardrails")
if rc != 1 or out:
    fail(f"invalid guardrails events: exit {rc}, stdout {out[:100]!r}")
want_at = [(i + 1, w) for i, (_, _, w) in enumerate(guard_bad)]
want_at += [(len(guard_bad) + 1, "railsEngine"), (len(guard_bad) + 2, "extra")]
for line, w in want_at:
    if not any(p[1] == line and p[2] == w for p in probs):
        fail(f"guardrails line {line}: no problem at {w}; got "
             f"{[(p[1], p[2]) for p in probs if p[1] == line]}")
# the built-in type is still known beside the loaded ones
rc, out, err = run(["--schema", GUARD, "-"], good_bare)
if rc != 0:
    fail(f"--schema keeps nat_cli_command: exit {rc}, {err[:200]!r}")

# ---------------------------------------------------------------- #
# 7. Oracle corpora: Python json and jsonschema                      #
# ---------------------------------------------------------------- #

rnd = random.Random(1234567)
STRS = ["", "run", "serve", "undefined", "3.11.7", "ValueError", "a b", "\u00e9t\u00e9",
        "\u20ac", "\U0001F600", "tab\t", "line\nbreak", "quote\"", "back\\slash", "/",
        "\u0000", "\u001f", "\u007f", "\u2028", "\ufeff", "\ud800", "x\udc00y"]
INTS = [-1, 0, 1, 130, 1234, -2, 12.0, 1.2e1, 12.5, -1.0, 2**63 - 1, 2**63, -(2**63),
        -(2**63) - 1, 1e18, 1e19, "12", True, None]


def random_obj(model):
    obj = {}
    for c, w, kind, default in MODEL_FIELDS:
        r = rnd.random()
        if r < 0.08:
            continue  # missing
        name = c if model and r > 0.85 else w
        if kind == "string":
            v = rnd.choice(STRS) if rnd.random() < 0.95 else rnd.choice([1, None, ["x"]])
        elif kind in ENUM_VALUES:
            v = rnd.choice(ENUM_VALUES[kind]) if rnd.random() < 0.9 else \
                rnd.choice(["Success", "", "agent-toolkit", 3])
        else:
            v = rnd.choice(INTS) if rnd.random() < 0.5 else rnd.randrange(-1, 10**6)
        obj[name] = v
        if model and c != w and rnd.random() < 0.02:
            obj[c if name == w else w] = v  # both names
    if rnd.random() < 0.04:
        obj[rnd.choice(["foo", "Command", "duration", "nemo"])] = 1
    items = list(obj.items())
    if rnd.random() < 0.3:
        rnd.shuffle(items)
    return dict(items)


def dumps_random(obj):
    sep = rnd.choice([(",", ":"), (", ", ": "), (" ,", " : ")])
    return json.dumps(obj, ensure_ascii=rnd.random() < 0.5, separators=sep)


cli_v = Draft7Validator(cli_schema) if HAVE_JSONSCHEMA else None
for model in (False, True):
    objs = [random_obj(model) for _ in range(1500)]
    texts = [dumps_random(o) for o in objs]
    expected = [model_oracle(json.loads(t), model) for t in texts]
    if not model and cli_v is not None:
        # the hand-written oracle agrees with the reference schema (a check
        # of the oracle itself), surrogates aside
        for t, e in zip(texts, expected):
            o = json.loads(t)
            if not has_surrogate(o) and cli_v.is_valid(o) != (e is not None):
                fail(f"test oracle disagrees with the reference schema on {t}")
                break
    args = (["--model"] if model else []) + ["--canonical", "-"]
    rc, out, err = run(args, ("\n".join(texts) + "\n").encode("utf-8", "surrogatepass"))
    bad = {p[1] for p in problems(err, f"corpus model={model}")}
    outs = out_lines(out)
    n_valid = sum(e is not None for e in expected)
    label = "model" if model else "wire"
    if n_valid < 100 or n_valid > len(texts) - 100:
        fail(f"{label} corpus lopsided: {n_valid} valid of {len(texts)}")
    if rc != (1 if n_valid < len(texts) else 0):
        fail(f"{label} corpus: exit {rc}")
    shown = 0
    k = 0
    for i, (t, e) in enumerate(zip(texts, expected)):
        line = i + 1
        if (e is None) != (line in bad):
            shown += 1
            if shown <= 8:
                fail(f"{label} corpus line {line}: nattel says "
                     f"{'invalid' if line in bad else 'valid'}, the oracle "
                     f"{'invalid' if e is None else 'valid'}: {t}")
            if line not in bad:
                k += 1  # it printed a line for it
            continue
        if e is None:
            continue
        if k >= len(outs):
            fail(f"{label} corpus: canonical output ends before line {line}")
            break
        text = outs[k]
        k += 1
        check_canonical_text(text, f"{label} corpus line {line}")
        got = ordered(text)
        if [kk for kk, _ in got] != CLI_ORDER or not strict_eq(to_dict(got), e):
            shown += 1
            if shown <= 8:
                fail(f"{label} corpus line {line}: canonical {text} for input {t}; "
                     f"expected {json.dumps(e, ensure_ascii=False)}")
    if k != len(outs):
        fail(f"{label} corpus: {len(outs)} canonical lines for {k} valid documents")
    if shown:
        fail(f"{label} corpus: {shown} disagreements with the oracle")

# envelopes: jsonschema with the envelope and event schemas as the oracle
if HAVE_JSONSCHEMA:
    env_v = Draft7Validator(env_schema)

    def env_oracle(e):
        if not env_v.is_valid(e) or has_surrogate(e):
            return False
        # any number of events (issue 8): the 50 cap binds senders only
        return all(ev["name"] == "nat_cli_command" and cli_v.is_valid(ev["parameters"])
                   for ev in e["events"])

    def mutate_env(e):
        r = rnd.randrange(12)
        keys = [k for k in ENV_ORDER if k not in ("eventSchemaVer", "eventSysVer")]
        if r == 0:
            pass
        elif r == 1:
            e[rnd.choice(keys)] = rnd.choice(["undefined", "None", "", 1, None, "x"])
        elif r == 2:
            del e[rnd.choice(keys)]
        elif r == 3:
            e[rnd.choice(["extra", "events2", "clientid"])] = "undefined"
        elif r == 4:
            e["sentTs"] = rnd.choice(["2026-05-06T17:00:09.999Z", "2026-05-06T17:00:09Z",
                                      "2026-05-06T17:00:09.9999Z", "2026-05-06 17:00:09.999Z",
                                      "", 0])
        elif r == 5:
            e["events"] = e["events"][: rnd.randrange(0, 4)]
        elif r == 6:
            ev = rnd.choice(e["events"])
            ev["parameters"][rnd.choice(CLI_ORDER)] = rnd.choice(INTS + STRS[:4])
        elif r == 7:
            ev = rnd.choice(e["events"])
            ev[rnd.choice(["ts", "name"])] = rnd.choice(["", "nat_cli_command", "x", 1,
                                                         "2026-05-06T17:00:05.000Z"])
        elif r == 8:
            ev = rnd.choice(e["events"])
            del ev[rnd.choice(["ts", "parameters", "name"])]
        elif r == 9:
            e["events"] = e["events"] * rnd.choice([1, 10, 16, 17])
        elif r == 10:
            e[rnd.choice(["clientVer", "cpuArchitecture", "sessionId"])] = \
                rnd.choice(["", "aarch64", "2.0.0rc1", "\u00e9"])
        else:
            ev = rnd.choice(e["events"])
            ev["parameters"] = model_like = {k: v for k, v in ev["parameters"].items()
                                             if rnd.random() < 0.9}
            del model_like
        return e

    envs = [mutate_env(copy.deepcopy(ref_payload)) for _ in range(600)]
    texts = [json.dumps(e, ensure_ascii=rnd.random() < 0.5,
                        separators=rnd.choice([(",", ":"), (", ", ": ")])) for e in envs]
    expected = [env_oracle(e) for e in envs]
    rc, out, err = run(["--canonical", "-"], ("\n".join(texts) + "\n").encode())
    bad = {p[1] for p in problems(err, "envelope corpus")}
    outs = out_lines(out)
    k = 0
    shown = 0
    for i, (t, e, ok) in enumerate(zip(texts, envs, expected)):
        if ok == ((i + 1) in bad):
            shown += 1
            if shown <= 6:
                fail(f"envelope corpus line {i + 1}: nattel says "
                     f"{'invalid' if (i + 1) in bad else 'valid'}, the schemas "
                     f"{'valid' if ok else 'invalid'}: {t[:600]}")
            if (i + 1) not in bad:
                k += 1
            continue
        if ok:
            want_env = copy.deepcopy(e)
            for ev in want_env["events"]:  # integers are written as integers
                for key in ("durationMs", "exitCode"):
                    if isinstance(ev["parameters"][key], float):
                        ev["parameters"][key] = int(ev["parameters"][key])
            if k < len(outs) and not strict_eq(to_dict(ordered(outs[k])), want_env):
                fail(f"envelope corpus line {i + 1}: canonical values differ:\n"
                     f"  input     {t[:3000]}\n  canonical {outs[k][:3000]}")
            k += 1
    if shown:
        fail(f"envelope corpus: {shown} disagreements with the reference schemas")
    nv = sum(expected)
    if nv < 60 or nv > len(envs) - 60:
        fail(f"envelope corpus lopsided: {nv} valid of {len(envs)}")

print(f"validate CLI: {len(failures)} failure(s)")
tl.finish()
