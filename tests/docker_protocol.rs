//! Docker's credential-helper protocol, black-box: `git-credential-gitlab-ci docker <op>` and the
//! same binary invoked as `docker-credential-gitlab-ci <op>` through a symlink, the way Docker,
//! skopeo and podman run it. Every run has an empty environment apart from what the test sets.

mod support;

use std::path::{Path, PathBuf};

use support::{binary, Run};

/// Shaped like a real job token, long enough to be found anywhere it leaks.
const TOKEN: &str = "glcbt-64_DoCkEr_0123456789abcdef";
const REGISTRY: &str = "registry.example.com";
const NOT_FOUND: &str = "credentials not found in native keychain\n";

/// `git-credential-gitlab-ci docker <args>` with `CI_REGISTRY` and `CI_JOB_TOKEN` set.
fn docker(args: &[&str]) -> Run {
    let words: Vec<&str> = ["docker"].iter().chain(args).copied().collect();
    job_env(Run::new(&words))
}

fn docker_get(input: &[u8]) -> Run {
    docker(&["get"]).stdin(input)
}

/// `words` run through `link`, a `docker-credential-gitlab-ci` link to the binary.
fn via_link(link: &Path, words: &[&str]) -> Run {
    job_env(Run::new(words).program(link))
}

fn job_env(run: Run) -> Run {
    run.env("CI_REGISTRY", REGISTRY).env("CI_JOB_TOKEN", TOKEN)
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

trait RunDocker {
    /// Runs and checks the rules of the docker mode: stderr's (prefixed, not `key=value`, no
    /// token), and the token on stdout only in an answer (exit 0).
    fn run(self) -> Out;
}

impl RunDocker for Run {
    fn run(self) -> Out {
        let out = self.output();
        out.assert_stderr_rules();
        let token = out.token().map(str::to_string);
        let out = Out {
            code: out.code,
            stdout: out.stdout_text(),
            stderr: out.stderr_text(),
        };
        if let Some(token) = token.filter(|t| t.len() >= 4) {
            assert!(!out.stdout.contains(&token) || out.code == Some(0));
        }
        out
    }
}

#[track_caller]
fn assert_answer(out: &Out, server_url: &str, token: &str) {
    assert_eq!(
        out.code,
        Some(0),
        "stdout {} stderr {}",
        out.stdout,
        out.stderr
    );
    let value: serde_json::Value = serde_json::from_str(&out.stdout).expect("valid JSON");
    assert_eq!(
        value,
        serde_json::json!({"ServerURL": server_url, "Username": "gitlab-ci-token", "Secret": token})
    );
    assert!(out.stdout.ends_with("}\n"));
    assert_eq!(out.stderr, "");
}

#[track_caller]
fn assert_not_found(out: &Out) {
    assert_eq!(out.stdout, NOT_FOUND, "stderr {}", out.stderr);
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stderr, "");
}

/// A failure: exit 1, the same one prefixed line on stdout (where Docker's clients read a
/// helper's error) and stderr, without the token.
#[track_caller]
fn assert_error(out: &Out, mentions: &str) {
    assert_eq!(
        out.code,
        Some(1),
        "stdout {} stderr {}",
        out.stdout,
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "one line: {}", out.stderr);
    assert_eq!(out.stdout, out.stderr);
    assert!(out.stderr.contains(mentions), "{}", out.stderr);
    assert!(!out.stdout.contains("credentials not found"));
}

#[test]
fn get_answers_ci_registry_as_skopeo_sends_it_without_newline() {
    assert_answer(&docker_get(REGISTRY.as_bytes()).run(), REGISTRY, TOKEN);
}

#[test]
fn get_echoes_server_url_as_given_with_https_prefix_newline_port_and_case() {
    for (input, given) in [
        (
            "https://registry.example.com\n",
            "https://registry.example.com",
        ),
        ("registry.example.com:443", "registry.example.com:443"),
        ("Registry.Example.COM\n", "Registry.Example.COM"),
    ] {
        assert_answer(&docker_get(input.as_bytes()).run(), given, TOKEN);
    }
}

#[test]
fn get_answers_dependency_proxy_and_registry_options() {
    let out = docker_get(b"gitlab.example.com:443")
        .env_remove("CI_REGISTRY")
        .env("CI_DEPENDENCY_PROXY_SERVER", "gitlab.example.com:443")
        .run();
    assert_answer(&out, "gitlab.example.com:443", TOKEN);
    let out = docker(&["--registry", "localhost:5000", "get"])
        .stdin(b"localhost:5000")
        .run();
    assert_answer(&out, "localhost:5000", TOKEN);
    let out = docker(&["get", "--registry", "localhost:5000"])
        .stdin(b"localhost:5000")
        .run();
    assert_answer(&out, "localhost:5000", TOKEN);
}

#[test]
fn get_for_another_registry_prints_not_found_and_exits_1() {
    for input in [
        "docker.io",
        "https://index.docker.io/v1/",
        "registry.example.com:5000",
        "registry.example.com.",
        "registry.example.com.evil.com",
        "localhost",
        "",
    ] {
        assert_not_found(&docker_get(input.as_bytes()).run());
    }
}

#[test]
fn get_never_answers_plain_http_paths_userinfo_or_control_bytes() {
    for input in [
        &b"http://registry.example.com"[..],
        b"https://registry.example.com/",
        b"registry.example.com/group/image",
        b"gitlab-ci-token@registry.example.com",
        b"registry.example.com@evil.com",
        b"registry.example.com\n\n",
        b"registry.example.com\r\n",
        b"registry.example.com\nevil.com",
        b"registry.example.com ",
        b"registry.example.com\0",
        b"registry.example.com\xff",
        b"registry\xef\xbc\x8eexample.com",
    ] {
        let out = docker_get(input).run();
        assert_not_found(&out);
        assert!(!out.stdout.contains(TOKEN));
    }
}

#[test]
fn get_without_any_registry_configured_answers_nothing() {
    let out = docker_get(REGISTRY.as_bytes())
        .env_remove("CI_REGISTRY")
        .run();
    assert_not_found(&out);
}

#[test]
fn get_reads_a_bounded_request() {
    let huge = vec![b'a'; 64 * 1024 * 1024];
    assert_not_found(&docker_get(&huge).run());
}

#[test]
fn tokens_with_characters_json_must_escape_stay_valid_json() {
    for token in [
        "quote\"backslash\\slash/",
        "tab\tescape\u{1b}[0m bell\u{7}",
        "unicode-\u{e9}-\u{1f600}-\u{2028}",
        "{\"Secret\":\"forged\"}",
    ] {
        let out = docker_get(REGISTRY.as_bytes())
            .env("CI_JOB_TOKEN", token)
            .run();
        assert_answer(&out, REGISTRY, token);
    }
}

#[test]
fn token_with_line_break_is_an_error_and_never_printed() {
    for (token, what) in [
        ("glcbt-64_secret\nquit=1", "line feed"),
        ("glcbt-64_secret\rquit=1", "carriage return"),
    ] {
        let out = docker_get(REGISTRY.as_bytes())
            .env("CI_JOB_TOKEN", token)
            .run();
        assert_error(&out, what);
        assert!(!out.stdout.contains("glcbt-64_secret"));
        assert!(!out.stderr.contains("glcbt-64_secret"));
    }
}

#[test]
fn token_with_nul_from_a_token_file_is_an_error_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ci_job_token");
    std::fs::write(&file, b"glcbt-64_secret\0tail\n").unwrap();
    let out = docker(&["--token-file", file.to_str().unwrap(), "get"])
        .stdin(REGISTRY.as_bytes())
        .run();
    assert_error(&out, "NUL");
    assert!(!out.stdout.contains("glcbt-64_secret"));
}

#[test]
fn token_file_is_read_for_a_matching_registry() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ci_job_token");
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    let out = docker(&["--token-file", file.to_str().unwrap(), "get"])
        .env_remove("CI_JOB_TOKEN")
        .stdin(REGISTRY.as_bytes())
        .run();
    assert_answer(&out, REGISTRY, TOKEN);
}

#[test]
fn missing_token_is_an_error_for_our_registry_and_not_found_for_others() {
    let out = docker_get(REGISTRY.as_bytes())
        .env_remove("CI_JOB_TOKEN")
        .run();
    assert_error(&out, "CI_JOB_TOKEN is not set");
    let out = docker_get(b"docker.io").env_remove("CI_JOB_TOKEN").run();
    assert_not_found(&out);
}

#[test]
fn store_and_erase_accept_anything_and_persist_nothing() {
    let home = tempfile::tempdir().unwrap();
    let home_str = home.path().to_str().unwrap();
    let stored = format!(
        "{{\"ServerURL\":\"{REGISTRY}\",\"Username\":\"gitlab-ci-token\",\"Secret\":\"{TOKEN}\"}}"
    );
    for (op, input) in [
        ("store", stored.as_bytes()),
        ("store", b"not json at all\0\xff"),
        ("erase", REGISTRY.as_bytes()),
        ("erase", b""),
    ] {
        let out = docker(&[op])
            .env("HOME", home_str)
            .env("DOCKER_CONFIG", format!("{home_str}/.docker"))
            .env("GIT_CREDENTIAL_GITLAB_CI_DEBUG", "1")
            .stdin(input)
            .run();
        assert_eq!((out.code, out.stdout.as_str()), (Some(0), ""), "{op}");
        assert!(!out.stderr.contains("Secret"), "{}", out.stderr);
    }
    let left: Vec<_> = std::fs::read_dir(home.path()).unwrap().collect();
    assert!(left.is_empty(), "store wrote files: {left:?}");
}

#[test]
fn list_maps_each_registry_to_the_user_name_never_the_token() {
    let out = docker(&["--registry", "localhost:5000", "list"])
        .env("CI_DEPENDENCY_PROXY_SERVER", "gitlab.example.com:443")
        .run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "registry.example.com": "gitlab-ci-token",
            "gitlab.example.com:443": "gitlab-ci-token",
            "localhost:5000": "gitlab-ci-token",
        })
    );
    assert!(!out.stdout.contains(TOKEN));
}

#[test]
fn unknown_operation_is_an_error() {
    assert_error(
        &docker(&["frobnicate"]).run(),
        "unknown docker credential operation",
    );
}

/// Docker's anonymous fallback: a broken setting of ours must not abort pulls from other
/// registries, so every `get` is "not found", and one stderr line says why.
#[test]
fn invalid_registry_setting_is_not_found_for_every_registry_with_the_reason_on_stderr() {
    use std::os::unix::ffi::OsStrExt;
    let not_utf8 = std::ffi::OsStr::from_bytes(b"registry\xff.example.com");
    for (name, value) in [
        (
            "CI_REGISTRY",
            std::ffi::OsStr::new("http://user:pw-secret@registry.example.com"),
        ),
        ("CI_REGISTRY", not_utf8),
        (
            "CI_DEPENDENCY_PROXY_SERVER",
            std::ffi::OsStr::new("gitlab.example.com/"),
        ),
    ] {
        for registry in ["docker.io", REGISTRY, "registry-1.docker.io:443"] {
            let out = docker_get(registry.as_bytes()).env(name, value).run();
            assert_eq!(out.stdout, NOT_FOUND, "{name} {registry}: {}", out.stderr);
            assert_eq!(out.code, Some(1));
            assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
            assert!(out.stderr.contains(name), "{}", out.stderr);
            assert!(
                out.stderr.contains("no registry gets credentials"),
                "{}",
                out.stderr
            );
            assert!(!out.stderr.contains("pw-secret"));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let link = docker_symlink(dir.path());
    let out = via_link(&link, &["get"])
        .env("CI_REGISTRY", "registry.example.com:05050")
        .stdin(REGISTRY.as_bytes())
        .run();
    assert_eq!(out.stdout, NOT_FOUND, "{}", out.stderr);
    assert!(out.stderr.contains("CI_REGISTRY"), "{}", out.stderr);
    let out = docker(&["--registry", "https://u@x", "get"])
        .stdin(b"docker.io")
        .run();
    assert_eq!(out.stdout, NOT_FOUND);
    assert!(out.stderr.contains("--registry"), "{}", out.stderr);
    // list is no request for a registry: it says what is wrong.
    let out = docker(&["list"])
        .env("CI_REGISTRY", "http://registry.example.com")
        .run();
    assert_error(&out, "CI_REGISTRY is not a registry address");
}

#[test]
fn server_and_username_options_are_refused_in_docker_mode() {
    let out = job_env(Run::new(&["docker", "get"]).arg("--username").arg("other"))
        .stdin(REGISTRY.as_bytes())
        .run();
    assert_eq!(out.code, Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn debug_output_explains_without_the_token() {
    let out = docker_get(REGISTRY.as_bytes())
        .env("GIT_CREDENTIAL_GITLAB_CI_DEBUG", "1")
        .run();
    assert_answer(
        &Out {
            stderr: String::new(),
            ..out
        },
        REGISTRY,
        TOKEN,
    );
    let out = docker_get(b"docker.io")
        .env("GIT_CREDENTIAL_GITLAB_CI_DEBUG", "1")
        .run();
    assert!(out.stderr.contains("not found"), "{}", out.stderr);
    assert!(out.stderr.contains("CI_REGISTRY"), "{}", out.stderr);
}

/// A `docker-credential-gitlab-ci` symlink to the binary, as install.sh creates it.
fn docker_symlink(dir: &Path) -> PathBuf {
    let link = dir.join("docker-credential-gitlab-ci");
    std::os::unix::fs::symlink(binary::built(), &link).unwrap();
    link
}

#[test]
fn invoked_as_docker_credential_gitlab_ci_it_speaks_docker_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let link = docker_symlink(dir.path());
    let out = via_link(&link, &["get"]).stdin(REGISTRY.as_bytes()).run();
    assert_answer(&out, REGISTRY, TOKEN);
    let out = via_link(&link, &["list"]).run();
    assert_eq!(
        out.stdout,
        "{\"registry.example.com\":\"gitlab-ci-token\"}\n"
    );
    let out = via_link(&link, &["get"]).stdin(b"docker.io").run();
    assert_not_found(&out);
    let out = via_link(&link, &["--version"]).run();
    assert!(
        out.stdout.starts_with("docker-credential-gitlab-ci "),
        "{}",
        out.stdout
    );
}

#[test]
fn configure_adds_cred_helpers_keeps_other_content_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        r#"{"auths":{"other.example":{"auth":"eDp5"}},"credHelpers":{"gcr.io":"gcloud"},"detachKeys":"ctrl-e,e"}"#,
    )
    .unwrap();
    let configure = || {
        docker(&["--registry", "localhost:5000", "configure"])
            .env("CI_DEPENDENCY_PROXY_SERVER", "gitlab.example.com:443")
            .env("DOCKER_CONFIG", dir.path().to_str().unwrap())
            .run()
    };
    let out = configure();
    assert_eq!(out.code, Some(0), "{} {}", out.stdout, out.stderr);
    let first = std::fs::read_to_string(&config).unwrap();
    let value: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "auths": {"other.example": {"auth": "eDp5"}},
            "credHelpers": {
                "gcr.io": "gcloud",
                "registry.example.com": "gitlab-ci",
                "gitlab.example.com:443": "gitlab-ci",
                "localhost:5000": "gitlab-ci",
            },
            "detachKeys": "ctrl-e,e",
        })
    );
    assert!(!first.contains(TOKEN));
    let out = configure();
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.contains("already configured"), "{}", out.stdout);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), first);
}

#[test]
fn configure_creates_a_private_config_under_home_when_docker_config_is_unset() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let out = docker(&["configure"])
        .env("HOME", home.path().to_str().unwrap())
        .run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let config = home.path().join(".docker/config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).unwrap(),
        serde_json::json!({"credHelpers": {"registry.example.com": "gitlab-ci"}})
    );
    let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(!text.contains(TOKEN));
}

#[test]
fn configure_refuses_a_broken_config_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, "{\"auths\": {broken").unwrap();
    let out = docker(&["configure"])
        .env("DOCKER_CONFIG", dir.path().to_str().unwrap())
        .run();
    assert_error(&out, "not valid JSON");
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "{\"auths\": {broken"
    );
}

#[test]
fn configure_without_any_registry_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = docker(&["configure"])
        .env_remove("CI_REGISTRY")
        .env("DOCKER_CONFIG", dir.path().to_str().unwrap())
        .run();
    assert_error(&out, "no registry is known");
    assert!(!dir.path().join("config.json").exists());
}

#[test]
fn configure_updates_a_symlinked_config_where_it_points() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("dotfiles-config.json");
    std::fs::write(&real, r#"{"psFormat":"table"}"#).unwrap();
    let config_dir = dir.path().join("docker");
    std::fs::create_dir(&config_dir).unwrap();
    std::os::unix::fs::symlink(&real, config_dir.join("config.json")).unwrap();
    let out = docker(&["configure"])
        .env("DOCKER_CONFIG", config_dir.to_str().unwrap())
        .run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(std::fs::symlink_metadata(config_dir.join("config.json"))
        .unwrap()
        .file_type()
        .is_symlink());
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&real).unwrap()).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"psFormat": "table", "credHelpers": {"registry.example.com": "gitlab-ci"}})
    );
}

#[test]
fn configure_docker_adds_cred_helpers_beside_the_git_registration() {
    let home = tempfile::tempdir().unwrap();
    let gitconfig = home.path().join("gitconfig");
    let run = |extra: &[&str]| {
        let mut words = vec!["configure", "--file", gitconfig.to_str().unwrap()];
        words.extend(["--docker", "--registry", "other.example:5050"]);
        words.extend(extra);
        job_env(Run::new(&words))
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("HOME", home.path())
            .env("CI_SERVER_URL", "https://gitlab.example.com")
            .run()
    };
    let dry = run(&["--dry-run"]);
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    assert!(
        dry.stdout.contains("credHelpers") && dry.stdout.contains(REGISTRY),
        "{}",
        dry.stdout
    );
    assert!(
        !home.path().join(".docker").exists(),
        "a dry run writes nothing"
    );

    for _ in 0..2 {
        let out = run(&[]);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
    }
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.path().join(".docker/config.json")).unwrap())
            .unwrap();
    assert_eq!(config["credHelpers"][REGISTRY], "gitlab-ci");
    assert_eq!(config["credHelpers"]["other.example:5050"], "gitlab-ci");
    let git = std::fs::read_to_string(&gitconfig).unwrap();
    assert_eq!(git.matches("[credential]").count(), 1, "{git}");
    for file in [gitconfig, home.path().join(".docker/config.json")] {
        assert!(!std::fs::read_to_string(&file).unwrap().contains(TOKEN));
    }
}
