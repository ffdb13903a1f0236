//! Real `go` (≥ 1.24) against the GitLab-faithful server named `gitlab.test` (reached through the
//! CONNECT proxy of `tests/support`, since module paths carry no port), with `GOPROXY=direct`: Go
//! asks the go-get middleware where a module lives, then fetches it with the git CLI, which asks
//! our helper as `credential.helper`.
//!
//! - a module whose path names its repository (`gitlab.test/group/lib.git`) skips the go-get
//!   request and is fetched by git through the helper alone;
//! - a private module at `gitlab.test/group/two` is found by go-get and fetched by git through
//!   the helper, with `GOAUTH=git`;
//! - a private module in a **nested subgroup** (`gitlab.test/group/sub/proj`): GitLab's go-get
//!   middleware answers an anonymous request with the truncated path `gitlab.test/group/sub`
//!   (200, never 401), so with `GOAUTH=git` Go never asks for credentials and fails — the
//!   control; with `GOAUTH='<helper> goauth'` Go sends the job token before its first request,
//!   gets the full path, and the fetch succeeds;
//! - the nested module imports a public module of **another server** (`other.test`, a decoy
//!   that would accept the job token): its go-get and git requests carry no token; a go-get there
//!   that answers 404 makes Go run the helper again with that URL, and still nothing is sent;
//! - a wrong token fails under a generous time limit (a hang is a failure; speed is never
//!   asserted); the token is in no file under `HOME` (`GOPATH`, `GOMODCACHE`, `GOCACHE`,
//!   `TMPDIR` are there).

mod support;

use std::fs;
use std::path::Path;
use std::time::Duration;

use support::auth_log::*;
use support::clients::{go_env, goauth_command};
use support::gitlab_job::{tool_available, GitLabJob};
use support::*;

/// Hang guard for go commands, which also run git.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The module hosts, for `GOPRIVATE`.
const PRIVATE: &str = "gitlab.test,other.test";

fn go(env: &ClientEnv, dir: &Path, args: &[&str]) -> RunOutput {
    let mut cmd = env.command("go");
    cmd.current_dir(dir).args(args);
    env.run_unchecked(cmd, TIMEOUT)
}

/// `example.test/app`, importing `import_path` and printing its `Answer`.
fn app(env: &ClientEnv, name: &str, import_path: &str) -> std::path::PathBuf {
    let dir = env.work().join(name);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("go.mod"), "module example.test/app\n\ngo 1.21\n").unwrap();
    fs::write(
        dir.join("main.go"),
        format!(
            "package main\n\nimport (\n\t\"fmt\"\n\n\tdep \"{import_path}\"\n)\n\n\
             func main() {{ fmt.Println(dep.Answer) }}\n"
        ),
    )
    .unwrap();
    dir
}

fn module_files(path: &str, package: &str, body: &str) -> Vec<(String, Vec<u8>)> {
    vec![
        (
            "go.mod".into(),
            format!("module {path}\n\ngo 1.21\n").into_bytes(),
        ),
        (
            format!("{package}.go"),
            format!("package {package}\n\n{body}\n").into_bytes(),
        ),
    ]
}

fn create_module(server: &GitServer, project: &str, files: &[(String, Vec<u8>)]) {
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(name, data)| (name.as_str(), data.as_slice()))
        .collect();
    server.create_repo(project, &files);
}

#[test]
fn go_fetches_a_module_named_by_its_git_path_through_the_git_helper_with_proactive_auth() {
    if !tool_available("go", &["version"]) {
        return;
    }
    let mut lab = GitLabJob::start("go_git_path");
    go_env(&mut lab.env, PRIVATE, "off");
    let other = lab.decoy(&["other.test"]);
    create_module(
        &lab.server,
        "group/lib",
        &module_files("gitlab.test/group/lib.git", "lib", "const Answer = 42"),
    );
    create_module(
        &other,
        "group/lib",
        &module_files("other.test/group/lib.git", "lib", "const Answer = 0"),
    );
    eprintln!(
        "testing {}",
        go(&lab.env, lab.env.work(), &["version"]).stdout.trim()
    );

    // Go drops `.git` from the repository URL. GitLab authenticates `/group/lib/info/refs`
    // before it redirects to `/group/lib.git/info/refs`, and git moves the rest of the fetch
    // to the redirect's target only when the redirect answered its first request — not the
    // retry after a 401. So without credentials up front the next request misses.
    let dir = app(&lab.env, "app", "gitlab.test/group/lib.git");
    let out = go(&lab.env, &dir, &["mod", "tidy"]);
    out.assert_failed_without_hanging();
    assert!(
        lab.server
            .log()
            .iter()
            .any(|r| r.path == "/group/lib/git-upload-pack" && r.status == 404),
        "{}",
        lab.server.log_text()
    );

    // git 2.46+ asks the helper before the first request with http.proactiveAuth.
    lab.env.run(
        lab.env
            .git(["config", "--global", "http.proactiveAuth", "basic"]),
    );
    lab.server.clear_log();
    let out = go(&lab.env, &dir, &["mod", "tidy"]);
    assert!(out.success(), "{out}\n{}", lab.server.log_text());
    let out = go(&lab.env, &dir, &["run", "."]);
    assert_eq!(out.stdout.trim(), "42", "{out}");
    // No go-get request for the module itself: the path names the repository.
    assert!(
        !lab.server
            .log()
            .iter()
            .any(|r| r.path.starts_with("/group/lib") && r.query.contains("go-get")),
        "{}",
        lab.server.log_text()
    );
    assert_served_with_the_job_token(
        &lab.server,
        &[
            ("GET", "/group/lib.git/info/refs?service=git-upload-pack"),
            ("POST", "/group/lib.git/git-upload-pack"),
        ],
    );
    assert!(
        lab.server
            .log()
            .iter()
            .any(|r| r.path == "/group/lib/info/refs"
                && r.status == 302
                && r.auth == AuthOutcome::Ok),
        "the first request was not the authenticated redirect:\n{}",
        lab.server.log_text()
    );

    // The same on the other server, where the project is private: nothing is sent there.
    let dir = app(&lab.env, "app-other", "other.test/group/lib.git");
    go(&lab.env, &dir, &["mod", "tidy"]).assert_failed_without_hanging();
    assert_no_credentials_offered(&other);

    let mut wrong = lab.wrong_token_env();
    go_env(&mut wrong, PRIVATE, "off");
    wrong.run(wrong.git(["config", "--global", "http.proactiveAuth", "basic"]));
    lab.server.clear_log();
    let dir = app(&wrong, "app", "gitlab.test/group/lib.git");
    go(&wrong, &dir, &["mod", "tidy"]).assert_failed_without_hanging();
    assert_wrong_token_refused(&lab.server);

    lab.env.assert_token_not_on_disk(&[]);
    wrong.assert_token_not_on_disk(&[]);
}

#[test]
fn go_fetches_a_nested_subgroup_module_only_with_goauth_and_sends_no_token_elsewhere() {
    if !tool_available("go", &["version"]) {
        return;
    }
    let mut lab = GitLabJob::start("go_nested");
    go_env(&mut lab.env, PRIVATE, &goauth_command());
    let other = lab.decoy(&["other.test"]);
    create_module(
        &other,
        "group/pub",
        &module_files("other.test/group/pub", "pub", "const Name = \"public\""),
    );
    other.update_project("group/pub", |p| p.visibility = Visibility::Public);
    other.create_empty_repo("group/empty");
    other.update_project("group/empty", |p| p.visibility = Visibility::Public);
    create_module(
        &lab.server,
        "group/sub/proj",
        &module_files(
            "gitlab.test/group/sub/proj",
            "proj",
            "import pub \"other.test/group/pub\"\n\nconst Answer = \"nested and \" + pub.Name",
        ),
    );

    // GOAUTH=git asks git's helpers only after a 4xx, and go-get sends none. For a private
    // project at `group/two` that is enough: the anonymous go-get answer for two segments is the
    // full path, and git fetches it through the helper.
    let mut control = lab.other_env(|b| b.server_url(lab.server.url()).token(&lab.token));
    let gitauth = format!("git {}", control.work().display());
    go_env(&mut control, PRIVATE, &gitauth);
    create_module(
        &lab.server,
        "group/two",
        &module_files("gitlab.test/group/two", "two", "const Answer = 2"),
    );
    let dir = app(&control, "app-two", "gitlab.test/group/two");
    let out = go(&control, &dir, &["mod", "tidy"]);
    assert!(out.success(), "{out}");
    assert_served_with_the_job_token(&lab.server, &[("POST", "/group/two.git/git-upload-pack")]);

    // The control: for the nested module the same fails on the truncated path.
    lab.server.clear_log();
    let dir = app(&control, "app", "gitlab.test/group/sub/proj");
    let out = go(&control, &dir, &["mod", "tidy"]);
    out.assert_failed_without_hanging();
    assert!(
        out.stderr.contains("gitlab.test/group/sub.git"),
        "Go did not follow the truncated go-import tag: {out}"
    );
    // The module's go-get was answered without credentials (GOAUTH=git only answers a 4xx,
    // such as Go's probes of `/` and `/group`), and its repository was never asked for.
    let log = lab.server.log();
    let go_get: Vec<_> = log
        .iter()
        .filter(|r| r.path == "/group/sub/proj" && r.query.contains("go-get=1"))
        .collect();
    assert!(
        !go_get.is_empty()
            && go_get
                .iter()
                .all(|r| r.status == 200 && r.auth == AuthOutcome::None),
        "{}",
        lab.server.log_text()
    );
    assert!(
        !log.iter()
            .any(|r| r.path.starts_with("/group/sub/proj.git")),
        "{}",
        lab.server.log_text()
    );
    control.assert_token_not_on_disk(&[]);

    // With the goauth mode: the token goes with the first request, GitLab names the project.
    lab.server.clear_log();
    let dir = app(&lab.env, "app", "gitlab.test/group/sub/proj");
    let out = go(&lab.env, &dir, &["mod", "tidy"]);
    assert!(out.success(), "{out}");
    let out = go(&lab.env, &dir, &["run", "."]);
    assert_eq!(out.stdout.trim(), "nested and public", "{out}");
    assert_served_with_the_job_token(
        &lab.server,
        &[
            ("GET", "/group/sub/proj?go-get=1"),
            ("POST", "/group/sub/proj.git/git-upload-pack"),
        ],
    );
    // The public module of the other server: found and fetched, never with the token.
    assert!(
        other.log().iter().any(|r| r.query.contains("go-get=1")),
        "{}",
        other.log_text()
    );
    assert_no_credentials_offered(&other);

    // A 4xx from the other server makes Go run the helper again with that URL: still nothing.
    other.clear_log();
    let out = go(
        &lab.env,
        lab.env.work(),
        &["mod", "download", "-x", "other.test/group/empty@latest"],
    );
    out.assert_failed_without_hanging();
    let go_get: Vec<_> = other
        .log()
        .into_iter()
        .filter(|r| r.query.contains("go-get"))
        .collect();
    assert!(
        go_get.len() >= 2 && go_get.iter().all(|r| r.status == 404),
        "Go did not retry after the 404:\n{}",
        other.log_text()
    );
    assert_no_credentials_offered(&other);

    // A wrong token: GitLab takes it for no credentials (truncated path), git gets a 401.
    let mut wrong = lab.wrong_token_env();
    go_env(&mut wrong, PRIVATE, &goauth_command());
    lab.server.clear_log();
    let dir = app(&wrong, "app", "gitlab.test/group/sub/proj");
    go(&wrong, &dir, &["mod", "tidy"]).assert_failed_without_hanging();
    assert_wrong_token_refused(&lab.server);

    lab.env.assert_token_not_on_disk(&[]);
    wrong.assert_token_not_on_disk(&[]);
}

#[test]
fn go_shows_the_helpers_line_under_go_x_when_the_token_is_missing() {
    if !tool_available("go", &["version"]) {
        return;
    }
    let lab = GitLabJob::start("go_no_token");
    let mut env = lab.other_env(|b| b.server_url(lab.server.url()));
    go_env(&mut env, PRIVATE, &goauth_command());
    // A public project without commits answers go-get with 404: Go runs GOAUTH again with the
    // URL, the helper fails (a set is due, the token is missing), and Go logs its one line
    // under -x only.
    lab.server.create_empty_repo("group/empty");
    lab.server
        .update_project("group/empty", |p| p.visibility = Visibility::Public);
    let out = go(
        &env,
        env.work(),
        &["mod", "download", "-x", "gitlab.test/group/empty@latest"],
    );
    out.assert_failed_without_hanging();
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains(support::PREFIX))
        .unwrap_or_else(|| panic!("go -x did not show the helper's line: {out}"));
    assert!(line.contains("CI_JOB_TOKEN is not set"), "{line}");
    assert!(out.stderr.contains("GOAUTH encountered errors"), "{out}");
}
