//! The GitLab servers the helper answers for, where each one came from, and the one origin
//! comparison every protocol uses to decide whether a request is for one of them.

use std::borrow::Cow;
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

/// A setting a server is read from, as messages name it: each variable on its own, so that
/// the message says which one to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    ServerUrl,
    ServerProtocol,
    ServerHost,
    ServerPort,
    /// A `--server` option.
    Option,
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Setting::ServerUrl => "CI_SERVER_URL",
            Setting::ServerProtocol => "CI_SERVER_PROTOCOL",
            Setting::ServerHost => "CI_SERVER_HOST",
            Setting::ServerPort => "CI_SERVER_PORT",
            Setting::Option => "--server",
        })
    }
}

impl From<Origin> for Setting {
    fn from(origin: Origin) -> Setting {
        match origin {
            Origin::ServerUrl => Setting::ServerUrl,
            Origin::ServerHost => Setting::ServerHost,
            Origin::Option => Setting::Option,
        }
    }
}

/// A server setting that cannot be used: a configuration error, never a half-understood
/// server. The value is not repeated in the message: it is configuration, but a URL may carry
/// a password.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ServerError {
    #[error("{setting} is not valid UTF-8; set it to the GitLab server, e.g. https://gitlab.example.com")]
    NotUtf8 { setting: Setting },
    #[error(
        "{setting} is not a valid URL or host[:port]; use a value like https://gitlab.example.com"
    )]
    Invalid { setting: Setting },
    #[error("{setting} must be a URL with its scheme, like https://gitlab.example.com")]
    NoScheme { setting: Setting },
    #[error("{setting} must use https:// or http://")]
    Scheme { setting: Setting },
    #[error(
        "{setting} must not contain a user name or password; the token comes from the environment"
    )]
    Credentials { setting: Setting },
    #[error("{setting} must not contain a query or fragment")]
    QueryOrFragment { setting: Setting },
    #[error(
        "{setting} is ambiguous: {why}; write it like https://gitlab.example.com[:port][/path]"
    )]
    Ambiguous { setting: Setting, why: &'static str },
    #[error("CI_SERVER_PROTOCOL must be https or http (the scheme alone, without ://)")]
    Protocol,
    #[error("CI_SERVER_HOST must be the host name alone, optionally with :port (no scheme, path or user name)")]
    Host,
    #[error("CI_SERVER_PORT is not a port number between 1 and 65535")]
    Port,
    #[error("CI_SERVER_HOST names the port {host} but CI_SERVER_PORT says {port}; make them agree, or drop the port from CI_SERVER_HOST")]
    PortConflict { host: u16, port: u16 },
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

    /// Parses `https://host[:port][/path]`, `http://…`, or — except for `CI_SERVER_URL`, which
    /// is a URL by name — a bare `host[:port][/path]` (meaning https). Read as strictly as a
    /// request's `url=` ([`crate::urls::read_strictly`]): a value that two readers would
    /// understand differently, or that holds more than a server (user information, a query, a
    /// fragment), is an error naming the setting.
    pub fn parse(value: &str, origin: Origin) -> Result<Server, ServerError> {
        let setting = Setting::from(origin);
        let ambiguous = |why| ServerError::Ambiguous { setting, why };
        if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(ambiguous("it contains a space or control character"));
        }
        // WHATWG readers take `\` for `/`, others for part of the name.
        if value.contains('\\') {
            return Err(ambiguous("it contains a backslash"));
        }
        let text = match value.contains("://") {
            true => Cow::Borrowed(value),
            false if lacks_slashes(value) => {
                return Err(ambiguous("it has no '//' after the scheme"))
            }
            false if origin == Origin::ServerUrl => return Err(ServerError::NoScheme { setting }),
            false => Cow::Owned(format!("https://{value}")),
        };
        let (strict, url) = crate::urls::read_strictly_with_url(&text).map_err(|e| match e {
            crate::urls::StrictError::Invalid => ServerError::Invalid { setting },
            crate::urls::StrictError::Ambiguous(why) => ambiguous(why),
        })?;
        let scheme = match url.scheme() {
            "https" => Scheme::Https,
            "http" => Scheme::Http,
            _ => return Err(ServerError::Scheme { setting }),
        };
        if strict.userinfo.is_some() {
            return Err(ServerError::Credentials { setting });
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(ServerError::QueryOrFragment { setting });
        }
        // The `url` crate takes an empty port for the default and `:0443` for 443; git and
        // curl do not agree on either.
        if let Some((_, port)) = split_port(strict.host_port.as_bytes()) {
            if parse_port(port).is_none() {
                return Err(ambiguous(
                    "its port is not a number from 1 to 65535 without a leading zero",
                ));
            }
        }
        let host = match url.host_str() {
            Some(host) if !host.is_empty() => host.to_ascii_lowercase(),
            _ => return Err(ServerError::Invalid { setting }),
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

/// Is `value` a URL whose scheme is not followed by `//` (`https:/host`, `https:host`)? A bare
/// `host:port` has digits after its colon.
fn lacks_slashes(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    is_scheme && rest.starts_with(|c: char| !c.is_ascii_digit())
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
///
/// Each variable is read as strictly as a request: a value that is not UTF-8, holds more than
/// its part (a URL in `CI_SERVER_PROTOCOL`, a path in `CI_SERVER_HOST`) or disagrees with
/// another (a port in `CI_SERVER_HOST` other than `CI_SERVER_PORT`) is an error naming it —
/// never a fallback to the next variable, never a server made of half the value.
pub fn from_env(env: &Env) -> Result<Option<Server>, ServerError> {
    // A variable that is set but empty counts as unset: CI systems and shells export empty
    // variables for "unset". Anything else set must be read, or refused.
    let var = |name, setting| match env.non_empty(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(Some)
            .ok_or(ServerError::NotUtf8 { setting }),
    };
    if let Some(url) = var("CI_SERVER_URL", Setting::ServerUrl)? {
        return Server::parse(url, Origin::ServerUrl).map(Some);
    }
    let Some(host) = var("CI_SERVER_HOST", Setting::ServerHost)? else {
        return Ok(None);
    };
    let scheme = match var("CI_SERVER_PROTOCOL", Setting::ServerProtocol)? {
        None | Some("https") => "https",
        Some("http") => "http",
        Some(_) => return Err(ServerError::Protocol),
    };
    let port = match var("CI_SERVER_PORT", Setting::ServerPort)? {
        Some(port) => Some(parse_port(port.as_bytes()).ok_or(ServerError::Port)?),
        None => None,
    };
    // The host alone (and perhaps its port): a scheme, path, user name, query or fragment
    // riding along would be read into another part of the URL.
    if host.contains(['/', '@', '?', '#', '\\']) || host.contains("://") {
        return Err(ServerError::Host);
    }
    let mut server = Server::parse(&format!("{scheme}://{host}"), Origin::ServerHost)
        .map_err(|_| ServerError::Host)?;
    let host_port = split_port(host.as_bytes()).map(|_| server.port);
    match (host_port, port) {
        (Some(host), Some(port)) if host != port => {
            return Err(ServerError::PortConflict { host, port })
        }
        (_, Some(port)) => server.port = port,
        _ => {}
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
        let setting = Setting::Option;
        let ambiguous = |why| Err(ServerError::Ambiguous { setting, why });
        let no_slashes = ambiguous("it has no '//' after the scheme");
        let bad_port = ambiguous("its port is not a number from 1 to 65535 without a leading zero");
        let not_canonical = ambiguous("its host is not written in canonical form");
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
                "HTTPS://gitlab.example.com",
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
                Err(ServerError::Scheme { setting }),
            ),
            ("file:///tmp", Err(ServerError::Scheme { setting })),
            (
                "https://b\u{fc}cher.example",
                Err(ServerError::Invalid { setting }),
            ),
            (
                "https://xn--bcher-kva.example",
                Ok(server(Https, "xn--bcher-kva.example", 443, o)),
            ),
            // Debug builds once panicked on these, inside idna_adapter (src/urls.rs).
            (
                "https://GitLab.E\u{445}ample.COM",
                Err(ServerError::Invalid { setting }),
            ),
            ("https://GitLab%D0%A5.com", not_canonical.clone()),
            (
                "https://u:p@gitlab.example.com",
                Err(ServerError::Credentials { setting }),
            ),
            (
                "https://u@gitlab.example.com",
                Err(ServerError::Credentials { setting }),
            ),
            (
                "https://@gitlab.example.com",
                Err(ServerError::Credentials { setting }),
            ),
            (
                "https://gitlab.example.com/?x",
                Err(ServerError::QueryOrFragment { setting }),
            ),
            (
                "https://gitlab.example.com/#",
                Err(ServerError::QueryOrFragment { setting }),
            ),
            (
                "https://gitlab.example.com:99999",
                Err(ServerError::Invalid { setting }),
            ),
            ("", Err(ServerError::Invalid { setting })),
            ("https://", Err(ServerError::Invalid { setting })),
            // Two readers, two servers: each of these is refused, never half understood.
            ("https:/gitlab.example.com", no_slashes.clone()),
            ("https:gitlab.example.com", no_slashes.clone()),
            ("http:/gitlab.internal:8080", no_slashes),
            (
                "https://evil.example\\@gitlab.example.com",
                ambiguous("it contains a backslash"),
            ),
            (
                "https://gitlab.example.com\\",
                ambiguous("it contains a backslash"),
            ),
            (
                "https://gitlab.example.com /",
                ambiguous("it contains a space or control character"),
            ),
            (
                "https://gitlab.exa\tmple.com",
                ambiguous("it contains a space or control character"),
            ),
            (
                " https://gitlab.example.com",
                ambiguous("it contains a space or control character"),
            ),
            ("https://gitlab.example.com:0443", bad_port.clone()),
            ("https://gitlab.example.com:/", bad_port.clone()),
            ("gitlab.example.com:", bad_port),
            ("https://0x7f.1/", not_canonical.clone()),
            ("https:///gitlab.example.com", not_canonical),
        ];
        for (value, expected) in cases {
            assert_eq!(&Server::parse(value, o), expected, "value {value:?}");
        }
    }

    #[test]
    fn ci_server_url_is_a_url_with_its_scheme() {
        let setting = Setting::ServerUrl;
        let url = Origin::ServerUrl;
        assert_eq!(
            Server::parse("gitlab.example.com", url),
            Err(ServerError::NoScheme { setting })
        );
        assert_eq!(
            Server::parse("https:/gitlab.example.com", url),
            Err(ServerError::Ambiguous {
                setting,
                why: "it has no '//' after the scheme"
            })
        );
        assert!(Server::parse("https://gitlab.example.com/gitlab", url).is_ok());
        let message = Server::parse("https://u:p@h", url).unwrap_err().to_string();
        assert!(message.starts_with("CI_SERVER_URL "), "{message}");
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
        let env = Env::from_vars([("CI_SERVER_HOST", "h.example:8443")]);
        assert_eq!(from_env(&env).unwrap().unwrap().port, 8443);
        let env = Env::from_vars([
            ("CI_SERVER_HOST", "h.example:8443"),
            ("CI_SERVER_PORT", "8443"),
        ]);
        assert_eq!(
            from_env(&env).unwrap().unwrap().port,
            8443,
            "agreeing ports"
        );
        assert_eq!(from_env(&Env::from_vars::<&str, &str>([])), Ok(None));
        let empty = Env::from_vars([("CI_SERVER_URL", ""), ("CI_SERVER_HOST", "")]);
        assert_eq!(from_env(&empty), Ok(None), "empty counts as unset");
    }

    #[test]
    fn environment_values_that_hold_more_than_their_part_are_errors_naming_the_variable() {
        use std::os::unix::ffi::OsStrExt;
        let host = ("CI_SERVER_HOST", "gitlab.example.com");
        let cases: &[(&[(&str, &str)], ServerError)] = &[
            (&[host, ("CI_SERVER_PORT", "0")], ServerError::Port),
            (&[host, ("CI_SERVER_PORT", "08443")], ServerError::Port),
            (
                &[host, ("CI_SERVER_PROTOCOL", "https://evil.example/")],
                ServerError::Protocol,
            ),
            (
                &[host, ("CI_SERVER_PROTOCOL", "HTTPS")],
                ServerError::Protocol,
            ),
            (
                &[host, ("CI_SERVER_PROTOCOL", "ssh")],
                ServerError::Protocol,
            ),
            (
                &[("CI_SERVER_HOST", "https://gitlab.example.com")],
                ServerError::Host,
            ),
            (
                &[("CI_SERVER_HOST", "gitlab.example.com/gitlab")],
                ServerError::Host,
            ),
            (
                &[("CI_SERVER_HOST", "u@gitlab.example.com")],
                ServerError::Host,
            ),
            (
                &[("CI_SERVER_HOST", "evil.example\\@gitlab.example.com")],
                ServerError::Host,
            ),
            (
                &[("CI_SERVER_HOST", "gitlab.example.com?")],
                ServerError::Host,
            ),
            (
                &[("CI_SERVER_HOST", "gitlab.example.com:")],
                ServerError::Host,
            ),
            (
                &[("CI_SERVER_HOST", "gitlab example.com")],
                ServerError::Host,
            ),
            (
                &[
                    ("CI_SERVER_HOST", "gitlab.example.com:8443"),
                    ("CI_SERVER_PORT", "443"),
                ],
                ServerError::PortConflict {
                    host: 8443,
                    port: 443,
                },
            ),
            (
                &[("CI_SERVER_URL", "https:/gitlab.example.com"), host],
                ServerError::Ambiguous {
                    setting: Setting::ServerUrl,
                    why: "it has no '//' after the scheme",
                },
            ),
        ];
        for (vars, expected) in cases {
            assert_eq!(
                from_env(&Env::from_vars(vars.iter().copied())).as_ref(),
                Err(expected),
                "{vars:?}"
            );
        }
        // Not UTF-8: an error, never a fall back to CI_SERVER_HOST.
        let bytes = |b: &[u8]| std::ffi::OsStr::from_bytes(b).to_os_string();
        for name in [
            "CI_SERVER_URL",
            "CI_SERVER_HOST",
            "CI_SERVER_PROTOCOL",
            "CI_SERVER_PORT",
        ] {
            let mut vars = vec![("CI_SERVER_HOST".into(), bytes(b"gitlab.example.com"))];
            vars.retain(|(k, _): &(std::ffi::OsString, _)| k != name);
            vars.push((name.into(), bytes(b"https://gitlab\xff.example.com")));
            let got = from_env(&Env::from_vars(vars)).unwrap_err();
            assert!(
                matches!(got, ServerError::NotUtf8 { .. }),
                "{name}: {got:?}"
            );
            assert!(got.to_string().starts_with(name), "{got}");
        }
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
        assert!(servers[0].same_origin(&Server::parse("A.EXAMPLE:443", Origin::Option).unwrap()));
        assert!(!servers[0].same_origin(&servers[1]));
    }
}
