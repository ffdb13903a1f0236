//! Where the job token comes from, and the checks it must pass before it is printed.
//!
//! The token is opaque (legacy, JWT or `glcbt-` prefixed), at most [`MAX_TOKEN_BYTES`] long so
//! that the answer's `password=` line fits the protocol's line bound. It lives in a
//! [`SecretString`], which zeroizes its memory on drop and prints as `[REDACTED]` in `Debug`.
//!
//! A token file is read the one way [`crate::files`] reads what it is pointed at: it must be a
//! regular file, it is opened without blocking and read with a bound — a FIFO with no writer
//! (or a directory, a device) is an error naming the file, never a `get` that hangs. It is read
//! only for a request that is answered (and, to scrub it from a message, when a message is
//! about to be written: [`file_secret`]).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::env::Env;
use crate::files::{self, Kind, ReadError};
use crate::protocol::MAX_LINE_BYTES;

/// Longest token that still fits one protocol line after `password=`.
pub const MAX_TOKEN_BYTES: usize = MAX_LINE_BYTES - "password=".len();

/// The default environment variable, set by GitLab in every job.
pub const DEFAULT_TOKEN_ENV: &str = "CI_JOB_TOKEN";

/// Where the token comes from: `--token-env` (default [`DEFAULT_TOKEN_ENV`]) or `--token-file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Env(String),
    File(PathBuf),
}

impl Default for TokenSource {
    fn default() -> Self {
        TokenSource::Env(DEFAULT_TOKEN_ENV.into())
    }
}

impl TokenSource {
    /// The variables whose values are secrets to scrub from every message: the default token
    /// variable, set in every job whatever the helper reads, and the one this source names.
    pub fn secret_variables(&self) -> Vec<&str> {
        let mut names = vec![DEFAULT_TOKEN_ENV];
        if let TokenSource::Env(name) = self {
            if name != DEFAULT_TOKEN_ENV {
                names.push(name);
            }
        }
        names
    }
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::Env(name) => write!(f, "the environment variable {name}"),
            TokenSource::File(path) => write!(f, "the token file {}", path.display()),
        }
    }
}

/// What is wrong with the token. Messages name the source, never the token's bytes.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("{0} is not set; run inside a GitLab CI job, or point --token-env or --token-file at the job token")]
    Unset(TokenSource),
    #[error("cannot read {0} ({1}); check that the secret is mounted and readable")]
    Unreadable(TokenSource, io::ErrorKind),
    #[error("{0} is {1}, not a regular file; point --token-file at the file that holds the token")]
    NotRegular(TokenSource, Kind),
    #[error("{0} is empty; the job token is missing")]
    Empty(TokenSource),
    #[error("the token in {0} contains a {1}; a token must be a single line")]
    Forbidden(TokenSource, &'static str),
    #[error("the token in {0} is not valid UTF-8")]
    NotUtf8(TokenSource),
    #[error("the token in {0} is longer than {MAX_TOKEN_BYTES} bytes")]
    TooLong(TokenSource),
}

/// Reads the token from its source (a variable of the snapshot, or a file) and validates it.
pub fn load(source: &TokenSource, env: &Env) -> Result<SecretString, TokenError> {
    let bytes = match source {
        TokenSource::Env(name) => {
            let value = env
                .get(name)
                .ok_or_else(|| TokenError::Unset(source.clone()))?;
            Zeroizing::new(value.as_encoded_bytes().to_vec())
        }
        TokenSource::File(path) => read_file(path).map_err(|e| match e {
            ReadError::NotFound => TokenError::Unreadable(source.clone(), io::ErrorKind::NotFound),
            ReadError::Io(kind) => TokenError::Unreadable(source.clone(), kind),
            ReadError::NotRegular(kind) => TokenError::NotRegular(source.clone(), kind),
            ReadError::TooLarge => TokenError::TooLong(source.clone()),
        })?,
    };
    validate(bytes, source)
}

/// A token file's content without its one trailing newline, read as [`crate::files`] reads.
fn read_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, ReadError> {
    // The longest token, and the newline that may end it.
    let mut bytes = files::read_regular(path, MAX_TOKEN_BYTES + 1)?;
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    Ok(bytes)
}

/// What a token file holds, as text, for the scrubber to remove from messages: read the same
/// bounded, non-blocking way; `None` when it cannot be read or is not UTF-8 (then it cannot
/// reach a message as itself either).
pub fn file_secret(path: &Path) -> Option<Zeroizing<String>> {
    let bytes = read_file(path).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    Some(Zeroizing::new(text.to_string()))
}

/// The checks, separate from the reading so they can be tested without a process environment.
pub fn validate(
    bytes: Zeroizing<Vec<u8>>,
    source: &TokenSource,
) -> Result<SecretString, TokenError> {
    let forbidden = |what| Err(TokenError::Forbidden(source.clone(), what));
    if bytes.is_empty() {
        return Err(TokenError::Empty(source.clone()));
    }
    if bytes.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLong(source.clone()));
    }
    // A line break would let the token smuggle extra protocol lines (`quit=1`, `host=`) into git.
    if bytes.contains(&b'\n') {
        return forbidden("line feed");
    }
    if bytes.contains(&b'\r') {
        return forbidden("carriage return");
    }
    if bytes.contains(&0) {
        return forbidden("NUL byte");
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| TokenError::NotUtf8(source.clone()))?;
    Ok(SecretString::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn env() -> TokenSource {
        TokenSource::Env("CI_JOB_TOKEN".into())
    }

    #[test]
    fn validates_by_table() {
        let long = "a".repeat(MAX_TOKEN_BYTES);
        let too_long = "a".repeat(MAX_TOKEN_BYTES + 1);
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln";
        let cases: &[(&[u8], Result<&str, TokenError>)] = &[
            (b"tok", Ok("tok")),
            (b"glcbt-64_abcDEF123", Ok("glcbt-64_abcDEF123")),
            (jwt.as_bytes(), Ok(jwt)),
            (b" spaced token ", Ok(" spaced token ")),
            (b"quote\"back\\slash", Ok("quote\"back\\slash")),
            ("t\u{e9}".as_bytes(), Ok("t\u{e9}")),
            (long.as_bytes(), Ok(&long)),
            (too_long.as_bytes(), Err(TokenError::TooLong(env()))),
            (b"", Err(TokenError::Empty(env()))),
            (b"t\nquit=1", Err(TokenError::Forbidden(env(), "line feed"))),
            (b"tok\n", Err(TokenError::Forbidden(env(), "line feed"))),
            (
                b"t\rx",
                Err(TokenError::Forbidden(env(), "carriage return")),
            ),
            (b"t\0x", Err(TokenError::Forbidden(env(), "NUL byte"))),
            (b"t\xffx", Err(TokenError::NotUtf8(env()))),
        ];
        for (bytes, expected) in cases {
            let got = validate(Zeroizing::new(bytes.to_vec()), &env());
            let got = got
                .as_ref()
                .map(|s| s.expose_secret())
                .map_err(Clone::clone);
            assert_eq!(
                got,
                expected.clone(),
                "token {:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn file_source_strips_exactly_one_newline() {
        let dir = tempfile::tempdir().unwrap();
        let cases: &[(&[u8], Result<&str, &str>)] = &[
            (b"tok\n", Ok("tok")),
            (b"tok", Ok("tok")),
            (b"tok\n\n", Err("line feed")),
            (b"tok\r\n", Err("carriage return")),
            (b"\n", Err("empty")),
        ];
        for (i, (content, expected)) in cases.iter().enumerate() {
            let path = dir.path().join(format!("token{i}"));
            std::fs::write(&path, content).unwrap();
            let source = TokenSource::File(path);
            let got = load(&source, &Env::from_vars::<&str, &str>([]))
                .map(|s| s.expose_secret().to_owned());
            match (got, expected) {
                (Ok(token), Ok(want)) => assert_eq!(&token, want),
                (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{e}"),
                (got, want) => panic!(
                    "content {content:?}: got {:?}, want {want:?}",
                    got.map(|_| ())
                ),
            }
        }
    }

    #[test]
    fn env_source_reads_the_snapshot_and_names_the_variable_when_unset() {
        let env = Env::from_vars([("MY_TOKEN", "tok")]);
        let source = TokenSource::Env("MY_TOKEN".into());
        assert_eq!(load(&source, &env).unwrap().expose_secret(), "tok");
        let unset = TokenSource::Env("OTHER".into());
        assert_eq!(
            load(&unset, &env).map(|_| ()),
            Err(TokenError::Unset(unset.clone()))
        );
        assert_eq!(source.secret_variables(), ["CI_JOB_TOKEN", "MY_TOKEN"]);
        assert_eq!(TokenSource::default().secret_variables(), ["CI_JOB_TOKEN"]);
    }

    #[test]
    fn a_token_file_that_is_not_a_regular_file_is_an_error_naming_it_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("ci_job_token");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        let env = Env::from_vars::<&str, &str>([]);
        for (path, kind) in [
            (fifo, Kind::Fifo),
            (dir.path().to_path_buf(), Kind::Directory),
            (PathBuf::from("/dev/null"), Kind::CharDevice),
        ] {
            let source = TokenSource::File(path.clone());
            let err = load(&source, &env).unwrap_err();
            assert_eq!(err, TokenError::NotRegular(source, kind));
            assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
            assert!(file_secret(&path).is_none());
        }
    }

    #[test]
    fn a_token_file_is_read_only_up_to_the_longest_token() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t");
        let source = TokenSource::File(path.clone());
        let env = Env::from_vars::<&str, &str>([]);
        let longest = "a".repeat(MAX_TOKEN_BYTES);
        std::fs::write(&path, format!("{longest}\n")).unwrap();
        assert_eq!(load(&source, &env).unwrap().expose_secret(), longest);
        assert_eq!(
            file_secret(&path).as_deref().map(String::as_str),
            Some(&*longest)
        );
        std::fs::write(&path, format!("{longest}a\n")).unwrap();
        assert_eq!(
            load(&source, &env).unwrap_err(),
            TokenError::TooLong(source.clone())
        );
        std::fs::write(&path, "a".repeat(10 * MAX_TOKEN_BYTES)).unwrap();
        assert_eq!(
            load(&source, &env).unwrap_err(),
            TokenError::TooLong(source)
        );
    }

    #[test]
    fn missing_file_names_the_file() {
        let source = TokenSource::File("/nonexistent/ci_job_token".into());
        let err = load(&source, &Env::from_vars::<&str, &str>([])).unwrap_err();
        assert_eq!(err, TokenError::Unreadable(source, io::ErrorKind::NotFound));
        assert!(err.to_string().contains("/nonexistent/ci_job_token"));
    }

    #[test]
    fn errors_never_contain_the_token() {
        for bytes in [
            &b"secret\nquit=1"[..],
            b"secret\r",
            b"secret\0",
            b"secret\xff",
        ] {
            let err = validate(Zeroizing::new(bytes.to_vec()), &env()).unwrap_err();
            assert!(!err.to_string().contains("secret"), "{err}");
            assert!(!format!("{err:?}").contains("secret"), "{err:?}");
        }
    }
}
