//! The oracle the fuzz targets check the helper against. It is written independently of the
//! code under test: a hand-written list of the exact `protocol`/`host` forms each configured
//! server may be answered for, compared after ASCII lower-casing and nothing else.

use git_credential_gitlab_ci::server::{Origin, Server};

/// The servers every target configures: default port, explicit port, plain http, IPv6.
pub const SERVER_URLS: &[&str] = &[
    "https://gitlab.example.com",
    "https://gitlab.example.com:8443",
    "http://gitlab.internal",
    "https://[::1]:9443",
];

/// `(protocol, host)` pairs that must be answered, lower-case. Everything else must not be.
pub const EXACT_FORMS: &[(&str, &str)] = &[
    ("https", "gitlab.example.com"),
    ("https", "gitlab.example.com:443"),
    ("https", "gitlab.example.com:8443"),
    ("http", "gitlab.internal"),
    ("http", "gitlab.internal:80"),
    ("https", "[::1]:9443"),
];

pub const USERNAME: &str = "gitlab-ci-token";

pub fn servers() -> Vec<Server> {
    SERVER_URLS
        .iter()
        .map(|u| Server::parse(u, Origin::Option).expect("valid server"))
        .collect()
}

/// Is `(protocol, host)` one of the exact forms? Protocol byte-exact, host ASCII case-folded.
pub fn exact(protocol: &[u8], host: &[u8]) -> bool {
    let host = host.to_ascii_lowercase();
    EXACT_FORMS
        .iter()
        .any(|(p, h)| protocol == p.as_bytes() && host == h.as_bytes())
}

/// The lines of a request as a plain reader sees them: split at LF, one CR before the LF
/// dropped, up to the first blank line. Only used on input the parser accepted.
pub fn lines(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        out.push(line);
        rest = next;
    }
    out
}
