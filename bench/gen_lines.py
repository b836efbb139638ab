#!/usr/bin/env python3
"""Generates N JSON lines for the benchmark: a realistic mix of bare
nat_cli_command parameter objects and wire envelopes (event protocol 1.6)
holding 1-10 such events. Deterministic for a given --seed. Every line is
valid in wire mode unless --invalid-share asks for some broken ones.

usage: gen_lines.py N [--seed S] [--envelope-share F] [--invalid-share F] [-o FILE]
"""
import argparse
import json
import random
import sys

# Commands of the NAT CLI, with the registered subcommands of each.
COMMANDS = {
    "run": [],
    "serve": [],
    "eval": [],
    "start": ["console", "fastapi", "mcp"],
    "info": ["list-components", "list-channels", "list-mcp-tools"],
    "configure": ["telemetry", "channel"],
    "workflow": ["create", "reinstall", "delete"],
    "registry": ["publish", "pull", "remove", "search"],
    "mcp": ["serve", "client"],
    "object-store": ["upload", "delete"],
    "sizing": ["calc"],
    "validate": [],
    "uninstall": [],
    "optimize": [],
    "red-team": [],
}
COMMAND_WEIGHTS = [30, 12, 8, 6, 10, 4, 5, 3, 4, 1, 1, 6, 1, 2, 1]
ERROR_CLASSES = ["ValueError", "FileNotFoundError", "ValidationError", "RuntimeError",
                 "ConnectionError", "ModuleNotFoundError", "KeyError", "TimeoutError",
                 "PermissionError", "yaml.scanner.ScannerError"]
PYTHONS = ["3.11.7", "3.11.9", "3.12.1", "3.12.3", "3.12.8", "3.13.0", "3.13.2", "undefined"]
ARCHS = ["x86_64", "aarch64"]
VERSIONS = ["1.6.0", "1.7.0", "1.7.1", "1.8.0a1"]
SOURCES = ["agent_toolkit"] * 20 + ["evaluator", "guardrails"]


def ts(ms):
    secs, milli = divmod(ms, 1000)
    import time
    t = time.gmtime(secs)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (t.tm_year, t.tm_mon, t.tm_mday,
                                                   t.tm_hour, t.tm_min, t.tm_sec, milli)


def event(rng):
    command = rng.choices(list(COMMANDS), COMMAND_WEIGHTS)[0]
    subs = COMMANDS[command]
    sub = rng.choice(subs) if subs and rng.random() < 0.9 else "undefined"
    r = rng.random()
    if r < 0.84:
        status, exit_code, error_class = "success", 0, "undefined"
    elif r < 0.95:
        status, exit_code, error_class = "failure", rng.choice([1, 1, 1, 2]), rng.choice(ERROR_CLASSES)
    elif r < 0.99:
        status, exit_code, error_class = "interrupted", 130, "KeyboardInterrupt"
    else:
        status, exit_code, error_class = "failure", -1, "undefined"
    duration = int(rng.lognormvariate(6.5, 1.6)) if rng.random() > 0.01 else -1
    return {
        "nemoSource": rng.choice(SOURCES),
        "command": command,
        "subcommand": sub,
        "taskStatus": status,
        "durationMs": duration,
        "exitCode": exit_code,
        "errorClass": error_class,
        "pythonVersion": rng.choice(PYTHONS),
    }


def envelope(rng, t_ms):
    n = rng.choice([1, 1, 1, 2, 2, 3, 4, 5, 8, 10])
    events = []
    for _ in range(n):
        t_ms += rng.randint(50, 60000)
        events.append({"ts": ts(t_ms), "parameters": event(rng), "name": "nat_cli_command"})
    u = "undefined"
    return {
        "browserType": u, "clientId": "184482118588404", "clientType": "Native",
        "clientVariant": "Release", "clientVer": rng.choice(VERSIONS),
        "cpuArchitecture": rng.choice(ARCHS), "deviceGdprBehOptIn": "None",
        "deviceGdprFuncOptIn": "None", "deviceGdprTechOptIn": "None", "deviceId": u,
        "deviceMake": u, "deviceModel": u, "deviceOS": u, "deviceOSVersion": u,
        "deviceType": u, "eventProtocol": "1.6", "eventSchemaVer": "1.5",
        "eventSysVer": "nat-telemetry/1.0", "externalUserId": u, "gdprBehOptIn": "None",
        "gdprFuncOptIn": "None", "gdprTechOptIn": "None", "idpId": u, "integrationId": u,
        "productName": u, "productVersion": u, "sentTs": ts(t_ms + rng.randint(1, 5000)),
        "sessionId": "%032x" % rng.getrandbits(128), "userId": u, "events": events,
    }, t_ms


def breakage(rng, doc):
    """One of the mistakes a real sender makes."""
    params = doc["events"][0]["parameters"] if "events" in doc else doc
    k = rng.randrange(5)
    if k == 0:
        params["durationMs"] = -2
    elif k == 1:
        params["taskStatus"] = "ok"
    elif k == 2:
        params["exitCode"] = str(params["exitCode"])
    elif k == 3:
        params["hostname"] = "build-17"
    else:
        del params["command"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=20260506)
    ap.add_argument("--envelope-share", type=float, default=0.25)
    ap.add_argument("--invalid-share", type=float, default=0.0)
    ap.add_argument("-o", "--output", default="-")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    out = sys.stdout if a.output == "-" else open(a.output, "w", encoding="utf-8")
    t_ms = 1778086805000  # 2026-05-06T17:00:05Z
    events = 0
    for _ in range(a.n):
        if rng.random() < a.envelope_share:
            doc, t_ms = envelope(rng, t_ms)
            events += len(doc["events"])
        else:
            doc = event(rng)
            events += 1
        if a.invalid_share and rng.random() < a.invalid_share:
            breakage(rng, doc)
        # Most senders write compact JSON; some pretty-ish one-liners too.
        if rng.random() < 0.8:
            out.write(json.dumps(doc, separators=(",", ":")))
        else:
            out.write(json.dumps(doc))
        out.write("\n")
    if out is not sys.stdout:
        out.close()
    print("gen_lines: %d lines, %d events" % (a.n, events), file=sys.stderr)


if __name__ == "__main__":
    main()
