//! Isolated client environments: what a CI job looks like to git, cargo and git-lfs.
//!
//! Each [`ClientEnv`] has its own temporary `HOME` (with `work/` for clones and projects,
//! `.cargo/` as `CARGO_HOME` and `tmp/` as `TMPDIR`, so the leak scan covers the tools' temporary
//! files), no system git config, no terminal prompts, explicit CA settings for the test CA (git,
//! OpenSSL, Go, Python's requests inside pip, pip itself, node), none of the inherited variables
//! that change how clients authenticate or what they trust (`CARGO_*`, `GIT_*`, `CI_*`, proxies,
//! `HTTP_TIMEOUT`, `SSL_CERT_DIR`, `CURL_CA_BUNDLE`, `REQUESTS_CA_BUNDLE`, `PIP_*` such as this
//! machine's `PIP_CERT` and `PIP_FIND_LINKS`, `UV_*`, `npm_config_*`, Go's `GO*` settings, ...),
//! and the helper configured the way the README tells users:
//! `git config --global credential.helper "<absolute path>"`, with `CI_SERVER_URL` and
//! `CI_JOB_TOKEN` set as in a job.
//!
//! No system git config means for doctor's model of cargo's libgit2 too: libgit2 reads
//! `/etc/gitconfig` whatever `GIT_CONFIG_NOSYSTEM` says, so doctor takes the path of the system
//! file it models from `GIT_CREDENTIAL_GITLAB_CI_LIBGIT2_SYSTEM_CONFIG`, which points here at a
//! file of the environment that does not exist ([`ClientEnv::libgit2_system_file`]). A test
//! thus never depends on what the machine's `/etc/gitconfig` holds (say, this helper, after
//! `./install.sh` as root).
#![allow(dead_code)]

use std::borrow::BorrowMut;
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use git_credential_gitlab_ci::process;

use super::binary;
use super::leaks::find_token_in_trees;
use super::tls::TestCa;

/// The `credential.helper` value of every environment: the helper under test
/// ([`binary::path`], which follows `HELPER_UNDER_TEST`) by absolute path, unless
/// `E2E_CREDENTIAL_HELPER` gives a whole `credential.helper` value instead (e.g. a deliberately
/// broken `!f() { ...; }; f`, to check that the client tests catch it; said loudly on stderr).
pub fn helper_value() -> String {
    match std::env::var("E2E_CREDENTIAL_HELPER") {
        Ok(value) if !value.is_empty() => {
            eprintln!("NOTE: E2E_CREDENTIAL_HELPER replaces the helper under test with {value:?}");
            value
        }
        _ => binary::path().display().to_string(),
    }
}

/// The variable that names the system file doctor assumes libgit2 reads, and the file's name
/// in the environment's `tools/`.
pub const LIBGIT2_SYSTEM_VAR: &str = "GIT_CREDENTIAL_GITLAB_CI_LIBGIT2_SYSTEM_CONFIG";
const LIBGIT2_SYSTEM_NAME: &str = "libgit2-system.gitconfig";

/// Default time limit for a client command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);

/// Which `credential.helper` entries the environment's global config gets, in order.
pub struct ClientEnvBuilder {
    /// `None` for clients that talk to no server (e.g. `git credential fill`).
    ca: Option<TestCa>,
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
        let tmp = home.join("tmp");
        let tools = root.path().join("tools");
        for dir in [&home, &work, &cargo_home, &tmp, &tools] {
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
        set(
            LIBGIT2_SYSTEM_VAR,
            tools.join(LIBGIT2_SYSTEM_NAME).as_os_str(),
        );
        set("GIT_TERMINAL_PROMPT", OsStr::new("0"));
        set("TMPDIR", tmp.as_os_str());
        // pip never prompts (a missing credential fails at once) and never looks for updates.
        set("PIP_NO_INPUT", OsStr::new("1"));
        set("PIP_DISABLE_PIP_VERSION_CHECK", OsStr::new("1"));
        if let Some(ca) = &self.ca {
            set("GIT_SSL_CAINFO", ca.ca_cert_path().as_os_str());
            // OpenSSL, Go and uv read SSL_CERT_FILE; pip reads PIP_CERT (over /etc/pip.conf),
            // and its requests prefers REQUESTS_CA_BUNDLE to that; node and npm read theirs.
            for key in [
                "SSL_CERT_FILE",
                "PIP_CERT",
                "REQUESTS_CA_BUNDLE",
                "npm_config_cafile",
            ] {
                set(key, ca.bundle_path().as_os_str());
            }
            set("NODE_EXTRA_CA_CERTS", ca.ca_cert_path().as_os_str());
        }
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

/// Go's settings that change where it fetches from and how it authenticates.
const GO_SETTINGS: &[&str] = &[
    "GOAUTH",
    "GOFLAGS",
    "GOPROXY",
    "GOPRIVATE",
    "GONOPROXY",
    "GONOSUMDB",
    "GONOSUMCHECK",
    "GOINSECURE",
    "GOSUMDB",
    "GOPATH",
    "GOMODCACHE",
    "GOCACHE",
    "GOENV",
    "GOTOOLCHAIN",
    "GOVCS",
];

fn is_removed(key: &OsStr) -> bool {
    let key = key.to_string_lossy();
    let upper = key.to_ascii_uppercase();
    [
        "CARGO_",
        "GIT_",
        "CI_",
        "GITLAB_",
        "XDG_",
        "SSL_CERT_",
        "PIP_",
        "UV_",
        "NPM_CONFIG_",
        "POETRY_",
        "PRE_COMMIT",
        "BUNDLE_",
        "GEM_",
        "PYTHON",
    ]
    .iter()
    .any(|prefix| upper.starts_with(prefix))
        || upper.ends_with("_PROXY")
        || GO_SETTINGS.contains(&upper.as_str())
        || [
            "HTTP_TIMEOUT",
            "CURL_CA_BUNDLE",
            "REQUESTS_CA_BUNDLE",
            "NODE_EXTRA_CA_CERTS",
            "NODE_OPTIONS",
            "SSH_ASKPASS",
            "VIRTUAL_ENV",
            "NETRC",
            "TMPDIR",
        ]
        .contains(&upper.as_str())
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
    _ca: Option<TestCa>,
    _root: tempfile::TempDir,
}

impl ClientEnv {
    /// Starts a builder whose helper is [`helper_value`] (our binary, by absolute path) and
    /// whose clients trust `ca`.
    pub fn builder(ca: &TestCa) -> ClientEnvBuilder {
        ClientEnvBuilder {
            ca: Some(ca.clone()),
            ..ClientEnv::local()
        }
    }

    /// A builder for clients that talk to no server, so trust no test CA: `git credential
    /// fill`, a helper verb run directly.
    pub fn local() -> ClientEnvBuilder {
        ClientEnvBuilder {
            ca: None,
            server_url: None,
            token: None,
            helpers: vec![helper_value()],
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

    /// The system file doctor models libgit2 reading: none unless a test writes it.
    pub fn libgit2_system_file(&self) -> PathBuf {
        self.tools.join(LIBGIT2_SYSTEM_NAME)
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

    /// The helper under test ([`binary::path`]) with `args`, in this environment.
    pub fn helper(&self, args: &[&str]) -> Command {
        let mut cmd = self.command(binary::path());
        cmd.args(args);
        cmd
    }

    /// Runs a verb of the helper (`configure`, `doctor`, ...) in `dir` (default: [`Self::work`])
    /// under [`DEFAULT_TIMEOUT`], whatever its outcome, and checks what every verb's output
    /// must obey: the stderr rules ([`binary::assert_stderr_rules`]), and the job token on
    /// neither stream.
    #[track_caller]
    pub fn run_verb(&self, args: &[&str], dir: Option<&Path>) -> RunOutput {
        let mut cmd = self.helper(args);
        if let Some(dir) = dir {
            cmd.current_dir(dir);
        }
        let out = run_with_timeout(cmd, DEFAULT_TIMEOUT);
        binary::assert_stderr_rules(out.stderr.as_bytes(), self.token());
        if let Some(token) = self.token() {
            assert!(!out.stdout.contains(token), "token on stdout: {out}");
            assert!(!out.stderr.contains(token), "token on stderr: {out}");
        }
        out
    }

    /// A stdin for a command: `input`, from a file of this environment (so that
    /// [`run_with_timeout`] needs no writer thread).
    pub fn input(&self, input: &[u8]) -> Stdio {
        let file = tempfile::NamedTempFile::new_in(&self.tools).expect("stdin file");
        fs::write(file.path(), input).unwrap();
        Stdio::from(file.reopen().expect("reopen the stdin file"))
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
    #[track_caller]
    pub fn assert_token_not_on_disk(&self, extra: &[&Path]) {
        let Some(token) = &self.token else { return };
        let mut roots = vec![self.home.as_path()];
        roots.extend_from_slice(extra);
        let found = find_token_in_trees(&roots, token);
        assert!(found.is_empty(), "the job token was written to {found:?}");
    }
}

/// The two gits of these machines: git 2.47 built under /usr/local and Debian's 2.39.
pub const GITS: [&str; 2] = ["/usr/local/bin/git", "/usr/bin/git"];

/// Those of [`GITS`] that are installed; under CI (`CI` set) both must be.
pub fn installed_gits() -> Vec<&'static str> {
    let gits: Vec<&str> = GITS.into_iter().filter(|p| Path::new(p).exists()).collect();
    if std::env::var_os("CI").is_some() {
        assert_eq!(
            gits.len(),
            2,
            "CI expects git 2.47 in /usr/local/bin and 2.39 in /usr/bin"
        );
    }
    gits
}

/// `tool` on `PATH` (or in `/usr/bin`, `/usr/sbin`, where Debian puts daemons), if installed.
pub fn find_on_path(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(["/usr/bin".into(), "/usr/sbin".into()])
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
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

    /// The command failed, and did so by itself before its time limit: a client that retries a
    /// refused token forever fails this (how fast it failed is never asserted).
    #[track_caller]
    pub fn assert_failed_without_hanging(&self) {
        assert!(!self.timed_out(), "the command hung: {self}");
        assert!(!self.success(), "the command succeeded: {self}");
    }

    /// The stderr lines our helper wrote (they carry its prefix) among the client's own.
    pub fn helper_lines(&self) -> Vec<&str> {
        let prefix = binary::PREFIX;
        self.stderr
            .lines()
            .filter(|l| l.starts_with(prefix))
            .collect()
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

/// Runs `cmd` with stdout and stderr captured, through the library's one process runner
/// ([`git_credential_gitlab_ci::process::run`]): in its own process group, killed with the
/// whole group when it has not finished after `timeout` (git-lfs, for one, retries a rejected
/// token forever; `status: None` then), and nothing of the group left running after it exits.
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
    let limits = process::Limits {
        timeout,
        max_output: MAX_CAPTURE,
    };
    let finished =
        process::run(cmd, limits).unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    assert!(
        !finished.truncated,
        "{program} wrote more than {MAX_CAPTURE} bytes"
    );
    RunOutput {
        program,
        status: finished.status,
        stdout: String::from_utf8_lossy(&finished.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&finished.stderr).into_owned(),
        elapsed: finished.elapsed,
    }
}

/// More output than any client here writes; a test that reaches it has a runaway program.
const MAX_CAPTURE: usize = 64 * 1024 * 1024;
