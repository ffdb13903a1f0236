//! `configure` and `doctor` driven in-process, as `main` drives them ([`program::run`]), with an environment
//! snapshot made here (a temporary HOME, a made-up CI_SERVER_URL and token) instead of the test
//! process's environment, which stays untouched. git runs with exactly the snapshot.
//!
//! The command line comes from the binary's own `src/cli.rs`, included the way the man-page
//! generator includes it: doctor reads helper values with that parser.

#[allow(dead_code)]
#[path = "../src/cli.rs"]
mod cli;

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use git_credential_gitlab_ci::env::Env;
use git_credential_gitlab_ci::outcome::Outcome;
use git_credential_gitlab_ci::program;

const TOKEN: &str = "glcbt-64_in_process_0123456789";

/// A job: its own HOME (and nothing from this process but PATH), the helper binary standing at
/// `bin/git-credential-gitlab-ci` as this program's executable.
struct Job {
    dir: tempfile::TempDir,
    vars: Vec<(OsString, OsString)>,
}

impl Job {
    fn new() -> Job {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["home", "bin", "work"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        let exe = dir.path().join("bin/git-credential-gitlab-ci");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut job = Job {
            vars: Vec::new(),
            dir,
        };
        job.set("HOME", job.path("home"));
        job.set("PATH", std::env::var_os("PATH").unwrap_or_default());
        job.set("GIT_CONFIG_NOSYSTEM", "1");
        // doctor's model of libgit2 reads this instead of the machine's /etc/gitconfig.
        job.set(
            "GIT_CREDENTIAL_GITLAB_CI_LIBGIT2_SYSTEM_CONFIG",
            job.path("system.gitconfig"),
        );
        job
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }

    fn set(&mut self, name: &str, value: impl Into<OsString>) {
        self.vars.retain(|(k, _)| k != name);
        self.vars.push((name.into(), value.into()));
    }

    fn exe(&self) -> PathBuf {
        self.path("bin/git-credential-gitlab-ci")
    }

    fn env(&self) -> Env {
        Env::from_vars(self.vars.clone())
            .with_cwd(self.path("work"))
            .with_exe(self.exe())
            .with_argv0(self.exe())
    }

    fn global_config(&self) -> String {
        std::fs::read_to_string(self.path("home/.gitconfig")).unwrap_or_default()
    }

    /// Runs `git-credential-gitlab-ci <words>` in-process, as `main` does: the command line
    /// parsed by the binary's parser, run by the library with this job's snapshot.
    fn run(&self, words: &[&str]) -> (Outcome, String) {
        let args: Vec<OsString> = std::iter::once("git-credential-gitlab-ci")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect();
        let invocation = cli::parse(&args).unwrap();
        assert_eq!(
            invocation.protocol_variables(),
            None,
            "a verb takes the whole snapshot"
        );
        let mut out = Vec::new();
        let outcome = program::run(
            invocation,
            &self.env(),
            &cli::read_helper_options,
            std::io::empty(),
            &mut out,
        );
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.contains(TOKEN),
            "the token reached the output:\n{text}"
        );
        (outcome, text)
    }
}

fn git_config_get(file: &Path, key: &str) -> Vec<String> {
    let out = std::process::Command::new("git")
        .args(["config", "--file"])
        .arg(file)
        .args(["--get-all", key])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn configure_writes_the_snapshots_home_and_git_config_global_and_unconfigure_undoes_it() {
    let mut job = Job::new();
    job.set("CI_SERVER_URL", "https://gitlab.example.com");
    let runner_file = job.path("runner.gitconfig");
    job.set("GIT_CONFIG_GLOBAL", &runner_file);

    let (outcome, out) = job.run(&["configure", "--global"]);
    assert_eq!(outcome, Outcome::Success, "{out}");
    let exe = job.exe().display().to_string();
    for file in [job.path("home/.gitconfig"), runner_file.clone()] {
        assert_eq!(git_config_get(&file, "credential.helper"), [exe.as_str()]);
        assert_eq!(
            git_config_get(&file, "credential.https://gitlab.example.com.helper"),
            ["".to_string(), exe.clone()]
        );
        assert!(
            out.contains(&format!("configured {}", file.display())),
            "{out}"
        );
    }

    let (outcome, out) = job.run(&["unconfigure", "--global"]);
    assert_eq!(outcome, Outcome::Success, "{out}");
    assert_eq!(job.global_config().trim(), "", "{}", job.global_config());
    assert!(git_config_get(&runner_file, "credential.helper").is_empty());
}

#[test]
fn configure_dry_run_prints_the_commands_and_writes_nothing() {
    let mut job = Job::new();
    job.set("CI_SERVER_URL", "https://gitlab.example.com");
    job.set("CI_REGISTRY", "registry.example.com");
    let (outcome, out) = job.run(&["configure", "--global", "--dry-run", "--docker"]);
    assert_eq!(outcome, Outcome::Success, "{out}");
    assert!(out.contains("git config --file"), "{out}");
    assert!(out.contains("--add credential.helper"), "{out}");
    assert!(
        out.contains("# docker: add credHelpers \"registry.example.com\""),
        "{out}"
    );
    assert!(!job.path("home/.gitconfig").exists());
    assert!(!job.path("home/.docker").exists());
}

#[test]
fn configure_without_home_in_the_snapshot_is_an_error_that_says_so() {
    let mut job = Job::new();
    job.vars.retain(|(k, _)| k != "HOME");
    let (outcome, _) = job.run(&["configure", "--global"]);
    assert_eq!(outcome, Outcome::Failure);
}

#[test]
fn doctor_is_healthy_after_configure_and_reads_only_the_snapshot() {
    let mut job = Job::new();
    job.set("CI_SERVER_URL", "https://gitlab.example.com");
    job.set("CI_JOB_TOKEN", TOKEN);
    assert_eq!(job.run(&["configure", "--global"]).0, Outcome::Success);

    let (outcome, report) = job.run(&["doctor"]);
    assert_eq!(outcome, Outcome::Success, "{report}");
    assert!(report.contains("healthy: no problem found"), "{report}");
    assert!(
        report.contains("answers for https://gitlab.example.com (from CI_SERVER_URL)"),
        "{report}"
    );
    assert!(
        report.contains("git runs only this helper (from"),
        "{report}"
    );

    // Without the token in the snapshot, whatever this process's environment holds.
    job.vars.retain(|(k, _)| k != "CI_JOB_TOKEN");
    let (outcome, report) = job.run(&["doctor"]);
    assert_eq!(outcome, Outcome::Failure, "{report}");
    assert!(
        report.contains("the environment variable CI_JOB_TOKEN is not set"),
        "{report}"
    );
}

#[test]
fn doctor_reads_servers_and_the_token_source_from_helper_values_with_the_binarys_parser() {
    let mut job = Job::new();
    job.set("MY_TOKEN", TOKEN);
    let configured = job.run(&[
        "configure",
        "--global",
        "--server=https://gitlab.example.com:8443",
        "--token-env",
        "MY_TOKEN",
    ]);
    assert_eq!(configured.0, Outcome::Success, "{}", configured.1);
    assert!(job.global_config().contains("--token-env MY_TOKEN"));

    let (outcome, report) = job.run(&["doctor"]);
    assert_eq!(outcome, Outcome::Success, "{report}");
    assert!(
        report.contains(
            "answers for https://gitlab.example.com:8443 (from --server in the helper value in"
        ),
        "{report}"
    );
    assert!(
        report.contains("available from the environment variable MY_TOKEN"),
        "{report}"
    );
}
