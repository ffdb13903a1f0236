#!/usr/bin/env bash
# Proves dist/build.sh reproducible: builds the release twice and fails unless both give the same
# bytes. The second build is a real one: from a copy of the source tree at another path, into a
# fresh, empty target directory, with CARGO_HOME elsewhere (a copy of the registry, so nothing
# is downloaded): nothing is reused and every remapped path differs.
#
#   dist/reproducible.sh [OUT_DIR]    keeps the first build's artifacts in OUT_DIR
#                                     (default target/dist)
#
# What it does not vary: the toolchain and the machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${1:-target/dist}
work=$(mktemp -d "${TMPDIR:-/tmp}/reproducible-XXXXXX")
trap 'rm -rf "$work"' EXIT

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}

seconds() { date +%s; }
start=$(seconds)
dist/build.sh "$out" >/dev/null
first=$(($(seconds) - start))

# The tree as cargo sees it: tracked and untracked-but-not-ignored files, as they are now.
mkdir "$work/source-tree-copy"
git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf - | tar -xf - -C "$work/source-tree-copy"
cargo_home=${CARGO_HOME:-$HOME/.cargo}
mkdir "$work/cargo-home"
cp -a "$cargo_home/registry" "$work/cargo-home/"
start=$(seconds)
CARGO_HOME="$work/cargo-home" CARGO_TARGET_DIR="$work/target" \
    "$work/source-tree-copy/dist/build.sh" "$work/second" >/dev/null
second=$(($(seconds) - start))

status=0
for f in "$out"/SHA256SUMS "$out"/*.tar.gz; do
    if ! cmp -s "$f" "$work/second/${f##*/}"; then
        echo "dist/reproducible.sh: ${f##*/} differs between the two builds" >&2
        status=1
    fi
done
[ "$(cd "$work/second" && find . | sort)" = "$(cd "$out" && find . | sort)" ] || {
    echo "dist/reproducible.sh: the two builds made different files" >&2
    status=1
}
echo "first build ($root, ${first}s):"
sed 's/^/  /' "$out/SHA256SUMS"
echo "second build ($work/source-tree-copy, fresh target dir and CARGO_HOME, ${second}s):"
sed 's/^/  /' "$work/second/SHA256SUMS"
[ "$status" = 0 ] && echo "identical: SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH"
exit "$status"
