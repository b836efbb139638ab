#!/usr/bin/env python3
"""Errors name what the user typed (issue 17): each case is one stderr
line naming the option and the value, with the usage exit status 2, or
the one message a mistake deserves.
Env: NATTEL_BIN, NATTEL_TEST_TMP."""
import os
import subprocess
import sys

import nattel_testlib as tl
from nattel_testlib import check

BIN = tl.tool()


def run(args, home, stdin="", stdout=subprocess.PIPE):
    e = tl.tool_env({"NAT_TELEMETRY_ENABLED": "1",
                     "NAT_TELEMETRY_ENDPOINT": ""}, home=home)
    return subprocess.run([BIN] + args, env=e, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, input=stdin,
                          timeout=60)


def one_usage_line(p, cmd, *words):
    return (p.returncode == 2 and p.stderr.count("\n") == 1
            and p.stderr.startswith(f"nattel {cmd}: ")
            and all(w in p.stderr for w in words))


def main():
    with tl.tempdir("errors-") as home:
        emit = ["emit", "--command", "run"]
        cases = [
            (emit + ["--status", "bogus"],
             ("--status 'bogus'", "success", "interrupted or undefined")),
            (emit + ["--status", "success", "--duration-ms", "-5"],
             ("--duration-ms", "'-5'", "below -1")),
            (emit + ["--status", "success", "--duration-ms", "abc"],
             ("--duration-ms", "'abc'", "not an integer")),
            (emit + ["--status", "success", "--client-version="],
             ("--client-version", "empty")),
            (["emit", "--command", "run"], ("--status is required",)),
            (["emit", "--status", "success"], ("--command is required",)),
            (["schema", "--event", "nosuch"],
             ("--event 'nosuch'", "known: nat_cli_command")),
        ]
        for args, words in cases:
            p = run(args, home)
            check(one_usage_line(p, args[0], *words)
                  and "TaskStatusEnum" not in p.stderr
                  and "nat_cli_command.durationMs" not in p.stderr,
                  f"{args}: {p.returncode} {p.stderr!r}")

        # help help is the tool's help, not an unknown command
        top = run(["--help"], home)
        p = run(["help", "help"], home)
        check(p.returncode == 0 and p.stdout == top.stdout and p.stderr == "",
              f"help help: {p.returncode} {p.stderr!r}")

        # a help that cannot be written is an error, not a silent exit 0
        for args in (["--help"], ["help"], ["--version"], ["status", "--help"]):
            with open("/dev/full", "w") as full:
                p = run(args, home, stdout=full)
            check(p.returncode == 2 and "cannot write to standard output"
                  in p.stderr, f"{args} >/dev/full: {p.returncode} {p.stderr!r}")

        # a pretty-printed document: the syntax errors, then once what the
        # input must be
        pretty = '{\n  "events": [],\n  "sessionId": "x"\n}\n'
        p = run(["validate"], home, pretty)
        hint = [l for l in p.stderr.splitlines() if "one JSON document per line"
                in l]
        check(p.returncode == 1 and len(hint) == 1
              and hint[0].startswith("-:1: $: the input is one JSON document"),
              f"validate pretty: {p.returncode} {p.stderr!r}")
        p = run(["validate"], home, '{"events": 5}\n')
        check("per line" not in p.stderr, f"validate schema error: {p.stderr!r}")

        # serve on a wildcard address says who can reach it
        srv = subprocess.Popen([BIN, "serve", "--listen", "0.0.0.0:0", "--quiet",
                                "--db", os.path.join(home, "w.db")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=tl.tool_env(home=home))
        srv.stdout.readline()
        srv.terminate()
        err = srv.communicate(timeout=30)[1]
        check("other machines can reach" in err and "0.0.0.0:0" in err,
              f"serve 0.0.0.0: {err!r}")
        srv = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0",
                                "--quiet", "--db", os.path.join(home, "l.db")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=tl.tool_env(home=home))
        srv.stdout.readline()
        srv.terminate()
        err = srv.communicate(timeout=30)[1]
        check("other machines" not in err, f"serve 127.0.0.1: {err!r}")
    tl.finish()


if __name__ == "__main__":
    main()
