#!/bin/sh
# `make uninstall`: removes every file the last `make install` of BUILD
# wrote (BUILD/install_manifest.txt, written by cmake --install), then
# the directories that install created (BUILD/install_created_dirs.txt,
# written by cmake/record_dirs.cmake), deepest first, when empty.
# Usage: cmake/uninstall.sh BUILD
set -eu
build=${1:?usage: uninstall.sh BUILD}
manifest="$build/install_manifest.txt"
if [ ! -f "$manifest" ]; then
    echo "uninstall: $manifest: no such file (run make install first, with the same BUILD)" >&2
    exit 1
fi
n=0
while IFS= read -r f || [ -n "$f" ]; do # the last line has no newline
    [ -n "$f" ] || continue
    if [ -e "$f" ] || [ -L "$f" ]; then
        rm -f "$f"
        n=$((n + 1))
    fi
done <"$manifest"
dirs="$build/install_created_dirs.txt"
if [ -f "$dirs" ]; then
    # deepest first: a parent is empty only once its children are gone
    awk 'NF { print length($0) "\t" $0 }' "$dirs" | sort -rn | cut -f2- |
        while IFS= read -r d; do
            rmdir "$d" 2>/dev/null || true
        done
    rm -f "$dirs"
fi
echo "uninstall: removed $n files listed in $manifest"
