//! The failure classifier against what real git 2.47 and 2.39 print today: a small HTTP
//! responder on 127.0.0.1 gives GitLab's documented answers, real
//! git runs `ls-remote`/`push` against it, and the classifier must name the cause from git's
//! whole stderr. The exact texts are also pasted into src/doctor/git_failure.rs's table test; this
//! test keeps them honest when git changes.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use git_credential_gitlab_ci::doctor::git_failure::{
    classify, Cause, Ended, HelperProblem, Network,
};

const DENIED: &str = "HTTP Basic: Access denied. If a password was provided for Git authentication, the password was incorrect or you're required to use a token instead of a password. If a token was provided, it was either incorrect, expired, or improperly scoped. See http://127.0.0.1/help/topics/git/troubleshooting_git.md#error-on-git-fetch-http-basic-access-denied";

const TOKEN: &str = "glcbt-64_ClassifierToken_0123456789";

/// What the responder answers for a path's first segment, once credentials were sent.
fn answer(scenario: &str) -> (u16, &'static str) {
    match scenario {
        "denied" => (401, DENIED),
        "allowlist" => (
            403,
            "Authentication by CI/CD job token not allowed from group/app to group/sub/lib.",
        ),
        "user" => (
            403,
            "Insufficient permissions to pull from the repository of project group/sub/lib.",
        ),
        "missing" => (
            404,
            "The project you were looking for could not be found or you don't have permission to view it.",
        ),
        "push" => (403, "You are not allowed to push code to this project."),
        "archived" => (403, "You are not allowed to push code to an archived project."),
        "http" => (403, "Pulling over HTTP is not allowed."),
        "forbidden" => (403, ""),
        _ => (500, "unexpected"),
    }
}

struct Responder {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Responder {
    fn start() -> Responder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut handlers = Vec::new();
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                // One thread per connection: a TLS client that never sends a request head
                // must not hold up the next one.
                if let Ok(stream) = stream {
                    handlers.push(std::thread::spawn(move || respond(stream)));
                }
            }
            for handler in handlers {
                let _ = handler.join();
            }
        });
        Responder {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn respond(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while head.len() < 64 * 1024 && !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
        if head == [0x16] {
            // A TLS ClientHello on this plain-HTTP port: answer as a plain server would.
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
            return;
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/");
    let scenario = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let authorized = head
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("authorization: basic "));
    let (status, body) = if authorized {
        answer(scenario)
    } else {
        (401, DENIED)
    };
    let reason = match status {
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Internal Server Error",
    };
    let challenge = if status == 401 {
        "WWW-Authenticate: Basic realm=\"GitLab\"\r\n"
    } else {
        ""
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\n{challenge}Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Both gits of these machines (both required under CI), at least one.
fn gits() -> Vec<&'static str> {
    let gits = support::installed_gits();
    assert!(!gits.is_empty(), "no git found");
    gits
}

/// Runs git with only `helper` as credential helper (none when empty), no prompts, in `dir`.
fn run_git(git: &str, dir: &Path, helper: &str, args: &[&str]) -> (Ended, String) {
    let out = Command::new(git)
        .arg("-c")
        .arg("credential.helper=")
        .arg("-c")
        .arg(format!("credential.helper={helper}"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", dir.join("empty.gitconfig"))
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .expect("run git");
    let ended = out.status.code().map_or(Ended::Killed, Ended::Exited);
    (ended, String::from_utf8(out.stderr).unwrap())
}

#[test]
fn real_git_failures_are_classified_by_cause() {
    let responder = Responder::start();
    let base = format!("http://127.0.0.1:{}", responder.port);
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    std::fs::write(home.join("empty.gitconfig"), "").unwrap();
    let not_executable = home.join("git-credential-gitlab-ci");
    std::fs::write(&not_executable, "#!/bin/sh\n").unwrap();
    let answering = format!("!f() {{ echo username=gitlab-ci-token; echo password={TOKEN}; }}; f");
    let ours = env!("CARGO_BIN_EXE_git-credential-gitlab-ci");
    let failing = format!("{ours} --server {base} --token-file /nonexistent/token");
    let refused = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let ls = |url: String| vec!["ls-remote".to_string(), url];
    let cases: Vec<(String, Vec<String>, Cause)> = vec![
        (answering.clone(), ls(format!("{base}/denied/g/x.git")), Cause::TokenRejected),
        (
            answering.clone(),
            ls(format!("{base}/allowlist/g/x.git")),
            Cause::AllowlistDenied {
                source: Some("group/app".into()),
                target: Some("group/sub/lib".into()),
            },
        ),
        (
            answering.clone(),
            ls(format!("{base}/user/g/x.git")),
            Cause::UserLacksAccess {
                target: Some("group/sub/lib".into()),
            },
        ),
        (answering.clone(), ls(format!("{base}/missing/g/x.git")), Cause::NotFound),
        (answering.clone(), ls(format!("{base}/http/g/x.git")), Cause::HttpPullDisabled),
        (answering.clone(), ls(format!("{base}/forbidden/g/x.git")), Cause::Forbidden),
        (
            "/nonexistent/git-credential-gitlab-ci --server x".into(),
            ls(format!("{base}/allowlist/g/x.git")),
            Cause::HelperNotRunnable {
                program: "/nonexistent/git-credential-gitlab-ci".into(),
                ours: true,
                problem: HelperProblem::Missing,
            },
        ),
        (
            not_executable.display().to_string(),
            ls(format!("{base}/allowlist/g/x.git")),
            Cause::HelperNotRunnable {
                program: not_executable.display().to_string(),
                ours: true,
                problem: HelperProblem::NotExecutable,
            },
        ),
        (
            "gitlab-ci".into(),
            ls(format!("{base}/allowlist/g/x.git")),
            Cause::HelperNotRunnable {
                program: "git-credential-gitlab-ci".into(),
                ours: true,
                problem: HelperProblem::Missing,
            },
        ),
        (String::new(), ls(format!("{base}/allowlist/g/x.git")), Cause::NoHelperAnswered),
        (
            format!("!f() {{ {failing} \"$@\"; }}; f"),
            ls(format!("{base}/allowlist/g/x.git")),
            Cause::HelperFailed {
                message: "the request is for http://127.0.0.1:PORT, but cannot read the token file /nonexistent/token (entity not found); check that the secret is mounted and readable"
                    .replace("PORT", &responder.port.to_string()),
            },
        ),
        (
            answering.clone(),
            ls(format!("http://127.0.0.1:{refused}/g/x.git")),
            Cause::Network(Network::Connect),
        ),
        (
            answering.clone(),
            ls("http://no-such-host.invalid/g/x.git".into()),
            Cause::Network(Network::Resolve),
        ),
        (
            answering.clone(),
            ls(format!("https://127.0.0.1:{}/g/x.git", responder.port)),
            Cause::Tls,
        ),
    ];
    for git in gits() {
        for (helper, args, expected) in &cases {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (ended, stderr) = run_git(git, home, helper, &args);
            let failure = classify(ended, &stderr).expect("git failed");
            assert_eq!(&failure.cause, expected, "{git} {args:?}\n{stderr}");
            assert!(!failure.excerpt.contains(TOKEN), "{stderr}");
        }
        // Pushes: a repository with one commit.
        let repo = home.join("repo");
        if !repo.exists() {
            let (_, _) = run_git(git, home, "", &["init", "-q", repo.to_str().unwrap()]);
            let (_, _) = run_git(
                git,
                &repo,
                "",
                &[
                    "-c",
                    "user.name=t",
                    "-c",
                    "user.email=t@t",
                    "commit",
                    "-q",
                    "--allow-empty",
                    "-m",
                    "x",
                ],
            );
        }
        for (scenario, expected) in [
            ("push", Cause::PushNotAllowed),
            ("archived", Cause::ArchivedProject),
        ] {
            let url = format!("{base}/{scenario}/g/x.git");
            let (ended, stderr) = run_git(
                git,
                &repo,
                &answering,
                &["push", &url, "HEAD:refs/heads/main"],
            );
            let failure = classify(ended, &stderr).expect("push failed");
            assert_eq!(failure.cause, expected, "{git} push {scenario}\n{stderr}");
        }
    }
}
