//! The parts of the man page that clap's definitions do not hold: other invocation names, the
//! environment, files, exit status, examples and pointers. Kept as data; `man.rs` lays it out.
//! `xtask/tests/man_page.rs` fails when a variable named in the help texts is missing here.

use clap_mangen::roff::{bold, italic, roman, Inline, Roff};

/// Synopsis lines for the names the binary answers to besides its own.
pub fn other_invocations() -> Vec<Vec<Inline>> {
    vec![
        vec![
            bold("docker-credential-gitlab-ci"),
            roman(" [--token-env "),
            italic("<VAR>"),
            roman(" | --token-file "),
            italic("<PATH>"),
            roman("] [--registry "),
            italic("<HOST[:PORT]>"),
            roman("]... "),
            bold("get"),
            roman(" | "),
            bold("store"),
            roman(" | "),
            bold("erase"),
            roman(" | "),
            bold("list"),
            roman(" | "),
            bold("configure"),
        ],
        vec![
            bold("keyring"),
            roman(" [--mode password|creds] [--output plain|json] "),
            bold("get"),
            roman(" | "),
            bold("set"),
            roman(" | "),
            bold("del"),
            roman(" ["),
            italic("SERVICE"),
            roman("] ["),
            italic("USERNAME"),
            roman("]"),
        ],
    ]
}

/// (names, meaning) for every variable the helper reads.
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "CI_SERVER_URL",
        "The GitLab server to answer for, set by GitLab in every job: scheme, host and port. A \
         path such as /gitlab is the instance's relative root and does not change matching.",
    ),
    (
        "CI_SERVER_PROTOCOL, CI_SERVER_HOST, CI_SERVER_PORT",
        "Used instead when CI_SERVER_URL is not set. With no server from the environment and no \
         --server, the helper answers nothing.",
    ),
    (
        "CI_JOB_TOKEN",
        "The job token (--token-env names another variable; --token-file reads a file instead). \
         It must be non-empty and hold no CR, LF or NUL.",
    ),
    (
        "CI_REGISTRY, CI_DEPENDENCY_PROXY_SERVER",
        "The registries the docker mode answers for (host[:port], https only), besides each \
         --registry.",
    ),
    (
        "CI_SERVER_SHELL_SSH_HOST, CI_SERVER_SHELL_SSH_PORT",
        "The SSH host and port that configure --rewrite-ssh rewrites to https (default: the \
         server's host, port 22).",
    ),
    (
        "GIT_CREDENTIAL_GITLAB_CI_DEBUG",
        "Set to 1 to explain each decision on standard error (never the token).",
    ),
    (
        "HOME",
        "configure --global writes $HOME/.gitconfig; the docker mode's default configuration \
         is $HOME/.docker/config.json.",
    ),
    (
        "GIT_CONFIG_GLOBAL",
        "When set (GitLab Runner sets it), configure --global writes this file as well: git then \
         reads only it, while libgit2 (cargo) reads only $HOME/.gitconfig.",
    ),
    (
        "GIT_CONFIG_SYSTEM, GIT_CONFIG_NOSYSTEM",
        "configure --system writes the system file each git names (git var GIT_CONFIG_SYSTEM) \
         and /etc/gitconfig; without a target, configure uses --global when GIT_CONFIG_NOSYSTEM \
         is set or the system files are not writable.",
    ),
    (
        "DOCKER_CONFIG",
        "The directory whose config.json docker configure and configure --docker write \
         (default $HOME/.docker).",
    ),
    (
        "XDG_CONFIG_HOME",
        "doctor reads $XDG_CONFIG_HOME/git/config, as git and libgit2 do.",
    ),
    (
        "CARGO_HOME, CARGO_NET_GIT_FETCH_WITH_CLI, CARGO_HTTP_*, HTTP_TIMEOUT, http_proxy, \
         HTTPS_PROXY",
        "Read by doctor's cargo check: whether cargo uses libgit2 (which finds the helper as the \
         last credential.helper) or a transport that never calls credential helpers.",
    ),
    (
        "GIT_SSL_CAINFO",
        "Read by git during doctor's probe: the CA bundle that makes a private server's \
         certificate trusted.",
    ),
    (
        "PATH",
        "configure registers the helper by the absolute path of the running program; doctor \
         runs the git found here.",
    ),
];

const FILES: &[(&str, &str)] = &[
    (
        "/etc/gitconfig, /usr/local/etc/gitconfig",
        "System git configuration: /etc/gitconfig is read by libgit2 (cargo) and Debian's git; a \
         git built from source reads the file git var GIT_CONFIG_SYSTEM names. configure \
         --system writes both.",
    ),
    (
        "$HOME/.gitconfig, $GIT_CONFIG_GLOBAL",
        "Global git configuration, written by configure --global.",
    ),
    (
        "$DOCKER_CONFIG/config.json",
        "Docker's configuration (default ~/.docker/config.json): docker configure adds \
         credHelpers entries and keeps everything else.",
    ),
    (
        "/run/secrets/ci_job_token",
        "Where a BuildKit secret with id=ci_job_token is mounted during one RUN; pass it with \
         --token-file.",
    ),
];

const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "get, store, erase",
        "0 when the request was answered or left to the next helper (and for any other \
         operation); 1 when the request is malformed or ambiguous, or a configured server \
         matches but the token is missing or malformed, with one line on standard error that \
         never holds the token; 2 for a usage error.",
    ),
    (
        "configure, unconfigure",
        "0 when done (or, with --dry-run, printed); 1 when a target cannot be written or git \
         config fails, saying which; 2 for a usage error.",
    ),
    (
        "doctor",
        "0 when every check passes; 1 when a check finds a problem; 2 for a usage error.",
    ),
    (
        "goauth",
        "0 when the credential sets are printed, or when there is nothing to say (no https \
         server, or a URL of another origin); 1 when a set is due but the token is missing or \
         malformed, with one line on standard error and nothing on standard output; 2 for a \
         usage error.",
    ),
    (
        "keyring",
        "0 when get printed the token, and for set and del (which store nothing); 1 when get \
         finds nothing for SERVICE and USERNAME (keyring's not found), or when the token is \
         missing or malformed, with one line on standard error; 2 for a usage error.",
    ),
    (
        "docker",
        "0 when answered (get) or done; 1 with credentials not found in native keychain on \
         standard output for a registry it does not answer for (Docker then tries anonymous \
         access), or with the error on standard error and standard output; 2 for a usage error.",
    ),
];

/// (what, commands) — the set-up a runner image or job does, in order.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "Register the helper once, in a runner image or at the start of a job (as root, \
         --system instead writes the system files every git and libgit2 read):",
        "git-credential-gitlab-ci configure --global\n\
         git clone \"$CI_SERVER_URL/group/private-dependency.git\"",
    ),
    (
        "The same by hand, by absolute path (git runs it without an extra shell):",
        "git config --global credential.helper \"$(command -v git-credential-gitlab-ci)\"",
    ),
    (
        "Check it in 30 seconds, inside a job or with the two variables set by hand:",
        "export CI_SERVER_URL=https://gitlab.example.com CI_JOB_TOKEN=your-token\n\
         printf 'protocol=https\\nhost=gitlab.example.com\\n' | git credential fill",
    ),
    (
        "Another server, the token from a BuildKit secret file:",
        "git config --global credential.helper \\\n  \
         \"/usr/local/bin/git-credential-gitlab-ci --server https://gitlab.internal:8443 --token-file /run/secrets/ci_job_token\"",
    ),
    (
        "Push an image without docker login (the token never lands in config.json):",
        "git-credential-gitlab-ci docker configure\n\
         docker push \"$CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA\"",
    ),
    (
        "Go modules, nested subgroups included (Go 1.24 and later):",
        "export GOAUTH='/usr/local/bin/git-credential-gitlab-ci goauth' GOPRIVATE=gitlab.example.com\n\
         go get gitlab.example.com/group/sub/project",
    ),
    (
        "pip and uv from a GitLab package index, through a keyring link in a directory of its \
         own:",
        "ln -s /usr/local/bin/git-credential-gitlab-ci /opt/gitlab-ci/keyring-bin/keyring\n\
         PATH=/opt/gitlab-ci/keyring-bin:$PATH pip install --keyring-provider subprocess \\\n  \
         --index-url https://gitlab-ci-token@gitlab.example.com/api/v4/projects/42/packages/pypi/simple pkg",
    ),
    (
        "Find out why a clone fails, then undo the registration:",
        "git-credential-gitlab-ci doctor https://gitlab.example.com/group/dependency.git\n\
         git-credential-gitlab-ci unconfigure --global",
    ),
];

const SECURITY: &str = "The token is printed only on standard output, only for a request whose \
protocol, host and port are exactly those of a configured server, and only when the caller sent \
no password of its own. It is never stored, never written to a file, never printed on standard \
error. Requests are read as bytes, bounded; anything ambiguous is refused.";

const SEE_ALSO: &[&str] = &[
    "git-credential(1)",
    "gitcredentials(7)",
    "git-config(1)",
    "git-credential-store(1)",
];

pub fn sections() -> Roff {
    let mut roff = Roff::new();
    list(&mut roff, "ENVIRONMENT", ENVIRONMENT);
    list(&mut roff, "FILES", FILES);
    list(&mut roff, "EXIT STATUS", EXIT_STATUS);
    roff.control("SH", ["EXAMPLES"]);
    for (what, commands) in EXAMPLES {
        roff.control("PP", []);
        roff.text([roman(*what)]);
        roff.control("RS", ["4"]);
        roff.control("nf", []);
        for line in commands.lines() {
            roff.text([roman(line)]);
        }
        roff.control("fi", []);
        roff.control("RE", []);
    }
    roff.control("SH", ["SECURITY"]);
    roff.text([roman(SECURITY)]);
    roff.control("SH", ["SEE ALSO"]);
    let mut refs = Vec::new();
    for (i, page) in SEE_ALSO.iter().enumerate() {
        if i > 0 {
            refs.push(roman(", "));
        }
        let (name, section) = page.split_once('(').expect("name(section)");
        refs.push(bold(name));
        refs.push(roman(format!("({section}")));
    }
    refs.push(roman(
        "; the README (also in the release archive) and docs/ in the source: usage per client, \
         security model, Docker, troubleshooting.",
    ));
    roff.text(refs);
    roff
}

fn list(roff: &mut Roff, heading: &str, entries: &[(&str, &str)]) {
    roff.control("SH", [heading]);
    for (term, meaning) in entries {
        roff.control("TP", []);
        roff.text([bold(*term)]);
        roff.text([roman(*meaning)]);
    }
}
