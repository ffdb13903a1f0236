//! `configure` and `unconfigure`: registering the helper in git configuration files.
//!
//! What `configure` writes into each target file (through `git config --file`):
//!
//! ```text
//! [credential]
//!     helper = /usr/local/bin/git-credential-gitlab-ci [options]    <- the last credential.helper
//! [credential "https://gitlab.example.com"]
//!     helper =                                                       <- resets the list for the server
//!     helper = /usr/local/bin/git-credential-gitlab-ci [options]
//! [url "https://gitlab.example.com/"]                                <- only with --rewrite-ssh
//!     insteadOf = git@gitlab.example.com:
//!     insteadOf = ssh://git@gitlab.example.com/
//! ```
//!
//! The parts: [`plan`] computes the changes purely from the file's current entries, [`targets`]
//! says which files (and which program path), [`apply`] runs the planned `git config` commands
//! (or prints them for `--dry-run`) and checks the result; this file puts them together. Earlier values of our helper are removed before the new ones are added, so running
//! it twice leaves one entry, the helper stays the *last* `credential.helper` (all libgit2 reads),
//! and `unconfigure` removes exactly these entries — git drops a section left empty, so the file
//! comes back byte for byte.

pub mod apply;
pub mod plan;
pub mod targets;

pub use plan::{Change, Rewrite, ServerBase};
pub use targets::Target;

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::diagnostics::Diagnostics;
use crate::docker;
use crate::env::Env;
use crate::files::Kind;
use crate::git::{Git, GitError};
use crate::gitconfig::helper_chain;
use crate::helper_value;
use crate::options::HelperOptions;
use crate::outcome::Outcome;
use crate::server::ServerError;
use crate::token::TokenSource;

/// Whether to add the configuration or take it away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Configure,
    Unconfigure,
}

/// What `configure` and `unconfigure` are asked to do, besides the helper's own options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub target: Target,
    /// `--rewrite-ssh`.
    pub rewrite_ssh: bool,
    /// `--dry-run`: print the commands instead of running them.
    pub dry_run: bool,
    /// `--docker` (with its `--registry` values): also add Docker `credHelpers` entries.
    pub docker: Option<docker::Options>,
}

/// A failure of `configure` or `unconfigure`; one line on standard error, exit status 1.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Server(#[from] ServerError),
    #[error("{0}")]
    Git(#[from] GitError),
    #[error("cannot find the path of this program ({0}); run it by its absolute path")]
    CurrentExe(std::io::ErrorKind),
    #[error("the path of this program is not valid UTF-8; install it under a plain path")]
    NonUtf8Path,
    #[error(
        "HOME is not set, so there is no global git configuration file; use --file or --system"
    )]
    NoHome,
    #[error("cannot create the directory {0} ({1})")]
    CreateDir(PathBuf, std::io::ErrorKind),
    #[error(
        "after writing {0}, the helper is not its last credential.helper; check the file by hand"
    )]
    NotLast(PathBuf),
    #[error("--server, --username, --token-env and --token-file must be one line each")]
    Multiline,
    #[error("{0} is {1}, not a regular file; nothing was written, and it is left as it is: point --file (or GIT_CONFIG_GLOBAL) at a regular file, or unset GIT_CONFIG_GLOBAL")]
    NotRegular(apply::Target, Kind),
    #[error("{target} is locked by {}: another git is writing it, or a write was interrupted; nothing was written: if no git is running, remove that file and run again", crate::files::lock_path(&target.file).display())]
    Locked { target: apply::Target },
    #[error("cannot write {0} ({1}); nothing was written")]
    Write(apply::Target, std::io::ErrorKind),
    #[error("cannot read {0} ({1}); nothing was written")]
    Unreadable(PathBuf, std::io::ErrorKind),
    #[error("{0}")]
    Docker(#[from] docker::Error),
}

/// Runs `configure` or `unconfigure` (and, with `--docker`, Docker's part): prints what it did
/// (or, with `--dry-run`, the commands) on `out`; warnings and the error that stops it go
/// through `diagnostics`.
pub fn run(
    action: Action,
    args: &Options,
    options: &HelperOptions,
    env: &Env,
    diagnostics: &Diagnostics,
    out: &mut impl Write,
) -> Outcome {
    let result = (|| {
        // Docker's part is checked first (a registry is known, config.json is a regular JSON
        // file within bounds), so that a --docker that would fail writes no git configuration
        // either.
        let docker = match (&args.docker, action) {
            (Some(docker), Action::Configure) => Some(docker_registries(docker, env)?),
            _ => None,
        };
        configure_git(action, args, options, env, diagnostics, out)?;
        match docker {
            // The dry run has made the real run's checks: it fails where the real run would.
            Some(registries) if args.dry_run => docker::preview_configure(&registries, env, out)?,
            Some(registries) => drop(docker::configure_and_report(&registries, env, out)?),
            None => {}
        }
        Ok::<(), Error>(())
    })();
    match result {
        Ok(()) => Outcome::Success,
        Err(e) => {
            diagnostics.error(&e);
            Outcome::Failure
        }
    }
}

/// `--docker`: the job's registries, once checked as the write will check them.
fn docker_registries(options: &docker::Options, env: &Env) -> Result<Vec<docker::Registry>, Error> {
    let registries =
        docker::configured_registries(env, &options.registries).map_err(docker::Error::from)?;
    docker::preview_configure(&registries, env, &mut std::io::sink())?;
    Ok(registries)
}

fn configure_git(
    action: Action,
    args: &Options,
    options: &HelperOptions,
    env: &Env,
    diagnostics: &Diagnostics,
    out: &mut impl Write,
) -> Result<(), Error> {
    let single_line = |s: &str| !s.contains(['\n', '\r', '\0']);
    let token = match &options.token {
        TokenSource::Env(name) => name.clone(),
        TokenSource::File(path) => path.to_string_lossy().into_owned(),
    };
    if !options.servers.iter().all(|s| single_line(s))
        || !single_line(&options.username)
        || !single_line(&token)
    {
        return Err(Error::Multiline);
    }
    let servers = plan::servers(env, &options.servers)?;
    let var = |name| env.non_empty(name).and_then(|v| v.to_str());
    let rewrites = plan::rewrites(
        &servers,
        var("CI_SERVER_SHELL_SSH_HOST"),
        var("CI_SERVER_SHELL_SSH_PORT"),
    );
    let rewrites = match (action, args.rewrite_ssh) {
        (Action::Configure, false) => Vec::new(),
        _ => rewrites,
    };
    let cwd = env.cwd().unwrap_or(Path::new("/"));
    let exe = targets::program_path(env, cwd)?;
    let exe = exe.to_str().ok_or(Error::NonUtf8Path)?.to_string();
    let helper = helper_value::compose(&exe, &plan::helper_args(options, cwd));
    // Every target is checked before any is written: one that is not a regular file stops the
    // run with nothing written (a dry run says the same).
    let targets = targets::files(&args.target, env)?
        .iter()
        .map(|file| apply::Target::check(file))
        .collect::<Result<Vec<_>, _>>()?;
    let git = Git::new(env);
    let verb = match action {
        Action::Configure => "configured",
        Action::Unconfigure => "unconfigured",
    };

    for target in &targets {
        let entries = target.entries(&git)?;
        let changes = plan::plan(action, &entries, &helper, &servers, &rewrites);
        if args.dry_run {
            apply::print(target, &changes, out);
            continue;
        }
        apply::apply(&git, action, target, &changes, &helper)?;
        let _ = writeln!(
            out,
            "{}",
            summary(verb, &target.named, &changes, &servers, &rewrites)
        );
    }

    if action == Action::Configure && !args.dry_run {
        if servers.is_empty() {
            diagnostics.error(&"note: no GitLab server is known (no CI_SERVER_URL, no --server), so no per-server reset was written; helpers configured before this one would also receive the job token");
        }
        warn_about_other_helpers(&git, &servers, diagnostics);
    }
    Ok(())
}

fn summary(
    verb: &str,
    file: &Path,
    changes: &[Change],
    servers: &[ServerBase],
    rewrites: &[Rewrite],
) -> String {
    let mut text = format!("{verb} {}", file.display());
    if verb == "configured" {
        let _ = write!(text, ": the helper is the last credential.helper");
        if !servers.is_empty() {
            let names: Vec<String> = servers.iter().map(|t| t.server.to_string()).collect();
            let _ = write!(
                text,
                ", and the only helper git runs for {}",
                names.join(", ")
            );
        }
        if !rewrites.is_empty() {
            let values: Vec<&str> = rewrites.iter().map(|r| r.value.as_str()).collect();
            let _ = write!(text, "; rewrites {} to https", values.join(" and "));
        }
    } else {
        let removed = changes.len();
        let _ = write!(text, ": removed {removed} setting(s)");
    }
    text
}

/// After configuring: one line per server for which git, reading all its files, would still
/// run another helper (and so give it the token on `store`) — a helper configured after ours,
/// for instance in the global file after the system file.
fn warn_about_other_helpers(git: &Git, servers: &[ServerBase], diagnostics: &Diagnostics) {
    let Ok(entries) = git.list_all() else {
        return;
    };
    for target in servers {
        let chain = helper_chain(&entries, &target.server);
        for entry in chain
            .iter()
            .filter(|e| !e.value.as_deref().is_some_and(helper_value::is_ours))
        {
            diagnostics.error(&format_args!(
                "warning: git would still give the job token for {} to the helper {} from {}, configured after this one; run configure for that file too, or remove that helper",
                target.server,
                helper_value::short_name(entry.value.as_deref().unwrap_or_default()),
                entry.place()
            ));
        }
    }
}
