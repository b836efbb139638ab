#!/usr/bin/env python3
"""`nattel status` diagnoses what stops or delays delivery: each case is
one 'problem:' or 'note:' line naming what, where and how to fix it, the
same in --json's "diagnoses", and exit 1 when delivery cannot happen.
Also: `nattel emit` names an invalid endpoint once, `nattel flush` with a
symlinked state directory says one true message, `nattel consent
--status --json`, and status's words for people.
Real parts: real directories, symlinks, files, a real `nattel serve`
answering 503 for the back-off, a mount namespace hiding libcurl.
Env: NATTEL_BIN, NATTEL_TEST_TMP."""
import json
import os
import shutil
import subprocess
import sys
import time

import nattel_testlib as tl

NATTEL = tl.tool()


def run(work, args, extra=None):
    env = tl.tool_env(extra, home=work)
    return subprocess.run([NATTEL, *args], env=env, capture_output=True,
                          text=True, timeout=60, cwd=work)


def diagnoses(work, extra):
    """(text run, json run, json document)"""
    t = run(work, ["status"], extra)
    j = run(work, ["status", "--json"], extra)
    return t, j, json.loads(j.stdout)


def expect_problem(work, extra, what, *words):
    t, j, doc = diagnoses(work, extra)
    lines = [l for l in t.stdout.splitlines() if l.startswith("problem: ")]
    assert t.returncode == 1 and j.returncode == 1, (t.returncode, t.stdout)
    assert len(lines) == 1, t.stdout
    assert all(w in lines[0] for w in words), (words, lines[0])
    d = [x for x in doc["diagnoses"] if x["severity"] == "problem"]
    assert len(d) == 1 and d[0]["what"] == what, doc["diagnoses"]
    assert d[0]["text"] == lines[0][len("problem: "):], (d, lines)


def test_healthy_is_quiet(work):
    t, j, doc = diagnoses(work, {"NAT_TELEMETRY_ENABLED": "1"})
    assert t.returncode == 0 and j.returncode == 0, (t.stdout, t.stderr)
    assert doc["diagnoses"] == [], doc
    assert "problem:" not in t.stdout and "note:" not in t.stdout


def test_relative_state_dir(work):
    expect_problem(work, {"NATTEL_STATE_DIR": "rel/state"}, "state_dir",
                   "'rel/state'", "not an absolute path", "NATTEL_STATE_DIR")


def test_state_dir_regular_file(work):
    f = os.path.join(work, "file")
    open(f, "w").close()
    expect_problem(work, {"NATTEL_STATE_DIR": f}, "state_dir", f,
                   "not a directory", "NATTEL_STATE_DIR")


def test_state_dir_symlink(work):
    real = os.path.join(work, "real")
    os.mkdir(real, 0o700)
    link = os.path.join(work, "link")
    os.symlink(real, link)
    expect_problem(work, {"NATTEL_STATE_DIR": link}, "state_dir", link,
                   "symlink", "NATTEL_STATE_DIR")


def test_invalid_endpoints(work):
    expect_problem(work, {"NAT_TELEMETRY_ENDPOINT": "ftp://x"}, "endpoint",
                   "NAT_TELEMETRY_ENDPOINT 'ftp://x' is invalid", "http://")
    expect_problem(work, {"NAT_TELEMETRY_ENDPOINT": "STDOUT"}, "endpoint",
                   "'STDOUT'", "spelt 'stdout', in lower case")


def test_flusher(work):
    expect_problem(work, {"NATTEL_FLUSHER": "/nonexistent/flusher"},
                   "flusher", "/nonexistent/flusher", "No such file",
                   "NATTEL_FLUSHER")
    plain = os.path.join(work, "not-executable")
    with open(plain, "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(plain, 0o644)
    expect_problem(work, {"NATTEL_FLUSHER": plain}, "flusher", plain,
                   "cannot be run", "NATTEL_FLUSHER")
    # spool-only starts no flusher: no problem then
    t, _, doc = diagnoses(work, {"NATTEL_FLUSHER": "/nonexistent/flusher",
                                 "NATTEL_DELIVERY": "spool-only"})
    assert t.returncode == 0 and doc["diagnoses"] == [], doc


def libcurl_path():
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if line.strip().startswith("libcurl.so.4 ") and "=>" in line:
            return line.split("=>")[1].strip()
    return None


def no_namespace():
    if not libcurl_path() or not shutil.which("unshare") or os.geteuid():
        return "needs root, unshare(1) and libcurl.so.4 in ldconfig"
    if subprocess.run(["unshare", "-m", "true"],
                      capture_output=True).returncode:
        return "cannot make a mount namespace here"
    return None


def test_no_libcurl(work):
    env = tl.tool_env({"NATTEL_DELIVERY": "spool-only"}, home=work)
    hidden = "mount --bind /dev/null %s && exec \"$0\" status" % \
        libcurl_path()
    p = subprocess.run(["unshare", "-m", "sh", "-c", hidden, NATTEL],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    line = [l for l in p.stdout.splitlines() if l.startswith("problem:")]
    assert len(line) == 1 and "cannot load libcurl" in line[0] and \
        "install libcurl4" in line[0], p.stdout


def test_env_overrides_file(work):
    run(work, ["consent", "--enable"])
    for extra, words in (({"NAT_TELEMETRY_ENABLED": "0"},
                          ("NAT_TELEMETRY_ENABLED=0", "says on",
                           "unset NAT_TELEMETRY_ENABLED")),
                         ({"DO_NOT_TRACK": "1"},
                          ("DO_NOT_TRACK=1", "unset DO_NOT_TRACK"))):
        t, j, doc = diagnoses(work, extra)
        notes = [l for l in t.stdout.splitlines() if l.startswith("note: ")]
        assert t.returncode == 0, t.stdout  # a decision, not a fault
        assert len(notes) == 1 and all(w in notes[0] for w in words), \
            (extra, t.stdout)
        assert [d["what"] for d in doc["diagnoses"]] == \
            ["consent_override"], doc
    # the file and the environment agree: nothing to say
    t, _, doc = diagnoses(work, {"NAT_TELEMETRY_ENABLED": "1"})
    assert doc["diagnoses"] == [], doc


def test_backoff_pending(work):
    with tl.Serve(work, "--fail-status", "503") as srv:
        extra = {"NAT_TELEMETRY_ENABLED": "1",
                 "NAT_TELEMETRY_ENDPOINT": srv.url}
        p = run(work, ["emit", "--command", "run", "--status", "success"],
                extra)
        assert p.returncode == 0, p.stderr
        deadline = time.time() + 20
        doc = {}
        while time.time() < deadline:
            _, _, doc = diagnoses(work, extra)
            if doc.get("backoff_until"):
                break
            time.sleep(0.2)
        t, _, doc = diagnoses(work, extra)
    notes = [d for d in doc["diagnoses"] if d["what"] == "backoff"]
    assert len(notes) == 1 and doc["backoff_until"] in notes[0]["text"] \
        and "nattel flush" in notes[0]["text"], doc
    assert t.returncode == 0 and "note: a delivery failed" in t.stdout, \
        t.stdout


def test_words_for_people(work):
    t = run(work, ["status"], {"NAT_TELEMETRY_DRY_RUN": "1"})
    out = t.stdout
    assert "decided by:    nobody: no decision is recorded" in out, out
    assert "no decision recorded (no such file)" in out, out
    assert "sink:          none: dry run" in out, out
    for enum in ("never_asked", "dry_run (dry run)", "(off)"):
        assert enum not in out, (enum, out)


def test_emit_names_invalid_endpoint_once(work):
    for ep, words in (("ftp://x", "'ftp://x' is invalid"),
                      ("STDOUT", "spelt 'stdout'")):
        p = run(work, ["emit", "--command", "run", "--status", "success"],
                {"NAT_TELEMETRY_ENABLED": "1", "NAT_TELEMETRY_ENDPOINT": ep})
        assert p.returncode == 0 and p.stdout == "", (p.returncode, p.stdout)
        assert p.stderr.count("\n") == 1 and words in p.stderr, p.stderr


def test_flush_symlinked_state_dir_one_message(work):
    real = os.path.join(work, "real")
    os.mkdir(real, 0o700)
    link = os.path.join(work, "link")
    os.symlink(real, link)
    p = run(work, ["flush"], {"NAT_TELEMETRY_ENABLED": "1",
                              "NAT_TELEMETRY_ENDPOINT": "http://127.0.0.1:9/",
                              "NATTEL_STATE_DIR": link})
    assert p.returncode == 1, p.returncode
    assert p.stdout == "", p.stdout
    assert p.stderr.count("\n") == 1 and "symlink" in p.stderr, p.stderr


def test_consent_status_json(work):
    run(work, ["consent", "--disable"])
    p = run(work, ["consent", "--status", "--json"],
            {"NAT_TELEMETRY_ENABLED": "1"})
    assert p.returncode == 0 and p.stderr == "", (p.returncode, p.stderr)
    doc = json.loads(p.stdout)
    assert doc["enabled"] is True and doc["source"] == "env", doc
    assert doc["fileConsent"] == "disabled", doc
    assert "overrides the consent file" in doc["override"], doc
    p = run(work, ["consent", "--json"])
    doc = json.loads(p.stdout)
    assert doc["source"] == "file" and doc["override"] is None, doc
    p = run(work, ["consent", "--enable", "--json"])
    assert p.returncode == 2 and "--json goes with --status" in p.stderr


def test_delivery_state_notes(work):
    """Events kept while telemetry is off, and a spool entry no flusher can
    send (a FIFO named like an entry), are said as notes, not problems."""
    state = os.path.join(work, "state-notes")
    extra = {"NAT_TELEMETRY_ENABLED": "1", "NATTEL_STATE_DIR": state,
             "NATTEL_DELIVERY": "spool-only",
             "NAT_TELEMETRY_ENDPOINT": "http://127.0.0.1:9/v1.1/events/json"}
    for _ in range(2):
        p = run(work, ["emit", "--command", "run", "--status", "success"],
                extra)
        assert p.returncode == 0, p.stderr
    spool = os.path.join(state, "spool")
    entry = sorted(os.listdir(spool))[0]
    stem, rest = entry.split("-", 1)
    os.mkfifo(os.path.join(spool, str(int(stem) + 1) + "-" + rest))
    off = dict(extra, NAT_TELEMETRY_ENABLED="0")
    t, j, doc = diagnoses(work, off)
    assert t.returncode == 0 and j.returncode == 0, (t.stdout, t.stderr)
    whats = {d["what"]: d for d in doc["diagnoses"]}
    assert whats["consent_off"]["severity"] == "note", doc
    assert "2 event(s) wait in the spool" in whats["consent_off"]["text"], doc
    assert "kept, not sent" in whats["consent_off"]["text"], doc
    assert whats["spool_entries"]["text"].startswith("1 unusable spool entry"), doc
    notes = [l for l in t.stdout.splitlines() if l.startswith("note: ")]
    assert any("wait in the spool: telemetry is off" in l for l in notes), t.stdout
    # With telemetry on, the waiting events are not a note.
    _, _, doc = diagnoses(work, extra)
    assert "consent_off" not in {d["what"] for d in doc["diagnoses"]}, doc


TESTS = [test_healthy_is_quiet, test_relative_state_dir,
         test_state_dir_regular_file, test_state_dir_symlink,
         test_invalid_endpoints, test_flusher, test_env_overrides_file,
         test_backoff_pending, test_words_for_people,
         test_emit_names_invalid_endpoint_once,
         test_flush_symlinked_state_dir_one_message, test_consent_status_json,
         test_delivery_state_notes]

if __name__ == "__main__":
    skipped = []
    why = no_namespace()
    if why:
        skipped.append("test_no_libcurl: " + why)
    else:
        TESTS.append(test_no_libcurl)
    sys.exit(tl.run_tests(TESTS, "status-diag.", skipped))
