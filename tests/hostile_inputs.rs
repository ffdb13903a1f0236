//! The hostile-input catalogue: one black-box test per row, numbered, each named after the input
//! and the safe behaviour, run against the real binary (or `HELPER_UNDER_TEST`, see
//! `tests/support/binary.rs`). Setting unless a test says otherwise:
//! `CI_SERVER_URL=https://gitlab.example.com`, `CI_JOB_TOKEN=tok`, no options.
//!
//! - ANSWER: stdout is exactly `username=gitlab-ci-token\npassword=tok\n`, exit 0.
//! - NOTHING: empty stdout, exit 0.
//! - ERR: empty stdout, exit 1, one stderr line with our prefix that echoes no input value and
//!   no token, and is not shaped `key=value`.

mod support;

use support::{Outcome, Run};

const SERVER: &str = "https://gitlab.example.com";

fn get(input: &[u8]) -> Run {
    Run::get(input)
        .env("CI_SERVER_URL", SERVER)
        .env("CI_JOB_TOKEN", "tok")
}

#[test]
fn row01_request_ended_by_eof_without_blank_line_is_answered() {
    get(b"protocol=https\nhost=gitlab.example.com\n").expect(Outcome::Answer("tok"));
}

#[test]
fn row02_capabilities_and_wwwauth_from_git_2_47_are_answered_and_not_echoed() {
    let run = get(b"capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=gitlab.example.com\nwwwauth[]=Basic realm=\"GitLab\"\n");
    let out = run.expect(Outcome::Answer("tok"));
    assert!(!out.stdout_text().contains("capability"));
    assert!(!out.stdout_text().contains("realm"));
}

#[test]
fn row03_crlf_lines_and_crlf_blank_line_are_answered() {
    get(b"protocol=https\r\nhost=gitlab.example.com\r\n\r\n").expect(Outcome::Answer("tok"));
}

#[test]
fn row04_lone_cr_inside_a_value_is_refused() {
    get(b"protocol=https\nhost=evil.com\rhost=gitlab.example.com\n")
        .expect(Outcome::Err(&["evil.com", "gitlab.example.com"]));
}

#[test]
fn row05_lone_cr_smuggling_a_second_request_is_refused() {
    get(b"protocol=https\nhost=evil.com\nusername=\rprotocol=https\rhost=gitlab.example.com\r\n")
        .expect(Outcome::Err(&["evil.com", "gitlab.example.com"]));
}

#[test]
fn row06_duplicate_host_is_refused() {
    get(b"protocol=https\nhost=evil.com\nhost=gitlab.example.com\n")
        .expect(Outcome::Err(&["evil.com", "gitlab.example.com"]));
}

#[test]
fn row07_duplicate_protocol_and_host_are_refused() {
    get(b"protocol=http\nhost=localhost:13337\nhost=gitlab.example.com\nprotocol=https\n")
        .expect(Outcome::Err(&["localhost", "13337", "gitlab.example.com"]));
}

#[test]
fn row08_protocol_without_host_as_libgit2_sends_for_ip_urls_gets_nothing() {
    get(b"protocol=https\n").expect(Outcome::Nothing);
}

#[test]
fn row09_empty_input_and_lone_blank_line_get_nothing() {
    get(b"").expect(Outcome::Nothing);
    get(b"\n").expect(Outcome::Nothing);
}

#[test]
fn row10_host_without_protocol_gets_nothing() {
    get(b"host=gitlab.example.com\n").expect(Outcome::Nothing);
}

#[test]
fn row11_empty_host_gets_nothing() {
    get(b"protocol=https\nhost=\n").expect(Outcome::Nothing);
}

#[test]
fn row12_plain_http_for_an_https_server_gets_nothing() {
    get(b"protocol=http\nhost=gitlab.example.com\n").expect(Outcome::Nothing);
}

#[test]
fn row13_plain_http_is_answered_for_a_server_written_with_http() {
    get(b"protocol=http\nhost=gitlab.example.com\n")
        .env("CI_SERVER_URL", "http://gitlab.example.com")
        .expect(Outcome::Answer("tok"));
}

#[test]
fn row14_ssh_and_certificate_requests_get_nothing() {
    get(b"protocol=ssh\nhost=gitlab.example.com\n").expect(Outcome::Nothing);
    get(b"protocol=cert\nhost=\npath=/c.pem\n").expect(Outcome::Nothing);
}

#[test]
fn row15_explicit_default_port_is_answered() {
    get(b"protocol=https\nhost=gitlab.example.com:443\n").expect(Outcome::Answer("tok"));
}

#[test]
fn row16_other_or_malformed_ports_get_nothing() {
    for port in [
        ":8443", ":0443", ":", ":65536", ":443x", ":80", ":-443", ": 443",
    ] {
        get(format!("protocol=https\nhost=gitlab.example.com{port}\n").as_bytes())
            .expect(Outcome::Nothing);
    }
}

#[test]
fn row17_host_case_differences_are_answered() {
    get(b"protocol=https\nhost=GitLab.Example.COM\n").expect(Outcome::Answer("tok"));
}

#[test]
fn row18_trailing_dot_is_a_different_host() {
    get(b"protocol=https\nhost=gitlab.example.com.\n").expect(Outcome::Nothing);
}

#[test]
fn row19_suffixes_prefixes_userinfo_paths_and_spaces_get_nothing() {
    for host in [
        "gitlab.example.com.evil.com",
        "evilgitlab.example.com",
        "gitlab.example.com/evil.com",
        "x@gitlab.example.com",
        "gitlab.example.com@evil.com",
        "gitlab.example.com ",
        " gitlab.example.com",
        "\tgitlab.example.com",
    ] {
        get(format!("protocol=https\nhost={host}\n").as_bytes()).expect(Outcome::Nothing);
    }
}

#[test]
fn row20_unicode_lookalikes_and_non_utf8_hosts_get_nothing() {
    get("protocol=https\nhost=gitlab\u{ff0e}example.com\n".as_bytes()).expect(Outcome::Nothing);
    get(b"protocol=https\nhost=gitlab.example.com\xff\n").expect(Outcome::Nothing);
    get(b"protocol=https\nhost=\xc0\xae\xfe\n").expect(Outcome::Nothing);
    get("protocol=https\nhost=GITLAB.EXAMPLE.COM\u{212a}\n".as_bytes()).expect(Outcome::Nothing);
}

#[test]
fn row21_other_empty_or_cargo_mismatch_usernames_get_nothing() {
    for username in [
        "alice",
        "",
        "gitlab.example.com\\",
        "Gitlab-ci-token",
        "gitlab-ci-token ",
    ] {
        get(format!("protocol=https\nhost=gitlab.example.com\nusername={username}\n").as_bytes())
            .expect(Outcome::Nothing);
    }
}

#[test]
fn row22_our_own_username_is_answered() {
    get(b"protocol=https\nhost=gitlab.example.com\nusername=gitlab-ci-token\n")
        .expect(Outcome::Answer("tok"));
}

#[test]
fn row23_request_that_already_has_a_password_gets_nothing() {
    get(b"protocol=https\nhost=gitlab.example.com\nusername=gitlab-ci-token\npassword=x\n")
        .expect(Outcome::Nothing);
}

#[test]
fn row23_request_with_a_pre_encoded_credential_gets_nothing_with_or_without_authtype() {
    for input in [
        &b"protocol=https\nhost=gitlab.example.com\ncredential=dG9rZW4\n"[..],
        b"capability[]=authtype\nprotocol=https\nhost=gitlab.example.com\nauthtype=Bearer\ncredential=dG9rZW4\n",
        b"protocol=https\nhost=gitlab.example.com\nusername=gitlab-ci-token\ncredential=\n",
        b"authtype=Basic\ncredential=x\nprotocol=https\nhost=GitLab.Example.com:443\n",
    ] {
        get(input).expect(Outcome::Nothing);
    }
    // authtype alone is no secret: the caller merely says what it can use.
    get(b"capability[]=authtype\nprotocol=https\nhost=gitlab.example.com\nauthtype=Basic\n")
        .expect(Outcome::Answer("tok"));
}

#[test]
fn row24_url_attribute_alone_is_parsed_and_answered() {
    get(b"url=https://gitlab.example.com/group/p.git\n").expect(Outcome::Answer("tok"));
    get(b"url=https://gitlab.example.com/group/p.git\n").expect(Outcome::Answer("tok"));
    get(b"url=https://evil.com/group/p.git\n").expect(Outcome::Nothing);
    get(b"url=https://gitlab.example.com.evil.com/\n").expect(Outcome::Nothing);
}

#[test]
fn row25_url_conflicting_with_explicit_fields_is_refused() {
    get(b"url=https://evil.com/\nprotocol=https\nhost=gitlab.example.com\n")
        .expect(Outcome::Err(&["evil.com", "gitlab.example.com"]));
    get(b"protocol=https\nhost=gitlab.example.com\nurl=https://evil.com/\n")
        .expect(Outcome::Err(&["evil.com", "gitlab.example.com"]));
}

#[test]
fn row25_url_that_parsers_read_differently_is_refused() {
    for url in [
        "http://gitlab.example.com\\@evil.com/x",
        "https:gitlab.example.com/x",
        "https://gitlab\u{ff0e}example.com/",
    ] {
        get(format!("url={url}\n").as_bytes()).expect(Outcome::Err(&[
            "evil.com",
            "gitlab.example",
            "example.com",
        ]));
    }
}

#[test]
fn row26_line_without_equals_is_refused() {
    get(b"protocol=https\nhost=gitlab.example.com\ngarbage\n").expect(Outcome::Err(&["garbage"]));
}

#[test]
fn row27_keys_are_matched_exactly() {
    for input in [
        "protocol=https\nHost=gitlab.example.com\n",
        "protocol=https\n host=gitlab.example.com\n",
        "protocol=https\nhost =gitlab.example.com\n",
        "PROTOCOL=https\nhost=gitlab.example.com\n",
    ] {
        get(input.as_bytes()).expect(Outcome::Nothing);
    }
}

#[test]
fn row28_nul_byte_anywhere_is_refused() {
    for input in [
        &b"protocol=https\nhost=gitlab.example.com\0\n"[..],
        b"\0protocol=https\nhost=gitlab.example.com\n",
        b"protocol=https\nhost=gitlab.example.com\nwwwauth[]=\0\n",
        b"protocol=https\nhost=gitlab.example.com\n\0",
        b"protocol=https\0\nhost=gitlab.example.com\n",
    ] {
        get(input).expect(Outcome::Err(&["gitlab.example.com"]));
    }
}

#[test]
fn row29_a_ten_mebibyte_line_is_refused_after_a_bounded_read() {
    let mut input = b"protocol=https\nhost=gitlab.example.com\nwwwauth[]=".to_vec();
    input.resize(10 * 1024 * 1024, b'a');
    get(&input).expect(Outcome::Err(&["aaaa"]));
}

#[test]
fn row29_a_million_repeated_lines_are_refused_after_a_bounded_read() {
    let mut input = b"protocol=https\nhost=gitlab.example.com\n".to_vec();
    input.extend(b"wwwauth[]=Basic realm=\"GitLab\"\n".repeat(1_000_000));
    get(&input).expect(Outcome::Err(&["realm"]));
}

#[test]
fn row30_input_ends_at_the_blank_line() {
    get(b"protocol=https\nhost=gitlab.example.com\n\nhost=evil.com\n")
        .expect(Outcome::Answer("tok"));
}

#[test]
fn row31_lines_after_the_blank_line_are_not_read() {
    get(b"protocol=https\nhost=evil.com\n\nhost=gitlab.example.com\n").expect(Outcome::Nothing);
}

#[test]
fn row32_missing_or_empty_token_for_the_server_is_an_error_that_says_so() {
    for run in [
        get(b"protocol=https\nhost=gitlab.example.com\n").env_remove("CI_JOB_TOKEN"),
        get(b"protocol=https\nhost=gitlab.example.com\n").env("CI_JOB_TOKEN", ""),
    ] {
        let out = run.expect(Outcome::Err(&[]));
        let stderr = out.stderr_text();
        assert!(
            stderr.contains("CI_JOB_TOKEN"),
            "names the variable: {stderr}"
        );
        assert!(
            stderr.contains("not set") || stderr.contains("empty"),
            "{stderr}"
        );
    }
}

#[test]
fn row33_missing_token_does_not_matter_for_other_hosts() {
    get(b"protocol=https\nhost=evil.com\n")
        .env_remove("CI_JOB_TOKEN")
        .expect(Outcome::Nothing);
}

#[test]
fn row34_token_with_line_breaks_or_nul_is_an_error_and_never_printed() {
    for (token, what) in [
        ("t\nquit=1", "line feed"),
        ("t\rquit=1", "carriage return"),
        ("tok\n", "line feed"),
    ] {
        let out = get(b"protocol=https\nhost=gitlab.example.com\n")
            .env("CI_JOB_TOKEN", token)
            .expect(Outcome::Err(&["quit"]));
        assert!(out.stderr_text().contains(what), "{}", out.stderr_text());
    }
    // An environment variable cannot hold NUL; a token file can.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, b"t\0quit=1").unwrap();
    let out = get(b"protocol=https\nhost=gitlab.example.com\n")
        .arg("--token-file")
        .arg(&file)
        .expect(Outcome::Err(&["quit"]));
    assert!(out.stderr_text().contains("NUL"), "{}", out.stderr_text());
}

#[test]
fn row35_no_server_configured_answers_nothing_for_every_host() {
    for host in ["gitlab.example.com", "localhost", "", "evil.com", "*"] {
        get(format!("protocol=https\nhost={host}\n").as_bytes())
            .env_remove("CI_SERVER_URL")
            .expect(Outcome::Nothing);
    }
}

#[test]
fn row36_server_with_a_port_does_not_match_the_default_port() {
    get(b"protocol=https\nhost=gitlab.example.com\n")
        .env("CI_SERVER_URL", "https://gitlab.example.com:8443")
        .expect(Outcome::Nothing);
    get(b"protocol=https\nhost=gitlab.example.com:8443\n")
        .env("CI_SERVER_URL", "https://gitlab.example.com:8443")
        .expect(Outcome::Answer("tok"));
}

#[test]
fn row37_relative_root_path_does_not_change_matching() {
    get(b"protocol=https\nhost=example.com\n")
        .env("CI_SERVER_URL", "https://example.com/gitlab")
        .expect(Outcome::Answer("tok"));
}

#[test]
fn row38_store_and_erase_accept_anything_and_answer_nothing() {
    for operation in ["store", "erase"] {
        for input in [
            &b"protocol=https\nhost=gitlab.example.com\nusername=gitlab-ci-token\npassword=tok\n"[..],
            b"garbage\0\r\nhost=a\nhost=b\n",
            b"",
        ] {
            let out = Run::new(&[operation])
                .stdin(input)
                .env("CI_SERVER_URL", SERVER)
                .env("CI_JOB_TOKEN", "tok")
                .expect(Outcome::Nothing);
            // The one exception: `erase` for our server says, on one line, that the server
            // rejected the job token (and points at `doctor`).
            if operation == "erase" && input.starts_with(b"protocol=https") {
                let stderr = out.stderr_text();
                assert_eq!(stderr.lines().count(), 1, "{stderr}");
                assert!(stderr.contains("doctor"), "{stderr}");
            } else {
                assert!(out.stderr.is_empty(), "{operation}: {}", out.stderr_text());
            }
        }
    }
}

#[test]
fn row39_unknown_operations_are_silently_ignored() {
    for operation in ["capability", "frobnicate", "GET"] {
        let out = Run::new(&[operation])
            .stdin(b"protocol=https\nhost=gitlab.example.com\n")
            .env("CI_SERVER_URL", SERVER)
            .env("CI_JOB_TOKEN", "tok")
            .expect(Outcome::Nothing);
        assert!(out.stderr.is_empty(), "{operation}: {}", out.stderr_text());
    }
}

#[test]
fn row40_stdout_closed_early_does_not_panic() {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = get(b"")
        .command()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader is gone before anything is written
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"protocol=https\nhost=gitlab.example.com\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        out.status.code().is_some(),
        "killed by a signal: {:?}",
        out.status
    );
    assert!(!stderr.contains("tok\n"), "{stderr}");
}

#[test]
fn a_hundred_parallel_invocations_all_answer_correctly() {
    let threads: Vec<_> = (0..100)
        .map(|i| {
            std::thread::spawn(move || {
                if i % 2 == 0 {
                    get(b"protocol=https\nhost=gitlab.example.com\n")
                        .expect(Outcome::Answer("tok"));
                } else {
                    get(b"protocol=https\nhost=evil.com\n").expect(Outcome::Nothing);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}
