#!/usr/bin/env python3
"""`nattel emit --event NAME --schema FILE --set FIELD=VALUE`: every bad
value, name or combination is exit 2 with ONE line on stderr that names
the option that caused it (--set FIELD, --event, --schema, --command),
nothing on stdout, nothing spooled. Env: NATTEL_BIN, NATTEL_REFERENCE_DIR,
NATTEL_TEST_TMP."""
import os
import subprocess

import nattel_testlib as tl
from nattel_testlib import check

BIN = tl.tool()
G = tl.reference("guardrails_usage_event.schema.json")
BASE = ["--event", "guardrails_usage_event", "--schema", G]

CASES = [
    (BASE + ["--set", "tracingEnabled=yes"], "--set tracingEnabled:"),
    (BASE + ["--set", "numCustomFlows=1.5"], "--set numCustomFlows:"),
    (BASE + ["--set", "numCustomFlows=99999999999999999999"], "--set numCustomFlows:"),
    (BASE + ["--set", "timestamp=1e999"], "--set timestamp:"),
    (BASE + ["--set", "timestamp=\"1\""], "--set timestamp:"),
    (BASE + ["--set", "llmProviders=nim"], "--set llmProviders:"),
    (BASE + ["--set", "llmProviders=[1]"], "--set llmProviders:"),
    (BASE + ["--set", 'llmProviders=["a"], "x": 1'], "--set llmProviders:"),
    (BASE + ["--set", "llmProviders=" + "[" * 100 + "]" * 100], "--set llmProviders:"),
    (BASE + ["--set", "deploymentType=server"], "--set deploymentType:"),
    (BASE + ["--set", "nemoSource=x\ny"], "--set nemoSource:"),
    (BASE + ["--set", "bogus=1"], "--set bogus:"),
    (BASE + ["--set", "novalue"], "--set 'novalue'"),
    (BASE + ["--set", "=x"], "--set '=x'"),
    (BASE + ["--set", "osName=a", "--set", "os_name=b"], "--set osName: set twice"),
    (BASE + ["--set", "osName=Linux"], "--event guardrails_usage_event:"),
    (["--event", "guardrails_usage_event"], "--event 'guardrails_usage_event'"),
    (["--event", "nat_cli_command", "--command", "run"], "--command: not with --event"),
    (["--set", "a=b", "--command", "run", "--status", "success"], "--set: only with --event"),
    (["--event", "x", "--schema", "/nonexistent.json"], "--schema:"),
]


def main():
    with tl.tempdir("emit-set-") as tmp:
        state = os.path.join(tmp, "state")
        env = tl.tool_env({"NAT_TELEMETRY_ENABLED": "1", "NAT_TELEMETRY_ENDPOINT": "stdout",
                           "NATTEL_STATE_DIR": state,
                           "NAT_TELEMETRY_CONSENT_FILE": os.path.join(tmp, "c.toml")})
        for args, want in CASES:
            p = subprocess.run([BIN, "emit"] + args, env=env, capture_output=True, text=True,
                               stdin=subprocess.DEVNULL, timeout=30)
            lines = p.stderr.splitlines()
            check(p.returncode == 2 and p.stdout == "" and len(lines) == 1
                  and lines[0].startswith("nattel emit: " + want),
                  f"{args!r}: {p.returncode} {p.stdout!r} {p.stderr!r}")
        # nat_cli_command through the generic form, by C names.
        p = subprocess.run([BIN, "emit", "--event", "nat_cli_command", "--set", "command=run",
                            "--set", "task_status=success", "--set", "python_version=3.12",
                            "--set", "duration_ms=5"], env=env, capture_output=True,
                           text=True, stdin=subprocess.DEVNULL, timeout=30)
        check(p.returncode == 0 and '"durationMs":5' in p.stderr
              and '"eventSchemaVer":"1.5"' in p.stderr, f"generic nat_cli_command: {p}")
    tl.finish()


if __name__ == "__main__":
    main()
