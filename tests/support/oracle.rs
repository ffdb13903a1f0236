//! The oracle: which requests must be answered, written independently of the code under test.
//!
//! A hand-written list of the exact `(protocol, host)` forms each configured server may be
//! answered for, compared after ASCII lower-casing and nothing else; the same for Docker
//! registries; and the line readers other programs use, to check that an answered request reads
//! the same to all of them. `tests/properties.rs` (as `support::oracle`) and the fuzz targets
//! (`fuzz/src/lib.rs` includes this file by `#[path]`) both check the code against it, so this
//! file depends on nothing but the library's public types and the `url` crate.
#![allow(dead_code)]

use git_credential_gitlab_ci::docker::{Registry, RegistryOrigin, MAX_GET_BYTES};
use git_credential_gitlab_ci::server::{Origin, Server};

/// The servers the properties and targets configure: default port, explicit port, plain http,
/// IPv6.
pub const SERVER_URLS: &[&str] = &[
    "https://gitlab.example.com",
    "https://gitlab.example.com:8443",
    "http://gitlab.internal",
    "https://[::1]:9443",
];

/// `(protocol, host)` pairs that must be answered, lower-case. Nothing else may be.
pub const EXACT_FORMS: &[(&str, &str)] = &[
    ("https", "gitlab.example.com"),
    ("https", "gitlab.example.com:443"),
    ("https", "gitlab.example.com:8443"),
    ("http", "gitlab.internal"),
    ("http", "gitlab.internal:80"),
    ("https", "[::1]:9443"),
];

pub const USERNAME: &str = "gitlab-ci-token";

/// [`SERVER_URLS`], parsed.
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

/// No user name, or exactly ours.
pub fn username_ok(username: Option<&[u8]>) -> bool {
    match username {
        None => true,
        Some(u) => u == USERNAME.as_bytes(),
    }
}

/// Must a request with these fields be answered?
pub fn should_answer(
    protocol: &[u8],
    host: &[u8],
    username: Option<&[u8]>,
    has_password: bool,
) -> bool {
    exact(protocol, host) && username_ok(username) && !has_password
}

/// The exact host forms that belong to one of [`servers`], any ASCII case.
pub fn forms_of(server: &Server) -> &'static [&'static str] {
    match (server.host.as_str(), server.port) {
        ("gitlab.example.com", 443) => &["gitlab.example.com", "gitlab.example.com:443"],
        ("gitlab.example.com", 8443) => &["gitlab.example.com:8443"],
        ("gitlab.internal", 80) => &["gitlab.internal", "gitlab.internal:80"],
        ("[::1]", 9443) => &["[::1]:9443"],
        _ => unreachable!("not one of the oracle's servers: {server}"),
    }
}

/// Does a WHATWG URL reader (browsers, Go, the `url` crate) connect to `server` for `url`?
pub fn whatwg_reads_as(url: &str, server: &Server) -> bool {
    url::Url::parse(url).is_ok_and(|url| {
        url.scheme() == server.scheme.as_str()
            && url.host_str() == Some(server.host.as_str())
            && url.port_or_known_default() == Some(server.port)
    })
}

/// How a line reader may split a request. The helper must only answer when every reader agrees
/// on the host: a request that reads two ways is the 2020/2025 credential-leak pattern.
#[derive(Debug, Clone, Copy)]
pub enum Reader {
    /// git: lines end at LF, one CR before the LF is dropped.
    Git,
    /// .NET's `TextReader.ReadLine` (Git Credential Manager): CR, LF and CR LF all end a line.
    AnyNewline,
    /// A C string reader: git's rules, but a value ends at its first NUL.
    CString,
}

/// The lines as `reader` sees them, up to the first blank line. A value with a forged line
/// break becomes two lines here, as it would for that reader; which of two duplicates a reader
/// keeps does not matter, because the checks require *every* `host=` and `protocol=` line to
/// agree.
pub fn reader_lines(bytes: &[u8], reader: Reader) -> Vec<Vec<u8>> {
    let split: Vec<&[u8]> = match reader {
        Reader::AnyNewline => bytes
            .split(|&b| b == b'\n')
            .flat_map(|l| l.strip_suffix(b"\r").unwrap_or(l).split(|&b| b == b'\r'))
            .collect(),
        Reader::Git | Reader::CString => bytes
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .collect(),
    };
    let mut lines = Vec::new();
    for line in split {
        if line.is_empty() {
            break;
        }
        let line = match reader {
            Reader::CString => line.split(|&b| b == 0).next().unwrap_or_default(),
            _ => line,
        };
        lines.push(line.to_vec());
    }
    lines
}

/// Configured registries and, for each, the exact `host[:port]` forms (lower-case) it answers.
pub const REGISTRIES_AND_FORMS: &[(&str, &[&str])] = &[
    (
        "registry.gitlab.example.com",
        &[
            "registry.gitlab.example.com",
            "registry.gitlab.example.com:443",
        ],
    ),
    ("registry.example.com:5050", &["registry.example.com:5050"]),
    ("[::1]:5000", &["[::1]:5000"]),
];

/// [`REGISTRIES_AND_FORMS`]' registries, parsed.
pub fn registries() -> Vec<Registry> {
    REGISTRIES_AND_FORMS
        .iter()
        .map(|(name, _)| Registry::parse(name, RegistryOrigin::Option).expect("valid registry"))
        .collect()
}

/// The registry a Docker `get` request names, as an index into [`registries`]: within the
/// request bound, one trailing LF dropped, an optional lower-case `https://`, then an exact form
/// in any ASCII case.
pub fn expected_registry(input: &[u8]) -> Option<usize> {
    if input.len() > MAX_GET_BYTES {
        return None;
    }
    let address = registry_address(input)
        .strip_prefix(b"https://")
        .unwrap_or(registry_address(input))
        .to_ascii_lowercase();
    REGISTRIES_AND_FORMS
        .iter()
        .position(|(_, forms)| forms.iter().any(|f| f.as_bytes() == address))
}

/// What an answer echoes as `ServerURL`: the request without one trailing LF.
pub fn registry_address(input: &[u8]) -> &[u8] {
    input.strip_suffix(b"\n").unwrap_or(input)
}
