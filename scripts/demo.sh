#!/bin/sh
# `make demo`: the whole system on a throwaway local endpoint. Builds what
# is missing (quietly), starts `nattel serve` on a free loopback port with
# a fresh SQLite file, runs the instrumented example CLI `natdemo` a few
# times with consent given by the environment (one run reading a slow pipe
# and a serve interrupted after 0.5 s, so durations are real), delivers
# what the background flusher has not with `nattel flush --wait` and says
# who delivered what, shows one envelope as sent (`nattel log -n 1`),
# prints `nattel report`, and stops the server.
# Everything lives in one temporary directory, removed at the end: nothing
# is left running and nothing is written to your real state or config
# directories (HOME points into the temporary directory too).
#
# Usage: scripts/demo.sh [BUILD_DIR]
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 2
JOBS=$(nproc 2>/dev/null || echo 2)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nattel-demo.XXXXXX") || exit 2
server=""
demo_pid=""
# Processes of ours still alive: the detached flushers natdemo starts
# (setsid, so not our children) are found by the marker in their
# environment and their executable.
ours() {
    for p in /proc/[0-9]*; do
        case "$(readlink "$p/exe" 2>/dev/null)" in
        "$BUILD_ABS"/*) grep -qa "NATTEL_DEMO_SESSION=$tmp" "$p/environ" 2>/dev/null &&
            echo "${p#/proc/}" ;;
        esac
    done
}
cleanup() {
    for pid in $demo_pid $server; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
        fi
    done
    if [ -n "${BUILD_ABS:-}" ] && [ -d /proc/self ]; then
        i=0 # a flusher finishing its last batch: give it a moment
        while [ $i -lt 100 ] && [ -n "$(ours)" ]; do
            sleep 0.1
            i=$((i + 1))
        done
        for pid in $(ours); do kill -KILL "$pid" 2>/dev/null; done
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE # `make demo | head`: still clean up

if [ -t 1 ]; then
    bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
    bold() { printf '\n== %s\n' "$*"; }
fi
die() {
    echo "demo: $*" >&2
    exit 1
}

# A quiet build: the log is shown only when it fails.
if ! { cmake -S . -B "$BUILD" >"$tmp/build.log" 2>&1 &&
    cmake --build "$BUILD" -j "$JOBS" --target nattel_tool natdemo \
        >>"$tmp/build.log" 2>&1; }; then
    grep -E 'error|Error|undefined reference' "$tmp/build.log" >&2 ||
        cat "$tmp/build.log" >&2
    die "the build failed (see above)"
fi
BUILD_ABS=$(cd "$BUILD" && pwd)
NATTEL="$BUILD_ABS/nattel"
NATDEMO="$BUILD_ABS/natdemo"
[ -x "$NATTEL" ] && [ -x "$NATDEMO" ] || die "no nattel or natdemo in $BUILD"

# The environment of every run: consent from the environment, all state in
# the temporary directory.
for v in DO_NOT_TRACK NAT_TELEMETRY_DRY_RUN NAT_SESSION_PREFIX NATTEL_DEBUG NATTEL_DELIVERY \
    NATTEL_FLUSHER XDG_STATE_HOME XDG_CONFIG_HOME; do
    unset "$v"
done
mkdir -p "$tmp/home" || die "cannot create $tmp/home"
export NATTEL_DEMO_SESSION="$tmp"
export HOME="$tmp/home"
export NAT_TELEMETRY_ENABLED=1
export NATTEL_STATE_DIR="$tmp/state"
export NAT_TELEMETRY_CONSENT_FILE="$tmp/config/nat/telemetry.toml"

echo "nattel demo: an instrumented CLI (natdemo) sends one anonymous event per run"
echo "to a local ingest endpoint; the report shows what arrived. Consent is given"
echo "by the environment (NAT_TELEMETRY_ENABLED=1); all state lives in a temporary"
echo "directory that is removed at the end."

bold "A local ingest endpoint: nattel serve"
"$NATTEL" serve --listen 127.0.0.1:0 --db "$tmp/demo.db" --quiet \
    </dev/null >"$tmp/serve.out" 2>"$tmp/serve.err" &
server=$!
url=""
i=0
while [ $i -lt 200 ]; do
    url=$(grep -o 'http://[^ ]*' "$tmp/serve.out" 2>/dev/null | head -n 1)
    [ -n "$url" ] && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.05
    i=$((i + 1))
done
[ -n "$url" ] || {
    cat "$tmp/serve.err" >&2
    die "nattel serve did not start"
}
export NAT_TELEMETRY_ENDPOINT="$url"
echo "listening: $url (database in a temporary directory)"

bold "natdemo, instrumented with the nattel hook (one event per run)"
demo() { # shows the command, runs it, says its exit status
    printf '$ natdemo %s\n' "$*"
    "$NATDEMO" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    sed 's/^/  /' "$tmp/out" "$tmp/err" | head -n 4
    echo "  (exit $rc)"
}
demo info list-components
demo --log-level info info list-components
demo info list-components --log-level warning
demo info list-channels
# A real duration: the workflow arrives through a pipe over 0.3 s, so the
# run takes that long (info commands answer at once: 0 ms).
printf '$ slow-writer | natdemo run -   # the workflow arrives over 0.3 s\n'
{
    printf 'workflow:\n'
    sleep 0.3
    printf '  llm: demo\n'
} | "$NATDEMO" run - >"$tmp/out" 2>"$tmp/err"
rc=$?
sed 's/^/  /' "$tmp/out" "$tmp/err" | head -n 4
echo "  (exit $rc)"
demo run "$tmp/no-such-workflow.yml"
demo frobnicate --secret-token=hunter2

# serve runs until interrupted: wait for its ready line, then Ctrl-C it.
printf '$ natdemo serve   # then Ctrl-C (SIGINT) 0.5 s later\n'
"$NATDEMO" serve </dev/null >"$tmp/serve-demo.out" 2>"$tmp/serve-demo.err" &
demo_pid=$!
i=0
while [ $i -lt 200 ] && ! grep -q ready "$tmp/serve-demo.out" 2>/dev/null; do
    sleep 0.05
    i=$((i + 1))
done
sleep 0.5 # it serves a while before the Ctrl-C: a duration of 0.5 s
kill -INT "$demo_pid"
wait "$demo_pid"
rc=$?
demo_pid=""
sed 's/^/  /' "$tmp/serve-demo.out"
echo "  (exit $rc)"

# Events sent so far, from the audit log (one JSON object a line, "events"
# its third key).
sent_events() {
    "$NATTEL" log --json |
        sed -n 's/^{"ts":"[^"]*","outcome":"sent","events":\([0-9]*\),.*/\1/p' |
        awk '{ n += $1 } END { print n + 0 }'
}
bold "Deliver the spool: nattel flush --wait"
"$NATTEL" flush --wait --json >"$tmp/flush.json" || die "nattel flush failed"
by_flush=$(sed -n 's/.*"sent":\([0-9]*\).*/\1/p' "$tmp/flush.json")
total=$(sent_events)
by_flusher=$((total - ${by_flush:-0}))
if [ "${by_flush:-0}" -eq 0 ]; then
    echo "all $total events were already delivered by the background flusher" \
        "each natdemo run starts; nattel flush --wait found nothing left to send"
else
    echo "$total events delivered: $by_flusher by the background flusher each" \
        "natdemo run starts, $by_flush by nattel flush --wait"
fi

bold "One envelope exactly as it was sent to the endpoint: nattel log -n 1"
"$NATTEL" log -n 1 | sed -n '2s/^    //p'

bold "What the endpoint received: nattel report"
"$NATTEL" report --db "$tmp/demo.db" || die "nattel report failed"
echo
echo "ran: 3 × info list-components, 1 × info list-channels, 1 × run (success)," \
    "1 × run (failure, FileNotFoundError), 1 × unknown command (failure," \
    "UsageError), 1 × serve (interrupted, SIGINT)"
echo "Durations: info answers at once (0 ms); the successful run took as long"
echo "as its pipe (0.3 s), the failed one none; serve ran 0.5 s until Ctrl-C."
echo "Nothing of what was typed after the command names left natdemo: the"
echo "path, 'frobnicate' and 'hunter2' appear in no envelope and nowhere in"
echo "the report."

bold "The same as a page: nattel report --html"
page="$BUILD_ABS/demo-report.html"
"$NATTEL" report --db "$tmp/demo.db" --html "$page" || die "nattel report --html failed"
echo "the usage dashboard, self-contained: $page"
echo "(while the demo's endpoint ran, it served the same page at ${url%%/v1*}/)"
