#!/usr/bin/env bash
# Benchmarks git-credential-gitlab-ci against what users run today, side by side, in one run.
#
#   bench/run.sh           full run (a few minutes): medians, ratios, budget verdicts
#   bench/run.sh --smoke   few iterations so the script cannot rot; never fails on timings
#
# Needs: GNU time (Debian package `time`), git, cargo. Timing is done by the interleaving harnesses in
# benches/ rather than hyperfine: Debian's hyperfine 1.15 cannot feed stdin without a shell, and its
# shell-startup correction is as uncertain as the differences measured here. Uses the static
# musl build when the x86_64-unknown-linux-musl target is installed (the binary users put in
# images), the host release build otherwise. docs/performance.md explains the numbers.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=""
[[ ${1:-} == --smoke ]] && smoke=--smoke
for tool in /usr/bin/time git cargo; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is needed (apt-get install -y time)" >&2; exit 1; }
done

if rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl; then
    cargo build --quiet --release --locked -p git-credential-gitlab-ci --target x86_64-unknown-linux-musl
    helper=$PWD/target/x86_64-unknown-linux-musl/release/git-credential-gitlab-ci
else
    cargo build --quiet --release --locked -p git-credential-gitlab-ci
    helper=$PWD/target/release/git-credential-gitlab-ci
fi

echo "## Machine"
echo
echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r), $(git --version)"
echo "helper: $helper"
echo

echo "## git credential fill (interleaved, medians)"
echo
cargo bench --quiet --locked --bench credential_fill -- $smoke "$helper" 2>/dev/null

echo
echo "## git clone through the helper vs token in the URL"
echo
cargo bench --quiet --locked --bench clone -- $smoke "$helper" 2>/dev/null

echo
echo "## Size and memory"
echo
size=$(stat -c %s "$helper")
request=$(mktemp)
trap 'rm -f "$request"' EXIT
printf 'protocol=https\nhost=gitlab.example.com\n\n' >"$request"
rss=$(CI_SERVER_URL=https://gitlab.example.com CI_JOB_TOKEN=glcbt-64_benchmarkToken0123456789 \
    /usr/bin/time -f %M "$helper" get <"$request" 2>&1 >/dev/null | tail -n 1)
budget() { if (($1)); then echo "within"; else echo "OVER"; fi; }
echo "| measurement | value | budget |"
echo "|---|---:|---|"
echo "| binary size | $size bytes ($((size / 1024)) KiB) | <= 640 KiB: $(budget "size <= 640 * 1024") |"
echo "| peak RSS, answering a get | $rss KiB | <= 1 MiB: $(budget "rss <= 1024") |"
