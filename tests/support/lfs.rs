//! A minimal git-lfs server under `/<project>.git/info/lfs/`: the batch API (`basic` transfer),
//! object upload and download, and an empty lock list. Batch actions carry the request's
//! `Authorization` header and say `"authenticated": true`, as git-lfs needs (otherwise it retries
//! uploads forever).
//!
//! Access is the git model's ([`super::access::git_access`]) with GitLab's LFS answers
//! (`LfsRequest#lfs_check_access!`): 401 as for git; a caller who may not read the project gets
//! 404 `{"message":"Not found.",…}` (existence is not revealed); one who may read but not upload
//! gets 403 `{"message":"Access forbidden. Check your access level.",…}`.
#![allow(dead_code)]

use super::access::{self, Credential, Denial, GitHttp, GitOperation};
use super::git_server::Shared;
use super::http::{RequestHead, Response};

pub const LFS_JSON: &str = "application/vnd.git-lfs+json";

fn is_oid(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn lfs_error(status: u16, message: &str, server_url: &str) -> Response {
    let body =
        serde_json::json!({"message": message, "documentation_url": format!("{server_url}/help")});
    Response::new(status, LFS_JSON, body.to_string())
}

/// Which way an LFS request moves objects.
fn operation(head: &RequestHead, rest: &str, body: &[u8]) -> GitOperation {
    let upload = match (head.method.as_str(), rest) {
        ("POST", "objects/batch") => serde_json::from_slice::<serde_json::Value>(body)
            .is_ok_and(|request| request["operation"] == "upload"),
        ("PUT", _) | ("POST", "locks/verify") | ("POST", "locks") => true,
        _ => false,
    };
    if upload {
        GitOperation::Push
    } else {
        GitOperation::Pull
    }
}

/// Answers an LFS request for `project` (full path, no `.git`); `rest` follows `info/lfs/`.
pub fn handle(
    shared: &Shared,
    head: &RequestHead,
    project: &str,
    rest: &str,
    credential: Credential,
    body: Vec<u8>,
) -> Response {
    let url = &shared.url;
    let operation = operation(head, rest, &body);
    let decision = {
        let registry = shared.registry.lock().unwrap();
        let all = GitHttp {
            pull: true,
            push: true,
        };
        access::git_access(
            project,
            registry.project(project).map(|p| &p.access),
            operation,
            credential,
            &shared.job_project,
            all,
        )
    };
    match decision {
        Ok(()) => {}
        Err(Denial::Unauthorized) => {
            return super::serve::denial_response(&Denial::Unauthorized, url)
        }
        Err(
            Denial::ProjectNotFound
            | Denial::NotAllowlisted { .. }
            | Denial::UserLacksAccess { .. },
        ) => return lfs_error(404, access::LFS_NOT_FOUND, url),
        Err(_) => return lfs_error(403, access::LFS_FORBIDDEN, url),
    }
    let repo = format!("{project}.git");
    if !shared.project_root.join(&repo).is_dir() {
        return lfs_error(404, access::LFS_NOT_FOUND, url);
    }
    match (head.method.as_str(), rest) {
        ("POST", "objects/batch") => batch(shared, head, &repo, &body),
        ("POST", "locks/verify") => Response::new(200, LFS_JSON, r#"{"ours":[],"theirs":[]}"#),
        ("GET", "locks") => Response::new(200, LFS_JSON, r#"{"locks":[]}"#),
        ("GET", oid) if oid.strip_prefix("objects/").is_some_and(is_oid) => {
            let key = format!("{repo}/{}", &oid["objects/".len()..]);
            match shared.lfs_objects.lock().unwrap().get(&key) {
                Some(data) => Response::new(200, "application/octet-stream", data.clone()),
                None => lfs_error(404, access::LFS_NOT_FOUND, url),
            }
        }
        ("PUT", oid) if oid.strip_prefix("objects/").is_some_and(is_oid) => {
            let key = format!("{repo}/{}", &oid["objects/".len()..]);
            shared.lfs_objects.lock().unwrap().insert(key, body);
            Response::new(200, "text/plain", "")
        }
        _ => lfs_error(404, access::LFS_NOT_FOUND, url),
    }
}

fn batch(shared: &Shared, head: &RequestHead, repo: &str, body: &[u8]) -> Response {
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Response::new(422, LFS_JSON, r#"{"message":"bad JSON"}"#);
    };
    let operation = request["operation"].as_str().unwrap_or("");
    let authorization = head.header("authorization").unwrap_or("");
    let objects = shared.lfs_objects.lock().unwrap();
    let mut answers = Vec::new();
    for object in request["objects"].as_array().cloned().unwrap_or_default() {
        let oid = object["oid"].as_str().unwrap_or("").to_string();
        let size = object["size"].as_u64().unwrap_or(0);
        if !is_oid(&oid) {
            answers.push(serde_json::json!({
                "oid": oid, "size": size,
                "error": {"code": 422, "message": "invalid oid"}
            }));
            continue;
        }
        let href = format!("{}/{}/info/lfs/objects/{}", shared.url, repo, oid);
        let action = serde_json::json!({
            "href": href,
            "header": {"Authorization": authorization},
            "expires_in": 3600
        });
        let stored = objects.contains_key(&format!("{repo}/{oid}"));
        let answer = match (operation, stored) {
            ("upload", true) => serde_json::json!({"oid": oid, "size": size}),
            ("upload", false) => serde_json::json!({
                "oid": oid, "size": size, "authenticated": true,
                "actions": {"upload": action}
            }),
            ("download", true) => serde_json::json!({
                "oid": oid, "size": size, "authenticated": true,
                "actions": {"download": action}
            }),
            _ => serde_json::json!({
                "oid": oid, "size": size,
                "error": {"code": 404, "message": "Object does not exist"}
            }),
        };
        answers.push(answer);
    }
    let reply = serde_json::json!({
        "transfer": "basic",
        "objects": answers,
        "hash_algo": "sha256"
    });
    Response::new(200, LFS_JSON, reply.to_string())
}
