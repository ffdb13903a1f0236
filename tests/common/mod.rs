//! Running the helper binary as git would, and the output rules every run must obey.
#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;

pub const PREFIX: &str = "git-credential-gitlab-ci:";

/// The binary under test: `HELPER_UNDER_TEST` when set — the absolute path of another build or
/// of a wrapper script (`.ci/run` runs the aarch64 build through
/// `exec qemu-aarch64-static -0 "$0" BINARY "$@"`) — else the one cargo built.
pub fn helper() -> PathBuf {
    match std::env::var_os("HELPER_UNDER_TEST") {
        Some(path) if !path.is_empty() => {
            let path = PathBuf::from(path);
            assert!(path.is_absolute(), "HELPER_UNDER_TEST must be absolute");
            path
        }
        _ => PathBuf::from(env!("CARGO_BIN_EXE_git-credential-gitlab-ci")),
    }
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
pub struct Run {
    options: Vec<OsString>,
    operation: Vec<OsString>,
    env: Vec<(String, Option<String>)>,
    stdin: Vec<u8>,
}

impl Run {
    /// `words` are the operation (and anything git would put after the options).
    pub fn new(words: &[&str]) -> Run {
        Run {
            options: Vec::new(),
            operation: words.iter().map(OsString::from).collect(),
            env: Vec::new(),
            stdin: Vec::new(),
        }
    }

    pub fn get(input: &[u8]) -> Run {
        Run::new(&["get"]).stdin(input)
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

    pub fn env(mut self, key: &str, value: &str) -> Run {
        self.env.push((key.to_string(), Some(value.to_string())));
        self
    }

    pub fn env_remove(mut self, key: &str) -> Run {
        self.env.push((key.to_string(), None));
        self
    }

    fn token(&self) -> Option<String> {
        let last = self.env.iter().rev().find(|(k, _)| k == "CI_JOB_TOKEN");
        last.and_then(|(_, v)| v.clone())
    }

    pub fn output(self) -> Output {
        let mut command = assert_cmd::Command::new(helper());
        command
            .env_clear()
            .args(&self.options)
            .args(&self.operation)
            .write_stdin(self.stdin.clone())
            .timeout(Duration::from_secs(30));
        for (key, value) in &self.env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        let out = command.output().expect("run the helper");
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

    /// The rules for every run: each stderr line carries our prefix, is not shaped `key=value`
    /// (no `=` at all), and never contains the token (when it is long enough not to be an
    /// ordinary word); no panic.
    #[track_caller]
    pub fn assert_stderr_rules(&self) {
        assert_stderr_rules(&self.stderr, self.token.as_deref());
    }
}

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
