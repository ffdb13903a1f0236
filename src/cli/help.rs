//! The help texts of the command tree: what `--help` and the man page say beyond each option's
//! one line.

pub const ABOUT: &str = "A git credential helper that gives the GitLab CI job token to the GitLab server, and to nothing else.";

pub const LONG_ABOUT: &str = "\
A git credential helper that gives the GitLab CI job token to the GitLab server, and to nothing else.

git runs it with an operation as its last argument and a request on standard input. For `get`, when
the request's protocol, host and port are exactly those of a configured GitLab server, it prints
the user name gitlab-ci-token and the job token; for any other request it prints nothing, so git
asks the next helper. It never stores, logs or forwards the token.

The same origin rule serves the other protocols it speaks: Docker's credential helpers (docker,
or the binary run as docker-credential-gitlab-ci), Go's GOAUTH command (goauth) and pip's and
uv's keyring subprocess (keyring, or the binary run as keyring).";

pub const AFTER_HELP: &str = "\
Environment:
  CI_SERVER_URL        the GitLab server to answer for (set by GitLab in every job); a path such
                       as /gitlab is the instance's relative root and does not change matching
  CI_SERVER_PROTOCOL, CI_SERVER_HOST, CI_SERVER_PORT
                       used instead when CI_SERVER_URL is not set
  CI_JOB_TOKEN         the job token (another variable with --token-env)
  GIT_CREDENTIAL_GITLAB_CI_DEBUG
                       set to 1 to explain each decision on standard error (never the token)

With no server from the environment and no --server, the helper answers nothing.
Servers given with --server are added to the one from the environment. A server setting that
another reader could understand differently is an error naming it, and nothing is answered until
it is fixed.

Exit status: 0 when the request was answered or left to the next helper; 1 when the request or
the setup is wrong (one line on standard error says what and why); 2 for a usage error. The
docker, goauth and keyring modes say in their --help what theirs are.

Example, in a job or a runner image:
  git config --global credential.helper \"$(command -v git-credential-gitlab-ci)\"
  git clone https://gitlab.example.com/group/private.git

Check it in 30 seconds:
  printf 'protocol=https\\nhost=gitlab.example.com\\n' | git credential fill";

pub const DOCKER_ABOUT: &str = "Docker's credential-helper protocol: gives the job token to the job's container registries, and to nothing else.";

pub const DOCKER_AFTER_HELP: &str = "\
Registries: CI_REGISTRY, CI_DEPENDENCY_PROXY_SERVER and each --registry (host[:port], https only).
`get` reads a registry address on standard input and prints
{\"ServerURL\":...,\"Username\":\"gitlab-ci-token\",\"Secret\":...} for a configured registry, or
`credentials not found in native keychain` with exit status 1 for any other. Nothing is ever
stored.

Use it instead of `docker login` (which writes the token into ~/.docker/config.json):
  ln -s git-credential-gitlab-ci /usr/local/bin/docker-credential-gitlab-ci   (install.sh does)
  git-credential-gitlab-ci docker configure   (adds credHelpers entries to $DOCKER_CONFIG/config.json)";

pub const CONFIGURE_ABOUT: &str = "\
Register this helper in git configuration, by the absolute path of this program, with the helper
options given here (--server, --username, --token-env, --token-file) written into the value.

In each target file it writes:
  credential.helper = <this helper>               the LAST credential.helper, so git runs it and
                                                  cargo's libgit2 (which uses only the last) does
  credential.<server>.helper =                    an empty value: helpers configured before (store,
  credential.<server>.helper = <this helper>      cache, manager) never see the job token
  url.<server>/.insteadOf = git@<ssh host>:       with --rewrite-ssh, also ssh://git@<ssh host>[:port]/

for each server: CI_SERVER_URL (or CI_SERVER_HOST and friends) and every --server. Running it
twice leaves one entry; an earlier registration of this helper in the same file is replaced;
everything else in the file is kept. The token is never written. When a helper configured in a
file git reads later would still receive the token, one warning line says so.

Target: --system, --global, --file PATH; without one, the system files when they are writable
(and GIT_CONFIG_NOSYSTEM is not set), else --global.";

pub const CONFIGURE_AFTER: &str = "\
--global and GIT_CONFIG_GLOBAL: GitLab Runner points GIT_CONFIG_GLOBAL at its own file. git then
reads only that file, while libgit2 (cargo's default transport) reads only $HOME/.gitconfig. So
--global writes both: $HOME/.gitconfig always, and the GIT_CONFIG_GLOBAL file when it is set.

Examples:
  git-credential-gitlab-ci configure --global
  git-credential-gitlab-ci configure --system --server https://gitlab.example.com:8443 --rewrite-ssh
  git-credential-gitlab-ci configure --global --token-file /run/secrets/ci_job_token --dry-run
  git-credential-gitlab-ci unconfigure --global";

pub const UNCONFIGURE_ABOUT: &str = "\
Remove exactly what configure added from the same target files: every credential.helper value
that runs this helper (by any path), the empty reset next to it in each credential.<server>
section, and the url.<server>/.insteadOf rewrites for the servers known from the environment and
--server (pass the same --server options as to configure).
Sections left empty are removed by git, so a file configure changed comes back as it was.
It takes configure's options except --docker and --registry: Docker's config.json is left alone.";

pub const DOCTOR_ABOUT: &str = "\
Explain the setup, one check a line, on standard output (never the token, nor its length):

  servers    which servers the helper answers for, and where each came from
  token      whether the token is available and well-formed
  git        for each server, the helpers git runs, in order, from which file; whether a helper
             other than this one would be given the token (store, cache, ...); whether the
             configured helper program still exists
  cargo      whether cargo's libgit2 finds this helper (the last credential.helper in a file it
             reads: $HOME/.gitconfig, $XDG_CONFIG_HOME/git/config, /etc/gitconfig), and whether
             CARGO_HTTP_*, HTTP_TIMEOUT, a proxy or an [http] table in a cargo config makes cargo
             use a transport that never calls credential helpers
  probe      with PROBE_URL: git ls-remote through the helper (with --push, a dry-run push too),
             and what its failure means

Inside a checkout (no PROBE_URL), the report ends with the dependency plan; --deps prints it
alone. It reads .gitmodules, Cargo.toml and Cargo.lock, go.mod, package.json and
package-lock.json, requirements*.txt, pyproject.toml, poetry.lock and uv.lock, and
.pre-commit-config.yaml (not under .git, target, node_modules or vendor), probes each dependency
on a configured server with git ls-remote through this helper alone (8 at once, all within
--timeout), and prints per dependency ok, or the problem, its cause and the exact fix, grouped by
fix. Dependencies on other hosts are listed as not ours and never probed with the token.

Exit status 0 when every check and dependency passes, 1 when one has a problem, 2 for a usage
error. --format json prints the same for scripts.";

pub const DOCTOR_AFTER: &str = "\
What a failed probe means (git prints GitLab's message after remote:):
  401, Authentication failed      the job token was rejected: expired (the job ended), another
                                  job's, or sent with a user name other than gitlab-ci-token
  403 job token not allowed       the target's job token allowlist lacks this job's project: in
                                  the target, Settings > CI/CD > Job token permissions, add it
  403 insufficient permissions    the user who triggered the pipeline cannot read the target
  404, not found                  the project does not exist, or is not visible to the job
  403 not allowed to push         (--push) job-token pushes are off in the target's settings
  <helper>: not found             git could not run the configured helper program
  SSL, certificate                TLS: the server's certificate is not trusted (GIT_SSL_CAINFO)
  could not resolve, connect      the network: name, port, proxy or firewall

See docs/troubleshooting.md for every check and cause: symptom, cause, fix.

Examples:
  git-credential-gitlab-ci doctor https://gitlab.example.com/group/dependency.git
  git-credential-gitlab-ci doctor --deps --format json";

pub const GOAUTH_ABOUT: &str = "\
Go's GOAUTH command protocol (Go 1.24 and later). Set
  GOAUTH='/usr/local/bin/git-credential-gitlab-ci goauth'     (options may come before goauth)
and Go runs it before its first HTTPS request: it prints, for each configured https server,
  https://host[:port]/
  <blank line>
  Authorization: Basic <base64 of gitlab-ci-token:token>
  <blank line>
and Go sends that header to URLs under that origin only. After a 4xx Go runs it again with the
URL as the last argument and the response on standard input (read up to its blank line and
ignored); then the set is printed only when the URL's origin is exactly a configured server.
Never for http.

GitLab needs this for Go modules in nested subgroups (host/group/sub/project): without
credentials sent up front its go-get answer names host/group/sub, and Go never sees a 401 that
would make it ask git's credential helpers.";

pub const GOAUTH_AFTER: &str = "\
Exit status: 0 when printed, or when there is nothing to say (no https server, another origin);
1, with one line on standard error and nothing on standard output, when a set is due but the
token is missing or malformed (Go shows the line under go -x and carries on without the header);
2 for a usage error.";

pub const KEYRING_NAME_ABOUT: &str = "git-credential-gitlab-ci's keyring mode: the job token for the GitLab server's package registry, and for nothing else.";

pub const KEYRING_ABOUT: &str = "\
The keyring command line of pip (--keyring-provider subprocess, pip 23.1 and later) and uv, so a
GitLab package index gets the job token without it being written into an index URL or pip.conf.
pip and uv run the first keyring on PATH: make one a link to this program, in a directory of its
own that you put first on PATH for those commands only (a real keyring is not shadowed):
  ln -s /usr/local/bin/git-credential-gitlab-ci /opt/gitlab-ci/keyring-bin/keyring
  PATH=/opt/gitlab-ci/keyring-bin:$PATH pip install --keyring-provider subprocess \\
    --index-url https://gitlab-ci-token@gitlab.example.com/api/v4/projects/42/packages/pypi/simple pkg
(install.sh --keyring-link DIR makes the link). The user name must be in the index URL: uv asks
keyring only then.

get SERVICE USERNAME prints the token (--mode creds: the user name and the token; --output json:
as JSON) only when SERVICE is an https URL (http only for a server written http://) whose scheme,
host and port are exactly a configured server's, and USERNAME is the configured user name;
otherwise it prints nothing and exits 1, which pip and uv read as not found. A bare host[:port]
is not an origin and gets nothing. set and del store nothing.";

pub const KEYRING_AFTER: &str = "\
Exit status: 0 answered (or set, del); 1 not found, or the token is missing or malformed (one
line on standard error says which); 2 for a usage error.";
