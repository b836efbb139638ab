"""Shared by the consent tests (test_policy.py, test_local_mode.py,
test_ci_prompt.py, test_consent_cli.py): a real listener on 127.0.0.1 that
records every POST and answers 200, a scratch HOME with its paths, and the
upstream reading of the shared consent file through Python's tomllib."""
import http.server
import json
import os
import subprocess
import threading

import nattel_testlib as tl

try:
    import tomllib
except ImportError:
    tomllib = None

BIN = tl.tool()
PROMPT_VERSION = "1.0"


class Listener:
    """A ThreadingHTTPServer on 127.0.0.1 (a free port): every POST body is
    recorded and answered 200 as an ingest would. `events()` decodes them."""

    def __init__(self):
        self.bodies = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with outer.lock:
                    outer.bodies.append(body)
                data = b'{"accepted":1}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/v1.1/events/json" % \
            self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def events(self):
        with self.lock:
            bodies = list(self.bodies)
        out = []
        for b in bodies:
            out.extend(json.loads(b)["events"])
        return out

    def commands(self):
        return [e["parameters"]["command"] for e in self.events()]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Home:
    """A scratch HOME under `work`: the shared consent file, nattel's
    config file and the state directory at their default places."""

    def __init__(self, work, name="home"):
        self.home = os.path.join(work, name)
        os.makedirs(self.home, exist_ok=True)
        self.shared = os.path.join(self.home, ".config", "nat", "telemetry.toml")
        self.config = os.path.join(self.home, ".config", "nattel", "config.toml")
        self.state = os.path.join(self.home, ".local", "state", "nattel")
        self.spool = os.path.join(self.state, "spool")
        self.local = os.path.join(self.state, "local")

    def env(self, extra=None):
        return tl.tool_env(extra, home=self.home)

    def run(self, *args, extra=None, timeout=30):
        return subprocess.run([BIN] + list(args), env=self.env(extra),
                              capture_output=True, text=True, timeout=timeout)

    def emit(self, command, extra=None):
        return self.run("emit", "--command", command, "--status", "success",
                        extra=extra)

    def spooled(self):
        try:
            return sorted(n for n in os.listdir(self.spool) if n.endswith(".json"))
        except FileNotFoundError:
            return []

    def kept(self):
        try:
            return sorted(n for n in os.listdir(self.local) if n.endswith(".json"))
        except FileNotFoundError:
            return []

    def audit(self):
        try:
            with open(os.path.join(self.state, "audit.log")) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []


def upstream_consent(path):
    """The shared file as the Python `nat` reads it (docs/configuration.md):
    [telemetry] consent under the current prompt_version, a stale or
    missing version making "enabled" never_asked and "disabled" stay;
    a missing or malformed file is never_asked."""
    try:
        with open(path, "rb") as f:
            tel = tomllib.load(f).get("telemetry", {})
    except (FileNotFoundError, tomllib.TOMLDecodeError):
        return "never_asked"
    consent = tel.get("consent")
    if consent not in ("enabled", "disabled"):
        return "never_asked"
    if tel.get("prompt_version") != PROMPT_VERSION:
        return "disabled" if consent == "disabled" else "never_asked"
    return consent
