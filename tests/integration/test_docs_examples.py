#!/usr/bin/env python3
"""The examples of README.md and docs/nattel.1, taken from their own text
and run as written, so that the docs cannot drift from the code:

- README's hello.c block, compiled with the compile lines README gives
  (its pkg-config lines, shared and static, with PKG_CONFIG_PATH as README
  says for a PREFIX of one's own: a prefix made of the build tree), then
  run as README's "Try it without a network" says: one JSON payload on
  stderr with command greet / subcommand world; `hello greet Alice` sends
  subcommand undefined;
- README's `nattel serve` / `nattel report` block (the port replaced by a
  free one: the only substitution) against a throwaway serve: it prints
  the URL it says, and the report counts the one natdemo run;
- README's and the man page's `nattel capture` examples: exit 0, "result:
  pass";
- the man page's EXAMPLES session: flush says nothing is left to send or
  what it sent, and the report shows one run of `run` (12 ms).

Env: NATTEL_SOURCE_DIR, NATTEL_BUILD_DIR, NATTEL_CC, NATTEL_TEST_TMP."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys

import nattel_testlib as tl

SRC = tl.env("NATTEL_SOURCE_DIR")
BUILD = tl.env("NATTEL_BUILD_DIR")
CC = os.environ.get("NATTEL_CC") or "cc"
# The sanitizer flags of an instrumented build (empty otherwise).
CC += " " + os.environ.get("NATTEL_CONSUMER_FLAGS", "")
with open(os.path.join(SRC, "README.md")) as f:
    README = f.read()
with open(os.path.join(SRC, "docs", "nattel.1")) as f:
    MAN = f.read()


def fenced(lang, marker):
    """The README code block of `lang` that contains `marker`."""
    for m in re.finditer(r"^```" + lang + r"\n(.*?)^```$", README, re.M | re.S):
        if marker in m.group(1):
            return m.group(1)
    raise AssertionError(f"README.md has no ```{lang} block with {marker!r}")


def man_examples():
    """The man page's EXAMPLES displays (.nf ... .fi), as a shell reads
    them: roff's \\- is -, \\e is a backslash."""
    sect = MAN.split(".SH EXAMPLES", 1)[1].split("\n.SH ", 1)[0]
    out = []
    for block in re.findall(r"^\.nf\n(.*?)^\.fi$", sect, re.M | re.S):
        lines = [l for l in block.splitlines() if not l.startswith(".")]
        out.append("\n".join(lines).replace("\\-", "-").replace("\\e", "\\")
                   + "\n")
    assert out, "no EXAMPLES display in docs/nattel.1"
    return out


def env_for(work, extra=None):
    """A user's environment in `work`: the build tree's nattel first on
    PATH, state, consent and HOME in `work`, nothing of ours inherited."""
    home = os.path.join(work, "home")
    os.makedirs(home, exist_ok=True)
    e = tl.tool_env({"PATH": BUILD + os.pathsep + os.environ["PATH"],
                     "NATTEL_STATE_DIR": os.path.join(work, "state"),
                     "NAT_TELEMETRY_CONSENT_FILE":
                     os.path.join(work, "telemetry.toml"),
                     "XDG_CONFIG_HOME": os.path.join(home, ".config")},
                    home=home, drop=("NATTEL_",))
    e["PATH"] = BUILD + os.pathsep + os.environ["PATH"]
    e.update(extra or {})
    return e


def sh(script, work, env, timeout=120):
    return subprocess.run(["sh", "-c", script], cwd=work, env=env,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def report_row(text, command, sub):
    for line in text.splitlines():
        f = line.split()
        if f[:2] == [command, sub]:
            return f
    raise AssertionError(f"no report row {command} {sub}: {text!r}")


def prefix_of_build(work):
    """PREFIX with lib/ (the built libraries and nattel.pc) and include/:
    what `make install PREFIX=...` lays out, made of links to the build."""
    p = os.path.join(work, "prefix")
    lib = os.path.join(p, "lib")
    os.makedirs(os.path.join(lib, "pkgconfig"))
    for name in ("libnattel.so.1", "libnattel.so", "libnattel.a"):
        os.symlink(os.path.join(BUILD, name), os.path.join(lib, name))
    shutil.copy(os.path.join(BUILD, "nattel.pc"), os.path.join(lib, "pkgconfig"))
    os.symlink(os.path.join(SRC, "include"), os.path.join(p, "include"))
    return p


def one_payload(stderr):
    lines = [l for l in stderr.splitlines() if l.startswith("{")]
    assert len(lines) == 1, f"want one payload line on stderr: {stderr!r}"
    return json.loads(lines[0])


def test_readme_hello(work):
    if not shutil.which("pkg-config"):
        raise AssertionError("pkg-config is missing (make installs it)")
    code = fenced("c", "hello.c")
    with open(os.path.join(work, "hello.c"), "w") as f:
        f.write(code)
    prefix = prefix_of_build(work)
    env = env_for(work, {"PKG_CONFIG_PATH": os.path.join(prefix, "lib",
                                                         "pkgconfig")})
    # The compile lines README gives, each as written (cc is the
    # compiler CMake found, which README's `cc` stands for).
    block = fenced("sh", "pkg-config --cflags --libs nattel")
    block = re.sub(r"\\\n\s*", " ", block)
    lines = [l.split("#")[0].strip() for l in block.splitlines()]
    lines = [l for l in lines if l.startswith("cc ")]
    assert len(lines) == 2, f"want README's shared and static lines: {lines}"
    for line in lines:
        r = sh(CC + line[2:], work, env)
        assert r.returncode == 0, f"{line}: {r.stderr}"
        size = os.path.getsize(os.path.join(work, "hello"))
        assert size > 0
    # The block's own first line says how to build it too.
    first = code.splitlines()[0]
    m = re.match(r"/\* hello\.c: (cc .*) \*/$", first)
    assert m, f"hello.c's first line: {first!r}"
    r = sh(CC + m.group(1)[2:], work, env)
    assert r.returncode == 0, f"{m.group(1)}: {r.stderr}"

    run_env = dict(env, LD_LIBRARY_PATH=os.path.join(prefix, "lib"))
    m = re.search(r"Try it without a network:\s*`([^`]*)`", README)
    assert m, "README lost its 'Try it without a network' command"
    cmd = m.group(1)
    assert cmd.endswith("./hello greet world"), cmd
    assert f"`{cmd}` prints the payload\nas one JSON line on standard error" \
        in README, "README's claim about the payload changed"
    r = sh(cmd, work, run_env)
    assert r.returncode == 0, f"{cmd}: exit {r.returncode}: {r.stderr!r}"
    assert r.stdout == "hello, world\n", f"{cmd}: stdout {r.stdout!r}"
    p = one_payload(r.stderr)["events"][0]["parameters"]
    assert (p["command"], p["subcommand"]) == ("greet", "world"), p
    assert "`hello greet Alice` sends\nsubcommand `undefined`" in README
    r = sh(cmd.replace("greet world", "greet Alice"), work, run_env)
    p = one_payload(r.stderr)["events"][0]["parameters"]
    assert (p["command"], p["subcommand"]) == ("greet", "undefined"), p


def test_readme_serve_report(work):
    block = fenced("sh", "nattel serve")
    assert block.count("8900") == 3, block
    port = str(free_port())
    script = block.replace("8900", port)
    os.symlink(BUILD, os.path.join(work, "build"))
    # After the block: stop the serve it started in the background.
    r = sh(script + 'kill "$!"; wait\n', work, env_for(work))
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr!r}"
    url = f"http://127.0.0.1:{port}/v1.1/events/json"
    assert url in r.stdout.splitlines(), f"serve did not print {url}: {r.stdout!r}"
    ran = re.search(r"^build/natdemo (\S+) (\S+)", block, re.M)
    assert ran, block
    row = report_row(r.stdout, ran.group(1), ran.group(2))
    assert row[2:6] == ["1", "1", "0", "0"], row


def test_readme_capture(work):
    block = fenced("sh", "nattel capture")
    os.symlink(BUILD, os.path.join(work, "build"))
    r = sh(block, work, env_for(work))
    assert r.returncode == 0, f"exit {r.returncode}: {r.stdout!r} {r.stderr!r}"
    assert "result: pass" in r.stdout.splitlines(), r.stdout
    assert "command: exited with status 0" in r.stdout, r.stdout
    assert "event: nat_cli_command {" in r.stdout, r.stdout


def test_man_examples(work):
    session, capture = man_examples()[:2]
    assert "nattel serve" in session and "nattel capture" in capture
    # The session's serve runs in the background: stop it after.
    r = sh(session + 'kill "$!"; wait; rm -rf "$d"\n', work, env_for(work))
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr!r}"
    out = r.stdout.splitlines()
    assert ("nothing to send: the spool is empty ('nattel log' shows what "
            "was sent)" in out or
            "sent 1, rejected 0, dropped 0, deferred 0; 0 event(s) still "
            "spooled" in out), f"flush said: {r.stdout!r}"
    # "The report shows one run of run": its duration, the one emitted.
    ms = re.search(r"--command run --status success --duration-ms (\d+)",
                   session)
    assert ms and "one\nrun of\n.BR run .\n" in MAN, "the man page changed"
    row = report_row(r.stdout, "run", "undefined")
    assert row[2:8] == ["1", "1", "0", "0", ms.group(1), ms.group(1)], row
    r = sh(capture, work, env_for(work))
    assert r.returncode == 0, f"capture: {r.returncode}: {r.stderr!r}"
    assert "result: pass" in r.stdout.splitlines(), r.stdout


if __name__ == "__main__":
    sys.exit(tl.run_tests([test_readme_hello, test_readme_serve_report,
                           test_readme_capture, test_man_examples],
                          "docs-examples-"))
