//! The command-line contract: options, help, version, debug output, configuration errors.

mod support;

use support::{Outcome, Run};

/// Long enough to be recognised anywhere it leaks, and shaped like a real job token.
const TOKEN: &str = "glcbt-64_SeCrEt_0123456789abcdef";

fn get(input: &str) -> Run {
    Run::get(input.as_bytes())
        .env("CI_SERVER_URL", "https://gitlab.example.com")
        .env("CI_JOB_TOKEN", TOKEN)
}

#[test]
fn help_explains_operations_options_environment_and_a_git_config_example() {
    let out = Run::new(&["--help"]).env("CI_JOB_TOKEN", TOKEN).output();
    assert_eq!(out.code, Some(0));
    let help = out.stdout_text();
    for needle in [
        "get",
        "store",
        "erase",
        "--server",
        "--username",
        "--token-env",
        "--token-file",
        "CI_SERVER_URL",
        "CI_SERVER_HOST",
        "CI_JOB_TOKEN",
        "GIT_CREDENTIAL_GITLAB_CI_DEBUG",
        "git config --global credential.helper",
        "git credential fill",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}");
    }
    assert!(!help.contains(TOKEN));
    assert!(out.stderr.is_empty());
}

#[test]
fn version_prints_the_package_version() {
    let out = Run::new(&["--version"]).env("CI_JOB_TOKEN", TOKEN).output();
    assert_eq!(out.code, Some(0));
    assert_eq!(
        out.stdout_text(),
        format!("git-credential-gitlab-ci {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn no_operation_is_a_usage_error() {
    let out = Run::new(&[]).output();
    assert_eq!(out.code, Some(2));
    assert!(out.stdout_text().contains("Usage"));
}

#[test]
fn unknown_option_is_a_usage_error_on_one_prefixed_line() {
    let out = Run::new(&["--frobnicate", "get"])
        .env("CI_JOB_TOKEN", TOKEN)
        .output();
    assert_eq!(out.code, Some(2));
    assert!(out.stdout.is_empty());
    out.assert_stderr_rules();
    assert_eq!(
        out.stderr_text().lines().count(),
        1,
        "{}",
        out.stderr_text()
    );
    assert!(out.stderr_text().contains("--frobnicate"));
}

#[test]
fn token_given_as_an_argument_by_mistake_is_not_echoed() {
    let out = Run::new(&["--bogus", TOKEN, "get"])
        .env("CI_JOB_TOKEN", TOKEN)
        .output();
    assert_eq!(out.code, Some(2));
    out.assert_stderr_rules();
    let out = get("protocol=https\nhost=gitlab.example.com\n")
        .arg("--token-env")
        .arg(TOKEN)
        .output();
    assert_eq!(out.code, Some(1));
    out.assert_stderr_rules();
}

#[test]
fn server_option_adds_to_the_environment_server() {
    let run = |host: &str| {
        get(&format!("protocol=https\nhost={host}\n"))
            .arg("--server")
            .arg("https://other.example:8443")
            .arg("--server")
            .arg("third.example")
    };
    run("gitlab.example.com").expect(Outcome::Answer(TOKEN));
    run("other.example:8443").expect(Outcome::Answer(TOKEN));
    run("third.example").expect(Outcome::Answer(TOKEN));
    run("other.example").expect(Outcome::Nothing);
    run("evil.example").expect(Outcome::Nothing);
}

#[test]
fn server_option_works_without_any_environment_server() {
    Run::get(b"protocol=http\nhost=gitlab.internal\n")
        .arg("--server")
        .arg("http://gitlab.internal")
        .env("CI_JOB_TOKEN", TOKEN)
        .expect(Outcome::Answer(TOKEN));
}

#[test]
fn split_server_variables_are_used_without_ci_server_url() {
    let run = |host: &str| {
        Run::get(format!("protocol=https\nhost={host}\n").as_bytes())
            .env("CI_SERVER_PROTOCOL", "https")
            .env("CI_SERVER_HOST", "gitlab.example.com")
            .env("CI_SERVER_PORT", "8443")
            .env("CI_JOB_TOKEN", TOKEN)
    };
    run("gitlab.example.com:8443").expect(Outcome::Answer(TOKEN));
    run("gitlab.example.com").expect(Outcome::Nothing);
}

#[test]
fn invalid_server_configuration_is_an_error_that_names_the_setting() {
    let cases = [
        ("CI_SERVER_URL", "ssh://gitlab.example.com"),
        (
            "CI_SERVER_URL",
            "https://user:hunter2secret@gitlab.example.com",
        ),
        ("CI_SERVER_URL", "https://gitlab.example.com:99999"),
    ];
    for (key, value) in cases {
        let out = get("protocol=https\nhost=gitlab.example.com\n")
            .env(key, value)
            .expect(Outcome::Err(&["hunter2secret"]));
        assert!(out.stderr_text().contains(key), "{}", out.stderr_text());
    }
    let out = get("protocol=https\nhost=gitlab.example.com\n")
        .arg("--server")
        .arg("ftp://x")
        .expect(Outcome::Err(&[]));
    assert!(out.stderr_text().contains("--server"));
}

#[test]
fn custom_username_is_answered_and_required() {
    let out = get("protocol=https\nhost=gitlab.example.com\nusername=deploy\n")
        .arg("--username")
        .arg("deploy")
        .output();
    assert_eq!(
        out.stdout_text(),
        format!("username=deploy\npassword={TOKEN}\n")
    );
    get("protocol=https\nhost=gitlab.example.com\nusername=gitlab-ci-token\n")
        .arg("--username")
        .arg("deploy")
        .expect(Outcome::Nothing);
}

#[test]
fn token_env_names_another_variable() {
    get("protocol=https\nhost=gitlab.example.com\n")
        .arg("--token-env")
        .arg("MY_TOKEN")
        .env("MY_TOKEN", "glcbt-other-token-value")
        .expect(Outcome::Answer("glcbt-other-token-value"));
    let out = get("protocol=https\nhost=gitlab.example.com\n")
        .arg("--token-env")
        .arg("MY_TOKEN")
        .expect(Outcome::Err(&[TOKEN]));
    assert!(out.stderr_text().contains("MY_TOKEN"));
}

#[test]
fn token_file_is_read_with_one_trailing_newline_stripped() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ci_job_token");
    std::fs::write(&file, b"file-token-value\n").unwrap();
    get("protocol=https\nhost=gitlab.example.com\n")
        .arg("--token-file")
        .arg(&file)
        .expect(Outcome::Answer("file-token-value"));
}

#[test]
fn missing_token_file_matters_only_for_the_server() {
    let out = get("protocol=https\nhost=gitlab.example.com\n")
        .arg("--token-file")
        .arg("/nonexistent/ci_job_token")
        .expect(Outcome::Err(&[TOKEN]));
    assert!(out.stderr_text().contains("/nonexistent/ci_job_token"));
    get("protocol=https\nhost=evil.example\n")
        .arg("--token-file")
        .arg("/nonexistent/ci_job_token")
        .expect(Outcome::Nothing);
}

#[test]
fn token_env_and_token_file_together_are_a_usage_error() {
    let out = get("protocol=https\nhost=gitlab.example.com\n")
        .arg("--token-env")
        .arg("X")
        .arg("--token-file")
        .arg("/x")
        .output();
    assert_eq!(out.code, Some(2));
    assert!(out.stdout.is_empty());
    out.assert_stderr_rules();
}

#[test]
fn debug_output_explains_decisions_without_the_token_or_key_value_lines() {
    let cases = [
        ("protocol=https\nhost=gitlab.example.com\n", "answering"),
        ("protocol=https\nhost=evil.com\n", "declined"),
        ("protocol=http\nhost=gitlab.example.com\n", "declined"),
        (
            "protocol=https\nhost=gitlab.example.com\nusername=x\n",
            "declined",
        ),
        (
            "protocol=https\nhost=gitlab.example.com\npassword=hunter2secret\n",
            "declined",
        ),
        ("protocol=https\nhost=password=x\n", "declined"),
        ("protocol=https\nhost=a\nhost=b\n", "refused"),
    ];
    for (input, needle) in cases {
        let out = get(input)
            .env("GIT_CREDENTIAL_GITLAB_CI_DEBUG", "1")
            .output();
        out.assert_stderr_rules();
        let stderr = out.stderr_text();
        assert!(stderr.contains(needle), "{input:?}: {stderr}");
        assert!(!stderr.contains("hunter2secret"), "{stderr}");
    }
    let quiet = get("protocol=https\nhost=evil.com\n").output();
    assert!(quiet.stderr.is_empty(), "no debug output unless asked");
}

#[test]
fn token_never_reaches_stderr_in_any_catalogue_case_even_when_debugging() {
    let inputs: &[&[u8]] = &[
        b"protocol=https\nhost=gitlab.example.com\n",
        b"protocol=https\nhost=evil.com\rhost=gitlab.example.com\n",
        b"protocol=https\nhost=evil.com\nhost=gitlab.example.com\n",
        b"url=https://evil.com/\nprotocol=https\nhost=gitlab.example.com\n",
        b"protocol=https\nhost=gitlab.example.com\ngarbage\n",
        b"protocol=https\nhost=gitlab.example.com\0\n",
        b"protocol=https\nhost=gitlab.example.com\nusername=gitlab-ci-token\npassword=x\n",
    ];
    for input in inputs {
        for operation in ["get", "store", "erase", "capability"] {
            let out = Run::new(&[operation])
                .stdin(input)
                .env("CI_SERVER_URL", "https://gitlab.example.com")
                .env("CI_JOB_TOKEN", TOKEN)
                .env("GIT_CREDENTIAL_GITLAB_CI_DEBUG", "1")
                .output();
            out.assert_stderr_rules();
            if operation != "get" {
                assert!(out.stdout.is_empty(), "{operation} printed something");
            }
        }
    }
}

#[test]
fn usage_errors_are_scrubbed_of_every_token_source_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ci_job_token");
    let from_file = "glcbt-64_FrOm_ThE_fIlE_0123456789";
    std::fs::write(&file, format!("{from_file}\n")).unwrap();
    let from_var = "glcbt-64_FrOm_My_VaR_0123456789";
    let docker_name = dir.path().join("docker-credential-gitlab-ci");
    std::os::unix::fs::symlink(support::binary::built(), &docker_name).unwrap();
    let file_arg = file.to_str().unwrap();
    let file_eq = format!("--token-file={file_arg}");
    let cases: &[(&[&str], &str)] = &[
        (&["--token-file", file_arg, "get", from_file], from_file),
        (&[&file_eq, "get", from_file], from_file),
        (&["get", from_file, "--token-file", file_arg], from_file),
        (&["--token-env", "MY_TOKEN", "get", from_var], from_var),
        (&["--token-env=MY_TOKEN", "--bogus", from_var], from_var),
        (
            &[
                "--token-env",
                "MY_TOKEN",
                "--token-file",
                file_arg,
                from_var,
            ],
            from_var,
        ),
        (
            &["--token-file", file_arg, "configure", "--fil", from_file],
            from_file,
        ),
    ];
    for program in [support::binary::path(), docker_name] {
        for (words, secret) in cases {
            let mut run = Run::new(&[]).program(&program).env("MY_TOKEN", from_var);
            for word in *words {
                run = run.arg(word);
            }
            let out = run.output();
            out.assert_stderr_rules();
            let stderr = out.stderr_text();
            assert_eq!(out.code, Some(2), "{words:?}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{words:?}: {stderr}");
            assert!(
                !stderr.contains(secret),
                "{words:?} echoes the token: {stderr}"
            );
        }
    }
}

/// A usage error: exit status 2, nothing on stdout, one line on stderr containing `says`.
#[track_caller]
fn assert_usage(run: Run, says: &str) {
    let out = run.output();
    out.assert_stderr_rules();
    let stderr = out.stderr_text();
    assert_eq!(out.code, Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(says), "{says:?}: {stderr}");
}

#[test]
fn an_unknown_operation_alone_is_ignored_but_a_mistyped_verb_is_a_usage_error_that_suggests_it() {
    // git's forward-compatibility rule: the single last word, after any options.
    Run::new(&["frobnicate"]).expect(Outcome::Nothing);
    Run::new(&["frobnicate"])
        .arg("--server")
        .arg("https://gitlab.example.com")
        .arg("--token-env")
        .arg("X")
        .expect(Outcome::Nothing);
    let home = tempfile::tempdir().unwrap();
    assert_usage(
        Run::new(&["confgure", "--global"]).env("HOME", home.path()),
        "did you mean configure?",
    );
    assert!(
        std::fs::read_dir(home.path()).unwrap().next().is_none(),
        "nothing written"
    );
    assert_usage(
        Run::new(&["unconfgure", "--global"]),
        "did you mean unconfigure?",
    );
    assert_usage(Run::new(&["frobnicate", "--server", "x"]), "frobnicate");
    assert_usage(Run::new(&["docker", "lsit", "x"]), "did you mean list?");
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("docker-credential-gitlab-ci");
    std::os::unix::fs::symlink(support::binary::built(), &link).unwrap();
    assert_usage(Run::new(&["gte", "x"]).program(&link), "did you mean get?");
}

#[test]
fn each_verb_refuses_the_options_that_do_not_apply_to_it() {
    for (words, says) in [
        (&["unconfigure", "--docker"][..], "--docker"),
        (&["unconfigure", "--registry", "r.example"], "--registry"),
        (&["doctor", "--rewrite-ssh"], "--rewrite-ssh"),
        (&["doctor", "--dry-run"], "--dry-run"),
        (
            &["docker", "--server", "https://x.example", "get"],
            "--server",
        ),
        (
            &["docker", "--username", "gitlab-ci-token", "get"],
            "--username",
        ),
        (&["get", "--dry-run"], "--dry-run"),
        (&["erase", "--global"], "--global"),
        (&["configure", "--registry", "r.example"], "--docker"),
    ] {
        assert_usage(Run::new(words), says);
    }
}

#[test]
fn doctor_timeout_out_of_its_range_is_a_usage_error_not_a_panic() {
    for value in [
        "0",
        "3601",
        "18446744073709551615",
        "99999999999999999999999",
        "+5",
    ] {
        assert_usage(
            Run::new(&["doctor", "--timeout", value]),
            "whole number of seconds from 1 to",
        );
    }
}
