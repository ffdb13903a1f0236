//! Token sources never block and are bounded: a `--token-file` that is not a regular file (a
//! FIFO with no writer, a directory, a device) is an error naming the file for a request that
//! would be answered, and is never touched for any other request — in `get`, `docker get` and
//! `doctor` alike. A run that blocked would be killed at the harness's time limit and fail.

mod support;

use std::path::{Path, PathBuf};

use support::{ClientEnv, Outcome, Run};

const TOKEN: &str = "glcbt-64_ToKeNsOuRcE_0123456789ab";
const NOT_FOUND: &str = "credentials not found in native keychain\n";

/// A FIFO with no writer: opening it for reading the ordinary way blocks forever.
fn fifo(dir: &Path) -> PathBuf {
    let path = dir.join("ci_job_token");
    let made = std::process::Command::new("mkfifo").arg(&path).status();
    assert!(made.expect("mkfifo").success(), "mkfifo");
    path
}

fn get(host: &str, token_file: &Path) -> Run {
    Run::get(format!("protocol=https\nhost={host}\n").as_bytes())
        .arg("--token-file")
        .arg(token_file)
        .env("CI_SERVER_URL", "https://gitlab.example.com")
        .env("CI_JOB_TOKEN", TOKEN)
}

fn docker_get(registry: &str, token_file: &Path) -> Run {
    Run::new(&["docker", "get"])
        .arg("--token-file")
        .arg(token_file)
        .stdin(registry.as_bytes())
        .env("CI_REGISTRY", "registry.example.com")
        .env("CI_JOB_TOKEN", TOKEN)
}

#[test]
fn get_with_a_fifo_token_file_answers_nothing_for_other_hosts_and_an_error_for_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo(dir.path());
    get("evil.example", &fifo).expect(Outcome::Nothing);
    get("gitlab.example.com:8443", &fifo).expect(Outcome::Nothing);
    let out = get("gitlab.example.com", &fifo).expect(Outcome::Err(&[TOKEN]));
    let stderr = out.stderr_text();
    assert!(stderr.contains(&*fifo.to_string_lossy()), "{stderr}");
    assert!(stderr.contains("FIFO"), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
}

#[test]
fn get_with_a_directory_or_device_token_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for (path, kind) in [
        (dir.path().to_path_buf(), "a directory"),
        (PathBuf::from("/dev/null"), "a character device"),
    ] {
        let out = get("gitlab.example.com", &path).expect(Outcome::Err(&[TOKEN]));
        let stderr = out.stderr_text();
        assert!(stderr.contains(&*path.to_string_lossy()), "{stderr}");
        assert!(stderr.contains(kind), "{stderr}");
        get("other.example", &path).expect(Outcome::Nothing);
    }
}

#[test]
fn docker_get_with_a_fifo_token_file_is_not_found_for_other_registries_and_an_error_for_ours() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo(dir.path());
    let other = docker_get("docker.io", &fifo).output();
    other.assert_stderr_rules();
    assert_eq!(
        (other.code, other.stdout_text().as_str()),
        (Some(1), NOT_FOUND)
    );
    let ours = docker_get("registry.example.com", &fifo).output();
    ours.assert_stderr_rules();
    assert_eq!(ours.code, Some(1));
    let stderr = ours.stderr_text();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&*fifo.to_string_lossy()), "{stderr}");
    assert!(stderr.contains("FIFO"), "{stderr}");
    assert!(!ours.stdout_text().contains(TOKEN));
}

#[test]
fn doctor_with_a_fifo_token_file_reports_it_and_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo(dir.path());
    let env = ClientEnv::local()
        .server_url("https://gitlab.example.com")
        .build();
    let out = env.run_verb(&["doctor", "--token-file", fifo.to_str().unwrap()], None);
    assert!(!out.timed_out(), "{out}");
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
    let token_line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("PROBLEM") && l.contains("token"))
        .unwrap_or_else(|| panic!("no token problem: {out}"));
    assert!(token_line.contains(fifo.to_str().unwrap()), "{out}");
    assert!(token_line.contains("FIFO"), "{out}");
}
