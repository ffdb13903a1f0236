//! A GitLab-like git server for tests.
//!
//! - HTTPS (rustls, certificate from a [`TestCa`]) or plain HTTP, on `127.0.0.1`, port chosen
//!   by the OS; one thread per connection; HTTP/1.1 keep-alive; request bodies with
//!   `Content-Length` or `Transfer-Encoding: chunked`, optionally `Content-Encoding: gzip`;
//!   `Expect: 100-continue`.
//! - Every request must carry HTTP Basic auth `gitlab-ci-token:<token>`; otherwise the answer is
//!   `401` with `WWW-Authenticate: Basic realm="GitLab"`, as GitLab does.
//! - Git requests are served by the real `git http-backend` (CGI).
//! - A minimal git-lfs server: batch API (`basic` transfer), object upload and download, and an
//!   empty lock list. Batch actions carry the `Authorization` header and say
//!   `"authenticated": true`, as git-lfs needs.
//! - Every request is recorded ([`LoggedRequest`]): method, path, status, auth outcome and the
//!   username offered. Passwords are never stored.
//!
//! Dropping the [`GitServer`] stops it: the listener thread ends, open connections are shut
//! down and their threads joined (each CGI child is waited for by its connection thread).
#![allow(dead_code)]

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use base64::Engine as _;

use super::tls::TestCa;

/// The only username GitLab accepts with a job token.
pub const CI_USERNAME: &str = "gitlab-ci-token";

/// What a request offered as credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthOutcome {
    /// No `Authorization` header.
    None,
    /// `gitlab-ci-token` with the right token.
    Ok,
    /// Another username (or an `Authorization` header that is not valid HTTP Basic).
    WrongUser,
    /// `gitlab-ci-token` with a wrong password.
    WrongPassword,
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct LoggedRequest {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    pub query: String,
    pub status: u16,
    pub auth: AuthOutcome,
    /// The username offered with HTTP Basic auth, if any.
    pub username: Option<String>,
    /// The `Host` header: which name the client used for the server.
    pub host: String,
    pub user_agent: String,
}

impl LoggedRequest {
    /// True when the request offered the username `gitlab-ci-token`.
    pub fn offered_ci_username(&self) -> bool {
        self.username.as_deref() == Some(CI_USERNAME)
    }
}

/// Options for [`GitServer::start_with`].
#[derive(Clone)]
pub struct ServerOptions {
    /// `Some(ca)`: HTTPS with a certificate for `localhost` and `127.0.0.1` issued by `ca`;
    /// `None`: plain HTTP.
    pub tls: Option<TestCa>,
    /// The job token the server accepts.
    pub token: String,
    /// The `git` binary that runs `http-backend` and builds repositories.
    pub git: PathBuf,
}

struct Shared {
    token: String,
    git: PathBuf,
    project_root: PathBuf,
    server_home: PathBuf,
    scheme: &'static str,
    log: Mutex<Vec<LoggedRequest>>,
    lfs_objects: Mutex<HashMap<String, Vec<u8>>>,
    stopping: AtomicBool,
    connections: Mutex<Vec<(TcpStream, JoinHandle<()>)>>,
}

/// A running server. See the module documentation.
pub struct GitServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept_thread: Option<JoinHandle<()>>,
    _root: tempfile::TempDir,
    _ca: Option<TestCa>,
}

trait Conn: Read + Write + Send {}
impl<T: Read + Write + Send> Conn for T {}

impl GitServer {
    /// An HTTPS server accepting `gitlab-ci-token:<token>`.
    pub fn start(ca: &TestCa, token: &str) -> GitServer {
        GitServer::start_with(ServerOptions {
            tls: Some(ca.clone()),
            token: token.to_string(),
            git: PathBuf::from("git"),
        })
    }

    /// A plain-HTTP server accepting `gitlab-ci-token:<token>`.
    pub fn start_http(token: &str) -> GitServer {
        GitServer::start_with(ServerOptions {
            tls: None,
            token: token.to_string(),
            git: PathBuf::from("git"),
        })
    }

    pub fn start_with(options: ServerOptions) -> GitServer {
        let root = tempfile::Builder::new()
            .prefix("gitlab-test-server-")
            .tempdir()
            .expect("server temp dir");
        let project_root = root.path().join("repos");
        let server_home = root.path().join("home");
        fs::create_dir_all(&project_root).unwrap();
        fs::create_dir_all(&server_home).unwrap();

        let tls_config = options
            .tls
            .as_ref()
            .map(|ca| ca.localhost_cert().rustls_server_config(ca));

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            token: options.token,
            git: options.git,
            project_root,
            server_home,
            scheme: if tls_config.is_some() {
                "https"
            } else {
                "http"
            },
            log: Mutex::new(Vec::new()),
            lfs_objects: Mutex::new(HashMap::new()),
            stopping: AtomicBool::new(false),
            connections: Mutex::new(Vec::new()),
        });

        let accept_shared = Arc::clone(&shared);
        let accept_thread = thread::Builder::new()
            .name(format!("git-server-{}", addr.port()))
            .spawn(move || accept_loop(listener, accept_shared, tls_config))
            .expect("spawn accept thread");

        GitServer {
            shared,
            addr,
            accept_thread: Some(accept_thread),
            _root: root,
            _ca: options.tls,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn scheme(&self) -> &'static str {
        self.shared.scheme
    }

    /// `https://localhost:PORT` — the form to use for `CI_SERVER_URL` and for cargo (libgit2
    /// rejects certificates for IP addresses and sends no `host` for them).
    pub fn url(&self) -> String {
        format!("{}://localhost:{}", self.shared.scheme, self.port())
    }

    /// `https://127.0.0.1:PORT`.
    pub fn ip_url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.shared.scheme, self.port())
    }

    /// `https://localhost:PORT/<name>.git`.
    pub fn repo_url(&self, name: &str) -> String {
        format!("{}/{}.git", self.url(), name)
    }

    /// The token the server accepts.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The bare repository's directory for `name` (e.g. `group/project`).
    pub fn repo_path(&self, name: &str) -> PathBuf {
        self.shared.project_root.join(format!("{name}.git"))
    }

    /// Every request so far, in order of completion.
    pub fn log(&self) -> Vec<LoggedRequest> {
        self.shared.log.lock().unwrap().clone()
    }

    /// Forgets the requests logged so far.
    pub fn clear_log(&self) {
        self.shared.log.lock().unwrap().clear();
    }

    /// The log formatted one request a line, for assertion messages.
    pub fn log_text(&self) -> String {
        self.log()
            .iter()
            .map(|r| {
                format!(
                    "{} {} {}{}{} -> {} auth={:?} user={:?} ua={:?}",
                    r.host,
                    r.method,
                    r.path,
                    if r.query.is_empty() { "" } else { "?" },
                    r.query,
                    r.status,
                    r.auth,
                    r.username,
                    r.user_agent
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The LFS object `oid` stored for repository `name`, if any.
    pub fn lfs_object(&self, name: &str, oid: &str) -> Option<Vec<u8>> {
        self.shared
            .lfs_objects
            .lock()
            .unwrap()
            .get(&format!("{name}.git/{oid}"))
            .cloned()
    }

    /// Creates an empty bare repository `name` (e.g. `group/project`) with `main` as HEAD.
    pub fn create_empty_repo(&self, name: &str) -> PathBuf {
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
                let file = work.join(path);
                fs::create_dir_all(file.parent().unwrap()).unwrap();
                fs::write(&file, content).unwrap();
                self.git_ok(Some(work), &["add".into(), OsString::from(path)]);
            }
        })
    }

    /// Adds a commit on `main` of `name` with a submodule at `path` whose URL is `url`
    /// (written into `.gitmodules` as is) pinned at `commit`; returns the new commit id.
    pub fn add_submodule(&self, name: &str, path: &str, url: &str, commit: &str) -> String {
        self.commit_with(name, &format!("Add submodule {path}"), |work| {
            let gitmodules = work.join(".gitmodules");
            let mut text = fs::read_to_string(&gitmodules).unwrap_or_default();
            text.push_str(&format!(
                "[submodule \"{path}\"]\n\tpath = {path}\n\turl = {url}\n"
            ));
            fs::write(&gitmodules, text).unwrap();
            self.git_ok(Some(work), &["add".into(), ".gitmodules".into()]);
            self.git_ok(
                Some(work),
                &[
                    "update-index".into(),
                    "--add".into(),
                    "--cacheinfo".into(),
                    format!("160000,{commit},{path}").into(),
                ],
            );
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

    fn commit_with(&self, name: &str, message: &str, edit: impl FnOnce(&Path)) -> String {
        let scratch = tempfile::Builder::new()
            .prefix("gitlab-test-commit-")
            .tempdir()
            .unwrap();
        let work = scratch.path().join("w");
        self.git_ok(
            None,
            &[
                "clone".into(),
                "--quiet".into(),
                self.repo_path(name).into_os_string(),
                work.clone().into_os_string(),
            ],
        );
        self.git_ok(
            Some(&work),
            &[
                "checkout".into(),
                "--quiet".into(),
                "-B".into(),
                "main".into(),
            ],
        );
        edit(&work);
        self.git_ok(
            Some(&work),
            &[
                "commit".into(),
                "--quiet".into(),
                "--allow-empty".into(),
                "-m".into(),
                message.into(),
            ],
        );
        self.git_ok(
            Some(&work),
            &[
                "push".into(),
                "--quiet".into(),
                "origin".into(),
                "HEAD:refs/heads/main".into(),
            ],
        );
        let out = self.git_ok(Some(&work), &["rev-parse".into(), "HEAD".into()]);
        String::from_utf8(out).unwrap().trim().to_string()
    }

    /// Runs the server-side git with an isolated environment; panics on failure.
    fn git_ok(&self, dir: Option<&Path>, args: &[OsString]) -> Vec<u8> {
        let mut cmd = server_git_command(&self.shared);
        cmd.args(args);
        if let Some(dir) = dir {
            cmd.current_dir(dir);
        }
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
}

impl Drop for GitServer {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accept() call; it sees `stopping` and returns.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(handle) = self.accept_thread.take() {
            let _ = handle.join();
        }
        let connections = std::mem::take(&mut *self.shared.connections.lock().unwrap());
        for (stream, handle) in connections {
            let _ = stream.shutdown(Shutdown::Both);
            let _ = handle.join();
        }
    }
}

fn server_git_command(shared: &Shared) -> Command {
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

fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls_config: Option<Arc<rustls::ServerConfig>>,
) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
        let _ = stream.set_write_timeout(Some(Duration::from_secs(60)));
        let _ = stream.set_nodelay(true);
        let Ok(control) = stream.try_clone() else {
            continue;
        };
        let conn_shared = Arc::clone(&shared);
        let tls = tls_config.clone();
        let handle = thread::spawn(move || {
            let conn: Box<dyn Conn> = match tls {
                Some(config) => match rustls::ServerConnection::new(config) {
                    Ok(server_conn) => Box::new(rustls::StreamOwned::new(server_conn, stream)),
                    Err(_) => return,
                },
                None => Box::new(stream),
            };
            serve_connection(&conn_shared, conn);
        });
        let mut connections = shared.connections.lock().unwrap();
        // Forget connections whose thread has ended.
        connections.retain(|(_, h)| !h.is_finished());
        connections.push((control, handle));
    }
}

struct RequestHead {
    method: String,
    path: String,
    query: String,
    version: String,
    /// Header names lowercased.
    headers: Vec<(String, String)>,
}

impl RequestHead {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    fn unauthorized() -> Response {
        let mut r = Response::new(401, "text/plain", "HTTP Basic: Access denied\n");
        r.headers
            .push(("WWW-Authenticate".into(), "Basic realm=\"GitLab\"".into()));
        r
    }
}

fn serve_connection(shared: &Shared, conn: Box<dyn Conn>) {
    let mut reader = BufReader::new(conn);
    loop {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let head = match read_head(&mut reader) {
            Ok(Some(head)) => head,
            Ok(None) | Err(_) => return,
        };
        let (auth, username) = check_auth(&head, &shared.token);
        let wants_close = head
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
            || head.version == "HTTP/1.0";
        let has_body = head
            .header("content-length")
            .is_some_and(|v| v.trim() != "0")
            || head.header("transfer-encoding").is_some();
        let expects_continue = head
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));

        let mut close_after = wants_close;
        let response = if auth != AuthOutcome::Ok && has_body && expects_continue {
            // Refuse without reading the body: the client has not sent it yet.
            close_after = true;
            Response::unauthorized()
        } else {
            if has_body && expects_continue && send_continue(reader.get_mut()).is_err() {
                return;
            }
            let body = match read_body(&mut reader, &head) {
                Ok(body) => body,
                Err(_) => return,
            };
            if auth != AuthOutcome::Ok {
                Response::unauthorized()
            } else {
                handle_request(shared, &head, body)
            }
        };

        shared.log.lock().unwrap().push(LoggedRequest {
            method: head.method.clone(),
            path: head.path.clone(),
            query: head.query.clone(),
            status: response.status,
            auth,
            username,
            host: head.header("host").unwrap_or("").to_string(),
            user_agent: head.header("user-agent").unwrap_or("").to_string(),
        });

        if write_response(reader.get_mut(), &response, close_after).is_err() || close_after {
            return;
        }
    }
}

fn send_continue(out: &mut dyn Write) -> io::Result<()> {
    out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    out.flush()
}

fn read_line_limited(reader: &mut impl BufRead, limit: u64) -> io::Result<String> {
    let mut buf = Vec::new();
    reader.take(limit).read_until(b'\n', &mut buf)?;
    if !buf.ends_with(b"\n") && !buf.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
    }
    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        buf.pop();
    }
    String::from_utf8(buf).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8"))
}

fn read_head(reader: &mut impl BufRead) -> io::Result<Option<RequestHead>> {
    // Distinguish a clean end of the connection from a truncated request.
    if reader.fill_buf()?.is_empty() {
        return Ok(None);
    }
    let line = read_line_limited(reader, 16 * 1024)?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "bad request line",
        ));
    };
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target.to_string(), String::new()),
    };
    let mut headers = Vec::new();
    loop {
        let line = read_line_limited(reader, 64 * 1024)?;
        if line.is_empty() {
            break;
        }
        if headers.len() > 200 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "too many headers",
            ));
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    Ok(Some(RequestHead {
        method: method.to_string(),
        path,
        query,
        version: version.to_string(),
        headers,
    }))
}

const MAX_BODY: u64 = 256 * 1024 * 1024;

fn read_body(reader: &mut impl BufRead, head: &RequestHead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let chunked = head
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            let size_line = read_line_limited(reader, 1024)?;
            let size_hex = size_line.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(size_hex, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if size == 0 {
                // Trailers, then the final empty line.
                while !read_line_limited(reader, 64 * 1024)?.is_empty() {}
                break;
            }
            if body.len() as u64 + size > MAX_BODY {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
            }
            reader.take(size).read_to_end(&mut body)?;
            if !read_line_limited(reader, 2)?.is_empty() {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "bad chunk end"));
            }
        }
    } else if let Some(len) = head.header("content-length") {
        let len: u64 = len
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad content-length"))?;
        if len > MAX_BODY {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
        }
        reader.take(len).read_to_end(&mut body)?;
        if body.len() as u64 != len {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "short body"));
        }
    }
    match head.header("content-encoding").map(str::to_ascii_lowercase) {
        Some(enc) if enc == "gzip" || enc == "x-gzip" => {
            let mut decoded = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .take(MAX_BODY)
                .read_to_end(&mut decoded)?;
            Ok(decoded)
        }
        _ => Ok(body),
    }
}

fn check_auth(head: &RequestHead, token: &str) -> (AuthOutcome, Option<String>) {
    let Some(value) = head.header("authorization") else {
        return (AuthOutcome::None, None);
    };
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return (AuthOutcome::WrongUser, None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return (AuthOutcome::WrongUser, None);
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return (AuthOutcome::WrongUser, None);
    };
    let decoded = String::from_utf8_lossy(&decoded).into_owned();
    let (user, password) = decoded.split_once(':').unwrap_or((decoded.as_str(), ""));
    let outcome = if user != CI_USERNAME {
        AuthOutcome::WrongUser
    } else if password != token {
        AuthOutcome::WrongPassword
    } else {
        AuthOutcome::Ok
    };
    (outcome, Some(user.to_string()))
}

fn write_response(out: &mut dyn Write, response: &Response, close: bool) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    out.write_all(&response.body)?;
    out.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        422 => "Unprocessable Entity",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

fn handle_request(shared: &Shared, head: &RequestHead, body: Vec<u8>) -> Response {
    if head.path.contains("..") || !head.path.starts_with('/') {
        return Response::new(400, "text/plain", "bad path\n");
    }
    if let Some((repo, rest)) = head.path.split_once(".git/info/lfs/") {
        return handle_lfs(shared, head, &format!("{}.git", &repo[1..]), rest, body);
    }
    run_http_backend(shared, head, body)
}

fn run_http_backend(shared: &Shared, head: &RequestHead, body: Vec<u8>) -> Response {
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

const LFS_JSON: &str = "application/vnd.git-lfs+json";

fn is_oid(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn handle_lfs(
    shared: &Shared,
    head: &RequestHead,
    repo: &str,
    rest: &str,
    body: Vec<u8>,
) -> Response {
    if !shared.project_root.join(repo).is_dir() {
        return Response::new(
            404,
            LFS_JSON,
            r#"{"message":"The project you were looking for could not be found."}"#,
        );
    }
    match (head.method.as_str(), rest) {
        ("POST", "objects/batch") => lfs_batch(shared, head, repo, &body),
        ("POST", "locks/verify") => Response::new(200, LFS_JSON, r#"{"ours":[],"theirs":[]}"#),
        ("GET", "locks") => Response::new(200, LFS_JSON, r#"{"locks":[]}"#),
        ("GET", oid) if oid.strip_prefix("objects/").is_some_and(is_oid) => {
            let key = format!("{repo}/{}", &oid["objects/".len()..]);
            match shared.lfs_objects.lock().unwrap().get(&key) {
                Some(data) => Response::new(200, "application/octet-stream", data.clone()),
                None => Response::new(404, LFS_JSON, r#"{"message":"Not found"}"#),
            }
        }
        ("PUT", oid) if oid.strip_prefix("objects/").is_some_and(is_oid) => {
            let key = format!("{repo}/{}", &oid["objects/".len()..]);
            shared.lfs_objects.lock().unwrap().insert(key, body);
            Response::new(200, "text/plain", "")
        }
        _ => Response::new(404, LFS_JSON, r#"{"message":"Not found"}"#),
    }
}

fn lfs_batch(shared: &Shared, head: &RequestHead, repo: &str, body: &[u8]) -> Response {
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Response::new(422, LFS_JSON, r#"{"message":"bad JSON"}"#);
    };
    let operation = request["operation"].as_str().unwrap_or("");
    let host = head.header("host").unwrap_or("localhost");
    let authorization = head.header("authorization").unwrap_or("");
    let objects = shared.lfs_objects.lock().unwrap();
    let mut answers = Vec::new();
    for object in request["objects"].as_array().cloned().unwrap_or_default() {
        let oid = object["oid"].as_str().unwrap_or("").to_string();
        let size = object["size"].as_u64().unwrap_or(0);
        if !is_oid(&oid) {
            answers.push(serde_json::json!({
                "oid": oid, "size": size,
                "error": {"code": 422, "message": "invalid oid"}
            }));
            continue;
        }
        let href = format!(
            "{}://{}/{}/info/lfs/objects/{}",
            shared.scheme, host, repo, oid
        );
        let action = serde_json::json!({
            "href": href,
            "header": {"Authorization": authorization},
            "expires_in": 3600
        });
        let stored = objects.contains_key(&format!("{repo}/{oid}"));
        let answer = match (operation, stored) {
            ("upload", true) => serde_json::json!({"oid": oid, "size": size}),
            ("upload", false) => serde_json::json!({
                "oid": oid, "size": size, "authenticated": true,
                "actions": {"upload": action}
            }),
            ("download", true) => serde_json::json!({
                "oid": oid, "size": size, "authenticated": true,
                "actions": {"download": action}
            }),
            _ => serde_json::json!({
                "oid": oid, "size": size,
                "error": {"code": 404, "message": "Object does not exist"}
            }),
        };
        answers.push(answer);
    }
    let reply = serde_json::json!({
        "transfer": "basic",
        "objects": answers,
        "hash_algo": "sha256"
    });
    Response::new(200, LFS_JSON, reply.to_string())
}
