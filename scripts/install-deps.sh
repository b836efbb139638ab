#!/bin/sh
# Installs the Debian packages the build and the tests need, only when some
# are missing: `apt-get update` once, then one `apt-get install`.
# Usage: scripts/install-deps.sh [extra-package...]
# (bench/run.sh, i.e. `make bench`, passes libsimdjson-dev and g++: simdjson
# is the benchmark's floor and nothing else needs it. abigail-tools is the
# ABI check's (abidw, abidiff); g++ builds the C++ header test.)
set -eu

pkgs="cmake make gcc pkg-config libcurl4-openssl-dev chromium \
libmicrohttpd-dev libsqlite3-dev sqlite3 libcmocka-dev libjansson-dev \
curl python3 abigail-tools g++ postgresql libpq-dev wrk python3-starlette \
python3-uvicorn $*"

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
# The dashboard's browser tests drive chromium with node (npm fetches
# playwright-core into the build tree); a node from elsewhere will do.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    missing="$missing nodejs npm"
fi
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: missing packages:$missing, and no apt-get to install them" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "install-deps: missing packages:$missing; run as root or install sudo" >&2
        exit 1
    }
    sudo="sudo"
fi
echo "install-deps: installing$missing" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null

