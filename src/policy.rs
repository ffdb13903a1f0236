//! The decision: does this request get the job token? Pure, so every rule is a table row.

use std::fmt;

use crate::protocol::{request_from_url, ProtocolError, Request};
use crate::server::{self, host_matches, Server};

/// The user name GitLab expects with a job token, and the one the helper answers with unless
/// `--username` says otherwise.
pub const DEFAULT_USERNAME: &str = "gitlab-ci-token";

/// The outcome for a `get` request. Only [`Decision::Answer`] leads to the token being read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'a> {
    Answer(&'a Server),
    Decline(Decline),
}

/// Why a request is left to the next helper. Shown only in debug output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decline {
    NoServer,
    NoProtocol,
    NoHost,
    /// `protocol` is not the scheme of any server with this host and port.
    OtherProtocol,
    /// `host` names no configured server (host or port differ, or it is malformed).
    OtherHost,
    /// The request names a user other than ours.
    OtherUser,
    /// The caller already has a secret (`password=` or `credential=`).
    HasPassword,
}

impl fmt::Display for Decline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Decline::NoServer => {
                "no GitLab server is configured (set CI_SERVER_URL or pass --server)"
            }
            Decline::NoProtocol => "the request has no protocol",
            Decline::NoHost => "the request has no host (libgit2 sends none for IP-address URLs)",
            Decline::OtherProtocol => "the protocol is not the scheme of a configured server",
            Decline::OtherHost => "the host and port are not those of a configured server",
            Decline::OtherUser => "the request names a user other than the configured one",
            Decline::HasPassword => "the request already carries a password or credential",
        })
    }
}

/// Decides whether `request` is for one of `servers`, per the matching rules of the security
/// model (docs/security.md): exact scheme; host equal ignoring ASCII case, nothing trimmed or
/// mapped; port equal once the scheme's default is filled in; no other user; no password yet.
pub fn decide<'a>(request: &Request, servers: &'a [Server], username: &str) -> Decision<'a> {
    use Decision::Decline as No;
    if servers.is_empty() {
        return No(Decline::NoServer);
    }
    let Some(protocol) = request.protocol.as_deref().filter(|p| !p.is_empty()) else {
        return No(Decline::NoProtocol);
    };
    let Some(host) = request.host.as_deref().filter(|h| !h.is_empty()) else {
        return No(Decline::NoHost);
    };
    let Some(server) = server::find(servers, protocol, host) else {
        // Only the reason differs; either way nothing is answered.
        return match servers.iter().any(|s| host_matches(host, s)) {
            true => No(Decline::OtherProtocol),
            false => No(Decline::OtherHost),
        };
    };
    if request
        .username
        .as_deref()
        .is_some_and(|u| u != username.as_bytes())
    {
        return No(Decline::OtherUser);
    }
    if request.has_password {
        return No(Decline::HasPassword);
    }
    Decision::Answer(server)
}

/// Why a URL handed over whole (Go's GOAUTH argument, a keyring SERVICE) gets nothing. Shown
/// only in debug output; it never carries the URL's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlDecline {
    /// Not a URL with `scheme://`, or one that readers disagree about (see
    /// [`crate::urls::read_strictly`]): `\\`, a percent-encoded or shorthand host, a missing
    /// `//`, a control character, a bare `host[:port]`.
    NotAUrl(ProtocolError),
    /// A URL, but not for a configured server, or for another user, or with a password.
    Declined(Decline),
}

impl fmt::Display for UrlDecline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlDecline::NotAUrl(e) => write!(f, "not a URL with an origin ({e})"),
            UrlDecline::Declined(why) => write!(f, "{why}"),
        }
    }
}

/// The configured server whose origin `url` names exactly, for `username`: the URL read as git's
/// `url=` attribute is ([`request_from_url`]) and decided by [`decide`] — no matcher of its own.
pub fn decide_url<'a>(
    url: &[u8],
    servers: &'a [Server],
    username: &str,
) -> Result<&'a Server, UrlDecline> {
    let request = request_from_url(url).map_err(UrlDecline::NotAUrl)?;
    match decide(&request, servers, username) {
        Decision::Answer(server) => Ok(server),
        Decision::Decline(why) => Err(UrlDecline::Declined(why)),
    }
}

/// Whether `--username` can be sent at all: one non-empty line.
pub fn username_is_valid(username: &str) -> bool {
    !username.is_empty() && !username.contains(['\n', '\r', '\0'])
}

/// `--server`-style values, parsed: the servers of the decision tables here and in the modes
/// that decide through this module (goauth, keyring).
#[cfg(test)]
pub(crate) fn test_servers(urls: &[&str]) -> Vec<Server> {
    urls.iter()
        .map(|u| Server::parse(u, crate::server::Origin::Option).unwrap())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use test_servers as servers;

    fn request(lines: &[u8]) -> Request {
        crate::protocol::parse_request(lines).unwrap()
    }

    #[test]
    fn decides_by_table() {
        let gitlab = servers(&["https://gitlab.example.com"]);
        let yes = true;
        let no = false;
        let cases: &[(&str, bool)] = &[
            ("protocol=https\nhost=gitlab.example.com", yes),
            ("protocol=https\nhost=gitlab.example.com:443", yes),
            ("protocol=https\nhost=GitLab.Example.COM", yes),
            ("protocol=https\nhost=GITLAB.EXAMPLE.COM:443", yes),
            (
                "protocol=https\nhost=gitlab.example.com\nusername=gitlab-ci-token",
                yes,
            ),
            (
                "protocol=https\nhost=gitlab.example.com\npath=group/p.git",
                yes,
            ),
            ("url=https://gitlab.example.com/group/p.git", yes),
            (
                "url=https://gitlab-ci-token@gitlab.example.com/group/p.git",
                yes,
            ),
            ("protocol=http\nhost=gitlab.example.com", no),
            ("protocol=HTTPS\nhost=gitlab.example.com", no),
            ("protocol=ssh\nhost=gitlab.example.com", no),
            ("protocol=cert\nhost=\npath=/c.pem", no),
            ("protocol=https", no),
            ("host=gitlab.example.com", no),
            ("protocol=\nhost=gitlab.example.com", no),
            ("protocol=https\nhost=", no),
            ("protocol=https\nhost=gitlab.example.com:8443", no),
            ("protocol=https\nhost=gitlab.example.com:0443", no),
            ("protocol=https\nhost=gitlab.example.com:", no),
            ("protocol=https\nhost=gitlab.example.com:65536", no),
            ("protocol=https\nhost=gitlab.example.com:443x", no),
            ("protocol=https\nhost=gitlab.example.com:80", no),
            ("protocol=https\nhost=gitlab.example.com.", no),
            ("protocol=https\nhost=gitlab.example.com.evil.com", no),
            ("protocol=https\nhost=evilgitlab.example.com", no),
            ("protocol=https\nhost=gitlab.example.com/evil.com", no),
            ("protocol=https\nhost=x@gitlab.example.com", no),
            ("protocol=https\nhost=gitlab.example.com@evil.com", no),
            ("protocol=https\nhost=gitlab.example.com ", no),
            ("protocol=https\nhost= gitlab.example.com", no),
            ("protocol=https\nhost=gitlab\u{ff0e}example.com", no),
            (
                "protocol=https\nhost=gitlab.example.com\nusername=alice",
                no,
            ),
            ("protocol=https\nhost=gitlab.example.com\nusername=", no),
            (
                "protocol=https\nhost=gitlab.example.com\nusername=gitlab.example.com\\",
                no,
            ),
            (
                "protocol=https\nhost=gitlab.example.com\nusername=GITLAB-CI-TOKEN",
                no,
            ),
            (
                "protocol=https\nhost=gitlab.example.com\nusername=gitlab-ci-token\npassword=x",
                no,
            ),
            ("protocol=https\nhost=gitlab.example.com\npassword=", no),
            (
                "protocol=https\nhost=gitlab.example.com\nauthtype=Bearer\ncredential=abc",
                no,
            ),
            (
                "protocol=https\nhost=gitlab.example.com\ncredential=abc",
                no,
            ),
            ("protocol=https\nhost=gitlab.example.com\ncredential=", no),
            (
                "capability[]=authtype\nprotocol=https\nhost=gitlab.example.com\nauthtype=Basic",
                yes,
            ),
            ("url=https://u:p@gitlab.example.com/", no),
            ("url=https://gitlab.example.com:8443/", no),
            ("Host=gitlab.example.com\nprotocol=https", no),
        ];
        for (input, answer) in cases {
            let decision = decide(&request(input.as_bytes()), &gitlab, "gitlab-ci-token");
            assert_eq!(
                matches!(decision, Decision::Answer(_)),
                *answer,
                "input {input:?} gave {decision:?}"
            );
        }
        let non_utf8 = request(b"protocol=https\nhost=gitlab\xff.example.com");
        assert_eq!(
            decide(&non_utf8, &gitlab, "gitlab-ci-token"),
            Decision::Decline(Decline::OtherHost)
        );
    }

    #[test]
    fn reports_why_it_declines() {
        let gitlab = servers(&["https://gitlab.example.com"]);
        let cases: &[(&str, &[Server], Decline)] = &[
            (
                "protocol=https\nhost=gitlab.example.com",
                &[],
                Decline::NoServer,
            ),
            ("host=gitlab.example.com", &gitlab, Decline::NoProtocol),
            ("protocol=https", &gitlab, Decline::NoHost),
            (
                "protocol=http\nhost=gitlab.example.com",
                &gitlab,
                Decline::OtherProtocol,
            ),
            ("protocol=https\nhost=evil.com", &gitlab, Decline::OtherHost),
            (
                "protocol=https\nhost=gitlab.example.com\nusername=a",
                &gitlab,
                Decline::OtherUser,
            ),
            (
                "protocol=https\nhost=gitlab.example.com\npassword=a",
                &gitlab,
                Decline::HasPassword,
            ),
        ];
        for (input, servers, why) in cases {
            assert_eq!(
                decide(&request(input.as_bytes()), servers, "gitlab-ci-token"),
                Decision::Decline(*why),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn matches_ports_schemes_and_custom_usernames() {
        let set = servers(&[
            "https://gitlab.example.com:8443",
            "http://gitlab.internal",
            "https://[::1]:9443",
            "https://example.com/gitlab",
        ]);
        let cases: &[(&str, Option<&str>)] = &[
            (
                "protocol=https\nhost=gitlab.example.com:8443",
                Some("https://gitlab.example.com:8443"),
            ),
            ("protocol=https\nhost=gitlab.example.com", None),
            (
                "protocol=http\nhost=gitlab.internal",
                Some("http://gitlab.internal"),
            ),
            (
                "protocol=http\nhost=gitlab.internal:80",
                Some("http://gitlab.internal"),
            ),
            ("protocol=https\nhost=gitlab.internal", None),
            (
                "protocol=https\nhost=[::1]:9443",
                Some("https://[::1]:9443"),
            ),
            ("protocol=https\nhost=[::1]", None),
            ("protocol=https\nhost=::1:9443", None),
            (
                "protocol=https\nhost=example.com",
                Some("https://example.com"),
            ),
        ];
        for (input, expected) in cases {
            let got = match decide(&request(input.as_bytes()), &set, "gitlab-ci-token") {
                Decision::Answer(s) => Some(s.to_string()),
                Decision::Decline(_) => None,
            };
            assert_eq!(got.as_deref(), *expected, "input {input:?}");
        }
        let custom = request(b"protocol=https\nhost=gitlab.example.com:8443\nusername=deploy");
        assert!(matches!(
            decide(&custom, &set, "deploy"),
            Decision::Answer(_)
        ));
        assert!(matches!(
            decide(&custom, &set, "gitlab-ci-token"),
            Decision::Decline(Decline::OtherUser)
        ));
    }

    #[test]
    fn same_host_on_both_schemes_answers_the_matching_scheme() {
        let set = servers(&["http://h.example:8080", "https://h.example:8080"]);
        let got = decide(
            &request(b"protocol=https\nhost=h.example:8080"),
            &set,
            "gitlab-ci-token",
        );
        assert_eq!(got, Decision::Answer(&set[1]));
    }

    /// Every near miss of a URL handed over whole, and the forms that are the same origin.
    #[test]
    fn decides_urls_by_table() {
        let set = servers(&[
            "https://gitlab.example.com",
            "https://gitlab.example.com:8443",
            "http://gitlab.internal",
            "https://[::1]:9443",
        ]);
        let yes = |s: &str| Some(s.to_string());
        let cases: &[(&[u8], Option<String>)] = &[
            (
                b"https://gitlab.example.com/",
                yes("https://gitlab.example.com"),
            ),
            (
                b"https://gitlab.example.com",
                yes("https://gitlab.example.com"),
            ),
            (
                b"https://gitlab.example.com:443/group/sub/proj?go-get=1",
                yes("https://gitlab.example.com"),
            ),
            (
                b"https://GitLab.Example.COM/api/v4/projects/42/packages/pypi/simple/",
                yes("https://gitlab.example.com"),
            ),
            (
                b"https://gitlab-ci-token@gitlab.example.com/simple",
                yes("https://gitlab.example.com"),
            ),
            (
                b"https://gitlab.example.com:8443/x",
                yes("https://gitlab.example.com:8443"),
            ),
            (b"http://gitlab.internal/x", yes("http://gitlab.internal")),
            (b"http://gitlab.internal:80", yes("http://gitlab.internal")),
            (b"https://[::1]:9443/x", yes("https://[::1]:9443")),
            (b"https://gitlab.example.com.evil.com/", None),
            (b"https://evilgitlab.example.com/", None),
            (b"https://gitlab.example.co/", None),
            (b"https://gitlab.example.com:9443/", None),
            (b"https://gitlab.example.com:0443/", None),
            (b"https://gitlab.example.com:/", None),
            (b"http://gitlab.example.com/", None),
            (b"https://gitlab.internal/", None),
            (b"ssh://gitlab.example.com/", None),
            (b"HTTPS://gitlab.example.com/", None),
            (b"https://gitlab.example.com@evil.com/", None),
            (b"https://gitlab.example.com:443@evil.com/", None),
            (b"https://evil.com/https://gitlab.example.com/", None),
            (b"https://evil.com?https://gitlab.example.com/", None),
            (b"https://evil.com#@gitlab.example.com/", None),
            (b"https://gitlab.example.com\\@evil.com/", None),
            (b"https:\\\\gitlab.example.com/", None),
            (b"https:gitlab.example.com/", None),
            (b"https:/gitlab.example.com/", None),
            (b"//gitlab.example.com/", None),
            (b"gitlab.example.com", None),
            (b"gitlab.example.com:443", None),
            (b"https://gitlab.example.com./", None),
            (b"https://gitlab%2eexample.com/", None),
            (b"https://%67itlab.example.com/", None),
            (b"https://gitlab\xef\xbc\x8eexample.com/", None),
            (b"https://gitlab.example.com\n.evil.com/", None),
            (b"https://gitlab.exa\tmple.com/", None),
            (b" https://gitlab.example.com/", None),
            (b"https://gitlab.example.com /", None),
            (b"https://gitlab.example.com/\r", None),
            (b"https://gitlab.example.com/\0", None),
            (b"https://gitlab\xff.example.com/", None),
            (b"https://alice@gitlab.example.com/", None),
            (b"https://gitlab-ci-token:x@gitlab.example.com/", None),
            (b"https://[::1]/", None),
            (b"https://[0:0::1]:9443/", None),
            (b"https://0x7f.1:9443/", None),
            (b"", None),
        ];
        for (url, expected) in cases {
            let got = decide_url(url, &set, "gitlab-ci-token").map(ToString::to_string);
            assert_eq!(
                got.as_ref().ok(),
                expected.as_ref(),
                "url {:?} gave {got:?}",
                String::from_utf8_lossy(url)
            );
        }
    }

    #[test]
    fn reports_why_a_url_gets_nothing() {
        let set = servers(&["https://gitlab.example.com"]);
        let long = format!("https://gitlab.example.com/{}", "a".repeat(64 * 1024));
        let cases: &[(&[u8], UrlDecline)] = &[
            (
                long.as_bytes(),
                UrlDecline::NotAUrl(ProtocolError::InvalidUrl),
            ),
            (
                b"https://gitlab.example.com/\n",
                UrlDecline::NotAUrl(ProtocolError::AmbiguousUrl(
                    "it contains a control character",
                )),
            ),
            (
                b"gitlab.example.com:443",
                UrlDecline::NotAUrl(ProtocolError::AmbiguousUrl(
                    "it has no '//' after the scheme",
                )),
            ),
            (
                b"https://other.example/",
                UrlDecline::Declined(Decline::OtherHost),
            ),
            (
                b"http://gitlab.example.com/",
                UrlDecline::Declined(Decline::OtherProtocol),
            ),
            (
                b"https://u@gitlab.example.com/",
                UrlDecline::Declined(Decline::OtherUser),
            ),
            (
                b"https://gitlab-ci-token:p@gitlab.example.com/",
                UrlDecline::Declined(Decline::HasPassword),
            ),
        ];
        for (url, why) in cases {
            assert_eq!(
                decide_url(url, &set, "gitlab-ci-token").unwrap_err(),
                *why,
                "{:?}",
                String::from_utf8_lossy(url)
            );
        }
        assert_eq!(
            decide_url(b"https://gitlab.example.com/", &[], "gitlab-ci-token"),
            Err(UrlDecline::Declined(Decline::NoServer))
        );
    }

    #[test]
    fn usernames_are_one_non_empty_line() {
        for (name, valid) in [
            ("gitlab-ci-token", true),
            ("a:b", true),
            ("", false),
            ("a\nb", false),
            ("a\rb", false),
            ("a\0b", false),
        ] {
            assert_eq!(username_is_valid(name), valid, "{name:?}");
        }
    }
}
