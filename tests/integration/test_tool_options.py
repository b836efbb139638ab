#!/usr/bin/env python3
"""One way to parse options in every `nattel` command (getopt_long, a table
per command): `--opt=value` and `--opt value` mean the same, a missing value
is named as such, an unknown option (an abbreviation included) names itself,
every usage error is one line `nattel CMD: ... (see 'nattel CMD --help')`
with exit 2, `nattel help CMD` prints what `nattel CMD --help` prints, and
`--version` / `-V` print the version.

Environment: NATTEL_BIN, NATTEL_TEST_TMP.
"""

import json
import os
import subprocess
import sys

import nattel_testlib as tl
from nattel_testlib import check

BIN = tl.tool()

COMMANDS = ["schema", "validate", "emit", "consent", "status", "flush", "log",
            "serve", "report", "capture"]


def run(args, extra=None, home=None, stdin="", cwd=None):
    e = tl.tool_env(extra, home=home or None, drop=("NATTEL_",))
    return subprocess.run([BIN] + args, env=e, capture_output=True, text=True,
                          input=stdin, timeout=60, cwd=cwd)


def usage_error(p, cmd, *words):
    """Exit 2, nothing on stdout, one stderr line naming the command, the
    words and the help hint."""
    hint = f"(see 'nattel {cmd} --help')" if cmd else "(see 'nattel --help')"
    prefix = f"nattel {cmd}: " if cmd else "nattel: "
    ok = (p.returncode == 2 and p.stdout == "" and p.stderr.count("\n") == 1
          and p.stderr.startswith(prefix) and hint in p.stderr
          and all(w in p.stderr for w in words))
    return ok


def audit_dir(home):
    """A state directory whose audit log holds three records."""
    state = os.path.join(home, "state")
    for d in (state, os.path.join(state, "spool"), os.path.join(state, "claims")):
        os.makedirs(d, mode=0o700, exist_ok=True)
        os.chmod(d, 0o700)
    with open(os.path.join(state, "audit.log"), "w") as f:
        for i in range(3):
            f.write(json.dumps({"ts": f"2026-01-0{i + 1}T00:00:00.000Z",
                                "outcome": "sent", "events": i + 1,
                                "http_status": 200, "reason": f"r{i}",
                                "endpoint": "http://127.0.0.1:1/",
                                "payload": None}) + "\n")
    os.chmod(os.path.join(state, "audit.log"), 0o600)
    return state


def equivalence(home):
    """--opt=value and --opt value: the same output and exit status."""
    state = audit_dir(home)
    emit_env = {"NAT_TELEMETRY_ENABLED": "1", "NAT_TELEMETRY_ENDPOINT": "stdout"}
    cases = [
        # (command, option, value, extra args, env, stdin)
        ("schema", "--event", "nat_cli_command", [], {}, ""),
        ("validate", "--max-line", "8", [], {}, '{"events":[1,2,3]}\n'),
        ("log", "--lines", "2", ["--json"], {"NATTEL_STATE_DIR": state}, ""),
        ("serve", "--max-body", "0", [], {}, ""),
        ("report", "--db", os.path.join(home, "missing.db"), [], {}, ""),
    ]
    for cmd, opt, val, extra, e, stdin in cases:
        a = run([cmd, f"{opt}={val}"] + extra, e, home, stdin)
        b = run([cmd, opt, val] + extra, e, home, stdin)
        check((a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr),
              f"{cmd} {opt}=V vs {opt} V: {a.returncode} {a.stdout[:80]!r} "
              f"{a.stderr!r} / {b.returncode} {b.stdout[:80]!r} {b.stderr!r}")
    # what the values did
    p = run(["log", "--lines=2", "--json"], {"NATTEL_STATE_DIR": state}, home)
    check(p.returncode == 0 and [json.loads(x)["reason"] for x in p.stdout.splitlines()]
          == ["r1", "r2"], f"log --lines=2: {p.returncode} {p.stdout!r} {p.stderr!r}")
    for form in (["-n", "1"], ["-n1"], ["--lines", "1"], ["--lines=1"]):
        p = run(["log", "--json"] + form, {"NATTEL_STATE_DIR": state}, home)
        check(p.returncode == 0 and len(p.stdout.splitlines()) == 1
              and '"r2"' in p.stdout, f"log {form}: {p.returncode} {p.stdout!r}")
    p = run(["serve", "--max-body=0"], {}, home)
    check(usage_error(p, "serve", "--max-body", "'0'"), f"serve --max-body=0: {p.stderr!r}")
    p = run(["validate", "--max-line=8"], {}, home, '{"events":[1,2,3]}\n')
    check(p.returncode == 1 and "longer than 8 bytes" in p.stderr,
          f"validate --max-line=8: {p.returncode} {p.stderr!r}")
    p = run(["validate", "--max-line", "64"], {}, home, '{"events":[1,2,3]}\n')
    check("longer than" not in p.stderr, f"validate --max-line 64: {p.stderr!r}")
    # emit: the value reaches the payload either way
    for form in (["--client-version=2.1.0"], ["--client-version", "2.1.0"]):
        p = run(["emit", "--command", "run", "--status=success"] + form, emit_env, home)
        check(p.returncode == 0 and '"clientVer":"2.1.0"' in p.stderr
              and '"taskStatus":"success"' in p.stderr,
              f"emit {form}: {p.returncode} {p.stderr!r}")
    # validate takes options after its files, and files after "--"
    good = os.path.join(home, "one.jsonl")
    with open(good, "w") as f:
        f.write('{"events": 5}\n')
    a = run(["validate", good, "--model"], {}, home)
    b = run(["validate", "--model", good], {}, home)
    check(a.returncode == b.returncode == 1 and a.stderr == b.stderr,
          f"validate FILE --model: {a.returncode} {a.stderr!r} / {b.returncode}")
    dash = os.path.join(home, "--odd")
    with open(dash, "w") as f:
        f.write("")
    p = run(["validate", "--", "--odd"], {}, home, cwd=home)
    check(p.returncode == 0, f"validate -- --odd: {p.returncode} {p.stderr!r}")


def missing_values(home):
    cases = [("schema", ["--event"], "--event"), ("validate", ["--schema"], "--schema"),
             ("emit", ["--command", "run", "--status"], "--status"),
             ("log", ["-n"], "-n"), ("log", ["--lines"], "--lines"),
             ("serve", ["--db"], "--db"), ("report", ["--db"], "--db"),
             ("capture", ["--expect"], "--expect")]
    for cmd, args, opt in cases:
        p = run([cmd] + args, {}, home)
        check(usage_error(p, cmd, f"option '{opt}' needs a value")
              and "unexpected argument" not in p.stderr,
              f"{cmd} {args}: {p.returncode} {p.stderr!r}")
    # an option that takes no value, given one
    for cmd, opt in (("status", "--json"), ("flush", "--json"), ("consent", "--status"),
                     ("validate", "--model"), ("report", "--json"), ("serve", "--quiet"),
                     ("capture", "--json")):
        p = run([cmd, opt + "=1"], {}, home)
        check(usage_error(p, cmd, f"option '{opt}' takes no value"),
              f"{cmd} {opt}=1: {p.returncode} {p.stderr!r}")


def unknown_options(home):
    for cmd in COMMANDS:
        for bad in ("--nope", "--nope=3", "-Z"):
            p = run([cmd, bad], {}, home)
            name = bad.split("=")[0]
            check(usage_error(p, cmd, f"unknown option '{name}'"),
                  f"{cmd} {bad}: {p.returncode} {p.stderr!r}")
    # a bad letter inside a group after a long option is named as itself
    p = run(["status", "--json", "-Zq"], {}, home)
    check(usage_error(p, "status", "unknown option '-Z'"), f"status --json -Zq: {p.stderr!r}")
    p = run(["log", "--json", "-n"], {}, home)
    check(usage_error(p, "log", "option '-n' needs a value"), f"log --json -n: {p.stderr!r}")
    # no abbreviations: a prefix is not the option
    for cmd, abbrev in (("status", "--js"), ("consent", "--en"), ("emit", "--com"),
                        ("schema", "--ev"), ("serve", "--max-b")):
        p = run([cmd, abbrev, "x"] if cmd in ("emit", "schema", "serve") else [cmd, abbrev],
                {}, home)
        check(usage_error(p, cmd, f"unknown option '{abbrev}'"),
              f"{cmd} {abbrev}: {p.returncode} {p.stderr!r}")
    # operands where a command takes none
    for cmd in ("schema", "emit", "consent", "status", "flush", "log", "serve", "report"):
        p = run([cmd, "stray"], {}, home)
        check(usage_error(p, cmd, "unexpected argument 'stray'"),
              f"{cmd} stray: {p.returncode} {p.stderr!r}")
    p = run(["--nope"], {}, home)
    check(usage_error(p, None, "unknown option '--nope'"), f"--nope: {p.stderr!r}")
    p = run(["nope"], {}, home)
    check(usage_error(p, None, "unknown command 'nope'"), f"nope: {p.stderr!r}")
    p = run([], {}, home)
    check(p.returncode == 2 and p.stdout == "" and "usage: nattel" in p.stderr,
          f"no command: {p.returncode} {p.stderr[:60]!r}")


def help_and_version(home):
    top = run(["--help"], {}, home)
    check(top.returncode == 0 and top.stdout.startswith("usage: nattel [--version]")
          and "--version" in top.stdout and "help" in top.stdout,
          f"--help: {top.returncode} {top.stdout[:80]!r}")
    for args in (["help"], ["-h"], ["help", "--help"]):
        p = run(args, {}, home)
        check(p.returncode == 0 and p.stdout == top.stdout, f"{args}: {p.returncode}")
    for cmd in COMMANDS:
        a = run(["help", cmd], {}, home)
        b = run([cmd, "--help"], {}, home)
        c = run([cmd, "-h"], {}, home)
        check(a.returncode == 0 and a.stdout.startswith(f"usage: nattel {cmd}")
              and a.stdout == b.stdout == c.stdout and a.stderr == "",
              f"help {cmd}: {a.returncode} {a.stdout[:60]!r} vs {b.stdout[:60]!r}")
        # help wins wherever it is among the options, errors or not
        p = run([cmd, "--nope", "--help"], {}, home)
        check(p.returncode == 0 and p.stdout == b.stdout, f"{cmd} --nope --help: {p.returncode}")
    # a value is not an option: emit's command named "--help"
    p = run(["emit", "--command", "--help"], {}, home)
    check(usage_error(p, "emit", "--status"), f"emit --command --help: {p.returncode} {p.stderr!r}")
    p = run(["help", "nope"], {}, home)
    check(p.returncode == 2 and p.stdout == "" and "unknown command 'nope'" in p.stderr
          and p.stderr.count("\n") == 1, f"help nope: {p.returncode} {p.stderr!r}")
    p = run(["help", "status", "log"], {}, home)
    check(usage_error(p, "help", "unexpected argument 'log'"), f"help 2 args: {p.stderr!r}")
    for flag in ("--version", "-V"):
        p = run([flag], {}, home)
        check(p.returncode == 0 and p.stdout.startswith("nattel ")
              and len(p.stdout.split()) == 2 and p.stderr == "",
              f"{flag}: {p.returncode} {p.stdout!r}")


def main():
    with tl.tempdir("options-") as home:
        equivalence(home)
        missing_values(home)
        unknown_options(home)
        help_and_version(home)
    return tl.summary()


if __name__ == "__main__":
    sys.exit(main())
