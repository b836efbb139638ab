#!/usr/bin/env python3
"""libmicrohttpd, libpq and libsqlite3 are loaded with dlopen by the
commands that need them, not at the tool's start-up.

- The tool does not link them (ldd), and a running tool that serves
  nothing (`nattel validate` waiting on a pipe) has none mapped
  (/proc/PID/maps); a running `nattel serve` on SQLite has libmicrohttpd
  and libsqlite3 mapped (the same oracle sees a loaded library) and not
  libpq.
- With the library hidden (bound over by /dev/null in a private mount
  namespace), `nattel serve`, `nattel capture`, a postgresql:// store and
  a SQLite store (served or reported on) fail with one line naming the
  library and its Debian package, and an exit status, not a signal.
"""
import os
import shutil
import subprocess
import time

import nattel_testlib as t

NATTEL = t.tool()
NATDEMO = t.tool("NATDEMO_BIN")
LIBS = ("libmicrohttpd", "libpq", "libsqlite3")


def ldconfig_path(soname):
    """Where the dynamic linker finds soname, or None."""
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if line.strip().startswith(soname + " ") and "=>" in line:
            return line.split("=>")[1].strip()
    return None


def mapped(pid):
    """The shared objects process pid has mapped, by file name."""
    names = set()
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            path = line.split()[-1]
            if path.startswith("/"):
                names.add(os.path.basename(path))
    return names


def has(names, lib):
    return any(n.startswith(lib + ".so") for n in names)


def test_not_linked(work):
    out = subprocess.run(["ldd", NATTEL], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for lib in LIBS:
        assert lib not in out.stdout, "nattel links %s:\n%s" % (lib,
                                                                 out.stdout)


def test_not_loaded_at_start(work):
    env = t.tool_env({"NAT_TELEMETRY_ENABLED": "0"}, home=work)
    # validate reads its stdin: alive, past start-up, until it closes.
    p = subprocess.Popen([NATTEL, "validate"], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=env)
    try:
        deadline = time.time() + 10
        # The loader is done once the tool's own code runs: wait for its
        # read of stdin (wchan pipe_read), at most 10 s.
        while time.time() < deadline:
            with open("/proc/%d/wchan" % p.pid) as f:
                if "pipe" in f.read():
                    break
            time.sleep(0.02)
        names = mapped(p.pid)
    finally:
        p.stdin.close()
        p.wait(10)
    assert has(names, "libc"), "the oracle sees no libc: %s" % sorted(names)
    for lib in LIBS:
        assert not has(names, lib), "%s loaded at start: %s" % (lib,
                                                                sorted(names))


def test_serve_loads_only_what_it_uses(work):
    with t.Serve(work) as srv:
        names = mapped(srv.proc.pid)
    assert has(names, "libmicrohttpd"), sorted(names)
    assert has(names, "libsqlite3"), sorted(names)
    assert not has(names, "libpq"), sorted(names)


def hidden(lib, argv, work):
    """argv run with lib bound over by /dev/null in a mount namespace."""
    script = "mount --bind /dev/null \"$0\" && exec \"$@\""
    env = t.tool_env({"NAT_TELEMETRY_ENABLED": "0", "TMPDIR": work},
                     home=work)
    return subprocess.run(["unshare", "-m", "sh", "-c", script, lib] + argv,
                          env=env, cwd=work, capture_output=True, text=True,
                          timeout=60)


def one_line_naming(p, soname, package):
    assert p.returncode > 0, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    assert soname in lines[0] and package in lines[0], p.stderr


def test_serve_without_libmicrohttpd(work):
    p = hidden(ldconfig_path("libmicrohttpd.so.12"),
               [NATTEL, "serve", "--listen", "127.0.0.1:0", "--db",
                os.path.join(work, "s.db")], work)
    one_line_naming(p, "libmicrohttpd.so.12", "libmicrohttpd12")


def test_capture_without_libmicrohttpd(work):
    p = hidden(ldconfig_path("libmicrohttpd.so.12"),
               [NATTEL, "capture", "--", NATDEMO, "info", "list-components"],
               work)
    one_line_naming(p, "libmicrohttpd.so.12", "libmicrohttpd12")


def test_pg_store_without_libpq(work):
    # No server at this address: the library is needed before connecting.
    p = hidden(ldconfig_path("libpq.so.5"),
               [NATTEL, "serve", "--listen", "127.0.0.1:0", "--db",
                "postgresql://nobody@127.0.0.1:1/none"], work)
    one_line_naming(p, "libpq.so.5", "libpq5")


def test_sqlite_store_without_libsqlite3(work):
    # A real store, made while the library is there: the report below
    # fails for the library, not for a missing or foreign file.
    db = os.path.join(work, "s.db")
    with t.Serve(work, db=db):
        pass
    lib = ldconfig_path("libsqlite3.so.0")
    p = hidden(lib, [NATTEL, "serve", "--listen", "127.0.0.1:0", "--db", db],
               work)
    one_line_naming(p, "libsqlite3.so.0", "libsqlite3-0")
    assert p.returncode == 1, (p.returncode, p.stderr)
    p = hidden(lib, [NATTEL, "report", "--db", db], work)
    one_line_naming(p, "libsqlite3.so.0", "libsqlite3-0")
    assert p.returncode == 1, (p.returncode, p.stderr)


def namespace_unavailable():
    """Why the libraries cannot be hidden here, or None."""
    if not shutil.which("unshare") or os.geteuid() != 0:
        return "needs root and unshare(1)"
    for soname in ("libmicrohttpd.so.12", "libpq.so.5", "libsqlite3.so.0"):
        if not ldconfig_path(soname):
            return "needs %s in ldconfig" % soname
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        return "cannot make a mount namespace here"
    return None


def main():
    tests = [test_not_linked, test_not_loaded_at_start,
             test_serve_loads_only_what_it_uses]
    hiding = [test_serve_without_libmicrohttpd,
              test_capture_without_libmicrohttpd, test_pg_store_without_libpq,
              test_sqlite_store_without_libsqlite3]
    skipped = []
    why = namespace_unavailable()
    if why:
        # Listed as skipped, never counted as passed.
        skipped += ["%s: %s" % (f.__name__, why) for f in hiding]
    else:
        tests += hiding
    return t.run_tests(tests, "serve-dlopen-", skipped)


if __name__ == "__main__":
    raise SystemExit(main())
