#!/usr/bin/env python3
"""Differential test of the consent-file reader against Python's tomllib.

A generated corpus of consent files (hand-picked shapes, every TOML value
type in neighbouring tables, and seeded random mutations that are mostly
malformed) is read by `nattel status --json` and by the upstream rules on
top of tomllib. For each file: what tomllib refuses must read as
"never_asked" and be reported malformed; what tomllib reads must give the
same consent state.

Env: NATTEL_BIN (the tool), NATTEL_TEST_TMP (scratch), NATTEL_ORACLE_SEED
(optional, to replay a run). Exit 77 when tomllib is missing.
"""
import json
import os
import random
import subprocess
import sys

import nattel_testlib as tl

try:
    import tomllib
except ImportError:
    tl.skip("Python's tomllib (3.11+) is not available")

BIN = tl.tool()

PROMPT_VERSION = "1.0"


def upstream_state(raw: bytes):
    """(state, malformed) by the upstream read_persisted_consent rules."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return "never_asked", True
    try:
        section = data.get("telemetry", {})
        consent = section.get("consent")
        version = section.get("prompt_version")
    except AttributeError:  # telemetry is not a table
        return "never_asked", False
    if consent not in ("enabled", "disabled"):
        return "never_asked", False
    if version == PROMPT_VERSION:
        return consent, False
    return ("disabled" if consent == "disabled" else "never_asked"), False


HEADER = ("# NeMo Agent Toolkit telemetry consent.\n"
          "# To change, run `nat configure telemetry --enable | --disable`,\n"
          "# or set the NAT_TELEMETRY_ENABLED environment variable.\n")

VALUES = [
    # well-formed values of every type
    '1', '-0', '+17', '1_000', '0xDEAD_beef', '0o755', '0b1101', '3.1415',
    '-1e-7', '6.626E+34', '1_0.0_1', 'inf', '-inf', '+nan', 'nan', 'true',
    'false', '1979-05-27T07:32:00Z', '1979-05-27t07:32:00.123456789+05:30',
    '1979-05-27 07:32:00', '1979-05-27', '07:32:00', '00:00:00.5',
    '2000-02-29', '"s"', '""', "'lit'", "''", '"\\u00e9\\U0001F600"',
    '"a\\"b\\\\c\\t"', '"""\nml\\\n   basic"""', "'''\nml lit'''",
    '"""q""""', "'''q'''''", '[]', '[1, 2, ]', '[[1], ["a"], [{x = 1}]]',
    '[\n  1, # c\n  2,\n]', '{}', '{a = 1, b.c = "x"}', '{ a = { b = [] } }',
    # malformed values
    '01', '1__0', '_1', '1_', '1.', '.1', '1e', '0x', '0x_1', '+0x1', '0X1',
    '1979-02-29', '2023-13-01', '0000-01-01', '1979-05-27T25:00:00',
    '24:00:00', '1979-05-27T07:32', 'True', 'yes', 'nul', '"open', "'open",
    '"""open', '"bad \\x"', '"\\ud800"', '"\\U00110000"', '[1 2]', '[1,,2]',
    '[', '{a = 1,}', '{a = 1\n}', '{a = 1, a = 2}', '"tab\x7f"', '',
]

KEYS = ['key', '"quoted key"', "'lit key'", 'a.b', '"a.b"', 'a . "b"', '1',
        '-', '""', 'k\u00e9', 'a..b', '[x]']


def consent_lines(consent, version, quote='"'):
    lines = []
    if consent is not None:
        lines.append(f"consent = {quote}{consent}{quote}")
    lines.append('consented_at = "2026-01-02T03:04:05Z"')
    if version is not None:
        lines.append(f"prompt_version = {quote}{version}{quote}")
    return lines


def shapes():
    """Hand-picked consent files: the upstream layout and its neighbours."""
    out = []
    for consent in ("enabled", "disabled", "Enabled", "", None, "yes"):
        for version in ("1.0", "0.9", "1.00", "", None):
            for quote in ('"', "'"):
                body = "\n".join(consent_lines(consent, version, quote))
                out.append(HEADER + "[telemetry]\n" + body + "\n")
    out += [
        "",
        "[telemetry]\n",
        "telemetry = 1\n",
        'telemetry = "enabled"\n',
        "[[telemetry]]\nconsent = 'enabled'\nprompt_version = '1.0'\n",
        "telemetry = {consent = 'enabled', prompt_version = '1.0'}\n",
        "telemetry.consent = 'disabled'\n",
        "telemetry.consent = 'enabled'\ntelemetry.prompt_version = '1.0'\n",
        "[telemetry]\nconsent = 'enabled'\nprompt_version = 1.0\n",
        "[telemetry]\nconsent = 'disabled'\nprompt_version = 1.0\n",
        "[telemetry]\nconsent = true\nprompt_version = '1.0'\n",
        "[telemetry]\nconsent = ['enabled']\nprompt_version = '1.0'\n",
        "[telemetry]\r\nconsent = \"enabled\"\r\nprompt_version = \"1.0\"\r\n",
        "[telemetry]\rconsent = \"enabled\"\n",
        "\ufeff[telemetry]\nconsent = 'enabled'\nprompt_version = '1.0'\n",
        "  [ telemetry ]  # t\n\tconsent\t=\t'enabled'  # c\n"
        "prompt_version='1.0'#x\n",
        "[telemetry]\nconsent = \"\\u0065nabled\"\nprompt_version = \"1\\u002e0\"\n",
        "[telemetry]\nconsent = \"\"\"enabled\"\"\"\nprompt_version = '''1.0'''\n",
        "[telemetry]\nconsent = \"\"\"\nenabled\"\"\"\nprompt_version = '1.0'\n",
        "[telemetry]\nconsent = 'enabled'\nprompt_version = '1.0'\n[telemetry]\n",
        "[telemetry]\nconsent = 'disabled'\nconsent = 'disabled'\n",
        "[telemetry.sub]\nx = 1\n[telemetry]\nconsent = 'disabled'\n",
        "[telemetry]\nconsent = 'disabled'\n[telemetry.sub]\nx = 1\n",
        "[telemetry]\nsub.x = 1\nconsent = 'disabled'\n[telemetry.sub]\n",
        "[a]\nb = 1\n[a.b]\n[telemetry]\nconsent = 'disabled'\n",
        "[telemetry]\nconsent = 'disabled'\nprompt_version = '1.0'\n"
        "[[x]]\n[[x.y]]\n[x.y.z]\n[[x]]\n[x.y]\n",
        "a = [1]\n[[a]]\n[telemetry]\nconsent = 'disabled'\n",
        "a = {b = 1}\n[a.c]\n[telemetry]\nconsent = 'disabled'\n",
        "[telemetry]\nconsent = 'disabled' # \u2603 comment\n",
        "[telemetry]\nconsent = 'disabled' # ctrl \x01\n",
        "[telemetry]\nconsent = 'disabled'\nprompt_version = '1.0'\n# end",
        "[telemetry]\nconsent = 'enabled'\nprompt_version = '1.0'\nx = \"\xff\"\n",
    ]
    return [s.encode("utf-8", "surrogatepass") if isinstance(s, str) else s
            for s in out]


def with_neighbours(rng):
    """The upstream layout with other tables and keys around it."""
    consent = rng.choice(["enabled", "disabled"])
    version = rng.choice(["1.0", "1.0", "0.9"])
    tel = ["[telemetry]"] + consent_lines(consent, version)
    other = []
    for _ in range(rng.randint(1, 4)):
        other.append(f"{rng.choice(KEYS)} = {rng.choice(VALUES)}")
    table = rng.choice(["[other]", "[x.y]", "[[arr]]", "[telemetry.extra]", ""])
    pieces = [HEADER, "\n".join(tel), table, "\n".join(other)]
    if rng.random() < 0.5:
        pieces[1], pieces[3] = pieces[3], pieces[1]
    if rng.random() < 0.3:  # extra keys inside [telemetry] itself
        tel.insert(rng.randint(1, len(tel)), f"{rng.choice(KEYS)} = {rng.choice(VALUES)}")
        pieces[1 if pieces[1].startswith("[telemetry]") else 3] = "\n".join(tel)
    return ("\n".join(p for p in pieces if p) + "\n").encode("utf-8")


ALPHABET = list("[]{}=\"'.,#\n \t\\_-+:eE01xTZ") + ["\r\n", "\r", "\x00", "\u00e9", "\x7f"]


def mutate(rng, raw: bytes):
    s = raw.decode("utf-8", "replace")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(s) + 1)
        op = rng.random()
        if op < 0.4 and s:
            s = s[:i] + s[i + 1:]
        elif op < 0.8:
            s = s[:i] + rng.choice(ALPHABET) + s[i:]
        else:
            s = s[:i]
    return s.encode("utf-8")


def nattel_read(path):
    env = tl.tool_env({"NAT_TELEMETRY_CONSENT_FILE": path})
    proc = subprocess.run([BIN, "status", "--json"], env=env, capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=30)
    if proc.returncode != 0:
        raise AssertionError(f"nattel status exited {proc.returncode}: {proc.stderr!r}")
    doc = json.loads(proc.stdout)
    return doc["fileConsent"], doc["fileNote"].startswith("malformed")


def main():
    seed = int(os.environ.get("NATTEL_ORACLE_SEED", random.SystemRandom().randrange(1 << 30)))
    rng = random.Random(seed)
    corpus = shapes()
    corpus += [with_neighbours(rng) for _ in range(500)]
    corpus += [mutate(rng, rng.choice(corpus)) for _ in range(900)]

    mismatches = []
    stats = {"malformed": 0, "enabled": 0, "disabled": 0, "never_asked": 0}
    with tl.tempdir("toml-oracle-") as tmp:
        path = os.path.join(tmp, "telemetry.toml")
        for i, raw in enumerate(corpus):
            with open(path, "wb") as f:
                f.write(raw)
            want, want_bad = upstream_state(raw)
            got, got_bad = nattel_read(path)
            stats["malformed" if want_bad else want] += 1
            if (want, want_bad) != (got, got_bad):
                mismatches.append(f"#{i}: tomllib says {want} (malformed={want_bad}), "
                                  f"nattel {got} (malformed={got_bad}):\n{raw!r}")
    print(f"seed {seed}: {len(corpus)} files; oracle: {stats}")
    if mismatches:
        print(f"{len(mismatches)} disagreements (replay: NATTEL_ORACLE_SEED={seed})",
              file=sys.stderr)
        for f in mismatches[:25]:
            print(f, file=sys.stderr)
    tl.check(not mismatches, f"{len(mismatches)} disagreements with tomllib (seed {seed})")
    # The corpus must exercise every outcome, or the test proves little.
    tl.check(min(stats.values()) > 0, f"corpus lacks an outcome: {stats}")
    return tl.summary()

if __name__ == "__main__":
    sys.exit(main())
