//! Command-line definitions. git runs `git-credential-gitlab-ci [OPTIONS] <operation>`, with the
//! options taken from the `credential.helper` value and the operation always last.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::token::{TokenSource, DEFAULT_TOKEN_ENV};

/// The user name GitLab expects with a job token.
pub const DEFAULT_USERNAME: &str = "gitlab-ci-token";

const ABOUT: &str = "A git credential helper that gives the GitLab CI job token to the GitLab server, and to nothing else.";

const LONG_ABOUT: &str = "\
A git credential helper that gives the GitLab CI job token to the GitLab server, and to nothing else.

git runs it with an operation as its last argument and a request on standard input. For `get`, when
the request's protocol, host and port are exactly those of a configured GitLab server, it prints
the user name gitlab-ci-token and the job token; for any other request it prints nothing, so git
asks the next helper. It never stores, logs or forwards the token.";

const AFTER_HELP: &str = "\
Environment:
  CI_SERVER_URL        the GitLab server to answer for (set by GitLab in every job); a path such
                       as /gitlab is the instance's relative root and does not change matching
  CI_SERVER_PROTOCOL, CI_SERVER_HOST, CI_SERVER_PORT
                       used instead when CI_SERVER_URL is not set
  CI_JOB_TOKEN         the job token (another variable with --token-env)
  GIT_CREDENTIAL_GITLAB_CI_DEBUG
                       set to 1 to explain each decision on standard error (never the token)

With no server from the environment and no --server, the helper answers nothing.
Servers given with --server are added to the one from the environment.

Exit status: 0 when the request was answered or left to the next helper; 1 when the request or
the setup is wrong (one line on standard error says what and why); 2 for a usage error.

Example, in a job or a runner image:
  git config --global credential.helper \"$(command -v git-credential-gitlab-ci)\"
  git clone https://gitlab.example.com/group/private.git

Check it in 30 seconds:
  printf 'protocol=https\\nhost=gitlab.example.com\\n' | git credential fill";

#[derive(Debug, Parser)]
#[command(
    name = "git-credential-gitlab-ci",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
    arg_required_else_help = true,
    disable_help_subcommand = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub helper: HelperOptions,
    #[command(subcommand)]
    pub operation: Operation,
}

/// Options that git passes from the `credential.helper` value, before the operation.
#[derive(Debug, Clone, Args)]
pub struct HelperOptions {
    /// A GitLab server to answer for, e.g. https://gitlab.example.com:8443 or http://gitlab.internal
    /// (plain http only when written so); a bare host[:port] means https. Repeatable.
    #[arg(long = "server", value_name = "URL", global = true)]
    pub servers: Vec<String>,

    /// The user name to answer with; requests naming another user are left alone.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_USERNAME, global = true)]
    pub username: String,

    #[command(flatten)]
    pub token: TokenOptions,
}

/// Where the token comes from; shared by the git and the docker command lines.
#[derive(Debug, Clone, Args)]
pub struct TokenOptions {
    /// The environment variable that holds the token.
    #[arg(long, value_name = "VAR", default_value = DEFAULT_TOKEN_ENV, global = true)]
    pub token_env: String,

    /// Read the token from this file instead (e.g. a BuildKit secret at /run/secrets/ci_job_token);
    /// one trailing newline is stripped.
    #[arg(long, value_name = "PATH", global = true, conflicts_with = "token_env")]
    pub token_file: Option<PathBuf>,
}

impl TokenOptions {
    pub fn source(&self) -> TokenSource {
        match &self.token_file {
            Some(path) => TokenSource::File(path.clone()),
            None => TokenSource::Env(self.token_env.clone()),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Operation {
    /// Answer a credential request for a configured GitLab server (git runs this).
    Get,
    /// Accept a credential git wants stored, and store nothing.
    Store,
    /// Accept a credential git wants erased; nothing was stored.
    Erase,
    /// Docker's credential-helper protocol for the job's container registries (also what runs
    /// when this binary is invoked as docker-credential-gitlab-ci).
    Docker(DockerArgs),
    /// Register this helper in git configuration (see configure --help).
    #[command(long_about = CONFIGURE_ABOUT, after_help = CONFIGURE_AFTER)]
    Configure(ConfigureArgs),
    /// Remove exactly what configure added (see unconfigure --help).
    #[command(long_about = UNCONFIGURE_ABOUT)]
    Unconfigure(ConfigureArgs),
    /// Explain the setup and why a clone fails; exit 0 when healthy, 1 otherwise.
    #[command(long_about = DOCTOR_ABOUT, after_help = DOCTOR_AFTER)]
    Doctor(DoctorArgs),
    /// Any other operation is ignored, as git asks of helpers.
    #[command(external_subcommand)]
    Other(Vec<OsString>),
}

const DOCKER_ABOUT: &str = "Docker's credential-helper protocol: gives the job token to the job's container registries, and to nothing else.";

const DOCKER_AFTER_HELP: &str = "\
Registries: CI_REGISTRY, CI_DEPENDENCY_PROXY_SERVER and each --registry (host[:port], https only).
`get` reads a registry address on standard input and prints
{\"ServerURL\":...,\"Username\":\"gitlab-ci-token\",\"Secret\":...} for a configured registry, or
`credentials not found in native keychain` with exit status 1 for any other. Nothing is ever
stored.

Use it instead of `docker login` (which writes the token into ~/.docker/config.json):
  ln -s git-credential-gitlab-ci /usr/local/bin/docker-credential-gitlab-ci   (install.sh does)
  git-credential-gitlab-ci docker configure   (adds credHelpers entries to $DOCKER_CONFIG/config.json)";

/// `git-credential-gitlab-ci docker [--registry HOST[:PORT]]... <operation>`.
#[derive(Debug, Args)]
#[command(about = DOCKER_ABOUT, after_help = DOCKER_AFTER_HELP, arg_required_else_help = true)]
pub struct DockerArgs {
    /// A registry to answer for besides CI_REGISTRY and CI_DEPENDENCY_PROXY_SERVER, as
    /// host[:port] (https only). Repeatable.
    #[arg(long = "registry", value_name = "HOST[:PORT]", global = true)]
    pub registries: Vec<String>,

    #[command(subcommand)]
    pub operation: DockerOperation,
}

#[derive(Debug, Subcommand)]
pub enum DockerOperation {
    /// Print the credential for the registry named on standard input.
    Get,
    /// Accept a credential Docker wants stored, and store nothing.
    Store,
    /// Accept a credential Docker wants erased; nothing was stored.
    Erase,
    /// Print the registries answered for, each with the user name (never the token).
    List,
    /// Add credHelpers entries for the registries to $DOCKER_CONFIG/config.json
    /// (default ~/.docker/config.json), keeping everything else in it.
    Configure,
    #[command(external_subcommand)]
    Other(Vec<OsString>),
}

/// The command line when the binary runs as `docker-credential-gitlab-ci <operation>`, the way
/// Docker, skopeo and podman run credential helpers.
#[derive(Debug, Parser)]
#[command(
    name = "docker-credential-gitlab-ci",
    version,
    about = DOCKER_ABOUT,
    after_help = DOCKER_AFTER_HELP,
    arg_required_else_help = true,
    disable_help_subcommand = true,
    max_term_width = 100
)]
pub struct DockerCli {
    #[command(flatten)]
    pub token: TokenOptions,

    #[command(flatten)]
    pub docker: DockerArgs,
}

/// The name that selects the docker mode when the binary is invoked under it.
pub const DOCKER_BINARY_NAME: &str = "docker-credential-gitlab-ci";

/// Is `argv0` (the program name the binary was run as) the docker credential helper's?
pub fn is_docker_name(argv0: &std::ffi::OsStr) -> bool {
    std::path::Path::new(argv0)
        .file_name()
        .is_some_and(|name| name == DOCKER_BINARY_NAME)
}
/// Where `configure` and `unconfigure` write.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigureArgs {
    /// The system files: that of every git present (`git var GIT_CONFIG_SYSTEM`) and
    /// /etc/gitconfig, which libgit2 (cargo) reads.
    #[arg(long, conflicts_with_all = ["global", "file"])]
    pub system: bool,
    /// $HOME/.gitconfig (read by git and by libgit2), and also the file GIT_CONFIG_GLOBAL names
    /// when it is set (git then reads only that one; libgit2 never does).
    #[arg(long, conflicts_with = "file")]
    pub global: bool,
    /// This file only.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Also rewrite git@<ssh host>: and ssh://git@<ssh host>[:port]/ URLs to https, so they go
    /// through this helper (CI_SERVER_SHELL_SSH_HOST and _PORT when set, else the server's host).
    #[arg(long)]
    pub rewrite_ssh: bool,
    /// Print the equivalent git config commands instead of running them.
    #[arg(long)]
    pub dry_run: bool,
    /// Also add credHelpers entries for the job's registries (CI_REGISTRY,
    /// CI_DEPENDENCY_PROXY_SERVER, --registry) to $DOCKER_CONFIG/config.json (default
    /// ~/.docker/config.json), so Docker uses this helper instead of `docker login`.
    #[arg(long)]
    pub docker: bool,
    /// With --docker: another registry to answer for, as host[:port]. Repeatable.
    #[arg(long = "registry", value_name = "HOST[:PORT]", requires = "docker")]
    pub registries: Vec<String>,
}

/// What `doctor` checks.
#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// A repository URL to try with `git ls-remote` through the helper, e.g.
    /// https://gitlab.example.com/group/project.git; the outcome is explained.
    #[arg(value_name = "PROBE_URL")]
    pub probe_url: Option<String>,
    /// Seconds to wait for the probe.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
}

const CONFIGURE_ABOUT: &str = "\
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

const CONFIGURE_AFTER: &str = "\
--global and GIT_CONFIG_GLOBAL: GitLab Runner points GIT_CONFIG_GLOBAL at its own file. git then
reads only that file, while libgit2 (cargo's default transport) reads only $HOME/.gitconfig. So
--global writes both: $HOME/.gitconfig always, and the GIT_CONFIG_GLOBAL file when it is set.

Examples:
  git-credential-gitlab-ci configure --global
  git-credential-gitlab-ci configure --system --server https://gitlab.example.com:8443 --rewrite-ssh
  git-credential-gitlab-ci configure --global --token-file /run/secrets/ci_job_token --dry-run
  git-credential-gitlab-ci unconfigure --global";

const UNCONFIGURE_ABOUT: &str = "\
Remove exactly what configure added from the same target files: every credential.helper value
that runs this helper (by any path), the empty reset next to it in each credential.<server>
section, and the url.<server>/.insteadOf rewrites for the servers known from the environment and
--server (pass the same --server options as to configure).
Sections left empty are removed by git, so a file configure changed comes back as it was.";

const DOCTOR_ABOUT: &str = "\
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
  submodules SSH-style URLs for a server in this repository's .gitmodules that no insteadOf
             rewrites to https
  probe      with PROBE_URL: git ls-remote through the helper, and what its failure means

Exit status 0 when every check passes, 1 when one finds a problem, 2 for a usage error.";

const DOCTOR_AFTER: &str = "\
What a failed probe means:
  401, Authentication failed   the token was rejected: expired (the job ended) or not a job token
  403, 404, not found          the token is valid but the project is not in the target project's
                               CI/CD job token allowlist, or the project does not exist; see
                               Settings > CI/CD > Job token permissions in the target project
  SSL, certificate             TLS: the server's certificate is not trusted (GIT_SSL_CAINFO)
  could not resolve, connect   the network: name, port, proxy or firewall

See docs/troubleshooting.md for every check: symptom, cause, fix.

Example:
  git-credential-gitlab-ci doctor https://gitlab.example.com/group/dependency.git";
