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
//! The plan is computed purely from the file's current entries ([`plan`]); the edges read the
//! entries, run the planned `git config` commands (or print them for `--dry-run`) and check the
//! result. Earlier values of our helper are removed before the new ones are added, so running
//! it twice leaves one entry, the helper stays the *last* `credential.helper` (all libgit2 reads),
//! and `unconfigure` removes exactly these entries — git drops a section left empty, so the file
//! comes back byte for byte.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::diagnostics::Diagnostics;
use crate::docker;
use crate::env::Env;
use crate::git::{installed_gits, Git, GitError};
use crate::gitconfig::{helper_chain, Entry, LIBGIT2_SYSTEM_FILE};
use crate::helper_value;
use crate::options::HelperOptions;
use crate::outcome::Outcome;
use crate::policy::DEFAULT_USERNAME;
use crate::server::{self, Origin, Server, ServerError};
use crate::token::{TokenSource, DEFAULT_TOKEN_ENV};

/// Whether to add the configuration or take it away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Configure,
    Unconfigure,
}

/// Which git configuration files to write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Target {
    /// The system files when they are all writable and `GIT_CONFIG_NOSYSTEM` is not set, else
    /// the global ones.
    #[default]
    Auto,
    /// `--system`.
    System,
    /// `--global`.
    Global,
    /// `--file PATH`.
    File(PathBuf),
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

/// A server and the https base URL its SSH-style URLs are rewritten to (with the instance's
/// relative root, e.g. `https://example.com/gitlab/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerBase {
    pub server: Server,
    pub base: String,
}

/// One `url.<base>.insteadOf = <value>` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub base: String,
    pub value: String,
}

/// One `git config --file` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `--fixed-value --unset-all key value`: every entry of `key` with exactly `value`.
    Unset { key: String, value: String },
    /// `--add key value`.
    Add { key: String, value: String },
}

impl Change {
    pub fn git_args(&self, file: &Path) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["config".into(), "--file".into(), file.into()];
        match self {
            Change::Unset { key, value } => {
                args.extend(["--fixed-value".into(), "--unset-all".into()]);
                args.extend([key.into(), value.into()]);
            }
            Change::Add { key, value } => {
                args.push("--add".into());
                args.extend([key.into(), value.into()]);
            }
        }
        args
    }

    /// The command as a user would type it.
    pub fn shell(&self, file: &Path) -> String {
        let words: Vec<String> = self
            .git_args(file)
            .iter()
            .map(|a| helper_value::quote(&a.to_string_lossy()))
            .collect();
        format!("git {}", words.join(" "))
    }
}

/// The servers from the environment and `--server`, each with its rewrite base.
pub fn targets(env: &Env, options: &[String]) -> Result<Vec<ServerBase>, ServerError> {
    let mut targets: Vec<ServerBase> = Vec::new();
    let mut push = |server: Server, raw: Option<&str>| {
        if targets.iter().any(|t| t.server.same_origin(&server)) {
            return;
        }
        let path = raw.map(relative_root).unwrap_or_default();
        let base = format!("{server}{path}/");
        targets.push(ServerBase { server, base });
    };
    if let Some(server) = server::from_env(env)? {
        let raw = match server.origin {
            Origin::ServerUrl => env.non_empty("CI_SERVER_URL").and_then(|v| v.to_str()),
            _ => None,
        };
        push(server, raw);
    }
    for value in options {
        push(Server::parse(value, Origin::Option)?, Some(value));
    }
    Ok(targets)
}

/// The path of a server URL without its trailing slash (GitLab's relative root), or "".
fn relative_root(raw: &str) -> String {
    let with_scheme;
    let text = if raw.contains("://") {
        raw
    } else {
        with_scheme = format!("https://{raw}");
        &with_scheme
    };
    crate::urls::parse(text)
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default()
}

/// The `insteadOf` rewrites for `--rewrite-ssh`: `git@<ssh host>:` and
/// `ssh://git@<ssh host>[:port]/` to each server's https base. The SSH host and port of the
/// environment (`CI_SERVER_SHELL_SSH_HOST`/`_PORT`) belong to the first server (the job's own
/// when `CI_SERVER_URL` is set); other servers use their own host and port 22. A value already
/// taken by an earlier server is not repeated (git would not know which to apply).
pub fn rewrites(
    targets: &[ServerBase],
    ssh_host: Option<&str>,
    ssh_port: Option<&str>,
) -> Vec<Rewrite> {
    let mut out: Vec<Rewrite> = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        let (host, port) = match i {
            0 => (
                ssh_host.unwrap_or(&target.server.host).to_ascii_lowercase(),
                ssh_port.filter(|p| *p != "22"),
            ),
            _ => (target.server.host.clone(), None),
        };
        let ssh = match port {
            Some(port) => format!("ssh://git@{host}:{port}/"),
            None => format!("ssh://git@{host}/"),
        };
        for value in [format!("git@{host}:"), ssh] {
            if !out.iter().any(|r| r.value == value) {
                out.push(Rewrite {
                    base: target.base.clone(),
                    value,
                });
            }
        }
    }
    out
}

/// The changes that make `entries` (one file) configured (`Action::Configure`) or free of our
/// configuration (`Action::Unconfigure`). Pure.
///
/// Removed first: every `credential.helper` value that is ours; in every `credential.<url>`
/// section holding our helper, our helper and the empty reset; the rewrites in `rewrites` that
/// are present. Then, to configure: the helper as the last `credential.helper`, for each server
/// an empty reset followed by the helper, and the rewrites.
pub fn plan(
    action: Action,
    entries: &[Entry],
    helper: &str,
    targets: &[ServerBase],
    rewrites: &[Rewrite],
) -> Vec<Change> {
    let mut changes: Vec<Change> = Vec::new();
    let unset = |changes: &mut Vec<Change>, key: &str, value: &str| {
        let change = Change::Unset {
            key: key.into(),
            value: value.into(),
        };
        if !changes.contains(&change) {
            changes.push(change);
        }
    };
    let ours = |e: &Entry| e.value.as_deref().is_some_and(helper_value::is_ours);
    let scoped_with_ours: Vec<&str> = entries
        .iter()
        .filter(|e| ours(e))
        .filter_map(|e| match e.parts() {
            ("credential", Some(url), "helper") => Some(url),
            _ => None,
        })
        .collect();
    for entry in entries {
        let value = entry.value.as_deref().unwrap_or_default();
        match entry.parts() {
            ("credential", None, "helper") if ours(entry) => unset(&mut changes, &entry.key, value),
            ("credential", Some(url), "helper")
                if entry.value.is_some()
                    && scoped_with_ours.contains(&url)
                    && (ours(entry) || value.is_empty()) =>
            {
                unset(&mut changes, &entry.key, value)
            }
            ("url", Some(base), "insteadof")
                if rewrites.iter().any(|r| r.base == base && r.value == value) =>
            {
                unset(&mut changes, &entry.key, value)
            }
            _ => {}
        }
    }
    if action == Action::Configure {
        // Entries the removals leave in place: a `credential.<url>` section that still holds
        // one of them stays where it is in the file — possibly before a later
        // `credential.helper = store` — so the reset goes into a fresh, equivalent section
        // (`<url>/`, which git matches the same way) that git appends at the end.
        let kept: Vec<&Entry> = entries
            .iter()
            .filter(|e| {
                !changes.iter().any(|c| {
                    matches!(c, Change::Unset { key, value }
                        if *key == e.key && Some(value.as_str()) == e.value.as_deref())
                })
            })
            .collect();
        let occupied = |url: &str| {
            kept.iter()
                .any(|e| matches!(e.parts(), ("credential", Some(u), _) if u == url))
        };
        let mut add = |key: String, value: &str| {
            changes.push(Change::Add {
                key,
                value: value.into(),
            })
        };
        add("credential.helper".into(), helper);
        for target in targets {
            let plain = target.server.to_string();
            let slashed = format!("{plain}/");
            let url = match occupied(&plain) && !occupied(&slashed) {
                true => slashed,
                false => plain,
            };
            let key = format!("credential.{url}.helper");
            add(key.clone(), "");
            add(key, helper);
        }
        for rewrite in rewrites {
            add(format!("url.{}.insteadOf", rewrite.base), &rewrite.value);
        }
    }
    changes
}

/// The options written into the helper value: those that differ from the defaults.
pub fn helper_args(options: &HelperOptions, cwd: &Path) -> Vec<String> {
    let mut args = Vec::new();
    for server in &options.servers {
        args.extend(["--server".to_string(), server.clone()]);
    }
    if options.username != DEFAULT_USERNAME {
        args.extend(["--username".to_string(), options.username.clone()]);
    }
    match &options.token {
        TokenSource::File(path) => {
            let path = cwd.join(path);
            args.extend([
                "--token-file".to_string(),
                path.to_string_lossy().into_owned(),
            ]);
        }
        TokenSource::Env(name) if name != DEFAULT_TOKEN_ENV => {
            args.extend(["--token-env".to_string(), name.clone()]);
        }
        TokenSource::Env(_) => {}
    }
    args
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
    #[error("{0}")]
    Docker(#[from] docker::Error),
}

/// Which files a target means. `--global`: `$HOME/.gitconfig`, which git and libgit2 both read,
/// and also `GIT_CONFIG_GLOBAL` when it names another file (git then reads only that one, and
/// libgit2 never reads it). `--system`: the system file of each git present, and
/// `/etc/gitconfig` for libgit2. Neither: the system files when all are writable and
/// `GIT_CONFIG_NOSYSTEM` is not set, else the global ones.
pub fn target_files(target: &Target, env: &Env) -> Result<Vec<PathBuf>, Error> {
    match target {
        Target::File(file) => return Ok(vec![file.clone()]),
        Target::System => return Ok(system_files(env)),
        Target::Global => return global_files(env),
        Target::Auto => {}
    }
    let system = system_files(env);
    if !env.flag("GIT_CONFIG_NOSYSTEM") && system.iter().all(|f| writable(f)) {
        Ok(system)
    } else {
        global_files(env)
    }
}

fn system_files(env: &Env) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = installed_gits(env)
        .into_iter()
        .map(|git| Git::at(git, env).system_file())
        .collect();
    files.push(PathBuf::from(LIBGIT2_SYSTEM_FILE));
    dedup_paths(files)
}

fn global_files(env: &Env) -> Result<Vec<PathBuf>, Error> {
    let home = env.non_empty("HOME").ok_or(Error::NoHome)?;
    let mut files = vec![Path::new(home).join(".gitconfig")];
    if let Some(global) = env.non_empty("GIT_CONFIG_GLOBAL") {
        files.push(PathBuf::from(global));
    }
    Ok(dedup_paths(files))
}

fn dedup_paths(files: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut out = Vec::new();
    for file in files {
        let canonical = canonical(&file);
        if !seen.contains(&canonical) {
            seen.push(canonical);
            out.push(file);
        }
    }
    out
}

/// The file's canonical path, or its directory's canonical path joined with its name.
fn canonical(file: &Path) -> PathBuf {
    if let Ok(path) = file.canonicalize() {
        return path;
    }
    match (file.parent(), file.file_name()) {
        (Some(dir), Some(name)) => dir
            .canonicalize()
            .map(|d| d.join(name))
            .unwrap_or_else(|_| file.to_path_buf()),
        _ => file.to_path_buf(),
    }
}

/// Can this file be written (or created)? Opening for append changes nothing; creating is
/// probed with a new empty file that is removed again.
fn writable(file: &Path) -> bool {
    if file.exists() {
        return std::fs::OpenOptions::new().append(true).open(file).is_ok();
    }
    let Some(dir) = file.parent() else {
        return false;
    };
    let probe = dir.join(format!(
        ".git-credential-gitlab-ci-probe-{}",
        std::process::id()
    ));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            true
        }
        Err(_) => false,
    }
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
    let result =
        configure_git(action, args, options, env, diagnostics, out).and_then(|()| {
            match (&args.docker, action) {
                (Some(docker), Action::Configure) => {
                    configure_docker(docker, args.dry_run, env, out)
                }
                _ => Ok(()),
            }
        });
    match result {
        Ok(()) => Outcome::Success,
        Err(e) => {
            diagnostics.error(&e);
            Outcome::Failure
        }
    }
}

/// `--docker`: the `credHelpers` entries for the job's registries, or the line saying so.
fn configure_docker(
    options: &docker::Options,
    dry_run: bool,
    env: &Env,
    out: &mut impl Write,
) -> Result<(), Error> {
    let registries =
        docker::configured_registries(env, &options.registries).map_err(docker::Error::from)?;
    if dry_run {
        let names: Vec<String> = registries.iter().map(|r| format!("\"{r}\"")).collect();
        let _ = writeln!(
            out,
            "# docker: add credHelpers {} (value \"gitlab-ci\") to $DOCKER_CONFIG/config.json",
            names.join(", ")
        );
        return Ok(());
    }
    docker::configure_and_report(&registries, env, out)?;
    Ok(())
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
    let targets = targets(env, &options.servers)?;
    let var = |name| env.non_empty(name).and_then(|v| v.to_str());
    let rewrites = rewrites(
        &targets,
        var("CI_SERVER_SHELL_SSH_HOST"),
        var("CI_SERVER_SHELL_SSH_PORT"),
    );
    let rewrites = match (action, args.rewrite_ssh) {
        (Action::Configure, false) => Vec::new(),
        _ => rewrites,
    };
    let cwd = env.cwd().unwrap_or(Path::new("/"));
    let exe = program_path(env, cwd)?;
    let exe = exe.to_str().ok_or(Error::NonUtf8Path)?.to_string();
    let helper = helper_value::compose(&exe, &helper_args(options, cwd));
    let files = target_files(&args.target, env)?;
    let git = Git::new(env);
    let verb = match action {
        Action::Configure => "configured",
        Action::Unconfigure => "unconfigured",
    };

    for file in &files {
        let entries = git.list_file(file)?;
        let changes = plan(action, &entries, &helper, &targets, &rewrites);
        if args.dry_run {
            if changes.is_empty() {
                let _ = writeln!(out, "# {}: nothing to change", file.display());
            }
            for change in &changes {
                let _ = writeln!(out, "{}", change.shell(file));
            }
            continue;
        }
        if action == Action::Configure {
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::CreateDir(dir.to_path_buf(), e.kind()))?;
            }
        }
        for change in &changes {
            let args = change.git_args(file);
            let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
            // 5: nothing matched an unset; the plan only unsets what it read, but a concurrent
            // writer may have been first, and the result is the same.
            git.run(&args, &[5])?;
        }
        if action == Action::Configure {
            let after = git.list_file(file)?;
            let last = after
                .iter()
                .rev()
                .find(|e| e.key == "credential.helper")
                .and_then(|e| e.value.as_deref());
            if last != Some(helper.as_str()) {
                return Err(Error::NotLast(file.clone()));
            }
        }
        let _ = writeln!(
            out,
            "{}",
            summary(verb, file, &changes, &targets, &rewrites)
        );
    }

    if action == Action::Configure && !args.dry_run {
        if targets.is_empty() {
            diagnostics.error(&"note: no GitLab server is known (no CI_SERVER_URL, no --server), so no per-server reset was written; helpers configured before this one would also receive the job token");
        }
        warn_about_other_helpers(&git, &targets, diagnostics);
    }
    Ok(())
}

fn summary(
    verb: &str,
    file: &Path,
    changes: &[Change],
    targets: &[ServerBase],
    rewrites: &[Rewrite],
) -> String {
    let mut text = format!("{verb} {}", file.display());
    if verb == "configured" {
        let _ = write!(text, ": the helper is the last credential.helper");
        if !targets.is_empty() {
            let names: Vec<String> = targets.iter().map(|t| t.server.to_string()).collect();
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
fn warn_about_other_helpers(git: &Git, targets: &[ServerBase], diagnostics: &Diagnostics) {
    let Ok(entries) = git.list_all() else {
        return;
    };
    for target in targets {
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

/// The absolute path to write: the path this program was started by (through a symbolic link
/// such as /usr/local/bin/git-credential-gitlab-ci, or found on PATH) when it leads to this very
/// executable, so that an upgrade behind the link keeps working; else the executable's own path.
fn program_path(env: &Env, cwd: &Path) -> Result<PathBuf, Error> {
    let exe = env.exe().map_err(Error::CurrentExe)?.to_path_buf();
    let real = exe.canonicalize().unwrap_or_else(|_| exe.clone());
    let candidate = env.argv0().map(PathBuf::from).and_then(|arg0| {
        if arg0.components().count() > 1 {
            Some(cwd.join(arg0))
        } else {
            env.path_dirs()
                .into_iter()
                .map(|dir| dir.join(&arg0))
                .find(|p| p.is_file())
        }
    });
    match candidate.map(|p| normalize(&p)) {
        Some(path) if path.is_absolute() && path.canonicalize().ok() == Some(real) => Ok(path),
        _ => Ok(exe),
    }
}

/// Removes `.` components and resolves `..` lexically (the path is known to exist).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELPER: &str = "/usr/local/bin/git-credential-gitlab-ci";

    fn gitlab() -> Vec<ServerBase> {
        let env = Env::from_vars([("CI_SERVER_URL", "https://gitlab.example.com/gitlab")]);
        targets(&env, &["localhost:8443".into()]).unwrap()
    }

    fn e(key: &str, value: &str) -> Entry {
        Entry::new(key, Some(value))
    }

    #[test]
    fn targets_keep_the_relative_root_for_rewrites_only() {
        let t = gitlab();
        assert_eq!(t[0].server.to_string(), "https://gitlab.example.com");
        assert_eq!(t[0].base, "https://gitlab.example.com/gitlab/");
        assert_eq!(t[1].server.to_string(), "https://localhost:8443");
        assert_eq!(t[1].base, "https://localhost:8443/");
    }

    #[test]
    fn rewrites_use_the_shell_ssh_host_and_port_for_the_first_server() {
        let t = gitlab();
        let values = |r: Vec<Rewrite>| -> Vec<(String, String)> {
            r.into_iter().map(|r| (r.base, r.value)).collect()
        };
        assert_eq!(
            values(rewrites(&t, Some("ssh.example.com"), Some("2222"))),
            [
                (
                    "https://gitlab.example.com/gitlab/".into(),
                    "git@ssh.example.com:".into()
                ),
                (
                    "https://gitlab.example.com/gitlab/".into(),
                    "ssh://git@ssh.example.com:2222/".into()
                ),
                ("https://localhost:8443/".into(), "git@localhost:".into()),
                (
                    "https://localhost:8443/".into(),
                    "ssh://git@localhost/".into()
                ),
            ]
        );
        let r = rewrites(&t[..1], None, Some("22"));
        assert_eq!(r[0].value, "git@gitlab.example.com:");
        assert_eq!(r[1].value, "ssh://git@gitlab.example.com/");
    }

    #[test]
    fn configure_plan_adds_helper_last_and_a_reset_per_server() {
        let t = gitlab();
        let changes = plan(
            Action::Configure,
            &[e("credential.helper", "store")],
            HELPER,
            &t,
            &[],
        );
        let add = |k: &str, v: &str| Change::Add {
            key: k.into(),
            value: v.into(),
        };
        assert_eq!(
            changes,
            [
                add("credential.helper", HELPER),
                add("credential.https://gitlab.example.com.helper", ""),
                add("credential.https://gitlab.example.com.helper", HELPER),
                add("credential.https://localhost:8443.helper", ""),
                add("credential.https://localhost:8443.helper", HELPER),
            ]
        );
    }

    #[test]
    fn plans_remove_earlier_values_of_our_helper_and_nothing_else() {
        let old = "/old/path/git-credential-gitlab-ci --server x.example";
        let entries = [
            e("credential.helper", "store"),
            e("credential.helper", old),
            e("credential.https://x.example.helper", ""),
            e("credential.https://x.example.helper", old),
            e("credential.https://y.example.helper", ""),
            e("credential.https://y.example.helper", "cache"),
            e("url.https://x.example/.insteadof", "git@x.example:"),
            e("url.https://x.example/.insteadof", "git@elsewhere:"),
        ];
        let rewrites = vec![Rewrite {
            base: "https://x.example/".into(),
            value: "git@x.example:".into(),
        }];
        let unset = |k: &str, v: &str| Change::Unset {
            key: k.into(),
            value: v.into(),
        };
        assert_eq!(
            plan(Action::Unconfigure, &entries, HELPER, &[], &rewrites),
            [
                unset("credential.helper", old),
                unset("credential.https://x.example.helper", ""),
                unset("credential.https://x.example.helper", old),
                unset("url.https://x.example/.insteadof", "git@x.example:"),
            ]
        );
        let configure = plan(Action::Configure, &entries, HELPER, &[], &rewrites);
        assert_eq!(configure.len(), 4 + 2);
        assert_eq!(
            configure[5],
            Change::Add {
                key: "url.https://x.example/.insteadOf".into(),
                value: "git@x.example:".into()
            }
        );
    }

    #[test]
    fn reset_goes_into_a_fresh_section_when_the_servers_section_holds_other_keys() {
        let t = &gitlab()[..1];
        let entries = [
            e(
                "credential.https://gitlab.example.com.username",
                "gitlab-ci-token",
            ),
            e("credential.helper", "store"),
        ];
        let changes = plan(Action::Configure, &entries, HELPER, t, &[]);
        assert_eq!(
            changes[1],
            Change::Add {
                key: "credential.https://gitlab.example.com/.helper".into(),
                value: "".into()
            }
        );
        // Configuring again finds its own section and keeps using it.
        let configured = [
            e(
                "credential.https://gitlab.example.com.username",
                "gitlab-ci-token",
            ),
            e("credential.helper", "store"),
            e("credential.helper", HELPER),
            e("credential.https://gitlab.example.com/.helper", ""),
            e("credential.https://gitlab.example.com/.helper", HELPER),
        ];
        let again = plan(Action::Configure, &configured, HELPER, t, &[]);
        assert_eq!(again.len(), 3 + 3, "{again:?}");
        assert_eq!(again[4], changes[1]);
        // and the helper chain for the server is ours alone.
        let chain = helper_chain(&configured, &t[0].server);
        assert_eq!(chain.len(), 1);
    }

    #[test]
    fn helper_args_carry_only_non_default_options() {
        let mut options = HelperOptions::default();
        assert!(helper_args(&options, Path::new("/w")).is_empty());
        options.servers = vec!["https://a.example".into()];
        options.token = TokenSource::Env("MY_TOKEN".into());
        assert_eq!(
            helper_args(&options, Path::new("/w")),
            ["--server", "https://a.example", "--token-env", "MY_TOKEN"]
        );
        options.token = TokenSource::File("secrets/t".into());
        assert_eq!(
            helper_args(&options, Path::new("/w"))[2..],
            ["--token-file", "/w/secrets/t"]
        );
    }

    #[test]
    fn dry_run_commands_are_shell_quoted() {
        let change = Change::Add {
            key: "credential.https://a.example.helper".into(),
            value: "".into(),
        };
        assert_eq!(
            change.shell(Path::new("/h/my config")),
            "git config --file '/h/my config' --add credential.https://a.example.helper ''"
        );
    }
}
