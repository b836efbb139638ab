#!/usr/bin/env python3
"""The upstream stack's work, for comparison with `nattel validate --canonical`:
a pydantic v2 model equivalent to NAT's CliCommandEvent (schema 1.5), and the
wire envelope; per line `model_validate_json` then `model_dump_json(by_alias=True)`.

usage: pydantic_validate.py FILE|-        validate lines, canonical JSON on stdout
       pydantic_validate.py --micro [S]  ns per model_dump_json / model_validate_json
                                         (S: seconds per timed repeat)
Exit status: 0 all valid, 1 some invalid, 3 pydantic missing.
"""
import sys

try:
    import pydantic
    from pydantic import BaseModel, ConfigDict, Field
    from pydantic.alias_generators import to_camel
except ImportError:  # pragma: no cover
    print("pydantic_validate: pydantic v2 is not installed", file=sys.stderr)
    sys.exit(3)

from enum import Enum
from typing import Annotated, List, Literal

if not pydantic.VERSION.startswith("2."):
    print("pydantic_validate: pydantic %s is not v2" % pydantic.VERSION, file=sys.stderr)
    sys.exit(3)


class NemoSource(str, Enum):
    INFERENCE = "inference"
    AUDITOR = "auditor"
    DATADESIGNER = "datadesigner"
    EVALUATOR = "evaluator"
    GUARDRAILS = "guardrails"
    SAFE_SYNTHESIZER = "safe-synthesizer"
    ANONYMIZER = "anonymizer"
    AGENT_TOOLKIT = "agent_toolkit"
    UNDEFINED = "undefined"


class TaskStatus(str, Enum):
    SUCCESS = "success"
    FAILURE = "failure"
    COMPLETED = "completed"
    ERROR = "error"
    CANCELED = "canceled"
    INTERRUPTED = "interrupted"
    UNDEFINED = "undefined"


RestrictedTelemetryInteger = Annotated[int, Field(ge=-(2 ** 63), le=2 ** 63 - 1)]


class TelemetryEvent(BaseModel):
    """Base of the schema-1.5 events: camelCase on the wire, snake_case in Python."""
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True,
                              extra="forbid", use_enum_values=False)


class CliCommandEvent(TelemetryEvent):
    nemo_source: NemoSource = NemoSource.AGENT_TOOLKIT
    command: str
    subcommand: str = "undefined"
    task_status: TaskStatus
    duration_ms: Annotated[RestrictedTelemetryInteger, Field(ge=-1)] = -1
    exit_code: RestrictedTelemetryInteger = -1
    error_class: str = "undefined"
    python_version: str


TS = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$")]
Undef = Literal["undefined"]
NoneFlag = Literal["None"]


class QueuedEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ts: TS
    parameters: CliCommandEvent
    name: Literal["nat_cli_command"]


class Envelope(BaseModel):
    """Event protocol 1.6; field names are the wire names, in wire order."""
    model_config = ConfigDict(extra="forbid")
    browserType: Undef
    clientId: Literal["184482118588404"]
    clientType: Literal["Native"]
    clientVariant: Literal["Release"]
    clientVer: Annotated[str, Field(min_length=1)]
    cpuArchitecture: Annotated[str, Field(min_length=1)]
    deviceGdprBehOptIn: NoneFlag
    deviceGdprFuncOptIn: NoneFlag
    deviceGdprTechOptIn: NoneFlag
    deviceId: Undef
    deviceMake: Undef
    deviceModel: Undef
    deviceOS: Undef
    deviceOSVersion: Undef
    deviceType: Undef
    eventProtocol: Literal["1.6"]
    eventSchemaVer: str
    eventSysVer: str
    externalUserId: Undef
    gdprBehOptIn: NoneFlag
    gdprFuncOptIn: NoneFlag
    gdprTechOptIn: NoneFlag
    idpId: Undef
    integrationId: Undef
    productName: Undef
    productVersion: Undef
    sentTs: TS
    sessionId: Annotated[str, Field(min_length=1)]
    userId: Undef
    events: Annotated[List[QueuedEvent], Field(min_length=1, max_length=50)]


SAMPLE = ('{"nemoSource":"agent_toolkit","command":"info","subcommand":"list-components",'
          '"taskStatus":"failure","durationMs":87,"exitCode":1,"errorClass":"ValueError",'
          '"pythonVersion":"3.12.1"}')


def micro(seconds=None):
    import timeit
    ev = CliCommandEvent.model_validate_json(SAMPLE)
    assert ev.model_dump_json(by_alias=True) == SAMPLE, ev.model_dump_json(by_alias=True)

    env = {"ev": ev, "CliCommandEvent": CliCommandEvent, "SAMPLE": SAMPLE}

    def best_ns(stmt):
        t = timeit.Timer(stmt, globals=env)
        number, took = t.autorange()       # >= 0.2 s per repeat
        if seconds:                        # about `seconds` per repeat, 3 repeats
            number = max(int(number * seconds / max(took, 1e-9)), 1)
            return min(t.repeat(repeat=3, number=number)) / number * 1e9
        number = max(number * 2, 1)        # >= ~0.4 s per repeat
        return min(t.repeat(repeat=5, number=number)) / number * 1e9

    dump = best_ns("ev.model_dump_json(by_alias=True)")
    load = best_ns("CliCommandEvent.model_validate_json(SAMPLE)")
    print("pydantic %s" % pydantic.VERSION)
    print("dump_ns %.1f" % dump)
    print("validate_ns %.1f" % load)


def run(path):
    f = sys.stdin.buffer if path == "-" else open(path, "rb")
    out = sys.stdout.buffer
    bad = 0
    env_validate = Envelope.model_validate_json
    ev_validate = CliCommandEvent.model_validate_json
    for n, line in enumerate(f, 1):
        line = line.rstrip(b"\r\n")
        if not line.strip():
            continue
        try:
            if b'"events"' in line:
                m = env_validate(line)
            else:
                m = ev_validate(line)
        except pydantic.ValidationError as e:
            bad += 1
            for err in e.errors():
                loc = ".".join(str(x) for x in err["loc"]) or "$"
                sys.stderr.write("%s:%d: %s: %s\n" % (path, n, loc, err["msg"]))
            continue
        out.write(m.model_dump_json(by_alias=True).encode())
        out.write(b"\n")
    return 1 if bad else 0


def main():
    if len(sys.argv) in (2, 3) and sys.argv[1] == "--micro":
        micro(float(sys.argv[2]) if len(sys.argv) == 3 else None)
        return 0
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    return run(sys.argv[1])


if __name__ == "__main__":
    sys.exit(main())
