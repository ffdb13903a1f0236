//! The full command tree: every verb, option and help text. Built for a verb, `--help`,
//! `--version`, a usage error, and the man page; never for git's `get`, `store` and `erase`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use git_credential_gitlab_ci::options::HelperOptions;
use git_credential_gitlab_ci::token::TokenSource;

use super::args::{Global, Registries};
use super::help::*;

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
    /// Options that git passes from the `credential.helper` value, before the operation.
    #[command(flatten)]
    pub helper: Global<HelperOptions>,
    #[command(subcommand)]
    pub verb: Verb,
}

#[derive(Debug, Subcommand)]
pub enum Verb {
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
    Unconfigure(UnconfigureArgs),
    /// Explain the setup and why a clone fails; exit 0 when healthy, 1 otherwise.
    #[command(long_about = DOCTOR_ABOUT, after_help = DOCTOR_AFTER)]
    Doctor(DoctorArgs),
    /// Go's GOAUTH command: GOAUTH='<this program> goauth' sends the job token to the GitLab
    /// server before Go's first request (see goauth --help).
    #[command(long_about = GOAUTH_ABOUT, after_help = GOAUTH_AFTER)]
    Goauth(GoauthArgs),
    /// pip's and uv's keyring protocol (also what runs when this binary is invoked as keyring;
    /// see keyring --help).
    #[command(long_about = KEYRING_ABOUT, after_help = KEYRING_AFTER)]
    Keyring(KeyringArgs),
    /// Any other operation is ignored, as git asks of helpers.
    #[command(external_subcommand)]
    Other(#[allow(dead_code)] Vec<OsString>),
}

/// `git-credential-gitlab-ci docker [--registry HOST[:PORT]]... <operation>`.
#[derive(Debug, Args)]
#[command(about = DOCKER_ABOUT, after_help = DOCKER_AFTER_HELP, arg_required_else_help = true)]
pub struct DockerArgs {
    #[command(flatten)]
    pub registries: Global<Registries>,

    #[command(subcommand)]
    pub operation: DockerOperation,
}

#[derive(Debug, Clone, Subcommand)]
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
    Other(#[allow(dead_code)] Vec<OsString>),
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
    pub token: Global<TokenSource>,

    #[command(flatten)]
    pub docker: DockerArgs,
}

/// `goauth [URL]`: Go appends the URL after a 4xx.
#[derive(Debug, Args)]
pub struct GoauthArgs {
    /// The URL Go was refused at (Go adds it after a 4xx, with the response on standard input).
    #[arg(value_name = "URL", value_parser = clap::value_parser!(OsString))]
    pub url: Option<OsString>,
}

/// `keyring [--mode password|creds] [--output plain|json] <get|set|del> [SERVICE] [USERNAME]`,
/// jaraco/keyring's command line as pip and uv run it.
#[derive(Debug, Args)]
pub struct KeyringArgs {
    /// What get prints: the password, or the user name and the password.
    #[arg(long, value_enum, default_value = "password")]
    pub mode: KeyringMode,
    /// The form of get's answer.
    #[arg(long, value_enum, default_value = "plain")]
    pub output: KeyringOutput,
    #[arg(value_enum)]
    pub operation: KeyringOperation,
    /// The URL the credential is for: the index URL, or a page under it.
    #[arg(value_name = "SERVICE", value_parser = clap::value_parser!(OsString))]
    pub service: Option<OsString>,
    /// The user name the client asks for; only the configured one (gitlab-ci-token) is answered.
    #[arg(value_name = "USERNAME", value_parser = clap::value_parser!(OsString))]
    pub user: Option<OsString>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyringMode {
    Password,
    Creds,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyringOutput {
    Plain,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyringOperation {
    /// Print the credential for SERVICE and USERNAME, or nothing with exit status 1.
    Get,
    /// Read the password from standard input and store nothing.
    Set,
    /// Delete nothing: nothing is stored.
    Del,
}

/// The command line when the binary runs as `keyring`, the way pip and uv run it.
#[derive(Debug, Parser)]
#[command(
    name = "keyring",
    version,
    about = KEYRING_NAME_ABOUT,
    long_about = KEYRING_ABOUT,
    after_help = KEYRING_AFTER,
    arg_required_else_help = true,
    disable_help_subcommand = true,
    max_term_width = 100
)]
pub struct KeyringCli {
    #[command(flatten)]
    pub helper: Global<HelperOptions>,

    #[command(flatten)]
    pub keyring: KeyringArgs,
}

/// Which files `configure` and `unconfigure` write.
#[derive(Debug, Clone, Default, Args)]
pub struct TargetArgs {
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
    /// Print the equivalent git config commands instead of running them.
    #[arg(long)]
    pub dry_run: bool,
}

/// What `configure` writes.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigureArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Also rewrite git@<ssh host>: and ssh://git@<ssh host>[:port]/ URLs to https, so they go
    /// through this helper (CI_SERVER_SHELL_SSH_HOST and _PORT when set, else the server's host).
    #[arg(long)]
    pub rewrite_ssh: bool,
    /// Also add credHelpers entries for the job's registries (CI_REGISTRY,
    /// CI_DEPENDENCY_PROXY_SERVER, --registry) to $DOCKER_CONFIG/config.json (default
    /// ~/.docker/config.json), so Docker uses this helper instead of `docker login`.
    #[arg(long)]
    pub docker: bool,
    /// With --docker: another registry to answer for, as host[:port]. Repeatable.
    #[arg(long = "registry", value_name = "HOST[:PORT]", requires = "docker")]
    pub registries: Vec<String>,
}

/// What `unconfigure` removes: from the same files, everything configure wrote there. It does
/// not touch Docker's config.json, so it takes no --docker.
#[derive(Debug, Clone, Default, Args)]
pub struct UnconfigureArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Accepted so that configure's options can be repeated as they were: the rewrites for the
    /// known servers are removed either way.
    #[arg(long)]
    pub rewrite_ssh: bool,
}

/// The longest probe doctor waits for, in seconds: an hour is far beyond any `ls-remote`, and
/// every larger number is refused rather than overflowing a deadline.
pub const MAX_TIMEOUT_SECONDS: u64 = 3600;

/// What `doctor` checks.
#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// A repository URL to try with `git ls-remote` through the helper, e.g.
    /// https://gitlab.example.com/group/project.git; the outcome is explained. Without it,
    /// inside a checkout, the report ends with the dependency plan.
    #[arg(value_name = "PROBE_URL", conflicts_with = "deps")]
    pub probe_url: Option<String>,
    /// With PROBE_URL: also check that the job token may push there (a dry-run push of
    /// nothing: GitLab's push check, nothing is sent).
    #[arg(long, requires = "probe_url")]
    pub push: bool,
    /// Print only the dependency plan of the checkout here (the current directory outside a
    /// work tree).
    #[arg(long)]
    pub deps: bool,
    /// `text` for people, `json` for scripts (the same checks and plan).
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
    /// Seconds all probes together may take, 1 to 3600.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = git_credential_gitlab_ci::doctor::DEFAULT_TIMEOUT_SECS,
        value_parser = timeout_seconds
    )]
    pub timeout: u64,
}

/// `--timeout`: whole seconds from 1 to [`MAX_TIMEOUT_SECONDS`]. The message is clap's
/// "invalid value … for '--timeout <SECONDS>': " followed by this.
fn timeout_seconds(text: &str) -> Result<u64, String> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<u64>() {
        Ok(seconds) if digits && (1..=MAX_TIMEOUT_SECONDS).contains(&seconds) => Ok(seconds),
        _ => Err(format!(
            "give a whole number of seconds from 1 to {MAX_TIMEOUT_SECONDS}"
        )),
    }
}
