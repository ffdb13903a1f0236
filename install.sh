#!/bin/sh
# Install and register git-credential-gitlab-ci, built from source or prebuilt.
#
#   ./install.sh                 in a source checkout: build a release binary with cargo; in an
#                                unpacked release archive: the binary next to this script (no
#                                Rust toolchain needed). Installs it and its man page, links
#                                docker-credential-gitlab-ci to it, registers it with git.
#   ./install.sh --binary FILE   install this prebuilt binary instead (no cargo); its man page
#                                too when git-credential-gitlab-ci.1 lies next to it
#   ./install.sh --tarball FILE  install from a release archive (.tar.gz), checked against the
#                                SHA256SUMS file next to it when there is one (no cargo)
#   ./install.sh --prefix DIR    install into DIR/bin and DIR/share/man/man1 (default /usr/local
#                                as root, else ~/.local)
#   ./install.sh --no-configure  install only; do not touch git configuration
#   ./install.sh --global        register in $HOME/.gitconfig even as root (--system: the reverse)
#   ./install.sh --keyring-link DIR
#                                also link DIR/keyring to the helper, for pip's and uv's
#                                --keyring-provider subprocess (they run `keyring` from PATH).
#                                Never done by default; an existing keyring that is not ours is
#                                never replaced
#   ./install.sh --static        (source builds) install the static musl build; the default when
#                                the x86_64-unknown-linux-musl target is installed
#   ./install.sh --no-static     (source builds) the ordinary (glibc) build even then
#   ./install.sh --uninstall     remove the registration, the binary, the man page and the links
#                                that point at it (with --keyring-link DIR, DIR/keyring too)
#
# Registration runs `git-credential-gitlab-ci configure`: the helper by absolute path as the
# *last* credential.helper, plus an empty per-server reset before it when CI_SERVER_URL is known —
# in the system git config as root (every git on this machine, and /etc/gitconfig for libgit2),
# otherwise in $HOME/.gitconfig (the global file libgit2, and so cargo, also reads). Running it
# twice leaves one entry. --uninstall runs `unconfigure` — or, when the binary is gone already,
# removes the same entries by hand — and removes a git config file that is left empty, so the
# machine is as it was before.
set -eu

name="git-credential-gitlab-ci"
here=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" = 0 ]; then prefix=/usr/local; else prefix="$HOME/.local"; fi
configure=yes
action=install
if [ "$(id -u)" = 0 ]; then scope=--system; else scope=--global; fi
binary=
tarball=
keyring_dir=

static=auto
musl=x86_64-unknown-linux-musl

usage() { awk 'NR == 1 { next } /^#/ { print; next } { exit }' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "install.sh: $*" >&2; exit 1; }
needs_value() { [ "$2" -ge 2 ] || die "$1 needs a value"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) needs_value "$1" $#; prefix=$2; shift ;;
        --prefix=*) prefix=${1#--prefix=} ;;
        --binary) needs_value "$1" $#; binary=$2; shift ;;
        --binary=*) binary=${1#--binary=} ;;
        --tarball) needs_value "$1" $#; tarball=$2; shift ;;
        --tarball=*) tarball=${1#--tarball=} ;;
        --keyring-link) needs_value "$1" $#; keyring_dir=$2; shift ;;
        --keyring-link=*) keyring_dir=${1#--keyring-link=} ;;
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
[ -z "$binary" ] || [ -z "$tarball" ] || die "--binary and --tarball exclude each other"

bindir="$prefix/bin"
mandir="$prefix/share/man/man1"
target="$bindir/$name"
docker_link="$bindir/docker-credential-gitlab-ci"
work=
trap '[ -z "$work" ] || rm -rf "$work"' EXIT
workdir() { [ -n "$work" ] || work=$(mktemp -d "${TMPDIR:-/tmp}/install-$name-XXXXXX"); }

# --- git configuration ---------------------------------------------------------------------

# The files `configure $scope` writes, one a line (the same list the helper computes).
scope_files() {
    if [ "$scope" = --system ]; then
        {
            for git in "$(command -v git 2>/dev/null || true)" /usr/bin/git /usr/local/bin/git; do
                if [ -z "$git" ] || ! [ -x "$git" ]; then continue; fi
                "$git" var GIT_CONFIG_SYSTEM 2>/dev/null || echo /etc/gitconfig
            done
            echo /etc/gitconfig
        } | awk 'NF && !seen[$0]++'
    else
        echo "$HOME/.gitconfig"
        [ -z "${GIT_CONFIG_GLOBAL:-}" ] || [ "$GIT_CONFIG_GLOBAL" = "$HOME/.gitconfig" ] \
            || echo "$GIT_CONFIG_GLOBAL"
    fi
}

# Exact-match pattern for git config's value regex.
value_pattern() { printf '^%s$' "$(printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g')"; }

# Does the credential.helper value run git-credential-gitlab-ci (by any path, any options)?
is_ours() {
    program=${1#!}
    case "$program" in
        \'*) program=${program#\'}; program=${program%%\'*} ;;
        \"*) program=${program#\"}; program=${program%%\"*} ;;
        *) program=${program%% *} ;;
    esac
    [ "$program" = gitlab-ci ] && [ "${1#!}" = "$1" ] && return 0
    [ "${program##*/}" = "$name" ]
}

unset_value() { git config --file "$1" --unset-all "$2" "$(value_pattern "$3")" || [ $? = 5 ]; }

# What `unconfigure` removes, by hand, for when the binary is gone: every credential.helper
# that runs us; in each credential.<url> section that has us, our helper and the empty reset;
# the insteadOf rewrites configure --rewrite-ssh adds to such a server's https base.
unconfigure_by_hand() {
    file=$1
    [ -f "$file" ] || return 0
    entries=$(git config --file "$file" --get-regexp '^credential\..*helper$' 2>/dev/null || true)
    urls=
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        key=${line%% *}
        case "$line" in *" "*) value=${line#* } ;; *) continue ;; esac
        is_ours "$value" || continue
        case "$key" in
            credential.helper) unset_value "$file" "$key" "$value" ;;
            credential.*.helper) url=${key#credential.}; urls="$urls ${url%.helper}" ;;
        esac
    done <<EOF
$entries
EOF
    for url in $urls; do
        key="credential.$url.helper"
        values=$(git config --file "$file" --get-all "$key" 2>/dev/null || true)
        while IFS= read -r value; do
            if [ -z "$value" ] || is_ours "$value"; then unset_value "$file" "$key" "$value"; fi
        done <<EOF
$values
EOF
        rewrites=$(git config --file "$file" --get-regexp '^url\..*\.insteadof$' 2>/dev/null || true)
        while IFS= read -r line; do
            [ -n "$line" ] || continue
            key=${line%% *} value=${line#* }
            base=${key#url.} base=${base%.insteadof}
            case "$base" in "$url"/*) ;; *) continue ;; esac
            case "$value" in git@*:|ssh://git@*/) unset_value "$file" "$key" "$value" ;; esac
        done <<EOF
$rewrites
EOF
    done
    echo "unconfigured $file (by hand: the helper binary is gone)"
}

unregister() {
    command -v git >/dev/null 2>&1 || return 0
    files=$(scope_files)
    if [ -x "$target" ] && "$target" --version >/dev/null 2>&1; then
        "$target" unconfigure "$scope"
    else
        printf '%s\n' "$files" | while IFS= read -r file; do unconfigure_by_hand "$file"; done
    fi
    # configure created the file it wrote when there was none; git leaves it empty once our
    # entries are gone. An empty git config file means nothing, so it goes too.
    printf '%s\n' "$files" | while IFS= read -r file; do
        if [ -f "$file" ] && ! [ -L "$file" ] && ! [ -s "$file" ]; then
            rm -f "$file" && echo "removed $file (empty)"
        fi
    done
}

# --- links ---------------------------------------------------------------------------------

# Is the symlink $1 one of ours (pointing at $target, or at $name in the same directory)?
link_is_ours() { [ -L "$1" ] && case "$(readlink "$1")" in "$target"|"$name") true ;; *) false ;; esac; }

keyring_link() { printf '%s/keyring\n' "${keyring_dir%/}"; }

# The keyring link is checked before anything is installed: never replace what is not ours.
if [ -n "$keyring_dir" ] && [ "$action" = install ]; then
    link=$(keyring_link)
    if { [ -e "$link" ] || [ -L "$link" ]; } && ! link_is_ours "$link"; then
        die "$link exists and is not a link to $target; left alone (is it a real keyring?)"
    fi
fi

if [ "$action" = uninstall ]; then
    unregister
    for link in "$docker_link" "$bindir/keyring" ${keyring_dir:+"$(keyring_link)"}; do
        if link_is_ours "$link"; then rm -f "$link" && echo "removed $link"; fi
    done
    rm -f "$target" "$mandir/$name.1"
    # The man1 directory when install made it and nothing else is in it.
    rmdir "$mandir" 2>/dev/null || true
    echo "removed $target, its man page and its registration"
    exit 0
fi

# --- what to install -----------------------------------------------------------------------

man_page=
if [ -n "$tarball" ]; then
    [ -f "$tarball" ] || die "$tarball: no such file"
    sums="$(dirname "$tarball")/SHA256SUMS"
    if [ -f "$sums" ]; then
        base=$(basename "$tarball")
        line=$(awk -v f="$base" '$2 == f || $2 == "*" f' "$sums")
        [ -n "$line" ] || die "$sums has no line for $base"
        (cd "$(dirname "$tarball")" && printf '%s\n' "$line" | sha256sum -c --quiet -) \
            || die "$tarball does not match $sums"
        echo "verified $tarball against $sums"
    else
        echo "note: no SHA256SUMS next to $tarball; not verified"
    fi
    workdir
    tar -xzf "$tarball" -C "$work"
    binary=
    for found in "$work"/*/"$name"; do [ -f "$found" ] && binary=$found; done
    [ -n "$binary" ] || die "$tarball holds no $name"
elif [ -z "$binary" ] && ! [ -f "$here/Cargo.toml" ] && [ -f "$here/$name" ]; then
    binary="$here/$name" # an unpacked release archive
fi

if [ -n "$binary" ]; then
    [ -f "$binary" ] || die "$binary: no such file"
    "$binary" --version >/dev/null 2>&1 \
        || die "$binary does not run here ($(uname -m)); download the archive for this machine"
    built=$binary
    [ ! -f "$(dirname "$binary")/$name.1" ] || man_page="$(dirname "$binary")/$name.1"
    kind=prebuilt
else
    command -v cargo >/dev/null 2>&1 \
        || die "cargo is needed to build from source; install Rust, or install a release archive: ./install.sh --tarball FILE (or --binary FILE)"
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
        (cd "$here" && cargo build --release --locked --quiet -p "$name" --target "$musl") \
            || die "the static build failed; install the target with: rustup target add $musl (or use --no-static)"
        built="$target_dir/$musl/release/$name"
        kind=static
    else
        (cd "$here" && cargo build --release --locked --quiet -p "$name")
        built="$target_dir/release/$name"
        kind=built
    fi
    # The man page comes from the same clap definitions, generated by the xtask (so the
    # generator stays out of the binary); dated like the release archives, by the last commit.
    workdir
    epoch=${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct 2>/dev/null || true)}
    (cd "$here" && if [ -n "$epoch" ]; then export SOURCE_DATE_EPOCH="$epoch"; fi \
        && cargo run --quiet --locked -p xtask -- man "$work" >/dev/null) \
        || die "generating the man page failed"
    man_page="$work/$name.1"
fi

# --- install -------------------------------------------------------------------------------

mkdir -p "$bindir"
install -m 0755 "$built" "$target"
echo "installed $target ($("$target" --version), $kind)"
if [ -n "$man_page" ]; then
    mkdir -p "$mandir"
    install -m 0644 "$man_page" "$mandir/$name.1"
    echo "installed $mandir/$name.1 (man $name)"
else
    echo "note: no $name.1 next to $binary; the man page is not installed"
fi
# Relative links, so the pair can be copied into an image together.
if [ -e "$docker_link" ] && ! [ -L "$docker_link" ]; then
    echo "note: $docker_link exists and is not a link; left alone"
else
    ln -sfn "$name" "$docker_link"
    echo "linked $docker_link -> $name (Docker's credential-helper protocol)"
fi
if [ -n "$keyring_dir" ]; then
    link=$(keyring_link)
    mkdir -p "$keyring_dir"
    if [ "$(cd "$keyring_dir" && pwd)" = "$(cd "$bindir" && pwd)" ]; then
        ln -sfn "$name" "$link"
    else
        ln -sfn "$target" "$link"
    fi
    echo "linked $link -> $target (pip and uv: --keyring-provider subprocess)"
    found=$(command -v keyring 2>/dev/null || true)
    if [ -n "$found" ] && [ "$found" != "$link" ] && ! link_is_ours "$found"; then
        echo "note: keyring on PATH is $found, not $link; put $keyring_dir first on PATH where pip or uv should use the helper"
    fi
fi

if [ "$configure" = yes ]; then
    command -v git >/dev/null 2>&1 || die "git is not installed; rerun with --no-configure or install git"
    "$target" configure "$scope"
fi

case ":$PATH:" in
    *":$bindir:"*) ;;
    *) echo "note: $bindir is not on PATH; git uses the absolute path, but add it to PATH to run $name yourself" ;;
esac
cat <<EOF

Check it (in a GitLab job, or with CI_SERVER_URL and CI_JOB_TOKEN set):
  printf 'protocol=https\nhost=%s\n' "\${CI_SERVER_HOST:-gitlab.example.com}" | git credential fill
EOF
