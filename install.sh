#!/bin/sh
# Build, install and register git-credential-gitlab-ci.
#
#   ./install.sh                 build a release binary, install it, register it with git
#   ./install.sh --prefix DIR    install into DIR/bin (default /usr/local as root, else ~/.local)
#   ./install.sh --no-configure  install only; do not touch git configuration
#   ./install.sh --static        install the static musl build (runs in any image); this is the
#                                default when the x86_64-unknown-linux-musl target is installed
#   ./install.sh --no-static     install the ordinary (glibc) build even then
#   ./install.sh --global        register in $HOME/.gitconfig even as root (--system: the reverse)
#   ./install.sh --uninstall     remove the registration, the binary and the docker link
#
# Next to the binary, a docker-credential-gitlab-ci link selects Docker's credential-helper
# protocol (see docs/docker.md).
#
# Registration runs `git-credential-gitlab-ci configure`: the helper by absolute path as the
# *last* credential.helper, plus an empty per-server reset before it when CI_SERVER_URL is known —
# in the system git config as root (every git on this machine, and /etc/gitconfig for libgit2),
# otherwise in $HOME/.gitconfig (the global file libgit2, and so cargo, also reads). Running it
# twice leaves one entry; --uninstall runs `unconfigure`.
set -eu

name=git-credential-gitlab-ci
here=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" = 0 ]; then prefix=/usr/local; else prefix="$HOME/.local"; fi
configure=yes
action=install
if [ "$(id -u)" = 0 ]; then scope=--system; else scope=--global; fi

static=auto
musl=x86_64-unknown-linux-musl

usage() { awk 'NR == 1 { next } /^#/ { print; next } { exit }' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "install.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift ;;
        --prefix=*) prefix=${1#--prefix=} ;;
        --no-configure) configure=no ;;
        --static) static=yes ;;
        --no-static) static=no ;;
        --uninstall) action=uninstall ;;
        --global|--system) scope=$1 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
done

bindir="$prefix/bin"
target="$bindir/$name"
docker_link="$bindir/docker-credential-gitlab-ci"

# Registration is the helper's own `configure` (see `git-credential-gitlab-ci configure --help`):
# as root the system files of every git found and /etc/gitconfig (libgit2), else $HOME/.gitconfig
# (and the GIT_CONFIG_GLOBAL file when set). It removes an earlier registration first, so running
# this twice leaves one entry.

# Exact-match pattern for git config's value regex (only for uninstalling without the binary).
value_pattern() { printf '^%s$' "$(printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g')"; }

unregister() {
    if [ -x "$target" ]; then
        "$target" unconfigure "$scope"
    elif command -v git >/dev/null 2>&1; then
        # The binary is gone already: remove its plain registration by hand.
        for file in /etc/gitconfig /usr/local/etc/gitconfig "$HOME/.gitconfig"; do
            [ -w "$file" ] || continue
            git config --file "$file" --unset-all credential.helper "$(value_pattern "$target")" 2>/dev/null || true
        done
    fi
}

register() {
    "$target" configure "$scope"
}

if [ "$action" = uninstall ]; then
    unregister
    # The docker link only when it is ours (points at the helper).
    if [ -L "$docker_link" ] && [ "$(readlink "$docker_link")" = "$name" ]; then
        rm -f "$docker_link"
    fi
    rm -f "$target"
    echo "removed $target, its docker link and its registration"
    exit 0
fi

command -v cargo >/dev/null 2>&1 || die "cargo is needed to build; install Rust from your distribution or rustup"
target_dir=${CARGO_TARGET_DIR:-$here/target}
case "$target_dir" in /*) ;; *) target_dir="$here/$target_dir" ;; esac
if [ "$static" = auto ]; then
    if command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx "$musl"; then
        static=yes
    else
        static=no
    fi
fi
if [ "$static" = yes ]; then
    (cd "$here" && cargo build --release --locked --quiet --target "$musl") \
        || die "the static build failed; install the target with: rustup target add $musl (or use --no-static)"
    built="$target_dir/$musl/release/$name"
else
    (cd "$here" && cargo build --release --locked --quiet)
    built="$target_dir/release/$name"
fi
mkdir -p "$bindir"
install -m 0755 "$built" "$target"
echo "installed $target ($("$target" --version)$([ "$static" = yes ] && echo ", static"))"
# A relative link, so the pair can be copied into an image together.
if [ -e "$docker_link" ] && ! [ -L "$docker_link" ]; then
    echo "note: $docker_link exists and is not a link; left alone"
else
    ln -sfn "$name" "$docker_link"
    echo "linked $docker_link -> $name (Docker's credential-helper protocol)"
fi

if [ "$configure" = yes ]; then
    command -v git >/dev/null 2>&1 || die "git is not installed; rerun with --no-configure or install git"
    register
fi

case ":$PATH:" in
    *":$bindir:"*) ;;
    *) echo "note: $bindir is not on PATH; git uses the absolute path, but add it to PATH to run $name yourself" ;;
esac
cat <<EOF

Check it (in a GitLab job, or with CI_SERVER_URL and CI_JOB_TOKEN set):
  printf 'protocol=https\nhost=%s\n' "\${CI_SERVER_HOST:-gitlab.example.com}" | git credential fill
EOF
