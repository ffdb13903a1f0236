//! Docker's credential-helper protocol, for the job's container registries.
//!
//! Docker, skopeo, podman and buildah run `docker-credential-<name> <get|store|erase|list>` for
//! the registries that `config.json` maps to `<name>` under `credHelpers`. This mode answers
//! `get` with `gitlab-ci-token` and the job token for `CI_REGISTRY`, `CI_DEPENDENCY_PROXY_SERVER`
//! and `--registry` values — and for nothing else — so that `docker login` (which writes the
//! token base64-encoded into `~/.docker/config.json`) is never needed.
//!
//! Same rule as the git side: [`decide_registry`] is pure and decides; the functions taking
//! readers and writers do the I/O. The JSON is written by `serde_json`, so any byte a token may
//! hold stays valid JSON.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::diagnostics::{shown, Diagnostics};
use crate::env::Env;
use crate::outcome::Outcome;
use crate::policy::DEFAULT_USERNAME;
use crate::token::{self, TokenError, TokenSource};
use crate::urls::{parse_port, split_port};

/// What Docker's own helpers print (on stdout, exit status 1) when they know no credentials.
/// Clients compare the trimmed output with exactly this text and then fall back to anonymous
/// access; any other failure text aborts the pull or push.
pub const NOT_FOUND: &str = "credentials not found in native keychain";

/// The helper name written into `credHelpers`: Docker then runs `docker-credential-gitlab-ci`.
pub const HELPER_NAME: &str = "gitlab-ci";

/// Longest `get` request read. A registry address is a host and a port; anything longer is not
/// one of ours.
pub const MAX_GET_BYTES: usize = 4096;

/// Most bytes read (and discarded) for `store` and `erase`.
pub const MAX_DISCARD_BYTES: usize = 1024 * 1024;

/// Where a registry came from, for debug output, `list` and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryOrigin {
    /// `CI_REGISTRY`.
    Registry,
    /// `CI_DEPENDENCY_PROXY_SERVER`.
    DependencyProxy,
    /// A `--registry` option.
    Option,
}

impl fmt::Display for RegistryOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RegistryOrigin::Registry => "CI_REGISTRY",
            RegistryOrigin::DependencyProxy => "CI_DEPENDENCY_PROXY_SERVER",
            RegistryOrigin::Option => "--registry",
        })
    }
}

/// A registry we answer for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// `host[:port]` as configured, without `https://`: the `credHelpers` key and the `list` key.
    pub name: String,
    /// Lower-case ASCII; IPv6 literals keep their brackets.
    pub host: String,
    pub port: u16,
    pub origin: RegistryOrigin,
}

impl fmt::Display for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// A registry setting that cannot be used. The value itself is not repeated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("{0} is not a registry address; use host or host:port, e.g. registry.example.com:5050 (https only)")]
    Invalid(RegistryOrigin),
}

/// Why a `get` is not answered. Shown only in debug output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotFound {
    NoRegistry,
    Empty,
    PlainHttp,
    OtherScheme,
    /// Anything but a bare `host[:port]`: a path, user information, spaces, control bytes,
    /// non-ASCII, a malformed port, more than one trailing newline.
    NotAnAddress,
    OtherRegistry,
    TooLong,
}

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotFound::NoRegistry => {
                "no registry is configured (set CI_REGISTRY or CI_DEPENDENCY_PROXY_SERVER, or pass --registry)"
            }
            NotFound::Empty => "the request names no registry",
            NotFound::PlainHttp => "the request is for plain http, which never gets the token",
            NotFound::OtherScheme => "the request has a scheme other than https",
            NotFound::NotAnAddress => "the request is not a bare host[:port]",
            NotFound::OtherRegistry => "the host and port are not those of a configured registry",
            NotFound::TooLong => "the request is too long to be a registry address",
        })
    }
}

/// The decision for a `get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryDecision<'a> {
    /// Answer for `registry`; `server_url` is the request as given (minus one trailing newline),
    /// echoed back as `ServerURL`.
    Answer {
        registry: &'a Registry,
        server_url: &'a str,
    },
    NotFound(NotFound),
}

/// A parsed `host[:port]`: lower-case host and port (443 when absent).
fn parse_address(text: &[u8]) -> Option<(String, u16)> {
    // Only what a DNS name, an IPv4 address, a bracketed IPv6 literal and a port are made of.
    // This leaves out `/`, `@`, `\`, `%`, `?`, `#`, spaces, control bytes and non-ASCII.
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || b".-_:[]".contains(b);
    if text.is_empty() || !text.iter().all(allowed) {
        return None;
    }
    let (name, port) = match split_port(text) {
        Some((name, port)) => (name, parse_port(port)?),
        None => (text, 443),
    };
    let bracketed = name.len() > 2 && name[0] == b'[' && name[name.len() - 1] == b']';
    let inner = if bracketed {
        &name[1..name.len() - 1]
    } else {
        name
    };
    // Brackets only around a whole IPv6 literal; a colon only inside one.
    if inner.is_empty()
        || inner.contains(&b'[')
        || inner.contains(&b']')
        || (!bracketed && inner.contains(&b':'))
        || (bracketed
            && !inner
                .iter()
                .all(|b| b.is_ascii_hexdigit() || b".:".contains(b)))
    {
        return None;
    }
    let host = String::from_utf8(name.to_ascii_lowercase()).ok()?;
    Some((host, port))
}

impl Registry {
    /// Parses a configured registry: `host[:port]`, optionally written with `https://`.
    pub fn parse(value: &str, origin: RegistryOrigin) -> Result<Registry, RegistryError> {
        let name = value.strip_prefix("https://").unwrap_or(value);
        let (host, port) = parse_address(name.as_bytes()).ok_or(RegistryError::Invalid(origin))?;
        Ok(Registry {
            name: name.to_string(),
            host,
            port,
            origin,
        })
    }
}

/// The variables that name the job's registries, set by GitLab in every job.
pub const VARIABLES: [&str; 2] = ["CI_REGISTRY", "CI_DEPENDENCY_PROXY_SERVER"];

/// The registries to answer for: `CI_REGISTRY`, `CI_DEPENDENCY_PROXY_SERVER`, then each
/// `--registry`, without duplicates (same host and port).
pub fn configured_registries(
    env: &Env,
    options: &[String],
) -> Result<Vec<Registry>, RegistryError> {
    // A variable that is set but empty (or not Unicode, which no address is) counts as unset.
    let var = |name| env.non_empty(name).and_then(std::ffi::OsStr::to_str);
    let from_env = [
        (var("CI_REGISTRY"), RegistryOrigin::Registry),
        (
            var("CI_DEPENDENCY_PROXY_SERVER"),
            RegistryOrigin::DependencyProxy,
        ),
    ];
    let values = from_env
        .into_iter()
        .filter_map(|(value, origin)| value.map(|v| (v, origin)))
        .chain(options.iter().map(|v| (v.as_str(), RegistryOrigin::Option)));
    let mut registries: Vec<Registry> = Vec::new();
    for (value, origin) in values {
        let registry = Registry::parse(value, origin)?;
        if !registries
            .iter()
            .any(|r| r.host == registry.host && r.port == registry.port && r.name == registry.name)
        {
            registries.push(registry);
        }
    }
    Ok(registries)
}

/// Decides whether a `get` request (the bytes Docker wrote on stdin) is for one of `registries`:
/// an optional `https://`, then `host[:port]` with the host equal ignoring ASCII case and the
/// port equal once 443 is filled in. `http://` never matches. Nothing is trimmed except one
/// trailing newline.
pub fn decide_registry<'a>(input: &'a [u8], registries: &'a [Registry]) -> RegistryDecision<'a> {
    use RegistryDecision::NotFound as No;
    if registries.is_empty() {
        return No(NotFound::NoRegistry);
    }
    if input.len() > MAX_GET_BYTES {
        return No(NotFound::TooLong);
    }
    let given = input.strip_suffix(b"\n").unwrap_or(input);
    if given.is_empty() {
        return No(NotFound::Empty);
    }
    if given.starts_with(b"http://") {
        return No(NotFound::PlainHttp);
    }
    let address = match given.strip_prefix(b"https://") {
        Some(rest) => rest,
        None if given.windows(3).any(|w| w == b"://") => return No(NotFound::OtherScheme),
        None => given,
    };
    let Some((host, port)) = parse_address(address) else {
        return No(NotFound::NotAnAddress);
    };
    // parse_address accepted only ASCII, so this cannot fail.
    let Ok(server_url) = std::str::from_utf8(given) else {
        return No(NotFound::NotAnAddress);
    };
    match registries
        .iter()
        .find(|r| r.port == port && r.host.eq_ignore_ascii_case(&host))
    {
        Some(registry) => RegistryDecision::Answer {
            registry,
            server_url,
        },
        None => No(NotFound::OtherRegistry),
    }
}

/// The `get` answer, `{"Secret":…,"ServerURL":…,"Username":…}` and a newline, in a buffer that
/// is zeroized when dropped.
pub fn answer_json(server_url: &str, username: &str, secret: &str) -> Zeroizing<Vec<u8>> {
    let mut object = BTreeMap::new();
    object.insert("ServerURL", server_url);
    object.insert("Username", username);
    object.insert("Secret", secret);
    let mut out = Zeroizing::new(Vec::with_capacity(
        64 + server_url.len() + username.len() + secret.len(),
    ));
    // Serialising string slices into a Vec cannot fail.
    serde_json::to_writer(&mut *out, &object).expect("serialise strings");
    out.push(b'\n');
    out
}

/// The `list` answer: each registry's name mapped to the user name. Never the token.
pub fn list_json(registries: &[Registry], username: &str) -> String {
    let object: BTreeMap<&str, &str> = registries
        .iter()
        .map(|r| (r.name.as_str(), username))
        .collect();
    let mut out = serde_json::to_string(&object).expect("serialise strings");
    out.push('\n');
    out
}

/// A failure of the docker mode: exit status 1, one line on stderr (and on stdout, where
/// Docker's clients look for a helper's error text).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Registry(#[from] RegistryError),
    #[error("the request is for the registry {registry}, but {error}")]
    Token { registry: String, error: TokenError },
    #[error("could not read the request from standard input ({0})")]
    Read(io::ErrorKind),
    #[error("could not write the answer ({0})")]
    Output(io::ErrorKind),
    #[error("unknown docker credential operation; use get, store, erase, list or configure")]
    UnknownOperation,
    #[error(
        "no registry is known; set CI_REGISTRY or CI_DEPENDENCY_PROXY_SERVER, or pass --registry"
    )]
    NoRegistry,
    #[error("{0}")]
    Config(#[from] ConfigError),
}

/// The operation Docker (or skopeo, podman, buildah) asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Get,
    Store,
    Erase,
    List,
    /// Add our `credHelpers` entries to `config.json` (ours, not Docker's protocol).
    Configure,
    /// Any other word: an error, since Docker's protocol has no forward-compatibility rule.
    Other,
}

/// The docker mode's own options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `--registry` values, unparsed; see [`configured_registries`].
    pub registries: Vec<String>,
}

/// Runs one operation of the docker credential-helper protocol. A failure is one line on
/// stderr and the same line on `output`, where Docker's clients read a helper's error text; the
/// token is in neither.
pub fn run(
    operation: Operation,
    options: &Options,
    token: &TokenSource,
    env: &Env,
    input: impl Read,
    output: &mut impl Write,
    diagnostics: &Diagnostics,
) -> Outcome {
    let result = match operation {
        Operation::Store | Operation::Erase => {
            let name = match operation {
                Operation::Store => "store",
                _ => "erase",
            };
            store_or_erase(name, input, diagnostics);
            return Outcome::Success;
        }
        Operation::Other => Err(Error::UnknownOperation),
        _ => configured_registries(env, &options.registries)
            .map_err(Error::from)
            .and_then(|registries| match operation {
                Operation::Get => get(&registries, token, env, input, output, diagnostics)
                    .map(|outcome| outcome == GetOutcome::Answered),
                Operation::List => list(&registries, output).map(|()| true),
                _ => configure_and_report(&registries, env, output).map(|_| true),
            }),
    };
    match result {
        Ok(answered) => Outcome::from_success(answered),
        Err(error) => {
            let _ = output.write_all(diagnostics.line(&error).as_bytes());
            diagnostics.error(&error);
            Outcome::Failure
        }
    }
}

/// What `get` printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetOutcome {
    /// The credential JSON (exit status 0).
    Answered,
    /// [`NOT_FOUND`] (exit status 1).
    NotFound,
}

/// Reads at most `limit + 1` bytes, so "too long" can be told from "exactly the limit".
fn read_bounded(input: impl Read, limit: usize) -> Result<Zeroizing<Vec<u8>>, Error> {
    let mut bytes = Zeroizing::new(Vec::new());
    input
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Read(e.kind()))?;
    Ok(bytes)
}

fn write_out(output: &mut impl Write, bytes: &[u8]) -> Result<(), Error> {
    match output.write_all(bytes).and_then(|()| output.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        result => result.map_err(|e| Error::Output(e.kind())),
    }
}

/// `get`: prints the credential JSON for a configured registry, [`NOT_FOUND`] for anything else.
/// Nothing is written until the decision and the token are both final.
pub fn get(
    registries: &[Registry],
    source: &TokenSource,
    env: &Env,
    input: impl Read,
    output: &mut impl Write,
    diagnostics: &Diagnostics,
) -> Result<GetOutcome, Error> {
    let request = read_bounded(input, MAX_GET_BYTES)?;
    diagnostics.debug(|| match registries.is_empty() {
        true => "registries: none".to_string(),
        false => {
            let list: Vec<String> = registries
                .iter()
                .map(|r| format!("{r} (from {})", r.origin))
                .collect();
            format!("registries: {}", list.join(", "))
        }
    });
    diagnostics.debug(|| format!("docker get: '{}'", shown(&request)));
    match decide_registry(&request, registries) {
        RegistryDecision::NotFound(why) => {
            diagnostics.debug(|| format!("not found, {why}"));
            write_out(output, format!("{NOT_FOUND}\n").as_bytes())?;
            Ok(GetOutcome::NotFound)
        }
        RegistryDecision::Answer {
            registry,
            server_url,
        } => {
            let secret = token::load(source, env).map_err(|error| Error::Token {
                registry: registry.to_string(),
                error,
            })?;
            diagnostics.debug(|| {
                format!("answering {registry} as {DEFAULT_USERNAME} with the token from {source}")
            });
            let json = answer_json(server_url, DEFAULT_USERNAME, secret.expose_secret());
            write_out(output, &json)?;
            Ok(GetOutcome::Answered)
        }
    }
}

/// `store` and `erase`: read the request (a `store` request holds a secret) and keep nothing.
pub fn store_or_erase(operation: &str, input: impl Read, diagnostics: &Diagnostics) {
    let _ = read_bounded(input, MAX_DISCARD_BYTES);
    diagnostics
        .debug(|| format!("docker {operation}: nothing to do, no credential is ever stored"));
}

/// `list`: the registries we answer for, each with the user name.
pub fn list(registries: &[Registry], output: &mut impl Write) -> Result<(), Error> {
    write_out(output, list_json(registries, DEFAULT_USERNAME).as_bytes())
}

/// Why `config.json` cannot be updated. Messages name the file, never its content (it may hold
/// `auths` entries with encoded passwords).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not valid JSON; fix or remove it first")]
    NotJson(String),
    #[error("{0} does not hold a JSON object; fix or remove it first")]
    NotObject(String),
    #[error("credHelpers in {0} is not a JSON object; fix it first")]
    CredHelpersNotObject(String),
    #[error("cannot read {0} ({1})")]
    Read(String, io::ErrorKind),
    #[error("cannot write {0} ({1})")]
    Write(String, io::ErrorKind),
    #[error("no Docker configuration directory; set DOCKER_CONFIG or HOME")]
    NoDirectory,
}

/// The result of adding our `credHelpers` entries to a `config.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigUpdate {
    /// The new file content, or `None` when every entry was already there (nothing to write).
    pub content: Option<Vec<u8>>,
    /// Registries whose entry named another helper and now names ours.
    pub replaced: Vec<String>,
    /// Registries that also have an `auths` entry (a stored `docker login`): left alone, but the
    /// user should know a token may be stored there.
    pub stored_logins: Vec<String>,
}

/// Adds `"<registry>": "gitlab-ci"` under `credHelpers` for each registry, keeping everything
/// else in the document. Pure: `existing` is the file's content, if it exists; `file` only names
/// it in errors. Idempotent: when nothing changes, `content` is `None`.
pub fn add_cred_helpers(
    existing: Option<&[u8]>,
    registries: &[Registry],
    file: &str,
) -> Result<ConfigUpdate, ConfigError> {
    use serde_json::{Map, Value};
    let mut document = match existing {
        Some(bytes) if !bytes.iter().all(u8::is_ascii_whitespace) => {
            serde_json::from_slice::<Value>(bytes)
                .map_err(|_| ConfigError::NotJson(file.to_string()))?
        }
        _ => Value::Object(Map::new()),
    };
    let root = document
        .as_object_mut()
        .ok_or_else(|| ConfigError::NotObject(file.to_string()))?;
    let stored_logins = registries
        .iter()
        .filter(|r| {
            root.get("auths")
                .and_then(Value::as_object)
                .is_some_and(|auths| {
                    auths.keys().any(|k| {
                        let key = k.strip_prefix("https://").unwrap_or(k);
                        let key = key.strip_suffix('/').unwrap_or(key);
                        key.eq_ignore_ascii_case(&r.name)
                    })
                })
        })
        .map(|r| r.name.clone())
        .collect();
    let helpers = root
        .entry("credHelpers")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| ConfigError::CredHelpersNotObject(file.to_string()))?;
    let mut changed = false;
    let mut replaced = Vec::new();
    for registry in registries {
        match helpers.get(&registry.name) {
            Some(Value::String(name)) if name == HELPER_NAME => continue,
            Some(_) => replaced.push(registry.name.clone()),
            None => {}
        }
        helpers.insert(registry.name.clone(), Value::String(HELPER_NAME.into()));
        changed = true;
    }
    let content = match changed || existing.is_none() {
        false => None,
        true => {
            // Docker writes config.json indented with tabs; do the same.
            let mut out = Vec::new();
            let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
            let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
            serde::Serialize::serialize(&document, &mut serializer)
                .map_err(|_| ConfigError::Write(file.to_string(), io::ErrorKind::InvalidData))?;
            out.push(b'\n');
            Some(out)
        }
    };
    Ok(ConfigUpdate {
        content,
        replaced,
        stored_logins,
    })
}

/// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
pub fn docker_config_path(
    docker_config: Option<&Path>,
    home: Option<&Path>,
) -> Result<PathBuf, ConfigError> {
    match (docker_config, home) {
        (Some(dir), _) if !dir.as_os_str().is_empty() => Ok(dir.join("config.json")),
        (_, Some(home)) if !home.as_os_str().is_empty() => {
            Ok(home.join(".docker").join("config.json"))
        }
        _ => Err(ConfigError::NoDirectory),
    }
}

/// `configure`: adds our `credHelpers` entries to the Docker configuration file, writing it
/// through a temporary file and a rename (mode 0600 for a new file, the old mode otherwise).
/// Returns the file and what changed, for the caller to report.
pub fn configure(registries: &[Registry], path: &Path) -> Result<ConfigUpdate, Error> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if registries.is_empty() {
        return Err(Error::NoRegistry);
    }
    // A config.json that is a symlink (dotfile managers) is updated where it points, as Docker
    // does, rather than replaced by a regular file.
    let resolved = std::fs::canonicalize(path).ok();
    let path = resolved.as_deref().unwrap_or(path);
    let file = path.display().to_string();
    let existing = match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(ConfigError::Read(file, e.kind()).into()),
    };
    let update = add_cred_helpers(existing.as_deref(), registries, &file)?;
    let Some(content) = &update.content else {
        return Ok(update);
    };
    let write_error = |e: io::Error| ConfigError::Write(file.clone(), e.kind());
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(write_error)?;
    let mode = match std::fs::metadata(path) {
        Ok(meta) => meta.permissions().mode() & 0o7777,
        Err(_) => 0o600,
    };
    let temp = dir.join(format!(".config.json.{}.tmp", std::process::id()));
    let result = (|| {
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temp)?;
        out.write_all(content)?;
        out.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(write_error(e).into());
    }
    Ok(update)
}

/// What `docker configure` (and `configure --docker`) runs: finds the file from
/// `DOCKER_CONFIG`/`HOME`, adds the entries, and says on `out`
/// what changed, what it replaced and which stored logins remain. Never writes the token.
pub fn configure_and_report(
    registries: &[Registry],
    env: &Env,
    out: &mut impl Write,
) -> Result<ConfigUpdate, Error> {
    let path = docker_config_path(
        env.get("DOCKER_CONFIG").map(Path::new),
        env.get("HOME").map(Path::new),
    )?;
    let update = configure(registries, &path)?;
    let names: Vec<&str> = registries.iter().map(|r| r.name.as_str()).collect();
    let file = path.display();
    let mut report = match update.content {
        Some(_) => format!(
            "{file}: credHelpers for {} now use docker-credential-{HELPER_NAME}\n",
            names.join(", ")
        ),
        None => format!("{file}: already configured for {}\n", names.join(", ")),
    };
    for name in &update.replaced {
        report.push_str(&format!(
            "note: {name} used another credential helper before\n"
        ));
    }
    for name in &update.stored_logins {
        report.push_str(&format!(
            "warning: {file} also holds a stored login for {name} (from docker login); remove it with: docker logout {name}\n"
        ));
    }
    write_out(out, report.as_bytes())?;
    Ok(update)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registries(values: &[&str]) -> Vec<Registry> {
        values
            .iter()
            .map(|v| Registry::parse(v, RegistryOrigin::Option).unwrap())
            .collect()
    }

    #[test]
    fn decides_registries_by_table() {
        let ours = registries(&["registry.example.com", "gitlab.example.com:5050"]);
        let yes = |name: &'static str| Ok(name);
        use NotFound::*;
        let cases: &[(&[u8], Result<&str, NotFound>)] = &[
            (b"registry.example.com", yes("registry.example.com")),
            (b"registry.example.com\n", yes("registry.example.com")),
            (b"https://registry.example.com", yes("registry.example.com")),
            (b"registry.example.com:443", yes("registry.example.com")),
            (
                b"https://registry.example.com:443\n",
                yes("registry.example.com"),
            ),
            (b"Registry.EXAMPLE.com", yes("registry.example.com")),
            (b"gitlab.example.com:5050", yes("gitlab.example.com:5050")),
            (b"GITLAB.example.com:5050\n", yes("gitlab.example.com:5050")),
            (b"gitlab.example.com", Err(OtherRegistry)),
            (b"gitlab.example.com:443", Err(OtherRegistry)),
            (b"registry.example.com:5050", Err(OtherRegistry)),
            (b"registry.example.com.", Err(OtherRegistry)),
            (b"registry.example.com.evil.com", Err(OtherRegistry)),
            (b"evilregistry.example.com", Err(OtherRegistry)),
            (b"example.com", Err(OtherRegistry)),
            (b"http://registry.example.com", Err(PlainHttp)),
            (b"http://registry.example.com:443", Err(PlainHttp)),
            (b"HTTPS://registry.example.com", Err(OtherScheme)),
            (b"ftp://registry.example.com", Err(OtherScheme)),
            (b"https://registry.example.com/", Err(NotAnAddress)),
            (b"https://registry.example.com/v2/", Err(NotAnAddress)),
            (b"registry.example.com/group/image", Err(NotAnAddress)),
            (b"user@registry.example.com", Err(NotAnAddress)),
            (b"registry.example.com@evil.com", Err(NotAnAddress)),
            (b"https://u:p@registry.example.com", Err(NotAnAddress)),
            (b"registry.example.com\n\n", Err(NotAnAddress)),
            (b"registry.example.com\r\n", Err(NotAnAddress)),
            (b"registry.example.com ", Err(NotAnAddress)),
            (b" registry.example.com", Err(NotAnAddress)),
            (b"registry.example.com\0", Err(NotAnAddress)),
            (b"registry.example.com\nevil.com", Err(NotAnAddress)),
            (b"registry.example.com\tx", Err(NotAnAddress)),
            (b"registry\xef\xbc\x8eexample.com", Err(NotAnAddress)),
            (b"registry.example.com\xff", Err(NotAnAddress)),
            (b"registry.example.com%2f", Err(NotAnAddress)),
            (b"registry.example.com?x", Err(NotAnAddress)),
            (b"registry.example.com#x", Err(NotAnAddress)),
            (b"registry.example.com\\@evil.com", Err(NotAnAddress)),
            (b"registry.example.com:", Err(NotAnAddress)),
            (b"registry.example.com:0443", Err(NotAnAddress)),
            (b"registry.example.com:65536", Err(NotAnAddress)),
            (b"registry.example.com:443x", Err(NotAnAddress)),
            (b"registry.example.com:443:443", Err(NotAnAddress)),
            (b"https://", Err(NotAnAddress)),
            (b"", Err(Empty)),
            (b"\n", Err(Empty)),
        ];
        for (input, expected) in cases {
            let got = match decide_registry(input, &ours) {
                RegistryDecision::Answer {
                    registry,
                    server_url,
                } => {
                    let given = input.strip_suffix(b"\n").unwrap_or(input);
                    assert_eq!(
                        server_url.as_bytes(),
                        given,
                        "ServerURL is the input as given"
                    );
                    Ok(registry.name.as_str())
                }
                RegistryDecision::NotFound(why) => Err(why),
            };
            assert_eq!(&got, expected, "input {:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn nothing_matches_without_registries_or_beyond_the_size_bound() {
        assert_eq!(
            decide_registry(b"registry.example.com", &[]),
            RegistryDecision::NotFound(NotFound::NoRegistry)
        );
        let ours = registries(&["registry.example.com"]);
        let long = [b'a'; MAX_GET_BYTES + 1];
        assert_eq!(
            decide_registry(&long, &ours),
            RegistryDecision::NotFound(NotFound::TooLong)
        );
    }

    #[test]
    fn ipv6_and_ip_registries_match_only_exactly() {
        let ours = registries(&["[::1]:5000", "127.0.0.1:5000"]);
        let answered = |input: &[u8]| {
            matches!(
                decide_registry(input, &ours),
                RegistryDecision::Answer { .. }
            )
        };
        assert!(answered(b"[::1]:5000"));
        assert!(answered(b"127.0.0.1:5000"));
        assert!(!answered(b"[::1]"));
        assert!(!answered(b"::1:5000"));
        assert!(!answered(b"[::1]x:5000"));
        assert!(!answered(b"[[::1]]:5000"));
        assert!(!answered(b"localhost:5000"));
        assert!(!answered(b"127.0.0.1:5001"));
    }

    #[test]
    fn parses_configured_registries_by_table() {
        let o = RegistryOrigin::Option;
        let ok = |name: &str, host: &str, port| {
            Ok(Registry {
                name: name.into(),
                host: host.into(),
                port,
                origin: o,
            })
        };
        let cases: &[(&str, Result<Registry, RegistryError>)] = &[
            (
                "registry.example.com",
                ok("registry.example.com", "registry.example.com", 443),
            ),
            (
                "https://Reg.Example.com:5050",
                ok("Reg.Example.com:5050", "reg.example.com", 5050),
            ),
            (
                "gitlab.example.com:443",
                ok("gitlab.example.com:443", "gitlab.example.com", 443),
            ),
            (
                "http://registry.example.com",
                Err(RegistryError::Invalid(o)),
            ),
            ("registry.example.com/", Err(RegistryError::Invalid(o))),
            ("u@registry.example.com", Err(RegistryError::Invalid(o))),
            ("registry.example.com:0", Err(RegistryError::Invalid(o))),
            ("", Err(RegistryError::Invalid(o))),
        ];
        for (value, expected) in cases {
            assert_eq!(&Registry::parse(value, o), expected, "value {value:?}");
        }
    }

    #[test]
    fn registries_come_from_both_variables_and_options_without_duplicates() {
        let env = Env::from_vars([
            ("CI_REGISTRY", "registry.example.com"),
            ("CI_DEPENDENCY_PROXY_SERVER", "gitlab.example.com:443"),
        ]);
        let got = configured_registries(
            &env,
            &[
                "registry.example.com".into(),
                "mirror.example.com:5000".into(),
            ],
        )
        .unwrap();
        let names: Vec<(&str, RegistryOrigin)> =
            got.iter().map(|r| (r.name.as_str(), r.origin)).collect();
        assert_eq!(
            names,
            [
                ("registry.example.com", RegistryOrigin::Registry),
                ("gitlab.example.com:443", RegistryOrigin::DependencyProxy),
                ("mirror.example.com:5000", RegistryOrigin::Option),
            ]
        );
        let bad = Env::from_vars([("CI_REGISTRY", "http://registry.example.com")]);
        assert_eq!(
            configured_registries(&bad, &[]),
            Err(RegistryError::Invalid(RegistryOrigin::Registry))
        );
    }

    #[test]
    fn answers_are_valid_json_whatever_the_token_holds() {
        for token in [
            "tok",
            "quote\"back\\slash",
            "tab\tescape\u{1b}bell\u{7}",
            "unicode-\u{e9}-\u{1f600}",
            "</script>{\"Secret\":\"x\"}",
        ] {
            let json = answer_json("https://registry.example.com", "gitlab-ci-token", token);
            assert_eq!(json.last(), Some(&b'\n'));
            let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
            assert_eq!(value["Secret"], token);
            assert_eq!(value["Username"], "gitlab-ci-token");
            assert_eq!(value["ServerURL"], "https://registry.example.com");
            assert_eq!(value.as_object().unwrap().len(), 3);
        }
    }

    #[test]
    fn list_maps_registries_to_the_user_name_only() {
        let ours = registries(&["registry.example.com", "gitlab.example.com:443"]);
        assert_eq!(
            list_json(&ours, "gitlab-ci-token"),
            "{\"gitlab.example.com:443\":\"gitlab-ci-token\",\"registry.example.com\":\"gitlab-ci-token\"}\n"
        );
        assert_eq!(list_json(&[], "gitlab-ci-token"), "{}\n");
    }

    #[test]
    fn configuring_keeps_other_content_and_is_idempotent() {
        let ours = registries(&["registry.example.com", "gitlab.example.com:443"]);
        let existing = br#"{"auths":{"other.example":{"auth":"eDp5"}},"credHelpers":{"gcr.io":"gcloud","registry.example.com":"ecr-login"},"psFormat":"table"}"#;
        let update = add_cred_helpers(Some(existing), &ours, "config.json").unwrap();
        assert_eq!(update.replaced, ["registry.example.com"]);
        assert!(update.stored_logins.is_empty());
        let content = update.content.unwrap();
        let value: serde_json::Value = serde_json::from_slice(&content).unwrap();
        assert_eq!(value["auths"]["other.example"]["auth"], "eDp5");
        assert_eq!(value["psFormat"], "table");
        assert_eq!(value["credHelpers"]["gcr.io"], "gcloud");
        assert_eq!(value["credHelpers"]["registry.example.com"], "gitlab-ci");
        assert_eq!(value["credHelpers"]["gitlab.example.com:443"], "gitlab-ci");
        assert!(content.starts_with(b"{\n\t\""), "tab-indented like Docker");
        let again = add_cred_helpers(Some(&content), &ours, "config.json").unwrap();
        assert_eq!(again.content, None, "second run changes nothing");
        assert!(again.replaced.is_empty());
    }

    #[test]
    fn configuring_creates_a_file_and_reports_stored_logins() {
        let ours = registries(&["registry.example.com"]);
        let created = add_cred_helpers(None, &ours, "config.json").unwrap();
        let value: serde_json::Value = serde_json::from_slice(&created.content.unwrap()).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"credHelpers": {"registry.example.com": "gitlab-ci"}})
        );
        let login = br#"{"auths":{"https://registry.example.com/":{"auth":"Z2l0bGFiLWNpLXRva2VuOnRvaw=="}}}"#;
        let update = add_cred_helpers(Some(login), &ours, "config.json").unwrap();
        assert_eq!(update.stored_logins, ["registry.example.com"]);
    }

    #[test]
    fn configuring_refuses_documents_it_would_damage() {
        let ours = registries(&["registry.example.com"]);
        let err = |bytes: &[u8]| add_cred_helpers(Some(bytes), &ours, "c.json").unwrap_err();
        assert_eq!(err(b"{not json"), ConfigError::NotJson("c.json".into()));
        assert_eq!(err(b"[]"), ConfigError::NotObject("c.json".into()));
        assert_eq!(
            err(br#"{"credHelpers":"x"}"#),
            ConfigError::CredHelpersNotObject("c.json".into())
        );
        assert!(!err(br#"{"auths": {"secretvalue"#)
            .to_string()
            .contains("secretvalue"));
    }

    #[test]
    fn config_path_prefers_docker_config() {
        assert_eq!(
            docker_config_path(Some(Path::new("/d")), Some(Path::new("/h"))).unwrap(),
            Path::new("/d/config.json")
        );
        assert_eq!(
            docker_config_path(None, Some(Path::new("/h"))).unwrap(),
            Path::new("/h/.docker/config.json")
        );
        assert_eq!(
            docker_config_path(None, None),
            Err(ConfigError::NoDirectory)
        );
    }
}
