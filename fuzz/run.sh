#!/usr/bin/env bash
# Runs the fuzz targets one after another, one job each (the machine is shared).
#
#   fuzz/run.sh                      # every target, 10 million executions each
#   fuzz/run.sh request 1000000      # one target, a given number of executions
#   FUZZ_SANITIZER=address fuzz/run.sh   # with AddressSanitizer (about 3x slower)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and, on a stable toolchain, RUSTC_BOOTSTRAP=1
# (set here) for the flags cargo-fuzz passes. The default is no sanitizer: the crate has no
# unsafe code, and libFuzzer still reports panics, timeouts and memory blow-ups. Targets are
# built like the shipped binary, without debug assertions (-O), but with overflow checks
# (fuzz/Cargo.toml): the idna crate that url uses has debug assertions that untrusted url=
# hosts reach (e.g. punycode labels decoding to bidi text) and that release builds do not
# have; FUZZ_DEBUG_ASSERTIONS=1 builds with them. Corpora go to
# fuzz/corpus/<target>, crashes to fuzz/artifacts/<target>, logs to fuzz/logs/<target>.log;
# all three are git-ignored.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
read -r -a targets <<< "${1:-request host docker}"
runs=${2:-10000000}
sanitizer=${FUZZ_SANITIZER:-none}
mode=(-O)
[ -n "${FUZZ_DEBUG_ASSERTIONS:-}" ] && mode=(-a)
mkdir -p logs
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    dict=(-dict=dict/request.dict)
    [ -f "dict/$target.dict" ] && dict=(-dict="dict/$target.dict")
    max_len=1024 # long enough for any request shape; the line bounds are tested in tests/
    [ "$target" = docker ] && max_len=4200 # past docker::MAX_GET_BYTES
    echo "== $target: $runs executions, sanitizer $sanitizer, ${mode[*]}"
    cargo fuzz run "${mode[@]}" --sanitizer "$sanitizer" "$target" "corpus/$target" "seeds/$target" -- \
        -runs="$runs" -max_len=$max_len -timeout=10 -rss_limit_mb=2048 "${dict[@]}" \
        -print_final_stats=1 > "logs/$target.log" 2>&1 || true
    grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|stat::' "logs/$target.log" || true
    if grep -qE '^==[0-9]+== ?ERROR|panicked|deadly signal|Test unit written' "logs/$target.log"; then
        echo "!! $target found a failure; see fuzz/logs/$target.log and fuzz/artifacts/$target" >&2
        exit 1
    fi
done
