"""Helpers shared by the integration tests (not a test: CTest runs only
test_*.py). Each test script imports it from its own directory.

What every script repeats lives here: the tool's path, scratch
directories under NATTEL_TEST_TMP, an environment for the tool, a
`nattel serve` on a free loopback port, the pass/fail counter with its
summary line, and skipping (exit 77 with a message on stderr).

A broken tool must fail a test, never skip it: nothing here skips because
the tool misbehaves, only because an optional input (the shared
reference, a Python module) is missing.
"""
import atexit
import contextlib
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

SKIP = 77          # CTest's SKIP_RETURN_CODE
EVENTS_PATH = "/v1.1/events/json"
failures = []      # what failed, reported by finish()
_passed = [0]      # checks that held


# --------------------------------------------------------------------------
# Counting and ending
# --------------------------------------------------------------------------

def check(cond, what):
    """Records `what` as a failure when `cond` is false."""
    if cond:
        _passed[0] += 1
    else:
        failures.append(what)
    return bool(cond)


def fail(msg):
    """Records a failure and says it at once."""
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def passed(n=1):
    """Counts `n` more checks that held (for checks not made by check())."""
    _passed[0] += n


def summary():
    """Prints every failure not yet shown, then "N passed, M failed";
    returns the exit code (1 when anything failed)."""
    for f in failures:
        print("FAIL: " + f, file=sys.stderr)
    print(f"{_passed[0]} passed, {len(failures)} failed")
    sys.stdout.flush()
    return 1 if failures else 0


def finish():
    """Ends the script with summary()'s exit code."""
    sys.exit(summary())


def skip(msg):
    """Ends the script as skipped (77), saying why on stderr."""
    print("skip: " + msg, file=sys.stderr)
    sys.exit(SKIP)


# --------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------

def env(name):
    """A variable CTest sets; without it the script was not run by CTest
    (a failure, not a skip)."""
    v = os.environ.get(name)
    if not v:
        print(f"{name} is not set (run through CTest)", file=sys.stderr)
        sys.exit(1)
    return v


def tool(name="NATTEL_BIN"):
    """Path of the binary in `name`, which must be executable; exits 1
    otherwise (a missing tool is a failure, not a skip)."""
    path = env(name)
    if not os.access(path, os.X_OK):
        print(f"{name}={path!r} is not an executable", file=sys.stderr)
        sys.exit(1)
    return path


def reference(*names):
    """Paths of files in NATTEL_REFERENCE_DIR; skips the script when the
    folder or one of the files is missing."""
    ref = os.environ.get("NATTEL_REFERENCE_DIR", "")
    paths = [os.path.join(ref, n) for n in names]
    missing = [p for p in paths if not os.path.isfile(p)]
    if not ref or missing:
        skip(f"reference file missing (NATTEL_REFERENCE_DIR={ref!r}): "
             f"{', '.join(missing) or 'folder not set'}")
    return paths[0] if len(paths) == 1 else paths


# The variables that mark a CI run (docs/configuration.md): a tool run in
# a test starts without them, so the CI the tests run in changes nothing.
CI_VARS = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "CIRCLECI",
           "TRAVIS", "JENKINS_URL", "TF_BUILD", "TEAMCITY_VERSION",
           "CODEBUILD_BUILD_ID", "BITBUCKET_BUILD_NUMBER", "APPVEYOR",
           "PYTEST_CURRENT_TEST")


def tool_env(extra=None, home=None, base=None, drop=()):
    """The environment for a tool run: the caller's (or `base`) without the
    variables that decide consent, destinations and debug output (NAT_*,
    DO_NOT_TRACK, NATTEL_DEBUG, the state directory's), HOME set to `home`
    when given, then `extra` (a value of None removes the variable).
    `drop` names more prefixes to remove (e.g. "NATTEL_")."""
    e = dict(os.environ if base is None else base)
    for k in list(e):
        if k.startswith(("NAT_",) + tuple(drop)) or k in (
                "DO_NOT_TRACK", "NATTEL_DEBUG", "NATTEL_STATE_DIR",
                "XDG_STATE_HOME", "XDG_CONFIG_HOME", "NATTEL_POLICY_FILE",
                "NATTEL_CONFIG_FILE") or k in CI_VARS:
            del e[k]
    if home is not None:
        e["HOME"] = home
    for k, v in (extra or {}).items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return e


# --------------------------------------------------------------------------
# Scratch directories
# --------------------------------------------------------------------------

def tmp_base():
    """NATTEL_TEST_TMP (created), or the system's temporary folder."""
    base = os.environ.get("NATTEL_TEST_TMP") or tempfile.gettempdir()
    os.makedirs(base, exist_ok=True)
    return base


def tempdir(prefix):
    """A context giving a fresh directory under tmp_base(), removed after."""
    return tempfile.TemporaryDirectory(dir=tmp_base(), prefix=prefix)


def scratch(prefix):
    """A fresh directory under tmp_base() for a whole script, removed when
    the script exits."""
    d = tempfile.mkdtemp(dir=tmp_base(), prefix=prefix)
    atexit.register(shutil.rmtree, d, True)
    return d


# --------------------------------------------------------------------------
# Test lists
# --------------------------------------------------------------------------

def run_tests(tests, prefix, skipped=()):
    """Runs each function of `tests` with a fresh work directory (kept for
    a post-mortem); an exception fails it. Names on the command line run
    only those tests. `skipped` lists what was skipped, printed at the
    end. Returns summary()'s exit code."""
    only = sys.argv[1:]
    for test in tests:
        if only and test.__name__ not in only:
            continue
        work = tempfile.mkdtemp(prefix=prefix, dir=tmp_base())
        t0 = time.time()
        try:
            test(work)
            passed()
            print("PASS %s (%.1fs)" % (test.__name__, time.time() - t0))
        except Exception as e:
            failures.append("%s: %s: %s" % (test.__name__, type(e).__name__, e))
            print("FAIL %s: %s: %s" % (test.__name__, type(e).__name__, e))
            sys.stdout.flush()
            traceback.print_exc()
    for s in skipped:
        print("SKIP %s" % s, file=sys.stderr)
    return summary()


# --------------------------------------------------------------------------
# nattel serve
# --------------------------------------------------------------------------

class Serve:
    """One `nattel serve` on 127.0.0.1 and a free port (port 0): started,
    its URL read from its first stdout line, stopped with stop() (or at
    the end of a `with`). Raises AssertionError when it prints no URL."""

    def __init__(self, workdir, *args, db=None, bin=None, timeout=15,
                 env=None):
        self.db = db or os.path.join(workdir, "serve.db")
        self.stderr_path = os.path.join(workdir, "serve-%d.err" % id(self))
        self.stderr = open(self.stderr_path, "wb")
        cmd = [bin or tool(), "serve", "--listen", "127.0.0.1:0",
               "--db", self.db]
        self.proc = subprocess.Popen(cmd + list(args), stdout=subprocess.PIPE,
                                     stderr=self.stderr, cwd=workdir, env=env,
                                     stdin=subprocess.DEVNULL)
        self.url = self._read_url(timeout)
        u = urllib.parse.urlparse(self.url)
        if u.hostname != "127.0.0.1" or u.path != EVENTS_PATH:
            self.kill()
            raise AssertionError("serve printed an unexpected URL %r"
                                 % self.url)
        self.host, self.port = u.hostname, u.port

    def _read_url(self, timeout):
        line = []
        reader = threading.Thread(
            target=lambda: line.append(self.proc.stdout.readline()),
            daemon=True)
        reader.start()
        reader.join(timeout)
        if not line or not line[0]:
            self.kill()
            raise AssertionError("serve printed no URL within %ss; stderr: %s"
                                 % (timeout, self.log()))
        return line[0].decode().strip()

    def log(self):
        """What the server wrote to stderr so far."""
        if not self.stderr.closed:
            self.stderr.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Signals the server and waits; returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("serve did not stop within %ss" % timeout)
        self._close()
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._close()

    def _close(self):
        if self.proc.stdout and not self.proc.stdout.closed:
            self.proc.stdout.close()
        if not self.stderr.closed:
            self.stderr.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            with contextlib.suppress(AssertionError):
                self.stop()
        self._close()
        return False


# --------------------------------------------------------------------------
# A real terminal
# --------------------------------------------------------------------------

def pty_read(fd, marker=None, timeout=10.0):
    """What the terminal `fd` shows until `marker` (bytes; None: none)
    appears, the child closes the terminal, or `timeout` seconds pass."""
    out = b""
    end = time.monotonic() + timeout
    while (marker is None or marker not in out) and time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    return out


class PtyRun:
    """What run_on_pty saw: `code` (exit status), `shown` (bytes on the
    terminal), `unseen` (the first awaited text never shown, or None) and
    `killed` (the child was still running after the timeout)."""

    def __init__(self, code, shown, unseen, killed):
        self.code, self.shown, self.unseen, self.killed = code, shown, unseen, killed

    @property
    def text(self):
        return self.shown.decode("utf-8", "replace")


def run_on_pty(argv, env, keys=(), timeout=10.0):
    """Runs argv (argv[0] a path) on a new terminal (pty.fork: stdin, stdout
    and stderr are the terminal, so Ctrl-C typed is the terminal's SIGINT).
    `keys`: (wait_for, typed) pairs: wait up to `timeout` until wait_for
    (bytes) is shown, then type `typed`; the first never shown ends the
    typing. Then reads until the child exits, for at most `timeout` more,
    and kills a child still running (one waiting for a key is a failure,
    not a hung test run)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(argv[0], argv, env)
    shown, unseen = b"", None
    for wait_for, typed in keys:
        shown += pty_read(fd, wait_for, timeout)
        if wait_for not in shown:
            unseen = wait_for
            break
        os.write(fd, typed)
    end = time.monotonic() + timeout
    done, status = os.waitpid(pid, os.WNOHANG)
    while not done and time.monotonic() < end:
        shown += pty_read(fd, None, 0.1)
        done, status = os.waitpid(pid, os.WNOHANG)
        if not done:
            time.sleep(0.01)
    if not done:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    shown += pty_read(fd, None, 0.2)
    os.close(fd)
    return PtyRun(os.waitstatus_to_exitcode(status), shown, unseen, not done)


# --------------------------------------------------------------------------
# A real PostgreSQL
# --------------------------------------------------------------------------

PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin",
               "/usr/lib/postgresql/17/bin")


def pg_bin_dir():
    """The folder of Debian's initdb and pg_ctl, or None."""
    for d in PG_BIN_DIRS:
        if all(os.access(os.path.join(d, b), os.X_OK)
               for b in ("initdb", "pg_ctl", "postgres")):
            return d
    found = shutil.which("initdb")
    return os.path.dirname(found) if found and shutil.which("pg_ctl") else None


def pg_or_skip():
    """pg_bin_dir(), or skips the script (the server binaries are absent:
    scripts/install-deps.sh installs postgresql)."""
    d = pg_bin_dir()
    if not d:
        skip("PostgreSQL server binaries (initdb, pg_ctl) not found in "
             + ", ".join(PG_BIN_DIRS) + "; install postgresql")
    if os.getuid() == 0 and not shutil.which("runuser"):
        skip("running as root and no runuser to start PostgreSQL as nobody")
    return d


class Postgres:
    """A PostgreSQL cluster of its own: initdb into a fresh directory under
    /tmp owned by nobody (PostgreSQL refuses to run as root), listening
    only on a Unix socket in that directory. `uri(db, user, password)`
    names a database in it; stop(mode) and start() stop and start the
    server (stop() at the end of a `with`, also on failure)."""

    def __init__(self, bindir=None, fsync=False):
        """fsync=False (tests) trades durability for speed; a benchmark
        keeps PostgreSQL's default (on)."""
        self.fsync = fsync
        self.bindir = bindir or pg_or_skip()
        self.dir = tempfile.mkdtemp(prefix="nattel-pg-")
        self.data = os.path.join(self.dir, "data")
        self.as_nobody = os.getuid() == 0
        if self.as_nobody:
            import pwd
            pw = pwd.getpwnam("nobody")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        os.chmod(self.dir, 0o755)
        self.running = False
        # trust for the superuser over the socket; md5 for the others,
        # so that a password in a URI is really used.
        self._run("initdb", "-D", self.data, "-U", "postgres", "--no-sync",
                  "--locale=C", "-E", "UTF8", "--auth-local=trust")
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("local all postgres trust\n"
                    "local all all scram-sha-256\n")
        self.start()

    def _run(self, prog, *args, check=True):
        cmd = [os.path.join(self.bindir, prog)] + list(args)
        if self.as_nobody:
            cmd = ["runuser", "-u", "nobody", "--"] + cmd
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, cwd=self.dir, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError("%s failed (%d): %s" % (
                prog, p.returncode, p.stdout.decode(errors="replace")))
        return p

    def start(self):
        self._run("pg_ctl", "-D", self.data, "-w", "-l",
                  os.path.join(self.dir, "log"), "-o",
                  "-c listen_addresses='' -c unix_socket_directories='%s'"
                  " -c fsync=%s -c max_connections=60"
                  % (self.dir, "on" if self.fsync else "off"), "start")
        self.running = True

    def stop(self, mode="fast"):
        if self.running:
            self._run("pg_ctl", "-D", self.data, "-w", "-m", mode, "stop",
                      check=False)
            self.running = False

    def psql(self, sql, db="postgres"):
        """Runs sql as the superuser; returns the output (unaligned,
        fields separated by a unit separator, rows by newlines)."""
        p = self._run("psql", "-h", self.dir, "-U", "postgres", "-d", db,
                      "-X", "-A", "-t", "-q", "-F", "\x1f",
                      "-v", "ON_ERROR_STOP=1", "-c", sql)
        return p.stdout.decode()

    def create_db(self, name, owner="nattel", password="s3cret-Pw"):
        """A database owned by a role that logs in with a password."""
        exists = self.psql("SELECT 1 FROM pg_roles WHERE rolname = '%s'"
                           % owner).strip()
        if not exists:
            self.psql("CREATE ROLE %s LOGIN PASSWORD '%s'" % (owner, password))
        self.psql("CREATE DATABASE %s OWNER %s" % (name, owner))
        return self.uri(name, owner, password)

    def uri(self, db, user="nattel", password="s3cret-Pw"):
        return "postgresql://%s:%s@/%s?host=%s" % (
            user, urllib.parse.quote(password, safe=""), db,
            urllib.parse.quote(self.dir, safe=""))

    def close(self):
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
