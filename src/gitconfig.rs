//! The git configuration model `configure` and `doctor` share: entries as `git config --list
//! -z` prints them, and git's rules for which helpers it runs for a server (URL matching, the
//! helper chain with its resets). Pure; `git.rs` runs git to get the entries.

use crate::server::Server;

/// The system file libgit2 (and so cargo) reads, and Debian's git.
pub const LIBGIT2_SYSTEM_FILE: &str = "/etc/gitconfig";

/// One configuration entry as `git config --list -z` reports it. `key` has its section and
/// variable name in lower case and its subsection as written; `value` is `None` for a bare key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `system`, `global`, `local`, `worktree`, `command`; empty when not asked for.
    pub scope: String,
    /// `file:/path`, `command line:`, ...; empty when not asked for.
    pub origin: String,
    pub key: String,
    pub value: Option<String>,
}

impl Entry {
    pub fn new(key: &str, value: Option<&str>) -> Entry {
        Entry {
            scope: String::new(),
            origin: String::new(),
            key: key.into(),
            value: value.map(Into::into),
        }
    }

    /// (section, subsection, name) — `url.https://a.example/.insteadof` gives
    /// `("url", Some("https://a.example/"), "insteadof")`.
    pub fn parts(&self) -> (&str, Option<&str>, &str) {
        split_key(&self.key)
    }

    /// Where the entry came from, for reports: the file, or "the command line".
    pub fn place(&self) -> String {
        match self.origin.strip_prefix("file:") {
            Some(path) => path.to_string(),
            None if self.origin.starts_with("command line") => {
                "the command line or GIT_CONFIG_COUNT variables".into()
            }
            None => self.origin.clone(),
        }
    }
}

/// Splits a configuration key at its first and last dot, as git does.
pub fn split_key(key: &str) -> (&str, Option<&str>, &str) {
    let Some(first) = key.find('.') else {
        return (key, None, "");
    };
    let last = key.rfind('.').unwrap_or(first);
    if first == last {
        (&key[..first], None, &key[first + 1..])
    } else {
        (&key[..first], Some(&key[first + 1..last]), &key[last + 1..])
    }
}

/// Parses `git config --list -z` output, with `--show-scope` and `--show-origin` when
/// `with_origin` (scope and origin then precede each entry).
pub fn parse_list(bytes: &[u8], with_origin: bool) -> Vec<Entry> {
    let text = String::from_utf8_lossy(bytes);
    let mut fields = text.split('\0');
    let mut entries = Vec::new();
    loop {
        let (scope, origin) = if with_origin {
            match (fields.next(), fields.next()) {
                (Some(s), Some(o)) if !s.is_empty() => (s.to_string(), o.to_string()),
                _ => break,
            }
        } else {
            (String::new(), String::new())
        };
        let Some(item) = fields.next().filter(|i| !i.is_empty()) else {
            break;
        };
        let (key, value) = match item.split_once('\n') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (item.to_string(), None),
        };
        entries.push(Entry {
            scope,
            origin,
            key,
            value,
        });
    }
    entries
}

/// Does the subsection `pattern` of a `credential.<url>.*` key apply to requests for `server`,
/// as git matches it for a request without a path and without a user name? Scheme equal, host
/// equal ignoring case (a `*` label matches one label), port equal after defaults, no path
/// beyond `/`, no user name.
pub fn url_applies(pattern: &str, server: &Server) -> bool {
    let Ok(url) = crate::urls::parse(pattern) else {
        return false;
    };
    if url.scheme() != server.scheme.as_str()
        || !url.username().is_empty()
        || !matches!(url.path(), "" | "/")
    {
        return false;
    }
    if url.port_or_known_default() != Some(server.port) {
        return false;
    }
    let Some(host) = url.host_str() else {
        return false;
    };
    let labels: Vec<&str> = host.split('.').collect();
    let wanted: Vec<&str> = server.host.split('.').collect();
    labels.len() == wanted.len()
        && labels
            .iter()
            .zip(&wanted)
            .all(|(p, w)| *p == "*" || p.eq_ignore_ascii_case(w))
}

/// The helpers git runs for `server`, in order, from `entries` in git's reading order: every
/// `credential.helper` and every `credential.<url>.helper` whose URL applies, an empty value
/// clearing the list so far.
pub fn helper_chain<'a>(entries: &'a [Entry], server: &Server) -> Vec<&'a Entry> {
    let mut chain = Vec::new();
    for entry in entries {
        let applies = match entry.parts() {
            ("credential", None, "helper") => true,
            ("credential", Some(url), "helper") => url_applies(url, server),
            _ => false,
        };
        if !applies {
            continue;
        }
        match entry.value.as_deref() {
            None | Some("") => chain.clear(),
            Some(_) => chain.push(entry),
        }
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::Origin;

    fn server(url: &str) -> Server {
        Server::parse(url, Origin::Option).unwrap()
    }

    #[test]
    fn splits_keys_at_first_and_last_dot() {
        assert_eq!(
            split_key("credential.helper"),
            ("credential", None, "helper")
        );
        assert_eq!(
            split_key("credential.https://a.example:8443.helper"),
            ("credential", Some("https://a.example:8443"), "helper")
        );
        assert_eq!(
            split_key("url.https://a.example/.insteadof"),
            ("url", Some("https://a.example/"), "insteadof")
        );
    }

    #[test]
    fn parses_list_output_with_and_without_origins() {
        let plain = b"credential.helper\nstore\0credential.https://a.b.helper\n\0core.bare\0";
        assert_eq!(
            parse_list(plain, false),
            vec![
                Entry::new("credential.helper", Some("store")),
                Entry::new("credential.https://a.b.helper", Some("")),
                Entry::new("core.bare", None),
            ]
        );
        let with = b"global\0file:/h/.gitconfig\0credential.helper\nx y\nz\0";
        let got = parse_list(with, true);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].scope, "global");
        assert_eq!(got[0].place(), "/h/.gitconfig");
        assert_eq!(got[0].value.as_deref(), Some("x y\nz"));
    }

    #[test]
    fn url_patterns_apply_like_gits_credential_matching() {
        let s = server("https://gitlab.example.com:8443");
        for (pattern, applies) in [
            ("https://gitlab.example.com:8443", true),
            ("https://GitLab.example.com:8443/", true),
            ("https://*.example.com:8443", true),
            ("https://gitlab.example.com", false),
            ("http://gitlab.example.com:8443", false),
            ("https://gitlab.example.com:8443/group", false),
            ("https://u@gitlab.example.com:8443", false),
            ("https://example.com:8443", false),
            ("gitlab.example.com", false),
        ] {
            assert_eq!(url_applies(pattern, &s), applies, "{pattern}");
        }
        assert!(url_applies(
            "https://gitlab.example.com:443",
            &server("https://gitlab.example.com")
        ));
    }

    #[test]
    fn helper_chain_follows_order_and_resets() {
        let s = server("https://gitlab.example.com");
        let entries = vec![
            Entry::new("credential.helper", Some("store")),
            Entry::new("credential.helper", Some("/b/git-credential-gitlab-ci")),
            Entry::new("credential.https://other.example.helper", Some("")),
            Entry::new("credential.https://gitlab.example.com.helper", Some("")),
            Entry::new(
                "credential.https://gitlab.example.com.helper",
                Some("/b/git-credential-gitlab-ci"),
            ),
        ];
        let names = |c: Vec<&Entry>| -> Vec<String> {
            c.iter().map(|e| e.value.clone().unwrap()).collect()
        };
        assert_eq!(
            names(helper_chain(&entries, &s)),
            ["/b/git-credential-gitlab-ci"]
        );
        let mut later = entries.clone();
        later.push(Entry::new("credential.helper", Some("cache")));
        assert_eq!(
            names(helper_chain(&later, &s)),
            ["/b/git-credential-gitlab-ci", "cache"]
        );
        assert_eq!(
            names(helper_chain(&entries, &server("https://other.example"))),
            Vec::<String>::new()
        );
    }
}
