//! Where a dependency is fetched from, read from the text a manifest holds — the way git reads a
//! remote URL (`transport_get`, `url_is_local_not_ssh`) and resolves a relative submodule URL
//! (`relative_url` in git's remote.c).

use std::fmt;

use crate::printable::shown;

/// A dependency's location, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A git repository over https: git asks credential helpers.
    Https(WebUrl),
    /// The same over plain http.
    Http(WebUrl),
    /// A git repository over SSH: keys, never a credential helper.
    Ssh(SshUrl),
    /// A relative submodule URL (`../x.git`, `./x`), resolved against the checkout's origin as
    /// git resolves it, or why it cannot be.
    Relative(Result<Box<Location>, Unresolvable>),
    /// A Go module; the go command decides the fetch URL (GOPROXY, GOPRIVATE, `?go-get=1`).
    GoModule {
        path: String,
        version: Option<String>,
    },
    /// An archive the package manager downloads with its own HTTP client, not git (npm's
    /// `https://…` specs, pip's `name @ https://….whl`, `url =` in poetry and uv).
    Download(WebUrl),
    /// On this machine (a path, `file://`): nothing is fetched from a server.
    Local,
    /// A URL scheme git can fetch but that is neither http(s) nor SSH (`git://`), or one it
    /// cannot; the scheme as written, lower-cased.
    OtherScheme(String),
    /// Text in a URL's place that is not one: unparsable, a non-ASCII or percent-encoded host,
    /// an option-like `-…` that git refuses.
    NotAUrl,
}

/// An http(s) URL without its user information, and what that information was.
#[derive(Clone, PartialEq, Eq)]
pub struct WebUrl {
    /// Parsed, with user name and password removed: safe to show and to probe.
    pub url: url::Url,
    pub userinfo: Userinfo,
}

/// What a URL carried before `@`. A password is not kept: git sends it and asks no helper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Userinfo {
    None,
    /// A user name alone: git asks helpers with that name.
    User(UserName),
    Password,
}

/// A user name from a URL. It is never shown (a token is sometimes written there), only
/// compared.
#[derive(Clone, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    pub fn is(&self, name: &str) -> bool {
        self.0 == name
    }
}

impl fmt::Debug for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserName(***)")
    }
}

/// An SSH location: `ssh://[user@]host[:port]/path`, `git+ssh://…`, or scp-like
/// `[user@]host:path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshUrl {
    /// Lower-case, IPv6 literals without brackets.
    pub host: String,
    pub port: Option<u16>,
    pub path: String,
    /// The user name, when it is `git` (the convention); other names are not kept.
    pub git_user: bool,
    /// The URL as git reads it, user information scrubbed, one printable line (what
    /// `insteadOf` prefixes are matched against).
    pub text: String,
}

impl fmt::Debug for WebUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebUrl({}, {:?})", self.url, self.userinfo)
    }
}

impl fmt::Display for WebUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.url.as_str())
    }
}

impl WebUrl {
    /// Parses an http(s) URL through [`crate::urls::parse`], keeping only the kind of its user
    /// information. `None` for anything else.
    pub fn parse(text: &str) -> Option<WebUrl> {
        let mut url = crate::urls::parse(text).ok()?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().map_or(true, str::is_empty) {
            return None;
        }
        let userinfo = match (url.username(), url.password()) {
            (_, Some(_)) => Userinfo::Password,
            ("", None) => Userinfo::None,
            (user, None) => Userinfo::User(UserName(user.to_string())),
        };
        url.set_username("").ok()?;
        url.set_password(None).ok()?;
        Some(WebUrl { url, userinfo })
    }

    /// `host` or `host:port` as git sends it to helpers (`host=`), port only when explicit.
    pub fn host_field(&self) -> String {
        let host = self.url.host_str().unwrap_or_default();
        match self.url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }
    }
}

impl fmt::Display for Location {
    /// The location for a report: URLs without user information, no raw manifest text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Https(u) | Location::Http(u) => write!(f, "{u}"),
            Location::Download(u) => write!(f, "{u} (download)"),
            Location::Ssh(s) => f.write_str(&s.text),
            Location::Relative(Ok(to)) => write!(f, "{to}"),
            Location::Relative(Err(Unresolvable::NoOrigin)) => {
                f.write_str("a relative URL, and no origin URL to resolve it against")
            }
            Location::Relative(Err(Unresolvable::TooManyUps)) => {
                f.write_str("a relative URL with more ../ than the origin URL has parts")
            }
            Location::GoModule { path, version } => match version {
                Some(v) => write!(f, "{path}@{v}"),
                None => f.write_str(path),
            },
            Location::Local => f.write_str("a local path"),
            Location::OtherScheme(s) => write!(f, "a {s}:// URL"),
            Location::NotAUrl => f.write_str("not a URL"),
        }
    }
}

impl Location {
    /// Reads a git remote URL as git does: `scheme://` first, then local paths (no `:` before
    /// the first `/`), then scp-like `[user@]host:path`. Relative submodule URLs are
    /// [`resolve_relative`]'s business; here `./x` is a local path.
    pub fn of_git_url(text: &str) -> Location {
        let text = text.trim();
        if text.is_empty() || text.starts_with('-') {
            // git refuses URLs that look like options (CVE-2017-1000117 and after).
            return Location::NotAUrl;
        }
        if text.contains(|c: char| c.is_control()) {
            // The URL parser would drop tabs and line breaks and read what is left; git would
            // not: two readings of one text, so none.
            return Location::NotAUrl;
        }
        if let Some((scheme, rest)) = text.split_once("://") {
            let scheme = scheme.to_ascii_lowercase();
            if scheme != "file" && rest.starts_with(['/', '\\']) {
                return Location::NotAUrl; // no host: WHATWG would take the path's first part
            }
            return match scheme.as_str() {
                "https" => WebUrl::parse(text).map_or(Location::NotAUrl, Location::Https),
                "http" => WebUrl::parse(text).map_or(Location::NotAUrl, Location::Http),
                "ssh" | "git+ssh" | "ssh+git" => {
                    ssh_url(rest, text).map_or(Location::NotAUrl, Location::Ssh)
                }
                "file" => Location::Local,
                s if !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)) =>
                {
                    Location::OtherScheme(s.to_string())
                }
                _ => Location::NotAUrl,
            };
        }
        if is_local_not_ssh(text) {
            return Location::Local;
        }
        scp_like(text).map_or(Location::NotAUrl, Location::Ssh)
    }

    /// The key under which two mentions are the same repository: scheme, host, port and path
    /// without a trailing `/` or `.git` (GitLab serves both), host case ignored.
    pub(crate) fn key(&self) -> String {
        match self {
            Location::Https(u) | Location::Http(u) | Location::Download(u) => {
                let path = repo_path(u.url.path());
                format!(
                    "{}://{}:{}{}",
                    u.url.scheme(),
                    u.url.host_str().unwrap_or_default(),
                    u.url.port_or_known_default().unwrap_or(0),
                    path
                )
            }
            Location::Ssh(s) => format!(
                "ssh://{}:{}/{}",
                s.host,
                s.port.unwrap_or(22),
                repo_path(s.path.trim_start_matches('/'))
            ),
            Location::Relative(Ok(to)) => to.key(),
            Location::GoModule { path, version } => {
                format!("go:{path}@{}", version.as_deref().unwrap_or(""))
            }
            other => format!("{other:?}"),
        }
    }

    /// The location git fetches, past a relative URL's resolution.
    pub fn fetched(&self) -> &Location {
        match self {
            Location::Relative(Ok(to)) => to,
            other => other,
        }
    }
}

fn repo_path(path: &str) -> &str {
    let path = path.trim_end_matches('/');
    path.strip_suffix(".git").unwrap_or(path)
}

/// git's `url_is_local_not_ssh`: no `:`, or a `/` before the first `:`.
fn is_local_not_ssh(text: &str) -> bool {
    match (text.find(':'), text.find('/')) {
        (None, _) => true,
        (Some(colon), Some(slash)) => slash < colon,
        (Some(_), None) => false,
    }
}

/// `ssh://[user@]host[:port]/path` after the scheme.
fn ssh_url(rest: &str, text: &str) -> Option<SshUrl> {
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (user, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = split_host_port(hostport)?;
    Some(SshUrl {
        host,
        port,
        path: path.to_string(),
        git_user: user == Some("git"),
        text: shown(text),
    })
}

/// `[user@]host:path`, host possibly `[v6]`.
fn scp_like(text: &str) -> Option<SshUrl> {
    let (head, path) = if let Some(open) = text.find('[') {
        // `[user@]` may precede the bracket: git takes the bracketed part as the host.
        let close = text[open..].find(']')? + open;
        let after = &text[close + 1..];
        let path = after.strip_prefix(':')?;
        (&text[..close + 1], path)
    } else {
        text.split_once(':')?
    };
    let (user, host) = match head.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, head),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || path.is_empty() {
        return None;
    }
    let scrubbed = shown(text);
    Some(SshUrl {
        host: host.to_ascii_lowercase(),
        port: None,
        path: path.to_string(),
        git_user: user == Some("git"),
        text: scrubbed,
    })
}

fn split_host_port(hostport: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some("") | None => None,
        Some(p) => Some(crate::urls::parse_port(p.as_bytes())?),
    };
    Some((host.to_ascii_lowercase(), port))
}

/// Is this a relative submodule URL? git resolves URLs that start with `./` or `../`.
pub fn is_relative(url: &str) -> bool {
    url.starts_with("./") || url.starts_with("../")
}

/// Why git would not resolve a relative URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unresolvable {
    /// No origin URL to resolve against (git would then use the superproject's directory).
    NoOrigin,
    /// More `../` than the origin has components: git dies "cannot strip one component".
    TooManyUps,
}

/// Resolves a submodule URL against the superproject's remote URL exactly as git's
/// `relative_url()` does (remote.c, with no `up_path`): a trailing `/` of the remote is dropped;
/// each leading `../` chops the remote's last `/`-component, or, when none is left, its last
/// `:`-component (so `git@host:group/p.git` + `../../x.git` gives `git@host:x.git`); `./` is
/// skipped; a URL that is not relative is returned as is.
pub fn resolve_relative(remote: &str, url: &str) -> Result<String, Unresolvable> {
    if !is_local_not_ssh(url) || url.starts_with('/') {
        return Ok(url.to_string());
    }
    if remote.is_empty() {
        return Err(Unresolvable::NoOrigin);
    }
    let mut base = remote.strip_suffix('/').unwrap_or(remote).to_string();
    let remote_is_relative = is_local_not_ssh(&base) && !base.starts_with('/');
    if remote_is_relative && !base.starts_with("./") && !base.starts_with("../") {
        base = format!("./{base}");
    }
    let mut rest = url;
    let mut colon_separated = false;
    loop {
        if let Some(after) = rest.strip_prefix("../") {
            rest = after;
            if let Some(slash) = base.rfind('/') {
                base.truncate(slash);
            } else if let Some(colon) = base.rfind(':') {
                base.truncate(colon);
                colon_separated = true;
            } else if remote_is_relative || base == "." {
                return Err(Unresolvable::TooManyUps);
            } else {
                base = ".".into();
            }
        } else if let Some(after) = rest.strip_prefix("./") {
            rest = after;
        } else {
            break;
        }
    }
    let mut out = format!("{base}{}{rest}", if colon_separated { ":" } else { "/" });
    if rest.ends_with('/') {
        out.pop();
    }
    Ok(match out.strip_prefix("./") {
        Some(stripped) => stripped.to_string(),
        None => out,
    })
}

#[cfg(test)]
mod tests;
