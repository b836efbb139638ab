#!/usr/bin/env python3
"""natdemo, the instrumented example CLI, driven as a user would: every
command-resolution case, failures with their error class, usage errors, a
real SIGINT and SIGTERM to `natdemo serve`, consent gating and
`configure telemetry`. The stdout sink (NAT_TELEMETRY_ENDPOINT=stdout)
puts each payload as one JSON line on stderr: each run must write exactly
one, never anything on stdout, and the payload must validate against the
reference wire schemas when they are there (jsonschema).
Env: NATDEMO_BIN, NATTEL_REFERENCE_DIR, NATTEL_TEST_TMP."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from nattel_testlib import check, env as need_env, failures

BIN = need_env("NATDEMO_BIN")
REF = os.environ.get("NATTEL_REFERENCE_DIR", "")
VALIDATORS = None
try:
    from jsonschema import Draft7Validator
    paths = [os.path.join(REF, n) for n in ("envelope.schema.json",
                                             "nat_cli_command.schema.json")]
    if REF and all(os.path.isfile(p) for p in paths):
        VALIDATORS = [Draft7Validator(json.load(open(p))) for p in paths]
except ImportError:
    pass
if VALIDATORS is None:
    print("note: jsonschema or the reference folder is missing: payloads are "
          "checked by shape only", file=sys.stderr)

TMP = None


def base_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NAT_", "NATTEL_")) and k != "DO_NOT_TRACK"}
    env["NAT_TELEMETRY_CONSENT_FILE"] = os.path.join(TMP, "consent", "telemetry.toml")
    env["NATTEL_STATE_DIR"] = os.path.join(TMP, "state")
    env["NAT_TELEMETRY_ENABLED"] = "1"
    env["NAT_TELEMETRY_ENDPOINT"] = "stdout"
    env.update(extra)
    return env


def payloads(stderr):
    """The JSON payload lines of the stdout sink, decoded."""
    out = []
    for line in stderr.splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                failures.append(f"payload line is not JSON: {line!r}")
    return out


def one_event(argv, res):
    """The parameters of the single event a run sent; None (and a failure)
    when it did not send exactly one."""
    docs = payloads(res.stderr)
    if len(docs) != 1 or len(docs[0].get("events", [])) != 1:
        failures.append(f"{argv}: want one payload with one event, got "
                        f"{len(docs)}: {res.stderr!r}")
        return None
    doc = docs[0]
    if VALIDATORS:
        errs = list(VALIDATORS[0].iter_errors(doc))
        errs += list(VALIDATORS[1].iter_errors(doc["events"][0]["parameters"]))
        check(not errs, f"{argv}: payload breaks the schema: {[e.message for e in errs]}")
    check(doc["clientVer"] == "0.1.0" or doc["clientVer"].count(".") == 2,
          f"{argv}: clientVer {doc['clientVer']!r}")
    ev = doc["events"][0]
    check(ev["name"] == "nat_cli_command", f"{argv}: event name {ev['name']}")
    return ev["parameters"]


def natdemo(argv, env=None, **kw):
    return subprocess.run([BIN] + argv, env=env or base_env(), capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=30, **kw)


def expect(argv, command, sub, status, code, error_class="undefined", env=None):
    res = natdemo(argv, env)
    check(res.returncode == code, f"{argv}: exit {res.returncode}, want {code}: {res.stderr!r}")
    check('"clientId"' not in res.stdout, f"{argv}: telemetry on stdout: {res.stdout!r}")
    p = one_event(argv, res)
    if p is None:
        return res
    got = (p["command"], p["subcommand"], p["taskStatus"], p["exitCode"], p["errorClass"])
    want = (command, sub, status, code, error_class)
    check(got == want, f"{argv}: got {got}, want {want}")
    check(p["pythonVersion"] == "undefined", f"{argv}: pythonVersion {p['pythonVersion']}")
    check(p["nemoSource"] == "agent_toolkit", f"{argv}: nemoSource {p['nemoSource']}")
    check(isinstance(p["durationMs"], int) and 0 <= p["durationMs"] < 60000,
          f"{argv}: durationMs {p['durationMs']}")
    return res


def resolution_cases(tmp):
    wf = os.path.join(tmp, "my-secret-workflow.yml")
    with open(wf, "w") as f:
        f.write("workflow:\n  name: x\n")
    # leaf command with a path argument: the path never becomes a subcommand
    res = expect(["run", wf], "run", "undefined", "success", 0)
    check("2 lines" in res.stdout, f"run: output {res.stdout!r}")
    expect(["run"], "run", "undefined", "success", 0)
    # groups with their registered subcommands
    res = expect(["info", "list-components"], "info", "list-components", "success", 0)
    check("components:" in res.stdout, f"info list-components: {res.stdout!r}")
    expect(["info", "list-channels"], "info", "list-channels", "success", 0)
    # unknown token under a group
    expect(["info", "frobnicate"], "info", "undefined", "failure", 2, "UsageError")
    expect(["info"], "info", "undefined", "failure", 2, "UsageError")
    # flags before and after the group, with the global option's value
    expect(["--log-level", "debug", "info", "list-channels"], "info", "list-channels",
           "success", 0)
    expect(["--log-level=info", "info", "--log-level", "error", "list-components"],
           "info", "list-components", "success", 0)
    expect(["info", "--log-level", "warning", "list-channels", "--log-level", "info"],
           "info", "list-channels", "success", 0)
    # a global option's value equal to a registered name is a value
    expect(["--log-level", "run", "info", "list-channels"], "info", "list-channels",
           "failure", 2, "UsageError")
    # a registered name in a later position
    expect(["info", "bogus", "list-components"], "info", "undefined", "failure", 2,
           "UsageError")
    expect(["run", "list-components"], "run", "undefined", "failure", 1,
           "FileNotFoundError")
    expect(["info", "list-channels", "list-components"], "info", "list-channels",
           "failure", 2, "UsageError")
    # an unregistered top-level command
    expect(["deploy", "info"], "unknown", "undefined", "failure", 2, "UsageError")
    expect(["--log-level", "debug", "Run"], "unknown", "undefined", "failure", 2,
           "UsageError")
    # no command at all
    expect([], "undefined", "undefined", "failure", 2, "UsageError")
    res = expect(["--help"], "undefined", "undefined", "success", 0)
    check("usage: natdemo" in res.stdout, f"--help: {res.stdout!r}")
    expect(["info", "--help-me"], "info", "undefined", "failure", 2, "UsageError")


def failure_cases(tmp):
    missing = os.path.join(tmp, "no-such-dir", "wf.yml")
    res = expect(["run", missing], "run", "undefined", "failure", 1, "FileNotFoundError")
    check("cannot read" in res.stderr, f"run missing: message {res.stderr!r}")
    expect(["run", tmp], "run", "undefined", "failure", 1, "IsADirectoryError")
    if os.geteuid() != 0:
        locked = os.path.join(tmp, "locked.yml")
        with open(locked, "w") as f:
            f.write("x\n")
        os.chmod(locked, 0)
        expect(["run", locked], "run", "undefined", "failure", 1, "PermissionError")
    else:
        print("note: running as root: PermissionError case skipped", file=sys.stderr)
    expect(["--log-level", "loud", "run"], "run", "undefined", "failure", 2, "UsageError")
    expect(["serve", "extra"], "serve", "undefined", "failure", 2, "UsageError")


def serve_signal(sig, want_code, want_class):
    p = subprocess.Popen([BIN, "--log-level", "info", "serve"], env=base_env(),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()  # blocks until ready (or exit)
        check("ready" in line, f"serve: no ready line: {line!r}")
        time.sleep(0.05)
        check(p.poll() is None, "serve: exited before the signal")
        p.send_signal(sig)
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        failures.append(f"serve: still running 30 s after {sig.name}")
    res = subprocess.CompletedProcess(p.args, p.returncode, line + out, err)
    check(res.returncode == want_code, f"serve {sig.name}: exit {res.returncode}: {err!r}")
    check('"clientId"' not in res.stdout, f"serve: telemetry on stdout: {res.stdout!r}")
    pm = one_event(["serve", sig.name], res)
    if pm:
        got = (pm["command"], pm["subcommand"], pm["taskStatus"], pm["exitCode"],
               pm["errorClass"])
        want = ("serve", "undefined", "interrupted", want_code, want_class)
        check(got == want, f"serve {sig.name}: got {got}, want {want}")
        check(pm["durationMs"] >= 50, f"serve: durationMs {pm['durationMs']} < 50")


def run_stdin_signal(sig, want_code):
    """`natdemo run` blocked reading standard input (a pipe kept open) is
    cut short by a real signal: interrupted, not killed without an event."""
    p = subprocess.Popen([BIN, "run"], env=base_env(), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Wait until it sleeps in read(2) on the pipe (its handlers are set by then).
    end = time.monotonic() + 15
    while time.monotonic() < end:
        try:
            with open(f"/proc/{p.pid}/wchan") as f:
                wchan = f.read()
        except OSError:
            wchan = ""
        if "pipe_read" in wchan:
            break
        if wchan in ("", "0") and time.monotonic() > end - 14:
            break  # no wchan here: one second of grace instead
        time.sleep(0.02)
    p.send_signal(sig)
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        failures.append(f"run on stdin: still running after {sig.name}")
    res = subprocess.CompletedProcess(p.args, p.returncode, out, err)
    check(res.returncode == want_code, f"run stdin {sig.name}: exit {res.returncode}")
    pm = one_event(["run", "(stdin)", sig.name], res)
    if pm:
        got = (pm["command"], pm["taskStatus"], pm["exitCode"], pm["errorClass"])
        want = ("run", "interrupted", want_code, sig.name)
        check(got == want, f"run stdin {sig.name}: got {got}, want {want}")


def consent_cases(tmp):
    # consent off: nothing at all on stderr, same output and exit code
    on = natdemo(["info", "list-channels"])
    for extra in ({"NAT_TELEMETRY_ENABLED": "0"}, {"DO_NOT_TRACK": "1"},
                  {"NAT_TELEMETRY_ENABLED": None}):
        env = base_env()
        for k, v in extra.items():
            if v is None:
                env.pop(k)
            else:
                env[k] = v
        res = natdemo(["info", "list-channels"], env)
        check(res.returncode == 0 and res.stdout == on.stdout and res.stderr == "",
              f"consent off {extra}: {res.returncode} {res.stdout!r} {res.stderr!r}")
        check(not os.path.exists(os.path.join(tmp, "state")),
              f"consent off {extra}: state dir created")
    # configure telemetry: the program's own consent command, file-backed
    env = base_env()
    env.pop("NAT_TELEMETRY_ENABLED")
    res = natdemo(["configure", "telemetry", "--enable"], env)
    check(res.returncode == 0 and "enabled" in res.stdout,
          f"configure --enable: {res.returncode} {res.stdout!r} {res.stderr!r}")
    res = natdemo(["configure", "telemetry", "--status"], env)
    check("telemetry: enabled" in res.stdout, f"configure --status: {res.stdout!r}")
    # now the file says yes: the next run sends
    expect(["info", "list-components"], "info", "list-components", "success", 0, env=env)
    res = natdemo(["configure", "telemetry", "--disable"], env)
    check(res.returncode == 0, f"configure --disable: {res.stderr!r}")
    res = natdemo(["info", "list-components"], env)
    check(res.returncode == 0 and not payloads(res.stderr),
          f"disabled by file: still sent: {res.stderr!r}")
    res = natdemo(["configure", "telemetry", "--bogus"], env)
    check(res.returncode == 2, f"configure --bogus: exit {res.returncode}")


def main():
    global TMP
    base = os.environ.get("NATTEL_TEST_TMP") or None
    if base:
        os.makedirs(base, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=base, prefix="natdemo-") as tmp:
        TMP = tmp
        resolution_cases(tmp)
        failure_cases(tmp)
        serve_signal(signal.SIGINT, 130, "SIGINT")
        serve_signal(signal.SIGTERM, 143, "SIGTERM")
        run_stdin_signal(signal.SIGINT, 130)
        run_stdin_signal(signal.SIGTERM, 143)
    with tempfile.TemporaryDirectory(dir=base, prefix="natdemo-consent-") as tmp:
        TMP = tmp
        consent_cases(tmp)
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
