//! Which servers the helper answers for, and where each came from.

use crate::policy::DEFAULT_USERNAME;
use crate::server::{Origin, Server};

use super::super::facts::Facts;
use super::super::report::Check;

/// A server with a description of where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownServer {
    pub server: Server,
    pub from: String,
}

/// Servers: the environment's, doctor's own `--server`, and those written into our helper
/// values in git configuration; and a problem for each that cannot be used.
pub fn known(facts: &Facts) -> (Vec<KnownServer>, Vec<Check>) {
    let mut servers: Vec<KnownServer> = Vec::new();
    let mut checks = Vec::new();
    let mut push = |server: Server, from: String| {
        if !servers.iter().any(|k| k.server.same_origin(&server)) {
            servers.push(KnownServer { server, from });
        }
    };
    match &facts.env_server {
        Ok(Some(server)) => push(server.clone(), server.origin.to_string()),
        Ok(None) => {}
        Err(e) => checks.push(Check::problem(
            "servers",
            e.to_string(),
            "set CI_SERVER_URL to the GitLab server's URL, e.g. https://gitlab.example.com",
        )),
    }
    for value in &facts.options.servers {
        match Server::parse(value, Origin::Option) {
            Ok(server) => push(server, "--server given to doctor".into()),
            Err(e) => checks.push(Check::problem(
                "servers",
                e.to_string(),
                "pass --server https://host[:port]",
            )),
        }
    }
    for helper in &facts.ours {
        let Some(options) = &helper.options else {
            continue;
        };
        for value in &options.servers {
            if let Ok(server) = Server::parse(value, Origin::Option) {
                push(
                    server,
                    format!("--server in the helper value in {}", helper.place),
                );
            }
        }
    }
    (servers, checks)
}

pub fn check(servers: &[KnownServer]) -> Check {
    if servers.is_empty() {
        return Check::problem(
            "servers",
            "no GitLab server is known, so the helper answers nothing",
            "run inside a GitLab job (CI_SERVER_URL is set there), or configure with --server https://gitlab.example.com",
        );
    }
    let list: Vec<String> = servers
        .iter()
        .map(|k| format!("{} (from {})", k.server, k.from))
        .collect();
    Check::ok("servers", format!("answers for {}", list.join(", ")))
}

/// A note when the last helper value of ours answers with a user name other than GitLab's.
pub fn username(facts: &Facts) -> Option<Check> {
    let name = &facts
        .ours
        .iter()
        .rev()
        .find_map(|o| o.options.as_ref())?
        .username;
    (name != DEFAULT_USERNAME).then(|| {
        Check::note(
            "servers",
            format!("the helper answers with the user name {name}; GitLab expects gitlab-ci-token with a job token"),
        )
    })
}
