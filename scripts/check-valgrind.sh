#!/bin/sh
# Runs the tool's main paths under valgrind (memcheck) and fails on any
# memory error or any definite or indirect leak.
#
# usage: sh scripts/check-valgrind.sh [BUILD]     (default: build)
#
# Each case runs `BUILD/nattel ARGS` with its own input and expected exit
# status; valgrind reports with status 99 (not 1: `nattel validate` itself
# exits 1 on invalid input), and its log must also say "ERROR SUMMARY: 0".
# Logs: BUILD/valgrind/<case>.log. Exit 0 all clean, 1 some case failed,
# 2 no tool or no valgrind. The foreign schema of the reference data
# (tests/data/reference) is loaded too.
set -u

BUILD=${1:-build}
src=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "check-valgrind: no build directory '$1'" >&2; exit 2; }
tool=$BUILD/nattel
[ -x "$tool" ] || { echo "check-valgrind: $tool not found (run 'make build')" >&2; exit 2; }
command -v valgrind >/dev/null 2>&1 || {
    echo "check-valgrind: valgrind not found (Debian package valgrind)" >&2
    exit 2
}

out=$BUILD/valgrind
rm -rf "$out"
mkdir -p "$out/in" || exit 2

# ---------------------------------------------------------------- inputs
P1='{"nemoSource":"agent_toolkit","command":"run","subcommand":"undefined","taskStatus":"success","durationMs":1234,"exitCode":0,"errorClass":"undefined","pythonVersion":"3.11.7"}'
P2='{"nemoSource":"agent_toolkit","command":"info","subcommand":"list-components","taskStatus":"failure","durationMs":87,"exitCode":1,"errorClass":"ValueError","pythonVersion":"3.12.1"}'
HEAD='"browserType":"undefined","clientId":"184482118588404","clientType":"Native","clientVariant":"Release","clientVer":"1.7.0","cpuArchitecture":"x86_64","deviceGdprBehOptIn":"None","deviceGdprFuncOptIn":"None","deviceGdprTechOptIn":"None","deviceId":"undefined","deviceMake":"undefined","deviceModel":"undefined","deviceOS":"undefined","deviceOSVersion":"undefined","deviceType":"undefined","eventProtocol":"1.6","eventSchemaVer":"1.5","eventSysVer":"nat-telemetry/1.0","externalUserId":"undefined","gdprBehOptIn":"None","gdprFuncOptIn":"None","gdprTechOptIn":"None","idpId":"undefined","integrationId":"undefined","productName":"undefined","productVersion":"undefined","sentTs":"2026-05-06T17:00:09.999Z","sessionId":"0123456789abcdef0123456789abcdef","userId":"undefined"'
ENV="{$HEAD,\"events\":[{\"ts\":\"2026-05-06T17:00:05.000Z\",\"parameters\":$P1,\"name\":\"nat_cli_command\"},{\"ts\":\"2026-05-06T17:00:06.123Z\",\"parameters\":$P2,\"name\":\"nat_cli_command\"}]}"
printf '%s\n%s\n%s\n' "$P1" "$ENV" "$P2" >"$out/in/valid.jsonl"
{
    # every kind of problem, several per line
    echo '{"nemoSource":"nope","command":null,"taskStatus":"ok","durationMs":-2,"exitCode":"1","errorClass":"a b","pythonVersion":"3","hostname":"x"}'
    echo '{"command":"run","command":"run"}'
    echo '{"nemoSource":"agent_toolkit",'
    echo '[1, 2, 3]'
    printf '{"command":"\377"}\n'
    echo '{"command":"\ud800"}'
    echo "{$HEAD,\"events\":[]}"
    echo "{$HEAD,\"events\":[{\"ts\":\"yesterday\",\"parameters\":{},\"name\":\"unknown_event\"}],\"extra\":1}"
    python3 -c 'print("[" * 100 + "]" * 100)' 2>/dev/null || echo '[[[[]]]]'
    echo "$P1"
} >"$out/in/invalid.jsonl"
printf '%s\n' '{"command":"run","task_status":"success","python_version":"3.11.7"}' \
    '{"command":"serve","taskStatus":"interrupted","pythonVersion":"3.12.1","exitCode":130}' >"$out/in/model.jsonl"
schema=$src/fuzz/corpus/schema/small.json
printf '%s\n' '{"colour":"red","name":"x","count":3,"ratio":0.5,"flag":true,"tags":["a","b"]}' \
    '{"colour":"blue","name":1,"count":-1,"ratio":2,"flag":"yes","tags":[1],"more":0}' >"$out/in/foreign.jsonl"
printf '{"definitions":{"events":{"e":{"type":"object","properties":{"n":{"type":"tuple"}}}}}}' >"$out/in/bad-schema.json"

# ---------------------------------------------------------------- runner
failed=0
count=0
# vg NAME EXPECTED_STATUS STDIN ARGS...
vg() {
    name=$1 want=$2 input=$3
    shift 3
    count=$((count + 1))
    log=$out/$name.log
    valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
        --track-origins=yes --log-file="$log" \
        "$tool" "$@" <"$input" >"$out/$name.stdout" 2>"$out/$name.stderr"
    got=$?
    # --quiet leaves the log empty when there is nothing to say
    if [ $got -eq 99 ] || grep -q 'ERROR SUMMARY: [1-9]' "$log" || grep -Eq '(definitely|indirectly) lost: [1-9]' "$log"; then
        echo "check-valgrind: $name: MEMORY ERROR OR LEAK (nattel $*); see $log:"
        grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Mismatched|Syscall|Source and|Argument|.*(definitely|indirectly) lost|   (at|by) 0x)' "$log" |
            head -n 20 | sed 's/^/  | /'
        failed=$((failed + 1))
    elif [ "$got" -ne "$want" ]; then
        echo "check-valgrind: $name: exit status $got, expected $want (nattel $*)"
        head -n 3 "$out/$name.stderr" | sed 's/^/  | /'
        failed=$((failed + 1))
    else
        echo "check-valgrind: $name: clean (exit $got)"
    fi
}

none=/dev/null
vg version 0 $none --version
vg help 0 $none --help
vg no-command 2 $none
vg unknown-command 2 $none frobnicate
vg schema 0 $none schema
vg schema-event 0 $none schema --event nat_cli_command
vg schema-unknown-event 2 $none schema --event no_such_event
vg schema-help 0 $none schema --help
vg validate-valid 0 $none validate "$out/in/valid.jsonl"
vg validate-stdin 0 "$out/in/valid.jsonl" validate -
vg validate-invalid 1 $none validate "$out/in/invalid.jsonl"
vg validate-invalid-model 1 $none validate --model "$out/in/invalid.jsonl"
vg validate-model 0 $none validate --model "$out/in/model.jsonl"
vg validate-canonical 0 $none validate --canonical "$out/in/valid.jsonl" "$out/in/valid.jsonl"
vg validate-canonical-model 0 $none validate --model --canonical "$out/in/model.jsonl"
vg validate-canonical-invalid 1 $none validate --canonical "$out/in/invalid.jsonl"
vg validate-schema 1 $none validate --schema "$schema" --event fuzz_event --canonical "$out/in/foreign.jsonl"
vg validate-bad-schema 2 $none validate --schema "$out/in/bad-schema.json" "$out/in/valid.jsonl"
vg validate-missing-file 2 $none validate "$out/in/no-such-file.jsonl"
vg validate-unknown-event 2 $none validate --event no_such_event "$out/in/valid.jsonl"
vg validate-bad-option 2 $none validate --no-such-option
vg validate-guardrails-schema 0 "$out/in/valid.jsonl" validate \
    --schema "$src/tests/data/reference/guardrails_usage_event.schema.json" -

if [ $failed -ne 0 ]; then
    echo "check-valgrind: $failed of $count cases failed (logs in $out)" >&2
    exit 1
fi
echo "check-valgrind: $count cases, no memory error, no leak"
