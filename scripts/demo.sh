#!/bin/sh
# `make demo`: the tool at work on the project's own sample documents.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 2
NATTEL="$(cd "$BUILD" && pwd)/nattel"

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }

step "The wire schema of nat_cli_command (first lines)" "nattel schema --event nat_cli_command | head -20"
"$NATTEL" schema --event nat_cli_command | head -20

step "A valid payload: an envelope and a bare event" "nattel validate examples/payload.jsonl"
"$NATTEL" validate "examples/payload.jsonl"
echo "exit status: $?"

step "Canonical wire JSON of the bare event, defaults filled (model mode)" \
    "echo '{\"command\":\"run\",\"task_status\":\"success\",\"pythonVersion\":\"undefined\"}' | nattel validate --model --canonical"
echo '{"command":"run","task_status":"success","pythonVersion":"undefined"}' | "$NATTEL" validate --model --canonical
echo "exit status: $?"

step "Broken documents: every problem, with its path" "nattel validate examples/broken.jsonl"
"$NATTEL" validate "examples/broken.jsonl"
echo "exit status: $? (1: some documents are invalid)"
exit 0
