//! Everything the helper writes to standard error goes through here.
//!
//! Rules, enforced on every line rather than trusted to each message: one line per problem,
//! prefixed `git-credential-gitlab-ci:`; no control characters; no `=` at all, because Go's
//! `GOAUTH=git` reads the helper's combined output and would take `password=…` on stderr for a
//! credential; and no secret, even one that reached a message by mistake (a token passed as an
//! argument value, say).
//!
//! The secrets are those of every token source in use ([`Diagnostics::for_sources`]):
//! `CI_JOB_TOKEN` always, each `--token-env` variable, and each `--token-file`'s content. A
//! token file is read only when a line is about to be written — the protocol path writes none,
//! so it stays cheap — and read the way [`crate::token`] reads it: bounded, never blocking.

use std::fmt::Display;
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use zeroize::Zeroizing;

use crate::env::Env;
use crate::token::{self, TokenSource, DEFAULT_TOKEN_ENV};

pub const PREFIX: &str = "git-credential-gitlab-ci:";

/// The variable that turns on explanations of each decision.
pub const DEBUG_ENV: &str = "GIT_CREDENTIAL_GITLAB_CI_DEBUG";

/// Secrets shorter than this are not scrubbed from messages. A GitLab job token is at least 20
/// characters; replacing a short value inside ordinary words ("tok" in "token") would mangle
/// the message and, by what went missing, show the value anyway.
pub const MIN_SCRUB_LEN: usize = 8;

pub struct Diagnostics {
    debug: bool,
    secrets: Vec<Zeroizing<String>>,
    /// Token files, whose content is read into `file_secrets` before the first line is written.
    token_files: Vec<PathBuf>,
    file_secrets: OnceLock<Vec<Zeroizing<String>>>,
}

impl Diagnostics {
    /// The debug switch from the snapshot, and the secrets of every token source in `sources`
    /// (besides `CI_JOB_TOKEN`, set in every job whatever the helper reads): each variable's
    /// value from the snapshot, each file's content when a line is first written.
    pub fn for_sources(env: &Env, sources: &[TokenSource]) -> Self {
        let mut names = vec![DEFAULT_TOKEN_ENV];
        let mut token_files = Vec::new();
        for source in sources {
            match source {
                TokenSource::Env(name) => names.push(name),
                TokenSource::File(path) => token_files.push(path.clone()),
            }
        }
        names.sort_unstable();
        names.dedup();
        let secrets = names
            .iter()
            .filter_map(|name| env.get(name)?.to_str())
            .map(|value| Zeroizing::new(value.to_string()))
            .collect();
        Diagnostics {
            debug: env.flag(DEBUG_ENV),
            secrets,
            token_files,
            file_secrets: OnceLock::new(),
        }
    }

    /// Exactly these secrets (tests).
    pub fn new(debug: bool, secrets: Vec<Zeroizing<String>>) -> Self {
        Diagnostics {
            debug,
            secrets,
            token_files: Vec::new(),
            file_secrets: OnceLock::new(),
        }
    }

    pub fn debug_enabled(&self) -> bool {
        self.debug
    }

    /// One problem, one line.
    pub fn error(&self, message: &dyn Display) {
        self.emit(&self.line(message));
    }

    /// An explanation, only when debugging; `message` is not even built otherwise.
    pub fn debug<D: Display>(&self, message: impl FnOnce() -> D) {
        if self.debug {
            self.emit(&self.line(&format_args!("debug: {}", message())));
        }
    }

    /// `text` with every secret in use replaced by `[REDACTED]`: the one scrubber, for these
    /// lines and for anything else printed from text the program did not write (doctor's report
    /// of what git said).
    pub fn scrub(&self, text: &str) -> String {
        let mut text = text.to_string();
        let from_files = self.file_secrets.get_or_init(|| {
            self.token_files
                .iter()
                .filter_map(|path| token::file_secret(path))
                .collect()
        });
        for secret in self.secrets.iter().chain(from_files) {
            if secret.len() >= MIN_SCRUB_LEN && text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), "[REDACTED]");
            }
        }
        text
    }

    /// The exact line that would be written, terminator included.
    pub fn line(&self, message: &dyn Display) -> String {
        let text = self.scrub(&message.to_string());
        let mut line = String::with_capacity(PREFIX.len() + text.len() + 2);
        line.push_str(PREFIX);
        line.push(' ');
        for c in text.chars() {
            match c {
                '=' => line.push_str("%3D"),
                c if c.is_control() => line.push('?'),
                c => line.push(c),
            }
        }
        line.push('\n');
        line
    }

    fn emit(&self, line: &str) {
        // Nothing useful can be done when stderr is gone; the exit status still tells git.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// Bytes from a request, made safe to show in debug output: invalid UTF-8 replaced, then
/// escaped and cut at 100 characters as every outside text is ([`crate::printable::bounded`]).
pub fn shown(bytes: &[u8]) -> String {
    crate::printable::bounded(&String::from_utf8_lossy(bytes), 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diagnostics(secrets: &[&str]) -> Diagnostics {
        Diagnostics::new(
            false,
            secrets
                .iter()
                .map(|s| Zeroizing::new(s.to_string()))
                .collect(),
        )
    }

    #[test]
    fn lines_are_prefixed_single_and_never_key_value_shaped() {
        let d = diagnostics(&[]);
        assert_eq!(
            d.line(&"plain words"),
            "git-credential-gitlab-ci: plain words\n"
        );
        assert_eq!(
            d.line(&"password=x\nusername=y\r"),
            "git-credential-gitlab-ci: password%3Dx?username%3Dy?\n"
        );
    }

    #[test]
    fn secrets_are_scrubbed_even_when_a_message_contains_one() {
        let d = diagnostics(&["glcbt-64_SECRETSECRET", "tok"]);
        assert_eq!(
            d.line(&"unexpected argument 'glcbt-64_SECRETSECRET' found; token"),
            "git-credential-gitlab-ci: unexpected argument '[REDACTED]' found; token\n"
        );
    }

    #[test]
    fn scrubs_secrets_of_the_minimum_length_and_leaves_shorter_values_alone() {
        let d = diagnostics(&["12345678", "1234567"]);
        assert_eq!(
            d.scrub("a 12345678 b 1234567 c"),
            "a [REDACTED] b 1234567 c"
        );
        let env = Env::from_vars([
            ("CI_JOB_TOKEN", "glcbt-64_from_the_job"),
            ("MY_TOKEN", "glcbt-64_from_my_var"),
            (DEBUG_ENV, "1"),
        ]);
        let sources = [
            TokenSource::Env("MY_TOKEN".into()),
            TokenSource::Env("UNSET".into()),
        ];
        let d = Diagnostics::for_sources(&env, &sources);
        assert!(d.debug_enabled());
        assert_eq!(
            d.scrub("glcbt-64_from_the_job glcbt-64_from_my_var"),
            "[REDACTED] [REDACTED]"
        );
        let d = Diagnostics::for_sources(&env, &[]);
        assert_eq!(
            d.scrub("glcbt-64_from_the_job glcbt-64_from_my_var"),
            "[REDACTED] glcbt-64_from_my_var",
            "CI_JOB_TOKEN always"
        );
    }

    #[test]
    fn token_files_are_scrubbed_and_read_only_when_a_line_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ci_job_token");
        let env = Env::from_vars::<&str, &str>([]);
        let d = Diagnostics::for_sources(&env, &[TokenSource::File(path.clone())]);
        // Written after the diagnostics were made: nothing was read yet.
        std::fs::write(&path, "glcbt-64_from_a_file\n").unwrap();
        assert_eq!(
            d.line(&"argument 'glcbt-64_from_a_file' unexpected"),
            "git-credential-gitlab-ci: argument '[REDACTED]' unexpected\n"
        );
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        let d = Diagnostics::for_sources(&env, &[TokenSource::File(fifo)]);
        assert_eq!(d.scrub("never blocks"), "never blocks");
    }

    #[test]
    fn shown_values_are_escaped_and_bounded() {
        assert_eq!(shown(b"a\rb\xffc"), "a\\rb\u{fffd}c");
        assert_eq!(shown(&[b'x'; 300]).chars().count(), 101);
    }
}
