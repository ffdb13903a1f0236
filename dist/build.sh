#!/bin/sh
# Release artifacts, reproducibly: static, stripped musl builds for x86_64 and aarch64, each packed
# with the man page, the docker link, install.sh, LICENSE and README.md as
#   git-credential-gitlab-ci-<version>-<arch>-linux.tar.gz
# plus SHA256SUMS.
#
#   dist/build.sh [OUT_DIR]      default OUT_DIR: target/dist
#
# Needs: cargo with the two musl targets (rustup target add x86_64-unknown-linux-musl
# aarch64-unknown-linux-musl); GNU tar, gzip, sha256sum. No C cross toolchain: both link with
# rust-lld (.cargo/config.toml). The binaries come from dist/release-binary.sh, as the scratch
# image's do (Dockerfile).
#
# Reproducible: the same commit gives the same bytes wherever it is built —
#   SOURCE_DATE_EPOCH  the last commit's time unless set: the tar mtimes and the man page's date;
#   paths              the source tree, CARGO_HOME and the target directory are remapped
#                      (dist/release-binary.sh), so no path of the building machine is in them;
#   archives           sorted entries, owner and group 0, fixed modes, gzip -n (no name, no time).
# dist/reproducible.sh builds twice, from two paths into two target directories, and compares.
set -eu
umask 022
export LC_ALL=C TZ=UTC

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
name=git-credential-gitlab-ci
targets="x86_64-unknown-linux-musl aarch64-unknown-linux-musl"

die() { echo "dist/build.sh: $*" >&2; exit 1; }
absolute() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$root/$1" ;; esac; }

out=$(absolute "${1:-target/dist}")
target_dir=$(absolute "${CARGO_TARGET_DIR:-target/dist-build}")

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null) \
        || die "not a git checkout: set SOURCE_DATE_EPOCH (seconds since 1970) for the archives"
fi
export SOURCE_DATE_EPOCH CARGO_TARGET_DIR="$target_dir"

pkgid=$(cargo pkgid --locked -p "$name")
version=${pkgid##*[#@]}
[ -n "$version" ] || die "no version in $pkgid"

stage="$target_dir/stage"
rm -rf "$stage"
mkdir -p "$stage" "$out"
rm -f "$out/$name-"*.tar.gz "$out/SHA256SUMS"

# The man page is the same for both: generated on the host by the xtask, outside the binaries.
cargo run --quiet --locked -p xtask -- man "$stage/man" >/dev/null

for t in $targets; do
    arch=${t%%-*}
    bin=$("$root/dist/release-binary.sh" "$t")

    dir="$name-$version-$arch-linux"
    mkdir "$stage/$dir"
    install -m 0755 "$bin" "$stage/$dir/$name"
    install -m 0755 install.sh "$stage/$dir/install.sh"
    install -m 0644 "$stage/man/$name.1" "$stage/$dir/$name.1"
    install -m 0644 LICENSE README.md "$stage/$dir/"
    ln -s "$name" "$stage/$dir/docker-credential-gitlab-ci"

    tar --create --format=gnu --sort=name --no-acls --no-xattrs --no-selinux \
        --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
        -C "$stage" "$dir" | gzip -n -9 >"$out/$dir.tar.gz"
    size=$(wc -c <"$bin" | tr -d ' ')
    echo "$out/$dir.tar.gz ($arch binary: $size bytes)"
done
(cd "$out" && sha256sum -- "$name-$version-"*-linux.tar.gz >SHA256SUMS)
cat "$out/SHA256SUMS"
