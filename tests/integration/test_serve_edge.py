#!/usr/bin/env python3
"""The endpoint's edges (issue 16): one client address cannot take every
connection slot (--max-per-ip); a request trickled a byte at a time is cut
at its deadline (--request-timeout); a body whose length two headers tell
differently is refused with 400 (request smuggling); a body within
--max-body that is over a count limit of the JSON reader is 413, on which
a sender splits, not 400, on which it drops.

The real `nattel serve` on 127.0.0.1; raw sockets where the HTTP must be
malformed; a second loopback address (127.0.0.2) as another client. Every
loop is bounded in count and time; every socket is closed at the end.
"""

import os
import resource
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nattel_testlib as tl  # noqa: E402
import test_serve as ts  # noqa: E402

HEAD = (b"POST /v1.1/events/json HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nX-Slow: ")
TRICKLERS = 1024
ANSWER_BOUND_S = 1.0  # the bound for the other client


def connect_many(host, port, n, budget_s):
    """Up to n connections within budget_s; the server may close some."""
    socks = []
    t_end = time.monotonic() + budget_s
    for _ in range(n):
        if time.monotonic() > t_end:
            break
        try:
            s = socket.create_connection((host, port), timeout=2)
        except OSError:
            continue
        s.setblocking(False)
        socks.append(s)
    return socks


def trickle(socks, stop, period=1.0, rounds=10):
    for i in range(rounds):
        byte = HEAD[i:i + 1]
        for s in socks:
            try:
                s.send(byte)
            except OSError:
                pass
        if stop.wait(period):
            return


def post_from(host, port, source, body, timeout=5):
    """One POST from `source` (a local address); (status, seconds)."""
    s = socket.create_connection((host, port), timeout=timeout,
                                 source_address=(source, 0))
    t0 = time.monotonic()
    try:
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: "
                  b"application/json\r\nContent-Length: %d\r\n"
                  b"Connection: close\r\n\r\n%s"
                  % (ts.PATH.encode(), len(body), body))
        data = b""
        while not ts.response_complete(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return ts.raw_status(data), time.monotonic() - t0
    finally:
        s.close()


def can_bind(addr):
    try:
        s = socket.socket()
        s.bind((addr, 0))
        s.close()
        return True
    except OSError:
        return False


def test_one_address_cannot_take_every_slot(work):
    if not can_bind("127.0.0.2"):
        # Only this test needs it; the others still run.
        print("SKIP: cannot use 127.0.0.2 as a source address",
              file=sys.stderr)
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < TRICKLERS + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (min(hard, TRICKLERS + 256), hard))
    srv = ts.Server(work, "--quiet")
    socks = []
    stop = threading.Event()
    t = None
    try:
        socks = connect_many(srv.host, srv.port, TRICKLERS, 20)
        t = threading.Thread(target=trickle, args=(socks, stop))
        t.start()
        time.sleep(1.5)  # every trickler has begun its headers
        body = ts.dumps(ts.envelope([ts.cli_event("other")]))
        status, took = post_from(srv.host, srv.port, "127.0.0.2", body)
        print("%d trickling from 127.0.0.1; 127.0.0.2 answered %s in "
              "%.1f ms" % (len(socks), status, took * 1000))
        assert len(socks) >= TRICKLERS // 2, len(socks)
        assert status == 200, status
        assert took < ANSWER_BOUND_S, took
    finally:
        stop.set()
        if t:
            t.join(15)
        for s in socks:
            s.close()
        assert srv.stop() == 0, srv.log()
    assert ts.event_count(srv.db) == 1


def closed_by_peer(s, within):
    s.settimeout(within)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_max_per_ip_option(work):
    srv = ts.Server(work, "--quiet", "--max-per-ip", "3")
    held = []
    try:
        held = [socket.create_connection((srv.host, srv.port), timeout=5)
                for _ in range(3)]
        for s in held:
            s.sendall(b"P")
        time.sleep(0.5)
        extra = socket.create_connection((srv.host, srv.port), timeout=5)
        closed = closed_by_peer(extra, 3)
        extra.close()
        assert closed, "a 4th connection from one address was kept"
    finally:
        for s in held:
            s.close()
        assert srv.stop() == 0, srv.log()


def test_request_deadline(work):
    srv = ts.Server(work, "--request-timeout", "2")
    socks = []
    try:
        # Headers a byte every 0.4 s: never idle, never done.
        slow = socket.create_connection((srv.host, srv.port), timeout=5)
        # Headers whole, the body a byte every 0.4 s.
        body_slow = socket.create_connection((srv.host, srv.port), timeout=5)
        socks = [slow, body_slow]
        body_slow.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: "
                          b"application/json\r\nContent-Length: 1000\r\n\r\n"
                          % ts.PATH.encode())
        for s in socks:
            s.setblocking(False)
        t0 = time.monotonic()
        gone = {}
        for i in range(25):  # 10 s at most
            for k, s in enumerate(socks):
                if k in gone:
                    continue
                try:
                    s.send(HEAD[i:i + 1] if k == 0 else b" ")
                    if s.recv(1) == b"":
                        gone[k] = time.monotonic() - t0
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    gone[k] = time.monotonic() - t0
            if len(gone) == len(socks):
                break
            time.sleep(0.4)
        print("trickled requests cut after %s s" % sorted(
            round(v, 1) for v in gone.values()))
        assert len(gone) == 2, gone
        assert all(1.5 <= v <= 6 for v in gone.values()), gone
        # Others are served as usual, a fresh request on time.
        assert srv.post(ts.envelope([ts.cli_event("on-time")]))[0] == 200
        assert "took over 2 s" in srv.log(), srv.log()
    finally:
        for s in socks:
            s.close()
        assert srv.stop() == 0, srv.log()
    assert ts.event_count(srv.db) == 1


def raw_post(srv, headers, body):
    req = (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
           b"\r\n%s\r\n%s" % (ts.PATH.encode(), headers, body))
    return srv.raw(req, timeout=5)


def test_ambiguous_body_length_is_400(work):
    srv = ts.Server(work)
    body = ts.dumps(ts.envelope([ts.cli_event("smuggled")]))
    n = len(body)
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (n, body)
    try:
        cases = [
            (b"Content-Length: %d\r\nContent-Length: %d\r\n" % (n, n + 5),
             body + b"     "),
            (b"Content-Length: %d\r\nContent-Length: %d\r\n" % (n + 5, n),
             body + b"     "),
            (b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n"
             % len(chunked), chunked),
            (b"Transfer-Encoding: chunked\r\nContent-Length: %d\r\n"
             % len(chunked), chunked),
        ]
        for headers, payload in cases:
            got = raw_post(srv, headers, payload)
            assert ts.raw_status(got) == 400, (headers, got)
            assert b"Content-Length" in got.split(b"\r\n\r\n", 1)[1], got
            assert b"connection: close" in got.lower(), got
        # One length told once, or twice the same, is fine.
        assert ts.raw_status(raw_post(
            srv, b"Content-Length: %d\r\nContent-Length: %d\r\n" % (n, n),
            body)) == 200
        assert ts.raw_status(raw_post(
            srv, b"Transfer-Encoding: chunked\r\n", chunked)) == 200
    finally:
        assert srv.stop() == 0, srv.log()
    # Only the two unambiguous ones (the same body: stored once).
    assert ts.event_count(srv.db) == 1


def test_reader_count_limit_is_413(work):
    # The case: 50,000 valid events, 12 MB, within --max-body but
    # over the reader's 1,048,576 values. Half of it fits: a split helps.
    events = [ts.cli_event("big", duration=i) for i in range(50000)]
    whole = ts.dumps(ts.envelope(events))
    half = ts.dumps(ts.envelope(events[:25000]))
    del events
    srv = ts.Server(work, "--max-body", "16777216")
    try:
        status, _, data = srv.request(whole, timeout=60)
        print("%d-byte envelope of 50000 events: %d %s" % (
            len(whole), status, data[:80]))
        assert status == 413, (status, data)
        assert b"values" in data, data
        status, _, data = srv.request(half, timeout=60)
        assert status == 200, (status, data[:200])
        # Nesting past the reader's depth is the document's shape, which
        # no split mends: still 400.
        deep = b"[" * 100 + b"]" * 100
        status, _, data = srv.request(deep)
        assert status == 400, (status, data)
    finally:
        assert srv.stop() == 0, srv.log()
    assert ts.event_count(srv.db) == 25000


TESTS = [
    test_one_address_cannot_take_every_slot,
    test_max_per_ip_option,
    test_request_deadline,
    test_ambiguous_body_length_is_400,
    test_reader_count_limit_is_413,
]


def main():
    return tl.run_tests(TESTS, "edge-")


if __name__ == "__main__":
    sys.exit(main())
