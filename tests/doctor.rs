//! `doctor` and the `erase` hint, against the GitLab-like test server in isolated job
//! environments. Every run's stdout and stderr are checked for the token.

mod support;

use std::fs;
use std::path::Path;
use std::time::Duration;

use support::{binary, ClientEnv, Job, Outcome, Run, RunOutput, TestCa};

/// A job environment for a running server with one repository, configured with
/// `configure --global` (store configured first, as many images do).
fn configured_job(label: &str) -> Job {
    let job = Job::with_only_helper(label, "store");
    let out = helper(&job.env, &["configure", "--global"], None);
    assert!(out.success(), "{out}");
    job
}

/// Runs the helper in `dir` (default: the work directory), checking the output rules.
fn helper(env: &ClientEnv, args: &[&str], dir: Option<&Path>) -> RunOutput {
    env.run_verb(args, dir)
}

fn problems(out: &RunOutput) -> Vec<&str> {
    out.stdout
        .lines()
        .filter(|l| l.starts_with("PROBLEM"))
        .collect()
}

#[test]
fn doctor_exits_0_on_a_healthy_setup_with_a_successful_probe() {
    let job = configured_job("doctor_healthy");
    let url = job.server.repo_url("group/project");
    let out = helper(&job.env, &["doctor", &url], None);
    assert_eq!(out.status.and_then(|s| s.code()), Some(0), "{out}");
    assert!(problems(&out).is_empty(), "{out}");
    for needle in [
        &format!("answers for {} (from CI_SERVER_URL)", job.server.url()),
        "available from the environment variable CI_JOB_TOKEN",
        "git runs only this helper",
        "cargo's libgit2 runs this helper",
        "the job token can read it, through this helper",
        "healthy",
    ] {
        assert!(out.stdout.contains(needle), "lacks {needle:?}: {out}");
    }
}

#[test]
fn doctor_explains_gitlabs_refusals_by_cause_and_names_both_projects() {
    let mut job = configured_job("doctor_refusals");
    job.env.set_var("CI_PROJECT_PATH", job.server.job_project());
    let server = &job.server;
    for name in ["group/sub/denied", "group/private"] {
        server.create_repo(name, &[("README.md", b"hello\n")]);
    }
    server.update_project("group/sub/denied", |p| p.allowlist.clear());
    server.update_project("group/private", |p| p.triggering_user_has_access = false);
    let cases = [
        (
            "group/sub/denied",
            "the job token of group/app may not access group/sub/denied (403)",
            "fix: add group/app to group/sub/denied's job token allowlist: in group/sub/denied, Settings → CI/CD → Job token permissions, add group/app",
        ),
        (
            "group/private",
            "the user who triggered the pipeline cannot read group/private (403)",
            "fix: give the user who runs the pipeline at least Reporter access to group/private",
        ),
        (
            "group/not-there",
            "the project does not exist, or is not visible to this job (404)",
            "fix: check the URL (group, project, .git)",
        ),
    ];
    for (project, cause, fix) in cases {
        let out = helper(&job.env, &["doctor", &server.repo_url(project)], None);
        assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
        let found = problems(&out);
        assert_eq!(found.len(), 1, "{out}");
        assert!(found[0].contains(cause), "{project}: {out}");
        assert!(out.stdout.contains(fix), "{project}: {out}");
    }
}

#[test]
fn doctor_push_probe_explains_that_job_token_pushes_are_off() {
    let job = configured_job("doctor_push");
    job.server
        .create_repo("group/locked", &[("README.md", b"hello\n")]);
    job.server
        .update_project("group/locked", |p| p.job_token_push = false);
    let url = job.server.repo_url("group/locked");
    let out = helper(&job.env, &["doctor", "--push", &url], None);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
    let found = problems(&out);
    assert_eq!(found.len(), 1, "{out}");
    assert!(found[0].contains("git push --dry-run"), "{out}");
    assert!(
        found[0].contains("does not allow pushes with a job token (403)"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("turn on \"Allow Git push requests to the repository\""),
        "{out}"
    );
    assert!(out.stdout.contains("the job token can read it"), "{out}");
    // Nothing was sent: only the receive-pack discovery, which is where GitLab says no.
    let pushes: Vec<_> = job
        .server
        .log()
        .into_iter()
        .filter(|r| r.query.contains("git-receive-pack") || r.path.ends_with("git-receive-pack"))
        .collect();
    assert!(
        pushes.iter().all(|r| r.method == "GET"),
        "{}",
        job.server.log_text()
    );

    job.server
        .update_project("group/locked", |p| p.job_token_push = true);
    let out = helper(&job.env, &["doctor", "--push", &url], None);
    assert_eq!(out.status.and_then(|s| s.code()), Some(0), "{out}");
    assert!(out.stdout.contains("the job token may push to it"), "{out}");
}

#[test]
fn doctor_explains_a_rejected_token_and_erase_says_so_on_one_line() {
    let mut job = configured_job("doctor_401");
    job.env
        .set_var("CI_JOB_TOKEN", "glcbt-64_expired_0000000000000000");
    let url = job.server.repo_url("group/project");
    let out = helper(&job.env, &["doctor", &url], None);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
    assert!(out.stdout.contains("rejected the job token (401)"), "{out}");

    // git itself: after the 401 it sends erase, and the helper says what happened.
    let out = job
        .env
        .run_unchecked(job.env.git(["ls-remote", &url]), Duration::from_secs(30));
    assert!(!out.success(), "{out}");
    let ours = out.helper_lines();
    assert_eq!(ours.len(), 1, "{out}");
    assert!(ours[0].contains("rejected the job token"), "{out}");
    assert!(ours[0].contains("git-credential-gitlab-ci doctor"), "{out}");
    assert!(!ours[0].contains('='), "{out}");
    assert!(!out.stderr.contains("expired_0000"), "{out}");
}

#[test]
fn doctor_reports_a_missing_token() {
    let mut job = configured_job("doctor_no_token");
    job.env.remove_var("CI_JOB_TOKEN");
    let out = helper(&job.env, &["doctor"], None);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
    let found = problems(&out);
    assert_eq!(found.len(), 1, "{out}");
    assert!(found[0].contains("CI_JOB_TOKEN is not set"), "{out}");
}

#[test]
fn doctor_explains_cargos_http_trap_from_variables_and_config_tables() {
    let mut job = configured_job("doctor_cargo_http");
    job.env.set_var("CARGO_HTTP_TIMEOUT", "30");
    let out = helper(&job.env, &["doctor"], None);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
    assert!(out.stdout.contains("CARGO_HTTP_TIMEOUT"), "{out}");
    assert!(
        out.stdout.contains("CARGO_NET_GIT_FETCH_WITH_CLI=true"),
        "{out}"
    );

    job.env.remove_var("CARGO_HTTP_TIMEOUT");
    let app = job.env.work().join("app/.cargo");
    fs::create_dir_all(&app).unwrap();
    fs::write(app.join("config.toml"), "[http]\ncainfo = \"/ca.pem\"\n").unwrap();
    let out = helper(&job.env, &["doctor"], Some(app.parent().unwrap()));
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
    assert!(out.stdout.contains("[http] table in"), "{out}");

    // The advice works: with git's CLI, the [http] table no longer matters.
    job.env.set_var("CARGO_NET_GIT_FETCH_WITH_CLI", "true");
    let out = helper(&job.env, &["doctor"], Some(app.parent().unwrap()));
    assert_eq!(out.status.and_then(|s| s.code()), Some(0), "{out}");
}

#[test]
fn doctor_reports_a_store_helper_that_would_receive_the_token() {
    // The README's one-liner, after an image's credential.helper=store: git hands the token to
    // store after every success.
    let Job {
        server: _server,
        env,
        ..
    } = Job::with_only_helper("doctor_store", "store");
    let ours = binary::path();
    env.run(
        env.git(["config", "--global", "--add", "credential.helper"])
            .arg(&ours),
    );
    let out = helper(&env, &["doctor"], None);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
    let found = problems(&out);
    assert_eq!(found.len(), 1, "{out}");
    assert!(found[0].contains("'store'"), "{out}");
    assert!(found[0].contains("would be given the job token"), "{out}");
}

#[test]
fn doctor_sees_that_libgit2_ignores_git_config_global() {
    let Job {
        server: _server,
        mut env,
        ..
    } = Job::start_with("doctor_runner", |env| env.no_helper());
    let runner = env.home().join("runner.gitconfig");
    let ours = binary::path();
    fs::write(
        &runner,
        format!("[credential]\n\thelper = {}\n", ours.display()),
    )
    .unwrap();
    env.set_var("GIT_CONFIG_GLOBAL", &runner);
    let out = helper(&env, &["doctor"], None);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
    let found = problems(&out);
    assert_eq!(found.len(), 1, "{out}");
    assert!(found[0].contains("cargo's libgit2"), "{out}");
    assert!(found[0].contains("GIT_CONFIG_GLOBAL"), "{out}");
    // configure --global fixes it.
    assert!(helper(&env, &["configure", "--global"], None).success());
    let out = helper(&env, &["doctor"], None);
    assert_eq!(out.status.and_then(|s| s.code()), Some(0), "{out}");
}

#[test]
fn doctor_plans_ssh_submodule_urls_as_problems_until_rewrite_ssh() {
    let job = configured_job("doctor_submodules");
    job.server
        .create_repo("group/lib", &[("README.md", b"hello\n")]);
    let repo = job.env.work().join("repo");
    fs::create_dir_all(&repo).unwrap();
    let mut cmd = job.env.git(["init", "--quiet"]);
    cmd.current_dir(&repo);
    job.env.run(cmd);
    fs::write(
        repo.join(".gitmodules"),
        "[submodule \"lib\"]\n\tpath = lib\n\turl = git@localhost:group/lib.git\n\
         [submodule \"ext\"]\n\tpath = ext\n\turl = git@github.com:someone/ext.git\n",
    )
    .unwrap();
    let out = helper(&job.env, &["doctor"], Some(&repo));
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
    assert!(problems(&out).is_empty(), "the setup is fine: {out}");
    let lines = plan_lines(&out);
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("  PROBLEM   git@localhost:group/lib.git: fetched over SSH"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("  not ours  git@github.com:someone/ext.git"),
        "{out}"
    );
    assert!(out.stdout.contains("--rewrite-ssh"), "{out}");

    assert!(helper(&job.env, &["configure", "--global", "--rewrite-ssh"], None).success());
    let out = helper(&job.env, &["doctor"], Some(&repo));
    assert_eq!(out.status.and_then(|s| s.code()), Some(0), "{out}");
    let lines = plan_lines(&out);
    let rewritten = format!(
        "  ok        git@localhost:group/lib.git (probed as {}/group/lib.git): the job token can read it",
        job.server.url()
    );
    assert!(lines[0].starts_with(&rewritten), "{out}");
}

/// The plan's dependency lines.
fn plan_lines(out: &RunOutput) -> Vec<&str> {
    out.stdout
        .lines()
        .filter(|l| {
            ["  PROBLEM ", "  ok ", "  not ours ", "  note "]
                .iter()
                .any(|s| l.starts_with(s))
        })
        .collect()
}

#[test]
fn doctor_without_any_server_says_the_helper_answers_nothing() {
    let ca = TestCa::new();
    let env = ClientEnv::builder(&ca)
        .token(support::unique_token("doctor_no_server"))
        .build();
    let out = helper(&env, &["doctor"], None);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
    assert!(out.stdout.contains("no GitLab server is known"), "{out}");
}

#[test]
fn erase_hint_is_only_for_a_server_the_helper_answers() {
    let erase = |input: &str| {
        Run::new(&["erase"])
            .stdin(input.as_bytes())
            .env("CI_SERVER_URL", "https://gitlab.example.com")
            .env("CI_JOB_TOKEN", "glcbt-64_erase_0123456789")
            .expect(Outcome::Nothing)
    };
    let ours = erase("protocol=https\nhost=gitlab.example.com\nusername=gitlab-ci-token\npassword=glcbt-64_erase_0123456789\n");
    assert_eq!(ours.stderr_text().lines().count(), 1);
    assert!(ours.stderr_text().contains("doctor"));
    for other in [
        "protocol=https\nhost=evil.example\nusername=gitlab-ci-token\npassword=x\n",
        "protocol=http\nhost=gitlab.example.com\npassword=x\n",
        "protocol=https\nhost=gitlab.example.com\nusername=alice\npassword=x\n",
        "protocol=https\nhost=gitlab.example.com\nhost=gitlab.example.com\n",
    ] {
        assert!(erase(other).stderr.is_empty(), "{other}");
    }
}

#[test]
fn doctor_help_lists_every_check_and_the_probe_outcomes() {
    let out = Run::new(&["doctor", "--help"]).output();
    assert_eq!(out.code, Some(0));
    let help = out.stdout_text();
    for needle in [
        "PROBE_URL",
        "servers",
        "token",
        "store",
        "libgit2",
        "CARGO_HTTP_",
        "HTTP_TIMEOUT",
        "[http]",
        ".gitmodules",
        "401",
        "404",
        "Job token permissions",
        "troubleshooting",
    ] {
        assert!(help.contains(needle), "doctor --help lacks {needle:?}");
    }
}

#[test]
fn doctor_probe_explains_tls_failures_and_hung_servers() {
    let mut job = configured_job("doctor_tls");
    // A CA bundle that does not hold the test CA: the server's certificate is untrusted.
    let other = TestCa::new();
    job.env.set_var("GIT_SSL_CAINFO", other.ca_cert_path());
    let url = job.server.repo_url("group/project");
    let out = helper(&job.env, &["doctor", &url], None);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
    assert!(out.stdout.contains("TLS failed"), "{out}");

    // A server that accepts connections and never answers: the probe is cut at --timeout. The
    // listener stays bound (held by the thread) for as long as the test runs, and the URL names
    // its address, not `localhost` (which may resolve to ::1, where it does not listen).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let hung = format!("https://{addr}/group/x.git");
    // Without the --timeout, git would wait for the server forever: run_verb kills it at its
    // hang guard and the exit status below is then missing.
    let out = helper(&job.env, &["doctor", "--timeout", "2", &hung], None);
    assert!(!out.timed_out(), "doctor ignored --timeout: {out}");
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
    assert!(out.stdout.contains("did not finish in time"), "{out}");
}

#[test]
fn doctor_options_that_do_not_go_together_are_usage_errors() {
    for args in [
        &["doctor", "--push"][..],
        &["doctor", "--deps", "https://gitlab.example.com/g/x.git"],
        &["doctor", "--format", "yaml"],
    ] {
        let out = Run::new(args).output();
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr_text());
        out.assert_stderr_rules();
    }
}
