//! The environment is read as strictly as requests: a server setting (`CI_SERVER_URL`,
//! `CI_SERVER_PROTOCOL`/`HOST`/`PORT`, `--server`) that two readers would understand
//! differently, or that holds more than its part, is a configuration error naming the setting.
//! While the configuration is broken, `get` answers nothing for any request: exit status 1 and
//! one line naming the variable — never a half-understood server, never a fall back to another
//! variable. git ignores a helper's exit status for `get`, so the next helper still runs.

mod support;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use support::{ClientEnv, Outcome, Run};

const TOKEN: &str = "glcbt-64_EnViRoNmEnT_0123456789abc";

fn get(host: &str) -> Run {
    Run::get(format!("protocol=https\nhost={host}\n").as_bytes()).env("CI_JOB_TOKEN", TOKEN)
}

/// Every host the broken setting could be taken to name gets an error naming `variable`, and
/// so does every other host.
#[track_caller]
fn refused_for_every_host(run: impl Fn(&str) -> Run, variable: &str, hosts: &[&str]) {
    for host in hosts
        .iter()
        .chain(&["gitlab.example.com", "unrelated.example"])
    {
        let out = run(host).expect(Outcome::Err(&[TOKEN]));
        let stderr = out.stderr_text();
        assert!(stderr.contains(variable), "{host}: {stderr}");
    }
}

#[test]
fn a_url_in_ci_server_protocol_is_an_error_not_a_server() {
    // Read loosely, `https://evil.example/` + `://` + the host made evil.example a server.
    refused_for_every_host(
        |host| {
            get(host)
                .env("CI_SERVER_PROTOCOL", "https://evil.example/")
                .env("CI_SERVER_HOST", "gitlab.example.com")
        },
        "CI_SERVER_PROTOCOL",
        &["evil.example"],
    );
}

#[test]
fn a_port_in_ci_server_host_that_disagrees_with_ci_server_port_is_an_error() {
    let run = |host: &str| {
        get(host)
            .env("CI_SERVER_HOST", "gitlab.example.com:8443")
            .env("CI_SERVER_PORT", "443")
    };
    refused_for_every_host(run, "CI_SERVER_PORT", &["gitlab.example.com:8443"]);
    let out = run("gitlab.example.com").output();
    assert!(out.stderr_text().contains("CI_SERVER_HOST"));
    // Agreeing, or given once: the port is the server's.
    get("gitlab.example.com:8443")
        .env("CI_SERVER_HOST", "gitlab.example.com:8443")
        .env("CI_SERVER_PORT", "8443")
        .expect(Outcome::Answer(TOKEN));
    get("gitlab.example.com:8443")
        .env("CI_SERVER_HOST", "gitlab.example.com:8443")
        .expect(Outcome::Answer(TOKEN));
}

#[test]
fn more_than_a_host_in_ci_server_host_is_an_error() {
    for value in [
        "https://gitlab.example.com",
        "gitlab.example.com/gitlab",
        "user@gitlab.example.com",
        "evil.example\\@gitlab.example.com",
    ] {
        refused_for_every_host(
            |host| get(host).env("CI_SERVER_HOST", value),
            "CI_SERVER_HOST",
            &["https", "evil.example", "user"],
        );
    }
}

#[test]
fn ci_server_url_without_its_double_slash_is_an_error_not_the_host_https() {
    // Read loosely, `https:/gitlab.example.com` made the host `https` a server.
    refused_for_every_host(
        |host| get(host).env("CI_SERVER_URL", "https:/gitlab.example.com"),
        "CI_SERVER_URL",
        &["https", "https:443"],
    );
}

#[test]
fn a_backslash_in_ci_server_url_is_an_error_not_the_whatwg_reading() {
    // The WHATWG reading of this URL is evil.example, the RFC 3986 one gitlab.example.com.
    refused_for_every_host(
        |host| get(host).env("CI_SERVER_URL", "https://evil.example\\@gitlab.example.com"),
        "CI_SERVER_URL",
        &["evil.example"],
    );
}

#[test]
fn user_information_query_fragment_or_odd_ports_in_ci_server_url_are_errors() {
    for value in [
        "https://gitlab-ci-token:hunter2secret@gitlab.example.com",
        "https://gitlab.example.com/?x",
        "https://gitlab.example.com/#x",
        "https://gitlab.example.com:0443",
        "https://gitlab.example.com:/",
        "gitlab.example.com",
        "https://gitlab.example.com\t",
    ] {
        let out = get("gitlab.example.com")
            .env("CI_SERVER_URL", value)
            .expect(Outcome::Err(&[TOKEN, "hunter2secret"]));
        assert!(out.stderr_text().contains("CI_SERVER_URL"), "{value:?}");
    }
}

#[test]
fn a_ci_server_url_that_is_not_utf8_is_an_error_not_a_fall_back_to_ci_server_host() {
    let not_utf8 = OsStr::from_bytes(b"https://gitlab\xff.example.com");
    refused_for_every_host(
        |host| {
            get(host)
                .env("CI_SERVER_URL", not_utf8)
                .env("CI_SERVER_HOST", "gitlab.example.com")
        },
        "CI_SERVER_URL",
        &[],
    );
    for name in ["CI_SERVER_HOST", "CI_SERVER_PROTOCOL", "CI_SERVER_PORT"] {
        let out = get("gitlab.example.com")
            .env("CI_SERVER_HOST", "gitlab.example.com")
            .env(name, OsStr::from_bytes(b"\xff"))
            .expect(Outcome::Err(&[TOKEN]));
        assert!(out.stderr_text().contains(name), "{}", out.stderr_text());
    }
}

#[test]
fn a_broken_server_option_is_an_error_naming_the_option() {
    for value in [
        "https:/gitlab.example.com",
        "https://evil.example\\@gitlab.example.com",
        "https://u@gitlab.example.com",
        "gitlab.example.com:",
    ] {
        let out = get("gitlab.example.com")
            .env("CI_SERVER_URL", "https://gitlab.example.com")
            .arg("--server")
            .arg(value)
            .expect(Outcome::Err(&[TOKEN]));
        assert!(out.stderr_text().contains("--server"), "{value}");
    }
}

#[test]
fn store_and_erase_stay_quiet_and_successful_with_a_broken_configuration() {
    for operation in ["store", "erase"] {
        Run::new(&[operation])
            .stdin(b"protocol=https\nhost=gitlab.example.com\nusername=u\npassword=p\n")
            .env("CI_SERVER_URL", "https:/gitlab.example.com")
            .env("CI_JOB_TOKEN", TOKEN)
            .expect(Outcome::Nothing);
    }
}

#[test]
fn git_asks_the_next_helper_when_the_configuration_is_broken() {
    let next = "!f() { test \"$1\" = get && printf 'username=next\\npassword=from-the-next-helper\\n'; }; f";
    let env = ClientEnv::local()
        .server_url("https:/gitlab.example.com")
        .token(TOKEN)
        .build();
    env.run(env.git(["config", "--global", "--add", "credential.helper", next]));
    let mut fill = env.git(["credential", "fill"]);
    fill.stdin(env.input(b"protocol=https\nhost=gitlab.example.com\n\n"));
    let out = env.run(fill);
    assert!(
        out.stdout.contains("password=from-the-next-helper"),
        "{out}"
    );
    assert!(
        !out.stdout.contains(TOKEN) && !out.stderr.contains(TOKEN),
        "{out}"
    );
    let ours = out.helper_lines();
    assert_eq!(ours.len(), 1, "{out}");
    assert!(ours[0].contains("CI_SERVER_URL"), "{out}");
}

#[test]
fn configure_refuses_a_broken_configuration_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gitconfig");
    let env = ClientEnv::local()
        .server_url("https://gitlab.example.com")
        .build();
    let mut env = env;
    env.set_var("CI_SERVER_PROTOCOL", "https://evil.example/");
    env.remove_var("CI_SERVER_URL");
    env.set_var("CI_SERVER_HOST", "gitlab.example.com");
    let out = env.run_verb(&["configure", "--file", file.to_str().unwrap()], None);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
    assert!(
        out.helper_lines()[0].contains("CI_SERVER_PROTOCOL"),
        "{out}"
    );
    assert!(!file.exists());
}
