//! Isolated client environments: what a CI job looks like to git, cargo and git-lfs.
//!
//! Each [`ClientEnv`] has its own temporary `HOME` (with `work/` for clones and projects and
//! `.cargo/` as `CARGO_HOME`), no system git config, no terminal prompts, explicit CA settings
//! for the test CA, none of the inherited variables that change how clients authenticate
//! (`CARGO_*`, `GIT_*`, `CI_*`, proxies, `HTTP_TIMEOUT`, `SSL_CERT_DIR`, `CURL_CA_BUNDLE`, ...),
//! and the helper configured the way the README tells users:
//! `git config --global credential.helper "<absolute path>"`, with `CI_SERVER_URL` and
//! `CI_JOB_TOKEN` set as in a job.
#![allow(dead_code)]

use std::borrow::BorrowMut;
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;

use super::tls::TestCa;

/// The helper binary built by cargo for these tests.
pub const HELPER_BIN: &str = env!("CARGO_BIN_EXE_git-credential-gitlab-ci");

/// The `credential.helper` value for the helper under test: our binary's absolute path — or
/// `HELPER_UNDER_TEST` (another build, or a wrapper script that runs one under qemu) — unless
/// `E2E_CREDENTIAL_HELPER` overrides it (said loudly on stderr).
pub fn helper_under_test() -> String {
    match std::env::var("E2E_CREDENTIAL_HELPER") {
        Ok(value) if !value.is_empty() => {
            eprintln!("NOTE: E2E_CREDENTIAL_HELPER replaces the helper under test with {value:?}");
            value
        }
        _ => match std::env::var("HELPER_UNDER_TEST") {
            Ok(path) if !path.is_empty() => path,
            _ => HELPER_BIN.to_string(),
        },
    }
}

/// Default time limit for a client command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);

/// A token that appears nowhere else: `glcbt-64_<label>_<random hex>`, shaped like GitLab's
/// prefixed job tokens, unique enough that finding it on disk means it leaked.
pub fn unique_token(label: &str) -> String {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    hasher.write_u32(std::process::id());
    let a = hasher.finish();
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(a);
    let b = hasher.finish();
    format!("glcbt-64_{label}_{a:016x}{b:016x}")
}

/// Which `credential.helper` entries the environment's global config gets, in order.
pub struct ClientEnvBuilder {
    ca: TestCa,
    server_url: Option<String>,
    token: Option<String>,
    helpers: Vec<String>,
    record_operations: bool,
}

impl ClientEnvBuilder {
    /// `CI_SERVER_URL` (e.g. `https://localhost:PORT`); unset when not called.
    pub fn server_url(mut self, url: impl Into<String>) -> Self {
        self.server_url = Some(url.into());
        self
    }

    /// `CI_JOB_TOKEN`; unset when not called.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Replaces our helper with another `credential.helper` value (e.g. a `!f() {...}; f`
    /// shell helper to validate the server, or a deliberately broken helper).
    pub fn helper_value(mut self, value: impl Into<String>) -> Self {
        self.helpers = vec![value.into()];
        self
    }

    /// No credential helper at all.
    pub fn no_helper(mut self) -> Self {
        self.helpers.clear();
        self
    }

    /// Adds, after our helper, a helper that appends the operation name (`get`, `store`,
    /// `erase`) to a file — never anything it reads. See [`ClientEnv::helper_operations`].
    /// Note: libgit2 (cargo) uses only the last `credential.helper`, so do not use this in a
    /// cargo test.
    pub fn record_operations_after(mut self) -> Self {
        self.record_operations = true;
        self
    }

    pub fn build(self) -> ClientEnv {
        let root = tempfile::Builder::new()
            .prefix("gitlab-ci-client-")
            .tempdir()
            .expect("client temp dir");
        let home = root.path().join("home");
        let work = home.join("work");
        let cargo_home = home.join(".cargo");
        let tools = root.path().join("tools");
        for dir in [&home, &work, &cargo_home, &tools] {
            fs::create_dir_all(dir).unwrap();
        }

        let mut vars: BTreeMap<OsString, OsString> = std::env::vars_os()
            .filter(|(key, _)| !is_removed(key))
            .collect();
        let rustup_home = std::env::var_os("RUSTUP_HOME").unwrap_or_else(|| {
            let home = std::env::var_os("HOME").expect("HOME is set");
            Path::new(&home).join(".rustup").into_os_string()
        });
        let mut set = |k: &str, v: &OsStr| {
            vars.insert(k.into(), v.to_os_string());
        };
        set("HOME", home.as_os_str());
        set("RUSTUP_HOME", &rustup_home);
        set("CARGO_HOME", cargo_home.as_os_str());
        set("CARGO_NET_RETRY", OsStr::new("0"));
        set("CARGO_TERM_COLOR", OsStr::new("never"));
        set("GIT_CONFIG_NOSYSTEM", OsStr::new("1"));
        set("GIT_TERMINAL_PROMPT", OsStr::new("0"));
        set("GIT_SSL_CAINFO", self.ca.ca_cert_path().as_os_str());
        set("SSL_CERT_FILE", self.ca.bundle_path().as_os_str());
        set("LC_ALL", OsStr::new("C"));
        if let Some(url) = &self.server_url {
            set("CI_SERVER_URL", OsStr::new(url));
        }
        if let Some(token) = &self.token {
            set("CI_JOB_TOKEN", OsStr::new(token));
        }

        let ops_log = tools.join("helper-operations.log");
        let env = ClientEnv {
            home,
            work,
            cargo_home,
            tools,
            ops_log,
            vars,
            token: self.token.clone(),
            _ca: self.ca,
            _root: root,
        };

        for (key, value) in [
            ("user.name", "CI Job"),
            ("user.email", "job@example.invalid"),
            ("init.defaultBranch", "main"),
            ("advice.detachedHead", "false"),
        ] {
            env.run(env.git(["config", "--global", key, value]));
        }
        let mut helpers = self.helpers;
        if self.record_operations {
            let script = env.tools.join("record-operations");
            fs::write(
                &script,
                format!(
                    "#!/bin/sh\n# Records which operation git sent; never the credentials.\n\
                     printf '%s\\n' \"$1\" >> '{}'\ncat > /dev/null\n",
                    env.ops_log.display()
                ),
            )
            .unwrap();
            fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
            helpers.push(script.display().to_string());
        }
        for helper in helpers {
            env.run(env.git([
                "config",
                "--global",
                "--add",
                "credential.helper",
                helper.as_str(),
            ]));
        }
        env
    }
}

fn is_removed(key: &OsStr) -> bool {
    let key = key.to_string_lossy();
    let upper = key.to_ascii_uppercase();
    upper.starts_with("CARGO_")
        || upper.starts_with("GIT_")
        || upper.starts_with("CI_")
        || upper.starts_with("GITLAB_")
        || upper.starts_with("XDG_")
        || upper.starts_with("SSL_CERT_")
        || upper.ends_with("_PROXY")
        || upper == "HTTP_TIMEOUT"
        || upper == "CURL_CA_BUNDLE"
        || upper == "SSH_ASKPASS"
        || upper == "GOAUTH"
}

/// One isolated client environment. Dropping it removes its files.
pub struct ClientEnv {
    home: PathBuf,
    work: PathBuf,
    cargo_home: PathBuf,
    tools: PathBuf,
    ops_log: PathBuf,
    vars: BTreeMap<OsString, OsString>,
    token: Option<String>,
    _ca: TestCa,
    _root: tempfile::TempDir,
}

impl ClientEnv {
    /// Starts a builder whose helper is our binary, by absolute path — or, when the test
    /// process has `E2E_CREDENTIAL_HELPER` set, that `credential.helper` value instead (to
    /// check that the tests catch a broken helper, e.g. one that answers every host).
    pub fn builder(ca: &TestCa) -> ClientEnvBuilder {
        ClientEnvBuilder {
            ca: ca.clone(),
            server_url: None,
            token: None,
            helpers: vec![helper_under_test()],
            record_operations: false,
        }
    }

    /// Our helper, `CI_SERVER_URL=server_url`, `CI_JOB_TOKEN=token`.
    pub fn new(ca: &TestCa, server_url: &str, token: &str) -> ClientEnv {
        ClientEnv::builder(ca)
            .server_url(server_url)
            .token(token)
            .build()
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    /// `$HOME/work`: the working directory of commands; put clones and projects here.
    pub fn work(&self) -> &Path {
        &self.work
    }

    pub fn cargo_home(&self) -> &Path {
        &self.cargo_home
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Sets a variable for every later command.
    pub fn set_var(&mut self, key: &str, value: impl AsRef<OsStr>) {
        self.vars.insert(key.into(), value.as_ref().to_os_string());
    }

    pub fn remove_var(&mut self, key: &str) {
        self.vars.remove(OsStr::new(key));
    }

    pub fn var(&self, key: &str) -> Option<&OsStr> {
        self.vars.get(OsStr::new(key)).map(|v| v.as_os_str())
    }

    /// A command with exactly this environment, run in [`Self::work`], stdin from /dev/null.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .envs(&self.vars)
            .current_dir(&self.work)
            .stdin(Stdio::null());
        cmd
    }

    /// `git <args>` with the `git` first on `PATH`.
    pub fn git<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command("git");
        cmd.args(args);
        cmd
    }

    /// The cargo that runs these tests (`$CARGO`), else `cargo` on `PATH`.
    pub fn cargo<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = self.command(cargo);
        cmd.args(args);
        cmd
    }

    /// Runs `cmd` under [`DEFAULT_TIMEOUT`]; panics with its output unless it succeeds.
    pub fn run(&self, cmd: impl BorrowMut<Command>) -> RunOutput {
        let out = run_with_timeout(cmd, DEFAULT_TIMEOUT);
        assert!(out.success(), "command failed: {out}");
        out
    }

    /// Runs `cmd` under `timeout`, whatever its outcome.
    pub fn run_unchecked(&self, cmd: impl BorrowMut<Command>, timeout: Duration) -> RunOutput {
        run_with_timeout(cmd, timeout)
    }

    /// The operations recorded by [`ClientEnvBuilder::record_operations_after`], in order.
    pub fn helper_operations(&self) -> Vec<String> {
        fs::read_to_string(&self.ops_log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Panics if the job token — raw, or base64-encoded in a Basic `Authorization` value —
    /// appears in any file (content or name) under `HOME` (which holds the work tree, every
    /// clone's `.git/`, `Cargo.lock` files and `CARGO_HOME`) or under `extra`.
    pub fn assert_token_not_on_disk(&self, extra: &[&Path]) {
        let Some(token) = &self.token else { return };
        let mut roots = vec![self.home.as_path()];
        roots.extend_from_slice(extra);
        let needles = token_needles(token);
        let mut found = Vec::new();
        for root in roots {
            for needle in &needles {
                found.extend(find_bytes_in_tree(root, needle.as_bytes()));
            }
        }
        assert!(found.is_empty(), "the job token was written to {found:?}");
    }
}

/// The forms in which a token can leak: raw and inside a Basic credential.
pub fn token_needles(token: &str) -> Vec<String> {
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("gitlab-ci-token:{token}"));
    vec![token.to_string(), basic]
}

/// Every file under `root` (not following symlinks) whose content or name contains `needle`.
pub fn find_bytes_in_tree(root: &Path, needle: &[u8]) -> Vec<PathBuf> {
    assert!(!needle.is_empty());
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        let name_hit = path
            .file_name()
            .is_some_and(|n| contains(n.as_encoded_bytes(), needle));
        if meta.is_dir() {
            if name_hit {
                found.push(path.clone());
            }
            if let Ok(entries) = fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else if meta.is_symlink() {
            let target_hit = fs::read_link(&path)
                .is_ok_and(|t| contains(t.as_os_str().as_encoded_bytes(), needle));
            if name_hit || target_hit {
                found.push(path);
            }
        } else if meta.is_file() {
            let content_hit = fs::read(&path).is_ok_and(|data| contains(&data, needle));
            if name_hit || content_hit {
                found.push(path);
            }
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// What a command did.
pub struct RunOutput {
    pub program: String,
    /// `None` when the command was killed at its time limit.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl RunOutput {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    pub fn timed_out(&self) -> bool {
        self.status.is_none()
    }
}

impl std::fmt::Display for RunOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} -> {} after {:.1?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.program,
            match self.status {
                Some(s) => s.to_string(),
                None => "killed at its time limit".to_string(),
            },
            self.elapsed,
            self.stdout,
            self.stderr
        )
    }
}

/// Runs `cmd` in its own process group with stdout and stderr captured; when it has not
/// finished after `timeout`, kills the whole group (git-lfs, for one, retries a rejected
/// token forever) and reports `status: None`.
pub fn run_with_timeout(mut cmd: impl BorrowMut<Command>, timeout: Duration) -> RunOutput {
    let cmd = cmd.borrow_mut();
    let program = format!(
        "{} {}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    );
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let pid = child.id();

    let (tx, rx) = mpsc::channel::<(bool, Vec<u8>)>();
    for (is_stdout, pipe) in [
        (
            true,
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
        (
            false,
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
    ] {
        let tx = tx.clone();
        let mut pipe = pipe.unwrap();
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            let _ = tx.send((is_stdout, buf));
        });
    }
    drop(tx);

    let kill_group = || {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stderr(Stdio::null())
            .status();
    };

    let deadline = start + timeout;
    let mut status = None;
    loop {
        match child.try_wait() {
            Ok(Some(s)) => {
                status = Some(s);
                break;
            }
            Ok(None) if Instant::now() >= deadline => {
                kill_group();
                let _ = child.wait();
                break;
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("waiting for {program}: {e}"),
        }
    }
    let elapsed = start.elapsed();

    // The pipes close when every process holding them has exited; a straggler in the
    // group that keeps them open past a short grace period is killed.
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let grace = Instant::now() + Duration::from_secs(5);
    for _ in 0..2 {
        let wait = grace.saturating_duration_since(Instant::now());
        let message = match rx.recv_timeout(wait) {
            Ok(m) => m,
            Err(_) => {
                kill_group();
                match rx.recv_timeout(Duration::from_secs(5)) {
                    Ok(m) => m,
                    Err(_) => break,
                }
            }
        };
        if message.0 {
            stdout = message.1;
        } else {
            stderr = message.1;
        }
    }
    RunOutput {
        program,
        status,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        elapsed,
    }
}
