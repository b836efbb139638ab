#!/usr/bin/env python3
"""Property test of the privacy boundary: random natdemo argv vectors
(seeded, bounded) carry random secret tokens in every position and every
form (bare word, path, option, option value, --opt=value, after "--",
non-ASCII), mixed with registered command and subcommand names and real
options. No secret may appear in anything telemetry puts out of the
process or on disk:

 1. the stdout sink (each payload, one JSON line on stderr) and the
    library's debug lines (NATTEL_DEBUG=1), for N_SINK runs;
 2. the spool (state directory) after N_SPOOL runs towards an http
    endpoint with a flusher that does nothing (NATTEL_FLUSHER=/bin/true),
    then, after `nattel flush --wait` into a real `nattel serve`, the
    state directory again (audit log), and the server's SQLite file;
 3. the consent file, which random `configure telemetry` runs write.

natdemo's own messages (lines that do not come from telemetry) may echo
what the user typed: that is the program talking to its user on its own
terminal, not telemetry. Every run must still send exactly one event
whose command and subcommand are registered names (or the sentinels).
Env: NATDEMO_BIN, NATTEL_BIN, NATTEL_TEST_TMP; NATTEL_PROPERTY_SEED,
NATTEL_PROPERTY_RUNS override the seed and N_SINK."""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time

from nattel_testlib import check, env as need_env, failures

BIN = need_env("NATDEMO_BIN")
NATTEL = need_env("NATTEL_BIN")
SEED = int(os.environ.get("NATTEL_PROPERTY_SEED", "20261125"))
N_SINK = int(os.environ.get("NATTEL_PROPERTY_RUNS", "300"))
N_SPOOL = 40

NAMES = ["run", "serve", "info", "configure", "list-components", "list-channels",
         "telemetry"]
OPTIONS = ["--log-level", "--log-level=debug", "debug", "info", "--enable",
           "--disable", "--status", "--", "-", "--help"]
COMMANDS = {"run", "serve", "info", "configure", "unknown", "undefined"}
SUBCOMMANDS = {"list-components", "list-channels", "telemetry", "undefined"}


def secret(rng):
    """A token no program text contains: SECRET + 12 random hex digits."""
    return "SECRET%012x" % rng.getrandbits(48)


def secret_forms(rng, s):
    return rng.choice([
        s, "/home/alice/" + s + ".yml", "--" + s, "-" + s, "--token=" + s,
        "--log-level=" + s, s + "=x", "ünï-" + s, s + " with space", "." + s,
        s.lower(), "run" + s,
    ])


def vector(rng, secrets):
    n = rng.randint(0, 8)
    argv = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.35:
            s = secret(rng)
            secrets.append(s)
            argv.append(secret_forms(rng, s))
        elif kind < 0.7:
            argv.append(rng.choice(NAMES))
        else:
            argv.append(rng.choice(OPTIONS))
    # `serve` alone waits for a signal; keep those runs rare but present
    return argv


def run(argv, env):
    p = subprocess.Popen([BIN] + argv, env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=3)
    except subprocess.TimeoutExpired:
        # natdemo serve: stop it the way a user would
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
    return p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def telemetry_lines(err):
    return [l for l in err.splitlines() if l.startswith("{") or l.startswith("nattel")]


def leaked(text, secrets):
    low = text.lower()
    return [s for s in secrets if s.lower() in low]


def scan_tree(root, secrets, what):
    """Every byte of every file under root (and root itself if a file)."""
    files = []
    if os.path.isfile(root):
        files = [root]
    for d, _, names in os.walk(root):
        files += [os.path.join(d, n) for n in names]
    for path in files:
        try:
            with open(path, "rb") as f:
                data = f.read().decode("latin-1")
        except OSError:
            continue
        bad = leaked(data, secrets)
        check(not bad, f"{what}: {path} holds {bad[:3]}")
    return files


def base_env(tmp, **extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NAT_", "NATTEL_")) and k != "DO_NOT_TRACK"}
    env.update({
        "NAT_TELEMETRY_ENABLED": "1",
        "NAT_TELEMETRY_CONSENT_FILE": os.path.join(tmp, "consent", "telemetry.toml"),
        "NATTEL_STATE_DIR": os.path.join(tmp, "state"),
        "NATTEL_DEBUG": "1",
        "HOME": os.path.join(tmp, "home"),
    })
    env.update(extra)
    return env


def check_event(argv, code, err):
    docs = [json.loads(l) for l in err.splitlines() if l.startswith("{")]
    if len(docs) != 1:
        failures.append(f"{argv!r}: {len(docs)} payloads (want 1), exit {code}")
        return
    p = docs[0]["events"][0]["parameters"]
    check(p["command"] in COMMANDS and p["subcommand"] in SUBCOMMANDS,
          f"{argv!r}: command/subcommand {p['command']}/{p['subcommand']}")
    check(p["exitCode"] == code, f"{argv!r}: exitCode {p['exitCode']} != exit {code}")


def sink_phase(rng, tmp, secrets):
    env = base_env(tmp, NAT_TELEMETRY_ENDPOINT="stdout")
    for _ in range(N_SINK):
        mine = []
        argv = vector(rng, mine)
        secrets.extend(mine)
        code, out, err = run(argv, env)
        check('"clientId"' not in out, f"{argv!r}: telemetry on stdout")
        bad = leaked("\n".join(telemetry_lines(err)), mine)
        check(not bad, f"{argv!r}: telemetry output holds {bad}")
        check_event(argv, code, err)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spool_phase(rng, tmp, secrets):
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1.1/events/json"
    env = base_env(tmp, NAT_TELEMETRY_ENDPOINT=url, NATTEL_FLUSHER="/bin/true")
    for _ in range(N_SPOOL):
        mine = []
        argv = vector(rng, mine)
        secrets.extend(mine)
        code, out, err = run(argv, env)
        bad = leaked("\n".join(telemetry_lines(err)), mine)
        check(not bad, f"{argv!r} (spool): telemetry output holds {bad}")
    state = env["NATTEL_STATE_DIR"]
    files = scan_tree(state, secrets, "spool")
    check(len(files) > 0, f"spool: nothing in {state} after {N_SPOOL} runs")
    # deliver into a real server; then the audit log and the store
    db = os.path.join(tmp, "serve.db")
    server = subprocess.Popen([NATTEL, "serve", "--listen", f"127.0.0.1:{port}",
                               "--db", db], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        end = time.monotonic() + 15
        while time.monotonic() < end:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        fl = subprocess.run([NATTEL, "flush", "--wait"], env=env, capture_output=True,
                            text=True, timeout=120, stdin=subprocess.DEVNULL)
        check(fl.returncode == 0, f"nattel flush --wait: exit {fl.returncode}: {fl.stderr!r}")
        check(not leaked(fl.stdout + fl.stderr, secrets), "nattel flush output holds a secret")
        rep = subprocess.run([NATTEL, "report", "--db", db, "--json"], capture_output=True,
                             text=True, timeout=60)
        check(not leaked(rep.stdout, secrets), "report holds a secret")
        try:
            stored = sum(r["count"] for r in json.loads(rep.stdout))
        except (ValueError, KeyError, TypeError):
            stored = None
        check(stored == N_SPOOL, f"the store holds {stored} events, want {N_SPOOL}")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
    after = scan_tree(state, secrets, "state dir after flush")
    check(any("audit" in os.path.basename(f) for f in after),
          f"no audit log among {sorted(os.path.relpath(f, state) for f in after)}")
    for suffix in ("", "-wal", "-journal", "-shm"):
        if os.path.exists(db + suffix):
            scan_tree(db + suffix, secrets, "serve store")
    return rep.stdout


def main():
    base = os.environ.get("NATTEL_TEST_TMP") or None
    if base:
        os.makedirs(base, exist_ok=True)
    rng = random.Random(SEED)
    secrets = []
    with tempfile.TemporaryDirectory(dir=base, prefix="natdemo-secrets-") as tmp:
        sink_phase(rng, tmp, secrets)
        spool_phase(rng, tmp, secrets)
        scan_tree(os.path.join(tmp, "consent"), secrets, "consent file")
        scan_tree(os.path.join(tmp, "home"), secrets, "home")
    check(len(secrets) > N_SINK // 2, f"only {len(secrets)} secrets generated")
    print(f"seed {SEED}: {N_SINK + N_SPOOL} runs, {len(secrets)} secret tokens, "
          f"{len(failures)} failures", file=sys.stderr)
    for f in failures[:50]:
        print("FAIL:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
