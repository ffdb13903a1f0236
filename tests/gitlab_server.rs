//! Self-tests of the GitLab-faithful test server (`tests/support`): each of GitLab's answers,
//! driven by the clients that meet them — git 2.47 and 2.39 for git over HTTPS, `curl` for
//! go-get, PyPI and LFS, `pip` for an install from the PyPI index — through the CONNECT proxy
//! that gives the server its name `gitlab.test`.
//!
//! What git prints for each answer (both versions print the same; these are what `doctor`
//! classifies). The job's project is `group/app`; refusals name projects by their last segment,
//! as GitLab does:
//!
//! ```text
//! # 401, wrong or expired token, or a user name other than gitlab-ci-token (after our helper's
//! # own line on erase, when it was our token):
//! remote: HTTP Basic: Access denied. If a password was provided for Git authentication, the password was incorrect or you're required to use a token instead of a password. If a token was provided, it was either incorrect, expired, or improperly scoped. See https://gitlab.test/help/topics/git/troubleshooting_git.md#error-on-git-fetch-http-basic-access-denied
//! fatal: Authentication failed for 'https://gitlab.test/group/lib.git/'
//!
//! # 401 and no credentials to offer (no helper answered; prompts are off in CI):
//! fatal: could not read Username for 'https://gitlab.test': terminal prompts disabled
//!
//! # 403, the job's project is not in group/lib's allowlist:
//! remote: Authentication by CI/CD job token not allowed from app to lib.
//! fatal: unable to access 'https://gitlab.test/group/lib.git/': The requested URL returned error: 403
//!
//! # 403, allowlisted, but the user who triggered the pipeline cannot read group/lib:
//! remote: Insufficient permissions to pull from the repository of project lib.
//! fatal: unable to access 'https://gitlab.test/group/lib.git/': The requested URL returned error: 403
//!
//! # 404, valid token, no such project (also Go's failure for a private module in a subgroup,
//! # whose anonymous go-get answer points at https://gitlab.test/group/sub.git):
//! remote: The project you were looking for could not be found or you don't have permission to view it.
//! fatal: repository 'https://gitlab.test/group/missing.git/' not found
//!
//! # 403 on push, job-token pushes not allowed:
//! remote: You are not allowed to push code to this project.
//! fatal: unable to access 'https://gitlab.test/group/lib.git/': The requested URL returned error: 403
//!
//! # 403, the instance turned off git-upload-pack over HTTP:
//! remote: Pulling over HTTP is not allowed.
//! fatal: unable to access 'https://gitlab.test/group/lib.git/': The requested URL returned error: 403
//! ```
//!
//! git sends `erase` only after a 401, never after a 403 or 404.

mod support;

use std::time::Duration;

use support::access::{self, Credential, GitHttp, GitOperation};
use support::gitlab_job::{tool_available, Fetched, GitLabJob};
use support::*;

const TIMEOUT: Duration = Duration::from_secs(30);

/// `git <args>` with one git binary, in `env`'s work directory, whatever the outcome.
fn git(env: &ClientEnv, git: &str, args: &[&str]) -> RunOutput {
    let mut cmd = env.command(git);
    cmd.args(args);
    env.run_unchecked(cmd, TIMEOUT)
}

fn assert_git_refused(out: &RunOutput, message: &str, fatal: &str) {
    assert!(!out.success() && !out.timed_out(), "{out}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines.contains(&format!("remote: {message}").as_str()),
        "{out}"
    );
    assert!(lines.contains(&fatal), "{out}");
}

fn status_403(url: &str) -> String {
    format!("fatal: unable to access '{url}/': The requested URL returned error: 403")
}

#[test]
fn public_project_is_cloned_anonymously_without_a_challenge() {
    let lab = GitLabJob::start("public");
    lab.server
        .create_repo("group/lib", &[("README.md", b"public\n")]);
    lab.server
        .update_project("group/lib", |p| p.visibility = Visibility::Public);
    let url = lab.server.repo_url("group/lib");
    for (n, g) in GITS.iter().enumerate() {
        let out = git(&lab.env, g, &["clone", &url, &format!("clone-{n}")]);
        assert!(out.success(), "{out}");
    }
    let log = lab.server.log();
    assert!(
        log.iter()
            .all(|r| r.status == 200 && r.auth == AuthOutcome::None),
        "{}",
        lab.server.log_text()
    );
    // Pushing still needs credentials: the challenge comes, and the job's token may push.
    let clone = lab.env.work().join("clone-0");
    let out = git(
        &lab.env,
        GITS[0],
        &[
            "-C",
            clone.to_str().unwrap(),
            "push",
            "origin",
            "HEAD:refs/heads/x",
        ],
    );
    assert!(out.success(), "{out}");
    assert!(log.len() < lab.server.log().len());
    assert!(lab.server.log().iter().any(|r| r.status == 401));
}

#[test]
fn wrong_token_or_user_name_gets_401_with_gitlabs_body_and_git_says_authentication_failed() {
    let lab = GitLabJob::start("wrong_token");
    lab.server
        .create_repo("group/lib", &[("README.md", b"x\n")]);
    let url = lab.server.repo_url("group/lib");
    let wrong = lab.other_env(|b| {
        b.server_url(lab.server.url())
            .token(unique_token("expired"))
            .record_operations_after()
    });
    let other_user = lab.other_env(|b| {
        b.helper_value(format!(
            "!f() {{ echo username=someone; echo password={}; }}; f",
            lab.token
        ))
    });
    let body = access::access_denied("https://gitlab.test");
    assert!(body.ends_with("See https://gitlab.test/help/topics/git/troubleshooting_git.md#error-on-git-fetch-http-basic-access-denied"));
    let fatal = format!("fatal: Authentication failed for '{url}/'");
    for g in GITS {
        assert_git_refused(&git(&wrong, g, &["ls-remote", &url]), &body, &fatal);
        assert_git_refused(&git(&other_user, g, &["ls-remote", &url]), &body, &fatal);
    }
    assert!(wrong.helper_operations().contains(&"erase".to_string()));
    let log = lab.server.log();
    assert!(log
        .iter()
        .any(|r| r.auth == AuthOutcome::WrongPassword && r.status == 401));
    assert!(log
        .iter()
        .any(|r| r.auth == AuthOutcome::WrongUser && r.username.as_deref() == Some("someone")));
    assert!(log.iter().all(|r| r.auth != AuthOutcome::Ok));

    if tool_available("curl", &["--version"]) {
        let answer = lab.curl(
            &format!("{url}/info/refs?service=git-upload-pack"),
            Some(("gitlab-ci-token", "nope")),
            &[],
        );
        assert_eq!(answer.status, 401);
        assert_eq!(answer.header("www-authenticate"), Some(access::GIT_REALM));
        assert_eq!(
            answer.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(answer.text(), body);
    }
}

#[test]
fn anonymous_requests_for_missing_and_private_projects_get_the_same_401() {
    let lab = GitLabJob::start("anonymous");
    lab.server
        .create_repo("group/private", &[("README.md", b"x\n")]);
    let no_helper = lab.other_env(|b| b.token(&lab.token).no_helper());
    for name in ["group/private", "group/missing"] {
        let out = git(
            &no_helper,
            GITS[0],
            &["ls-remote", &lab.server.repo_url(name)],
        );
        assert!(!out.success(), "{out}");
        assert!(
            out.stderr.contains("fatal: could not read Username for 'https://gitlab.test': terminal prompts disabled"),
            "{out}"
        );
    }
    if tool_available("curl", &["--version"]) {
        let answers: Vec<Fetched> = ["group/private", "group/missing"]
            .iter()
            .map(|name| {
                let url = format!(
                    "{}/info/refs?service=git-upload-pack",
                    lab.server.repo_url(name)
                );
                lab.curl(&url, None, &[])
            })
            .collect();
        for answer in &answers {
            assert_eq!(answer.status, 401);
            assert_eq!(answer.header("www-authenticate"), Some(access::GIT_REALM));
        }
        assert_eq!(
            answers[0].body, answers[1].body,
            "the 401 reveals which project exists"
        );
    }
}

#[test]
fn job_token_refusals_are_403_or_404_with_gitlabs_text_and_no_erase() {
    let lab = GitLabJob::start("refusals");
    let url = |name: &str| lab.server.repo_url(name);
    for name in ["group/denied", "group/nouser", "group/both"] {
        lab.server.create_repo(name, &[("README.md", b"x\n")]);
    }
    lab.server
        .update_project("group/denied", |p| p.allowlist.clear());
    lab.server
        .update_project("group/nouser", |p| p.triggering_user_has_access = false);
    lab.server.update_project("group/both", |p| {
        p.allowlist.clear();
        p.triggering_user_has_access = false;
    });
    let env = lab.other_env(|b| {
        b.server_url(lab.server.url())
            .token(&lab.token)
            .record_operations_after()
    });
    for g in GITS {
        let denied = "Authentication by CI/CD job token not allowed from app to denied.";
        assert_eq!(access::not_allowlisted("group/app", "group/denied"), denied);
        assert_git_refused(
            &git(&env, g, &["ls-remote", &url("group/denied")]),
            denied,
            &status_403(&url("group/denied")),
        );
        let nouser = "Insufficient permissions to pull from the repository of project nouser.";
        assert_git_refused(
            &git(&env, g, &["ls-remote", &url("group/nouser")]),
            nouser,
            &status_403(&url("group/nouser")),
        );
        // The allowlist is checked first.
        let both = access::not_allowlisted("group/app", "group/both");
        assert_git_refused(
            &git(&env, g, &["ls-remote", &url("group/both")]),
            &both,
            &status_403(&url("group/both")),
        );
        assert_git_refused(
            &git(&env, g, &["ls-remote", &url("group/missing")]),
            access::PROJECT_NOT_FOUND,
            &format!("fatal: repository '{}/' not found", url("group/missing")),
        );
    }
    let operations = env.helper_operations();
    assert!(
        !operations.iter().any(|op| op == "erase" || op == "store"),
        "{operations:?}"
    );
    let statuses: Vec<u16> = lab
        .server
        .log()
        .iter()
        .filter(|r| r.auth == AuthOutcome::Ok)
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses,
        [403, 403, 403, 404, 403, 403, 403, 404],
        "{}",
        lab.server.log_text()
    );
}

#[test]
fn pushes_are_refused_when_job_token_pushes_are_off_or_the_project_is_archived() {
    let lab = GitLabJob::start("push");
    lab.server
        .create_repo("group/lib", &[("README.md", b"x\n")]);
    let url = lab.server.repo_url("group/lib");
    let out = git(&lab.env, GITS[0], &["clone", &url, "clone"]);
    assert!(out.success(), "{out}");
    let clone = lab.env.work().join("clone");
    let push = |g: &str| {
        git(
            &lab.env,
            g,
            &[
                "-C",
                clone.to_str().unwrap(),
                "push",
                "origin",
                "HEAD:refs/heads/x",
            ],
        )
    };

    lab.server
        .update_project("group/lib", |p| p.job_token_push = false);
    for g in GITS {
        assert_git_refused(&push(g), access::PUSH_NOT_ALLOWED, &status_403(&url));
        // Pulling is still allowed.
        assert!(git(&lab.env, g, &["ls-remote", &url]).success());
    }
    lab.server.update_project("group/lib", |p| {
        p.job_token_push = true;
        p.archived = true;
    });
    assert_git_refused(&push(GITS[0]), access::ARCHIVED, &status_403(&url));
    lab.server
        .update_project("group/lib", |p| p.archived = false);
    assert!(push(GITS[0]).success());
}

#[test]
fn git_over_http_switched_off_is_a_403_before_the_project_is_looked_up() {
    let lab = GitLabJob::start("http_off");
    lab.server
        .create_repo("group/lib", &[("README.md", b"x\n")]);
    lab.server.set_git_http(false, true);
    for name in ["group/lib", "group/missing"] {
        let url = lab.server.repo_url(name);
        for g in GITS {
            assert_git_refused(
                &git(&lab.env, g, &["ls-remote", &url]),
                access::PULL_OVER_HTTP_DISABLED,
                &status_403(&url),
            );
        }
    }
}

#[test]
fn access_rules_follow_gitlabs_order() {
    let job = "group/app";
    let private = ProjectAccess::private_for(job);
    let public = ProjectAccess {
        visibility: Visibility::Public,
        allowlist: vec![],
        ..private.clone()
    };
    let on = GitHttp {
        pull: true,
        push: true,
    };
    let check = |access: Option<&ProjectAccess>, op, credential, http| {
        access::git_access("group/lib", access, op, credential, job, http).map_err(|d| d.status())
    };
    use Credential::*;
    use GitOperation::*;
    assert_eq!(check(Some(&public), Pull, Anonymous, on), Ok(()));
    assert_eq!(
        check(Some(&public), Pull, Rejected, on),
        Err(401),
        "bad credentials fail even where none are needed"
    );
    assert_eq!(check(Some(&public), Push, Anonymous, on), Err(401));
    assert_eq!(
        check(Some(&public), Pull, JobToken, on),
        Ok(()),
        "public projects ignore the allowlist for reads"
    );
    assert_eq!(check(Some(&public), Push, JobToken, on), Err(403));
    assert_eq!(check(Some(&private), Pull, Anonymous, on), Err(401));
    assert_eq!(check(None, Pull, Anonymous, on), Err(401));
    assert_eq!(check(None, Pull, JobToken, on), Err(404));
    assert_eq!(
        check(
            None,
            Pull,
            JobToken,
            GitHttp {
                pull: false,
                push: true
            }
        ),
        Err(403)
    );
    assert_eq!(
        check(
            Some(&private),
            Push,
            JobToken,
            GitHttp {
                pull: true,
                push: false
            }
        ),
        Err(403)
    );
    assert_eq!(check(Some(&private), Push, JobToken, on), Ok(()));

    // Allowlist entries: the project itself, listed projects, and projects under listed groups.
    let mut lib = private.clone();
    lib.allowlist = vec!["other/tools".into(), "team".into()];
    assert!(lib.admits("group/lib", "group/lib"));
    assert!(lib.admits("other/tools", "group/lib"));
    assert!(lib.admits("team/sub/app", "group/lib"));
    assert!(!lib.admits("other/tools-fork", "group/lib"));
    assert!(!lib.admits("teammate/app", "group/lib"));
    assert!(!lib.admits("group/app", "group/lib"));
}

#[test]
fn near_miss_names_and_ports_behind_the_proxy_never_see_the_token() {
    let lab = GitLabJob::start("near_miss");
    lab.server
        .create_repo("group/lib", &[("README.md", b"ours\n")]);
    let other = GitServer::builder(&lab.ca, &unique_token("other"))
        .name("other.test")
        .alias("gitlab.test.other.test")
        .start();
    other.create_repo("group/lib", &[("README.md", b"theirs\n")]);
    lab.proxy.route(&other);
    // The job's own server on another port is another origin for the helper.
    lab.proxy.map("gitlab.test:8443", lab.server.addr());

    assert!(git(
        &lab.env,
        GITS[0],
        &["ls-remote", &lab.server.repo_url("group/lib")]
    )
    .success());
    lab.server.clear_log();
    for url in [
        "https://other.test/group/lib.git",
        "https://gitlab.test.other.test/group/lib.git",
        "https://gitlab.test:8443/group/lib.git",
    ] {
        let out = git(&lab.env, GITS[0], &["ls-remote", url]);
        assert!(out.stderr.contains("terminal prompts disabled"), "{out}");
    }
    let seen: Vec<_> = other.log().into_iter().chain(lab.server.log()).collect();
    assert!(
        seen.iter()
            .all(|r| r.auth == AuthOutcome::None && r.status == 401),
        "{}\n{}",
        other.log_text(),
        lab.server.log_text()
    );
    let hosts: Vec<&str> = seen.iter().map(|r| r.host.as_str()).collect();
    assert_eq!(
        hosts,
        ["other.test", "gitlab.test.other.test", "gitlab.test:8443"]
    );
    assert_eq!(seen[0].server, "other.test");
    assert_eq!(
        lab.proxy.targets()[1..],
        [
            "other.test:443",
            "gitlab.test.other.test:443",
            "gitlab.test:8443"
        ]
    );
}

#[test]
fn proxy_refuses_unmapped_targets_and_other_requests_and_logs_them() {
    let lab = GitLabJob::start("proxy");
    for url in [
        "https://unmapped.test/group/lib.git",
        "http://gitlab.test/group/lib.git",
    ] {
        let out = git(&lab.env, GITS[0], &["ls-remote", url]);
        assert!(!out.success(), "{out}");
    }
    if tool_available("curl", &["--version"]) {
        // Neither CONNECT nor an absolute http:// target: a request for the proxy itself.
        let mut cmd = lab.env.command("curl");
        cmd.args([
            "-sS",
            "--noproxy",
            "*",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
        ])
        .arg(format!("{}/group/lib.git", lab.proxy.url()));
        assert_eq!(run_with_timeout(cmd, TIMEOUT).stdout, "405");
    }
    let log: Vec<_> = lab
        .proxy
        .log()
        .into_iter()
        .map(|r| (r.method, r.target, r.status))
        .collect();
    let expected = |m: &str, t: &str, s| (m.to_string(), t.to_string(), s);
    assert_eq!(
        log[..2],
        [
            expected("CONNECT", "unmapped.test:443", 403),
            expected("GET", "gitlab.test:80", 403)
        ]
    );
    assert_eq!(log.last(), Some(&expected("GET", "/group/lib.git", 405)));
    assert!(lab.server.log().is_empty());
}

#[test]
fn plain_http_by_the_servers_own_name_gets_no_token() {
    // Something answers http://gitlab.test (here, a server that would even accept the token).
    let lab = GitLabJob::start("plain_http_name");
    let http = GitServer::builder(&lab.ca, &lab.token)
        .name("gitlab.test")
        .http()
        .start();
    http.create_repo("group/lib", &[("README.md", b"x\n")]);
    lab.proxy.route(&http);
    assert_eq!(http.url(), "http://gitlab.test");
    let out = git(
        &lab.env,
        GITS[0],
        &["ls-remote", &http.repo_url("group/lib")],
    );
    assert!(
        out.stderr.contains(
            "could not read Username for 'http://gitlab.test': terminal prompts disabled"
        ),
        "{out}"
    );
    let log = http.log();
    assert!(!log.is_empty() && log.iter().all(|r| r.host == "gitlab.test"));
    assert!(
        log.iter().all(|r| r.auth == AuthOutcome::None),
        "{}",
        http.log_text()
    );
    assert_eq!(lab.proxy.targets(), ["gitlab.test:80"]);
}
