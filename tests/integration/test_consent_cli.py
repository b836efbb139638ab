#!/usr/bin/env python3
"""`nattel consent` and `nattel status` from the outside: enable/disable
write the upstream file and read it back, failures exit 1 with a message,
--status names the deciding source and warns when the environment
overrides the file, status --json is one object; --disable removes what
waits in the spool and the audit log says how many and why, --keep-spool
keeps it, a DO_NOT_TRACK seen by `nattel flush` clears it too (issue 22).
Env: NATTEL_BIN, NATTEL_TEST_TMP."""
import json
import os
import stat
import subprocess
import sys

import nattel_testlib as tl
from nattel_testlib import check

try:
    import tomllib
except ImportError:
    tl.skip("Python's tomllib (3.11+) is not available")

BIN = tl.tool()


def run(args, env_extra, home):
    env = tl.tool_env(env_extra, home=home)
    return subprocess.run([BIN] + args, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=30)


def status_json(env, home):
    p = run(["status", "--json"], env, home)
    check(p.returncode == 0, f"status --json exit {p.returncode}: {p.stderr}")
    lines = p.stdout.splitlines()
    check(len(lines) == 1, f"status --json printed {len(lines)} lines")
    return json.loads(p.stdout)


def main():
    with tl.tempdir("consent-cli-") as home:
        path = os.path.join(home, ".config", "nat", "telemetry.toml")

        doc = status_json({}, home)
        check(doc["enabled"] is False and doc["source"] == "nobody",
              f"fresh home: {doc}")
        check(doc["endpoint"] == "https://events.telemetry.data.nvidia.com/v1.1/events/json",
              f"default endpoint: {doc['endpoint']}")
        check(doc["consentFile"] == path, f"default consent file: {doc['consentFile']}")

        for flag, want in (("--enable", "enabled"), ("--disable", "disabled"),
                           ("--enable", "enabled")):
            p = run(["consent", flag], {}, home)
            check(p.returncode == 0, f"consent {flag}: exit {p.returncode} {p.stderr}")
            with open(path, "rb") as f:
                raw = f.read()
            data = tomllib.loads(raw.decode())
            check(data["telemetry"]["consent"] == want, f"{flag}: file says {data}")
            check(data["telemetry"]["prompt_version"] == "1.0", f"{flag}: {data}")
            check(len(data["telemetry"]["consented_at"]) == 20, f"{flag}: {data}")
            check(raw.decode().split("\n")[3] == "[telemetry]"
                  and all(l.startswith("#") for l in raw.decode().split("\n")[:3]),
                  f"{flag}: not the upstream layout:\n{raw.decode()}")
            check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, "file mode")
            check(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700, "dir mode")
            doc = status_json({}, home)
            check(doc["enabled"] is (want == "enabled") and doc["source"] == "file",
                  f"after {flag}: {doc}")

        # --status: state, source, override warnings
        p = run(["consent", "--status"], {}, home)
        check(p.returncode == 0 and "telemetry: enabled" in p.stdout
              and "consent file" in p.stdout and p.stderr == "",
              f"consent --status: {p.stdout!r} {p.stderr!r}")
        p = run(["consent", "--status"], {"NAT_TELEMETRY_ENABLED": "false"}, home)
        check("telemetry: disabled" in p.stdout and "NAT_TELEMETRY_ENABLED" in p.stdout
              and "overrides" in p.stderr, f"env override: {p.stdout!r} {p.stderr!r}")
        p = run(["consent", "--status"], {"DO_NOT_TRACK": "1", "NAT_TELEMETRY_ENABLED": "1"}, home)
        check("telemetry: disabled" in p.stdout and "DO_NOT_TRACK" in p.stderr,
              f"DO_NOT_TRACK: {p.stdout!r} {p.stderr!r}")
        doc = status_json({"DO_NOT_TRACK": "1"}, home)
        check(doc["enabled"] is False and doc["source"] == "do_not_track", f"{doc}")
        doc = status_json({"NAT_TELEMETRY_ENABLED": "0"}, home)
        check(doc["enabled"] is False and doc["source"] == "env", f"{doc}")
        doc = status_json({"NAT_TELEMETRY_ENDPOINT": "stdout",
                           "NAT_TELEMETRY_CONSENT_FILE": os.path.join(home, "x.toml")}, home)
        check(doc["endpoint"] == "stdout" and doc["sink"] == "stdout"
              and doc["source"] == "nobody", f"{doc}")

        # stale prompt_version: enabled is asked again, disabled stays
        with open(path, "w") as f:
            f.write('[telemetry]\nconsent = "enabled"\nprompt_version = "0.1"\n')
        doc = status_json({}, home)
        check(doc["enabled"] is False and doc["source"] == "nobody"
              and doc["fileConsent"] == "never_asked", f"stale enabled: {doc}")
        with open(path, "w") as f:
            f.write('[telemetry]\nconsent = "disabled"\n')
        doc = status_json({}, home)
        check(doc["source"] == "file" and doc["fileConsent"] == "disabled", f"stale disabled: {doc}")

        # the decision did not land: exit 1, one clear line, file unchanged
        blocker = os.path.join(home, "plainfile")
        with open(blocker, "w") as f:
            f.write("x")
        for bad in (os.path.join(blocker, "sub", "telemetry.toml"),  # ENOTDIR
                    os.path.dirname(path)):                         # a directory
            p = run(["consent", "--enable"], {"NAT_TELEMETRY_CONSENT_FILE": bad}, home)
            check(p.returncode == 1, f"unwritable {bad}: exit {p.returncode}")
            check(p.stderr.startswith("nattel consent: ") and p.stderr.count("\n") == 1
                  and "not saved" in p.stderr, f"unwritable message: {p.stderr!r}")
            check(p.stdout == "", f"unwritable stdout: {p.stdout!r}")
        # usage
        for args in (["consent", "--enable", "--disable"], ["consent", "--bogus"],
                     ["status", "--yaml"]):
            p = run(args, {}, home)
            check(p.returncode == 2 and p.stderr.startswith("nattel "), f"{args}: {p.returncode} {p.stderr!r}")
        for cmd in ("consent", "status"):
            for h in ("-h", "--help"):
                p = run([cmd, h], {}, home)
                check(p.returncode == 0 and p.stdout.startswith("usage: nattel " + cmd),
                      f"{cmd} {h}: {p.returncode} {p.stdout[:40]!r}")
        opt_out_clears(home)
    return tl.summary()


def opt_out_clears(tmp):
    import consent_testlib as ct
    lis = ct.Listener()
    try:
        spool = {"NAT_TELEMETRY_ENDPOINT": lis.url,
                 "NATTEL_DELIVERY": "spool-only"}
        # --disable: the spool is emptied, the log and the output say so.
        h = ct.Home(tmp, "optout")
        check(h.run("consent", "--enable").returncode == 0, "enable")
        for _ in range(3):
            h.emit("run", spool)
        check(len(h.spooled()) == 3, f"spooled: {h.spooled()}")
        p = h.run("consent", "--disable")
        check(p.returncode == 0, f"--disable: {p.stderr}")
        check("Removed 3 waiting events" in p.stdout, p.stdout)
        check(h.spooled() == [], f"--disable empties the spool: {h.spooled()}")
        drops = [a for a in h.audit() if a.get("outcome") == "dropped"]
        check(len(drops) == 1 and drops[0].get("events") == 3 and
              "consent --disable" in drops[0].get("reason", ""),
              f"the audit log says how many and why: {drops}")
        h.run("flush", extra=spool)
        check(lis.bodies == [], "nothing sent")
        # --disable --keep-spool: kept, and still never sent.
        h = ct.Home(tmp, "keep")
        check(h.run("consent", "--enable").returncode == 0, "enable")
        h.emit("run", spool)
        h.emit("run", spool)
        p = h.run("consent", "--disable", "--keep-spool")
        check(p.returncode == 0 and "Removed" not in p.stdout, p.stdout)
        check(len(h.spooled()) == 2, f"--keep-spool keeps: {h.spooled()}")
        h.run("flush", extra=spool)
        check(lis.bodies == [] and len(h.spooled()) == 2,
              "kept, never sent while disabled")
        p = h.run("consent", "--enable", "--keep-spool")
        check(p.returncode == 2, f"--keep-spool goes with --disable: {p.returncode}")
        # DO_NOT_TRACK seen by a flush clears what waits.
        p = h.run("flush", extra=dict(spool, DO_NOT_TRACK="1"))
        check(h.spooled() == [], f"DO_NOT_TRACK clears: {h.spooled()}")
        drops = [a for a in h.audit() if a.get("outcome") == "dropped"]
        check(drops and drops[-1].get("events") == 2 and
              "DO_NOT_TRACK" in drops[-1].get("reason", ""), f"{drops}")
    finally:
        lis.close()


if __name__ == "__main__":
    sys.exit(main())
