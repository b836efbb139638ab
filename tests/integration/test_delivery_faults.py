#!/usr/bin/env python3
"""Delivery under faults (issue 9, "Measured acceptance"): a flusher killed
with SIGKILL in the middle of a send loses nothing; 503 (Retry-After) then
200 delivers on a later flush; 400/422 drop and record; a single event over
the server's body limit (413) is dropped and recorded, not retried forever;
a batch over the limit is split and delivered; envelopes hold at most 50
events of one session. Also: the spool cap drops the oldest first, no
zombie for a long-running host, one flusher at a time, in-process mode's
flush deadline, back-off starts no flusher, planted spool entries, the
retry limit, the audit log's rotation, TLS verification.

Fault servers: the real `nattel serve` with --fail-status/--max-body where
it can play the part, else a Python ThreadingHTTPServer on 127.0.0.1 (a
listener that holds its answer, one that answers 413 above K events). Both
read the whole body before answering.

Multi-event envelopes need one session with several events, which `nattel
emit` (one process, one session, one event) cannot make: a small C host is
compiled here against the public client API (include/nattel/client.h) and
the built libnattel.a, and spools N events of one session
(NATTEL_DELIVERY_SPOOL_ONLY) for `nattel flush` to send.

Helpers come from test_delivery.py. Environment (set by CTest): NATTEL_BIN,
NATTEL_BUILD_DIR, NATTEL_SOURCE_DIR, NATTEL_CC, NATTEL_TEST_TMP.
"""

import atexit
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
from test_delivery import (BIN, BUILD, DEADLINE, TMP, BlackHole, FakeServer,
                           Nattel, RefusedPort, Serve, assert_each_once,
                           assert_private, durations_of, events_of,
                           kill_procs, poll, run_tests, spool_offline,
                           stat_fields, stop_all)

SRC = os.environ.get("NATTEL_SOURCE_DIR", "")
CC = os.environ.get("NATTEL_CC") or "cc"

HOST_C = r"""
#include <nattel/client.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* usage: host N BASE [spool | spawn | inproc FLUSH_MS]
 * Emits N nat_cli_command events of one session (one client), durationMs
 * BASE..BASE+N-1.
 *   spool (default): NATTEL_DELIVERY_SPOOL_ONLY, starts nothing;
 *   spawn: the default mode (a detached flusher), then prints "emitted"
 *     on stderr and waits for end of input before freeing the client (a
 *     long-running host);
 *   inproc: NATTEL_DELIVERY_IN_PROCESS, then nattel_client_flush(FLUSH_MS)
 *     and free, as a server at shutdown.
 * HOST_COMMAND_PAD=K in the environment makes the command name K letters
 * longer (bigger events). */
int main(int argc, char **argv)
{
    nattel_error err;
    if (argc < 3 || argc > 5)
        return 2;
    int n = atoi(argv[1]);
    long long base = atoll(argv[2]);
    const char *mode = argc > 3 ? argv[3] : "spool";
    /* HOST_COMMAND_PAD=K: a command name of K letters (bigger events) */
    const char *pad = getenv("HOST_COMMAND_PAD");
    size_t k = pad ? (size_t)atol(pad) : 0;
    char *command = malloc(k + 6);
    if (!command)
        return 1;
    strcpy(command, "batch");
    memset(command + 5, 'x', k);
    command[k + 5] = '\0';
    long long flush_ms = argc > 4 ? atoll(argv[4]) : 0;
    nattel_options *o = nattel_options_new();
    if (!o || nattel_options_from_env(o, NULL, NULL, &err)) {
        fprintf(stderr, "host: options: %s\n", o ? err.message : "no memory");
        return 1;
    }
    if (!strcmp(mode, "spool"))
        nattel_options_set_delivery_mode(o, NATTEL_DELIVERY_SPOOL_ONLY);
    else if (!strcmp(mode, "inproc"))
        nattel_options_set_delivery_mode(o, NATTEL_DELIVERY_IN_PROCESS);
    else if (strcmp(mode, "spawn"))
        return 2;
    nattel_client *c = nattel_client_new(o, &err);
    if (!c) {
        fprintf(stderr, "host: client: %s\n", err.message);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        nattel_cli_command cmd = NATTEL_CLI_COMMAND_INIT;
        nattel_event *ev = NULL;
        cmd.command = command;
        cmd.task_status = NATTEL_TASK_STATUS_SUCCESS;
        cmd.duration_ms = base + i;
        cmd.exit_code = 0;
        if (nattel_cli_command_event(&cmd, &ev, &err) ||
            nattel_client_emit(c, ev, &err)) {
            fprintf(stderr, "host: event %d: %s\n", i, err.message);
            nattel_client_free(c);
            free(command);
            return 1;
        }
    }
    if (!strcmp(mode, "spawn")) {
        fputs("emitted\n", stderr);
        while (getchar() != EOF)
            ;
    }
    int rc = 0;
    if (!strcmp(mode, "inproc") && nattel_client_flush(c, flush_ms, &err)) {
        fprintf(stderr, "host: flush: %s\n", err.message);
        rc = 3;
    }
    nattel_client_free(c);
    free(command);
    return rc;
}
"""


_HOST = {}


def build_host(work):
    """Compiles HOST_C (once per run) against the build's libraries (the link line CMake
    used for the tool, so the same dependencies); returns its path."""
    link = os.path.join(BUILD, "CMakeFiles", "nattel_tool.dir", "link.txt")
    with open(link) as f:
        words = shlex.split(f.read())
    out_at = words.index("-o")
    flags = [w for w in words[1:out_at] if w.startswith(("-fsanitize", "-fno-omit"))]
    libs = [w if os.path.isabs(w) or w.startswith("-") else os.path.join(BUILD, w)
            for w in words[out_at + 2:]]
    if "exe" in _HOST:
        return _HOST["exe"]
    # its own directory: a passing test's work directory is removed
    where = tempfile.mkdtemp(prefix="host-", dir=TMP)
    atexit.register(shutil.rmtree, where, True)
    src = os.path.join(where, "host.c")
    exe = os.path.join(where, "host")
    with open(src, "w") as f:
        f.write(HOST_C)
    r = subprocess.run([CC, "-std=c11", "-Wall", "-Wextra", "-Werror"] + flags +
                       ["-I", os.path.join(SRC, "include"), src, "-o", exe] + libs,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, "cannot build the client-API host: %s" % r.stderr[-2000:]
    _HOST["exe"] = exe
    return exe


def spool_one_session(work, nt, n, base, spooled=None):
    exe = build_host(work)
    r = subprocess.run([exe, str(n), str(base)], env=nt.env, capture_output=True,
                       text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and r.stdout == "", \
        "host: exit %d, stdout %r, stderr %r" % (r.returncode, r.stdout, r.stderr)
    assert not nt.flushers(), "spool-only mode started a flusher"
    st = nt.status()
    want = n if spooled is None else spooled
    assert st.get("spooled") == want, "want %d spooled: %s" % (want, st)
    return st


def sessions_of(posts):
    out = []
    for p in posts:
        try:
            out.append(json.loads(p[1]).get("sessionId"))
        except ValueError:
            out.append(None)
    return out


def kill_mid_send(nt, start):
    """Runs `start()` (which makes something send to the holding server
    `nt.env`'s endpoint points at), waits until the request arrived, then
    SIGKILLs every process working on the state directory. Returns the
    durations in flight."""
    hang = FakeServer(lambda i, body: (None, {}))
    nt.env["NAT_TELEMETRY_ENDPOINT"] = hang.url
    proc = None
    try:
        proc = start()
        assert hang.arrived.wait(DEADLINE), "no request reached the holding server"
        in_flight = hang.received()
        assert in_flight, "the request carried no events: %r" % hang.posts
        victims = nt.flushers()
        assert victims, "no process to kill"
        kill_procs(victims)
        assert poll(lambda: not nt.flushers(), DEADLINE), "killed processes linger"
        if proc is not None:
            proc.wait(DEADLINE)
        return in_flight
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)
        hang.close()


def test_kill9_flusher_mid_send_loses_nothing(work):
    """SIGKILL in the middle of a send, twice: (1) `nattel flush` holding a
    POST the server never answers; (2) the flusher `nattel emit` started.
    Then, against a real `nattel serve`, one flush delivers every event;
    an event may arrive twice only if it was in the batch in flight."""
    # (1) `nattel flush` killed
    want1 = [101, 102, 103, 104, 105]
    nt = spool_offline(work, want1)
    srv = None
    try:
        in_flight1 = kill_mid_send(nt, lambda: subprocess.Popen(
            [BIN, "flush"], env=nt.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        # (2) an auto-started flusher killed (fresh state: no back-off)
        nt2 = Nattel(work, "", state=os.path.join(work, "state2"))
        want2 = [201, 202, 203]

        def emit_all():
            for d in want2:
                nt2.emit(d)
            return None
        try:
            in_flight2 = kill_mid_send(nt2, emit_all)
        finally:
            nt2.cleanup()
        srv = Serve(work, "--quiet")
        for n, want, in_flight in ((nt, want1, in_flight1), (nt2, want2, in_flight2)):
            n.env["NAT_TELEMETRY_ENDPOINT"] = srv.url
            r = n.flush()
            assert r.returncode == 0, "flush after kill: exit %d: %s" % (r.returncode, r.stderr)
            st = n.status()
            assert st.get("spooled") == 0, "spool not empty after the kill: %s" % st
            n.quiesce()
            assert_private(n)
        got = srv.durations()
        want = want1 + want2
        missing = sorted(set(want) - set(got))
        assert not missing, "lost after kill -9: %s (stored %s)" % (missing, got)
        dups = sorted({d for d in got if got.count(d) > 1})
        assert set(dups) <= set(in_flight1 + in_flight2), \
            "sent twice but not in flight: %s (in flight %s)" % (dups, in_flight1 + in_flight2)
        assert set(got) == set(want), "unexpected events: %s" % got
    finally:
        nt.cleanup()
        if srv:
            srv.stop()


def test_503_retry_after_then_200_on_a_later_flush(work):
    """The first POST gets 503 with Retry-After: 1, the rest 200: the
    first flush leaves that batch spooled (exit 1) and logs it deferred; a
    later flush delivers it; the log shows deferred (503) then sent."""
    want = [301, 302, 303]
    nt = spool_offline(work, want)
    srv = Serve(work, "--fail-status", "503", "--fail-count", "1",
                "--retry-after", "1")
    try:
        nt.env["NAT_TELEMETRY_ENDPOINT"] = srv.url
        r = nt.flush()
        assert r.returncode == 1, "flush with a 503: exit %d (want 1): %s" % (
            r.returncode, r.stderr)
        st = nt.status()
        assert st.get("spooled", 0) >= 1, "the 503 batch is not kept: %s" % st
        assert st.get("dropped") == 0, st
        time.sleep(1.1)     # what Retry-After asked for
        r = nt.flush()
        assert r.returncode == 0, "later flush: exit %d: %s" % (r.returncode, r.stderr)
        assert_each_once(srv.durations(), want, "store")
        st = nt.status()
        assert st.get("spooled") == 0 and st.get("dropped") == 0, st
        log = nt.log()
        outcomes = [(e["outcome"], e["http_status"]) for e in log]
        deferred = [i for i, e in enumerate(log)
                    if e["outcome"] == "deferred" and e["http_status"] == 503]
        sent = [i for i, e in enumerate(log) if e["outcome"] == "sent"]
        assert deferred, "no deferred 503 entry: %s" % outcomes
        assert sent and max(sent) > deferred[0], "no sent after the deferred: %s" % outcomes
        d = log[deferred[0]]
        assert d["events"] >= 1 and d["reason"], d
        nt.quiesce()
        assert_private(nt)
    finally:
        nt.cleanup()
        srv.stop()


def test_400_and_422_drop_and_record(work):
    """400 and 422 answers drop the batch: log outcome rejected with the
    status and payload, `dropped` counts the events, the spool is empty,
    flush exits 0, and nothing is retried."""
    for code, want in (("400", [401, 402]), ("422", [421])):
        sub = os.path.join(work, code)
        os.mkdir(sub)
        nt = spool_offline(sub, want)
        srv = Serve(sub, "--fail-status", code)
        try:
            before = nt.status()
            nt.env["NAT_TELEMETRY_ENDPOINT"] = srv.url
            r = nt.flush()
            assert r.returncode == 0, "%s: flush exit %d (all finally dropped): %s" % (
                code, r.returncode, r.stderr)
            st = nt.status()
            assert st.get("spooled") == 0, "%s: spool not empty: %s" % (code, st)
            assert st.get("dropped") == before.get("dropped", 0) + len(want), \
                "%s: dropped %s -> %s" % (code, before.get("dropped"), st.get("dropped"))
            assert st.get("sent") == 0, st
            last = st.get("last_delivery") or {}
            assert last.get("outcome") == "rejected" and last.get("http_status") == int(code), \
                "%s: last_delivery %s" % (code, last)
            rejected = [e for e in nt.log() if e["outcome"] == "rejected"]
            assert rejected, "%s: no rejected entry" % code
            got = []
            for e in rejected:
                assert e["http_status"] == int(code), e
                assert isinstance(e["payload"], dict), "%s: no payload in %s" % (code, e)
                got += [ev["parameters"]["durationMs"] for ev in e["payload"]["events"]]
            assert_each_once(got, want, "%s: rejected payloads" % code)
            posts = len(srv.posts())
            r = nt.flush()
            assert r.returncode == 0, r.stderr
            nt.quiesce()
            assert len(srv.posts()) == posts, "%s: retried a rejected batch" % code
            assert srv.durations() == []
            assert_private(nt)
        finally:
            nt.cleanup()
            srv.stop()


def test_413_single_event_dropped_not_retried(work):
    """A single event over the server's body limit: 413, dropped and
    recorded (not retried forever), spool empty, flush exits 0."""
    nt = spool_offline(work, [501])
    srv = Serve(work, "--max-body", "200")
    try:
        before = nt.status()
        nt.env["NAT_TELEMETRY_ENDPOINT"] = srv.url
        t0 = time.monotonic()
        r = nt.flush(timeout=120)
        took = time.monotonic() - t0
        assert r.returncode == 0, "flush exit %d: %s" % (r.returncode, r.stderr)
        assert took < DEADLINE, "flush took %.1fs" % took
        st = nt.status()
        assert st.get("spooled") == 0, st
        assert st.get("dropped") == before.get("dropped", 0) + 1, st
        posts = srv.posts()
        assert 1 <= len(posts) <= 3 and all("413" in p for p in posts), posts
        entries = [e for e in nt.log() if e["http_status"] == 413]
        assert entries, "no log entry for the 413"
        final = entries[-1]
        assert final["outcome"] in ("dropped", "rejected") and final["events"] == 1, final
        assert isinstance(final["payload"], dict) and \
            final["payload"]["events"][0]["parameters"]["durationMs"] == 501, final
        r = nt.flush()
        nt.quiesce()
        assert r.returncode == 0 and len(srv.posts()) == len(posts), \
            "retried after the drop: %s" % srv.posts()
        assert_private(nt)
    finally:
        nt.cleanup()
        srv.stop()


def test_413_batch_split_and_delivered(work):
    """12 events of one session, a server answering 413 to any envelope of
    more than 4 events: the sender splits in halves until they fit; all 12
    arrive once, none dropped."""
    limit = 4
    nt = Nattel(work, "http://127.0.0.1:9/v1.1/events/json")
    want = list(range(600, 612))
    srv = FakeServer(lambda i, body: (413, {}) if len(
        events_of(body)) > limit else (200, {}))
    try:
        spool_one_session(work, nt, len(want), want[0])
        nt.env["NAT_TELEMETRY_ENDPOINT"] = srv.url
        r = nt.flush()
        assert r.returncode == 0, "flush exit %d: %s" % (r.returncode, r.stderr)
        statuses = srv.statuses()
        assert 413 in statuses, "never sent more than %d events at once: %s" % (limit, statuses)
        assert_each_once(srv.delivered(), want, "delivered after splits")
        assert len(set(sessions_of(srv.posts))) == 1, "one session, split"
        assert len(srv.posts) <= 2 * len(want), "%d POSTs for %d events" % (
            len(srv.posts), len(want))
        st = nt.status()
        assert st.get("spooled") == 0 and st.get("dropped") == 0 and \
            st.get("sent") == len(want), st
        assert not [e for e in nt.log() if e["outcome"] in ("dropped", "rejected")]
        nt.quiesce()
        assert_private(nt)
    finally:
        nt.cleanup()
        srv.close()


def test_envelopes_hold_at_most_50_events_of_one_session(work):
    """60 events of one session go out in envelopes of at most 50 (and
    more than one event each: the sender batches), all once."""
    nt = Nattel(work, "http://127.0.0.1:9/v1.1/events/json")
    want = list(range(700, 760))
    srv = FakeServer(lambda i, body: (200, {}))
    try:
        spool_one_session(work, nt, len(want), want[0])
        nt.env["NAT_TELEMETRY_ENDPOINT"] = srv.url
        r = nt.flush()
        assert r.returncode == 0, "flush exit %d: %s" % (r.returncode, r.stderr)
        sizes = [len(events_of(p[1])) for p in srv.posts]
        assert sizes and max(sizes) <= 50 and max(sizes) > 1, sizes
        assert_each_once(srv.delivered(), want, "delivered")
        for p in srv.posts:
            h = {k.lower(): v for k, v in p[2].items()}
            assert h.get("content-type", "").startswith("application/json"), h
            assert "nattel" in h.get("user-agent", "").lower(), h
    finally:
        nt.cleanup()
        srv.close()


def test_spool_cap_drops_oldest_and_counts(work):
    """Past the default cap of 1,000 events the oldest are dropped first,
    counted in `dropped` and recorded in the log; the newest 1,000 are
    delivered, each once."""
    nt = Nattel(work, "http://127.0.0.1:9/v1.1/events/json")
    want = list(range(10000, 11005))
    srv = FakeServer(lambda i, body: (200, {}))
    try:
        st = spool_one_session(work, nt, len(want), want[0], spooled=1000)
        assert st.get("dropped") == 5, "5 over the cap, dropped %s" % st
        nt.env["NAT_TELEMETRY_ENDPOINT"] = srv.url
        for _ in range(5):           # 1,000 events: a few rounds at most
            r = nt.flush(timeout=300)
            if r.returncode == 0:
                break
        assert r.returncode == 0, "flush exit %d: %s" % (r.returncode, r.stderr)
        # the host counted them; the flusher recorded them in the log
        drops = [e for e in nt.log() if e["outcome"] == "dropped"]
        assert sum(e["events"] for e in drops) == 5, "log of the cap's drops: %s" % drops
        got = srv.delivered()
        assert len(got) == 1000 and len(set(got)) == 1000 and set(got) <= set(want), \
            "%d delivered, %d distinct" % (len(got), len(set(got)))
        st = nt.status()
        assert st.get("spooled") == 0 and st.get("dropped") == 5 and \
            st.get("sent") == 1000, st
        assert_private(nt)
        # oldest first: the five dropped are the five emitted first
        assert sorted(set(want) - set(got)) == want[:5], \
            "dropped %s, not the oldest five %s" % (sorted(set(want) - set(got)), want[:5])
    finally:
        nt.cleanup()
        srv.close()


def test_no_zombie_left_to_a_long_running_host(work):
    """A host that lives on after emitting (default spawn mode) is left no
    zombie by the flusher it started, and its stdout stays empty."""
    refused = RefusedPort()
    nt = Nattel(work, refused.url)
    exe = build_host(work)
    host = subprocess.Popen([exe, "1", "900", "spawn"], env=nt.env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        line = readline_within(host.stderr, DEADLINE)
        assert line == b"emitted\n" and host.poll() is None, \
            "the host did not emit: %r, exit %s" % (line, host.poll())
        # the flusher runs (refused endpoint) and finishes
        nt.quiesce(exclude=(host.pid,))
        tried = poll(lambda: [e for e in nt.log() if e["outcome"] == "deferred"])
        assert tried, "no flusher tried the refused endpoint: %s" % nt.log()
        time.sleep(0.3)
        zombies = [pid for pid in children(host.pid) if proc_state(pid) == b"Z"]
        assert not zombies, "zombie flusher(s) left to the host: %s" % zombies
        assert nt.status().get("spooled") == 1
        out, err = host.communicate(timeout=DEADLINE)
        assert out == b"", "the host's stdout got %r" % out
        assert host.returncode == 0, (host.returncode, err)
    finally:
        if host.poll() is None:
            host.kill()
            host.communicate(timeout=DEADLINE)
        nt.cleanup()
        refused.close()


def test_parallel_flushes_send_each_once(work):
    """Three `nattel flush` at once (one flusher at a time: the lock) and a
    slow server: every event is stored exactly once."""
    want = [801, 802, 803, 804, 805, 806]
    nt = spool_offline(work, want)
    srv = Serve(work, "--quiet", "--delay-ms", "200")
    procs = []
    try:
        nt.env["NAT_TELEMETRY_ENDPOINT"] = srv.url
        for _ in range(3):
            procs.append(subprocess.Popen([BIN, "flush"], env=nt.env,
                                          stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE))
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode in (0, 1), "flush exit %d: %r" % (p.returncode, err)
        r = nt.flush("--wait")
        assert r.returncode == 0, r.stderr
        nt.quiesce()
        assert_each_once(srv.durations(), want, "store")
        assert nt.status().get("spooled") == 0
    finally:
        stop_all(procs, nt, srv)


def test_in_process_mode_flush_deadline(work):
    """A long-running host in NATTEL_DELIVERY_IN_PROCESS mode: with a
    healthy `nattel serve`, flush(10 s) at shutdown delivers its events;
    with the endpoint black-holed, flush(300 ms) and free return within a
    generous bound far below the sender's 10 s timeout, and the events
    stay spooled for a later process (which delivers them, once)."""
    exe = build_host(work)
    srv = Serve(work, "--quiet")
    hole = BlackHole()
    nt = Nattel(work, srv.url)
    try:
        r = subprocess.run([exe, "3", "1100", "inproc", "10000"], env=nt.env,
                           capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 0 and r.stdout == "", (r.returncode, r.stdout, r.stderr)
        assert_each_once(srv.durations(), [1100, 1101, 1102], "in-process, healthy")
        assert not nt.flushers(), "in-process mode started a flusher process"
        nt.env["NAT_TELEMETRY_ENDPOINT"] = hole.url
        t0 = time.monotonic()
        r = subprocess.run([exe, "2", "1200", "inproc", "300"], env=nt.env,
                           capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        took = time.monotonic() - t0
        assert r.stdout == "", r.stdout
        assert took < 5.0, "flush(300 ms) + free took %.1f s" % took
        assert not nt.flushers(), "in-process mode left a process behind"
        st = nt.status()
        assert st.get("spooled") == 2, "what was not sent stays spooled: %s" % st
        nt.env["NAT_TELEMETRY_ENDPOINT"] = srv.url
        r = nt.flush()
        assert r.returncode == 0, r.stderr
        assert_each_once(srv.durations(), [1100, 1101, 1102, 1200, 1201], "later flush")
        assert_private(nt)
    finally:
        nt.cleanup()
        hole.close()
        srv.stop()


def test_backoff_pending_starts_no_flusher(work):
    """After a failed attempt (refused) a back-off is pending: later emits
    spool and start no flusher, so a dead endpoint is not hammered."""
    nt = spool_offline(work, [1301])
    try:
        before = [e for e in nt.log() if e["outcome"] == "deferred"]
        assert before, "the failed attempt is not in the log"
        st = nt.status()
        assert st.get("backoff_until"), "no back-off after a failure: %s" % st
        for d in (1302, 1303, 1304):
            nt.emit(d)
            assert not nt.flushers(), "a flusher started during back-off"
        nt.quiesce()
        after = [e for e in nt.log() if e["outcome"] == "deferred"]
        assert len(after) == len(before), "attempts during back-off: %s" % after
        assert nt.status().get("spooled") == 4
    finally:
        nt.cleanup()


def entry_names(nt):
    spool = os.path.join(nt.state, "spool")
    return sorted(n for n in os.listdir(spool) if not n.startswith("."))


def test_planted_spool_entries(work):
    """Files planted in the spool: a symlink named like an entry is not
    followed (its target is neither sent nor removed); an entry that is not
    an envelope is dropped and recorded, not retried and not a crash; the
    real events still arrive once."""
    nt = spool_offline(work, [1401])
    srv = Serve(work)
    try:
        names = entry_names(nt)
        assert len(names) == 1, names
        real = os.path.join(nt.state, "spool", names[0])
        with open(real, "rb") as f:
            payload = f.read()
        assert b'"durationMs":1401' in payload, payload[:200]
        # the same name layout (docs: MS-...-RAND-SIZE-ATTEMPTS.json) with
        # another random part: names the flusher takes for entries
        parts = names[0].split("-")
        assert len(parts) >= 4 and parts[-2].isdigit(), names[0]

        # MS-SEQ-RAND-SIZE-ATTEMPTS[-FIRST].json: read from the front
        def planted(fill, size):
            return os.path.join(nt.state, "spool", "-".join(
                parts[:2] + [fill * len(parts[2]), str(size), "0.json"]))
        secret = os.path.join(work, "secret.json")
        with open(secret, "wb") as f:
            f.write(payload.replace(b'"durationMs":1401', b'"durationMs":1402'))
        os.chmod(secret, 0o600)
        link = planted("a", len(payload))
        os.symlink(secret, link)
        junk = planted("b", len(b"not json"))
        with open(junk, "wb") as f:
            f.write(b"not json")
        os.chmod(junk, 0o600)
        nt.env["NAT_TELEMETRY_ENDPOINT"] = srv.url
        r = nt.flush()
        assert r.returncode in (0, 1), "flush exit %d: %s" % (r.returncode, r.stderr)
        nt.quiesce()
        assert_each_once(srv.durations(), [1401], "store")
        with open(secret, "rb") as f:
            assert b'"durationMs":1402' in f.read(), "the link's target was changed"
        assert not os.path.exists(junk), "the junk entry stays: retried forever"
        drops = [e for e in nt.log() if e["outcome"] == "dropped"]
        assert drops, "the junk entry's drop is not recorded: %s" % nt.log()
        r = nt.flush()
        assert r.returncode == 0, "second flush: exit %d: %s" % (r.returncode, r.stderr)
        assert len(srv.posts()) == 1, "POSTs: %s" % srv.posts()
    finally:
        nt.cleanup()
        srv.stop()


def test_retry_limit_drops_and_records(work):
    """The documented retry limit (docs/delivery.md: 10 attempts and 24 h):
    against a server answering 503, an entry tried 10 times and spooled
    25 h ago is dropped and recorded at the next failure; one as often
    tried but young, and one as old but tried once, are kept."""
    nt = spool_offline(work, [1501, 1502, 1503])
    srv = Serve(work, "--fail-status", "503")
    try:
        spool = os.path.join(nt.state, "spool")
        names = entry_names(nt)
        assert len(names) == 3, names
        by_d = {}
        for n in names:
            with open(os.path.join(spool, n), "rb") as f:
                body = f.read()
            by_d[durations_of(body)[0]] = n
        now_ms = int(time.time() * 1000)
        old = "%013d" % (now_ms - 25 * 3600 * 1000)

        # The age counts from this machine's first failed try (the FIRST
        # field of MS-SEQ-RAND-SIZE-ATTEMPTS-FIRST.json, issue 16), never
        # from the host's stamp MS.
        def rename(d, first=None, attempts=None):
            parts = by_d[d].split("-")[:5]
            parts[4] = "%d" % attempts if attempts is not None else \
                parts[4].replace(".json", "")
            if first:
                parts.append(first)
            parts[-1] += ".json"
            os.rename(os.path.join(spool, by_d[d]), os.path.join(spool, "-".join(parts)))
        rename(1501, first=old, attempts=10)   # over both limits
        rename(1502, attempts=10)              # young
        rename(1503, first=old, attempts=1)    # tried once
        before = nt.status()
        nt.env["NAT_TELEMETRY_ENDPOINT"] = srv.url
        r = nt.flush()
        assert r.returncode == 1, "flush: exit %d (two stay): %s" % (r.returncode, r.stderr)
        st = nt.status()
        assert st.get("spooled") == 2, st
        assert st.get("dropped") == before.get("dropped", 0) + 1, st
        drops = [e for e in nt.log() if e["outcome"] == "dropped"]
        assert drops and drops[-1]["events"] == 1, drops
        p = drops[-1]["payload"]
        assert p is None or durations_of(json.dumps(p)) == [1501], drops[-1]
        left = []
        for n in entry_names(nt):
            with open(os.path.join(spool, n), "rb") as f:
                left += durations_of(f.read())
        left.sort()
        assert left == [1502, 1503], left
        assert_private(nt)
    finally:
        nt.cleanup()
        srv.stop()


def test_audit_log_bounded_and_rotated(work):
    """The audit log records each rejected 50-event envelope with its
    payload; past 4 MiB (docs/delivery.md) it is rotated, one previous
    generation kept: about 6 MB of records leave audit.log and
    audit.log.1, each at most 4 MiB plus one record, and `nattel log`
    still reads them, newest last."""
    mib = 1024 * 1024
    nt = Nattel(work, "http://127.0.0.1:9/v1.1/events/json",
                HOST_COMMAND_PAD="5000")
    srv = FakeServer(lambda i, body: (400, {}))
    try:
        for rnd in range(3):
            nt.env["NAT_TELEMETRY_ENDPOINT"] = "http://127.0.0.1:9/v1.1/events/json"
            spool_one_session(work, nt, 350, 20000 + 1000 * rnd)
            nt.env["NAT_TELEMETRY_ENDPOINT"] = srv.url
            r = nt.flush(timeout=120)
            assert r.returncode == 0, "round %d: flush exit %d: %s" % (rnd, r.returncode, r.stderr)
        # 400 splits each batch until every event stands alone (issue
        # 16): each of the 1050 events is posted, and finally dropped
        # alone.
        posted = set(d for p in srv.posts for d in durations_of(p[1]))
        assert len(posted) == 1050, "posted %d events" % len(posted)
        biggest = max(len(p[1]) for p in srv.posts)
        files = sorted(n for n in os.listdir(nt.state) if n.startswith("audit"))
        sizes = {n: os.path.getsize(os.path.join(nt.state, n)) for n in files}
        assert "audit.log.1" in sizes, "no rotation after ~6 MB of records: %s" % sizes
        assert set(files) <= {"audit.log", "audit.log.1"}, files
        for n, size in sizes.items():
            assert size <= 4 * mib + 2 * biggest, "%s is %d bytes" % (n, size)
        entries = nt.log()
        assert entries and entries[-1]["outcome"] == "rejected", entries[-1:]
        last = entries[-1]["payload"]["events"][-1]["parameters"]["durationMs"]
        assert last == 22349, "newest last: %s" % last
        assert len(nt.log("-n", "3")) == 3
        assert nt.status().get("dropped") == 1050
        assert_private(nt)
    finally:
        nt.cleanup()
        srv.close()


def test_tls_verification_on(work):
    """An https endpoint with a self-signed certificate (a TLS listener on
    127.0.0.1 the test makes with openssl): the sender verifies it, so no
    request gets through; the events stay spooled, the attempt is logged
    as deferred. (With verification off the POST would reach the server.)"""
    import shutil as sh
    import ssl
    if not sh.which("openssl"):
        print("SKIP test_tls_verification_on: no openssl to make a certificate",
              file=sys.stderr)
        return
    key = os.path.join(work, "key.pem")
    cert = os.path.join(work, "cert.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "openssl: %s" % r.stderr
    nt = spool_offline(work, [1601])
    srv = FakeServer(lambda i, body: (200, {}))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.httpd.socket = ctx.wrap_socket(srv.httpd.socket, server_side=True)
    try:
        nt.env["NAT_TELEMETRY_ENDPOINT"] = "https://127.0.0.1:%d/v1.1/events/json" % srv.port
        r = nt.flush(timeout=120)
        assert r.returncode == 1, "flush to an unverifiable https endpoint: exit %d: %s" % (
            r.returncode, r.stderr)
        assert srv.posts == [], "a POST got through an unverified TLS connection"
        st = nt.status()
        assert st.get("spooled") == 1 and st.get("sent") == 0, st
        last = nt.log()[-1]
        assert last["outcome"] == "deferred" and last["http_status"] in (0, None), last
        assert last["reason"], last
    finally:
        nt.cleanup()
        srv.close()


def readline_within(stream, timeout):
    got = []
    t = threading.Thread(target=lambda: got.append(stream.readline()), daemon=True)
    t.start()
    t.join(timeout)
    return got[0] if got else None


def children(pid):
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            f = stat_fields(int(name))
            if len(f) > 1 and f[1] == str(pid).encode():
                out.append(int(name))
    return out


def proc_state(pid):
    f = stat_fields(pid)
    return f[0] if f else b""


TESTS = [
    test_kill9_flusher_mid_send_loses_nothing,
    test_503_retry_after_then_200_on_a_later_flush,
    test_400_and_422_drop_and_record,
    test_413_single_event_dropped_not_retried,
    test_413_batch_split_and_delivered,
    test_envelopes_hold_at_most_50_events_of_one_session,
    test_spool_cap_drops_oldest_and_counts,
    test_no_zombie_left_to_a_long_running_host,
    test_parallel_flushes_send_each_once,
    test_in_process_mode_flush_deadline,
    test_backoff_pending_starts_no_flusher,
    test_planted_spool_entries,
    test_retry_limit_drops_and_records,
    test_audit_log_bounded_and_rotated,
    test_tls_verification_on,
]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS, "faults-"))
