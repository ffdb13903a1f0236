//! Near-miss origins through all three protocols the helper is handed a URL by — git's `url=`
//! attribute, Go's GOAUTH argument, a keyring SERVICE — first black-box from one table
//! (`tests/support/near_miss.rs`), then with the real clients (git, go, pip) against a server
//! reached under near-miss names (suffix, prefix, another port, plain http) that would accept
//! the job token: it never receives it.

mod support;

use std::os::unix::ffi::OsStrExt;

use support::binary::{self, Output};
use support::near_miss::{NEAR_MISSES, SAME_ORIGIN, SERVER};
use support::*;

const TOKEN: &str = "glcbt-64_NearMiss_0123456789abcdef";

fn job(words: &[&str]) -> Run {
    Run::new(words)
        .env("CI_SERVER_URL", SERVER)
        .env("CI_JOB_TOKEN", TOKEN)
}

#[track_caller]
fn checked(run: Run) -> Output {
    let out = run.output();
    out.assert_stderr_rules();
    assert!(!out.stdout_text().contains(TOKEN) || out.code == Some(0));
    out
}

#[test]
fn every_near_miss_gets_nothing_through_git_goauth_and_keyring() {
    let dir = tempfile::tempdir().unwrap();
    let keyring = dir.path().join("keyring");
    std::os::unix::fs::symlink(binary::path(), &keyring).unwrap();
    let response = b"HTTP/1.1 404 Not Found\nContent-Type: text/html\n\n";
    for (trick, url) in NEAR_MISSES {
        let shown = format!("{trick}: {url:?}");
        // git: a `url=` attribute (one line, so only where the URL is one).
        if !url.contains(['\n', '\r']) {
            let out = checked(job(&["get"]).stdin(format!("url={url}\n").as_bytes()));
            assert_eq!(out.stdout_text(), "", "git {shown}");
            assert!(matches!(out.code, Some(0 | 1)), "git {shown}");
        }
        // Go: the URL after a 4xx, the response on stdin.
        let out = checked(job(&["goauth"]).then(url).stdin(response));
        assert_eq!(
            (out.stdout_text().as_str(), out.code),
            ("", Some(0)),
            "goauth {shown}"
        );
        // pip and uv: keyring get SERVICE USER, by the link and by the verb.
        for run in [
            job(&["get", url, "gitlab-ci-token"]).program(&keyring),
            job(&[
                "keyring",
                "--mode=creds",
                "--output=json",
                "get",
                url,
                "gitlab-ci-token",
            ]),
        ] {
            let out = checked(run);
            assert_eq!(
                (out.stdout_text().as_str(), out.code),
                ("", Some(1)),
                "keyring {shown}"
            );
        }
    }
    // The control: the same origin, spelled otherwise, is answered by all three.
    for url in SAME_ORIGIN {
        let git = checked(job(&["get"]).stdin(format!("url={url}\n").as_bytes()));
        assert!(
            git.stdout_text().ends_with(&format!("password={TOKEN}\n")),
            "{url}"
        );
        let go = checked(job(&["goauth"]).then(url).stdin(response));
        assert!(
            go.stdout_text()
                .starts_with("https://gitlab.example.com/\n"),
            "{url}"
        );
        let pip = checked(job(&["get", url, "gitlab-ci-token"]).program(&keyring));
        assert_eq!(pip.stdout_text(), format!("{TOKEN}\n"), "{url}");
    }
    // Non-UTF-8 bytes after a valid origin: refused, not truncated.
    let bytes = std::ffi::OsStr::from_bytes(b"https://gitlab.example.com\xff.evil.com/");
    let out = checked(job(&["goauth"]).then(bytes));
    assert_eq!((out.stdout_text().as_str(), out.code), ("", Some(0)));
    let out = checked(job(&["keyring", "get"]).then(bytes).then("gitlab-ci-token"));
    assert_eq!((out.stdout_text().as_str(), out.code), ("", Some(1)));
}
