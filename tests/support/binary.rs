//! The one runner for the helper binary, and the output rules every run must obey.
//!
//! [`Run`] builds one invocation the way git makes it — options first, then the operation —
//! with an empty environment apart from what the test sets, and [`Run::expect`] checks an
//! [`Outcome`] together with the stderr rules.
//!
//! Which binary runs: [`path`], the one cargo built for these tests, unless the variable
//! [`OVERRIDE_VAR`] (`HELPER_UNDER_TEST`) names another executable by absolute path — for
//! instance a wrapper script that runs another architecture's build under an emulator:
//!
//! ```sh
//! printf '#!/bin/sh\nexec qemu-aarch64-static /abs/aarch64/git-credential-gitlab-ci "$@"\n' > /tmp/arm64
//! chmod +x /tmp/arm64
//! HELPER_UNDER_TEST=/tmp/arm64 cargo test --test hostile_inputs --test git_credential_fill
//! ```
//!
//! The override is announced once per test binary on stderr (not captured by the test
//! harness), and it also becomes the `credential.helper` of every [`super::ClientEnv`]. Tests
//! that need the file itself — a symlink under the docker name, a copy into a chroot, its ELF
//! headers — use [`built`], which the override does not change.
#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// Every stderr line of ours starts with this.
pub const PREFIX: &str = "git-credential-gitlab-ci:";

/// Names an executable to run instead of the binary cargo built (see the module docs).
pub const OVERRIDE_VAR: &str = "HELPER_UNDER_TEST";

/// A run that takes longer than this has hung: it is killed and the test fails. Generous,
/// because the override may run the binary under an emulator on a loaded machine.
pub const HANG_TIMEOUT: Duration = Duration::from_secs(60);

/// The binary cargo built for these tests: the file itself.
pub fn built() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_git-credential-gitlab-ci"))
}

/// What the tests run as the helper: `$HELPER_UNDER_TEST` when set, else [`built`].
pub fn path() -> PathBuf {
    static CHOSEN: OnceLock<PathBuf> = OnceLock::new();
    CHOSEN
        .get_or_init(|| match std::env::var_os(OVERRIDE_VAR) {
            Some(value) if !value.is_empty() => {
                let chosen = PathBuf::from(value);
                check_override(&chosen);
                // Straight to the stream, so that it shows even for tests that pass.
                let _ = writeln!(
                    std::io::stderr(),
                    "NOTE: {OVERRIDE_VAR} is set: the helper under test is {}, not {}",
                    chosen.display(),
                    built().display()
                );
                chosen
            }
            _ => built(),
        })
        .clone()
}

fn check_override(path: &Path) {
    assert!(
        path.is_absolute(),
        "{OVERRIDE_VAR} must be an absolute path, not {}",
        path.display()
    );
    let meta = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{OVERRIDE_VAR}={}: {e}", path.display()));
    assert!(
        meta.is_file() && meta.permissions().mode() & 0o111 != 0,
        "{OVERRIDE_VAR}={} is not an executable file",
        path.display()
    );
}

/// What a run must produce.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    /// stdout is exactly `username=gitlab-ci-token\npassword=<token>\n`, exit 0.
    Answer(&'a str),
    /// Empty stdout, exit 0.
    Nothing,
    /// Empty stdout, exit 1, exactly one stderr line that contains none of these strings.
    Err(&'a [&'a str]),
}

/// One invocation, with an empty environment apart from what the test sets.
#[derive(Clone)]
pub struct Run {
    program: PathBuf,
    options: Vec<OsString>,
    operation: Vec<OsString>,
    env: Vec<(OsString, Option<OsString>)>,
    stdin: Vec<u8>,
}

impl Run {
    /// `words` are the operation (and anything git would put after the options).
    pub fn new(words: &[&str]) -> Run {
        Run {
            program: path(),
            options: Vec::new(),
            operation: words.iter().map(OsString::from).collect(),
            env: Vec::new(),
            stdin: Vec::new(),
        }
    }

    pub fn get(input: &[u8]) -> Run {
        Run::new(&["get"]).stdin(input)
    }

    /// Runs `program` instead: another name for the binary (a `docker-credential-gitlab-ci`
    /// symlink to [`built`]) or a launcher such as `chroot` (its arguments go in as options).
    pub fn program(mut self, program: impl Into<PathBuf>) -> Run {
        self.program = program.into();
        self
    }

    pub fn stdin(mut self, input: &[u8]) -> Run {
        self.stdin = input.to_vec();
        self
    }

    /// An option; options always come before the operation, as git passes them.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Run {
        self.options.push(arg.as_ref().to_owned());
        self
    }

    /// One more word after the operation, as bytes (a URL Go appends to `goauth`, a
    /// keyring SERVICE that is not UTF-8).
    pub fn then(mut self, word: impl AsRef<OsStr>) -> Run {
        self.operation.push(word.as_ref().to_owned());
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Run {
        self.env
            .push((key.into(), Some(value.as_ref().to_os_string())));
        self
    }

    pub fn env_remove(mut self, key: &str) -> Run {
        self.env.push((key.into(), None));
        self
    }

    /// The token the output must not leak: the last `CI_JOB_TOKEN` set.
    fn token(&self) -> Option<String> {
        let last = self.env.iter().rev().find(|(k, _)| k == "CI_JOB_TOKEN");
        last.and_then(|(_, v)| v.as_ref().map(|v| v.to_string_lossy().into_owned()))
    }

    /// The process this run starts, without its stdin: for tests that drive the process
    /// themselves (closing its stdout early, measuring it).
    pub fn command(&self) -> std::process::Command {
        let mut command = std::process::Command::new(&self.program);
        command
            .env_clear()
            .args(&self.options)
            .args(&self.operation);
        for (key, value) in &self.env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        command
    }

    pub fn output(self) -> Output {
        let out = assert_cmd::Command::from_std(self.command())
            .write_stdin(self.stdin.clone())
            .timeout(HANG_TIMEOUT)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", self.program.display()));
        Output {
            code: out.status.code(),
            stdout: out.stdout,
            stderr: out.stderr,
            token: self.token(),
        }
    }

    /// Runs and checks the outcome and the stderr rules; returns the output for more checks.
    #[track_caller]
    pub fn expect(self, outcome: Outcome) -> Output {
        let out = self.output();
        out.assert_stderr_rules();
        match outcome {
            Outcome::Answer(token) => {
                assert_eq!(
                    out.stdout_text(),
                    format!("username=gitlab-ci-token\npassword={token}\n"),
                    "stderr: {}",
                    out.stderr_text()
                );
                assert_eq!(out.code, Some(0), "stderr: {}", out.stderr_text());
            }
            Outcome::Nothing => {
                assert_eq!(out.stdout_text(), "", "stderr: {}", out.stderr_text());
                assert_eq!(out.code, Some(0), "stderr: {}", out.stderr_text());
            }
            Outcome::Err(forbidden) => {
                assert_eq!(out.stdout_text(), "", "stderr: {}", out.stderr_text());
                assert_eq!(out.code, Some(1), "stderr: {}", out.stderr_text());
                let stderr = out.stderr_text();
                assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
                for value in forbidden {
                    assert!(!stderr.contains(value), "echoes {value:?}: {stderr}");
                }
            }
        }
        out
    }
}

pub struct Output {
    /// `None` when killed by a signal (or at [`HANG_TIMEOUT`]).
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    token: Option<String>,
}

impl Output {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// The token of the run (its last `CI_JOB_TOKEN`), if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// See [`assert_stderr_rules`].
    #[track_caller]
    pub fn assert_stderr_rules(&self) {
        assert_stderr_rules(&self.stderr, self.token.as_deref());
    }
}

/// The rules for every run: each stderr line carries our prefix, is not shaped `key=value`
/// (no `=` at all), and never contains the token (when it is long enough not to be an
/// ordinary word); no panic.
#[track_caller]
pub fn assert_stderr_rules(stderr: &[u8], token: Option<&str>) {
    let text = String::from_utf8_lossy(stderr);
    for line in text.lines() {
        assert!(line.starts_with(PREFIX), "unprefixed stderr line: {line:?}");
        assert!(
            !line.contains('='),
            "stderr line shaped key=value: {line:?}"
        );
        assert!(!line.contains("panicked"), "panic: {line:?}");
    }
    if let Some(token) = token.filter(|t| t.len() >= 4) {
        assert!(!text.contains(token), "token on stderr: {text}");
    }
}
