#!/usr/bin/env bash
# Runs the fuzz targets one after another, one job each (the machine is shared).
#
#   fuzz/run.sh                  # every target, 10 million executions each
#   fuzz/run.sh request 1000000  # one target, a given number of executions
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and, on a stable toolchain, RUSTC_BOOTSTRAP=1
# (set here) for the sanitizer flags cargo-fuzz passes. Corpora go to fuzz/corpus/<target>,
# crashes to fuzz/artifacts/<target>; both are git-ignored. Logs go to fuzz/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
targets=(${1:-request host})
runs=${2:-10000000}
mkdir -p logs
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    dict=()
    [ -f "dict/$target.dict" ] && dict=(-dict="dict/$target.dict")
    [ "$target" = host ] && dict=(-dict=dict/request.dict)
    echo "== $target: $runs executions"
    cargo fuzz run "$target" "corpus/$target" seeds/"$target" -- \
        -runs="$runs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 "${dict[@]}" \
        -print_final_stats=1 2>&1 | tee "logs/$target.log" | grep -E 'stat::|ERROR|panicked' || true
    grep -E '^#[0-9]+[[:space:]]+DONE' "logs/$target.log" | tail -1
    if grep -q '^==.*ERROR\|panicked' "logs/$target.log"; then
        echo "!! $target found a failure; see fuzz/logs/$target.log and fuzz/artifacts/$target" >&2
        exit 1
    fi
done
