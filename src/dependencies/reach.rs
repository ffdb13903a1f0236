//! Is a dependency for one of our servers, and will git ask this helper for it?
//!
//! The origin comparison is the helper's own ([`crate::server::host_matches`]): what is "ours"
//! here is exactly what `get` would answer. Everything else is not ours, and the caller must
//! never probe it with the token.

use super::location::{Location, Userinfo, WebUrl};
use crate::gitconfig::Entry;
use crate::server::host_matches;
use crate::server::{Origin, Server};

/// `url.<base>.insteadOf = <prefix>`: git fetches `base + rest` for a URL `prefix + rest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub base: String,
    pub prefix: String,
}

/// The `insteadOf` rewrites in configuration entries, in git's reading order. `pushInsteadOf`
/// is left out: dependencies are fetched.
pub fn rewrites(entries: &[Entry]) -> Vec<Rewrite> {
    entries
        .iter()
        .filter_map(|e| match (e.parts(), e.value.as_deref()) {
            (("url", Some(base), "insteadof"), Some(prefix)) if !prefix.is_empty() => {
                Some(Rewrite {
                    base: base.to_string(),
                    prefix: prefix.to_string(),
                })
            }
            _ => None,
        })
        .collect()
}

/// What the judgement needs to know about the setup.
#[derive(Debug, Clone, Copy)]
pub struct Servers<'a> {
    /// The configured servers, the job's own first ([`crate::server::configured_servers`]).
    pub servers: &'a [Server],
    /// `CI_SERVER_SHELL_SSH_HOST`: GitLab's SSH host when it differs from its web host. It
    /// belongs to the first server.
    pub shell_ssh_host: Option<&'a str>,
    pub rewrites: &'a [Rewrite],
    /// The user name the helper answers with.
    pub username: &'a str,
}

/// Where a dependency's fetch goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// One of our servers, over http(s), and git asks the helpers: probe `url` (the URL after
    /// `insteadOf`, without user information) through this helper.
    Helper { server: Server, url: WebUrl },
    /// A Go module under one of our servers: the go command finds its repository (GitLab's
    /// `?go-get=1` answer) and fetches it with git.
    GoModule { server: Server, path: String },
    /// One of our servers, but this helper is never asked.
    Bypass { server: Server, why: Bypass },
    /// Another host: listed, never probed with the token.
    NotOurs,
    /// Fetched from no server (a local path), or not known (a relative URL git cannot resolve,
    /// not a URL, `git://`).
    Nowhere,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bypass {
    /// SSH (and no `insteadOf` rewrites it to https): keys, not the job token.
    Ssh,
    /// The URL, or the `insteadOf` base that rewrites it, carries a password, which git sends
    /// instead of asking helpers. `url` is the same without it, for a probe through the helper.
    CredentialsInUrl { url: WebUrl },
    /// The URL names a user other than the helper's, so the helper declines.
    OtherUser { url: WebUrl },
    /// The server's host name with another scheme or port (`http://` for an https server,
    /// `:8443` missing): the helper declines, as `get` would.
    OtherOrigin,
    /// Downloaded by the package manager's own HTTP client, not git.
    NotGit,
}

/// Judges one dependency's location against the setup.
pub fn reach(location: &Location, setup: &Servers<'_>) -> Reach {
    let fetched = location.fetched();
    let rewritten = match fetched {
        Location::Https(u) | Location::Http(u) => rewrite(u.url.as_str(), setup.rewrites),
        Location::Ssh(s) => rewrite(&s.text, setup.rewrites),
        _ => None,
    };
    let effective = match &rewritten {
        Some(text) => Location::of_git_url(text),
        None => fetched.clone(),
    };
    match &effective {
        Location::Https(url) | Location::Http(url) => web(url, setup),
        Location::Download(url) => match web(url, setup) {
            Reach::Helper { server, .. } | Reach::Bypass { server, .. } => Reach::Bypass {
                server,
                why: Bypass::NotGit,
            },
            other => other,
        },
        Location::Ssh(ssh) => match ssh_server(&ssh.host, setup) {
            Some(server) => Reach::Bypass {
                server: server.clone(),
                why: Bypass::Ssh,
            },
            None => Reach::NotOurs,
        },
        Location::GoModule { path, .. } => {
            let host = path.split('/').next().unwrap_or_default();
            // A module path has no port: go fetches https://host/... on 443.
            match setup
                .servers
                .iter()
                .find(|s| s.scheme.as_str() == "https" && host_matches(host.as_bytes(), s))
            {
                Some(server) => Reach::GoModule {
                    server: server.clone(),
                    path: path.clone(),
                },
                None => Reach::NotOurs,
            }
        }
        Location::Relative(_) | Location::Local | Location::OtherScheme(_) | Location::NotAUrl => {
            Reach::Nowhere
        }
    }
}

/// git's `alias_url`: the longest matching `insteadOf` prefix wins; the first of equal ones.
fn rewrite(url: &str, rewrites: &[Rewrite]) -> Option<String> {
    let mut best: Option<&Rewrite> = None;
    for r in rewrites {
        if url.starts_with(&r.prefix) && best.map_or(true, |b| b.prefix.len() < r.prefix.len()) {
            best = Some(r);
        }
    }
    best.map(|r| format!("{}{}", r.base, &url[r.prefix.len()..]))
}

fn web(url: &WebUrl, setup: &Servers<'_>) -> Reach {
    let host = url.host_field();
    let scheme = url.url.scheme();
    let Some(server) = setup
        .servers
        .iter()
        .find(|s| s.scheme.as_str() == scheme && host_matches(host.as_bytes(), s))
    else {
        let name = url.url.host_str().unwrap_or_default();
        return match setup.servers.iter().find(|s| names_server(name, s)) {
            Some(server) => Reach::Bypass {
                server: server.clone(),
                why: Bypass::OtherOrigin,
            },
            None => Reach::NotOurs,
        };
    };
    let server = server.clone();
    match &url.userinfo {
        Userinfo::Password => Reach::Bypass {
            server,
            why: Bypass::CredentialsInUrl { url: url.clone() },
        },
        Userinfo::User(name) if !name.is(setup.username) => Reach::Bypass {
            server,
            why: Bypass::OtherUser { url: url.clone() },
        },
        _ => Reach::Helper {
            server,
            url: url.clone(),
        },
    }
}

/// The server an SSH host belongs to: one whose host it names, or the first server when it is
/// `CI_SERVER_SHELL_SSH_HOST`.
fn ssh_server<'a>(host: &str, setup: &Servers<'a>) -> Option<&'a Server> {
    if let Some(server) = setup.servers.iter().find(|s| names_server(host, s)) {
        return Some(server);
    }
    let shell = setup
        .shell_ssh_host
        .and_then(|h| Server::parse(h, Origin::ServerHost).ok())?;
    names_server(host, &shell)
        .then(|| setup.servers.first())
        .flatten()
}

/// Does `host` (a name, no port) name the server's host? SSH and the web have their own ports,
/// so only the name is compared — with [`host_matches`] itself, given the server's own port.
fn names_server(host: &str, server: &Server) -> bool {
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    host_matches(format!("{host}:{}", server.port).as_bytes(), server)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::Origin;

    fn servers() -> Vec<Server> {
        ["https://gitlab.example.com", "https://gitlab.internal:8443"]
            .iter()
            .map(|u| Server::parse(u, Origin::Option).unwrap())
            .collect()
    }

    /// A short name for the outcome: `helper <url>`, `go <server>`, `bypass <why> <server>`,
    /// `not ours`, `nowhere`.
    fn judged(text: &str, rewrites: &[Rewrite], shell: Option<&str>) -> String {
        let servers = servers();
        let setup = Servers {
            servers: &servers,
            shell_ssh_host: shell,
            rewrites,
            username: "gitlab-ci-token",
        };
        let location = if let Some(path) = text.strip_prefix("go:") {
            Location::GoModule {
                path: path.to_string(),
                version: None,
            }
        } else if let Some(url) = text.strip_prefix("download:") {
            Location::Download(WebUrl::parse(url).unwrap())
        } else {
            Location::of_git_url(text)
        };
        match reach(&location, &setup) {
            Reach::Helper { server, url } => format!("helper {url} ({server})"),
            Reach::GoModule { server, path } => format!("go {path} ({server})"),
            Reach::Bypass { server, why } => {
                let why = match why {
                    Bypass::Ssh => "ssh".to_string(),
                    Bypass::CredentialsInUrl { url } => format!("credentials, probe {url}"),
                    Bypass::OtherUser { url } => format!("other user, probe {url}"),
                    Bypass::OtherOrigin => "other origin".into(),
                    Bypass::NotGit => "not git".into(),
                };
                format!("bypass {why} ({server})")
            }
            Reach::NotOurs => "not ours".into(),
            Reach::Nowhere => "nowhere".into(),
        }
    }

    #[test]
    fn ours_is_exactly_what_get_would_answer_by_table() {
        let cases = [
            (
                "https://gitlab.example.com/g/x.git",
                "helper https://gitlab.example.com/g/x.git (https://gitlab.example.com)",
            ),
            (
                "https://GitLab.Example.com:443/g/x.git",
                "helper https://gitlab.example.com/g/x.git (https://gitlab.example.com)",
            ),
            (
                "https://gitlab-ci-token@gitlab.example.com/g/x.git",
                "helper https://gitlab.example.com/g/x.git (https://gitlab.example.com)",
            ),
            (
                "https://gitlab.internal:8443/g/x.git",
                "helper https://gitlab.internal:8443/g/x.git (https://gitlab.internal:8443)",
            ),
            (
                "https://gitlab.internal/g/x.git",
                "bypass other origin (https://gitlab.internal:8443)",
            ),
            (
                "https://gitlab.example.com:8443/g/x.git",
                "bypass other origin (https://gitlab.example.com)",
            ),
            ("https://gitlab.example.com./g/x.git", "not ours"),
            ("https://gitlab.example.com.evil/g/x.git", "not ours"),
            ("https://evil.gitlab.example.com/g/x.git", "not ours"),
            ("https://github.com/other/x.git", "not ours"),
            (
                "http://gitlab.example.com/g/x.git",
                "bypass other origin (https://gitlab.example.com)",
            ),
            (
                "https://gitlab-ci-token:glcbt-SECRET@gitlab.example.com/g/x.git",
                "bypass credentials, probe https://gitlab.example.com/g/x.git (https://gitlab.example.com)",
            ),
            (
                "https://deploy@gitlab.example.com/g/x.git",
                "bypass other user, probe https://gitlab.example.com/g/x.git (https://gitlab.example.com)",
            ),
            (
                "git@gitlab.example.com:g/x.git",
                "bypass ssh (https://gitlab.example.com)",
            ),
            (
                "ssh://git@GITLAB.example.com:2222/g/x.git",
                "bypass ssh (https://gitlab.example.com)",
            ),
            (
                "git@gitlab.internal:g/x.git",
                "bypass ssh (https://gitlab.internal:8443)",
            ),
            ("git@github.com:other/x.git", "not ours"),
            (
                "go:gitlab.example.com/group/sub/proj",
                "go gitlab.example.com/group/sub/proj (https://gitlab.example.com)",
            ),
            ("go:gitlab.internal/group/proj", "not ours"),
            ("go:github.com/other/lib", "not ours"),
            (
                "download:https://gitlab.example.com/g/x.tgz",
                "bypass not git (https://gitlab.example.com)",
            ),
            ("download:https://registry.npmjs.org/x.tgz", "not ours"),
            ("/srv/git/x.git", "nowhere"),
            ("git://gitlab.example.com/g/x.git", "nowhere"),
            ("-oProxyCommand=x", "nowhere"),
        ];
        for (text, expected) in cases {
            assert_eq!(judged(text, &[], None), expected, "{text}");
        }
    }

    #[test]
    fn ssh_goes_through_the_helper_only_when_rewritten_to_https() {
        let rewrite = |base: &str, prefix: &str| Rewrite {
            base: base.into(),
            prefix: prefix.into(),
        };
        let rewrites = [
            rewrite("https://gitlab.example.com/", "git@gitlab.example.com:"),
            rewrite(
                "https://gitlab.example.com/",
                "ssh://git@gitlab.example.com/",
            ),
            rewrite("https://wrong.example/", "git@gitlab.example.com:gr"),
            rewrite(
                "https://gitlab.example.com/special/",
                "git@gitlab.example.com:group/",
            ),
        ];
        let cases = [
            (
                "git@gitlab.example.com:g/x.git",
                "helper https://gitlab.example.com/g/x.git (https://gitlab.example.com)",
            ),
            (
                "ssh://git@gitlab.example.com/g/x.git",
                "helper https://gitlab.example.com/g/x.git (https://gitlab.example.com)",
            ),
            // The longest prefix wins, as in git.
            (
                "git@gitlab.example.com:group/x.git",
                "helper https://gitlab.example.com/special/x.git (https://gitlab.example.com)",
            ),
            ("git@gitlab.example.com:grx/y.git", "not ours"),
            (
                "ssh://git@gitlab.example.com:2222/g/x.git",
                "bypass ssh (https://gitlab.example.com)",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(judged(text, &rewrites, None), expected, "{text}");
        }
        // GitLab Runner's legacy layout: an https rewrite whose base embeds the token.
        let legacy = [rewrite(
            "https://gitlab-ci-token:glcbt-SECRET@gitlab.example.com/",
            "https://gitlab.example.com/",
        )];
        let judged_legacy = judged("https://gitlab.example.com/g/x.git", &legacy, None);
        assert_eq!(
            judged_legacy,
            "bypass credentials, probe https://gitlab.example.com/g/x.git (https://gitlab.example.com)"
        );
    }

    #[test]
    fn the_shell_ssh_host_belongs_to_the_job_server() {
        assert_eq!(
            judged(
                "git@ssh.gitlab.example.com:g/x.git",
                &[],
                Some("ssh.gitlab.example.com")
            ),
            "bypass ssh (https://gitlab.example.com)"
        );
        assert_eq!(
            judged("git@ssh.gitlab.example.com:g/x.git", &[], None),
            "not ours"
        );
        assert_eq!(
            judged(
                "git@ssh.gitlab.example.com.evil:g/x.git",
                &[],
                Some("ssh.gitlab.example.com")
            ),
            "not ours"
        );
    }

    #[test]
    fn rewrites_come_from_insteadof_entries_only() {
        let entries = [
            Entry::new(
                "url.https://gitlab.example.com/.insteadof",
                Some("git@gitlab.example.com:"),
            ),
            Entry::new("url.https://gitlab.example.com/.pushinsteadof", Some("x:")),
            Entry::new("url.https://other/.insteadof", Some("")),
            Entry::new("url.https://bare/.insteadof", None),
        ];
        assert_eq!(
            rewrites(&entries),
            [Rewrite {
                base: "https://gitlab.example.com/".into(),
                prefix: "git@gitlab.example.com:".into()
            }]
        );
    }
}
