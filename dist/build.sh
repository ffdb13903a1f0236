#!/bin/sh
# Release artifacts, reproducibly: static, stripped musl builds for x86_64 and aarch64, each packed
# with the man page, the docker link, install.sh, LICENSE and README.md as
#   git-credential-gitlab-ci-<version>-<arch>-linux.tar.gz
# plus SHA256SUMS.
#
#   dist/build.sh [OUT_DIR]      default OUT_DIR: target/dist
#
# Needs: cargo with the two musl targets (rustup target add x86_64-unknown-linux-musl
# aarch64-unknown-linux-musl); GNU tar, gzip, sha256sum. No cross gcc: aarch64 links with
# rust-lld (.cargo/config.toml).
#
# Reproducible: the same commit gives the same bytes wherever it is built —
#   SOURCE_DATE_EPOCH  the last commit's time unless set: the tar mtimes and the man page's date;
#   paths              the source tree, CARGO_HOME and the target directory are remapped
#                      (--remap-path-prefix), so panic locations name /build, /cargo, /target;
#   archives           sorted entries, owner and group 0, fixed modes, gzip -n (no name, no time).
# dist/reproducible.sh builds twice, from two paths into two target directories, and compares.
#
# Builds go to $CARGO_TARGET_DIR, default target/dist-build: its own directory, because the
# remapping flags differ from a plain `cargo build` and would make the two rebuild each other.
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
cargo_home=$(absolute "${CARGO_HOME:-$HOME/.cargo}")

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null) \
        || die "not a git checkout: set SOURCE_DATE_EPOCH (seconds since 1970) for the archives"
fi
export SOURCE_DATE_EPOCH

pkgid=$(cargo pkgid --locked -p "$name")
version=${pkgid##*[#@]}
[ -n "$version" ] || die "no version in $pkgid"

if command -v rustup >/dev/null 2>&1; then
    installed=$(rustup target list --installed)
    for t in $targets; do
        printf '%s\n' "$installed" | grep -qx "$t" || die "missing target $t: rustup target add $t"
    done
fi

# Later prefixes win where they overlap (the target directory may sit inside the tree).
us=$(printf '\037')
CARGO_ENCODED_RUSTFLAGS="--remap-path-prefix=$root=/build/$name$us--remap-path-prefix=$cargo_home=/cargo$us--remap-path-prefix=$target_dir=/target"
export CARGO_ENCODED_RUSTFLAGS CARGO_TARGET_DIR="$target_dir"

# e_machine of an ELF file (bytes 18-19, little-endian): 62 x86-64, 183 AArch64.
elf_machine() { od -An -tu2 -j18 -N2 "$1" | tr -d ' '; }

stage="$target_dir/stage"
rm -rf "$stage"
mkdir -p "$stage" "$out"
rm -f "$out/$name-"*.tar.gz "$out/SHA256SUMS"

# The man page is the same for both: generated on the host, outside the shipped binaries.
# (xtask is a host tool: its build takes no remapping and no musl target.)
env -u CARGO_ENCODED_RUSTFLAGS cargo run --quiet --locked -p xtask -- man "$stage/man" >/dev/null

for t in $targets; do
    arch=${t%%-*}
    cargo build --quiet --locked --release -p "$name" --target "$t"
    bin="$target_dir/$t/release/$name"
    case "$arch" in x86_64) want=62 ;; aarch64) want=183 ;; *) die "unknown arch $arch" ;; esac
    [ "$(elf_machine "$bin")" = "$want" ] || die "$bin is not an $arch ELF file"

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
