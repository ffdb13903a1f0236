//! npm: `package.json` (dependencies, devDependencies, optionalDependencies, peerDependencies)
//! and `package-lock.json` / `npm-shrinkwrap.json` (`resolved` of v2/v3 `packages`, `version`
//! of v1's nested `dependencies`), read with serde_json.
//!
//! Specs are read as npm-package-arg reads them: `git+https://`, `git+ssh://` (including its
//! scp-like overload `git+ssh://git@host:group/x.git`), `git://`, scp-like `git@host:path`,
//! the hosted shorthands `github:`, `gitlab:`, `bitbucket:` and bare `user/repo` (GitHub).
//! A plain `https://…` spec is a tarball npm downloads itself — git is not involved — unless it
//! is a repository on a hosted-git site. Registry ranges, tags, aliases and paths are not
//! fetched from a repository and are not listed.

use serde_json::Value;

use super::location::{Location, WebUrl};
use super::Parsed;

const GROUPS: [&str; 4] = [
    "dependencies",
    "devDependencies",
    "optionalDependencies",
    "peerDependencies",
];

/// The hosted-git sites npm knows (hosted-git-info), and their shorthand prefixes.
const HOSTED: [(&str, &str); 4] = [
    ("github:", "github.com"),
    ("gitlab:", "gitlab.com"),
    ("bitbucket:", "bitbucket.org"),
    ("gist:", "gist.github.com"),
];

pub(super) fn package_json(text: &str, parsed: &mut Parsed) -> Result<(), String> {
    let root: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let Some(root) = root.as_object() else {
        return Err("not a JSON object".into());
    };
    for group in GROUPS {
        let Some(deps) = root.get(group).and_then(Value::as_object) else {
            continue;
        };
        for (name, spec) in deps {
            if let Some((location, reference)) = spec.as_str().and_then(classify) {
                parsed.push(name, spec.as_str().unwrap_or_default(), reference, location);
            }
        }
    }
    Ok(())
}

pub(super) fn package_lock(text: &str, parsed: &mut Parsed) -> Result<(), String> {
    let root: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let Some(root) = root.as_object() else {
        return Err("not a JSON object".into());
    };
    if let Some(packages) = root.get("packages").and_then(Value::as_object) {
        for (key, entry) in packages {
            let name = key.rsplit("node_modules/").next().unwrap_or(key);
            if let Some(resolved) = entry.get("resolved").and_then(Value::as_str) {
                push_git(parsed, name, resolved);
            }
        }
    }
    if let Some(deps) = root.get("dependencies") {
        lock_v1(deps, parsed);
    }
    Ok(())
}

/// v1: `dependencies: { name: { version: "git+…#sha", dependencies: { … } } }`, nested.
fn lock_v1(deps: &Value, parsed: &mut Parsed) {
    let Some(deps) = deps.as_object() else {
        return;
    };
    for (name, entry) in deps {
        if let Some(version) = entry.get("version").and_then(Value::as_str) {
            push_git(parsed, name, version);
        }
        if let Some(nested) = entry.get("dependencies") {
            lock_v1(nested, parsed);
        }
    }
}

/// A lock entry's source, when it is a git one (registry tarballs are not listed).
fn push_git(parsed: &mut Parsed, name: &str, spec: &str) {
    let git = spec.starts_with("git+") || spec.starts_with("git:") || spec.starts_with("github:");
    if let Some((location, reference)) = git.then(|| classify(spec)).flatten() {
        parsed.push(name, spec, reference, location);
    }
}

/// A dependency spec's location and committish, when it names a repository or a URL.
fn classify(spec: &str) -> Option<(Location, Option<&str>)> {
    let (body, committish) = match spec.split_once('#') {
        Some((b, c)) => (b, Some(c).filter(|c| !c.is_empty())),
        None => (spec, None),
    };
    if let Some(rest) = body.strip_prefix("git+ssh://") {
        // `git+ssh://git@host:group/x.git` is scp-like unless the `:` starts a port.
        if let Some((_, after)) = rest.split_once(':') {
            let port = after
                .split('/')
                .next()
                .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
            if !port && !rest[..rest.find(':').unwrap_or(0)].contains('/') {
                return Some((Location::of_git_url(rest), committish));
            }
        }
        return Some((Location::of_git_url(body), committish));
    }
    if let Some(rest) = body.strip_prefix("git+") {
        return Some((Location::of_git_url(rest), committish));
    }
    if body.starts_with("git://") {
        return Some((Location::of_git_url(body), committish));
    }
    for (prefix, host) in HOSTED {
        if let Some(path) = body.strip_prefix(prefix) {
            return Some((hosted(host, path), committish));
        }
    }
    if body.starts_with("http://") || body.starts_with("https://") {
        let url = WebUrl::parse(body)?;
        let on_hosted_site = HOSTED.iter().any(|(_, h)| url.url.host_str() == Some(h))
            && url
                .url
                .path_segments()
                .is_some_and(|s| s.filter(|p| !p.is_empty()).count() == 2);
        let location = match (on_hosted_site, url.url.scheme()) {
            (true, "https") => Location::Https(url),
            (true, _) => Location::Http(url),
            (false, _) => Location::Download(url),
        };
        return Some((location, committish));
    }
    if is_scp_git(body) {
        return Some((Location::of_git_url(body), committish));
    }
    if is_github_shorthand(body) {
        return Some((hosted("github.com", body), committish));
    }
    None
}

/// npm-package-arg's `isGit`: `user@host.tld:path`.
fn is_scp_git(spec: &str) -> bool {
    let Some((user, rest)) = spec.split_once('@') else {
        return false;
    };
    let Some((host, path)) = rest.split_once(':') else {
        return false;
    };
    !user.is_empty() && !user.contains(':') && host.contains('.') && !path.is_empty()
}

/// `user/repo`: no scheme, no `@` scope, exactly one `/`, not a path.
fn is_github_shorthand(spec: &str) -> bool {
    let Some((user, repo)) = spec.split_once('/') else {
        return false;
    };
    let word = |s: &str| {
        !s.is_empty()
            && !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    !spec.starts_with('@') && word(user) && word(repo)
}

/// The repository npm fetches for a hosted shorthand: `https://<host>/<user>/<repo>.git`.
fn hosted(host: &str, path: &str) -> Location {
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    WebUrl::parse(&format!("https://{host}/{path}.git")).map_or(Location::NotAUrl, Location::Https)
}
