#!/usr/bin/env python3
"""The bash completion (`nattel completion bash`, built into
BUILD/nattel.bash-completion and installed as
share/bash-completion/completions/nattel) sourced in a real bash, with
COMPREPLY read back for what a user types:

- `nattel <TAB>` gives every command `nattel --help` lists (and `help`);
- `nattel CMD --<TAB>` gives, for every command, the long options its
  `--help` synopsis names, and the tool accepts each one it offers (no
  "unknown option": the tables are the tool's own);
- `nattel help <TAB>`, a prefix (`nattel st<TAB>`), a value (`nattel
  report --db <TAB>`: files, not options) and `nattel capture -- <TAB>`
  (the completion of the command line that follows).

Skips when bash is missing. Env: NATTEL_BIN, NATTEL_BUILD_DIR."""
import os
import re
import shutil
import subprocess
import sys

import nattel_testlib as tl

NATTEL = tl.tool()
BUILD = tl.env("NATTEL_BUILD_DIR")
BASH = shutil.which("bash")
if not BASH:
    tl.skip("bash is not installed")


def script():
    r = subprocess.run([NATTEL, "completion", "bash"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0 and r.stderr == "", (r.returncode, r.stderr)
    return r.stdout


def complete(words, cwd=None, prelude=""):
    """COMPREPLY after sourcing the completion, for the command line
    `words` (the last one being completed), as bash itself sets it up."""
    probe = (prelude + 'source "$1"; shift\n'
             'COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))\n'
             'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}\n'
             'spec=$(complete -p nattel) || exit 3\n'
             '_nattel nattel "${COMP_WORDS[COMP_CWORD]}" '
             '"${COMP_WORDS[COMP_CWORD-1]}"\n'
             'printf "%s\\n" "${COMPREPLY[@]}"\n')
    r = subprocess.run([BASH, "--norc", "--noprofile", "-c", probe, "bash",
                        COMPLETION, *words], capture_output=True, text=True,
                       timeout=30, cwd=cwd)
    assert r.returncode == 0, f"{words}: bash exit {r.returncode}: {r.stderr!r}"
    assert r.stderr == "", f"{words}: {r.stderr!r}"
    return sorted(l for l in r.stdout.splitlines() if l)


def help_text(*args):
    r = subprocess.run([NATTEL, *args, "--help"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, (args, r.returncode, r.stderr)
    return r.stdout


def commands():
    """The commands `nattel --help` lists, its own words."""
    text = help_text()
    block = text.split("commands:\n", 1)[1].split("\n\n", 1)[0]
    return sorted(l.split()[0] for l in block.splitlines() if l.strip())


def synopsis_options(cmd):
    """The long options the synopsis of `nattel CMD --help` names (up to
    its first blank line), plus --help."""
    head = help_text(cmd).split("\n\n", 1)[0]
    return sorted(set(re.findall(r"--[a-z][a-z-]*", head)) | {"--help"})


def test_built_file_is_the_output(work):
    built = os.path.join(BUILD, "nattel.bash-completion")
    with open(built) as f:
        assert f.read() == script(), f"{built} differs from the tool's output"


def test_commands(work):
    want = commands()
    assert "emit" in want and "help" in want, want
    got = complete(["nattel", ""])
    assert got == want, f"nattel <TAB>: {got}, want {want}"
    got = complete(["nattel", "help", ""])
    assert got == want, f"nattel help <TAB>: {got}, want {want}"
    got = complete(["nattel", "st"])
    assert got == [c for c in want if c.startswith("st")], got
    got = complete(["nattel", "--"])
    assert got == ["--help", "--version"], f"nattel --<TAB>: {got}"


def test_options_per_command(work):
    for cmd in commands():
        if cmd == "help":
            continue
        got = complete(["nattel", cmd, "--"])
        want = synopsis_options(cmd)
        assert got == want, f"nattel {cmd} --<TAB>: {got}, want {want}"
        # The tool knows each one: parsed in order, OPT=x passes or is a
        # usage error of its own, and an unknown option after it ends
        # the run before anything is done.
        for opt in got:
            r = subprocess.run([NATTEL, cmd, opt + "=x", "--no-such-zz"],
                               capture_output=True, text=True, timeout=30,
                               stdin=subprocess.DEVNULL, cwd=work)
            assert r.returncode == 2, (cmd, opt, r.returncode, r.stderr)
            assert f"unknown option '{opt}'" not in r.stderr, \
                f"{cmd} {opt} offered but refused: {r.stderr!r}"
    got = complete(["nattel", "emit", "--"])
    assert "--command" in got and "--client-version" in got, got
    got = complete(["nattel", "emit", "--st"])
    assert got == ["--status"], f"nattel emit --st<TAB>: {got}"


def test_values_and_command_lines(work):
    open(os.path.join(work, "usage.db"), "w").close()
    # A value: nothing from the function, so bash's default (file names,
    # `complete -o default`) takes over.
    got = complete(["nattel", "report", "--db", ""], cwd=work)
    assert got == [], f"report --db <TAB>: {got}"
    got = complete(["nattel", "log", "-n", ""])
    assert got == [], f"log -n <TAB>: {got}"
    # After `capture --`, the rest is a command line: handed to
    # bash-completion's _command_offset (defined here as a stand-in
    # that reports where it was asked to start).
    stub = '_command_offset() { COMPREPLY=("offset:$1"); }\n'
    got = complete(["nattel", "capture", "--expect", "command=run", "--",
                    "nat"], prelude=stub)
    assert got == ["offset:5"], f"capture -- nat<TAB>: {got}"
    got = complete(["nattel", "capture", "--"], prelude=stub)
    assert got == ["--expect", "--help", "--json"], f"capture --<TAB>: {got}"


COMPLETION = os.path.join(tl.scratch("completion-"), "nattel")
with open(COMPLETION, "w") as f:
    f.write(script())

if __name__ == "__main__":
    sys.exit(tl.run_tests([test_built_file_is_the_output, test_commands,
                           test_options_per_command,
                           test_values_and_command_lines], "completion-"))
