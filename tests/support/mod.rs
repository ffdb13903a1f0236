//! The one test harness, shared by every integration test (`mod support;` in each file under
//! `tests/`; the benchmarks include it by `#[path]`, the fuzz crate includes [`oracle`]):
//!
//! - [`binary`]: the one runner for the helper binary — [`Run`] (options, operation, an empty
//!   environment, stdin), [`Outcome`], and the stderr rules every run obeys
//!   ([`assert_stderr_rules`]). `HELPER_UNDER_TEST=/abs/path` runs another executable instead
//!   (e.g. a wrapper running an arm64 build under qemu-user), see [`binary`];
//! - [`env::ClientEnv`]: the one runner for clients — an isolated job environment (own `HOME`,
//!   `CARGO_HOME`, CA settings, no inherited `CARGO_*`/`GIT_*`/`CI_*`/proxy variables) with
//!   the helper under test registered by absolute path, commands run under a time limit, verbs
//!   of the helper checked for the output rules;
//! - [`auth_log`]: what the servers' request logs must show after a client ran (served with the
//!   job token; no credentials, or never the token, at a server it is not for; a wrong token
//!   refused);
//! - [`clients`]: how each real client is set up (Go's environment, a venv, the `keyring` link
//!   pip and uv run, a Python package that builds offline);
//! - [`leaks`]: unique tokens, and the scan that finds one in files (raw or in a Basic header);
//! - [`near_miss`]: URLs that are almost the job's server, one table for every protocol;
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
//! - [`docs`]: reading README.md and docs/, so that tests pin what they say to the code;
//! - [`oracle`]: which requests must be answered, written independently of the code under test;
//!   the property tests and the fuzz targets both check the code against it.
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
//! Run::get(b"protocol=https\nhost=localhost\n").expect(Outcome::Nothing);
//!
//! // GitLab's refusals, per project:
//! server.update_project("group/project", |p| p.allowlist.clear()); // 403 not allowlisted
//! ```
#![allow(dead_code)]

pub mod access;
pub mod auth_log;
pub mod binary;
pub mod clients;
pub mod docs;
pub mod env;
mod git_backend;
pub mod git_server;
pub mod gitlab_job;
pub mod go_get;
pub mod http;
pub mod leaks;
mod lfs;
pub mod near_miss;
pub mod oracle;
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
pub use binary::{assert_stderr_rules, Outcome, Output, Run, PREFIX};
#[allow(unused_imports)]
pub use env::{find_on_path, installed_gits, run_with_timeout, ClientEnv, RunOutput, GITS};
#[allow(unused_imports)]
pub use git_server::{AuthOutcome, GitServer, LoggedRequest, CI_USERNAME};
#[allow(unused_imports)]
pub use gitlab_job::GitLabJob;
#[allow(unused_imports)]
pub use leaks::{find_bytes_in_tree, find_token_in_trees, token_needles, unique_token};
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

/// One job's world: a CA, a GitLab-like HTTPS server that accepts a fresh token, and a job
/// environment for that server (`CI_SERVER_URL`, `CI_JOB_TOKEN`).
pub struct Job {
    pub ca: TestCa,
    pub token: String,
    pub server: GitServer,
    pub env: ClientEnv,
}

impl Job {
    /// The job environment's `credential.helper` is the helper under test.
    pub fn start(label: &str) -> Job {
        Job::start_with(label, |env| env)
    }

    /// The same, with the environment's builder adjusted first (e.g. `.no_helper()`).
    pub fn start_with(
        label: &str,
        adjust: impl FnOnce(env::ClientEnvBuilder) -> env::ClientEnvBuilder,
    ) -> Job {
        let ca = TestCa::new();
        let token = unique_token(label);
        let server = GitServer::start(&ca, &token);
        let env = adjust(
            ClientEnv::builder(&ca)
                .server_url(server.url())
                .token(&token),
        )
        .build();
        Job {
            ca,
            token,
            server,
            env,
        }
    }

    /// A job whose server has `group/project` (one README) and whose global config has only
    /// `credential.helper = <helper>` — e.g. `store`, as many images ship.
    pub fn with_only_helper(label: &str, helper: &str) -> Job {
        let job = Job::start_with(label, |env| env.helper_value(helper));
        job.server
            .create_repo("group/project", &[("README.md", b"hello\n")]);
        job
    }
}
