#!/usr/bin/env python3
"""Issue 8: a big consent file on a real terminal (pty.fork: stdin, stdout
and stderr are the terminal, so the first-run prompt would be shown).

A consent file is read whole up to 1 MiB; a larger one reads as disabled.
Before, a file over 8 KiB read as "never asked": the prompt appeared and
Enter turned a "disabled" into "enabled". Here, for files of 20 KiB, just
under 1 MiB and over 1 MiB, holding "disabled" or "enabled" under the
current prompt_version: no prompt appears (Enter is typed anyway, as a
user would), the file is byte for byte unchanged (same inode, same mtime),
and the payload goes out exactly when the file allows it (files over 1 MiB:
never). Python's tomllib is the oracle that every file is valid TOML that
says what we wrote.
Env: NATTEL_BIN, NATTEL_TEST_TMP."""
import os
import subprocess
import sys

import nattel_testlib as tl
from nattel_testlib import check, failures

try:
    import tomllib
except ImportError:
    tl.skip("Python's tomllib (3.11+) is not available")

BIN = tl.tool()
PROMPT_END = b"[Y/n]: "
EMIT = ["emit", "--command", "run", "--status", "success"]
MIB = 1024 * 1024


def sized_file(path, size, value):
    tail = f'[telemetry]\nconsent = "{value}"\nprompt_version = "1.0"\n'.encode()
    line = b"# " + b"x" * 76 + b"\n"
    body = line * ((size - len(tail)) // len(line))
    rest = size - len(tail) - len(body)
    if rest:
        body += b"#" * (rest - 1) + b"\n" if rest > 1 else b"\n"
    data = body + tail
    assert len(data) == size
    with open(path, "wb") as f:
        f.write(data)
    return data


def emit_on_pty(environ):
    """`nattel emit` on a new terminal. Types Enter as soon as the prompt
    shows. Returns (exit status, everything shown, whether the prompt was
    shown)."""
    run = tl.run_on_pty([BIN] + EMIT, environ, [(PROMPT_END, b"\r")],
                        timeout=20)
    if run.killed:
        failures.append("the tool was still running (waiting for an answer?)")
    return run.code, run.shown, PROMPT_END in run.shown


def main():
    cases = [
        # (size, value, payload expected)
        (20 * 1024, "disabled", False),
        (20 * 1024, "enabled", True),
        (MIB - 64, "disabled", False),
        (MIB, "enabled", True),
        (MIB + 1, "disabled", False),
        (MIB + 1, "enabled", False),   # over 1 MiB: disabled, whatever it says
        (2 * MIB, "enabled", False),
    ]
    with tl.tempdir("compat-consent-") as tmp:
        for i, (size, value, sent_want) in enumerate(cases):
            what = f"{size} bytes, consent {value}"
            path = os.path.join(tmp, f"c{i}.toml")
            data = sized_file(path, size, value)
            with open(path, "rb") as f:
                check(tomllib.load(f)["telemetry"]["consent"] == value,
                      f"{what}: tomllib does not read it as written")
            before = os.stat(path)
            environ = tl.tool_env({"NAT_TELEMETRY_CONSENT_FILE": path,
                                   "NAT_TELEMETRY_ENDPOINT": "stdout"}, home=tmp)
            code, shown, prompted = emit_on_pty(environ)
            text = shown.decode("utf-8", "replace")
            check(not prompted, f"{what}: the prompt was shown: {text[:300]!r}")
            check(code == 0, f"{what}: exit {code}: {text[:300]!r}")
            after = os.stat(path)
            with open(path, "rb") as f:
                now = f.read()
            check(now == data, f"{what}: the file was rewritten "
                               f"({len(data)} -> {len(now)} bytes)")
            check((after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns),
                  f"{what}: the file was replaced or touched")
            sent = '"name":"nat_cli_command"' in text
            check(sent == sent_want, f"{what}: payload shown={sent}, want {sent_want}")
            # nothing else was left in the directory (no temporary file)
            check(sorted(os.listdir(tmp)) == sorted(f"c{k}.toml" for k in range(i + 1)),
                  f"{what}: stray files {os.listdir(tmp)}")
        # `nattel consent --status` says why a file over 1 MiB is off
        path = os.path.join(tmp, f"c{len(cases) - 1}.toml")
        p = subprocess.run([BIN, "consent", "--status"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30,
                           env=tl.tool_env({"NAT_TELEMETRY_CONSENT_FILE": path}))
        out = p.stdout.decode()
        check("disabled" in out and "larger than" in out,
              f"consent --status on a 2 MiB file: {out!r}")
    return tl.summary()


if __name__ == "__main__":
    sys.exit(main())
