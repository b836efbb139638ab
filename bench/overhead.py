#!/usr/bin/env python3
"""Host overhead of telemetry: the wall time `nattel emit` takes with
telemetry on (NAT_TELEMETRY_ENABLED=1: consent, spool, maybe start a
flusher) versus off (=0: stops at the consent decision), with the endpoint
(a) healthy (a real `nattel serve` on 127.0.0.1), (b) refusing connections,
(c) black-holed (accepts TCP, never answers). Issue 9's target: at most
1 ms added at the median in every case, no single run over 500 ms.

Then (issue 16) the cost of a full spool: `nattel emit` (telemetry on,
NATTEL_DELIVERY=spool-only, so no flusher runs) into a spool holding the
bound's 1,000 events (each emit drops the oldest) versus into an empty
spool (emptied after each run, outside the timing); interleaved the same
way. Target: the full spool adds at most 0.2 ms at the median.

On and off runs are interleaved in one loop, alternating which goes first,
so load on a shared machine hits both alike; the added time is the median
of the paired differences (on - off). Each run is time.perf_counter()
around subprocess.run with stdio on /dev/null.

usage: overhead.py NATTEL_BIN WORKDIR [--runs 200] [--flusher PATH]
Prints a human-readable report. When the tool has no delivery yet, prints
"unavailable REASON" and exits 0. Every server and flusher it starts is
stopped before it exits; the state directories are temporary.
"""
import argparse
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

PATH = "/v1.1/events/json"
TARGET_MEDIAN_MS = 1.0
TARGET_MAX_MS = 500.0
TARGET_FULL_MS = 0.2
SPOOL_BOUND = 1000


def procs_for(state_dir):
    """Live processes whose environment names this state directory (the
    flushers the measured emits started)."""
    key = b"NATTEL_STATE_DIR=" + os.fsencode(state_dir)
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                st = f.read()
            if st[st.rfind(b")") + 2:st.rfind(b")") + 3] in (b"Z", b"X"):
                continue
            with open("/proc/%s/environ" % name, "rb") as f:
                if key in f.read().split(b"\0"):
                    out.append(int(name))
        except OSError:
            pass
    return out


def stop_flushers(state_dir, timeout=20.0):
    """Waits a moment for flushers to finish, then kills what is left."""
    end = time.monotonic() + timeout
    while procs_for(state_dir) and time.monotonic() < end:
        time.sleep(0.2)
    left = procs_for(state_dir)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return len(left)


class Refused:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))   # bound, not listening: refused
        self.url = "http://127.0.0.1:%d%s" % (self.sock.getsockname()[1], PATH)

    def close(self):
        self.sock.close()


class BlackHole:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.sock.settimeout(0.2)
        self.url = "http://127.0.0.1:%d%s" % (self.sock.getsockname()[1], PATH)
        self.conns = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set() and len(self.conns) < 1024:
            try:
                self.conns.append(self.sock.accept()[0])
            except socket.timeout:
                continue
            except OSError:
                return

    def close(self):
        self.stop.set()
        self.thread.join(5)
        for c in self.conns:
            c.close()
        self.sock.close()


class Serve:
    def __init__(self, tool, work):
        self.db = os.path.join(work, "overhead.db")
        self.proc = subprocess.Popen(
            [tool, "serve", "--listen", "127.0.0.1:0", "--db", self.db, "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        line = []
        t = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()),
                             daemon=True)
        t.start()
        t.join(20)
        if not line or not line[0].startswith(b"http://127.0.0.1:"):
            self.close()
            raise RuntimeError("nattel serve printed no URL")
        self.url = line[0].decode().strip()

    def stored(self):
        try:
            con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=10)
            try:
                return con.execute("SELECT count(*) FROM events").fetchone()[0]
            finally:
                con.close()
        except sqlite3.Error:
            return -1

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc.stdout.close()


def base_env(work, endpoint, state, flusher):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NAT_", "NATTEL_", "XDG_")) and k != "DO_NOT_TRACK"}
    home = os.path.join(work, "home")
    os.makedirs(home, exist_ok=True)
    env.update({"HOME": home, "NAT_TELEMETRY_ENDPOINT": endpoint,
                "NATTEL_STATE_DIR": state,
                "NAT_TELEMETRY_CONSENT_FILE": os.path.join(work, "none", "telemetry.toml")})
    if flusher:
        env["NATTEL_FLUSHER"] = flusher
    return env


def one_run(tool, env, i):
    argv = [tool, "emit", "--command", "bench", "--status", "success",
            "--duration-ms", str(i), "--exit-code", "0"]
    t0 = time.perf_counter()
    r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dt = (time.perf_counter() - t0) * 1000.0
    if r.returncode != 0:
        raise RuntimeError("nattel emit exited %d" % r.returncode)
    return dt


def measure(tool, work, name, endpoint, runs, flusher):
    state = os.path.join(work, "state-" + name)
    env = base_env(work, endpoint, state, flusher)
    on = dict(env, NAT_TELEMETRY_ENABLED="1")
    off = dict(env, NAT_TELEMETRY_ENABLED="0")
    one_run(tool, off, 0)          # warm the page cache
    t_on, t_off, diff = [], [], []
    try:
        for i in range(runs):
            if i % 2 == 0:
                a = one_run(tool, on, i)
                b = one_run(tool, off, i)
            else:
                b = one_run(tool, off, i)
                a = one_run(tool, on, i)
            t_on.append(a)
            t_off.append(b)
            diff.append(a - b)
    finally:
        killed = stop_flushers(state, timeout=0 if name != "healthy" else 20)
    return t_on, t_off, diff, killed, state


def fill_spool(state, n):
    """n spool entries older than anything an emit writes, each a copy of
    the one entry there (a real envelope)."""
    spool = os.path.join(state, "spool")
    names = [x for x in os.listdir(spool) if x.endswith(".json")]
    if len(names) != 1:
        raise RuntimeError("expected one spool entry, found %d" % len(names))
    with open(os.path.join(spool, names[0]), "rb") as f:
        data = f.read()
    ms = int(names[0].split("-")[0]) - 10 * n
    for k in range(n):
        name = "%013d-%010d-%016x-%d-0.json" % (ms + k, k, k, len(data))
        with open(os.path.join(spool, name), "wb") as f:
            f.write(data)


def empty_spool(state):
    spool = os.path.join(state, "spool")
    for x in os.listdir(spool):
        os.unlink(os.path.join(spool, x))


def measure_full(tool, work, runs):
    """Emit into a full spool vs an empty one, interleaved; spool-only, so
    the figure is the host's own path."""
    envs = {}
    for name in ("empty", "full"):
        env = base_env(work, "http://127.0.0.1:9" + PATH,
                       os.path.join(work, "state-spool-" + name), "")
        envs[name] = dict(env, NAT_TELEMETRY_ENABLED="1", NATTEL_DELIVERY="spool-only")
        one_run(tool, envs[name], 0)
    full_state = envs["full"]["NATTEL_STATE_DIR"]
    empty_state = envs["empty"]["NATTEL_STATE_DIR"]
    fill_spool(full_state, SPOOL_BOUND)
    empty_spool(empty_state)
    t_full, t_empty, diff = [], [], []
    for i in range(runs):
        if i % 2 == 0:
            a = one_run(tool, envs["full"], i)
            b = one_run(tool, envs["empty"], i)
        else:
            b = one_run(tool, envs["empty"], i)
            a = one_run(tool, envs["full"], i)
        empty_spool(empty_state)
        t_full.append(a)
        t_empty.append(b)
        diff.append(a - b)
    left = len(os.listdir(os.path.join(full_state, "spool")))
    added = statistics.median(diff)
    ok = added <= TARGET_FULL_MS and left <= SPOOL_BOUND
    print("  full spool (%d events, the bound) vs empty spool, spool-only, "
          "%d runs each, interleaved; full spool holds %d after" % (SPOOL_BOUND, runs, left))
    print("    full:  %s" % fmt(t_full))
    print("    empty: %s" % fmt(t_empty))
    print("    added: %s  (full - empty, paired)" % fmt(diff))
    print("    target: added median <= %g ms, bound kept: %s"
          % (TARGET_FULL_MS, "met" if ok else "NOT MET"))
    return ok


def fmt(xs):
    return "median %7.2f ms  max %7.2f ms" % (statistics.median(xs), max(xs))


def report(name, t_on, t_off, diff, extra):
    added = statistics.median(diff)
    ok = added <= TARGET_MEDIAN_MS and max(t_on) <= TARGET_MAX_MS
    print("  %s (%d runs each, interleaved)%s" % (name, len(t_on), extra))
    print("    on:    %s" % fmt(t_on))
    print("    off:   %s" % fmt(t_off))
    print("    added: %s  (on - off, paired; median(on) - median(off) = %.2f ms)"
          % (fmt(diff), statistics.median(t_on) - statistics.median(t_off)))
    print("    target: added median <= %g ms, no run > %g ms: %s"
          % (TARGET_MEDIAN_MS, TARGET_MAX_MS, "met" if ok else "NOT MET"))
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool")
    ap.add_argument("work")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--flusher", default="")
    a = ap.parse_args()
    if a.runs < 1 or a.runs > 100000:
        ap.error("--runs must be 1..100000")
    a.tool = os.path.abspath(a.tool)
    flusher = os.path.abspath(a.flusher) if a.flusher and os.access(a.flusher, os.X_OK) else ""
    r = subprocess.run([a.tool, "flush", "--help"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        print("unavailable this nattel has no delivery (`nattel flush` unknown)")
        return 0
    os.makedirs(a.work, exist_ok=True)
    work = tempfile.mkdtemp(prefix="overhead-", dir=os.path.abspath(a.work))
    all_ok = True
    try:
        for name in ("healthy", "refused", "black-holed"):
            ep = None
            try:
                if name == "healthy":
                    ep = Serve(a.tool, work)
                elif name == "refused":
                    ep = Refused()
                else:
                    ep = BlackHole()
                t_on, t_off, diff, killed, state = measure(
                    a.tool, work, name, ep.url, a.runs, flusher)
                extra = ""
                if name == "healthy":
                    subprocess.run([a.tool, "flush", "--wait"], env=dict(
                        base_env(work, ep.url, state, flusher),
                        NAT_TELEMETRY_ENABLED="1"), stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=120)
                    extra = "; stored by serve afterwards: %d of %d" % (ep.stored(), a.runs)
                all_ok &= report(name, t_on, t_off, diff, extra)
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                print("  %s: not measured: %s" % (name, e))
                all_ok = False
            finally:
                if ep is not None:
                    ep.close()
                stop_flushers(os.path.join(work, "state-" + name), timeout=0)
        try:
            all_ok &= measure_full(a.tool, work, a.runs)
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            print("  full spool: not measured: %s" % e)
            all_ok = False
        print("  overall: %s" % ("met" if all_ok else "NOT MET"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
