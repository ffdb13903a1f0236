//! `doctor`: explains the setup and failures in a readable report on standard output.
//!
//! Every check is a pure function from what was read (config entries, variables, file texts,
//! git's output) to a [`Check`]; [`run`] reads those at the edge and prints the report. The
//! report never contains the token, nor its length: checks only learn whether it loaded.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::diagnostics::Diagnostics;
use crate::env::Env;
use crate::git::Git;
use crate::gitconfig::{helper_chain, Entry, LIBGIT2_SYSTEM_FILE};
use crate::helper_value::{self, is_ours as is_our_helper, short_name as helper_name};
use crate::options::HelperOptions;
use crate::outcome::Outcome;
use crate::policy::DEFAULT_USERNAME;
use crate::server::{self, Origin, Server};
use crate::token::{self, TokenError, TokenSource};

/// What `doctor` is asked to check besides the setup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// A repository URL to try with `git ls-remote` through the helper.
    pub probe_url: Option<String>,
    /// How long the probe may take.
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Worth knowing, not a failure.
    Note,
    Problem,
}

/// One line of the report, with a fix when something is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub topic: &'static str,
    pub status: Status,
    pub text: String,
    pub fix: Option<String>,
}

impl Check {
    fn ok(topic: &'static str, text: impl Into<String>) -> Check {
        Check {
            topic,
            status: Status::Ok,
            text: text.into(),
            fix: None,
        }
    }
    fn note(topic: &'static str, text: impl Into<String>) -> Check {
        Check {
            topic,
            status: Status::Note,
            text: text.into(),
            fix: None,
        }
    }
    fn problem(topic: &'static str, text: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            topic,
            status: Status::Problem,
            text: text.into(),
            fix: Some(fix.into()),
        }
    }
}

/// The report as printed.
pub fn render(checks: &[Check]) -> String {
    let mut out = String::new();
    for check in checks {
        let status = match check.status {
            Status::Ok => "ok",
            Status::Note => "note",
            Status::Problem => "PROBLEM",
        };
        out.push_str(&format!("{status:<8} {:<11} {}\n", check.topic, check.text));
        if let Some(fix) = &check.fix {
            out.push_str(&format!("{:<20} fix: {fix}\n", ""));
        }
    }
    let problems = checks
        .iter()
        .filter(|c| c.status == Status::Problem)
        .count();
    match problems {
        0 => out.push_str("\nhealthy: no problem found\n"),
        n => out.push_str(&format!(
            "\n{n} problem(s) found; docs/troubleshooting.md explains each check\n"
        )),
    }
    out
}

/// A server with a description of where it came from.
#[derive(Debug, Clone)]
pub struct KnownServer {
    pub server: Server,
    pub from: String,
}

/// The options found in our helper values, by file: `--server`, `--token-file`, `--token-env`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HelperLine {
    pub servers: Vec<String>,
    pub token_file: Option<PathBuf>,
    pub token_env: Option<String>,
    pub username: Option<String>,
}

pub fn parse_helper_line(value: &str) -> Option<HelperLine> {
    let args = helper_value::our_args(value)?;
    let mut line = HelperLine::default();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let (name, inline) = match word.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (word.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| words.next().cloned());
        match name {
            "--server" => line.servers.extend(value()),
            "--token-file" => line.token_file = value().map(PathBuf::from),
            "--token-env" => line.token_env = value(),
            "--username" => line.username = value(),
            _ => {}
        }
    }
    Some(line)
}

/// Servers: the environment's, doctor's own `--server`, and those written into our helper
/// values in git configuration.
pub fn known_servers(
    env: &Env,
    options: &[String],
    entries: &[Entry],
) -> (Vec<KnownServer>, Vec<Check>) {
    let mut servers: Vec<KnownServer> = Vec::new();
    let mut checks = Vec::new();
    let mut push = |server: Server, from: String| {
        if !servers.iter().any(|k| k.server.same_origin(&server)) {
            servers.push(KnownServer { server, from });
        }
    };
    match server::from_env(env) {
        Ok(Some(server)) => {
            let from = server.origin.to_string();
            push(server, from)
        }
        Ok(None) => {}
        Err(e) => checks.push(Check::problem(
            "servers",
            e.to_string(),
            "set CI_SERVER_URL to the GitLab server's URL, e.g. https://gitlab.example.com",
        )),
    }
    for value in options {
        match Server::parse(value, Origin::Option) {
            Ok(server) => push(server, "--server given to doctor".into()),
            Err(e) => checks.push(Check::problem(
                "servers",
                e.to_string(),
                "pass --server https://host[:port]",
            )),
        }
    }
    for entry in entries {
        let Some(line) = entry.value.as_deref().and_then(parse_helper_line) else {
            continue;
        };
        for value in &line.servers {
            if let Ok(server) = Server::parse(value, Origin::Option) {
                push(
                    server,
                    format!("--server in the helper value in {}", entry.place()),
                );
            }
        }
    }
    (servers, checks)
}

pub fn check_servers(servers: &[KnownServer]) -> Check {
    if servers.is_empty() {
        return Check::problem(
            "servers",
            "no GitLab server is known, so the helper answers nothing",
            "run inside a GitLab job (CI_SERVER_URL is set there), or configure with --server https://gitlab.example.com",
        );
    }
    let list: Vec<String> = servers
        .iter()
        .map(|k| format!("{} (from {})", k.server, k.from))
        .collect();
    Check::ok("servers", format!("answers for {}", list.join(", ")))
}

pub fn check_token(source: &TokenSource, loaded: Result<(), TokenError>) -> Check {
    match loaded {
        Ok(()) => Check::ok(
            "token",
            format!("available from {source} and well-formed (give a PROBE_URL to check that the server accepts it)"),
        ),
        Err(e) => Check::problem(
            "token",
            e.to_string(),
            "in a job, CI_JOB_TOKEN is set by GitLab; in docker build pass it as a secret and use --token-file /run/secrets/ci_job_token",
        ),
    }
}

/// The helpers git runs for a server, and whether one other than ours would get the token.
pub fn check_git_chain(entries: &[Entry], server: &Server) -> Check {
    let chain = helper_chain(entries, server);
    let describe = |e: &&Entry| {
        let value = e.value.as_deref().unwrap_or_default();
        let name = match is_our_helper(value) {
            true => "this helper".to_string(),
            false => helper_name(value),
        };
        format!("{name} (from {})", e.place())
    };
    let ours = chain
        .iter()
        .filter(|e| e.value.as_deref().is_some_and(is_our_helper))
        .count();
    let others: Vec<String> = chain
        .iter()
        .filter(|e| !e.value.as_deref().is_some_and(is_our_helper))
        .map(describe)
        .collect();
    if chain.is_empty() {
        return Check::problem(
            "git",
            format!("git runs no credential helper for {server}"),
            "git-credential-gitlab-ci configure --global (or --system)",
        );
    }
    if ours == 0 {
        return Check::problem(
            "git",
            format!(
                "git runs {} for {server}, but not this helper",
                others.join(", ")
            ),
            "git-credential-gitlab-ci configure --global (or --system)",
        );
    }
    let order: Vec<String> = chain.iter().map(describe).collect();
    if !others.is_empty() {
        return Check::problem(
            "git",
            format!(
                "git runs {} for {server}; {} would be given the job token when git stores credentials after a success",
                order.join(", then "),
                others.join(" and ")
            ),
            format!("git-credential-gitlab-ci configure for the file of the last of them, which resets the list for {server}; or remove those helpers"),
        );
    }
    Check::ok(
        "git",
        format!("git runs only {} for {server}", order.join(", then ")),
    )
}

/// Our helper values whose program is an absolute path that `runnable` says cannot be run
/// (moved or deleted binary: git then prints `credential-…: not found` and asks for a password).
pub fn check_helper_programs(entries: &[Entry], runnable: impl Fn(&Path) -> bool) -> Vec<Check> {
    let mut seen: Vec<&str> = Vec::new();
    let mut checks = Vec::new();
    for entry in entries {
        let Some(value) = entry.value.as_deref().filter(|v| is_our_helper(v)) else {
            continue;
        };
        if seen.contains(&value) {
            continue;
        }
        seen.push(value);
        let Some(program) = helper_value::program(value) else {
            continue;
        };
        if program.is_absolute() && !runnable(&program) {
            checks.push(Check::problem(
                "git",
                format!(
                    "the helper configured in {} runs {}, which does not exist or is not executable",
                    entry.place(),
                    program.display()
                ),
                "git-credential-gitlab-ci configure again with the installed binary (it replaces the old entry)",
            ));
        }
    }
    checks
}

/// The files libgit2 reads, most important first: the repository's, `$HOME/.gitconfig`,
/// `$XDG_CONFIG_HOME/git/config`, `/etc/gitconfig`.
pub fn libgit2_files(home: Option<&Path>, xdg: Option<&Path>, repo: Option<&Path>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    files.extend(repo.map(|r| r.join("config")));
    if let Some(home) = home {
        files.push(home.join(".gitconfig"));
    }
    match (xdg, home) {
        (Some(xdg), _) => files.push(xdg.join("git/config")),
        (None, Some(home)) => files.push(home.join(".config/git/config")),
        _ => {}
    }
    files.push(PathBuf::from(LIBGIT2_SYSTEM_FILE));
    files
}

/// What cargo's libgit2 runs for a server: the last value of `credential.<scheme>://<host>.helper`
/// (no port), else of `credential.helper`, from the most important file that has the key.
pub fn check_libgit2(files: &[(PathBuf, Vec<Entry>)], server: &Server) -> Check {
    let scoped = format!(
        "credential.{}://{}.helper",
        server.scheme.as_str(),
        server.host
    );
    let find = |key: &str| {
        files.iter().find_map(|(file, entries)| {
            entries
                .iter()
                .rev()
                .find(|e| e.key == key)
                .map(|e| (file, e.value.clone().unwrap_or_default()))
        })
    };
    let found = find(&scoped).or_else(|| find("credential.helper"));
    let read: Vec<String> = files.iter().map(|(f, _)| f.display().to_string()).collect();
    match found {
        Some((file, value)) if is_our_helper(&value) => Check::ok(
            "cargo",
            format!(
                "cargo's libgit2 runs this helper for {server} (from {})",
                file.display()
            ),
        ),
        Some((file, value)) => Check::problem(
            "cargo",
            format!(
                "cargo's libgit2 uses only the last credential.helper and would run {} (from {}) for {server}, not this helper",
                if value.is_empty() { "nothing".to_string() } else { helper_name(&value) },
                file.display()
            ),
            "git-credential-gitlab-ci configure --global (it writes $HOME/.gitconfig, which libgit2 reads, with this helper last), or export CARGO_NET_GIT_FETCH_WITH_CLI=true",
        ),
        None => Check::problem(
            "cargo",
            format!(
                "cargo's libgit2 finds no credential.helper in the files it reads ({}); it ignores GIT_CONFIG_GLOBAL and GIT_CONFIG_COUNT",
                read.join(", ")
            ),
            "git-credential-gitlab-ci configure --global (it also writes $HOME/.gitconfig), or export CARGO_NET_GIT_FETCH_WITH_CLI=true",
        ),
    }
}

/// Why cargo would use a transport that never calls credential helpers: `CARGO_HTTP_*`,
/// `HTTP_TIMEOUT`, proxy variables, git's `http.proxy`, an `[http]` table in a cargo config.
pub fn cargo_transport_traps(
    vars: &BTreeMap<String, String>,
    git_http_proxy: bool,
    cargo_configs: &[(PathBuf, String)],
) -> Vec<String> {
    let mut traps = Vec::new();
    for (name, value) in vars {
        if value.is_empty() {
            continue;
        }
        let upper = name.to_ascii_uppercase();
        if upper.starts_with("CARGO_HTTP_") || upper == "HTTP_TIMEOUT" {
            traps.push(format!("the variable {name}"));
        } else if ["HTTP_PROXY", "HTTPS_PROXY"].contains(&upper.as_str()) {
            traps.push(format!("the proxy variable {name}"));
        }
    }
    if git_http_proxy {
        traps.push("git's http.proxy setting".into());
    }
    for (file, text) in cargo_configs {
        if has_http_table(text) {
            traps.push(format!("the [http] table in {}", file.display()));
        }
    }
    traps
}

/// Does a cargo config (TOML) set anything under `http`? A line-based look is enough here.
pub fn has_http_table(text: &str) -> bool {
    text.lines().map(str::trim).any(|line| {
        line == "[http]"
            || line.starts_with("[http.")
            || line.starts_with("http.")
            || line.replace(' ', "").starts_with("http={")
    })
}

/// Does a cargo config turn on `net.git-fetch-with-cli`?
pub fn fetch_with_cli_in_config(text: &str) -> bool {
    text.lines().map(str::trim).any(|line| {
        let line = line.replace(' ', "");
        (line.starts_with("git-fetch-with-cli=") || line.starts_with("net.git-fetch-with-cli="))
            && line.contains("=true")
    })
}

pub fn check_cargo_transport(traps: &[String], fetch_with_cli: bool) -> Check {
    match (traps.is_empty(), fetch_with_cli) {
        (_, true) => Check::ok(
            "cargo",
            "cargo fetches with the git CLI (net.git-fetch-with-cli), which runs git's helper chain",
        ),
        (true, false) => Check::ok(
            "cargo",
            "no CARGO_HTTP_*, HTTP_TIMEOUT, proxy or [http] setting turns off cargo's credential helper support",
        ),
        (false, false) => Check::problem(
            "cargo",
            format!(
                "{} makes cargo fetch git dependencies with a transport that never calls credential helpers; private dependencies fail with 401",
                traps.join(", ")
            ),
            "export CARGO_NET_GIT_FETCH_WITH_CLI=true (cargo then runs git, which uses the helper), or remove those settings",
        ),
    }
}

/// The host of an SSH-style URL: `ssh://[user@]host[:port]/path` or `[user@]host:path`.
pub fn ssh_host(url: &str) -> Option<String> {
    if let Some(rest) = url
        .strip_prefix("ssh://")
        .or_else(|| url.strip_prefix("git+ssh://"))
        .or_else(|| url.strip_prefix("ssh+git://"))
    {
        let authority = rest.split('/').next()?;
        let host = authority.rsplit('@').next()?;
        let host = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next()?.to_string(),
            None => host.split(':').next()?.to_string(),
        };
        return Some(host.to_ascii_lowercase());
    }
    if url.contains("://") {
        return None;
    }
    let colon = url.find(':')?;
    if url[..colon].contains('/') {
        return None; // a local path
    }
    let host = url[..colon].rsplit('@').next()?;
    Some(host.to_ascii_lowercase())
}

/// SSH-style submodule URLs for a server host that no `insteadOf` rewrites to https.
pub fn check_submodules(
    submodules: &[(String, String)],
    hosts: &[String],
    entries: &[Entry],
) -> Vec<Check> {
    let rewrites: Vec<(&str, &str)> = entries
        .iter()
        .filter_map(|e| match (e.parts(), e.value.as_deref()) {
            (("url", Some(base), "insteadof"), Some(value)) if !value.is_empty() => {
                Some((base, value))
            }
            _ => None,
        })
        .collect();
    let mut checks = Vec::new();
    for (name, url) in submodules {
        let Some(host) = ssh_host(url) else { continue };
        if !hosts.contains(&host) {
            continue;
        }
        let best = rewrites
            .iter()
            .filter(|(_, value)| url.starts_with(value))
            .max_by_key(|(_, value)| value.len());
        match best {
            Some((base, _)) if base.starts_with("https://") || base.starts_with("http://") => {
                checks.push(Check::ok(
                    "submodules",
                    format!("submodule {name} ({url}) is rewritten to {base}"),
                ))
            }
            _ => checks.push(Check::problem(
                "submodules",
                format!("submodule {name} uses the SSH URL {url}, which bypasses https and this helper"),
                "git-credential-gitlab-ci configure --global --rewrite-ssh (or use a relative or https URL in .gitmodules)",
            )),
        }
    }
    checks
}

/// What the outcome of `git ls-remote PROBE_URL` means.
pub fn explain_probe(url: &str, success: bool, timed_out: bool, stderr: &str) -> Check {
    let shown = last_line(stderr);
    if success {
        return Check::ok("probe", format!("git ls-remote {url} succeeded"));
    }
    if timed_out {
        return Check::problem(
            "probe",
            format!("git ls-remote {url} did not finish in time"),
            "check the network path to the server: DNS, firewall, proxy (https_proxy, NO_PROXY)",
        );
    }
    let low = stderr.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| low.contains(n));
    let (text, fix) = if has(&[
        "returned error: 401",
        "authentication failed",
        "access denied",
    ]) {
        (
            "the server rejected the job token (401): it is expired (job tokens last as long as the job) or not a job token",
            "use the token of the running job (CI_JOB_TOKEN); do not cache it in an image or a file that outlives the job",
        )
    } else if has(&["returned error: 403", "403 forbidden"]) {
        (
            "the server refused access (403): the project is probably not in the target project's CI/CD job token allowlist",
            "in the target project: Settings > CI/CD > Job token permissions, add this job's project (or group) to the allowlist",
        )
    } else if has(&["not found", "returned error: 404"]) {
        (
            "the server answered 404: the project is not in the target project's CI/CD job token allowlist, or it does not exist (GitLab says 404 rather than 403 for projects a token may not see)",
            "check the URL; in the target project: Settings > CI/CD > Job token permissions, add this job's project (or group) to the allowlist",
        )
    } else if has(&[
        "terminal prompts disabled",
        "could not read username",
        "could not read password",
    ]) {
        (
            "no credential helper answered for this URL: its scheme, host and port are not those of a configured server, or the helper is not configured (see the checks above)",
            "use the server's exact https URL (same host and port as CI_SERVER_URL), or add it with --server",
        )
    } else if has(&["ssl", "certificate", "tls"]) {
        (
            "TLS failed: the server's certificate is not trusted here, or the name does not match",
            "install the CA (GIT_SSL_CAINFO, or the system trust store); for cargo's libgit2 use SSL_CERT_FILE",
        )
    } else if has(&[
        "could not resolve",
        "failed to connect",
        "couldn't connect",
        "connection refused",
        "timed out",
        "network is unreachable",
        "no route to host",
    ]) {
        (
            "the server could not be reached: a network, name or port problem",
            "check the host name and port, DNS, firewall and proxy settings",
        )
    } else {
        (
            "git ls-remote failed for another reason",
            "run it by hand with GIT_CURL_VERBOSE=1 and GIT_CREDENTIAL_GITLAB_CI_DEBUG=1",
        )
    };
    Check::problem(
        "probe",
        format!("git ls-remote {url}: {text} (git said: {shown})"),
        fix,
    )
}

fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("nothing")
        .chars()
        .take(200)
        .collect()
}

/// The token source the configured helper uses: doctor's own options when they differ from
/// the defaults, else those written into the last helper value of ours, else the defaults.
fn token_source(options: &HelperOptions, lines: &[HelperLine]) -> TokenSource {
    if options.token != TokenSource::default() {
        return options.token.clone();
    }
    match lines.last() {
        Some(HelperLine {
            token_file: Some(file),
            ..
        }) => TokenSource::File(file.clone()),
        Some(HelperLine {
            token_env: Some(var),
            ..
        }) => TokenSource::Env(var.clone()),
        _ => options.token.clone(),
    }
}

/// A URL with any user information removed, for showing.
fn display_url(url: &str) -> String {
    match crate::urls::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// Runs every check and prints the report to `out`: success when healthy.
pub fn run(
    args: &Options,
    options: &HelperOptions,
    env: &Env,
    diagnostics: &Diagnostics,
    out: &mut impl Write,
) -> Outcome {
    let git = Git::new(env);
    let mut checks = Vec::new();
    match git.version() {
        Some(v) => checks.push(Check::note("git", format!("using {v}"))),
        None => checks.push(Check::problem(
            "git",
            "git cannot be run",
            "install git and put it on PATH",
        )),
    }
    let entries = git.list_all().unwrap_or_default();
    let lines: Vec<HelperLine> = entries
        .iter()
        .filter(|e| e.key == "credential.helper" || e.key.ends_with(".helper"))
        .filter_map(|e| e.value.as_deref().and_then(parse_helper_line))
        .collect();

    let (servers, server_checks) = known_servers(env, &options.servers, &entries);
    checks.extend(server_checks);
    checks.push(check_servers(&servers));
    if let Some(name) = lines.iter().rev().find_map(|l| l.username.clone()) {
        if name != DEFAULT_USERNAME {
            checks.push(Check::note(
                "servers",
                format!("the helper answers with the user name {name}; GitLab expects gitlab-ci-token with a job token"),
            ));
        }
    }

    let source = token_source(options, &lines);
    checks.push(check_token(&source, token::load(&source, env).map(|_| ())));

    checks.extend(check_helper_programs(&entries, |p| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }));
    for known in &servers {
        checks.push(check_git_chain(&entries, &known.server));
    }

    // cargo
    let var = |name: &str| env.get(name).map(|v| v.to_string_lossy().into_owned());
    let vars: BTreeMap<String, String> = env
        .vars()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let home = var("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
    let cargo_home = var("CARGO_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".cargo")));
    let cargo_configs = cargo_config_texts(env.cwd(), cargo_home.as_deref());
    let fetch_with_cli = var("CARGO_NET_GIT_FETCH_WITH_CLI").is_some_and(|v| v == "true")
        || cargo_configs
            .iter()
            .any(|(_, t)| fetch_with_cli_in_config(t));
    let git_http_proxy = entries
        .iter()
        .any(|e| e.key == "http.proxy" && e.value.as_deref().is_some_and(|v| !v.is_empty()));
    let traps = cargo_transport_traps(&vars, git_http_proxy, &cargo_configs);
    checks.push(check_cargo_transport(&traps, fetch_with_cli));
    if !fetch_with_cli {
        let repo = git
            .run(
                &[OsStr::new("rev-parse"), OsStr::new("--absolute-git-dir")],
                &[128],
            )
            .ok()
            .flatten()
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o).trim()));
        let xdg = var("XDG_CONFIG_HOME")
            .filter(|x| !x.is_empty())
            .map(PathBuf::from);
        let files: Vec<(PathBuf, Vec<Entry>)> =
            libgit2_files(home.as_deref(), xdg.as_deref(), repo.as_deref())
                .into_iter()
                .map(|f| {
                    let entries = git.list_file(&f).unwrap_or_default();
                    (f, entries)
                })
                .collect();
        for known in &servers {
            checks.push(check_libgit2(&files, &known.server));
        }
    }

    // submodules
    let toplevel = git
        .run(
            &[OsStr::new("rev-parse"), OsStr::new("--show-toplevel")],
            &[128],
        )
        .ok()
        .flatten()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o).trim()));
    if let Some(gitmodules) = toplevel
        .map(|t| t.join(".gitmodules"))
        .filter(|f| f.is_file())
    {
        let submodules: Vec<(String, String)> = git
            .list_file(&gitmodules)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| match (e.parts(), e.value.as_deref()) {
                (("submodule", Some(name), "url"), Some(url)) => {
                    Some((name.to_string(), url.to_string()))
                }
                _ => None,
            })
            .collect();
        let mut hosts: Vec<String> = servers.iter().map(|k| k.server.host.clone()).collect();
        hosts.extend(
            var("CI_SERVER_SHELL_SSH_HOST")
                .filter(|h| !h.is_empty())
                .map(|h| h.to_ascii_lowercase()),
        );
        let found = check_submodules(&submodules, &hosts, &entries);
        if found.is_empty() {
            checks.push(Check::ok(
                "submodules",
                "no SSH-style submodule URL for a server in .gitmodules",
            ));
        }
        checks.extend(found);
    }

    if let Some(url) = &args.probe_url {
        let shown = display_url(url);
        let (success, timed_out, stderr) = probe(url, args.timeout, env);
        let stderr = diagnostics.scrub(&stderr);
        checks.push(explain_probe(&shown, success, timed_out, &stderr));
    }

    let healthy = !checks.iter().any(|c| c.status == Status::Problem);
    let _ = out.write_all(render(&checks).as_bytes());
    Outcome::from_success(healthy)
}

/// The cargo configuration files that apply here: `.cargo/config.toml` (and `config`) in this
/// directory and every parent, and in `CARGO_HOME`.
fn cargo_config_texts(cwd: Option<&Path>, cargo_home: Option<&Path>) -> Vec<(PathBuf, String)> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(cwd) = cwd {
        dirs.extend(cwd.ancestors().map(|d| d.join(".cargo")));
    }
    if let Some(home) = cargo_home {
        if !dirs.iter().any(|d| d == home) {
            dirs.push(home.to_path_buf());
        }
    }
    let mut out = Vec::new();
    for dir in dirs {
        for name in ["config.toml", "config"] {
            let file = dir.join(name);
            if let Ok(text) = std::fs::read_to_string(&file) {
                out.push((file, text));
            }
        }
    }
    out
}

/// `git ls-remote URL` without prompts, killed after `timeout`: (success, timed out, stderr).
fn probe(url: &str, timeout: Duration, env: &Env) -> (bool, bool, String) {
    use std::os::unix::process::CommandExt;
    let child = env
        .command("git")
        .args(["ls-remote", "--", url])
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return (false, false, format!("cannot run git ({})", e.kind())),
    };
    // git's stderr for ls-remote is a few lines, far below a pipe's buffer, so it is read
    // after git exits; a git blocked on a full pipe is killed at the time limit like a hung one.
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .stderr(Stdio::null())
                    .status();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => break None,
        }
    };
    let mut text = Vec::new();
    if let Some(pipe) = child.stderr.take() {
        let _ = pipe.take(64 * 1024).read_to_end(&mut text);
    }
    let stderr = String::from_utf8_lossy(&text).into_owned();
    match status {
        Some(s) => (s.success(), false, stderr),
        None => (false, true, stderr),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(url: &str) -> Server {
        Server::parse(url, Origin::Option).unwrap()
    }

    fn e(key: &str, value: &str, origin: &str) -> Entry {
        let mut entry = Entry::new(key, Some(value));
        entry.origin = format!("file:{origin}");
        entry
    }

    const OURS: &str = "/usr/local/bin/git-credential-gitlab-ci";

    #[test]
    fn git_chain_is_a_problem_when_another_helper_would_get_the_token() {
        let s = server("https://gitlab.example.com");
        let ok = [
            e("credential.helper", "store", "/h/.gitconfig"),
            e("credential.helper", OURS, "/h/.gitconfig"),
            e(
                "credential.https://gitlab.example.com.helper",
                "",
                "/h/.gitconfig",
            ),
            e(
                "credential.https://gitlab.example.com.helper",
                OURS,
                "/h/.gitconfig",
            ),
        ];
        assert_eq!(check_git_chain(&ok, &s).status, Status::Ok);
        let bad = &ok[..2];
        let check = check_git_chain(bad, &s);
        assert_eq!(check.status, Status::Problem);
        assert!(
            check.text.contains("'store' (from /h/.gitconfig)"),
            "{}",
            check.text
        );
        assert_eq!(check_git_chain(&[], &s).status, Status::Problem);
        let theirs = [e("credential.helper", "cache", "/h/.gitconfig")];
        assert!(check_git_chain(&theirs, &s)
            .text
            .contains("not this helper"));
    }

    #[test]
    fn helper_programs_that_cannot_run_are_problems() {
        let entries = [
            e(
                "credential.helper",
                "/gone/git-credential-gitlab-ci --server a",
                "/h/.gitconfig",
            ),
            e(
                "credential.helper",
                "/ok/git-credential-gitlab-ci",
                "/h/.gitconfig",
            ),
            e(
                "credential.helper",
                "/gone/git-credential-store",
                "/h/.gitconfig",
            ),
        ];
        let checks = check_helper_programs(&entries, |p| p.starts_with("/ok"));
        assert_eq!(checks.len(), 1);
        assert!(checks[0].text.contains("/gone/git-credential-gitlab-ci"));
    }

    #[test]
    fn libgit2_uses_the_last_value_of_the_most_important_file() {
        let s = server("https://localhost:8443");
        let home = PathBuf::from("/h/.gitconfig");
        let system = PathBuf::from("/etc/gitconfig");
        let files = vec![
            (
                home.clone(),
                vec![e("credential.helper", OURS, "/h/.gitconfig")],
            ),
            (
                system.clone(),
                vec![e("credential.helper", "store", "/etc/gitconfig")],
            ),
        ];
        assert_eq!(check_libgit2(&files, &s).status, Status::Ok);
        let files = vec![
            (
                home.clone(),
                vec![
                    e("credential.helper", OURS, "/h/.gitconfig"),
                    e("credential.helper", "store", "/h/.gitconfig"),
                ],
            ),
            (system.clone(), vec![]),
        ];
        assert_eq!(check_libgit2(&files, &s).status, Status::Problem);
        let files = vec![(home, vec![]), (system, vec![])];
        let check = check_libgit2(&files, &s);
        assert!(check.text.contains("GIT_CONFIG_GLOBAL"), "{}", check.text);
    }

    #[test]
    fn cargo_http_settings_proxies_and_http_tables_are_traps() {
        let vars: BTreeMap<String, String> = [
            ("CARGO_HTTP_CAINFO", "/ca.pem"),
            ("https_proxy", "http://proxy:3128"),
            ("HTTP_TIMEOUT", "30"),
            ("CARGO_HOME", "/c"),
            ("NO_PROXY", "x"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let configs = vec![
            (
                PathBuf::from("/c/config.toml"),
                "[http]\ntimeout = 30\n".into(),
            ),
            (
                PathBuf::from("/w/.cargo/config.toml"),
                "[net]\nretry = 2\n".into(),
            ),
        ];
        let traps = cargo_transport_traps(&vars, true, &configs);
        assert_eq!(traps.len(), 5, "{traps:?}");
        assert!(traps
            .iter()
            .any(|t| t.contains("[http] table in /c/config.toml")));
        assert_eq!(check_cargo_transport(&traps, false).status, Status::Problem);
        assert!(check_cargo_transport(&traps, false)
            .fix
            .unwrap()
            .contains("CARGO_NET_GIT_FETCH_WITH_CLI=true"));
        assert_eq!(check_cargo_transport(&traps, true).status, Status::Ok);
        assert_eq!(check_cargo_transport(&[], false).status, Status::Ok);
        assert!(has_http_table("http.timeout = 3"));
        assert!(has_http_table("http = { timeout = 3 }"));
        assert!(!has_http_table("[https-things]\n# [http]"));
        assert!(fetch_with_cli_in_config("[net]\ngit-fetch-with-cli = true"));
    }

    #[test]
    fn ssh_submodule_urls_for_the_server_need_a_rewrite() {
        assert_eq!(
            ssh_host("git@GitLab.example.com:g/x.git").as_deref(),
            Some("gitlab.example.com")
        );
        assert_eq!(
            ssh_host("ssh://git@gitlab.example.com:2222/g/x.git").as_deref(),
            Some("gitlab.example.com")
        );
        assert_eq!(ssh_host("https://gitlab.example.com/g/x.git"), None);
        assert_eq!(ssh_host("../x.git"), None);
        assert_eq!(ssh_host("./a:b"), None);
        let subs = vec![
            (
                "a".to_string(),
                "git@gitlab.example.com:g/a.git".to_string(),
            ),
            ("b".to_string(), "git@github.com:g/b.git".to_string()),
            ("c".to_string(), "../c.git".to_string()),
        ];
        let hosts = vec!["gitlab.example.com".to_string()];
        let checks = check_submodules(&subs, &hosts, &[]);
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].status, Status::Problem);
        let rewrite = [e(
            "url.https://gitlab.example.com/.insteadof",
            "git@gitlab.example.com:",
            "/h/.gitconfig",
        )];
        let checks = check_submodules(&subs, &hosts, &rewrite);
        assert_eq!(checks[0].status, Status::Ok);
    }

    #[test]
    fn probe_failures_are_explained_by_kind() {
        let cases = [
            ("fatal: Authentication failed for 'https://h/x.git/'", "401"),
            ("fatal: unable to access 'https://h/x/': The requested URL returned error: 403", "allowlist"),
            ("remote: The project you were looking for could not be found or you don't have permission to view it.\nfatal: repository 'https://h/x.git/' not found", "Job token permissions"),
            ("fatal: could not read Username for 'https://h': terminal prompts disabled", "no credential helper answered"),
            ("fatal: unable to access 'https://h/x/': SSL certificate problem: self-signed certificate", "TLS"),
            ("fatal: unable to access 'https://h/x/': Could not resolve host: h", "could not be reached"),
        ];
        for (stderr, needle) in cases {
            let check = explain_probe("https://h/x.git", false, false, stderr);
            let all = format!("{} {}", check.text, check.fix.clone().unwrap_or_default());
            assert!(all.contains(needle), "{stderr}: {all}");
            assert_eq!(check.status, Status::Problem);
        }
        assert_eq!(explain_probe("u", true, false, "").status, Status::Ok);
        assert!(explain_probe("u", false, true, "").text.contains("in time"));
    }

    #[test]
    fn helper_lines_yield_their_options() {
        let line = parse_helper_line(
            "/b/git-credential-gitlab-ci --server a.example --server=b.example --token-file '/run/s t'",
        )
        .unwrap();
        assert_eq!(line.servers, ["a.example", "b.example"]);
        assert_eq!(line.token_file, Some(PathBuf::from("/run/s t")));
        assert_eq!(parse_helper_line("store"), None);
    }

    #[test]
    fn report_says_healthy_only_without_problems() {
        let ok = [Check::ok("token", "fine")];
        assert!(render(&ok).contains("healthy"));
        let bad = [Check::problem("token", "missing", "set it")];
        let text = render(&bad);
        assert!(
            text.contains("PROBLEM") && text.contains("fix: set it") && !text.contains("healthy")
        );
    }
}
