//! Test infrastructure shared by integration tests (`mod support;` in a file under `tests/`):
//!
//! - [`tls::TestCa`]: a CA made for the test, PEM files, a system+test bundle for
//!   `SSL_CERT_FILE`, a `cert_dir()` holding only `ca.crt`, and `issue(&[names])` for more
//!   server certificates (e.g. a Docker registry's) signed by the same CA;
//! - [`git_server::GitServer`]: a GitLab-faithful HTTPS server on `127.0.0.1` (real
//!   `git http-backend`, git-lfs batch API, go-get middleware, PyPI registry) that gives
//!   GitLab's exact answers per project ([`access`]: the texts as `pub const`s and the rules),
//!   may have a public name (`gitlab.test`), records each request, and stops when dropped;
//! - [`proxy::ConnectProxy`]: an HTTPS `CONNECT` proxy mapping names without ports to loopback
//!   servers, and [`gitlab_job::GitLabJob`]: server + proxy + job environment in one;
//! - [`wheel::Wheel`]: small valid pure-Python wheels for the PyPI registry;
//! - [`env::ClientEnv`]: an isolated job environment (own `HOME`, `CARGO_HOME`, CA settings,
//!   no inherited `CARGO_*`/`GIT_*`/`CI_*`/proxy variables) with our helper registered by
//!   absolute path, commands run under a time limit, and a token leak scan.
//!
//! ```ignore
//! let ca = TestCa::new();
//! let token = unique_token("example");
//! let server = GitServer::start(&ca, &token);
//! server.create_repo("group/project", &[("README.md", b"hello\n")]);
//! let env = ClientEnv::new(&ca, &server.url(), &token);
//! env.run(env.git(["clone", &server.repo_url("group/project"), "clone"]));
//! assert!(server.log().iter().any(|r| r.auth == AuthOutcome::Ok));
//! env.assert_token_not_on_disk(&[]);
//!
//! // GitLab's refusals, per project:
//! server.update_project("group/project", |p| p.allowlist.clear()); // 403 not allowlisted
//! ```
#![allow(dead_code)]

pub mod access;
pub mod env;
mod git_backend;
pub mod git_server;
pub mod gitlab_job;
pub mod go_get;
pub mod http;
mod lfs;
mod projects;
pub mod proxy;
pub mod pypi;
mod request_log;
mod serve;
pub mod tls;
pub mod wheel;

#[allow(unused_imports)]
pub use access::{Credential, ProjectAccess, Visibility};
#[allow(unused_imports)]
pub use env::{find_bytes_in_tree, run_with_timeout, unique_token, ClientEnv, RunOutput};
#[allow(unused_imports)]
pub use git_server::{AuthOutcome, GitServer, LoggedRequest, CI_USERNAME};
#[allow(unused_imports)]
pub use gitlab_job::GitLabJob;
#[allow(unused_imports)]
pub use proxy::ConnectProxy;
#[allow(unused_imports)]
pub use tls::TestCa;
#[allow(unused_imports)]
pub use wheel::Wheel;

/// A crate `private-dep` in `group/private-dep` on `server` and, in `$HOME/work/app`, a project
/// that depends on it by git URL (and on nothing from crates.io, so no registry is needed).
/// Returns the app directory.
pub fn cargo_project(server: &GitServer, env: &ClientEnv) -> std::path::PathBuf {
    use std::fs;
    server.create_repo(
        "group/private-dep",
        &[
            (
                "Cargo.toml",
                b"[package]\nname = \"private-dep\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n",
            ),
            ("src/lib.rs", b"pub fn answer() -> u32 {\n    42\n}\n"),
        ],
    );
    let app = env.work().join("app");
    fs::create_dir_all(app.join("src")).unwrap();
    fs::write(
        app.join("Cargo.toml"),
        format!(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nprivate-dep = {{ git = \"{}\" }}\n",
            server.repo_url("group/private-dep")
        ),
    )
    .unwrap();
    fs::write(
        app.join("src/main.rs"),
        "fn main() {\n    println!(\"{}\", private_dep::answer());\n}\n",
    )
    .unwrap();
    app
}

/// A running server with `group/project` (one README) and a job environment for it whose global
/// config has only `credential.helper = <helper>` — e.g. `store`, as many images ship.
pub fn job_with_helper(label: &str, helper: &str) -> (TestCa, GitServer, ClientEnv) {
    let ca = TestCa::new();
    let token = unique_token(label);
    let server = GitServer::start(&ca, &token);
    server.create_repo("group/project", &[("README.md", b"hello\n")]);
    let env = ClientEnv::builder(&ca)
        .server_url(server.url())
        .token(&token)
        .helper_value(helper)
        .build();
    (ca, server, env)
}
