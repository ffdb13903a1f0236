//! The GitLab servers the helper answers for, where each one came from, and the one origin
//! comparison every protocol uses to decide whether a request is for one of them.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fmt;

use crate::env::Env;
use crate::urls::{parse_port, split_port};

/// A server is an origin: scheme, host and port. A path (GitLab's relative root, as in
/// `https://example.com/gitlab`) is accepted and ignored, because git sends no path to helpers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub scheme: Scheme,
    /// Lower-case ASCII; IPv6 literals keep their brackets.
    pub host: String,
    pub port: u16,
    pub origin: Origin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// Where a server came from, so `--debug` output and `doctor` can say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `CI_SERVER_URL`.
    ServerUrl,
    /// `CI_SERVER_PROTOCOL`, `CI_SERVER_HOST` and `CI_SERVER_PORT`.
    ServerHost,
    /// A `--server` option.
    Option,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::ServerUrl => "CI_SERVER_URL",
            Origin::ServerHost => "CI_SERVER_PROTOCOL, CI_SERVER_HOST and CI_SERVER_PORT",
            Origin::Option => "--server",
        })
    }
}

/// A server setting that cannot be used. The value is not repeated in the message: it is
/// configuration, but a URL may carry a password.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ServerError {
    #[error(
        "{origin} is not a valid URL or host[:port]; use a value like https://gitlab.example.com"
    )]
    Invalid { origin: Origin },
    #[error("{origin} must use https:// or http://")]
    Scheme { origin: Origin },
    #[error(
        "{origin} must not contain a user name or password; the token comes from the environment"
    )]
    Credentials { origin: Origin },
    #[error("{origin} must not contain a query or fragment")]
    QueryOrFragment { origin: Origin },
    #[error("CI_SERVER_PORT is not a port number between 1 and 65535")]
    Port,
}

impl fmt::Display for Server {
    /// `https://host` or `https://host:port` when the port is not the default. This is also the
    /// form git matches `credential.<url>.*` keys against.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)?;
        if self.port != self.scheme.default_port() {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

impl Server {
    /// The one origin comparison: same scheme and port, and the host equal ignoring ASCII case
    /// — nothing trimmed, decoded or mapped (no IDNA), so a trailing dot is another host.
    pub fn has_origin(&self, scheme: Scheme, host: &[u8], port: u16) -> bool {
        self.scheme == scheme
            && self.port == port
            && host.eq_ignore_ascii_case(self.host.as_bytes())
    }

    /// Are both the same origin, wherever each came from?
    pub fn same_origin(&self, other: &Server) -> bool {
        self.has_origin(other.scheme, other.host.as_bytes(), other.port)
    }

    /// Parses `https://host[:port][/path]`, `http://…`, or a bare `host[:port]` (meaning https).
    pub fn parse(value: &str, origin: Origin) -> Result<Server, ServerError> {
        let url =
            crate::urls::parse(&as_url(value)).map_err(|_| ServerError::Invalid { origin })?;
        let scheme = match url.scheme() {
            "https" => Scheme::Https,
            "http" => Scheme::Http,
            _ => return Err(ServerError::Scheme { origin }),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ServerError::Credentials { origin });
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(ServerError::QueryOrFragment { origin });
        }
        let host = match url.host_str() {
            Some(host) if !host.is_empty() => host.to_ascii_lowercase(),
            _ => return Err(ServerError::Invalid { origin }),
        };
        let port = url.port().unwrap_or(scheme.default_port());
        Ok(Server {
            scheme,
            host,
            port,
            origin,
        })
    }
}

/// A server value as a URL: a bare `host[:port]` means https.
fn as_url(value: &str) -> Cow<'_, str> {
    match value.contains("://") {
        true => Cow::Borrowed(value),
        false => Cow::Owned(format!("https://{value}")),
    }
}

/// The path of a server value without its trailing slash — GitLab's relative root, as in
/// `https://example.com/gitlab` — or "" when it has none (or is not a URL).
pub fn relative_root(value: &str) -> String {
    crate::urls::parse(&as_url(value))
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default()
}

/// The variables that name the job's GitLab server, set by GitLab in every job.
pub const VARIABLES: [&str; 4] = [
    "CI_SERVER_URL",
    "CI_SERVER_PROTOCOL",
    "CI_SERVER_HOST",
    "CI_SERVER_PORT",
];

/// The job's server from the environment: `CI_SERVER_URL` when set, else `CI_SERVER_PROTOCOL`,
/// `CI_SERVER_HOST` and `CI_SERVER_PORT`; `None` when neither is set.
pub fn from_env(env: &Env) -> Result<Option<Server>, ServerError> {
    // A variable that is set but empty (or not Unicode, which no URL is) counts as unset.
    let var = |name| env.non_empty(name).and_then(OsStr::to_str);
    if let Some(url) = var("CI_SERVER_URL") {
        return Server::parse(url, Origin::ServerUrl).map(Some);
    }
    let Some(host) = var("CI_SERVER_HOST") else {
        return Ok(None);
    };
    let origin = Origin::ServerHost;
    let protocol = var("CI_SERVER_PROTOCOL").unwrap_or("https");
    let mut server = Server::parse(&format!("{protocol}://{host}"), origin)?;
    if let Some(port) = var("CI_SERVER_PORT") {
        server.port = parse_port(port.as_bytes()).ok_or(ServerError::Port)?;
    }
    Ok(Some(server))
}

/// The servers to answer for: the environment's server, then each `--server`, in that order.
/// `--server` adds to the environment rather than replacing it, so a runner image can name extra
/// hosts (a GitLab behind two names) without losing the job's own server.
pub fn configured_servers(env: &Env, options: &[String]) -> Result<Vec<Server>, ServerError> {
    let mut servers: Vec<Server> = from_env(env)?.into_iter().collect();
    for value in options {
        let server = Server::parse(value, Origin::Option)?;
        if !servers.iter().any(|s| s.same_origin(&server)) {
            servers.push(server);
        }
    }
    Ok(servers)
}

/// The configured server whose origin is exactly `scheme` and `host[:port]` as a client wrote
/// them — git's `protocol=` and `host=`, or the parts of a URL read by
/// [`crate::urls::read_strictly`]. The one question every protocol asks before the token is read.
pub fn find<'a>(servers: &'a [Server], scheme: &[u8], host_port: &[u8]) -> Option<&'a Server> {
    servers
        .iter()
        .find(|s| scheme == s.scheme.as_str().as_bytes() && host_matches(host_port, s))
}

/// Does `host[:port]` as a client wrote it name this server's host and port? The port is the
/// server's scheme default when absent; a malformed port matches nothing.
pub fn host_matches(host_port: &[u8], server: &Server) -> bool {
    let (name, port) = match split_port(host_port) {
        Some((name, port)) => match parse_port(port) {
            Some(port) => (name, port),
            None => return false,
        },
        None => (host_port, server.scheme.default_port()),
    };
    server.has_origin(server.scheme, name, port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(scheme: Scheme, host: &str, port: u16, origin: Origin) -> Server {
        Server {
            scheme,
            host: host.into(),
            port,
            origin,
        }
    }

    #[test]
    fn parses_server_values_by_table() {
        use Scheme::*;
        let o = Origin::Option;
        let cases: &[(&str, Result<Server, ServerError>)] = &[
            (
                "https://gitlab.example.com",
                Ok(server(Https, "gitlab.example.com", 443, o)),
            ),
            (
                "https://GitLab.Example.com/",
                Ok(server(Https, "gitlab.example.com", 443, o)),
            ),
            (
                "https://gitlab.example.com:8443",
                Ok(server(Https, "gitlab.example.com", 8443, o)),
            ),
            (
                "https://gitlab.example.com:443/gitlab",
                Ok(server(Https, "gitlab.example.com", 443, o)),
            ),
            (
                "http://gitlab.internal",
                Ok(server(Http, "gitlab.internal", 80, o)),
            ),
            (
                "gitlab.example.com",
                Ok(server(Https, "gitlab.example.com", 443, o)),
            ),
            (
                "gitlab.example.com:8443",
                Ok(server(Https, "gitlab.example.com", 8443, o)),
            ),
            ("localhost:8080/", Ok(server(Https, "localhost", 8080, o))),
            ("https://[::1]:8443", Ok(server(Https, "[::1]", 8443, o))),
            (
                "https://gitlab.example.com.",
                Ok(server(Https, "gitlab.example.com.", 443, o)),
            ),
            (
                "ssh://gitlab.example.com",
                Err(ServerError::Scheme { origin: o }),
            ),
            ("file:///tmp", Err(ServerError::Scheme { origin: o })),
            (
                "https://b\u{fc}cher.example",
                Err(ServerError::Invalid { origin: o }),
            ),
            (
                "https://xn--bcher-kva.example",
                Ok(server(Https, "xn--bcher-kva.example", 443, o)),
            ),
            // Debug builds once panicked on these, inside idna_adapter (src/urls.rs).
            (
                "https://GitLab.E\u{445}ample.COM",
                Err(ServerError::Invalid { origin: o }),
            ),
            (
                "https://GitLab%D0%A5.com",
                Err(ServerError::Invalid { origin: o }),
            ),
            (
                "https://u:p@gitlab.example.com",
                Err(ServerError::Credentials { origin: o }),
            ),
            (
                "https://u@gitlab.example.com",
                Err(ServerError::Credentials { origin: o }),
            ),
            (
                "https://gitlab.example.com/?x",
                Err(ServerError::QueryOrFragment { origin: o }),
            ),
            (
                "https://gitlab.example.com:99999",
                Err(ServerError::Invalid { origin: o }),
            ),
            ("", Err(ServerError::Invalid { origin: o })),
            ("https://", Err(ServerError::Invalid { origin: o })),
        ];
        for (value, expected) in cases {
            assert_eq!(&Server::parse(value, o), expected, "value {value:?}");
        }
    }

    #[test]
    fn relative_roots_are_the_path_without_its_trailing_slash() {
        for (value, root) in [
            ("https://example.com/gitlab/", "/gitlab"),
            ("example.com/gitlab", "/gitlab"),
            ("https://example.com", ""),
            ("https://example.com/", ""),
            ("not a url", ""),
        ] {
            assert_eq!(relative_root(value), root, "{value}");
        }
    }

    #[test]
    fn displays_origin_without_default_port() {
        let s = Server::parse("https://gitlab.example.com:443/x", Origin::Option).unwrap();
        assert_eq!(s.to_string(), "https://gitlab.example.com");
        let s = Server::parse("http://h:8080", Origin::Option).unwrap();
        assert_eq!(s.to_string(), "http://h:8080");
    }

    #[test]
    fn environment_prefers_ci_server_url() {
        let env = Env::from_vars([
            ("CI_SERVER_URL", "https://example.com/gitlab"),
            ("CI_SERVER_HOST", "other.example"),
        ]);
        let s = from_env(&env).unwrap().unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.origin),
            ("example.com", 443, Origin::ServerUrl)
        );
    }

    #[test]
    fn environment_combines_split_variables() {
        let env = Env::from_vars([
            ("CI_SERVER_PROTOCOL", "http"),
            ("CI_SERVER_HOST", "gitlab.internal"),
            ("CI_SERVER_PORT", "8080"),
        ]);
        assert_eq!(
            from_env(&env).unwrap(),
            Some(server(
                Scheme::Http,
                "gitlab.internal",
                8080,
                Origin::ServerHost
            ))
        );
        let env = Env::from_vars([("CI_SERVER_HOST", "gitlab.example.com")]);
        assert_eq!(from_env(&env).unwrap().unwrap().port, 443);
        let env = Env::from_vars([("CI_SERVER_HOST", "h"), ("CI_SERVER_PORT", "0")]);
        assert_eq!(from_env(&env), Err(ServerError::Port));
        assert_eq!(from_env(&Env::from_vars::<&str, &str>([])), Ok(None));
        let empty = Env::from_vars([("CI_SERVER_URL", ""), ("CI_SERVER_HOST", "")]);
        assert_eq!(from_env(&empty), Ok(None), "empty counts as unset");
    }

    #[test]
    fn options_add_to_the_environment_server() {
        let env = Env::from_vars([("CI_SERVER_URL", "https://a.example")]);
        let servers = configured_servers(
            &env,
            &[
                "https://b.example".into(),
                "a.example".into(),
                "https://b.example:443/".into(),
            ],
        )
        .unwrap();
        let names: Vec<String> = servers.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["https://a.example", "https://b.example"]);
    }

    #[test]
    fn finds_the_server_of_exactly_this_origin() {
        let servers: Vec<Server> = ["https://a.example", "http://a.example:8080"]
            .iter()
            .map(|u| Server::parse(u, Origin::Option).unwrap())
            .collect();
        let cases: &[(&str, &str, Option<usize>)] = &[
            ("https", "a.example", Some(0)),
            ("https", "A.Example:443", Some(0)),
            ("http", "a.example:8080", Some(1)),
            ("http", "a.example", None),
            ("https", "a.example:8080", None),
            ("HTTPS", "a.example", None),
            ("https", "a.example.", None),
            ("https", "a.example:0443", None),
            ("https", "", None),
        ];
        for (scheme, host, expected) in cases {
            let got = find(&servers, scheme.as_bytes(), host.as_bytes());
            assert_eq!(got, expected.map(|i| &servers[i]), "{scheme} {host}");
        }
        assert!(servers[0].same_origin(&Server::parse("A.EXAMPLE:443", Origin::ServerUrl).unwrap()));
        assert!(!servers[0].same_origin(&servers[1]));
    }
}
