#!/bin/sh
# The scratch image's build stage (Dockerfile): builds the release binary for a Docker
# architecture and lays out the image's whole file tree under OUT_DIR:
#   usr/local/bin/git-credential-gitlab-ci
#   usr/local/bin/docker-credential-gitlab-ci -> git-credential-gitlab-ci
#
#   dist/image-root.sh amd64|arm64 OUT_DIR
#
# A script rather than RUN lines so the same commands run, and are tested, without a Docker
# daemon (tests/scratch_image.rs). The binary comes from dist/release-binary.sh, as the release
# archives' do.
set -eu
[ $# = 2 ] || { echo "usage: dist/image-root.sh amd64|arm64 OUT_DIR" >&2; exit 2; }
case "$1" in
    amd64) triple=x86_64-unknown-linux-musl ;;
    arm64) triple=aarch64-unknown-linux-musl ;;
    *) echo "dist/image-root.sh: no release for the architecture '$1' (amd64, arm64)" >&2; exit 1 ;;
esac
out=$2
name=git-credential-gitlab-ci
umask 022
bin=$("$(dirname "$0")/release-binary.sh" "$triple")
mkdir -p "$out/usr/local/bin"
install -m 0755 "$bin" "$out/usr/local/bin/$name"
ln -sfn "$name" "$out/usr/local/bin/docker-credential-gitlab-ci"
