//! Is a dependency for one of our servers, and will git ask this helper for it?
//!
//! The origin comparison is the helper's own ([`crate::policy::host_matches`]): what is "ours"
//! here is exactly what `get` would answer. Everything else is not ours, and the caller must
//! never probe it with the token.

use super::location::{Location, Userinfo, WebUrl};
use crate::gitconfig::Entry;
use crate::policy::host_matches;
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
    /// The server's host with another scheme (http for an https server): the helper declines.
    OtherScheme,
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
                why: Bypass::OtherScheme,
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
