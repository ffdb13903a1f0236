//! The server's connections: reading each request, deciding GitLab's answer (refusals before
//! the body when possible, so `Expect: 100-continue` gets its 401/403 at once), routing to git,
//! LFS, go-get or PyPI, and logging it.
#![allow(dead_code)]

use std::fs;
use std::io::{BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::access::{self, Credential, Denial, GitOperation};
use super::git_backend::run_http_backend;
use super::git_server::{Shared, CI_USERNAME};
use super::http::{self, Authorization, RequestHead, Response};
use super::request_log::{AuthOutcome, LoggedRequest};
use super::{go_get, lfs, pypi};

trait Conn: Read + Write + Send {}
impl<T: Read + Write + Send> Conn for T {}

pub(super) fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls_config: Option<Arc<rustls::ServerConfig>>,
) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
        let _ = stream.set_write_timeout(Some(Duration::from_secs(60)));
        let _ = stream.set_nodelay(true);
        let Ok(control) = stream.try_clone() else {
            continue;
        };
        let conn_shared = Arc::clone(&shared);
        let tls = tls_config.clone();
        let handle = thread::spawn(move || {
            let conn: Box<dyn Conn> = match tls {
                Some(config) => match rustls::ServerConnection::new(config) {
                    Ok(server_conn) => Box::new(rustls::StreamOwned::new(server_conn, stream)),
                    Err(_) => return,
                },
                None => Box::new(stream),
            };
            serve_connection(&conn_shared, conn);
        });
        let mut connections = shared.connections.lock().unwrap();
        // Forget connections whose thread has ended.
        connections.retain(|(_, h)| !h.is_finished());
        connections.push((control, handle));
    }
}

/// The log's view and the access model's view of a request's credentials.
fn credentials(head: &RequestHead, token: &str) -> (AuthOutcome, Option<String>, Credential) {
    match http::authorization(head) {
        Authorization::Absent => (AuthOutcome::None, None, Credential::Anonymous),
        // Not HTTP Basic: GitLab's git controller does not see credentials at all.
        Authorization::OtherScheme => (AuthOutcome::WrongUser, None, Credential::Anonymous),
        Authorization::Malformed => (AuthOutcome::WrongUser, None, Credential::Rejected),
        Authorization::Basic { user, password } => {
            let (outcome, credential) = if user != CI_USERNAME {
                (AuthOutcome::WrongUser, Credential::Rejected)
            } else if password.is_empty() {
                (AuthOutcome::EmptyPassword, Credential::Rejected)
            } else if password != token {
                (AuthOutcome::WrongPassword, Credential::Rejected)
            } else {
                (AuthOutcome::Ok, Credential::JobToken)
            };
            (outcome, Some(user), credential)
        }
    }
}

/// What a request asks for.
enum Route {
    GoGet,
    Pypi(pypi::Scope, pypi::Query),
    Git {
        project: String,
        operation: GitOperation,
    },
    Lfs {
        project: String,
        rest: String,
    },
    /// `GET /<project>/info/refs` without `.git`, as Go's git fetches a `host/group/lib.git`
    /// module path: GitLab authenticates like the pull it leads to, then redirects to
    /// `/<project>.git/info/refs` (`Repositories::RedirectsController#redirect_git`).
    GitRedirect {
        project: String,
    },
    BadPath,
    Other,
}

fn route(head: &RequestHead) -> Route {
    if head.path.contains("..") || !head.path.starts_with('/') {
        return Route::BadPath;
    }
    if head.method == "GET" && go_get::is_go_get(head) {
        return Route::GoGet;
    }
    if let Some((scope, query)) = pypi::parse(&head.path) {
        return match head.method.as_str() {
            "GET" => Route::Pypi(scope, query),
            _ => Route::Other,
        };
    }
    let Some((project, rest)) = head.path[1..].split_once(".git/") else {
        return match head.path[1..].strip_suffix("/info/refs") {
            Some(project) if head.method == "GET" && !project.is_empty() => Route::GitRedirect {
                project: project.to_string(),
            },
            _ => Route::Other,
        };
    };
    let project = project.to_string();
    if let Some(rest) = rest.strip_prefix("info/lfs/") {
        let rest = rest.to_string();
        return Route::Lfs { project, rest };
    }
    let service = head.query_param("service");
    let operation = match (head.method.as_str(), rest, service.as_deref()) {
        ("GET", "info/refs", Some("git-upload-pack")) | ("POST", "git-upload-pack", _) => {
            GitOperation::Pull
        }
        ("GET", "info/refs", Some("git-receive-pack")) | ("POST", "git-receive-pack", _) => {
            GitOperation::Push
        }
        _ => return Route::Other,
    };
    Route::Git { project, operation }
}

/// A git refusal as GitLab renders it: `text/plain`, so git prints it after `remote:`.
pub fn denial_response(denial: &Denial, server_url: &str) -> Response {
    let response = Response::new(
        denial.status(),
        "text/plain; charset=utf-8",
        denial.message(server_url),
    );
    match denial {
        Denial::Unauthorized => response.with_header("WWW-Authenticate", access::GIT_REALM),
        _ => response,
    }
}

/// The refusal GitLab decides before reading a body, if any.
fn refusal(shared: &Shared, route: &Route, credential: Credential) -> Option<Response> {
    let registry = shared.registry.lock().unwrap();
    match route {
        Route::Git { project, operation } => access::git_access(
            project,
            registry.project(project).map(|p| &p.access),
            *operation,
            credential,
            &shared.job_project,
            registry.git_http,
        )
        .err(),
        Route::GitRedirect { project } => access::git_access(
            project,
            registry.project(project).map(|p| &p.access),
            GitOperation::Pull,
            credential,
            &shared.job_project,
            registry.git_http,
        )
        .err(),
        // Authentication only: which way an LFS batch goes is in its body.
        Route::Lfs { project, .. } => {
            let public = registry
                .project(project)
                .is_some_and(|p| p.access.visibility == access::Visibility::Public);
            let authenticated = match credential {
                Credential::JobToken => true,
                Credential::Anonymous => public,
                Credential::Rejected => false,
            };
            (!authenticated).then_some(Denial::Unauthorized)
        }
        _ => None,
    }
    .map(|denial| denial_response(&denial, &shared.url))
}

fn handle(
    shared: &Shared,
    head: &RequestHead,
    route: Route,
    credential: Credential,
    body: Vec<u8>,
) -> Response {
    match route {
        Route::GoGet => {
            let registry = shared.registry.lock().unwrap();
            go_get::answer(&shared.url, &head.path, |candidate| {
                let project = registry.project(candidate)?;
                let readable =
                    access::can_read(candidate, &project.access, credential, &shared.job_project);
                let repo = shared.project_root.join(format!("{candidate}.git"));
                let has_commits = repo.join("refs/heads/main").exists()
                    || fs::read_to_string(repo.join("packed-refs"))
                        .is_ok_and(|refs| refs.contains(" refs/heads/main\n"));
                Some(go_get::Candidate {
                    readable,
                    default_branch: has_commits.then(|| "main".to_string()),
                })
            })
        }
        Route::Pypi(scope, query) => {
            let registry = shared.registry.lock().unwrap();
            pypi::answer(
                &registry,
                &shared.url,
                credential,
                &shared.job_project,
                &scope,
                &query,
            )
        }
        Route::Git { project, .. } => {
            if !shared.project_root.join(format!("{project}.git")).is_dir() {
                return Response::new(404, "text/plain; charset=utf-8", access::NO_REPOSITORY);
            }
            run_http_backend(shared, head, body)
        }
        Route::Lfs { project, rest } => {
            lfs::handle(shared, head, &project, &rest, credential, body)
        }
        Route::GitRedirect { project } => {
            let query = match head.query.is_empty() {
                true => String::new(),
                false => format!("?{}", head.query),
            };
            // Rails' redirect_to: an absolute URL.
            Response::new(302, "text/html; charset=utf-8", "").with_header(
                "Location",
                format!("{}/{project}.git/info/refs{query}", shared.url),
            )
        }
        Route::BadPath => Response::new(400, "text/plain", "bad path\n"),
        Route::Other => Response::new(404, "text/plain; charset=utf-8", "Not Found"),
    }
}

fn serve_connection(shared: &Shared, conn: Box<dyn Conn>) {
    let mut reader = BufReader::new(conn);
    loop {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let head = match http::read_head(&mut reader) {
            Ok(Some(head)) => head,
            Ok(None) | Err(_) => return,
        };
        let (auth, username, credential) = credentials(&head, &shared.token);
        let route = route(&head);
        let refused = refusal(shared, &route, credential);

        let mut close_after = head.wants_close();
        let response = match refused {
            // Refuse without reading the body: the client has not sent it yet.
            Some(refusal) if head.has_body() && head.expects_continue() => {
                close_after = true;
                refusal
            }
            refused => {
                if head.has_body()
                    && head.expects_continue()
                    && http::send_continue(reader.get_mut()).is_err()
                {
                    return;
                }
                let Ok(body) = http::read_body(&mut reader, &head) else {
                    return;
                };
                match refused {
                    Some(refusal) => refusal,
                    None => handle(shared, &head, route, credential, body),
                }
            }
        };

        shared.log.lock().unwrap().push(LoggedRequest {
            method: head.method.clone(),
            path: head.path.clone(),
            query: head.query.clone(),
            status: response.status,
            auth,
            username,
            host: head.header("host").unwrap_or("").to_string(),
            server: shared.authority.clone(),
            user_agent: head.header("user-agent").unwrap_or("").to_string(),
        });

        if http::write_response(reader.get_mut(), &response, close_after).is_err() || close_after {
            return;
        }
    }
}
