//! Near-miss origins through all three protocols the helper is handed a URL by — git's `url=`
//! attribute, Go's GOAUTH argument, a keyring SERVICE — first black-box from one table
//! (`tests/support/near_miss.rs`), then with the real clients (git, go, pip) against a server
//! reached under near-miss names (suffix, prefix, another port, plain http) that would accept
//! the job token: it never receives it.

mod support;

use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use support::auth_log::*;
use support::binary::{self, Output};
use support::clients::{go_env, goauth_command, link_keyring, venv};
use support::gitlab_job::{tool_available, GitLabJob};
use support::near_miss::{NEAR_MISSES, SAME_ORIGIN, SERVER};
use support::*;

const TOKEN: &str = "glcbt-64_NearMiss_0123456789abcdef";

/// Hang guard for the real clients, which must fail rather than wait.
const TIMEOUT: Duration = Duration::from_secs(120);

fn job(words: &[&str]) -> Run {
    Run::new(words)
        .env("CI_SERVER_URL", SERVER)
        .env("CI_JOB_TOKEN", TOKEN)
}

#[track_caller]
fn checked(run: Run) -> Output {
    let out = run.output();
    out.assert_stderr_rules();
    assert!(!out.stdout_text().contains(TOKEN) || out.code == Some(0));
    out
}

#[test]
fn every_near_miss_gets_nothing_through_git_goauth_and_keyring() {
    let dir = tempfile::tempdir().unwrap();
    let keyring = dir.path().join("keyring");
    std::os::unix::fs::symlink(binary::path(), &keyring).unwrap();
    let response = b"HTTP/1.1 404 Not Found\nContent-Type: text/html\n\n";
    for (trick, url) in NEAR_MISSES {
        let shown = format!("{trick}: {url:?}");
        // git: a `url=` attribute (one line, so only where the URL is one).
        if !url.contains(['\n', '\r']) {
            let out = checked(job(&["get"]).stdin(format!("url={url}\n").as_bytes()));
            assert_eq!(out.stdout_text(), "", "git {shown}");
            assert!(matches!(out.code, Some(0 | 1)), "git {shown}");
        }
        // Go: the URL after a 4xx, the response on stdin.
        let out = checked(job(&["goauth"]).then(url).stdin(response));
        assert_eq!(
            (out.stdout_text().as_str(), out.code),
            ("", Some(0)),
            "goauth {shown}"
        );
        // pip and uv: keyring get SERVICE USER, by the link and by the verb.
        for run in [
            job(&["get", url, "gitlab-ci-token"]).program(&keyring),
            job(&[
                "keyring",
                "--mode=creds",
                "--output=json",
                "get",
                url,
                "gitlab-ci-token",
            ]),
        ] {
            let out = checked(run);
            assert_eq!(
                (out.stdout_text().as_str(), out.code),
                ("", Some(1)),
                "keyring {shown}"
            );
        }
    }
    // The control: the same origin, spelled otherwise, is answered by all three.
    for url in SAME_ORIGIN {
        let git = checked(job(&["get"]).stdin(format!("url={url}\n").as_bytes()));
        assert!(
            git.stdout_text().ends_with(&format!("password={TOKEN}\n")),
            "{url}"
        );
        let go = checked(job(&["goauth"]).then(url).stdin(response));
        assert!(
            go.stdout_text()
                .starts_with("https://gitlab.example.com/\n"),
            "{url}"
        );
        let pip = checked(job(&["get", url, "gitlab-ci-token"]).program(&keyring));
        assert_eq!(pip.stdout_text(), format!("{TOKEN}\n"), "{url}");
    }
    // Non-UTF-8 bytes after a valid origin: refused, not truncated.
    let bytes = std::ffi::OsStr::from_bytes(b"https://gitlab.example.com\xff.evil.com/");
    let out = checked(job(&["goauth"]).then(bytes));
    assert_eq!((out.stdout_text().as_str(), out.code), ("", Some(0)));
    let out = checked(job(&["keyring", "get"]).then(bytes).then("gitlab-ci-token"));
    assert_eq!((out.stdout_text().as_str(), out.code), ("", Some(1)));
}

/// A job of `gitlab.test`, and a decoy that would accept its token behind the near-miss names
/// real clients can be pointed at: a suffix, a prefix, the job's host on another port, a host
/// that only userinfo or a path names; and a plain-http server under the job's own name.
struct NearMisses {
    lab: GitLabJob,
    decoy: GitServer,
    http: GitServer,
}

const DECOY_NAMES: &[&str] = &[
    "gitlab.test.other.test",
    "evilgitlab.test",
    "gitlab.test:8443",
    "other.test",
];

fn near_misses(label: &str) -> NearMisses {
    let lab = GitLabJob::start(label);
    let decoy = lab.decoy(DECOY_NAMES);
    let http = GitServer::builder(&lab.ca, &lab.token)
        .name("gitlab.test")
        .http()
        .start();
    lab.proxy.route(&http);
    for server in [&decoy, &http] {
        server.create_repo("group/lib", &[("go.mod", b"module x\n")]);
        server.publish_wheel(
            "group/pylib",
            &Wheel::pure("private-lib", "1.0.0", "X = 1\n"),
        );
    }
    NearMisses { lab, decoy, http }
}

impl NearMisses {
    #[track_caller]
    fn assert_token_never_left(&self) {
        assert_never_received_the_job_token(&self.decoy);
        for server in [&self.decoy, &self.http] {
            assert!(
                server.log().iter().all(|r| r.auth != AuthOutcome::Ok),
                "{}",
                server.log_text()
            );
        }
    }
}

#[test]
fn git_sends_the_token_to_no_near_miss_origin() {
    let n = near_misses("near_git");
    for url in [
        "https://gitlab.test.other.test/group/lib.git",
        "https://evilgitlab.test/group/lib.git",
        "https://gitlab.test:8443/group/lib.git",
        "https://gitlab.test@other.test/group/lib.git",
        "https://gitlab-ci-token@other.test/group/lib.git",
        "https://other.test/gitlab.test/group/lib.git",
        "http://gitlab.test/group/lib.git",
    ] {
        let out = n
            .lab
            .env
            .run_unchecked(n.lab.env.git(["ls-remote", url]), TIMEOUT);
        assert!(!out.success() && !out.timed_out(), "{url}: {out}");
    }
    // Only what the URLs themselves carry reached the decoy (git sends a URL's user name with
    // an empty password); nothing of ours.
    n.assert_token_never_left();
    assert!(
        n.decoy.log().iter().all(|r| r.auth == AuthOutcome::None
            || (r.host == "other.test" && r.auth != AuthOutcome::Ok)),
        "{}",
        n.decoy.log_text()
    );
    assert_no_credentials_offered(&n.http);
    // The control: the job's own server gets it.
    let url = n.lab.server.repo_url("group/lib");
    n.lab
        .server
        .create_repo("group/lib", &[("README.md", b"x\n")]);
    n.lab.env.run(n.lab.env.git(["ls-remote", &url]));
    assert_challenged_then_served(&n.lab.server, &[("GET", "/group/lib.git/info/refs")]);
}

#[test]
fn go_with_goauth_sends_the_token_to_no_near_miss_origin() {
    if !tool_available("go", &["version"]) {
        return;
    }
    let mut n = near_misses("near_go");
    n.decoy.create_empty_repo("group/empty");
    n.decoy
        .update_project("group/empty", |p| p.visibility = Visibility::Public);
    go_env(&mut n.lab.env, "*", &goauth_command());
    // Module paths carry no port and Go never fetches modules over plain http, so these are the
    // near misses Go can be sent to; `group/empty` answers go-get with 404, which makes Go run
    // the helper again with that URL.
    for module in [
        "gitlab.test.other.test/group/lib@latest",
        "evilgitlab.test/group/lib@latest",
        "other.test/group/lib@latest",
        "gitlab.test.other.test/group/empty@latest",
    ] {
        let mut cmd = n.lab.env.command("go");
        cmd.args(["mod", "download", module]);
        let out = n.lab.env.run_unchecked(cmd, TIMEOUT);
        assert!(!out.success() && !out.timed_out(), "{module}: {out}");
    }
    assert!(
        n.decoy.log().iter().any(|r| r.query.contains("go-get=1")),
        "{}",
        n.decoy.log_text()
    );
    n.assert_token_never_left();
    assert_no_credentials_offered(&n.decoy);
}

#[test]
fn pip_with_the_keyring_link_sends_the_token_to_no_near_miss_origin() {
    if !tool_available("python3", &["-c", "import venv, ensurepip"]) {
        return;
    }
    let mut n = near_misses("near_pip");
    link_keyring(&mut n.lab.env);
    let venv = venv(&n.lab.env, "venv");
    let id = n.decoy.project_id("group/pylib");
    let http_id = n.http.project_id("group/pylib");
    let index =
        |origin: &str, id: u64| format!("{origin}/api/v4/projects/{id}/packages/pypi/simple");
    for url in [
        index("https://gitlab-ci-token@gitlab.test.other.test", id),
        index("https://gitlab-ci-token@evilgitlab.test", id),
        index("https://gitlab-ci-token@gitlab.test:8443", id),
        index("https://gitlab.test@other.test", id),
        index("https://gitlab-ci-token@other.test/gitlab.test", id),
        index("http://gitlab-ci-token@gitlab.test", http_id),
    ] {
        let mut cmd = n.lab.env.command(venv.join("bin/pip"));
        cmd.args([
            "install",
            "--no-cache-dir",
            "--keyring-provider",
            "subprocess",
            "--trusted-host",
            "gitlab.test",
            "--index-url",
            &url,
            "private-lib==1.0.0",
        ]);
        let out = n.lab.env.run_unchecked(cmd, TIMEOUT);
        assert!(!out.success() && !out.timed_out(), "{url}: {out}");
    }
    for server in [&n.decoy, &n.http] {
        assert!(
            server.log().iter().any(|r| r.status == 401),
            "{}",
            server.log_text()
        );
    }
    n.assert_token_never_left();
}
