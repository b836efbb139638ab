#!/bin/sh
# The ABI check of libnattel.so (docs/design.md, "The ABI promise"), with
# libabigail (Debian's abigail-tools).
#
#   scripts/check-abi.sh dump LIB HEADERS_DIR OUT.xml
#       writes LIB's ABI (abidw) as seen through the public headers: the
#       baseline, `make abi-baseline` (never edited by hand).
#   scripts/check-abi.sh check LIB HEADERS_DIR BASELINE.xml
#       compares LIB with BASELINE (abidiff). Exit 0: the same ABI, or one
#       that only grew (added functions or variables), or the soname moved
#       (an incompatible release: make abi-baseline, then commit). Exit 1:
#       an incompatible change under the same soname (abidiff's
#       ABI_INCOMPATIBLE_CHANGE bit: a removed function or variable), or a
#       changed function or variable (a type it reaches changed: review it;
#       abidiff 2.2 reports those as "ABI change", not incompatible).
#       Exit 2: the tools failed, or usage.
set -eu
usage() {
    echo "usage: check-abi.sh dump|check LIB HEADERS_DIR FILE.xml" >&2
    exit 2
}
[ $# -eq 4 ] || usage
mode=$1 lib=$2 headers=$3 xml=$4
for tool in abidw abidiff; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "check-abi: $tool not found (Debian package abigail-tools; scripts/install-deps.sh abigail-tools)" >&2
        exit 2
    }
done
[ -f "$lib" ] || { echo "check-abi: $lib: no such file" >&2; exit 2; }

# Paths, locations and the architecture stay out of the XML, so the
# baseline is the same whoever builds it where.
dump() {
    abidw --headers-dir "$headers" --drop-private-types --no-show-locs \
        --no-corpus-path --no-comp-dir-path --type-id-style hash \
        --out-file "$2" "$1"
}

soname_of_lib() {
    LC_ALL=C readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p'
}

case $mode in
dump)
    dump "$lib" "$xml"
    echo "check-abi: wrote $xml ($(soname_of_lib "$lib"))"
    exit 0
    ;;
check) ;;
*) usage ;;
esac

[ -f "$xml" ] || { echo "check-abi: baseline $xml: no such file (make abi-baseline)" >&2; exit 2; }
new_soname=$(soname_of_lib "$lib")
old_soname=$(sed -n "s/.*<abi-corpus [^>]*soname='\([^']*\)'.*/\1/p" "$xml" | head -n 1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dump "$lib" "$tmp/new.xml"
set +e
# abi/nattel.abignore beside the baseline: the changes the promise allows
# (a size-versioned struct grown at its end).
suppr=$(dirname "$xml")/nattel.abignore
if [ -f "$suppr" ]; then
    abidiff --suppressions "$suppr" "$xml" "$tmp/new.xml" >"$tmp/report" 2>&1
else
    abidiff "$xml" "$tmp/new.xml" >"$tmp/report" 2>&1
fi
rc=$?
set -e
if [ $((rc & 3)) -ne 0 ]; then
    cat "$tmp/report" >&2
    echo "check-abi: abidiff failed (exit $rc)" >&2
    exit 2
fi
if [ $rc -eq 0 ]; then
    echo "check-abi: $new_soname: the ABI is the baseline's"
    exit 0
fi
cat "$tmp/report"
if [ "$new_soname" != "$old_soname" ]; then
    echo "check-abi: the soname moved ($old_soname -> $new_soname): incompatible changes allowed; run make abi-baseline and commit it"
    exit 0
fi
# "Functions changes summary: 1 Removed, 2 Changed, 3 Added functions"
changed=$(sed -n 's/.*changes summary: [0-9]* Removed[^,]*, \([0-9]*\) Changed.*/\1/p' "$tmp/report" |
    awk '{ n += $1 } END { print n + 0 }')
if [ $((rc & 8)) -ne 0 ] || [ "$changed" -ne 0 ]; then
    echo "check-abi: FAIL: an incompatible ABI change under the same soname $new_soname (above); within 1.x the ABI only grows (docs/design.md)" >&2
    exit 1
fi
echo "check-abi: $new_soname: the ABI only grew (additions above): compatible; make abi-baseline records them"
exit 0
