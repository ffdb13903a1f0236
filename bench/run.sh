#!/usr/bin/env bash
# Benchmarks git-credential-gitlab-ci against what users run today, side by side, in one run.
#
#   bench/run.sh           full run (a few minutes): medians, ratios, budget verdicts
#   bench/run.sh --smoke   few iterations so the script cannot rot; never fails on timings
#
# Needs: GNU time (Debian package `time`), valgrind, git, cargo. Timing is done by the interleaving harnesses in
# benches/ rather than hyperfine: Debian's hyperfine 1.15 cannot feed stdin without a shell, and its
# shell-startup correction is as uncertain as the differences measured here. Uses the static
# musl build when the x86_64-unknown-linux-musl target is installed (the binary users put in
# images), the host release build otherwise, from cargo's target directory (CARGO_TARGET_DIR is
# honoured). docs/performance.md explains the numbers.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=""
[[ ${1:-} == --smoke ]] && smoke=--smoke
for tool in /usr/bin/time valgrind git cargo; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is needed (apt-get install -y time valgrind git)" >&2; exit 1; }
done

# Where cargo puts what it builds: CARGO_TARGET_DIR, build.target-dir, or ./target.
target_dir=$(cargo metadata --format-version 1 --no-deps --locked | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
[[ -n $target_dir ]] || { echo "bench: cannot find cargo's target directory" >&2; exit 1; }
if rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl; then
    cargo build --quiet --release --locked -p git-credential-gitlab-ci --target x86_64-unknown-linux-musl
    helper=$target_dir/x86_64-unknown-linux-musl/release/git-credential-gitlab-ci
else
    cargo build --quiet --release --locked -p git-credential-gitlab-ci
    helper=$target_dir/release/git-credential-gitlab-ci
fi

echo "## Machine"
echo
echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r), $(git --version)"
echo "helper: $helper"
echo

echo "## git credential fill (interleaved, medians)"
echo
cargo bench --quiet --locked --bench credential_fill -- $smoke "$helper"

echo
echo "## git clone through the helper vs token in the URL"
echo
cargo bench --quiet --locked --bench clone -- $smoke "$helper"

request=$(mktemp)
trap 'rm -f "$request"' EXIT
printf 'protocol=https\nhost=gitlab.example.com\n\n' >"$request"
token=glcbt-64_benchmarkToken0123456789

echo
echo "## Instructions (callgrind), an answered get and goauth"
echo
# Instructions executed by PROGRAM ARGS..., the request on stdin, in an environment holding only
# the job's server and token. Deterministic, unlike the timings: the same build gives the same
# count on any quiet or busy machine.
instructions() {
    env -i CI_SERVER_URL=https://gitlab.example.com CI_JOB_TOKEN=$token \
        "$(command -v valgrind)" --tool=callgrind --callgrind-out-file=/dev/null "$@" \
        <"$request" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
ours=$(instructions "$helper" get)
# Go runs GOAUTH's command before every HTTPS fetch: it takes the same small command.
goauth=$(instructions "$helper" goauth)
floor=$(instructions /bin/true)
[[ -n $ours && -n $goauth && -n $floor ]] || { echo "bench: callgrind gave no count" >&2; exit 1; }
budget() { if (($1)); then echo "within"; else echo "OVER"; fi; }
echo "| program | instructions | budget |"
echo "|---|---:|---|"
echo "| git-credential-gitlab-ci get | $ours | <= 250,000: $(budget "ours <= 250000") |"
echo "| git-credential-gitlab-ci goauth | $goauth | <= 250,000: $(budget "goauth <= 250000") |"
echo "| /bin/true | $floor | |"
echo "| ratio | $(awk -v a="$ours" -v b="$floor" 'BEGIN { printf "%.2f", a / b }') | |"

echo
echo "## Size and memory"
echo
size=$(stat -c %s "$helper")
rss=$(CI_SERVER_URL=https://gitlab.example.com CI_JOB_TOKEN=$token \
    /usr/bin/time -f %M "$helper" get <"$request" 2>&1 >/dev/null | tail -n 1)
echo "| measurement | value | budget |"
echo "|---|---:|---|"
echo "| binary size | $size bytes ($((size / 1024)) KiB) | <= 640 KiB: $(budget "size <= 640 * 1024") |"
echo "| peak RSS, answering a get | $rss KiB | <= 1 MiB: $(budget "rss <= 1024") |"
