#!/usr/bin/env python3
"""The upstream flusher's work for one request body, for comparison with
nattel's flusher body (bench_codec env1/env50).

Upstream (NAT's telemetry package, nat/utils/telemetry/payload.py and
handler.py, read for the facts only): `build_payload` returns a dict of the
30 envelope members in wire order, the identity members fixed, `sentTs`
formatted from datetime.now(UTC), and `events` a list of one dict per queued
event ({"ts": the queued time formatted the same way, "parameters":
event.model_dump(by_alias=True), "name": the event name}); the HTTP client
then serialises it with json.dumps (httpx `json=`).

This script does the same with this machine's pydantic 2 on the event the
C benchmark uses (bench/pydantic_validate.py's CliCommandEvent), and times
build + json.dumps per envelope of 1 and of 50 events.

usage: upstream_envelope.py [--seconds S]     prints "up_env1_ns X", "up_env50_ns Y"
Exit status 3 when pydantic 2 is missing.
"""
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pydantic_validate import SAMPLE, CliCommandEvent  # noqa: E402  (exits 3 without pydantic 2)

ARCH = platform.machine()


def wire_ts(dt):
    """UTC, milliseconds, 'Z': the envelope's timestamp form."""
    return "%s.%03dZ" % (dt.strftime("%Y-%m-%dT%H:%M:%S"), dt.microsecond // 1000)


def envelope(queued, client_ver, session):
    """One request body's dict, members in wire order."""
    body = {
        "browserType": "undefined",
        "clientId": "184482118588404",
        "clientType": "Native",
        "clientVariant": "Release",
        "clientVer": client_ver,
        "cpuArchitecture": ARCH,
    }
    for k in ("deviceGdprBehOptIn", "deviceGdprFuncOptIn", "deviceGdprTechOptIn"):
        body[k] = "None"
    for k in ("deviceId", "deviceMake", "deviceModel", "deviceOS", "deviceOSVersion", "deviceType"):
        body[k] = "undefined"
    body["eventProtocol"] = "1.6"
    body["eventSchemaVer"] = "1.5"
    body["eventSysVer"] = "nat-telemetry/1.0"
    body["externalUserId"] = "undefined"
    for k in ("gdprBehOptIn", "gdprFuncOptIn", "gdprTechOptIn"):
        body[k] = "None"
    for k in ("idpId", "integrationId", "productName", "productVersion"):
        body[k] = "undefined"
    body["sentTs"] = wire_ts(datetime.now(timezone.utc))
    body["sessionId"] = session
    body["userId"] = "undefined"
    body["events"] = [{"ts": wire_ts(when), "parameters": ev.model_dump(by_alias=True),
                       "name": "nat_cli_command"} for ev, when in queued]
    return body


def per_call_ns(fn, seconds, rounds=3):
    """Best of `rounds` loops of at least `seconds` each, ns per call."""
    best = float("inf")
    for _ in range(rounds):
        n, t0 = 0, time.perf_counter()
        while True:
            for _ in range(20):
                fn()
            n += 20
            t = time.perf_counter() - t0
            if t >= seconds:
                break
        best = min(best, t / n * 1e9)
    return best


def main():
    seconds = 0.3
    if len(sys.argv) == 3 and sys.argv[1] == "--seconds":
        seconds = float(sys.argv[2])
    elif len(sys.argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    ev = CliCommandEvent.model_validate_json(SAMPLE)
    t0 = datetime(2023, 11, 14, 22, 13, 20, 0, tzinfo=timezone.utc)
    out = {}
    for n in (1, 50):
        queued = [(ev, t0) for _ in range(n)]
        body = json.dumps(envelope(queued, "1.4.0", "bench-session"))
        assert json.loads(body)["events"][0]["parameters"] == json.loads(SAMPLE)
        out[n] = per_call_ns(lambda: json.dumps(envelope(queued, "1.4.0", "bench-session")), seconds)
    print("up_env1_ns %.1f" % out[1])
    print("up_env50_ns %.1f" % out[50])
    return 0


if __name__ == "__main__":
    sys.exit(main())
