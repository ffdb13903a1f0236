//! Which registries the docker mode answers for, and the pure decision for a `get`: is the
//! address Docker sent exactly one of them?

use std::fmt;

use crate::env::Env;
use crate::urls::{parse_port, split_port};

/// Longest `get` request read. A registry address is a host and a port; anything longer is not
/// one of ours.
pub const MAX_GET_BYTES: usize = 4096;

/// Where a registry came from, for debug output, `list` and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryOrigin {
    /// `CI_REGISTRY`.
    Registry,
    /// `CI_DEPENDENCY_PROXY_SERVER`.
    DependencyProxy,
    /// A `--registry` option.
    Option,
}

impl fmt::Display for RegistryOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RegistryOrigin::Registry => "CI_REGISTRY",
            RegistryOrigin::DependencyProxy => "CI_DEPENDENCY_PROXY_SERVER",
            RegistryOrigin::Option => "--registry",
        })
    }
}

/// A registry we answer for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// `host[:port]` as configured, without `https://`: the `credHelpers` key and the `list` key.
    pub name: String,
    /// Lower-case ASCII; IPv6 literals keep their brackets.
    pub host: String,
    pub port: u16,
    pub origin: RegistryOrigin,
}

impl fmt::Display for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// A registry setting that cannot be used. The value itself is not repeated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("{0} is not a registry address; use host or host:port, e.g. registry.example.com:5050 (https only)")]
    Invalid(RegistryOrigin),
    #[error("{0} is not valid UTF-8; set it to the registry as host or host:port")]
    NotUtf8(RegistryOrigin),
}

/// Why a `get` is not answered. Shown only in debug output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotFound {
    NoRegistry,
    Empty,
    PlainHttp,
    OtherScheme,
    /// Anything but a bare `host[:port]`: a path, user information, spaces, control bytes,
    /// non-ASCII, a malformed port, more than one trailing newline.
    NotAnAddress,
    OtherRegistry,
    TooLong,
}

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotFound::NoRegistry => {
                "no registry is configured (set CI_REGISTRY or CI_DEPENDENCY_PROXY_SERVER, or pass --registry)"
            }
            NotFound::Empty => "the request names no registry",
            NotFound::PlainHttp => "the request is for plain http, which never gets the token",
            NotFound::OtherScheme => "the request has a scheme other than https",
            NotFound::NotAnAddress => "the request is not a bare host[:port]",
            NotFound::OtherRegistry => "the host and port are not those of a configured registry",
            NotFound::TooLong => "the request is too long to be a registry address",
        })
    }
}

/// The decision for a `get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryDecision<'a> {
    /// Answer for `registry`; `server_url` is the request as given (minus one trailing newline),
    /// echoed back as `ServerURL`.
    Answer {
        registry: &'a Registry,
        server_url: &'a str,
    },
    NotFound(NotFound),
}

/// A parsed `host[:port]`: lower-case host and port (443 when absent).
fn parse_address(text: &[u8]) -> Option<(String, u16)> {
    // Only what a DNS name, an IPv4 address, a bracketed IPv6 literal and a port are made of.
    // This leaves out `/`, `@`, `\`, `%`, `?`, `#`, spaces, control bytes and non-ASCII.
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || b".-_:[]".contains(b);
    if text.is_empty() || !text.iter().all(allowed) {
        return None;
    }
    let (name, port) = match split_port(text) {
        Some((name, port)) => (name, parse_port(port)?),
        None => (text, 443),
    };
    let bracketed = name.len() > 2 && name[0] == b'[' && name[name.len() - 1] == b']';
    let inner = if bracketed {
        &name[1..name.len() - 1]
    } else {
        name
    };
    // Brackets only around a whole IPv6 literal; a colon only inside one.
    if inner.is_empty()
        || inner.contains(&b'[')
        || inner.contains(&b']')
        || (!bracketed && inner.contains(&b':'))
        || (bracketed
            && !inner
                .iter()
                .all(|b| b.is_ascii_hexdigit() || b".:".contains(b)))
    {
        return None;
    }
    let host = String::from_utf8(name.to_ascii_lowercase()).ok()?;
    Some((host, port))
}

impl Registry {
    /// Parses a configured registry: `host[:port]`, optionally written with `https://`.
    pub fn parse(value: &str, origin: RegistryOrigin) -> Result<Registry, RegistryError> {
        let name = value.strip_prefix("https://").unwrap_or(value);
        let (host, port) = parse_address(name.as_bytes()).ok_or(RegistryError::Invalid(origin))?;
        Ok(Registry {
            name: name.to_string(),
            host,
            port,
            origin,
        })
    }
}

/// The variables that name the job's registries, set by GitLab in every job.
pub const VARIABLES: [&str; 2] = ["CI_REGISTRY", "CI_DEPENDENCY_PROXY_SERVER"];

/// The registries to answer for: `CI_REGISTRY`, `CI_DEPENDENCY_PROXY_SERVER`, then each
/// `--registry`, without duplicates (same host and port).
pub fn configured_registries(
    env: &Env,
    options: &[String],
) -> Result<Vec<Registry>, RegistryError> {
    // A variable that is set but empty counts as unset; one that is not UTF-8 (which no
    // address is) is an error, never skipped.
    let var = |name, origin| match env.non_empty(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(|v| Some((v, origin)))
            .ok_or(RegistryError::NotUtf8(origin)),
    };
    let from_env = [
        var("CI_REGISTRY", RegistryOrigin::Registry)?,
        var(
            "CI_DEPENDENCY_PROXY_SERVER",
            RegistryOrigin::DependencyProxy,
        )?,
    ];
    let values = from_env
        .into_iter()
        .flatten()
        .chain(options.iter().map(|v| (v.as_str(), RegistryOrigin::Option)));
    let mut registries: Vec<Registry> = Vec::new();
    for (value, origin) in values {
        let registry = Registry::parse(value, origin)?;
        if !registries
            .iter()
            .any(|r| r.host == registry.host && r.port == registry.port && r.name == registry.name)
        {
            registries.push(registry);
        }
    }
    Ok(registries)
}

/// Decides whether a `get` request (the bytes Docker wrote on stdin) is for one of `registries`:
/// an optional `https://`, then `host[:port]` with the host equal ignoring ASCII case and the
/// port equal once 443 is filled in. `http://` never matches. Nothing is trimmed except one
/// trailing newline.
pub fn decide_registry<'a>(input: &'a [u8], registries: &'a [Registry]) -> RegistryDecision<'a> {
    use RegistryDecision::NotFound as No;
    if registries.is_empty() {
        return No(NotFound::NoRegistry);
    }
    if input.len() > MAX_GET_BYTES {
        return No(NotFound::TooLong);
    }
    let given = input.strip_suffix(b"\n").unwrap_or(input);
    if given.is_empty() {
        return No(NotFound::Empty);
    }
    if given.starts_with(b"http://") {
        return No(NotFound::PlainHttp);
    }
    let address = match given.strip_prefix(b"https://") {
        Some(rest) => rest,
        None if given.windows(3).any(|w| w == b"://") => return No(NotFound::OtherScheme),
        None => given,
    };
    let Some((host, port)) = parse_address(address) else {
        return No(NotFound::NotAnAddress);
    };
    // parse_address accepted only ASCII, so this cannot fail.
    let Ok(server_url) = std::str::from_utf8(given) else {
        return No(NotFound::NotAnAddress);
    };
    match registries
        .iter()
        .find(|r| r.port == port && r.host.eq_ignore_ascii_case(&host))
    {
        Some(registry) => RegistryDecision::Answer {
            registry,
            server_url,
        },
        None => No(NotFound::OtherRegistry),
    }
}

/// Registries given as `--registry` values, for the docker mode's tests.
#[cfg(test)]
pub(crate) fn registries(values: &[&str]) -> Vec<Registry> {
    values
        .iter()
        .map(|v| Registry::parse(v, RegistryOrigin::Option).unwrap())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decides_registries_by_table() {
        let ours = registries(&["registry.example.com", "gitlab.example.com:5050"]);
        let yes = |name: &'static str| Ok(name);
        use NotFound::*;
        let cases: &[(&[u8], Result<&str, NotFound>)] = &[
            (b"registry.example.com", yes("registry.example.com")),
            (b"registry.example.com\n", yes("registry.example.com")),
            (b"https://registry.example.com", yes("registry.example.com")),
            (b"registry.example.com:443", yes("registry.example.com")),
            (
                b"https://registry.example.com:443\n",
                yes("registry.example.com"),
            ),
            (b"Registry.EXAMPLE.com", yes("registry.example.com")),
            (b"gitlab.example.com:5050", yes("gitlab.example.com:5050")),
            (b"GITLAB.example.com:5050\n", yes("gitlab.example.com:5050")),
            (b"gitlab.example.com", Err(OtherRegistry)),
            (b"gitlab.example.com:443", Err(OtherRegistry)),
            (b"registry.example.com:5050", Err(OtherRegistry)),
            (b"registry.example.com.", Err(OtherRegistry)),
            (b"registry.example.com.evil.com", Err(OtherRegistry)),
            (b"evilregistry.example.com", Err(OtherRegistry)),
            (b"example.com", Err(OtherRegistry)),
            (b"http://registry.example.com", Err(PlainHttp)),
            (b"http://registry.example.com:443", Err(PlainHttp)),
            (b"HTTPS://registry.example.com", Err(OtherScheme)),
            (b"ftp://registry.example.com", Err(OtherScheme)),
            (b"https://registry.example.com/", Err(NotAnAddress)),
            (b"https://registry.example.com/v2/", Err(NotAnAddress)),
            (b"registry.example.com/group/image", Err(NotAnAddress)),
            (b"user@registry.example.com", Err(NotAnAddress)),
            (b"registry.example.com@evil.com", Err(NotAnAddress)),
            (b"https://u:p@registry.example.com", Err(NotAnAddress)),
            (b"registry.example.com\n\n", Err(NotAnAddress)),
            (b"registry.example.com\r\n", Err(NotAnAddress)),
            (b"registry.example.com ", Err(NotAnAddress)),
            (b" registry.example.com", Err(NotAnAddress)),
            (b"registry.example.com\0", Err(NotAnAddress)),
            (b"registry.example.com\nevil.com", Err(NotAnAddress)),
            (b"registry.example.com\tx", Err(NotAnAddress)),
            (b"registry\xef\xbc\x8eexample.com", Err(NotAnAddress)),
            (b"registry.example.com\xff", Err(NotAnAddress)),
            (b"registry.example.com%2f", Err(NotAnAddress)),
            (b"registry.example.com?x", Err(NotAnAddress)),
            (b"registry.example.com#x", Err(NotAnAddress)),
            (b"registry.example.com\\@evil.com", Err(NotAnAddress)),
            (b"registry.example.com:", Err(NotAnAddress)),
            (b"registry.example.com:0443", Err(NotAnAddress)),
            (b"registry.example.com:65536", Err(NotAnAddress)),
            (b"registry.example.com:443x", Err(NotAnAddress)),
            (b"registry.example.com:443:443", Err(NotAnAddress)),
            (b"https://", Err(NotAnAddress)),
            (b"", Err(Empty)),
            (b"\n", Err(Empty)),
        ];
        for (input, expected) in cases {
            let got = match decide_registry(input, &ours) {
                RegistryDecision::Answer {
                    registry,
                    server_url,
                } => {
                    let given = input.strip_suffix(b"\n").unwrap_or(input);
                    assert_eq!(
                        server_url.as_bytes(),
                        given,
                        "ServerURL is the input as given"
                    );
                    Ok(registry.name.as_str())
                }
                RegistryDecision::NotFound(why) => Err(why),
            };
            assert_eq!(&got, expected, "input {:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn nothing_matches_without_registries_or_beyond_the_size_bound() {
        assert_eq!(
            decide_registry(b"registry.example.com", &[]),
            RegistryDecision::NotFound(NotFound::NoRegistry)
        );
        let ours = registries(&["registry.example.com"]);
        let long = [b'a'; MAX_GET_BYTES + 1];
        assert_eq!(
            decide_registry(&long, &ours),
            RegistryDecision::NotFound(NotFound::TooLong)
        );
    }

    #[test]
    fn ipv6_and_ip_registries_match_only_exactly() {
        let ours = registries(&["[::1]:5000", "127.0.0.1:5000"]);
        let answered = |input: &[u8]| {
            matches!(
                decide_registry(input, &ours),
                RegistryDecision::Answer { .. }
            )
        };
        assert!(answered(b"[::1]:5000"));
        assert!(answered(b"127.0.0.1:5000"));
        assert!(!answered(b"[::1]"));
        assert!(!answered(b"::1:5000"));
        assert!(!answered(b"[::1]x:5000"));
        assert!(!answered(b"[[::1]]:5000"));
        assert!(!answered(b"localhost:5000"));
        assert!(!answered(b"127.0.0.1:5001"));
    }

    #[test]
    fn parses_configured_registries_by_table() {
        let o = RegistryOrigin::Option;
        let ok = |name: &str, host: &str, port| {
            Ok(Registry {
                name: name.into(),
                host: host.into(),
                port,
                origin: o,
            })
        };
        let cases: &[(&str, Result<Registry, RegistryError>)] = &[
            (
                "registry.example.com",
                ok("registry.example.com", "registry.example.com", 443),
            ),
            (
                "https://Reg.Example.com:5050",
                ok("Reg.Example.com:5050", "reg.example.com", 5050),
            ),
            (
                "gitlab.example.com:443",
                ok("gitlab.example.com:443", "gitlab.example.com", 443),
            ),
            (
                "http://registry.example.com",
                Err(RegistryError::Invalid(o)),
            ),
            ("registry.example.com/", Err(RegistryError::Invalid(o))),
            ("u@registry.example.com", Err(RegistryError::Invalid(o))),
            ("registry.example.com:0", Err(RegistryError::Invalid(o))),
            ("", Err(RegistryError::Invalid(o))),
        ];
        for (value, expected) in cases {
            assert_eq!(&Registry::parse(value, o), expected, "value {value:?}");
        }
    }

    #[test]
    fn registries_come_from_both_variables_and_options_without_duplicates() {
        let env = Env::from_vars([
            ("CI_REGISTRY", "registry.example.com"),
            ("CI_DEPENDENCY_PROXY_SERVER", "gitlab.example.com:443"),
        ]);
        let got = configured_registries(
            &env,
            &[
                "registry.example.com".into(),
                "mirror.example.com:5000".into(),
            ],
        )
        .unwrap();
        let names: Vec<(&str, RegistryOrigin)> =
            got.iter().map(|r| (r.name.as_str(), r.origin)).collect();
        assert_eq!(
            names,
            [
                ("registry.example.com", RegistryOrigin::Registry),
                ("gitlab.example.com:443", RegistryOrigin::DependencyProxy),
                ("mirror.example.com:5000", RegistryOrigin::Option),
            ]
        );
        let bad = Env::from_vars([("CI_REGISTRY", "http://registry.example.com")]);
        assert_eq!(
            configured_registries(&bad, &[]),
            Err(RegistryError::Invalid(RegistryOrigin::Registry))
        );
        use std::os::unix::ffi::OsStrExt;
        let not_utf8 = std::ffi::OsStr::from_bytes(b"registry\xff.example.com");
        let bad = Env::from_vars([
            ("CI_REGISTRY", std::ffi::OsStr::new("registry.example.com")),
            ("CI_DEPENDENCY_PROXY_SERVER", not_utf8),
        ]);
        assert_eq!(
            configured_registries(&bad, &[]),
            Err(RegistryError::NotUtf8(RegistryOrigin::DependencyProxy))
        );
    }
}
