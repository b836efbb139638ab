#!/usr/bin/env python3
"""Issue 16, the client side, on real file systems: a small tmpfs filled
to the last block (events the disk had no room for are said by `nattel
emit` on stderr and counted as dropped by the next flush once space
returns), and a state directory on a tmpfs remounted read-only (`nattel
flush` says what failed at once, never "another flusher is still
running"). Needs root and mount(8); each test skips with a message when
mounting is not permitted.

Helpers come from test_delivery.py. Environment (set by CTest): NATTEL_BIN,
NATTEL_BUILD_DIR, NATTEL_SOURCE_DIR, NATTEL_TEST_TMP.
"""

import errno
import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
from test_delivery import Nattel, run_tests

MOUNT = shutil.which("mount")
UMOUNT = shutil.which("umount")


def tmpfs(work, name, size):
    """A fresh tmpfs of `size` at work/name, or None (said on stderr)."""
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    if os.geteuid() != 0 or not MOUNT or not UMOUNT:
        print("skip %s: needs root and mount(8)" % name, file=sys.stderr)
        return None
    r = subprocess.run([MOUNT, "-t", "tmpfs", "-o", "size=%s,mode=0700" % size,
                        "tmpfs", d], capture_output=True, text=True)
    if r.returncode != 0:
        print("skip %s: mount not permitted: %s" % (name, r.stderr.strip()),
              file=sys.stderr)
        return None
    return d


def unmount(d):
    subprocess.run([UMOUNT, "-l", d], capture_output=True)


def fill(path):
    """Writes zeros into path until the file system is full."""
    with open(path, "wb", buffering=0) as f:
        block = b"\0" * 4096
        while True:
            try:
                f.write(block)
            except OSError as e:
                if e.errno == errno.ENOSPC:
                    return
                raise


def test_full_disk_counted(work):
    d = tmpfs(work, "full", "256k")
    if not d:
        return
    try:
        nt = Nattel(work, "http://127.0.0.1:9/v1.1/events/json",
                    state=os.path.join(d, "state"), NATTEL_DELIVERY="spool-only")
        nt.emit(1)
        filler = os.path.join(d, "filler")
        fill(filler)
        r1 = nt.emit(2)        # exit 0 and nothing on stdout: checked by emit()
        assert "lost" in r1.stderr and "1 event(s)" in r1.stderr, \
            "a lost event is said on stderr: %r" % r1.stderr
        r2 = nt.emit(3)
        assert "2 event(s) lost" in r2.stderr, \
            "earlier losses are said until counted: %r" % r2.stderr
        assert nt.status().get("dropped") == 0, nt.status()
        os.unlink(filler)
        nt.flush()             # the endpoint refuses: the spooled event waits
        st = nt.status()
        assert st.get("dropped") == 2 and st.get("spooled") == 1, st
        drops = [e for e in nt.log() if e["outcome"] == "dropped"]
        assert sum(e["events"] for e in drops) == 2 and \
            "disk was full" in drops[-1]["reason"], drops
        r3 = nt.emit(4)
        assert "lost" not in r3.stderr, "counted losses are not said again: %r" % r3.stderr
    finally:
        unmount(d)


def test_read_only_state_flush_says_why(work):
    d = tmpfs(work, "ro", "1m")
    if not d:
        return
    try:
        nt = Nattel(work, "http://127.0.0.1:9/v1.1/events/json",
                    state=os.path.join(d, "state"), NATTEL_DELIVERY="spool-only")
        nt.emit(1)
        r = subprocess.run([MOUNT, "-o", "remount,ro", d], capture_output=True, text=True)
        if r.returncode != 0:
            print("skip read-only: remount not permitted: %s" % r.stderr.strip(),
                  file=sys.stderr)
            return
        t0 = time.monotonic()
        r = nt.flush(timeout=60)
        took = time.monotonic() - t0
        assert took < 3, "flush took %.1fs on a read-only state" % took
        assert r.returncode == 1, "exit %d: %r" % (r.returncode, r.stderr)
        assert "another flusher" not in r.stderr and \
            "read-only" in r.stderr.lower(), "says what failed: %r" % r.stderr
        assert r.stdout == "", r.stdout
    finally:
        unmount(d)


TESTS = [
    test_full_disk_counted,
    test_read_only_state_flush_says_why,
]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS, "faults16m-"))
