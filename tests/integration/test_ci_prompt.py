#!/usr/bin/env python3
"""CI is never asked (issue 22): on a real pseudo-terminal (stdin, stdout
and stderr all terminals, as `docker run -t` gives CI), with no decision
recorded and a known CI variable set, `nattel emit` shows no prompt, writes
no consent file and sends nothing to a real listener on 127.0.0.1. The
control run, the same without the CI variable, does show the prompt (so
the check can fail). A recorded decision still counts in CI, and a policy
of prompt = "never" keeps the prompt away too.
Env: NATTEL_BIN, NATTEL_TEST_TMP."""
import json
import os
import sys

import nattel_testlib as tl
from nattel_testlib import check
import consent_testlib as ct

PROMPT_END = b"[Y/n]: "


def emit_on_pty(h, extra, keys=()):
    argv = [ct.BIN, "emit", "--command", "run", "--status", "success"]
    return tl.run_on_pty(argv, h.env(extra), keys, timeout=10)


def test_ci_never_prompts(work):
    lis = ct.Listener()
    try:
        for var, value in (("CI", "true"), ("GITHUB_ACTIONS", "true"),
                           ("GITLAB_CI", "true"), ("JENKINS_URL", "http://j/"),
                           ("TF_BUILD", "True"), ("BUILDKITE", "true")):
            h = ct.Home(work, "ci-" + var)
            extra = {var: value, "NAT_TELEMETRY_ENDPOINT": lis.url}
            run = emit_on_pty(h, extra)
            check(not run.killed, f"{var}: the tool waited (a prompt?)")
            check(PROMPT_END not in run.shown,
                  f"{var}: a prompt was shown: {run.text!r}")
            check(run.code == 0, f"{var}: exit {run.code}")
            check(not os.path.exists(h.shared), f"{var}: no decision written")
            h.run("flush", extra=extra)
            st = json.loads(h.run("consent", "--status", "--json",
                                  extra=extra).stdout)
            check(st["source"] == "ci" and st["state"] == "disabled",
                  f"{var}: {st}")
            check(var in st["decidedBy"], f"{var}: named: {st['decidedBy']}")
        check(lis.bodies == [], f"CI sent {len(lis.bodies)} POST(s)")
        # Control: no CI variable, the same terminal: the prompt appears.
        h = ct.Home(work, "control")
        run = emit_on_pty(h, {"NAT_TELEMETRY_ENDPOINT": lis.url},
                          keys=[(PROMPT_END, b"n\r")])
        check(run.unseen is None and PROMPT_END in run.shown,
              f"control: the prompt must appear: {run.text!r}")
        # CI=false is a way to say "not CI": the prompt appears.
        h = ct.Home(work, "ci-false")
        run = emit_on_pty(h, {"CI": "false", "NAT_TELEMETRY_ENDPOINT": lis.url},
                          keys=[(PROMPT_END, b"n\r")])
        check(PROMPT_END in run.shown, f"CI=false: {run.text!r}")
    finally:
        lis.close()


def test_decision_counts_in_ci(work):
    lis = ct.Listener()
    try:
        h = ct.Home(work)
        check(h.run("consent", "--enable").returncode == 0, "enable")
        extra = {"CI": "1", "NAT_TELEMETRY_ENDPOINT": lis.url,
                 "NATTEL_DELIVERY": "spool-only"}
        run = emit_on_pty(h, extra)
        check(PROMPT_END not in run.shown and run.code == 0, run.text)
        h.run("flush", extra=extra)
        check(lis.commands() == ["run"], f"a decision stands: {lis.commands()}")
    finally:
        lis.close()


def test_policy_prompt_never(work):
    h = ct.Home(work)
    pol = os.path.join(work, "policy.toml")
    with open(pol, "w") as f:
        f.write('prompt = "never"\n')
    run = emit_on_pty(h, {"NATTEL_POLICY_FILE": pol,
                          "NAT_TELEMETRY_ENDPOINT": "stdout"})
    check(PROMPT_END not in run.shown and not run.killed, run.text)
    check(not os.path.exists(h.shared), "no decision written")


if __name__ == "__main__":
    sys.exit(tl.run_tests([test_ci_never_prompts, test_decision_counts_in_ci,
                           test_policy_prompt_never], "ci-prompt-"))
