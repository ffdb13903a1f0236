//! The probes: `git ls-remote` — what a clone or fetch does first — and, for a push, a dry-run
//! push of nothing from an empty repository (GitLab's push check is on the `git-receive-pack`
//! discovery, so nothing is sent); several at once, all within one time limit.
//!
//! **A probe runs through this helper alone** (issue 11, rule 6). git is given
//! `-c credential.helper= -c credential.helper=<ours> -c core.askPass=`: command-line entries are
//! read after every file and after `GIT_CONFIG_COUNT`'s, and git keeps one list of helpers for a
//! URL — `credential.helper` and every matching `credential.<url>.helper` alike — that an empty
//! value clears. So no `store`, `cache` or other program configured anywhere receives the token
//! (on success git sends `store` to each helper in the list; after a 401, `erase`), and no
//! askpass program is asked for a password. Everything else of the user's configuration (CA,
//! proxy, `insteadOf`) applies, as it will for the job. The report says separately what the real
//! chain would do ([`crate::gitconfig::helper_chain`]).

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::diagnostics::Diagnostics;
use crate::doctor::git_failure::Ended;
use crate::env::Env;
use crate::process::{self, Limits};

/// Probes running at once: enough for a project's private dependencies to take about as long
/// as the slowest, few enough not to look like a flood to the server.
pub const MAX_PARALLEL: usize = 8;

/// Most bytes kept of git's output: its errors are a few lines.
const MAX_OUTPUT: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// `git ls-remote`: clone, fetch, submodule update.
    Read,
    /// `git push --dry-run`: GitLab's push check.
    Push,
}

/// What to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL git is given: http(s), without user information.
    pub url: String,
    pub access: Access,
    /// The `credential.helper` value the probe runs: ours as git's configuration runs it for the
    /// URL's server, or this binary when git runs none of ours there.
    pub helper: String,
}

/// What a probe did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub target: Target,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// git ran; its stderr, scrubbed of every secret in use.
    Finished { ended: Ended, stderr: String },
    /// The time limit ran out before this probe's turn.
    NotStarted,
    /// git (or the empty repository a push probe needs) could not be started: why.
    CannotRun(String),
}

/// Runs every probe, at most [`MAX_PARALLEL`] at once, all within `timeout` from now; the
/// results in the order of `targets`.
pub fn run_all(
    targets: &[Target],
    timeout: Duration,
    env: &Env,
    diagnostics: &Diagnostics,
) -> Vec<Probe> {
    let deadline = Instant::now().checked_add(timeout);
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Outcome>>> = targets.iter().map(|_| Mutex::new(None)).collect();
    let work = || loop {
        let i = next.fetch_add(1, Ordering::SeqCst);
        let Some(target) = targets.get(i) else {
            break;
        };
        let outcome = run_one(target, deadline, env, diagnostics);
        if let Ok(mut slot) = results[i].lock() {
            *slot = Some(outcome);
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..MAX_PARALLEL.min(targets.len()) {
            // A thread that cannot be made leaves its share to the others (this one included).
            let _ = std::thread::Builder::new().spawn_scoped(scope, work);
        }
        work();
    });
    targets
        .iter()
        .zip(results)
        .map(|(target, slot)| Probe {
            target: target.clone(),
            outcome: slot
                .into_inner()
                .ok()
                .flatten()
                .unwrap_or(Outcome::NotStarted),
        })
        .collect()
}

fn run_one(
    target: &Target,
    deadline: Option<Instant>,
    env: &Env,
    diagnostics: &Diagnostics,
) -> Outcome {
    let left = |deadline: Option<Instant>| match deadline {
        None => Some(Duration::MAX),
        Some(d) => Some(d.saturating_duration_since(Instant::now())).filter(|l| !l.is_zero()),
    };
    let Some(timeout) = left(deadline) else {
        return Outcome::NotStarted;
    };
    let (mut command, _repo) = match target.access {
        Access::Read => {
            let mut command = git(env, &target.helper);
            // Only HEAD: the same access check, one line of output.
            command.args(["ls-remote", "--", &target.url, "HEAD"]);
            (command, None)
        }
        Access::Push => {
            let repo = match EmptyRepository::create(env, timeout) {
                Ok(repo) => repo,
                Err(e) => return Outcome::CannotRun(e),
            };
            let mut command = git(env, &target.helper);
            // `:` pushes the branches both sides have: none, from an empty repository.
            command
                .args(["push", "--dry-run", "--no-verify", "--porcelain", "--"])
                .arg(&target.url)
                .arg(":")
                .current_dir(&repo.0);
            (command, Some(repo))
        }
    };
    let Some(timeout) = left(deadline) else {
        return Outcome::NotStarted;
    };
    let limits = Limits {
        timeout,
        max_output: MAX_OUTPUT,
    };
    match process::run(&mut command, limits) {
        Ok(done) => Outcome::Finished {
            ended: match done.status {
                None => Ended::Killed,
                Some(status) => status.code().map_or(Ended::Killed, Ended::Exited),
            },
            stderr: diagnostics.scrub(&String::from_utf8_lossy(&done.stderr)),
        },
        Err(e) => Outcome::CannotRun(format!("cannot run git ({})", e.kind())),
    }
}

/// git with this helper alone as its credential helper, no askpass, no prompt, stdin closed.
fn git(env: &Env, helper: &str) -> Command {
    let mut command = env.command("git");
    command
        .args(isolating_args(helper))
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS")
        .stdin(Stdio::null());
    command
}

/// The configuration that makes `helper` the only credential helper and asks no askpass
/// program (see the module documentation).
pub fn isolating_args(helper: &str) -> Vec<OsString> {
    [
        "-c".to_string(),
        "credential.helper=".to_string(),
        "-c".to_string(),
        format!("credential.helper={helper}"),
        "-c".to_string(),
        "core.askPass=".to_string(),
    ]
    .into_iter()
    .map(OsString::from)
    .collect()
}

/// An empty bare repository in a fresh private directory, removed when dropped: what
/// `git push` needs to run at all.
struct EmptyRepository(PathBuf);

impl EmptyRepository {
    fn create(env: &Env, timeout: Duration) -> Result<EmptyRepository, String> {
        use std::os::unix::fs::DirBuilderExt;
        let base = env
            .non_empty("TMPDIR")
            .map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
        let mut made = None;
        for attempt in 0..100u32 {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let dir = base.join(format!(
                "git-credential-gitlab-ci-push-probe.{}.{nanos}.{attempt}",
                std::process::id()
            ));
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => {
                    made = Some(dir);
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(format!(
                        "cannot make a directory in {} ({})",
                        base.display(),
                        e.kind()
                    ))
                }
            }
        }
        let repo = EmptyRepository(made.ok_or("cannot make a fresh directory for the push probe")?);
        let mut init = env.command("git");
        init.args(["init", "--bare", "--quiet"])
            .arg(Path::new(&repo.0))
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .stdin(Stdio::null());
        let limits = Limits {
            timeout,
            max_output: MAX_OUTPUT,
        };
        match process::run(&mut init, limits) {
            Ok(done) if done.success() => Ok(repo),
            Ok(_) => Err("git init failed for the push probe's empty repository".into()),
            Err(e) => Err(format!("cannot run git ({})", e.kind())),
        }
    }
}

impl Drop for EmptyRepository {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_git(script: &str) -> (tempfile::TempDir, Env) {
        use std::os::unix::fs::PermissionsExt;
        let bin = tempfile::tempdir().unwrap();
        let git = bin.path().join("git");
        std::fs::write(&git, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&git, std::fs::Permissions::from_mode(0o755)).unwrap();
        let env = Env::from_vars([("PATH", bin.path())]);
        (bin, env)
    }

    fn target(url: &str) -> Target {
        Target {
            url: url.into(),
            access: Access::Read,
            helper: "/usr/local/bin/git-credential-gitlab-ci".into(),
        }
    }

    #[test]
    fn git_is_run_with_this_helper_alone_and_what_it_said_is_scrubbed() {
        // The fake git prints its arguments and a secret on stderr.
        let (_bin, env) = fake_git(
            "echo \"$@\" >&2; echo \"fatal: glcbt-64_probe_secret rejected\" >&2; exit 128",
        );
        let secret = zeroize::Zeroizing::new("glcbt-64_probe_secret".to_string());
        let diagnostics = Diagnostics::new(false, vec![secret]);
        let probes = run_all(
            &[target("https://h.example/x.git")],
            Duration::from_secs(60),
            &env,
            &diagnostics,
        );
        let Outcome::Finished { ended, stderr } = &probes[0].outcome else {
            panic!("{probes:?}");
        };
        assert_eq!(*ended, Ended::Exited(128));
        assert_eq!(
            stderr,
            "-c credential.helper= -c credential.helper=/usr/local/bin/git-credential-gitlab-ci -c core.askPass= ls-remote -- https://h.example/x.git HEAD\nfatal: [REDACTED] rejected\n"
        );
    }

    #[test]
    fn a_git_that_cannot_run_and_a_spent_time_limit_are_outcomes_of_their_own() {
        let env = Env::from_vars([("PATH", "/nonexistent")]);
        let diagnostics = Diagnostics::new(false, Vec::new());
        let targets = [target("https://h.example/x.git")];
        let probes = run_all(&targets, Duration::from_secs(5), &env, &diagnostics);
        assert!(
            matches!(&probes[0].outcome, Outcome::CannotRun(why) if why.starts_with("cannot run git")),
            "{probes:?}"
        );
        let probes = run_all(&targets, Duration::ZERO, &env, &diagnostics);
        assert_eq!(probes[0].outcome, Outcome::NotStarted);
    }

    #[test]
    fn every_target_gets_its_own_result_in_order() {
        let (_bin, env) = fake_git("case \"$9\" in *fail*) exit 2;; esac");
        let diagnostics = Diagnostics::new(false, Vec::new());
        let targets: Vec<Target> = (0..20)
            .map(|i| {
                target(&format!(
                    "https://h.example/{}{i}.git",
                    if i % 3 == 0 { "fail" } else { "ok" }
                ))
            })
            .collect();
        let probes = run_all(&targets, Duration::from_secs(60), &env, &diagnostics);
        for (i, probe) in probes.iter().enumerate() {
            assert_eq!(probe.target, targets[i]);
            let Outcome::Finished { ended, .. } = probe.outcome else {
                panic!("{probe:?}");
            };
            let expected = if i % 3 == 0 { 2 } else { 0 };
            assert_eq!(ended, Ended::Exited(expected), "{probe:?}");
        }
    }
}
