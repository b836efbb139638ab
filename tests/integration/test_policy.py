#!/usr/bin/env python3
"""The machine-wide policy (issue 22) through NATTEL_POLICY_FILE (tests
never write /etc; the stricter-wins rule over the /etc file and this one is
tests/unit/test_consent.c), against a real listener on 127.0.0.1: a policy
of "off" beats NAT_TELEMETRY_ENABLED=1 and sends nothing; `consent
--enable` under it fails naming the policy; a policy its reader cannot read
(a root 0600 file read by nobody) or parse is off and status says why; the
policy's endpoint beats NAT_TELEMETRY_ENDPOINT; "local" caps enabled at
local; a flusher that finds a policy of "off" clears the spool and the
audit log says how many and why.
Env: NATTEL_BIN, NATTEL_TEST_TMP."""
import json
import os
import atexit
import shutil
import subprocess
import sys
import tempfile

import nattel_testlib as tl
from nattel_testlib import check
import consent_testlib as ct

if ct.tomllib is None:
    tl.skip("Python's tomllib (3.11+) is not available")


def policy(work, text, name="policy.toml"):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def test_off_beats_env_enabled(work):
    h = ct.Home(work)
    lis = ct.Listener()
    try:
        pol = policy(work, '# admin\ntelemetry = "off"\n')
        env = {"NATTEL_POLICY_FILE": pol, "NAT_TELEMETRY_ENABLED": "1",
               "NAT_TELEMETRY_ENDPOINT": lis.url,
               "NATTEL_DELIVERY": "spool-only"}
        r = h.emit("run", env)
        check(r.returncode == 0, f"emit: {r.stderr}")
        check(h.spooled() == [] and h.kept() == [], "nothing spooled or kept")
        h.run("flush", extra=env)
        check(lis.bodies == [], "a policy of off sends nothing")
        r = h.run("status", extra=env)
        check(f"decided by:    machine policy {pol}" in r.stdout, r.stdout)
        r = h.run("consent", "--status", extra=env)
        check(f"decided by: machine policy {pol}" in r.stdout, r.stdout)
        st = json.loads(h.run("consent", "--status", "--json", extra=env).stdout)
        check(st["source"] == "policy" and st["policy"] == "off" and
              st["state"] == "disabled", f"{st}")
        # Control: without the policy the same run is sent.
        env.pop("NATTEL_POLICY_FILE")
        h.emit("run", env)
        h.run("flush", extra=env)
        check(lis.commands() == ["run"], f"control: {lis.commands()}")
    finally:
        lis.close()


def test_enable_under_off_fails(work):
    h = ct.Home(work)
    pol = policy(work, 'telemetry = "off"\n')
    for action in ("--enable", "--local"):
        r = h.run("consent", action, extra={"NATTEL_POLICY_FILE": pol})
        check(r.returncode == 1, f"{action} under off: exit {r.returncode}")
        check(pol in r.stderr and "policy" in r.stderr, f"{action}: {r.stderr}")
        check(not os.path.exists(h.shared), f"{action} wrote nothing")
    r = h.run("consent", "--disable", extra={"NATTEL_POLICY_FILE": pol})
    check(r.returncode == 0, "a no is always allowed")
    check(ct.upstream_consent(h.shared) == "disabled", "recorded")


def test_unusable_policy_is_off(work):
    h = ct.Home(work)
    check(h.run("consent", "--enable").returncode == 0, "enable")
    for text in ('telemetry = "allowed', 'telemetry = "on"\n',
                 'telemetry = "allowed"\nendpoint = "ftp://x"\n'):
        pol = policy(work, text, "bad.toml")
        r = h.run("status", extra={"NATTEL_POLICY_FILE": pol})
        check("telemetry:     disabled" in r.stdout, f"{text!r}: {r.stdout}")
        check("cannot be used" in r.stdout, f"status says why: {r.stdout}")
    # A directory in its place.
    d = os.path.join(work, "dir.toml")
    os.mkdir(d)
    r = h.run("consent", "--status", extra={"NATTEL_POLICY_FILE": d})
    check("telemetry: disabled" in r.stdout and "not a regular file" in r.stdout,
          r.stdout)


def test_unreadable_policy_for_its_reader(work):
    """A root 0600 policy read by nobody: off, with the system's reason."""
    runuser = shutil.which("runuser")
    if os.geteuid() != 0 or not runuser:
        print("SKIP unreadable policy: needs root and runuser", file=sys.stderr)
        return
    # The test's work directory may sit below one nobody cannot enter: the
    # policy and nobody's HOME go in a fresh directory of the system's.
    work = tempfile.mkdtemp(prefix="nattel-policy-")
    atexit.register(shutil.rmtree, work, True)
    os.chmod(work, 0o755)
    pol = policy(work, 'telemetry = "allowed"\n')
    os.chmod(pol, 0o600)
    home = os.path.join(work, "nobody")
    os.makedirs(home)
    shutil.chown(home, "nobody")
    env = tl.tool_env({"NATTEL_POLICY_FILE": pol, "NAT_TELEMETRY_ENABLED": "1"},
                      home=home)
    r = subprocess.run([runuser, "-u", "nobody", "--", ct.BIN, "status"],
                       env=env, capture_output=True, text=True, timeout=30)
    if "telemetry:" not in r.stdout:
        print(f"SKIP unreadable policy: nobody cannot run the tool: {r.stderr}",
              file=sys.stderr)
        return
    check("telemetry:     disabled" in r.stdout, r.stdout)
    check("Permission denied" in r.stdout, f"the reason is said: {r.stdout}")
    # Control: readable, the environment decides.
    os.chmod(pol, 0o644)
    r = subprocess.run([runuser, "-u", "nobody", "--", ct.BIN, "status"],
                       env=env, capture_output=True, text=True, timeout=30)
    check("telemetry:     enabled" in r.stdout, f"control: {r.stdout}")


def test_policy_endpoint_and_local_cap(work):
    h = ct.Home(work)
    lis = ct.Listener()
    try:
        pol = policy(work, f'telemetry = "allowed"\nendpoint = "{lis.url}"\n')
        env = {"NATTEL_POLICY_FILE": pol, "NAT_TELEMETRY_ENABLED": "1",
               "NAT_TELEMETRY_ENDPOINT": "http://127.0.0.1:9/never",
               "NATTEL_DELIVERY": "spool-only"}
        h.emit("run", env)
        r = h.run("flush", extra=env)
        check(lis.commands() == ["run"],
              f"the policy's endpoint beats NAT_TELEMETRY_ENDPOINT: "
              f"{lis.commands()} {r.stderr}")
        st = json.loads(h.run("status", "--json", extra=env).stdout)
        check(st["endpoint"] == lis.url, f"status shows it: {st['endpoint']}")
        pol = policy(work, f'telemetry = "local"\nendpoint = "{lis.url}"\n')
        h.emit("serve", env)
        h.run("flush", extra=env)
        check(lis.commands() == ["run"], f"local sends nothing: {lis.commands()}")
        check(len(h.kept()) == 1, f"local keeps: {h.kept()}")
        st = json.loads(h.run("consent", "--status", "--json", extra=env).stdout)
        check(st["state"] == "local" and st["source"] == "policy", f"{st}")
    finally:
        lis.close()


def test_flusher_clears_on_policy_off(work):
    h = ct.Home(work)
    lis = ct.Listener()
    try:
        env = {"NAT_TELEMETRY_ENABLED": "1", "NAT_TELEMETRY_ENDPOINT": lis.url,
               "NATTEL_DELIVERY": "spool-only"}
        for cmd in ("run", "run", "serve"):
            h.emit(cmd, env)
        check(len(h.spooled()) == 3, f"spooled: {h.spooled()}")
        pol = policy(work, 'telemetry = "off"\n')
        env["NATTEL_POLICY_FILE"] = pol
        r = h.run("flush", extra=env)
        check(lis.bodies == [], "nothing sent")
        check(h.spooled() == [], f"the spool is cleared: {h.spooled()}")
        drops = [a for a in h.audit() if a.get("outcome") == "dropped"]
        check(len(drops) == 1 and drops[0].get("events") == 3 and
              "machine policy" in drops[0].get("reason", ""),
              f"the audit log says how many and why: {drops}")
    finally:
        lis.close()


def test_policy_endpoint_without_env_endpoint(work):
    """NAT_TELEMETRY_ENDPOINT empty (send nothing) and a policy naming the
    organisation's endpoint: the policy's endpoint decides everywhere, in
    the host, `nattel flush` and `nattel status`, not only in the host."""
    h = ct.Home(work, "home-empty-ep")
    lis = ct.Listener()
    try:
        pol = policy(work, f'telemetry = "allowed"\nendpoint = "{lis.url}"\n',
                     "policy-ep.toml")
        env = {"NATTEL_POLICY_FILE": pol, "NAT_TELEMETRY_ENABLED": "1",
               "NAT_TELEMETRY_ENDPOINT": "", "NATTEL_DELIVERY": "spool-only"}
        r = h.emit("run", env)
        check(r.returncode == 0, f"emit: {r.stderr}")
        check(len(h.spooled()) == 1, f"the host spools for the policy's "
              f"endpoint: {h.spooled()} {r.stderr}")
        st = json.loads(h.run("status", "--json", extra=env).stdout)
        check(st["sink"] == "http" and st["endpoint"] == lis.url,
              f"status: sink {st['sink']}, endpoint {st['endpoint']}")
        r = h.run("flush", extra=env)
        check(r.returncode == 0, f"flush exits 0: {r.returncode} {r.stderr}")
        check(lis.commands() == ["run"],
              f"flush sends to the policy's endpoint: {lis.commands()} "
              f"{r.stderr}")
        # Control: without the policy an empty endpoint sends nothing.
        env.pop("NATTEL_POLICY_FILE")
        before = h.spooled()
        h.emit("serve", env)
        check(h.spooled() == before, f"control: nothing spooled: {h.spooled()}")
        st = json.loads(h.run("status", "--json", extra=env).stdout)
        check(st["sink"] == "none", f"control: sink {st['sink']}")
    finally:
        lis.close()


if __name__ == "__main__":
    sys.exit(tl.run_tests([test_off_beats_env_enabled,
                           test_enable_under_off_fails,
                           test_unusable_policy_is_off,
                           test_unreadable_policy_for_its_reader,
                           test_policy_endpoint_and_local_cap,
                           test_policy_endpoint_without_env_endpoint,
                           test_flusher_clears_on_policy_off], "policy-"))
