//! GitLab's go-get middleware (`lib/gitlab/middleware/go.rb`), exactly: any
//! `GET /<namespace>/<project>[/…]?go-get=1` is answered by the middleware, **200 with a
//! `go-import` tag and never a 401**, whether or not the project exists or the caller may see it.
//!
//! The path's prefixes of two or more segments are candidate projects, longest first. When one
//! is a project the caller may read (public, or valid credentials sent up front that may read
//! it), the tag names its full path. Otherwise — no such project, no credentials, wrong
//! credentials, or a job token the project refuses — the tag names the first two segments, as if
//! `group/sub` were the project: for `host/group/sub/proj` Go then fetches
//! `https://host/group/sub.git`, which is not a project, and fails. That is why `GOAUTH=git`
//! (which only answers a 4xx, and there is none) cannot fetch a private module in a subgroup.
#![allow(dead_code)]

use super::http::{RequestHead, Response};

/// What the server knows about a candidate path that is a project.
pub struct Candidate {
    /// Whether this caller may read it ([`super::access::can_read`]).
    pub readable: bool,
    /// `None` for a project whose repository has no commits yet.
    pub default_branch: Option<String>,
}

/// Whether GitLab's middleware takes this request: `go-get` whose integer value is 1 (Ruby's
/// `to_i`: leading digits), on a path of at least `namespace/project`.
pub fn is_go_get(head: &RequestHead) -> bool {
    let Some(value) = head.query_param("go-get") else {
        return false;
    };
    let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
    digits.parse::<u64>() == Ok(1) && segments(&head.path).is_some()
}

fn segments(path: &str) -> Option<Vec<&str>> {
    let trimmed = path.trim_start_matches('/').trim_end_matches('/');
    let segments: Vec<&str> = trimmed.split('/').collect();
    // GitLab's project route refuses empty segments and names ending in `.git`.
    let valid = segments.len() >= 2
        && segments
            .iter()
            .all(|s| !s.is_empty() && !s.ends_with(".git"));
    valid.then_some(segments)
}

/// The project path the tag names and the branch for `go-source`; `None` for a readable project
/// without a default branch (GitLab then answers 404).
pub fn resolve(path: &str, lookup: impl Fn(&str) -> Option<Candidate>) -> Option<(String, String)> {
    let segments = segments(path)?;
    let simple = segments[..2].join("/");
    for n in (2..=segments.len()).rev() {
        let candidate = segments[..n].join("/");
        if let Some(found) = lookup(&candidate) {
            if !found.readable {
                break;
            }
            return found.default_branch.map(|branch| (candidate, branch));
        }
    }
    Some((simple, "master".to_string()))
}

/// The middleware's answer for `path`, on a server whose configured URL is `server_url`.
pub fn answer(
    server_url: &str,
    path: &str,
    lookup: impl Fn(&str) -> Option<Candidate>,
) -> Response {
    let Some((root, branch)) = resolve(path, lookup) else {
        let body = format!(
            "<html><body>go get {server_url}/{}</body></html>",
            path.trim_matches('/')
        );
        return Response::new(404, "text/html", body);
    };
    Response::new(200, "text/html", document(server_url, &root, &branch))
}

/// The HTML GitLab renders (Rails' `tag`/`content_tag`).
pub fn document(server_url: &str, root: &str, branch: &str) -> String {
    let project_url = format!("{server_url}/{root}");
    let prefix = project_url
        .strip_prefix("https://")
        .or_else(|| project_url.strip_prefix("http://"))
        .unwrap_or(&project_url);
    format!(
        "<html><head><meta name=\"go-import\" content=\"{prefix} git {project_url}.git\" />\
         <meta name=\"go-source\" content=\"{prefix} {project_url} {project_url}/-/tree/{branch}{{/dir}} \
         {project_url}/-/blob/{branch}{{/dir}}/{{file}}#L{{line}}\" /></head>\
         <body>go get {project_url}</body></html>"
    )
}

/// The `content` of the `go-import` tag in `html`, for assertions.
pub fn go_import_of(html: &str) -> Option<&str> {
    let start = html.find("name=\"go-import\" content=\"")? + "name=\"go-import\" content=\"".len();
    let len = html[start..].find('"')?;
    Some(&html[start..start + len])
}
