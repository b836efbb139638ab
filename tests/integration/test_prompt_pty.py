#!/usr/bin/env python3
"""The first-run prompt through a real pseudo-terminal (pty.fork: the tool's
stdin, stdout and stderr are the terminal, and Ctrl-C is the terminal's own
SIGINT). Checks the answers (Enter, y, yes, no, other, EOF, Ctrl-C), that
the answer is persisted and used at once, that a decided user is not asked
again, and that no prompt appears when any stream is not a terminal.
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


def base_env(consent_file):
    return tl.tool_env({"NAT_TELEMETRY_CONSENT_FILE": consent_file,
                        "NAT_TELEMETRY_ENDPOINT": "stdout"})


def on_pty(env, answer):
    """Runs `nattel emit` on a new terminal; types `answer` at the prompt
    (None: answer nothing). Returns (exit status, everything shown)."""
    keys = [(PROMPT_END, answer)] if answer is not None else []
    run = tl.run_on_pty([BIN] + EMIT, env, keys)
    if run.killed:
        failures.append(f"{answer!r}: the tool was still waiting after the answer")
    return run.code, run.shown


def file_consent(path):
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)["telemetry"]["consent"]
    except FileNotFoundError:
        return None


def main():
    cases = [
        (b"\r", "enabled"), (b"y\r", "enabled"), (b"yes\r", "enabled"),
        (b"YES\r", "enabled"), (b"n\r", "disabled"), (b"no\r", "disabled"),
        (b"maybe\r", "disabled"), (b"\x04", "disabled"),  # Ctrl-D: EOF
        (b"\x03", "disabled"),                            # Ctrl-C: SIGINT
    ]
    with tl.tempdir("prompt-pty-") as tmp:
        for i, (answer, want) in enumerate(cases):
            path = os.path.join(tmp, f"c{i}", "nat", "telemetry.toml")
            env = base_env(path)
            code, shown = on_pty(env, answer)
            text = shown.decode("utf-8", "replace")
            check(PROMPT_END in shown, f"{answer!r}: no prompt shown: {text!r}")
            for words in ("never holds", "nattel consent", "NAT_TELEMETRY_ENABLED"):
                check(words in text, f"{answer!r}: prompt lacks {words!r}")
            check(code == 0, f"{answer!r}: exit {code}: {text!r}")
            check(file_consent(path) == want,
                  f"{answer!r}: persisted {file_consent(path)}, want {want}")
            # used at once: the payload is (or is not) on the terminal now
            sent = '"name":"nat_cli_command"' in text
            check(sent == (want == "enabled"), f"{answer!r}: payload shown={sent}: {text!r}")
            # asked once: the next run decides from the file, silently
            code, shown = on_pty(env, None)
            check(PROMPT_END not in shown and code == 0,
                  f"{answer!r}: asked again: {shown!r}")
            check(('"name":"nat_cli_command"' in shown.decode("utf-8", "replace"))
                  == (want == "enabled"), f"{answer!r}: second run payload")

        # the environment decides: no prompt
        path = os.path.join(tmp, "env", "telemetry.toml")
        env = base_env(path)
        env["NAT_TELEMETRY_ENABLED"] = "1"
        code, shown = on_pty(env, None)
        check(PROMPT_END not in shown and file_consent(path) is None,
              f"env set: prompted or wrote: {shown!r}")

        # not all three streams are terminals: never asked, off, nothing written
        for which in ("stdin", "stdout", "stderr"):
            path = os.path.join(tmp, f"no-{which}", "telemetry.toml")
            master, slave = os.openpty()
            streams = {"stdin": slave, "stdout": slave, "stderr": slave}
            streams[which] = subprocess.DEVNULL if which == "stdin" else subprocess.PIPE
            p = subprocess.Popen([BIN] + EMIT, env=base_env(path), start_new_session=True,
                                 **streams)
            try:
                out = p.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                out = p.communicate()
                failures.append(f"{which} not a terminal: the tool waited for an answer")
            os.close(slave)
            shown = tl.pty_read(master, None, timeout=0.5)
            os.close(master)
            seen = shown + b"".join(x for x in out if x)
            check(PROMPT_END not in seen, f"{which} not a terminal: prompted: {seen!r}")
            check(b"nat_cli_command" not in seen, f"{which} not a terminal: sent")
            check(file_consent(path) is None, f"{which} not a terminal: file written")
            check(p.returncode == 0, f"{which} not a terminal: exit {p.returncode}")
    return tl.summary()


if __name__ == "__main__":
    sys.exit(main())
