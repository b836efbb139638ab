#!/usr/bin/env python3
"""A client freed with its send in flight, end to end with a real
`nattel serve`: a host (a small C program built here against
libnattel.so) with in-process delivery emits, waits 0.5 s in
nattel_client_flush, and frees its client; the send goes through a relay
on 127.0.0.1 that hands the request to serve (which stores it) and then
holds serve's answer past the client's 2 s wait, so the host exits with
the send unanswered and the event still spooled. A later
`nattel flush`, straight to serve, sends it again with the same
Nattel-Event-Ids, and serve stores it once: one row, and its log says the
second delivery was "stored before".

The stored row's event_uid is the ID the relay saw on the first try, so
the test fails if the retry carried new IDs (serve would store a second
row) or if the host waited for the held answer.
Env: NATTEL_BIN, NATTEL_SOURCE_DIR, NATTEL_BUILD_DIR, NATTEL_TEST_TMP;
NATTEL_CC and NATTEL_CONSUMER_FLAGS when set."""
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import nattel_testlib as tl
from nattel_testlib import check

SRC = tl.env("NATTEL_SOURCE_DIR")
BUILD = tl.env("NATTEL_BUILD_DIR")
CC = (os.environ.get("NATTEL_CC") or "cc").split() + \
    os.environ.get("NATTEL_CONSUMER_FLAGS", "").split()

# The host: options from its environment, one event, a short flush (the
# send is then in flight, its answer held), then free and exit 0.
HOST_C = r"""
#include <nattel/client.h>
#include <nattel/nattel.h>
#include <nattel/options.h>
#include <stdio.h>
int main(void)
{
    nattel_error err;
    nattel_options *o = nattel_options_new();
    if (!o || nattel_options_from_env(o, NULL, NULL, &err)) {
        fprintf(stderr, "host: options: %s\n", o ? err.message : "no memory");
        return 2;
    }
    nattel_options_set_delivery_mode(o, NATTEL_DELIVERY_IN_PROCESS);
    nattel_options_set_prompt(o, NATTEL_PROMPT_NEVER);
    nattel_client *c = nattel_client_new(o, &err);
    if (!c) {
        fprintf(stderr, "host: client: %s\n", err.message);
        return 2;
    }
    nattel_cli_command cmd = NATTEL_CLI_COMMAND_INIT;
    cmd.command = "run";
    cmd.task_status = NATTEL_TASK_STATUS_SUCCESS;
    nattel_event *ev;
    if (nattel_cli_command_event(&cmd, &ev, &err) ||
        nattel_client_emit(c, ev, &err)) {
        fprintf(stderr, "host: emit: %s\n", err.message);
        return 2;
    }
    (void)nattel_client_flush(c, 500, &err); /* times out: answer held */
    nattel_client_free(c);
    return 0;
}
"""

HOLD_S = 6.0  # past NATTEL__FREE_WAIT_MS (2 s) with room for a slow machine


class Relay:
    """Accepts HTTP/1.1 POSTs, forwards each to serve as is, records its
    Nattel-Event-Ids, and answers with serve's answer after `hold` s."""

    def __init__(self, target_port, hold):
        self.target_port, self.hold = target_port, hold
        self.ids = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d/v1.1/events/json" % self.port
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _read_request(self, conn):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
            if name.strip().lower() == b"nattel-event-ids":
                self.ids.append(value.strip().decode())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            body += chunk
        return head + b"\r\n\r\n" + body

    def _forward(self, request):
        with socket.create_connection(("127.0.0.1", self.target_port),
                                      timeout=30) as s:
            s.sendall(request)
            answer = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return answer
                answer += chunk

    def _one(self, conn):
        with conn:
            request = self._read_request(conn)
            if request is None:
                return
            # Serve's own answer tells when it is whole: it closes.
            request = request.replace(b"\r\n\r\n", b"\r\nConnection: close"
                                      b"\r\n\r\n", 1)
            answer = self._forward(request)
            time.sleep(self.hold)
            try:
                conn.sendall(answer)
            except OSError:
                pass  # the client gave up, as it should

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,),
                             daemon=True).start()

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()


def test_freed_mid_send_is_stored_once(work):
    srv = tl.Serve(work)
    relay = Relay(srv.port, HOLD_S)
    try:
        state = os.path.join(work, "state")
        env = tl.tool_env({"NAT_TELEMETRY_ENABLED": "1",
                           "NAT_TELEMETRY_ENDPOINT": relay.url,
                           "NATTEL_STATE_DIR": state,
                           "NATTEL_DELIVERY": "in-process"},
                          home=os.path.join(work, "home"))
        host = os.path.join(work, "host")
        with open(host + ".c", "w") as f:
            f.write(HOST_C)
        r = subprocess.run(CC + ["-o", host, host + ".c",
                                 "-I" + os.path.join(SRC, "include"),
                                 "-L" + BUILD, "-lnattel",
                                 "-Wl,-rpath," + BUILD],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"the host builds: {r.stderr}"
        t0 = time.monotonic()
        r = subprocess.run([host], env=env, capture_output=True,
                           text=True, timeout=60)
        took = time.monotonic() - t0
        check(r.returncode == 0 and r.stdout == "",
              f"host: exit {r.returncode}, stdout {r.stdout!r} {r.stderr}")
        check(took < HOLD_S - 1,
              f"the host did not wait for the held answer: {took:.1f} s")
        # Serve has the event although the host never heard so.
        deadline = time.monotonic() + 10
        while len(relay.ids) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        check(len(relay.ids) == 1, f"one POST through the relay: {relay.ids}")
        spool = os.path.join(state, "spool")
        left = [n for n in os.listdir(spool)] if os.path.isdir(spool) else []
        check(left != [], "the unanswered event stays spooled")

        # The retry, straight to serve.
        env["NAT_TELEMETRY_ENDPOINT"] = srv.url
        r = subprocess.run([tl.tool(), "flush", "--json"], env=env,
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, f"flush: {r.returncode} {r.stdout} {r.stderr}")
        srv.stop()
        con = sqlite3.connect(srv.db)
        try:
            n = con.execute("SELECT count(*) FROM events").fetchone()[0]
            uids = [u for (u,) in con.execute("SELECT event_uid FROM events")]
        finally:
            con.close()
        check(n == 1, f"stored once, not twice: {n} rows")
        check(uids == relay.ids[0].split(","),
              f"the row keeps the first try's ID: {uids} vs {relay.ids}")
        with open(srv.stderr_path, "rb") as f:
            log = f.read().decode(errors="replace")
        check("stored before" in log,
              f"serve says the resend was stored before: {log[-400:]}")
    finally:
        relay.close()
        srv.stop()


if __name__ == "__main__":
    sys.exit(tl.run_tests([test_freed_mid_send_is_stored_once],
                          "free-in-flight-"))
