//! The GitLab servers the helper answers for, and where each one came from.

use std::fmt;

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
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
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
    /// Parses `https://host[:port][/path]`, `http://…`, or a bare `host[:port]` (meaning https).
    pub fn parse(value: &str, origin: Origin) -> Result<Server, ServerError> {
        let with_scheme;
        let text = if value.contains("://") {
            value
        } else {
            with_scheme = format!("https://{value}");
            &with_scheme
        };
        let url = crate::urls::parse(text).map_err(|_| ServerError::Invalid { origin })?;
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

/// The environment variables that describe the job's GitLab server, as read by the caller.
#[derive(Debug, Default, Clone)]
pub struct ServerEnv {
    pub url: Option<String>,
    pub protocol: Option<String>,
    pub host: Option<String>,
    pub port: Option<String>,
}

impl ServerEnv {
    pub fn from_process_env() -> Self {
        // A variable that is set but empty (or not Unicode, which no URL is) counts as unset.
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        ServerEnv {
            url: var("CI_SERVER_URL"),
            protocol: var("CI_SERVER_PROTOCOL"),
            host: var("CI_SERVER_HOST"),
            port: var("CI_SERVER_PORT"),
        }
    }

    /// `CI_SERVER_URL` when set, else the three split variables; `None` when none is set.
    pub fn server(&self) -> Result<Option<Server>, ServerError> {
        if let Some(url) = &self.url {
            return Server::parse(url, Origin::ServerUrl).map(Some);
        }
        let Some(host) = &self.host else {
            return Ok(None);
        };
        let origin = Origin::ServerHost;
        let mut server = Server::parse(
            &format!("{}://{host}", self.protocol.as_deref().unwrap_or("https")),
            origin,
        )?;
        if let Some(port) = &self.port {
            server.port = parse_port(port.as_bytes()).ok_or(ServerError::Port)?;
        }
        Ok(Some(server))
    }
}

/// The servers to answer for: the environment's server, then each `--server`, in that order.
/// `--server` adds to the environment rather than replacing it, so a runner image can name extra
/// hosts (a GitLab behind two names) without losing the job's own server.
pub fn configured_servers(env: &ServerEnv, options: &[String]) -> Result<Vec<Server>, ServerError> {
    let mut servers: Vec<Server> = env.server()?.into_iter().collect();
    for value in options {
        let server = Server::parse(value, Origin::Option)?;
        if !servers
            .iter()
            .any(|s| s.scheme == server.scheme && s.host == server.host && s.port == server.port)
        {
            servers.push(server);
        }
    }
    Ok(servers)
}

/// A port as git writes it in `host=`: 1 to 5 ASCII digits, no sign, no leading zero, 1..=65535.
/// A leading zero is refused because other parsers read `0443` differently (or not at all).
pub fn parse_port(text: &[u8]) -> Option<u16> {
    if text.is_empty() || text.len() > 5 || text[0] == b'0' || !text.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
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
    fn displays_origin_without_default_port() {
        let s = Server::parse("https://gitlab.example.com:443/x", Origin::Option).unwrap();
        assert_eq!(s.to_string(), "https://gitlab.example.com");
        let s = Server::parse("http://h:8080", Origin::Option).unwrap();
        assert_eq!(s.to_string(), "http://h:8080");
    }

    #[test]
    fn environment_prefers_ci_server_url() {
        let env = ServerEnv {
            url: Some("https://example.com/gitlab".into()),
            host: Some("other.example".into()),
            ..ServerEnv::default()
        };
        let s = env.server().unwrap().unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.origin),
            ("example.com", 443, Origin::ServerUrl)
        );
    }

    #[test]
    fn environment_combines_split_variables() {
        let env = ServerEnv {
            protocol: Some("http".into()),
            host: Some("gitlab.internal".into()),
            port: Some("8080".into()),
            ..ServerEnv::default()
        };
        assert_eq!(
            env.server().unwrap(),
            Some(server(
                Scheme::Http,
                "gitlab.internal",
                8080,
                Origin::ServerHost
            ))
        );
        let env = ServerEnv {
            host: Some("gitlab.example.com".into()),
            ..ServerEnv::default()
        };
        assert_eq!(env.server().unwrap().unwrap().port, 443);
        let env = ServerEnv {
            host: Some("h".into()),
            port: Some("0".into()),
            ..ServerEnv::default()
        };
        assert_eq!(env.server(), Err(ServerError::Port));
        assert_eq!(ServerEnv::default().server(), Ok(None));
    }

    #[test]
    fn options_add_to_the_environment_server() {
        let env = ServerEnv {
            url: Some("https://a.example".into()),
            ..ServerEnv::default()
        };
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
    fn parses_ports_strictly() {
        for (text, expected) in [
            ("443", Some(443)),
            ("1", Some(1)),
            ("65535", Some(65535)),
            ("0", None),
            ("0443", None),
            ("65536", None),
            ("", None),
            ("443x", None),
            ("+443", None),
            (" 443", None),
            ("123456", None),
        ] {
            assert_eq!(parse_port(text.as_bytes()), expected, "port {text:?}");
        }
    }
}
