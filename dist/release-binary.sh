#!/bin/sh
# Builds the release binary for one target the way every release does, and prints its path:
#   dist/release-binary.sh x86_64-unknown-linux-musl
# Used by dist/build.sh (the archives) and the Dockerfile (the scratch image), so both carry the
# same bytes from the same source and toolchain. Static (musl), stripped, linked by rust-lld
# (.cargo/config.toml); the source tree, CARGO_HOME and the target directory are remapped
# (--remap-path-prefix) so that no path of the building machine ends up in the binary.
#
# Builds go to $CARGO_TARGET_DIR, default target/dist-build: a directory of their own, because
# the remapping flags differ from a plain `cargo build` and would make the two rebuild each other.
set -eu
[ $# = 1 ] || { echo "usage: dist/release-binary.sh TARGET-TRIPLE" >&2; exit 2; }
triple=$1
name=git-credential-gitlab-ci
root=$(cd "$(dirname "$0")/.." && pwd)
absolute() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$root/$1" ;; esac; }
target_dir=$(absolute "${CARGO_TARGET_DIR:-target/dist-build}")
cargo_home=$(absolute "${CARGO_HOME:-$HOME/.cargo}")

if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx "$triple"; then
    echo "dist/release-binary.sh: missing target $triple: rustup target add $triple" >&2
    exit 1
fi

# Later prefixes win where they overlap (the target directory may sit inside the tree).
us=$(printf '\037')
CARGO_ENCODED_RUSTFLAGS="--remap-path-prefix=$root=/build/$name$us--remap-path-prefix=$cargo_home=/cargo$us--remap-path-prefix=$target_dir=/target"
export CARGO_ENCODED_RUSTFLAGS CARGO_TARGET_DIR="$target_dir"
(cd "$root" && cargo build --quiet --locked --release -p "$name" --target "$triple")
bin="$target_dir/$triple/release/$name"

# e_machine of the ELF file (bytes 18-19, little-endian): 62 x86-64, 183 AArch64.
case "$triple" in x86_64-*) want=62 ;; aarch64-*) want=183 ;; *) want= ;; esac
got=$(od -An -tu2 -j18 -N2 "$bin" | tr -d ' ')
if [ -n "$want" ] && [ "$got" != "$want" ]; then
    echo "dist/release-binary.sh: $bin has ELF machine $got, not $want" >&2
    exit 1
fi
printf '%s\n' "$bin"
