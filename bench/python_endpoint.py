#!/usr/bin/env python3
"""The endpoint a team would write instead of `nattel serve` (bench only,
never a dependency of nattel): Starlette on uvicorn, the envelope
validated by pydantic v2 models with extra fields forbidden, its events
stored in SQLite (WAL, synchronous=NORMAL, one transaction per request),
the same tables as nattel's (envelopes, events, nat_cli_command).

usage: python_endpoint.py DB PORT
Debian's Starlette and uvicorn (python3-starlette, python3-uvicorn) are
found by appending Debian's dist-packages to the path, after this
Python's own, so that the machine's pydantic 2 is the one imported.
"""
import json
import sqlite3
import sys
import threading
import time

sys.path.append("/usr/lib/python3/dist-packages")

from typing import List, Literal  # noqa: E402

import pydantic  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402
import uvicorn  # noqa: E402

Strict = pydantic.ConfigDict(extra="forbid")


class CliCommand(pydantic.BaseModel):
    model_config = Strict
    nemoSource: Literal["agent_toolkit"] = "agent_toolkit"
    command: str
    subcommand: str = "undefined"
    taskStatus: Literal["success", "failure", "interrupted"]
    durationMs: int = pydantic.Field(default=-1, ge=-1)
    exitCode: int = -1
    errorClass: str = "undefined"
    pythonVersion: str


class Event(pydantic.BaseModel):
    model_config = Strict
    ts: str
    name: Literal["nat_cli_command"]
    parameters: CliCommand


class Envelope(pydantic.BaseModel):
    model_config = Strict
    browserType: str
    clientId: str
    clientType: str
    clientVariant: str
    clientVer: str
    cpuArchitecture: str
    deviceGdprBehOptIn: str
    deviceGdprFuncOptIn: str
    deviceGdprTechOptIn: str
    deviceId: str
    deviceMake: str
    deviceModel: str
    deviceOS: str
    deviceOSVersion: str
    deviceType: str
    eventProtocol: str
    eventSchemaVer: str
    eventSysVer: str
    externalUserId: str
    gdprBehOptIn: str
    gdprFuncOptIn: str
    gdprTechOptIn: str
    idpId: str
    integrationId: str
    productName: str
    productVersion: str
    sentTs: str
    sessionId: str
    userId: str
    events: List[Event] = pydantic.Field(min_length=1)


SCHEMA = """
CREATE TABLE IF NOT EXISTS envelopes (id INTEGER PRIMARY KEY, session_id TEXT,
  client_ver TEXT, schema_ver TEXT, cpu_architecture TEXT, sent_ts TEXT,
  received_ts TEXT, event_count INTEGER);
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, envelope_id INTEGER,
  seq INTEGER, session_id TEXT, client_ver TEXT, name TEXT, schema_ver TEXT,
  ts TEXT, received_ts TEXT, parameters TEXT);
CREATE TABLE IF NOT EXISTS nat_cli_command (event_id INTEGER PRIMARY KEY,
  nemo_source TEXT, command TEXT, subcommand TEXT, task_status TEXT,
  duration_ms INTEGER, exit_code INTEGER, error_class TEXT,
  python_version TEXT);
"""

local = threading.local()


def db():
    if not hasattr(local, "con"):
        con = sqlite3.connect(sys.argv[1], isolation_level=None,
                              check_same_thread=False)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("PRAGMA busy_timeout=5000")
        local.con = con
    return local.con


def store(env):
    con = db()
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    con.execute("BEGIN IMMEDIATE")
    try:
        cur = con.execute(
            "INSERT INTO envelopes (session_id, client_ver, schema_ver,"
            " cpu_architecture, sent_ts, received_ts, event_count)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (env.sessionId, env.clientVer, env.eventSchemaVer,
             env.cpuArchitecture, env.sentTs, now, len(env.events)))
        eid = cur.lastrowid
        for i, ev in enumerate(env.events):
            p = ev.parameters
            cur = con.execute(
                "INSERT INTO events (envelope_id, seq, session_id, client_ver,"
                " name, schema_ver, ts, received_ts, parameters)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (eid, i, env.sessionId, env.clientVer, ev.name,
                 env.eventSchemaVer, ev.ts, now, p.model_dump_json()))
            con.execute(
                "INSERT INTO nat_cli_command VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (cur.lastrowid, p.nemoSource, p.command, p.subcommand,
                 p.taskStatus, p.durationMs, p.exitCode, p.errorClass,
                 p.pythonVersion))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


async def ingest(request):
    if request.headers.get("content-type", "").split(";")[0] != \
            "application/json":
        return JSONResponse({"error": "Content-Type"}, status_code=415)
    body = await request.body()
    try:
        env = Envelope.model_validate_json(body)
    except pydantic.ValidationError as e:
        return JSONResponse({"error": json.loads(e.json())}, status_code=422)
    try:
        store(env)
    except sqlite3.Error as e:
        return JSONResponse({"error": str(e)}, status_code=503,
                            headers={"Retry-After": "5"})
    return JSONResponse({"accepted": len(env.events)})


def main():
    con = sqlite3.connect(sys.argv[1])
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript(SCHEMA)
    con.close()
    app = Starlette(routes=[Route("/v1.1/events/json", ingest,
                                  methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]),
                log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
