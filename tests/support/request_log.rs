//! What the servers record of each request: enough to prove who offered which credentials to
//! which server (method, path, query, status, auth outcome, user name, `Host`, the server's name),
//! never a password.
#![allow(dead_code)]

use super::git_server::CI_USERNAME;

/// What a request offered as credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthOutcome {
    /// No `Authorization` header.
    None,
    /// `gitlab-ci-token` with the right token.
    Ok,
    /// Another username (or an `Authorization` header that is not valid HTTP Basic).
    WrongUser,
    /// `gitlab-ci-token` with a wrong password.
    WrongPassword,
    /// `gitlab-ci-token` with an empty password: a client offering the user name of the URL
    /// before it has a password (pip does, with `https://gitlab-ci-token@host/…`).
    EmptyPassword,
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct LoggedRequest {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    pub query: String,
    pub status: u16,
    pub auth: AuthOutcome,
    /// The username offered with HTTP Basic auth, if any.
    pub username: Option<String>,
    /// The `Host` header: which name the client used for the server.
    pub host: String,
    /// Which server answered: its [`GitServer::authority`].
    pub server: String,
    pub user_agent: String,
}

impl LoggedRequest {
    /// True when the request offered the username `gitlab-ci-token`.
    pub fn offered_ci_username(&self) -> bool {
        self.username.as_deref() == Some(CI_USERNAME)
    }
}

/// `log` one request a line, for assertion messages.
pub fn text(log: &[LoggedRequest]) -> String {
    log.iter()
        .map(|r| {
            format!(
                "{} (Host: {}) {} {}{}{} -> {} auth={:?} user={:?} ua={:?}",
                r.server,
                r.host,
                r.method,
                r.path,
                if r.query.is_empty() { "" } else { "?" },
                r.query,
                r.status,
                r.auth,
                r.username,
                r.user_agent
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
