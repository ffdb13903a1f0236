//! A GitLab-faithful test server: git over HTTPS, git-lfs, GitLab's go-get middleware and its
//! PyPI registry, each giving the answers GitLab gives ([`super::access`] has the texts and the
//! rules), per project.
//!
//! - HTTPS (rustls, certificate from a [`TestCa`]) or plain HTTP, on `127.0.0.1`, port chosen
//!   by the OS; one thread per connection; HTTP/1.1 keep-alive; request bodies with
//!   `Content-Length` or `Transfer-Encoding: chunked`, optionally `Content-Encoding: gzip`;
//!   `Expect: 100-continue` (a refusal is sent before the body).
//! - A server may have a **public name** ([`ServerBuilder::name`], e.g. `gitlab.test`): its
//!   certificate names it, its URLs (go-import tags, the 401's help link, LFS and PyPI links)
//!   use it, and clients reach it on port 443 through a [`super::proxy::ConnectProxy`]. Without
//!   one its URL is `https://localhost:PORT`.
//! - The job token belongs to a job of project [`GitServer::job_project`] (`group/app` unless
//!   set). Projects are private, admit that project and allow job-token pushes unless a test
//!   changes them ([`GitServer::set_project`], [`GitServer::update_project`]).
//! - Git requests that pass are served by the real `git http-backend` (CGI).
//! - Every request is recorded ([`LoggedRequest`]): method, path, query, status, auth outcome,
//!   the user name offered, the `Host` header and the server's name. Passwords never are.
//!
//! Dropping the [`GitServer`] stops it: the listener thread ends, open connections are shut
//! down and their threads joined (each CGI child is waited for by its connection thread).
#![allow(dead_code)]

use std::collections::HashMap;
use std::fs;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::access::{GitHttp, ProjectAccess};
use super::projects::{PackageFile, Registry};
use super::tls::TestCa;
use super::wheel::{sha256_hex, Wheel};
use super::{request_log, serve};

/// The only username GitLab accepts with a job token.
pub const CI_USERNAME: &str = "gitlab-ci-token";

/// The project whose job holds the token, unless [`ServerBuilder::job_project`] says otherwise.
pub const DEFAULT_JOB_PROJECT: &str = "group/app";

pub use super::request_log::{AuthOutcome, LoggedRequest};

/// How to start a [`GitServer`]; see [`GitServer::builder`].
#[derive(Clone)]
pub struct ServerBuilder {
    tls: Option<TestCa>,
    token: String,
    git: PathBuf,
    names: Vec<String>,
    job_project: String,
}

impl ServerBuilder {
    /// The server's public host name (e.g. `gitlab.test`), reached on port 443 through a
    /// [`super::proxy::ConnectProxy`]. Its certificate also names `localhost` and `127.0.0.1`.
    pub fn name(mut self, host: &str) -> Self {
        self.names.insert(0, host.to_ascii_lowercase());
        self
    }

    /// Another host name the certificate holds (e.g. a near-miss name a proxy maps here).
    pub fn alias(mut self, host: &str) -> Self {
        self.names.push(host.to_ascii_lowercase());
        self
    }

    /// The job's project (`CI_PROJECT_PATH`), whose allowlist entries admit its token.
    pub fn job_project(mut self, path: &str) -> Self {
        self.job_project = path.to_string();
        self
    }

    /// Plain HTTP instead of HTTPS.
    pub fn http(mut self) -> Self {
        self.tls = None;
        self
    }

    /// The `git` binary that runs `http-backend` and builds repositories.
    pub fn git(mut self, git: impl Into<PathBuf>) -> Self {
        self.git = git.into();
        self
    }

    pub fn start(self) -> GitServer {
        GitServer::start_with(self)
    }
}

/// State the connection threads share (fields are read by the sibling modules).
pub struct Shared {
    pub token: String,
    pub job_project: String,
    pub git: PathBuf,
    pub project_root: PathBuf,
    pub server_home: PathBuf,
    pub scheme: &'static str,
    /// `host` or `host:port`: how the server's own URLs name it.
    pub authority: String,
    /// `scheme://authority`, GitLab's `gitlab.url`.
    pub url: String,
    /// The public name and aliases the certificate holds (not `localhost`, `127.0.0.1`).
    pub names: Vec<String>,
    pub registry: Mutex<Registry>,
    pub log: Mutex<Vec<LoggedRequest>>,
    pub lfs_objects: Mutex<HashMap<String, Vec<u8>>>,
    pub(super) stopping: AtomicBool,
    pub(super) connections: Mutex<Vec<(TcpStream, JoinHandle<()>)>>,
}

/// A running server. See the module documentation.
pub struct GitServer {
    pub(super) shared: Arc<Shared>,
    addr: SocketAddr,
    accept_thread: Option<JoinHandle<()>>,
    _root: tempfile::TempDir,
    _ca: Option<TestCa>,
}

impl GitServer {
    /// An HTTPS server at `https://localhost:PORT` accepting `gitlab-ci-token:<token>`.
    pub fn start(ca: &TestCa, token: &str) -> GitServer {
        GitServer::builder(ca, token).start()
    }

    /// A plain-HTTP server accepting `gitlab-ci-token:<token>`.
    pub fn start_http(token: &str) -> GitServer {
        GitServer::builder_without_tls(token).start()
    }

    /// An HTTPS server accepting `gitlab-ci-token:<token>`, to be configured.
    pub fn builder(ca: &TestCa, token: &str) -> ServerBuilder {
        ServerBuilder {
            tls: Some(ca.clone()),
            ..GitServer::builder_without_tls(token)
        }
    }

    fn builder_without_tls(token: &str) -> ServerBuilder {
        ServerBuilder {
            tls: None,
            token: token.to_string(),
            git: PathBuf::from("git"),
            names: Vec::new(),
            job_project: DEFAULT_JOB_PROJECT.to_string(),
        }
    }

    fn start_with(options: ServerBuilder) -> GitServer {
        let root = tempfile::Builder::new()
            .prefix("gitlab-test-server-")
            .tempdir()
            .expect("server temp dir");
        let project_root = root.path().join("repos");
        let server_home = root.path().join("home");
        fs::create_dir_all(&project_root).unwrap();
        fs::create_dir_all(&server_home).unwrap();

        let mut cert_names: Vec<&str> = options.names.iter().map(String::as_str).collect();
        cert_names.extend(["localhost", "127.0.0.1"]);
        let tls_config = options
            .tls
            .as_ref()
            .map(|ca| ca.issue(&cert_names).rustls_server_config(ca));

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let scheme = if tls_config.is_some() {
            "https"
        } else {
            "http"
        };
        let authority = match options.names.first() {
            Some(name) => name.clone(),
            None => format!("localhost:{}", addr.port()),
        };
        let shared = Arc::new(Shared {
            token: options.token,
            job_project: options.job_project,
            git: options.git,
            project_root,
            server_home,
            scheme,
            url: format!("{scheme}://{authority}"),
            authority,
            names: options.names.clone(),
            registry: Mutex::new(Registry::new()),
            log: Mutex::new(Vec::new()),
            lfs_objects: Mutex::new(HashMap::new()),
            stopping: AtomicBool::new(false),
            connections: Mutex::new(Vec::new()),
        });

        let accept_shared = Arc::clone(&shared);
        let accept_thread = thread::Builder::new()
            .name(format!("git-server-{}", addr.port()))
            .spawn(move || serve::accept_loop(listener, accept_shared, tls_config))
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

    /// Where the server listens (`127.0.0.1:PORT`), for a proxy's map.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn scheme(&self) -> &'static str {
        self.shared.scheme
    }

    /// The public name (`gitlab.test`), or `localhost:PORT` for a server without one.
    pub fn authority(&self) -> &str {
        &self.shared.authority
    }

    /// The public name and aliases (for a proxy's map); empty for a server without a name.
    pub fn names(&self) -> &[String] {
        &self.shared.names
    }

    /// GitLab's configured URL: `https://gitlab.test` for a named server, else
    /// `https://localhost:PORT`. The form for `CI_SERVER_URL`.
    pub fn url(&self) -> String {
        self.shared.url.clone()
    }

    /// `https://localhost:PORT` even for a named server — for cargo (whose libgit2 transport
    /// must not see a proxy variable) and for `CI_SERVER_URL` of unnamed servers.
    pub fn local_url(&self) -> String {
        format!("{}://localhost:{}", self.shared.scheme, self.port())
    }

    /// `https://127.0.0.1:PORT`.
    pub fn ip_url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.shared.scheme, self.port())
    }

    /// `<url>/<name>.git`.
    pub fn repo_url(&self, name: &str) -> String {
        format!("{}/{}.git", self.url(), name)
    }

    /// The token the server accepts.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The project (full path) whose job holds the token: its `CI_PROJECT_PATH`.
    pub fn job_project(&self) -> &str {
        &self.shared.job_project
    }

    /// The bare repository's directory for `name` (e.g. `group/project`).
    pub fn repo_path(&self, name: &str) -> PathBuf {
        self.shared.project_root.join(format!("{name}.git"))
    }

    /// What a new project gets: private, its allowlist admitting [`Self::job_project`], readable
    /// by the triggering user, job-token pushes allowed, not archived.
    pub fn default_access(&self) -> ProjectAccess {
        ProjectAccess::private_for(&self.shared.job_project)
    }

    pub(super) fn register(&self, name: &str) -> u64 {
        let default = self.default_access();
        let mut registry = self.shared.registry.lock().unwrap();
        registry.register(name, || default).id
    }

    /// Sets project `name`'s access (registering the project, without a repository, if new).
    pub fn set_project(&self, name: &str, access: ProjectAccess) {
        self.update_project(name, |a| *a = access);
    }

    /// Changes project `name`'s access in place, e.g.
    /// `server.update_project("group/lib", |p| p.allowlist.clear())`.
    pub fn update_project(&self, name: &str, change: impl FnOnce(&mut ProjectAccess)) {
        let default = self.default_access();
        let mut registry = self.shared.registry.lock().unwrap();
        change(&mut registry.register(name, || default).access);
    }

    pub fn project_access(&self, name: &str) -> Option<ProjectAccess> {
        let registry = self.shared.registry.lock().unwrap();
        registry.project(name).map(|p| p.access.clone())
    }

    /// Project `name`'s numeric id (the API's `:id`), registering it if new.
    pub fn project_id(&self, name: &str) -> u64 {
        self.register(name)
    }

    /// Group `path`'s numeric id (e.g. `group` or `group/sub`).
    pub fn group_id(&self, path: &str) -> u64 {
        self.shared.registry.lock().unwrap().group_id(path)
    }

    /// The instance's "git over HTTP" switches (both on by default).
    pub fn set_git_http(&self, pull: bool, push: bool) {
        self.shared.registry.lock().unwrap().git_http = GitHttp { pull, push };
    }

    /// Publishes `wheel` in project `name`'s PyPI registry.
    pub fn publish_wheel(&self, name: &str, wheel: &Wheel) {
        self.publish_package_file(
            name,
            &wheel.name,
            &wheel.version,
            &wheel.filename,
            &wheel.bytes,
        );
    }

    /// Publishes any file (e.g. an sdist) of package `package` in project `name`'s registry.
    pub fn publish_package_file(
        &self,
        name: &str,
        package: &str,
        version: &str,
        filename: &str,
        data: &[u8],
    ) {
        let default = self.default_access();
        let mut registry = self.shared.registry.lock().unwrap();
        registry
            .register(name, || default)
            .packages
            .push(PackageFile {
                name: package.to_string(),
                version: version.to_string(),
                filename: filename.to_string(),
                sha256: sha256_hex(data),
                requires_python: String::new(),
                data: Arc::new(data.to_vec()),
            });
    }

    /// `<url>/api/v4/projects/<id>/packages/pypi/simple` for project `name`.
    pub fn pypi_index_url(&self, name: &str) -> String {
        let id = self.project_id(name);
        format!("{}/api/v4/projects/{id}/packages/pypi/simple", self.url())
    }

    /// `<url>/api/v4/groups/<id>/-/packages/pypi/simple` for group `path`.
    pub fn pypi_group_index_url(&self, path: &str) -> String {
        let id = self.group_id(path);
        format!("{}/api/v4/groups/{id}/-/packages/pypi/simple", self.url())
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
        request_log::text(&self.log())
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
