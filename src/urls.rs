//! The one way this crate reads URLs (with the `url` crate) and `host[:port]` text.
//!
//! `url` is built without Unicode processing (`idna_adapter` pinned to 1.0 in Cargo.toml), so a
//! non-ASCII host never parses. The adapter also asserts, in debug builds only, that no
//! upper-case ASCII reaches it — which a host mixing non-ASCII with upper case, written out or
//! percent-encoded (`GitLab.Eхample`, `g%42．`), would do, and a debug build would panic. A host
//! that is not plain ASCII without `%` can never equal an ASCII host anyway, so it is refused
//! here, before `url` sees it, for every caller: the request's `url=`, `CI_SERVER_URL`,
//! `--server`, and URLs read from git configuration.

/// Why a text was not accepted as a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The host is not plain ASCII.
    NonAsciiHost,
    /// The host is percent-encoded: another reader could decode it differently.
    PercentInHost,
    /// The `url` crate does not accept it.
    Invalid,
}

/// Parses `text` with the `url` crate after the host check above.
pub fn parse(text: &str) -> Result<url::Url, Refusal> {
    let host = host_region(text);
    if !host.is_ascii() {
        return Err(Refusal::NonAsciiHost);
    }
    if host.contains('%') {
        return Err(Refusal::PercentInHost);
    }
    url::Url::parse(text).map_err(|_| Refusal::Invalid)
}

/// The part of `text` where a WHATWG parser would look for the host: after the scheme's `:` and
/// any slashes or backslashes (and the blanks it skips), up to `/`, `\`, `?` or `#`, after the
/// last `@`. Generous on purpose: anything the `url` crate could take for the host is inside.
fn host_region(text: &str) -> &str {
    let Some((_, rest)) = text.split_once(':') else {
        return "";
    };
    let rest = rest.trim_start_matches(['/', '\\', '\t', '\n', '\r', ' ']);
    let authority = &rest[..rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len())];
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

/// A URL whose parts every reader agrees on, each as written (not normalised).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strict<'a> {
    /// The scheme as written; equal to the parsed one ignoring ASCII case.
    pub scheme: &'a str,
    /// `host[:port]` as written.
    pub host_port: &'a str,
    /// What precedes the last `@` of the authority, still percent-encoded.
    pub userinfo: Option<&'a str>,
}

/// Why a URL was not read strictly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrictError {
    /// Not a URL, one whose host is not plain ASCII, or one longer than [`MAX_URL_BYTES`].
    Invalid,
    /// Two readers would understand it differently; the text says how.
    Ambiguous(&'static str),
}

/// The longest URL [`read_strictly`] reads: git's protocol lines are no longer (64 KiB), and a
/// URL handed over as an argument (Go's GOAUTH, a keyring SERVICE) is held to the same bound.
pub const MAX_URL_BYTES: usize = 64 * 1024;

/// Reads a URL the way every client must agree on, before any part of it is compared with a
/// configured server — git's `url=` attribute, Go's GOAUTH argument, a keyring SERVICE.
///
/// The URL is validated with the `url` crate (WHATWG rules), and the authority is also split the
/// plain RFC 3986 way. If the two readings differ in any way beyond ASCII case — IDNA mapping,
/// percent-decoding in the host, IPv4 shorthand, `\` as a separator, a missing `//` — the URL
/// means different things to different clients and is refused. So is a URL with a control
/// character anywhere (the WHATWG parser deletes tabs and line breaks and trims the ends, so
/// `https://gitlab.example.com\n.evil.com/` is one host to it and another to a plain reader),
/// and one longer than [`MAX_URL_BYTES`].
pub fn read_strictly(text: &str) -> Result<Strict<'_>, StrictError> {
    read_strictly_with_url(text).map(|(strict, _)| strict)
}

/// [`read_strictly`], with the `url` crate's reading of the same text (for the parts the
/// strict reading does not split out: the scheme as parsed, query, fragment, path).
pub fn read_strictly_with_url(text: &str) -> Result<(Strict<'_>, url::Url), StrictError> {
    if text.len() > MAX_URL_BYTES {
        return Err(StrictError::Invalid);
    }
    if text.bytes().any(|b| b.is_ascii_control()) {
        return Err(StrictError::Ambiguous("it contains a control character"));
    }
    let not_canonical = StrictError::Ambiguous("its host is not written in canonical form");
    let parsed = parse(text).map_err(|refusal| match refusal {
        Refusal::PercentInHost => not_canonical,
        Refusal::NonAsciiHost | Refusal::Invalid => StrictError::Invalid,
    })?;
    let (scheme, rest) = text
        .split_once("://")
        .ok_or(StrictError::Ambiguous("it has no '//' after the scheme"))?;
    if !scheme.eq_ignore_ascii_case(parsed.scheme()) {
        return Err(StrictError::Ambiguous("its scheme is not plain"));
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.contains('\\') {
        return Err(StrictError::Ambiguous("it contains a backslash"));
    }
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => (Some(userinfo), host_port),
        None => (None, authority),
    };
    let raw_host = match split_port(host_port.as_bytes()) {
        Some((host, _)) => host,
        None => host_port.as_bytes(),
    };
    if !raw_host.eq_ignore_ascii_case(parsed.host_str().unwrap_or("").as_bytes()) {
        return Err(not_canonical);
    }
    let strict = Strict {
        scheme,
        host_port,
        userinfo,
    };
    Ok((strict, parsed))
}

/// Splits `host[:port]` (with `[v6]` literals) at the port separator, without validating the
/// port. `None` when there is no port separator.
pub fn split_port(host_port: &[u8]) -> Option<(&[u8], &[u8])> {
    if host_port.first() == Some(&b'[') {
        let close = host_port.iter().position(|&b| b == b']')?;
        let after = &host_port[close + 1..];
        return after
            .strip_prefix(b":")
            .map(|port| (&host_port[..=close], port));
    }
    let colon = host_port.iter().rposition(|&b| b == b':')?;
    Some((&host_port[..colon], &host_port[colon + 1..]))
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

    #[test]
    fn refuses_hosts_the_adapter_must_not_see_by_table() {
        let cases: &[(&str, Result<&str, Refusal>)] = &[
            ("https://gitlab.example.com/x", Ok("gitlab.example.com")),
            ("https://GitLab.Example.COM:8443/", Ok("gitlab.example.com")),
            ("https://u:p%41@h.example/%C3%A9", Ok("h.example")),
            ("https://b\u{fc}cher.example/", Err(Refusal::NonAsciiHost)),
            (
                "https://GitLab.E\u{445}ample.COM/",
                Err(Refusal::NonAsciiHost),
            ),
            ("https://g%42\u{ff0e}ne/", Err(Refusal::NonAsciiHost)),
            ("https://GitLab%D0%A5.com/", Err(Refusal::PercentInHost)),
            ("https:/\\GitLab.E\u{445}ample/", Err(Refusal::NonAsciiHost)),
            ("https://", Err(Refusal::Invalid)),
            ("not a url", Err(Refusal::Invalid)),
        ];
        for (text, expected) in cases {
            let got = parse(text).map(|u| u.host_str().unwrap_or("").to_string());
            assert_eq!(got.as_deref().map_err(|e| *e), *expected, "{text:?}");
        }
    }

    #[test]
    fn reads_urls_strictly_by_table() {
        let ok = |scheme, host_port, userinfo| {
            Ok(Strict {
                scheme,
                host_port,
                userinfo,
            })
        };
        let long = format!("https://h.example/{}", "a".repeat(MAX_URL_BYTES));
        let cases: &[(&str, Result<Strict, StrictError>)] = &[
            ("https://h.example/x", ok("https", "h.example", None)),
            (
                "https://H.Example:443/x?q#f",
                ok("https", "H.Example:443", None),
            ),
            (
                "https://u:p@h.example/",
                ok("https", "h.example", Some("u:p")),
            ),
            (
                "https://a@b@h.example/",
                ok("https", "h.example", Some("a@b")),
            ),
            ("HTTPS://h.example/", ok("HTTPS", "h.example", None)),
            (
                "https:h.example/",
                Err(StrictError::Ambiguous("it has no '//' after the scheme")),
            ),
            (
                "https://h.example\\@evil.example/",
                Err(StrictError::Ambiguous("it contains a backslash")),
            ),
            (
                "https://%68.example/",
                Err(StrictError::Ambiguous(
                    "its host is not written in canonical form",
                )),
            ),
            (
                "https://0x7f.1/",
                Err(StrictError::Ambiguous(
                    "its host is not written in canonical form",
                )),
            ),
            (
                "https://h.exa\tmple/",
                Err(StrictError::Ambiguous("it contains a control character")),
            ),
            (
                "https://h.example\n.evil.example/",
                Err(StrictError::Ambiguous("it contains a control character")),
            ),
            (
                "https://h.example/\r",
                Err(StrictError::Ambiguous("it contains a control character")),
            ),
            (
                "https://h.example/\x7f",
                Err(StrictError::Ambiguous("it contains a control character")),
            ),
            (
                " https://h.example/",
                Err(StrictError::Ambiguous("its scheme is not plain")),
            ),
            (
                "h.example:443",
                Err(StrictError::Ambiguous("it has no '//' after the scheme")),
            ),
            ("h.example", Err(StrictError::Invalid)),
            ("", Err(StrictError::Invalid)),
            (long.as_str(), Err(StrictError::Invalid)),
        ];
        for (text, expected) in cases {
            assert_eq!(read_strictly(text), *expected, "{text:?}");
        }
    }

    #[test]
    fn splits_ports_like_git_writes_hosts() {
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            ("h.example", None),
            ("h.example:443", Some(("h.example", "443"))),
            ("h.example:", Some(("h.example", ""))),
            ("[::1]:8443", Some(("[::1]", "8443"))),
            ("[::1]", None),
            ("a:b:c", Some(("a:b", "c"))),
        ];
        for (input, expected) in cases {
            let got = split_port(input.as_bytes()).map(|(h, p)| {
                (
                    std::str::from_utf8(h).unwrap(),
                    std::str::from_utf8(p).unwrap(),
                )
            });
            assert_eq!(got, *expected, "input {input:?}");
        }
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
