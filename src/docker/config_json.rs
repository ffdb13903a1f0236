//! Docker's `config.json`: adding our `credHelpers` entries (pure, keeping everything else in
//! the document), reading the file the way [`crate::files`] reads — a regular file only, never
//! blocking, at most [`MAX_CONFIG_BYTES`] — and replacing it atomically through its lock file.

use std::io;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::files::{self, Kind, ReadError, ReplaceError, Replacement};

use super::{Error, Registry};

/// Largest `config.json` read. Docker's own are a few KiB; a megabyte holds thousands of
/// registries' entries.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

/// The helper name written into `credHelpers`: Docker then runs `docker-credential-gitlab-ci`.
pub const HELPER_NAME: &str = "gitlab-ci";

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
    #[error("{0} is {1}, not a regular file; it is left as it is and nothing was written: point DOCKER_CONFIG at a directory holding a regular config.json")]
    NotRegular(String, Kind),
    #[error("{0} is larger than {MAX_CONFIG_BYTES} bytes, which no Docker configuration is; check the file")]
    TooLarge(String),
    #[error("{0} is locked by its .lock file: another configure is writing it, or one was interrupted; if none is running, remove the .lock file and run again")]
    Locked(String),
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
pub fn path(docker_config: Option<&Path>, home: Option<&Path>) -> Result<PathBuf, ConfigError> {
    match (docker_config, home) {
        (Some(dir), _) if !dir.as_os_str().is_empty() => Ok(dir.join("config.json")),
        (_, Some(home)) if !home.as_os_str().is_empty() => {
            Ok(home.join(".docker").join("config.json"))
        }
        _ => Err(ConfigError::NoDirectory),
    }
}

/// What adding our `credHelpers` entries to the Docker configuration file at `path` would
/// change, without writing: the file that would be written (where `path`'s links lead) and
/// the update. The same checks as [`write`], so a dry run fails where the real run would.
pub fn preview(registries: &[Registry], path: &Path) -> Result<(PathBuf, ConfigUpdate), Error> {
    if registries.is_empty() {
        return Err(Error::NoRegistry);
    }
    // A config.json that is a symlink (dotfile managers) is updated where it points, as Docker
    // does, rather than replaced by a regular file.
    let path = files::resolve_links(path)
        .map_err(|e| ConfigError::Read(path.display().to_string(), e.kind()))?;
    let file = path.display().to_string();
    let existing = read(&path, &file)?;
    let update = add_cred_helpers(existing.as_deref().map(Vec::as_slice), registries, &file)?;
    Ok((path, update))
}

/// The file's content, `None` when it does not exist.
fn read(path: &Path, file: &str) -> Result<Option<Zeroizing<Vec<u8>>>, ConfigError> {
    match files::read_regular(path, MAX_CONFIG_BYTES) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(ReadError::NotFound) => Ok(None),
        Err(ReadError::NotRegular(kind)) => Err(ConfigError::NotRegular(file.into(), kind)),
        Err(ReadError::TooLarge) => Err(ConfigError::TooLarge(file.into())),
        Err(ReadError::Io(kind)) => Err(ConfigError::Read(file.into(), kind)),
    }
}

/// Adds our `credHelpers` entries to the Docker configuration file at `path`: the new content
/// is built in `config.json.lock` and renamed over the file (mode 0600 for a new file, the old
/// mode otherwise), so an interruption leaves the old file. Returns what changed, for the
/// caller to report.
pub fn write(registries: &[Registry], path: &Path) -> Result<ConfigUpdate, Error> {
    let (path, update) = preview(registries, path)?;
    let Some(content) = &update.content else {
        return Ok(update);
    };
    let file = path.display().to_string();
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| ConfigError::Write(file.clone(), e.kind()))?;
    let replace_error = |e: ReplaceError| match e {
        ReplaceError::Locked => ConfigError::Locked(file.clone()),
        ReplaceError::NotRegular(kind) => ConfigError::NotRegular(file.clone(), kind),
        ReplaceError::Io(kind) => ConfigError::Write(file.clone(), kind),
    };
    let replacement = Replacement::begin(&path, Some(0o600)).map_err(replace_error)?;
    replacement.write(content).map_err(replace_error)?;
    replacement.commit().map_err(replace_error)?;
    Ok(update)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::registry::registries;

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
    fn path_prefers_docker_config() {
        assert_eq!(
            path(Some(Path::new("/d")), Some(Path::new("/h"))).unwrap(),
            Path::new("/d/config.json")
        );
        assert_eq!(
            path(None, Some(Path::new("/h"))).unwrap(),
            Path::new("/h/.docker/config.json")
        );
        assert_eq!(path(None, None), Err(ConfigError::NoDirectory));
    }
}
