//! GitLab's PyPI registry (`lib/api/pypi_packages.rb`), read side: the PEP 503 simple index of a
//! project or a group, and the files it links to.
//!
//! - `GET /api/v4/projects/<id>/packages/pypi/simple[/]`: the project's package names;
//! - `GET …/simple/<name>[/]`: the files of one package, each linked as
//!   `…/packages/pypi/files/<sha256>/<filename>#sha256=<sha256>`;
//! - `GET …/files/<sha256>/<filename>`: the file;
//! - the same under `/api/v4/groups/<id>/-/packages/pypi/`, over every project of the group (and
//!   its subgroups) the caller may read.
//!
//! `<id>` is the numeric id or the URL-encoded full path. Answers, as GitLab's
//! `BasicAuthHelpers#authorized_project_find!` gives them: credentials that fail → 401 with
//! `WWW-Authenticate: Basic realm="GitLab Packages Registry"`; no such project → 404; a private
//! project without credentials → 401 (same header); a job token that may not read the project
//! (allowlist, or the triggering user) → **404 `{"message":"404 Not Found"}`**: the package API
//! resolves the project before it authorizes and answers `not_found!` to any authenticated user
//! who cannot read it (unlike `git`, it does not say why). A missing package or file →
//! `{"message":"404 Package Not Found"}` (GitLab.com would first forward a missing package to
//! pypi.org; this server does not).
#![allow(dead_code)]

use super::access::{self, Credential, Visibility};
use super::http::Response;
use super::projects::{PackageFile, Registry};

const JSON: &str = "application/json";
const HTML: &str = "text/html; charset=utf-8";

pub enum Scope {
    /// The API's `:id` of a project, as written in the URL.
    Project(String),
    Group(String),
}

pub enum Query {
    Index,
    Package(String),
    File { sha256: String, filename: String },
}

/// The PyPI request `path` names, if it is one.
pub fn parse(path: &str) -> Option<(Scope, Query)> {
    let (scope, rest) = if let Some(rest) = path.strip_prefix("/api/v4/projects/") {
        let (id, rest) = rest.split_once("/packages/pypi/")?;
        (Scope::Project(id.to_string()), rest)
    } else {
        let rest = path.strip_prefix("/api/v4/groups/")?;
        let (id, rest) = rest.split_once("/-/packages/pypi/")?;
        (Scope::Group(id.to_string()), rest)
    };
    if rest.contains('?') || rest.split('/').any(|s| s == "." || s == "..") {
        return None;
    }
    let query = match rest.trim_end_matches('/').split('/').collect::<Vec<_>>()[..] {
        ["simple"] => Query::Index,
        ["simple", name] if !name.is_empty() => Query::Package(name.to_string()),
        ["files", sha256, filename] if !sha256.is_empty() && !filename.is_empty() => Query::File {
            sha256: sha256.to_string(),
            filename: filename.to_string(),
        },
        _ => return None,
    };
    Some((scope, query))
}

/// PEP 503 normalization: runs of `-`, `_`, `.` become `-`, lower case.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

fn unauthorized() -> Response {
    Response::new(401, JSON, access::API_UNAUTHORIZED)
        .with_header("WWW-Authenticate", access::PACKAGES_REALM)
}

fn not_found() -> Response {
    Response::new(404, JSON, access::API_NOT_FOUND)
}

/// The registry's answer to `scope`/`query` for this caller (a job of project `job`).
pub fn answer(
    registry: &Registry,
    server_url: &str,
    credential: Credential,
    job: &str,
    scope: &Scope,
    query: &Query,
) -> Response {
    if credential == Credential::Rejected {
        return unauthorized();
    }
    let (base, files): (String, Vec<&PackageFile>) = match scope {
        Scope::Project(id) => {
            let Some((path, project)) = registry.project_by_api_id(id) else {
                return not_found();
            };
            if !access::can_read(path, &project.access, credential, job) {
                return match credential {
                    Credential::Anonymous => unauthorized(),
                    _ => not_found(),
                };
            }
            (
                format!("{server_url}/api/v4/projects/{}/packages/pypi", project.id),
                project.packages.iter().collect(),
            )
        }
        Scope::Group(id) => {
            let Some(group) = registry.group_by_api_id(id) else {
                return not_found();
            };
            let readable: Vec<_> = registry
                .in_group(&group)
                .filter(|(path, p)| access::can_read(path, &p.access, credential, job))
                .collect();
            // A group is visible to anyone when it holds a public project, and to a job
            // whose triggering user is a member (here: may read one of its projects).
            let visible = registry.in_group(&group).any(|(_, p)| {
                p.access.visibility == Visibility::Public
                    || (credential == Credential::JobToken && p.access.triggering_user_has_access)
            });
            if !visible {
                return match credential {
                    Credential::Anonymous => unauthorized(),
                    _ => not_found(),
                };
            }
            (
                format!("{server_url}/api/v4/groups/{id}/-/packages/pypi"),
                readable
                    .iter()
                    .flat_map(|(_, p)| p.packages.iter())
                    .collect(),
            )
        }
    };
    match query {
        Query::Index => Response::new(200, HTML, index_html(&base, &files)),
        Query::Package(name) => {
            let wanted = normalize(name);
            let matching: Vec<_> = files
                .into_iter()
                .filter(|f| normalize(&f.name) == wanted)
                .collect();
            if matching.is_empty() {
                return Response::new(404, JSON, access::API_PACKAGE_NOT_FOUND);
            }
            Response::new(200, HTML, package_html(&base, name, &matching))
        }
        Query::File { sha256, filename } => {
            match files
                .into_iter()
                .find(|f| f.sha256 == *sha256 && f.filename == *filename)
            {
                Some(file) => Response::new(200, "application/octet-stream", file.data.to_vec()),
                None => Response::new(404, JSON, access::API_PACKAGE_NOT_FOUND),
            }
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, links: &str) -> String {
    let title = escape(title);
    format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <title>Links for {title}</title>\n  </head>\n  \
         <body>\n    <h1>Links for {title}</h1>\n{links}  </body>\n</html>\n"
    )
}

fn index_html(base: &str, files: &[&PackageFile]) -> String {
    let mut names: Vec<String> = files.iter().map(|f| normalize(&f.name)).collect();
    names.sort();
    names.dedup();
    let links: String = names
        .iter()
        .map(|name| {
            format!(
                "    <a href=\"{}\" data-requires-python=\"\">{}</a><br>\n",
                escape(&format!("{base}/simple/{name}")),
                escape(name)
            )
        })
        .collect();
    page("simple index", &links)
}

fn package_html(base: &str, name: &str, files: &[&PackageFile]) -> String {
    let links: String = files
        .iter()
        .map(|f| {
            let href = format!(
                "{base}/files/{}/{}#sha256={}",
                f.sha256, f.filename, f.sha256
            );
            format!(
                "    <a href=\"{}\" data-requires-python=\"{}\">{}</a><br>\n",
                escape(&href),
                escape(&f.requires_python),
                escape(&f.filename)
            )
        })
        .collect();
    page(name, &links)
}
