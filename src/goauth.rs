//! Go's GOAUTH command protocol (`go help goauth`, Go ≥ 1.24), so Go sends the job token to the
//! GitLab server before its first request — which GitLab's go-get middleware needs for modules in
//! nested subgroups, where it answers 200 (never 401) without credentials.
//!
//! How Go runs it (`cmd/go/internal/auth`): `GOAUTH='<helper> [options] goauth'` is split into
//! words; before the first HTTPS fetch the command runs with no extra argument and no input;
//! after a 4xx it runs again with the request URL as its last argument and the response's status
//! line and headers on stdin, up to a blank line. Go reads stdout as
//! `{ URL line } blank line { header line } blank line`, repeated, stores each header set under
//! its URL minus `https://`, and attaches it to any request whose URL starts with that prefix up
//! to a `/`. A non-zero exit discards stdout; its stderr then shows under `go -x` only.
//!
//! What this prints: with no URL, one set per configured **https** server —
//! `https://host[:port]/`, a blank line, `Authorization: Basic <base64 of user:token>`, a blank
//! line. With a URL, the set of the one server whose origin the URL names exactly
//! ([`policy::decide_url`], the git path's rule), or nothing. Never a set for http: Go never asks
//! for one, and the token would travel in clear.
//!
//! Exit status ([`Outcome`]): 0 when the answer is printed or there is nothing to say (no server,
//! another origin, an odd URL — Go treats a failing command as an error); 1 when an answer is due
//! but cannot be given (the token is missing or malformed, a server setting or `--username` is
//! wrong): one line on stderr, nothing on stdout, so Go carries on without the header.

use std::ffi::OsStr;
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
use crate::server::{Scheme, Server};
use crate::token;

/// Why nothing is printed for a URL. Shown only in debug output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    Url(UrlDecline),
    /// The URL is an http server's origin: GOAUTH headers are for https only.
    PlainHttp,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::Url(why) => write!(f, "{why}"),
            Skip::PlainHttp => f.write_str("GOAUTH credentials are only given for https"),
        }
    }
}

/// The servers to print a credential set for: every https server when Go asks before its first
/// request (`url` is `None`), else the one whose origin `url` names exactly.
pub fn servers_to_answer<'a>(
    url: Option<&[u8]>,
    servers: &'a [Server],
    username: &str,
) -> Result<Vec<&'a Server>, Skip> {
    let Some(url) = url else {
        return Ok(servers
            .iter()
            .filter(|s| s.scheme == Scheme::Https)
            .collect());
    };
    let server = policy::decide_url(url, servers, username).map_err(Skip::Url)?;
    match server.scheme {
        Scheme::Https => Ok(vec![server]),
        Scheme::Http => Err(Skip::PlainHttp),
    }
}

/// The credential sets, in a buffer zeroized on drop. Each URL line is the exact origin with a
/// trailing `/`: Go matches by prefix up to a `/`, so `https://host/` covers `https://host/x` but
/// neither `https://host.evil/` nor `https://host:8443/`.
pub fn credential_sets(servers: &[&Server], username: &str, token: &str) -> Zeroizing<Vec<u8>> {
    let mut userpass = Zeroizing::new(Vec::with_capacity(username.len() + 1 + token.len()));
    userpass.extend_from_slice(username.as_bytes());
    userpass.push(b':');
    userpass.extend_from_slice(token.as_bytes());
    let heads: Vec<String> = servers
        .iter()
        .map(|server| format!("{server}/\n\nAuthorization: Basic "))
        .collect();
    let encoded = userpass.len().div_ceil(3) * 4;
    // The exact size, so the buffer never grows: a grown Vec would free its old buffer, earlier
    // credentials included, without zeroizing it.
    let size = heads.iter().map(|h| h.len() + encoded + 2).sum();
    let mut out = Zeroizing::new(Vec::with_capacity(size));
    for head in heads {
        out.extend_from_slice(head.as_bytes());
        base64_into(&mut out, &userpass);
        out.extend_from_slice(b"\n\n");
    }
    out
}

/// `goauth [URL]`: reads Go's response from stdin when a URL is given (bounded, up to its blank
/// line, ignored), decides, and writes the whole answer once.
pub fn run(
    url: Option<&OsStr>,
    options: &HelperOptions,
    env: &Env,
    input: impl BufRead,
    output: &mut impl Write,
    diagnostics: &Diagnostics,
) -> Outcome {
    if url.is_some() {
        // What the server answered does not change the decision; read it so Go's writer is done.
        let _ = discard_request(input);
    }
    match answer(url, options, env, diagnostics)
        .and_then(|bytes| written(output.write_all(&bytes).and_then(|()| output.flush())))
    {
        Ok(()) => Outcome::Success,
        Err(error) => {
            diagnostics.error(&error);
            Outcome::Failure
        }
    }
}

/// The bytes to print (possibly none), decided completely, token included, before any is written.
fn answer(
    url: Option<&OsStr>,
    options: &HelperOptions,
    env: &Env,
    diagnostics: &Diagnostics,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let servers = configuration(options, env)?;
    let username = &options.username;
    // Basic credentials are `user:password`; a ':' in the user name would move the split.
    if username.contains(':') {
        return Err(Error::UsernameWithColon);
    }
    let chosen = match servers_to_answer(url.map(OsStr::as_bytes), &servers, username) {
        Ok(chosen) if !chosen.is_empty() => chosen,
        Ok(_) => {
            diagnostics.debug(|| "goauth: no https server is configured; nothing to print");
            return Ok(Zeroizing::new(Vec::new()));
        }
        Err(why) => {
            diagnostics.debug(|| format!("goauth: declined, {why}"));
            return Ok(Zeroizing::new(Vec::new()));
        }
    };
    let source = &options.token;
    let password = token::load(source, env).map_err(|error| Error::Token {
        server: chosen[0].to_string(),
        error,
    })?;
    diagnostics.debug(|| {
        let names: Vec<String> = chosen.iter().map(|s| format!("{s}/")).collect();
        format!(
            "goauth: Authorization for {} as {username} with the token from {source}",
            names.join(", ")
        )
    });
    Ok(credential_sets(&chosen, username, password.expose_secret()))
}

/// Standard base64 with padding (RFC 4648 §4), appended to `out`. Written here rather than taken
/// from a crate so the encoded credential never lands in a buffer that is not zeroized.
fn base64_into(out: &mut Vec<u8>, input: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextet = |shift: u32| ALPHABET[((n >> shift) & 63) as usize];
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if chunk.len() > 1 { sextet(6) } else { b'=' });
        out.push(if chunk.len() > 2 { sextet(0) } else { b'=' });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{test_servers as servers, Decline};

    fn b64(input: &[u8]) -> String {
        let mut out = Vec::new();
        base64_into(&mut out, input);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("gitlab-ci-token:", "Z2l0bGFiLWNpLXRva2VuOg=="),
        ] {
            assert_eq!(b64(input.as_bytes()), expected, "{input:?}");
        }
        assert_eq!(b64(&[0xff, 0xfe, 0xfd, 0x00]), "//79AA==");
    }

    #[test]
    fn without_a_url_every_https_server_and_no_http_one() {
        let set = servers(&[
            "https://gitlab.example.com/gitlab",
            "http://gitlab.internal",
            "https://gitlab.example.com:8443",
            "https://[::1]:9443",
        ]);
        let names: Vec<String> = servers_to_answer(None, &set, "gitlab-ci-token")
            .unwrap()
            .iter()
            .map(|s| format!("{s}/"))
            .collect();
        assert_eq!(
            names,
            [
                "https://gitlab.example.com/",
                "https://gitlab.example.com:8443/",
                "https://[::1]:9443/"
            ]
        );
        assert!(servers_to_answer(None, &[], "gitlab-ci-token")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn with_a_url_only_its_exact_origin_and_never_http() {
        let set = servers(&["https://gitlab.example.com", "http://gitlab.internal"]);
        let answer = |url: &str| {
            servers_to_answer(Some(url.as_bytes()), &set, "gitlab-ci-token")
                .map(|v| v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        };
        let ours = Ok(vec!["https://gitlab.example.com".to_string()]);
        assert_eq!(
            answer("https://gitlab.example.com/group/sub/proj?go-get=1"),
            ours
        );
        assert_eq!(answer("https://gitlab.example.com:443/x"), ours);
        assert_eq!(answer("http://gitlab.internal/x"), Err(Skip::PlainHttp));
        assert_eq!(
            answer("https://gitlab.example.com.evil.com/x"),
            Err(Skip::Url(UrlDecline::Declined(Decline::OtherHost)))
        );
        assert_eq!(
            answer("https://gitlab.example.com@evil.com/"),
            Err(Skip::Url(UrlDecline::Declined(Decline::OtherHost)))
        );
        assert!(matches!(
            answer("gitlab.example.com"),
            Err(Skip::Url(UrlDecline::NotAUrl(_)))
        ));
    }

    #[test]
    fn credential_sets_follow_gos_grammar() {
        let set = servers(&["https://gitlab.example.com", "https://h.example:8443"]);
        let chosen: Vec<&Server> = set.iter().collect();
        let out = credential_sets(&chosen, "gitlab-ci-token", "tok");
        let basic = b64(b"gitlab-ci-token:tok");
        assert_eq!(
            String::from_utf8(out.to_vec()).unwrap(),
            format!(
                "https://gitlab.example.com/\n\nAuthorization: Basic {basic}\n\n\
                 https://h.example:8443/\n\nAuthorization: Basic {basic}\n\n"
            )
        );
        assert!(credential_sets(&[], "gitlab-ci-token", "tok").is_empty());
        // Sized exactly, so it never reallocates (which would leave a copy unzeroized).
        let long = servers(&[&format!("https://{}.example:8443", "h".repeat(200))]);
        let out = credential_sets(&[&long[0]], "gitlab-ci-token", &"t".repeat(1000));
        assert_eq!(out.capacity(), out.len());
    }

    #[test]
    fn a_token_is_needed_only_when_a_set_is_due() {
        let run = |url: Option<&str>, vars: &[(&str, &str)], username: &str| {
            let env = Env::from_vars(vars.iter().copied());
            let options = HelperOptions {
                username: username.into(),
                ..HelperOptions::default()
            };
            let diagnostics = Diagnostics::new(false, Vec::new());
            let mut out = Vec::new();
            let outcome = super::run(
                url.map(OsStr::new),
                &options,
                &env,
                &b""[..],
                &mut out,
                &diagnostics,
            );
            (outcome, String::from_utf8(out).unwrap())
        };
        let server = ("CI_SERVER_URL", "https://gitlab.example.com");
        let token = ("CI_JOB_TOKEN", "glcbt-64_tok");
        let set = format!(
            "https://gitlab.example.com/\n\nAuthorization: Basic {}\n\n",
            b64(b"gitlab-ci-token:glcbt-64_tok")
        );
        assert_eq!(
            run(None, &[server, token], "gitlab-ci-token"),
            (Outcome::Success, set)
        );
        let nothing = (Outcome::Success, String::new());
        assert_eq!(run(None, &[token], "gitlab-ci-token"), nothing);
        assert_eq!(
            run(Some("https://other.example/"), &[server], "gitlab-ci-token"),
            nothing
        );
        let failed = (Outcome::Failure, String::new());
        assert_eq!(run(None, &[server], "gitlab-ci-token"), failed);
        assert_eq!(run(None, &[server, token], "a:b"), failed);
        assert_eq!(run(None, &[server, token], ""), failed);
    }
}
