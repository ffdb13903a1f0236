//! What the servers' request logs must show after a client ran: the one set of assertions every
//! real-client test makes (git, cargo and git-lfs in `tests/real_clients.rs`; go, npm, pip, uv,
//! poetry, pre-commit and bundler in `tests/clients_*.rs`).
#![allow(dead_code)]

use super::git_server::{AuthOutcome, GitServer};

/// The job's server saw no credentials (or only the user name, [`AuthOutcome::EmptyPassword`])
/// or exactly the job's, and each `(method, path fragment)` of `expected` was among the
/// authenticated requests, answered 200 (the fragment is matched against `path?query`). Other
/// authenticated requests may fail: Go probes `/` and `/group` for go-get with its GOAUTH
/// header, and GitLab redirects a path without `.git`.
#[track_caller]
pub fn assert_served_with_the_job_token(server: &GitServer, expected: &[(&str, &str)]) {
    let log = server.log();
    let text = server.log_text();
    assert!(!log.is_empty(), "the server saw no request");
    assert!(
        log.iter().all(|r| matches!(
            r.auth,
            AuthOutcome::None | AuthOutcome::EmptyPassword | AuthOutcome::Ok
        )),
        "a request offered wrong credentials:\n{text}"
    );
    for (method, fragment) in expected {
        assert!(
            log.iter().any(|r| r.auth == AuthOutcome::Ok
                && r.status == 200
                && r.method == *method
                && format!("{}?{}", r.path, r.query).contains(fragment)),
            "no authenticated {method} {fragment} answered 200:\n{text}"
        );
    }
}

/// The same, the client got the 401 challenge first (git asks helpers only then), and every
/// authenticated request succeeded.
#[track_caller]
pub fn assert_challenged_then_served(server: &GitServer, expected: &[(&str, &str)]) {
    assert_served_with_the_job_token(server, expected);
    let log = server.log();
    let text = server.log_text();
    assert!(
        log.iter()
            .any(|r| r.auth == AuthOutcome::None && r.status == 401),
        "the client never got the 401 challenge:\n{text}"
    );
    assert!(
        log.iter()
            .filter(|r| r.auth == AuthOutcome::Ok)
            .all(|r| r.status == 200),
        "an authenticated request failed:\n{text}"
    );
}

/// A server the token is not for saw requests, none of them with any credentials: nothing of
/// ours answered for it (the git path: the helper declined, so git had nothing to send).
#[track_caller]
pub fn assert_no_credentials_offered(server: &GitServer) {
    let text = server.log_text();
    let log = server.log();
    assert!(!log.is_empty(), "the server saw no request");
    assert!(
        log.iter().all(|r| !r.offered_ci_username()),
        "gitlab-ci-token was offered to a server it is not for:\n{text}"
    );
    assert!(
        log.iter().all(|r| r.auth == AuthOutcome::None),
        "credentials were offered to a server they are not for:\n{text}"
    );
}

/// A server the token is not for saw requests and never the job token. Meant for a decoy
/// that would accept it ([`super::GitLabJob::decoy`]), where the token shows as
/// [`AuthOutcome::Ok`]; other credentials may appear (npm's `GIT_ASKPASS=echo` sends its prompt
/// as a user name, uv sends the index URL's user name with an empty password).
#[track_caller]
pub fn assert_never_received_the_job_token(server: &GitServer) {
    let log = server.log();
    assert!(!log.is_empty(), "the server saw no request");
    assert!(
        log.iter().all(|r| r.auth != AuthOutcome::Ok),
        "the job token reached a server it is not for:\n{}",
        server.log_text()
    );
}

/// A wrong token reached the server, and nothing authenticated.
#[track_caller]
pub fn assert_wrong_token_refused(server: &GitServer) {
    let text = server.log_text();
    let log = server.log();
    assert!(
        log.iter().any(|r| r.auth == AuthOutcome::WrongPassword),
        "the wrong token never reached the server:\n{text}"
    );
    assert!(log.iter().all(|r| r.auth != AuthOutcome::Ok), "{text}");
}
