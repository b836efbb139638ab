#!/usr/bin/env python3
"""The strict reader's verdicts against Python's json module, on the fuzz
seed corpora and on documents generated here (valid ones, then mutated).

Each document is one line given to `nattel validate`; the line is refused
as JSON when one of its problems sits at "$" and says "invalid JSON" or
names a JSON limit. Python is strict here (control characters refused;
NaN and Infinity refused through parse_constant; bytes decoded as strict
UTF-8); where RFC 8259 readers may differ, nattel is stricter on purpose and
the Python verdict is adjusted: a lone UTF-16 surrogate (escaped) is refused,
and nesting deeper than 64 levels is refused.
"""
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nattel_testlib import check, env, failures  # noqa: E402

MAX_DEPTH = 64


def reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def depth(v):
    if isinstance(v, dict):
        return 1 + max((depth(x) for x in v.values()), default=0)
    if isinstance(v, list):
        return 1 + max((depth(x) for x in v), default=0)
    return 0


def lone_surrogate(v):
    if isinstance(v, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in v)
    if isinstance(v, dict):
        return any(lone_surrogate(k) or lone_surrogate(x) for k, x in v.items())
    if isinstance(v, list):
        return any(lone_surrogate(x) for x in v)
    return False


def python_accepts(doc):
    try:
        text = doc.decode("utf-8")
        v = json.loads(text, parse_constant=reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return not lone_surrogate(v) and depth(v) <= MAX_DEPTH


def gen_value(rnd, d):
    k = rnd.randrange(9 if d < 6 else 5)
    if k == 0:
        return rnd.choice([0, -1, 12, 2**63, -(2**63) - 1, 1.5, -0.0, 1e300])
    if k == 1:
        return rnd.choice(["", "run", "caf\u00e9", "\u2028", "a\"b\\c", "\x01",
                           "\U0001F600", "tab\t", "\u0000"])
    if k == 2:
        return rnd.choice([True, False, None])
    if k in (3, 4):
        return rnd.choice(["x", "y"])
    if k in (5, 6):
        return [gen_value(rnd, d + 1) for _ in range(rnd.randrange(4))]
    return {rnd.choice(["a", "b", "command", "\u00e9", "k\\"]): gen_value(rnd, d + 1)
            for _ in range(rnd.randrange(4))}


SPELLINGS = [b"\\u00e9", b"\\ud83d\\ude00", b"\\ud800", b"\\udc00x", b"1e400",
             b"-0", b"01", b"1.", b".5", b"1e", b"tru", b"nul", b"[1,]",
             b"{\"a\" 1}", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
             b"\xc0\xaf", b"\x00", b"\\x", b"\\u12", b"NaN", b"Infinity", b" ",
             b"\t", b"\r", b"\x0c", b"\xef\xbb\xbf"]


def mutate(rnd, doc):
    doc = bytearray(doc)
    for _ in range(rnd.randrange(1, 3)):
        at = rnd.randrange(len(doc) + 1)
        op = rnd.randrange(4)
        if op == 0 and doc:
            del doc[min(at, len(doc) - 1)]
        elif op == 1:
            doc[at:at] = rnd.choice(SPELLINGS)
        elif op == 2 and doc:
            doc[min(at, len(doc) - 1)] = rnd.choice(b"{}[]\",:\\ 0-1eE.tfn\x01\x80")
        else:
            doc = doc[:at]
    return bytes(doc)


def documents(source_dir):
    docs = []
    corpus = os.path.join(source_dir, "fuzz", "corpus")
    for sub in sorted(os.listdir(corpus)):
        if sub in ("consent",):
            continue  # TOML, not JSON
        d = os.path.join(corpus, sub)
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name), "rb") as f:
                docs.append(f.read())
    rnd = random.Random(20261125)
    for _ in range(4000):
        v = gen_value(rnd, 0)
        doc = json.dumps(v, ensure_ascii=rnd.random() < 0.5,
                         separators=rnd.choice([(",", ":"), (", ", ": ")])).encode()
        if rnd.random() < 0.6:
            doc = mutate(rnd, doc)
        docs.append(doc)
    for n in (63, 64, 65):
        docs.append(b"[" * n + b"]" * n)
    # One line each: a newline inside a document would split it.
    return [d for d in docs if b"\n" not in d and d.strip(b" \t\r")]


def main():
    tool = env("NATTEL_BIN")
    source = env("NATTEL_SOURCE_DIR")
    tmp = env("NATTEL_TEST_TMP")
    os.makedirs(tmp, exist_ok=True)
    docs = documents(source)
    path = os.path.join(tmp, "reader_pyjson.jsonl")
    with open(path, "wb") as f:
        f.write(b"\n".join(docs) + b"\n")
    r = subprocess.run([tool, "validate", path], capture_output=True, timeout=120)
    check(r.returncode in (0, 1), f"validate exit {r.returncode}: {r.stderr[-300:]!r}")
    refused = set()
    prefix = path.encode() + b":"
    for line in r.stderr.split(b"\n"):
        if not line.startswith(prefix):
            continue
        num, _, rest = line[len(prefix):].partition(b": ")
        if rest.startswith(b"$: invalid JSON") or rest.startswith(b"$: JSON "):
            refused.add(int(num))
    differ = []
    accepted = 0
    for i, doc in enumerate(docs, 1):
        ours = i not in refused
        theirs = python_accepts(doc)
        accepted += theirs
        if ours != theirs:
            differ.append((i, ours, theirs, doc[:120]))
    for i, ours, theirs, doc in differ[:10]:
        print(f"line {i}: nattel {'accepts' if ours else 'refuses'}, "
              f"Python {'accepts' if theirs else 'refuses'}: {doc!r}", file=sys.stderr)
    check(not differ, f"{len(differ)} of {len(docs)} verdicts differ from Python's json")
    # Both kinds of document must be there, or the comparison says little.
    check(accepted > len(docs) // 5 and len(docs) - accepted > len(docs) // 5,
          f"unbalanced corpus: {accepted} of {len(docs)} valid")
    print(f"{len(docs)} documents, {accepted} valid JSON; verdicts agree: {not differ}")
    if failures:
        for f in failures:
            print("FAIL: " + f, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
