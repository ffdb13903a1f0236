#!/bin/sh
# Uploads the release archives and SHA256SUMS (dist/build.sh's output) to the project's generic
# package registry, as the pipeline's publish-packages job does on a tag:
#   $CI_API_V4_URL/projects/$CI_PROJECT_ID/packages/generic/git-credential-gitlab-ci/$CI_COMMIT_TAG/<file>
#
#   dist/publish.sh [DIST_DIR]      default DIST_DIR: target/dist
#
# The tag is the version (0.1.0, no leading v) and must be the archives' version. SHA256SUMS is
# checked first, so what is uploaded is what was built.
#
# The job token travels only in the JOB-TOKEN header, which curl reads from standard input
# (`--header @-`), written there by the shell's printf builtin: it is never on a command line
# (visible to every process through ps and /proc), never in the job log (the runner echoes the
# script line, in which the variable is not expanded), and never in a file.
set -eu
dir=${1:-target/dist}
name=git-credential-gitlab-ci
die() { echo "dist/publish.sh: $*" >&2; exit 1; }
for var in CI_API_V4_URL CI_PROJECT_ID CI_JOB_TOKEN CI_COMMIT_TAG; do
    eval "[ -n \"\${$var:-}\" ]" || die "$var is not set (this runs in a tag pipeline)"
done
version=$CI_COMMIT_TAG

[ -f "$dir/SHA256SUMS" ] || die "no $dir/SHA256SUMS; run dist/build.sh first"
(cd "$dir" && sha256sum -c --quiet SHA256SUMS) || die "$dir does not match its SHA256SUMS"
files=$(awk '{ print $2 }' "$dir/SHA256SUMS")
for file in $files; do
    case "$file" in
        "$name-$version-"*-linux.tar.gz) ;;
        *) die "$file is not version $version: tag the commit with the version in Cargo.toml" ;;
    esac
done

base="$CI_API_V4_URL/projects/$CI_PROJECT_ID/packages/generic/$name/$version"
for file in $files SHA256SUMS; do
    printf 'JOB-TOKEN: %s\n' "$CI_JOB_TOKEN" |
        curl --silent --show-error --fail-with-body --header @- \
            --upload-file "$dir/$file" "$base/$file" >/dev/null \
        || die "uploading $file to $base failed"
    echo "uploaded $base/$file"
done
