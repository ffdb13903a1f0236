//! The `keyring` command-line protocol that pip and uv speak with `--keyring-provider subprocess`,
//! so a GitLab package index gets the job token without it being written into an index URL,
//! `pip.conf` or `PIP_INDEX_URL`.
//!
//! The grammar is that of jaraco/keyring's `keyring/cli.py`:
//! `keyring [--mode password|creds] [--output plain|json] get SERVICE [USERNAME]`, plus `set` and
//! `del`. What the clients send (read from their sources and seen with a logging stand-in):
//! - pip 23.2: `keyring get <index URL>/ <user>`, then `keyring get <host[:port]> <user>`; stdout
//!   is the password, a non-zero exit means none;
//! - pip 26: `keyring --mode=creds --output=json get <index URL>/ <user>`, then the bare
//!   `host[:port]`; stdout is `{"username": …, "password": …}`;
//! - uv 0.13: `keyring get <index URL> <user>` (no trailing `/`; a package page's URL for a
//!   project index), then `host[:port]`, then `scheme://host[:port]`.
//!
//! `get` answers only when SERVICE is a URL whose origin is exactly a configured server
//! ([`policy::decide_url`], the git path's rule, so http only for an http server) and USERNAME is
//! ours; otherwise it prints nothing and exits 1, keyring's "not found". A bare `host[:port]`
//! carries no scheme, so it is not an origin and gets nothing. `set` and `del` store nothing and
//! exit 0.

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, Write};
use std::os::unix::ffi::OsStrExt;

use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::diagnostics::Diagnostics;
use crate::env::Env;
use crate::helper::{configuration, written, Error};
use crate::options::HelperOptions;
use crate::outcome::Outcome;
use crate::policy::{self, UrlDecline};
use crate::protocol::discard_request;
use crate::server::Server;
use crate::token;

/// keyring's `--mode`: what `get` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The password alone (keyring's default).
    Password,
    /// The user name and the password.
    Creds,
}

/// keyring's `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One value a line.
    Plain,
    /// One JSON object.
    Json,
}

/// keyring's operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Get,
    Set,
    Del,
}

/// One keyring invocation, as the command line gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub mode: Mode,
    pub format: Format,
    pub operation: Operation,
    pub service: Option<OsString>,
    pub user: Option<OsString>,
}

/// Why `get` finds nothing. Shown only in debug output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotFound {
    NoService,
    NoUsername,
    /// USERNAME is not the configured user name.
    OtherUser,
    Url(UrlDecline),
}

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotFound::NoService => f.write_str("no SERVICE was given"),
            NotFound::NoUsername => f.write_str(
                "no USERNAME was given (put the user name in the index URL, as gitlab-ci-token@host)",
            ),
            NotFound::OtherUser => f.write_str("USERNAME is not the configured user name"),
            NotFound::Url(why) => write!(f, "SERVICE: {why}"),
        }
    }
}

/// Decides a `get`: the configured server SERVICE names exactly, when USERNAME is ours.
pub fn decide_get<'a>(
    service: Option<&[u8]>,
    user: Option<&[u8]>,
    servers: &'a [Server],
    username: &str,
) -> Result<&'a Server, NotFound> {
    let service = service.ok_or(NotFound::NoService)?;
    match user {
        None => return Err(NotFound::NoUsername),
        Some(user) if user != username.as_bytes() => return Err(NotFound::OtherUser),
        Some(_) => {}
    }
    policy::decide_url(service, servers, username).map_err(NotFound::Url)
}

/// The `get` answer as keyring's CLI prints it, in a buffer zeroized on drop.
pub fn answer(mode: Mode, format: Format, username: &str, token: &str) -> Zeroizing<Vec<u8>> {
    // JSON escapes a character into at most 6 bytes, so the buffer never grows: a grown Vec
    // would free its old buffer, token included, without zeroizing it.
    let worst = match format {
        Format::Plain => username.len() + token.len() + 2,
        Format::Json => 6 * (username.len() + token.len()) + 40,
    };
    let mut out = Zeroizing::new(Vec::with_capacity(worst));
    // Serialising a string into a Vec cannot fail.
    let json = |out: &mut Vec<u8>, text: &str| serde_json::to_writer(out, text).expect("string");
    match (mode, format) {
        (Mode::Password, Format::Plain) => out.extend_from_slice(token.as_bytes()),
        (Mode::Creds, Format::Plain) => {
            out.extend_from_slice(username.as_bytes());
            out.push(b'\n');
            out.extend_from_slice(token.as_bytes());
        }
        (Mode::Password, Format::Json) => {
            out.extend_from_slice(b"{\"password\": ");
            json(&mut out, token);
            out.push(b'}');
        }
        (Mode::Creds, Format::Json) => {
            out.extend_from_slice(b"{\"username\": ");
            json(&mut out, username);
            out.extend_from_slice(b", \"password\": ");
            json(&mut out, token);
            out.push(b'}');
        }
    }
    out.push(b'\n');
    out
}

/// Runs a keyring operation: `get` decides and writes the whole answer once (exit 0), or prints
/// nothing (exit 1, "not found"); `set` reads the password pip pipes in (bounded) and drops it;
/// `del` does nothing. A broken setup where an answer is due is one line on stderr, exit 1.
pub fn run(
    request: &Request,
    options: &HelperOptions,
    env: &Env,
    input: impl BufRead,
    output: &mut impl Write,
    diagnostics: &Diagnostics,
) -> Outcome {
    match request.operation {
        Operation::Set => {
            let _ = discard_request(input);
            diagnostics.debug(|| "keyring set: nothing is stored, the job token is never saved");
            return Outcome::Success;
        }
        Operation::Del => {
            diagnostics.debug(|| "keyring del: nothing to do, nothing is stored");
            return Outcome::Success;
        }
        Operation::Get => {}
    }
    match get(request, options, env, diagnostics) {
        Ok(Some(bytes)) => match written(output.write_all(&bytes).and_then(|()| output.flush())) {
            Ok(()) => Outcome::Success,
            Err(error) => {
                diagnostics.error(&error);
                Outcome::Failure
            }
        },
        Ok(None) => Outcome::Failure,
        Err(error) => {
            diagnostics.error(&error);
            Outcome::Failure
        }
    }
}

/// The answer to `get`, or `None` for "not found".
fn get(
    request: &Request,
    options: &HelperOptions,
    env: &Env,
    diagnostics: &Diagnostics,
) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
    let servers = configuration(options, env)?;
    let username = &options.username;
    let decision = decide_get(
        request.service.as_deref().map(OsStr::as_bytes),
        request.user.as_deref().map(OsStr::as_bytes),
        &servers,
        username,
    );
    let server = match decision {
        Ok(server) => server,
        Err(why) => {
            diagnostics.debug(|| format!("keyring get: not found, {why}"));
            return Ok(None);
        }
    };
    let source = &options.token;
    let password = token::load(source, env).map_err(|error| Error::Token {
        server: server.to_string(),
        error,
    })?;
    diagnostics.debug(|| {
        format!("keyring get: answering {server} as {username} with the token from {source}")
    });
    Ok(Some(answer(
        request.mode,
        request.format,
        username,
        password.expose_secret(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{test_servers, Decline};
    use crate::protocol::ProtocolError;

    #[test]
    fn decides_what_pip_and_uv_send_by_table() {
        let set = test_servers(&["https://gitlab.example.com", "http://gitlab.internal:8080"]);
        let index = "https://gitlab.example.com/api/v4/projects/42/packages/pypi/simple";
        let user = Some(&b"gitlab-ci-token"[..]);
        let ours = Ok("https://gitlab.example.com");
        let not_a_url = |e| Err(NotFound::Url(UrlDecline::NotAUrl(e)));
        let declined = |why| Err(NotFound::Url(UrlDecline::Declined(why)));
        type Row<'a> = (Option<&'a str>, Option<&'a [u8]>, Result<&'a str, NotFound>);
        let cases: &[Row] = &[
            // pip 23.2 and pip 26: the index URL with a trailing slash.
            (Some(&format!("{index}/")), user, ours.clone()),
            // uv: without it, a package page, the origin alone.
            (Some(index), user, ours.clone()),
            (Some(&format!("{index}/private-pkg/")), user, ours.clone()),
            (Some("https://gitlab.example.com"), user, ours.clone()),
            (
                Some("http://gitlab.internal:8080/simple/"),
                user,
                Ok("http://gitlab.internal:8080"),
            ),
            // Every client's fallback: a bare host[:port] is not an origin.
            (
                Some("gitlab.example.com"),
                user,
                not_a_url(ProtocolError::InvalidUrl),
            ),
            (
                Some("gitlab.example.com:443"),
                user,
                not_a_url(ProtocolError::AmbiguousUrl(
                    "it has no '//' after the scheme",
                )),
            ),
            (
                Some("http://gitlab.example.com/simple/"),
                user,
                declined(Decline::OtherProtocol),
            ),
            (
                Some("https://gitlab.internal:8080/simple/"),
                user,
                declined(Decline::OtherProtocol),
            ),
            (
                Some("https://gitlab.example.com.evil.com/simple/"),
                user,
                declined(Decline::OtherHost),
            ),
            (Some(index), None, Err(NotFound::NoUsername)),
            (Some(index), Some(b"alice"), Err(NotFound::OtherUser)),
            (
                Some(index),
                Some(b"GITLAB-CI-TOKEN"),
                Err(NotFound::OtherUser),
            ),
            (
                Some(index),
                Some(b"gitlab-ci-token "),
                Err(NotFound::OtherUser),
            ),
            (None, user, Err(NotFound::NoService)),
            (
                Some("https://alice@gitlab.example.com/simple/"),
                user,
                declined(Decline::OtherUser),
            ),
        ];
        for (service, user, expected) in cases {
            let got = decide_get(service.map(str::as_bytes), *user, &set, "gitlab-ci-token")
                .map(ToString::to_string);
            assert_eq!(
                got,
                expected.clone().map(str::to_string),
                "service {service:?}"
            );
        }
    }

    #[test]
    fn answers_as_keyrings_cli_prints_them() {
        let token = "glcbt-64_a\"b\\c";
        let text = |mode, format| String::from_utf8(answer(mode, format, "u", token).to_vec());
        assert_eq!(
            text(Mode::Password, Format::Plain).unwrap(),
            format!("{token}\n")
        );
        assert_eq!(
            text(Mode::Creds, Format::Plain).unwrap(),
            format!("u\n{token}\n")
        );
        let json = text(Mode::Creds, Format::Json).unwrap();
        assert_eq!(
            json,
            "{\"username\": \"u\", \"password\": \"glcbt-64_a\\\"b\\\\c\"}\n"
        );
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["password"], token);
        let value: serde_json::Value =
            serde_json::from_str(&text(Mode::Password, Format::Json).unwrap()).unwrap();
        assert_eq!(value, serde_json::json!({ "password": token }));
    }

    #[test]
    fn exit_status_is_0_answered_1_not_found_or_broken_and_set_del_store_nothing() {
        let env = Env::from_vars([
            ("CI_SERVER_URL", "https://gitlab.example.com"),
            ("CI_JOB_TOKEN", "glcbt-64_tok"),
        ]);
        let no_token = Env::from_vars([("CI_SERVER_URL", "https://gitlab.example.com")]);
        let request = |operation, service: &str| Request {
            mode: Mode::Password,
            format: Format::Plain,
            operation,
            service: Some(service.into()),
            user: Some("gitlab-ci-token".into()),
        };
        let run = |request: &Request, env: &Env, stdin: &[u8]| {
            let mut out = Vec::new();
            let diagnostics = Diagnostics::new(false, Vec::new());
            let outcome = super::run(
                request,
                &HelperOptions::default(),
                env,
                stdin,
                &mut out,
                &diagnostics,
            );
            (outcome, String::from_utf8(out).unwrap())
        };
        let ours = "https://gitlab.example.com/simple/";
        let get = request(Operation::Get, ours);
        assert_eq!(
            run(&get, &env, b""),
            (Outcome::Success, "glcbt-64_tok\n".into())
        );
        let other = request(Operation::Get, "https://other.example/simple/");
        assert_eq!(run(&other, &env, b""), (Outcome::Failure, String::new()));
        assert_eq!(run(&get, &no_token, b""), (Outcome::Failure, String::new()));
        for operation in [Operation::Set, Operation::Del] {
            assert_eq!(
                run(&request(operation, ours), &env, b"glcbt-64_tok\n"),
                (Outcome::Success, String::new())
            );
        }
    }
}
