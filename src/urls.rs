//! The one way this crate parses URLs with the `url` crate.
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
}
