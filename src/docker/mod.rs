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
//!
//! The parts: [`registry`] decides (pure), [`config_json`] edits Docker's `config.json`, and this
//! file runs the operations.

pub mod config_json;
pub mod registry;

pub use config_json::{ConfigError, ConfigUpdate, HELPER_NAME, MAX_CONFIG_BYTES};
pub use registry::{
    configured_registries, decide_registry, NotFound, Registry, RegistryDecision, RegistryError,
    RegistryOrigin, MAX_GET_BYTES, VARIABLES,
};

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::Path;

use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::diagnostics::{shown, Diagnostics};
use crate::env::Env;
use crate::outcome::Outcome;
use crate::policy::DEFAULT_USERNAME;
use crate::token::{self, TokenError, TokenSource};

/// What Docker's own helpers print (on stdout, exit status 1) when they know no credentials.
/// Clients compare the trimmed output with exactly this text and then fall back to anonymous
/// access; any other failure text aborts the pull or push.
pub const NOT_FOUND: &str = "credentials not found in native keychain";

/// Most bytes read (and discarded) for `store` and `erase`.
pub const MAX_DISCARD_BYTES: usize = 1024 * 1024;

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
        Operation::Get => return get(options, token, env, input, output, diagnostics),
        Operation::Other => Err(Error::UnknownOperation),
        _ => configured_registries(env, &options.registries)
            .map_err(Error::from)
            .and_then(|registries| match operation {
                Operation::List => list(&registries, output),
                _ => configure_and_report(&registries, env, output).map(|_| ()),
            }),
    };
    match result {
        Ok(()) => Outcome::Success,
        Err(error) => fail(&error, output, diagnostics),
    }
}

/// A failure: one line on stderr and the same line on `output`, where Docker's clients read a
/// helper's error text (and then abort the pull or push).
fn fail(error: &Error, output: &mut impl Write, diagnostics: &Diagnostics) -> Outcome {
    let _ = output.write_all(diagnostics.line(error).as_bytes());
    diagnostics.error(error);
    Outcome::Failure
}

/// [`NOT_FOUND`], exit status 1: Docker's clients then go on without credentials.
fn not_found(output: &mut impl Write, diagnostics: &Diagnostics) -> Outcome {
    if let Err(error) = write_out(output, format!("{NOT_FOUND}\n").as_bytes()) {
        diagnostics.error(&error);
    }
    Outcome::Failure
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

/// `get`: prints the credential JSON for a configured registry, [`NOT_FOUND`] for anything
/// else. Nothing is written until the decision and the token are both final.
///
/// Docker aborts a pull on any answer but the credential or [`NOT_FOUND`], so everything this
/// mode cannot answer is [`NOT_FOUND`] — another registry, a request it cannot read, and its
/// own configuration when that is broken (a bad `CI_REGISTRY`: nothing is answered for any
/// registry then) — with the problem on one stderr line: pulls from docker.io go on
/// anonymously. Only a configured registry whose token cannot be loaded fails otherwise: the
/// error text on stdout, which Docker shows in its error, since going on anonymously would
/// hide the cause behind a "pull access denied".
fn get(
    options: &Options,
    source: &TokenSource,
    env: &Env,
    input: impl Read,
    output: &mut impl Write,
    diagnostics: &Diagnostics,
) -> Outcome {
    let registries = match configured_registries(env, &options.registries) {
        Ok(registries) => registries,
        Err(error) => {
            diagnostics.error(&format_args!(
                "{error}; until it is fixed no registry gets credentials"
            ));
            return not_found(output, diagnostics);
        }
    };
    let request = match read_bounded(input, MAX_GET_BYTES) {
        Ok(request) => request,
        Err(error) => {
            diagnostics.error(&error);
            return not_found(output, diagnostics);
        }
    };
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
    match decide_registry(&request, &registries) {
        RegistryDecision::NotFound(why) => {
            diagnostics.debug(|| format!("not found, {why}"));
            not_found(output, diagnostics)
        }
        RegistryDecision::Answer {
            registry,
            server_url,
        } => {
            let secret = match token::load(source, env) {
                Ok(secret) => secret,
                Err(error) => {
                    let registry = registry.to_string();
                    return fail(&Error::Token { registry, error }, output, diagnostics);
                }
            };
            diagnostics.debug(|| {
                format!("answering {registry} as {DEFAULT_USERNAME} with the token from {source}")
            });
            let json = answer_json(server_url, DEFAULT_USERNAME, secret.expose_secret());
            match write_out(output, &json) {
                Ok(()) => Outcome::Success,
                Err(error) => {
                    diagnostics.error(&error);
                    Outcome::Failure
                }
            }
        }
    }
}

/// `store` and `erase`: read the request (a `store` request holds a secret) and keep nothing.
fn store_or_erase(operation: &str, input: impl Read, diagnostics: &Diagnostics) {
    let _ = read_bounded(input, MAX_DISCARD_BYTES);
    diagnostics
        .debug(|| format!("docker {operation}: nothing to do, no credential is ever stored"));
}

/// `list`: the registries we answer for, each with the user name.
fn list(registries: &[Registry], output: &mut impl Write) -> Result<(), Error> {
    write_out(output, list_json(registries, DEFAULT_USERNAME).as_bytes())
}

/// What `docker configure` (and `configure --docker`) runs: finds the file from
/// `DOCKER_CONFIG`/`HOME`, adds the entries, and says on `out`
/// what changed, what it replaced and which stored logins remain. Never writes the token.
pub fn configure_and_report(
    registries: &[Registry],
    env: &Env,
    out: &mut impl Write,
) -> Result<ConfigUpdate, Error> {
    let path = config_path(env)?;
    let update = config_json::write(registries, &path)?;
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

/// `configure --dry-run --docker`: what [`configure_and_report`] would change, on `out`, after
/// the same checks (a registry is known; the file is a regular JSON file within bounds).
pub fn preview_configure(
    registries: &[Registry],
    env: &Env,
    out: &mut impl Write,
) -> Result<(), Error> {
    let (file, update) = config_json::preview(registries, &config_path(env)?)?;
    let names: Vec<String> = registries.iter().map(|r| format!("\"{r}\"")).collect();
    let line = match update.content {
        Some(_) => format!(
            "# docker: add credHelpers {} (value \"{HELPER_NAME}\") to {}\n",
            names.join(", "),
            file.display()
        ),
        None => format!(
            "# docker: {}: already configured for {}\n",
            file.display(),
            names.join(", ")
        ),
    };
    write_out(out, line.as_bytes())
}

/// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
fn config_path(env: &Env) -> Result<std::path::PathBuf, Error> {
    Ok(config_json::path(
        env.get("DOCKER_CONFIG").map(Path::new),
        env.get("HOME").map(Path::new),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::registry::registries;

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
}
