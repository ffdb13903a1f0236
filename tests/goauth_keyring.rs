//! The goauth and keyring modes, black-box: `git-credential-gitlab-ci [options] goauth [URL]`,
//! `git-credential-gitlab-ci keyring …` and the same binary invoked as `keyring` through a link,
//! as pip and uv run it. Every run has an empty environment apart from what the test sets, and
//! is checked against the stderr rules (prefixed, one line, no `=`, never the token). The near
//! misses of all three protocols are in `tests/near_miss_origins.rs`.

mod support;

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use support::binary::{self, Output};
use support::near_miss::{SAME_ORIGIN, SERVER};
use support::Run;

const TOKEN: &str = "glcbt-64_GoKeyring_0123456789abcdef";

/// base64 of `gitlab-ci-token:` + TOKEN, computed independently of the helper's encoder.
fn basic() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("gitlab-ci-token:{TOKEN}"))
}

fn credential_set(origin: &str) -> String {
    format!("{origin}/\n\nAuthorization: Basic {}\n\n", basic())
}

/// A run in a job of [`SERVER`] with [`TOKEN`]; `words` are the mode and what follows it.
fn job(words: &[&str]) -> Run {
    Run::new(words)
        .env("CI_SERVER_URL", SERVER)
        .env("CI_JOB_TOKEN", TOKEN)
}

fn goauth(url: Option<&str>) -> Run {
    let run = job(&["goauth"]);
    match url {
        Some(url) => run.then(url),
        None => run,
    }
}

fn keyring(words: &[&str]) -> Run {
    let mut all = vec!["keyring"];
    all.extend_from_slice(words);
    job(&all)
}

/// The helper under test under the name pip and uv run: `DIR/keyring`. (A `HELPER_UNDER_TEST`
/// wrapper passes the name on: `.ci/run`'s runs the aarch64 build as `qemu -0 "$0"`.)
fn keyring_link(dir: &Path) -> PathBuf {
    let link = dir.join("keyring");
    std::os::unix::fs::symlink(binary::path(), &link).unwrap();
    link
}

/// Runs and checks the rules every run obeys; on failure, the token is not on stdout either.
#[track_caller]
fn run(run: Run) -> Output {
    let out = run.output();
    out.assert_stderr_rules();
    if out.code != Some(0) {
        assert!(!out.stdout_text().contains(TOKEN), "token with a failure");
    }
    out
}

#[track_caller]
fn assert_prints(out: &Output, stdout: &str, code: i32) {
    assert_eq!(out.stdout_text(), stdout, "stderr: {}", out.stderr_text());
    assert_eq!(out.code, Some(code), "stderr: {}", out.stderr_text());
}

/// Nothing printed, exit 1, and one stderr line that names `what`.
#[track_caller]
fn assert_one_line_naming(out: &Output, what: &str) {
    assert_prints(out, "", 1);
    let stderr = out.stderr_text();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(what), "{stderr}");
}

#[test]
fn goauth_without_a_url_prints_one_set_per_https_server() {
    let out = run(goauth(None));
    assert_prints(&out, &credential_set(SERVER), 0);
    assert_eq!(out.stderr_text(), "");

    // Options first, as in GOAUTH='helper --server … goauth'; the http server gets no set.
    let out = run(job(&["goauth"])
        .arg("--server")
        .arg("https://gitlab.example.com:8443")
        .arg("--server")
        .arg("http://gitlab.internal")
        .arg("--server")
        .arg("https://[::1]:9443"));
    let all = [
        credential_set(SERVER),
        credential_set("https://gitlab.example.com:8443"),
        credential_set("https://[::1]:9443"),
    ]
    .concat();
    assert_prints(&out, &all, 0);

    // A relative root is not part of the origin.
    let out = run(goauth(None).env("CI_SERVER_URL", "https://gitlab.example.com/gitlab"));
    assert_prints(&out, &credential_set(SERVER), 0);
}

#[test]
fn goauth_with_nothing_configured_says_nothing_and_succeeds() {
    assert_prints(&run(goauth(None).env_remove("CI_SERVER_URL")), "", 0);
    let http_only = goauth(None).env("CI_SERVER_URL", "http://gitlab.internal");
    assert_prints(&run(http_only), "", 0);
    // Not an error: no token is needed when nothing would be printed.
    let nothing = goauth(None)
        .env_remove("CI_SERVER_URL")
        .env_remove("CI_JOB_TOKEN");
    assert_prints(&run(nothing), "", 0);
}

#[test]
fn goauth_with_a_url_answers_exactly_the_servers_origin() {
    let response = b"HTTP/1.1 401 Unauthorized\nWww-Authenticate: Basic realm=\"GitLab\"\n\n";
    for url in SAME_ORIGIN {
        let out = run(goauth(Some(url)).stdin(response));
        assert_prints(&out, &credential_set(SERVER), 0);
    }
    // Never for http, even for a server written http://.
    let out = run(goauth(Some("http://gitlab.internal/x"))
        .env("CI_SERVER_URL", "http://gitlab.internal")
        .stdin(response));
    assert_prints(&out, "", 0);
}

#[test]
fn goauth_reads_a_bounded_response_and_does_not_wait_for_more() {
    // A response far larger than any HTTP head, with no blank line: read up to the bound.
    let huge = vec![b'x'; 8 * 1024 * 1024];
    let out = run(goauth(Some("https://gitlab.example.com/x")).stdin(&huge));
    assert_prints(&out, &credential_set(SERVER), 0);
    // No stdin at all (Go's first run).
    let out = run(goauth(Some("https://gitlab.example.com/x")));
    assert_prints(&out, &credential_set(SERVER), 0);
}

#[test]
fn goauth_with_a_broken_token_is_one_line_and_exit_1() {
    for run_ in [
        goauth(None).env_remove("CI_JOB_TOKEN"),
        goauth(None).env("CI_JOB_TOKEN", ""),
        goauth(None).env("CI_JOB_TOKEN", "glcbt-64_line\nbreak"),
        goauth(None)
            .arg("--token-file")
            .arg("/nonexistent/ci_job_token"),
    ] {
        assert_one_line_naming(&run(run_), "https://gitlab.example.com");
    }
    // The same with a URL for another origin is not an error: nothing was due.
    let other = goauth(Some("https://other.example/")).env_remove("CI_JOB_TOKEN");
    assert_prints(&run(other), "", 0);
    // A user name Basic auth cannot carry, and one that is not a line.
    for name in ["a:b", ""] {
        let out = run(goauth(None).arg("--username").arg(name));
        assert_prints(&out, "", 1);
        assert!(
            out.stderr_text().contains("--username"),
            "{}",
            out.stderr_text()
        );
    }
}

#[test]
fn goauth_non_utf8_and_extra_arguments_get_nothing() {
    let non_utf8 = job(&["goauth"]).then(std::ffi::OsStr::from_bytes(
        b"https://gitlab.example.com/\xff",
    ));
    assert_prints(&run(non_utf8), "", 0);
    let two_urls = goauth(Some("https://gitlab.example.com/")).then("https://gitlab.example.com/");
    let out = run(two_urls);
    assert_prints(&out, "", 2);
    assert_eq!(out.stderr_text().lines().count(), 1);
}

#[test]
fn keyring_get_answers_pip_23_pip_26_and_uv_forms() {
    let dir = tempfile::tempdir().unwrap();
    let link = keyring_link(dir.path());
    let index = "https://gitlab.example.com/api/v4/projects/42/packages/pypi/simple";
    let with_slash = format!("{index}/");
    // pip 23.2 and uv: `keyring get SERVICE USER` -> the password line.
    for service in [with_slash.as_str(), index, "https://gitlab.example.com"] {
        for run_ in [
            keyring(&["get", service, "gitlab-ci-token"]),
            job(&["get", service, "gitlab-ci-token"]).program(&link),
        ] {
            let out = run(run_);
            assert_prints(&out, &format!("{TOKEN}\n"), 0);
            assert_eq!(out.stderr_text(), "");
        }
    }
    // pip 26: `keyring --mode=creds --output=json get SERVICE USER` -> JSON.
    let pip26 = [
        "--mode=creds",
        "--output=json",
        "get",
        &with_slash,
        "gitlab-ci-token",
    ];
    let out = run(job(&pip26).program(&link));
    assert_eq!(out.code, Some(0), "{}", out.stderr_text());
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"username": "gitlab-ci-token", "password": TOKEN})
    );
    // keyring's other spellings and forms.
    let creds = job(&["--mode", "creds", "get", index, "gitlab-ci-token"]).program(&link);
    assert_prints(&run(creds), &format!("gitlab-ci-token\n{TOKEN}\n"), 0);
    let json = job(&["--output", "json", "get", index, "gitlab-ci-token"]).program(&link);
    assert_prints(&run(json), &format!("{{\"password\": \"{TOKEN}\"}}\n"), 0);
    // Our options work through the link too.
    let http = job(&[
        "get",
        "http://gitlab.internal:8080/simple/",
        "gitlab-ci-token",
    ])
    .arg("--server")
    .arg("http://gitlab.internal:8080")
    .program(&link);
    assert_prints(&run(http), &format!("{TOKEN}\n"), 0);
}

#[test]
fn keyring_get_without_a_match_prints_nothing_and_exits_1() {
    let index = "https://gitlab.example.com/simple/";
    for (what, words) in [
        (
            "no user (pip 26 without one in the URL)",
            &["--mode=creds", "--output=json", "get", index][..],
        ),
        ("another user", &["get", index, "alice"]),
        ("upper-case user", &["get", index, "GITLAB-CI-TOKEN"]),
        ("user with a space", &["get", index, "gitlab-ci-token "]),
        ("no service", &["get"]),
    ] {
        let out = run(keyring(words));
        assert_prints(&out, "", 1);
        assert_eq!(out.stderr_text(), "", "{what}");
    }
    // An http server's origin is answered over http only; a bare host is no origin.
    for service in ["https://gitlab.internal/simple/", "gitlab.internal"] {
        let out = run(keyring(&["get", service, "gitlab-ci-token"])
            .env("CI_SERVER_URL", "http://gitlab.internal"));
        assert_prints(&out, "", 1);
    }
    // No server configured: nothing for anyone.
    let none = keyring(&["get", index, "gitlab-ci-token"]).env_remove("CI_SERVER_URL");
    assert_prints(&run(none), "", 1);
    // Non-UTF-8 service or user.
    let service = keyring(&["get"])
        .then(std::ffi::OsStr::from_bytes(
            b"https://gitlab.example.com/\xff",
        ))
        .then("gitlab-ci-token");
    assert_prints(&run(service), "", 1);
    let user = keyring(&["get", index]).then(std::ffi::OsStr::from_bytes(b"gitlab-ci-token\xff"));
    assert_prints(&run(user), "", 1);
}

#[test]
fn keyring_refuses_ambiguous_command_lines() {
    let index = "https://gitlab.example.com/simple/";
    for words in [
        &[
            "--mode=creds",
            "--mode=password",
            "get",
            index,
            "gitlab-ci-token",
        ][..],
        &["--mode=secret", "get", index, "gitlab-ci-token"],
        &["--output=yaml", "get", index, "gitlab-ci-token"],
        &["get", index, "gitlab-ci-token", "extra"],
        &["diagnose"],
        &["fetch", index, "gitlab-ci-token"],
    ] {
        let out = run(keyring(words));
        assert_prints(&out, "", 2);
        assert_eq!(
            out.stderr_text().lines().count(),
            1,
            "{}",
            out.stderr_text()
        );
    }
}

#[test]
fn keyring_broken_token_is_one_line_exit_1_and_set_del_store_nothing() {
    let index = "https://gitlab.example.com/simple/";
    let out = run(keyring(&["get", index, "gitlab-ci-token"]).env_remove("CI_JOB_TOKEN"));
    assert_one_line_naming(&out, "CI_JOB_TOKEN");

    let home = tempfile::tempdir().unwrap();
    for words in [
        ["set", index, "gitlab-ci-token"],
        ["del", index, "gitlab-ci-token"],
    ] {
        let out = run(keyring(&words)
            .env("HOME", home.path())
            .stdin(format!("{TOKEN}\n").as_bytes()));
        assert_prints(&out, "", 0);
    }
    assert_eq!(
        std::fs::read_dir(home.path()).unwrap().count(),
        0,
        "set or del wrote into HOME"
    );
}

#[test]
fn debug_output_explains_without_the_token() {
    let debug = "GIT_CREDENTIAL_GITLAB_CI_DEBUG";
    let out = run(goauth(Some("https://evil.example/")).env(debug, "1"));
    assert_prints(&out, "", 0);
    assert!(
        out.stderr_text().contains("declined"),
        "{}",
        out.stderr_text()
    );
    let out = run(goauth(None).env(debug, "1"));
    assert_prints(&out, &credential_set(SERVER), 0);
    assert!(out
        .stderr_text()
        .contains("Authorization for https://gitlab.example.com/"));
    let out = run(keyring(&["get", "gitlab.example.com", "gitlab-ci-token"]).env(debug, "1"));
    assert_prints(&out, "", 1);
    assert!(
        out.stderr_text().contains("not found"),
        "{}",
        out.stderr_text()
    );
}

#[test]
fn help_lists_the_goauth_and_keyring_modes() {
    let out = run(Run::new(&["--help"]).env("CI_JOB_TOKEN", TOKEN));
    assert_eq!(out.code, Some(0));
    for needle in ["goauth", "GOAUTH", "keyring", "docker"] {
        assert!(out.stdout_text().contains(needle), "--help lacks {needle}");
    }
    let out = run(Run::new(&["goauth", "--help"]));
    assert!(out.stdout_text().contains("Authorization: Basic"));
    let dir = tempfile::tempdir().unwrap();
    let out = run(Run::new(&["--help"]).program(keyring_link(dir.path())));
    assert_eq!(out.code, Some(0));
    assert!(out.stdout_text().contains("--keyring-provider subprocess"));
}
