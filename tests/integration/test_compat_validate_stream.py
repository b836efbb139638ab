#!/usr/bin/env python3
"""Issue 8: `nattel validate --max-line N` reports an over-long line as soon
as N + 1 bytes of it are in, while the writer still holds the pipe open and
no newline has come (before, the error waited for the line's end, so a
stream without newlines looked hung); then it skips to the next line and
goes on as before: each over-long line reported once, with its line number,
the lines after it validated.

The wait for the error line is bounded generously (10 s; it comes in
milliseconds) because the machine may be loaded.
Env: NATTEL_BIN, NATTEL_TEST_TMP."""
import json
import os
import select
import subprocess
import time

import nattel_testlib as tl
from nattel_testlib import check, fail, failures

NATTEL = tl.tool()
N = 200
GOOD = json.dumps({"nemoSource": "agent_toolkit", "command": "run", "subcommand": "undefined",
                   "taskStatus": "success", "durationMs": 5, "exitCode": 0,
                   "errorClass": "undefined", "pythonVersion": "3.12"}, separators=(",", ":"))
assert len(GOOD) < N
WANT_ERR = f"line longer than {N} bytes (see --max-line)"


def read_line_within(fd, seconds):
    """Bytes from fd up to and including the first newline, or what came
    before the deadline."""
    got = b""
    end = time.monotonic() + seconds
    while b"\n" not in got and time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            got += chunk
    return got


# --- a pipe that never sends a newline ---------------------------------------
for extra in ([], ["--model"], ["--canonical"]):
    p = subprocess.Popen([NATTEL, "validate", "--max-line", str(N)] + extra + ["-"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        p.stdin.write(b"x" * (N + 1))  # one byte over, no newline
        p.stdin.flush()
        t0 = time.monotonic()
        line = read_line_within(p.stderr.fileno(), 10.0)
        waited = time.monotonic() - t0
        still_open = p.poll() is None
        check(line.decode("utf-8", "replace") == f"-:1: $: {WANT_ERR}\n",
              f"{extra}: after {N + 1} bytes and {waited:.1f} s, stderr {line!r}")
        check(still_open, f"{extra}: the tool exited before the writer closed the pipe")
        # the rest of that line is skipped, however long; then it goes on
        rest = (b"y" * 300000 + b"\n" + GOOD.encode() + b"\n" + b"z" * (N + 5) +
                b"\n" + b"{bad\n" + b" " * N + b"\n" + GOOD.encode())
        out, err = p.communicate(input=rest, timeout=60)
    except Exception as e:  # a hung tool is a failure, not a hung test run
        p.kill()
        p.wait()
        fail(f"{extra}: {e!r}")
        continue
    err_lines = err.decode("utf-8", "replace").splitlines()
    check(err_lines[:1] == [f"-:3: $: {WANT_ERR}"] and len(err_lines) == 2 and
          err_lines[1].startswith("-:4: $: invalid JSON"),
          f"{extra}: the rest of stderr {err_lines}")
    check(p.returncode == 1, f"{extra}: exit {p.returncode}, want 1")
    if extra == ["--canonical"]:
        outs = out.decode().splitlines()
        check(len(outs) == 2 and all(json.loads(o)["command"] == "run" for o in outs),
              f"--canonical: stdout {out!r}")

# --- the boundary: N bytes is a line, N + 1 is too long -----------------------
with tl.tempdir("compat-validate-") as tmp:
    exact = GOOD + " " * (N - len(GOOD))     # valid JSON of exactly N bytes
    over = GOOD + " " * (N + 1 - len(GOOD))  # valid JSON of N + 1 bytes
    path = os.path.join(tmp, "lines.jsonl")
    with open(path, "w") as f:
        f.write(exact + "\n" + over + "\n" + exact + "\n" + over)  # no final newline
    r = subprocess.run([NATTEL, "validate", "--max-line", str(N), path],
                       capture_output=True, timeout=60)
    err = r.stderr.decode()
    check(r.returncode == 1 and err == f"{path}:2: $: {WANT_ERR}\n{path}:4: $: {WANT_ERR}\n",
          f"boundary: exit {r.returncode}, stderr {err!r}")
    r = subprocess.run([NATTEL, "validate", "--max-line", str(N + 1), path],
                       capture_output=True, timeout=60)
    check(r.returncode == 0 and r.stderr == b"",
          f"--max-line {N + 1}: exit {r.returncode}, stderr {r.stderr!r}")

if not failures:
    print("ok: over-long lines reported at once on an open pipe, then skipped")
tl.finish()
