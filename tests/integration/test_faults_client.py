#!/usr/bin/env python3
"""Issue 16, the client side, with real parts: a spool directory the flusher cannot write ends
the flusher with a clear error (it spun at 100% CPU); a consent file that
exists but cannot be read (root's 0600 file read by `nobody`, through
runuser) reads as disabled and is never prompted over nor replaced; and
an exactly-once run with faults against a listener on 127.0.0.1 that
counts events by their Nattel-Event-Ids.

Helpers come from test_delivery.py. Environment (set by CTest): NATTEL_BIN,
NATTEL_BUILD_DIR, NATTEL_SOURCE_DIR, NATTEL_TEST_TMP.
"""

import json
import os
import pty
import random
import select
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
from test_delivery import (BIN, DEADLINE, FakeServer, Nattel, kill_procs,
                           run_tests, durations_of)

RUNUSER = shutil.which("runuser")


def as_nobody_dir(work, name):
    """A directory `nobody` can reach (the work dir may be 0700)."""
    d = os.path.join("/tmp", "nattel16-%s-%d" % (name, os.getpid()))
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    os.chmod(d, 0o755)
    return d


def nobody_bin(base):
    """The tool copied into `base` (which nobody can reach): the build
    tree may sit below a directory nobody cannot enter (a clone in a
    `mktemp -d` directory is 0700)."""
    path = os.path.join(base, "nattel")
    shutil.copy(BIN, path)
    os.chmod(path, 0o755)
    return path


def test_unwritable_spool_ends_the_flusher(work):
    if not RUNUSER or os.geteuid() != 0:
        print("skip part: needs root and runuser", file=sys.stderr)
        return
    base = as_nobody_dir(work, "ro")
    try:
        state = os.path.join(base, "state")
        nt = Nattel(work, "http://127.0.0.1:9/v1.1/events/json", state=state,
                    NATTEL_DELIVERY="spool-only")
        nt.emit(1)
        nt.emit(2)
        subprocess.run(["chown", "-R", "nobody", state], check=True)
        os.chmod(os.path.join(state, "spool"), 0o500)
        env = dict(nt.env)
        env["HOME"] = base
        t0 = time.monotonic()
        r = subprocess.run([RUNUSER, "-u", "nobody", "--", nobody_bin(base),
                            "flush"],
                           env=env, capture_output=True, text=True,
                           timeout=30, stdin=subprocess.DEVNULL)
        took = time.monotonic() - t0
        assert took < 10, "flush took %.1fs" % took
        assert r.returncode != 0, "flush said nothing: %r" % r.stderr
        assert "spool" in r.stderr and "Permission denied" in r.stderr, r.stderr
        assert len(os.listdir(os.path.join(state, "spool"))) == 2
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_unreadable_consent_reads_disabled(work):
    if not RUNUSER or os.geteuid() != 0:
        print("skip part: needs root and runuser", file=sys.stderr)
        return
    base = as_nobody_dir(work, "consent")
    try:
        consent = os.path.join(base, "telemetry.toml")
        with open(consent, "w") as f:
            f.write('[telemetry]\nconsent = "disabled"\nprompt_version = "1.0"\n')
        os.chmod(consent, 0o600)
        before = open(consent).read()
        srv = FakeServer(lambda i, body: (200, {}))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("NAT_", "NATTEL_")) and k != "DO_NOT_TRACK"}
        env.update({"HOME": base, "NAT_TELEMETRY_CONSENT_FILE": consent,
                    "NAT_TELEMETRY_ENDPOINT": srv.url,
                    "NATTEL_STATE_DIR": os.path.join(base, "state"),
                    "NATTEL_DELIVERY": "spool-only"})
        nbin = nobody_bin(base)
        r = subprocess.run([RUNUSER, "-u", "nobody", "--", nbin, "consent",
                            "--status"], env=env, capture_output=True,
                           text=True, timeout=DEADLINE)
        assert "telemetry: disabled" in r.stdout, r.stdout
        assert "cannot be read" in r.stdout, r.stdout
        # With a terminal, emit must not prompt (default yes) over it.
        master, slave = pty.openpty()
        p = subprocess.Popen([RUNUSER, "-u", "nobody", "--", nbin, "emit",
                              "--command", "x", "--status", "success"],
                             env=env, stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)
        out = b""
        end = time.monotonic() + 5
        while time.monotonic() < end and p.poll() is None:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                out += chunk
                if b"[Y/n]" in out or b"y/N" in out.lower():
                    os.write(master, b"\n")
        if p.poll() is None:
            p.kill()
        p.wait(5)
        os.close(master)
        assert b"telemetry" not in out.lower() or b"[y/n]" not in out.lower(), out
        assert open(consent).read() == before, "the consent file was replaced"
        assert not srv.posts
        srv.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_exactly_once_with_faults(work):
    """Hosts emit while the listener fails at random (503, a 200 with a
    short body, a held answer past the sender's timeout) and flushers are
    killed with SIGKILL; at the end every event is stored once by its
    Nattel-Event-Ids. Prints the figures."""
    rng = random.Random(16)
    stored = {}
    seen_posts = [0]

    def decide(i, body):
        seen_posts[0] += 1
        roll = rng.random()
        if roll < 0.2:
            return 503, {}
        if roll < 0.25:
            time.sleep(1.5)      # past NATTEL_HANDOFF_TOTAL_MS below
        return 200, {}
    srv = FakeServer(decide)
    nt = Nattel(work, srv.url, NATTEL_HANDOFF_TOTAL_MS="1000")
    n = 60
    for i in range(n):
        nt.emit(i)
        if i % 10 == 5:
            kill_procs(nt.flushers())
    for _ in range(30):
        nt.quiesce()
        if nt.status().get("spooled") == 0:
            break
        nt.flush()
    nt.quiesce()
    accepted = {}
    with srv.lock:
        posts = list(srv.posts)
    for status, body, headers in posts:
        ids = [x for x in headers.get("Nattel-Event-Ids", "").split(",") if x]
        assert len(ids) == len(durations_of(body)), (ids, body[:200])
        if status == 200:
            for k in ids:
                accepted[k] = accepted.get(k, 0) + 1
    dup = sum(c - 1 for c in accepted.values())
    st = nt.status()
    print("exactly-once run: emitted %d, posts %d, distinct stored %d, "
          "duplicate deliveries by id %d, spooled %s, dropped %s"
          % (n, len(posts), len(accepted), dup, st.get("spooled"),
             st.get("dropped")))
    assert len(accepted) == n, "stored %d of %d" % (len(accepted), n)
    srv.close()


TESTS = [
    test_unwritable_spool_ends_the_flusher,
    test_unreadable_consent_reads_disabled,
    test_exactly_once_with_faults,
]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS, "faults16-"))
