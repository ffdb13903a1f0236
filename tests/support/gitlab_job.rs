//! A CI job of project `group/app` whose GitLab is `https://gitlab.test`: a test CA, a
//! [`GitServer`] named `gitlab.test`, a [`ConnectProxy`] that routes the name to it, and a
//! [`ClientEnv`] (`CI_SERVER_URL=https://gitlab.test`, our helper, `HTTPS_PROXY`) — the set-up
//! for clients that need a host name without a port (Go) or that only talk HTTP (curl, pip).
//!
//! ```ignore
//! let job = GitLabJob::start("label");
//! job.server.create_repo("group/sub/proj", &[("go.mod", b"module gitlab.test/group/sub/proj\n")]);
//! let other = job.add_server("other.test");           // a second named server, routed too
//! let answer = job.curl("https://gitlab.test/group/sub/proj?go-get=1", None, &[]);
//! assert_eq!(answer.status, 200);
//! ```
#![allow(dead_code)]

use std::fs;
use std::time::Duration;

use super::env::{run_with_timeout, ClientEnv, ClientEnvBuilder};
use super::git_server::GitServer;
use super::leaks::unique_token;
use super::proxy::ConnectProxy;
use super::tls::TestCa;

/// The job's server name.
pub const GITLAB_HOST: &str = "gitlab.test";

const CURL_TIMEOUT: Duration = Duration::from_secs(30);

pub struct GitLabJob {
    pub ca: TestCa,
    pub token: String,
    pub proxy: ConnectProxy,
    pub server: GitServer,
    /// Our helper as the README configures it, behind the proxy.
    pub env: ClientEnv,
}

impl GitLabJob {
    pub fn start(label: &str) -> GitLabJob {
        let ca = TestCa::new();
        let token = unique_token(label);
        let server = GitServer::builder(&ca, &token).name(GITLAB_HOST).start();
        let proxy = ConnectProxy::start();
        proxy.route(&server);
        let mut env = ClientEnv::new(&ca, &server.url(), &token);
        proxy.apply(&mut env);
        GitLabJob {
            ca,
            token,
            proxy,
            server,
            env,
        }
    }

    /// A second server named `name` (with its own token, which no client has), routed by the
    /// proxy; near-miss aliases can be added with [`GitServer::builder`] and
    /// [`ConnectProxy::route`] instead.
    pub fn add_server(&self, name: &str) -> GitServer {
        let other = GitServer::builder(&self.ca, &unique_token("other"))
            .name(name)
            .start();
        self.proxy.route(&other);
        other
    }

    /// A server that would accept the job's token, reached through the proxy under each of
    /// `names` (`host`, meaning port 443, or `host:port`; the first is its own name, the hosts
    /// are in its certificate): a test routes a second origin or a near miss there, and any
    /// request that authenticates ([`super::AuthOutcome::Ok`]) proves the token leaked
    /// ([`super::auth_log::assert_never_received_the_job_token`]).
    pub fn decoy(&self, names: &[&str]) -> GitServer {
        let host = |name: &str| name.rsplit_once(':').map_or(name, |(h, _)| h).to_string();
        let mut builder = GitServer::builder(&self.ca, &self.token).name(&host(names[0]));
        for name in &names[1..] {
            builder = builder.alias(&host(name));
        }
        let decoy = builder.start();
        for name in names {
            self.proxy.map(name, decoy.addr());
        }
        decoy
    }

    /// The same job's environment with a token the server does not accept (an expired one).
    pub fn wrong_token_env(&self) -> ClientEnv {
        self.other_env(|b| b.server_url(self.server.url()).token(unique_token("wrong")))
    }

    /// Another client environment for the same job, built from `builder` (which starts from
    /// [`ClientEnv::builder`] with this CA), behind the proxy.
    pub fn other_env(&self, build: impl FnOnce(ClientEnvBuilder) -> ClientEnvBuilder) -> ClientEnv {
        let mut env = build(ClientEnv::builder(&self.ca)).build();
        self.proxy.apply(&mut env);
        env
    }

    /// One request with `curl` through the proxy, trusting the test CA; `user` is sent as
    /// HTTP Basic up front; `extra` are more curl arguments (`-X POST`, `--data-binary`, ...).
    pub fn curl(&self, url: &str, user: Option<(&str, &str)>, extra: &[&str]) -> Fetched {
        let dir = tempfile::tempdir().unwrap();
        let (headers, body) = (dir.path().join("headers"), dir.path().join("body"));
        let mut cmd = self.env.command("curl");
        cmd.args(["-sS", "-w", "%{http_code}", "--cacert"])
            .arg(self.ca.ca_cert_path())
            .arg("-D")
            .arg(&headers)
            .arg("-o")
            .arg(&body)
            .args(extra);
        if let Some((name, password)) = user {
            cmd.args(["-u", &format!("{name}:{password}")]);
        }
        let out = run_with_timeout(cmd.arg(url), CURL_TIMEOUT);
        assert!(out.success(), "{out}");
        Fetched {
            status: out.stdout.trim().parse().unwrap(),
            headers: fs::read_to_string(headers).unwrap(),
            body: fs::read(body).unwrap_or_default(),
        }
    }
}

/// One HTTP exchange as curl saw it.
pub struct Fetched {
    pub status: u16,
    /// The response head as received.
    pub headers: String,
    pub body: Vec<u8>,
}

impl Fetched {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// True when `tool args…` runs; when it does not, fails under `CI=true` (where `.ci/run`
/// installs every tool) and otherwise says the test is skipped.
pub fn tool_available(tool: &str, args: &[&str]) -> bool {
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg("command -v \"$0\" >/dev/null && exec \"$0\" \"$@\"")
        .arg(tool)
        .args(args);
    if run_with_timeout(cmd, CURL_TIMEOUT).success() {
        return true;
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "CI=true but `{tool}` is not installed"
    );
    eprintln!("SKIPPED: `{tool}` is not installed");
    false
}
