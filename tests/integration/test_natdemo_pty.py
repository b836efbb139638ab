#!/usr/bin/env python3
"""natdemo's first-run prompt on a real pseudo-terminal (pty.fork: stdin,
stdout and stderr are the terminal). The prompt is shown before a normal
command runs and its answer is used at once; it is never shown for the
program's telemetry-configuration command (`configure telemetry`, any
flag); Ctrl-C typed at `natdemo serve` is reported as interrupted.
Env: NATDEMO_BIN, NATTEL_TEST_TMP."""
import os
import sys
import tempfile

import nattel_testlib as tl
from nattel_testlib import check, env as need_env, failures

BIN = need_env("NATDEMO_BIN")
PROMPT_END = b"[Y/n]: "


def base_env(consent_file):
    # Without the CI's own variables: in CI the prompt is never shown,
    # and this test is about the prompt on a terminal.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NAT_", "NATTEL_")) and k != "DO_NOT_TRACK"
           and k not in tl.CI_VARS}
    env["NAT_TELEMETRY_CONSENT_FILE"] = consent_file
    env["NAT_TELEMETRY_ENDPOINT"] = "stdout"
    env["NATTEL_STATE_DIR"] = os.path.join(os.path.dirname(consent_file), "state")
    return env


def on_pty(argv, env, steps):
    """Runs natdemo on a new terminal. `steps` is a list of (wait_for,
    type): wait until `wait_for` (bytes) is shown, then type `type`.
    Returns (exit status, everything shown)."""
    run = tl.run_on_pty([BIN] + argv, env, steps, timeout=15)
    if run.unseen is not None:
        failures.append(f"{argv}: never showed {run.unseen!r}: {run.shown!r}")
    if run.killed:
        failures.append(f"{argv}: still running: {run.shown!r}")
    return run.code, run.text


def consent_of(path):
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return None
    for word in ("enabled", "disabled"):
        if f'consent = "{word}"' in text:
            return word
    return "?"


def main():
    base = os.environ.get("NATTEL_TEST_TMP") or None
    if base:
        os.makedirs(base, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=base, prefix="natdemo-pty-") as tmp:
        def fresh(tag):
            return os.path.join(tmp, tag, "nat", "telemetry.toml")

        # a normal command: asked first, the answer used at once
        path = fresh("yes")
        code, shown = on_pty(["info", "list-components"], base_env(path),
                             [(PROMPT_END, b"y\r")])
        check(code == 0, f"yes: exit {code}: {shown!r}")
        check("never holds" in shown and "DO_NOT_TRACK" in shown,
              f"yes: prompt text incomplete: {shown!r}")
        check(consent_of(path) == "enabled", f"yes: file says {consent_of(path)}")
        at_prompt = shown.find("[Y/n]")
        at_output = shown.find("components:")
        check(0 <= at_prompt < at_output, f"yes: output not after the prompt: {shown!r}")
        check('"command":"info","subcommand":"list-components"' in shown,
              f"yes: no payload after yes: {shown!r}")
        # asked once
        code, shown = on_pty(["info", "list-channels"], base_env(path), [])
        check("[Y/n]" not in shown and '"subcommand":"list-channels"' in shown,
              f"asked again or not sent: {shown!r}")

        path = fresh("no")
        code, shown = on_pty(["--log-level", "info", "run"], base_env(path),
                             [(PROMPT_END, b"n\r"), (b"\n", b"\x04")])
        check(code == 0 and consent_of(path) == "disabled" and '"clientId"' not in shown,
              f"no: exit {code}, file {consent_of(path)}: {shown!r}")

        # the telemetry-configuration command is never prompted over
        for flags in ([], ["--status"], ["--enable"], ["--disable"]):
            path = fresh("configure" + "".join(flags))
            argv = ["--log-level", "debug", "configure", "telemetry"] + flags
            code, shown = on_pty(argv, base_env(path), [])
            check("[Y/n]" not in shown, f"{argv}: prompted: {shown!r}")
            check(code == 0, f"{argv}: exit {code}: {shown!r}")
            want = {"--enable": "enabled", "--disable": "disabled"}.get(
                flags[0] if flags else "")
            check(consent_of(path) == want, f"{argv}: file says {consent_of(path)}")
        # no question before help or a mistyped command either
        for argv in (["--help"], [], ["deploy"], ["--log-level", "info"]):
            path = fresh("none-" + "-".join(argv))
            code, shown = on_pty(argv, base_env(path), [])
            check("[Y/n]" not in shown and consent_of(path) is None,
                  f"{argv}: prompted: {shown!r}")
            check(code == (0 if argv == ["--help"] else 2), f"{argv}: exit {code}")
        # the prompt is for the first normal command after that, if still due
        path = fresh("configure-then-run")
        on_pty(["configure", "telemetry", "--status"], base_env(path), [])
        code, shown = on_pty(["info", "list-channels"], base_env(path),
                             [(PROMPT_END, b"\r")])
        check(consent_of(path) == "enabled", f"after --status: {consent_of(path)}")

        # Ctrl-C typed on the terminal at `serve`: interrupted, exit 130
        path = fresh("serve")
        code, shown = on_pty(["serve"], base_env(path),
                             [(PROMPT_END, b"yes\r"), (b"ready", b"\x03")])
        check(code == 130, f"serve Ctrl-C: exit {code}: {shown!r}")
        check('"command":"serve"' in shown and '"taskStatus":"interrupted"' in shown
              and '"exitCode":130' in shown and '"errorClass":"SIGINT"' in shown,
              f"serve Ctrl-C: payload: {shown!r}")
    return tl.summary()


if __name__ == "__main__":
    sys.exit(main())
