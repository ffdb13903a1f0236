//! The server-side git: building the repositories tests fetch (locally, never through HTTP) and
//! running the real `git http-backend` (CGI) for requests the access model let through.
#![allow(dead_code)]

use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;

use super::git_server::{GitServer, Shared};
use super::http::{RequestHead, Response};
use super::CI_USERNAME;

impl GitServer {
    /// Creates an empty bare repository `name` (e.g. `group/project`) with `main` as HEAD,
    /// registering project `name` with [`GitServer::default_access`] unless it exists.
    pub fn create_empty_repo(&self, name: &str) -> PathBuf {
        self.register(name);
        let path = self.repo_path(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        self.git_ok(
            None,
            &[
                OsString::from("init"),
                "--quiet".into(),
                "--bare".into(),
                "-b".into(),
                "main".into(),
                path.clone().into_os_string(),
            ],
        );
        path
    }

    /// Creates bare repository `name` with one commit holding `files`; returns the commit id.
    pub fn create_repo(&self, name: &str, files: &[(&str, &[u8])]) -> String {
        self.create_empty_repo(name);
        self.commit_files(name, files, "Initial commit")
    }

    /// Adds a commit on `main` of repository `name` that writes `files` (paths may contain
    /// `/`); returns the new commit id. Works locally, not through HTTP.
    pub fn commit_files(&self, name: &str, files: &[(&str, &[u8])], message: &str) -> String {
        self.commit_with(name, message, |work| {
            for (path, content) in files {
                let file = work.dir.join(path);
                fs::create_dir_all(file.parent().unwrap()).unwrap();
                fs::write(&file, content).unwrap();
            }
            if !files.is_empty() {
                let mut args = vec!["add", "--"];
                args.extend(files.iter().map(|(path, _)| *path));
                work.git(&args);
            }
        })
    }

    /// Adds a commit on `main` of `name` with a submodule at `path` whose URL is `url`
    /// (written into `.gitmodules` as is) pinned at `commit`; returns the new commit id.
    pub fn add_submodule(&self, name: &str, path: &str, url: &str, commit: &str) -> String {
        self.commit_with(name, &format!("Add submodule {path}"), |work| {
            let gitmodules = work.dir.join(".gitmodules");
            let mut text = fs::read_to_string(&gitmodules).unwrap_or_default();
            text.push_str(&format!(
                "[submodule \"{path}\"]\n\tpath = {path}\n\turl = {url}\n"
            ));
            fs::write(&gitmodules, text).unwrap();
            work.git(&["add", ".gitmodules"]);
            let entry = format!("160000,{commit},{path}");
            work.git(&["update-index", "--add", "--cacheinfo", &entry]);
        })
    }

    /// The commit `main` points to in repository `name`.
    pub fn head(&self, name: &str) -> String {
        self.rev_parse(name, "refs/heads/main")
    }

    /// `git rev-parse <rev>` in the bare repository `name`.
    pub fn rev_parse(&self, name: &str, rev: &str) -> String {
        let out = self.git_ok(
            Some(&self.repo_path(name)),
            &["rev-parse".into(), "--verify".into(), OsString::from(rev)],
        );
        String::from_utf8(out).unwrap().trim().to_string()
    }

    /// Commits what `edit` does to a checkout of `main` straight into the bare repository
    /// (its own index and work tree in a scratch directory; no clone, no push).
    fn commit_with(&self, name: &str, message: &str, edit: impl FnOnce(&Checkout)) -> String {
        let scratch = tempfile::Builder::new()
            .prefix("gitlab-test-commit-")
            .tempdir()
            .unwrap();
        let repo = self.repo_path(name);
        let work = Checkout {
            server: self,
            repo: repo.clone(),
            dir: scratch.path().join("w"),
            index: scratch.path().join("index"),
        };
        fs::create_dir(&work.dir).unwrap();
        let has_main = repo.join("refs/heads/main").exists()
            || fs::read_to_string(repo.join("packed-refs"))
                .is_ok_and(|refs| refs.contains(" refs/heads/main\n"));
        if has_main {
            work.git(&["read-tree", "--reset", "-u", "refs/heads/main"]);
        }
        edit(&work);
        work.git(&["commit", "--quiet", "--allow-empty", "-m", message]);
        let out = work.git(&["rev-parse", "HEAD"]);
        String::from_utf8(out).unwrap().trim().to_string()
    }

    /// Runs the server-side git with an isolated environment; panics on failure.
    fn git_ok(&self, dir: Option<&Path>, args: &[OsString]) -> Vec<u8> {
        let mut cmd = server_git_command(&self.shared);
        cmd.args(args);
        if let Some(dir) = dir {
            cmd.current_dir(dir);
        }
        run_ok(cmd, args)
    }
}

/// A scratch work tree and index for one commit into a bare repository.
struct Checkout<'a> {
    server: &'a GitServer,
    repo: PathBuf,
    dir: PathBuf,
    index: PathBuf,
}

impl Checkout<'_> {
    fn git(&self, args: &[&str]) -> Vec<u8> {
        let mut cmd = server_git_command(&self.server.shared);
        cmd.arg("--git-dir")
            .arg(&self.repo)
            .arg("--work-tree")
            .arg(&self.dir)
            .args(args)
            .env("GIT_INDEX_FILE", &self.index)
            .current_dir(&self.dir);
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        run_ok(cmd, &args)
    }
}

fn run_ok(mut cmd: Command, args: &[OsString]) -> Vec<u8> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .expect("run server-side git");
    assert!(
        out.status.success(),
        "server-side git {:?} failed: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub(super) fn server_git_command(shared: &Shared) -> Command {
    let mut cmd = Command::new(&shared.git);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &shared.server_home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test Server")
        .env("GIT_AUTHOR_EMAIL", "server@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test Server")
        .env("GIT_COMMITTER_EMAIL", "server@example.invalid")
        .env("GIT_TERMINAL_PROMPT", "0");
    cmd
}

pub(super) fn run_http_backend(shared: &Shared, head: &RequestHead, body: Vec<u8>) -> Response {
    let mut cmd = server_git_command(shared);
    cmd.arg("http-backend")
        .env("GIT_PROJECT_ROOT", &shared.project_root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("REQUEST_METHOD", &head.method)
        .env("PATH_INFO", &head.path)
        .env("QUERY_STRING", &head.query)
        .env("REMOTE_ADDR", "127.0.0.1")
        // Only reached when authenticated.
        .env("REMOTE_USER", CI_USERNAME)
        .env("CONTENT_TYPE", head.header("content-type").unwrap_or(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if head.method == "POST" || !body.is_empty() {
        cmd.env("CONTENT_LENGTH", body.len().to_string());
    }
    if let Some(protocol) = head.header("git-protocol") {
        cmd.env("GIT_PROTOCOL", protocol);
    }
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => return Response::new(500, "text/plain", format!("spawn http-backend: {e}\n")),
    };
    let mut stdin = child.stdin.take().unwrap();
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let output = child.wait_with_output();
    let _ = writer.join();
    let output = match output {
        Ok(output) => output,
        Err(e) => return Response::new(500, "text/plain", format!("http-backend: {e}\n")),
    };
    parse_cgi_output(&output.stdout).unwrap_or_else(|| {
        Response::new(
            500,
            "text/plain",
            format!(
                "bad CGI output; stderr: {}\n",
                String::from_utf8_lossy(&output.stderr)
            ),
        )
    })
}

fn parse_cgi_output(out: &[u8]) -> Option<Response> {
    let (head_end, body_start) = match (
        find(out, b"\r\n\r\n").map(|i| (i, i + 4)),
        find(out, b"\n\n").map(|i| (i, i + 2)),
    ) {
        (Some(a), Some(b)) => {
            if a.0 < b.0 {
                a
            } else {
                b
            }
        }
        (Some(a), None) => a,
        (None, Some(b)) => b,
        (None, None) => return None,
    };
    let head = std::str::from_utf8(&out[..head_end]).ok()?;
    let mut status = 200;
    let mut headers = Vec::new();
    for line in head.lines() {
        let (name, value) = line.split_once(':')?;
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("status") {
            status = value.split(' ').next()?.parse().ok()?;
        } else if !name.eq_ignore_ascii_case("content-length") {
            headers.push((name.to_string(), value.to_string()));
        }
    }
    Some(Response {
        status,
        headers,
        body: out[body_start..].to_vec(),
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
