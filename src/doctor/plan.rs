//! The dependency plan: for every dependency the checkout's manifests name, where its fetch
//! goes ([`dependencies::reach`]) and — from the probe through this helper — `ok`, or the
//! problem with its cause and the exact fix. Pure: the probes ran in [`super::facts`].
//!
//! Dependencies on other hosts are listed as not ours and were never probed: only URLs for
//! which [`reach`] says this helper is asked (or would be, but for an `insteadOf` or a URL
//! carrying credentials) are probe targets ([`probe_urls`]).

use std::path::Path;

use crate::dependencies::{self, reach, Bypass, Dependency, Location, Mention, Reach, Servers};
use crate::doctor::checks::probe::{verdict, Names, Verdict};
use crate::doctor::checks::servers;
use crate::doctor::facts::probe::Access;
use crate::doctor::facts::Facts;
use crate::doctor::git_failure::project_path;
use crate::helper_value::BINARY_NAME;
use crate::printable::shown;
use crate::server::{host_matches, relative_root, Server};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Problem,
    /// Worth knowing, not a failure: not fetched through a server, or not by git.
    Note,
    /// Another host: listed, never probed with the token.
    NotOurs,
    Ok,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Note => "note",
            Status::NotOurs => "not ours",
            Status::Problem => "PROBLEM",
        }
    }
}

/// One dependency's line of the plan. Every text is already one printable line without user
/// information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What is fetched: the URL (resolved, rewritten by nothing, without userinfo) or module.
    pub location: String,
    /// The URL probed, when it is not `location`: a Go module's repository, a URL an
    /// `insteadOf` rewrites.
    pub probed: Option<String>,
    pub mentions: Vec<Mention>,
    pub status: Status,
    pub cause: String,
    pub fix: Option<String>,
}

/// The plan for one checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub root: String,
    /// The manifests read.
    pub files: Vec<String>,
    /// The servers this helper answers for.
    pub servers: Vec<String>,
    pub entries: Vec<Entry>,
    /// Files that could not be read as their kind: their dependencies are unknown.
    pub unread: Vec<dependencies::Problem>,
    /// Where a bound stopped the walk.
    pub notes: Vec<String>,
}

impl Plan {
    pub fn problems(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.status == Status::Problem)
            .count()
    }

    pub fn healthy(&self) -> bool {
        self.problems() == 0
    }
}

/// What [`reach`] judges with, from the facts.
struct Setup {
    servers: Vec<Server>,
    rewrites: Vec<dependencies::Rewrite>,
    shell_ssh_host: Option<String>,
    username: String,
}

impl Setup {
    fn of(facts: &Facts, servers: &[Server]) -> Setup {
        let username = facts
            .ours
            .iter()
            .rev()
            .find_map(|o| o.options.as_ref())
            .map_or_else(|| facts.options.username.clone(), |o| o.username.clone());
        Setup {
            servers: servers.to_vec(),
            rewrites: dependencies::rewrites(&facts.entries),
            shell_ssh_host: facts
                .vars
                .get("CI_SERVER_SHELL_SSH_HOST")
                .filter(|h| !h.is_empty())
                .cloned(),
            username,
        }
    }

    fn reach(&self, location: &Location) -> Reach {
        reach(
            location,
            &Servers {
                servers: &self.servers,
                shell_ssh_host: self.shell_ssh_host.as_deref(),
                rewrites: &self.rewrites,
                username: &self.username,
            },
        )
    }

    /// The `insteadOf` entry whose base's credentials git sends for `url` (shown without them)
    /// rather than ask the helpers; `None` when git asks them.
    fn embedded(&self, url: &str) -> Option<String> {
        let bypassed = matches!(
            self.reach(&Location::of_git_url(url)),
            Reach::Bypass {
                why: Bypass::CredentialsInUrl { .. },
                ..
            }
        );
        if !bypassed {
            return None;
        }
        // git's choice: the longest matching prefix, the first of equal ones.
        let mut best: Option<&dependencies::Rewrite> = None;
        for r in &self.rewrites {
            if url.starts_with(&r.prefix) && best.map_or(true, |b| b.prefix.len() < r.prefix.len())
            {
                best = Some(r);
            }
        }
        Some(match best {
            Some(r) => format!("url.{}.insteadOf", shown(&r.base)),
            None => "the URL".into(),
        })
    }
}

/// The URL to probe for a dependency, when its fetch goes to one of our servers over http(s).
fn probe_url(reached: &Reach) -> Option<String> {
    match reached {
        Reach::Helper { url, .. }
        | Reach::Bypass {
            why: Bypass::CredentialsInUrl { url },
            ..
        } => Some(url.to_string()),
        Reach::GoModule { path, .. } => Some(go_repository_url(path)),
        _ => None,
    }
}

/// The URLs the plan needs probed, for [`super::facts`].
pub fn probe_urls(facts: &Facts, servers: &[Server]) -> Vec<String> {
    let Some(checkout) = &facts.checkout else {
        return Vec::new();
    };
    let setup = Setup::of(facts, servers);
    checkout
        .scan
        .dependencies
        .iter()
        .filter_map(|d| probe_url(&setup.reach(&d.location)))
        .collect()
}

/// What git is given to probe `url`: the URL without its user information when it parses, so
/// that the probe goes through this helper (git would send a password in the URL instead); as
/// given otherwise (git then says what is wrong with it).
pub fn probe_form(url: &str) -> String {
    dependencies::WebUrl::parse(url).map_or_else(|| url.to_string(), |u| u.url.to_string())
}

/// The `insteadOf` entry (credentials redacted) whose base's credentials git sends for `url`
/// rather than ask the helpers (GitLab Runner's legacy layout).
pub fn embedded(facts: &Facts, url: &str) -> Option<String> {
    let servers: Vec<Server> = servers::known(facts)
        .0
        .into_iter()
        .map(|k| k.server)
        .collect();
    Setup::of(facts, &servers).embedded(url)
}

/// Is `url` (http or https) for `server`, by the helper's own origin comparison?
pub fn is_for(url: &str, server: &Server) -> bool {
    dependencies::WebUrl::parse(url).is_some_and(|u| {
        u.url.scheme() == server.scheme.as_str() && host_matches(u.host_field().as_bytes(), server)
    })
}

/// The full path of the GitLab project a repository URL names (`group/sub/project`), without
/// the instance's relative root (`CI_SERVER_URL`'s path) and `.git`.
pub fn project_of(url: &str, facts: &Facts) -> Option<String> {
    let url = dependencies::WebUrl::parse(url)?;
    let root = facts
        .vars
        .get("CI_SERVER_URL")
        .map(|u| relative_root(u))
        .unwrap_or_default();
    let path = url.url.path();
    let path = path.strip_prefix(root.as_str()).unwrap_or(path);
    let path = path.trim_matches('/');
    project_path(path.strip_suffix(".git").unwrap_or(path))
}

/// The repository of a Go module on GitLab: the path up to `.git` when it names one, else
/// without a final major-version element (`/v2`), as `https://…​.git`.
pub fn go_repository_url(module: &str) -> String {
    format!("https://{}.git", go_repository(module))
}

fn go_repository(module: &str) -> &str {
    if let Some(i) = module.find(".git/") {
        return &module[..i];
    }
    if let Some(repo) = module.strip_suffix(".git") {
        return repo;
    }
    match module.rsplit_once('/') {
        Some((repo, last)) if is_major_version(last) => repo,
        _ => module,
    }
}

/// A module path's major-version element: `v2`, `v10`; not `v1`, `v0`, `v02`.
fn is_major_version(element: &str) -> bool {
    element.strip_prefix('v').is_some_and(|n| {
        !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && !n.starts_with('0') && n != "1"
    })
}

/// Does `GOAUTH` run this helper's `goauth` mode? Go runs each `;`-separated command split
/// at blanks.
pub fn goauth_names_ours(goauth: Option<&str>) -> bool {
    goauth.unwrap_or_default().split(';').any(|command| {
        let words: Vec<&str> = command.split_whitespace().collect();
        words.len() >= 2
            && words.last() == Some(&"goauth")
            && Path::new(words[0]).file_name() == Some(BINARY_NAME.as_ref())
    })
}

/// Judges every dependency of the checkout; `None` without one.
pub fn judge(facts: &Facts) -> Option<Plan> {
    let checkout = facts.checkout.as_ref()?;
    let servers: Vec<Server> = servers::known(facts)
        .0
        .into_iter()
        .map(|k| k.server)
        .collect();
    let setup = Setup::of(facts, &servers);
    Some(Plan {
        root: checkout.root.clone(),
        files: checkout.files.clone(),
        servers: servers.iter().map(Server::to_string).collect(),
        entries: checkout
            .scan
            .dependencies
            .iter()
            .map(|d| entry(d, facts, &setup))
            .collect(),
        unread: checkout.scan.problems.clone(),
        notes: checkout.notes.clone(),
    })
}

fn entry(dep: &Dependency, facts: &Facts, setup: &Setup) -> Entry {
    let reached = setup.reach(&dep.location);
    let files = files_of(&dep.mentions);
    let mut entry = Entry {
        location: dep.location.to_string(),
        probed: None,
        mentions: dep.mentions.clone(),
        status: Status::Note,
        cause: String::new(),
        fix: None,
    };
    let mut judged = |status: Status, cause: String, fix: Option<String>| {
        entry.status = status;
        entry.cause = cause;
        entry.fix = fix;
    };
    match &reached {
        Reach::Helper { .. } | Reach::GoModule { .. } => {}
        Reach::Bypass { server, why } => match why {
            Bypass::CredentialsInUrl { .. } => {}
            Bypass::Ssh => judged(
                Status::Problem,
                format!("fetched over SSH from {server}: SSH keys, not the job token; this helper is never asked"),
                Some(format!("git-credential-gitlab-ci configure --global --rewrite-ssh (git then fetches {server} over https through this helper), or write an https or relative URL in {files}")),
            ),
            Bypass::OtherUser { .. } => judged(
                Status::Problem,
                format!("the URL names a user other than {}, so this helper declines and git has no password", setup.username),
                Some(format!("write the URL without a user name in {files}")),
            ),
            Bypass::OtherOrigin => judged(
                Status::Problem,
                format!("{server}'s host name with another scheme or port: this helper answers exactly {server}, so it declines"),
                Some(format!("write the URL as {server}/… in {files}")),
            ),
            Bypass::NotGit => judged(
                Status::Note,
                format!("downloaded from {server} by the package manager's own HTTP client, not by git: this helper is not asked (pip and uv: its keyring mode)"),
                None,
            ),
        },
        Reach::NotOurs => judged(
            Status::NotOurs,
            "another host: not probed with the token".into(),
            None,
        ),
        Reach::Nowhere => {
            let (status, cause, fix) = nowhere(dep.location.fetched(), &files);
            judged(status, cause, fix);
        }
    }
    let Some(url) = probe_url(&reached) else {
        return entry;
    };
    let names = Names {
        job_project: facts.vars.get("CI_PROJECT_PATH").cloned(),
        target: project_of(&url, facts),
        embedded: setup.embedded(&url),
    };
    let probe = facts
        .probes
        .iter()
        .find(|p| p.target.url == url && p.target.access == Access::Read);
    let Verdict { ok, mut cause, fix } = verdict(probe, &facts.token, facts.asked.timeout, &names);
    // The probe went through this helper, but git's fetch sends the credentials the URL carries.
    let fetch_embedded = matches!(
        reached,
        Reach::Bypass {
            why: Bypass::CredentialsInUrl { .. },
            ..
        }
    );
    if ok && fetch_embedded && names.embedded.is_none() {
        cause.push_str(match dep.location {
            Location::Relative(_) => "; resolved against the origin URL, whose credentials git sends (GitLab Runner's layout: this job's token)",
            _ => "; but git sends the credentials written in the URL instead (without them, it would ask this helper)",
        });
    }
    entry.status = if ok { Status::Ok } else { Status::Problem };
    entry.cause = cause;
    entry.fix = fix;
    if url != entry.location {
        entry.probed = Some(url);
    }
    if let Reach::GoModule { server, path } = &reached {
        let nested = go_repository(path).split('/').count() > 3;
        let goauth = facts.vars.get("GOAUTH").map(String::as_str);
        if ok && nested && !goauth_names_ours(goauth) {
            entry.status = Status::Problem;
            entry.cause = format!(
                "the job token can read its repository, but it is in a nested subgroup: to go's anonymous ?go-get=1 request {server} names the first two path segments as the repository, so go needs the token sent up front, and GOAUTH does not run this helper"
            );
            entry.fix = Some(format!(
                "export GOAUTH='{} goauth' (Go 1.24 or later; other GOAUTH methods go before it, separated by ;)",
                facts.exe
            ));
        }
    }
    entry
}

/// Dependencies fetched from no server: local paths, relative URLs that do not resolve, other
/// schemes, texts that are not URLs.
fn nowhere(location: &Location, files: &str) -> (Status, String, Option<String>) {
    use dependencies::Unresolvable;
    match location {
        Location::Relative(Err(Unresolvable::TooManyUps)) => (
            Status::Problem,
            "git cannot resolve this relative URL: it has more ../ than the origin URL has parts".into(),
            Some(format!("correct the relative URL in {files}")),
        ),
        Location::Relative(Err(Unresolvable::NoOrigin)) => (
            Status::Note,
            "a relative URL, and this checkout has no origin URL to resolve it against (a job's checkout has one)".into(),
            None,
        ),
        Location::OtherScheme(scheme) => (
            Status::Note,
            format!("a {scheme}:// URL: not fetched over https, so never through this helper"),
            None,
        ),
        Location::NotAUrl => (
            Status::Note,
            "not a URL git or the package manager can fetch".into(),
            None,
        ),
        _ => (Status::Note, "a local path: nothing is fetched".into(), None),
    }
}

/// The files that mention a dependency, each once, for fixes.
fn files_of(mentions: &[Mention]) -> String {
    let mut files: Vec<&str> = Vec::new();
    for mention in mentions {
        if !files.contains(&mention.file.as_str()) {
            files.push(&mention.file);
        }
    }
    files.join(", ")
}

#[cfg(test)]
mod tests;
