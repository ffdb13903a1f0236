//! The helper driven by real `git credential fill`, configured as the README tells users to:
//! by absolute path in `credential.helper`, in an isolated `HOME`, with no system config.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{assert_stderr_rules, helper};

const TOKEN: &str = "glcbt-64_FillToken_0123456789";

/// Both gits of these machines when present; the first one found on PATH otherwise.
fn gits() -> Vec<String> {
    let mut gits: Vec<String> = ["/usr/local/bin/git", "/usr/bin/git"]
        .iter()
        .filter(|p| Path::new(p).exists())
        .map(|p| p.to_string())
        .collect();
    if gits.is_empty() {
        gits.push("git".into());
    }
    gits
}

fn git(git: &str, home: &Path, args: &[&str], stdin: &str) -> Output {
    git_with_token(git, home, args, stdin, Some(TOKEN))
}

/// `git <args>` in the isolated `HOME`, as in a job; `token` is `CI_JOB_TOKEN` (unset: `None`).
fn git_with_token(
    git: &str,
    home: &Path,
    args: &[&str],
    stdin: &str,
    token: Option<&str>,
) -> Output {
    let mut child = Command::new(git)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("CI_SERVER_URL", "https://gitlab.example.com")
        .envs(token.map(|t| ("CI_JOB_TOKEN", t)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run git");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn configured_home(git_path: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let helper = helper();
    let out = git(
        git_path,
        home.path(),
        &[
            "config",
            "--global",
            "credential.helper",
            helper.to_str().unwrap(),
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    home
}

#[test]
fn git_credential_fill_gets_the_token_for_the_server() {
    for g in gits() {
        let home = configured_home(&g);
        let out = git(
            &g,
            home.path(),
            &["credential", "fill"],
            "protocol=https\nhost=gitlab.example.com\n\n",
        );
        assert!(
            out.status.success(),
            "{g}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("username=gitlab-ci-token\n"),
            "{g}: {stdout}"
        );
        assert!(
            stdout.contains(&format!("password={TOKEN}\n")),
            "{g}: {stdout}"
        );
        assert!(!String::from_utf8_lossy(&out.stderr).contains(TOKEN));
    }
}

#[test]
fn git_credential_fill_gets_nothing_for_another_host() {
    for g in gits() {
        let home = configured_home(&g);
        let out = git(
            &g,
            home.path(),
            &["credential", "fill"],
            "protocol=https\nhost=evil.example.com\n\n",
        );
        // No helper answered and prompts are off, so git fails without any credential.
        assert!(!out.status.success(), "{g}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!stdout.contains(TOKEN), "{g}: {stdout}");
        assert!(!stdout.contains("password="), "{g}: {stdout}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains(TOKEN));
    }
}

#[test]
fn git_credential_approve_and_reject_leave_no_trace() {
    for g in gits() {
        let home = configured_home(&g);
        let request = format!(
            "protocol=https\nhost=gitlab.example.com\nusername=gitlab-ci-token\npassword={TOKEN}\n\n"
        );
        for op in ["approve", "reject"] {
            let out = git(&g, home.path(), &["credential", op], &request);
            assert!(
                out.status.success(),
                "{g} {op}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!String::from_utf8_lossy(&out.stderr).contains(TOKEN));
        }
        let mut files = vec![home.path().to_path_buf()];
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else {
                let content = std::fs::read(&path).unwrap();
                assert!(
                    !content.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
                    "token written to {}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn git_shows_our_error_line_when_the_token_is_missing() {
    let g = &gits()[0];
    let home = configured_home(g);
    let out = git_with_token(
        g,
        home.path(),
        &["credential", "fill"],
        "protocol=https\nhost=gitlab.example.com\n\n",
        None,
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with(common::PREFIX))
        .collect();
    assert_eq!(ours.len(), 1, "{stderr}");
    assert!(ours[0].contains("CI_JOB_TOKEN"), "{stderr}");
    assert_stderr_rules(ours.join("\n").as_bytes(), Some(TOKEN));
}
